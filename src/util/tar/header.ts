/**
 * The tar header block (POSIX ustar, 512 bytes): field decoding for the reader (ustar, GNU and V7
 * headers, GNU base-256 numbers, signed or unsigned checksums) and the encoder every writer uses
 * (ustar, with a PAX record first for a long name or link, a big size or ids).
 */
import { paxRecord } from './pax';

export const BLOCK = 512;

/** A NUL-terminated field. */
export function cstring(buf: Buffer, start: number, len: number, encoding: BufferEncoding = 'utf8'): string {
  let end = start;
  const max = start + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.toString(encoding, start, end);
}

/** A numeric field: octal (leading spaces or NULs allowed) or GNU base-256. */
export function decodeNumber(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    // GNU base-256: big-endian, the first byte's top bit is the marker
    let v = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  let v = 0;
  let i = start;
  const end = start + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/** Unsigned sum as POSIX says; some old writers summed signed bytes, which Go's reader accepts too. */
export function checksumOk(h: Buffer, o = 0): boolean {
  const stored = decodeNumber(h, o + 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = o; i < o + BLOCK; i++) {
    const b = i >= o + 148 && i < o + 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

export function isZeroBlock(h: Buffer, o = 0): boolean {
  for (let i = o; i < o + BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

/** Type flags written: file, hard link, symlink, char device, block device, directory, FIFO, PAX. */
export type TypeFlag = '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x';

export interface HeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  type: TypeFlag;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const MAX_SIZE = 0o77777777777;
const MAX_ID = 0o7777777;

/** Where the name goes and the PAX records needed, for an entry. */
function plan(h: HeaderFields): { name: string; prefix: string; pax: Buffer | undefined } {
  let name = h.name;
  let prefix = '';
  let records = '';
  if (name.length > 33 && Buffer.byteLength(name) > 100) {
    const split = splitName(h.name);
    if (split) [prefix, name] = split;
    else {
      records += paxRecord('path', h.name);
      name = utf8Head(h.name, 100);
    }
  }
  if (h.linkname !== undefined && h.linkname.length > 33 && Buffer.byteLength(h.linkname) > 100) records += paxRecord('linkpath', h.linkname);
  if (h.size > MAX_SIZE) records += paxRecord('size', String(h.size));
  if (h.uid > MAX_ID) records += paxRecord('uid', String(h.uid));
  if (h.gid > MAX_ID) records += paxRecord('gid', String(h.gid));
  return { name, prefix, pax: records ? Buffer.from(records) : undefined };
}

/** Bytes `encodeHeaderInto` writes for `h`: one block, or a PAX header, its records and the block. */
function encodedLength(pax: Buffer | undefined): number {
  return pax ? 2 * BLOCK + Math.ceil(pax.length / BLOCK) * BLOCK : BLOCK;
}

/**
 * Writes the header block(s) of `h` into `buf` at `off`; returns the bytes written, or -1 (nothing
 * written) when they do not fit before the end of `buf`.
 */
export function encodeHeaderInto(buf: Buffer, off: number, h: HeaderFields): number {
  const p = plan(h);
  const total = encodedLength(p.pax);
  if (buf.length - off < total) return -1;
  let o = off;
  if (p.pax) {
    const base = (h.name.endsWith('/') ? h.name.slice(0, -1) : h.name).split('/').pop() || 'root';
    ustar(buf, o, { name: '', mode: 0o644, uid: 0, gid: 0, size: p.pax.length, mtime: h.mtime, type: 'x' }, `PaxHeaders.0/${base}`.slice(0, 100), '');
    o += BLOCK;
    p.pax.copy(buf, o);
    const padded = Math.ceil(p.pax.length / BLOCK) * BLOCK;
    buf.fill(0, o + p.pax.length, o + padded);
    o += padded;
  }
  ustar(buf, o, h, p.name, p.prefix);
  return total;
}

/** The header block(s) of an entry as a new buffer. */
export function encodeHeader(h: HeaderFields): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(plan(h).pax));
  encodeHeaderInto(out, 0, h);
  return out;
}

function ustar(b: Buffer, o: number, h: HeaderFields, name: string, prefix: string): void {
  b.fill(0, o, o + BLOCK);
  b.write(name, o, 100, 'utf8');
  octal(b, o + 100, 8, h.mode);
  octal(b, o + 108, 8, Math.min(h.uid, MAX_ID));
  octal(b, o + 116, 8, Math.min(h.gid, MAX_ID));
  octal(b, o + 124, 12, Math.min(h.size, MAX_SIZE));
  octal(b, o + 136, 12, Math.max(0, Math.min(h.mtime, MAX_SIZE)));
  b.fill(0x20, o + 148, o + 156);
  b[o + 156] = h.type.charCodeAt(0);
  if (h.linkname !== undefined) b.write(utf8Head(h.linkname, 100), o + 157, 100, 'utf8');
  b.write('ustar\x0000', o + 257, 8, 'latin1');
  if (h.devmajor !== undefined) octal(b, o + 329, 8, h.devmajor);
  if (h.devminor !== undefined) octal(b, o + 337, 8, h.devminor);
  if (prefix) b.write(prefix, o + 345, 155, 'utf8');
  let sum = 0;
  for (let i = o; i < o + BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0'), o + 148, 6, 'latin1');
  b[o + 154] = 0;
  b[o + 155] = 0x20;
}

function octal(b: Buffer, at: number, len: number, v: number): void {
  b.write(Math.floor(v).toString(8).padStart(len - 1, '0'), at, len - 1, 'latin1');
  b[at + len - 1] = 0;
}

/** ustar's prefix/name split of a long ASCII name at a slash, if one fits. */
function splitName(name: string): [string, string] | undefined {
  if (/[^\x00-\x7f]/.test(name)) return undefined;
  for (let i = name.length - 2; i > 0; i--) {
    if (name[i] !== '/' || i > 155) continue;
    const rest = name.slice(i + 1);
    return rest.length === 0 || rest.length > 100 ? undefined : [name.slice(0, i), rest];
  }
  return undefined;
}

/** At most `max` bytes of `s`, cut at a character boundary. */
function utf8Head(s: string, max: number): string {
  if (s.length <= max / 3 || Buffer.byteLength(s) <= max) return s;
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
