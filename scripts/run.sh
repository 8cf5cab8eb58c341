#!/bin/bash
# Sets up and runs slipway on a fresh Debian VM with Node 20, as root: installs Docker Engine,
# Apache (with mod_proxy, mod_proxy_http, mod_rewrite, mod_headers, and mod_md + mod_ssl for "tls": "auto"), Redis and git when missing,
# starts Docker and Apache, installs slipway's npm dependencies, builds it, and runs
# `slipway up` in the foreground (git server + worker + embedded Redis). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[slipway setup] %s\n' "$*"; }
have_systemd() { [ -d /run/systemd/system ]; }

bash scripts/install-system-deps.sh

if ! apache2ctl -t >/dev/null 2>&1 || ! apache2ctl -M 2>/dev/null | grep -q rewrite_module || ! apache2ctl -M 2>/dev/null | grep -q proxy_http_module; then
  log "enabling Apache modules proxy, proxy_http, rewrite, headers"
  a2enmod -q proxy proxy_http rewrite headers >/dev/null
fi
# "tls": "auto" apps: Apache's own ACME client (mod_md) with mod_ssl and its session cache.
if ! apache2ctl -M 2>/dev/null | grep -q md_module || ! apache2ctl -M 2>/dev/null | grep -q ssl_module; then
  log "enabling Apache modules md, ssl, socache_shmcb, authz_host (for \"tls\": \"auto\")"
  a2enmod -q md ssl socache_shmcb authz_host >/dev/null
fi
if ! pgrep -x apache2 >/dev/null; then
  log "starting Apache"
  if have_systemd; then systemctl enable --now apache2; else apache2ctl start; fi
else
  apache2ctl graceful
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund
fi
log "building"
npm run --silent build

export SLIPWAY_HOME="${SLIPWAY_HOME:-/var/lib/slipway}"
log "starting slipway (SLIPWAY_HOME=$SLIPWAY_HOME, port ${SLIPWAY_PORT:-7005}); Ctrl-C stops it"
exec node dist/cli.js up
