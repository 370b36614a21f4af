import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { notFound } from '../../util/errors';
import { sha256Digest } from '../content/digest';
import type { ImageEntry } from './image-index';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MEDIA_OCI_CONFIG, MEDIA_OCI_INDEX, MEDIA_OCI_LAYER, MEDIA_OCI_MANIFEST } from './media-types';
import { ParsedReference, familiarString, fullString, parseNormalizedReference } from './reference';

export interface SaveImage {
  entry: ImageEntry;
  /** Tagged references to record for this image (none for an image named by ID). */
  refs: ParsedReference[];
}

export interface SaveSource {
  configBytes(id: string): Buffer;
  blobSize(digest: string): number;
  openBlob(digest: string): Readable;
}

interface ArchiveFile {
  name: string;
  mtime: Date;
  data?: Buffer;
  blob?: { digest: string; size: number };
}

const EPOCH = new Date(0);

/**
 * Writes `docker save` output as moby 28 does: an OCI image layout (`oci-layout`, `index.json`,
 * `blobs/sha256/…` holding configs, manifests and uncompressed layer tars) plus the docker-archive
 * files `manifest.json` and `repositories` pointing into it, so both old and new readers load it.
 */
export async function writeImageArchive(images: SaveImage[], source: SaveSource, out: Writable): Promise<void> {
  const blobs = new Map<string, ArchiveFile>();
  const addBlob = (file: ArchiveFile): void => {
    if (!blobs.has(file.name)) blobs.set(file.name, file);
  };
  const manifest: object[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const indexEntries: object[] = [];

  for (const { entry, refs } of images) {
    const created = entry.config.created ? new Date(entry.config.created) : EPOCH;
    const mtime = Number.isNaN(created.getTime()) ? EPOCH : created;
    const config = source.configBytes(entry.id);
    addBlob({ name: blobPath(entry.id), mtime, data: config });
    const layers = entry.config.rootfs.diff_ids.map((diffId) => {
      const size = source.blobSize(diffId);
      addBlob({ name: blobPath(diffId), mtime, blob: { digest: diffId, size } });
      return { mediaType: MEDIA_OCI_LAYER, digest: diffId, size };
    });
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_OCI_MANIFEST,
        config: { mediaType: MEDIA_OCI_CONFIG, digest: entry.id, size: config.length },
        layers,
      }),
    );
    const manifestDigest = sha256Digest(manifestBytes);
    addBlob({ name: blobPath(manifestDigest), mtime: EPOCH, data: manifestBytes });
    const descriptor = { mediaType: MEDIA_OCI_MANIFEST, digest: manifestDigest, size: manifestBytes.length };
    if (refs.length === 0) indexEntries.push(descriptor);
    const topDiff = entry.config.rootfs.diff_ids[entry.config.rootfs.diff_ids.length - 1] ?? '';
    for (const ref of refs) {
      (repositories[ref.familiarName] ??= {})[ref.tag!] = topDiff.replace(/^sha256:/, '');
      indexEntries.push({ ...descriptor, annotations: { [ANNOTATION_IMAGE_NAME]: fullString(ref), [ANNOTATION_REF_NAME]: ref.tag } });
    }
    manifest.push({
      Config: blobPath(entry.id),
      RepoTags: refs.length > 0 ? refs.map(familiarString) : null,
      Layers: entry.config.rootfs.diff_ids.map(blobPath),
      ...(entry.parent && images.some((i) => i.entry.id === entry.parent) ? { Parent: entry.parent } : {}),
    });
  }

  const files: ArchiveFile[] = [
    { name: 'blobs/', mtime: EPOCH },
    { name: 'blobs/sha256/', mtime: EPOCH },
    ...[...blobs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    { name: 'index.json', mtime: EPOCH, data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests: indexEntries })) },
    { name: 'manifest.json', mtime: EPOCH, data: Buffer.from(JSON.stringify(manifest) + '\n') },
    { name: 'oci-layout', mtime: EPOCH, data: Buffer.from('{"imageLayoutVersion": "1.0.0"}') },
  ];
  if (Object.keys(repositories).length > 0) {
    files.push({ name: 'repositories', mtime: EPOCH, data: Buffer.from(JSON.stringify(repositories) + '\n') });
  }

  const pack = tar.pack();
  const written = pipelineAsync(pack, out);
  const feeding = (async () => {
    for (const file of files) await addEntry(pack, file, source);
    pack.finalize();
  })();
  feeding.catch((err: Error) => pack.destroy(err));
  // A client that goes away fails `written`; the feeding loop may then never finish.
  await Promise.race([written, feeding.then(() => written)]);
}

export interface SaveNameLookup {
  /** Tag references of a repository (full name) with their images. */
  tagsOfRepository(name: string): { ref: ParsedReference; entry: ImageEntry | undefined }[];
  tagged(ref: ParsedReference): ImageEntry | undefined;
  /** Any other name (ID, ID prefix, digest reference); throws Docker's 404. */
  entry(name: string): ImageEntry;
}

/**
 * Which images and tags `docker save NAME…` writes, as moby decides: `repo` means every tag of
 * it, `repo:tag` that tag ("reference does not exist" if missing), anything else an image by ID
 * without tags.
 */
export function resolveSaveNames(names: string[], lookup: SaveNameLookup): SaveImage[] {
  const byId = new Map<string, SaveImage>();
  const add = (entry: ImageEntry, ref?: ParsedReference): void => {
    const item = byId.get(entry.id) ?? { entry, refs: [] };
    byId.set(entry.id, item);
    if (ref && !item.refs.some((r) => familiarString(r) === familiarString(ref))) item.refs.push(ref);
  };
  for (const name of names) {
    let parsed: ParsedReference | undefined;
    try {
      parsed = /^(sha256:)?[a-f0-9]{64}$/.test(name) ? undefined : parseNormalizedReference(name);
    } catch {
      parsed = undefined;
    }
    if (parsed && parsed.tag === undefined && parsed.digest === undefined) {
      const tagged = lookup.tagsOfRepository(parsed.name).filter((t) => t.entry);
      if (tagged.length > 0) {
        for (const t of tagged) add(t.entry!, t.ref);
        continue;
      }
    }
    if (parsed && parsed.tag !== undefined && parsed.digest === undefined) {
      const entry = lookup.tagged(parsed);
      if (!entry) throw notFound('reference does not exist');
      add(entry, parsed);
      continue;
    }
    add(lookup.entry(name));
  }
  return [...byId.values()];
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.replace(/^sha256:/, '')}`;
}

function addEntry(pack: tar.Pack, file: ArchiveFile, source: SaveSource): Promise<void> {
  const base = { name: file.name, mtime: file.mtime, uid: 0, gid: 0, uname: 'root', gname: 'root' };
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (file.name.endsWith('/')) pack.entry({ ...base, type: 'directory', mode: 0o755 }, done);
    else if (file.data) pack.entry({ ...base, type: 'file', mode: 0o644, size: file.data.length }, file.data, done);
    else {
      const blob = file.blob!;
      const entry = pack.entry({ ...base, type: 'file', mode: 0o644, size: blob.size }, done);
      pipeline(source.openBlob(blob.digest), entry, (err) => err && reject(err));
    }
  });
}
