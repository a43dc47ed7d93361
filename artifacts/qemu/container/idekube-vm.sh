#!/usr/bin/env bash
# idekube VM-in-container launcher: the ENTRYPOINT of the <NAME>-qemu images. It boots the flavor's VM (the
# disk shipped in /var/lib/idekube) with QEMU, forwarding the guest's SSH (22) and nginx (80) to the container.
#
# Environment — the one set of defaults (also in artifacts/qemu/README.md):
#   IDEKUBE_VM_MEMORY=2G          guest memory (QEMU sizes: 2G, 1536M)
#   IDEKUBE_VM_CPU=2              guest CPUs
#   IDEKUBE_VM_DISK_SIZE=20G      the guest disk grows to this size (never shrinks); the guest's file system
#                                 follows at boot
#   IDEKUBE_SSH_PORT=22           container port forwarded to the guest's 22
#   IDEKUBE_WEB_PORT=80           container port forwarded to the guest's 80 (nginx: /ssh, /coder/, /vnc/ ...)
#   IDEKUBE_MONITOR_PORT=23       the QEMU monitor (HMP), on 127.0.0.1 inside the container only
#                                 (docker exec -it <c> bash -c 'exec 3<>/dev/tcp/127.0.0.1/23; cat <&3 & cat >&3')
#   IDEKUBE_VM_HEADLESS=true      false: a virtio GPU shown over VNC on container port 5900 (no password:
#                                 publish it on 127.0.0.1 only)
#   IDEKUBE_VM_DISABLE_KVM=false  true: always TCG. Otherwise KVM when /dev/kvm is passed in (--device
#                                 /dev/kvm) AND a short probe boot under KVM reaches the kernel; else TCG
#   IDEKUBE_AUTHORIZED_KEYS=      base64 of an authorized_keys file for the guest's idekube user (applied at
#                                 every start, like the container images)
#   IDEKUBE_VM_STOP_TIMEOUT=90    seconds the guest gets to power off when the container is stopped
#                                 (give `docker stop -t` more than this)
#
# Persistence: the volume /var/lib/data holds disk.qcow2, a copy-on-write overlay on the shipped disk, made on
# the first start and reused on every later start — never overwritten. A volume made from another image's
# disk is refused (its data is kept), because an overlay is only valid on the disk it was made from.
set -euo pipefail

SHIPPED=/var/lib/idekube
DATA=/var/lib/data
RUN=/run/idekube-vm

log() { printf '[idekube-vm] %s\n' "$*" >&2; }
die() {
    printf '[idekube-vm] ERROR: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- settings

IDEKUBE_VM_MEMORY=${IDEKUBE_VM_MEMORY:-2G}
IDEKUBE_VM_CPU=${IDEKUBE_VM_CPU:-2}
IDEKUBE_VM_DISK_SIZE=${IDEKUBE_VM_DISK_SIZE:-20G}
IDEKUBE_SSH_PORT=${IDEKUBE_SSH_PORT:-22}
IDEKUBE_WEB_PORT=${IDEKUBE_WEB_PORT:-80}
IDEKUBE_MONITOR_PORT=${IDEKUBE_MONITOR_PORT:-23}
IDEKUBE_VM_HEADLESS=${IDEKUBE_VM_HEADLESS:-true}
IDEKUBE_VM_DISABLE_KVM=${IDEKUBE_VM_DISABLE_KVM:-false}
IDEKUBE_AUTHORIZED_KEYS=${IDEKUBE_AUTHORIZED_KEYS:-}
IDEKUBE_VM_STOP_TIMEOUT=${IDEKUBE_VM_STOP_TIMEOUT:-90}

# bool NAME: true/1/yes/on or false/0/no/off/empty; anything else is an error (a typo never flips a switch)
bool() {
    local v=${!1}
    case "${v,,}" in
    true | 1 | yes | on) return 0 ;;
    false | 0 | no | off | '') return 1 ;;
    *) die "$1=$v is not a boolean: use true or false" ;;
    esac
}

port() {
    local v=${!1}
    if ! [[ $v =~ ^[0-9]+$ ]] || ((v < 1 || v > 65535)); then die "$1=$v is not a port number (1-65535)"; fi
}

# bytes SIZE: 20G -> 21474836480
bytes() {
    local n=${1%[KMGT]} u=${1##*[0-9]}
    case "$u" in
    '') echo "$n" ;;
    K) echo $((n * 1024)) ;;
    M) echo $((n * 1024 ** 2)) ;;
    G) echo $((n * 1024 ** 3)) ;;
    T) echo $((n * 1024 ** 4)) ;;
    esac
}

[[ $IDEKUBE_VM_MEMORY =~ ^[1-9][0-9]*[MG]$ ]] || die "IDEKUBE_VM_MEMORY=$IDEKUBE_VM_MEMORY: use a size such as 2G or 1536M"
[[ $IDEKUBE_VM_CPU =~ ^[1-9][0-9]*$ ]] || die "IDEKUBE_VM_CPU=$IDEKUBE_VM_CPU: use a number of CPUs"
[[ $IDEKUBE_VM_DISK_SIZE =~ ^[1-9][0-9]*[KMGT]?$ ]] || die "IDEKUBE_VM_DISK_SIZE=$IDEKUBE_VM_DISK_SIZE: use a size such as 20G"
[[ $IDEKUBE_VM_STOP_TIMEOUT =~ ^[0-9]+$ ]] || die "IDEKUBE_VM_STOP_TIMEOUT=$IDEKUBE_VM_STOP_TIMEOUT: use seconds"
port IDEKUBE_SSH_PORT
port IDEKUBE_WEB_PORT
port IDEKUBE_MONITOR_PORT

# What idekube recorded about the shipped disk (plain KEY=VALUE lines; read, never sourced).
declare -A VM=()
while IFS= read -r line || [ -n "$line" ]; do
    [[ $line =~ ^([A-Z_]+)=(.*)$ ]] && VM[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done <"$SHIPPED/vm.env"
ARCH=${VM[IDEKUBE_VM_ARCH]:-}
BOOT=${VM[IDEKUBE_VM_BOOT]:-}
DISK_ID=${VM[IDEKUBE_VM_DISK_ID]:-}
case "$ARCH" in
amd64) QEMU=qemu-system-x86_64 MACHINE=q35 TCG_CPU=max CONSOLE=ttyS0 ;;
arm64) QEMU=qemu-system-aarch64 MACHINE=virt TCG_CPU=cortex-a57 CONSOLE=ttyAMA0 ;;
*) die "$SHIPPED/vm.env: unknown IDEKUBE_VM_ARCH '$ARCH'" ;;
esac
[ -n "$DISK_ID" ] || die "$SHIPPED/vm.env has no IDEKUBE_VM_DISK_ID"
mkdir -p "$RUN" "$DATA"

# Firmware boot (cloud images): SeaBIOS on amd64, the distribution's UEFI build on arm64 (its variable
# store lives in the data volume, next to the disk).
firmware_args=()
if [ "$BOOT" = firmware ] && [ "$ARCH" = arm64 ]; then
    code=/usr/share/AAVMF/AAVMF_CODE.fd vars=/usr/share/AAVMF/AAVMF_VARS.fd
    [ -f "$code" ] || die "no aarch64 UEFI firmware ($code): the image lacks qemu-efi-aarch64"
    [ -f "$DATA/efivars.fd" ] || cp "$vars" "$DATA/efivars.fd"
    firmware_args=(-drive "if=pflash,format=raw,readonly=on,file=$code" -drive "if=pflash,format=raw,file=$DATA/efivars.fd")
fi
boot_args=()
if [ "$BOOT" = kernel ]; then
    boot_args=(-kernel "$SHIPPED/vmlinuz" -initrd "$SHIPPED/initrd.img" -append "${VM[IDEKUBE_VM_APPEND]:-root=/dev/vda rw console=$CONSOLE panic=1}")
elif [ "$ARCH" = amd64 ]; then
    boot_args=(-boot order=c)
fi

# ---------------------------------------------------------------- accelerator

# KVM only after a probe boot reaches a serial marker within 20 s: /dev/kvm can exist, open, and still hang
# every guest (nested PVM hosts).
probe_kvm() {
    local plog=$RUN/kvm-probe.log marker pid i ok=1
    local args=(-nodefaults -no-reboot -machine "$MACHINE" -accel kvm -cpu host -smp 1 -m 512M -display none -monitor none -serial "file:$plog")
    : >"$plog"
    if [ "$BOOT" = kernel ]; then
        marker=idekube_probe=$RANDOM$RANDOM
        args+=(-kernel "$SHIPPED/vmlinuz" -append "console=$CONSOLE panic=-1 $marker")
    else
        marker='Linux version'
        args+=("${firmware_args[@]}" -drive "file=$SHIPPED/disk.qcow2,if=virtio,format=qcow2,snapshot=on")
    fi
    "$QEMU" "${args[@]}" </dev/null >"$RUN/kvm-probe.qemu.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 80; i++)); do
        if grep -q "$marker" "$plog" 2>/dev/null; then
            ok=0
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return "$ok"
}

accel_args=(-accel "tcg,thread=multi" -cpu "$TCG_CPU")
if bool IDEKUBE_VM_DISABLE_KVM; then
    log "accelerator: TCG (IDEKUBE_VM_DISABLE_KVM)"
elif [ ! -c /dev/kvm ]; then
    log "accelerator: TCG (no /dev/kvm in the container; pass --device /dev/kvm to try KVM)"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    log "accelerator: TCG (/dev/kvm is not readable and writable)"
elif probe_kvm; then
    accel_args=(-accel kvm -cpu host)
    log "accelerator: KVM (probe boot reached the kernel)"
else
    log "accelerator: TCG (/dev/kvm is there but a probe boot under KVM showed nothing within 20 s)"
fi

# ---------------------------------------------------------------- disk

DISK=$DATA/disk.qcow2
if [ ! -e "$DISK" ]; then
    log "first start: creating $DISK (copy-on-write on the shipped disk $DISK_ID)"
    qemu-img create -q -f qcow2 -F qcow2 -b "$SHIPPED/disk.qcow2" "$DISK.tmp"
    printf '%s\n' "$DISK_ID" >"$DATA/disk.id"
    mv -f "$DISK.tmp" "$DISK"
else
    have=$(cat "$DATA/disk.id" 2>/dev/null || true)
    if [ "$have" != "$DISK_ID" ]; then
        die "$DISK was made from another image's disk (${have:-unknown}; this image ships $DISK_ID). It is kept as it is: start this image with a new volume, or run the image that made it."
    fi
    log "reusing $DISK"
fi
want=$(bytes "$IDEKUBE_VM_DISK_SIZE")
have=$(qemu-img info --output=json "$DISK" | sed -n 's/^ *"virtual-size": *\([0-9]*\).*/\1/p' | head -n1)
if [ -n "$have" ] && ((want > have)); then
    log "growing the disk to $IDEKUBE_VM_DISK_SIZE"
    qemu-img resize -q "$DISK" "$want"
elif [ -n "$have" ] && ((want < have)); then
    log "the disk ($have bytes) is larger than IDEKUBE_VM_DISK_SIZE=$IDEKUBE_VM_DISK_SIZE; disks never shrink"
fi

# ---------------------------------------------------------------- seed (authorized keys)

seed_args=()
if [ -n "$IDEKUBE_AUTHORIZED_KEYS" ]; then
    seed=$RUN/seed
    rm -rf "$seed" && mkdir -p "$seed"
    if printf '%s' "$IDEKUBE_AUTHORIZED_KEYS" | base64 -d >"$seed/authorized_keys" 2>/dev/null && [ -s "$seed/authorized_keys" ]; then
        printf 'instance-id: idekube-%s\nlocal-hostname: idekube-vm\n' "$DISK_ID" >"$seed/meta-data"
        printf '#cloud-config\nusers: []\nssh_pwauth: false\n' >"$seed/user-data"
        (cd "$seed" && genisoimage -quiet -output "$RUN/seed.iso" -volid cidata -joliet -rock user-data meta-data authorized_keys)
        seed_args=(-drive "file=$RUN/seed.iso,if=virtio,format=raw,readonly=on")
        log "authorized keys for idekube from IDEKUBE_AUTHORIZED_KEYS"
    else
        log "IDEKUBE_AUTHORIZED_KEYS is not valid base64 (or empty once decoded); ignored"
    fi
fi

# ---------------------------------------------------------------- run

display_args=(-display none)
# headless amd64: graphics=off also sends SeaBIOS's messages to the serial console (docker logs)
[ "$ARCH" = amd64 ] && MACHINE=$MACHINE,graphics=off
if ! bool IDEKUBE_VM_HEADLESS; then
    MACHINE=${MACHINE%,graphics=off}
    display_args=(-device virtio-gpu-pci -device qemu-xhci -device usb-kbd -device usb-tablet -vnc :0)
    log "display: VNC on container port 5900 (no password)"
fi

args=(
    -name "idekube-vm,process=idekube-vm"
    -nodefaults -no-reboot
    -machine "$MACHINE" "${accel_args[@]}"
    -smp "$IDEKUBE_VM_CPU" -m "$IDEKUBE_VM_MEMORY"
    "${firmware_args[@]}" "${boot_args[@]}"
    -drive "file=$DISK,if=virtio,format=qcow2,discard=unmap,cache=writeback"
    "${seed_args[@]}"
    -netdev "user,id=n0,hostfwd=tcp::$IDEKUBE_SSH_PORT-:22,hostfwd=tcp::$IDEKUBE_WEB_PORT-:80"
    -device "virtio-net-pci,netdev=n0,romfile="
    -device virtio-rng-pci
    "${display_args[@]}"
    -chardev "stdio,id=con0,signal=off" -serial chardev:con0
    -monitor "tcp:127.0.0.1:$IDEKUBE_MONITOR_PORT,server=on,wait=off"
)

qpid=
# shellcheck disable=SC2317  # invoked by the trap below
stop_vm() {
    [ -n "$qpid" ] || exit 143
    log "stopping: asking the guest to power off (at most ${IDEKUBE_VM_STOP_TIMEOUT} s)"
    # ACPI power button (systemd-logind powers the guest off); the monitor drops a command whose connection
    # closes at once, so keep it open a moment
    if exec 3<>"/dev/tcp/127.0.0.1/$IDEKUBE_MONITOR_PORT"; then
        printf 'system_powerdown\n' >&3 || true
        sleep 1
        exec 3>&- || true
    fi
    local i
    for ((i = 0; i < IDEKUBE_VM_STOP_TIMEOUT * 2; i++)); do
        kill -0 "$qpid" 2>/dev/null || return 0
        sleep 0.5
    done
    log "the guest did not power off within ${IDEKUBE_VM_STOP_TIMEOUT} s; stopping QEMU"
    kill -TERM "$qpid" 2>/dev/null || true
}
trap stop_vm TERM INT

log "booting $ARCH guest (${VM[IDEKUBE_VM_FLAVOR]:-?}): ${IDEKUBE_VM_CPU} CPUs, ${IDEKUBE_VM_MEMORY}, ssh :$IDEKUBE_SSH_PORT, http :$IDEKUBE_WEB_PORT, monitor 127.0.0.1:$IDEKUBE_MONITOR_PORT"
# stdin stays attached (docker run -it gives the serial console); a background job would get /dev/null
"$QEMU" "${args[@]}" <&0 &
qpid=$!
# `wait` returns early when a trapped signal arrives: wait again until QEMU is gone
while kill -0 "$qpid" 2>/dev/null; do
    wait "$qpid" || true
done
rc=0
wait "$qpid" || rc=$?
log "QEMU exited ($rc)"
exit "$rc"
