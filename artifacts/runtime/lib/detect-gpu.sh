#!/usr/bin/env bash
# idekube runtime: decide whether an NVIDIA GPU is usable for EGL rendering.
#
# Usable means BOTH:
#   - device nodes: /dev/nvidiactl and at least one /dev/nvidia<N>, and
#   - the NVIDIA EGL driver libEGL_nvidia.so.0 is visible: in the dynamic
#     linker cache (`ldconfig -p`) or as a file in one of the library folders
#     NVIDIA runtimes inject into (/usr/local/nvidia/lib64 on Kubernetes GPU
#     nodes, the multiarch folders, /lib, /usr/lib).
# NVIDIA_DRIVER_CAPABILITIES is deliberately NOT consulted: nodes set
# `compute,graphics,utility` rather than `all`, and what matters is what the
# runtime actually injected.
#
# Use:
#   detect-gpu.sh            prints IDEKUBE_GPU=... and IDEKUBE_GPU_REASON=...
#                            (shell-quoted, safe to `eval` or source); exit 0
#                            when nvidia, 1 when none.
#   . detect-gpu.sh; idekube_detect_gpu
#                            sets IDEKUBE_GPU and IDEKUBE_GPU_REASON.
# Environment:
#   IDEKUBE_GPU=none|nvidia  force the result (anything else, e.g. "auto" or
#                            empty, means detect).
#   IDEKUBE_SYSROOT=DIR      look at DIR/dev, DIR/usr/... instead of / (tests).
#                            With a sysroot other than /, the linker cache is
#                            only consulted when IDEKUBE_LDCONFIG is set.
#   IDEKUBE_LDCONFIG=CMD     the ldconfig to run (default: ldconfig).

# Library folders searched for libEGL_nvidia.so.0, relative to the sysroot.
IDEKUBE_GPU_LIB_DIRS=(
    /usr/local/nvidia/lib64
    /usr/local/nvidia/lib
    /usr/lib/x86_64-linux-gnu
    /usr/lib/aarch64-linux-gnu
    /lib/x86_64-linux-gnu
    /lib/aarch64-linux-gnu
    /usr/lib64
    /lib64
    /lib
    /usr/lib
)

# _idekube_gpu_ldcache_has LIB: true when the linker cache lists LIB.
_idekube_gpu_ldcache_has() {
    local lib=$1 root=${IDEKUBE_SYSROOT:-/} cmd
    if [ "${root%/}" != "" ] && [ -z "${IDEKUBE_LDCONFIG:-}" ]; then
        return 1
    fi
    cmd=${IDEKUBE_LDCONFIG:-ldconfig}
    if ! command -v "$cmd" >/dev/null 2>&1; then
        # Debian keeps ldconfig in /sbin, which a non-root PATH may lack.
        if [ -x /sbin/ldconfig ] && [ -z "${IDEKUBE_LDCONFIG:-}" ]; then
            cmd=/sbin/ldconfig
        else
            return 1
        fi
    fi
    # grep -q would close the pipe early; read all of ldconfig's output.
    "$cmd" -p 2>/dev/null | awk -v lib="$lib" '$1 == lib { found = 1 } END { exit !found }'
}

idekube_detect_gpu() {
    local root=${IDEKUBE_SYSROOT:-/}
    root=${root%/}
    local forced=${IDEKUBE_GPU:-}

    case $forced in
    none | nvidia)
        IDEKUBE_GPU=$forced
        IDEKUBE_GPU_REASON="forced by IDEKUBE_GPU=$forced"
        export IDEKUBE_GPU IDEKUBE_GPU_REASON
        return 0
        ;;
    "" | auto) ;;
    *)
        printf '[%s] WARNING: IDEKUBE_GPU=%s is not one of none, nvidia, auto: detecting\n' \
            "${IDEKUBE_LOG_TAG:-idekube-init}" "$forced" >&2
        ;;
    esac

    IDEKUBE_GPU=none
    export IDEKUBE_GPU IDEKUBE_GPU_REASON

    if [ ! -e "$root/dev/nvidiactl" ]; then
        IDEKUBE_GPU_REASON="no /dev/nvidiactl (no NVIDIA runtime or no GPU assigned)"
        return 0
    fi
    local node nodes=()
    for node in "$root"/dev/nvidia[0-9]*; do
        [ -e "$node" ] || continue
        case ${node##*/} in nvidia[0-9] | nvidia[0-9][0-9] | nvidia[0-9][0-9][0-9]) nodes+=("/dev/${node##*/}") ;; esac
    done
    if [ "${#nodes[@]}" -eq 0 ]; then
        IDEKUBE_GPU_REASON="/dev/nvidiactl present but no /dev/nvidia<N> device (no GPU assigned to this container)"
        return 0
    fi

    local lib=libEGL_nvidia.so.0 where="" dir
    if _idekube_gpu_ldcache_has "$lib"; then
        where="linker cache"
    else
        for dir in "${IDEKUBE_GPU_LIB_DIRS[@]}"; do
            if [ -e "$root$dir/$lib" ]; then
                where=$dir
                break
            fi
        done
    fi
    if [ -z "$where" ]; then
        IDEKUBE_GPU_REASON="GPU device nodes present (${nodes[*]}) but $lib not found: the NVIDIA runtime did not inject the graphics libraries (is 'graphics' in NVIDIA_DRIVER_CAPABILITIES?)"
        return 0
    fi
    IDEKUBE_GPU=nvidia
    IDEKUBE_GPU_REASON="device nodes /dev/nvidiactl ${nodes[*]}; $lib in $where"
    return 0
}

# idekube_gpu_env: the result as shell assignments, single-quoted (the format
# of /run/idekube/gpu.env).
idekube_gpu_env() {
    local q="'\\''"
    printf "IDEKUBE_GPU='%s'\n" "${IDEKUBE_GPU//\'/$q}"
    printf "IDEKUBE_GPU_REASON='%s'\n" "${IDEKUBE_GPU_REASON//\'/$q}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -uo pipefail
    idekube_detect_gpu
    idekube_gpu_env
    [ "$IDEKUBE_GPU" = nvidia ]
    exit
fi
