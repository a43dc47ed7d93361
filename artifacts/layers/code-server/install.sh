#!/usr/bin/env bash
# code-server release tarball -> /usr/lib/code-server, /usr/local/bin/code-server
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var CODER_VERSION
version=${CODER_VERSION#v}
asset="code-server-${version}-linux-$(arch_deb).tar.gz"

make_workdir
fetch "https://github.com/coder/code-server/releases/download/v${version}/${asset}" "$WORK/$asset" "$(arch_var CODER_SHA256)"

rm -rf /usr/lib/code-server
mkdir -p /usr/lib/code-server
tar -xzf "$WORK/$asset" -C /usr/lib/code-server --strip-components=1 --no-same-owner
[ -x /usr/lib/code-server/bin/code-server ] || die "$asset has no bin/code-server"
ln -sfn /usr/lib/code-server/bin/code-server /usr/local/bin/code-server

# A scratch HOME keeps the check from leaving state in /root.
HOME="$WORK" XDG_CONFIG_HOME="$WORK" XDG_DATA_HOME="$WORK" /usr/local/bin/code-server --version
