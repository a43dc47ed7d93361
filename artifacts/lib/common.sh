# shellcheck shell=bash
# idekube install-time helpers, sourced by every layer's install script:
#
#   . "$(dirname "$0")/../../lib/common.sh"
#
# The layout is the same in the repository (artifacts/layers/<name>/install.sh
# next to artifacts/lib/), in a Docker build (bind-mounted under /tmp/idekube/)
# and in a VM provisioned over SSH, so nothing here depends on Docker.
#
# Sourcing this file exports DEBIAN_FRONTEND=noninteractive and installs an
# EXIT trap that removes the work folders made with `make_workdir` and, when the
# script used apt, the package lists and the package cache. Layer scripts do
# not set their own EXIT trap; they register extra clean-up with `on_exit`.

# Command substitutions fail the script like any other command.
shopt -s inherit_errexit

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8

IDEKUBE_LAYER=${IDEKUBE_LAYER:-$(basename -- "$(dirname -- "$0")")}

log() { printf '[idekube:%s] %s\n' "$IDEKUBE_LAYER" "$*" >&2; }
warn() { printf '[idekube:%s] WARNING: %s\n' "$IDEKUBE_LAYER" "$*" >&2; }
die() {
    printf '[idekube:%s] ERROR: %s\n' "$IDEKUBE_LAYER" "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- clean-up

_IDEKUBE_EXIT_CMDS=()
_IDEKUBE_APT_USED=0
_IDEKUBE_APT_UPDATED=0

# on_exit CMD [ARG...]: run CMD when the script exits (last registered first).
on_exit() {
    local quoted
    printf -v quoted '%q ' "$@"
    _IDEKUBE_EXIT_CMDS=("$quoted" "${_IDEKUBE_EXIT_CMDS[@]}")
}

_idekube_on_exit() {
    local rc=$? cmd
    for cmd in "${_IDEKUBE_EXIT_CMDS[@]}"; do
        eval "$cmd" || warn "clean-up step failed: $cmd"
    done
    if [ "$_IDEKUBE_APT_USED" = 1 ]; then
        apt-get clean
        rm -rf /var/lib/apt/lists/*
    fi
    rm -rf /root/.cache/pip
    if [ "$rc" -ne 0 ]; then
        printf '[idekube:%s] ERROR: install script failed (exit %s)\n' "$IDEKUBE_LAYER" "$rc" >&2
    fi
    return "$rc"
}
trap _idekube_on_exit EXIT

_new_workdir() {
    mktemp -d /tmp/idekube-"$IDEKUBE_LAYER".XXXXXX || die "cannot create a work folder under /tmp"
}

# make_workdir: set WORK to a new empty folder under /tmp, removed at exit.
WORK=
make_workdir() {
    WORK=$(_new_workdir)
    on_exit rm -rf -- "$WORK"
}

# ---------------------------------------------------------------- arguments

# require_var NAME...: every NAME must be set and non-empty.
require_var() {
    local n
    for n in "$@"; do
        if [ -z "${!n:-}" ]; then
            die "$n is not set: add $n=<value> to .dockerargs (or pass --set $n=<value>)"
        fi
    done
}

# is_true NAME: the value of the toggle NAME is true (true/1/yes/on) or false
# (false/0/no/off/empty). Anything else is an error, so typos do not silently
# switch a feature off.
is_true() {
    local v=${!1:-}
    case "${v,,}" in
        true | 1 | yes | on) return 0 ;;
        false | 0 | no | off | '') return 1 ;;
        *) die "$1=$v is not a boolean: use true or false" ;;
    esac
}

# ---------------------------------------------------------------- architecture

# arch_deb: amd64 or arm64 (Debian/Docker names). Fails on anything else.
arch_deb() {
    local a
    a=$(dpkg --print-architecture 2>/dev/null || true)
    case "$a" in
        amd64 | arm64) printf '%s\n' "$a" ;;
        '') die "cannot tell the architecture: dpkg --print-architecture failed" ;;
        *) die "unsupported architecture '$a': idekube images are built for amd64 and arm64" ;;
    esac
}

# arch_gnu: x86_64 or aarch64 (kernel/GNU names) for the same architecture.
arch_gnu() {
    local a
    a=$(arch_deb) || return 1
    case "$a" in
        amd64) printf 'x86_64\n' ;;
        arm64) printf 'aarch64\n' ;;
    esac
}

# arch_var PREFIX: the value of PREFIX_AMD64 or PREFIX_ARM64 (empty when unset),
# e.g. `arch_var CODER_SHA256` reads CODER_SHA256_AMD64 on amd64.
arch_var() {
    local a name
    a=$(arch_deb) || return 1
    name="$1_${a^^}"
    printf '%s\n' "${!name:-}"
}

# ---------------------------------------------------------------- downloads

_ensure_curl() {
    if ! command -v curl >/dev/null 2>&1 || [ ! -e /etc/ssl/certs/ca-certificates.crt ]; then
        apt_install curl ca-certificates
    fi
}

# verify_sha256 FILE SHA256 [NAME]: fail unless FILE has that SHA-256 (NAME
# names the file in the error, default its base name).
verify_sha256() {
    local file=$1 want=${2,,} name=${3:-$(basename -- "$1")} got
    [[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "'$2' is not a SHA-256 (64 hex digits)"
    got=$(sha256sum -- "$file" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        die "checksum mismatch for $name: expected $want, got $got"
    fi
}

# fetch URL DEST [SHA256]: download URL to DEST with retries. When SHA256 is
# given the file must match it; otherwise its checksum is logged so that it
# can be pinned. DEST appears only once the download is complete.
fetch() {
    local url=$1 dest=$2 sha=${3:-}
    case "$url" in
        https://*) ;;
        *) die "refusing to download over plain HTTP: $url" ;;
    esac
    _ensure_curl
    log "downloading $url"
    rm -f -- "$dest.part"
    if ! curl -fsSL --proto '=https' --tlsv1.2 --retry 5 --retry-delay 3 --retry-connrefused \
        --connect-timeout 30 -o "$dest.part" "$url"; then
        rm -f -- "$dest.part"
        die "download failed: $url"
    fi
    if [ -n "$sha" ]; then
        if ! (verify_sha256 "$dest.part" "$sha" "$url"); then
            rm -f -- "$dest.part"
            exit 1
        fi
        log "checksum verified for $(basename -- "$url")"
    else
        log "no checksum pinned for $(basename -- "$url"); sha256=$(sha256sum -- "$dest.part" | cut -d' ' -f1)"
    fi
    mv -f -- "$dest.part" "$dest"
}

# ---------------------------------------------------------------- apt

# apt_refresh: (re)read the package lists, e.g. after adding a repository.
apt_refresh() {
    _IDEKUBE_APT_USED=1
    apt-get -o Acquire::Retries=3 update
    _IDEKUBE_APT_UPDATED=1
}

# apt_install PKG...: install without recommended packages. Package lists are
# fetched once per script and removed when the script exits. A PKG may be a
# path to a local .deb (absolute or ./relative).
apt_install() {
    [ "$#" -gt 0 ] || return 0
    _IDEKUBE_APT_USED=1
    if [ "$_IDEKUBE_APT_UPDATED" != 1 ]; then
        apt_refresh
    fi
    apt-get -o Acquire::Retries=3 install -y --no-install-recommends "$@"
}

# apt_installed PKG: true when PKG is installed.
apt_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# apt_purge_if_installed PKG...: purge the PKGs that are installed.
apt_purge_if_installed() {
    local p present=()
    for p in "$@"; do
        if apt_installed "$p"; then present+=("$p"); fi
    done
    [ "${#present[@]}" -gt 0 ] || return 0
    _IDEKUBE_APT_USED=1
    apt-get purge -y "${present[@]}"
}

_installed_packages() {
    dpkg-query -W -f='${db:Status-Status} ${binary:Package}\n' | awk '$1 == "installed" { print $2 }' | LC_ALL=C sort
}

_IDEKUBE_BUILD_DEPS=()

# apt_build_deps PKG...: install build dependencies that are purged again by
# apt_purge_build_deps. Only packages this call newly installs are purged;
# whatever was there before (e.g. a compiler a previous layer ships on purpose)
# stays.
apt_build_deps() {
    local before after
    before=$(_installed_packages)
    apt_install "$@"
    after=$(_installed_packages)
    mapfile -t _IDEKUBE_BUILD_DEPS < <(LC_ALL=C comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
    log "temporary build dependencies: ${#_IDEKUBE_BUILD_DEPS[@]} packages"
}

# apt_purge_build_deps [FILE...]: purge what apt_build_deps installed, except
# the packages that own the shared libraries the FILEs (freshly built
# binaries) load; those are kept and marked as manually installed.
apt_purge_build_deps() {
    [ "${#_IDEKUBE_BUILD_DEPS[@]}" -gt 0 ] || return 0
    local f lib owner keep=() purge=() p k skip libs=()
    # each library once: a tree of native modules loads the same few many times over
    mapfile -t libs < <(for f in "$@"; do
        [ -f "$f" ] || continue
        ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
    done | LC_ALL=C sort -u)
    for lib in "${libs[@]}"; do
        owner=$(_owner_of "$lib") || continue
        keep+=("$owner")
    done
    mapfile -t keep < <(printf '%s\n' "${keep[@]}" | LC_ALL=C sort -u | sed '/^$/d')
    for p in "${_IDEKUBE_BUILD_DEPS[@]}"; do
        skip=0
        for k in "${keep[@]}"; do
            if [ "$p" = "$k" ] || [ "${p%%:*}" = "${k%%:*}" ]; then skip=1; fi
        done
        if [ "$skip" = 1 ]; then
            log "keeping $p: the installed binaries load its libraries"
            apt-mark manual "$p" >/dev/null
        else
            purge+=("$p")
        fi
    done
    _IDEKUBE_APT_USED=1
    if [ "${#purge[@]}" -gt 0 ]; then
        apt-get purge -y "${purge[@]}"
    fi
    _IDEKUBE_BUILD_DEPS=()
}

# _owner_of PATH: the package that ships PATH (trying the /usr-merged twins).
_owner_of() {
    local path=$1 real candidates=() c out
    real=$(readlink -f -- "$path" 2>/dev/null || printf '%s' "$path")
    candidates=("$path" "$real")
    for c in "$path" "$real"; do
        case "$c" in
            /usr/lib/*) candidates+=("${c#/usr}") ;;
            /lib/*) candidates+=("/usr$c") ;;
        esac
    done
    for c in "${candidates[@]}"; do
        out=$(dpkg-query -S -- "$c" 2>/dev/null | head -n1) || continue
        [ -n "$out" ] || continue
        printf '%s\n' "${out%%: *}"
        return 0
    done
    return 1
}

# ---------------------------------------------------------------- files

# install_text MODE DEST: write standard input to DEST (creating its folder)
# with MODE, owned by root.
install_text() {
    local mode=$1 dest=$2 tmp
    mkdir -p -- "$(dirname -- "$dest")"
    tmp=$(mktemp "$dest.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    mv -f -- "$tmp" "$dest"
}

# append_block FILE MARKER: append standard input to FILE between marker
# comments, replacing an earlier block with the same MARKER (idempotent).
append_block() {
    local file=$1 marker=$2 begin end tmp
    begin="# >>> idekube: $marker >>>"
    end="# <<< idekube: $marker <<<"
    mkdir -p -- "$(dirname -- "$file")"
    touch -- "$file"
    tmp=$(mktemp "$file.XXXXXX")
    awk -v b="$begin" -v e="$end" '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$file" >"$tmp"
    { printf '%s\n' "$begin"; cat; printf '%s\n' "$end"; } >>"$tmp"
    chmod --reference="$file" "$tmp"
    mv -f -- "$tmp" "$file"
}

# conda_python: the Python of the Miniconda base environment.
IDEKUBE_CONDA_PREFIX=/opt/miniconda3
conda_python() {
    local py=$IDEKUBE_CONDA_PREFIX/bin/python
    [ -x "$py" ] || die "Miniconda is not installed at $IDEKUBE_CONDA_PREFIX: put the miniconda layer before this one"
    printf '%s\n' "$py"
}
