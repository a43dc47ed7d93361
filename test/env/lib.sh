# shellcheck shell=bash
# Shared helpers for the integration-test environment (sourced by setup.sh and registry.sh;
# tests may source it too). Only talks to 127.0.0.1. Every wait is bounded.
#
# Functions:
#   ik_log MSG...                       progress line on stderr
#   ik_die MSG...                       error line on stderr, exit 1
#   ik_wait_until TIMEOUT_S DESC CMD... poll CMD every 0.5 s until it succeeds or TIMEOUT_S passes
#   ik_http_ok URL                      true when URL answers 2xx within 3 s
#   ik_port_open PORT                   true when something accepts TCP on 127.0.0.1:PORT
#   ik_registry_start PORT STATEDIR [LOGFILE]
#                                       start Debian's docker-registry on 127.0.0.1:PORT only, config in
#                                       STATEDIR/config.yml, blobs in STATEDIR/data, pid in
#                                       STATEDIR/registry.pid; prints the PID file path on stdout
#   ik_registry_stop PIDFILE            stop the registry started with that PID file (bounded)
#   ik_spawn_detached PIDFILE LOGFILE CMD...
#                                       run CMD in its own session, stdin from /dev/null, output appended to
#                                       LOGFILE, every inherited fd above 2 closed (so a caller's lock fd or
#                                       pipe is not held open by the daemon); writes CMD's PID to PIDFILE
#                                       (which may be /dev/null)

IK_REGISTRY_BIN=${IK_REGISTRY_BIN:-/usr/bin/docker-registry}

ik_log() { printf '[idekube-env] %s\n' "$*" >&2; }
ik_die() {
  printf '[idekube-env] ERROR: %s\n' "$*" >&2
  exit 1
}

# ik_wait_until TIMEOUT_S DESC CMD...
ik_wait_until() {
  local timeout=$1 desc=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  ik_log "timed out after ${timeout}s waiting for ${desc}"
  return 1
}

ik_http_ok() {
  curl -fsS -o /dev/null --connect-timeout 2 --max-time 3 "$1" 2>/dev/null
}

ik_port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

ik_spawn_detached() {
  local pidfile=$1 logfile=$2
  shift 2
  # The inner shell closes inherited fds, records its own PID, then execs CMD: so the PID is CMD's
  # even when setsid has to fork (caller with job control).
  # shellcheck disable=SC2016  # expanded by the inner shell on purpose
  setsid bash -c '
    for fd in /proc/$$/fd/*; do
      fd=${fd##*/}
      if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    pidfile=$0
    if [[ $pidfile == /dev/null ]]; then :; else printf "%s\n" "$$" >"$pidfile.tmp" && mv -f "$pidfile.tmp" "$pidfile"; fi
    exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
}

ik_valid_port() {
  [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535))
}

# Is PID a running docker-registry process? (guards against stale PID files and reused PIDs)
ik_pid_is_registry() {
  local pid=$1 cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *docker-registry*serve* ]]
}

# ik_registry_write_config PORT STATEDIR
ik_registry_write_config() {
  local port=$1 dir=$2
  mkdir -p "$dir/data"
  cat >"$dir/config.yml.tmp" <<EOF
# Written by test/env (idekube integration tests). Loopback only, throwaway data.
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: idekube-test-not-a-secret
EOF
  mv -f "$dir/config.yml.tmp" "$dir/config.yml"
}

# ik_registry_start PORT STATEDIR [LOGFILE]  -> prints PID file path on stdout
ik_registry_start() {
  local port=${1:-} dir=${2:-} logfile=${3:-}
  ik_valid_port "$port" || ik_die "registry start: bad port '${port}' (want 1-65535)"
  [[ -n $dir ]] || ik_die "registry start: missing STATEDIR"
  [[ -x $IK_REGISTRY_BIN ]] || ik_die "registry start: $IK_REGISTRY_BIN not found (apt-get install docker-registry)"
  mkdir -p "$dir" || ik_die "registry start: cannot create $dir"
  dir=$(cd "$dir" && pwd -P)
  logfile=${logfile:-$dir/registry.log}
  local pidfile=$dir/registry.pid pid

  # Already running from this state dir on this port? Then it is a no-op.
  if [[ -f $pidfile ]]; then
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if ik_pid_is_registry "$pid" && ik_http_ok "http://127.0.0.1:$port/v2/"; then
      ik_log "registry already running on 127.0.0.1:$port (pid $pid)"
      printf '%s\n' "$pidfile"
      return 0
    fi
    rm -f "$pidfile"
  fi
  if ik_port_open "$port"; then
    ik_die "registry start: 127.0.0.1:$port is already in use by another process"
  fi

  ik_registry_write_config "$port" "$dir"
  # setsid: own session, survives the caller; stdin/stdout/stderr detached so callers that
  # capture output (execa, $(...)) are not held open by the daemon.
  ik_spawn_detached "$pidfile" "$logfile" "$IK_REGISTRY_BIN" serve "$dir/config.yml"
  local deadline=$((SECONDS + 30))
  while [[ ! -s $pidfile ]] && ((SECONDS < deadline)); do
    sleep 0.1
  done
  pid=$(cat "$pidfile" 2>/dev/null || true)
  [[ -n $pid ]] || ik_die "registry start: no PID file $pidfile after 30s (see $logfile)"

  while ! ik_http_ok "http://127.0.0.1:$port/v2/"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      ik_log "registry process $pid exited; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      ik_die "registry on 127.0.0.1:$port did not start"
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      ik_log "last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      ik_die "registry on 127.0.0.1:$port did not answer /v2/ within 30s"
    fi
    sleep 0.3
  done
  ik_log "registry up on 127.0.0.1:$port (pid $pid, data $dir/data, log $logfile)"
  printf '%s\n' "$pidfile"
}

# ik_registry_stop PIDFILE
ik_registry_stop() {
  local pidfile=${1:-} pid
  [[ -n $pidfile ]] || ik_die "registry stop: missing PIDFILE"
  if [[ ! -f $pidfile ]]; then
    ik_log "registry stop: $pidfile does not exist; nothing to stop"
    return 0
  fi
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if ! ik_pid_is_registry "$pid"; then
    ik_log "registry stop: pid '${pid}' from $pidfile is not a running docker-registry; removing stale PID file"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    ik_log "registry pid $pid ignored SIGTERM for 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  # Reap if it is our own child (same shell); harmless otherwise.
  wait "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  ik_log "registry pid $pid stopped"
}
