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
# Two lanes side by side: the files that simulate other hosts (their own network namespaces,
# dockerd and Apache instances; mostly waiting on them), with one long single-host file (tls-auto)
# to even the lanes out, run beside the rest, which runs one file at a time as always. With arguments
# (`bash scripts/test.sh test/e2e/x.e2e.test.ts`) one lane runs them.
HOST_FILES=(test/e2e/multi-host.e2e.test.ts test/e2e/multi-host-workers.e2e.test.ts test/e2e/cluster-hosts.e2e.test.ts test/e2e/image-transport.e2e.test.ts test/e2e/tls-auto.e2e.test.ts)
status=0
if [ "$#" -eq 0 ]; then
  rm -f test-artifacts/vitest-hosts.json
  # Its slipway servers on this machine's own network take app ports from a range of their own:
  # the two lanes never pick the same free port at the same moment.
  SLIPWAY_PORT_RANGE=9000-9899 npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest-hosts.json "${HOST_FILES[@]}" >test-artifacts/hosts-lane.log 2>&1 &
  hosts_lane=$!
  excludes=()
  for f in "${HOST_FILES[@]}"; do excludes+=(--exclude "$f"); done
  npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "${excludes[@]}" || status=$?
  hosts_status=0
  wait "$hosts_lane" || hosts_status=$?
  echo "---- the hosts lane (${HOST_FILES[*]}) ----"
  cat test-artifacts/hosts-lane.log
  [ "$hosts_status" -eq 0 ] || status=$hosts_status
else
  rm -f test-artifacts/vitest-hosts.json
  npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
fi
# One plain closing line for both lanes, whatever the reporters printed above it.
node -e '
  const fs = require("fs");
  const lanes = ["./test-artifacts/vitest.json", "./test-artifacts/vitest-hosts.json"].filter((f) => fs.existsSync(f)).map((f) => require(f));
  const sum = (k) => lanes.reduce((n, r) => n + (r[k] || 0), 0);
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped`);
' || true
exit "$status"
