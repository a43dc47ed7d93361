#!/usr/bin/env bash
# Docker Engine (static binaries), buildx and compose plugins for Docker in Docker.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var DOCKER_CHANNEL DOCKER_VERSION BUILDX_VERSION DOCKER_COMPOSE_VERSION
here=$(dirname "$0")
arch=$(arch_deb)
gnu=$(arch_gnu)
engine_version=${DOCKER_VERSION#v}
buildx_tag="v${BUILDX_VERSION#v}"
compose_tag="v${DOCKER_COMPOSE_VERSION#v}"
plugins=/usr/local/lib/docker/cli-plugins

apt_install ca-certificates iptables kmod iproute2 pigz xz-utils e2fsprogs

# Docker's netfilter rules go through iptables-legacy, which works in more
# host kernels than the nftables backend does from inside a container.
for tool in iptables ip6tables; do
    if [ -x "/usr/sbin/${tool}-legacy" ]; then
        update-alternatives --set "$tool" "/usr/sbin/${tool}-legacy"
    else
        warn "/usr/sbin/${tool}-legacy is missing: keeping the default $tool"
    fi
done

make_workdir
fetch "https://download.docker.com/linux/static/${DOCKER_CHANNEL}/${gnu}/docker-${engine_version}.tgz" \
    "$WORK/docker.tgz" "$(arch_var DOCKER_SHA256)"
tar -xzf "$WORK/docker.tgz" -C /usr/local/bin --strip-components=1 --no-same-owner
for b in docker dockerd containerd runc; do
    [ -x "/usr/local/bin/$b" ] || die "docker-${engine_version}.tgz has no $b"
done

mkdir -p "$plugins"
fetch "https://github.com/docker/buildx/releases/download/${buildx_tag}/buildx-${buildx_tag}.linux-${arch}" \
    "$WORK/docker-buildx" "$(arch_var BUILDX_SHA256)"
install -m 0755 "$WORK/docker-buildx" "$plugins/docker-buildx"
fetch "https://github.com/docker/compose/releases/download/${compose_tag}/docker-compose-linux-${gnu}" \
    "$WORK/docker-compose" "$(arch_var DOCKER_COMPOSE_SHA256)"
install -m 0755 "$WORK/docker-compose" "$plugins/docker-compose"
ln -sfn "$plugins/docker-compose" /usr/local/bin/docker-compose

install -m 0755 "$here/files/modprobe" /usr/local/bin/modprobe
install -m 0755 "$here/files/idekube-dockerd" /usr/local/sbin/idekube-dockerd

groupadd -f --system docker
user=${USERNAME:-idekube}
if id -u "$user" >/dev/null 2>&1; then
    usermod -aG docker "$user"
else
    warn "user $user does not exist: not added to the docker group"
fi

# The CLI and plugins answer without a daemon.
HOME="$WORK" /usr/local/bin/docker --version
/usr/local/bin/dockerd --version
HOME="$WORK" /usr/local/bin/docker buildx version
HOME="$WORK" /usr/local/bin/docker compose version
