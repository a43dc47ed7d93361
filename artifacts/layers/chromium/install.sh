#!/usr/bin/env bash
# Chromium from ppa:xtradeb/apps, wired to the /usr/local/bin/chromium wrapper.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

here=$(dirname "$0")
wrapper=/usr/local/bin/chromium
install -D -m 0755 "$here/files/chromium" "$wrapper"

command -v add-apt-repository >/dev/null 2>&1 || apt_install software-properties-common gnupg
# A scratch HOME keeps Launchpad and GnuPG caches out of /root.
make_workdir
HOME="$WORK" add-apt-repository --yes --no-update ppa:xtradeb/apps

# Take only Chromium from the PPA: its other packages never replace Ubuntu's.
install_text 0644 /etc/apt/preferences.d/idekube-xtradeb <<'PREF'
# idekube: ppa:xtradeb/apps supplies Chromium only.
Package: *
Pin: release o=LP-PPA-xtradeb-apps
Pin-Priority: 100

Package: chromium chromium-*
Pin: release o=LP-PPA-xtradeb-apps
Pin-Priority: 700
PREF

apt_refresh
apt_install chromium
[ -x /usr/bin/chromium ] || die "the chromium package did not install /usr/bin/chromium"

# Menu entries start the wrapper: a copy of the package's desktop file in
# /usr/local/share/applications (searched before /usr/share) with Exec changed.
shopt -s nullglob
desktop_files=(/usr/share/applications/chromium*.desktop)
shopt -u nullglob
if [ "${#desktop_files[@]}" -eq 0 ]; then
    warn "no chromium .desktop file found: menu entries start /usr/bin/chromium directly"
fi
for f in "${desktop_files[@]}"; do
    dest=/usr/local/share/applications/$(basename -- "$f")
    mkdir -p /usr/local/share/applications
    sed -E "s#^(Exec=|TryExec=)(/usr/bin/)?chromium( |$)#\\1${wrapper}\\3#" "$f" >"$dest"
    chmod 0644 "$dest"
done

# XFCE's preferred browser (exo finds `chromium` on PATH: the wrapper).
install -D -m 0644 "$here/files/helpers.rc" /etc/xdg/xfce4/helpers.rc

update-alternatives --install /usr/bin/x-www-browser x-www-browser "$wrapper" 250
update-alternatives --set x-www-browser "$wrapper"
