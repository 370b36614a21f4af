/** Stream framing used by the Engine API: stdcopy multiplexing and JSON message streams. */
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export class StreamError extends Error {}

/**
 * Decodes docker's multiplexed stream: frames of [stream, 0, 0, 0, len(BE32)] + payload.
 * Stdin frames (0) are delivered as stdout, like Go's stdcopy.StdCopy. A systemerr frame or an
 * unknown stream id raises a StreamError.
 */
export class StdcopyDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: 1 | 2, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    while (this.pending.length - off >= 8) {
      const stream = this.pending[off];
      const len = this.pending.readUInt32BE(off + 4);
      // Like StdCopy, reject an unknown stream id as soon as the header is in (not after its "payload").
      if (stream > SYSTEMERR) {
        this.pending = this.pending.subarray(off);
        throw new StreamError(`Unrecognized input header: ${stream}`);
      }
      if (this.pending.length - off - 8 < len) break;
      const payload = this.pending.subarray(off + 8, off + 8 + len);
      off += 8 + len;
      if (stream === STDIN || stream === STDOUT) {
        this.onFrame(STDOUT, payload);
      } else if (stream === STDERR) {
        this.onFrame(STDERR, payload);
      } else if (stream === SYSTEMERR) {
        this.pending = this.pending.subarray(off);
        throw new StreamError(`error from daemon in stream: ${payload.toString('utf8')}`);
      } else {
        this.pending = this.pending.subarray(off);
        throw new StreamError(`Unrecognized input header: ${stream}`);
      }
    }
    this.pending = off === 0 ? this.pending : Buffer.from(this.pending.subarray(off));
  }

  /** Bytes of an incomplete frame left at the end (Go ignores a truncated tail). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Demultiplexes a readable into two writers; resolves at end of input. */
export function demuxStream(
  source: Readable,
  stdout: (b: Buffer) => void,
  stderr: (b: Buffer) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const demux = new StdcopyDemuxer((s, b) => (s === STDOUT ? stdout(b) : stderr(b)));
    source.on('data', (chunk: Buffer) => {
      try {
        demux.push(chunk);
      } catch (err) {
        source.destroy();
        reject(err);
      }
    });
    source.on('end', () => resolve());
    source.on('close', () => resolve());
    source.on('error', reject);
  });
}

/** Encodes one stdcopy frame (used by tests and fake daemons). */
export function encodeFrame(stream: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/**
 * Splits a stream of concatenated JSON values (NDJSON, `\r\n`-separated progress messages, or
 * values with no separator at all, as Go's json.Decoder accepts) into parsed values.
 */
export class JsonStreamDecoder {
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');

  push(chunk: Buffer | string): unknown[] {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    return this.drain();
  }

  /** Flushes; throws if a partial value remains. */
  end(): unknown[] {
    this.buf += this.decoder.end();
    const out = this.drain();
    if (this.buf.trim() !== '') throw new StreamError('unexpected EOF');
    return out;
  }

  private drain(): unknown[] {
    const out: unknown[] = [];
    let start = 0;
    for (;;) {
      while (start < this.buf.length && /\s/.test(this.buf[start])) start++;
      if (start >= this.buf.length) break;
      const end = scanValue(this.buf, start);
      if (end < 0) break;
      out.push(JSON.parse(this.buf.slice(start, end)));
      start = end;
    }
    this.buf = this.buf.slice(start);
    return out;
  }
}

/** Returns the end index of the JSON value starting at `start`, or -1 if incomplete. */
function scanValue(s: string, start: number): number {
  const first = s[start];
  if (first !== '{' && first !== '[') {
    if (first === '"') {
      for (let i = start + 1; i < s.length; i++) {
        if (s[i] === '\\') i++;
        else if (s[i] === '"') return i + 1;
      }
      return -1;
    }
    // Scalars end at whitespace or a structural char; only complete if followed by something.
    const m = /^[^\s{}[\],"]+/.exec(s.slice(start));
    if (!m) throw new StreamError(`invalid character '${first}' looking for beginning of value`);
    const end = start + m[0].length;
    return end < s.length ? end : -1;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Iterates the JSON values of a streamed response body. */
export async function* readJsonStream<T = unknown>(source: Readable): AsyncGenerator<T> {
  const dec = new JsonStreamDecoder();
  for await (const chunk of source) {
    for (const v of dec.push(chunk as Buffer)) yield v as T;
  }
  for (const v of dec.end()) yield v as T;
}
