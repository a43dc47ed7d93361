#!/usr/bin/env bash
# Unit tests of artifacts/runtime/lib/home-sync.sh (the non-clobbering /etc/skel
# sync). Self-contained; TAP output; exit 1 on failure. Needs no root; when run
# as root it also checks that a run as another uid leaves files owned by it.
set -uo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
sync=$(cd -- "$here/../../.." && pwd)/artifacts/runtime/lib/home-sync.sh
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    printf 'not ok %d - %s\n' "$n" "$1"
    [ $# -gt 1 ] && printf '#   %s\n' "${@:2}"
}
check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name" "failed: $*" "log: $(tail -5 "$work/log" 2>/dev/null)"; fi
}
run_sync() { bash "$sync" "$skel" "$home" >"$work/out" 2>"$work/log"; }
logged() { grep -qF -- "$1" "$work/log"; }

skel=$work/skel
home=$work/home
mkdir -p "$skel/.config/xfce4" "$skel/dir with space" "$home"
printf 'bashrc v1\n' >"$skel/.bashrc"
printf 'profile v1\n' >"$skel/.profile"
printf 'panel v1\n' >"$skel/.config/xfce4/panel.xml"
printf 'x\n' >"$skel/dir with space/file with space"
printf '#!/bin/sh\n' >"$skel/.local-script"
chmod 750 "$skel/.local-script"
chmod 700 "$skel/.config"
ln -s /usr/share/backgrounds/idekube.png "$skel/.wallpaper"
ln -s .config/xfce4 "$skel/xfce-link"

# 1. empty home
run_sync
check "empty home: sync succeeds" [ $? -eq 0 ]
check "empty home: files copied" cmp -s "$skel/.bashrc" "$home/.bashrc"
check "empty home: nested file copied" cmp -s "$skel/.config/xfce4/panel.xml" "$home/.config/xfce4/panel.xml"
check "empty home: names with spaces" [ -f "$home/dir with space/file with space" ]
check "empty home: file mode kept" [ "$(stat -c %a "$home/.local-script")" = 750 ]
check "empty home: folder mode kept" [ "$(stat -c %a "$home/.config")" = 700 ]
check "empty home: absolute symlink preserved as a link" [ "$(readlink "$home/.wallpaper")" = /usr/share/backgrounds/idekube.png ]
check "empty home: relative symlink preserved as a link" [ "$(readlink "$home/xfce-link")" = .config/xfce4 ]
manifest=$home/.local/state/idekube/skel.sha256
check "manifest written" [ -s "$manifest" ]
check "manifest records .bashrc's hash" grep -q "^f	$(sha256sum <"$skel/.bashrc" | cut -d' ' -f1)	.bashrc$" "$manifest"
check "manifest records the link" grep -q "^l	[0-9a-f]*	.wallpaper$" "$manifest"
check "summary line" logged "7 copied, 0 updated, 0 overwritten, 0 unchanged, 0 kept, 0 failed"

# 2. second run: nothing to do
run_sync
check "second run: all unchanged" logged "0 copied, 0 updated, 0 overwritten, 7 unchanged, 0 kept, 0 failed"

# 3. the user edits .bashrc, the image ships a new skel .bashrc and .profile
printf 'my own bashrc\n' >"$home/.bashrc"
printf 'bashrc v2\n' >"$skel/.bashrc"
printf 'profile v2\n' >"$skel/.profile"
run_sync
check "user-changed file is kept" [ "$(cat "$home/.bashrc")" = "my own bashrc" ]
check "kept file is logged" logged "kept ~/.bashrc: changed by the user"
check "untouched file is updated to the new skeleton" [ "$(cat "$home/.profile")" = "profile v2" ]
check "update is logged" logged "updated ~/.profile"
check "manifest keeps the OLD hash of the kept file" grep -q "^f	$(printf 'bashrc v1\n' | sha256sum | cut -d' ' -f1)	.bashrc$" "$manifest"

# 4. next run: still kept (the user's change is never overwritten later)
run_sync
check "kept again on the next run" [ "$(cat "$home/.bashrc")" = "my own bashrc" ]

# 5. the user reverts to exactly the skeleton version: from then on tracked again
printf 'bashrc v2\n' >"$home/.bashrc"
run_sync
printf 'bashrc v3\n' >"$skel/.bashrc"
run_sync
check "file equal to skeleton is tracked again and later updated" [ "$(cat "$home/.bashrc")" = "bashrc v3" ]

# 6. a deleted file comes back
rm "$home/.config/xfce4/panel.xml"
run_sync
check "a file missing from the home is copied again" [ -f "$home/.config/xfce4/panel.xml" ]

# 7. a file that was there before idekube (no manifest entry) is kept
rm -f "$manifest"
printf 'pre-existing\n' >"$home/.profile"
run_sync
check "pre-existing differing file without a record is kept" [ "$(cat "$home/.profile")" = pre-existing ]
check "logged as not copied by idekube" logged "kept ~/.profile: already there and differs"

# 8. the user replaced a file by a link, a link by a file, a folder by a file
rm "$home/.profile" && ln -s /etc/hostname "$home/.profile"
rm "$home/.wallpaper" && printf 'mine\n' >"$home/.wallpaper"
rm -rf "$home/dir with space" && printf 'file now\n' >"$home/dir with space"
run_sync
check "file replaced by a link: link kept" [ "$(readlink "$home/.profile")" = /etc/hostname ]
check "link replaced by a file: file kept" [ "$(cat "$home/.wallpaper")" = mine ]
check "folder replaced by a file: file kept, no crash" [ "$(cat "$home/dir with space")" = "file now" ]
check "…and the run still succeeds" [ "$(tail -1 "$work/log" | grep -c '0 failed')" = 1 ]

# 9. a link target changed in the skeleton, the user's link untouched -> updated
rm -f "$skel/.wallpaper" && ln -s /usr/share/backgrounds/other.png "$skel/.wallpaper"
rm -f "$home/.wallpaper"
run_sync # re-creates it with the new target
rm -f "$skel/.wallpaper" && ln -s /usr/share/backgrounds/third.png "$skel/.wallpaper"
run_sync
check "untouched link follows the skeleton's new target" [ "$(readlink "$home/.wallpaper")" = /usr/share/backgrounds/third.png ]

# 10. IDEKUBE_INIT_HOME=force: the user's changes are overwritten, as the original images did
printf 'my own bashrc\n' >"$home/.bashrc"
rm -f "$home/.wallpaper" && ln -s /somewhere/else "$home/.wallpaper"
IDEKUBE_HOME_SYNC_FORCE=1 bash "$sync" "$skel" "$home" >"$work/out" 2>"$work/log"
check "force: succeeds" [ $? -eq 0 ]
check "force: the user's file is overwritten" cmp -s "$skel/.bashrc" "$home/.bashrc"
check "force: the user's link is replaced" [ "$(readlink "$home/.wallpaper")" = /usr/share/backgrounds/third.png ]
check "force: logged as overwritten" logged "overwrote ~/.bashrc (IDEKUBE_INIT_HOME=force)"
run_sync
check "after force: a normal run keeps everything" logged "0 copied, 0 updated, 0 overwritten,"

# 11. usage errors
bash "$sync" "$skel" 2>"$work/log"
check "usage error exits 2" [ $? -eq 2 ]
bash "$sync" "$work/nope" "$home" 2>"$work/log"
check "missing skeleton is not an error" [ $? -eq 0 ]

# 12. as another uid: files end up owned by it
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
    h2=$work/home2
    mkdir -p "$h2" && chown 4242:4242 "$h2"
    chmod 755 "$work"
    chmod -R a+rX "$skel"
    setpriv --reuid=4242 --regid=4242 --clear-groups bash "$sync" "$skel" "$h2" 2>"$work/log"
    check "as uid 4242: succeeds" [ $? -eq 0 ]
    others=$(find "$h2" ! -uid 4242 | wc -l)
    check "as uid 4242: every file and link owned by 4242" [ "$others" -eq 0 ]
else
    ok "# SKIP ownership check needs root and setpriv"
fi

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
