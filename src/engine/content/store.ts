import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fsyncDirSync } from '../../util/atomic';
import { BlobWriter, CommittedBlob } from './blob-writer';
import { KeyedLock } from './keyed-lock';
import { SHA256_PREFIX, assertDigest, digestHex } from './digest';

/**
 * Content-addressed blob store: `<root>/sha256/<hex>`. Every blob is hashed while it is written
 * and only renamed into place when its digest is known (and matches, when one was expected),
 * so a blob file's name always is the sha256 of its bytes. Temp files live in `<root>/ingest`
 * and are removed on open (left there by a crash).
 *
 * What a blob is used for is the callers' business: the image service decides what to delete
 * (`deleteIf`, and `retainOnly` at start-up). Placing and deleting one digest never overlap.
 */
export class ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;
  private readonly locks = new KeyedLock();

  private constructor(readonly root: string) {
    this.blobDir = path.join(root, 'sha256');
    this.ingestDir = path.join(root, 'ingest');
  }

  static async open(root: string): Promise<ContentStore> {
    const store = new ContentStore(root);
    await fsp.mkdir(store.blobDir, { recursive: true, mode: 0o700 });
    await fsp.rm(store.ingestDir, { recursive: true, force: true });
    await fsp.mkdir(store.ingestDir, { recursive: true, mode: 0o700 });
    return store;
  }

  blobPath(digest: string): string {
    return path.join(this.blobDir, digestHex(digest));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  /** Size in bytes, or undefined if the blob is absent. */
  size(digest: string): number | undefined {
    try {
      return fs.statSync(this.blobPath(digest)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  readSync(digest: string): Buffer {
    return fs.readFileSync(this.blobPath(digest));
  }

  openRead(digest: string): fs.ReadStream {
    return fs.createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 });
  }

  async createWriter(): Promise<BlobWriter> {
    const temp = path.join(this.ingestDir, crypto.randomBytes(12).toString('hex'));
    return BlobWriter.create(temp, (digest, tempPath, beforePlace) => this.place(digest, tempPath, beforePlace));
  }

  /** Stores a small blob held in memory (configs, manifests); returns its digest. */
  async writeBuffer(data: Buffer, expected?: string): Promise<CommittedBlob> {
    const writer = await this.createWriter();
    try {
      await writer.write(data);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer.commit(expected);
  }

  /** Stores a stream; with `expected`, a stream whose digest differs stores nothing. */
  async ingest(stream: AsyncIterable<Buffer>, expected?: string): Promise<CommittedBlob> {
    const writer = await this.createWriter();
    try {
      for await (const chunk of stream) await writer.write(chunk);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer.commit(expected);
  }

  list(): string[] {
    return fs
      .readdirSync(this.blobDir)
      .filter((name) => /^[0-9a-f]{64}$/.test(name))
      .map((hex) => SHA256_PREFIX + hex);
  }

  async delete(digest: string): Promise<void> {
    await this.locks.run(digest, () => fsp.rm(this.blobPath(assertDigest(digest)), { force: true }));
  }

  /**
   * Deletes the blob if `stillUnused()`, asked under the digest's lock: a writer placing the
   * same digest meanwhile (and pinning it in its `beforePlace`) is either fully before or
   * fully after, so a check and the deletion can never straddle a new copy.
   */
  async deleteIf(digest: string, stillUnused: () => boolean): Promise<boolean> {
    return this.locks.run(digest, async () => {
      if (!stillUnused()) return false;
      await fsp.rm(this.blobPath(assertDigest(digest)), { force: true });
      return true;
    });
  }

  /** Deletes every blob not in `keep`; returns the deleted digests. */
  async retainOnly(keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const digest of this.list()) {
      if (keep.has(digest)) continue;
      await this.delete(digest);
      removed.push(digest);
    }
    return removed;
  }

  private place(digest: string, tempPath: string, beforePlace?: (digest: string) => void): Promise<void> {
    return this.locks.run(digest, async () => {
      beforePlace?.(digest);
      // Renaming over an existing blob is harmless: same name, same bytes.
      await fsp.rename(tempPath, this.blobPath(digest));
      fsyncDirSync(this.blobDir);
    });
  }
}
