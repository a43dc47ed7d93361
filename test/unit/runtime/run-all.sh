#!/usr/bin/env bash
# Runs every test/unit/runtime/*.test.sh; prints each one's TAP output and a
# summary; exit 1 when any failed.
set -uo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
failed=()
for t in "$here"/*.test.sh; do
    printf '# %s\n' "$(basename -- "$t")"
    bash "$t" || failed+=("$(basename -- "$t")")
done
if [ "${#failed[@]}" -gt 0 ]; then
    printf '# FAILED: %s\n' "${failed[*]}"
    exit 1
fi
printf '# all runtime unit tests passed\n'
