#!/bin/sh
# idekube-seed: apply an idekube seed volume at boot (a NoCloud "cidata" ISO), without cloud-init.
#
# Files read from the seed, all optional:
#   meta-data        "instance-id: <id>", recorded in /var/lib/idekube/seed-instance-id
#   provision.pub    the public key of a build's provisioning account: idekube-provision, a system
#                    account (uid < 1000, because the flavor's user layer owns uid 1000) with sudo
#   authorized_keys  keys of the flavor's user (idekube), like IDEKUBE_AUTHORIZED_KEYS in the containers
#
# Images with cloud-init read the same seed's user-data instead; this script then finds the account
# already made and only refreshes its key. Without a seed it does nothing.
set -eu

PROVISION_USER=idekube-provision
PROVISION_HOME=/var/lib/idekube-provision
IMAGE_USER=idekube
STATE=/var/lib/idekube

log() { printf 'idekube-seed: %s\n' "$*"; }

udevadm settle --timeout=15 || true
dev=''
for label in cidata CIDATA; do
    dev=$(blkid -l -t "LABEL=$label" -o device 2>/dev/null || true)
    [ -n "$dev" ] && break
done
if [ -z "$dev" ]; then
    log "no seed volume"
    exit 0
fi

mnt=$(mktemp -d /run/idekube-seed.XXXXXX)
mount -o ro "$dev" "$mnt"
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true' EXIT

mkdir -p "$STATE"
if [ -f "$mnt/meta-data" ]; then
    iid=$(sed -n 's/^instance-id:[[:space:]]*//p' "$mnt/meta-data" | head -n1 | tr -d '"'"'"'\r')
    [ -n "$iid" ] && printf '%s\n' "$iid" >"$STATE/seed-instance-id"
    log "seed $dev, instance ${iid:-unknown}"
fi

# install_keys SRC USER: SRC becomes USER's ~/.ssh/authorized_keys (replaced, not merged)
install_keys() {
    src=$1 user=$2
    home=$(getent passwd "$user" | cut -d: -f6)
    group=$(id -gn "$user")
    if [ -z "$home" ] || [ ! -d "$home" ]; then
        log "user $user has no home; keys not installed"
        return 0
    fi
    install -d -m 0700 -o "$user" -g "$group" "$home/.ssh"
    install -m 0600 -o "$user" -g "$group" "$src" "$home/.ssh/authorized_keys"
    log "authorized keys installed for $user"
}

if [ -s "$mnt/provision.pub" ]; then
    if ! getent passwd "$PROVISION_USER" >/dev/null; then
        useradd --system --user-group --create-home --home-dir "$PROVISION_HOME" --shell /bin/bash \
            --comment 'idekube build-time provisioning' "$PROVISION_USER"
    fi
    install_keys "$mnt/provision.pub" "$PROVISION_USER"
    printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$PROVISION_USER" >/etc/sudoers.d/90-idekube-provision.tmp
    chmod 0440 /etc/sudoers.d/90-idekube-provision.tmp
    mv -f /etc/sudoers.d/90-idekube-provision.tmp /etc/sudoers.d/90-idekube-provision
fi

if [ -s "$mnt/authorized_keys" ]; then
    if getent passwd "$IMAGE_USER" >/dev/null; then
        install_keys "$mnt/authorized_keys" "$IMAGE_USER"
    else
        log "no user $IMAGE_USER on this disk; authorized_keys ignored"
    fi
fi
