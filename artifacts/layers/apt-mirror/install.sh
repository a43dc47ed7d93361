#!/usr/bin/env bash
# Replace the Ubuntu archive hosts (archive, security, ports and the country
# mirrors xx.archive.ubuntu.com) with APT_MIRROR, keeping scheme and path:
#   http://archive.ubuntu.com/ubuntu/      -> http://$APT_MIRROR/ubuntu/
#   http://ports.ubuntu.com/ubuntu-ports/  -> http://$APT_MIRROR/ubuntu-ports/
# Works on deb822 .sources files (URIs: lines) and one-line .list files alike,
# since only the URL changes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

if ! is_true USE_APT_MIRROR; then
    log "USE_APT_MIRROR is false: keeping the image's apt sources"
    exit 0
fi
require_var APT_MIRROR

mirror=${APT_MIRROR%/}
if [[ ! "$mirror" =~ ^[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]]; then
    die "APT_MIRROR='$APT_MIRROR' is not a host name (optionally with :port and /path), e.g. mirror.sjtu.edu.cn"
fi

files=()
[ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    files+=("$f")
done
shopt -u nullglob

pattern='(https?://)([a-z]{2}\.)?(archive|security|ports)\.ubuntu\.com/'
changed=0
for f in "${files[@]}"; do
    if grep -Eq "$pattern" "$f"; then
        sed -E -i "s#${pattern}#\\1${mirror}/#g" "$f"
        log "now using $mirror in $f"
        changed=$((changed + 1))
    fi
done

if [ "$changed" -eq 0 ]; then
    warn "no Ubuntu archive URL found in ${files[*]:-any apt source}: nothing changed"
fi
