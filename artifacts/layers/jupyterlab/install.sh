#!/usr/bin/env bash
# JupyterLab ${JUPYTERLAB_VERSION} + extensions in the Miniconda base environment.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var JUPYTERLAB_VERSION
py=$(conda_python)

read -r -a extensions <<<"${JUPYTERLAB_EXTENSIONS:-}"
"$py" -m pip install --no-cache-dir "jupyterlab==${JUPYTERLAB_VERSION#v}" "${extensions[@]}"

installed=$("$py" -c 'import jupyterlab; print(jupyterlab.__version__)')
[ "$installed" = "${JUPYTERLAB_VERSION#v}" ] || die "JupyterLab $installed was installed instead of ${JUPYTERLAB_VERSION#v}"
log "JupyterLab $installed"

# Site-wide settings overrides: <sys.prefix>/share/jupyter/lab/settings/overrides.json
prefix=$("$py" -c 'import sys; print(sys.prefix)')
install_text 0644 "$prefix/share/jupyter/lab/settings/overrides.json" <<'JSON'
{
  "@jupyterlab/apputils-extension:notification": {
    "checkForUpdates": false,
    "fetchNews": "false"
  }
}
JSON

make_workdir
HOME="$WORK" "$py" -m jupyter labextension list
