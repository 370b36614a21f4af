/**
 * The tar reader of every tar Berth reads as it arrives: layers, `docker cp` uploads (berthd) and
 * downloads (berth cp). Synchronous and push-driven: headers (ustar, GNU, V7; GNU long names and
 * links; PAX and global PAX records, including binary `SCHILY.xattr.*` values; GNU base-256 numbers;
 * signed checksums) are parsed straight from the incoming buffers and file bodies are handed on as
 * slices of them: no stream, promise or copy per entry. A stream-based parser cost three times the
 * system calls' own time for layers of many small files.
 *
 * An entry handler may return a promise (it needs to wait before it can create the entry); the
 * reader then stops where it is and `push` returns a promise that settles once the rest of the
 * chunk has been read.
 */
import { BLOCK, checksumOk, cstring, decodeNumber, isZeroBlock } from './header';
import { decodePax } from './pax';

export type TarEntryType =
  | 'file'
  | 'contiguous-file'
  | 'link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (0 for everything but regular files and unknown types). */
  size: number;
  mtime: Date;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** The entry's PAX records (global ones included); `SCHILY.xattr.*` values are latin1, a char per byte. Do not modify. */
  pax: Record<string, string>;
}

export interface TarEntrySink {
  /** `data` is a slice of the pushed chunk: keep it only if the chunk is not reused. */
  write(data: Buffer): void;
  end(): void;
  /**
   * The file being written, open: a copy that does not go through write() (copyTree) puts the data
   * straight into it, from offset 0, then calls end().
   */
  fd?: number;
}

export type TarEntryHandler = (entry: TarEntry) => TarEntrySink | undefined | Promise<TarEntrySink | undefined>;

export class TarFormatError extends Error {}

/** Entry types by type flag; other flags are 'other'. */
export const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'contiguous-file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

/** Record types that only describe the entry after them. */
const META_TYPES = new Set(['x', 'g', 'L', 'K']);

/** The PAX records of an entry that has none. */
export const NO_PAX: Record<string, string> = Object.freeze({}) as Record<string, string>;

export class TarReader {
  /** Bytes of a header not yet complete, or the rest of a chunk left while a handler waited. */
  private carry: Buffer | undefined;
  private bodyLeft = 0;
  private padLeft = 0;
  private sink: TarEntrySink | undefined;
  private meta: { kind: string; size: number; chunks: Buffer[] } | undefined;
  private pax: Record<string, string> | undefined;
  private globalPax: Record<string, string> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  private entryData = 0;
  /** The end-of-archive marker was read; what follows is ignored. */
  done = false;

  constructor(private readonly onEntry: TarEntryHandler) {}

  /**
   * Reads `chunk`; returns a promise when a handler made the reader wait, which settles when the
   * chunk is read. The next push must wait for it.
   */
  push(chunk: Buffer): Promise<void> | undefined {
    let buf = chunk;
    if (this.carry) {
      buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    return this.consume(buf);
  }

  /** The input ended: anything but the end of an entry (or zero padding) is a truncated archive. */
  end(): void {
    if (this.done) return;
    if (this.bodyLeft > 0 || this.meta || (this.carry && this.carry.some((b) => b !== 0))) {
      throw new TarFormatError('unexpected EOF');
    }
  }

  /** Closes the entry being written (after a failure elsewhere). */
  abort(): void {
    const s = this.sink;
    this.sink = undefined;
    try {
      s?.end();
    } catch {
      // already failing
    }
  }

  private consume(buf: Buffer): Promise<void> | undefined {
    let off = 0;
    const len = buf.length;
    while (off < len && !this.done) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, len - off);
        const slice = buf.subarray(off, off + n);
        if (this.meta) this.meta.chunks.push(Buffer.from(slice));
        else this.sink?.write(slice);
        this.bodyLeft -= n;
        off += n;
        if (this.bodyLeft === 0) this.endBody();
        continue;
      }
      if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, len - off);
        this.padLeft -= n;
        off += n;
        continue;
      }
      if (len - off < BLOCK) {
        this.carry = Buffer.from(buf.subarray(off));
        return undefined;
      }
      const header = buf.subarray(off, off + BLOCK);
      off += BLOCK;
      const waiting = this.header(header);
      if (waiting) {
        const rest = buf.subarray(off);
        return waiting.then((sink) => {
          this.startBody(sink);
          return this.consume(rest);
        });
      }
    }
    return undefined;
  }

  private endBody(): void {
    if (this.meta) {
      const { kind, size, chunks } = this.meta;
      this.meta = undefined;
      this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (kind === 'x') this.pax = decodePax(data, this.pax);
      else if (kind === 'g') this.globalPax = decodePax(data, this.globalPax);
      else if (kind === 'L') this.longName = cstring(data, 0, data.length);
      else this.longLink = cstring(data, 0, data.length);
      return;
    }
    this.padLeft = (BLOCK - (this.entryData % BLOCK)) % BLOCK;
    const s = this.sink;
    this.sink = undefined;
    s?.end();
  }

  /** Parses one header block; returns the handler's promise when it has to wait. */
  private header(h: Buffer): Promise<TarEntrySink | undefined> | undefined {
    if (isZeroBlock(h)) {
      if (++this.zeroBlocks >= 2) this.done = true;
      return undefined;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarFormatError('archive/tar: invalid tar header');
    const flag = String.fromCharCode(h[156]!);
    const headerSize = decodeNumber(h, 124, 12);
    if (META_TYPES.has(flag)) {
      this.meta = { kind: flag, size: headerSize, chunks: [] };
      this.bodyLeft = headerSize;
      if (headerSize === 0) this.endBody();
      return undefined;
    }

    let name = cstring(h, 0, 100);
    // ustar (POSIX) keeps a prefix at 345; GNU's magic is "ustar  " and has other fields there.
    if (h[257] === 0x75 && h[262] === 0 && h.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cstring(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const pax = this.globalPax ? { ...this.globalPax, ...this.pax } : this.pax ?? NO_PAX;
    if (this.longName !== undefined) name = this.longName;
    if (pax.path !== undefined) name = pax.path;
    let linkname = cstring(h, 157, 100);
    if (this.longLink !== undefined) linkname = this.longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    const size = pax.size !== undefined ? Number(pax.size) : headerSize;
    const mtimeSeconds = pax.mtime !== undefined ? Number(pax.mtime) : decodeNumber(h, 136, 12);
    const type = TYPES[flag] ?? 'other';
    // Only regular files (and types we do not know, to skip them whole) carry data in the archive.
    const dataSize = type === 'file' || type === 'contiguous-file' || type === 'other' ? size : 0;
    if (!Number.isSafeInteger(dataSize) || dataSize < 0) throw new TarFormatError(`archive/tar: invalid size in header of ${JSON.stringify(name)}`);
    const entry: TarEntry = {
      name,
      type,
      mode: decodeNumber(h, 100, 8),
      uid: pax.uid !== undefined ? Number(pax.uid) : decodeNumber(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : decodeNumber(h, 116, 8),
      size: dataSize,
      mtime: new Date(Math.floor(mtimeSeconds * 1000)),
      linkname,
      devmajor: decodeNumber(h, 329, 8),
      devminor: decodeNumber(h, 337, 8),
      pax,
    };
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    this.entryData = dataSize;
    this.bodyLeft = dataSize;
    const result = this.onEntry(entry);
    if (result instanceof Promise) return result;
    this.startBody(result);
    return undefined;
  }

  private startBody(sink: TarEntrySink | undefined): void {
    this.sink = sink;
    if (this.bodyLeft === 0) this.endBody();
  }
}
