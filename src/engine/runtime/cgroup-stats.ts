/**
 * Container resource usage read straight from cgroup files (v1 hierarchies or the v2 unified tree), /proc/stat
 * and the container's /proc/<pid>/net/dev, shaped as the Engine API's stats object. No child processes: a
 * sample is a dozen small reads.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Counters can exceed 2^53 (an unlimited cgroup's limit is 9223372036854771712): big ones stay bigint. */
export type U64 = number | bigint;

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: U64;
}

export interface CpuStats {
  cpu_usage: { total_usage: U64; percpu_usage?: U64[]; usage_in_kernelmode: U64; usage_in_usermode: U64 };
  system_cpu_usage?: U64;
  online_cpus?: number;
  throttling_data: { periods: U64; throttled_periods: U64; throttled_time: U64 };
}

export interface NetworkStats {
  rx_bytes: U64;
  rx_packets: U64;
  rx_errors: U64;
  rx_dropped: U64;
  tx_bytes: U64;
  tx_packets: U64;
  tx_errors: U64;
  tx_dropped: U64;
}

export interface StatsBody {
  read: string;
  preread: string;
  pids_stats: { current?: U64; limit?: U64 };
  blkio_stats: Record<(typeof BLKIO_FIELDS)[number], BlkioEntry[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: U64; max_usage?: U64; stats?: Record<string, U64>; failcnt?: U64; limit?: U64 };
  name: string;
  id: string;
  networks?: Record<string, NetworkStats>;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const BLKIO_FIELDS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
] as const;

/** memory.stat keys moby reports on cgroup v1 (containerd's v1 metrics). */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit',
  'hierarchical_memsw_limit', 'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty',
  'total_writeback', 'total_pgpgin', 'total_pgpgout', 'total_pgfault', 'total_pgmajfault', 'total_inactive_anon',
  'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
];

/** memory.stat keys moby reports on cgroup v2. */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable',
  'slab_unreclaimable', 'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate',
  'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree',
  'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

const CLOCK_TICKS = 100; // USER_HZ, constant on Linux
const NS_PER_TICK = 1_000_000_000 / CLOCK_TICKS;

export function parseU64(s: string | undefined): U64 {
  const t = (s ?? '').trim();
  if (!/^[0-9]+$/.test(t)) return 0;
  return t.length <= 15 ? Number(t) : BigInt(t);
}

function toBig(v: U64): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

function small(v: bigint): U64 {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events). */
export function parseKeyValues(text: string | undefined): Map<string, U64> {
  const out = new Map<string, U64>();
  for (const line of (text ?? '').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(line.slice(0, sp), parseU64(line.slice(sp + 1)));
  }
  return out;
}

/** blkio.*_recursive files: "8:0 Read 4096" lines; the "Total" line has no device and is skipped. */
export function parseBlkio(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const dev = /^([0-9]+):([0-9]+)$/.exec(f[0]!);
    if (!dev) continue;
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: f[1]!, value: parseU64(f[2]) });
  }
  return out;
}

/** cgroup v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 …" → read/write byte entries as moby reports them. */
export function parseIoStat(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^([0-9]+):([0-9]+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const kv = new Map(f.slice(1).map((p) => p.split('=', 2) as [string, string]));
    const major = Number(dev[1]);
    const minor = Number(dev[2]);
    out.push({ major, minor, op: 'read', value: parseU64(kv.get('rbytes')) });
    out.push({ major, minor, op: 'write', value: parseU64(kv.get('wbytes')) });
  }
  return out;
}

/** /proc/stat: total CPU time of the host in ns, and the number of online CPUs (moby's getSystemCPUUsage). */
export function parseProcStat(text: string | undefined): { systemUsage: U64; onlineCpus: number } {
  let ticks = 0n;
  let cpus = 0;
  for (const line of (text ?? '').split('\n')) {
    if (!line.startsWith('cpu')) break;
    if (line[3] === ' ') {
      for (const v of line.trim().split(/\s+/).slice(1, 8)) ticks += BigInt(/^[0-9]+$/.test(v) ? v : '0');
    } else if (line[3]! >= '0' && line[3]! <= '9') cpus++;
  }
  return { systemUsage: small(ticks * BigInt(NS_PER_TICK)), onlineCpus: cpus };
}

/** /proc/<pid>/net/dev of the container's network namespace, without lo; undefined when there is nothing else. */
export function parseNetDev(text: string | undefined): Record<string, NetworkStats> | undefined {
  const out: Record<string, NetworkStats> = {};
  let any = false;
  for (const line of (text ?? '').split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo' || name === '') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map((v) => parseU64(v));
    if (f.length < 16) continue;
    out[name] = {
      rx_bytes: f[0]!,
      rx_packets: f[1]!,
      rx_errors: f[2]!,
      rx_dropped: f[3]!,
      tx_bytes: f[8]!,
      tx_packets: f[9]!,
      tx_errors: f[10]!,
      tx_dropped: f[11]!,
    };
    any = true;
  }
  return any ? out : undefined;
}

export function emptyCpuStats(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** What moby answers for a container that is not running: only name and id, zero times, null lists. */
export function emptyStats(id: string, name: string): StatsBody {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: Object.fromEntries(BLKIO_FIELDS.map((f) => [f, null])) as StatsBody['blkio_stats'],
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpuStats(),
    precpu_stats: emptyCpuStats(),
    memory_stats: {},
    name,
    id,
  };
}

/** Serialises a stats object, writing bigint counters as exact JSON numbers. */
export function statsToJson(body: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(body, (_k, v: unknown) => {
    if (typeof v === 'bigint') {
      marks.push(v.toString());
      return `\u0001${marks.length - 1}\u0001`;
    }
    return v;
  });
  return marks.length === 0 ? text : text.replace(/"\\u0001([0-9]+)\\u0001"/g, (_m, i: string) => marks[Number(i)]!);
}

/** RFC 3339 with nanoseconds and Go's trimming of trailing zeros. */
export class NanoClock {
  private readonly baseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  nowNs(): bigint {
    return this.baseNs + process.hrtime.bigint();
  }

  static format(ns: bigint): string {
    const ms = Number(ns / 1_000_000n);
    const iso = new Date(ms).toISOString().slice(0, 19);
    const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
    return `${iso}${frac ? '.' + frac : ''}Z`;
  }
}

export interface CgroupLayout {
  version: 1 | 2;
  /** v1: controller name → mount dir (cpu and cpuacct may be one "cpu,cpuacct" hierarchy). */
  controllers: Map<string, string>;
  root: string;
}

export function detectCgroups(root = '/sys/fs/cgroup'): CgroupLayout {
  if (fs.existsSync(path.join(root, 'cgroup.controllers'))) return { version: 2, controllers: new Map(), root };
  const controllers = new Map<string, string>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(root);
  } catch {
    /* no cgroupfs */
  }
  for (const e of entries) for (const c of e.split(',')) if (!controllers.has(c)) controllers.set(c, path.join(root, e));
  return { version: 1, controllers, root };
}

/** Reads one sample for the container in cgroup `rel` (the runtime's cgroupsPath) whose init is `pid`. */
export class CgroupStatsReader {
  private hasCfq?: boolean;

  constructor(
    readonly layout: CgroupLayout = detectCgroups(),
    private readonly machineMemory: number = os.totalmem(),
    private readonly procRoot = '/proc',
  ) {}

  private v1(ctrl: string, rel: string, file: string): string | undefined {
    const dir = this.layout.controllers.get(ctrl);
    return dir ? readText(path.join(dir, rel, file)) : undefined;
  }

  private v2(rel: string, file: string): string | undefined {
    return readText(path.join(this.layout.root, rel, file));
  }

  private capLimit(limit: U64): U64 {
    return this.machineMemory > 0 && toBig(limit) > BigInt(this.machineMemory) ? this.machineMemory : limit;
  }

  /** The pids in the container's cgroup (and its sub-cgroups), for top. */
  pids(rel: string): number[] {
    const base = this.layout.version === 2 ? path.join(this.layout.root, rel) : path.join(this.layout.controllers.get('pids') ?? this.layout.controllers.get('memory') ?? '', rel);
    const out: number[] = [];
    const walk = (dir: string) => {
      for (const line of (readText(path.join(dir, 'cgroup.procs')) ?? '').split('\n')) if (/^[0-9]+$/.test(line)) out.push(Number(line));
      let subs: fs.Dirent[] = [];
      try {
        subs = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const s of subs) if (s.isDirectory()) walk(path.join(dir, s.name));
    };
    walk(base);
    return [...new Set(out)].sort((a, b) => a - b);
  }

  sample(opts: { id: string; name: string; rel: string; pid: number; readNs: bigint; withNetwork: boolean }): StatsBody {
    const body = emptyStats(opts.id, opts.name);
    body.read = NanoClock.format(opts.readNs);
    if (this.layout.version === 2) this.fillV2(body, opts.rel);
    else this.fillV1(body, opts.rel);
    const sys = parseProcStat(readText(path.join(this.procRoot, 'stat')));
    const { cpu_usage, throttling_data } = body.cpu_stats;
    body.cpu_stats = { cpu_usage, system_cpu_usage: sys.systemUsage, online_cpus: sys.onlineCpus, throttling_data };
    if (opts.withNetwork && opts.pid > 0) {
      const nets = parseNetDev(readText(path.join(this.procRoot, String(opts.pid), 'net/dev')));
      if (nets) body.networks = nets;
    }
    return body;
  }

  private fillV1(body: StatsBody, rel: string): void {
    // pids
    const current = this.v1('pids', rel, 'pids.current');
    if (current !== undefined) {
      const cur = parseU64(current);
      const max = parseU64(this.v1('pids', rel, 'pids.max'));
      body.pids_stats = {};
      if (cur !== 0) body.pids_stats.current = cur;
      if (max !== 0) body.pids_stats.limit = max;
    }
    // block I/O: the CFQ files where the kernel has them (looked up once), else the throttle files
    this.hasCfq ??= fs.existsSync(path.join(this.layout.controllers.get('blkio') ?? '/nonexistent', 'blkio.io_service_bytes_recursive'));
    const cfq = this.hasCfq ? parseBlkio(this.v1('blkio', rel, 'blkio.io_service_bytes_recursive')) : [];
    for (const f of BLKIO_FIELDS) body.blkio_stats[f] = [];
    if (cfq.length > 0) {
      const files: Record<(typeof BLKIO_FIELDS)[number], string> = {
        io_service_bytes_recursive: 'blkio.io_service_bytes_recursive',
        io_serviced_recursive: 'blkio.io_serviced_recursive',
        io_queue_recursive: 'blkio.io_queued_recursive',
        io_service_time_recursive: 'blkio.io_service_time_recursive',
        io_wait_time_recursive: 'blkio.io_wait_time_recursive',
        io_merged_recursive: 'blkio.io_merged_recursive',
        io_time_recursive: 'blkio.time_recursive',
        sectors_recursive: 'blkio.sectors_recursive',
      };
      for (const f of BLKIO_FIELDS) body.blkio_stats[f] = parseBlkio(this.v1('blkio', rel, files[f]));
    } else {
      body.blkio_stats.io_service_bytes_recursive = parseBlkio(this.v1('blkio', rel, 'blkio.throttle.io_service_bytes_recursive'));
      body.blkio_stats.io_serviced_recursive = parseBlkio(this.v1('blkio', rel, 'blkio.throttle.io_serviced_recursive'));
    }
    // CPU
    const total = parseU64(this.v1('cpuacct', rel, 'cpuacct.usage'));
    const percpu = (this.v1('cpuacct', rel, 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map((v) => parseU64(v));
    const acct = parseKeyValues(this.v1('cpuacct', rel, 'cpuacct.stat'));
    const thr = parseKeyValues(this.v1('cpu', rel, 'cpu.stat'));
    body.cpu_stats.cpu_usage = {
      total_usage: total,
      ...(percpu.length ? { percpu_usage: percpu } : {}),
      usage_in_kernelmode: small(toBig(acct.get('system') ?? 0) * BigInt(NS_PER_TICK)),
      usage_in_usermode: small(toBig(acct.get('user') ?? 0) * BigInt(NS_PER_TICK)),
    };
    body.cpu_stats.throttling_data = {
      periods: thr.get('nr_periods') ?? 0,
      throttled_periods: thr.get('nr_throttled') ?? 0,
      throttled_time: thr.get('throttled_time') ?? 0,
    };
    // memory
    const memStat = this.v1('memory', rel, 'memory.stat');
    if (memStat !== undefined) {
      const kv = parseKeyValues(memStat);
      const stats: Record<string, U64> = {};
      for (const k of [...V1_MEMORY_KEYS].sort()) stats[k] = kv.get(k) ?? 0;
      const m: StatsBody['memory_stats'] = {};
      const usage = parseU64(this.v1('memory', rel, 'memory.usage_in_bytes'));
      const maxUsage = parseU64(this.v1('memory', rel, 'memory.max_usage_in_bytes'));
      const failcnt = parseU64(this.v1('memory', rel, 'memory.failcnt'));
      const limit = this.capLimit(parseU64(this.v1('memory', rel, 'memory.limit_in_bytes')));
      if (usage !== 0) m.usage = usage;
      if (maxUsage !== 0) m.max_usage = maxUsage;
      m.stats = stats;
      if (failcnt !== 0) m.failcnt = failcnt;
      if (limit !== 0) m.limit = limit;
      body.memory_stats = m;
    }
  }

  private fillV2(body: StatsBody, rel: string): void {
    const current = this.v2(rel, 'pids.current');
    if (current !== undefined) {
      const cur = parseU64(current);
      const max = parseU64(this.v2(rel, 'pids.max'));
      body.pids_stats = {};
      if (cur !== 0) body.pids_stats.current = cur;
      if (max !== 0) body.pids_stats.limit = max;
    }
    const io = parseIoStat(this.v2(rel, 'io.stat'));
    body.blkio_stats.io_service_bytes_recursive = io.length ? io : null;
    const cpu = parseKeyValues(this.v2(rel, 'cpu.stat'));
    const us = (k: string) => small(toBig(cpu.get(k) ?? 0) * 1000n);
    body.cpu_stats.cpu_usage = { total_usage: us('usage_usec'), usage_in_kernelmode: us('system_usec'), usage_in_usermode: us('user_usec') };
    body.cpu_stats.throttling_data = {
      periods: cpu.get('nr_periods') ?? 0,
      throttled_periods: cpu.get('nr_throttled') ?? 0,
      throttled_time: us('throttled_usec'),
    };
    const memStat = this.v2(rel, 'memory.stat');
    if (memStat !== undefined) {
      const kv = parseKeyValues(memStat);
      const stats: Record<string, U64> = {};
      for (const k of [...V2_MEMORY_KEYS].sort()) stats[k] = kv.get(k) ?? 0;
      const m: StatsBody['memory_stats'] = {};
      const usage = parseU64(this.v2(rel, 'memory.current'));
      const maxText = (this.v2(rel, 'memory.max') ?? '').trim();
      const limit = this.capLimit(maxText === 'max' ? this.machineMemory : parseU64(maxText));
      const oom = parseKeyValues(this.v2(rel, 'memory.events')).get('oom') ?? 0;
      if (usage !== 0) m.usage = usage;
      m.stats = stats;
      if (oom !== 0) m.failcnt = oom;
      if (limit !== 0) m.limit = limit;
      body.memory_stats = m;
    }
  }
}
