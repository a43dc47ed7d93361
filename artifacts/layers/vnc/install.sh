#!/usr/bin/env bash
# virtualgl_${VIRTUALGL_VERSION}_<arch>.deb and turbovnc_${TURBOVNC_VERSION}_<arch>.deb
# from the projects' GitHub releases.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var VIRTUALGL_VERSION TURBOVNC_VERSION
arch=$(arch_deb)
vgl=${VIRTUALGL_VERSION#v}
tvnc=${TURBOVNC_VERSION#v}
vgl_deb="virtualgl_${vgl}_${arch}.deb"
tvnc_deb="turbovnc_${tvnc}_${arch}.deb"

make_workdir
fetch "https://github.com/VirtualGL/virtualgl/releases/download/${vgl}/${vgl_deb}" "$WORK/$vgl_deb" "$(arch_var VIRTUALGL_SHA256)"
fetch "https://github.com/TurboVNC/turbovnc/releases/download/${tvnc}/${tvnc_deb}" "$WORK/$tvnc_deb" "$(arch_var TURBOVNC_SHA256)"

# apt resolves the packages' dependencies from the archive.
apt_install "$WORK/$vgl_deb" "$WORK/$tvnc_deb"

for f in /opt/VirtualGL/bin/vglrun /opt/TurboVNC/bin/vncserver /opt/TurboVNC/bin/Xvnc; do
    [ -x "$f" ] || die "$f is missing after installing $vgl_deb and $tvnc_deb"
done
installed_vgl=$(dpkg-query -W -f='${Version}' virtualgl)
installed_tvnc=$(dpkg-query -W -f='${Version}' turbovnc)
log "VirtualGL $installed_vgl, TurboVNC $installed_tvnc"

# TurboVNC's session chooser falls back to an "ubuntu" session when asked for
# none; make that name start XFCE (a relative link, only if nothing is there).
if [ -e /usr/share/xsessions/xfce.desktop ] && [ ! -e /usr/share/xsessions/ubuntu.desktop ]; then
    ln -s xfce.desktop /usr/share/xsessions/ubuntu.desktop
fi
