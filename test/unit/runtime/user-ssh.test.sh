#!/usr/bin/env bash
# Unit tests of artifacts/runtime/lib/user-ssh.sh (~/.ssh, key pair,
# IDEKUBE_AUTHORIZED_KEYS). Self-contained; TAP output; exit 1 on failure.
# Needs ssh-keygen (skips everything without it); no root.
set -uo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
script=$(cd -- "$here/../../.." && pwd)/artifacts/runtime/lib/user-ssh.sh
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

if ! command -v ssh-keygen >/dev/null 2>&1; then
    printf 'ok 1 # SKIP ssh-keygen not installed\n1..1\n'
    exit 0
fi

home=$work/home
mkdir -p "$home"
ak=$home/.ssh/authorized_keys
run() { # run [IDEKUBE_AUTHORIZED_KEYS value]
    if [ $# -gt 0 ]; then
        HOME=$home USER=tester IDEKUBE_AUTHORIZED_KEYS=$1 bash "$script" 2>"$work/log"
    else
        env -u IDEKUBE_AUTHORIZED_KEYS HOME="$home" USER=tester bash "$script" 2>"$work/log"
    fi
}
logged() { grep -qF -- "$1" "$work/log"; }

ssh-keygen -q -t ed25519 -N '' -C alice -f "$work/alice" </dev/null
ssh-keygen -q -t ecdsa -N '' -C bob -f "$work/bob" </dev/null
alice=$(cat "$work/alice.pub")
bob=$(cat "$work/bob.pub")

# 1. variable unset
run
check "unset: exit 0" [ $? -eq 0 ]
check "unset: HOME/.ssh is mode 700" [ "$(stat -c %a "$home/.ssh")" = 700 ]
check "unset: ed25519 key pair generated" [ -f "$home/.ssh/id_ed25519" ] && [ -f "$home/.ssh/id_ed25519.pub" ]
check "unset: no authorized_keys created" [ ! -e "$ak" ]
key_before=$(cat "$home/.ssh/id_ed25519.pub")
run
check "existing key pair is not regenerated" [ "$(cat "$home/.ssh/id_ed25519.pub")" = "$key_before" ]

# 2. valid: two keys, one with options, base64 wrapped at 76 columns (base64's default)
val=$(printf '# team keys\n%s\nfrom="10.0.0.0/8",no-pty %s\n' "$alice" "$bob" | base64)
run "$val"
check "valid: exit 0" [ $? -eq 0 ]
check "valid: authorized_keys mode 600" [ "$(stat -c %a "$ak")" = 600 ]
check "valid: both keys installed" grep -qF "$alice" "$ak"
check "valid: key with options kept verbatim" grep -qF "from=\"10.0.0.0/8\",no-pty $bob" "$ak"
check "valid: logs the count" logged "IDEKUBE_AUTHORIZED_KEYS: installed 2 key(s)"
check "valid: sshd-parsable (ssh-keygen -l lists 2 keys)" [ "$(ssh-keygen -l -f "$ak" | wc -l)" -eq 2 ]

# 3. a key the user added by hand survives a new value
printf '%s\n' "ssh-ed25519 $(cut -d' ' -f2 <<<"$alice") hand-added" >>"$ak"
run "$(printf '%s\n' "$bob" | base64 -w0)"
check "new value: user's own line kept" grep -q "hand-added" "$ak"
check "new value: old managed key replaced" [ "$(grep -c 'alice' "$ak")" -eq 0 ]
check "new value: exactly one managed block" [ "$(grep -c '^# BEGIN idekube' "$ak")" -eq 1 ]
good=$(cat "$ak")

# 4. invalid base64
run 'this is not base64!!'
st=$?
check "invalid base64: exit 1 (start-up continues, logged)" [ "$st" -eq 1 ]
check "invalid base64: ERROR line names IDEKUBE_AUTHORIZED_KEYS and the reason" \
    grep -q 'ERROR: IDEKUBE_AUTHORIZED_KEYS is not valid base64' "$work/log"
check "invalid base64: authorized_keys unchanged" [ "$(cat "$ak")" = "$good" ]

# 5. a plain key instead of base64
run "$alice"
check "plain key: hint to base64-encode it" logged "it looks like a plain public key"
check "plain key: authorized_keys unchanged" [ "$(cat "$ak")" = "$good" ]

# 6. valid base64 of garbage
run "$(printf 'hello world\nnot a key\n' | base64 -w0)"
check "garbage content: ERROR 'no valid public key line'" grep -q 'ERROR: IDEKUBE_AUTHORIZED_KEYS has no valid public key line' "$work/log"
check "garbage content: line numbers reported" logged "line(s) 1 2"
check "garbage content: authorized_keys unchanged" [ "$(cat "$ak")" = "$good" ]

# 7. a truncated key
run "$(printf '%s\n' "${alice:0:40}" | base64 -w0)"
check "truncated key: rejected" grep -q 'no valid public key line' "$work/log"

# 8. only comments
run "$(printf '# nothing here\n\n' | base64 -w0)"
check "comments only: ERROR, unchanged" grep -q 'ERROR: IDEKUBE_AUTHORIZED_KEYS decodes to no key line' "$work/log"

# 9. binary
run "$(head -c 64 /dev/urandom | base64 -w0)"
check "binary data: rejected" grep -q 'ERROR: IDEKUBE_AUTHORIZED_KEYS' "$work/log"
check "binary data: authorized_keys unchanged" [ "$(cat "$ak")" = "$good" ]

# 10. mixed valid and invalid lines
run "$(printf 'junk\n%s\r\n' "$alice" | base64 -w0)"
check "mixed: valid key installed (CRLF tolerated)" grep -qF "$alice" "$ak"
check "mixed: invalid line reported" logged "ignored 1 invalid line(s) (line(s) 1"

# 11. empty value: nothing changes
before=$(cat "$ak")
run ""
check "empty value: unchanged, exit 0" [ "$(cat "$ak")" = "$before" ]

# 12. ~/.ssh that is a file
h3=$work/h3
mkdir -p "$h3" && : >"$h3/.ssh"
HOME=$h3 bash "$script" 2>"$work/log"
check "HOME/.ssh is a file: exit 1 with ERROR" [ $? -eq 1 ] && logged "is not a folder"

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
