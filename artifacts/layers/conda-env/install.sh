#!/usr/bin/env bash
# A named conda environment with a pinned Python, activated by interactive shells.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var CONDA_ENV_NAME CONDA_ENV_PYTHON_VERSION
name=$CONDA_ENV_NAME
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "CONDA_ENV_NAME='$name' is not a conda environment name"
[ "$name" != base ] || die "CONDA_ENV_NAME must not be 'base' (the Miniconda layer's environment)"
[[ "$CONDA_ENV_PYTHON_VERSION" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] ||
    die "CONDA_ENV_PYTHON_VERSION='$CONDA_ENV_PYTHON_VERSION' is not a Python version (e.g. 3.12)"
conda_python >/dev/null
conda=$IDEKUBE_CONDA_PREFIX/bin/conda
env_prefix=$IDEKUBE_CONDA_PREFIX/envs/$name

make_workdir
[ ! -e "$env_prefix" ] || die "$env_prefix exists already"
HOME="$WORK" "$conda" create -y -n "$name" "python=${CONDA_ENV_PYTHON_VERSION}" pip setuptools
HOME="$WORK" "$env_prefix/bin/python" -m pip install --no-cache-dir ipykernel
HOME="$WORK" "$conda" clean -afy

got=$("$env_prefix/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
case "$got." in
    "$CONDA_ENV_PYTHON_VERSION".*) log "conda environment $name: Python $got" ;;
    *) die "conda environment $name has Python $got, not $CONDA_ENV_PYTHON_VERSION" ;;
esac

for rc in bashrc.d/20-conda-env.sh zshrc.d/20-conda-env.zsh; do
    install_text 0644 "/etc/idekube/$rc" <<CONF
# idekube: conda environment $name (after the base environment of 10-conda)
if command -v conda >/dev/null 2>&1 && [ -d $env_prefix ]; then
    conda activate $name
fi
CONF
done
