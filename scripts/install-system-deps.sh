#!/bin/bash
# Installs what slipway needs on a fresh Debian 12, as root (Docker Engine, Apache, Redis, git),
# plus, with --tests, what only the test suite needs (busybox-static for test images, Chromium for
# the dashboard test, fail2ban for its filter test, pebble for the "tls": "auto" test), and makes sure a Docker engine is running. Idempotent: installs only missing
# binaries, starts dockerd only when `docker info` fails. It does NOT start the system Apache or
# Redis (scripts/run.sh starts Apache; the tests run private instances).
set -euo pipefail

for_tests=no
[ "${1:-}" = "--tests" ] && for_tests=yes

log() { printf '[install-system-deps] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root" >&2
  exit 1
fi

# binary to check -> Debian package that provides it
declare -A PACKAGE_FOR=(
  [docker]=docker.io
  [dockerd]=docker.io
  [apache2]=apache2
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [git]=git
  [chromium]=chromium
  [fail2ban-regex]=fail2ban
  [ssh-keygen]=openssh-client
  [ssh]=openssh-client
  [sshd]=openssh-server
  [pebble]=pebble
  [openssl]=openssl
  [ip]=iproute2
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
)
# ssh-keygen: `slipway keys:add` checks keys with it. sshd: the ssh push tests run a private one.
# openssl: `slipway hosts:add` makes the cluster's CA and server certificate with it (src/cluster/cluster-ca.ts).
binaries=(docker dockerd apache2 redis-server redis-cli git ssh-keygen openssl docker-registry htpasswd)
# docker-registry: the image registry slipway runs for the hosts of a cluster (its own instance, its
# own config; src/cluster/image-registry.ts); htpasswd writes that registry's bcrypt user file.
# fail2ban-regex checks the shipped fail2ban filter against a real slipway log (red-team e2e test).
# pebble: a local ACME server for the "tls": "auto" tests (test/support/pebble-instance.ts);
# openssl makes the test servers' throwaway certificates (test/support/self-signed-certificate.ts).
# ip (iproute2) gives each private dockerd its own bridge (test/support/dockerd-instance.ts), and each
# simulated host its network namespace (test/support/netns-host.ts).
[ "$for_tests" = yes ] && binaries+=(chromium fail2ban-regex ssh sshd pebble openssl ip)
missing=()
for bin in "${binaries[@]}"; do
  # apache2 lives in /usr/sbin, which a non-login root shell may not have on PATH.
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    missing+=("${PACKAGE_FOR[$bin]}")
  fi
done
# busybox-static specifically: a dynamically linked busybox would not run in a FROM scratch image.
if [ "$for_tests" = yes ] && { [ ! -x /bin/busybox ] || ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; }; then
  missing+=(busybox-static)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  # de-duplicate, keep order
  mapfile -t packages < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
  log "installing: ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101 keeps the packages' postinst from starting system apache2/redis/docker/ssh services.
  policy=/usr/sbin/policy-rc.d
  created_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=yes
  fi
  status=0
  apt-get install -y -qq "${packages[@]}" || status=$?
  if [ "$created_policy" = yes ]; then rm -f "$policy"; fi
  if [ "$status" -ne 0 ]; then
    log "apt-get install failed with exit $status" >&2
    exit "$status"
  fi
  log "installed: ${packages[*]}"
else
  log "already installed: docker.io, apache2, redis-server, git, openssh-client$([ "$for_tests" = yes ] && echo ', busybox-static, chromium, fail2ban, openssh-server, pebble, openssl, iproute2')"
fi

if docker info >/dev/null 2>&1; then
  log "docker engine: already running"
else
  if [ -d /run/systemd/system ]; then
    log "starting docker.service"
    systemctl enable --now docker >/dev/null 2>&1 || true
  fi
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then break; fi
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not answer within 60 s; last log lines:" >&2
    tail -n 30 /var/log/dockerd.log >&2 || true
    exit 1
  fi
  log "docker engine: started ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
fi

log "not starting system apache2/redis-server here (scripts/run.sh starts Apache; tests run private instances)"
log "done"
