import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { SHA256_PREFIX } from './digest';

export class DigestMismatchError extends Error {
  constructor(readonly expected: string, readonly actual: string) {
    super(`digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/** Moves a finished temp file into the store; calls `beforePlace` under the digest's lock. */
export type PlaceFn = (digest: string, tempPath: string, beforePlace?: (digest: string) => void) => Promise<void>;

export interface CommittedBlob {
  digest: string;
  size: number;
}

/**
 * Streams one blob into a temp file while hashing it. Nothing is visible in the store until
 * commit() has checked the digest and renamed the file into place; abort() (or a digest
 * mismatch) deletes the temp file.
 */
export class BlobWriter {
  private readonly hash = crypto.createHash('sha256');
  private written = 0;
  private done = false;

  private constructor(
    private readonly fh: fsp.FileHandle,
    private readonly tempPath: string,
    private readonly place: PlaceFn,
  ) {}

  static async create(tempPath: string, place: PlaceFn): Promise<BlobWriter> {
    const fh = await fsp.open(tempPath, 'wx', 0o644);
    return new BlobWriter(fh, tempPath, place);
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.done) throw new Error('blob writer is closed');
    this.hash.update(chunk);
    // Synchronous on purpose: a write into the page cache takes microseconds, while a
    // thread-pool round trip per chunk made ingesting several times slower.
    let offset = 0;
    while (offset < chunk.length) offset += fs.writeSync(this.fh.fd, chunk, offset, chunk.length - offset);
    this.written += chunk.length;
  }

  /** Verifies (when `expected` is given), makes the blob durable and moves it into the store. */
  /**
   * `beforePlace` learns the digest before the blob becomes visible in the store, so a caller
   * can protect it (pin it) with no gap in which a concurrent deletion could take it.
   */
  async commit(expected?: string, beforePlace?: (digest: string) => void): Promise<CommittedBlob> {
    if (this.done) throw new Error('blob writer is closed');
    this.done = true;
    const digest = SHA256_PREFIX + this.hash.digest('hex');
    try {
      if (expected !== undefined && expected !== digest) {
        throw new DigestMismatchError(expected, digest);
      }
      await this.fh.sync();
      await this.fh.close();
      await this.place(digest, this.tempPath, beforePlace);
    } catch (err) {
      await this.fh.close().catch(() => undefined);
      await fsp.rm(this.tempPath, { force: true });
      throw err;
    }
    return { digest, size: this.written };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => undefined);
    await fsp.rm(this.tempPath, { force: true });
  }
}
