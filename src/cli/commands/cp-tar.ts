/**
 * Tar streams of `berth cp`, in process: a local tree packed into large buffers for the upload, and a
 * download extracted as its pieces arrive with large synchronous writes. Extraction stays under the
 * destination directory whatever the archive says: names climbing out are refused, every parent is
 * resolved with symlinks followed as if the destination were the root (absolute targets and `..` never
 * leave it), and nothing is written through an entry's own name (an existing one is replaced).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';

const BLOCK = 512;
const OUT_CHUNK = 1 << 20;
/** Gathered file data is written once this much is pending. */
const WRITE_BATCH = 4 << 20;

// ---------------------------------------------------------------- pack

interface Pending {
  host: string;
  name: string;
  top?: boolean;
}

/**
 * A tar of `host` (a file, symlink or directory tree) whose top entry is named `name` ('.' for a
 * directory's contents); with `followTop` a symlink at `host` is archived as what it points to. Symlinks
 * inside are archived as symlinks. Produced one OUT_CHUNK buffer per read.
 */
export class TarPack extends Readable {
  private readonly stack: Array<{ hostDir: string; prefix: string; names: string[]; i: number }> = [];
  private first: Pending | undefined;
  private buf = Buffer.allocUnsafe(OUT_CHUNK);
  private pos = 0;
  private readonly links = new Map<string, string>();
  /** The file whose data is being copied. */
  private file: { fd: number; left: number; size: number } | undefined;
  private finished = false;

  constructor(host: string, name: string, private readonly followTop = false) {
    super({ highWaterMark: 2 * OUT_CHUNK });
    this.first = { host, name, top: true };
  }

  override _read(): void {
    try {
      while (this.pos < this.buf.length && !this.finished) this.step();
    } catch (err) {
      this.closeFile();
      this.destroy(err as Error);
      return;
    }
    const out = this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(OUT_CHUNK);
    this.pos = 0;
    if (out.length) this.push(out);
    if (this.finished) this.push(null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeFile();
    cb(err);
  }

  private closeFile(): void {
    if (this.file) fs.closeSync(this.file.fd);
    this.file = undefined;
  }

  /** Does a bit of work: file data up to the end of the buffer, or the next entry's header. */
  private step(): void {
    if (this.file) {
      const f = this.file;
      const want = Math.min(f.left, this.buf.length - this.pos);
      let n = fs.readSync(f.fd, this.buf, this.pos, want, null);
      if (n === 0) {
        // The file shrank meanwhile: pad to the size announced.
        this.buf.fill(0, this.pos, this.pos + want);
        n = want;
      }
      this.pos += n;
      f.left -= n;
      if (f.left === 0) {
        this.closeFile();
        this.pad(f.size);
      }
      return;
    }
    const next = this.next();
    if (!next) {
      this.zeros(2 * BLOCK);
      this.finished = true;
      return;
    }
    this.entry(next.host, next.name, next.top === true);
  }

  private next(): Pending | undefined {
    if (this.first) {
      const f = this.first;
      this.first = undefined;
      return f;
    }
    while (this.stack.length) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.i < top.names.length) {
        const n = top.names[top.i++]!;
        return { host: `${top.hostDir}/${n}`, name: top.prefix + n };
      }
      this.stack.pop();
    }
    return undefined;
  }

  private entry(host: string, name: string, top: boolean): void {
    const follow = top && this.followTop;
    let st: fs.Stats;
    try {
      st = follow ? fs.statSync(host) : fs.lstatSync(host);
    } catch (err) {
      if (top) throw err; // the source itself
      return; // vanished meanwhile
    }
    const h: Header = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0, type: '0' };
    if (st.isDirectory()) {
      h.type = '5';
      if (!name.endsWith('/')) h.name = `${name}/`;
      this.header(h);
      const names = fs.readdirSync(host).sort();
      const prefix = name === '.' ? './' : name.endsWith('/') ? name : `${name}/`;
      this.stack.push({ hostDir: host, prefix, names, i: 0 });
      return;
    }
    if (st.isSymbolicLink()) {
      h.type = '2';
      h.linkname = fs.readlinkSync(host);
      this.header(h);
      return;
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.links.get(key);
        if (first !== undefined) {
          h.type = '1';
          h.linkname = first;
          this.header(h);
          return;
        }
        this.links.set(key, name);
      }
      const fd = fs.openSync(host, fs.constants.O_RDONLY | (follow ? 0 : fs.constants.O_NOFOLLOW));
      h.size = st.size;
      this.header(h);
      if (st.size > 0) this.file = { fd, left: st.size, size: st.size };
      else fs.closeSync(fd);
      return;
    }
    if (st.isFIFO()) {
      h.type = '6';
      this.header(h);
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      h.type = st.isCharacterDevice() ? '3' : '4';
      h.devmajor = (st.rdev >> 8) & 0xfff;
      h.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      this.header(h);
    }
    // sockets are not archived
  }

  private header(h: Header): void {
    const blocks = encodeHeader(h);
    this.bytes(blocks);
  }

  private bytes(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      if (this.pos === this.buf.length) this.grow();
      const n = data.copy(this.buf, this.pos, at);
      this.pos += n;
      at += n;
    }
  }

  private zeros(n: number): void {
    this.bytes(Buffer.alloc(n));
  }

  private pad(size: number): void {
    const n = (BLOCK - (size % BLOCK)) % BLOCK;
    if (n) this.zeros(n);
  }

  /** Headers never split a read: a full buffer that still has to take bytes gets a bigger successor. */
  private grow(): void {
    const bigger = Buffer.allocUnsafe(this.buf.length + OUT_CHUNK);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

type Kind = '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x';

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

/** The header block(s) of an entry: ustar, with a PAX record first for what does not fit. */
export function encodeHeader(h: Header): Buffer {
  let name = h.name;
  let prefix = '';
  const pax: Array<[string, string]> = [];
  if (Buffer.byteLength(h.name) > 100) {
    const split = splitName(h.name);
    if (split) [prefix, name] = split;
    else {
      pax.push(['path', h.name]);
      name = utf8Head(h.name, 100);
    }
  }
  if (h.linkname !== undefined && Buffer.byteLength(h.linkname) > 100) pax.push(['linkpath', h.linkname]);
  if (h.size > 0o77777777777) pax.push(['size', String(h.size)]);
  if (h.uid > 0o7777777) pax.push(['uid', String(h.uid)]);
  if (h.gid > 0o7777777) pax.push(['gid', String(h.gid)]);
  const main = ustar(h, name, prefix);
  if (!pax.length) return main;
  const records = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''));
  const base = path.posix.basename(h.name.replace(/\/$/, '')) || 'root';
  const paxHeader = ustar({ name: '', mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: h.mtime, type: 'x' }, `PaxHeaders.0/${base}`.slice(0, 100), '');
  const padded = Buffer.alloc(Math.ceil(records.length / BLOCK) * BLOCK);
  records.copy(padded);
  return Buffer.concat([paxHeader, padded, main]);
}

function ustar(h: Header, name: string, prefix: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, Math.min(h.uid, 0o7777777));
  octal(b, 116, 8, Math.min(h.gid, 0o7777777));
  octal(b, 124, 12, Math.min(h.size, 0o77777777777));
  octal(b, 136, 12, Math.max(0, Math.min(h.mtime, 0o77777777777)));
  b.fill(0x20, 148, 156);
  b[156] = h.type.charCodeAt(0);
  if (h.linkname !== undefined) b.write(utf8Head(h.linkname, 100), 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  if (h.devmajor !== undefined) octal(b, 329, 8, h.devmajor);
  if (h.devminor !== undefined) octal(b, 337, 8, h.devminor);
  if (prefix) b.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

function octal(b: Buffer, at: number, len: number, v: number): void {
  b.write(Math.floor(v).toString(8).padStart(len - 1, '0'), at, len - 1, 'latin1');
  b[at + len - 1] = 0;
}

function splitName(name: string): [string, string] | undefined {
  if (/[^\x00-\x7f]/.test(name)) return undefined;
  for (let i = name.length - 2; i > 0; i--) {
    if (name[i] !== '/' || i > 155) continue;
    const rest = name.slice(i + 1);
    return rest.length > 100 ? undefined : [name.slice(0, i), rest];
  }
  return undefined;
}

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

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

// ---------------------------------------------------------------- extract

export class TarError extends Error {}

interface Entry {
  name: string;
  type: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

interface Sink {
  write(data: Buffer): void;
  end(): void;
}

function cstring(buf: Buffer, start: number, len: number): string {
  let end = start;
  const max = start + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.toString('utf8', start, end);
}

function num(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    let v = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const s = cstring(buf, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(data: Buffer, into: Record<string, string>): void {
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('utf8', i, sp), 10);
    if (!len || len < 0) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) into[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
}

/** A synchronous tar parser fed with the download's pieces; bodies are handed on as slices of them. */
class Untar {
  private pending: Buffer | undefined;
  private bodyLeft = 0;
  private padLeft = 0;
  private sink: Sink | undefined;
  private meta: { kind: string; chunks: Buffer[] } | undefined;
  private pax: Record<string, string> = {};
  private globalPax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  done = false;

  constructor(private readonly onEntry: (e: Entry) => Sink | undefined) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let off = 0;
    while (off < buf.length && !this.done) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, buf.length - off);
        const slice = buf.subarray(off, off + n);
        if (this.meta) this.meta.chunks.push(Buffer.from(slice));
        else this.sink?.write(slice);
        this.bodyLeft -= n;
        off += n;
        if (this.bodyLeft === 0) this.endBody();
        continue;
      }
      if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, buf.length - off);
        this.padLeft -= n;
        off += n;
        continue;
      }
      if (buf.length - off < BLOCK) {
        this.pending = Buffer.from(buf.subarray(off));
        return;
      }
      this.header(buf, off);
      off += BLOCK;
    }
  }

  end(): void {
    if (this.bodyLeft > 0 || (this.pending && this.pending.some((b) => b !== 0))) throw new TarError('unexpected EOF');
  }

  abort(): void {
    const s = this.sink;
    this.sink = undefined;
    try {
      s?.end();
    } catch {
      /* already failing */
    }
  }

  private size = 0;

  private endBody(): void {
    this.padLeft = (BLOCK - (this.size % BLOCK)) % BLOCK;
    if (this.meta) {
      const data = Buffer.concat(this.meta.chunks);
      const kind = this.meta.kind;
      this.meta = undefined;
      if (kind === 'x') parsePax(data, this.pax);
      else if (kind === 'g') parsePax(data, this.globalPax);
      else if (kind === 'L') this.longName = cstring(data, 0, data.length);
      else if (kind === 'K') this.longLink = cstring(data, 0, data.length);
      return;
    }
    const s = this.sink;
    this.sink = undefined;
    s?.end();
  }

  private header(b: Buffer, o: number): void {
    let zero = true;
    for (let i = o; i < o + BLOCK; i++) {
      if (b[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      if (++this.zeroBlocks >= 2) this.done = true;
      return;
    }
    this.zeroBlocks = 0;
    const h = b.subarray(o, o + BLOCK);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== num(h, 148, 8)) throw new TarError('archive/tar: invalid tar header');
    const flag = String.fromCharCode(h[156]!);
    let size = num(h, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.meta = { kind: flag, chunks: [] };
      this.size = size;
      this.bodyLeft = size;
      if (size === 0) this.endBody();
      return;
    }
    let name = cstring(h, 0, 100);
    if (h.toString('latin1', 257, 263) === 'ustar\0') {
      const prefix = cstring(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const pax = { ...this.globalPax, ...this.pax };
    if (this.longName !== undefined) name = this.longName;
    if (pax.path !== undefined) name = pax.path;
    let linkname = cstring(h, 157, 100);
    if (this.longLink !== undefined) linkname = this.longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    if (pax.size !== undefined) size = Number(pax.size);
    const mtime = pax.mtime !== undefined ? Number(pax.mtime) : num(h, 136, 12);
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    const type = flag === '\0' || flag === '7' ? '0' : flag;
    const bodySize = type === '0' || !'123456'.includes(type) ? size : 0;
    this.sink = this.onEntry({ name, type, mode: num(h, 100, 8), size, mtime, linkname });
    this.size = bodySize;
    this.bodyLeft = bodySize;
    if (bodySize === 0) this.endBody();
  }
}

export interface ExtractOptions {
  /** The first name component `from` becomes `to` (docker cp's rebasing to a new name). */
  rename?: { from: string; to: string };
}

/**
 * Extracts a tar (the pieces of `body`) under the directory `dest`, as the docker CLI does for cp:
 * modes and times from the archive, owners not (the files belong to the user running the copy),
 * a directory never replaced by a non-directory or the reverse.
 */
export function extractTar(body: Readable, dest: string, opts: ExtractOptions = {}): Promise<void> {
  const x = new Extractor(dest, opts);
  const reader = new Untar((e) => x.begin(e));
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      body.off('data', onData);
      reader.abort();
      body.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      try {
        if (!reader.done) reader.push(chunk);
      } catch (err) {
        fail(err);
      }
    };
    body.on('data', onData);
    body.once('end', () => {
      if (failed) return;
      try {
        if (!reader.done) reader.end();
        x.finish();
        resolve();
      } catch (err) {
        fail(err);
      }
    });
    body.once('error', fail);
    body.once('aborted', () => fail(new TarError('unexpected EOF')));
  });
}

class Extractor {
  private readonly dirTimes: Array<[string, number]> = [];
  /** Directories (relative to dest) resolved and made in this extraction → their paths. */
  private readonly dirs = new Map<string, string>();
  private readonly root: string;

  constructor(dest: string, private readonly opts: ExtractOptions) {
    this.root = path.resolve(dest);
  }

  /** `rel` inside the root, symlinks of existing components followed without ever leaving it. */
  private resolve(rel: string): string {
    let pending = rel.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    let links = 0;
    let missing = false;
    while (pending.length) {
      const c = pending.shift()!;
      if (c === '..') {
        done.pop();
        continue;
      }
      if (missing) {
        done.push(c);
        continue;
      }
      const candidate = path.join(this.root, ...done, c);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(candidate);
      } catch {
        missing = true;
        done.push(c);
        continue;
      }
      if (!st.isSymbolicLink()) {
        done.push(c);
        continue;
      }
      if (++links > 40) throw new TarError(`too many levels of symbolic links: ${rel}`);
      const target = fs.readlinkSync(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
    }
    return path.join(this.root, ...done);
  }

  private parentDir(rel: string): string {
    const known = this.dirs.get(rel);
    if (known !== undefined) return known;
    const host = this.resolve(rel);
    fs.mkdirSync(host, { recursive: true, mode: 0o755 });
    this.dirs.set(rel, host);
    return host;
  }

  /** The entry's name relative to the destination, renamed as asked; '' for the destination itself. */
  private relName(name: string): string {
    if (name.includes('\0')) throw new TarError(`invalid tar entry ${JSON.stringify(name)}`);
    let rel = path.posix.normalize(name).replace(/^\/+/, '').replace(/\/+$/, '');
    if (rel === '.') rel = '';
    if (rel === '..' || rel.startsWith('../')) throw new TarError(`${JSON.stringify(name)} is outside of ${JSON.stringify(this.root)}`);
    const r = this.opts.rename;
    if (r) {
      if (r.from === '.' || r.from === '') rel = rel === '' ? r.to : `${r.to}/${rel}`;
      else if (rel === r.from) rel = r.to;
      else if (rel.startsWith(`${r.from}/`)) rel = r.to + rel.slice(r.from.length);
    }
    return rel;
  }

  begin(e: Entry): Sink | undefined {
    const rel = this.relName(e.name);
    if (rel === '') return undefined;
    const parent = this.parentDir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    const target = path.join(parent, path.posix.basename(rel));
    const mode = e.mode & 0o7777;
    const isDir = e.type === '5';
    if (e.type === '0') {
      const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
      try {
        return this.file(fs.openSync(target, flags, 0o600), e, mode);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(target);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (existing.isDirectory() && !isDir) throw new TarError(`cannot overwrite directory ${JSON.stringify(target)} with non-directory ${JSON.stringify(this.root)}`);
      if (!existing.isDirectory() && isDir) throw new TarError(`cannot overwrite non-directory ${JSON.stringify(target)} with directory ${JSON.stringify(this.root)}`);
      if (!isDir) {
        fs.rmSync(target, { force: true });
        this.dirs.clear();
      }
    }
    switch (e.type) {
      case '5':
        if (!existing) fs.mkdirSync(target, { mode });
        fs.chmodSync(target, mode);
        this.dirTimes.push([target, e.mtime]);
        return undefined;
      case '0':
        return this.file(fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600), e, mode);
      case '2': {
        // As docker: a relative link must not point out of the destination.
        if (!e.linkname.startsWith('/')) {
          const to = path.posix.normalize(path.posix.join(path.posix.dirname(rel), e.linkname));
          if (to === '..' || to.startsWith('../')) throw new TarError(`invalid symlink ${JSON.stringify(target)} -> ${JSON.stringify(e.linkname)}`);
        }
        this.dirs.clear();
        fs.symlinkSync(e.linkname, target);
        fs.lutimesSync(target, e.mtime, e.mtime);
        return undefined;
      }
      case '1': {
        const linkRel = this.relName(e.linkname);
        if (linkRel === '') throw new TarError(`invalid hardlink ${JSON.stringify(target)} -> ${JSON.stringify(e.linkname)}`);
        const dir = path.posix.dirname(linkRel);
        const src = path.join(this.resolve(dir === '.' ? '' : dir), path.posix.basename(linkRel));
        fs.linkSync(src, target);
        return undefined;
      }
      default:
        // Devices, FIFOs and the rest: left out (the docker CLI does not make them either when it cannot).
        if (e.type === '6') {
          try {
            require('node:child_process').spawnSync('mkfifo', ['-m', mode.toString(8), target]);
          } catch {
            /* no mkfifo */
          }
        }
        return undefined;
    }
  }

  private file(fd: number, e: Entry, mode: number): Sink | undefined {
    const close = () => {
      try {
        fs.fchmodSync(fd, mode);
        fs.futimesSync(fd, e.mtime, e.mtime);
      } finally {
        fs.closeSync(fd);
      }
    };
    if (e.size === 0) {
      close();
      return undefined;
    }
    let parts: Buffer[] = [];
    let pending = 0;
    const flush = () => {
      while (pending > 0) {
        const n = fs.writevSync(fd, parts);
        pending -= n;
        if (pending === 0) break;
        parts = dropBytes(parts, n);
      }
      parts = [];
    };
    return {
      write(data: Buffer) {
        parts.push(data);
        pending += data.length;
        if (pending >= WRITE_BATCH) flush();
      },
      end() {
        try {
          flush();
        } finally {
          close();
        }
      },
    };
  }

  finish(): void {
    for (const [dir, t] of this.dirTimes.reverse()) {
      try {
        fs.utimesSync(dir, t, t);
      } catch {
        /* gone */
      }
    }
  }
}

function dropBytes(bufs: Buffer[], n: number): Buffer[] {
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
