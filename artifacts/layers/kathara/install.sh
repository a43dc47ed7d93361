#!/usr/bin/env bash
# Kathara from ppa:katharaframework/kathara, pinned to KATHARA_VERSION.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var KATHARA_VERSION
version=$KATHARA_VERSION
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "KATHARA_VERSION='$version' is not a Kathara release (e.g. 3.8.0)"
arch=$(arch_deb)
[ "$arch" = amd64 ] || die "Kathara is built for amd64 only here, not $arch"
# shellcheck source=/dev/null
codename=$(. /etc/os-release && printf '%s' "${UBUNTU_CODENAME:-${VERSION_CODENAME:-}}")
[ -n "$codename" ] || die "cannot tell the Ubuntu release from /etc/os-release"
keyring=/usr/share/keyrings/kathara-archive-keyring.gpg
fpr=$(printf '%s' "${KATHARA_KEY_FINGERPRINT:-}" | tr -d ' ' | tr '[:lower:]' '[:upper:]')

command -v gpg >/dev/null 2>&1 || apt_install gnupg

make_workdir
# The key is fetched by its fingerprint; with no fingerprint pinned there is nothing to ask for.
[ -n "$fpr" ] || die "KATHARA_KEY_FINGERPRINT is empty: pin the fingerprint of the Kathara PPA signing key"
fetch "https://keyserver.ubuntu.com/pks/lookup?op=get&options=mr&search=0x${fpr}" "$WORK/kathara.key"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 0700 "$GNUPGHOME"
if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$WORK/kathara.key"; then
    gpg --batch --dearmor -o "$WORK/kathara.gpg" "$WORK/kathara.key"
else
    cp "$WORK/kathara.key" "$WORK/kathara.gpg"
fi
fprs=$(gpg --batch --with-colons --show-keys "$WORK/kathara.gpg" | awk -F: '$1 == "fpr" { print $10 }')
grep -qx "$fpr" <<<"$fprs" || die "the Kathara key's fingerprints ($(tr '\n' ' ' <<<"$fprs")) do not include $fpr"
log "Kathara PPA key $fpr verified"
install -m 0644 "$WORK/kathara.gpg" "$keyring"

install_text 0644 /etc/apt/sources.list.d/kathara.list <<LIST
deb [arch=$arch signed-by=$keyring] https://ppa.launchpadcontent.net/katharaframework/kathara/ubuntu $codename main
LIST

apt_refresh
# The PPA names its builds <version>-<n><codename> (e.g. 3.8.0-1noble); a PPA keeps only its newest build, so a
# KATHARA_VERSION it no longer offers fails here: pin the version it lists.
if ! apt_install "kathara=${version}-*" xterm tcpdump iperf3 netcat-openbsd; then
    die "cannot install kathara ${version} from the PPA (it offers: $(apt-cache madison kathara | awk '{ print $3 }' | tr '\n' ' ')): set KATHARA_VERSION to one of those"
fi
apt-mark hold kathara >/dev/null

installed=$(dpkg-query -W -f='${Version}' kathara)
case "$installed" in
    "$version"-*) log "kathara $installed installed" ;;
    *) die "installed kathara $installed, not $version" ;;
esac
command -v kathara >/dev/null 2>&1 || die "the kathara package installed no kathara command"
