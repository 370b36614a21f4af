import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from './attach-hub';

/** One record of conmon's k8s-file log: `<RFC3339Nano> <stdout|stderr> <P|F> <content>`. */
export interface LogRecord {
  stream: OutputStream;
  /** The content with its newline restored when the record ends a line (F). */
  data: Buffer;
  /** RFC3339Nano in UTC, as Docker prints with --timestamps. */
  timestamp: string;
  /** Nanoseconds since the epoch, for since/until. */
  timeNs: bigint;
}

/** Converts conmon's local-offset timestamp to UTC RFC3339Nano with the full fraction kept. */
export function toUtcTimestamp(ts: string): { iso: string; ns: bigint } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return { iso: ts, ns: 0n };
  const fraction = (m[2] ?? '').slice(1);
  const secondsMs = Date.parse(`${m[1]}${m[3]}`);
  const iso = new Date(secondsMs).toISOString().slice(0, 19) + (fraction ? `.${fraction.replace(/0+$/, '') || '0'}` : '') + 'Z';
  const ns = BigInt(secondsMs) * 1_000_000n + BigInt((fraction + '000000000').slice(0, 9));
  return { iso: iso.replace(/\.0Z$/, 'Z'), ns };
}

export function parseLogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const streamName = line.slice(a + 1, b);
  if (streamName !== 'stdout' && streamName !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const content = c < 0 ? '' : line.slice(c + 1);
  const { iso, ns } = toUtcTimestamp(line.slice(0, a));
  const full = tag.split(':').includes('F');
  return { stream: streamName, data: Buffer.from(full ? content + '\n' : content, 'utf8'), timestamp: iso, timeNs: ns };
}

/** Byte offset where the last `n` lines of the file begin, found by reading backwards from the end. */
export function tailOffset(file: string, n: number): number {
  return tailPosition(file, n).offset;
}

/**
 * Where the last `n` lines of a file begin, and how many lines that is (fewer than `n` when the file is
 * short: the rest come from older, rotated files).
 */
export function tailPosition(file: string, n: number): { offset: number; lines: number } {
  if (n <= 0) return { offset: fs.statSync(file).size, lines: 0 };
  const fd = fs.openSync(file, 'r');
  try {
    let pos = fs.fstatSync(fd).size;
    let newlines = 0;
    const chunk = Buffer.alloc(64 * 1024);
    // The file ends with a newline; the (n+1)th newline from the end precedes the first wanted line.
    while (pos > 0) {
      const len = Math.min(chunk.length, pos);
      pos -= len;
      fs.readSync(fd, chunk, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (chunk[i] === 0x0a && ++newlines === n + 1) return { offset: pos + i + 1, lines: n };
      }
    }
    // Every newline ends a line (the file ends with one); a partial last line counts too.
    const size = fs.fstatSync(fd).size;
    let last = Buffer.alloc(0);
    if (size > 0) {
      last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
    }
    return { offset: 0, lines: newlines + (size > 0 && last[0] !== 0x0a ? 1 : 0) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Splits appended bytes into complete lines, keeping a trailing partial line for the next read. */
export class LineSplitter {
  private rest = '';
  private decoder = new StringDecoder('utf8');
  push(chunk: Buffer): string[] {
    const text = this.rest + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines;
  }
}
