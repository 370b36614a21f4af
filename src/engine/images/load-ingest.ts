import * as crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { DigestMismatchError } from '../content/blob-writer';
import { SHA256_PREFIX } from '../content/digest';
import type { ContentStore } from '../content/store';
import type { DetachedLayer, LayerStore } from '../layers/store';
import type { StoredBlob } from './archive-reader';

export interface IngestedMember {
  blob: StoredBlob;
  /** The member extracted as a layer while it was stored (plain tars only). */
  layer?: DetachedLayer;
  /** Why extracting it failed; only an error if the member turns out to be a layer. */
  layerError?: unknown;
}

const PIPE_BUFFER = 4 << 20;

/**
 * Stores one large archive member in the content store and, when it looks like a plain tar,
 * extracts it as a layer at the same time, so that loading reads the archive once and
 * extraction overlaps the upload. A member whose expected digest is already stored is only
 * hashed: its layers exist or can be extracted from the stored copy. `pin` is called with the
 * digest before the blob appears in the store.
 */
export async function ingestMember(
  content: ContentStore,
  layers: LayerStore,
  stream: AsyncIterable<Buffer>,
  expected: string | undefined,
  pin: (digest: string) => void,
): Promise<IngestedMember> {
  if (expected !== undefined && content.has(expected)) return { blob: await verifyOnly(stream, expected) };

  const writer = await content.createWriter();
  let pipe: PassThrough | undefined;
  let extraction: Promise<DetachedLayer> | undefined;
  let blob: StoredBlob;
  try {
    for await (const chunk of stream) {
      if (extraction === undefined && pipe === undefined && looksLikeTar(chunk)) {
        pipe = new PassThrough({ highWaterMark: PIPE_BUFFER });
        extraction = layers.extractDetached(pipe);
        extraction.catch(() => undefined);
      }
      await writer.write(chunk);
      if (pipe && !pipe.destroyed && !pipe.write(chunk)) await drainOrClose(pipe);
    }
    pipe?.end();
    blob = await writer.commit(expected, pin);
  } catch (err) {
    await writer.abort();
    pipe?.destroy();
    const layer = await extraction?.catch(() => undefined);
    if (layer) await layers.discardDetached(layer);
    throw err;
  }
  if (!extraction) return { blob };
  try {
    return { blob, layer: await extraction };
  } catch (layerError) {
    return { blob, layerError };
  }
}

async function verifyOnly(stream: AsyncIterable<Buffer>, expected: string): Promise<StoredBlob> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  const digest = SHA256_PREFIX + hash.digest('hex');
  if (digest !== expected) throw new DigestMismatchError(expected, digest);
  return { digest, size };
}

/** A POSIX tar header carries "ustar" at offset 257. */
function looksLikeTar(chunk: Buffer): boolean {
  return chunk.length >= 262 && chunk.toString('latin1', 257, 262) === 'ustar';
}

function drainOrClose(pipe: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      pipe.off('drain', done);
      pipe.off('close', done);
      resolve();
    };
    pipe.on('drain', done);
    pipe.on('close', done);
  });
}
