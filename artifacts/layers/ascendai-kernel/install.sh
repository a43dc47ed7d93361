#!/usr/bin/env bash
# Jupyter kernel for the "pytorch" conda environment.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

base_py=$(conda_python)
env_prefix=$IDEKUBE_CONDA_PREFIX/envs/pytorch
py=$env_prefix/bin/python
[ -x "$py" ] || die "no conda environment at $env_prefix: put the ascendai-env layer before this one"

make_workdir
HOME="$WORK" "$py" -m pip install --no-cache-dir ipykernel
HOME="$WORK" "$py" -m ipykernel install --prefix /usr/local --name pytorch --display-name "Python (pytorch)"
# The environment's own default kernel spec would show up as a second "Python 3".
rm -rf "$env_prefix/share/jupyter/kernels"

kernels=$(HOME="$WORK" "$base_py" -m jupyter kernelspec list)
grep -Eq '^ *pytorch ' <<<"$kernels" || die "the pytorch kernel is not visible to JupyterLab: $kernels"
