#!/usr/bin/env bash
# Throughput of `docker save` and `docker load` (real docker CLI) for a 100 MB image of 5 layers of
# random data, against berthd and, when a reference socket is given, against that engine in the same
# interleaved run; then layer extraction MB/s of Berth's extractor against GNU `tar -x` of the same
# layer tar (one layer of large files, one of many small files).
#   bench/save-load.sh unix:///run/berth/berth.sock [unix:///tmp/refdocker/docker.sock]
# Env: N (rounds, default 3), LAYER_MB (default 20), DOCKER (CLI, default docker).
set -euo pipefail
CAND=${1:?usage: save-load.sh CANDIDATE_SOCKET [REFERENCE_SOCKET]}
REF=${2:-}
N=${N:-3}
LAYER_MB=${LAYER_MB:-20}
DOCKER=${DOCKER:-docker}
REPO=$(cd "$(dirname "$0")/.." && pwd)
TAG=bench/saveload:1

work=$(mktemp -d /tmp/berth-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- the image: a docker-archive made by hand (no engine involved) ------------------------------
mkdir -p "$work/archive"
diff_ids=() history=()
for i in 1 2 3 4 5; do
  mkdir -p "$work/l$i"
  head -c "${LAYER_MB}M" /dev/urandom >"$work/l$i/data$i.bin"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/l$i" -cf "$work/layer$i.tar" .
  d=$(sha256sum "$work/layer$i.tar" | cut -d' ' -f1)
  mv "$work/layer$i.tar" "$work/archive/$d.tar"
  diff_ids+=("\"sha256:$d\"") history+=("{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"layer $i\"}")
done
join() { local IFS=,; echo "$*"; }
printf '{"architecture":"amd64","config":{"Cmd":["sh"]},"created":"2024-01-01T00:00:00Z","history":[%s],"os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$(join "${history[@]}")" "$(join "${diff_ids[@]}")" >"$work/config.json"
cid=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/archive/$cid.json"
layers=$(for d in "${diff_ids[@]}"; do printf '"%s.tar",' "${d//[\"]/}" | sed 's/sha256://'; done)
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$cid" "$TAG" "${layers%,}" >"$work/archive/manifest.json"
tar -C "$work/archive" -cf "$work/image.tar" .
bytes=$(stat -c %s "$work/image.tar")
echo "image: $TAG sha256:${cid:0:12}, 5 layers, $((bytes / 1000000)) MB archive"

. "$(dirname "$0")/lib.sh"
rmi_quiet() { DOCKER_HOST=$1 "$DOCKER" rmi -f "$TAG" >/dev/null 2>&1 || true; }
load_once() { rmi_quiet "$1"; secs env DOCKER_HOST="$1" "$DOCKER" load -q -i "$work/image.tar"; }
save_once() { rm -f "$work/out.tar"; secs env DOCKER_HOST="$1" "$DOCKER" save -o "$work/out.tar" "$TAG"; }

engines=(cand) ; [ -z "$REF" ] || engines+=(ref)
declare -A load_t save_t
for e in "${engines[@]}"; do load_t[$e]="" save_t[$e]=""; done
sock() { [ "$1" = cand ] && echo "$CAND" || echo "$REF"; }
for i in $(seq "$N"); do
  order=("${engines[@]}")
  if (( i % 2 == 0 )) && [ -n "$REF" ]; then order=(ref cand); fi
  for e in "${order[@]}"; do
    load_t[$e]+="$(load_once "$(sock "$e")") "
    save_t[$e]+="$(save_once "$(sock "$e")") "
  done
done
declare -A load_mbps save_mbps
for e in "${engines[@]}"; do
  l=$(tr ' ' '\n' <<<"${load_t[$e]}" | grep . | median)
  s=$(tr ' ' '\n' <<<"${save_t[$e]}" | grep . | median)
  load_mbps[$e]=$(mbps "$l") save_mbps[$e]=$(mbps "$s")
  name=$([ "$e" = cand ] && echo berth || echo reference)
  printf 'load %-9s median %6.3f s  %7s MB/s (n=%d)\n' "$name" "$l" "${load_mbps[$e]}" "$N"
  printf 'save %-9s median %6.3f s  %7s MB/s (n=%d)\n' "$name" "$s" "${save_mbps[$e]}" "$N"
  rmi_quiet "$(sock "$e")"
done
if [ -n "$REF" ]; then
  awk -v c="${load_mbps[cand]}" -v r="${load_mbps[ref]}" 'BEGIN {printf "load throughput berth/reference: %.2fx\n", c / r}'
  awk -v c="${save_mbps[cand]}" -v r="${save_mbps[ref]}" 'BEGIN {printf "save throughput berth/reference: %.2fx\n", c / r}'
fi

# --- extraction: Berth's layer extractor against GNU tar -x --------------------------------------
mkdir -p "$work/small"
for j in $(seq 5000); do head -c 4096 /dev/urandom >"$work/small/f$j"; done
tar -C "$work/small" -cf "$work/small.tar" .
big_layer=$(ls "$work"/archive/*.tar | head -1)
for layer in "$big_layer" "$work/small.tar"; do
  kind=$([ "$layer" = "$work/small.tar" ] && echo "5000 x 4 KiB files" || echo "one ${LAYER_MB} MB file")
  lbytes=$(stat -c %s "$layer")
  berth=() gnu=()
  for i in $(seq "$N"); do
    rm -rf "$work/x" && mkdir "$work/x" && sync
    # Timed inside node after one warm-up extraction, as in the long-running daemon (node's
    # start-up and first compilation are not counted).
    rm -rf "$work/warm" && mkdir "$work/warm"
    berth+=("$(node -e '
      const { extractTar } = require(process.argv[1] + "/dist/src/engine/layers/extract.js");
      const fs = require("fs");
      const run = (dir) => extractTar(fs.createReadStream(process.argv[2], { highWaterMark: 1 << 20 }), dir);
      (async () => {
        await run(process.argv[4]);
        fs.rmSync(process.argv[4], { recursive: true, force: true });
        require("child_process").execSync("sync");
        const t = process.hrtime.bigint();
        await run(process.argv[3]);
        console.log((Number(process.hrtime.bigint() - t) / 1e9).toFixed(3));
      })().catch((e) => { console.error(e); process.exit(1); });
    ' "$REPO" "$layer" "$work/x" "$work/warm")")
    rm -rf "$work/x" "$work/warm" && mkdir "$work/x"
    sync
    gnu+=("$(secs tar -C "$work/x" -xf "$layer")")
  done
  b=$(printf '%s\n' "${berth[@]}" | median) g=$(printf '%s\n' "${gnu[@]}" | median)
  awk -v kind="$kind" -v n="$lbytes" -v b="$b" -v g="$g" 'BEGIN {
    printf "extract %-20s berth %7.1f MB/s  tar -x %7.1f MB/s  berth/tar: %.0f%%\n", kind, n / 1e6 / b, n / 1e6 / g, 100 * g / b }'
done
