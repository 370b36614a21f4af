/**
 * HTTP transport to the daemon: keep-alive agent over a unix socket or TCP, API version prefix
 * (negotiated with `HEAD /_ping` like docker's client), Go-style query strings, Docker error
 * decoding, and connection upgrade ("hijack") for attach and exec.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { ApiError, ConnectionError, connectionFailed } from './errors';
import { Endpoint } from './host';

export const MAX_API_VERSION = '1.50';
/** Sent as Host for unix sockets, as the Go client does. */
export const DUMMY_HOST = 'api.moby.localhost';

export type QueryValue = string | number | boolean | undefined | null | readonly string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  method: string;
  path: string;
  query?: Query;
  /** JSON-encoded as the body (Content-Type: application/json). */
  json?: unknown;
  /** Raw body; Content-Type defaults to text/plain like the Go client. */
  body?: Buffer | string | Readable;
  headers?: Record<string, string>;
  /** Add the /vX.Y prefix (default true). */
  versioned?: boolean;
}

export interface HijackedConnection {
  socket: net.Socket;
  /** Content-Type of the 101 reply (multiplexed-stream or raw-stream), '' if absent. */
  mediaType: string;
}

export interface TransportOptions {
  userAgent?: string;
  /** Fixed API version (e.g. from DOCKER_API_VERSION); disables negotiation. */
  apiVersion?: string;
}

/** Go's url.QueryEscape: everything but [A-Za-z0-9-_.~] is escaped, space becomes '+'. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

/** Go's url.Values.Encode: keys sorted, repeated keys kept in order, undefined values skipped. */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [String(v)];
    for (const item of values) parts.push(`${queryEscape(key)}=${queryEscape(String(item))}`);
  }
  return parts.join('&');
}

/** Escapes a path the way net/url would for characters that would otherwise break the URL. */
function escapePath(p: string): string {
  return encodeURI(p).replace(/\?/g, '%3F').replace(/#/g, '%23');
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function readBody(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('unexpected EOF')));
  });
}

export class Transport {
  readonly agent: http.Agent;
  private version: string;
  private negotiated: boolean;
  private negotiation?: Promise<void>;
  private readonly userAgent: string;

  constructor(readonly endpoint: Endpoint, opts: TransportOptions = {}) {
    this.agent = new http.Agent({ keepAlive: true, maxFreeSockets: 6, keepAliveMsecs: 30_000 });
    this.userAgent = opts.userAgent ?? 'Berth-Client (linux)';
    this.version = opts.apiVersion ?? MAX_API_VERSION;
    this.negotiated = opts.apiVersion !== undefined;
  }

  /** The API version in use (after negotiation, if it happened). */
  get apiVersion(): string {
    return this.version;
  }

  close(): void {
    this.agent.destroy();
  }

  /** The URL docker prints in some errors, e.g. `http://%2Frun%2Fberth%2Fberth.sock/v1.50/...`. */
  displayUrl(pathAndQuery: string): string {
    const e = this.endpoint;
    const host = e.proto === 'unix' ? encodeURIComponent(e.socketPath ?? '') : `${e.hostname}:${e.port}`;
    return `http://${host}${pathAndQuery}`;
  }

  private baseRequestOptions(): http.RequestOptions {
    const e = this.endpoint;
    if (e.proto === 'unix') return { socketPath: e.socketPath, host: DUMMY_HOST };
    return { host: e.hostname, port: e.port };
  }

  private buildPath(path: string, query: Query | undefined, versioned: boolean): string {
    const qs = encodeQuery(query);
    const prefix = versioned ? `/v${this.version}` : '';
    return `${prefix}${escapePath(path)}${qs ? `?${qs}` : ''}`;
  }

  private translateConnError(err: NodeJS.ErrnoException, url: string): Error {
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
      return connectionFailed(this.endpoint.host);
    }
    if (code === 'EACCES') {
      const target = this.endpoint.proto === 'unix' ? `dial unix ${this.endpoint.socketPath}` : 'dial tcp';
      return new ConnectionError(
        `permission denied while trying to connect to the Docker daemon socket at ${this.endpoint.host}: ` +
          `Get "${url}": ${target}: connect: permission denied`,
        err,
      );
    }
    return new ConnectionError(`error during connect: ${err.message}`, err);
  }

  /** Negotiates the API version once, with HEAD /_ping (falling back to GET). */
  async negotiate(): Promise<void> {
    if (this.negotiated) return;
    if (!this.negotiation) {
      this.negotiation = (async () => {
        const ping = await this.ping();
        const server = ping.apiVersion || '1.24';
        this.version = compareVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
        this.negotiated = true;
      })();
      // A failed negotiation may be retried by the next request.
      this.negotiation.catch(() => {
        this.negotiation = undefined;
      });
    }
    return this.negotiation;
  }

  /** `HEAD /_ping`, then `GET /_ping` if HEAD did not give 200 or 500. Connection errors throw. */
  async ping(): Promise<{ status: number; headers: http.IncomingHttpHeaders; apiVersion?: string }> {
    const once = async (method: string) => {
      const res = await this.send({ method, path: '/_ping', versioned: false });
      await readBody(res).catch(() => Buffer.alloc(0));
      return res;
    };
    let res: http.IncomingMessage | undefined;
    try {
      res = await once('HEAD');
    } catch (err) {
      if (err instanceof ConnectionError) throw err;
    }
    if (!res || (res.statusCode !== 200 && res.statusCode !== 500)) res = await once('GET');
    const v = res.headers['api-version'];
    return { status: res.statusCode ?? 0, headers: res.headers, apiVersion: typeof v === 'string' ? v : undefined };
  }

  /** Sends a request without status checking or negotiation. */
  send(opts: RequestOptions): Promise<http.IncomingMessage> {
    const pathAndQuery = this.buildPath(opts.path, opts.query, opts.versioned ?? true);
    const headers: Record<string, string | number> = { 'User-Agent': this.userAgent, ...opts.headers };
    let payload: Buffer | string | Readable | undefined;
    if (opts.json !== undefined) {
      payload = JSON.stringify(opts.json) + '\n';
      headers['Content-Type'] = 'application/json';
    } else if (opts.body !== undefined) {
      payload = opts.body;
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain';
    }
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      headers['Content-Length'] = Buffer.byteLength(payload);
    } else if (payload === undefined && opts.method !== 'GET' && opts.method !== 'HEAD') {
      headers['Content-Length'] = 0;
    }
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.baseRequestOptions(),
        agent: this.agent,
        method: opts.method,
        path: pathAndQuery,
        headers,
      });
      req.on('response', resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.translateConnError(err, this.displayUrl(pathAndQuery))));
      if (payload instanceof Readable) {
        payload.on('error', (err) => req.destroy(err));
        payload.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  /** The request line and headers of a GET without a body, for rawGet (after negotiation). */
  async rawGetRequest(path: string, query?: Query): Promise<string> {
    await this.negotiate();
    const host = this.endpoint.proto === 'unix' ? DUMMY_HOST : `${this.endpoint.hostname}:${this.endpoint.port}`;
    return `GET ${this.buildPath(path, query, true)} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${this.userAgent}\r\nConnection: close\r\n\r\n`;
  }

  /** Sends a request (negotiating first) and throws ApiError for statuses >= 400. */
  async request(opts: RequestOptions): Promise<http.IncomingMessage> {
    await this.negotiate();
    const res = await this.send(opts);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 400) return res;
    throw await this.errorFromResponse(res, this.buildPath(opts.path, opts.query, opts.versioned ?? true));
  }

  private async errorFromResponse(res: http.IncomingMessage, pathAndQuery: string): Promise<Error> {
    const status = res.statusCode ?? 0;
    const statusMsg = `${status} ${res.statusMessage || http.STATUS_CODES[status] || ''}`.trim();
    const body = await readBody(res).catch(() => Buffer.alloc(0));
    if (body.length === 0) {
      return new ApiError(
        status,
        `request returned ${statusMsg} for API route and version ${this.displayUrl(pathAndQuery)}, check if the server supports the requested API version`,
        false,
      );
    }
    if (res.headers['content-type'] === 'application/json') {
      let message: unknown;
      try {
        message = (JSON.parse(body.toString('utf8')) as { message?: unknown }).message;
      } catch (err) {
        return new ApiError(status, `Error reading JSON: ${(err as Error).message}`, false);
      }
      if (typeof message !== 'string' || message === '') {
        return new ApiError(status, `API returned a ${status} (${http.STATUS_CODES[status] ?? ''}) but provided no error-message`);
      }
      return new ApiError(status, message.trim());
    }
    return new ApiError(status, body.toString('utf8').trim());
  }

  async json<T>(opts: RequestOptions): Promise<T> {
    const res = await this.request(opts);
    const body = await readBody(res);
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** Like json() but also returns the raw body (for inspect, which prints the server's JSON). */
  async jsonWithRaw<T>(opts: RequestOptions): Promise<{ value: T; raw: Buffer }> {
    const res = await this.request(opts);
    const raw = await readBody(res);
    return { value: JSON.parse(raw.toString('utf8')) as T, raw };
  }

  /** Sends a request and discards the body. */
  async noContent(opts: RequestOptions): Promise<void> {
    const res = await this.request(opts);
    await readBody(res);
  }

  /**
   * Upgrades the connection (`Connection: Upgrade`, `Upgrade: tcp`) and returns the raw socket
   * on `101`. The socket is half-open capable: end() it after stdin EOF and keep reading.
   */
  async hijack(opts: RequestOptions): Promise<HijackedConnection> {
    await this.negotiate();
    const pathAndQuery = this.buildPath(opts.path, opts.query, opts.versioned ?? true);
    let payload: string;
    const headers: Record<string, string | number> = {
      'User-Agent': this.userAgent,
      ...opts.headers,
      Connection: 'Upgrade',
      Upgrade: 'tcp',
    };
    if (opts.json !== undefined) {
      payload = JSON.stringify(opts.json) + '\n';
      headers['Content-Type'] = 'application/json';
    } else {
      payload = typeof opts.body === 'string' ? opts.body : '';
      headers['Content-Type'] = 'text/plain';
    }
    headers['Content-Length'] = Buffer.byteLength(payload);
    const e = this.endpoint;
    const connect = (): net.Socket =>
      e.proto === 'unix'
        ? net.createConnection({ path: e.socketPath as string, allowHalfOpen: true })
        : net.createConnection({ host: e.hostname, port: e.port as number, allowHalfOpen: true });
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.baseRequestOptions(),
        // No agent: the upgraded socket must be a dedicated connection.
        createConnection: connect,
        method: opts.method,
        path: pathAndQuery,
        headers,
      });
      req.on('upgrade', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        const ct = res.headers['content-type'];
        resolve({ socket, mediaType: typeof ct === 'string' ? ct : '' });
      });
      req.on('response', (res: http.IncomingMessage) => {
        res.resume();
        reject(new Error(`unable to upgrade to tcp, received ${res.statusCode}`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.translateConnError(err, this.displayUrl(pathAndQuery))));
      req.end(payload);
    });
  }
}
