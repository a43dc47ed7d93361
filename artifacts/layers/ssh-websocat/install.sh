#!/usr/bin/env bash
# websocat release binary + sshd configuration for SSH over WebSocket.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var WEBSOCAT_VERSION
version=${WEBSOCAT_VERSION#v}
asset="websocat.$(arch_gnu)-unknown-linux-musl"

make_workdir
fetch "https://github.com/vi/websocat/releases/download/v${version}/${asset}" "$WORK/websocat" "$(arch_var WEBSOCAT_SHA256)"
install -m 0755 "$WORK/websocat" /usr/local/bin/websocat
/usr/local/bin/websocat --version

[ -x /usr/sbin/sshd ] || die "openssh-server is not installed: put a packages layer before this one"

# Keys only. The drop-in is read first (Ubuntu's sshd_config starts with an
# Include of sshd_config.d), and for sshd the first value of a keyword wins.
install_text 0644 /etc/ssh/sshd_config.d/10-idekube.conf <<'CONF'
# idekube: SSH is reached through the /ssh WebSocket; log in with a key.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
CONF
if ! grep -Eq '^\s*Include\s+/etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config; then
    # Older configurations without the Include: set it in the main file.
    sed -E -i 's/^\s*#?\s*PasswordAuthentication\s.*$//' /etc/ssh/sshd_config
    printf '\nPasswordAuthentication no\n' >>/etc/ssh/sshd_config
fi

# Privilege separation folder; sshd -D refuses to start without it.
mkdir -p /run/sshd
chmod 0755 /run/sshd

# Every container must get its own host keys (made at start-up by the runtime),
# so none may be shipped in the image.
rm -f /etc/ssh/ssh_host_*

# The configuration must parse (with a throw-away host key, removed again).
ssh-keygen -q -t ed25519 -N '' -f "$WORK/check_host_key"
/usr/sbin/sshd -t -f /etc/ssh/sshd_config -h "$WORK/check_host_key"
