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
#   - a `directory=` this uid cannot enter, and a HOME in `environment=` it
#     cannot write, are replaced by $HOME (or /tmp);
#   - [include] files = RUNTIME_DIR/conf.d/*.conf;
#   - a program that runs nginx gets `-e stderr -c RUNTIME_DIR/nginx/nginx.conf`:
#     a copy of its nginx.conf (IDEKUBE_NGINX_CONF, default /etc/nginx/nginx.conf)
#     without `user`, with pid, temp folders and logs this uid can write (the
#     image's /run, /var/lib/nginx and /var/log/nginx belong to root).
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

# nginx_conf SRC: writes $rt/nginx/nginx.conf, SRC made runnable by this uid.
nginx_conf() {
    local src=$1 dir=$rt/nginx line srcdir
    srcdir=$(dirname -- "$src")
    if [ ! -r "$src" ]; then
        log "WARNING: cannot read $src: nginx keeps its own configuration"
        return 1
    fi
    mkdir -p -- "$dir/body" "$dir/proxy" "$dir/fastcgi" "$dir/uwsgi" "$dir/scgi" || return 1
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^[[:space:]]*user[[:space:]][^\;]*\;[[:space:]]*(#.*)?$ ]]; then
            continue
        elif [[ $line =~ ^[[:space:]]*pid[[:space:]] ]]; then
            printf 'pid %s/nginx.pid;\n' "$dir"
        elif [[ $line =~ ^([[:space:]]*)error_log[[:space:]] ]]; then
            printf '%serror_log stderr;\n' "${BASH_REMATCH[1]}"
        elif [[ $line =~ ^([[:space:]]*)access_log[[:space:]]+/ ]]; then
            printf '%saccess_log /dev/stdout;\n' "${BASH_REMATCH[1]}"
        elif [[ $line =~ ^([[:space:]]*include[[:space:]]+)([^/[:space:]][^\;]*)\;(.*)$ ]]; then
            # relative includes were relative to the original file's folder
            printf '%s%s/%s;%s\n' "${BASH_REMATCH[1]}" "$srcdir" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
        elif [[ $line =~ ^[[:space:]]*http[[:space:]]*\{ ]]; then
            printf '%s\n' "$line"
            local t
            for t in client_body:body proxy:proxy fastcgi:fastcgi uwsgi:uwsgi scgi:scgi; do
                printf '    %s_temp_path %s/%s;\n' "${t%%:*}" "$dir" "${t#*:}"
            done
        else
            printf '%s\n' "$line"
        fi
    done <"$src" >"$dir/nginx.conf" || return 1
    return 0
}

# nginx_command VALUE: VALUE with a non-root nginx configuration, when VALUE
# runs nginx (and names no configuration of its own); else VALUE unchanged.
nginx_command() {
    local value=$1 first rest
    first=${value%%[[:space:]]*}
    rest=${value#"$first"}
    if [ "${first##*/}" != nginx ] || [[ " $rest " =~ [[:space:]]-c[[:space:]] ]]; then
        printf '%s' "$value"
        return 0
    fi
    if nginx_conf "${IDEKUBE_NGINX_CONF:-/etc/nginx/nginx.conf}"; then
        log "nginx: running with $rt/nginx/nginx.conf (pid, temp folders and logs writable by uid $(id -u))"
        printf '%s -e stderr -c %s/nginx/nginx.conf%s' "$first" "$rt" "$rest"
    else
        printf '%s' "$value"
    fi
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
            command)
                if [[ $section == program:* ]]; then
                    printf 'command=%s\n' "$(nginx_command "$value")"
                    continue
                fi
                ;;
            environment)
                # HOME of the user this program was meant to run as: not ours to write
                if [[ $value =~ (^|,)[[:space:]]*HOME[[:space:]]*=[[:space:]]*\"?([^\",]*)\"? ]]; then
                    local h=${BASH_REMATCH[2]}
                    if [ -n "$h" ] && { [ ! -d "$h" ] || [ ! -w "$h" ]; }; then
                        log "[$section]: HOME=$h is not writable by uid $(id -u): using $fallback_dir"
                        printf 'environment=%s\n' "${value/"$h"/"$fallback_dir"}"
                        continue
                    fi
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
