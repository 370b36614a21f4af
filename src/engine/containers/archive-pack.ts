/**
 * The tar writer of `docker cp` out of a container (GET /containers/{id}/archive): a tree is walked
 * without following anything (lstat, O_NOFOLLOW opens) and written as ustar entries (PAX records for
 * what does not fit) into large buffers that go to the response whole. File data is read straight into
 * those buffers next to its header, so a tree of small files costs one response write per buffer, and
 * a big file one read and one write per buffer. Entries come in lexical order, directories named with a
 * trailing slash, hard links within the tree kept as links; sockets are left out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';

const BLOCK = 512;
/** Size of the buffers handed to the response. */
const OUT_CHUNK = 1 << 20;
/** Written buffers kept for reuse. */
const SPARE_BUFFERS = 4;

export interface PackOptions {
  /** Entries to leave out (with what is under them), by their name in the tar and host path. */
  skip?: (name: string, host: string) => boolean;
}

type Kind = '0' | '1' | '2' | '3' | '4' | '5' | '6';

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: Kind;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/** Writes `host` (a file or a directory tree) as a tar named `name` ('.' for a directory's contents) into `out`. */
export async function packTree(host: string, name: string, out: Writable, opts: PackOptions = {}): Promise<void> {
  const p = new Packer(out, opts);
  let failed: unknown;
  try {
    await p.add(host, name);
    p.finish();
  } catch (err) {
    failed = err;
  }
  await p.end();
  if (failed) throw failed;
}

class Packer {
  private buf: Buffer = Buffer.allocUnsafe(OUT_CHUNK);
  private off = 0;
  private readonly links = new Map<string, string>();
  private outError: Error | undefined;
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly out: Writable,
    private readonly opts: PackOptions,
  ) {
    out.on('error', (err) => (this.outError ??= err));
  }

  async add(host: string, name: string): Promise<void> {
    if (this.opts.skip?.(name, host)) return;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      return; // vanished meanwhile
    }
    const h: Header = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0, type: '0' };
    if (st.isDirectory()) {
      h.type = '5';
      if (!name.endsWith('/')) h.name = `${name}/`;
      await this.header(h);
      let names: string[];
      try {
        names = fs.readdirSync(host).sort();
      } catch {
        return;
      }
      const prefix = name === '.' ? './' : name.endsWith('/') ? name : `${name}/`;
      for (const n of names) await this.add(`${host}/${n}`, prefix + n);
      return;
    }
    if (st.isSymbolicLink()) {
      h.type = '2';
      try {
        h.linkname = fs.readlinkSync(host);
      } catch {
        return;
      }
      await this.header(h);
      return;
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.links.get(key);
        if (first !== undefined) {
          h.type = '1';
          h.linkname = first;
          await this.header(h);
          return;
        }
        this.links.set(key, name);
      }
      let fd: number;
      try {
        fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      } catch {
        return;
      }
      try {
        h.size = st.size;
        await this.header(h);
        await this.body(fd, st.size);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    if (st.isFIFO()) {
      h.type = '6';
      await this.header(h);
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      h.type = st.isCharacterDevice() ? '3' : '4';
      h.devmajor = (st.rdev >> 8) & 0xfff;
      h.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      await this.header(h);
    }
    // sockets are not archived
  }

  /** The two zero blocks that end an archive. */
  finish(): void {
    this.room(2 * BLOCK);
    this.buf.fill(0, this.off, this.off + 2 * BLOCK);
    this.off += 2 * BLOCK;
  }

  /** Hands the last buffer over and ends the response. */
  async end(): Promise<void> {
    if (this.outError) throw this.outError;
    const out = this.out;
    const done = new Promise<void>((resolve, reject) => {
      if (out.writableFinished || out.destroyed) return resolve();
      out.once('finish', resolve);
      out.once('close', resolve);
      out.once('error', reject);
    });
    if (this.off > 0 && !out.destroyed) out.write(this.buf.subarray(0, this.off));
    this.off = 0;
    out.end();
    await done;
    if (this.outError) throw this.outError;
  }

  private async header(h: Header): Promise<void> {
    const nameBytes = Buffer.byteLength(h.name);
    const linkBytes = h.linkname === undefined ? 0 : Buffer.byteLength(h.linkname);
    let name = h.name;
    let prefix = '';
    const pax: Array<[string, string]> = [];
    if (nameBytes > 100) {
      const split = splitName(h.name);
      if (split) [prefix, name] = split;
      else pax.push(['path', h.name]);
    }
    if (linkBytes > 100) pax.push(['linkpath', h.linkname!]);
    if (h.size > 0o77777777777) pax.push(['size', String(h.size)]);
    if (h.uid > 0o7777777) pax.push(['uid', String(h.uid)]);
    if (h.gid > 0o7777777) pax.push(['gid', String(h.gid)]);
    if (pax.length) {
      const records = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''));
      const base = path.posix.basename(h.name.replace(/\/$/, '')) || 'root';
      await this.room(BLOCK);
      this.writeHeader({ name: `PaxHeaders.0/${base}`.slice(0, 100), mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: h.mtime, type: 'x' as Kind }, '', '');
      await this.bytes(records);
      await this.pad(records.length);
      if (pax.some(([k]) => k === 'path')) name = utf8Head(h.name, 100);
    }
    await this.room(BLOCK);
    this.writeHeader(h, name, prefix);
  }

  /** Writes a ustar header block at the current offset (room for it is made by the caller). */
  private writeHeader(h: Header, name: string, prefix: string): void {
    const b = this.buf;
    const o = this.off;
    b.fill(0, o, o + BLOCK);
    b.write(name, o, 100, 'utf8');
    octal(b, o + 100, 8, h.mode);
    octal(b, o + 108, 8, Math.min(h.uid, 0o7777777));
    octal(b, o + 116, 8, Math.min(h.gid, 0o7777777));
    octal(b, o + 124, 12, Math.min(h.size, 0o77777777777));
    octal(b, o + 136, 12, Math.max(0, Math.min(h.mtime, 0o77777777777)));
    b.fill(0x20, o + 148, o + 156);
    b[o + 156] = h.type.charCodeAt(0);
    if (h.linkname !== undefined) b.write(utf8Head(h.linkname, 100), o + 157, 100, 'utf8');
    b.write('ustar\x0000', o + 257, 8, 'latin1');
    if (h.devmajor !== undefined) octal(b, o + 329, 8, h.devmajor);
    if (h.devminor !== undefined) octal(b, o + 337, 8, h.devminor);
    if (prefix) b.write(prefix, o + 345, 155, 'utf8');
    let sum = 0;
    for (let i = o; i < o + BLOCK; i++) sum += b[i]!;
    const cs = sum.toString(8).padStart(6, '0');
    b.write(cs, o + 148, 6, 'latin1');
    b[o + 154] = 0;
    b[o + 155] = 0x20;
    this.off += BLOCK;
  }

  /** A file's body: read into the output buffers; a file that shrank meanwhile is padded with zeros. */
  private async body(fd: number, size: number): Promise<void> {
    let left = size;
    while (left > 0) {
      if (this.off === this.buf.length) await this.flush();
      const want = Math.min(left, this.buf.length - this.off);
      let n = 0;
      try {
        n = fs.readSync(fd, this.buf, this.off, want, null);
      } catch {
        n = 0;
      }
      if (n === 0) {
        this.buf.fill(0, this.off, this.off + want);
        n = want;
      }
      this.off += n;
      left -= n;
    }
    await this.pad(size);
  }

  private async bytes(data: Buffer): Promise<void> {
    let at = 0;
    while (at < data.length) {
      if (this.off === this.buf.length) await this.flush();
      const n = data.copy(this.buf, this.off, at);
      this.off += n;
      at += n;
    }
  }

  private async pad(size: number): Promise<void> {
    const n = (BLOCK - (size % BLOCK)) % BLOCK;
    if (n === 0) return;
    await this.room(n);
    this.buf.fill(0, this.off, this.off + n);
    this.off += n;
  }

  /** Makes sure `n` (≤ a block) bytes fit in the current buffer. */
  private room(n: number): Promise<void> | void {
    if (this.buf.length - this.off < n) return this.flush();
  }

  /** Hands the filled buffer to the response and starts the next; waits while the response is full. */
  private async flush(): Promise<void> {
    if (this.outError) throw this.outError;
    if (this.out.destroyed) throw new Error('the client went away');
    const full = this.buf;
    const data = this.off === full.length ? full : full.subarray(0, this.off);
    // Buffers come back once written (no megabyte garbage per megabyte sent).
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(OUT_CHUNK);
    this.off = 0;
    const more = this.out.write(data, (err) => {
      if (!err && this.spare.length < SPARE_BUFFERS) this.spare.push(full);
    });
    if (!more) await drained(this.out);
  }
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

function octal(b: Buffer, at: number, len: number, v: number): void {
  b.write(Math.floor(v).toString(8).padStart(len - 1, '0'), at, len - 1, 'latin1');
  b[at + len - 1] = 0;
}

/** ustar's prefix/name split of a long name at a slash, if one fits. */
function splitName(name: string): [string, string] | undefined {
  if (/[^\x00-\x7f]/.test(name)) return undefined;
  for (let i = name.length - 2; i > 0; i--) {
    if (name[i] !== '/') continue;
    if (i > 155) continue;
    const rest = name.slice(i + 1);
    if (rest.length === 0 || rest.length > 100) return undefined;
    return [name.slice(0, i), rest];
  }
  return undefined;
}

/** At most `max` bytes of `s`, cut at a character boundary. */
function utf8Head(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** A PAX record `<len> key=value\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}
