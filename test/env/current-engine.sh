# shellcheck shell=bash
# The current Docker Engine for the integration tests, beside bookworm's dockerd 20.10 (sourced by setup.sh).
#
# Maintainers run Docker 27/28 with the containerd image store and a current buildx; Debian 12 ships 20.10 and no
# buildx. So the tests also run against dockerd 28 + containerd 2 + buildx 0.29 from Debian unstable, pinned
# below, fetched with a private apt configuration (the archive URI taken from the host's own apt sources) and
# unpacked with dpkg-deb -x under ENGINE2_PREFIX: nothing is installed over bookworm's packages. bookworm's runc
# serves both daemons (unstable's needs glibc 2.38).
#
# The daemon has its own containerd, socket, data root, exec root, PID file and bridge (ENGINE2_BRIDGE, made here
# with ip link: a second daemon started with `--bridge none` deleted docker0 under the first one). It manages no
# iptables itself (the first daemon does, with FORWARD policy DROP): this script adds one MASQUERADE rule and two
# FORWARD ACCEPT rules for its bridge, each only when missing.

ENGINE2_DOCKER_VERSION=28.5.2+dfsg4-5
ENGINE2_CONTAINERD_VERSION=2.1.9+ds1-5
ENGINE2_BUILDX_VERSION=0.29.1+ds1-4
ENGINE2_PACKAGES=("docker.io=$ENGINE2_DOCKER_VERSION" "docker-cli=$ENGINE2_DOCKER_VERSION"
  "containerd=$ENGINE2_CONTAINERD_VERSION" "docker-buildx=$ENGINE2_BUILDX_VERSION")

ENGINE2_PREFIX=/opt/idekube-test-engine
ENGINE2_STATE=${STATE_DIR:-/var/lib/idekube-test}/engine2
ENGINE2_RUN=/run/idekube-test-engine
ENGINE2_SOCK=$ENGINE2_RUN/docker.sock
ENGINE2_HOST=unix://$ENGINE2_SOCK
ENGINE2_CONTAINERD_SOCK=$ENGINE2_RUN/containerd.sock
ENGINE2_LOG=/var/log/idekube-dockerd-current.log
ENGINE2_CONTAINERD_LOG=/var/log/idekube-containerd-current.log
# The Docker CLI config the tests use with this engine: the buildx plugin lives in its cli-plugins folder.
ENGINE2_DOCKER_CONFIG=$ENGINE2_STATE/docker-config
ENGINE2_BRIDGE=ikbr-current
ENGINE2_BRIDGE_CIDR=10.251.0.1/24
ENGINE2_SUBNET=10.251.0.0/24

engine2_bin() { printf '%s/usr/%s' "$ENGINE2_PREFIX" "$1"; }
engine2_docker() { DOCKER_CONFIG=$ENGINE2_DOCKER_CONFIG DOCKER_HOST=$ENGINE2_HOST "$(engine2_bin bin/docker)" "$@"; }
engine2_ok() { timeout 10 env DOCKER_CONFIG="$ENGINE2_DOCKER_CONFIG" DOCKER_HOST="$ENGINE2_HOST" "$(engine2_bin bin/docker)" info >/dev/null 2>&1; }

# The archive URI of the host's Debian sources (first deb822 or one-line entry for the main archive).
engine2_archive_uri() {
  local uri=''
  uri=$(awk 'tolower($1) == "uris:" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n $uri ]] || uri=$(grep -hE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -v security | sed -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/' | head -n1 || true)
  [[ -n $uri ]] || ik_die "no Debian archive in the host's apt sources; cannot fetch the current engine"
  printf '%s' "$uri"
}

engine2_unpacked() {
  [[ -f $ENGINE2_PREFIX/.versions && $(cat "$ENGINE2_PREFIX/.versions") == "${ENGINE2_PACKAGES[*]}" ]]
}

engine2_fetch() {
  engine2_unpacked && { ik_log "current engine unpacked in $ENGINE2_PREFIX (${ENGINE2_PACKAGES[*]})"; return 0; }
  local apt=$CACHE_DIR/apt-unstable
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s unstable main\n' "$(engine2_archive_uri)" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root -q)
  local log=$apt/apt.log
  if ! (cd "$apt/debs" && timeout 300 apt-get "${opts[@]}" update && timeout 600 apt-get "${opts[@]}" download "${ENGINE2_PACKAGES[@]}") >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    ik_die "could not fetch ${ENGINE2_PACKAGES[*]} from Debian unstable (a pinned version may have left the archive: update the pins in test/env/current-engine.sh); log: $log"
  fi
  rm -rf "$ENGINE2_PREFIX.tmp"
  mkdir -p "$ENGINE2_PREFIX.tmp"
  local p name ver deb
  for p in "${ENGINE2_PACKAGES[@]}"; do
    name=${p%%=*} ver=${p#*=}
    deb=$(find "$apt/debs" -maxdepth 1 -name "${name}_${ver//:/%3a}_*.deb" | head -n1)
    [[ -n $deb ]] || ik_die "apt-get download left no .deb for $p in $apt/debs"
    dpkg-deb -x "$deb" "$ENGINE2_PREFIX.tmp"
  done
  printf '%s\n' "${ENGINE2_PACKAGES[*]}" >"$ENGINE2_PREFIX.tmp/.versions"
  rm -rf "$ENGINE2_PREFIX"
  mv "$ENGINE2_PREFIX.tmp" "$ENGINE2_PREFIX"
  rm -f "$apt"/debs/*.deb
  ik_log "current engine unpacked in $ENGINE2_PREFIX: ${ENGINE2_PACKAGES[*]}"
}

engine2_bridge() {
  if ! ip link show "$ENGINE2_BRIDGE" >/dev/null 2>&1; then
    ip link add name "$ENGINE2_BRIDGE" type bridge || ik_die "cannot create bridge $ENGINE2_BRIDGE"
    ip addr add "$ENGINE2_BRIDGE_CIDR" dev "$ENGINE2_BRIDGE"
  fi
  ip link set "$ENGINE2_BRIDGE" up
  iptables -t nat -C POSTROUTING -s "$ENGINE2_SUBNET" ! -o "$ENGINE2_BRIDGE" -j MASQUERADE 2>/dev/null ||
    iptables -t nat -A POSTROUTING -s "$ENGINE2_SUBNET" ! -o "$ENGINE2_BRIDGE" -j MASQUERADE
  iptables -C FORWARD -i "$ENGINE2_BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$ENGINE2_BRIDGE" -j ACCEPT
  iptables -C FORWARD -o "$ENGINE2_BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -o "$ENGINE2_BRIDGE" -j ACCEPT
}

engine2_containerd_ok() { timeout 5 "$(engine2_bin bin/ctr)" --address "$ENGINE2_CONTAINERD_SOCK" version >/dev/null 2>&1; }

engine2_start_containerd() {
  engine2_containerd_ok && return 0
  mkdir -p "$ENGINE2_STATE/containerd" "$ENGINE2_RUN"
  cat >"$ENGINE2_STATE/containerd.toml" <<EOF
version = 3
root = "$ENGINE2_STATE/containerd"
state = "$ENGINE2_RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ENGINE2_CONTAINERD_SOCK"
[ttrpc]
  address = "$ENGINE2_CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
  ik_log "starting containerd $ENGINE2_CONTAINERD_VERSION (log $ENGINE2_CONTAINERD_LOG)"
  # its shim comes from PATH: the unpacked one first; runc is bookworm's
  PATH=$(engine2_bin bin):$(engine2_bin sbin):$PATH ik_spawn_detached "$ENGINE2_RUN/containerd.pid" "$ENGINE2_CONTAINERD_LOG" \
    "$(engine2_bin bin/containerd)" --config "$ENGINE2_STATE/containerd.toml"
  ik_wait_until 30 "containerd on $ENGINE2_CONTAINERD_SOCK" engine2_containerd_ok ||
    { tail -n 20 "$ENGINE2_CONTAINERD_LOG" >&2; ik_die "containerd did not answer within 30s"; }
}

engine2_docker_config() {
  mkdir -p "$ENGINE2_DOCKER_CONFIG/cli-plugins"
  ln -sfn "$(engine2_bin libexec/docker/cli-plugins/docker-buildx)" "$ENGINE2_DOCKER_CONFIG/cli-plugins/docker-buildx"
  [[ -f $ENGINE2_DOCKER_CONFIG/config.json ]] || printf '{}\n' >"$ENGINE2_DOCKER_CONFIG/config.json"
}

step_current_engine() {
  engine2_fetch
  engine2_docker_config
  if engine2_ok; then
    ik_log "current engine answers on $ENGINE2_SOCK"
    return 0
  fi
  engine2_bridge
  engine2_start_containerd
  mkdir -p "$ENGINE2_STATE/docker" "$ENGINE2_RUN/exec"
  printf '{"features": {"containerd-snapshotter": true}}\n' >"$ENGINE2_STATE/daemon.json"
  ik_log "starting dockerd $ENGINE2_DOCKER_VERSION on $ENGINE2_SOCK (log $ENGINE2_LOG)"
  printf '\n==== %s idekube test/env/setup.sh starts the current dockerd\n' "$(date -u +%FT%TZ)" >>"$ENGINE2_LOG"
  PATH=$(engine2_bin bin):$(engine2_bin sbin):$PATH ik_spawn_detached /dev/null "$ENGINE2_LOG" \
    "$(engine2_bin sbin/dockerd)" -H "$ENGINE2_HOST" --config-file "$ENGINE2_STATE/daemon.json" \
    --data-root "$ENGINE2_STATE/docker" --exec-root "$ENGINE2_RUN/exec" --pidfile "$ENGINE2_RUN/docker.pid" \
    --containerd "$ENGINE2_CONTAINERD_SOCK" --bridge "$ENGINE2_BRIDGE" --iptables=false --ip6tables=false \
    --userland-proxy-path "$(engine2_bin sbin/docker-proxy)"
  if ! ik_wait_until 60 "dockerd on $ENGINE2_SOCK" engine2_ok; then
    tail -n 30 "$ENGINE2_LOG" >&2 || true
    ik_die "the current dockerd did not answer within 60s; see $ENGINE2_LOG"
  fi
  local store
  store=$(engine2_docker info --format '{{.DriverStatus}}')
  [[ $store == *io.containerd.snapshotter* ]] || ik_die "the current dockerd runs without the containerd image store: $store"
  ik_log "current engine up: dockerd $(engine2_docker version --format '{{.Server.Version}}'), $(engine2_docker buildx version | cut -d' ' -f1,2), image store $store"
}
