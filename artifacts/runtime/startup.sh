#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# idekube runtime init: the ENTRYPOINT of every idekube image (/startup.sh).
#
# Three modes, checked in this order:
#   1. I_AM_INIT_CONTAINER non-empty: run /init-container.sh (copies / into the
#      volume at /rootfs) and exit with its status.
#   2. /rootfs is a mount point (persistent-root mode, needs a privileged
#      container): bind /dev /proc /sys /run /tmp and the runtime's own mounts
#      (GPU driver files, volumes) into /rootfs, copy resolv.conf, hosts,
#      hostname, localtime, timezone and this runtime init in, run
#      `chroot /rootfs /startup.sh` as a child (SIGTERM/SIGINT forwarded), then
#      unmount everything it mounted and exit with the child's status. Inside
#      the chroot /rootfs is not a mount point, so mode 3 runs there.
#   3. Normal start, each step guarded (a failing step is logged, start-up goes
#      on), then `exec tini -- supervisord -n -c /etc/supervisor/supervisord.conf`:
#        - access token (IDEKUBE_ACCESS_TOKEN) into nginx's maps, or "open";
#          an invalid or unappliable token stops the start (exit 1);
#        - nginx listens on [::]:80 too where the container has IPv6;
#        - IDEKUBE_USER_UID/GID: the user's ids (passwd/group edited in place);
#        - stale X locks removed;
#        - GPU detection (lib/detect-gpu.sh): IDEKUBE_GPU=nvidia|none and
#          IDEKUBE_GPU_REASON exported to every supervisord program and written
#          to /run/idekube/gpu.env; with nvidia, /usr/local/nvidia/lib64 is added
#          to the linker cache when it is not in it yet (no LD_PRELOAD anywhere);
#        - login shell from IDEKUBE_PREFERRED_SHELL (or upstream's spelling
#          IDEKUBE_PREFERED_SHELL);
#        - home folder owned by the user (chown -R only when the folder itself
#          has the wrong owner), mode 755;
#        - home populated from /etc/skel when IDEKUBE_INIT_HOME is set or the home
#          is empty, never overwriting files the user changed (lib/home-sync.sh);
#        - SSH: host keys kept in the home volume, the user's ~/.ssh and key pair (made AS
#          the user), IDEKUBE_AUTHORIZED_KEYS (lib/user-ssh.sh);
#        - hooks: /etc/idekube/startup.bash/*.sh, sorted, each run with bash.
# Running as a non-root uid (docker run --user 12345): the root-only steps are
# skipped with one log line each, supervisord gets a runtime copy of its
# configuration without user= lines (lib/supervisor-conf.sh), and when the
# container's stdout/stderr cannot be reopened by that uid (supervisord opens
# stdout_logfile=/dev/fd/1 anew) they are relayed through pipes it owns.
#
# Image requirements: bash, coreutils, util-linux (setpriv or runuser), tini,
# supervisor; openssh-server/-client for the SSH steps; rsync (else GNU tar) for
# init-container mode; mount/umount (Debian package "mount") for /rootfs mode.
#
# Environment (see also the helpers in /usr/local/lib/idekube):
#   USERNAME                  desktop/IDE user (image ENV; default idekube)
#   I_AM_INIT_CONTAINER       any value: init-container mode
#   IDEKUBE_INIT_HOME         any value: sync /etc/skel into the home at start
#                             (force: overwrite what the user changed)
#   IDEKUBE_ACCESS_TOKEN      the token every route but /ssh and /health needs
#   IDEKUBE_USER_UID/_GID     ids the user takes at start
#   IDEKUBE_PREFERRED_SHELL   login shell (absolute path of an executable);
#   IDEKUBE_PREFERED_SHELL      upstream spelling, same meaning (the correct
#                               spelling wins when both are set and differ)
#   IDEKUBE_AUTHORIZED_KEYS   base64 of an authorized_keys file
#   IDEKUBE_GPU               none|nvidia forces the GPU decision (default: detect)
#   IDEKUBE_HOOK_TIMEOUT      seconds a hook may run (default: no limit)
#   IDEKUBE_INIT_NO_EXEC      any value: do every step, log the supervisord
#                             command line, exit 0 instead of starting it (tests)
#   IDEKUBE_SKEL_DIR, IDEKUBE_HOOKS_DIR, IDEKUBE_SUPERVISORD_CONF,
#   IDEKUBE_LIB_DIR           other paths (defaults /etc/skel,
#                             /etc/idekube/startup.bash,
#                             /etc/supervisor/supervisord.conf,
#                             /usr/local/lib/idekube), for tests
#   IDEKUBE_IN_CHROOT         set by mode 2 for the chrooted start (internal)
# Exported to every supervisord program: IDEKUBE_GPU, IDEKUBE_GPU_REASON,
# IDEKUBE_GPU_ENV_FILE, IDEKUBE_USER, IDEKUBE_HOME.
#
# Logging: every line on stderr, prefixed "[idekube-init]"; problems carry
# "WARNING:" or "ERROR:".
#
# Error handling: `set -uo pipefail` but deliberately NOT `set -e`: the
# container must come up serving even when a step fails (an NFS home that
# refuses chown, a malformed IDEKUBE_AUTHORIZED_KEYS...), so every step checks
# its commands and reports; only a missing tini/supervisord/configuration (the
# container could not serve at all) or a failed persistent-root set-up (which
# would silently lose the user's data) stops the start.
set -uo pipefail

IDEKUBE_LOG_TAG=idekube-init
self=$(readlink -f -- "${BASH_SOURCE[0]}")
selfdir=$(dirname -- "$self")

libdir=${IDEKUBE_LIB_DIR:-/usr/local/lib/idekube}
if [ ! -r "$libdir/common.sh" ] && [ -r "$selfdir/lib/common.sh" ]; then
    libdir=$selfdir/lib # running from a source checkout (tests)
fi
if [ ! -r "$libdir/common.sh" ] || [ ! -r "$libdir/detect-gpu.sh" ]; then
    printf '[idekube-init] ERROR: runtime helpers not found in /usr/local/lib/idekube (common.sh, detect-gpu.sh): the image is incomplete\n' >&2
    exit 1
fi
# shellcheck source=lib/common.sh
. "$libdir/common.sh"
# shellcheck source=lib/detect-gpu.sh
. "$libdir/detect-gpu.sh"

ROOTFS=/rootfs
uid=$(id -u)

# step NAME FUNCTION...: run one start-up step; a failure is logged, not fatal.
step() {
    local name=$1
    shift
    if ! "$@"; then
        idekube_warn "step '$name' did not complete; continuing the start-up"
    fi
}

# ---------------------------------------------------------------- mode 1
run_init_container() {
    local f found=""
    for f in /init-container.sh /init-containers.sh "$selfdir/init-container.sh"; do
        if [ -f "$f" ]; then
            found=$f
            break
        fi
    done
    if [ -z "$found" ]; then
        idekube_error "I_AM_INIT_CONTAINER is set but /init-container.sh is missing from the image"
        exit 1
    fi
    idekube_log "I_AM_INIT_CONTAINER is set: running $found"
    local st=0
    IDEKUBE_LIB_DIR=$libdir bash "$found" || st=$?
    idekube_log "init container finished with status $st"
    exit "$st"
}

# ---------------------------------------------------------------- mode 2
chroot_mounts=()  # what this script mounted, in mount order
chroot_created=() # empty files made as mount points (removed afterwards)

cleanup_chroot_mounts() {
    local i m
    [ "${#chroot_mounts[@]}" -gt 0 ] || return 0
    for ((i = ${#chroot_mounts[@]} - 1; i >= 0; i--)); do
        m=${chroot_mounts[i]}
        if umount -R -- "$m" 2>/dev/null || umount -R -l -- "$m" 2>/dev/null || umount -l -- "$m" 2>/dev/null; then
            :
        else
            idekube_warn "chroot: could not unmount $m"
        fi
    done
    chroot_mounts=()
    # A driver library passed through this time must not stay behind as an
    # empty file in the persistent root.
    for m in "${chroot_created[@]}"; do
        if [ -f "$m" ] && [ ! -s "$m" ] && ! idekube_is_mountpoint "$m"; then
            rm -f -- "$m"
        fi
    done
    chroot_created=()
    idekube_log "chroot: mounts cleaned up"
}

# inside_rootfs PATH: true when PATH, links resolved, stays inside /rootfs
# (a link inside the persisted tree must never redirect a mount or a copy).
inside_rootfs() {
    local real
    real=$(readlink -f -- "$1") || return 1
    case $real in "$ROOTFS" | "$ROOTFS"/*) return 0 ;; esac
    return 1
}

# chroot_bind SRC [rbind]: bind-mount SRC at /rootfs/SRC.
chroot_bind() {
    local src=$1 how=${2:---bind} tgt=$ROOTFS$1
    if [ ! -e "$src" ]; then
        idekube_log "chroot: $src does not exist, not mounted"
        return 0
    fi
    if [ -L "$tgt" ]; then
        idekube_warn "chroot: $tgt is a symbolic link, not mounting $src over it"
        return 1
    fi
    if [ -d "$src" ]; then
        mkdir -p -- "$tgt" || return 1
    else
        mkdir -p -- "$(dirname -- "$tgt")" || return 1
        if [ ! -e "$tgt" ]; then
            : >"$tgt" || return 1
            chroot_created+=("$tgt")
        fi
    fi
    if ! inside_rootfs "$tgt"; then
        idekube_warn "chroot: $tgt resolves outside $ROOTFS, not mounting $src"
        return 1
    fi
    if [ -d "$tgt" ] && idekube_is_mountpoint "$tgt"; then
        idekube_log "chroot: $tgt already mounted"
        return 0
    fi
    if ! mount "$how" -- "$src" "$tgt"; then
        idekube_error "chroot: mount $how $src $tgt failed"
        return 1
    fi
    chroot_mounts+=("$tgt")
    # Keep unmount events of this copy from propagating back to the source.
    mount --make-rslave -- "$tgt" 2>/dev/null || true
    return 0
}

# run_chroot: this runtime, restarted inside the persistent root at /rootfs:
# checks, mounts, per-container files, the current runtime installed, then
# chroot (exits with its status). Without root it returns and the container
# starts without the persistent root.
run_chroot() {
    if ! idekube_is_root; then
        idekube_warn "chroot: $ROOTFS is a mount point but this container runs as uid $uid: persistent-root mode needs root in a privileged container; starting WITHOUT it"
        return 0
    fi
    chroot_preflight
    idekube_log "chroot: $ROOTFS is a mount point: starting inside the persistent root"
    trap cleanup_chroot_mounts EXIT
    chroot_mount_system
    chroot_pass_runtime_mounts
    chroot_copy_etc
    chroot_install_runtime
    chroot_start
}

# chroot_preflight: the tools are there and /rootfs holds a root file system (else exit 1).
chroot_preflight() {
    local tool
    for tool in mount umount chroot; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            idekube_error "chroot: $ROOTFS is a mount point but '$tool' is not installed in this image (Debian/Ubuntu package: ${tool/chroot/coreutils}): cannot start inside the persistent root"
            exit 1
        fi
    done
    if [ ! -x "$ROOTFS/usr/bin/bash" ] && [ ! -x "$ROOTFS/bin/bash" ]; then
        idekube_error "chroot: $ROOTFS is mounted but holds no root file system (no bin/bash): run this image once with I_AM_INIT_CONTAINER=1 and the same volume at $ROOTFS"
        exit 1
    fi
}

# chroot_mount_system: /dev /proc /sys /run /tmp bound into /rootfs (else exit 1).
chroot_mount_system() {
    # What gets mounted below /rootfs must not propagate to the volume's
    # source on the host (a volume with shared propagation would otherwise
    # show /dev, /proc... inside the host folder).
    mount --make-rprivate -- "$ROOTFS" 2>/dev/null ||
        idekube_warn "chroot: could not make $ROOTFS private (mount propagation unchanged)"

    local d
    for d in /dev /proc /sys /run /tmp; do
        if ! chroot_bind "$d" --rbind; then
            idekube_error "chroot: cannot bind $d into $ROOTFS (is the container privileged?)"
            exit 1
        fi
    done
}

# chroot_pass_runtime_mounts: the runtime's own mounts (GPU driver files and
# /usr/local/nvidia, volumes: a home volume, /mnt/data...), bound at the same
# place inside; init-container.sh left them out of the copy.
chroot_pass_runtime_mounts() {
    local mp bound=() skip b
    while IFS= read -r mp; do
        case $mp in /etc/resolv.conf | /etc/hosts | /etc/hostname) continue ;; esac
        skip=0
        for b in "${bound[@]}"; do
            idekube_path_under "$mp" "$b" && skip=1 && break
        done
        [ "$skip" -eq 1 ] && continue
        if chroot_bind "$mp" --rbind; then
            bound+=("$mp")
            idekube_log "chroot: passed through $mp"
        else
            idekube_warn "chroot: could not pass $mp through"
        fi
    done < <(idekube_runtime_mounts)
}

# chroot_copy_etc: the files the runtime writes per container.
chroot_copy_etc() {
    if mkdir -p -- "$ROOTFS/etc" && inside_rootfs "$ROOTFS/etc"; then
        local f
        for f in resolv.conf hosts hostname; do
            [ -e "/etc/$f" ] || continue
            cp -L --remove-destination -- "/etc/$f" "$ROOTFS/etc/$f" ||
                idekube_warn "chroot: could not copy /etc/$f"
        done
        for f in localtime timezone; do
            [ -e "/etc/$f" ] || [ -L "/etc/$f" ] || continue
            cp -P --remove-destination -- "/etc/$f" "$ROOTFS/etc/$f" ||
                idekube_warn "chroot: could not copy /etc/$f"
        done
    else
        idekube_warn "chroot: $ROOTFS/etc is not usable: network files not copied"
    fi
}

# chroot_install_runtime: this image's init and helpers into /rootfs (else exit 1).
chroot_install_runtime() {
    # This runtime init replaces the persisted one, so an image upgrade brings
    # its fixed init along.
    if ! { cp -- "$self" "$ROOTFS/.startup.sh.idekube-new" &&
        chmod 755 -- "$ROOTFS/.startup.sh.idekube-new" &&
        mv -f -- "$ROOTFS/.startup.sh.idekube-new" "$ROOTFS/startup.sh"; }; then
        idekube_error "chroot: could not install /startup.sh into $ROOTFS"
        exit 1
    fi
    if [ -f /init-container.sh ]; then
        cp -- /init-container.sh "$ROOTFS/init-container.sh" ||
            idekube_warn "chroot: could not copy /init-container.sh"
    fi
    local dst=$ROOTFS/usr/local/lib/idekube
    if mkdir -p -- "$ROOTFS/usr/local/lib" && inside_rootfs "$ROOTFS/usr/local/lib" &&
        rm -rf -- "$dst.idekube-new" && cp -a -- "$libdir" "$dst.idekube-new" &&
        rm -rf -- "$dst" && mv -- "$dst.idekube-new" "$dst"; then
        :
    else
        idekube_error "chroot: could not install the runtime helpers into $dst"
        exit 1
    fi
}

# chroot_start: runs /startup.sh chrooted, forwarding TERM and INT; exits with its status.
chroot_start() {
    idekube_log "chroot: running chroot $ROOTFS /startup.sh"
    local child st=0
    IDEKUBE_IN_CHROOT=1 chroot "$ROOTFS" /startup.sh &
    child=$!
    # shellcheck disable=SC2064 # $child is fixed now
    trap "idekube_log 'chroot: forwarding SIGTERM'; kill -TERM $child 2>/dev/null" TERM
    # shellcheck disable=SC2064
    trap "idekube_log 'chroot: forwarding SIGINT'; kill -INT $child 2>/dev/null" INT
    while :; do
        st=0
        wait "$child" || st=$?
        kill -0 "$child" 2>/dev/null || break # else: interrupted by a signal
    done
    trap - TERM INT
    idekube_log "chroot: the chrooted start-up exited with status $st"
    cleanup_chroot_mounts
    exit "$st"
}

# ---------------------------------------------------------------- mode 3
user="" user_uid="" user_gid="" home="" have_user=0

resolve_user() {
    local entry
    user=${USERNAME:-idekube}
    if entry=$(getent passwd "$user"); then
        IFS=: read -r _ _ user_uid user_gid _ home _ <<<"$entry"
        have_user=1
    else
        idekube_warn "user '$user' (USERNAME) does not exist in this image: user set-up skipped"
    fi
    if ! idekube_is_root && { [ "$have_user" -eq 0 ] || [ "$uid" != "$user_uid" ]; }; then
        # An arbitrary uid: set up whatever home this uid has.
        # (GNU id -un prints the number AND fails for a uid without a name)
        user=$(getent passwd "$uid" | cut -d: -f1)
        user=${user:-$uid}
        user_uid=$uid
        user_gid=$(id -g)
        home=${HOME:-}
        if [ -z "$home" ] || [ "$home" = / ] || [ ! -d "$home" ] || [ ! -w "$home" ]; then
            home=/tmp/idekube-home-$uid
            mkdir -p -- "$home" && chmod 700 -- "$home"
            idekube_log "uid $uid has no writable home: using $home"
        fi
        have_user=1
        export HOME=$home
    fi
    export IDEKUBE_USER=$user IDEKUBE_HOME=$home
}

# ---------------------------------------------------------------- access token
nginx_runtime_dir=${IDEKUBE_NGINX_RUNTIME_DIR:-/etc/nginx/idekube}

# write_private FILE: stdin into FILE (mode 600), replaced in one rename.
write_private() {
    local tmp
    tmp="$(dirname -- "$1")/.$(basename -- "$1").$$.tmp"
    if (umask 077 && cat >"$tmp") && mv -f -- "$tmp" "$1"; then
        return 0
    fi
    rm -f -- "$tmp"
    return 1
}

# The token goes only into nginx's maps (a file only root reads), never onto a
# command line or into a log, and leaves the environment here so that no
# program started below inherits it. A token that cannot be applied stops the
# start: serving unprotected when protection was asked for is worse than not
# serving.
# token_regex TOKEN: TOKEN as a regular expression matching exactly it.
token_regex() {
    local r=${1//./[.]}
    printf '%s' "${r//+/[+]}"
}

# shellcheck disable=SC2016 # nginx's and awk's variables, not the shell's
setup_access() {
    local token=${IDEKUBE_ACCESS_TOKEN:-}
    unset IDEKUBE_ACCESS_TOKEN
    local re='^[A-Za-z0-9._:@%+-]+$' file=$nginx_runtime_dir/access.conf
    if [ -n "$token" ] && ! [[ $token =~ $re ]]; then
        idekube_error "IDEKUBE_ACCESS_TOKEN has characters outside [A-Za-z0-9._:@%+-]: refusing to start unprotected"
        exit 1
    fi
    if ! idekube_is_root; then
        if [ -n "$token" ]; then
            idekube_error "IDEKUBE_ACCESS_TOKEN is set but this container runs as uid $uid, which cannot write nginx's access rules ($file): refusing to start unprotected"
            exit 1
        fi
        idekube_log "access: IDEKUBE_ACCESS_TOKEN is not set: every route is open"
        return 0
    fi
    if [ ! -d "$nginx_runtime_dir" ]; then
        [ -z "$token" ] && return 0 # not an image with idekube's nginx: nothing to protect here
        idekube_error "IDEKUBE_ACCESS_TOKEN is set but $nginx_runtime_dir is missing (not an idekube nginx): refusing to start unprotected"
        exit 1
    fi
    if [ -z "$token" ]; then
        printf '# written by the runtime init: IDEKUBE_ACCESS_TOKEN is not set, every route is open\nmap $host $idekube_access {\n    default open;\n}\n' |
            write_private "$file" || idekube_warn "access: could not write $file"
        idekube_log "access: IDEKUBE_ACCESS_TOKEN is not set: every route is open"
        return 0
    fi
    # the token as it arrives in a URL or cookie when a client percent-encodes it
    local enc=${token//%/%25}
    enc=${enc//:/%3A}
    enc=${enc//@/%40}
    enc=${enc//+/%2B}
    # regular expressions, not strings: nginx compares a map's string keys ignoring case. The token's only
    # characters with a meaning in a regex are . and +, written as classes.
    local keys
    keys="\"~^t:$(token_regex "$token")\$\" 1;"
    [ "$enc" = "$token" ] || keys+=" \"~^t:$(token_regex "$enc")\$\" 1;"
    local m
    if ! {
        printf '# written by the runtime init from IDEKUBE_ACCESS_TOKEN (root only)\n'
        for m in 'http_x_idekube_container_access_token header' 'cookie_idekube_container_access_token cookie' 'idekube_token_arg query'; do
            printf 'map "t:$%s" $idekube_by_%s {\n    %s\n    default 0;\n}\n' "${m% *}" "${m#* }" "$keys"
        done
        printf 'map "$idekube_by_query:$idekube_by_header$idekube_by_cookie" $idekube_access {\n    "~^1:" query;\n    "~1" granted;\n    default denied;\n}\n'
    } | write_private "$file"; then
        idekube_error "access: could not write $file: refusing to start unprotected"
        exit 1
    fi
    idekube_log "access: a token is required on every route but /ssh and /health"
}

# nginx listens on [::]:80 too where the container has IPv6 (IPv6-only
# clusters), and starts without it where the kernel or runtime disabled it.
setup_listen() {
    local file=$nginx_runtime_dir/listen.conf
    [ -d "$nginx_runtime_dir" ] || return 0
    if ! idekube_is_root; then
        idekube_log "nginx: not root (uid $uid): listening as the image ships it ($(grep -v '^#' "$file" 2>/dev/null | tr '\n' ' '))"
        return 0
    fi
    # (files in /proc have size 0: read, do not stat)
    if grep -q . /proc/net/if_inet6 2>/dev/null; then
        printf 'listen 80 default_server;\nlisten [::]:80 default_server ipv6only=on;\n' | write_private "$file" || return 1
        idekube_log "nginx: listening on 0.0.0.0:80 and [::]:80"
    else
        printf 'listen 80 default_server;\n' | write_private "$file" || return 1
        idekube_log "nginx: this container has no IPv6: listening on 0.0.0.0:80 only"
    fi
    chmod 644 -- "$file"
}

# ---------------------------------------------------------------- uid remap
# whole_id VALUE: a uid/gid for a user (1..4294967294).
whole_id() {
    [[ $1 =~ ^[1-9][0-9]{0,9}$ ]] && [ "$1" -le 4294967294 ]
}

# rewrite_db FILE AWK-PROGRAM ARGS...: FILE through awk, written back in place
# (same inode and mode: /etc/passwd may be a bind mount).
rewrite_db() {
    local file=$1 out
    shift
    out=$(awk -F: -v OFS=: "$@" "$file") || return 1
    printf '%s\n' "$out" >"$file"
}

# IDEKUBE_USER_UID / IDEKUBE_USER_GID: the user takes these ids. The account
# databases are edited directly: `usermod -u` would walk the whole home at every
# re-created container (its passwd is the image's again); the home is fixed by
# fix_home_permissions, only when its top folder shows it is needed.
# shellcheck disable=SC2016 # nginx's and awk's variables, not the shell's
remap_user() {
    local want_uid=${IDEKUBE_USER_UID:-} want_gid=${IDEKUBE_USER_GID:-}
    [ -n "$want_uid$want_gid" ] || return 0
    [ "$have_user" -eq 1 ] || return 0
    if ! idekube_is_root; then
        idekube_log "user: not root (uid $uid): IDEKUBE_USER_UID/IDEKUBE_USER_GID ignored"
        return 0
    fi
    if [ -n "$want_uid" ] && ! whole_id "$want_uid"; then
        idekube_warn "user: IDEKUBE_USER_UID=$want_uid is not a uid from 1 to 4294967294: $user keeps uid $user_uid"
        return 1
    fi
    if [ -n "$want_gid" ] && ! whole_id "$want_gid"; then
        idekube_warn "user: IDEKUBE_USER_GID=$want_gid is not a gid from 1 to 4294967294: $user keeps gid $user_gid"
        return 1
    fi
    want_uid=${want_uid:-$user_uid}
    want_gid=${want_gid:-$user_gid}
    local other
    if [ "$want_uid" != "$user_uid" ] && other=$(getent passwd "$want_uid" | cut -d: -f1) && [ -n "$other" ]; then
        idekube_warn "user: uid $want_uid already belongs to $other: $user keeps uid $user_uid"
        return 1
    fi
    if [ "$want_gid" != "$user_gid" ]; then
        local group
        group=$(getent group "$user_gid" | cut -d: -f1)
        if other=$(getent group "$want_gid" | cut -d: -f1) && [ -n "$other" ]; then
            idekube_log "user: gid $want_gid is group $other: making it $user's primary group"
        elif [ -n "$group" ] && rewrite_db /etc/group -v g="$group" -v n="$want_gid" '$1 == g { $3 = n } 1'; then
            idekube_log "user: group $group now has gid $want_gid (was $user_gid)"
        else
            idekube_warn "user: could not give group ${group:-$user_gid} gid $want_gid"
            return 1
        fi
    fi
    if ! rewrite_db /etc/passwd -v u="$user" -v n="$want_uid" -v g="$want_gid" '$1 == u { $3 = n; $4 = g } 1'; then
        idekube_warn "user: could not rewrite /etc/passwd: $user keeps uid $user_uid"
        return 1
    fi
    [ "$want_uid" = "$user_uid" ] || idekube_log "user: $user now has uid $want_uid (was $user_uid)"
    user_uid=$want_uid
    user_gid=$want_gid
}

clean_x_locks() {
    local f
    for f in /tmp/.X*-lock /tmp/.X11-unix/X*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        rm -f -- "$f" 2>/dev/null || idekube_warn "cannot remove stale $f"
    done
    if idekube_is_root; then
        mkdir -p /tmp/.X11-unix /tmp/.ICE-unix && chmod 1777 /tmp/.X11-unix /tmp/.ICE-unix
    fi
    return 0
}

setup_gpu() {
    idekube_detect_gpu
    idekube_log "GPU: $IDEKUBE_GPU ($IDEKUBE_GPU_REASON)"
    if [ "$IDEKUBE_GPU" = nvidia ]; then
        setup_nvidia_libs
    fi
    local dir=/run/idekube
    if ! { mkdir -p -- "$dir" 2>/dev/null && [ -w "$dir" ]; }; then
        dir=/tmp/idekube-$uid
        mkdir -p -- "$dir" || return 1
    fi
    if idekube_gpu_env >"$dir/gpu.env"; then
        chmod 644 -- "$dir/gpu.env" 2>/dev/null
        export IDEKUBE_GPU_ENV_FILE=$dir/gpu.env
    else
        idekube_warn "cannot write $dir/gpu.env"
        return 1
    fi
}

ldcache_lists_dir() {
    local ldconfig=ldconfig
    command -v ldconfig >/dev/null 2>&1 || ldconfig=/sbin/ldconfig
    "$ldconfig" -p 2>/dev/null | awk -v d="$1/" 'index($NF, d) == 1 { f = 1 } END { exit !f }'
}

setup_nvidia_libs() {
    local d=/usr/local/nvidia/lib64
    if [ -d "$d" ] && ! ldcache_lists_dir "$d"; then
        if idekube_is_root; then
            if printf '%s\n' "$d" >/etc/ld.so.conf.d/000-idekube-nvidia.conf && ldconfig; then
                idekube_log "GPU: added $d to the linker cache (/etc/ld.so.conf.d/000-idekube-nvidia.conf)"
            else
                idekube_warn "GPU: could not add $d to the linker cache"
            fi
        else
            export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
            idekube_log "GPU: not root, $d not in the linker cache: added to LD_LIBRARY_PATH"
        fi
    elif [ -n "${IDEKUBE_IN_CHROOT:-}" ] && idekube_is_root; then
        # Driver files are passed through from the host runtime: refresh the
        # SONAME links (libcuda.so.1 -> the current driver's file).
        ldconfig || idekube_warn "GPU: ldconfig failed"
    fi
    # glvnd finds the NVIDIA EGL driver through a vendor file; the runtime
    # usually provides one, Kubernetes' /usr/local/nvidia layout may not.
    if [ -d /usr/share/glvnd ] && ! compgen -G '/usr/share/glvnd/egl_vendor.d/*nvidia*.json' >/dev/null &&
        ! compgen -G '/etc/glvnd/egl_vendor.d/*nvidia*.json' >/dev/null; then
        local src=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
        local vendor=/usr/share/glvnd/egl_vendor.d/10_nvidia.json ok=0
        if idekube_is_root; then
            if mkdir -p -- "${vendor%/*}"; then
                if [ -f "$src" ]; then
                    cp -- "$src" "$vendor" && ok=1
                else
                    printf '{\n    "file_format_version" : "1.0.0",\n    "ICD" : {\n        "library_path" : "libEGL_nvidia.so.0"\n    }\n}\n' \
                        >"$vendor" && ok=1
                fi
            fi
            if [ "$ok" -eq 1 ]; then
                idekube_log "GPU: installed the NVIDIA EGL vendor file $vendor"
            else
                idekube_warn "GPU: could not install the NVIDIA EGL vendor file $vendor"
            fi
        elif [ -f "$src" ]; then
            export __EGL_VENDOR_LIBRARY_FILENAMES=$src
            idekube_log "GPU: not root: __EGL_VENDOR_LIBRARY_FILENAMES=$src"
        fi
    fi
    return 0
}

set_login_shell() {
    local want="" current
    local correct=${IDEKUBE_PREFERRED_SHELL:-} upstream=${IDEKUBE_PREFERED_SHELL:-}
    if [ -n "$correct" ] && [ -n "$upstream" ] && [ "$correct" != "$upstream" ]; then
        idekube_log "shell: IDEKUBE_PREFERRED_SHELL=$correct and IDEKUBE_PREFERED_SHELL=$upstream differ: using IDEKUBE_PREFERRED_SHELL"
    fi
    want=${correct:-$upstream}
    [ -n "$want" ] || return 0
    [ "$have_user" -eq 1 ] || return 0
    current=$(getent passwd "$user" | cut -d: -f7)
    if ! idekube_is_root; then
        idekube_log "shell: not root (uid $uid): cannot change the login shell to $want, skipped"
        return 0
    fi
    if [[ $want != /* ]] || [ ! -f "$want" ] || [ ! -x "$want" ]; then
        idekube_warn "shell: IDEKUBE_PREFERRED_SHELL=$want is not an installed executable (absolute path): keeping ${current:-the current shell} for $user"
        return 0
    fi
    if ! grep -qxF -- "$want" /etc/shells 2>/dev/null; then
        idekube_warn "shell: $want is not listed in /etc/shells (tools like chsh may refuse it); setting it anyway"
    fi
    if [ "$current" = "$want" ]; then
        idekube_log "shell: $user already uses $want"
        return 0
    fi
    if usermod -s "$want" "$user"; then
        idekube_log "shell: login shell of $user set to $want (was ${current:-unset})"
    else
        idekube_warn "shell: usermod -s $want $user failed: keeping $current"
        return 1
    fi
}

fix_home_permissions() {
    [ "$have_user" -eq 1 ] || return 0
    if ! idekube_is_root; then
        idekube_log "home: not root (uid $uid): ownership and mode of $home not checked"
        return 0
    fi
    if [ ! -d "$home" ]; then
        if [ -e "$home" ] || [ -L "$home" ]; then
            idekube_error "home: $home exists but is not a folder"
            return 1
        fi
        mkdir -p -- "$home" || return 1
        idekube_log "home: created $home"
    fi
    local owner
    owner=$(stat -c '%u' -- "$home")
    if [ "$owner" != "$user_uid" ]; then
        # only what the previous owner had: files the user gave to others stay theirs
        idekube_log "home: $home owned by uid $owner: chown of $owner's files to $user_uid ($user)"
        chown -R --from="$owner" -- "$user_uid:$user_gid" "$home" || {
            idekube_warn "home: chown -R $home failed (a volume that refuses chown?)"
            return 1
        }
    else
        idekube_log "home: $home already owned by uid $user_uid: not walked"
    fi
    chmod 755 -- "$home" || return 1
    return 0
}

home_is_empty() {
    [ -z "$(find "$home" -mindepth 1 -maxdepth 1 ! -name lost+found -print -quit 2>/dev/null)" ]
}

# as_user CMD...: run CMD as the user (root) or directly (non-root).
as_user() {
    if idekube_is_root && [ "$user_uid" != 0 ]; then
        IDEKUBE_LOG_TAG=$IDEKUBE_LOG_TAG idekube_run_as_user "$user" "$@"
    else
        HOME=$home "$@"
    fi
}

init_home() {
    [ "$have_user" -eq 1 ] || return 0
    local why
    if [ -n "${IDEKUBE_INIT_HOME:-}" ]; then
        why="IDEKUBE_INIT_HOME is set"
    elif home_is_empty; then
        why="the home is empty"
    else
        idekube_log "home: $home has content and IDEKUBE_INIT_HOME is not set: skeleton not synced"
        return 0
    fi
    local skel=${IDEKUBE_SKEL_DIR:-/etc/skel}
    if [ "${IDEKUBE_INIT_HOME:-}" = force ]; then
        idekube_log "home: IDEKUBE_INIT_HOME=force: copying $skel over $home as $user (files the user changed are overwritten)"
        IDEKUBE_HOME_SYNC_FORCE=1 as_user "$libdir/home-sync.sh" "$skel" "$home"
        return
    fi
    idekube_log "home: $why: syncing $skel into $home as $user"
    as_user "$libdir/home-sync.sh" "$skel" "$home"
}

# Host keys live in the home volume (the one volume deployments keep), so a
# re-created container presents the same key and `ssh` does not warn "host key
# changed" after every pod restart. The store belongs to the user and is only
# ever read and written AS the user (no link in it can point root elsewhere);
# root installs the copies into /etc/ssh. Never baked into the image.
host_key_types=(rsa ecdsa ed25519)

host_key_store() { printf '%s/.local/share/idekube/ssh-host-keys' "$home"; }

# load_host_keys: the stored keys into /etc/ssh (a key that does not parse is skipped).
load_host_keys() {
    local store t tmp n=0
    store=$(host_key_store)
    for t in "${host_key_types[@]}"; do
        tmp=$(mktemp /etc/ssh/.idekube-host-key.XXXXXX) || return 1
        if as_user cat -- "$store/ssh_host_${t}_key" >"$tmp" 2>/dev/null && [ -s "$tmp" ] &&
            ssh-keygen -y -f "$tmp" >"$tmp.pub" 2>/dev/null; then
            chmod 600 -- "$tmp" && chmod 644 -- "$tmp.pub" &&
                mv -f -- "$tmp" "/etc/ssh/ssh_host_${t}_key" && mv -f -- "$tmp.pub" "/etc/ssh/ssh_host_${t}_key.pub" &&
                n=$((n + 1))
        fi
        rm -f -- "$tmp" "$tmp.pub"
    done
    [ "$n" -eq 0 ] || idekube_log "ssh: $n host key(s) from $store"
}

# save_host_keys: the keys of /etc/ssh the store lacks, written as the user.
# shellcheck disable=SC2016 # nginx's and awk's variables, not the shell's
save_host_keys() {
    local store t f saved=()
    store=$(host_key_store)
    for t in "${host_key_types[@]}"; do
        f=ssh_host_${t}_key
        [ -s "/etc/ssh/$f" ] || continue
        if as_user test -s "$store/$f"; then continue; fi
        if as_user bash -c 'umask 077 && mkdir -p -- "$1" && cat >"$1/.$2.tmp" && mv -f -- "$1/.$2.tmp" "$1/$2"' _ "$store" "$f" <"/etc/ssh/$f"; then
            saved+=("$t")
        else
            idekube_warn "ssh: could not keep the $t host key in $store (the next container will get a new one)"
        fi
    done
    [ "${#saved[@]}" -eq 0 ] || idekube_log "ssh: host key(s) ${saved[*]} kept in $store for the next containers"
}

setup_ssh_host() {
    if ! command -v ssh-keygen >/dev/null 2>&1; then
        idekube_log "ssh: ssh-keygen not installed: no SSH set-up"
        return 0
    fi
    if [ -d /etc/ssh ] && { [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1; }; then
        local persist=0
        if idekube_is_root && [ "$have_user" -eq 1 ] && [ "$user_uid" != 0 ] && [ -d "$home" ]; then
            persist=1
            load_host_keys
        fi
        local t missing=()
        for t in "${host_key_types[@]}"; do
            [ -s "/etc/ssh/ssh_host_${t}_key" ] || missing+=("$t")
        done
        if [ "${#missing[@]}" -gt 0 ]; then
            if [ -w /etc/ssh ]; then
                if ssh-keygen -A >/dev/null; then
                    idekube_log "ssh: generated host keys (${missing[*]})"
                else
                    idekube_warn "ssh: ssh-keygen -A failed: sshd will not start"
                fi
            else
                idekube_log "ssh: not root (uid $uid) and /etc/ssh not writable: host keys (${missing[*]}) not generated, sshd will not start"
            fi
        fi
        [ "$persist" -eq 0 ] || save_host_keys
        if [ -s /etc/ssh/ssh_host_ed25519_key.pub ]; then
            idekube_log "ssh: host key $(ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null | awk '{print $2}')"
        fi
        if idekube_is_root; then
            mkdir -p /run/sshd && chmod 755 /run/sshd
        fi
    fi
    return 0
}

setup_ssh_user() {
    [ "$have_user" -eq 1 ] || return 0
    command -v ssh-keygen >/dev/null 2>&1 || return 0
    if ! getent passwd "$user_uid" >/dev/null; then
        # ssh-keygen refuses to run for a uid without a passwd entry, and sshd
        # could not log such a user in anyway.
        idekube_log "ssh: uid $user_uid has no passwd entry: the user's SSH set-up is skipped"
        return 0
    fi
    # Upstream created ~/.ssh as root; give it back to the user.
    if idekube_is_root && [ -d "$home/.ssh" ] && [ ! -L "$home/.ssh" ] &&
        [ "$(stat -c '%u' -- "$home/.ssh")" != "$user_uid" ]; then
        idekube_log "ssh: $home/.ssh is not owned by $user: chown -R"
        chown -R -- "$user_uid:$user_gid" "$home/.ssh" || return 1
    fi
    as_user "$libdir/user-ssh.sh"
}

run_hooks() {
    local dir=${IDEKUBE_HOOKS_DIR:-/etc/idekube/startup.bash}
    [ -d "$dir" ] || return 0
    # Hooks are run with `bash FILE`, so the executable bit is NOT required:
    # Kubernetes ConfigMap/Secret volumes mount files 0644 by default, and they
    # appear as symbolic links into ..data/, which the -f test follows.
    local f hooks=() st
    while IFS= read -r -d '' f; do
        [ -f "$f" ] && hooks+=("$f")
    done < <(find "$dir" -mindepth 1 -maxdepth 1 -name '*.sh' -print0 | LC_ALL=C sort -z)
    [ "${#hooks[@]}" -gt 0 ] || return 0
    if ! idekube_is_root; then
        idekube_log "hooks: not root: running them as uid $uid (hooks that need root will fail)"
    fi
    local timeout=()
    if [ -n "${IDEKUBE_HOOK_TIMEOUT:-}" ]; then
        if [[ $IDEKUBE_HOOK_TIMEOUT =~ ^[1-9][0-9]*$ ]] && command -v timeout >/dev/null 2>&1; then
            timeout=(timeout --kill-after=10 "$IDEKUBE_HOOK_TIMEOUT")
        else
            idekube_warn "hooks: IDEKUBE_HOOK_TIMEOUT=$IDEKUBE_HOOK_TIMEOUT ignored (whole seconds > 0 expected)"
        fi
    fi
    for f in "${hooks[@]}"; do
        idekube_log "hook $f: starting"
        st=0
        (cd / && exec "${timeout[@]}" bash "$f" </dev/null) || st=$?
        if [ "$st" -eq 0 ]; then
            idekube_log "hook $f: exit status 0"
        elif [ "${#timeout[@]}" -gt 0 ] && [ "$st" -eq 124 ]; then
            idekube_warn "hook $f: timed out after ${IDEKUBE_HOOK_TIMEOUT}s; continuing"
        else
            idekube_warn "hook $f: exit status $st; continuing"
        fi
    done
    return 0
}

start_supervisord() {
    local tini supd conf=${IDEKUBE_SUPERVISORD_CONF:-/etc/supervisor/supervisord.conf}
    if ! tini=$(idekube_find_tini); then
        idekube_error "tini not found (PATH, /usr/bin/tini, /usr/local/bin/tini): the image is incomplete"
        exit 127
    fi
    if ! supd=$(command -v supervisord); then
        idekube_error "supervisord not found on PATH: the image is incomplete"
        exit 127
    fi
    if [ ! -r "$conf" ]; then
        idekube_error "supervisord configuration $conf not readable"
        exit 1
    fi
    if ! idekube_is_root; then
        local rt=/tmp/idekube-supervisor-$uid
        if [ -e "$rt" ] && [ "$(stat -c '%u' -- "$rt")" != "$uid" ]; then
            rt=$(mktemp -d /tmp/idekube-supervisor-XXXXXX) || exit 1
        fi
        idekube_log "supervisord: not root (uid $uid): running a copy of $conf without user= lines from $rt"
        if ! conf=$("$libdir/supervisor-conf.sh" "$conf" "$rt"); then
            idekube_error "supervisord: could not prepare a non-root configuration"
            exit 1
        fi
    fi
    if ! idekube_is_root; then
        # supervisord opens stdout_logfile=/dev/fd/1 (or /dev/stdout) anew; the
        # container's stdout/stderr pipes belong to root (mode 0600), so a
        # non-root uid gets EACCES and every program fails to spawn. Put pipes
        # this uid owns in between (a cat per stream, inherited by tini).
        if ! { : >>/dev/fd/1; } 2>/dev/null || ! { : >>/dev/fd/2; } 2>/dev/null; then
            idekube_log "supervisord: stdout/stderr cannot be reopened by uid $uid: relaying them through pipes it owns"
            exec 1> >(exec cat) 2> >(exec cat >&2)
        fi
    fi
    local cmd=("$tini")
    # Not PID 1 (the chrooted start): register as subreaper so orphans are reaped
    # (where the kernel interface exists: user-mode emulation such as
    # qemu-aarch64 lacks PR_SET_CHILD_SUBREAPER and tini -s would die; the
    # outer start-up, PID 1, still reaps them then).
    if [ "$$" -ne 1 ]; then
        if "$tini" -s -- true >/dev/null 2>&1; then
            cmd+=(-s)
        else
            idekube_warn "tini -s (child subreaper) is not available here (emulated CPU?): starting without it"
        fi
    fi
    cmd+=(-- "$supd" -n -c "$conf")
    if [ -n "${IDEKUBE_INIT_NO_EXEC:-}" ]; then
        idekube_log "IDEKUBE_INIT_NO_EXEC is set: would exec ${cmd[*]}"
        exit 0
    fi
    idekube_log "starting: exec ${cmd[*]}"
    cd / || true
    exec "${cmd[@]}"
}

main() {
    if [ -n "${I_AM_INIT_CONTAINER:-}" ]; then
        run_init_container
    fi
    if [ -z "${IDEKUBE_IN_CHROOT:-}" ] && idekube_is_mountpoint "$ROOTFS"; then
        run_chroot
    fi

    resolve_user
    idekube_log "runtime init: uid $uid, user ${user:-?}, home ${home:-?}${IDEKUBE_IN_CHROOT:+, inside the persistent root}"
    setup_access # exits when a token was asked for and cannot be applied
    step "nginx listen" setup_listen
    step "stale X locks" clean_x_locks
    step "GPU" setup_gpu
    step "login shell" set_login_shell
    step "user ids" remap_user
    step "home permissions" fix_home_permissions
    step "home skeleton" init_home
    step "SSH host keys" setup_ssh_host
    step "SSH user keys" setup_ssh_user
    step "start-up hooks" run_hooks
    start_supervisord
}

# Sourcing this file (tests) defines the steps without running them.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
