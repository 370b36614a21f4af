import { invalidParameter } from '../../util/errors';
import { humanSize } from '../../util/human';
import type { ContentStore } from '../content/store';
import { chainIds } from '../layers/chain-id';
import { UnsupportedCompressionError } from '../layers/decompress';
import { BreakoutError } from '../../util/root-path';
import { InvalidTarError } from '../layers/extract';
import { DetachedLayer, DiffIdMismatchError, LayerInfo, LayerStore } from '../layers/store';
import { PlannedImage, planLoad } from './archive-plan';
import { ImageArchive, InvalidArchiveError } from './archive-reader';
import { ingestMember } from './load-ingest';
import type { Pins } from './pins';
import { ParsedReference, familiarString } from './reference';

/** One JSON message of the load stream (Docker's jsonmessage). */
export type LoadMessage =
  | { stream: string }
  | { status: string; progressDetail: { current?: number; total?: number }; progress: string; id: string };

/** What loading needs from the image store; ImageService provides it. */
export interface LoadTarget {
  content: ContentStore;
  layers: LayerStore;
  pins: Pins;
  /** Runs `fn` while no other change to records, layers or blobs runs. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  createImage(config: Buffer, parent?: string): Promise<string>;
  isValidParent(parentId: string, diffIds: string[]): boolean;
  tagged(ref: ParsedReference): string | undefined;
  setTag(ref: ParsedReference, id: string): void;
  saveTags(): void;
  event(action: 'load', id: string): void;
  releaseLayers(chainIds: string[]): Promise<string[]>;
  deleteBlobIfUnused(digest: string): Promise<void>;
}

interface LoadRun {
  archive: ImageArchive;
  releases: (() => void)[];
  createdLayers: string[];
  quiet: boolean;
  send: (m: LoadMessage) => void;
}

/**
 * `docker load`: reads the archive once (large members go straight into the content store,
 * plain layer tars are extracted on the way), extracts the layers still missing, then writes
 * image records and tags, in that order, so a crash leaves nothing half-made listed. Layers and
 * blobs that end up unreferenced (a failed load, compressed copies) are removed before returning.
 */
export async function loadImages(
  target: LoadTarget,
  input: NodeJS.ReadableStream,
  opts: { quiet: boolean },
  send: (m: LoadMessage) => void,
): Promise<string[]> {
  const releases: (() => void)[] = [];
  const createdLayers: string[] = [];
  const storedBlobs: string[] = [];
  const detached: DetachedLayer[] = [];
  try {
    const archive = await ImageArchive.read(input, {
      ingest: async (stream, expected) => {
        if (expected) releases.push(target.pins.pin([expected]));
        const member = await ingestMember(target.content, target.layers, stream, expected, (digest) =>
          releases.push(target.pins.pin([digest])),
        );
        storedBlobs.push(member.blob.digest);
        if (member.layer) detached.push(member.layer);
        return member;
      },
      open: (digest) => target.content.openRead(digest),
    });
    const plan = planLoad(archive);
    if (detached.length > 0) await target.layers.syncDetached();
    const run: LoadRun = { archive, releases, createdLayers, quiet: opts.quiet, send };
    for (const image of plan) await loadLayers(target, run, image);
    return await target.serial(() => register(target, plan, send));
  } catch (err) {
    throw asClientError(err);
  } finally {
    for (const release of releases) release();
    // Installed extractions were renamed away; the others are removed here.
    for (const layer of detached) await target.layers.discardDetached(layer);
    await target.serial(async () => {
      await target.releaseLayers(createdLayers);
      for (const digest of storedBlobs) await target.deleteBlobIfUnused(digest);
    });
  }
}

async function loadLayers(target: LoadTarget, run: LoadRun, image: PlannedImage): Promise<void> {
  const chain = chainIds(image.layers.map((l) => l.diffId));
  run.releases.push(target.pins.pin(chain));
  for (let i = 0; i < chain.length; i++) {
    if (target.layers.has(chain[i]!)) continue;
    const layer = image.layers[i]!;
    const id = layer.diffId.slice('sha256:'.length, 'sha256:'.length + 12);
    const total = run.archive.size(layer.member) ?? 0;
    const parent = i === 0 ? null : chain[i - 1]!;
    const stored = run.archive.blobDigest(layer.member) === layer.diffId;
    let info: LayerInfo;
    try {
      const detached = stored ? run.archive.takeDetached(layer.member) : undefined;
      info = detached
        ? await target.layers.installDetached(detached, parent, layer.diffId, { synced: true })
        : await target.layers.apply(run.archive.open(layer.member), parent, {
            expectedDiffId: layer.diffId,
            fromStoredBlob: stored,
            beforeBlobPlaced: (diffId) => run.releases.push(target.pins.pin([diffId])),
          });
    } catch (err) {
      if (err instanceof DiffIdMismatchError) {
        throw new InvalidArchiveError(`invalid diffID for layer ${i}: expected "${err.expected}", got "${err.actual}"`);
      }
      throw err;
    }
    run.createdLayers.push(info.chainId);
    // The layer was read while the archive arrived, so progress has only its final state.
    if (!run.quiet) run.send({ status: 'Loading layer', progressDetail: { current: total, total }, progress: progressBar(total, total), id });
  }
}

/** Image records, then tags; the messages Docker prints (IDs only when the last image had no name). */
async function register(target: LoadTarget, plan: PlannedImage[], send: (m: LoadMessage) => void): Promise<string[]> {
  const ids: string[] = [];
  let idLines = '';
  let tagged = 0;
  for (const image of plan) {
    const parent = image.parent && target.isValidParent(image.parent, image.config.rootfs.diff_ids) ? image.parent : undefined;
    const id = await target.createImage(image.configBytes, parent);
    ids.push(id);
    if (!image.quietLoad) idLines += `Loaded image ID: ${id}\n`;
    tagged = 0;
    for (const ref of image.refs) {
      const previous = target.tagged(ref);
      if (previous && previous !== id) {
        send({ stream: `The image ${familiarString(ref)} already exists, renaming the old one with ID ${previous} to empty string\n` });
      }
      target.setTag(ref, id);
      if (!image.quietLoad) send({ stream: `Loaded image: ${familiarString(ref)}\n` });
      tagged++;
    }
    target.saveTags();
    target.event('load', id);
  }
  if (tagged === 0 && idLines) send({ stream: idLines });
  return ids;
}

/** Archive and layer problems are the client's: 400 with a clear message. */
function asClientError(err: unknown): unknown {
  if (err instanceof InvalidArchiveError || err instanceof InvalidTarError || err instanceof BreakoutError || err instanceof UnsupportedCompressionError) {
    return invalidParameter(err.message);
  }
  return err;
}

/** The pre-rendered `progress` text of Docker's JSON messages (jsonmessage's JSONProgress). */
function progressBar(current: number, total: number): string {
  const filled = Math.min(50, Math.floor((Math.floor((current / total) * 100) || 0) / 2));
  return `[${'='.repeat(filled)}>${' '.repeat(50 - filled)}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}
