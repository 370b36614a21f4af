/**
 * A tree copied into an extractor without a tar in between: TreeWalker's entries go to a tar entry
 * handler (the same extractors that read uploads and downloads, so names, owners, modes and every
 * check are the ones a tar would get), and file data moves inside the kernel (copy_file_range or
 * sendfile, through libuv's copyFile on the two open files) in the thread pool, several files at once.
 */
import * as fs from 'node:fs';
import type { HeaderFields } from './header';
import { NO_PAX, TYPES, type TarEntry, type TarEntryHandler, type TarEntrySink } from './reader';
import type { TreeWalker } from './walk';

/** Files being copied at once: enough to keep the thread pool busy, few enough to bound open files. */
const PARALLEL = 16;
/** Below this size a file is read and written on the spot: a thread-pool round trip would cost more. */
const SMALL_FILE = 64 << 10;

/** The entry a tar reader would hand on for these header fields. */
export function entryOf(h: HeaderFields): TarEntry {
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
      const p = fs.promises
        .copyFile(`/proc/self/fd/${src}`, `/proc/self/fd/${dst}`)
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
