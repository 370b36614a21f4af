import { spawn } from 'node:child_process';
import { PassThrough, Readable, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { InvalidTarError } from './extract';

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

/** Decompressors Node 20 lacks, run as child processes (as moby does for xz). */
const EXTERNAL: Partial<Record<Compression, [string, string[]]>> = {
  zstd: ['zstd', ['-d', '-c', '-q']],
  xz: ['xz', ['-d', '-c']],
  bzip2: ['bzip2', ['-d', '-c']],
};

/**
 * Returns the uncompressed bytes of a plain, gzip, zstd, xz or bzip2 stream (sniffed from its
 * first bytes). zstd, xz and bzip2 need their command-line tools; without one the compression
 * is refused (UnsupportedCompressionError).
 *
 * Destroying the returned stream stops reading `input` but leaves it paused, not destroyed: for
 * an HTTP request body the caller still has to send the error response on that connection.
 */
export async function decompressed(input: NodeJS.ReadableStream): Promise<Readable> {
  const source = input instanceof Readable ? input : new Readable().wrap(input);
  const { head, ended } = await peek(source, SNIFF_BYTES);

  const compression = detectCompression(head);

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
  if (compression === 'gzip') {
    const gunzip = zlib.createGunzip();
    pipeline(raw, gunzip, () => undefined);
    return gunzip;
  }
  const [tool, args] = EXTERNAL[compression]!;
  return runDecompressor(tool, args, raw, compression);
}

/**
 * Pipes `raw` through `tool`. A failing tool (corrupt input) fails the returned stream with an
 * InvalidTarError; destroying the returned stream kills the tool.
 */
function runDecompressor(tool: string, args: string[], raw: Readable, compression: Compression): Readable {
  const out = new PassThrough();
  const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // EPIPE when the tool stops early; its exit status tells why
  raw.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('error', (err: NodeJS.ErrnoException) => {
    out.destroy(err.code === 'ENOENT' ? new UnsupportedCompressionError(compression) : err);
  });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new InvalidTarError(`invalid ${compression} stream: ${stderr.trim() || `${tool} exited with ${code}`}`));
  });
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    raw.destroy();
  });
  return out;
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
