import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EngineError, invalidParameter } from '../../util/errors';
import { API_VERSION } from './version';

export const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Headers moby sets on every response. */
export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    Ostype: 'linux',
    Server: `Docker/${ENGINE_VERSION} (linux)`,
    'Docker-Experimental': 'false',
  };
}
export const ENGINE_VERSION = '28.2.2-berth';

/** The socket of an upgrade request, with bytes that arrived after the request body. */
export interface UpgradeInfo {
  socket: Duplex;
  body: Buffer;
}

/** A hijacked connection: raw bytes both ways, output half-closable. */
export interface RawStream {
  /** Delivers the client's bytes (stdin) and its half-close; input waits, paused, until this is called. */
  readInput(onData: (chunk: Buffer) => void, onEnd: () => void): void;
  write(chunk: Buffer): boolean;
  /** Half-close our side (upgrade) or finish the response. */
  end(): void;
  destroy(): void;
  onDrain(cb: () => void): void;
  onClose(cb: () => void): void;
  /** Bytes written but not yet taken by the client. */
  backlog(): number;
}

export class RequestContext {
  readonly query: URLSearchParams;
  private bodyCache?: Buffer;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly path: string,
    readonly apiVersion: string,
    readonly params: Record<string, string>,
    readonly upgrade?: UpgradeInfo,
  ) {
    this.query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    if (upgrade) this.bodyCache = upgrade.body;
  }

  param(name: string): string {
    const v = this.params[name];
    if (v === undefined) throw new Error(`route has no parameter ${name}`);
    return v;
  }

  async rawBody(limit = MAX_JSON_BODY): Promise<Buffer> {
    if (this.bodyCache) return this.bodyCache;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new EngineError(413, `request body too large: limit is ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
    this.bodyCache = Buffer.concat(chunks);
    return this.bodyCache;
  }

  /** The JSON body, or `dflt` when the body is empty; malformed JSON is a 400. */
  async json<T>(dflt?: T): Promise<T> {
    const type = (this.req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const raw = await this.rawBody();
    if (raw.length === 0) {
      if (dflt !== undefined) return dflt;
      throw invalidParameter('invalid JSON: request body is empty');
    }
    if (type && type !== 'application/json' && type !== 'text/plain') {
      throw invalidParameter(`unsupported Content-Type header (${type}): must be 'application/json'`);
    }
    try {
      return JSON.parse(raw.toString('utf8')) as T;
    } catch (err) {
      throw invalidParameter(`invalid JSON: ${(err as Error).message}`);
    }
  }

  sendJson(status: number, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body) + '\n');
    this.res.writeHead(status, { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': data.length });
    this.res.end(data);
  }

  sendStatus(status: number): void {
    this.res.writeHead(status, commonHeaders());
    this.res.end();
  }

  sendText(status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
    const data = Buffer.from(text);
    this.res.writeHead(status, { ...commonHeaders(), 'Content-Type': contentType, 'Content-Length': data.length });
    this.res.end(this.req.method === 'HEAD' ? undefined : data);
  }

  /** Starts a streamed response and flushes the headers at once (wait, events and stats clients block on them). */
  startStream(contentType: string, status = 200): void {
    this.res.writeHead(status, { ...commonHeaders(), 'Content-Type': contentType });
    this.res.flushHeaders();
  }

  /** Calls `cb` once when the client goes away before the response finished. */
  onClientGone(cb: () => void): void {
    const sock = this.upgrade?.socket ?? this.req.socket;
    let done = false;
    const fire = () => {
      if (!done && !this.res.writableFinished) {
        done = true;
        cb();
      }
    };
    sock.once('close', fire);
    this.res.once('close', fire);
  }

  /**
   * Takes over the connection for attach and exec: 101 UPGRADED on an upgrade request, otherwise a raw
   * 200 stream on the response (moby's fallback for clients that do not ask for an upgrade).
   */
  hijack(mediaType: string): RawStream {
    if (this.upgrade) {
      const sock = this.upgrade.socket;
      sock.write(
        `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${mediaType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
          `Api-Version: ${API_VERSION}\r\n\r\n`,
      );
      return {
        readInput: (onData, onEnd) => {
          sock.on('data', onData);
          sock.on('end', onEnd);
          sock.on('error', () => undefined);
          sock.resume();
        },
        write: (chunk) => sock.write(chunk),
        end: () => sock.end(),
        destroy: () => sock.destroy(),
        onDrain: (cb) => sock.once('drain', cb),
        onClose: (cb) => sock.once('close', cb),
        backlog: () => sock.writableLength,
      };
    }
    // Without an upgrade moby answers 200 with the raw-stream type whatever the framing inside.
    const res = this.res;
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/vnd.docker.raw-stream' });
    res.flushHeaders();
    return {
      readInput: (onData, onEnd) => {
        this.req.on('data', onData);
        this.req.on('end', onEnd);
        this.req.on('error', () => undefined);
      },
      write: (chunk) => res.write(chunk),
      end: () => res.end(),
      destroy: () => res.destroy(),
      onDrain: (cb) => res.once('drain', cb),
      onClose: (cb) => res.once('close', cb),
      backlog: () => res.writableLength,
    };
  }
}
