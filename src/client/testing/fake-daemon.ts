/**
 * A scriptable fake Docker Engine API server on a unix socket, for client and CLI tests. It
 * records every request (including hijacked ones) in arrival order and answers from handlers.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RecordedRequest {
  method: string;
  /** Path without the /vX.Y prefix and without the query string. */
  path: string;
  /** The API version prefix, '' when unversioned. */
  version: string;
  /** The request line target as sent. */
  url: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  upgrade: boolean;
}

export type Handler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (req: RecordedRequest, socket: net.Socket) => void | Promise<void>;

interface Route<H> {
  method: string;
  pattern: RegExp;
  handler: H;
}

function toPattern(p: string | RegExp): RegExp {
  if (p instanceof RegExp) return p;
  return new RegExp('^' + p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+') + '$');
}

export function sendJSON(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendError(res: http.ServerResponse, status: number, message: string): void {
  sendJSON(res, status, { message });
}

/** Writes the 101 reply docker sends for attach/exec and returns the raw socket. */
export function acceptUpgrade(socket: net.Socket, multiplexed = false): net.Socket {
  const media = multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${media}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  return socket;
}

export class FakeDaemon {
  readonly requests: RecordedRequest[] = [];
  readonly socketPath: string;
  apiVersion = '1.50';
  private readonly routes: Route<Handler>[] = [];
  private readonly upgrades: Route<UpgradeHandler>[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly dir: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fake-'));
    this.socketPath = path.join(this.dir, 'docker.sock');
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req, socket: net.Socket, head: Buffer) => void this.handleUpgrade(req, socket, head));
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  /** Registers a handler; `*` in a string pattern matches one path segment. */
  on(method: string, pattern: string | RegExp, handler: Handler): this {
    this.routes.unshift({ method, pattern: toPattern(pattern), handler });
    return this;
  }

  onUpgrade(pattern: string | RegExp, handler: UpgradeHandler): this {
    this.upgrades.unshift({ method: 'POST', pattern: toPattern(pattern), handler });
    return this;
  }

  /** "METHOD /path?query" for each recorded request, pings excluded. */
  calls(): string[] {
    return this.requests
      .filter((r) => r.path !== '/_ping')
      .map((r) => `${r.method} ${r.path}${r.query.toString() ? '?' + decodeURIComponent(r.url.split('?')[1] ?? '') : ''}`);
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private record(req: http.IncomingMessage, body: Buffer, upgrade: boolean): RecordedRequest {
    const url = req.url ?? '/';
    const [p, q] = url.split('?', 2);
    const m = /^\/v([0-9.]+)(\/.*)$/.exec(p);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(m ? m[2] : p),
      version: m ? m[1] : '',
      url,
      query: new URLSearchParams(q ?? ''),
      headers: req.headers,
      body,
      upgrade,
    };
    this.requests.push(rec);
    return rec;
  }

  private commonHeaders(res: http.ServerResponse): void {
    res.setHeader('Api-Version', this.apiVersion);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', 'Docker/28.2.2 (linux)');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec = this.record(req, Buffer.concat(chunks), false);
    this.commonHeaders(res);
    if (rec.path === '/_ping' && !this.routes.some((r) => r.pattern.test('/_ping'))) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate' });
      res.end(rec.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    const route = this.routes.find((r) => (r.method === rec.method || r.method === '*') && r.pattern.test(rec.path));
    if (!route) {
      sendError(res, 404, 'page not found');
      return;
    }
    try {
      await route.handler(rec, res);
    } catch (err) {
      if (!res.headersSent) sendError(res, 500, (err as Error).message);
      else res.destroy();
    }
  }

  private async handleUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const len = Number(req.headers['content-length'] ?? 0);
    let body = head.subarray(0, len);
    const rest = head.subarray(len);
    while (body.length < len) {
      const chunk: Buffer = await new Promise((r) => socket.once('data', r));
      body = Buffer.concat([body, chunk]);
    }
    if (rest.length > 0) socket.unshift(rest);
    const rec = this.record(req, body, true);
    const route = this.upgrades.find((r) => r.pattern.test(rec.path));
    if (!route) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n{"message":"page not found"}\n');
      return;
    }
    await route.handler(rec, socket);
  }
}
