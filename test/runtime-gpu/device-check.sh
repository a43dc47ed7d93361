#!/usr/bin/env bash
# GPU check of the runtime init on a real NVIDIA machine (run as root inside a
# container of an NVIDIA runtime; no container engine needed). Prints facts,
# runs lib/detect-gpu.sh as root and as nobody, the detect-gpu unit tests, and
# an EGL probe (the path of vglrun -d egl) before and after startup.sh's GPU
# step. Debian's glvnd packages (libegl1 libglvnd0 libopengl0...) are unpacked
# from .gl/*.deb when present, as the featured image ships them.
set -uo pipefail
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
rt=$root/artifacts/runtime
cd -- "$root" || exit 1

section() { printf '\n== %s\n' "$*"; }

section "facts"
uname -r
ls -ld /dev/nvidia* /dev/dri 2>&1
env | grep -E '^NVIDIA_' | sort
nvidia-smi -L 2>&1 | head -3
ldconfig -p | grep -E 'libEGL|libGLX_nvidia|libcuda.so' | head -12
find /usr/local/nvidia -maxdepth 2 2>&1 | head -20
ls -l /usr/share/glvnd/egl_vendor.d /etc/glvnd/egl_vendor.d /usr/local/nvidia/share/glvnd/egl_vendor.d 2>&1

section "detect-gpu.sh as root"
bash "$rt/lib/detect-gpu.sh"
echo "exit status $?"
section "detect-gpu.sh as nobody"
chmod -R a+rX "$rt"
setpriv --reuid=65534 --regid=65534 --clear-groups bash "$rt/lib/detect-gpu.sh"
echo "exit status $?"

section "unit tests (fake sysroots)"
bash "$root/test/unit/runtime/detect-gpu.test.sh" | grep -v '^ok'

if compgen -G "$root/.gl/*.deb" >/dev/null; then
    section "unpacking glvnd from .gl"
    for f in "$root"/.gl/*.deb; do dpkg -x "$f" / && echo "unpacked $(basename "$f")"; done
    ldconfig
fi

section "EGL probe BEFORE startup.sh's GPU step"
python3 "$root/test/runtime-gpu/egl-probe.py"
echo "exit status $?"

section "startup.sh GPU step (sourced: setup_gpu)"
(
    # shellcheck disable=SC1091
    . "$rt/startup.sh"
    setup_gpu
    echo "step status $?"
    echo "--- ${IDEKUBE_GPU_ENV_FILE:-?}"
    cat "${IDEKUBE_GPU_ENV_FILE:-/dev/null}"
    ls -l /usr/share/glvnd/egl_vendor.d /etc/ld.so.conf.d 2>&1
)

section "EGL probe AFTER startup.sh's GPU step"
python3 "$root/test/runtime-gpu/egl-probe.py"
echo "exit status $?"
