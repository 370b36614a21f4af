import * as os from 'node:os';
import { sha256Digest } from '../content/digest';
import { InvalidArchiveError, ImageArchive } from './archive-reader';
import { parseConfig } from './config';
import { planLegacyArchive } from './legacy-archive';
import type { ImageConfigJson } from './config';
import {
  ANNOTATION_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  LAYER_MEDIA_TYPES,
  MEDIA_DOCKER_LIST,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
} from './media-types';
import { ParsedReference, parseNormalizedReference } from './reference';

export interface PlannedLayer {
  /** Archive member holding the layer tar (plain or compressed). */
  member: string;
  diffId: string;
}

export interface PlannedImage {
  configBytes: Buffer;
  config: ImageConfigJson;
  layers: PlannedLayer[];
  /** References to tag the image with, as written in the archive. */
  refs: ParsedReference[];
  /** Parent image ID recorded in manifest.json, if any. */
  parent?: string;
  /** Loaded without "Loaded image" lines (moby's legacy load prints none). */
  quietLoad?: boolean;
}

interface ManifestItem {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
  Parent?: unknown;
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

/**
 * What to load from an archive: docker-archive (manifest.json, as `docker save` and skopeo
 * write it) wins; otherwise an OCI image layout (index.json → manifests → config and layers).
 */
export function planLoad(archive: ImageArchive): PlannedImage[] {
  if (archive.has('manifest.json')) return planDockerArchive(archive);
  if (archive.has('index.json')) return planOciLayout(archive);
  // Neither: a pre-1.10 archive (v1 image directories), or not an image archive at all.
  return planLegacyArchive(archive).map((image) => ({
    configBytes: image.configBytes,
    config: readConfig(image.configBytes, 'converted from a v1 image'),
    layers: image.layers,
    refs: image.refs,
    ...(image.parent ? { parent: image.parent } : {}),
    quietLoad: true,
  }));
}

function planDockerArchive(archive: ImageArchive): PlannedImage[] {
  const manifest = archive.json<ManifestItem[]>('manifest.json');
  if (!Array.isArray(manifest)) throw new InvalidArchiveError('invalid archive: manifest.json is not a list');
  return manifest.map((item) => {
    if (typeof item?.Config !== 'string' || !Array.isArray(item.Layers) || !item.Layers.every((l) => typeof l === 'string')) {
      throw new InvalidArchiveError('invalid archive: manifest.json entry needs Config and Layers');
    }
    const configBytes = archive.bytes(item.Config);
    const config = readConfig(configBytes, item.Config);
    const diffIds = config.rootfs.diff_ids;
    const layers = item.Layers as string[];
    if (layers.length !== diffIds.length) {
      throw new InvalidArchiveError(`invalid manifest, layers length mismatch: expected ${layers.length}, got ${diffIds.length}`);
    }
    for (const l of layers) if (!archive.has(l)) throw new InvalidArchiveError(`invalid archive: layer ${l} is missing`);
    const repoTags = Array.isArray(item.RepoTags) ? (item.RepoTags as unknown[]) : [];
    const refs = repoTags.map((t) => {
      const ref = parseRef(String(t));
      if (ref.tag === undefined || ref.digest !== undefined) throw new InvalidArchiveError(`invalid tag "${String(t)}"`);
      return ref;
    });
    return {
      configBytes,
      config,
      layers: layers.map((member, i) => ({ member, diffId: diffIds[i]! })),
      refs,
      ...(typeof item.Parent === 'string' && item.Parent ? { parent: item.Parent } : {}),
    };
  });
}

function planOciLayout(archive: ImageArchive): PlannedImage[] {
  const index = archive.json<{ manifests?: Descriptor[] }>('index.json');
  if (!index || !Array.isArray(index.manifests)) throw new InvalidArchiveError('invalid archive: index.json has no manifests');
  const byConfig = new Map<string, PlannedImage>();
  for (const desc of index.manifests) {
    const image = resolveDescriptor(archive, desc, 0);
    const key = sha256Digest(image.configBytes);
    const existing = byConfig.get(key) ?? image;
    const name = nameOf(desc);
    if (name && !existing.refs.some((r) => r.name === name.name && r.tag === name.tag)) existing.refs.push(name);
    byConfig.set(key, existing);
  }
  return [...byConfig.values()];
}

function resolveDescriptor(archive: ImageArchive, desc: Descriptor, depth: number): PlannedImage {
  if (depth > 4) throw new InvalidArchiveError('invalid archive: image indexes nested too deeply');
  const bytes = readBlob(archive, desc);
  switch (desc.mediaType) {
    case MEDIA_OCI_INDEX:
    case MEDIA_DOCKER_LIST: {
      const nested = parseJson<{ manifests?: Descriptor[] }>(bytes, desc);
      const choice = pickPlatform(nested.manifests ?? []);
      return resolveDescriptor(archive, choice, depth + 1);
    }
    case MEDIA_OCI_MANIFEST:
    case MEDIA_DOCKER_MANIFEST: {
      const manifest = parseJson<{ config?: Descriptor; layers?: Descriptor[] }>(bytes, desc);
      if (!manifest.config || !Array.isArray(manifest.layers)) throw new InvalidArchiveError(`invalid archive: manifest ${desc.digest} has no config or layers`);
      const configBytes = readBlob(archive, manifest.config);
      const config = readConfig(configBytes, manifest.config.digest ?? '');
      const diffIds = config.rootfs.diff_ids;
      if (manifest.layers.length !== diffIds.length) {
        throw new InvalidArchiveError(`invalid manifest, layers length mismatch: expected ${manifest.layers.length}, got ${diffIds.length}`);
      }
      const layers = manifest.layers.map((l, i) => {
        if (!l.mediaType || !LAYER_MEDIA_TYPES.has(l.mediaType)) throw new InvalidArchiveError(`unsupported layer media type ${JSON.stringify(l.mediaType ?? '')}`);
        const member = blobMember(l);
        checkSize(archive, member, l);
        return { member, diffId: diffIds[i]! };
      });
      return { configBytes, config, layers, refs: [] };
    }
    default:
      throw new InvalidArchiveError(`unsupported media type ${JSON.stringify(desc.mediaType ?? '')} in index.json`);
  }
}

function pickPlatform(manifests: Descriptor[]): Descriptor {
  const arch = goArch();
  const match = manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch);
  if (match) return match;
  if (manifests.length === 1 && !manifests[0]!.platform) return manifests[0]!;
  throw new InvalidArchiveError(`no matching manifest for linux/${arch} in the manifest list entries`);
}

function goArch(): string {
  const arch = os.arch();
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

function nameOf(desc: Descriptor): ParsedReference | undefined {
  const a = desc.annotations ?? {};
  for (const candidate of [a[ANNOTATION_IMAGE_NAME], a[ANNOTATION_REF_NAME]]) {
    if (!candidate) continue;
    try {
      const ref = parseNormalizedReference(candidate);
      // A bare tag such as "latest" parses as an image name; only names with a tag are used.
      if (ref.tag !== undefined && ref.digest === undefined) return ref;
    } catch {
      /* not a reference: e.g. only a tag */
    }
  }
  return undefined;
}

function blobMember(desc: Descriptor): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(desc.digest ?? '');
  if (!m) throw new InvalidArchiveError(`invalid archive: unsupported digest ${JSON.stringify(desc.digest ?? '')}`);
  return `blobs/sha256/${m[1]}`;
}

function checkSize(archive: ImageArchive, member: string, desc: Descriptor): void {
  const size = archive.size(member);
  if (size === undefined) throw new InvalidArchiveError(`invalid archive: blob ${desc.digest} is missing`);
  if (typeof desc.size === 'number' && desc.size !== size) {
    throw new InvalidArchiveError(`invalid archive: blob ${desc.digest} has size ${size}, descriptor says ${desc.size}`);
  }
}

function readBlob(archive: ImageArchive, desc: Descriptor): Buffer {
  const member = blobMember(desc);
  checkSize(archive, member, desc);
  return archive.bytes(member);
}

function parseJson<T>(bytes: Buffer, desc: Descriptor): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArchiveError(`invalid archive: ${desc.digest} is not valid JSON: ${(err as Error).message}`);
  }
}

function readConfig(bytes: Buffer, where: string): ImageConfigJson {
  let config: ImageConfigJson;
  try {
    config = parseConfig(bytes);
  } catch (err) {
    throw new InvalidArchiveError(`invalid image config ${where}: ${(err as Error).message}`);
  }
  if (config.os && config.os !== 'linux') throw new InvalidArchiveError(`cannot load ${config.os} image on linux`);
  if (!config.rootfs.diff_ids.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new InvalidArchiveError(`invalid image config ${where}: unsupported diff ID`);
  }
  return config;
}

function parseRef(text: string): ParsedReference {
  try {
    return parseNormalizedReference(text);
  } catch (err) {
    throw new InvalidArchiveError(`invalid reference "${text}" in manifest.json: ${(err as Error).message}`);
  }
}
