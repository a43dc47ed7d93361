#!/usr/bin/env bash
# Course Python packages in the Miniconda base environment.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

py=$(conda_python)
make_workdir

# Nothing installed here may move JupyterLab off the version its layer pinned.
constraints=$WORK/constraints.txt
"$py" -m pip freeze --all | grep -iE '^jupyterlab==' >"$constraints" || true
if [ -s "$constraints" ]; then
    log "keeping $(cat "$constraints")"
fi
pip_install() { "$py" -m pip install --no-cache-dir --constraint "$constraints" "$@"; }

pip_install -U pip
pip_install sympy numpy matplotlib scipy scikit-learn networkx pandas pydot graphviz jupyter six
pip_install symbtools ipydex ipython
# pycartan's build needs the environment's setuptools.
pip_install --no-build-isolation pycartan

HOME="$WORK" MPLCONFIGDIR="$WORK" "$py" -c 'import sympy, numpy, scipy, matplotlib, sklearn, networkx, pandas, symbtools, pycartan'
