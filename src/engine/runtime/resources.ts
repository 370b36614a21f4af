import * as fs from 'node:fs';
import * as os from 'node:os';
import { EngineError, invalidParameter } from '../../util/errors';
import { devMajor, devMinor } from './devices';

/** The resource fields of HostConfig that Berth applies (names as the Engine API has them). */
export interface ResourceConfig {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  OomKillDisable?: boolean | null;
  BlkioWeight?: number;
  BlkioWeightDevice?: Array<{ Path: string; Weight: number }> | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  CpuPercent?: number;
  IOMaximumBandwidth?: number;
  IOMaximumIOps?: number;
}

export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

const MIN_MEMORY = 6 * 1024 * 1024;

let swapLimit: boolean | undefined;
/** Whether memory+swap can be limited (v1 memsw accounting, or v2's memory.swap.max). */
export function hostHasSwapLimit(): boolean {
  if (swapLimit === undefined) {
    swapLimit = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') || fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  }
  return swapLimit;
}

let blkioWeight: boolean | undefined;
/** Whether the block I/O controller has proportional weights (not here: bfq and throttle only). */
function hostHasBlkioWeight(): boolean {
  if (blkioWeight === undefined) blkioWeight = fs.existsSync('/sys/fs/cgroup/blkio/blkio.weight') || fs.existsSync('/sys/fs/cgroup/io.weight') || fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  return blkioWeight;
}
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

let hostCpus: string | undefined;
let hostMems: string | undefined;

function readFirst(paths: string[]): string | undefined {
  for (const p of paths) {
    try {
      const v = fs.readFileSync(p, 'utf8').trim();
      if (v) return v;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** CPUs and memory nodes containers may use (the cpuset root), read once. */
export function hostCpuset(): { cpus: string; mems: string } {
  if (hostCpus === undefined) {
    hostCpus = readFirst(['/sys/fs/cgroup/cpuset/cpuset.effective_cpus', '/sys/fs/cgroup/cpuset/cpuset.cpus', '/sys/fs/cgroup/cpuset.cpus.effective']) ?? `0-${os.cpus().length - 1}`;
    hostMems = readFirst(['/sys/fs/cgroup/cpuset/cpuset.effective_mems', '/sys/fs/cgroup/cpuset/cpuset.mems', '/sys/fs/cgroup/cpuset.mems.effective']) ?? '0';
  }
  return { cpus: hostCpus, mems: hostMems! };
}

/** Parses a cpuset list (`0-2,4`) into numbers; undefined when the text is not a list. */
export function parseCpuset(text: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 8192) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

function checkCpuset(requested: string, available: string, what: 'cpus' | 'mems'): void {
  if (!requested) return;
  const req = parseCpuset(requested);
  if (!req) throw invalidParameter(`Invalid value ${requested} for cpuset ${what}: invalid format: ${requested}`);
  const avail = parseCpuset(available) ?? new Set<number>();
  for (const n of req) {
    if (!avail.has(n)) {
      const label = what === 'cpus' ? 'CPUs' : 'memory nodes';
      throw invalidParameter(`Requested ${label} are not available - requested ${requested}, available: ${available}`);
    }
  }
}

/**
 * Validates resources at create (and update) with moby's texts, and fills in what moby stores:
 * MemorySwap defaults to twice Memory (so memory.swap is always set with memory), OomKillDisable false.
 * Returns moby's warnings.
 */
export function validateResources(r: ResourceConfig, update = false): string[] {
  const warnings: string[] = [];
  const memory = num(r.Memory);
  const swap = num(r.MemorySwap);
  const reservation = num(r.MemoryReservation);
  if (memory !== 0 && memory < MIN_MEMORY) throw invalidParameter('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap !== -1 && !hostHasSwapLimit()) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    r.MemorySwap = -1;
  }
  if (memory > 0 && swap > 0 && swap < memory) throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && !update) throw invalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  if (v2 && r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness !== -1) {
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    r.MemorySwappiness = null;
  }
  if (v2 && r.OomKillDisable) {
    warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    r.OomKillDisable = false;
  }
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness !== -1) {
    const s = r.MemorySwappiness;
    if (s < 0 || s > 100) throw invalidParameter(`Invalid value: ${s}, valid memory swappiness range is 0-100`);
  }
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalidParameter('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw invalidParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.OomKillDisable && memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  const nano = num(r.NanoCpus);
  const period = num(r.CpuPeriod);
  const quota = num(r.CpuQuota);
  if (nano > 0 && period > 0) throw invalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw invalidParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano !== 0) {
    const nc = os.cpus().length;
    if (nano < 0 || nano > nc * 1e9) throw invalidParameter(`range of CPUs is from 0.01 to ${nc}.00, as there are only ${nc} CPUs available`);
  }
  if (num(r.CpuShares) < 0) throw invalidParameter(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw invalidParameter('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (quota > 0 && quota < 1000) throw invalidParameter('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (num(r.CpuPercent) > 0) warnings.push('linux does not support CPU percent. Percent discarded.');
  // A real-time budget needs one given to the daemon's cgroup parent first, which Berth does not set up:
  // refuse clearly instead of letting the runtime fail with EINVAL at start.
  const rt = r as { CpuRealtimePeriod?: number; CpuRealtimeRuntime?: number };
  if (num(rt.CpuRealtimePeriod) !== 0 || num(rt.CpuRealtimeRuntime) !== 0) {
    throw invalidParameter('CPU real-time scheduling (--cpu-rt-period/--cpu-rt-runtime) is not supported by this engine');
  }
  const host = hostCpuset();
  checkCpuset(r.CpusetCpus ?? '', host.cpus, 'cpus');
  checkCpuset(r.CpusetMems ?? '', host.mems, 'mems');
  const weight = num(r.BlkioWeight);
  if (weight > 0 && !hostHasBlkioWeight()) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  } else if (weight > 0 && (weight < 10 || weight > 1000)) throw invalidParameter('Range of blkio weight is from 10 to 1000');
  if (r.BlkioWeightDevice?.length && !hostHasBlkioWeight()) {
    warnings.push('Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
    r.BlkioWeightDevice = [];
  }
  if (num(r.IOMaximumBandwidth) !== 0 || num(r.IOMaximumIOps) !== 0) {
    throw invalidParameter('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  }
  return warnings;
}

/** The stored form of the resource fields (moby's adaptContainerSettings). */
export function normalizeResources<T extends ResourceConfig>(r: T): T {
  const out: T = { ...r };
  if (num(out.Memory) > 0 && num(out.MemorySwap) === 0) out.MemorySwap = num(out.Memory) * 2;
  if (out.OomKillDisable === undefined || out.OomKillDisable === null) out.OomKillDisable = false;
  // "unset" as moby stores it: -1 swappiness and a non-positive pids limit become null.
  if (out.MemorySwappiness === -1 || out.MemorySwappiness === undefined) out.MemorySwappiness = null;
  if (out.PidsLimit === undefined || (out.PidsLimit !== null && out.PidsLimit <= 0)) out.PidsLimit = null;
  return out;
}

/**
 * linux.resources (memory, cpu, pids) for the spec. Block I/O weight is left out: the kernel here has no
 * blkio.weight (bfq/throttle only) and some runtimes fail on it.
 */
export function specResources(r: ResourceConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const memory: Record<string, unknown> = {};
  const m = num(r.Memory);
  if (m > 0) {
    memory.limit = m;
    // memory.swap always comes with memory: memsw must never be left below a new limit.
    const swap = num(r.MemorySwap);
    if (hostHasSwapLimit()) memory.swap = swap === 0 ? m * 2 : swap < 0 ? -1 : swap;
  }
  if (num(r.MemoryReservation) > 0) memory.reservation = num(r.MemoryReservation);
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness >= 0) memory.swappiness = r.MemorySwappiness;
  if (r.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) out.memory = memory;

  const cpu: Record<string, unknown> = {};
  if (num(r.CpuShares) > 0) cpu.shares = num(r.CpuShares);
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (num(r.NanoCpus) > 0) {
    cpu.period = 100000;
    cpu.quota = Math.floor((num(r.NanoCpus) * 100000) / 1e9);
  }
  if (num(r.CpuPeriod) !== 0) cpu.period = num(r.CpuPeriod);
  if (num(r.CpuQuota) !== 0) cpu.quota = num(r.CpuQuota);
  if (Object.keys(cpu).length) out.cpu = cpu;

  if (r.PidsLimit !== undefined && r.PidsLimit !== null) out.pids = { limit: r.PidsLimit <= 0 ? -1 : r.PidsLimit };

  // Block I/O throttles (the weight is never set: see above).
  const throttle = (list: ThrottleDevice[] | null | undefined) =>
    (list ?? []).map((t) => {
      let st: fs.Stats;
      try {
        st = fs.statSync(t.Path);
      } catch (err) {
        throw new EngineError(400, `stat ${t.Path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
      }
      return { major: devMajor(st.rdev), minor: devMinor(st.rdev), rate: t.Rate };
    });
  const blockIO: Record<string, unknown> = {};
  const io: Array<[string, ThrottleDevice[] | null | undefined]> = [
    ['throttleReadBpsDevice', r.BlkioDeviceReadBps],
    ['throttleWriteBpsDevice', r.BlkioDeviceWriteBps],
    ['throttleReadIOPSDevice', r.BlkioDeviceReadIOps],
    ['throttleWriteIOPSDevice', r.BlkioDeviceWriteIOps],
  ];
  for (const [key, list] of io) if (list?.length) blockIO[key] = throttle(list);
  if (Object.keys(blockIO).length) out.blockIO = blockIO;
  return out;
}
