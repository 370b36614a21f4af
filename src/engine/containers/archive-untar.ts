/**
 * A small synchronous tar reader for `docker cp` uploads: headers (ustar, GNU long names, PAX path,
 * linkpath, size, uid, gid, mtime) are parsed from the incoming buffers and file bodies are handed on as
 * slices of them, without copies or a stream per entry. Uploads arrive in 16–64 KiB pieces; a
 * stream-based parser spent most of its time per piece.
 */

export interface TarHeader {
  name: string;
  type: 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname: string;
}

export interface EntrySink {
  write(data: Buffer): void;
  end(): void;
}

export class TarFormatError extends Error {}

const BLOCK = 512;

function cstring(buf: Buffer, start: number, len: number): string {
  let end = start;
  const max = start + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.toString('utf8', start, end);
}

function num(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    // base-256 (GNU): big-endian, first byte's top bit is the marker
    let v = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const s = cstring(buf, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === num(h, 148, 8);
}

const TYPES: Record<string, TarHeader['type']> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device', '5': 'directory', '6': 'fifo',
};

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('utf8', i, sp), 10);
    if (!len || len < 0) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

export class TarReader {
  private pending: Buffer | undefined;
  private bodyLeft = 0;
  private padLeft = 0;
  private sink: EntrySink | undefined;
  /** Body of a meta entry (PAX, GNU long name) being collected. */
  private meta: { kind: string; chunks: Buffer[] } | undefined;
  private pax: Record<string, string> = {};
  private globalPax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  done = false;

  constructor(private readonly onEntry: (h: TarHeader) => EntrySink | undefined) {}

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
      this.header(buf.subarray(off, off + BLOCK));
      off += BLOCK;
    }
  }

  /** Closes the entry being written (after a failure). */
  abort(): void {
    const s = this.sink;
    this.sink = undefined;
    try {
      s?.end();
    } catch {
      /* already failing */
    }
  }

  /** The input ended: anything but a clean end is a truncated archive. */
  end(): void {
    if (this.bodyLeft > 0 || (this.pending && this.pending.some((b) => b !== 0))) {
      throw new TarFormatError('unexpected EOF');
    }
  }

  private endBody(): void {
    const size = this.currentSize;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (this.meta) {
      const data = Buffer.concat(this.meta.chunks);
      const kind = this.meta.kind;
      this.meta = undefined;
      if (kind === 'x') this.pax = { ...this.pax, ...parsePax(data) };
      else if (kind === 'g') this.globalPax = { ...this.globalPax, ...parsePax(data) };
      else if (kind === 'L') this.longName = cstring(data, 0, data.length);
      else if (kind === 'K') this.longLink = cstring(data, 0, data.length);
      return;
    }
    const s = this.sink;
    this.sink = undefined;
    s?.end();
  }

  private currentSize = 0;

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.done = true;
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarFormatError('archive/tar: invalid tar header');
    const flag = String.fromCharCode(h[156]!);
    let size = num(h, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.meta = { kind: flag, chunks: [] };
      this.currentSize = size;
      this.bodyLeft = size;
      if (size === 0) this.endBody();
      return;
    }
    const magic = h.toString('latin1', 257, 263);
    let name = cstring(h, 0, 100);
    if (magic.startsWith('ustar')) {
      const prefix = magic === 'ustar\0' ? cstring(h, 345, 155) : '';
      if (prefix) name = `${prefix}/${name}`;
    }
    const pax = { ...this.globalPax, ...this.pax };
    if (this.longName !== undefined) name = this.longName;
    if (pax.path !== undefined) name = pax.path;
    let linkname = cstring(h, 157, 100);
    if (this.longLink !== undefined) linkname = this.longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    if (pax.size !== undefined) size = Number(pax.size);
    const mtimeSecs = pax.mtime !== undefined ? Number(pax.mtime) : num(h, 136, 12);
    const header: TarHeader = {
      name,
      type: TYPES[flag] ?? 'other',
      mode: num(h, 100, 8),
      uid: pax.uid !== undefined ? Number(pax.uid) : num(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : num(h, 116, 8),
      size,
      mtime: new Date(mtimeSecs * 1000),
      linkname,
    };
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    // Only regular files carry a body that is data; other types' sizes are skipped.
    const bodySize = header.type === 'file' || header.type === 'other' ? size : header.type === 'link' || header.type === 'symlink' || header.type === 'directory' ? 0 : 0;
    this.sink = this.onEntry(header);
    this.currentSize = bodySize;
    this.bodyLeft = bodySize;
    if (bodySize === 0) this.endBody();
  }
}
