import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { EngineError, conflict, forbidden, invalidParameter, noSuchContainer, notFound, notImplemented } from '../../util/errors';
import { newId } from '../../util/ids';
import { log } from '../../util/log';
import { labelMatches } from '../../util/labels';
import type { ContainerNetworking, NetworkPlan } from '../containers/networking';
import type { ContainerRecord } from '../containers/types';
import { parseFilterTimestamp } from '../images/time';
import { DnsServer } from './dns';
import { runInput } from '../../util/proc';
import { hostRoutes, ipBatch, ipBatchForce, linkNames } from './exec';
import { Firewall, containerDnsRules, type FwNetwork, type FwPublish } from './firewall';
import { contains, formatCidr, formatIp, hostRange, macFor, overlaps, parseCidr, parseIp, type Cidr } from './ipnet';
import { PortAllocatedError, PortProxies, portRequests } from './ports';
import { NetworkStore } from './store';
import type { EndpointRecord, EndpointSettingsIn, IpamConfigEntry, NetworkRecord, PublishedPort, SandboxRecord } from './types';

/** What the network manager needs from the container store. */
export interface ContainerAccess {
  find(ref: string): ContainerRecord | undefined;
  all(): ContainerRecord[];
  save(c: ContainerRecord): void;
}

export interface NetworkManagerOptions {
  dataRoot: string;
  /** Prefix of this daemon's kernel objects (bridges, veths, iptables chains); at most 8 characters. */
  prefix: string;
  bip?: string;
  bridge?: string;
  /** Default bridge: inter-container communication and MTU (dockerd's --icc and --mtu). */
  icc?: boolean;
  mtu?: number;
  containers: ContainerAccess;
  events?: (action: string, id: string, attrs: Record<string, string>) => void;
  /** The host's resolver configuration (tests point it elsewhere). */
  hostResolvConf?: string;
}

/** Docker's create body for POST /networks/create. */
export interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string }> | null; Options?: Record<string, string> | null };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  [k: string]: unknown;
}

/** Networking config the container records carry (create's NetworkingConfig, kept by connect/disconnect). */
type Endpoints = Record<string, EndpointSettingsIn>;

const PREDEFINED = new Set(['bridge', 'host', 'none']);
const DEFAULT_MTU = 1500;

function endpointsOf(c: ContainerRecord): Endpoints {
  const rec = c as ContainerRecord & { NetworkingConfig?: { EndpointsConfig?: Endpoints | null } };
  if (!rec.NetworkingConfig) rec.NetworkingConfig = {};
  if (!rec.NetworkingConfig.EndpointsConfig) rec.NetworkingConfig.EndpointsConfig = {};
  return rec.NetworkingConfig.EndpointsConfig;
}

function primaryMode(c: ContainerRecord): string {
  const m = c.HostConfig.NetworkMode || 'default';
  return m === 'default' ? 'bridge' : m;
}

interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

function parseResolv(text: string): ResolvConf {
  const r: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) r.nameservers.push(f[1]);
    else if ((f[0] === 'search' || f[0] === 'domain') && f.length > 1) r.search = f.slice(1);
    else if (f[0] === 'options' && f.length > 1) r.options.push(...f.slice(1));
  }
  return r;
}

/**
 * Networks and container networking: the predefined `bridge`, `host` and `none` networks, user-defined bridge
 * networks with IPAM and DNS, veth plumbing between the runtime's create and start, published ports (iptables DNAT
 * plus an in-process proxy for loopback), and recovery after a daemon restart.
 */
export class NetworkManager implements ContainerNetworking {
  readonly store: NetworkStore;
  readonly firewall: Firewall;
  private readonly proxies = new PortProxies();
  private readonly dns: DnsServer;
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly prefix: string;
  private readonly bridgesUp = new Set<string>();

  constructor(private readonly o: NetworkManagerOptions) {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(o.prefix)) throw new Error(`invalid network prefix "${o.prefix}": 1 to 8 lower-case letters and digits`);
    this.prefix = o.prefix;
    this.store = new NetworkStore(path.join(o.dataRoot, 'networks'));
    this.firewall = new Firewall(o.prefix);
    this.dns = new DnsServer(
      (ip, name) => this.dnsLookup(ip, name),
      (ip) => this.dnsUpstreams(ip),
    );
  }

  // ---- start-up ----

  async init(): Promise<void> {
    this.store.load();
    for (const id of this.store.sandboxIds()) {
      const sb = this.store.sandbox(id);
      if (sb) this.sandboxes.set(id, sb);
    }
    await this.ensurePredefined();
    await this.ensureBridges(this.bridgeNetworks());
    for (const n of this.bridgeNetworks()) if (!n.isDefault) await this.listenDns(n);
    await this.applyFirewall();
  }

  /** After the container service reconciled: running containers get their proxies back; leftovers of dead ones go. */
  async afterReconcile(): Promise<void> {
    const running = new Set(this.o.containers.all().filter((c) => c.State.Running || c.State.Status === 'paused').map((c) => c.Id));
    const staleIfs: string[] = [];
    for (const n of this.store.all()) {
      let changed = false;
      for (const [cid, ep] of Object.entries(n.endpoints)) {
        if (running.has(cid)) continue;
        staleIfs.push(ep.hostIf);
        delete n.endpoints[cid];
        changed = true;
      }
      if (changed) this.store.save(n);
    }
    for (const [cid, sb] of [...this.sandboxes]) {
      if (running.has(cid)) {
        await this.proxies.rebind(cid, sb.ports, () => this.sandboxes.get(cid)?.portTarget);
      } else {
        this.sandboxes.delete(cid);
        this.store.deleteSandbox(cid);
      }
    }
    // Links carrying this daemon's prefix that no record explains: veths of stale endpoints, bridges of networks
    // whose removal was cut short by a crash.
    const present = await linkNames();
    const known = new Set<string>();
    for (const n of this.bridgeNetworks()) {
      if (n.bridge) known.add(n.bridge);
      for (const ep of Object.values(n.endpoints)) known.add(ep.hostIf);
    }
    const n = 14 - this.prefix.length;
    const ours = new RegExp(`^${this.prefix}[v-][0-9a-f]{${n}}$`);
    const strays = [...present].filter((l) => ours.test(l) && !known.has(l));
    await ipBatchForce([...new Set([...staleIfs.filter((i) => present.has(i)), ...strays])].map((i) => `link del ${i}`));
    await this.applyFirewall();
  }

  /** Daemon shutdown: proxies and DNS stop; with no container left running, every kernel object goes too. */
  async shutdown(): Promise<void> {
    this.proxies.releaseAll();
    this.dns.closeAll();
    const anyRunning = this.o.containers.all().some((c) => c.State.Running || c.State.Status === 'paused');
    if (anyRunning) return;
    await this.teardownAll();
  }

  /** Removes this daemon's bridges, chains and rules (networks stay recorded and come back at the next start). */
  async teardownAll(): Promise<void> {
    const present = await linkNames();
    await ipBatchForce(
      this.bridgeNetworks()
        .filter((n) => n.bridge && present.has(n.bridge) && !n.Options['berth.bridge.external'])
        .map((n) => `link del ${n.bridge}`),
    );
    this.bridgesUp.clear();
    await this.firewall.teardown();
  }

  private async ensurePredefined(): Promise<void> {
    const has = (name: string) => this.store.all().find((n) => n.Name === name);
    const base = (name: string, driver: NetworkRecord['Driver']): NetworkRecord => ({
      Name: name,
      Id: newId(),
      Created: new Date().toISOString(),
      Driver: driver,
      EnableIPv6: false,
      Internal: false,
      Attachable: false,
      IPAM: { Driver: 'default', Options: null, Config: [] },
      Options: {},
      Labels: {},
      endpoints: {},
    });
    if (!has('host')) this.store.save(base('host', 'host'));
    if (!has('none')) this.store.save(base('none', 'null'));
    let br = has('bridge');
    const device = this.o.bridge || `${this.prefix}0`;
    let cfg: IpamConfigEntry | undefined;
    if (this.o.bip) {
      const p = parseCidr(this.o.bip);
      if (!p) throw new Error(`invalid --bip ${this.o.bip}`);
      const gw = p.ip === p.cidr.base ? p.cidr.base + 1 : p.ip;
      cfg = { Subnet: formatCidr(p.cidr), Gateway: formatIp(gw) };
    }
    if (!br) {
      if (!cfg) {
        const subnet = await this.freeSubnet();
        cfg = { Subnet: formatCidr(subnet), Gateway: formatIp(subnet.base + 1) };
      }
      br = base('bridge', 'bridge');
      br.isDefault = true;
      br.IPAM.Config = [cfg];
      this.store.save(br);
    } else if (cfg && (br.IPAM.Config[0]?.Subnet !== cfg.Subnet || br.IPAM.Config[0]?.Gateway !== cfg.Gateway)) {
      br.IPAM.Config = [cfg];
      br.endpoints = Object.fromEntries(Object.entries(br.endpoints).filter(([, ep]) => contains(parseCidr(cfg!.Subnet)!.cidr, parseIp(ep.ip)!)));
    }
    br.bridge = device;
    br.Options = {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': String(this.o.icc ?? true),
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': device,
      'com.docker.network.driver.mtu': String(this.o.mtu ?? DEFAULT_MTU),
    };
    this.store.save(br);
  }

  private bridgeNetworks(): NetworkRecord[] {
    return this.store.all().filter((n) => n.Driver === 'bridge');
  }

  private defaultBridge(): NetworkRecord {
    return this.store.all().find((n) => n.isDefault)!;
  }

  /** A private /16 (or /20) that no route and no network of ours uses (Docker's pools; 172.17/16 is Docker's). */
  private async freeSubnet(): Promise<Cidr> {
    const routes = (await hostRoutes()).map((r) => parseCidr(r)?.cidr).filter((c): c is Cidr => Boolean(c));
    const ours = this.bridgeNetworks()
      .map((n) => n.IPAM.Config[0]?.Subnet)
      .filter((s): s is string => Boolean(s))
      .map((s) => parseCidr(s)!.cidr);
    const taken = [...routes, ...ours];
    const candidates: Cidr[] = [];
    for (let b = 18; b <= 31; b++) candidates.push({ base: parseIp(`172.${b}.0.0`)!, bits: 16 });
    for (let b = 0; b < 256; b += 16) candidates.push({ base: parseIp(`192.168.${b}.0`)!, bits: 20 });
    const free = candidates.find((c) => !taken.some((t) => t.bits > 0 && overlaps(c, t)));
    if (!free) throw forbidden('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    return free;
  }

  private mtu(n: NetworkRecord): number {
    const v = Number(n.Options['com.docker.network.driver.mtu']);
    return Number.isInteger(v) && v >= 68 ? v : DEFAULT_MTU;
  }

  /** Creates missing bridge devices (those made or seen by this process are not looked up again). */
  private async ensureBridges(nets: NetworkRecord[]): Promise<void> {
    const wanted = nets.filter((n) => n.bridge && !this.bridgesUp.has(n.bridge));
    if (wanted.length === 0) return;
    const present = await linkNames();
    const lines: string[] = [];
    for (const n of wanted) {
      if (present.has(n.bridge!)) continue;
      const cfg = n.IPAM.Config[0]!;
      const bits = parseCidr(cfg.Subnet)!.cidr.bits;
      lines.push(`link add ${n.bridge} type bridge`, `addr add ${cfg.Gateway}/${bits} dev ${n.bridge}`, `link set ${n.bridge} mtu ${this.mtu(n)} up`);
    }
    await ipBatch(lines);
    for (const n of wanted) {
      // Lets OUTPUT DNAT send 127.0.0.1 publishes to containers (the raw chain drops 127/8 arriving from bridges).
      try {
        fs.writeFileSync(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, '1');
      } catch (err) {
        log.warn('route_localnet not set; loopback publishes go through the proxy', { bridge: n.bridge, error: (err as Error).message });
      }
      this.bridgesUp.add(n.bridge!);
    }
  }

  private async listenDns(n: NetworkRecord): Promise<void> {
    const gw = n.IPAM.Config[0]?.Gateway;
    if (!gw) return;
    await this.dns.listen(gw).catch((err: Error) => log.warn('embedded DNS could not listen', { network: n.Name, address: gw, error: err.message }));
  }

  private applyFirewall(): Promise<void> {
    const nets: FwNetwork[] = this.bridgeNetworks()
      .filter((n) => n.bridge)
      .map((n) => ({
        bridge: n.bridge!,
        subnet: n.IPAM.Config[0]!.Subnet,
        internal: n.Internal,
        icc: n.Options['com.docker.network.bridge.enable_icc'] !== 'false',
        masquerade: n.Options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false',
      }));
    const pubs: FwPublish[] = [];
    for (const sb of this.sandboxes.values()) {
      if (!sb.portTarget || !sb.ports.length) continue;
      const net = this.bridgeNetworks().find((n) => n.endpoints[sb.containerId]?.ip === sb.portTarget);
      if (!net?.bridge) continue;
      pubs.push({ bridge: net.bridge, target: sb.portTarget, ports: sb.ports });
    }
    return this.firewall.apply(nets, pubs);
  }

  // ---- container life cycle (ContainerNetworking) ----

  /** At create: the networks asked for exist; the record gets its endpoint list and, with --network host, the host's name. */
  async validate(c: ContainerRecord): Promise<void> {
    const mode = primaryMode(c);
    const eps = endpointsOf(c);
    if (mode === 'host' || mode === 'none') {
      if (mode === 'host' && c.Config.Hostname === c.Id.slice(0, 12)) c.Config.Hostname = os.hostname();
      for (const k of Object.keys(eps)) if (k !== mode) delete eps[k];
      return;
    }
    if (mode.startsWith('container:')) {
      if (c.HostConfig.PortBindings && Object.keys(c.HostConfig.PortBindings as object).length) {
        throw invalidParameter('conflicting options: port publishing and the container type network mode');
      }
      return;
    }
    // Networks may be created after the container (moby checks them at start); known ones are checked now.
    const primary = this.store.find(mode);
    if (primary && primary.Driver !== 'bridge') throw invalidParameter(`container cannot be connected to network ${primary.Name}`);
    const primaryName = primary?.Name ?? mode;
    const normalized: Endpoints = {};
    normalized[primaryName] = eps[c.HostConfig.NetworkMode] ?? eps[mode] ?? eps[primaryName] ?? (primary ? eps[primary.Id] : undefined) ?? {};
    for (const [k, v] of Object.entries(eps)) {
      const key = k === 'default' ? 'bridge' : k;
      const n = this.store.find(key);
      const name = n?.Name ?? key;
      if (name !== primaryName) normalized[name] = v ?? {};
    }
    for (const [name, cfg] of Object.entries(normalized)) {
      const n = this.store.find(name);
      if (n) this.checkEndpointConfig(n, cfg);
    }
    for (const k of Object.keys(eps)) delete eps[k];
    Object.assign(eps, normalized);
  }

  private checkEndpointConfig(n: NetworkRecord, cfg: EndpointSettingsIn): void {
    const want = cfg.IPAMConfig?.IPv4Address;
    if (cfg.Aliases?.length && n.isDefault) throw invalidParameter('network-scoped alias is supported only for containers in user defined networks');
    if (!want) return;
    if (n.isDefault) throw invalidParameter('user specified IP address is supported on user defined networks only');
    if (!n.Options['berth.user-subnet']) throw invalidParameter('user specified IP address is supported only when connecting to networks with user configured subnets');
    const ip = parseIp(want);
    if (ip === undefined) throw invalidParameter(`invalid IPv4 address: ${want}`);
    if (!contains(parseCidr(n.IPAM.Config[0]!.Subnet)!.cidr, ip)) throw invalidParameter(`no configured subnet or ip-range contain the IP address ${want}`);
  }

  /** The bridge networks a container is on, in order (its primary network first). */
  private memberships(c: ContainerRecord): Array<{ net: NetworkRecord; cfg: EndpointSettingsIn; name: string }> {
    const mode = primaryMode(c);
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return [];
    const eps = endpointsOf(c);
    if (Object.keys(eps).length === 0 && !(c as { NetworkingConfig?: { disconnected?: boolean } }).NetworkingConfig?.disconnected) eps[mode] = {};
    const out: Array<{ net: NetworkRecord; cfg: EndpointSettingsIn; name: string }> = [];
    for (const [name, cfg] of Object.entries(eps)) {
      const net = this.store.find(name);
      if (net && net.Driver === 'bridge') out.push({ net, cfg: cfg ?? {}, name: net.Name });
    }
    return out;
  }

  private allocate(n: NetworkRecord, c: ContainerRecord, cfg: EndpointSettingsIn, ifname: string): EndpointRecord {
    const existing = n.endpoints[c.Id];
    if (existing) return existing;
    const conf = n.IPAM.Config[0]!;
    const subnet = parseCidr(conf.Subnet)!.cidr;
    const used = new Set(Object.values(n.endpoints).map((e) => parseIp(e.ip)!));
    used.add(parseIp(conf.Gateway!)!);
    let ip: number | undefined;
    const want = cfg.IPAMConfig?.IPv4Address;
    if (want) {
      ip = parseIp(want);
      if (ip === undefined || !contains(subnet, ip)) throw invalidParameter(`no configured subnet or ip-range contain the IP address ${want}`);
      if (used.has(ip)) throw forbidden('Address already in use');
    } else {
      const range = conf.IPRange ? parseCidr(conf.IPRange)!.cidr : subnet;
      const [lo, hi] = hostRange(range);
      const [slo, shi] = hostRange(subnet);
      for (let a = Math.max(lo, slo); a <= Math.min(hi, shi); a++) {
        if (!used.has(a)) {
          ip = a;
          break;
        }
      }
      if (ip === undefined) throw new EngineError(500, `no available IPv4 addresses on this network's address pools: ${n.Name} (${n.Id})`);
    }
    const ep: EndpointRecord = {
      containerId: c.Id,
      name: c.Name.slice(1),
      endpointId: newId(),
      ip: formatIp(ip),
      mac: macFor(ip),
      ifname,
      hostIf: `${this.prefix}v${randomBytes(8).toString('hex').slice(0, 14 - this.prefix.length)}`,
      aliases: [...(cfg.Aliases ?? [])],
    };
    n.endpoints[c.Id] = ep;
    this.store.save(n);
    return ep;
  }

  private freeEndpoint(n: NetworkRecord, cid: string): EndpointRecord | undefined {
    const ep = n.endpoints[cid];
    if (!ep) return undefined;
    delete n.endpoints[cid];
    this.store.save(n);
    return ep;
  }

  private extraHosts(c: ContainerRecord): string[] {
    const out: string[] = [];
    for (const h of (c.HostConfig.ExtraHosts as string[] | undefined) ?? []) {
      const i = h.search(/[:=]/);
      if (i <= 0) continue;
      const name = h.slice(0, i);
      let ip = h.slice(i + 1);
      if (ip === 'host-gateway') ip = this.defaultBridge().IPAM.Config[0]?.Gateway ?? '127.0.0.1';
      out.push(`${ip}\t${name}`);
    }
    return out;
  }

  private hostResolv(): ResolvConf {
    try {
      return parseResolv(fs.readFileSync(this.o.hostResolvConf ?? '/etc/resolv.conf', 'utf8'));
    } catch {
      return { nameservers: [], search: [], options: [] };
    }
  }

  private resolvConf(c: ContainerRecord, embedded: boolean): string {
    const host = this.hostResolv();
    const dns = (c.HostConfig.Dns as string[] | undefined) ?? [];
    const search = (c.HostConfig.DnsSearch as string[] | undefined) ?? [];
    const options = (c.HostConfig.DnsOptions as string[] | undefined) ?? [];
    const lines: string[] = [];
    let servers: string[];
    if (embedded) servers = ['127.0.0.11'];
    else {
      servers = dns.length ? dns : host.nameservers.filter((s) => !s.startsWith('127.') && s !== '::1');
      if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
    }
    for (const s of servers) lines.push(`nameserver ${s}`);
    const sr = search.length ? search : host.search;
    if (sr.length && !(sr.length === 1 && sr[0] === '.')) lines.push(`search ${sr.join(' ')}`);
    const opts = options.length ? [...options] : [...host.options];
    if (embedded && !opts.some((o) => o.startsWith('ndots:'))) opts.push('ndots:0');
    if (opts.length) lines.push(`options ${opts.join(' ')}`);
    return lines.join('\n') + '\n';
  }

  async prepare(c: ContainerRecord): Promise<NetworkPlan> {
    const t0 = process.hrtime.bigint();
    const plan = await this.preparePlan(c);
    log.debug('network prepare', { id: c.Id.slice(0, 12), ms: (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1) });
    return plan;
  }

  private async preparePlan(c: ContainerRecord): Promise<NetworkPlan> {
    const mode = primaryMode(c);
    const extra = this.extraHosts(c);
    if (mode === 'host') return { hostNetwork: true, hostsEntries: extra };
    if (mode === 'none') return { hostsEntries: extra, resolvConf: this.resolvConf(c, false) };
    if (mode.startsWith('container:')) {
      const ref = mode.slice('container:'.length);
      const target = this.o.containers.find(ref);
      if (!target) throw noSuchContainer(ref);
      if (!target.State.Running) throw conflict(`cannot join network namespace of a non running container: container ${target.Name.slice(1)} is ${target.State.Status}`);
      c.Config.Hostname = target.Config.Hostname;
      const tplan = this.planFor(target);
      return { netnsPath: `/proc/${target.State.Pid}/ns/net`, hostsEntries: [...tplan.hostsEntries, ...extra], resolvConf: tplan.resolvConf };
    }
    for (const name of Object.keys(endpointsOf(c))) if (!this.store.find(name)) throw notFound(`network ${name} not found`);
    const members = this.memberships(c);
    if (members.length === 0 && !this.store.find(mode)) throw notFound(`network ${mode} not found`);
    const allocated: NetworkRecord[] = [];
    try {
      members.forEach((m, i) => {
        this.allocate(m.net, c, m.cfg, `eth${i}`);
        allocated.push(m.net);
      });
      const target = members[0] ? members[0].net.endpoints[c.Id]!.ip : undefined;
      const reqs = portRequests(
        c.HostConfig.PortBindings as Record<string, Array<{ HostIp?: string; HostPort?: string }>> | undefined,
        c.Config.ExposedPorts,
        Boolean(c.HostConfig.PublishAllPorts),
      );
      this.proxies.release(c.Id);
      let ports: PublishedPort[] = [];
      try {
        ports = await this.proxies.bind(c.Id, reqs, () => this.sandboxes.get(c.Id)?.portTarget);
      } catch (err) {
        if (err instanceof PortAllocatedError) {
          const ep = members[0]?.net.endpoints[c.Id];
          throw new EngineError(500, `driver failed programming external connectivity on endpoint ${c.Name.slice(1)} (${ep?.endpointId ?? ''}): ${err.message}`);
        }
        throw err;
      }
      const sb: SandboxRecord = { containerId: c.Id, pid: 0, ports, portTarget: target };
      this.sandboxes.set(c.Id, sb);
      if (ports.length) this.store.saveSandbox(sb);
    } catch (err) {
      this.proxies.release(c.Id);
      for (const n of allocated) this.freeEndpoint(n, c.Id);
      throw err;
    }
    return this.planFor(c);
  }

  /** /etc/hosts entries and resolv.conf for a bridge-mode container whose endpoints are allocated. */
  private planFor(c: ContainerRecord): NetworkPlan {
    const members = this.memberships(c);
    const first = members[0]?.net.endpoints[c.Id];
    const entries: string[] = [];
    if (first) {
      const host = c.Config.Hostname;
      const dom = c.Config.Domainname;
      entries.push(dom ? `${first.ip}\t${host}.${dom} ${host}` : `${first.ip}\t${host}`);
    }
    const embedded = members.some((m) => !m.net.isDefault);
    return { hostsEntries: [...entries, ...this.extraHosts(c)], resolvConf: this.resolvConf(c, embedded) };
  }

  /** Plumbing for one endpoint: veth pair into the namespace of `pid`, addresses, routes. */
  private endpointLines(n: NetworkRecord, ep: EndpointRecord, pid: number, defaultRoute: boolean): { host: string[]; ns: string[] } {
    const cfg = n.IPAM.Config[0]!;
    const bits = parseCidr(cfg.Subnet)!.cidr.bits;
    const mtu = this.mtu(n);
    return {
      host: [`link add ${ep.hostIf} mtu ${mtu} type veth peer name ${ep.ifname} mtu ${mtu} netns ${pid}`, `link set ${ep.hostIf} master ${n.bridge} up`],
      ns: [
        `link set ${ep.ifname} address ${ep.mac}`,
        `addr add ${ep.ip}/${bits} dev ${ep.ifname}`,
        `link set ${ep.ifname} up`,
        ...(defaultRoute ? [`route add default via ${cfg.Gateway} dev ${ep.ifname}`] : []),
      ],
    };
  }

  private dnsGateway(c: ContainerRecord): { gw: string; ip: string } | undefined {
    const m = this.memberships(c).find((x) => !x.net.isDefault && x.net.endpoints[c.Id]);
    if (!m) return undefined;
    return { gw: m.net.IPAM.Config[0]!.Gateway!, ip: m.net.endpoints[c.Id]!.ip };
  }

  async attach(c: ContainerRecord, pid: number): Promise<void> {
    const t0 = process.hrtime.bigint();
    await this.attachEndpoints(c, pid);
    log.debug('network attach', { id: c.Id.slice(0, 12), ms: (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1) });
  }

  private async attachEndpoints(c: ContainerRecord, pid: number): Promise<void> {
    const members = this.memberships(c).filter((m) => m.net.endpoints[c.Id]);
    if (members.length === 0) return;
    await this.ensureBridges(members.map((m) => m.net));
    const host: string[] = [];
    const ns: string[] = ['link set lo up'];
    let routed = false;
    for (const m of members) {
      const lines = this.endpointLines(m.net, m.net.endpoints[c.Id]!, pid, !routed && !m.net.Internal);
      if (!m.net.Internal) routed = true;
      host.push(...lines.host);
      ns.push(...lines.ns);
    }
    await ipBatch(host);
    await this.configureNamespace(pid, ns, this.dnsGateway(c));
    const sb = this.sandboxes.get(c.Id);
    if (sb) sb.pid = pid;
    if (sb?.ports.length) await this.applyFirewall();
  }

  /** One nsenter: `ip -batch` inside the namespace, then the 127.0.0.11 → resolver NAT when there is DNS. */
  private async configureNamespace(pid: number, ipLines: string[], dns: { gw: string; ip: string } | undefined): Promise<void> {
    if (!dns) {
      await ipBatch(ipLines, pid);
      return;
    }
    let script = 'set -e\n';
    if (ipLines.length) script += `ip -batch - <<'EOF_IP'\n${ipLines.join('\n')}\nEOF_IP\n`;
    script += 'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet\n';
    script += `iptables-restore <<'EOF_NAT'\n${containerDnsRules(dns.gw, dns.ip)}EOF_NAT\n`;
    await runInput('nsenter', ['-t', String(pid), '-n', 'sh', '-s'], script);
  }

  async release(c: ContainerRecord): Promise<void> {
    this.proxies.release(c.Id);
    const ifs: string[] = [];
    for (const n of this.bridgeNetworks()) {
      const ep = this.freeEndpoint(n, c.Id);
      if (ep) ifs.push(ep.hostIf);
    }
    const sb = this.sandboxes.get(c.Id);
    this.sandboxes.delete(c.Id);
    if (sb?.ports.length) this.store.deleteSandbox(c.Id);
    // The veths die with the container's namespace, unless a container:NAME peer keeps that namespace alive.
    const shared = this.o.containers
      .all()
      .some((x) => x.Id !== c.Id && x.State.Running && primaryMode(x).startsWith('container:') && this.o.containers.find(primaryMode(x).slice(10))?.Id === c.Id);
    if (shared) await ipBatchForce(ifs.map((i) => `link del ${i}`));
    if (sb?.ports.length) await this.applyFirewall();
  }

  async remove(c: ContainerRecord): Promise<void> {
    await this.release(c);
  }

  settings(c: ContainerRecord): { NetworkSettings: Record<string, unknown>; Ports: object[] } {
    const running = c.State.Running || c.State.Status === 'paused';
    const sb = running ? this.sandboxes.get(c.Id) : undefined;
    const mode = primaryMode(c);
    const networks: Record<string, unknown> = {};
    let top = { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
    const entry = (n: NetworkRecord | undefined, ep: EndpointRecord | undefined, cfg: EndpointSettingsIn) => {
      const conf = n?.IPAM.Config[0];
      const live = ep && running;
      const aliases = n && !n.isDefault && n.Driver === 'bridge' ? [...(cfg.Aliases ?? []), ...(live ? [c.Id.slice(0, 12)] : [])] : null;
      return {
        IPAMConfig: cfg.IPAMConfig?.IPv4Address ? { IPv4Address: cfg.IPAMConfig.IPv4Address } : null,
        Links: null,
        Aliases: aliases && aliases.length ? aliases : null,
        MacAddress: live ? ep.mac : '',
        DriverOpts: null,
        GwPriority: 0,
        NetworkID: n?.Id ?? '',
        EndpointID: live ? ep.endpointId : '',
        Gateway: live ? (conf?.Gateway ?? '') : '',
        IPAddress: live ? ep.ip : '',
        IPPrefixLen: live && conf ? parseCidr(conf.Subnet)!.cidr.bits : 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        DNSNames: live && aliases ? [c.Name.slice(1), ...aliases] : null,
      };
    };
    if (mode === 'host' || mode === 'none') {
      const n = this.store.find(mode);
      networks[mode] = entry(n, undefined, {});
    } else if (!mode.startsWith('container:')) {
      const eps = endpointsOf(c);
      for (const [name, cfg] of Object.entries(eps)) {
        const n = this.store.find(name);
        const e = entry(n, n?.endpoints[c.Id], cfg ?? {});
        networks[n?.Name ?? name] = e;
        if (n?.isDefault && e.IPAddress) top = { EndpointID: e.EndpointID, Gateway: e.Gateway, IPAddress: e.IPAddress, IPPrefixLen: e.IPPrefixLen, MacAddress: e.MacAddress };
      }
      if (Object.keys(eps).length === 0 && !(c as { NetworkingConfig?: { disconnected?: boolean } }).NetworkingConfig?.disconnected) {
        const n = this.store.find(mode);
        if (n) networks[n.Name] = entry(n, n.endpoints[c.Id], {});
      }
    }
    const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
    const list: object[] = [];
    if (running && !mode.startsWith('container:') && mode !== 'host') {
      for (const key of Object.keys(c.Config.ExposedPorts ?? {})) ports[key.includes('/') ? key : `${key}/tcp`] = null;
      for (const p of sb?.ports ?? []) {
        const key = `${p.containerPort}/${p.proto}`;
        (ports[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
      }
      for (const [key, binds] of Object.entries(ports)) {
        const [port, proto] = key.split('/');
        if (!binds) list.push({ PrivatePort: Number(port), Type: proto });
        else for (const b of binds) list.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
      }
    }
    const sandboxId = running ? createHash('sha256').update(`sandbox:${c.Id}:${c.State.StartedAt}`).digest('hex') : '';
    return {
      NetworkSettings: {
        Bridge: '',
        SandboxID: sandboxId,
        SandboxKey: running && c.State.Pid ? `/proc/${c.State.Pid}/ns/net` : '',
        Ports: ports,
        HairpinMode: false,
        LinkLocalIPv6Address: '',
        LinkLocalIPv6PrefixLen: 0,
        SecondaryIPAddresses: null,
        SecondaryIPv6Addresses: null,
        EndpointID: top.EndpointID,
        Gateway: top.Gateway,
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        IPAddress: top.IPAddress,
        IPPrefixLen: top.IPPrefixLen,
        IPv6Gateway: '',
        MacAddress: top.MacAddress,
        Networks: networks,
      },
      Ports: list,
    };
  }

  // ---- DNS ----

  private containerByIp(ip: string): ContainerRecord | undefined {
    for (const n of this.bridgeNetworks()) {
      for (const ep of Object.values(n.endpoints)) if (ep.ip === ip) return this.o.containers.find(ep.containerId);
    }
    return undefined;
  }

  private dnsLookup(clientIp: string, name: string): { ips: string[]; ptr?: string[] } | undefined {
    const asker = this.containerByIp(clientIp);
    if (!asker) return undefined;
    const rev = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
    if (rev) {
      // Reverse lookups of peers: "<container>.<network>", as Docker answers them.
      const ip = [rev[4], rev[3], rev[2], rev[1]].join('.');
      for (const n of this.bridgeNetworks()) {
        if (n.isDefault || !n.endpoints[asker.Id]) continue;
        const ep = Object.values(n.endpoints).find((e) => e.ip === ip);
        const c = ep && this.o.containers.find(ep.containerId);
        if (c && (c.State.Running || c.State.Status === 'paused')) return { ips: [], ptr: [`${c.Name.slice(1)}.${n.Name}`] };
      }
      return undefined;
    }
    const ips: string[] = [];
    for (const n of this.bridgeNetworks()) {
      if (n.isDefault || !n.endpoints[asker.Id]) continue;
      for (const ep of Object.values(n.endpoints)) {
        const c = this.o.containers.find(ep.containerId);
        if (!c || !(c.State.Running || c.State.Status === 'paused')) continue;
        const names = [c.Name.slice(1).toLowerCase(), ...ep.aliases.map((a) => a.toLowerCase())];
        const idMatch = name.length >= 12 && /^[0-9a-f]+$/.test(name) && c.Id.startsWith(name);
        if (idMatch || names.includes(name)) ips.push(ep.ip);
      }
    }
    return ips.length ? { ips } : undefined;
  }

  private dnsUpstreams(clientIp: string): string[] {
    const c = this.containerByIp(clientIp);
    const dns = (c?.HostConfig.Dns as string[] | undefined) ?? [];
    return dns.length ? dns : this.hostResolv().nameservers;
  }

  // ---- networks API ----

  get(ref: string): NetworkRecord {
    const n = this.store.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  inspect(n: NetworkRecord, withContainers = true): object {
    const containers: Record<string, object> = {};
    if (withContainers) {
      const bits = n.IPAM.Config[0] ? parseCidr(n.IPAM.Config[0].Subnet)!.cidr.bits : 0;
      for (const ep of Object.values(n.endpoints)) {
        const c = this.o.containers.find(ep.containerId);
        containers[ep.containerId] = { Name: c ? c.Name.slice(1) : ep.name, EndpointID: ep.endpointId, MacAddress: ep.mac, IPv4Address: `${ep.ip}/${bits}`, IPv6Address: '' };
      }
      if (n.Driver === 'host') {
        for (const c of this.o.containers.all()) {
          if (primaryMode(c) === 'host' && c.State.Running) {
            containers[c.Id] = { Name: c.Name.slice(1), EndpointID: createHash('sha256').update(`host:${c.Id}`).digest('hex'), MacAddress: '', IPv4Address: '', IPv6Address: '' };
          }
        }
      }
    }
    const options = Object.fromEntries(Object.entries(n.Options).filter(([k]) => !k.startsWith('berth.')));
    return {
      Name: n.Name,
      Id: n.Id,
      Created: n.Created,
      Scope: 'local',
      Driver: n.Driver,
      EnableIPv6: n.EnableIPv6,
      IPAM: n.IPAM,
      Internal: n.Internal,
      Attachable: n.Attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: options,
      Labels: n.Labels,
    };
  }

  list(filters: Record<string, string[]>): object[] {
    for (const k of Object.keys(filters)) {
      if (!['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling'].includes(k)) throw invalidParameter(`invalid filter '${k}'`);
    }
    const match = (n: NetworkRecord): boolean => {
      const f = filters;
      if (f.name?.length && !f.name.some((v) => n.Name.includes(v))) return false;
      if (f.id?.length && !f.id.some((v) => n.Id.startsWith(v))) return false;
      if (f.driver?.length && !f.driver.includes(n.Driver)) return false;
      if (f.scope?.length && !f.scope.includes('local')) return false;
      if (f.type?.length) {
        const t = PREDEFINED.has(n.Name) ? 'builtin' : 'custom';
        for (const v of f.type) if (v !== 'builtin' && v !== 'custom') throw invalidParameter(`invalid filter: 'type'='${v}'`);
        if (!f.type.includes(t)) return false;
      }
      if (f.label?.length && !f.label.every((l) => labelMatches(n.Labels, l))) return false;
      if (f.dangling?.length) {
        const want = f.dangling[0] === 'true' || f.dangling[0] === '1';
        const dangling = !PREDEFINED.has(n.Name) && !this.inUse(n);
        if (want !== dangling) return false;
      }
      return true;
    };
    return this.store
      .all()
      .filter(match)
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map((n) => this.inspect(n, false));
  }

  /** Endpoints of containers that still run (those of exited or removed ones are being released in the background). */
  private activeEndpoints(n: NetworkRecord): EndpointRecord[] {
    return Object.values(n.endpoints).filter((ep) => {
      const c = this.o.containers.find(ep.containerId);
      return c && c.Id === ep.containerId && (c.State.Running || c.State.Status === 'paused' || c.State.Status === 'restarting');
    });
  }

  private inUse(n: NetworkRecord): boolean {
    return this.activeEndpoints(n).length > 0;
  }

  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    const name = body.Name;
    if (!name || typeof name !== 'string') throw invalidParameter('network name is required');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidParameter(`invalid network name "${name}"`);
    if (PREDEFINED.has(name)) throw forbidden(`operation is not permitted on predefined ${name} network `);
    if (this.store.all().some((n) => n.Name === name)) throw conflict(`network with name ${name} already exists`);
    const driver = body.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    if (body.EnableIPv6) throw notImplemented('IPv6 networks are not supported by Berth yet');
    const opts: Record<string, string> = { ...(body.Options ?? {}) };
    const ipamCfg = (body.IPAM?.Config ?? []).filter((c) => !(c.Subnet ?? '').includes(':'));
    if (ipamCfg.length > 1) throw forbidden('bridge driver doesn\'t support multiple subnets');
    const want = ipamCfg[0] ?? {};
    let subnet: Cidr;
    const ours = this.bridgeNetworks()
      .map((n) => parseCidr(n.IPAM.Config[0]?.Subnet ?? '')?.cidr)
      .filter((x): x is Cidr => Boolean(x));
    if (want.Subnet) {
      const p = parseCidr(want.Subnet);
      if (!p) throw invalidParameter(`invalid network config:\ninvalid subnet ${want.Subnet}: invalid CIDR address: ${want.Subnet}`);
      if (p.ip !== p.cidr.base) throw invalidParameter(`invalid network config:\ninvalid subnet ${want.Subnet}: it should be ${formatCidr(p.cidr)}`);
      subnet = p.cidr;
      if (subnet.bits > 30) throw invalidParameter(`invalid network config:\ninvalid subnet ${want.Subnet}: prefix too long`);
      if (ours.some((o) => overlaps(o, subnet))) throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
      opts['berth.user-subnet'] = 'true';
    } else {
      if (want.Gateway || want.IPRange) throw invalidParameter('invalid network config:\nsubnet is required when gateway or ip-range is given');
      subnet = await this.freeSubnet();
    }
    let gw = subnet.base + 1;
    if (want.Gateway) {
      const g = parseIp(want.Gateway);
      if (g === undefined) throw invalidParameter(`invalid network config:\ninvalid gateway ${want.Gateway}`);
      if (!contains(subnet, g)) throw forbidden(`no matching subnet for gateway ${want.Gateway}`);
      gw = g;
    }
    let range: string | undefined;
    if (want.IPRange) {
      const r = parseCidr(want.IPRange);
      if (!r || r.ip !== r.cidr.base) throw invalidParameter(`invalid network config:\ninvalid ip-range ${want.IPRange}`);
      if (!contains(subnet, r.cidr.base) || r.cidr.bits < subnet.bits) throw forbidden(`no matching subnet for range ${want.IPRange}`);
      range = formatCidr(r.cidr);
    }
    const id = newId();
    let device = opts['com.docker.network.bridge.name'];
    if (device) {
      if (device.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(device)) throw invalidParameter(`invalid bridge name ${device}`);
      if (this.bridgeNetworks().some((n) => n.bridge === device)) throw forbidden(`bridge name ${device} is already used by another network`);
      if ((await linkNames()).has(device)) throw forbidden(`a network interface named ${device} already exists on the host`);
    } else device = `${this.prefix}-${id.slice(0, 14 - this.prefix.length)}`;
    const cfg: IpamConfigEntry = { Subnet: formatCidr(subnet), ...(range ? { IPRange: range } : {}), Gateway: formatIp(gw) };
    const rec: NetworkRecord = {
      Name: name,
      Id: id,
      Created: new Date().toISOString(),
      Driver: 'bridge',
      EnableIPv6: false,
      Internal: Boolean(body.Internal),
      Attachable: Boolean(body.Attachable),
      IPAM: { Driver: 'default', Options: body.IPAM?.Options ?? {}, Config: [cfg] },
      Options: opts,
      Labels: body.Labels ?? {},
      bridge: device,
      endpoints: {},
    };
    this.store.save(rec);
    try {
      await this.ensureBridges([rec]);
      await this.listenDns(rec);
      await this.applyFirewall();
    } catch (err) {
      this.dns.close(formatIp(gw));
      this.store.delete(id);
      await ipBatchForce([`link del ${device}`]);
      await this.applyFirewall().catch(() => undefined);
      throw err;
    }
    this.o.events?.('create', id, { name, type: 'bridge' });
    return { Id: id, Warning: '' };
  }

  async delete(ref: string): Promise<void> {
    const n = this.get(ref);
    if (PREDEFINED.has(n.Name)) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    const eps = this.activeEndpoints(n);
    if (eps.length) {
      throw forbidden(`error while removing network: network ${n.Name} has active endpoints (${eps.map((e) => `name:"${this.o.containers.find(e.containerId)?.Name.slice(1) ?? e.name}" id:"${e.endpointId.slice(0, 12)}"`).join(', ')})`);
    }
    this.store.delete(n.Id);
    if (n.IPAM.Config[0]?.Gateway) this.dns.close(n.IPAM.Config[0].Gateway);
    const present = await linkNames();
    const gone = [...Object.values(n.endpoints).map((ep) => ep.hostIf), ...(n.bridge ? [n.bridge] : [])];
    if (n.bridge) this.bridgesUp.delete(n.bridge);
    await ipBatchForce(gone.filter((l) => present.has(l)).map((l) => `link del ${l}`));
    await this.applyFirewall();
    this.o.events?.('destroy', n.Id, { name: n.Name, type: n.Driver });
  }

  async prune(filters: Record<string, string[]>): Promise<{ NetworksDeleted: string[] }> {
    for (const k of Object.keys(filters)) if (!['label', 'label!', 'until'].includes(k)) throw invalidParameter(`invalid filter '${k}'`);
    const deleted: string[] = [];
    let until: number | undefined;
    try {
      until = filters.until?.[0] ? parseFilterTimestamp(filters.until[0]) : undefined;
    } catch (err) {
      throw invalidParameter((err as Error).message);
    }
    for (const n of this.store.all()) {
      if (PREDEFINED.has(n.Name) || this.inUse(n)) continue;
      if (filters.label?.length && !filters.label.every((l) => labelMatches(n.Labels, l))) continue;
      if (filters['label!']?.length && filters['label!'].some((l) => labelMatches(n.Labels, l))) continue;
      if (until !== undefined && Date.parse(n.Created) >= until) continue;
      await this.delete(n.Id);
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }

  async connect(ref: string, containerRef: string, cfg: EndpointSettingsIn = {}): Promise<void> {
    const n = this.get(ref);
    const c = this.o.containers.find(containerRef);
    if (!c) throw noSuchContainer(containerRef);
    const mode = primaryMode(c);
    if (n.Driver !== 'bridge') throw forbidden(`container cannot be disconnected from host network or connected to host network`);
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
      throw forbidden(`container sharing network namespace with another container or host cannot be connected to any other network`);
    }
    const eps = endpointsOf(c);
    this.memberships(c); // materialise the implicit primary entry
    if (eps[n.Name] || n.endpoints[c.Id]) throw forbidden(`endpoint with name ${c.Name.slice(1)} already exists in network ${n.Name}`);
    this.checkEndpointConfig(n, cfg);
    const settings: EndpointSettingsIn = {};
    if (cfg.Aliases?.length) settings.Aliases = cfg.Aliases;
    if (cfg.IPAMConfig?.IPv4Address) settings.IPAMConfig = { IPv4Address: cfg.IPAMConfig.IPv4Address };
    const running = c.State.Running && c.State.Pid > 0;
    if (running) {
      const used = new Set(Object.values(this.bridgeNetworks()).map((x) => x.endpoints[c.Id]?.ifname).filter(Boolean));
      let i = 0;
      while (used.has(`eth${i}`)) i++;
      const ep = this.allocate(n, c, settings, `eth${i}`);
      try {
        await this.ensureBridges([n]);
        const hasRoute = this.memberships(c).some((m) => m.net.Id !== n.Id && m.net.endpoints[c.Id] && !m.net.Internal);
        const lines = this.endpointLines(n, ep, c.State.Pid, !hasRoute && !n.Internal);
        await ipBatch(lines.host);
        eps[n.Name] = settings;
        const dns = this.dnsGateway(c);
        const hadDns = Object.keys(eps).some((k) => k !== n.Name && !this.store.find(k)?.isDefault);
        await this.configureNamespace(c.State.Pid, lines.ns, hadDns ? undefined : dns);
      } catch (err) {
        delete eps[n.Name];
        this.freeEndpoint(n, c.Id);
        await ipBatchForce([`link del ${ep.hostIf}`]);
        throw err;
      }
      await this.applyFirewall();
    } else {
      eps[n.Name] = settings;
    }
    delete (c as { NetworkingConfig?: { disconnected?: boolean } }).NetworkingConfig!.disconnected;
    this.o.containers.save(c);
    this.o.events?.('connect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  }

  async disconnect(ref: string, containerRef: string, force = false): Promise<void> {
    const n = this.get(ref);
    const c = this.o.containers.find(containerRef);
    if (!c) {
      if (force) {
        const ep = Object.values(n.endpoints).find((e) => e.containerId.startsWith(containerRef) || e.name === containerRef);
        if (ep) {
          this.freeEndpoint(n, ep.containerId);
          await ipBatchForce([`link del ${ep.hostIf}`]);
          await this.applyFirewall();
          return;
        }
      }
      throw noSuchContainer(containerRef);
    }
    const mode = primaryMode(c);
    if (n.Driver === 'host' && mode === 'host') throw forbidden('container cannot be disconnected from host network or connected to host network');
    const eps = endpointsOf(c);
    this.memberships(c);
    if (!eps[n.Name] && !n.endpoints[c.Id]) throw forbidden(`container ${c.Id} is not connected to network ${n.Name}`);
    delete eps[n.Name];
    if (Object.keys(eps).length === 0) (c as { NetworkingConfig?: { disconnected?: boolean } }).NetworkingConfig!.disconnected = true;
    const ep = this.freeEndpoint(n, c.Id);
    if (ep) {
      if (c.State.Running && c.State.Pid > 0) {
        await runInput('nsenter', ['-t', String(c.State.Pid), '-n', 'ip', 'link', 'del', ep.ifname]).catch(() => undefined);
        const dns = this.dnsGateway(c);
        if (dns) await this.configureNamespace(c.State.Pid, [], dns).catch(() => undefined);
      }
      const present = await linkNames();
      if (present.has(ep.hostIf)) await ipBatchForce([`link del ${ep.hostIf}`]);
      await this.applyFirewall();
    }
    this.o.containers.save(c);
    this.o.events?.('disconnect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  }
}
