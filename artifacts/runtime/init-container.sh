#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# idekube runtime: init-container mode (I_AM_INIT_CONTAINER=1).
#
# Copies this image's root file system into /rootfs, a volume, so that a later
# container started with the same volume at /rootfs (privileged) runs chrooted
# into it and keeps every change to / across restarts (see startup.sh).
#
#   - must run as root;
#   - /rootfs not a mount point -> nothing to do, exit 0;
#   - /rootfs is emptied first (lost+found kept), then / is copied with
#     rsync -aAXH (or a tar pipe when rsync is missing), excluding /rootfs
#     itself, the CONTENT of /proc /sys /dev /run /tmp /mnt /media /var/tmp
#     /var/run /boot, /lost+found, and every file or folder the container
#     runtime mounted into this container (NVIDIA driver libraries, volumes,
#     /etc/hosts...): those are runtime-provided and are passed through again
#     at chroot time, so a driver upgrade on the node never meets stale
#     copies in /rootfs;
#   - the mount-point folders are recreated (tmp and var/tmp with mode 1777),
#     and /rootfs/.idekube-rootfs records when and from what it was made.
# Exit status: 0 on success, non-zero (and an ERROR line) otherwise.
set -uo pipefail

IDEKUBE_LOG_TAG=idekube-init
libdir=${IDEKUBE_LIB_DIR:-/usr/local/lib/idekube}
if [ ! -r "$libdir/common.sh" ]; then
    libdir=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/lib
fi
if [ ! -r "$libdir/common.sh" ]; then
    printf '[idekube-init] ERROR: runtime helpers not found (/usr/local/lib/idekube/common.sh)\n' >&2
    exit 1
fi
# shellcheck source=lib/common.sh
. "$libdir/common.sh"

target=${IDEKUBE_ROOTFS:-/rootfs}

if ! idekube_is_root; then
    idekube_error "init-container: must run as root (running as uid $(id -u)); nothing copied"
    exit 1
fi
if ! idekube_is_mountpoint "$target"; then
    idekube_log "init-container: $target is not a mount point (mount a volume there): nothing to do"
    exit 0
fi

started=$(date +%s)
idekube_log "init-container: copying / into $target"

# Empty the target, keeping lost+found (a file system's own folder).
idekube_log "init-container: clearing $target (keeping lost+found)"
if ! find "$target" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf --one-file-system -- {} +; then
    idekube_error "init-container: could not empty $target"
    exit 1
fi
if ! { chown root:root "$target" && chmod 755 "$target"; }; then
    idekube_warn "init-container: could not set owner/mode of $target"
fi

# What is left out: the content of pseudo/volatile trees, and runtime mounts.
excludes=(/proc /sys /dev /run /tmp /mnt /media /var/tmp /var/run /boot)
runtime_mounts=()
while IFS= read -r mp; do
    runtime_mounts+=("$mp")
done < <(idekube_runtime_mounts)
for mp in "${runtime_mounts[@]}"; do
    # Mounts below an excluded tree are already out; /mnt/data etc. too.
    idekube_path_under "$mp" "${excludes[@]}" && continue
    idekube_log "init-container: not copying runtime mount $mp"
done

# Heartbeat so a long copy is visibly alive in the logs.
(
    while sleep 30; do
        idekube_log "init-container: still copying ($(($(date +%s) - started)) s)"
    done
) &
heartbeat=$!
trap 'kill "$heartbeat" 2>/dev/null' EXIT

status=0
rsync_bin=$(command -v rsync 2>/dev/null || true)
if [ -n "$rsync_bin" ] && [ -x "$rsync_bin" ]; then
    args=(-aAXH --numeric-ids --info=stats1 --exclude="/${target#/}" --exclude=/lost+found)
    for d in "${excludes[@]}"; do args+=(--exclude="$d/*"); done
    for mp in "${runtime_mounts[@]}"; do args+=(--exclude="$mp"); done
    idekube_log "init-container: using rsync"
    "$rsync_bin" "${args[@]}" / "$target/" 2>&1 | while IFS= read -r line; do
        [ -n "$line" ] && idekube_log "init-container: rsync: $line"
    done
    status=${PIPESTATUS[0]}
    # 24: some files vanished while copying (a live system): not an error.
    if [ "$status" -eq 24 ]; then
        idekube_warn "init-container: some files vanished during the copy (rsync 24), continuing"
        status=0
    fi
else
    args=(--anchored --exclude="./${target#/}" --exclude=./lost+found)
    for d in "${excludes[@]}"; do args+=(--exclude=".$d/*"); done
    for mp in "${runtime_mounts[@]}"; do args+=(--exclude=".$mp"); done
    xattr_args=()
    if tar --help 2>/dev/null | grep -q -- '--xattrs'; then
        xattr_args=(--xattrs --xattrs-include='*' --acls)
    fi
    idekube_log "init-container: rsync not installed, using a tar pipe"
    tar -C / -cpf - --numeric-owner "${xattr_args[@]}" "${args[@]}" . |
        tar -C "$target" -xpf - --numeric-owner "${xattr_args[@]}"
    codes=("${PIPESTATUS[@]}")
    status=0
    # GNU tar: 1 = a file changed while being read (live system): not fatal.
    [ "${codes[0]}" -gt 1 ] && status=${codes[0]}
    [ "${codes[1]}" -ne 0 ] && status=${codes[1]}
fi
kill "$heartbeat" 2>/dev/null

if [ "$status" -ne 0 ]; then
    idekube_error "init-container: copying / into $target failed (status $status); $target is incomplete"
    exit "$status"
fi

# Mount points and volatile folders the chroot needs.
for d in proc sys dev run tmp mnt media var/tmp var/run boot; do
    p=$target/$d
    if [ -L "$p" ]; then
        continue # e.g. var/run -> /run: the link was copied, keep it
    fi
    mkdir -p -- "$p" || idekube_warn "init-container: could not create $p"
done
for d in tmp var/tmp; do
    [ -L "$target/$d" ] || chmod 1777 -- "$target/$d"
done

{
    printf 'created=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'hostname=%s\n' "$(cat /etc/hostname 2>/dev/null || uname -n)"
    [ -r /etc/os-release ] && grep -E '^(PRETTY_NAME|VERSION_ID)=' /etc/os-release
} >"$target/.idekube-rootfs" 2>/dev/null || true

idekube_log "init-container: done in $(($(date +%s) - started)) s ($(du -sh --one-file-system "$target" 2>/dev/null | cut -f1) in $target)"
exit 0
