import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { EngineError, errorMessage } from '../../util/errors';
import { log } from '../../util/log';
import { RequestContext, commonHeaders, type UpgradeInfo } from './context';
import type { Router } from './router';
import { splitVersion, versionError } from './version';

/** Serves a Router on unix sockets with Docker's conventions for errors, versions and hijacking. */
export class ApiServer {
  private servers: http.Server[] = [];

  constructor(private readonly router: Router) {}

  async listenUnix(socketPath: string): Promise<void> {
    fs.mkdirSync(path.dirname(socketPath), { recursive: true });
    fs.rmSync(socketPath, { force: true });
    const server = http.createServer({ keepAliveTimeout: 120_000, requestTimeout: 0, headersTimeout: 60_000 });
    server.on('request', (req, res) => void this.dispatch(req, res));
    server.on('upgrade', (req, socket, head) => void this.dispatchUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    fs.chmodSync(socketPath, 0o660);
    this.servers.push(server);
  }

  /** Stops accepting connections and drops the idle and streaming ones. */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private async dispatchUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // The socket may still be flowing with no reader: stdin sent right after the 101 would be dropped.
    socket.pause();
    // Node hands an upgrade request over unparsed: its body (exec start JSON) is in `head` and the socket.
    const want = Number(req.headers['content-length'] ?? 0) || 0;
    let buffered = head;
    while (buffered.length < want) {
      const chunk = await new Promise<Buffer | null>((resolve) => {
        const onData = (c: Buffer) => {
          socket.off('end', onEnd);
          socket.pause();
          resolve(c);
        };
        const onEnd = () => {
          socket.off('data', onData);
          resolve(null);
        };
        socket.once('data', onData);
        socket.once('end', onEnd);
        socket.resume();
      });
      if (!chunk) break;
      buffered = Buffer.concat([buffered, chunk]);
    }
    const body = buffered.subarray(0, want);
    const rest = buffered.subarray(want);
    if (rest.length) socket.unshift(rest);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    res.shouldKeepAlive = false;
    const upgrade: UpgradeInfo = { socket, body };
    await this.dispatch(req, res, upgrade);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, upgrade?: UpgradeInfo): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { version, path: p } = splitVersion(url.pathname);
    const method = req.method ?? 'GET';
    const started = process.hrtime.bigint();
    let ctx: RequestContext | undefined;
    try {
      const bad = versionError(version);
      if (bad) throw new EngineError(400, bad);
      const match = this.router.match(method, p);
      if (match === undefined) throw new EngineError(404, 'page not found');
      if (match === 'methodMismatch') throw new EngineError(405, 'method not allowed');
      ctx = new RequestContext(req, res, p, version, match.params, upgrade);
      await match.handler(ctx);
    } catch (err) {
      sendError(res, err, method);
    } finally {
      log.debug('api request', { method, path: url.pathname, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    }
  }
}

export function sendError(res: http.ServerResponse, err: unknown, method = 'GET'): void {
  const status = err instanceof EngineError ? err.status : 500;
  if (!(err instanceof EngineError)) {
    // A client that hangs up mid-request (a cancelled `docker cp`) is not a daemon failure.
    if (res.destroyed || !res.socket || res.socket.destroyed) log.debug('request ended: the client went away', { error: errorMessage(err) });
    else log.error('request failed', { error: errorMessage(err), stack: (err as Error)?.stack });
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304, commonHeaders());
    res.end();
    return;
  }
  const body = Buffer.from(JSON.stringify({ message: errorMessage(err) }) + '\n');
  res.writeHead(status, { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(method === 'HEAD' ? undefined : body);
}
