import * as crypto from 'node:crypto';
import * as tarStream from 'tar-stream';

/** Test helpers that build image archives by hand (docker-archive and OCI layout). */

export type TarEntry = tarStream.Headers & { body?: string | Buffer };

/**
 * A tar of `entries` (tar-stream's writer, independent of Berth's own). Each header gets mtime 0 and
 * mode 0755 for directories / 0644 otherwise unless `defaults` or the entry say otherwise.
 */
export async function makeTar(entries: TarEntry[], defaults: Partial<tarStream.Headers> = {}): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const { body, ...header } of entries) {
    const base = { mtime: new Date(0), mode: header.type === 'directory' ? 0o755 : 0o644, ...defaults };
    await new Promise<void>((resolve, reject) => pack.entry({ ...base, ...header }, body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** mulberry32: a small seeded generator, so a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sha256 = (data: Buffer | string): string => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
export const hex = (digest: string): string => digest.replace(/^sha256:/, '');

export interface FixtureImage {
  layers: Buffer[]; // uncompressed layer tars, bottom first
  repoTags?: string[];
  labels?: Record<string, string>;
  created?: string;
  /** history entries; defaults to one per layer with created_by "layer <i>" */
  history?: { created_by?: string; comment?: string; empty_layer?: boolean; created?: string }[];
  cmd?: string[];
}

export interface BuiltImage {
  config: Buffer;
  id: string;
  diffIds: string[];
}

export function imageConfig(img: FixtureImage): BuiltImage {
  const diffIds = img.layers.map((l) => sha256(l));
  const created = img.created ?? '2024-01-02T03:04:05.123456789Z';
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      config: { Cmd: img.cmd ?? ['/bin/sh'], ...(img.labels ? { Labels: img.labels } : {}) },
      created,
      history: img.history ?? img.layers.map((_, i) => ({ created, created_by: `layer ${i}` })),
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  return { config, id: sha256(config), diffIds };
}

/** A docker-archive as skopeo writes it: manifest.json, <config hex>.json, <diffid hex>.tar. */
export async function dockerArchive(images: FixtureImage[]): Promise<{ tar: Buffer; built: BuiltImage[] }> {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  const manifest: object[] = [];
  const built = images.map((img) => {
    const b = imageConfig(img);
    img.layers.forEach((layer, i) => {
      const name = `${hex(b.diffIds[i]!)}.tar`;
      if (!seen.has(name)) entries.push({ name, body: layer });
      seen.add(name);
    });
    entries.push({ name: `${hex(b.id)}.json`, body: b.config });
    manifest.push({ Config: `${hex(b.id)}.json`, RepoTags: img.repoTags ?? null, Layers: b.diffIds.map((d) => `${hex(d)}.tar`) });
    return b;
  });
  entries.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  return { tar: await makeTar(entries), built };
}

/** A plain OCI image layout (what `skopeo copy … oci-archive:` or buildx write): no manifest.json. */
export async function ociLayout(
  images: (FixtureImage & { refName?: string; layerMediaType?: string; transformLayer?: (l: Buffer) => Buffer })[],
): Promise<{ tar: Buffer; built: BuiltImage[] }> {
  const blobs = new Map<string, Buffer>();
  const put = (data: Buffer): { digest: string; size: number } => {
    const digest = sha256(data);
    blobs.set(digest, data);
    return { digest, size: data.length };
  };
  const manifests: object[] = [];
  const built = images.map((img) => {
    const b = imageConfig(img);
    const layers = img.layers.map((l) => ({
      mediaType: img.layerMediaType ?? 'application/vnd.oci.image.layer.v1.tar',
      ...put(img.transformLayer ? img.transformLayer(l) : l),
    }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(b.config) },
        layers,
      }),
    );
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...put(manifest),
      ...(img.refName ? { annotations: { 'org.opencontainers.image.ref.name': img.refName } } : {}),
    });
    return b;
  });
  const entries: TarEntry[] = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    ...[...blobs].map(([d, body]) => ({ name: `blobs/sha256/${hex(d)}`, body })),
    { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests }) },
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
  ];
  return { tar: await makeTar(entries), built };
}

/** A layer with one file of `size` random bytes (or the given content). */
export function fileLayer(name: string, content: string | Buffer): Promise<Buffer> {
  return makeTar([{ name, body: content }]);
}

export function randomLayer(name: string, size: number): Promise<Buffer> {
  return makeTar([{ name, body: crypto.randomBytes(size) }]);
}

/** v1 image IDs of the pre-1.10 fixture below. */
export const LEGACY_BASE_V1 = '1a'.repeat(32);
export const LEGACY_CHILD_V1 = '2b'.repeat(32);

/**
 * A pre-1.10 `docker save` archive made by hand (no manifest.json): two v1 image directories
 * chained by `parent`, tags in `repositories`. The JSON is written the way old Docker wrote it
 * (indented here, with fields v2 configs drop, HTML characters, a non-UTC-looking zero offset) so
 * that loading must convert it exactly as moby does to arrive at Docker's image IDs.
 */
export async function legacyArchive(): Promise<{ tar: Buffer; layers: Buffer[] }> {
  const base = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/os-release', body: 'NAME=legacy\n' },
  ]);
  const child = await makeTar([{ name: 'f', body: 'a && b <c>\n' }]);
  const baseJson = JSON.stringify(
    {
      id: LEGACY_BASE_V1,
      created: '2015-10-01T12:00:00.500000000Z',
      container: 'c0ffee',
      container_config: { Cmd: ['/bin/sh', '-c', '#(nop) ADD file:abc in /'] },
      docker_version: '1.9.1',
      config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
      architecture: 'amd64',
      os: 'linux',
      Size: 12,
    },
    null,
    2,
  );
  const childJson = JSON.stringify(
    {
      id: LEGACY_CHILD_V1,
      parent: LEGACY_BASE_V1,
      created: '2015-10-01T12:00:01.000000000+00:00',
      author: 'Ann <ann@example.com>',
      comment: 'with & <html> é',
      container_config: { Cmd: ['/bin/sh', '-c', 'echo a && echo b > /f'] },
      docker_version: '1.9.1',
      config: { Cmd: ['sh', '-c', 'cat /f'], Labels: { k: 'v' } },
      architecture: 'amd64',
      os: 'linux',
      Size: 11,
      throwaway: false,
    },
    null,
    '\t',
  );
  const tar = await makeTar([
    { name: 'repositories', body: JSON.stringify({ 'legacy/app': { v1: LEGACY_CHILD_V1 }, 'legacy/base': { latest: LEGACY_BASE_V1 } }) + '\n' },
    { name: `${LEGACY_BASE_V1}/`, type: 'directory' },
    { name: `${LEGACY_BASE_V1}/VERSION`, body: '1.0' },
    { name: `${LEGACY_BASE_V1}/json`, body: baseJson },
    { name: `${LEGACY_BASE_V1}/layer.tar`, body: base },
    { name: `${LEGACY_CHILD_V1}/`, type: 'directory' },
    { name: `${LEGACY_CHILD_V1}/VERSION`, body: '1.0' },
    { name: `${LEGACY_CHILD_V1}/json`, body: childJson },
    { name: `${LEGACY_CHILD_V1}/layer.tar`, body: child },
  ]);
  return { tar, layers: [base, child] };
}

/** A docker-archive tagged `tag`: `base` as the first layer, then `count - 1` layers each adding the file /layer<i> ("<i>\n"). */
export async function manyLayerArchive(count: number, tag: string, base: Buffer): Promise<Buffer> {
  const layers: Buffer[] = [base];
  for (let i = 1; i < count; i++) layers.push(await makeTar([{ name: `layer${i}`, body: `${i}\n` }]));
  const diffIds = layers.map((l) => `sha256:${crypto.createHash('sha256').update(l).digest('hex')}`);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'test' })),
  });
  return makeTar([
    { name: 'config.json', body: config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: layers.map((_, i) => `l${i}.tar`) }]) },
    ...layers.map((l, i) => ({ name: `l${i}.tar`, body: l })),
  ]);
}
