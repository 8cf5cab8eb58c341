#!/bin/bash
# Sets up and runs slipway's whole test suite on a fresh Debian VM with Node 20, as root:
# installs Docker Engine, Apache, Redis, git, busybox-static and Chromium when missing, starts
# dockerd, installs npm dependencies, builds, type-checks, lints, and runs every unit and end-to-end
# test. Idempotent. The tests start their own private Apache and Redis instances on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh --tests
npm ci --no-audit --no-fund
npm run --silent build
npx tsc -p tsconfig.test.json
# ESLint, Prettier and the layer rules (docs/architecture.md): a violation fails the run before any test.
npm run --silent lint
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
# One plain closing line, whatever the reporter printed above it.
node -e '
  const r = require("./test-artifacts/vitest.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped`);
' || true
exit "$status"
