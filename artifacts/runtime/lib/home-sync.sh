#!/usr/bin/env bash
# idekube runtime: populate a home folder from a skeleton (/etc/skel) without
# clobbering what the user changed.
#
#   home-sync.sh SKEL HOME [MANIFEST]
#
# Runs AS THE USER who owns HOME (startup.sh starts it through setpriv/runuser),
# so everything it creates is owned by that user and a symlink planted in the
# home cannot redirect a root-privileged write elsewhere.
#
# MANIFEST (default HOME/.local/state/idekube/skel.sha256) records what was
# copied: one line per entry, tab-separated `KIND HASH PATH`, KIND f (regular
# file, HASH = sha256 of its content) or l (symlink, HASH = sha256 of its
# target), PATH relative to HOME. For each entry of SKEL:
#   - missing in HOME                       -> copied, recorded
#   - same as SKEL already                  -> recorded
#   - equal to the recorded copy (the user did not touch it) and SKEL changed
#                                           -> updated to the new SKEL version
#   - anything else (changed by the user, or there before idekube recorded it)
#                                           -> kept as is, logged
# With IDEKUBE_HOME_SYNC_FORCE=1 (IDEKUBE_INIT_HOME=force) every file and link
# of SKEL replaces the home's version, changed or not: the original images'
# behaviour, for homes that must be reset.
# Directories are created (with SKEL's mode) when missing. Entries of other
# kinds (fifos, sockets...) are ignored. Files the manifest lists that SKEL no
# longer has are left alone and dropped from the manifest.
set -uo pipefail

IDEKUBE_LOG_TAG=${IDEKUBE_LOG_TAG:-idekube-init}
log() { printf '[%s] home: %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    log "usage: home-sync.sh SKEL HOME [MANIFEST]"
    exit 2
fi
skel=${1%/}
home=${2%/}
manifest=${3:-$home/.local/state/idekube/skel.sha256}

if [ ! -d "$skel" ]; then
    log "skeleton $skel is not a folder: nothing to copy"
    exit 0
fi
if [ ! -d "$home" ] || [ ! -w "$home" ]; then
    log "ERROR: $home is not a writable folder for uid $(id -u): cannot populate it"
    exit 1
fi

declare -A recorded=() # PATH -> "KIND HASH"
if [ -f "$manifest" ] && [ ! -L "$manifest" ]; then
    while IFS=$'\t' read -r kind hash path; do
        case $kind in f | l) ;; *) continue ;; esac
        [ -n "$path" ] && recorded[$path]="$kind $hash"
    done <"$manifest"
fi

force=${IDEKUBE_HOME_SYNC_FORCE:-}
n_forced=0

sha_of_file() { sha256sum <"$1" | cut -d' ' -f1; }
sha_of_text() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

new_manifest=()
n_copied=0 n_updated=0 n_kept=0 n_same=0 n_failed=0

record() { new_manifest+=("$1"$'\t'"$2"$'\t'"$3"); }

# copy_file SRC DEST: atomic copy keeping mode and times.
copy_file() {
    local tmp
    tmp="$(dirname -- "$2")/.idekube-sync.$$.tmp"
    if cp -p -- "$1" "$tmp" 2>/dev/null && mv -f -- "$tmp" "$2"; then
        return 0
    fi
    rm -f -- "$tmp"
    return 1
}

while IFS= read -r -d '' src; do
    rel=${src#"$skel"/}
    case $rel in *$'\n'* | *$'\t'*)
        log "skipping $rel: tab or newline in the name"
        continue
        ;;
    esac
    dest=$home/$rel
    parent=$(dirname -- "$dest")
    # The parent is missing when the user has a file where the skeleton has a
    # folder (logged once, for the folder). A parent that is a link to a
    # folder is followed: this runs as the user, who chose where it points.
    [ -d "$parent" ] || continue

    if [ -L "$src" ]; then
        target=$(readlink -- "$src")
        thash=$(sha_of_text "$target")
        if [ -L "$dest" ]; then
            cur=$(readlink -- "$dest")
            if [ "$cur" = "$target" ]; then
                record l "$thash" "$rel"
                n_same=$((n_same + 1))
            elif [ -n "$force" ] || [ "${recorded[$rel]:-}" = "l $(sha_of_text "$cur")" ]; then
                if ln -sfn -- "$target" "$dest"; then
                    log "updated link ~/$rel -> $target (unchanged since copied, skeleton changed)"
                    record l "$thash" "$rel"
                    n_updated=$((n_updated + 1))
                else
                    log "WARNING: could not update link ~/$rel"
                    n_failed=$((n_failed + 1))
                fi
            else
                log "kept ~/$rel: link changed by the user"
                [ -n "${recorded[$rel]:-}" ] && record "${recorded[$rel]% *}" "${recorded[$rel]#* }" "$rel"
                n_kept=$((n_kept + 1))
            fi
        elif [ -e "$dest" ]; then
            log "kept ~/$rel: the user replaced the link by a file or folder"
            n_kept=$((n_kept + 1))
        elif ln -s -- "$target" "$dest"; then
            record l "$thash" "$rel"
            n_copied=$((n_copied + 1))
        else
            log "WARNING: could not create link ~/$rel"
            n_failed=$((n_failed + 1))
        fi
    elif [ -d "$src" ]; then
        if [ -d "$dest" ]; then
            :
        elif [ -e "$dest" ] || [ -L "$dest" ]; then
            log "kept ~/$rel: not a folder in the home, its skeleton content is skipped"
            n_kept=$((n_kept + 1))
        else
            mode=$(stat -c '%a' -- "$src")
            if ! mkdir -m "$mode" -- "$dest"; then
                log "WARNING: could not create ~/$rel"
                n_failed=$((n_failed + 1))
            fi
        fi
    elif [ -f "$src" ]; then
        shash=$(sha_of_file "$src")
        if [ -L "$dest" ]; then
            log "kept ~/$rel: the user replaced it by a link"
            n_kept=$((n_kept + 1))
        elif [ ! -e "$dest" ]; then
            if copy_file "$src" "$dest"; then
                record f "$shash" "$rel"
                n_copied=$((n_copied + 1))
            else
                log "WARNING: could not copy ~/$rel"
                n_failed=$((n_failed + 1))
            fi
        elif [ ! -f "$dest" ]; then
            log "kept ~/$rel: not a regular file in the home"
            n_kept=$((n_kept + 1))
        else
            dhash=$(sha_of_file "$dest")
            if [ "$dhash" = "$shash" ]; then
                record f "$shash" "$rel"
                n_same=$((n_same + 1))
            elif [ -n "$force" ] || [ "${recorded[$rel]:-}" = "f $dhash" ]; then
                if copy_file "$src" "$dest"; then
                    if [ -n "$force" ] && [ "${recorded[$rel]:-}" != "f $dhash" ]; then
                        log "overwrote ~/$rel (IDEKUBE_INIT_HOME=force)"
                        n_forced=$((n_forced + 1))
                    else
                        log "updated ~/$rel (unchanged since copied, skeleton changed)"
                        n_updated=$((n_updated + 1))
                    fi
                    record f "$shash" "$rel"
                else
                    log "WARNING: could not update ~/$rel"
                    n_failed=$((n_failed + 1))
                fi
            else
                if [ -n "${recorded[$rel]:-}" ]; then
                    log "kept ~/$rel: changed by the user (skeleton version differs)"
                    record "${recorded[$rel]% *}" "${recorded[$rel]#* }" "$rel"
                else
                    log "kept ~/$rel: already there and differs from the skeleton (not copied by idekube)"
                fi
                n_kept=$((n_kept + 1))
            fi
        fi
    fi
done < <(find "$skel" -mindepth 1 -print0 | LC_ALL=C sort -z)

# Write the manifest atomically.
mdir=$(dirname -- "$manifest")
if mkdir -p -- "$mdir" 2>/dev/null && [ ! -L "$manifest" ]; then
    tmp="$mdir/.skel.sha256.$$.tmp"
    if { [ "${#new_manifest[@]}" -eq 0 ] || printf '%s\n' "${new_manifest[@]}"; } >"$tmp" && mv -f -- "$tmp" "$manifest"; then
        :
    else
        rm -f -- "$tmp"
        log "WARNING: could not write $manifest"
    fi
else
    log "WARNING: could not write $manifest"
fi

log "synced $skel into $home: $n_copied copied, $n_updated updated, ${n_forced} overwritten, $n_same unchanged, $n_kept kept, $n_failed failed"
[ "$n_failed" -eq 0 ]
