#!/usr/bin/env bash
# Miniconda3-${MINICONDA_VERSION}-Linux-{x86_64,aarch64}.sh -> /opt/miniconda3
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var MINICONDA_VERSION
case "$MINICONDA_VERSION" in
    latest | *latest*) die "MINICONDA_VERSION must name a release (e.g. py312_24.9.2-0), not '$MINICONDA_VERSION'" ;;
esac
prefix=$IDEKUBE_CONDA_PREFIX
asset="Miniconda3-${MINICONDA_VERSION}-Linux-$(arch_gnu).sh"

make_workdir
fetch "https://repo.anaconda.com/miniconda/${asset}" "$WORK/$asset" "$(arch_var MINICONDA_SHA256)"

rm -rf "$prefix"
# The installer unpacks through TMPDIR; keep that inside the work folder, and
# keep root's home clean (conda records environments under ~/.conda).
HOME="$WORK" TMPDIR="$WORK" bash "$WORK/$asset" -b -p "$prefix"
conda="$prefix/bin/conda"
"$conda" --version

# Site-wide settings (in $prefix/.condarc): no self-updates behind the image's back.
HOME="$WORK" "$conda" config --system --set auto_update_conda false
HOME="$WORK" "$conda" config --system --set notify_outdated_conda false

# Installers from conda 25 on carry the Terms-of-Service plugin, which refuses
# the default channels in non-interactive use until they are accepted. Older
# releases (such as py312_24.9.2-0) have no `conda tos`: nothing to accept.
# Accept in the installation (--system: $prefix/conda-meta/tos), so that the
# image user and later build steps see the acceptance too.
if HOME="$WORK" "$conda" tos --help >/dev/null 2>&1; then
    for channel in https://repo.anaconda.com/pkgs/main https://repo.anaconda.com/pkgs/r; do
        HOME="$WORK" "$conda" tos accept --override-channels --channel "$channel" --system
    done
else
    log "this conda has no 'tos' command: no Terms of Service to accept"
fi

HOME="$WORK" "$conda" clean -afy

# Interactive shells activate the base environment (hooks sourced by the
# .bashrc/.zshrc blocks of the skel layer).
install_text 0644 /etc/idekube/bashrc.d/10-conda.sh <<CONF
# idekube: Miniconda base environment
if [ -f $prefix/etc/profile.d/conda.sh ]; then
    . $prefix/etc/profile.d/conda.sh
    conda activate base
fi
CONF
install_text 0644 /etc/idekube/zshrc.d/10-conda.zsh <<CONF
# idekube: Miniconda base environment
if [ -f $prefix/etc/profile.d/conda.sh ]; then
    . $prefix/etc/profile.d/conda.sh
    conda activate base
fi
CONF
