import type { Readable, Writable } from 'node:stream';
import * as tar from 'tar-stream';
import { LayerWriter } from './layer-writer';
import { installBinaryPaxXattrs } from './pax-xattrs';
import type { SpecialOpStrategy } from './special-files';

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
  installBinaryPaxXattrs();
  const parser = tar.extract();
  const writer = new LayerWriter(dir, opts.specialStrategy);
  let failure: unknown;
  // When the parser fails (e.g. truncated input), the entry being read only reports
  // "Stream was destroyed"; the parser's own error is the one worth reporting.
  let parserError: unknown;
  parser.on('error', (err: unknown) => (parserError ??= err));
  const fail = (err: unknown): void => {
    if (failure !== undefined) return;
    failure = err;
    parser.destroy(err instanceof Error ? err : new Error(String(err)));
    tarStream.destroy();
  };

  const feed = async (): Promise<void> => {
    for await (const chunk of tarStream as AsyncIterable<Buffer>) {
      if (failure !== undefined) return;
      if (opts.onChunk) await opts.onChunk(chunk);
      if (!parser.write(chunk)) await writable(parser);
    }
    parser.end();
  };
  const consume = async (): Promise<void> => {
    for await (const entry of parser) await writer.apply(entry.header, entry);
  };

  await Promise.all([feed().catch(fail), consume().catch(fail)]);
  if (failure !== undefined) {
    await closed(parser);
    throw asTarError(parserError ?? failure);
  }
  await writer.finish();
  return { size: writer.size };
}

function writable(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function closed(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** tar-stream's format errors become InvalidTarError so callers can report them as bad input. */
function asTarError(err: unknown): unknown {
  if (err instanceof Error && /Invalid tar header|Unexpected end of data|unknown format/.test(err.message)) {
    return new InvalidTarError(`invalid tar stream: ${err.message}`);
  }
  if (err instanceof Error && ['Z_DATA_ERROR', 'Z_BUF_ERROR'].includes(String((err as NodeJS.ErrnoException).code))) {
    return new InvalidTarError(`invalid gzip stream: ${err.message}`);
  }
  return err;
}
