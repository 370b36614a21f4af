#!/usr/bin/env bash
# Removes what test daemons left behind when a test run was killed before its clean-up: their monitors and
# containers, bridges and veths (bt<hex> prefixes), iptables chains (BT<HEX>-*), cgroups (berth-test-<hex>) and
# temp dirs (/tmp/bt<hex>-*). Objects of test daemons that are still running are left alone.
set -u
alive=$(pgrep -af 'dist/src/daemon/main.js' | grep -o -- '--cgroup-parent berth-test-[0-9a-f]*' | sed 's/.*berth-test-//')
is_alive() { for t in $alive; do [ "$t" = "$1" ] && return 0; done; return 1; }

tags=$( {
  ls -d /tmp/bt[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-* 2>/dev/null | sed -E 's#^/tmp/bt([0-9a-f]{6}).*#\1#'
  ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -oE '^bt[0-9a-f]{6}' | cut -c3-
  iptables-save 2>/dev/null | grep -oE 'BT[0-9A-F]{6}-' | cut -c3-8 | tr 'A-F' 'a-f'
  ls -d /sys/fs/cgroup/*/berth-test-* 2>/dev/null | grep -oE 'berth-test-[0-9a-f]{6}$' | cut -c12-
} | sort -u)

for tag in $tags; do
  is_alive "$tag" && continue
  for root in /tmp/bt"$tag"-*; do
    [ -d "$root" ] || continue
    for pid in $(pgrep -f -- "$root/"); do kill -9 "$pid" 2>/dev/null; done
  done
  for f in /sys/fs/cgroup/freezer/berth-test-"$tag"/*/freezer.state; do [ -f "$f" ] && echo THAWED >"$f"; done
  cat /sys/fs/cgroup/pids/berth-test-"$tag"/*/cgroup.procs 2>/dev/null | xargs -r kill -9 2>/dev/null
  sleep 0.3
  for root in /tmp/bt"$tag"-*; do [ -d "$root" ] && { umount -R "$root" 2>/dev/null; rm -rf "$root"; }; done
  ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^bt$tag" | while read -r l; do ip link del "$l" 2>/dev/null; done
  up=$(echo "$tag" | tr 'a-f' 'A-F')
  for table in filter nat raw mangle; do
    iptables -t "$table" -S 2>/dev/null | grep -- "-j BT$up-" | sed 's/^-A/-D/' | while read -r rule; do eval iptables -t "$table" "$rule" 2>/dev/null; done
    for ch in $(iptables -t "$table" -S 2>/dev/null | grep -oE "^-N BT$up-[A-Z]+" | cut -d' ' -f2); do
      iptables -t "$table" -F "$ch" 2>/dev/null; iptables -t "$table" -X "$ch" 2>/dev/null
    done
  done
  for cg in /sys/fs/cgroup/*/berth-test-"$tag"; do
    [ -d "$cg" ] || continue
    find "$cg" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
    rmdir "$cg" 2>/dev/null
  done
  echo "removed leftovers of test daemon $tag"
done
