import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { PublishedPort } from './types';

/** A requested publish before host ports are chosen: `hostPorts` empty means any free port. */
export interface PortRequest {
  proto: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostIp: string;
  hostPortLow: number;
  hostPortHigh: number;
}

function splitKey(key: string): { port: number; proto: 'tcp' | 'udp' | 'sctp' } | undefined {
  const [p, proto = 'tcp'] = key.split('/');
  const port = Number(p);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') return undefined;
  return { port, proto };
}

/** The publishes a container asks for: HostConfig.PortBindings, plus every exposed port with -P. */
export function portRequests(
  bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | undefined,
  exposed: Record<string, object> | undefined,
  publishAll: boolean,
): PortRequest[] {
  const out: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const k = splitKey(key);
    if (!k) continue;
    for (const b of list ?? [{}]) {
      const hp = (b.HostPort ?? '').trim();
      let low = 0;
      let high = 0;
      if (hp) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(hp);
        if (!m) throw new Error(`invalid port specification: "${hp}"`);
        low = Number(m[1]);
        high = m[2] ? Number(m[2]) : low;
      }
      out.push({ proto: k.proto, containerPort: k.port, hostIp: b.HostIp || '0.0.0.0', hostPortLow: low, hostPortHigh: high });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const k = splitKey(key);
      if (!k || bindings?.[key]?.length) continue;
      out.push({ proto: k.proto, containerPort: k.port, hostIp: '0.0.0.0', hostPortLow: 0, hostPortHigh: 0 });
    }
  }
  return out;
}

export class PortAllocatedError extends Error {
  constructor(readonly hostIp: string, readonly hostPort: number) {
    super(`Bind for ${hostIp}:${hostPort} failed: port is already allocated`);
  }
}

interface Binding {
  port: PublishedPort;
  close(): void;
}

/**
 * Holds the host ports of published ports (so nothing else takes them, as docker-proxy does) and relays
 * connections that the kernel cannot DNAT (to 127.0.0.1 and from the host itself) to the container.
 */
export class PortProxies {
  private readonly byContainer = new Map<string, Binding[]>();

  /** Binds every request or nothing; returns the ports as bound. */
  async bind(containerId: string, reqs: PortRequest[], target: () => string | undefined): Promise<PublishedPort[]> {
    const done: Binding[] = [];
    try {
      for (const r of reqs) done.push(await bindOne(r, target));
    } catch (err) {
      for (const b of done) b.close();
      throw err;
    }
    this.byContainer.set(containerId, [...(this.byContainer.get(containerId) ?? []), ...done]);
    return done.map((b) => b.port);
  }

  /** Re-binds ports recorded before a daemon restart (same host ports). */
  async rebind(containerId: string, ports: PublishedPort[], target: () => string | undefined): Promise<void> {
    const reqs = ports.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPortLow: p.hostPort, hostPortHigh: p.hostPort }));
    const done: Binding[] = [];
    for (const r of reqs) {
      try {
        done.push(await bindOne(r, target));
      } catch {
        /* taken meanwhile: the DNAT rule still serves other hosts */
      }
    }
    this.byContainer.set(containerId, done);
  }

  release(containerId: string): void {
    for (const b of this.byContainer.get(containerId) ?? []) b.close();
    this.byContainer.delete(containerId);
  }

  releaseAll(): void {
    for (const id of [...this.byContainer.keys()]) this.release(id);
  }
}

async function bindOne(r: PortRequest, target: () => string | undefined): Promise<Binding> {
  if (r.hostPortLow === 0) return bindPort(r, 0, target);
  let last: unknown;
  for (let p = r.hostPortLow; p <= r.hostPortHigh; p++) {
    try {
      return await bindPort(r, p, target);
    } catch (err) {
      last = err;
      if (!(err instanceof PortAllocatedError)) throw err;
    }
  }
  throw last;
}

function bindPort(r: PortRequest, port: number, target: () => string | undefined): Promise<Binding> {
  if (r.proto === 'sctp') {
    // Node has no SCTP sockets: the DNAT rule alone serves it (a random port is not supported).
    if (port === 0) return Promise.reject(new Error('a random host port is not supported for sctp'));
    return Promise.resolve({ port: { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: port }, close: () => undefined });
  }
  return r.proto === 'udp' ? bindUdp(r, port, target) : bindTcp(r, port, target);
}

function bindTcp(r: PortRequest, port: number, target: () => string | undefined): Promise<Binding> {
  const server = net.createServer({ noDelay: true }, (client) => {
    const ip = target();
    if (!ip) return client.destroy();
    const upstream = net.connect({ host: ip, port: r.containerPort, noDelay: true });
    client.pipe(upstream);
    upstream.pipe(client);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortAllocatedError(r.hostIp, port) : err);
    });
    server.listen({ host: r.hostIp, port, exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      const bound = (server.address() as net.AddressInfo).port;
      resolve({
        port: { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: bound },
        close: () => server.close(),
      });
    });
  });
}

function bindUdp(r: PortRequest, port: number, target: () => string | undefined): Promise<Binding> {
  const sock = dgram.createSocket({ type: 'udp4' });
  const flows = new Map<string, { s: dgram.Socket; timer: NodeJS.Timeout }>();
  sock.on('message', (msg, rinfo) => {
    const ip = target();
    if (!ip) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const s = dgram.createSocket('udp4');
      s.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
      s.on('error', () => undefined);
      flow = { s, timer: setTimeout(() => undefined, 0) };
      flows.set(key, flow);
    }
    clearTimeout(flow.timer);
    const f = flow;
    f.timer = setTimeout(() => {
      flows.delete(key);
      f.s.close();
    }, 90_000);
    f.s.send(msg, r.containerPort, ip);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortAllocatedError(r.hostIp, port) : err);
    });
    sock.bind({ address: r.hostIp, port, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      resolve({
        port: { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: sock.address().port },
        close: () => {
          for (const f of flows.values()) {
            clearTimeout(f.timer);
            f.s.close();
          }
          flows.clear();
          sock.close();
        },
      });
    });
  });
}
