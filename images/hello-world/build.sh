#!/usr/bin/env bash
# Compiles hello.c into a tiny static x86_64 binary: no libc (-nostdlib, raw syscalls), no
# PIE, no unwind tables, no build ID, stripped, sections packed without page padding.
# Usage: build.sh [OUTPUT]   (default: ./hello next to this script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/hello}

if ! command -v gcc >/dev/null 2>&1; then
  echo "build.sh: gcc is needed to compile $here/hello.c (Debian: apt-get install gcc)" >&2
  exit 1
fi

gcc -static -nostdlib -Os -no-pie -fno-pie -fno-stack-protector \
  -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-ident \
  -Wl,--build-id=none -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--gc-sections -s \
  -o "$out.tmp" "$here/hello.c"
mv "$out.tmp" "$out"
