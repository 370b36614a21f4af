import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { fsyncDirSync, readJsonSync, writeJsonAtomicSync } from '../../util/atomic';
import { DigestMismatchError } from '../content/blob-writer';
import { KeyedLock } from '../content/keyed-lock';
import type { ContentStore } from '../content/store';
import { digestHex, isDigest, SHA256_PREFIX } from '../content/digest';
import { chainIdOf } from './chain-id';
import { decompressed } from './decompress';
import { extractTar } from './extract';
import type { SpecialOpStrategy } from './special-files';

export interface LayerInfo {
  chainId: string;
  diffId: string;
  parent: string | null; // chain ID of the layer below
  size: number; // bytes on disk of this layer alone
}

export interface ApplyOptions {
  /** The diff ID the caller expects (from an image config); a different one fails the apply. */
  expectedDiffId?: string;
  /**
   * The input is the content store's own blob of `expectedDiffId` (verified when it was
   * stored), so hashing it again is skipped.
   */
  fromStoredBlob?: boolean;
  /** Learns the diff ID before the layer's tar appears in the content store (to pin it). */
  beforeBlobPlaced?: (diffId: string) => void;
}

export class DiffIdMismatchError extends Error {
  constructor(readonly expected: string, readonly actual: string) {
    super(`layer content does not match its diff ID: expected ${expected}, got ${actual}`);
  }
}

/** A layer extracted into a temp dir, not yet part of the store. */
export interface DetachedLayer {
  readonly temp: string;
  readonly size: number;
}

interface DiffSink {
  write(chunk: Buffer): Promise<void>;
  commit(): Promise<string>;
  abort(): Promise<void>;
}

const LAYER_META = 'layer.json';
const TEMP_DIR = '.tmp';

/**
 * Extracted layers, one directory per chain ID: `<root>/<chain hex>/diff` (an overlay lower dir)
 * and `<root>/<chain hex>/layer.json`. A layer is extracted into `<root>/.tmp/<random>` and
 * renamed into place only when complete, so a crash never leaves a half-made layer behind;
 * leftovers in `.tmp` are removed on open. The uncompressed tar goes to the content store under
 * its diff ID. Layer directories are shared by every image whose chain contains them.
 */
export class LayerStore {
  private readonly layers = new Map<string, LayerInfo>();
  /** Installing and removing one chain ID never overlap. */
  private readonly locks = new KeyedLock();

  private constructor(
    readonly root: string,
    private readonly content: ContentStore,
    private readonly specialStrategy?: SpecialOpStrategy,
  ) {}

  static async open(root: string, content: ContentStore, opts: { specialStrategy?: SpecialOpStrategy } = {}): Promise<LayerStore> {
    const store = new LayerStore(root, content, opts.specialStrategy);
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    await fsp.rm(path.join(root, TEMP_DIR), { recursive: true, force: true });
    for (const name of await fsp.readdir(root)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue; // e.g. the snapshotter's "l" short links
      const info = readJsonSync<LayerInfo>(path.join(root, name, LAYER_META));
      if (info && info.chainId === SHA256_PREFIX + name) store.layers.set(info.chainId, info);
    }
    return store;
  }

  has(chainId: string): boolean {
    return this.layers.has(chainId);
  }

  get(chainId: string): LayerInfo | undefined {
    return this.layers.get(chainId);
  }

  list(): LayerInfo[] {
    return [...this.layers.values()];
  }

  /** Directory holding the layer's files (its overlay lower dir). */
  diffDir(chainId: string): string {
    return path.join(this.layerPath(chainId), 'diff');
  }

  layerPath(chainId: string): string {
    return path.join(this.root, digestHex(chainId));
  }

  /** Finds a layer by chain ID, or else by diff ID (the first layer with that content). */
  find(diffOrChainId: string): LayerInfo | undefined {
    return this.layers.get(diffOrChainId) ?? this.list().find((l) => l.diffId === diffOrChainId);
  }

  /**
   * Extracts a layer tar (plain or gzip) on top of `parent` (a chain ID, or null for a base
   * layer). The diff ID is computed while extracting. If a layer with the resulting chain ID
   * exists already, the new copy is dropped and the existing one returned.
   */
  async apply(input: NodeJS.ReadableStream, parent: string | null, opts: ApplyOptions = {}): Promise<LayerInfo> {
    if (parent !== null && !this.layers.has(parent)) throw new Error(`parent layer ${parent} does not exist`);
    const temp = await this.newTemp();
    const diffDir = path.join(temp, 'diff');

    const blob = await this.diffSink(opts.expectedDiffId, opts.fromStoredBlob === true, opts.beforeBlobPlaced);
    try {
      const tarStream = await decompressed(input);
      const { size } = await extractTar(tarStream, diffDir, {
        onChunk: (chunk) => blob.write(chunk),
        specialStrategy: this.specialStrategy,
      });
      const diffId = await blob.commit();
      const info: LayerInfo = { chainId: chainIdOf(parent, diffId), diffId, parent, size };
      return await this.install(temp, info);
    } catch (err) {
      await blob.abort();
      await fsp.rm(temp, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Extracts a plain (uncompressed) layer tar into a temp dir before its place in a chain is
   * known: a layer dir's contents do not depend on its parent. Loading uses this to extract
   * while the archive is still arriving. The caller stores the tar itself, then either installs
   * the result (`installDetached`) or discards it.
   */
  async extractDetached(tar: Readable): Promise<DetachedLayer> {
    const temp = await this.newTemp();
    try {
      const { size } = await extractTar(tar, path.join(temp, 'diff'), { specialStrategy: this.specialStrategy });
      return { temp, size };
    } catch (err) {
      await fsp.rm(temp, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Publishes a detached extraction as the layer `diffId` on top of `parent`. With `synced`,
   * the caller has made the extracted files durable already (one `syncDetached` for many).
   */
  async installDetached(layer: DetachedLayer, parent: string | null, diffId: string, opts: { synced?: boolean } = {}): Promise<LayerInfo> {
    if (parent !== null && !this.layers.has(parent)) throw new Error(`parent layer ${parent} does not exist`);
    if (!this.content.has(diffId)) throw new Error(`layer tar ${diffId} is not in the content store`);
    return this.install(layer.temp, { chainId: chainIdOf(parent, diffId), diffId, parent, size: layer.size }, opts.synced === true);
  }

  /** Makes detached extractions durable, all at once (a file system sync costs the same for one or many). */
  async syncDetached(): Promise<void> {
    await syncFilesystem(path.join(this.root, TEMP_DIR));
  }

  async discardDetached(layer: DetachedLayer): Promise<void> {
    await fsp.rm(layer.temp, { recursive: true, force: true });
  }

  /** A new temp layer dir (with its empty `diff`) under `.tmp`, where extractions happen before they are installed. */
  private async newTemp(): Promise<string> {
    const tempRoot = path.join(this.root, TEMP_DIR);
    await fsp.mkdir(tempRoot, { recursive: true, mode: 0o700 });
    const temp = path.join(tempRoot, crypto.randomBytes(12).toString('hex'));
    await fsp.mkdir(path.join(temp, 'diff'), { recursive: true, mode: 0o755 });
    return temp;
  }

  /**
   * Where the uncompressed tar goes while it is extracted: into a blob (written even if the
   * digest is stored already, so that it is placed, and pinned through `beforePlace`, under the
   * content store's lock rather than relied on while a deletion may be under way), or nowhere
   * when the input is that very stored blob (`trusted`, pinned by the caller).
   */
  private async diffSink(expected: string | undefined, trusted: boolean, beforePlace?: (digest: string) => void): Promise<DiffSink> {
    if (expected !== undefined && trusted && this.content.has(expected)) {
      return { write: async () => undefined, commit: async () => expected, abort: async () => undefined };
    }
    const writer = await this.content.createWriter();
    return {
      write: (chunk) => writer.write(chunk),
      commit: async () => {
        try {
          return (await writer.commit(expected, beforePlace)).digest;
        } catch (err) {
          if (err instanceof DigestMismatchError) throw new DiffIdMismatchError(err.expected, err.actual);
          throw err;
        }
      },
      abort: () => writer.abort(),
    };
  }

  async remove(chainId: string): Promise<void> {
    await this.removeIf(chainId, () => true);
  }

  /**
   * Removes the layer if `stillUnused()`, asked under the layer's lock: an install of the same
   * chain ID meanwhile is either fully before or fully after it.
   */
  async removeIf(chainId: string, stillUnused: () => boolean): Promise<boolean> {
    if (!isDigest(chainId)) return false;
    return this.locks.run(chainId, async () => {
      if (!this.layers.has(chainId) || !stillUnused()) return false;
      this.layers.delete(chainId);
      await removeTree(this.layerPath(chainId), path.join(this.root, TEMP_DIR));
      return true;
    });
  }

  /** Removes every layer not in `keep`; returns the removed chain IDs. */
  async retainOnly(keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const chainId of [...this.layers.keys()]) {
      if (keep.has(chainId)) continue;
      await this.remove(chainId);
      removed.push(chainId);
    }
    // Directories without a readable layer.json were never completed: not layers at all.
    for (const name of await fsp.readdir(this.root)) {
      if (/^[0-9a-f]{64}$/.test(name) && !this.layers.has(SHA256_PREFIX + name)) {
        await removeTree(path.join(this.root, name), path.join(this.root, TEMP_DIR));
      }
    }
    return removed;
  }

  private install(temp: string, info: LayerInfo, synced = false): Promise<LayerInfo> {
    return this.locks.run(info.chainId, () => this.installLocked(temp, info, synced));
  }

  private async installLocked(temp: string, info: LayerInfo, synced: boolean): Promise<LayerInfo> {
    const existing = this.layers.get(info.chainId);
    if (existing) {
      await fsp.rm(temp, { recursive: true, force: true });
      return existing;
    }
    writeJsonAtomicSync(path.join(temp, LAYER_META), info);
    if (!synced) await syncFilesystem(temp);
    try {
      await fsp.rename(temp, this.layerPath(info.chainId));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // Another apply of the same layer won the race; its copy is identical.
      await fsp.rm(temp, { recursive: true, force: true });
    }
    fsyncDirSync(this.root);
    this.layers.set(info.chainId, info);
    return info;
  }
}

/** Renames a tree away before deleting it, so a crash mid-delete leaves no half layer in place. */
async function removeTree(dir: string, tempRoot: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  await fsp.mkdir(tempRoot, { recursive: true, mode: 0o700 });
  const doomed = path.join(tempRoot, `rm-${crypto.randomBytes(8).toString('hex')}`);
  await fsp.rename(dir, doomed);
  await fsp.rm(doomed, { recursive: true, force: true });
}

/** Makes the extracted files durable before the rename publishes them (syncfs via coreutils). */
function syncFilesystem(dir: string): Promise<void> {
  return new Promise((resolve) => {
    execFile('sync', ['-f', dir], () => resolve()); // best effort: a failed sync must not fail the pull
  });
}
