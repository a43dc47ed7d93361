#!/usr/bin/env bash
# R (from the Ubuntu archive) and tmate.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

apt_install tmate r-base
R --version
