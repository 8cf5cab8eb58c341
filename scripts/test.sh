#!/bin/bash
# Sets up and runs slipway's whole test suite on a fresh Debian VM with Node 20, as root:
# installs Docker Engine, Apache, Redis, git and busybox-static when missing, starts dockerd,
# installs npm dependencies, builds, and runs every unit and end-to-end test. Idempotent.
# The tests start their own private Apache and Redis instances on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund
npm run --silent build
npx tsc -p tsconfig.test.json
npx vitest run "$@"
