#!/usr/bin/env bash
# Installs everything Berth needs on a Debian 12 machine (as root), links berth/berthd onto PATH, starts berthd
# with its defaults (socket /run/berth/berth.sock) and creates the built-in images.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
repo=$(pwd)

log() { printf '==> %s\n' "$*"; }

bash scripts/install.sh

ln -sfn "$repo/bin/berthd" /usr/local/bin/berthd
ln -sfn "$repo/bin/berth" /usr/local/bin/berth

sock=/run/berth/berth.sock
if [ -S "$sock" ] && node dist/src/daemon/seed-images.js --ping "$sock" 2>/dev/null; then
  log "restarting the running berthd"
  pid=$(cat /run/berth/berthd.pid 2>/dev/null || true)
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  for _ in $(seq 50); do [ -S "$sock" ] || break; sleep 0.1; done
fi
log "starting berthd (log: /var/log/berthd.log)"
mkdir -p /var/log
nohup "$repo/bin/berthd" >>/var/log/berthd.log 2>&1 </dev/null &
for _ in $(seq 100); do
  node dist/src/daemon/seed-images.js --ping "$sock" 2>/dev/null && break
  sleep 0.1
done
log "creating the built-in images"
node dist/src/daemon/seed-images.js --host "unix://$sock" --dir dist/images
log "ready: try 'berth run hello-world' or 'DOCKER_HOST=unix://$sock docker run hello-world'"
