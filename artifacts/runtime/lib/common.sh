# shellcheck shell=bash
# idekube runtime: shared helpers, sourced by startup.sh, init-container.sh and
# the helpers in /usr/local/lib/idekube. Only function definitions here: no side
# effects on source.

# Every line an idekube runtime script prints starts with a tag in brackets so
# it can be grepped out of `docker logs` / `kubectl logs`. A script may set
# IDEKUBE_LOG_TAG before sourcing (default: idekube-init).
: "${IDEKUBE_LOG_TAG:=idekube-init}"

idekube_log() { printf '[%s] %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }
idekube_warn() { printf '[%s] WARNING: %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }
idekube_error() { printf '[%s] ERROR: %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }

idekube_is_root() { [ "$(id -u)" -eq 0 ]; }

# idekube_is_mountpoint DIR: true when DIR is the mount point of a mount.
# Uses util-linux mountpoint(1) when present, else /proc/self/mountinfo.
idekube_is_mountpoint() {
    local dir=$1
    [ -d "$dir" ] || return 1
    if command -v mountpoint >/dev/null 2>&1; then
        mountpoint -q -- "$dir"
        return
    fi
    local mp
    while IFS= read -r mp; do
        [ "$mp" = "$dir" ] && return 0
    done < <(idekube_mount_points)
    return 1
}

# idekube_mount_points: every mount point of this mount namespace, one a line,
# decoded (mountinfo escapes space, tab, newline and backslash as \ooo).
# Names holding a newline are skipped: a line-based consumer cannot use them.
idekube_mount_points() {
    [ -r /proc/self/mountinfo ] || return 0
    local _id _parent _devno _root mp _rest decoded
    while read -r _id _parent _devno _root mp _rest; do
        decoded=$(printf '%b' "$mp")
        case $decoded in *$'\n'*) continue ;; esac
        printf '%s\n' "$decoded"
    done </proc/self/mountinfo
}

# idekube_path_under PATH PREFIX...: true when PATH is one of the PREFIXes or
# lies below one of them.
idekube_path_under() {
    local path=$1 prefix
    shift
    for prefix in "$@"; do
        [ "$prefix" = / ] && return 0
        case $path in "$prefix" | "$prefix"/*) return 0 ;; esac
    done
    return 1
}

# idekube_runtime_mounts: the mounts the container runtime placed into this
# container that are not part of the image and are not one of the pseudo file
# systems: NVIDIA driver libraries bind-mounted file by file, /usr/local/nvidia,
# volumes (a home volume, /mnt/data...), Kubernetes' /etc/hosts & co. Printed
# sorted, parents before children, without / and without anything under the
# trees that are bound as a whole (/proc /sys /dev /run /tmp /var/run) or
# under /rootfs.
idekube_runtime_mounts() {
    idekube_mount_points | LC_ALL=C sort -u | while IFS= read -r mp; do
        [ "$mp" = / ] && continue
        idekube_path_under "$mp" /proc /sys /dev /run /var/run /tmp /rootfs && continue
        printf '%s\n' "$mp"
    done
}

# idekube_find_tini: prints the path of tini or fails.
idekube_find_tini() {
    local c
    c=$(command -v tini 2>/dev/null) && [ -x "$c" ] && {
        printf '%s\n' "$c"
        return 0
    }
    for c in /usr/bin/tini /usr/local/bin/tini /sbin/tini /bin/tini; do
        [ -x "$c" ] && {
            printf '%s\n' "$c"
            return 0
        }
    done
    return 1
}

# idekube_run_as_user USER CMD...: run CMD as USER (uid, primary gid and
# supplementary groups of USER), keeping the environment, with HOME, USER and
# LOGNAME set for USER. When the caller already is USER, CMD just runs.
idekube_run_as_user() {
    local user=$1 home
    shift
    home=$(getent passwd "$user" | cut -d: -f6)
    if [ "$(id -u)" = "$(id -u "$user" 2>/dev/null)" ]; then
        HOME=${home:-$HOME} USER=$user LOGNAME=$user "$@"
        return
    fi
    if command -v setpriv >/dev/null 2>&1; then
        HOME=$home USER=$user LOGNAME=$user \
            setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$user" -- env HOME="$home" USER="$user" LOGNAME="$user" "$@"
    else
        # su needs one command string: quote every argument for the shell.
        local cmd="" a
        for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
        su -s /bin/bash -c "${cmd# }" "$user"
    fi
}
