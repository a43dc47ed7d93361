#!/usr/bin/env bash
# Create the image user idekube (uid 1000) with passwordless sudo.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

name=idekube
uid=1000

command -v sudo >/dev/null 2>&1 || apt_install sudo

# Free uid and gid 1000 (Ubuntu images ship a user "ubuntu" with them).
old_user=$(getent passwd "$uid" | cut -d: -f1 || true)
if [ -n "$old_user" ] && [ "$old_user" != "$name" ]; then
    old_home=$(getent passwd "$old_user" | cut -d: -f6)
    log "removing user $old_user (uid $uid)"
    userdel "$old_user"
    case "$old_home" in
        /home/?*) rm -rf -- "$old_home" ;;
    esac
fi
old_group=$(getent group "$uid" | cut -d: -f1 || true)
if [ -n "$old_group" ] && [ "$old_group" != "$name" ]; then
    log "removing group $old_group (gid $uid)"
    groupdel "$old_group"
fi

if ! getent group "$name" >/dev/null; then
    groupadd --gid "$uid" "$name"
fi
if id -u "$name" >/dev/null 2>&1; then
    [ "$(id -u "$name")" = "$uid" ] || die "user $name exists with uid $(id -u "$name"), expected $uid"
    log "user $name exists already"
else
    useradd --create-home --uid "$uid" --gid "$uid" --shell /bin/bash "$name"
fi
# No password (not locked either, so key-based SSH logins are accepted); sudo needs none.
usermod --password '*' "$name"

# Device groups, where the base image has them (GPU nodes, Ascend NPUs).
for g in video render audio HwHiAiUser; do
    if getent group "$g" >/dev/null; then
        usermod -aG "$g" "$name"
    fi
done

sudoers=/etc/sudoers.d/$name
install_text 0440 "$sudoers" <<CONF
# idekube: the image user administers its own container.
$name ALL=(ALL:ALL) NOPASSWD: ALL
CONF
visudo -cf "$sudoers" >/dev/null || die "$sudoers does not parse"

home=$(getent passwd "$name" | cut -d: -f6)
[ "$home" = "/home/$name" ] || die "home of $name is $home, expected /home/$name"
chown -R "$uid:$uid" "$home"
chmod 0755 "$home"
log "user $name: $(id "$name")"
