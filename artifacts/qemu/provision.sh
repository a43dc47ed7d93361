#!/usr/bin/env bash
# idekube VM provisioning driver. idekube uploads it with the flavor's layers to /tmp/idekube/ and runs it
# as root over SSH (see src/qemu/payload.ts for the layout):
#
#   provision.sh run      install idekube's guest files, run each layer step (script with its build args
#                         and ENV, then its copy: entries), install the generated services (systemd units,
#                         nginx conf.d/idekube.conf), then the flavor's VM-only script, if any
#   provision.sh kernel   print the newest /boot/vmlinuz-* and its initrd (for direct kernel boot)
#   provision.sh finish   make the disk neutral and power off: remove the upload, apt caches, cloud-init
#                         state, SSH host keys, the machine id and the provisioning account; fstrim; sync;
#                         systemctl poweroff
#
# Values (build args, ENV, copy paths) come from NUL-separated files under plan/, never from shell text.
set -euo pipefail
shopt -s inherit_errexit

ROOT=/tmp/idekube
PLAN=$ROOT/plan
HOSTKEYS=/run/idekube-hostkeys
PROVISION_USER=idekube-provision
BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf '[idekube-vm] %s\n' "$*"; }
die() {
    printf '[idekube-vm] ERROR: %s\n' "$*" >&2
    exit 1
}
# A line the host parses for progress.
step() { printf '::idekube-step:: %s\n' "$*"; }

wait_cloud_init() {
    if command -v cloud-init >/dev/null 2>&1; then
        say "waiting for cloud-init to finish (at most 10 minutes)"
        timeout 600 cloud-init status --wait >/dev/null || say "cloud-init status: $(cloud-init status 2>&1 | tail -n1)"
    fi
}

# Layer scripts may remove the SSH host keys (images make them per container at start-up). The build's
# SSH connections pin the first key, so the keys are kept aside and put back after each step.
save_hostkeys() {
    mkdir -p "$HOSTKEYS"
    cp -a /etc/ssh/ssh_host_* "$HOSTKEYS"/ 2>/dev/null || true
}
restore_hostkeys() {
    local k
    for k in "$HOSTKEYS"/ssh_host_*; do
        [ -e "$k" ] || continue
        [ -e "/etc/ssh/$(basename -- "$k")" ] || cp -a "$k" /etc/ssh/
    done
}

install_guest_files() {
    cp -a "$ROOT/guest/." /
    systemctl daemon-reload
    systemctl enable idekube-seed.service idekube-growfs.service >/dev/null 2>&1
}

# copy_entry SRC DEST CHOWN: Docker COPY semantics for one copy: entry of layer $layer_dir.
copy_entry() {
    local src=$layer_dir/$1 dest=$2 owner=$3 e
    [ -e "$src" ] || die "copy source $1 of layer $layer does not exist"
    if [ -d "$src" ]; then
        mkdir -p -- "$dest"
        cp -a -- "$src/." "$dest/"
        if [ -n "$owner" ]; then
            for e in "$src"/* "$src"/.[!.]* "$src"/..?*; do
                [ -e "$e" ] || continue
                chown -R -- "$owner" "$dest/$(basename -- "$e")"
            done
        fi
    else
        if [[ $dest == */ ]]; then
            mkdir -p -- "$dest"
            dest=$dest$(basename -- "$src")
        else
            mkdir -p -- "$(dirname -- "$dest")"
        fi
        cp -a -- "$src" "$dest"
        [ -z "$owner" ] || chown -- "$owner" "$dest"
    fi
}

run_step() {
    local id=$1 dir=$PLAN/$1 script env_vars=() rec=() i
    layer=$2
    layer_dir=$ROOT/layers/$layer
    step "layer $layer"
    if [ -s "$dir/run" ]; then
        script=$(cat "$dir/run")
        [ -f "$layer_dir/$script" ] || die "script $script of layer $layer was not uploaded"
        mapfile -d '' -t env_vars <"$dir/env"
        say "layer $layer: bash $script"
        (cd / && env -i PATH="$BASE_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
            "${env_vars[@]}" IDEKUBE_LAYER="$layer" bash "$layer_dir/$script") ||
            die "layer $layer: $script failed"
    fi
    mapfile -d '' -t rec <"$dir/copy"
    for ((i = 0; i + 2 < ${#rec[@]}; i += 3)); do
        say "layer $layer: copy ${rec[i]} -> ${rec[i + 1]}"
        copy_entry "${rec[i]}" "${rec[i + 1]}" "${rec[i + 2]}"
    done
    restore_hostkeys
    : "$id"
}

install_services() {
    local u units=() system=()
    step "services"
    command -v nginx >/dev/null 2>&1 || die "nginx is not installed: a VM serves its services through nginx, like the container (install it in a layer)"
    cp -a "$ROOT/files/." /
    rm -f /etc/nginx/sites-enabled/default
    nginx -t -q || die "the generated nginx configuration does not load (nginx -t)"
    mapfile -t units <"$PLAN/units"
    mapfile -t system <"$PLAN/system-units"
    systemctl daemon-reload
    for u in "${system[@]}" "${units[@]}"; do
        [ -n "$u" ] || continue
        systemctl enable "$u" >/dev/null 2>&1 || die "systemctl enable $u failed"
        systemctl restart "$u" || die "$u does not start: $(systemctl status --no-pager -n 20 "$u" 2>&1 || true)"
        say "service $u enabled and started"
    done
}

check_services() {
    local u units=() failed=0
    mapfile -t units < <(cat "$PLAN/system-units" "$PLAN/units")
    sleep 3
    for u in "${units[@]}"; do
        [ -n "$u" ] || continue
        if systemctl is-active --quiet "$u"; then
            say "service $u is active"
        else
            failed=1
            printf '[idekube-vm] ERROR: %s is not active:\n' "$u" >&2
            systemctl status --no-pager -n 20 "$u" >&2 || true
        fi
    done
    [ "$failed" = 0 ] || die "some services are not running"
}

run_vm_step() {
    [ -f "$ROOT/vm-step/provision.sh" ] || return 0
    local flavor_env=()
    step "vm-step"
    mapfile -d '' -t flavor_env <"$PLAN/flavor-env"
    say "VM-only step: bash vm-step/provision.sh"
    (cd "$ROOT/vm-step" && env -i PATH="$BASE_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
        "${flavor_env[@]}" bash "$ROOT/vm-step/provision.sh") || die "the VM-only step (provision.sh) failed"
    restore_hostkeys
}

# During provisioning only: apt skips translation files (a third of every `apt-get update` under TCG), and
# waits for the dpkg lock instead of failing while a cloud image's first-boot apt jobs hold it.
APT_CONF=/etc/apt/apt.conf.d/99idekube-provisioning

cmd_run() {
    [ "$(id -u)" = 0 ] || die "run me as root"
    wait_cloud_init
    if [ -d /etc/apt/apt.conf.d ]; then
        printf '// idekube: only while the disk is provisioned (removed before it is published)\nAcquire::Languages "none";\nDPkg::Lock::Timeout "600";\n' >"$APT_CONF"
    fi
    save_hostkeys
    install_guest_files
    local id layer
    while read -r id layer; do
        [ -n "$id" ] || continue
        run_step "$id" "$layer"
    done <"$PLAN/steps"
    install_services
    run_vm_step
    check_services
    step "done"
}

cmd_ensure_python() {
    command -v python3 >/dev/null 2>&1 && return 0
    say "installing python3 for the Ansible playbook"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3
}

cmd_kernel() {
    local k v
    k=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -type f | sort -V | tail -n1)
    [ -n "$k" ] || die "no /boot/vmlinuz-* on this disk"
    v=${k#/boot/vmlinuz-}
    [ -f "/boot/initrd.img-$v" ] || die "no /boot/initrd.img-$v"
    printf '%s\n%s\n' "$k" "/boot/initrd.img-$v"
}

cmd_finish() {
    [ "$(id -u)" = 0 ] || die "run me as root"
    step "finish"
    if command -v cloud-init >/dev/null 2>&1; then
        cloud-init clean --logs --seed >/dev/null 2>&1 || cloud-init clean --logs || true
    fi
    rm -f "$APT_CONF"
    if command -v apt-get >/dev/null 2>&1; then apt-get clean; fi
    rm -rf /var/lib/apt/lists/* /var/tmp/* "$HOSTKEYS"
    rm -f /etc/ssh/ssh_host_* /var/lib/idekube/seed-instance-id
    # a new machine id on the first boot of every copy of this disk
    : >/etc/machine-id
    rm -f /var/lib/dbus/machine-id
    journalctl --rotate >/dev/null 2>&1 || true
    journalctl --vacuum-time=1s >/dev/null 2>&1 || true
    rm -f /etc/sudoers.d/90-idekube-provision
    userdel --force --remove "$PROVISION_USER" >/dev/null 2>&1 || say "note: userdel $PROVISION_USER: $?"
    rm -rf /var/lib/idekube-provision
    rm -rf "$ROOT"
    fstrim -a >/dev/null 2>&1 || true
    sync
    say "powering off"
    systemctl poweroff --no-block
}

case "${1:-}" in
run) cmd_run ;;
ensure-python) cmd_ensure_python ;;
kernel) cmd_kernel ;;
finish) cmd_finish ;;
*) die "usage: provision.sh run|ensure-python|kernel|finish" ;;
esac
