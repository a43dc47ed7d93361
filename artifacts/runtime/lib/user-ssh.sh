#!/usr/bin/env bash
# idekube runtime: the user's side of SSH. Runs AS THE USER (startup.sh starts
# it through setpriv/runuser), with HOME set to the user's home, so ~/.ssh and
# everything in it belong to the user.
#
#   - ~/.ssh exists, mode 700;
#   - a key pair exists (ed25519 generated when the user has no id_* key);
#   - IDEKUBE_AUTHORIZED_KEYS, when set: base64 of an authorized_keys file.
#     Each line is checked with `ssh-keygen -l`; the valid ones replace the
#     block idekube manages in ~/.ssh/authorized_keys (between "# BEGIN idekube"
#     and "# END idekube"). Keys the user added outside that block are kept.
#     Invalid base64, or content without a single valid key line, is reported
#     on one ERROR line naming IDEKUBE_AUTHORIZED_KEYS and the file is left
#     untouched. Unset or empty: nothing is changed.
# Exit status: 0, or 1 when something failed (already logged); startup goes on.
set -uo pipefail

IDEKUBE_LOG_TAG=${IDEKUBE_LOG_TAG:-idekube-init}
log() { printf '[%s] ssh: %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }
err() { printf '[%s] ERROR: %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }

status=0
sshdir=$HOME/.ssh
user=${USER:-$(getent passwd "$(id -u)" | cut -d: -f1)}
user=${user:-$(id -u)}

if ! command -v ssh-keygen >/dev/null 2>&1; then
    log "ssh-keygen not installed: skipping the user's SSH setup"
    exit 0
fi

if [ -L "$sshdir" ] || { [ -e "$sshdir" ] && [ ! -d "$sshdir" ]; }; then
    err "$sshdir is not a folder: skipping the user's SSH setup"
    exit 1
fi
if ! mkdir -p -- "$sshdir" || ! chmod 700 -- "$sshdir"; then
    err "cannot create $sshdir as uid $(id -u): skipping the user's SSH setup"
    exit 1
fi

# Key pair.
have_key=""
for k in id_ed25519 id_ecdsa id_rsa id_ed25519_sk id_ecdsa_sk; do
    [ -f "$sshdir/$k" ] && have_key=$k && break
done
if [ -n "$have_key" ]; then
    log "key pair present (~/.ssh/$have_key)"
else
    if ssh-keygen -q -t ed25519 -N '' -C "$user@idekube" -f "$sshdir/id_ed25519" </dev/null >/dev/null; then
        log "generated key pair ~/.ssh/id_ed25519"
    else
        err "could not generate ~/.ssh/id_ed25519"
        status=1
    fi
fi

# authorized_keys from IDEKUBE_AUTHORIZED_KEYS.
ak=$sshdir/authorized_keys
value=${IDEKUBE_AUTHORIZED_KEYS:-}
compact=$(printf '%s' "$value" | tr -d ' \t\r\n')

install_keys() {
    local work decoded n=0 valid=0 line fp
    local -a keep=() bad=() fps=()
    work=$(mktemp -d "${TMPDIR:-/tmp}/idekube-ak.XXXXXX") || {
        err "IDEKUBE_AUTHORIZED_KEYS not applied: cannot create a temporary folder"
        return 1
    }
    # shellcheck disable=SC2064 # expand $work now
    trap "rm -rf -- '$work'" RETURN
    decoded=$work/decoded
    if ! printf '%s' "$compact" | base64 -d >"$decoded" 2>/dev/null; then
        case $value in
        ssh-* | ecdsa-* | sk-* | *" ssh-"*)
            err "IDEKUBE_AUTHORIZED_KEYS is not valid base64: it looks like a plain public key; set it to the base64 of an authorized_keys file (base64 -w0 < authorized_keys). authorized_keys left unchanged."
            ;;
        *)
            err "IDEKUBE_AUTHORIZED_KEYS is not valid base64 (${#value} characters): authorized_keys left unchanged."
            ;;
        esac
        return 1
    fi
    # A NUL byte means binary data (tr drops it, so the sizes differ).
    if [ "$(tr -d '\000' <"$decoded" | wc -c)" != "$(wc -c <"$decoded")" ]; then
        err "IDEKUBE_AUTHORIZED_KEYS decodes to binary data, not an authorized_keys file: authorized_keys left unchanged."
        return 1
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*$ ]] && continue
        [[ $line =~ ^[[:space:]]*# ]] && continue
        printf '%s\n' "$line" >"$work/line"
        if fp=$(ssh-keygen -l -f "$work/line" 2>/dev/null); then
            keep+=("$line")
            fps+=("$(printf '%s' "$fp" | awk '{print $2}')")
            valid=$((valid + 1))
        else
            bad+=("$n")
        fi
    done <"$decoded"
    if [ "$valid" -eq 0 ]; then
        if [ "${#bad[@]}" -eq 0 ]; then
            err "IDEKUBE_AUTHORIZED_KEYS decodes to no key line at all (empty or comments only): authorized_keys left unchanged."
        else
            err "IDEKUBE_AUTHORIZED_KEYS has no valid public key line (${#bad[@]} invalid, on line(s) ${bad[*]} of the decoded file): authorized_keys left unchanged."
        fi
        return 1
    fi
    if [ "${#bad[@]}" -gt 0 ]; then
        err "IDEKUBE_AUTHORIZED_KEYS: ignored ${#bad[@]} invalid line(s) (line(s) ${bad[*]} of the decoded file); installing the ${valid} valid key(s)."
    fi

    # Rebuild: the user's own lines (outside idekube's block), then the block.
    local out=$work/authorized_keys inblock=0
    {
        if [ -f "$ak" ] && [ ! -L "$ak" ]; then
            while IFS= read -r line || [ -n "$line" ]; do
                case $line in
                "# BEGIN idekube"*) inblock=1 ;;
                "# END idekube"*) inblock=0 ;;
                *) [ "$inblock" -eq 0 ] && printf '%s\n' "$line" ;;
                esac
            done <"$ak"
        fi
        printf '%s\n' "# BEGIN idekube: from IDEKUBE_AUTHORIZED_KEYS, rewritten at every container start; add your own keys outside this block"
        printf '%s\n' "${keep[@]}"
        printf '%s\n' "# END idekube"
    } >"$out" || {
        err "IDEKUBE_AUTHORIZED_KEYS not applied: cannot write a temporary file"
        return 1
    }
    if [ -L "$ak" ]; then
        err "IDEKUBE_AUTHORIZED_KEYS not applied: $ak is a symbolic link"
        return 1
    fi
    if cp -- "$out" "$sshdir/.authorized_keys.idekube.tmp" &&
        chmod 600 -- "$sshdir/.authorized_keys.idekube.tmp" &&
        mv -f -- "$sshdir/.authorized_keys.idekube.tmp" "$ak"; then
        log "IDEKUBE_AUTHORIZED_KEYS: installed $valid key(s) into ~/.ssh/authorized_keys (${fps[*]})"
        return 0
    fi
    rm -f -- "$sshdir/.authorized_keys.idekube.tmp"
    err "IDEKUBE_AUTHORIZED_KEYS not applied: cannot write $ak"
    return 1
}

if [ -n "$compact" ]; then
    install_keys || status=1
fi
if [ -f "$ak" ] && [ ! -L "$ak" ]; then
    chmod 600 -- "$ak" || status=1
fi
exit "$status"
