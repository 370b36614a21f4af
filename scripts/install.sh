#!/usr/bin/env bash
# Installs what Berth needs on a Debian 12 machine (as root): Debian packages, npm dependencies, the build and
# the built-in image tars. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

log() { printf '==> %s\n' "$*"; }

need_pkgs=()
for spec in runc:runc conmon:conmon ip:iproute2 iptables:iptables busybox:busybox-static catatonit:catatonit \
            gcc:gcc tar:tar script:bsdutils python3:python3; do
  cmd=${spec%%:*}; pkg=${spec#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need_pkgs+=("$pkg")
done
[ -e /usr/include/stdlib.h ] || need_pkgs+=(libc6-dev)
command -v docker >/dev/null 2>&1 || need_pkgs+=(docker.io)
/usr/bin/python3 -c 'import docker' 2>/dev/null || need_pkgs+=(python3-docker)
if ! command -v node >/dev/null 2>&1; then need_pkgs+=(nodejs npm); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "berth needs Node.js 20 or newer (found $(node --version))" >&2
  exit 1
fi

log "installing npm dependencies"
# npm ci insists on lock entries for every platform of node-unix-socket's optional binaries (some are not
# published); npm install with exact versions and the lock file is just as reproducible here.
npm install --no-audit --no-fund --loglevel=error
log "building"
npm run --silent build
log "building the built-in images"
bash scripts/build-images.sh dist/images

