/**
 * A GET over a plain socket for large downloads (berth cp): the response is parsed here — status line,
 * headers, then a body by Content-Length, chunked or until the connection closes — and the body is
 * handed on as slices of one reused read buffer, so receiving 100 MB allocates nothing per piece (Node's
 * HTTP client took half again as long as the socket reads themselves). A slice is valid only during the
 * call that receives it.
 */
import * as net from 'node:net';
import type { Endpoint } from './host';

export interface RawHead {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
}

const READ_BUFFER = 1 << 20;
const MAX_HEAD = 64 << 10;

export class RawHttpError extends Error {}

/**
 * Sends `request` (the request line and headers, ending with an empty line) and reads the response:
 * `onHead` sees the status and headers and says whether to read the body (false closes the connection);
 * `onBody` gets the body's pieces. Resolves with the head once the body is read (or refused).
 */
export function rawGet(endpoint: Endpoint, request: string, onHead: (head: RawHead) => boolean, onBody: (data: Buffer) => void): Promise<RawHead> {
  return new Promise((resolve, reject) => {
    const decoder = new ResponseDecoder(onHead, onBody);
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(decoder.head!);
    };
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER),
      callback: (n: number, buf: Uint8Array): boolean => {
        if (settled) return false;
        try {
          decoder.push(Buffer.from(buf.buffer, buf.byteOffset, n));
        } catch (err) {
          finish(err);
          return false;
        }
        if (decoder.done) finish();
        return true;
      },
    };
    const socket =
      endpoint.proto === 'unix'
        ? net.connect({ path: endpoint.socketPath as string, onread })
        : net.connect({ host: endpoint.hostname, port: endpoint.port as number, onread });
    socket.once('connect', () => socket.write(request));
    socket.once('error', (err) => finish(err));
    socket.once('end', () => {
      try {
        decoder.end();
        finish();
      } catch (err) {
        finish(err);
      }
    });
  });
}

type State = 'head' | 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'done';

/** The HTTP/1.1 response parser of rawGet. */
export class ResponseDecoder {
  head: RawHead | undefined;
  private state: State = 'head';
  private line = '';
  private headBytes: Buffer[] = [];
  private headLength = 0;
  private left = 0;

  constructor(
    private readonly onHead: (head: RawHead) => boolean,
    private readonly onBody: (data: Buffer) => void,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  push(buf: Buffer): void {
    let off = 0;
    while (off < buf.length && this.state !== 'done') {
      switch (this.state) {
        case 'head': {
          off = this.readHead(buf, off);
          break;
        }
        case 'length':
        case 'chunk-data': {
          const n = Math.min(this.left, buf.length - off);
          this.onBody(buf.subarray(off, off + n));
          off += n;
          this.left -= n;
          if (this.left === 0) this.state = this.state === 'length' ? 'done' : 'chunk-crlf';
          break;
        }
        case 'close':
          this.onBody(buf.subarray(off));
          off = buf.length;
          break;
        case 'chunk-crlf':
        case 'chunk-size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, off);
          const end = nl < 0 ? buf.length : nl;
          this.line += buf.toString('latin1', off, end);
          if (this.line.length > 4096) throw new RawHttpError('malformed chunked encoding');
          off = nl < 0 ? buf.length : nl + 1;
          if (nl >= 0) this.lineDone(this.line.replace(/\r$/, ''));
          break;
        }
      }
    }
  }

  /** The connection ended: only a body delimited by the close may end here. */
  end(): void {
    if (this.state === 'close') this.state = 'done';
    if (this.state !== 'done') throw new RawHttpError('unexpected EOF');
  }

  private lineDone(line: string): void {
    this.line = '';
    if (this.state === 'chunk-crlf') {
      if (line !== '') throw new RawHttpError('malformed chunked encoding');
      this.state = 'chunk-size';
    } else if (this.state === 'chunk-size') {
      const size = parseInt(line.split(';')[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0) throw new RawHttpError('malformed chunked encoding');
      if (size === 0) this.state = 'trailer';
      else {
        this.left = size;
        this.state = 'chunk-data';
      }
    } else if (line === '') this.state = 'done'; // end of the trailer
  }

  private readHead(buf: Buffer, off: number): number {
    this.headBytes.push(buf.subarray(off));
    this.headLength += buf.length - off;
    const all = this.headBytes.length === 1 ? this.headBytes[0]! : Buffer.concat(this.headBytes);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.headLength > MAX_HEAD) throw new RawHttpError('response header too long');
      this.headBytes = [Buffer.from(all)]; // the read buffer is reused
      return buf.length;
    }
    const lines = all.toString('latin1', 0, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new RawHttpError(`malformed HTTP response ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    this.head = { status: Number(m[1]), headers };
    this.headBytes = [];
    // Bytes of `buf` past the head.
    const consumed = end + 4 - (all.length - (buf.length - off));
    const next = off + consumed;
    if (!this.onHead(this.head)) {
      this.state = 'done';
      return buf.length;
    }
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) this.state = 'chunk-size';
    else if (headers['content-length'] !== undefined) {
      this.left = Number(headers['content-length']);
      this.state = this.left > 0 ? 'length' : 'done';
    } else this.state = 'close';
    return next;
  }
}
