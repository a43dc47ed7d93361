#!/usr/bin/env bash
# Throwaway loopback registries for tests (fault tests, isolation).
#
#   test/env/registry.sh start PORT STATEDIR [LOGFILE]
#       Starts Debian's docker-registry on 127.0.0.1:PORT (loopback only, deletes enabled),
#       config STATEDIR/config.yml, blobs STATEDIR/data, log STATEDIR/registry.log by default.
#       Waits (max 30 s) until http://127.0.0.1:PORT/v2/ answers, then prints the PID file path
#       (STATEDIR/registry.pid) as the only line on stdout. Idempotent for the same PORT+STATEDIR;
#       fails if the port is taken by anything else.
#   test/env/registry.sh stop PIDFILE
#       Stops that registry (SIGTERM, SIGKILL after 10 s) and removes the PID file. Only a
#       process that really is docker-registry is signalled; a stale PID file is just removed.
#
# Progress goes to stderr. Exit status is non-zero on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}
case $cmd in
  start)
    [[ $# -ge 3 && $# -le 4 ]] || usage
    ik_registry_start "$2" "$3" "${4:-}"
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    ik_registry_stop "$2"
    ;;
  *) usage ;;
esac
