#!/usr/bin/env bash
# SPEIT course tools from the Ubuntu archive.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

apt_install \
    tmate net-tools traceroute dnsutils iputils-ping \
    build-essential gcc clang lldb gdb gperf flex bison autoconf cmake ninja-build meson \
    libncurses-dev libreadline-dev \
    graphviz ghdl openjdk-8-jre wxmaxima
