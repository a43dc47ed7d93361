#!/usr/bin/env bash
# ttyd's release binary (static) for the image's architecture, checksum pinned, and the shell it runs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var TTYD_VERSION
sha=$(arch_var TTYD_SHA256)
[ -n "$sha" ] || die "no TTYD_SHA256_$(arch_deb | tr '[:lower:]' '[:upper:]') pinned for ttyd ${TTYD_VERSION}: add the checksum of its release asset"

make_workdir
fetch "https://github.com/tsl0922/ttyd/releases/download/${TTYD_VERSION}/ttyd.$(arch_gnu)" "$WORK/ttyd" "$sha"
install -m 0755 "$WORK/ttyd" /usr/local/bin/ttyd
/usr/local/bin/ttyd --version

install_text 0755 /usr/local/bin/idekube-terminal <<'SH'
#!/bin/sh
# The shell of /terminal/: the user's login shell (IDEKUBE_PREFERRED_SHELL may have changed it), in the home.
shell=$(getent passwd "$(id -u)" | cut -d: -f7)
[ -x "${shell:-}" ] || shell=/bin/bash
cd "${HOME:-/}" 2>/dev/null || cd /
exec "$shell" -l
SH
