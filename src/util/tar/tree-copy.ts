/**
 * A tree copied into an extractor without a tar in between: TreeWalker's entries go to a tar entry
 * handler (the same extractors that read uploads and downloads, so names, owners, modes and every
 * check are the ones a tar would get), and file data goes straight from one open file to the other by
 * positioned reads and writes in the thread pool, several files at once: no tar, socket or HTTP framing in
 * between, and no buffer allocated per piece.
 */
import * as fs from 'node:fs';
import type { HeaderFields } from './header';
import { NO_PAX, TYPES, type TarEntry, type TarEntryHandler, type TarEntrySink } from './reader';
import type { TreeWalker } from './walk';

/** Files being copied at once: enough to keep the thread pool busy, few enough to bound open files. */
const PARALLEL = 16;
/** Below this size a file is read and written on the spot: a thread-pool round trip would cost more. */
const SMALL_FILE = 64 << 10;
/** Bytes of a file read and written per thread-pool call (one buffer per file being copied). */
const POOL_CHUNK = 1 << 20;

/** The entry a tar reader would hand on for these header fields. */
function entryOf(h: HeaderFields): TarEntry {
  return {
    name: h.name,
    type: TYPES[h.type] ?? 'other',
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: new Date(h.mtime * 1000),
    linkname: h.linkname ?? '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
    pax: NO_PAX,
  };
}

/** Copies every entry of `walker` into `handler`; resolves once all data is written and every sink ended. */
export async function copyTree(walker: TreeWalker, handler: TarEntryHandler): Promise<void> {
  const running = new Set<Promise<void>>();
  const spare: Buffer[] = [];
  let failure: unknown;
  try {
    for (;;) {
      if (failure) throw failure;
      const e = walker.next();
      if (!e) break;
      let sink: TarEntrySink | undefined;
      try {
        const s = handler(entryOf(e.fields));
        sink = s instanceof Promise ? await s : s;
      } catch (err) {
        if (e.fd !== undefined) fs.closeSync(e.fd);
        throw err;
      }
      if (e.fd === undefined) continue;
      const src = e.fd;
      const size = e.fields.size;
      if (!sink) {
        fs.closeSync(src);
        continue;
      }
      if (size <= SMALL_FILE || sink.fd === undefined) {
        try {
          copyThroughBuffers(src, sink, size);
        } finally {
          fs.closeSync(src);
        }
        continue;
      }
      const dst = sink.fd;
      const done = sink;
      const buf = spare.pop() ?? Buffer.allocUnsafe(POOL_CHUNK);
      const p = copyInPool(src, dst, size, buf)
        .then(() => done.end())
        .catch((err: unknown) => {
          failure ??= err;
          try {
            done.end();
          } catch {
            /* already failing */
          }
        })
        .finally(() => {
          fs.closeSync(src);
          spare.push(buf);
          running.delete(p);
        });
      running.add(p);
      if (running.size >= PARALLEL) await Promise.race(running);
    }
  } catch (err) {
    failure ??= err;
  }
  await Promise.all(running);
  if (failure) throw failure;
}

/**
 * `size` bytes from `src` to `dst`, both from offset 0, by positioned reads and writes in the thread
 * pool through `buf`. A source that ends early is padded with zeros to `size`, as its tar would be; one
 * that grew is cut at `size`. (libuv's copyFile would move the data in the kernel, but it loops forever
 * on a file that shrinks while it is copied, or that has less data than its size says, as in sysfs.)
 */
function copyInPool(src: number, dst: number, size: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let pos = 0;
    const write = (off: number, len: number) => {
      fs.write(dst, buf, off, len, pos, (err, n) => {
        if (err) return reject(err);
        pos += n;
        if (n < len) return write(off + n, len - n);
        read();
      });
    };
    const read = () => {
      if (pos >= size) return resolve();
      const want = Math.min(buf.length, size - pos);
      fs.read(src, buf, 0, want, pos, (err, n) => {
        if (err) return reject(err);
        if (n === 0) {
          buf.fill(0, 0, want);
          n = want;
        }
        write(0, n);
      });
    };
    read();
  });
}

/**
 * A file's data read into fresh buffers (sinks may keep what they are given until it is written) and
 * handed to the sink's write(), then end().
 */
function copyThroughBuffers(src: number, sink: TarEntrySink, size: number): void {
  let left = size;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
    let n = fs.readSync(src, buf, 0, buf.length, null);
    if (n === 0) {
      // The file shrank meanwhile: the size announced is written, as a tar would carry it.
      buf.fill(0);
      n = buf.length;
    }
    sink.write(n === buf.length ? buf : buf.subarray(0, n));
    left -= n;
  }
  sink.end();
}
