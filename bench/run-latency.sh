#!/usr/bin/env bash
# Latency of `docker run --rm IMAGE true` through the real docker CLI: median of N (default 20) against berthd
# and, when a reference socket is given, against that engine in the same interleaved run, with the ratio.
#   bench/run-latency.sh unix:///run/berth/berth.sock [unix:///tmp/refdocker/docker.sock]
# Env: N (samples, default 20), IMAGE (default busybox; the reference engine needs it too, e.g. busybox:local via
# REF_IMAGE), WARMUP (default 2).
set -euo pipefail
CAND=${1:?usage: run-latency.sh CANDIDATE_SOCKET [REFERENCE_SOCKET]}
REF=${2:-}
N=${N:-20}
WARMUP=${WARMUP:-2}
IMAGE=${IMAGE:-busybox}
REF_IMAGE=${REF_IMAGE:-busybox:local}
DOCKER=${DOCKER:-docker}

ms_of() { # host image -> milliseconds of one run
  local start end
  start=$(date +%s%N)
  DOCKER_HOST=$1 "$DOCKER" run --rm "$2" true >/dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) printf "%.1f\n", a[(NR+1)/2]/1000; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2000}'; }

for _ in $(seq "$WARMUP"); do
  ms_of "$CAND" "$IMAGE" >/dev/null
  [ -z "$REF" ] || ms_of "$REF" "$REF_IMAGE" >/dev/null
done
cand=() ref=()
for i in $(seq "$N"); do
  if (( i % 2 )) || [ -z "$REF" ]; then
    cand+=("$(ms_of "$CAND" "$IMAGE")")
    [ -z "$REF" ] || ref+=("$(ms_of "$REF" "$REF_IMAGE")")
  else
    ref+=("$(ms_of "$REF" "$REF_IMAGE")")
    cand+=("$(ms_of "$CAND" "$IMAGE")")
  fi
done
c=$(printf '%s\n' "${cand[@]}" | median)
printf 'run_rm_true berth: median %s ms (n=%d)\n' "$c" "$N"
if [ -n "$REF" ]; then
  r=$(printf '%s\n' "${ref[@]}" | median)
  printf 'run_rm_true reference: median %s ms (n=%d)\n' "$r" "$N"
  awk -v c="$c" -v r="$r" 'BEGIN {printf "ratio berth/reference: %.2f\n", c / r}'
fi
