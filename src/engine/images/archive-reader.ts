import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { DigestMismatchError } from '../content/blob-writer';
import { UnsupportedCompressionError, decompressed } from '../layers/decompress';
import type { DetachedLayer } from '../layers/store';

export class InvalidArchiveError extends Error {}

export interface StoredBlob {
  digest: string;
  size: number;
}

/**
 * Where large archive members go: the content store, verified against `expected` when known,
 * possibly extracted as a layer on the way (`layer`, `layerError`).
 */
export interface ArchiveSink {
  ingest(stream: AsyncIterable<Buffer>, expected?: string): Promise<{ blob: StoredBlob; layer?: DetachedLayer; layerError?: unknown }>;
  open(digest: string): Readable;
}

export type ArchiveMember = { data: Buffer } | { blob: StoredBlob; layer?: DetachedLayer; layerError?: unknown };

const IN_MEMORY_MAX = 1 << 20; // members up to 1 MiB stay in memory (JSON files, tiny layers)…
const IN_MEMORY_BUDGET = 64 << 20; // …as long as they add up to no more than this
const MAX_LINK_HOPS = 16;
const BLOB_NAME_RE = /^blobs\/sha256\/([a-f0-9]{64})$/;

/**
 * The members of an image archive (`docker save` output, docker-archive or OCI layout), read
 * once from a stream: small files are kept in memory, large ones stored in the content store as
 * they arrive (hashed while written, so `blobs/sha256/<hex>` members are checked against their
 * names without a second pass). Symlinks and hard links between members (older `docker save`
 * links repeated layers) are kept as aliases.
 */
export class ImageArchive {
  private readonly members = new Map<string, ArchiveMember>();
  private readonly links = new Map<string, string>();

  private constructor(private readonly sink: ArchiveSink) {}

  static async read(input: NodeJS.ReadableStream, sink: ArchiveSink): Promise<ImageArchive> {
    const archive = new ImageArchive(sink);
    let stream: Readable;
    try {
      stream = await decompressed(input);
    } catch (err) {
      if (err instanceof UnsupportedCompressionError) throw new InvalidArchiveError(err.message);
      throw err;
    }
    const extract = tar.extract();
    let memory = 0;
    let entries = 0;
    // When the parser fails (truncated input), the member being read only reports "Stream was
    // destroyed"; the parser's own error says what happened.
    let parserError: Error | undefined;
    extract.on('error', (err: Error) => (parserError ??= err));
    stream.on('error', (err) => extract.destroy(err));
    stream.pipe(extract);
    try {
      for await (const entry of extract) {
        entries++;
        const name = cleanName(entry.header.name);
        const type = entry.header.type ?? 'file';
        if (type === 'symlink' || type === 'link') {
          const target = entry.header.linkname ?? '';
          archive.links.set(name, type === 'symlink' ? path.posix.join(path.posix.dirname(name), target) : cleanName(target));
          entry.resume();
          continue;
        }
        if (type !== 'file' && type !== 'contiguous-file') {
          entry.resume();
          continue;
        }
        const expected = BLOB_NAME_RE.exec(name)?.[1];
        const size = entry.header.size ?? 0;
        if (size <= IN_MEMORY_MAX && memory + size <= IN_MEMORY_BUDGET) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry) chunks.push(chunk as Buffer);
          const data = Buffer.concat(chunks);
          memory += data.length;
          if (expected) {
            const actual = crypto.createHash('sha256').update(data).digest('hex');
            if (actual !== expected) throw new InvalidArchiveError(digestMismatch(name, `sha256:${expected}`, `sha256:${actual}`));
          }
          archive.members.set(name, { data });
        } else {
          let stored: Awaited<ReturnType<ArchiveSink['ingest']>>;
          try {
            stored = await sink.ingest(entry as AsyncIterable<Buffer>, expected ? `sha256:${expected}` : undefined);
          } catch (err) {
            if (err instanceof DigestMismatchError) throw new InvalidArchiveError(digestMismatch(name, err.expected, err.actual));
            throw err;
          }
          archive.members.set(name, stored);
        }
      }
    } catch (caught) {
      if (caught instanceof InvalidArchiveError) throw caught;
      const err = parserError ?? caught;
      const message = (err as Error).message;
      if (/Invalid tar header|Unexpected end of data|unknown format|incorrect header check|unexpected end of file/i.test(message)) {
        throw new InvalidArchiveError(`invalid tar archive: ${message}`);
      }
      throw err;
    }
    if (entries === 0) throw new InvalidArchiveError('invalid tar archive: no entries (empty or not a tar file)');
    return archive;
  }

  has(name: string): boolean {
    return this.member(name) !== undefined;
  }

  /** Names of the regular-file members, in archive order. */
  names(): string[] {
    return [...this.members.keys()];
  }

  member(name: string): ArchiveMember | undefined {
    let current = cleanName(name);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const found = this.members.get(current);
      if (found) return found;
      const next = this.links.get(current);
      if (next === undefined) return undefined;
      current = cleanName(next);
    }
    return undefined;
  }

  /** The bytes of a small member (JSON files); throws if it is missing or was stored as a blob. */
  bytes(name: string): Buffer {
    const m = this.member(name);
    if (!m) throw new InvalidArchiveError(`invalid archive: ${name} is missing`);
    if ('data' in m) return m.data;
    throw new InvalidArchiveError(`invalid archive: ${name} is too large for a metadata file`);
  }

  json<T>(name: string): T {
    try {
      return JSON.parse(this.bytes(name).toString('utf8')) as T;
    } catch (err) {
      if (err instanceof InvalidArchiveError) throw err;
      throw new InvalidArchiveError(`invalid archive: ${name} is not valid JSON: ${(err as Error).message}`);
    }
  }

  open(name: string): Readable {
    const m = this.member(name);
    if (!m) throw new InvalidArchiveError(`invalid archive: ${name} is missing`);
    return 'data' in m ? Readable.from([m.data]) : this.sink.open(m.blob.digest);
  }

  /**
   * The layer extracted from a member while it was read, handed out once (a second use of the
   * same tar, under another parent, extracts it again). Throws the extraction's error.
   */
  takeDetached(name: string): DetachedLayer | undefined {
    const m = this.member(name);
    if (!m || 'data' in m) return undefined;
    if (m.layerError !== undefined) throw m.layerError;
    const layer = m.layer;
    delete m.layer;
    return layer;
  }

  /** The content-store digest of a member that was stored as a blob. */
  blobDigest(name: string): string | undefined {
    const m = this.member(name);
    return m && 'blob' in m ? m.blob.digest : undefined;
  }

  size(name: string): number | undefined {
    const m = this.member(name);
    return m && ('data' in m ? m.data.length : m.blob.size);
  }
}

function cleanName(name: string): string {
  const normalized = path.posix.normalize(`/${name}`).slice(1);
  return normalized.replace(/\/+$/, '');
}

function digestMismatch(name: string, expected: string, actual: string): string {
  return `invalid archive: wrong digest for ${name}: expected ${expected}, got ${actual}`;
}
