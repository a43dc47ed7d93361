#!/usr/bin/env bash
# XFCE desktop for the VNC session.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

apt_install \
    xfce4 xfce4-goodies xfce4-terminal xterm dbus-x11 xvfb xorg xauth x11-xserver-utils x11-utils \
    libglu1-mesa libgl1 libglm-dev alsa-utils mesa-utils libgl1-mesa-dri libxv1 \
    fonts-wqy-zenhei

# No screen saver or locker: the session is viewed through a browser tab, and
# a locked screen would ask for a password the user does not have.
apt_purge_if_installed xfce4-screensaver light-locker

for f in /etc/xdg/autostart/xfce4-screensaver.desktop /etc/xdg/autostart/light-locker.desktop; do
    [ ! -e "$f" ] || rm -f "$f"
done

command -v startxfce4 >/dev/null || die "startxfce4 is missing after installing xfce4"
