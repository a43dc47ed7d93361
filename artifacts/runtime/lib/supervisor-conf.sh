#!/usr/bin/env bash
# idekube runtime: make a copy of supervisord's configuration that a NON-ROOT
# supervisord can run (the container was started with an arbitrary --user).
#
#   supervisor-conf.sh SRC_CONF RUNTIME_DIR    prints the new main config path
#
# supervisord cannot switch users when it is not root, and cannot write to
# /var/run or /var/log/supervisor. In the copy (main file and every file its
# [include] section names, copied into RUNTIME_DIR/conf.d):
#   - every `user=` line is removed (programs run as the current uid);
#   - `chown=` of [unix_http_server] is removed;
#   - /var/run/supervisor*, /run/supervisor* and /var/log/supervisor paths move
#     under RUNTIME_DIR;
#   - a `directory=` this uid cannot enter is replaced by $HOME (or /tmp);
#   - [include] files = RUNTIME_DIR/conf.d/*.conf.
set -uo pipefail

IDEKUBE_LOG_TAG=${IDEKUBE_LOG_TAG:-idekube-init}
log() { printf '[%s] supervisord: %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }

if [ $# -ne 2 ]; then
    log "usage: supervisor-conf.sh SRC_CONF RUNTIME_DIR"
    exit 2
fi
src=$1
rt=${2%/}

if [ ! -r "$src" ]; then
    log "ERROR: cannot read $src"
    exit 1
fi
mkdir -p -- "$rt/conf.d" "$rt/log" || {
    log "ERROR: cannot create $rt"
    exit 1
}
chmod 700 -- "$rt" 2>/dev/null || true
rm -f -- "$rt"/conf.d/*.conf

fallback_dir=/tmp
if [ -n "${HOME:-}" ] && [ -d "$HOME" ] && [ -x "$HOME" ]; then
    fallback_dir=$HOME
fi

trim() {
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    s=${s%"${s##*[![:space:]]}"}
    printf '%s' "$s"
}

# transform FILE MAIN(0|1): prints the non-root version of FILE.
transform() {
    local file=$1 main=$2 line section="" value key
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^[[:space:]]*\[([^]]*)\] ]]; then
            section=$(trim "${BASH_REMATCH[1]}")
        fi
        if [[ $line =~ ^[[:space:]]*([A-Za-z_]+)[[:space:]]*=(.*)$ ]]; then
            key=${BASH_REMATCH[1]}
            value=${BASH_REMATCH[2]}
            value=$(trim "${value%%[[:space:]];*}") # drop an inline "; comment"
            case $key in
            user)
                log "dropped '$(trim "$line")' from [$section] of $file (not root: cannot switch users)"
                continue
                ;;
            chown)
                if [ "$section" = unix_http_server ]; then
                    continue
                fi
                ;;
            files)
                if [ "$main" = 1 ] && [ "$section" = include ]; then
                    printf 'files = %s/conf.d/*.conf\n' "$rt"
                    continue
                fi
                ;;
            directory)
                if [ -n "$value" ] && { [ ! -d "$value" ] || [ ! -x "$value" ]; }; then
                    log "[$section]: directory=$value is not accessible to uid $(id -u): using $fallback_dir"
                    printf 'directory=%s\n' "$fallback_dir"
                    continue
                fi
                ;;
            esac
        fi
        line=${line//\/var\/run\/supervisor/$rt\/supervisor}
        line=${line//\/run\/supervisor/$rt\/supervisor}
        line=${line//\/var\/log\/supervisor/$rt\/log}
        printf '%s\n' "$line"
    done <"$file"
}

# The [include] files= value of the main file (space-separated globs, relative
# to the main file's folder).
include_globs=""
section=""
while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ ^[[:space:]]*\[([^]]*)\] ]]; then
        section=$(trim "${BASH_REMATCH[1]}")
    elif [ "$section" = include ] && [[ $line =~ ^[[:space:]]*files[[:space:]]*=(.*)$ ]]; then
        include_globs=${BASH_REMATCH[1]}
        include_globs=${include_globs%%[[:space:]];*}
        break
    fi
done <"$src"

srcdir=$(dirname -- "$src")
i=0
read -r -a globs <<<"$include_globs" # split without expanding
shopt -s nullglob
for glob in "${globs[@]}"; do
    case $glob in /*) ;; *) glob=$srcdir/$glob ;; esac
    # shellcheck disable=SC2206 # expanding the glob is the point
    matches=($glob)
    for f in "${matches[@]}"; do
        [ -f "$f" ] || continue
        i=$((i + 1))
        transform "$f" 0 >"$rt/conf.d/$(printf '%03d' "$i")-$(basename -- "$f" .conf).conf" || {
            log "ERROR: cannot write into $rt/conf.d"
            exit 1
        }
    done
done
shopt -u nullglob

transform "$src" 1 >"$rt/supervisord.conf" || {
    log "ERROR: cannot write $rt/supervisord.conf"
    exit 1
}
if [ -z "$include_globs" ]; then
    log "no [include] in $src: only the main file was copied"
fi
printf '%s\n' "$rt/supervisord.conf"
