#!/usr/bin/env bash
# Node.js (node-v${NODE_VERSION}-linux-{x64,arm64}.tar.xz) -> /usr/local, then the agent CLIs from npm, pinned.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var NODE_VERSION CLAUDE_CODE_VERSION OPENCODE_VERSION
node_version=${NODE_VERSION#v}
# Exact releases only: nothing here may follow "latest", a dist-tag or a range.
for pin in "NODE_VERSION=$node_version" "CLAUDE_CODE_VERSION=$CLAUDE_CODE_VERSION" "OPENCODE_VERSION=$OPENCODE_VERSION"; do
    [[ "${pin#*=}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "${pin%%=*}='${pin#*=}' must be an exact version (x.y.z), not a tag or a range"
done
case "$(arch_deb)" in
    amd64) node_arch=x64 ;;
    arm64) node_arch=arm64 ;;
esac
asset="node-v${node_version}-linux-${node_arch}.tar.xz"

command -v xz >/dev/null 2>&1 || apt_install xz-utils

make_workdir
fetch "https://nodejs.org/dist/v${node_version}/${asset}" "$WORK/$asset" "$(arch_var NODE_SHA256)"
# bin/ include/ lib/ share/ into /usr/local (node, npm and npx in /usr/local/bin, global packages in
# /usr/local/lib/node_modules, their commands in /usr/local/bin: on every PATH, login shells included).
top=${asset%.tar.xz}
tar -xJf "$WORK/$asset" -C /usr/local --strip-components=1 --no-same-owner \
    --exclude="$top/CHANGELOG.md" --exclude="$top/LICENSE" --exclude="$top/README.md"
got=$(/usr/local/bin/node --version)
[ "$got" = "v${node_version}" ] || die "node --version says $got, not v${node_version}"
log "Node.js $got, npm $(HOME="$WORK" /usr/local/bin/npm --version)"

# npm's cache and logs stay in the work folder; nothing is left in root's home.
HOME="$WORK" npm_config_cache="$WORK/npm-cache" npm_config_update_notifier=false \
    /usr/local/bin/npm install --global --no-fund --no-audit \
    "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" "opencode-ai@${OPENCODE_VERSION}"

for cli in claude opencode; do
    command -v "$cli" >/dev/null 2>&1 || die "npm installed no $cli command"
done
log "claude: $(HOME="$WORK" DISABLE_AUTOUPDATER=1 claude --version)"
log "opencode: $(HOME="$WORK" OPENCODE_DISABLE_AUTOUPDATE=true opencode --version)"
