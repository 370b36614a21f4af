import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { InvalidArchiveError, type ImageArchive } from './archive-reader';
import { parseConfig } from './config';
import { goJsonString, goMarshalObjectFromRaw } from '../../util/go-json';
import { type ParsedReference, parseNormalizedReference } from './reference';
import { goTimeText } from './time';

/** What the planner needs to know of one image to load (see archive-plan.ts). */
export interface LegacyPlannedImage {
  configBytes: Buffer;
  /** The chain's layers, bottom first: archive member and diff ID. */
  layers: Array<{ member: string; diffId: string }>;
  refs: ParsedReference[];
  /** ID of the image below it in the archive (its v1 parent), once converted. */
  parent?: string;
}

const V1_ID = /^[a-f0-9]{64}$/;
/** Keys of a v1 image JSON that a v2 config does not carry (moby's MakeConfigFromV1Config). */
const DROPPED_KEYS = new Set(['id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway']);

interface Converted {
  id: string;
  /** Go-encoded history entries down the chain. */
  history: string[];
  plan: LegacyPlannedImage;
}

interface V1Json {
  parent?: string;
  os?: string;
  created?: string;
  author?: string;
  comment?: string;
  container_config?: { Cmd?: string[] | null } | null;
  docker_version?: string;
}

/**
 * Archives written by `docker save` before Docker 1.10: no manifest.json, one directory per v1
 * image (`<id>/json`, `<id>/layer.tar`) chained by `parent`, tags in `repositories`. As moby's
 * legacyLoad does, every v1 image becomes an image whose config is its v1 JSON without the v1
 * fields, plus `rootfs` (the diff IDs down the chain) and `history` (one entry per v1 image), in
 * Go's encoding (sorted keys, compact, HTML characters escaped), so the image IDs match Docker's.
 * Images come out parents first. (moby first re-encodes JSON written by Docker < 1.8.3 through its
 * V1Image struct; such archives load here as written, with other IDs than Docker gives them.)
 */
export function planLegacyArchive(archive: ImageArchive): LegacyPlannedImage[] {
  const ids = archive.names().map((n) => /^([a-f0-9]{64})\/json$/.exec(n)?.[1]).filter((id): id is string => id !== undefined).sort();
  if (ids.length === 0) throw new InvalidArchiveError('invalid archive: neither manifest.json nor index.json found (not an image archive)');
  const converted = new Map<string, Converted>();
  const planned: LegacyPlannedImage[] = [];

  const convert = (oldId: string, seen: Set<string>): Converted => {
    const done = converted.get(oldId);
    if (done) return done;
    if (seen.has(oldId)) throw new InvalidArchiveError(`invalid archive: image ${oldId} is its own ancestor`);
    seen.add(oldId);
    const raw = archive.bytes(`${oldId}/json`);
    const v1 = parseV1(raw, oldId);
    if (v1.os && v1.os !== 'linux') throw new InvalidArchiveError(`cannot load ${v1.os} image on linux`);
    let below: Converted | undefined;
    if (v1.parent) {
      if (!V1_ID.test(v1.parent) || !archive.has(`${v1.parent}/json`)) throw new InvalidArchiveError(`invalid archive: parent ${v1.parent} of ${oldId} is missing`);
      below = convert(v1.parent, seen);
    }
    const layerMember = `${oldId}/layer.tar`;
    if (!archive.has(layerMember)) throw new InvalidArchiveError(`invalid archive: ${layerMember} is missing`);
    const layers = [...(below?.plan.layers ?? []), { member: layerMember, diffId: layerDiffId(archive, layerMember) }];
    const diffIds = layers.map((l) => l.diffId);
    const history = [...(below?.history ?? []), historyEntry(v1, oldId)];
    const rootfs = `{"type":"layers","diff_ids":[${diffIds.map(goJsonString).join(',')}]}`;
    const configBytes = Buffer.from(goMarshalObjectFromRaw(raw.toString('utf8'), DROPPED_KEYS, { rootfs, history: `[${history.join(',')}]` }));
    try {
      parseConfig(configBytes);
    } catch (err) {
      throw new InvalidArchiveError(`invalid image JSON ${oldId}: ${(err as Error).message}`);
    }
    const plan: LegacyPlannedImage = { configBytes, layers, refs: [], ...(below ? { parent: below.id } : {}) };
    const result = { id: sha256Of(configBytes), history, plan };
    converted.set(oldId, result);
    planned.push(plan);
    return result;
  };
  for (const id of ids) convert(id, new Set());

  const repositories = archive.has('repositories') ? archive.json<Record<string, Record<string, string>>>('repositories') : {};
  for (const [name, tags] of Object.entries(repositories ?? {})) {
    for (const [tag, oldId] of Object.entries(tags ?? {})) {
      const image = converted.get(oldId);
      if (!image) throw new InvalidArchiveError(`invalid target ID: ${oldId}`);
      let ref: ParsedReference;
      try {
        ref = parseNormalizedReference(`${name}:${tag}`);
      } catch (err) {
        throw new InvalidArchiveError(`invalid reference "${name}:${tag}" in repositories: ${(err as Error).message}`);
      }
      image.plan.refs.push(ref);
    }
  }
  return planned;
}

function parseV1(raw: Buffer, oldId: string): V1Json {
  let v1: unknown;
  try {
    v1 = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new InvalidArchiveError(`invalid archive: ${oldId}/json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v1 !== 'object' || v1 === null || Array.isArray(v1)) throw new InvalidArchiveError(`invalid archive: ${oldId}/json is not a JSON object`);
  return v1 as V1Json;
}

/** moby's v1.HistoryFromConfig, marshalled as Go does (image.History's field order, omitempty). */
function historyEntry(v1: V1Json, oldId: string): string {
  const fields: string[] = [];
  if (v1.created !== undefined) fields.push(`"created":${goJsonString(goTime(v1.created, oldId))}`);
  if (v1.author) fields.push(`"author":${goJsonString(v1.author)}`);
  const createdBy = (v1.container_config?.Cmd ?? []).join(' ');
  if (createdBy) fields.push(`"created_by":${goJsonString(createdBy)}`);
  if (v1.comment) fields.push(`"comment":${goJsonString(v1.comment)}`);
  return `{${fields.join(',')}}`;
}

function goTime(text: string, oldId: string): string {
  const normalized = goTimeText(text);
  if (normalized === undefined) throw new InvalidArchiveError(`invalid archive: ${oldId}/json: parsing time ${JSON.stringify(text)} as RFC 3339 failed`);
  return normalized;
}

/** The digest of the uncompressed layer tar: the content store's digest, or hashed here for small members. */
function layerDiffId(archive: ImageArchive, member: string): string {
  const stored = archive.blobDigest(member);
  if (stored) return stored;
  let data = archive.bytes(member);
  if (data[0] === 0x1f && data[1] === 0x8b) data = zlib.gunzipSync(data);
  return sha256Of(data);
}

function sha256Of(bytes: Buffer): string {
  return 'sha256:' + crypto.createHash('sha256').update(bytes).digest('hex');
}
