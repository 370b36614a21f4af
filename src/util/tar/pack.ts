/**
 * The tar writer of every tree Berth archives: `docker cp` out of a container and `export` (berthd),
 * layer diffs of a container's upper dir (commit), and `berth cp` uploads. The tree is walked by
 * TreeWalker (what is archived, and how, is decided there) and written as ustar entries (PAX records
 * for what does not fit) straight into large buffers: headers are encoded in place and file data is
 * read next to them, so a tree of small files costs one output write per buffer and a big file one
 * read and one write per buffer.
 */
import * as fs from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { BLOCK, encodeHeader, encodeHeaderInto, type HeaderFields } from './header';
import { TreeWalker, type WalkOptions } from './walk';

/** Size of the buffers handed to the output. */
export const OUT_CHUNK = 1 << 20;
/** Written buffers kept for reuse by packTree. */
const SPARE_BUFFERS = 4;
const ZEROS = Buffer.alloc(2 * BLOCK);

export type PackOptions = WalkOptions;

/** Fills buffers with the tar of a tree (see TreeWalker for the entries and their names). */
export class TreePacker {
  private readonly walker: TreeWalker;
  /** The file whose data is being copied. */
  private file: { fd: number; left: number; size: number } | undefined;
  /** Bytes that did not fit in the last buffer. */
  private carry: Buffer | undefined;
  private ended = false;
  /** The whole archive, end marker included, was handed out. */
  finished = false;

  constructor(host: string, name: string, opts: PackOptions = {}) {
    this.walker = new TreeWalker(host, name, opts);
  }

  /** Fills `buf` from `off`; returns the offset reached: `buf.length`, or less once the archive is finished. */
  fill(buf: Buffer, off: number): number {
    try {
      while (off < buf.length) {
        if (this.carry) {
          const n = this.carry.copy(buf, off);
          off += n;
          this.carry = n === this.carry.length ? undefined : this.carry.subarray(n);
        } else if (this.file) off = this.fileData(buf, off);
        else if (this.ended) {
          this.finished = true;
          break;
        } else off = this.next(buf, off);
      }
    } catch (err) {
      this.close();
      throw err;
    }
    return off;
  }

  /** Lets go of the open file (after a failure or when the output went away). */
  close(): void {
    if (this.file) fs.closeSync(this.file.fd);
    this.file = undefined;
  }

  private fileData(buf: Buffer, off: number): number {
    const f = this.file!;
    const want = Math.min(f.left, buf.length - off);
    let n = fs.readSync(f.fd, buf, off, want, null);
    if (n === 0) {
      // The file shrank meanwhile: pad to the size announced.
      buf.fill(0, off, off + want);
      n = want;
    }
    off += n;
    f.left -= n;
    if (f.left === 0) {
      this.close();
      const pad = (BLOCK - (f.size % BLOCK)) % BLOCK;
      if (pad) off = this.put(buf, off, ZEROS.subarray(0, pad));
    }
    return off;
  }

  /** Copies what fits of `data` at `off`; the rest goes out first in the next buffer. */
  private put(buf: Buffer, off: number, data: Buffer): number {
    const n = data.copy(buf, off);
    if (n < data.length) this.carry = data.subarray(n);
    return off + n;
  }

  private header(buf: Buffer, off: number, h: HeaderFields): number {
    const n = encodeHeaderInto(buf, off, h);
    return n >= 0 ? off + n : this.put(buf, off, encodeHeader(h));
  }

  /** The next entry's header (and the file to copy after it), or the end of the archive. */
  private next(buf: Buffer, off: number): number {
    const e = this.walker.next();
    if (!e) {
      this.ended = true;
      return this.put(buf, off, ZEROS);
    }
    if (e.fd !== undefined) this.file = { fd: e.fd, left: e.fields.size, size: e.fields.size };
    return this.header(buf, off, e.fields);
  }
}

export interface PackTreeOptions extends PackOptions {
  /**
   * Written buffers are filled again (no megabyte of garbage per megabyte sent). Only for outputs whose
   * write callback means the bytes are gone (sockets, HTTP responses), never for streams that hand the
   * buffers on (PassThrough).
   */
  reuseBuffers?: boolean;
}

/**
 * Writes the tar of `host` (see TreePacker) into `out` and ends it, waiting while `out` is full.
 * A failure part-way ends `out` after what was written and is thrown.
 */
export async function packTree(host: string, name: string, out: Writable, opts: PackTreeOptions = {}): Promise<void> {
  let outError: Error | undefined;
  const onError = (err: Error) => (outError ??= err);
  out.on('error', onError);
  const spare: Buffer[] = [];
  let failed: unknown;
  let packer: TreePacker | undefined;
  try {
    const p = (packer = new TreePacker(host, name, opts));
    while (!p.finished) {
      if (outError) throw outError;
      if (out.destroyed) throw new Error('the client went away');
      const buf = spare.pop() ?? Buffer.allocUnsafe(OUT_CHUNK);
      const n = p.fill(buf, 0);
      if (n === 0) break;
      const data = n === buf.length ? buf : buf.subarray(0, n);
      const more = opts.reuseBuffers
        ? out.write(data, (err) => {
            if (!err && spare.length < SPARE_BUFFERS) spare.push(buf);
          })
        : out.write(data);
      if (!more) await drained(out);
    }
  } catch (err) {
    failed = err;
    packer?.close();
  }
  if (outError) failed ??= outError;
  if (!out.destroyed && !out.writableEnded) {
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      out.once('finish', done);
      out.once('close', done);
      out.once('error', done);
      out.end();
    });
  }
  out.off('error', onError);
  if (outError) failed ??= outError;
  if (failed) throw failed;
}

/** The tar of `host` (see TreePacker) as a readable stream of OUT_CHUNK buffers (berth cp uploads). */
export class TarPackStream extends Readable {
  private packer: TreePacker | undefined;

  constructor(
    private readonly host: string,
    private readonly name: string,
    private readonly opts: PackOptions = {},
  ) {
    super({ highWaterMark: 2 * OUT_CHUNK });
  }

  override _read(): void {
    let chunk: Buffer;
    let done: boolean;
    try {
      const p = (this.packer ??= new TreePacker(this.host, this.name, this.opts));
      const buf = Buffer.allocUnsafe(OUT_CHUNK);
      const n = p.fill(buf, 0);
      chunk = n === buf.length ? buf : buf.subarray(0, n);
      done = p.finished;
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    if (chunk.length) this.push(chunk);
    if (done) this.push(null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.packer?.close();
    cb(err);
  }
}

export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
