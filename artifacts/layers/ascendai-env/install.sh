#!/usr/bin/env bash
# conda env "pytorch" with PyTorch (+ torch-npu on Ascend arm64 images).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var ASCENDAI_PYTHON_VERSION TORCH_VERSION TORCHVISION_VERSION TORCHAUDIO_VERSION TORCH_NPU_VERSION
conda_python >/dev/null
conda=$IDEKUBE_CONDA_PREFIX/bin/conda
env_prefix=$IDEKUBE_CONDA_PREFIX/envs/pytorch
arch=$(arch_deb)

make_workdir
if [ -e "$env_prefix" ]; then
    die "$env_prefix exists already"
fi
HOME="$WORK" "$conda" create -y -n pytorch "python=${ASCENDAI_PYTHON_VERSION}"
py=$env_prefix/bin/python
pip_install() { HOME="$WORK" "$py" -m pip install --no-cache-dir "$@"; }

pip_install -U pip
if [ -d /usr/local/Ascend ] && [ "$arch" = arm64 ]; then
    log "CANN toolkit found on arm64: installing torch-npu $TORCH_NPU_VERSION"
    pip_install \
        "torch==${TORCH_VERSION}" "torch-npu==${TORCH_NPU_VERSION}" "torchvision==${TORCHVISION_VERSION}" \
        "attrs>=25.4.0" "decorator>=5.2.1" "numpy>=2.4.0" "psutil>=7.2.1" "pyyaml>=6.0.3" "scipy>=1.16.3" \
        tornado absl-py ml-dtypes cloudpickle tqdm protobuf \
        transformers evaluate accelerate scikit-learn
else
    if [ -d /usr/local/Ascend ]; then
        warn "torch-npu is only installed on arm64 Ascend images; installing plain PyTorch on $arch"
    fi
    pip_install \
        "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}" "torchaudio==${TORCHAUDIO_VERSION}" \
        scipy tqdm
fi

HOME="$WORK" "$conda" clean -afy
HOME="$WORK" "$py" -c 'import torch; print("torch", torch.__version__)'
