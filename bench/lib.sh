# Helpers shared by the throughput benchmarks (sourced, not run).
secs() { # command... -> seconds it took (3 decimals); its output is discarded
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null
  e=$(date +%s%N)
  awk -v n=$((e - s)) 'BEGIN {printf "%.3f", n / 1e9}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN {printf "%.1f", b / 1e6 / s}'; } # seconds -> MB/s of $bytes
