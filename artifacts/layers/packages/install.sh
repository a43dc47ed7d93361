#!/usr/bin/env bash
# Base packages of the full images (coder/base, jupyter/base, featured/base).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=../../lib/base-system.sh
. "$(dirname "$0")/../../lib/base-system.sh"

require_var TZ

apt_install \
    ca-certificates tzdata apt-utils apt-transport-https software-properties-common gnupg \
    sudo net-tools iproute2 iputils-ping unzip xz-utils zstd wget curl less tree bison jq \
    bash-completion zsh git htop vim nano rsync tmux \
    supervisor nginx openssh-server proot \
    python3 python3-pip python3-setuptools python3-wheel python3-dev \
    build-essential cmake gdb pkg-config

configure_timezone "$TZ"
configure_nginx_base
check_base_tools
