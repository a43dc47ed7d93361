#!/usr/bin/env bash
# noVNC v${NOVNC_VERSION} + websockify v${WEBSOCKIFY_VERSION} -> /usr/share/novnc
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var NOVNC_VERSION WEBSOCKIFY_VERSION
novnc=${NOVNC_VERSION#v}
websockify=${WEBSOCKIFY_VERSION#v}
dest=/usr/share/novnc

make_workdir
fetch "https://github.com/novnc/noVNC/archive/refs/tags/v${novnc}.tar.gz" "$WORK/novnc.tar.gz" "${NOVNC_SHA256:-}"
fetch "https://github.com/novnc/websockify/archive/refs/tags/v${websockify}.tar.gz" "$WORK/websockify.tar.gz" "${WEBSOCKIFY_SHA256:-}"

rm -rf "$dest"
mkdir -p "$dest/utils/websockify"
tar -xzf "$WORK/novnc.tar.gz" -C "$dest" --strip-components=1 --no-same-owner
tar -xzf "$WORK/websockify.tar.gz" -C "$dest/utils/websockify" --strip-components=1 --no-same-owner
[ -f "$dest/vnc.html" ] || die "noVNC v$novnc has no vnc.html"
[ -f "$dest/utils/websockify/websockify/__main__.py" ] || die "websockify v$websockify has no websockify/__main__.py"

# Only what serves the viewer and runs the proxy stays.
rm -rf "$dest/tests" "$dest/docs" "$dest/snap" "$dest/.github" \
    "$dest/utils/websockify/tests" "$dest/utils/websockify/docs" "$dest/utils/websockify/.github"
install -m 0644 "$(dirname "$0")/files/index.html" "$dest/index.html"

# websockify runs as the unprivileged user from this folder: compile its
# modules now, since it cannot write __pycache__ there later.
/usr/bin/python3 -m compileall -q "$dest/utils/websockify/websockify"
chmod -R a+rX "$dest"

(cd "$dest/utils/websockify" && /usr/bin/python3 -m websockify --help >/dev/null)
log "noVNC $novnc and websockify $websockify in $dest"
