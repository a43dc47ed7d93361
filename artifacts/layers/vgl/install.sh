#!/usr/bin/env bash
# glvnd / EGL / GLES / Vulkan user-space pieces for NVIDIA GPUs in containers.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

apt_install \
    libxau6 libxdmcp6 libxcb1 libxext6 libx11-6 \
    libglvnd0 libgl1 libglx0 libegl1 libgles2 \
    libglvnd-dev libgl1-mesa-dev libegl1-mesa-dev libgles2-mesa-dev \
    libvulkan1 vulkan-tools

# glvnd picks EGL vendors from these files. The NVIDIA runtime bind-mounts its
# own copy over this path when it injects the driver; shipping it makes EGL
# find the driver also when the runtime only injects the libraries.
install_text 0644 /usr/share/glvnd/egl_vendor.d/10_nvidia.json <<'JSON'
{
    "file_format_version" : "1.0.0",
    "ICD" : {
        "library_path" : "libEGL_nvidia.so.0"
    }
}
JSON

# Vulkan ICD for the NVIDIA driver, at the path the runtime uses (so a mounted
# file replaces it rather than registering the GPU twice). The API version is
# that of the Vulkan loader in the image.
vk_version=$(dpkg-query -W -f='${Version}' libvulkan1 | sed -E 's/^([0-9]+:)?([0-9]+\.[0-9]+\.[0-9]+).*/\2/')
[[ "$vk_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the Vulkan loader version (got '$vk_version')"
install_text 0644 /usr/share/vulkan/icd.d/nvidia_icd.json <<JSON
{
    "file_format_version" : "1.0.0",
    "ICD": {
        "library_path": "libGLX_nvidia.so.0",
        "api_version" : "$vk_version"
    }
}
JSON
log "Vulkan ICD for NVIDIA written with api_version $vk_version"
