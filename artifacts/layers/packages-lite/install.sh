#!/usr/bin/env bash
# Base packages of coder/lite.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=../../lib/base-system.sh
. "$(dirname "$0")/../../lib/base-system.sh"

require_var TZ

apt_install \
    ca-certificates tzdata apt-utils apt-transport-https software-properties-common gnupg \
    sudo wget curl less git htop vim rsync tmux \
    supervisor nginx openssh-server proot \
    python3 python3-pip

configure_timezone "$TZ"
configure_nginx_base
check_base_tools
