#!/usr/bin/env bash
# tini release binary (tini-static-amd64 / tini-static-arm64) -> /usr/local/bin/tini
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var TINI_VERSION
version=${TINI_VERSION#v}
asset="tini-static-$(arch_deb)"
base="https://github.com/krallin/tini/releases/download/v${version}"
sha=$(arch_var TINI_SHA256)

make_workdir
if [ -z "$sha" ]; then
    # No pinned checksum: at least check the one published with the release.
    fetch "$base/$asset.sha256sum" "$WORK/$asset.sha256sum"
    sha=$(awk 'NR == 1 { print $1 }' "$WORK/$asset.sha256sum")
fi
fetch "$base/$asset" "$WORK/$asset" "$sha"
install -m 0755 "$WORK/$asset" /usr/local/bin/tini

/usr/local/bin/tini --version
