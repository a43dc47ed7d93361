#!/usr/bin/env bash
# idekube runtime: the X session of the VNC desktop (the "xstartup"). Started
# by vnc-server.sh (or TurboVNC's vncserver -xstartup) as the desktop user with
# DISPLAY set; runs in the foreground for as long as the session lives.
#
#   - GPU: when IDEKUBE_GPU=nvidia (exported by startup.sh; read back from
#     /run/idekube/gpu.env when the environment lost it) and VirtualGL's vglrun
#     is installed, the session runs under `vglrun -d ${VGL_DISPLAY:-egl}`, so
#     OpenGL applications render on the GPU through EGL (no X server on the
#     GPU needed). Otherwise it runs with plain software rendering. Either way
#     one log line says which and why.
#   - D-Bus: a session bus is started (dbus-launch, else dbus-run-session).
#   - The session command is startxfce4, or IDEKUBE_DESKTOP_SESSION (a command
#     line, split on spaces) when set.
set -uo pipefail

IDEKUBE_LOG_TAG=idekube-desktop
log() { printf '[%s] %s\n' "$IDEKUBE_LOG_TAG" "$*" >&2; }

if [ -z "${IDEKUBE_GPU:-}" ]; then
    for f in "${IDEKUBE_GPU_ENV_FILE:-}" /run/idekube/gpu.env; do
        if [ -n "$f" ] && [ -r "$f" ]; then
            # Written by startup.sh (root): IDEKUBE_GPU=... IDEKUBE_GPU_REASON=...
            # shellcheck disable=SC1090
            . "$f"
            break
        fi
    done
fi
gpu=${IDEKUBE_GPU:-none}
reason=${IDEKUBE_GPU_REASON:-not detected}

if [ -z "${DISPLAY:-}" ]; then
    log "ERROR: DISPLAY is not set: this script is the X session of the VNC server"
    exit 1
fi

unset SESSION_MANAGER DBUS_SESSION_BUS_ADDRESS
export XDG_SESSION_TYPE=x11

read -r -a session <<<"${IDEKUBE_DESKTOP_SESSION:-startxfce4}"
if [ "${#session[@]}" -eq 0 ] || ! command -v "${session[0]}" >/dev/null 2>&1; then
    log "ERROR: desktop session command '${session[0]:-}' not found (set IDEKUBE_DESKTOP_SESSION or install xfce4)"
    exit 1
fi

cmd=("${session[@]}")
if [ "$gpu" = nvidia ]; then
    vglrun=$(command -v vglrun 2>/dev/null || true)
    if [ -z "$vglrun" ] && [ -x /opt/VirtualGL/bin/vglrun ]; then
        vglrun=/opt/VirtualGL/bin/vglrun
    fi
    if [ -n "$vglrun" ]; then
        cmd=("$vglrun" -d "${VGL_DISPLAY:-egl}" "${session[@]}")
        log "rendering: GPU through VirtualGL ($vglrun -d ${VGL_DISPLAY:-egl}); $reason"
    else
        log "rendering: software (IDEKUBE_GPU=nvidia but vglrun is not installed)"
    fi
else
    log "rendering: software (IDEKUBE_GPU=$gpu: $reason)"
fi

if ! getent passwd "$(id -u)" >/dev/null; then
    # dbus-daemon refuses to start for a uid without a passwd entry (an
    # arbitrary `docker run --user`): run the session without a bus.
    log "starting ${cmd[*]} on $DISPLAY (uid $(id -u) has no passwd entry: no D-Bus session bus)"
    exec "${cmd[@]}"
fi
if command -v dbus-launch >/dev/null 2>&1; then
    log "starting ${cmd[*]} on $DISPLAY (dbus-launch)"
    exec dbus-launch --exit-with-session "${cmd[@]}"
elif command -v dbus-run-session >/dev/null 2>&1; then
    log "starting ${cmd[*]} on $DISPLAY (dbus-run-session)"
    exec dbus-run-session -- "${cmd[@]}"
fi
log "starting ${cmd[*]} on $DISPLAY (no D-Bus launcher installed: no session bus)"
exec "${cmd[@]}"
