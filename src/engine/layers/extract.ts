import type { Readable } from 'node:stream';
import { LayerWriter } from './layer-writer';
import type { SpecialOpStrategy } from './special-files';
import { TarFormatError, TarReader } from '../../util/tar/reader';

export class InvalidTarError extends Error {}

export interface ExtractOptions {
  /** Sees every byte of the (uncompressed) tar stream in order, including padding after the end. */
  onChunk?: (chunk: Buffer) => Promise<void>;
  specialStrategy?: SpecialOpStrategy;
}

/**
 * Reads a tar stream to its end and writes its entries into `dir` (see LayerWriter). Returns the
 * layer's size on disk. On failure `dir` is left partly written: callers extract into a temp dir.
 */
export async function extractTar(tarStream: Readable, dir: string, opts: ExtractOptions = {}): Promise<{ size: number }> {
  const writer = new LayerWriter(dir, opts.specialStrategy);
  const reader = new TarReader((entry) => writer.begin(entry));
  try {
    for await (const chunk of tarStream as AsyncIterable<Buffer>) {
      if (opts.onChunk) await opts.onChunk(chunk);
      if (reader.done) continue; // bytes after the end-of-archive marker still reach onChunk
      const waiting = reader.push(chunk);
      if (waiting) await waiting;
    }
    reader.end();
  } catch (err) {
    reader.abort();
    tarStream.destroy();
    throw asTarError(err);
  }
  await writer.finish();
  return { size: writer.size };
}

/** Format errors become InvalidTarError so callers can report them as bad input. */
function asTarError(err: unknown): unknown {
  if (err instanceof TarFormatError) return new InvalidTarError(`invalid tar stream: ${err.message}`);
  if (err instanceof Error && ['Z_DATA_ERROR', 'Z_BUF_ERROR'].includes(String((err as NodeJS.ErrnoException).code))) {
    return new InvalidTarError(`invalid gzip stream: ${err.message}`);
  }
  return err;
}
