import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { EngineError, invalidParameter, noSuchImage, notFound } from '../../util/errors';
import { ContentStore } from '../content/store';
import { sha256Digest } from '../content/digest';
import { UnsupportedCompressionError } from '../layers/decompress';
import { BreakoutError } from '../layers/entry-path';
import { InvalidTarError } from '../layers/extract';
import { chainIds } from '../layers/chain-id';
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
  repoTagReference,
  withDefaultTag,
} from './reference';
import { TagStore } from './tag-store';
import { nowRfc3339Nano } from './time';

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
}

const IMPORT_PLATFORM = { architecture: 'amd64', os: 'linux' };
const FULL_ID_RE = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX_RE = /^(?:sha256:)?([a-f0-9]{1,63})$/;

/**
 * The image store: image records and tags over the content store (configs, layer tars) and the
 * layer store (extracted layers). Pull, push, load/save, commit and build are to be added on top
 * of `createImage` and `layerStore.apply`.
 */
export class ImageService {
  private constructor(
    readonly dataRoot: string,
    readonly content: ContentStore,
    readonly layerStore: LayerStore,
    private readonly index: ImageIndex,
    private readonly tags: TagStore,
  ) {}

  /** Creates the directories, loads the index and removes what a crash left behind. */
  static async open(dataRoot: string, opts: ImageServiceOptions = {}): Promise<ImageService> {
    await fsp.mkdir(dataRoot, { recursive: true, mode: 0o711 });
    const content = await ContentStore.open(path.join(dataRoot, 'content'));
    const layers = await LayerStore.open(path.join(dataRoot, 'layers'), content, { specialStrategy: opts.specialStrategy });
    const { index, dropped } = ImageIndex.load(dataRoot, content, layers);
    const tags = TagStore.load(dataRoot);
    const service = new ImageService(dataRoot, content, layers, index, tags);
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

  get(ref: string): ImageRecord {
    return this.toRecord(this.getEntry(ref));
  }

  list(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): object[] {
    return listImages(
      {
        entries: this.index.all(),
        refsFor: (id) => this.tags.refsFor(id),
        hasChildren: (id) => this.index.children(id).length > 0,
        createdOf: (ref) => this.getEntry(ref).config.created ?? '',
      },
      opts,
    );
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
    const id = await this.createImage(serializeConfig(config));
    if (ref) this.tagImage(id, ref);
    return id;
  }

  /**
   * Registers an image from its config bytes (kept byte for byte: the ID is their digest).
   * Every layer the config names must already be in the layer store. Idempotent.
   */
  async createImage(configBytes: Buffer, opts: { parent?: string } = {}): Promise<string> {
    const config = parseConfig(configBytes);
    const id = sha256Digest(configBytes);
    if (this.index.has(id)) return id;
    const chain = chainIds(config.rootfs.diff_ids);
    const missing = chain.find((c) => !this.layerStore.has(c));
    if (missing) throw new EngineError(500, `layer ${missing} does not exist`);
    await this.content.writeBuffer(configBytes, id);
    const size = chain.reduce((sum, c) => sum + (this.layerStore.get(c)?.size ?? 0), 0);
    this.index.add({ id, config, chainIds: chain, size, parent: opts.parent ?? '' });
    this.index.save();
    return id;
  }

  /** Extracts a layer tar on top of `parent` (chain ID or null); bad input becomes a 400. */
  async applyLayer(tar: NodeJS.ReadableStream, parent: string | null): Promise<LayerInfo> {
    try {
      return await this.layerStore.apply(tar, parent);
    } catch (err) {
      if (err instanceof InvalidTarError || err instanceof BreakoutError || err instanceof UnsupportedCompressionError) {
        throw invalidParameter(err.message);
      }
      throw err;
    }
  }

  /** `docker tag`: `repo` may carry the tag itself; a tag already in use moves to this image. */
  tag(ref: string, repo: string, tag?: string): void {
    const target = repoTagReference(repo, tag);
    if (target.familiarName === 'sha256') {
      throw invalidParameter('refusing to create an ambiguous tag using digest algorithm as name');
    }
    this.tagImage(this.getEntry(ref).id, target);
  }

  /** Overlay lower dirs of an image, top layer first. */
  lowerDirs(imageId: string): string[] {
    const entry = this.getEntry(imageId);
    return [...entry.chainIds].reverse().map((c) => this.layerStore.diffDir(c));
  }

  /** The diff dir of a layer, by chain ID or (first match) diff ID. */
  layerDir(diffOrChainId: string): string {
    const layer = this.layerStore.find(diffOrChainId);
    if (!layer) throw notFound(`layer ${diffOrChainId} does not exist`);
    return this.layerStore.diffDir(layer.chainId);
  }

  private tagImage(id: string, ref: ParsedReference): void {
    this.tags.set(ref, id);
    const entry = this.index.get(id);
    if (entry) entry.lastTagTime = nowRfc3339Nano();
    this.tags.save();
    this.index.save();
  }

  private getEntry(ref: string): ImageEntry {
    const entry = this.resolveEntry(ref);
    if (entry) return entry;
    // Docker answers an unparsable name with 400 and its parser's message, not with a 404.
    if (!FULL_ID_RE.test(ref) && !ID_PREFIX_RE.test(ref)) {
      try {
        parseNormalizedReference(ref);
      } catch (err) {
        if (err instanceof InvalidReferenceError) throw invalidParameter(err.message);
        throw err;
      }
    }
    throw noSuchImage(ref);
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
      repoTags: refs.filter((r) => r.tag !== undefined && r.digest === undefined).map(familiarString),
      repoDigests: refs.filter((r) => r.digest !== undefined).map((r) => `${r.familiarName}@${r.digest}`),
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
    const keepLayers = new Set(this.index.all().flatMap((e) => e.chainIds));
    await this.layerStore.retainOnly(keepLayers);
    const keepBlobs = new Set<string>(this.index.all().map((e) => e.id));
    for (const layer of this.layerStore.list()) keepBlobs.add(layer.diffId);
    await this.content.retainOnly(keepBlobs);
  }
}
