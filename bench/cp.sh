#!/usr/bin/env bash
# Throughput of `cp` of a 100 MB directory into and out of a running busybox container, in one
# interleaved run (median of N rounds each):
#   docker CLI -> reference engine (when a reference socket is given; Docker 20.10 here),
#   docker CLI -> berthd, and berth CLI -> berthd (bin/berth, start-up included): as root on the daemon's
#   machine berthd copies the files itself (local copy), and with BERTH_CP_TAR=1 as a tar like any client,
# with the speed-up of both berthd rows over the reference.
#   bench/cp.sh unix:///run/berth/berth.sock [unix:///tmp/refdocker/docker.sock]
# Each timed copy starts after a sync. Then the same through the API alone (curl: PUT of a prebuilt tar, GET to /dev/null), which leaves out the
# CLI's own tar writing and extraction.
# Env: N (rounds, default 3), MB (directory size, default 100), FILES (number of files, default 200),
#      DOCKER (CLI, default docker), BERTH (CLI, default bin/berth of this checkout),
#      CAND_IMAGE / REF_IMAGE (default busybox / busybox:local).
set -euo pipefail
CAND=${1:?usage: cp.sh CANDIDATE_SOCKET [REFERENCE_SOCKET]}
REF=${2:-}
N=${N:-3}
MB=${MB:-100}
FILES=${FILES:-200}
DOCKER=${DOCKER:-docker}
BERTH=${BERTH:-$(cd "$(dirname "$0")/.." && pwd)/bin/berth}
CAND_IMAGE=${CAND_IMAGE:-busybox}
REF_IMAGE=${REF_IMAGE:-busybox:local}

work=$(mktemp -d /tmp/berth-bench-cp-XXXXXX)
containers=()
cleanup() {
  for c in "${containers[@]}"; do DOCKER_HOST=${c%%|*} "$DOCKER" rm -f "${c##*|}" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --- the data: FILES files of random bytes, MB in total, in two levels of directories -------------
per=$((MB * 1024 * 1024 / FILES))
mkdir -p "$work/src/payload"
for i in $(seq "$FILES"); do
  d="$work/src/payload/d$((i % 10))"
  mkdir -p "$d"
  head -c "$per" /dev/urandom >"$d/f$i.bin"
done
bytes=$(du -sb "$work/src/payload" | cut -f1)
tar -C "$work/src" -cf "$work/payload.tar" payload
echo "payload: $FILES files, $((bytes / 1000000)) MB"

. "$(dirname "$0")/lib.sh"
# Every copy starts with nothing waiting to be written back: the copies before it (hundreds of MB per
# round, more of them on berthd, which has three client rows) would otherwise slow down whichever runs next.
synced_secs() { sync; secs "$@"; }

engines=(cand)
[ -z "$REF" ] || engines+=(ref)
sock() { [ "$1" = cand ] && echo "$CAND" || echo "$REF"; }
image() { [ "$1" = cand ] && echo "$CAND_IMAGE" || echo "$REF_IMAGE"; }
declare -A name in_t out_t api_in_t api_out_t
for e in "${engines[@]}"; do
  name[$e]=bench-cp-$$-$e
  DOCKER_HOST=$(sock "$e") "$DOCKER" run -d --name "${name[$e]}" "$(image "$e")" sleep 3600 >/dev/null
  containers+=("$(sock "$e")|${name[$e]}")
  in_t[$e]="" out_t[$e]="" api_in_t[$e]="" api_out_t[$e]=""
done
# The berth CLI against berthd: same container as the docker CLI rows.
name[berth]=${name[cand]}
in_t[berth]="" out_t[berth]="" in_t[berthtar]="" out_t[berthtar]=""
check_out() {
  local got
  got=$(du -sb "$work/out" | cut -f1)
  [ "$got" = "$bytes" ] || { echo "$1: copied $got bytes back, expected $bytes" >&2; exit 1; }
}
api_ver() { [ "$1" = cand ] && echo v1.50 || echo v1.41; }
sockpath() { sock "$1" | sed 's|^unix://||'; }

for i in $(seq "$N"); do
  order=("${engines[@]}")
  [ $((i % 2)) -eq 0 ] && [ ${#order[@]} -eq 2 ] && order=("${order[1]}" "${order[0]}")
  for e in "${order[@]}"; do
    h=$(sock "$e")
    DOCKER_HOST=$h "$DOCKER" exec "${name[$e]}" /bin/busybox rm -rf /payload
    t=$(synced_secs env DOCKER_HOST="$h" "$DOCKER" cp "$work/src/payload" "${name[$e]}:/payload")
    in_t[$e]+="$t "
    rm -rf "$work/out"
    t=$(synced_secs env DOCKER_HOST="$h" "$DOCKER" cp "${name[$e]}:/payload" "$work/out")
    out_t[$e]+="$t "
    check_out "$e"
    rm -rf "$work/out"
    if [ "$e" = cand ]; then
      DOCKER_HOST=$h "$DOCKER" exec "${name[$e]}" /bin/busybox rm -rf /payload
      t=$(synced_secs "$BERTH" -H "$h" cp "$work/src/payload" "${name[$e]}:/payload")
      in_t[berth]+="$t "
      t=$(synced_secs "$BERTH" -H "$h" cp "${name[$e]}:/payload" "$work/out")
      out_t[berth]+="$t "
      check_out berth
      rm -rf "$work/out"
      DOCKER_HOST=$h "$DOCKER" exec "${name[$e]}" /bin/busybox rm -rf /payload
      t=$(synced_secs env BERTH_CP_TAR=1 "$BERTH" -H "$h" cp "$work/src/payload" "${name[$e]}:/payload")
      in_t[berthtar]+="$t "
      t=$(synced_secs env BERTH_CP_TAR=1 "$BERTH" -H "$h" cp "${name[$e]}:/payload" "$work/out")
      out_t[berthtar]+="$t "
      check_out berthtar
      rm -rf "$work/out"
    fi
    DOCKER_HOST=$h "$DOCKER" exec "${name[$e]}" /bin/busybox rm -rf /payload
    t=$(synced_secs curl -sf -XPUT --unix-socket "$(sockpath "$e")" -H 'Transfer-Encoding: chunked' -T "$work/payload.tar" \
      "http://localhost/$(api_ver "$e")/containers/${name[$e]}/archive?path=/")
    api_in_t[$e]+="$t "
    t=$(synced_secs curl -sf --unix-socket "$(sockpath "$e")" -o /dev/null "http://localhost/$(api_ver "$e")/containers/${name[$e]}/archive?path=/payload")
    api_out_t[$e]+="$t "
  done
done

row() { printf '%-28s %12s %12s %14s %14s\n' "$@"; }
row 'client -> engine' 'cp in MB/s' 'cp out MB/s' 'API PUT MB/s' 'API GET MB/s'
declare -A in_m out_m ai_m ao_m
med() { echo "$1" | tr ' ' '\n' | grep . | median; }
for e in "${engines[@]}"; do
  in_m[$e]=$(med "${in_t[$e]}") out_m[$e]=$(med "${out_t[$e]}") ai_m[$e]=$(med "${api_in_t[$e]}") ao_m[$e]=$(med "${api_out_t[$e]}")
done
in_m[berth]=$(med "${in_t[berth]}") out_m[berth]=$(med "${out_t[berth]}")
in_m[berthtar]=$(med "${in_t[berthtar]}") out_m[berthtar]=$(med "${out_t[berthtar]}")
[ -z "$REF" ] || row 'docker CLI -> reference' "$(mbps "${in_m[ref]}")" "$(mbps "${out_m[ref]}")" "$(mbps "${ai_m[ref]}")" "$(mbps "${ao_m[ref]}")"
row 'docker CLI -> berthd' "$(mbps "${in_m[cand]}")" "$(mbps "${out_m[cand]}")" "$(mbps "${ai_m[cand]}")" "$(mbps "${ao_m[cand]}")"
row 'berth CLI -> berthd' "$(mbps "${in_m[berth]}")" "$(mbps "${out_m[berth]}")" '-' '-'
row 'berth CLI (tar) -> berthd' "$(mbps "${in_m[berthtar]}")" "$(mbps "${out_m[berthtar]}")" '-' '-'
if [ -n "$REF" ]; then
  awk -v ci="${in_m[cand]}" -v ri="${in_m[ref]}" -v co="${out_m[cand]}" -v ro="${out_m[ref]}" \
    -v bi="${in_m[berth]}" -v bo="${out_m[berth]}" -v ti="${in_m[berthtar]}" -v to="${out_m[berthtar]}" \
    -v ai="${ai_m[cand]}" -v ar="${ai_m[ref]}" -v oi="${ao_m[cand]}" -v or="${ao_m[ref]}" \
    'BEGIN {
      printf "speed-up over the reference: docker CLI -> berthd: cp in %.2fx, out %.2fx; API PUT %.2fx, GET %.2fx\n", ri / ci, ro / co, ar / ai, or / oi
      printf "speed-up over the reference: berth CLI -> berthd: cp in %.2fx, out %.2fx\n", ri / bi, ro / bo
      printf "speed-up over the reference: berth CLI (tar) -> berthd: cp in %.2fx, out %.2fx\n", ri / ti, ro / to
    }'
fi
