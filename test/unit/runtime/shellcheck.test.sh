#!/usr/bin/env bash
# Every runtime script passes shellcheck. TAP output; skipped when shellcheck
# is not installed (Debian: apt-get install shellcheck).
set -uo pipefail
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../../.." && pwd)
if ! command -v shellcheck >/dev/null 2>&1; then
    printf 'ok 1 # SKIP shellcheck not installed\n1..1\n'
    exit 0
fi
n=0 failed=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    if out=$(cd -- "$(dirname -- "$f")" && shellcheck -x "$(basename -- "$f")" 2>&1); then
        printf 'ok %d - shellcheck %s\n' "$n" "${f#"$root"/}"
    else
        failed=$((failed + 1))
        printf 'not ok %d - shellcheck %s\n' "$n" "${f#"$root"/}"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
done < <(find "$root/artifacts/runtime" "$root/test/unit/runtime" -name '*.sh' -type f -print0 | LC_ALL=C sort -z)
printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
