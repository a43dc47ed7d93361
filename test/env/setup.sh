#!/usr/bin/env bash
# Prepare this machine (Debian 12, root) for idekube's integration tests. Idempotent: a re-run on a
# prepared machine only checks, in a few seconds.
#
#   1. Debian packages (apt-get update + install --no-install-recommends, only when something is missing)
#   2. arm64 emulation: binfmt_misc mounted, qemu-aarch64 enabled with the F (fix-binary) flag
#   3. dockerd (Debian's docker.io 20.10) in the background, log /var/log/idekube-dockerd.log
#   4. Debian's docker-registry on 127.0.0.1:5000 only, state under /var/lib/idekube-test/registry
#   5. Debian bookworm base images for linux/amd64 + linux/arm64 made with mmdebstrap from the host's apt
#      sources, tagged 127.0.0.1:5000/idekube-test/debian:bookworm-{amd64,arm64}, pushed, and joined into
#      the manifest list 127.0.0.1:5000/idekube-test/debian:bookworm
#   6. facts for the tests in /var/lib/idekube-test/env.sh (KEY=value lines), also printed on stdout
#
# Progress goes to stderr; the summary (env.sh contents + timings) goes to stdout.
# Environment overrides: IDEKUBE_TEST_DOCKERD_FLAGS (extra dockerd flags, space separated),
# IDEKUBE_TEST_APT_SOURCES (apt sources file for mmdebstrap instead of the host's bookworm entries),
# IDEKUBE_TEST_REGISTRY_PORT + IDEKUBE_TEST_STATE_DIR (a second, separate environment: other loopback
# port, other env.sh/registry state; the rootfs cache in /var/cache/idekube-test is shared).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
# shellcheck source=current-engine.sh source-path=SCRIPTDIR
. "$here/current-engine.sh"

# ---------------------------------------------------------------------------------------------------
# Settings (extend the arrays; the rootfs cache is keyed on them)

# Host packages. Keep them in this one list.
APT_PACKAGES=(
  docker.io docker-registry
  qemu-user-static binfmt-support arch-test mmdebstrap
  shellcheck curl jq ca-certificates openssh-client e2fsprogs util-linux iproute2
  qemu-utils qemu-system-x86 qemu-system-arm cloud-image-utils genisoimage
  chromium
  supervisor   # the runtime unit tests parse generated supervisord configs (no service is started)
)

SUITE=bookworm
ARCHES=(amd64 arm64)
# minbase = Essential + apt + Priority:required: the same set as the official debian image.
ROOTFS_VARIANT=minbase
# Extra packages baked into the base rootfs (comma-joined into --include). Empty like the official
# image; ca-certificates is added automatically when the host's apt sources use https.
ROOTFS_PACKAGES=()
# merged-/usr via symlinks (as debootstrap does) instead of installing usrmerge+perl.
ROOTFS_HOOK_DIRS=(/usr/share/mmdebstrap/hooks/merged-usr)
# Bump to force a rebuild of the cached rootfs tarballs and images.
ROOTFS_RECIPE=1

STATE_DIR=${IDEKUBE_TEST_STATE_DIR:-/var/lib/idekube-test}
CACHE_DIR=/var/cache/idekube-test
ENV_FILE=$STATE_DIR/env.sh
DOCKERD_LOG=/var/log/idekube-dockerd.log
REGISTRY_PORT=${IDEKUBE_TEST_REGISTRY_PORT:-5000}
ik_valid_port "$REGISTRY_PORT" || ik_die "IDEKUBE_TEST_REGISTRY_PORT=$REGISTRY_PORT is not a port"
REGISTRY=127.0.0.1:$REGISTRY_PORT
REGISTRY_DIR=$STATE_DIR/registry
if [[ $REGISTRY_PORT == 5000 ]]; then
  REGISTRY_LOG=/var/log/idekube-registry.log
else
  REGISTRY_LOG=$REGISTRY_DIR/registry.log
fi
REPO=idekube-test/debian
BASE_IMAGE=$REGISTRY/$REPO:$SUITE
# Debian's client: it has the built-in BuildKit builder. /usr/local/bin/docker (28.x) has no buildx,
# so `DOCKER_BUILDKIT=1 docker build` fails with it.
DOCKER=/usr/bin/docker
export DOCKER_HOST=unix:///var/run/docker.sock
unset DOCKER_CONTEXT DOCKER_CONFIG 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive

MT_LIST=application/vnd.docker.distribution.manifest.list.v2+json
MT_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
KEY_LABEL=io.idekube.test.rootfs-key

# ---------------------------------------------------------------------------------------------------
TIMINGS=()
run_step() {
  local name=$1 t0=$SECONDS
  shift
  ik_log "== ${name}"
  "$@"
  TIMINGS+=("$(printf '%-14s %4ss' "$name" "$((SECONDS - t0))")")
}

# ---------------------------------------------------------------------------------------------------
# 1. packages

step_packages() {
  local missing=() p st
  for p in "${APT_PACKAGES[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $st == installed ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    ik_log "all ${#APT_PACKAGES[@]} packages installed"
    return 0
  fi
  ik_log "installing: ${missing[*]}"
  local log=$STATE_DIR/apt.log
  # Keep maintainer scripts from starting services (docker, docker-registry) on their own ports.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  local rc=0
  {
    timeout 300 apt-get update -q &&
      timeout 1500 apt-get install -y -q --no-install-recommends "${missing[@]}"
  } >"$log" 2>&1 || rc=$?
  ((own_policy)) && rm -f "$policy"
  if ((rc != 0)); then
    tail -n 25 "$log" >&2
    ik_die "apt-get failed (exit $rc); full log: $log"
  fi
}

# ---------------------------------------------------------------------------------------------------
# 2. binfmt

step_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if [[ ! -e $dir/register ]]; then
    mount -t binfmt_misc binfmt_misc "$dir" || ik_die "cannot mount binfmt_misc on $dir"
  fi
  # A registration without F (fix-binary) cannot run inside containers: drop it and re-register.
  if [[ -e $entry ]] && ! grep -q '^flags:.*F' "$entry"; then
    ik_log "qemu-aarch64 registered without the F flag; re-registering"
    echo -1 >"$entry"
  fi
  if [[ ! -e $entry ]] || [[ $(head -n1 "$entry") != enabled ]]; then
    if ! update-binfmts --enable qemu-aarch64 >/dev/null 2>&1; then
      update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
      update-binfmts --enable qemu-aarch64 || ik_die "update-binfmts --enable qemu-aarch64 failed"
    fi
  fi
  [[ -e $entry && $(head -n1 "$entry") == enabled ]] || ik_die "binfmt qemu-aarch64 is not enabled ($entry)"
  grep -q '^flags:.*F' "$entry" || ik_die "binfmt qemu-aarch64 lacks the F flag: $(grep '^flags' "$entry")"
  local interp
  interp=$(awk '/^interpreter/{print $2}' "$entry")
  [[ -x $interp ]] || ik_die "binfmt interpreter $interp is missing"
  ik_log "qemu-aarch64 enabled, $(grep '^flags' "$entry"), interpreter $interp"
}

# ---------------------------------------------------------------------------------------------------
# 3. dockerd

docker_ok() { timeout 10 "$DOCKER" info >/dev/null 2>&1; }

# A second dockerd started anywhere on this host with `--bridge none` deletes docker0 under the running
# daemon, and every later `docker run` fails with "could not find bridge docker0". Put it back.
repair_docker0() {
  ip link show docker0 >/dev/null 2>&1 && return 0
  local name gw subnet
  name=$("$DOCKER" network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null) || return 0
  [[ $name == docker0 ]] || return 0
  gw=$("$DOCKER" network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
  subnet=$("$DOCKER" network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}')
  [[ -n $gw && $subnet == */* ]] || ik_die "docker0 is missing and the bridge network has no IPAM config; restart dockerd"
  ik_log "WARNING: docker0 vanished under the running dockerd; re-creating it ($gw/${subnet#*/})"
  if ! { ip link add name docker0 type bridge && ip addr add "$gw/${subnet#*/}" dev docker0 && ip link set docker0 up; }; then
    ik_die "could not re-create docker0; restart dockerd"
  fi
}

step_dockerd() {
  if docker_ok; then
    ik_log "dockerd answers on /var/run/docker.sock"
    repair_docker0
    return 0
  fi
  local pid=''
  [[ -f /var/run/docker.pid ]] && pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
    ik_log "dockerd (pid $pid) is running but not answering yet; waiting"
  else
    local flags=()
    # shellcheck disable=SC2206  # word splitting of the override is intended
    [[ -n ${IDEKUBE_TEST_DOCKERD_FLAGS:-} ]] && flags=(${IDEKUBE_TEST_DOCKERD_FLAGS})
    ik_log "starting dockerd ${flags[*]:-} (log $DOCKERD_LOG)"
    printf '\n==== %s idekube test/env/setup.sh starts dockerd %s\n' "$(date -u +%FT%TZ)" "${flags[*]:-}" >>"$DOCKERD_LOG"
    ik_spawn_detached /dev/null "$DOCKERD_LOG" dockerd "${flags[@]}"
  fi
  if ! ik_wait_until 60 "dockerd on /var/run/docker.sock" docker_ok; then
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    ik_die "dockerd did not answer within 60s; see $DOCKERD_LOG"
  fi
  ik_log "dockerd $("$DOCKER" version --format '{{.Server.Version}}') up, storage driver $("$DOCKER" info --format '{{.Driver}}')"
}

# ---------------------------------------------------------------------------------------------------
# 4. registry

step_registry() {
  if ik_http_ok "http://$REGISTRY/v2/"; then
    local pid
    pid=$(cat "$REGISTRY_DIR/registry.pid" 2>/dev/null || true)
    if ik_pid_is_registry "$pid"; then
      ik_log "registry answers on $REGISTRY (pid $pid)"
    else
      ik_log "WARNING: something else answers on $REGISTRY/v2/ (not started by this script); using it"
    fi
    return 0
  fi
  ik_registry_start "$REGISTRY_PORT" "$REGISTRY_DIR" "$REGISTRY_LOG" >/dev/null
}

# ---------------------------------------------------------------------------------------------------
# 5. base images

# Bookworm entries of the host's apt sources (so mmdebstrap names no mirror itself). Sets
# SOURCES_FILES to the file paths to pass as MIRROR arguments.
host_sources_files() {
  SOURCES_FILES=()
  if [[ -n ${IDEKUBE_TEST_APT_SOURCES:-} ]]; then
    [[ -r $IDEKUBE_TEST_APT_SOURCES ]] || ik_die "IDEKUBE_TEST_APT_SOURCES=$IDEKUBE_TEST_APT_SOURCES is not readable"
    SOURCES_FILES=("$IDEKUBE_TEST_APT_SOURCES")
    return 0
  fi
  local deb822=$CACHE_DIR/host-apt-$SUITE.sources oneline=$CACHE_DIR/host-apt-$SUITE.list f
  : >"$deb822.tmp"
  : >"$oneline.tmp"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    # paragraph mode: keep enabled "deb" stanzas whose Suites include SUITE or SUITE-*
    awk -v suite="$SUITE" '
      BEGIN { RS = ""; ORS = "\n\n" }
      {
        n = split($0, lines, "\n"); out = ""; suites = 0; deb = 0; off = 0
        for (i = 1; i <= n; i++) {
          l = lines[i]
          if (l ~ /^[ \t]*#/) continue
          out = out l "\n"
          if (tolower(l) ~ /^suites:/ && (" " substr(l, 8) " ") ~ ("[ \t]" suite "(-[a-z]+)?[ \t]")) suites = 1
          if (tolower(l) ~ /^types:/ && (" " substr(l, 7) " ") ~ /[ \t]deb[ \t]/) deb = 1
          if (tolower(l) ~ /^enabled:[ \t]*no/) off = 1
        }
        if (suites && deb && !off) printf "%s\n", out
      }' "$f" >>"$deb822.tmp"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    grep -E "^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+[[:space:]]+${SUITE}(-[a-z]+)?[[:space:]]" "$f" >>"$oneline.tmp" || true
  done
  if [[ -s $deb822.tmp ]]; then
    mv -f "$deb822.tmp" "$deb822"
    SOURCES_FILES+=("$deb822")
  else
    rm -f "$deb822.tmp" "$deb822"
  fi
  if [[ -s $oneline.tmp ]]; then
    mv -f "$oneline.tmp" "$oneline"
    SOURCES_FILES+=("$oneline")
  else
    rm -f "$oneline.tmp" "$oneline"
  fi
  ((${#SOURCES_FILES[@]})) || ik_die "no enabled '$SUITE' entries in the host's apt sources (/etc/apt/sources.list*); set IDEKUBE_TEST_APT_SOURCES=<file>"
}

SOURCES_FILES=()
ROOTFS_INCLUDE=()
declare -A ROOTFS_KEY=()

compute_keys() {
  host_sources_files
  ROOTFS_INCLUDE=("${ROOTFS_PACKAGES[@]}")
  if grep -qE 'https://' "${SOURCES_FILES[@]}"; then
    ROOTFS_INCLUDE+=(ca-certificates)
  fi
  local arch sorted
  sorted=$(printf '%s\n' "${ROOTFS_INCLUDE[@]}" | sort -u | paste -sd, -)
  for arch in "${ARCHES[@]}"; do
    ROOTFS_KEY[$arch]=$(
      {
        printf 'recipe=%s suite=%s arch=%s variant=%s include=%s hooks=%s\n' \
          "$ROOTFS_RECIPE" "$SUITE" "$arch" "$ROOTFS_VARIANT" "$sorted" "${ROOTFS_HOOK_DIRS[*]}"
        cat "${SOURCES_FILES[@]}"
      } | sha256sum | cut -c1-16
    )
  done
}

rootfs_path() { printf '%s/rootfs-%s-%s.tar' "$CACHE_DIR" "$SUITE" "$1"; }

rootfs_cached() {
  local tar
  tar=$(rootfs_path "$1")
  [[ -s $tar && -f $tar.key && $(cat "$tar.key") == "${ROOTFS_KEY[$1]}" ]]
}

build_rootfs() {
  local arch=$1 tar log tmp
  tar=$(rootfs_path "$arch")
  log=$CACHE_DIR/mmdebstrap-$arch.log
  tmp=$tar.tmp
  rm -f "$tmp"
  local args=(--variant="$ROOTFS_VARIANT" --architectures="$arch" --format=tar)
  local h
  for h in "${ROOTFS_HOOK_DIRS[@]}"; do args+=(--hook-dir="$h"); done
  if ((${#ROOTFS_INCLUDE[@]})); then
    args+=(--include="$(printf '%s\n' "${ROOTFS_INCLUDE[@]}" | sort -u | paste -sd, -)")
  fi
  local t0=$SECONDS
  if ! timeout 900 mmdebstrap "${args[@]}" "$SUITE" "$tmp" "${SOURCES_FILES[@]}" >"$log" 2>&1; then
    rm -f "$tmp"
    tail -n 20 "$log" >&2
    ik_die "mmdebstrap $SUITE $arch failed or ran over 900s; full log: $log"
  fi
  mv -f "$tmp" "$tar"
  printf '%s\n' "${ROOTFS_KEY[$arch]}" >"$tar.key"
  ik_log "rootfs $arch built in $((SECONDS - t0))s: $tar ($(du -m "$tar" | cut -f1) MiB)"
}

arch_tag() { printf '%s:%s-%s' "$REGISTRY/$REPO" "$SUITE" "$1"; }

local_image_ok() {
  local arch=$1 got
  got=$("$DOCKER" image inspect --format "{{.Os}}/{{.Architecture}} {{index .Config.Labels \"$KEY_LABEL\"}}" \
    "$(arch_tag "$arch")" 2>/dev/null) || return 1
  [[ $got == "linux/$arch ${ROOTFS_KEY[$arch]}" ]]
}

build_image() {
  local arch=$1 ctx tar log
  ctx=$CACHE_DIR/context-$arch
  tar=$(rootfs_path "$arch")
  log=$CACHE_DIR/build-$arch.log
  rm -rf "$ctx"
  mkdir -p "$ctx"
  ln "$tar" "$ctx/rootfs-$arch.tar" 2>/dev/null || cp "$tar" "$ctx/rootfs-$arch.tar"
  cat >"$ctx/Dockerfile" <<'EOF'
# Local Debian base image for idekube integration tests (rootfs made by mmdebstrap).
FROM scratch
ARG TARGETARCH
ARG ROOTFS_KEY=unknown
ADD rootfs-${TARGETARCH}.tar /
LABEL io.idekube.test.rootfs-key=${ROOTFS_KEY}
CMD ["bash"]
EOF
  local t0=$SECONDS
  if ! DOCKER_BUILDKIT=1 timeout 600 "$DOCKER" build --progress=plain --platform "linux/$arch" \
    --build-arg ROOTFS_KEY="${ROOTFS_KEY[$arch]}" -t "$(arch_tag "$arch")" "$ctx" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    ik_die "docker build of $(arch_tag "$arch") failed; full log: $log"
  fi
  rm -rf "$ctx"
  local_image_ok "$arch" || ik_die "$(arch_tag "$arch") was built but records $("$DOCKER" image inspect --format '{{.Os}}/{{.Architecture}}' "$(arch_tag "$arch")")"
  ik_log "image $(arch_tag "$arch") built in $((SECONDS - t0))s"
}

# registry_get PATH ACCEPT OUTFILE -> prints HTTP status
registry_get() {
  curl -sS --connect-timeout 3 --max-time 60 -o "$3" -w '%{http_code}' -H "Accept: $2" "http://$REGISTRY/v2/$1" ||
    printf '000'
}

# Digest the registry holds for the local image of ARCH (from RepoDigests), empty if none.
# Every registry digest the local per-arch image is known by (a pull of the list tag adds the list's digest).
local_repo_digests() {
  "$DOCKER" image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$(arch_tag "$1")" 2>/dev/null |
    sed -n "s|^$REGISTRY/$REPO@||p"
}

# Is the registry's manifest list right: both platforms present, each pointing at what the per-arch tag points
# at, and that being the local image?
registry_ok() {
  local tmp arch have code
  tmp=$(mktemp)
  code=$(registry_get "$REPO/manifests/$SUITE" "$MT_LIST" "$tmp")
  if [[ $code != 200 ]] || [[ $(jq -r .mediaType "$tmp" 2>/dev/null) != "$MT_LIST" ]]; then
    rm -f "$tmp"
    return 1
  fi
  for arch in "${ARCHES[@]}"; do
    have=$(curl -sS -I --max-time 10 -H "Accept: $MT_MANIFEST" "http://$REGISTRY/v2/$REPO/manifests/$SUITE-$arch" |
      tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}') || have=''
    if [[ -z $have ]] || ! local_repo_digests "$arch" | grep -qxF "$have" ||
      [[ $(jq -r --arg a "$arch" '[.manifests[] | select(.platform.os == "linux" and .platform.architecture == $a) | .digest] | first // ""' "$tmp") != "$have" ]]; then
      rm -f "$tmp"
      return 1
    fi
  done
  rm -f "$tmp"
}

push_and_join() {
  local arch tag tmpd code digest size cfg entries=()
  tmpd=$(mktemp -d)
  for arch in "${ARCHES[@]}"; do
    tag=$(arch_tag "$arch")
    if ! timeout 600 "$DOCKER" push "$tag" >"$CACHE_DIR/push-$arch.log" 2>&1; then
      tail -n 20 "$CACHE_DIR/push-$arch.log" >&2
      rm -rf "$tmpd"
      ik_die "docker push $tag failed; full log: $CACHE_DIR/push-$arch.log"
    fi
    code=$(registry_get "$REPO/manifests/$SUITE-$arch" "$MT_MANIFEST" "$tmpd/$arch.json")
    [[ $code == 200 ]] || ik_die "GET manifest $SUITE-$arch from $REGISTRY answered $code"
    [[ $(jq -r .mediaType "$tmpd/$arch.json") == "$MT_MANIFEST" ]] ||
      ik_die "$tag in $REGISTRY is not a $MT_MANIFEST (got $(jq -r .mediaType "$tmpd/$arch.json"))"
    digest=sha256:$(sha256sum <"$tmpd/$arch.json" | cut -d' ' -f1)
    size=$(stat -c %s "$tmpd/$arch.json")
    cfg=$(jq -r .config.digest "$tmpd/$arch.json")
    code=$(registry_get "$REPO/blobs/$cfg" application/octet-stream "$tmpd/$arch.config.json")
    [[ $code == 200 ]] || ik_die "GET config blob of $tag answered $code"
    [[ $(jq -r .architecture "$tmpd/$arch.config.json") == "$arch" ]] ||
      ik_die "$tag in $REGISTRY records architecture $(jq -r .architecture "$tmpd/$arch.config.json"), want $arch"
    entries+=("$(jq -c --arg d "$digest" --argjson s "$size" --arg mt "$MT_MANIFEST" \
      '{mediaType: $mt, size: $s, digest: $d,
        platform: ({architecture: .architecture, os: .os} + (if (.variant // "") != "" then {variant: .variant} else {} end))}' \
      "$tmpd/$arch.config.json")")
  done
  printf '%s\n' "${entries[@]}" |
    jq -s --arg mt "$MT_LIST" '{schemaVersion: 2, mediaType: $mt, manifests: .}' >"$tmpd/list.json"
  code=$(curl -sS --max-time 60 -o "$tmpd/put.out" -w '%{http_code}' -X PUT \
    -H "Content-Type: $MT_LIST" --data-binary "@$tmpd/list.json" \
    "http://$REGISTRY/v2/$REPO/manifests/$SUITE") || code=000
  if [[ $code != 201 ]]; then
    cat "$tmpd/put.out" >&2 || true
    rm -rf "$tmpd"
    ik_die "PUT manifest list $BASE_IMAGE answered $code"
  fi
  rm -rf "$tmpd"
  registry_ok || ik_die "manifest list $BASE_IMAGE read back from the registry does not match the pushed images"
  ik_log "pushed $(arch_tag amd64), $(arch_tag arm64) and manifest list $BASE_IMAGE"
}

step_base_images() {
  mkdir -p "$CACHE_DIR"
  compute_keys
  local arch need_rootfs=() need_image=() built=0
  for arch in "${ARCHES[@]}"; do
    if ! local_image_ok "$arch"; then
      need_image+=("$arch")
      rootfs_cached "$arch" || need_rootfs+=("$arch")
    fi
  done

  if ((${#need_rootfs[@]})); then
    ik_log "building rootfs with mmdebstrap ($ROOTFS_VARIANT) for: ${need_rootfs[*]} (in parallel; arm64 runs under emulation)"
    local pids=() failed=0 i
    for arch in "${need_rootfs[@]}"; do
      build_rootfs "$arch" &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do
      wait "${pids[$i]}" || failed=1
    done
    ((failed == 0)) || ik_die "rootfs build failed (logs: $CACHE_DIR/mmdebstrap-*.log)"
  fi
  for arch in "${need_image[@]}"; do
    build_image "$arch"
    built=1
  done
  if ((built)); then
    # Fresh images: prove apt works inside (it reaches Debian's archive through the host's sources).
    timeout 180 "$DOCKER" run --rm --pull never --platform linux/amd64 "$(arch_tag amd64)" \
      apt-get update -qq >"$CACHE_DIR/apt-check.log" 2>&1 ||
      { tail -n 20 "$CACHE_DIR/apt-check.log" >&2; ik_die "apt-get update failed inside $(arch_tag amd64)"; }
    ik_log "apt-get update works inside $(arch_tag amd64)"
  fi

  if registry_ok; then
    ik_log "manifest list $BASE_IMAGE in the registry matches the local images"
  else
    push_and_join
  fi

  local want got
  for arch in "${ARCHES[@]}"; do
    case $arch in amd64) want=x86_64 ;; arm64) want=aarch64 ;; *) want=$arch ;; esac
    got=$(timeout 60 "$DOCKER" run --rm --pull never --platform "linux/$arch" "$(arch_tag "$arch")" uname -m 2>&1) ||
      ik_die "docker run $(arch_tag "$arch") uname -m failed: $got"
    [[ $got == "$want" ]] || ik_die "docker run --platform linux/$arch printed '$got', want '$want'"
  done
  ik_log "containers run: amd64 -> x86_64, arm64 -> aarch64"
}

# ---------------------------------------------------------------------------------------------------
# 6. facts for the tests

write_env() {
  local tmp=$ENV_FILE.tmp
  {
    echo "# Written by test/env/setup.sh — facts for idekube's integration tests."
    echo "# Plain KEY=value lines: in a shell use  set -a; . $ENV_FILE; set +a"
    echo "IDEKUBE_TEST_REGISTRY=$REGISTRY"
    echo "IDEKUBE_TEST_BASE_IMAGE=$BASE_IMAGE"
    echo "IDEKUBE_TEST_BASE_IMAGE_AMD64=$(arch_tag amd64)"
    echo "IDEKUBE_TEST_BASE_IMAGE_ARM64=$(arch_tag arm64)"
    echo "IDEKUBE_TEST_PLATFORMS=linux/amd64,linux/arm64"
    echo "IDEKUBE_TEST_DOCKER_CLI=$DOCKER"
    echo "IDEKUBE_TEST_DOCKER_HOST=$DOCKER_HOST"
    echo "IDEKUBE_TEST_DOCKERD_LOG=$DOCKERD_LOG"
    echo "IDEKUBE_TEST_REGISTRY_PIDFILE=$REGISTRY_DIR/registry.pid"
    echo "IDEKUBE_TEST_REGISTRY_LOG=$REGISTRY_LOG"
    echo "IDEKUBE_TEST_REGISTRY_SH=$here/registry.sh"
    echo "IDEKUBE_TEST_ROOTFS_AMD64=$(rootfs_path amd64)"
    echo "IDEKUBE_TEST_ROOTFS_ARM64=$(rootfs_path arm64)"
    echo "IDEKUBE_TEST_CURRENT_DOCKER_HOST=$ENGINE2_HOST"
    echo "IDEKUBE_TEST_CURRENT_DOCKER_CONFIG=$ENGINE2_DOCKER_CONFIG"
    echo "IDEKUBE_TEST_CURRENT_DOCKER_CLI=$(engine2_bin bin/docker)"
    echo "IDEKUBE_TEST_CURRENT_DOCKERD_LOG=$ENGINE2_LOG"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

main() {
  [[ $(id -u) -eq 0 ]] || ik_die "run as root (it installs packages and starts daemons)"
  local t0=$SECONDS
  mkdir -p "$STATE_DIR" "$CACHE_DIR"
  # One setup at a time on this machine (CI and a developer may start it together).
  # (Daemons are started through ik_spawn_detached, which closes this fd, so they never hold the lock.)
  local lock=$CACHE_DIR/setup.flock
  exec {lockfd}>"$lock"
  flock -w 1200 "$lockfd" || ik_die "another test/env/setup.sh holds $lock for over 20 min"

  run_step packages step_packages
  run_step binfmt step_binfmt
  run_step dockerd step_dockerd
  run_step registry step_registry
  run_step current-engine step_current_engine
  run_step base-images step_base_images
  write_env

  echo "idekube test environment ready in $((SECONDS - t0))s ($ENV_FILE):"
  grep -v '^#' "$ENV_FILE"
  echo "timings:"
  printf '  %s\n' "${TIMINGS[@]}"
  echo "logs: dockerd $DOCKERD_LOG, registry $REGISTRY_LOG, builds $CACHE_DIR/*.log, apt $STATE_DIR/apt.log"
}

# Run unless sourced (sourcing gives the functions, e.g. for checks of single steps).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
