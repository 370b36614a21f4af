import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { EngineError, invalidParameter, noSuchImage, notFound } from '../../util/errors';
import { ContentStore } from '../content/store';
import { sha256Digest } from '../content/digest';
import { UnsupportedCompressionError } from '../layers/decompress';
import { BreakoutError } from '../../util/root-path';
import { InvalidTarError } from '../layers/extract';
import { chainIdOf, chainIds } from '../layers/chain-id';
import { LayerInfo, LayerStore } from '../layers/store';
import type { SpecialOpStrategy } from '../layers/special-files';
import { applyChanges } from './changes';
import { ImageConfigBody, importConfig, parseConfig, serializeConfig } from './config';
import { ImageEntry, ImageIndex } from './image-index';
import { inspectImage } from './image-inspect';
import { listImages } from './image-list';
import {
  InvalidReferenceError,
  ParsedReference,
  familiarString,
  parseNormalizedReference,
  repoDigests,
  repoTagReference,
  repoTags,
  withDefaultTag,
} from './reference';
import { TagStore } from './tag-store';
import { nowRfc3339Nano } from './time';
import { DeleteResponseItem, DeleteStore, deleteImage } from './image-delete';
import { HistoryItem, imageHistory } from './history';
import { PruneReport, pruneImages, pruneRunning } from './prune';
import { Pins, Serial } from './pins';
import { ImageEventSink, ImageUsage, NO_CONTAINERS } from './usage';
import { SaveImage, resolveSaveNames, writeImageArchive } from './save';
import { LoadMessage, LoadTarget, loadImages } from './image-load';
import { ImageDiskUsage, diskUsage, sharedSizes, systemDiskUsage } from './disk-usage';

export type { ImageConfigBody } from './config';
export { normalizeReference } from './reference';
export type { NormalizedReference } from './reference';

export interface ImageRecord {
  id: string; // "sha256:<64hex>" = sha256 of the image config JSON bytes as stored
  config: ImageConfigBody; // parsed .config of the image config
  repoTags: string[]; // familiar form: "busybox:latest", "localhost:5000/x:1"
  repoDigests: string[];
  created: string; // RFC3339Nano
  layers: string[]; // diff IDs, bottom first
  size: number; // bytes on disk of all layers
  parent: string; // parent image ID or ''
  architecture: string;
  os: string;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
}

export interface ImageServiceOptions {
  /** How device nodes, whiteouts and xattrs are made (tests force the fallback). */
  specialStrategy?: SpecialOpStrategy;
  events?: ImageEventSink;
}

export type { LoadMessage } from './image-load';

const IMPORT_PLATFORM = { architecture: 'amd64', os: 'linux' };
const FULL_ID_RE = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX_RE = /^(?:sha256:)?([a-f0-9]{1,63})$/;

/**
 * The image store: image records and tags over the content store (configs, layer tars) and the
 * layer store (extracted layers). A facade: the rules live in image-delete.ts, prune.ts,
 * history.ts, save.ts, image-load.ts and disk-usage.ts; this class owns the records and decides
 * when layers and blobs go (see docs/architecture.md, "Image store"). Pull and build are to be
 * added on top of `applyLayer` and `createImage`.
 */
export class ImageService {
  private usage: ImageUsage = NO_CONTAINERS;
  /** Blobs and layers that operations in flight have written or still read. */
  private readonly pins = new Pins((keys) => this.onUnpinned(keys));
  /** Layers and blobs a removal skipped because they were pinned; swept once unpinned. */
  private readonly deferred = new Set<string>();
  /** Pins of layers applied through applyLayer that no image refers to yet. */
  private readonly unclaimed = new Map<string, (() => void)[]>();
  /** Changes to images, tags and the removal of layers and blobs happen one at a time. */
  private readonly serial = new Serial();
  private pruning = false;

  private constructor(
    readonly dataRoot: string,
    readonly content: ContentStore,
    readonly layerStore: LayerStore,
    private readonly index: ImageIndex,
    private readonly tags: TagStore,
    private readonly emit: ImageEventSink,
  ) {}

  /** Creates the directories, loads the index and removes what a crash left behind. */
  static async open(dataRoot: string, opts: ImageServiceOptions = {}): Promise<ImageService> {
    await fsp.mkdir(dataRoot, { recursive: true, mode: 0o711 });
    const content = await ContentStore.open(path.join(dataRoot, 'content'));
    const layers = await LayerStore.open(path.join(dataRoot, 'layers'), content, { specialStrategy: opts.specialStrategy });
    const { index, dropped } = ImageIndex.load(dataRoot, content, layers);
    const tags = TagStore.load(dataRoot);
    const service = new ImageService(dataRoot, content, layers, index, tags, opts.events ?? (() => undefined));
    const ids = new Set(index.all().map((e) => e.id));
    if (dropped.length > 0) index.save();
    if (tags.retainImages(ids)) tags.save();
    await service.collectGarbage();
    return service;
  }

  count(): number {
    return this.index.size;
  }

  resolve(ref: string): ImageRecord | undefined {
    const entry = this.resolveEntry(ref);
    return entry && this.toRecord(entry);
  }

  /** Also finds, by full ID, an image deleted while a container still uses it (see `retained`). */
  get(ref: string): ImageRecord {
    return this.toRecord(this.getEntryOrRetained(ref));
  }

  /** Resolves once the changes queued so far (including deferred removals) are done. */
  settle(): Promise<void> {
    return this.serial.run(() => undefined);
  }

  /** Tells the store which containers use which image (rmi conflicts, df, layer lifetime). */
  setUsage(usage: ImageUsage): void {
    this.usage = usage;
  }

  /** `GET /images/json`; with `sharedSize` (API 1.42 `shared-size=1`) SharedSize is filled in as `system df` does. */
  list(opts: { all?: boolean; filters?: Record<string, string[]>; sharedSize?: boolean } = {}): object[] {
    const items = listImages(
      {
        entries: this.index.all(),
        refsFor: (id) => this.tags.refsFor(id),
        hasChildren: (id) => this.index.children(id).length > 0,
        createdOf: (ref) => this.getEntry(ref).config.created ?? '',
      },
      opts,
    ) as { Id: string; SharedSize: number }[];
    if (opts.sharedSize) {
      const shared = sharedSizes(this.index.all(), (c) => this.layerStore.get(c)?.size ?? 0);
      for (const item of items) item.SharedSize = shared.get(item.Id) ?? 0;
    }
    return items;
  }

  inspect(ref: string): object {
    const entry = this.getEntry(ref);
    return inspectImage(entry, this.tags.refsFor(entry.id), {
      layerPath: (c) => this.layerStore.layerPath(c),
      diffDir: (c) => this.layerStore.diffDir(c),
    });
  }

  /** `docker import`: one layer from a plain or gzip tar, config from `changes`. */
  async importImage(tar: NodeJS.ReadableStream, opts: ImportOptions = {}): Promise<string> {
    // Everything that can be refused without reading the body is checked first.
    const ref = opts.repo ? repoTagReference(opts.repo, opts.tag) : undefined;
    const body = applyChanges({}, opts.changes ?? []);
    const layer = await this.applyLayer(tar, null);
    const created = nowRfc3339Nano();
    const comment = opts.message || 'Imported from -';
    const config = importConfig({ diffId: layer.diffId, created, comment, body, ...IMPORT_PLATFORM });
    return this.serial.run(async () => {
      const id = await this.createImage(serializeConfig(config));
      if (ref) this.tagImage(id, ref);
      return id;
    });
  }

  /**
   * Registers an image from its config bytes (kept byte for byte: the ID is their digest).
   * Every layer the config names must already be in the layer store. Idempotent.
   */
  async createImage(configBytes: Buffer, opts: { parent?: string } = {}): Promise<string> {
    const config = parseConfig(configBytes);
    const id = sha256Digest(configBytes);
    const known = this.index.getAny(id);
    if (known) {
      if (known.retained) {
        delete known.retained;
        this.index.save();
      }
      this.claim(known.chainIds);
      return id;
    }
    const chain = chainIds(config.rootfs.diff_ids);
    const missing = chain.find((c) => !this.layerStore.has(c));
    if (missing) throw new EngineError(500, `layer ${missing} does not exist`);
    await this.content.writeBuffer(configBytes, id);
    const size = chain.reduce((sum, c) => sum + (this.layerStore.get(c)?.size ?? 0), 0);
    this.index.add({ id, config, chainIds: chain, size, parent: opts.parent ?? '' });
    this.index.save();
    this.claim(chain);
    return id;
  }

  /** Layers an image now refers to need no pin of their own any more. */
  private claim(chain: string[]): void {
    for (const c of chain) {
      for (const release of this.unclaimed.get(c) ?? []) release();
      this.unclaimed.delete(c);
    }
  }

  /** Extracts a layer tar on top of `parent` (chain ID or null); bad input becomes a 400. */
  async applyLayer(tar: NodeJS.ReadableStream, parent: string | null): Promise<LayerInfo> {
    // The new layer is referenced by no image yet: it is pinned (from before its tar appears
    // in the content store) until an image refers to it (createImage), so a concurrent rmi or
    // prune cannot take it away in between.
    let release: (() => void) | undefined;
    try {
      const info = await this.layerStore.apply(tar, parent, {
        beforeBlobPlaced: (diffId) => (release = this.pins.pin([chainIdOf(parent, diffId), diffId])),
      });
      if (!release) release = this.pins.pin([info.chainId, info.diffId]);
      this.unclaimed.set(info.chainId, [...(this.unclaimed.get(info.chainId) ?? []), release]);
      return info;
    } catch (err) {
      release?.();
      if (err instanceof InvalidTarError || err instanceof BreakoutError || err instanceof UnsupportedCompressionError) {
        throw invalidParameter(err.message);
      }
      throw err;
    }
  }

  /** `docker tag`: `repo` may carry the tag itself; a tag already in use moves to this image. */
  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const target = repoTagReference(repo, tag);
    if (target.familiarName === 'sha256') {
      throw invalidParameter('refusing to create an ambiguous tag using digest algorithm as name');
    }
    await this.serial.run(() => {
      const entry = this.getEntry(ref);
      this.tagImage(entry.id, target);
      this.event('tag', entry.id, familiarString(target));
    });
  }

  /** `DELETE /images/{name}`: see image-delete.ts for the rules. */
  remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteResponseItem[]> {
    return this.serial.run(() => this.removeLocked(ref, opts));
  }

  private async removeLocked(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<DeleteResponseItem[]> {
    const entry = this.getEntry(ref);
    return deleteImage(this.deleteStore(), ref, entry.id, { force: !!opts.force, prune: !opts.noprune });
  }

  /** `POST /images/prune`. */
  async prune(filters: Record<string, string[]>): Promise<PruneReport> {
    if (this.pruning) throw pruneRunning();
    this.pruning = true;
    try {
      const used = new Set(this.usage.containers().map((c) => c.imageId));
      const report = await pruneImages(
        {
          entries: () => this.index.all(),
          refsFor: (id) => this.tags.refsFor(id),
          hasChildren: (id) => this.index.children(id).length > 0,
          inUse: (id) => used.has(id),
          layerSize: (c) => this.layerStore.get(c)?.size,
          remove: (ref) => this.remove(ref, {}),
        },
        filters,
      );
      this.emit('prune', '', { reclaimed: String(report.SpaceReclaimed) });
      return report;
    } finally {
      this.pruning = false;
    }
  }

  /** `GET /images/{name}/history`. */
  history(ref: string): HistoryItem[] {
    const entry = this.getEntry(ref);
    return imageHistory(entry, {
      layerSize: (c) => this.layerStore.get(c)?.size ?? 0,
      tagsOf: (id) => this.tagsOf(id),
      entry: (id) => this.index.get(id),
    });
  }

  /**
   * `docker save`: resolves every name first (so an unknown one fails before any byte is
   * written), then streams the archive. Layers stay pinned while they are read.
   */
  async save(names: string[], out: Writable): Promise<void> {
    const images = this.resolveForSave(names);
    const keys = images.flatMap(({ entry }) => [entry.id, ...entry.chainIds, ...entry.config.rootfs.diff_ids]);
    const release = this.pins.pin(keys);
    try {
      for (const { entry } of images) {
        if (entry.config.rootfs.diff_ids.length === 0) throw new EngineError(500, 'empty export - not implemented');
      }
      await writeImageArchive(images, {
        configBytes: (id) => this.content.readSync(id),
        blobSize: (digest) => {
          const size = this.content.size(digest);
          if (size === undefined) throw new EngineError(500, `layer blob ${digest} is missing from the content store`);
          return size;
        },
        openBlob: (digest) => this.content.openRead(digest),
      }, out);
      for (const { entry } of images) this.event('save', entry.id, entry.id);
    } finally {
      release();
    }
  }

  /** Checks names for `save` (404 before anything is streamed). */
  resolveForSave(names: string[]): SaveImage[] {
    return resolveSaveNames(names, {
      tagsOfRepository: (name) => this.tags.byName(name).map((t) => ({ ref: t.ref, entry: this.index.get(t.id) })),
      tagged: (ref) => {
        const id = this.tags.get(ref);
        return id ? this.index.get(id) : undefined;
      },
      entry: (ref) => this.getEntry(ref),
    });
  }

  /** `docker load`: see image-load.ts. */
  load(input: NodeJS.ReadableStream, opts: { quiet: boolean }, send: (m: LoadMessage) => void): Promise<string[]> {
    return loadImages(this.loadTarget(), input, opts, send);
  }

  private loadTarget(): LoadTarget {
    return {
      content: this.content,
      layers: this.layerStore,
      pins: this.pins,
      serial: (fn) => this.serial.run(fn),
      createImage: (config, parent) => this.createImage(config, parent ? { parent } : {}),
      isValidParent: (parentId, diffIds) => this.isValidParent(parentId, diffIds),
      tagged: (ref) => this.tags.get(ref),
      setTag: (ref, id) => this.tags.set(ref, id),
      saveTags: () => this.tags.save(),
      event: (action, id) => this.event(action, id, id),
      releaseLayers: (chainIds) => this.releaseLayers(chainIds),
      deleteBlobIfUnused: (digest) => this.deleteBlobIfUnused(digest),
    };
  }

  /** `GET /system/df` image part: sizes from the layer records, container counts from usage. */
  diskUsage(): ImageDiskUsage {
    return diskUsage({
      entries: this.index.all(),
      layerSize: (c) => this.layerStore.get(c)?.size ?? 0,
      refsFor: (id) => this.tags.refsFor(id),
      hasChildren: (id) => this.index.children(id).length > 0,
      containers: this.usage.containers(),
    });
  }

  /** A parent's layers must be the bottom of the child's. */
  private isValidParent(parentId: string, diffIds: string[]): boolean {
    const parent = this.index.get(parentId);
    if (!parent) return false;
    const own = parent.config.rootfs.diff_ids;
    return own.length <= diffIds.length && own.every((d, i) => d === diffIds[i]);
  }

  /** Bytes of an image's layers (0 when it is gone). */
  imageSize(id: string): number {
    return this.index.getAny(id)?.size ?? 0;
  }

  /** `GET /system/df`, given the container list (GET /containers/json?all=1 items). */
  systemDiskUsage(containers: { Id: string; ImageID: string }[]): object {
    return systemDiskUsage(this.diskUsage(), containers, {
      sizeRw: (id) => this.usage.sizeRw(id),
      imageSize: (id) => this.imageSize(id),
    });
  }

  /** Drops retained images (deleted while a container used them) that no container uses any more. */
  async releaseRetained(): Promise<void> {
    await this.serial.run(async () => {
      const used = new Set(this.usage.containers().map((c) => c.imageId));
      for (const entry of this.index.allWithRetained()) {
        if (entry.retained && !used.has(entry.id)) await this.removeImageStorage(entry.id, false);
      }
    });
  }

  /** Overlay lower dirs of an image, top layer first. */
  lowerDirs(imageId: string): string[] {
    const entry = this.getEntryOrRetained(imageId);
    return [...entry.chainIds].reverse().map((c) => this.layerStore.diffDir(c));
  }

  /** The diff dir of a layer, by chain ID or (first match) diff ID. */
  layerDir(diffOrChainId: string): string {
    const layer = this.layerStore.find(diffOrChainId);
    if (!layer) throw notFound(`layer ${diffOrChainId} does not exist`);
    return this.layerStore.diffDir(layer.chainId);
  }

  private tagsOf(id: string): string[] {
    return repoTags(this.tags.refsFor(id));
  }

  private event(action: string, id: string, name: string): void {
    const labels = this.index.get(id)?.config.config?.Labels ?? {};
    this.emit(action, id, { ...labels, name });
  }

  private deleteStore(): DeleteStore {
    return {
      refsFor: (id) => this.tags.refsFor(id),
      untag: (ref) => {
        this.tags.delete(ref);
        this.tags.save();
      },
      hasChildren: (id) => this.index.children(id).length > 0,
      parentOf: (id) => this.index.get(id)?.parent ?? '',
      containersUsing: (id) => this.usage.containers().filter((c) => c.imageId === id),
      removeImage: (id, retain) => this.removeImageStorage(id, retain),
      event: (action, id) => this.event(action, id, id),
    };
  }

  /**
   * Removes an image record, then its layers and blobs that nothing else refers to. The record
   * goes first, so a crash in between leaves only unreferenced files for the start-up sweep.
   */
  private async removeImageStorage(id: string, retain: boolean): Promise<string[]> {
    const entry = this.index.getAny(id);
    if (!entry) return [];
    if (retain) {
      entry.retained = true;
      this.index.save();
      return [];
    }
    this.index.delete(id);
    this.index.save();
    await this.deleteBlobIfUnused(id);
    return this.releaseLayers([...entry.chainIds].reverse());
  }

  /** Removes those of `candidates` (chain IDs) no image uses and nobody pins; returns them in order. */
  private async releaseLayers(candidates: string[]): Promise<string[]> {
    if (candidates.length === 0) return [];
    const used = new Set(this.index.allWithRetained().flatMap((e) => e.chainIds));
    const removed: string[] = [];
    for (const chainId of candidates) {
      const info = this.layerStore.get(chainId);
      if (!info || used.has(chainId)) continue;
      const gone = await this.layerStore.removeIf(chainId, () => {
        if (!this.pins.has(chainId)) return true;
        this.deferred.add(chainId);
        return false;
      });
      if (!gone) continue;
      removed.push(chainId);
      await this.deleteBlobIfUnused(info.diffId);
    }
    return removed;
  }

  private async deleteBlobIfUnused(digest: string): Promise<void> {
    await this.content.deleteIf(digest, () => {
      if (this.index.getAny(digest)) return false;
      if (this.layerStore.list().some((l) => l.diffId === digest)) return false;
      if (this.pins.has(digest)) {
        this.deferred.add(digest);
        return false;
      }
      return true;
    });
  }

  private onUnpinned(keys: string[]): void {
    if (!keys.some((k) => this.deferred.has(k))) return;
    void this.serial.run(async () => {
      const items = [...this.deferred].filter((k) => !this.pins.has(k));
      for (const k of items) this.deferred.delete(k);
      await this.releaseLayers(items.filter((k) => this.layerStore.has(k)));
      for (const k of items) await this.deleteBlobIfUnused(k);
    });
  }

  private tagImage(id: string, ref: ParsedReference): void {
    this.tags.set(ref, id);
    const entry = this.index.get(id);
    if (entry) entry.lastTagTime = nowRfc3339Nano();
    this.tags.save();
    this.index.save();
  }

  /** `getEntry`, but a full ID also finds a retained image (deleted while a container uses it). */
  private getEntryOrRetained(ref: string): ImageEntry {
    const full = FULL_ID_RE.exec(ref);
    return (full && this.index.getAny(`sha256:${full[1]}`)) || this.getEntry(ref);
  }

  private getEntry(ref: string): ImageEntry {
    const entry = this.resolveEntry(ref);
    if (entry) return entry;
    // Docker answers an unparsable name with 400 and its parser's message, not with a 404.
    if (FULL_ID_RE.test(ref) || ID_PREFIX_RE.test(ref)) throw noSuchImage(ref);
    let parsed: ParsedReference;
    try {
      parsed = parseNormalizedReference(ref);
    } catch (err) {
      if (err instanceof InvalidReferenceError) throw invalidParameter(err.message);
      throw err;
    }
    // moby names what it looked for: the reference with the default tag added.
    throw noSuchImage(parsed.tag === undefined && parsed.digest === undefined ? `${ref}:latest` : ref);
  }

  /**
   * Name lookup first (with docker.io/library normalisation and the default tag), then the ID:
   * full, with or without "sha256:", or a unique prefix. `name@sha256:<image id>` also finds a
   * local image by ID, as in moby.
   */
  private resolveEntry(ref: string): ImageEntry | undefined {
    const full = FULL_ID_RE.exec(ref);
    if (full) return this.index.get(`sha256:${full[1]}`);

    let parsed: ParsedReference | undefined;
    try {
      parsed = withDefaultTag(parseNormalizedReference(ref));
    } catch {
      parsed = undefined;
    }
    if (parsed) {
      const id = this.tags.get(parsed);
      if (id) return this.index.get(id);
      if (parsed.digest !== undefined && parsed.tag === undefined) {
        const byId = this.index.get(parsed.digest);
        if (byId) return byId;
      }
    }

    const prefix = ID_PREFIX_RE.exec(ref);
    if (!prefix) return undefined;
    const matches = this.index.all().filter((e) => e.id.startsWith(`sha256:${prefix[1]}`));
    return matches.length === 1 ? matches[0] : undefined;
  }

  private toRecord(entry: ImageEntry): ImageRecord {
    const refs = this.tags.refsFor(entry.id);
    return {
      id: entry.id,
      config: structuredClone(entry.config.config ?? {}),
      repoTags: repoTags(refs),
      repoDigests: repoDigests(refs),
      created: entry.config.created ?? '',
      layers: [...entry.config.rootfs.diff_ids],
      size: entry.size,
      parent: entry.parent,
      architecture: entry.config.architecture ?? '',
      os: entry.config.os ?? '',
    };
  }

  /**
   * Removes layers no image uses and blobs neither an image config nor a layer tar. Runs at
   * open only, before anything else can be in flight. Whoever stores other kinds of blobs later
   * (manifests, compressed layers, build cache) must add them to the roots here.
   */
  private async collectGarbage(): Promise<void> {
    const keepLayers = new Set(this.index.allWithRetained().flatMap((e) => e.chainIds));
    await this.layerStore.retainOnly(keepLayers);
    const keepBlobs = new Set<string>(this.index.allWithRetained().map((e) => e.id));
    for (const layer of this.layerStore.list()) keepBlobs.add(layer.diffId);
    await this.content.retainOnly(keepBlobs);
  }
}
