import { run } from '../../util/proc';
import { runInput } from '../../util/proc';
import type { PublishedPort } from './types';

export interface FwNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
  icc: boolean;
  masquerade: boolean;
}

export interface FwPublish {
  bridge: string;
  target: string;
  ports: PublishedPort[];
}

/**
 * The daemon's iptables rules, all in its own chains (`<PREFIX>-FWD` in filter, `<PREFIX>-DNAT` and `<PREFIX>-POST`
 * in nat, `<PREFIX>-RAW` in raw) reached by one jump each from the built-in chains. Every change rewrites the chains whole from the
 * desired state in one `iptables-restore --noflush` (declaring a chain flushes it), so no rule can be left behind.
 */
export class Firewall {
  readonly fwd: string;
  readonly dnat: string;
  readonly post: string;
  readonly raw: string;
  private queue: Promise<void> = Promise.resolve();
  private jumpsInstalled = false;

  constructor(prefix: string) {
    const p = prefix.toUpperCase();
    this.fwd = `${p}-FWD`;
    this.dnat = `${p}-DNAT`;
    this.post = `${p}-POST`;
    this.raw = `${p}-RAW`;
  }

  static render(chains: { fwd: string; dnat: string; post: string; raw: string }, nets: FwNetwork[], pubs: FwPublish[]): string {
    const f: string[] = ['*filter', `:${chains.fwd} - [0:0]`];
    for (const n of nets) f.push(`-A ${chains.fwd} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    for (const n of nets) if (!n.internal) f.push(`-A ${chains.fwd} -o ${n.bridge} -m conntrack --ctstate DNAT -j ACCEPT`);
    for (const n of nets) f.push(`-A ${chains.fwd} -i ${n.bridge} -o ${n.bridge} -j ${n.icc ? 'ACCEPT' : 'DROP'}`);
    for (const n of nets) f.push(`-A ${chains.fwd} -o ${n.bridge} -j DROP`);
    for (const n of nets) f.push(`-A ${chains.fwd} -i ${n.bridge} -j ${n.internal ? 'DROP' : 'ACCEPT'}`);
    f.push('COMMIT');
    const n: string[] = ['*nat', `:${chains.dnat} - [0:0]`, `:${chains.post} - [0:0]`];
    for (const p of pubs) {
      for (const g of groupRanges(p.ports)) {
        if (g.hostIp.includes(':')) continue; // IPv6 host addresses: served by the proxy only
        const dst = g.hostIp === '0.0.0.0' ? '' : ` -d ${g.hostIp}/32`;
        const dport = g.low === g.high ? `${g.low}` : `${g.low}:${g.high}`;
        const to = g.same ? p.target : `${p.target}:${g.containerPort}`;
        n.push(`-A ${chains.dnat}${dst} ! -i ${p.bridge} -p ${g.proto} -m ${g.proto} --dport ${dport} -j DNAT --to-destination ${to}`);
      }
    }
    for (const net of nets) if (net.masquerade && !net.internal) n.push(`-A ${chains.post} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`);
    // Published ports on 127.0.0.1 are DNATed in OUTPUT too (the bridges have route_localnet=1); the source
    // becomes the gateway so the container can answer.
    for (const net of nets) n.push(`-A ${chains.post} -s 127.0.0.0/8 -o ${net.bridge} -m addrtype --src-type LOCAL -j MASQUERADE`);
    n.push('COMMIT');
    // route_localnet must not let anything from a bridge reach the host's loopback addresses.
    const r: string[] = ['*raw', `:${chains.raw} - [0:0]`];
    for (const net of nets) r.push(`-A ${chains.raw} -i ${net.bridge} -d 127.0.0.0/8 -j DROP`);
    r.push('COMMIT');
    return [...f, ...n, ...r].join('\n') + '\n';
  }

  /** Rewrites the chains (serialised: later calls see earlier ones done). */
  apply(nets: FwNetwork[], pubs: FwPublish[]): Promise<void> {
    const next = this.queue.then(async () => {
      await runInput('iptables-restore', ['-w', '--noflush'], Firewall.render(this, nets, pubs));
      if (!this.jumpsInstalled) {
        await this.installJumps();
        this.jumpsInstalled = true;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private jumps(): Array<{ table: string; chain: string; rule: string[]; insert: boolean }> {
    return [
      { table: 'filter', chain: 'FORWARD', rule: ['-j', this.fwd], insert: true },
      { table: 'nat', chain: 'PREROUTING', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', this.dnat], insert: false },
      { table: 'nat', chain: 'OUTPUT', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', this.dnat], insert: false },
      { table: 'nat', chain: 'POSTROUTING', rule: ['-j', this.post], insert: true },
      { table: 'raw', chain: 'PREROUTING', rule: ['-j', this.raw], insert: true },
    ];
  }

  private async installJumps(): Promise<void> {
    for (const j of this.jumps()) {
      const exists = await run('iptables', ['-w', '-t', j.table, '-C', j.chain, ...j.rule]).then(
        () => true,
        () => false,
      );
      if (!exists) await run('iptables', ['-w', '-t', j.table, j.insert ? '-I' : '-A', j.chain, ...(j.insert ? ['1'] : []), ...j.rule]);
    }
  }

  /** Removes the jumps and the chains (nothing of this daemon stays in the tables). */
  teardown(): Promise<void> {
    const next = this.queue.then(async () => {
      for (const j of this.jumps()) {
        // A jump may have been added twice by a crashed earlier run; delete until none is left.
        for (let i = 0; i < 4; i++) {
          const ok = await run('iptables', ['-w', '-t', j.table, '-D', j.chain, ...j.rule]).then(
            () => true,
            () => false,
          );
          if (!ok) break;
        }
      }
      for (const [table, chain] of [['filter', this.fwd], ['nat', this.dnat], ['nat', this.post], ['raw', this.raw]] as const) {
        await run('iptables', ['-w', '-t', table, '-F', chain]).catch(() => undefined);
        await run('iptables', ['-w', '-t', table, '-X', chain]).catch(() => undefined);
      }
      this.jumpsInstalled = false;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Ports grouped into ranges that one rule can carry (consecutive host ports mapping 1:1 to the same container ports). */
export function groupRanges(ports: PublishedPort[]): Array<{ proto: string; hostIp: string; low: number; high: number; containerPort: number; same: boolean }> {
  const sorted = [...ports].sort((a, b) => a.proto.localeCompare(b.proto) || a.hostIp.localeCompare(b.hostIp) || a.hostPort - b.hostPort);
  const out: Array<{ proto: string; hostIp: string; low: number; high: number; containerPort: number; same: boolean }> = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    const same = p.hostPort === p.containerPort;
    if (last && last.same && same && last.proto === p.proto && last.hostIp === p.hostIp && last.high + 1 === p.hostPort) {
      last.high = p.hostPort;
      continue;
    }
    out.push({ proto: p.proto, hostIp: p.hostIp, low: p.hostPort, high: p.hostPort, containerPort: p.containerPort, same });
  }
  return out;
}

/** Rules inside a container's namespace: 127.0.0.11:53 leads to the resolver on `gateway`. */
export function containerDnsRules(gateway: string, containerIp: string): string {
  const lines = ['*nat', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  for (const proto of ['udp', 'tcp']) {
    lines.push(`-A OUTPUT -d 127.0.0.11/32 -p ${proto} -m ${proto} --dport 53 -j DNAT --to-destination ${gateway}:53`);
    lines.push(`-A POSTROUTING -s 127.0.0.0/8 -d ${gateway}/32 -p ${proto} -m ${proto} --dport 53 -j SNAT --to-source ${containerIp}`);
  }
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}
