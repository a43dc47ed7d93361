#!/usr/bin/env bash
# Runs every test: sets up the engine environment (as root: dockerd, registry, binfmt, base images), builds,
# then unit and integration tests. This is the README's test command (`npm test`) and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash test/env/setup.sh
else
  echo "test/run-all.sh: not root; assuming test/env/setup.sh was already run (it needs root)" >&2
fi

npx tsc -p .
# the lint + format gate (biome.jsonc): a formatting drift or a lint error fails the run before any test
npx biome ci --colors=off
# Integration test files build images on a 2-core machine: run files one at a time.
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=dist/test-results.tap \
  dist/test/unit/ dist/test/integration/
