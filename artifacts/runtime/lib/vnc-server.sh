#!/usr/bin/env bash
# idekube runtime: the VNC desktop, in the FOREGROUND, for supervisord.
# The supervisord program runs this script as the desktop user, e.g.
#   [program:vnc]
#   command=/usr/local/lib/idekube/vnc-server.sh
#   user=idekube
#   stopasgroup=true
#   killasgroup=true
# It lives exactly as long as the VNC server and its X session: when either
# ends, the other is stopped and this script exits non-zero, so supervisord
# sees it and restarts the desktop. SIGTERM/SIGINT stop both and exit 0.
#
# Server: TurboVNC when /opt/TurboVNC/bin/vncserver exists (its wrapper in -fg
# mode, which runs the xstartup in the foreground and kills Xvnc when it ends),
# else TigerVNC's Xtigervnc (or an Xvnc on the PATH) started directly.
# Either way: display :1, RFB port 5901 on loopback only (-localhost), no VNC
# authentication (-SecurityTypes None: only the local noVNC proxy can reach
# it), session = desktop-session.sh.
#
# Environment:
#   IDEKUBE_VNC_GEOMETRY   WIDTHxHEIGHT (default 1280x800)
#   IDEKUBE_VNC_DEPTH      16, 24 or 32 (default 24)
#   IDEKUBE_VNC_DISPLAY    X display number (default 1; RFB port 5900+N)
#   IDEKUBE_VNC_XSTARTUP   session script (default desktop-session.sh beside
#                          this script)
set -uo pipefail

IDEKUBE_LOG_TAG=idekube-vnc
log() { printf '[%s] %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }

libdir=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")

display=${IDEKUBE_VNC_DISPLAY:-1}
if ! [[ $display =~ ^[0-9]{1,2}$ ]]; then
    log "WARNING: IDEKUBE_VNC_DISPLAY=$display is not a display number: using 1"
    display=1
fi
port=$((5900 + display))
geometry=${IDEKUBE_VNC_GEOMETRY:-1280x800}
if ! [[ $geometry =~ ^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$ ]]; then
    log "WARNING: IDEKUBE_VNC_GEOMETRY=$geometry is not WIDTHxHEIGHT: using 1280x800"
    geometry=1280x800
fi
depth=${IDEKUBE_VNC_DEPTH:-24}
case $depth in 16 | 24 | 32) ;; *)
    log "WARNING: IDEKUBE_VNC_DEPTH=$depth is not 16, 24 or 32: using 24"
    depth=24
    ;;
esac
xstartup=${IDEKUBE_VNC_XSTARTUP:-$libdir/desktop-session.sh}
if [ ! -x "$xstartup" ]; then
    log "ERROR: session script $xstartup is missing or not executable"
    exit 1
fi

# supervisord's user= switches the uid but may leave root's HOME behind.
uid=$(id -u)
pw_home=$(getent passwd "$uid" | cut -d: -f6)
if [ -n "$pw_home" ] && [ -d "$pw_home" ]; then
    export HOME=$pw_home
fi
if [ -z "${HOME:-}" ] || [ ! -w "$HOME" ]; then
    export HOME=/tmp/idekube-home-$uid
    mkdir -p -- "$HOME"
    log "home not writable for uid $uid: using $HOME"
fi
USER=$(getent passwd "$uid" | cut -d: -f1)
USER=${USER:-$uid}
export USER LOGNAME=$USER
cd -- "$HOME" || exit 1

# A lock or socket left by a server that is gone blocks the display number.
lock=/tmp/.X$display-lock
if [ -e "$lock" ]; then
    lockpid=$(tr -dc '0-9' <"$lock" 2>/dev/null)
    if [ -z "$lockpid" ] || ! kill -0 "$lockpid" 2>/dev/null; then
        log "removing stale $lock and /tmp/.X11-unix/X$display"
        rm -f -- "$lock" "/tmp/.X11-unix/X$display" 2>/dev/null ||
            log "WARNING: cannot remove $lock (owned by another user?)"
    fi
fi
mkdir -p /tmp/.X11-unix 2>/dev/null || true

pids=()
stopping=0
stop_all() {
    local p
    for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do
        local alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && return 0
        sleep 0.2
    done
    for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
}

mode=""
wrapper="" xpid=""
# shellcheck disable=SC2317 # invoked by trap
on_signal() {
    stopping=1
    log "stopping the VNC desktop :$display"
    case $mode in
    turbovnc)
        /opt/TurboVNC/bin/vncserver -kill ":$display" >/dev/null 2>&1
        stop_all "$wrapper"
        ;;
    xvnc)
        # Session first (it may want to save state), then the server.
        [ "${#pids[@]}" -gt 1 ] && stop_all "${pids[1]}"
        stop_all "$xpid"
        ;;
    esac
}

if [ -x /opt/TurboVNC/bin/vncserver ]; then
    vncdir=$HOME/.vnc
    mkdir -p -- "$vncdir" && chmod 700 -- "$vncdir"
    logfile=$vncdir/idekube-display-$display.log
    log "starting TurboVNC :$display (127.0.0.1:$port, ${geometry}x$depth), session $xstartup; server log $logfile"
    /opt/TurboVNC/bin/vncserver ":$display" -fg \
        -geometry "$geometry" -depth "$depth" \
        -securitytypes None -localhost -rfbport "$port" \
        -name "idekube" -xstartup "$xstartup" -log "$logfile" &
    wrapper=$!
    tail -n +1 -F "$logfile" 2>/dev/null &
    tailpid=$!
    mode=turbovnc
    trap on_signal TERM INT
    st=0
    while kill -0 "$wrapper" 2>/dev/null; do
        wait "$wrapper"
        st=$?
    done
    kill "$tailpid" 2>/dev/null
    if [ "$stopping" -eq 1 ]; then
        exit 0
    fi
    log "TurboVNC session on :$display ended (status $st)"
    [ "$st" -eq 0 ] && st=1
    exit "$st"
fi

xvnc=$(command -v Xtigervnc 2>/dev/null || command -v Xvnc 2>/dev/null || true)
if [ -z "$xvnc" ]; then
    log "ERROR: no VNC server: neither /opt/TurboVNC/bin/vncserver nor Xtigervnc/Xvnc is installed"
    exit 1
fi

auth_args=()
export XAUTHORITY=${XAUTHORITY:-$HOME/.Xauthority}
if command -v xauth >/dev/null 2>&1; then
    cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    if xauth -q -f "$XAUTHORITY" add ":$display" . "$cookie" 2>/dev/null &&
        xauth -q -f "$XAUTHORITY" add "$(uname -n)/unix:$display" . "$cookie" 2>/dev/null; then
        auth_args=(-auth "$XAUTHORITY")
    else
        log "WARNING: could not write $XAUTHORITY: X server without an access cookie"
    fi
else
    log "WARNING: xauth not installed: X server without an access cookie"
fi

log "starting $(basename -- "$xvnc") :$display (127.0.0.1:$port, ${geometry}x$depth), session $xstartup"
"$xvnc" ":$display" -geometry "$geometry" -depth "$depth" \
    -SecurityTypes None -localhost -rfbport "$port" \
    -desktop idekube -AlwaysShared "${auth_args[@]}" &
xpid=$!
pids=("$xpid")

mode=xvnc
trap on_signal TERM INT

# Wait (bounded) for the X server's socket.
for _ in $(seq 1 100); do
    [ -S "/tmp/.X11-unix/X$display" ] && break
    if ! kill -0 "$xpid" 2>/dev/null; then
        wait "$xpid"
        st=$?
        [ "$stopping" -eq 1 ] && exit 0
        log "ERROR: $(basename -- "$xvnc") exited during start-up (status $st)"
        exit 1
    fi
    sleep 0.2
done
if [ ! -S "/tmp/.X11-unix/X$display" ]; then
    log "ERROR: display :$display did not come up within 20 s"
    stop_all "$xpid"
    exit 1
fi
[ "$stopping" -eq 1 ] && exit 0

DISPLAY=:$display "$xstartup" &
spid=$!
pids+=("$spid")
log "display :$display up (server pid $xpid), session started (pid $spid)"

while :; do
    wait -n "$xpid" "$spid"
    [ "$stopping" -eq 1 ] && break
    if ! kill -0 "$xpid" 2>/dev/null; then
        log "VNC server on :$display exited: stopping the session"
        stop_all "$spid"
        exit 1
    fi
    if ! kill -0 "$spid" 2>/dev/null; then
        log "X session on :$display ended: stopping the VNC server"
        stop_all "$xpid"
        exit 1
    fi
done
# Stopped by a signal: make sure both are reaped.
wait 2>/dev/null
exit 0
