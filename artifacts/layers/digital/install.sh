#!/usr/bin/env bash
# Digital ${DIGITAL_VERSION} -> /opt/Digital
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var DIGITAL_VERSION
tag=$DIGITAL_VERSION
case "$tag" in v*) ;; *) tag="v$tag" ;; esac

command -v java >/dev/null 2>&1 || apt_install default-jre
command -v unzip >/dev/null 2>&1 || apt_install unzip

make_workdir
fetch "https://github.com/hneemann/Digital/releases/download/${tag}/Digital.zip" "$WORK/Digital.zip" "${DIGITAL_SHA256:-}"
unzip -q "$WORK/Digital.zip" -d "$WORK/unpacked"
[ -f "$WORK/unpacked/Digital/Digital.jar" ] || die "Digital.zip of $tag has no Digital/Digital.jar"
rm -rf /opt/Digital
mv "$WORK/unpacked/Digital" /opt/Digital
chown -R root:root /opt/Digital
chmod -R a+rX /opt/Digital

install_text 0755 /usr/local/bin/digital <<'SH'
#!/bin/sh
# idekube: start Digital (hneemann/Digital).
exec java -jar /opt/Digital/Digital.jar "$@"
SH

icon=
for candidate in /opt/Digital/icon.svg /opt/Digital/linux/icon.svg /opt/Digital/icon.png; do
    if [ -f "$candidate" ]; then
        icon=$candidate
        break
    fi
done
install_text 0644 /usr/share/applications/digital.desktop <<DESKTOP
[Desktop Entry]
Version=1.0
Type=Application
Name=Digital
Comment=Digital logic designer and circuit simulator
Exec=/usr/local/bin/digital %F
Icon=${icon:-applications-electronics}
Terminal=false
Categories=Education;Electronics;Engineering;
DESKTOP
log "Digital $tag in /opt/Digital"
