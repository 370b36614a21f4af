import { PassThrough, Readable, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export class UnsupportedCompressionError extends Error {
  constructor(readonly compression: Compression) {
    super(`unsupported compression format ${compression}`);
  }
}

const SNIFF_BYTES = 6;

/**
 * Returns the uncompressed bytes of a plain or gzip-compressed stream (sniffed from its first
 * bytes). Other compressions are recognised and refused.
 *
 * Destroying the returned stream stops reading `input` but leaves it paused, not destroyed: for
 * an HTTP request body the caller still has to send the error response on that connection.
 */
export async function decompressed(input: NodeJS.ReadableStream): Promise<Readable> {
  const source = input instanceof Readable ? input : new Readable().wrap(input);
  const { head, ended } = await peek(source, SNIFF_BYTES);

  const compression = detectCompression(head);
  if (compression !== 'none' && compression !== 'gzip') throw new UnsupportedCompressionError(compression);

  const raw = new PassThrough();
  raw.write(head);
  if (ended) raw.end();
  else {
    source.pipe(raw); // pipe() unhooks, without destroying the source, when `raw` closes early
    const forwardError = (err: Error): void => {
      raw.destroy(err);
    };
    source.once('error', forwardError);
    raw.once('close', () => source.off('error', forwardError));
  }
  if (compression === 'none') return raw;
  const gunzip = zlib.createGunzip();
  pipeline(raw, gunzip, () => undefined);
  return gunzip;
}

/** Reads at least `bytes` bytes (or up to the end) and pauses the stream again. */
function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; ended: boolean }> {
  if (stream.readableEnded) return Promise.resolve({ head: Buffer.alloc(0), ended: true });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      chunks.push(buf);
      length += buf.length;
      if (length >= bytes) {
        cleanup();
        resolve({ head: Buffer.concat(chunks), ended: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}
