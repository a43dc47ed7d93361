#!/usr/bin/env bash
# System-wide pip index (/etc/pip.conf is read by every pip, for every user).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

if ! is_true USE_PIP_MIRROR; then
    log "USE_PIP_MIRROR is false: pip uses its default index"
    exit 0
fi
require_var PIP_MIRROR_URL
[[ "$PIP_MIRROR_URL" =~ ^https?://[^[:space:]]+$ ]] || die "PIP_MIRROR_URL='$PIP_MIRROR_URL' is not an http(s) URL"

install_text 0644 /etc/pip.conf <<CONF
# idekube: package index for every pip in the image (USE_PIP_MIRROR=true).
[global]
index-url = $PIP_MIRROR_URL
CONF
log "pip index: $PIP_MIRROR_URL"
