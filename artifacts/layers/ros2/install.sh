#!/usr/bin/env bash
# ROS 2 ${ROS_DISTRO} from packages.ros.org.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var ROS_DISTRO
distro=$ROS_DISTRO
[[ "$distro" =~ ^[a-z]+$ ]] || die "ROS_DISTRO='$distro' is not a ROS distribution name (e.g. jazzy)"
arch=$(arch_deb)
# shellcheck source=/dev/null
codename=$(. /etc/os-release && printf '%s' "${UBUNTU_CODENAME:-${VERSION_CODENAME:-}}")
[ -n "$codename" ] || die "cannot tell the Ubuntu release from /etc/os-release"
keyring=/usr/share/keyrings/ros-archive-keyring.gpg

command -v gpg >/dev/null 2>&1 || apt_install gnupg

make_workdir
fetch https://raw.githubusercontent.com/ros/rosdistro/master/ros.key "$WORK/ros.key"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 0700 "$GNUPGHOME"
if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$WORK/ros.key"; then
    gpg --batch --dearmor -o "$WORK/ros.gpg" "$WORK/ros.key"
else
    cp "$WORK/ros.key" "$WORK/ros.gpg"
fi
if [ -n "${ROS_KEY_FINGERPRINT:-}" ]; then
    want=$(printf '%s' "$ROS_KEY_FINGERPRINT" | tr -d ' ' | tr '[:lower:]' '[:upper:]')
    fprs=$(gpg --batch --with-colons --show-keys "$WORK/ros.gpg" | awk -F: '$1 == "fpr" { print $10 }')
    grep -qx "$want" <<<"$fprs" || die "the ROS key's fingerprints ($(tr '\n' ' ' <<<"$fprs")) do not include $want"
    log "ROS archive key $want verified"
fi
install -m 0644 "$WORK/ros.gpg" "$keyring"

install_text 0644 /etc/apt/sources.list.d/ros2.list <<LIST
deb [arch=$arch signed-by=$keyring] http://packages.ros.org/ros2/ubuntu $codename main
LIST

apt_refresh
apt_install \
    ros-dev-tools \
    "ros-${distro}-desktop-full" "ros-${distro}-ros-gz" "ros-${distro}-rosbridge-server" "ros-${distro}-moveit" \
    build-essential libeigen3-dev libopencv-dev libpcl-dev
[ -f "/opt/ros/${distro}/setup.bash" ] || die "/opt/ros/${distro}/setup.bash is missing"

# System rosdep sources; `rosdep update` is per user (it caches in ~/.ros).
if [ ! -e /etc/ros/rosdep/sources.list.d/20-default.list ]; then
    rosdep init
fi

install_text 0644 /etc/idekube/bashrc.d/50-ros.sh <<SH
# idekube: ROS 2 $distro
if [ -f /opt/ros/$distro/setup.bash ]; then
    . /opt/ros/$distro/setup.bash
fi
SH
install_text 0644 /etc/idekube/zshrc.d/50-ros.zsh <<SH
# idekube: ROS 2 $distro
if [ -f /opt/ros/$distro/setup.zsh ]; then
    . /opt/ros/$distro/setup.zsh
fi
SH
log "ROS 2 $distro installed"
