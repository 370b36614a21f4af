/**
 * The tar writer of every tree Berth archives: `docker cp` out of a container and `export` (berthd),
 * layer diffs of a container's upper dir (commit), and `berth cp` uploads. A tree is walked without
 * following anything (lstat, O_NOFOLLOW opens; with `followTop` only a symlink given as the source
 * itself is followed) and written as ustar entries (PAX records for what does not fit) straight into
 * large buffers: headers are encoded in place and file data is read next to them, so a tree of small
 * files costs one output write per buffer and a big file one read and one write per buffer. Entries
 * come in lexical order, directories named with a trailing slash, hard links within the tree kept as
 * links; sockets are left out. For layer diffs, overlay whiteouts (char device 0/0) become OCI
 * `.wh.<name>` entries and opaque directories get a `.wh..wh..opq` entry.
 */
import * as fs from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { BLOCK, encodeHeader, encodeHeaderInto, type HeaderFields } from './header';

/** Size of the buffers handed to the output. */
export const OUT_CHUNK = 1 << 20;
/** Written buffers kept for reuse by packTree. */
const SPARE_BUFFERS = 4;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const ZEROS = Buffer.alloc(2 * BLOCK);

export interface PackOptions {
  /** Entries to leave out (with what is under them), by their name in the tar and host path. */
  skip?: (name: string, host: string) => boolean;
  /** Convert overlay whiteouts and opaque dirs (layer diffs). */
  overlayWhiteouts?: boolean;
  /** Directories (host paths) that carry the overlay opaque xattr. */
  opaqueDirs?: Set<string>;
  /** A symlink given as the source itself is archived as what it points to (cp -L). */
  followTop?: boolean;
  /**
   * An entry below the top that cannot be read fails the archive. Without it such entries are left
   * out, as are, always, entries that vanish meanwhile.
   */
  strict?: boolean;
}

/** Error codes of an entry that vanished or changed type while the tree was walked. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EINVAL', 'ENXIO']);

interface DirFrame {
  hostDir: string;
  prefix: string;
  names: string[];
  i: number;
}

/**
 * Walks `host` (a file, symlink or directory tree) and fills buffers with its tar. The top entry is
 * named `name` ('.' for a directory's contents as `./…`); with `name` '' only what is under a
 * directory is archived, names relative to it (layer diffs, export).
 */
export class TreePacker {
  private readonly stack: DirFrame[] = [];
  private first: string | undefined;
  private readonly links = new Map<string, string>();
  /** The file whose data is being copied. */
  private file: { fd: number; left: number; size: number } | undefined;
  /** Bytes that did not fit in the last buffer. */
  private carry: Buffer | undefined;
  private ended = false;
  /** The whole archive, end marker included, was handed out. */
  finished = false;

  constructor(
    private readonly host: string,
    name: string,
    private readonly opts: PackOptions = {},
  ) {
    if (name === '') this.stack.push({ hostDir: host, prefix: '', names: fs.readdirSync(host).sort(), i: 0 });
    else this.first = name;
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
    if (this.first !== undefined) {
      const name = this.first;
      this.first = undefined;
      return this.entry(buf, off, this.host, name, true);
    }
    while (this.stack.length) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.i < top.names.length) {
        const n = top.names[top.i++]!;
        return this.entry(buf, off, `${top.hostDir}/${n}`, top.prefix + n, false);
      }
      this.stack.pop();
    }
    this.ended = true;
    return this.put(buf, off, ZEROS);
  }

  /** Whether an error on an entry below the top only leaves it out. */
  private skippable(err: unknown, top: boolean): boolean {
    if (top) return false;
    return !this.opts.strict || VANISHED.has((err as NodeJS.ErrnoException).code ?? '');
  }

  private entry(buf: Buffer, off: number, host: string, name: string, top: boolean): number {
    const opts = this.opts;
    if (opts.skip?.(name, host)) return off;
    const follow = top && opts.followTop === true;
    let st: fs.Stats;
    try {
      st = follow ? fs.statSync(host) : fs.lstatSync(host);
    } catch (err) {
      if (this.skippable(err, top)) return off;
      throw err;
    }
    const h: HeaderFields = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0, type: '0' };
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = fs.readdirSync(host).sort();
      } catch (err) {
        if (!this.skippable(err, top)) throw err;
        names = [];
      }
      h.type = '5';
      if (!name.endsWith('/')) h.name = `${name}/`;
      off = this.header(buf, off, h);
      const prefix = name === '.' ? './' : name.endsWith('/') ? name : `${name}/`;
      if (opts.overlayWhiteouts && opts.opaqueDirs?.has(host)) {
        off = this.header(buf, off, { ...h, name: `${prefix}${OPAQUE_MARKER}`, type: '0', mode: 0 });
      }
      if (names.length) this.stack.push({ hostDir: host, prefix, names, i: 0 });
      return off;
    }
    if (st.isSymbolicLink()) {
      try {
        h.linkname = fs.readlinkSync(host);
      } catch (err) {
        if (this.skippable(err, top)) return off;
        throw err;
      }
      h.type = '2';
      return this.header(buf, off, h);
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.links.get(key);
        if (first !== undefined) {
          h.type = '1';
          h.linkname = first;
          return this.header(buf, off, h);
        }
        this.links.set(key, name);
      }
      let fd: number;
      try {
        fd = fs.openSync(host, fs.constants.O_RDONLY | (follow ? 0 : fs.constants.O_NOFOLLOW));
      } catch (err) {
        if (this.skippable(err, top)) return off;
        throw err;
      }
      h.size = st.size;
      if (st.size > 0) this.file = { fd, left: st.size, size: st.size };
      else fs.closeSync(fd);
      return this.header(buf, off, h);
    }
    if (opts.overlayWhiteouts && st.isCharacterDevice() && st.rdev === 0) {
      const slash = name.lastIndexOf('/');
      return this.header(buf, off, { ...h, name: `${name.slice(0, slash + 1)}${WHITEOUT_PREFIX}${name.slice(slash + 1)}`, mode: 0 });
    }
    if (st.isFIFO()) {
      h.type = '6';
      return this.header(buf, off, h);
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      h.type = st.isCharacterDevice() ? '3' : '4';
      h.devmajor = (st.rdev >> 8) & 0xfff;
      h.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      return this.header(buf, off, h);
    }
    return off; // sockets are not archived
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
