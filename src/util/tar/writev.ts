import * as fs from 'node:fs';

/** Writes file data gathered from tar bodies (slices of the incoming chunks) in few system calls. */

/** `bufs` without their first `n` bytes (what a short writev left over). */
export function dropBytes(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** Writes all `bytes` bytes of `bufs` at the file's position (or `position`), however short the writes. */
export function writevFullySync(fd: number, bufs: Buffer[], bytes: number, position?: number): void {
  let left = bytes;
  let parts = bufs;
  let at = position;
  while (left > 0) {
    const n = at === undefined ? fs.writevSync(fd, parts) : fs.writevSync(fd, parts, at);
    left -= n;
    if (left === 0) break;
    if (at !== undefined) at += n;
    parts = dropBytes(parts, n);
  }
}
