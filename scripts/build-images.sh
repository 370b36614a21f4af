#!/usr/bin/env bash
# Builds the root filesystems of Berth's built-in images as deterministic tars:
#   OUTDIR/hello-world.tar   /hello, compiled from images/hello-world/hello.c
#   OUTDIR/busybox.tar       Debian's static busybox with applet links in /bin, /etc/passwd,
#                            /etc/group and the usual empty directories
# They are then imported like any `docker import` (see src/engine/images/builtin.ts).
# Usage: scripts/build-images.sh OUTDIR
set -euo pipefail

fail() { echo "build-images.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || fail "usage: scripts/build-images.sh OUTDIR"
out=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
umask 022
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Same bytes for the same inputs: sorted names, fixed times and owners, GNU format.
pack() { # pack ROOTFS TARFILE
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$1" -cf "$2.tmp" .
  mv "$2.tmp" "$2"
}

# --- hello-world ---------------------------------------------------------------------------
hello_src=$repo/images/hello-world/hello.c
hello_bin=$repo/images/hello-world/hello
if [ ! -x "$hello_bin" ] || [ "$hello_src" -nt "$hello_bin" ]; then
  command -v gcc >/dev/null 2>&1 ||
    fail "gcc is needed to compile $hello_src (Debian: apt-get install gcc)"
  "$repo/images/hello-world/build.sh" "$hello_bin"
fi
hello_root=$work/hello-world
mkdir -m 0755 "$hello_root"
install -m 0755 "$hello_bin" "$hello_root/hello"
pack "$hello_root" "$out/hello-world.tar"

# --- busybox -------------------------------------------------------------------------------
busybox=
for candidate in /usr/bin/busybox /bin/busybox; do
  if [ -x "$candidate" ]; then busybox=$candidate; break; fi
done
[ -n "$busybox" ] || fail "busybox not found; install Debian's busybox-static (apt-get install busybox-static)"
if command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" | grep -q 'program interpreter'; then
  fail "$busybox is dynamically linked; install Debian's busybox-static instead of busybox"
fi

bb_root=$work/busybox
mkdir -m 0755 "$bb_root"
mkdir -m 0755 "$bb_root"/{bin,dev,etc,home,proc,sys,usr,var}
mkdir -m 0700 "$bb_root/root"
mkdir -m 1777 "$bb_root/tmp"
install -m 0755 "$busybox" "$bb_root/bin/busybox"
"$busybox" --list | while read -r applet; do
  [ -n "$applet" ] && [ "$applet" != busybox ] && ln -s busybox "$bb_root/bin/$applet"
done
[ -L "$bb_root/bin/sh" ] || fail "$busybox --list gave no 'sh' applet"
cat >"$bb_root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat >"$bb_root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
GROUP
chmod 0644 "$bb_root/etc/passwd" "$bb_root/etc/group"
pack "$bb_root" "$out/busybox.tar"

echo "built $out/hello-world.tar $out/busybox.tar"
