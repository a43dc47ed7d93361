#!/usr/bin/env bash
# Dotfiles for new homes. The files under rootfs/ are copied after this script;
# here the image's /etc/skel/.bashrc (the distribution's) gets a block that
# sources the per-layer hooks in /etc/idekube/bashrc.d, so later layers (and
# child images) add shell setup without editing users' dotfiles.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

mkdir -p /etc/idekube/bashrc.d /etc/idekube/zshrc.d
[ -f /etc/skel/.bashrc ] || install -m 0644 /dev/null /etc/skel/.bashrc
append_block /etc/skel/.bashrc hooks <<'HOOK'
# Hooks of the image's layers (conda, ROS, ...): /etc/idekube/bashrc.d/*.sh
if [ -d /etc/idekube/bashrc.d ]; then
    for __idekube_rc in /etc/idekube/bashrc.d/*.sh; do
        [ -r "$__idekube_rc" ] && . "$__idekube_rc"
    done
    unset __idekube_rc
fi
HOOK
bash -n /etc/skel/.bashrc
