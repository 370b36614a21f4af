import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as packet from 'dns-packet';
import { log } from '../../util/log';

/** Answers for a name asked by a client: addresses (possibly none for a known name), or undefined to forward. */
export type DnsLookup = (clientIp: string, name: string) => { ips: string[]; ptr?: string[] } | undefined;

/** Upstream resolvers for a client (its --dns servers, else the host's). */
export type DnsUpstreams = (clientIp: string) => string[];

const RCODE_SERVFAIL = 2;
const TTL = 600;
const FORWARD_TIMEOUT_MS = 2000;

interface Listener {
  udp: dgram.Socket;
  tcp: net.Server;
}

/**
 * The embedded resolver of user-defined networks, listening on each network's gateway address, port 53 (containers
 * reach it as 127.0.0.11 through a NAT rule in their own namespace). Container names, aliases and ID prefixes are
 * answered from the networks the asking container shares; everything else is relayed to the upstream resolvers.
 */
export class DnsServer {
  private readonly listeners = new Map<string, Listener>();

  constructor(
    private readonly lookup: DnsLookup,
    private readonly upstreams: DnsUpstreams,
  ) {}

  async listen(address: string): Promise<void> {
    if (this.listeners.has(address)) return;
    const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address, 'udp').then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', (err) => log.warn('dns socket error', { address, error: err.message }));
    const tcp = net.createServer((sock) => this.serveTcp(sock));
    tcp.on('error', (err) => log.warn('dns tcp error', { address, error: err.message }));
    const l = { udp, tcp };
    this.listeners.set(address, l);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(53, address, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: 53, host: address }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.close(address);
      throw err;
    }
  }

  close(address: string): void {
    const l = this.listeners.get(address);
    if (!l) return;
    this.listeners.delete(address);
    try {
      l.udp.close();
    } catch {
      /* not bound */
    }
    l.tcp.close();
  }

  closeAll(): void {
    for (const a of [...this.listeners.keys()]) this.close(a);
  }

  private serveTcp(sock: net.Socket): void {
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(msg, sock.remoteAddress?.replace(/^::ffff:/, '') ?? '', 'tcp').then((reply) => {
          if (!reply || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([head, reply]));
        });
      }
    });
  }

  /** The reply to one query (undefined: drop it). */
  async answer(msg: Buffer, clientIp: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let q: packet.DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      return undefined;
    }
    if (q.type !== 'query' || !q.questions || q.questions.length !== 1) return undefined;
    const question = q.questions[0]!;
    const name = question.name.replace(/\.$/, '').toLowerCase();
    const local = question.class === 'IN' ? this.lookup(clientIp, name) : undefined;
    if (local) {
      const answers: packet.Answer[] =
        question.type === 'A'
          ? local.ips.map((ip) => ({ type: 'A', name: question.name, class: 'IN', ttl: TTL, data: ip }) as packet.Answer)
          : question.type === 'PTR'
            ? (local.ptr ?? []).map((data) => ({ type: 'PTR', name: question.name, class: 'IN', ttl: TTL, data }) as packet.Answer)
            : [];
      return packet.encode({
        type: 'response',
        id: q.id,
        flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
        questions: q.questions,
        answers,
      });
    }
    const reply = await this.forward(msg, this.upstreams(clientIp), transport);
    if (reply) return reply;
    return packet.encode({
      type: 'response',
      id: q.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | RCODE_SERVFAIL,
      questions: q.questions,
    });
  }

  private async forward(msg: Buffer, servers: string[], transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    for (const server of servers) {
      const reply = transport === 'udp' ? await forwardUdp(msg, server) : await forwardTcp(msg, server);
      if (reply) return reply;
    }
    return undefined;
  }
}

function forwardUdp(msg: Buffer, server: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const done = (r: Buffer | undefined) => {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
    sock.on('error', () => done(undefined));
    sock.on('message', (reply) => done(reply));
    sock.send(msg, 53, server);
  });
}

function forwardTcp(msg: Buffer, server: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: server, port: 53 });
    let buf = Buffer.alloc(0);
    const done = (r: Buffer | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
    sock.on('error', () => done(undefined));
    sock.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([head, msg]));
    });
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}
