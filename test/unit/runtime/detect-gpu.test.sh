#!/usr/bin/env bash
# Unit tests of artifacts/runtime/lib/detect-gpu.sh against fake sysroots.
# Self-contained; prints TAP ("ok N - ..." / "not ok N - ..."); exit 1 on failure.
set -uo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
detect=$(cd -- "$here/../../.." && pwd)/artifacts/runtime/lib/detect-gpu.sh
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    printf 'not ok %d - %s\n' "$n" "$1"
    [ $# -gt 1 ] && printf '#   %s\n' "${@:2}"
}

# mkroot NAME ENTRY...: a fake root; ENTRY "dev/x" makes a file, "dir/" a folder.
mkroot() {
    local r=$work/$1 e
    shift
    mkdir -p -- "$r"
    for e in "$@"; do
        case $e in
        */) mkdir -p -- "$r/$e" ;;
        *) mkdir -p -- "$(dirname -- "$r/$e")" && : >"$r/$e" ;;
        esac
    done
    printf '%s' "$r"
}

# expect NAME WANT(nvidia|none) REASON_SUBSTRING [ENV=VALUE...] -- sysroot given by SYSROOT
expect() {
    local name=$1 want=$2 sub=$3 out rc
    shift 3
    out=$(env -u IDEKUBE_GPU -u IDEKUBE_LDCONFIG "$@" bash "$detect" 2>"$work/stderr")
    rc=$?
    local got reason
    got=$(eval "$out"; printf '%s' "${IDEKUBE_GPU:-}")
    reason=$(eval "$out"; printf '%s' "${IDEKUBE_GPU_REASON:-}")
    local want_rc=1
    [ "$want" = nvidia ] && want_rc=0
    if [ "$got" = "$want" ] && [ "$rc" -eq "$want_rc" ] && [[ $reason == *"$sub"* ]]; then
        ok "$name"
    else
        not_ok "$name" "want $want (rc $want_rc, reason ~ '$sub'), got '$got' (rc $rc), reason '$reason'" "stderr: $(cat "$work/stderr")"
    fi
}

# The layout read off a real NVIDIA node (design.md "GPU facts").
h200=$(mkroot h200 dev/nvidia0 dev/nvidiactl dev/nvidia-uvm dev/nvidia-uvm-tools dev/nvidia-caps/ \
    usr/local/nvidia/lib64/libEGL_nvidia.so.0 usr/local/nvidia/lib64/libcuda.so.1 \
    lib/libEGL_nvidia.so.0 lib/libGLX_nvidia.so.0)
expect "H200 node layout (nodes + libEGL_nvidia in /usr/local/nvidia/lib64 and /lib) -> nvidia" nvidia "libEGL_nvidia.so.0 in /usr/local/nvidia/lib64" \
    IDEKUBE_SYSROOT="$h200" NVIDIA_DRIVER_CAPABILITIES=compute,graphics,utility
expect "reason names the device nodes" nvidia "/dev/nvidiactl /dev/nvidia0" IDEKUBE_SYSROOT="$h200"

empty=$(mkroot empty)
expect "empty root -> none" none "no /dev/nvidiactl" IDEKUBE_SYSROOT="$empty"
expect "NVIDIA_DRIVER_CAPABILITIES=all alone is not a GPU -> none" none "no /dev/nvidiactl" \
    IDEKUBE_SYSROOT="$empty" NVIDIA_DRIVER_CAPABILITIES=all NVIDIA_VISIBLE_DEVICES=all

ctl_only=$(mkroot ctl dev/nvidiactl dev/nvidia-uvm dev/nvidia-caps/ usr/local/nvidia/lib64/libEGL_nvidia.so.0)
expect "nvidiactl and nvidia-uvm but no /dev/nvidiaN -> none" none "no /dev/nvidia<N>" IDEKUBE_SYSROOT="$ctl_only"

nolib=$(mkroot nolib dev/nvidiactl dev/nvidia0 usr/local/nvidia/lib64/libcuda.so.1)
expect "device nodes but no libEGL_nvidia (compute-only runtime) -> none" none "libEGL_nvidia.so.0 not found" \
    IDEKUBE_SYSROOT="$nolib" NVIDIA_DRIVER_CAPABILITIES=compute,utility

for d in lib usr/lib usr/lib/x86_64-linux-gnu usr/lib/aarch64-linux-gnu usr/local/nvidia/lib64; do
    r=$(mkroot "in-${d//\//-}" dev/nvidiactl dev/nvidia3 "$d/libEGL_nvidia.so.0")
    expect "libEGL_nvidia.so.0 under /$d -> nvidia" nvidia "in /$d" IDEKUBE_SYSROOT="$r"
done

multi=$(mkroot multi dev/nvidiactl dev/nvidia0 dev/nvidia1 dev/nvidia12 lib/libEGL_nvidia.so.0)
expect "several GPUs are all listed" nvidia "/dev/nvidia0 /dev/nvidia1 /dev/nvidia12" IDEKUBE_SYSROOT="$multi"

# Linker cache through a fake ldconfig.
cache_root=$(mkroot cache dev/nvidiactl dev/nvidia0)
cat >"$work/ldconfig-with" <<'EOF'
#!/bin/sh
[ "$1" = -p ] || exit 1
printf '3 libs found in cache `/etc/ld.so.cache'"'"'\n'
printf '\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6\n'
printf '\tlibEGL_nvidia.so.0 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0\n'
EOF
cat >"$work/ldconfig-without" <<'EOF'
#!/bin/sh
printf '\tlibEGL.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libEGL.so.1\n'
printf '\tlibEGL_mesa.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libEGL_mesa.so.0\n'
EOF
chmod +x "$work/ldconfig-with" "$work/ldconfig-without"
expect "libEGL_nvidia.so.0 in the linker cache -> nvidia" nvidia "in linker cache" \
    IDEKUBE_SYSROOT="$cache_root" IDEKUBE_LDCONFIG="$work/ldconfig-with"
expect "linker cache without it (libEGL_mesa only) -> none" none "not found" \
    IDEKUBE_SYSROOT="$cache_root" IDEKUBE_LDCONFIG="$work/ldconfig-without"
expect "a sysroot without IDEKUBE_LDCONFIG does not consult the host's cache" none "not found" \
    IDEKUBE_SYSROOT="$cache_root"

# Forcing.
expect "IDEKUBE_GPU=none wins over a usable GPU" none "forced by IDEKUBE_GPU=none" IDEKUBE_SYSROOT="$h200" IDEKUBE_GPU=none
expect "IDEKUBE_GPU=nvidia wins over an empty root" nvidia "forced by IDEKUBE_GPU=nvidia" IDEKUBE_SYSROOT="$empty" IDEKUBE_GPU=nvidia
expect "IDEKUBE_GPU=auto detects" nvidia "device nodes" IDEKUBE_SYSROOT="$h200" IDEKUBE_GPU=auto
expect "IDEKUBE_GPU=bogus warns and detects" none "no /dev/nvidiactl" IDEKUBE_SYSROOT="$empty" IDEKUBE_GPU=bogus
if grep -q 'WARNING: IDEKUBE_GPU=bogus' "$work/stderr"; then
    ok "IDEKUBE_GPU=bogus logs a WARNING line"
else
    not_ok "IDEKUBE_GPU=bogus logs a WARNING line" "stderr: $(cat "$work/stderr")"
fi

# Sourced API.
res=$(
    unset IDEKUBE_GPU
    export IDEKUBE_SYSROOT=$h200
    # shellcheck disable=SC1090
    . "$detect"
    idekube_detect_gpu
    printf '%s|%s' "$IDEKUBE_GPU" "$(env | grep -c '^IDEKUBE_GPU=')"
)
if [ "$res" = "nvidia|1" ]; then
    ok "sourced: idekube_detect_gpu sets and exports IDEKUBE_GPU"
else
    not_ok "sourced: idekube_detect_gpu sets and exports IDEKUBE_GPU" "got $res"
fi

# Output with quotes survives eval (gpu.env format).
quoted=$(mkroot "it's" dev/nvidiactl dev/nvidia0)
out=$(env -u IDEKUBE_GPU IDEKUBE_SYSROOT="$quoted" bash "$detect" 2>/dev/null)
if (eval "$out") 2>/dev/null && [ "$(eval "$out"; printf '%s' "$IDEKUBE_GPU")" = none ]; then
    ok "output is valid shell even with quotes in values"
else
    not_ok "output is valid shell even with quotes in values" "$out"
fi

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
