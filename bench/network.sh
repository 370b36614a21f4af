#!/usr/bin/env bash
# Network costs, measured through the real docker CLI in one interleaved run against berthd and, when given, a
# reference engine:
#   1. setup: median wall time of `run --rm IMAGE true` with --network none and with the default bridge; the
#      difference is what networking adds (veth pair, addresses, routes, rules);
#   2. throughput of a published port on 127.0.0.1 (berth: in-process loopback proxy; Docker: docker-proxy): a
#      container serves a 60 MiB file with busybox httpd, a Node client on the host GETs it until BYTES were read
#      through 127.0.0.1:PORT.
#   bench/network.sh unix:///run/berth/berth.sock [unix:///tmp/refdocker/docker.sock]
# Env: N (samples, default 20), IMAGE (default busybox), REF_IMAGE (default busybox:local), BYTES (default 1 GiB),
# ROUNDS (throughput rounds, default 3).
set -euo pipefail
CAND=${1:?usage: network.sh CANDIDATE_SOCKET [REFERENCE_SOCKET]}
REF=${2:-}
N=${N:-20}
IMAGE=${IMAGE:-busybox}
REF_IMAGE=${REF_IMAGE:-busybox:local}
BYTES=${BYTES:-1073741824}
ROUNDS=${ROUNDS:-3}
DOCKER=${DOCKER:-docker}

us_of() { # host image netargs... -> microseconds of one run
  local host=$1 image=$2 start end
  shift 2
  start=$(date +%s%N)
  DOCKER_HOST=$host "$DOCKER" run --rm "$@" "$image" true >/dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) printf "%.1f\n", a[(NR+1)/2]/1000; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2000}'; }

setup_bench() { # label host image
  local label=$1 host=$2 image=$3 none=() dflt=()
  us_of "$host" "$image" --network none >/dev/null
  us_of "$host" "$image" >/dev/null
  for i in $(seq "$N"); do
    if (( i % 2 )); then none+=("$(us_of "$host" "$image" --network none)"); dflt+=("$(us_of "$host" "$image")")
    else dflt+=("$(us_of "$host" "$image")"); none+=("$(us_of "$host" "$image" --network none)"); fi
  done
  local a b
  a=$(printf '%s\n' "${none[@]}" | median)
  b=$(printf '%s\n' "${dflt[@]}" | median)
  printf '%s run --rm true: --network none %s ms, default bridge %s ms, networking adds %s ms (medians, n=%d)\n' \
    "$label" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", b - a}')" "$N"
}

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

read_mbps() { # port -> MB/s reading BYTES over HTTP (GET /z, 60 MiB, repeated) from 127.0.0.1:port
  node -e '
    const http = require("http");
    const [port, total] = [Number(process.argv[1]), Number(process.argv[2])];
    const agent = new http.Agent({ keepAlive: false });
    let got = 0, t0;
    const one = () => http.get({ host: "127.0.0.1", port, path: "/z", agent }, (res) => {
      res.on("data", (c) => (got += c.length));
      res.on("end", () => { if (got < total) one(); else console.log((got / 1048576 / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(1)); });
    }).on("error", (e) => { console.error(e.message); process.exit(1); });
    const probe = (left) => http.get({ host: "127.0.0.1", port, path: "/", agent }, (res) => { res.resume(); res.on("end", () => { t0 = process.hrtime.bigint(); one(); }); })
      .on("error", () => (left > 0 ? setTimeout(() => probe(left - 1), 200) : process.exit(1)));
    probe(50);' "$1" "$BYTES"
}

throughput_bench() { # label host image -> prints MB/s of each round and the median
  local label=$1 host=$2 image=$3 port name out=()
  port=$(free_port)
  name=netbench-$$-$RANDOM
  # busybox httpd serves a 60 MiB file from tmpfs (sendfile); nc would be the bottleneck (~140 MB/s here)
  DOCKER_HOST=$host "$DOCKER" run -d --name "$name" -p "127.0.0.1:$port:5000" "$image" \
    sh -c 'dd if=/dev/zero of=/dev/shm/z bs=1M count=60 2>/dev/null; exec httpd -f -p 5000 -h /dev/shm' >/dev/null
  for _ in $(seq "$ROUNDS"); do out+=("$(read_mbps "$port")"); done
  DOCKER_HOST=$host "$DOCKER" rm -f "$name" >/dev/null
  local med
  med=$(printf '%s\n' "${out[@]}" | awk '{print $1*1000}' | median)
  printf '%s 127.0.0.1 published port: %s MB/s (median of %s rounds: %s)\n' "$label" "$med" "$ROUNDS" "${out[*]}"
  echo "$med" > "/tmp/netbench-$label-$$"
}

setup_bench berth "$CAND" "$IMAGE"
[ -z "$REF" ] || setup_bench reference "$REF" "$REF_IMAGE"
throughput_bench berth "$CAND" "$IMAGE"
if [ -n "$REF" ]; then
  throughput_bench reference "$REF" "$REF_IMAGE"
  awk -v c="$(cat /tmp/netbench-berth-$$)" -v r="$(cat /tmp/netbench-reference-$$)" 'BEGIN {printf "throughput ratio berth/reference: %.2f\n", c / r}'
fi
rm -f /tmp/netbench-*-$$
