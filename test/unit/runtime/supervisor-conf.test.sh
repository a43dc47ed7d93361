#!/usr/bin/env bash
# Unit tests of artifacts/runtime/lib/supervisor-conf.sh (supervisord config
# for a non-root start). Self-contained; TAP output; exit 1 on failure.
# When supervisord is installed, the result is also parsed by supervisord.
set -uo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
script=$(cd -- "$here/../../.." && pwd)/artifacts/runtime/lib/supervisor-conf.sh
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    printf 'not ok %d - %s\n' "$n" "$1"
    [ $# -gt 1 ] && printf '#   %s\n' "${@:2}"
}
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name" "failed: $*" "log: $(cat "$work/log" 2>/dev/null)"; fi
}

etc=$work/etc/supervisor
mkdir -p "$etc/conf.d" "$work/srv"
# Debian's /etc/supervisor/supervisord.conf
cat >"$etc/supervisord.conf" <<'EOF'
; supervisor config file

[unix_http_server]
file=/var/run/supervisor.sock   ; (the path to the socket file)
chmod=0700                       ; sockef file mode (default 0700)
chown=root:root

[supervisord]
logfile=/var/log/supervisor/supervisord.log ; (main log file;default $CWD/supervisord.log)
pidfile=/var/run/supervisord.pid ; (supervisord pidfile;default supervisord.pid)
childlogdir=/var/log/supervisor            ; ('AUTO' child log dir, default $TEMP)
user=root

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///var/run/supervisor.sock ; use a unix:// URL  for a unix socket

[include]
files = conf.d/*.conf
EOF
cat >"$etc/conf.d/idekube.conf" <<EOF
[program:sshd]
command=/usr/sbin/sshd -D -e
priority=20

[program:code]
command=/bin/sleep 1000
user=idekube
directory=/nonexistent/home/idekube   ; a comment
environment=HOME="/home/idekube"

[program:web]
command=/bin/sleep 1000
 user = idekube
directory=$work/srv
EOF
printf '[program:extra]\ncommand=/bin/true\nuser=nobody\n' >"$etc/conf.d/zz-extra.conf"
printf 'not included\n' >"$etc/conf.d/README"

rt=$work/rt
out=$(HOME=$work bash "$script" "$etc/supervisord.conf" "$rt" 2>"$work/log")
check "exit 0 and prints the new main file" [ "$out" = "$rt/supervisord.conf" ]
check "runtime folder is private (700)" [ "$(stat -c %a "$rt")" = 700 ]
all=$(cat "$rt/supervisord.conf" "$rt"/conf.d/*.conf)
check "no user= line left anywhere" [ "$(grep -cE '^[[:space:]]*user[[:space:]]*=' <<<"$all")" -eq 0 ]
check "dropped user= lines are logged" grep -q "dropped 'user=idekube' from \[program:code\]" "$work/log"
check "chown= of [unix_http_server] removed" [ "$(grep -c '^chown=' <<<"$all")" -eq 0 ]
check "socket moved" grep -q "^file=$rt/supervisor.sock" "$rt/supervisord.conf"
check "supervisorctl URL moved" grep -q "^serverurl=unix://$rt/supervisor.sock" "$rt/supervisord.conf"
check "pidfile moved" grep -q "^pidfile=$rt/supervisord.pid" "$rt/supervisord.conf"
check "logfile and childlogdir moved" [ "$(grep -c "$rt/log" "$rt/supervisord.conf")" -eq 2 ]
check "include points at the copies" grep -qx "files = $rt/conf.d/\*.conf" "$rt/supervisord.conf"
check "both included files copied, README not" [ "$(find "$rt/conf.d" -type f | wc -l)" -eq 2 ]
check "inaccessible directory= replaced by HOME" grep -qx "directory=$work" "$rt/conf.d/001-idekube.conf"
check "accessible directory= kept" grep -qx "directory=$work/srv" "$rt/conf.d/001-idekube.conf"
check "other lines kept" grep -qx 'priority=20' "$rt/conf.d/001-idekube.conf"
check "a HOME this uid cannot write is replaced by HOME" grep -qx "environment=HOME=\"$work\"" "$rt/conf.d/001-idekube.conf"

# Re-running replaces the copies (no stale files).
rm "$etc/conf.d/zz-extra.conf"
HOME=$work bash "$script" "$etc/supervisord.conf" "$rt" >/dev/null 2>"$work/log"
check "re-run drops copies of removed files" [ "$(find "$rt/conf.d" -type f | wc -l)" -eq 1 ]

HOME=$work bash "$script" "$work/missing.conf" "$rt" >/dev/null 2>"$work/log"
check "missing source: exit 1 with ERROR" [ $? -eq 1 ]

# supervisord's own interpreter (its shebang), not whatever python3 is first on PATH
sup_python=
if sup=$(command -v supervisord 2>/dev/null); then
    sup_python=$(head -n1 "$sup" | sed -n 's/^#! *\([^ ]*\).*/\1/p')
fi
if [ -n "$sup_python" ] && [ -x "$sup_python" ]; then
    if "$sup_python" - "$rt/supervisord.conf" <<'EOF' 2>"$work/log"; then
import sys
from supervisor.options import ServerOptions
o = ServerOptions()
o.realize(args=["-c", sys.argv[1]])
names = sorted(g.name for g in o.process_group_configs)
assert names == ["code", "sshd", "web"], names
for g in o.process_group_configs:
    for p in g.process_configs:
        assert p.uid is None, (p.name, p.uid)
EOF
        ok "supervisord parses the copy: 3 programs, none with a uid"
    else
        not_ok "supervisord parses the copy" "$(cat "$work/log")"
    fi
else
    not_ok "supervisord parses the copy" "supervisord is not installed (test/env/setup.sh installs it)"
fi

# nginx as a non-root uid: its own nginx.conf copy with writable pid, temp folders and logs.
etc2=$work/etc2/supervisor
mkdir -p "$etc2/conf.d" "$work/nginx"
printf '[supervisord]\npidfile=/var/run/supervisord.pid\n\n[include]\nfiles = conf.d/*.conf\n' >"$etc2/supervisord.conf"
printf '[program:nginx]\ncommand=/usr/sbin/nginx -g "daemon off;"\n\n[program:other]\ncommand=/usr/bin/nginx-exporter -c x\n' >"$etc2/conf.d/idekube.conf"
cat >"$work/nginx/nginx.conf" <<'EOF'
user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
include /etc/nginx/modules-enabled/*.conf;
events {
	worker_connections 768;
}
http {
	include mime.types;
	access_log /var/log/nginx/access.log;
	include /etc/nginx/conf.d/*.conf;
}
EOF
rt2=$work/rt2
HOME=$work IDEKUBE_NGINX_CONF=$work/nginx/nginx.conf bash "$script" "$etc2/supervisord.conf" "$rt2" >/dev/null 2>"$work/log"
conf2=$(cat "$rt2"/conf.d/*.conf)
check "nginx program runs with the copied nginx.conf" grep -qxF "command=/usr/sbin/nginx -e stderr -c $rt2/nginx/nginx.conf -g \"daemon off;\"" <<<"$conf2"
check "a program that is not nginx keeps its command" grep -qx 'command=/usr/bin/nginx-exporter -c x' <<<"$conf2"
n2=$(cat "$rt2/nginx/nginx.conf" 2>/dev/null)
check "nginx.conf copy: no user directive" [ "$(grep -c '^user' <<<"$n2")" -eq 0 ]
check "nginx.conf copy: pid under the runtime folder" grep -qxF "pid $rt2/nginx/nginx.pid;" <<<"$n2"
check "nginx.conf copy: logs to stderr/stdout" [ "$(grep -cE 'error_log stderr;|access_log /dev/stdout;' <<<"$n2")" -eq 2 ]
check "nginx.conf copy: temp folders under the runtime folder" [ "$(grep -cF "_temp_path $rt2/nginx/" <<<"$n2")" -eq 5 ]
check "nginx.conf copy: temp folders created" [ -d "$rt2/nginx/body" ]
check "nginx.conf copy: relative include made absolute" grep -qF "include $work/nginx/mime.types;" <<<"$n2"
check "nginx.conf copy: absolute includes kept" grep -qF 'include /etc/nginx/conf.d/*.conf;' <<<"$n2"

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
