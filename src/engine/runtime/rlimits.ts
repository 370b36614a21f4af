import * as fs from 'node:fs';
import { invalidParameter } from '../../util/errors';

/** Docker's --ulimit names and the rows of /proc/<pid>/limits that hold their current values. */
const ULIMIT_ROWS: Record<string, string> = {
  core: 'Max core file size',
  cpu: 'Max cpu time',
  data: 'Max data size',
  fsize: 'Max file size',
  locks: 'Max file locks',
  memlock: 'Max locked memory',
  msgqueue: 'Max msgqueue size',
  nice: 'Max nice priority',
  nofile: 'Max open files',
  nproc: 'Max processes',
  rss: 'Max resident set',
  rtprio: 'Max realtime priority',
  rttime: 'Max realtime timeout',
  sigpending: 'Max pending signals',
  stack: 'Max stack size',
};

/** A JSON placeholder for RLIM_INFINITY (2^64-1, which a JS number cannot hold); see `specJson`. */
export const RLIM_INFINITY = '__BERTH_RLIM_INFINITY__';

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** Hard limits of the daemon (inherited by every container), `Infinity` for unlimited; read once. */
let hostHard: Map<string, number> | undefined;
let canRaise: boolean | undefined;

export function hostHardLimits(): Map<string, number> {
  if (!hostHard) {
    hostHard = new Map();
    let text = '';
    try {
      text = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      /* no procfs: no clamping */
    }
    for (const [name, row] of Object.entries(ULIMIT_ROWS)) {
      const line = text.split('\n').find((l) => l.startsWith(row));
      if (!line) continue;
      const fields = line.slice(row.length).trim().split(/\s+/);
      const hard = fields[1];
      hostHard.set(name, hard === undefined || hard === 'unlimited' ? Infinity : Number(hard));
    }
  }
  return hostHard;
}

/** Whether the daemon may raise hard limits (CAP_SYS_RESOURCE in its effective set). */
function daemonCanRaise(): boolean {
  if (canRaise === undefined) {
    try {
      const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      canRaise = m ? ((BigInt(`0x${m[1]}`) >> 24n) & 1n) === 1n : false;
    } catch {
      canRaise = false;
    }
  }
  return canRaise;
}

/** For tests: pretend the host's hard limits are these. */
export function setHostLimitsForTest(limits: Map<string, number> | undefined, raise = false): void {
  hostHard = limits;
  canRaise = limits ? raise : undefined;
}

const show = (v: number) => (v < 0 || v === Infinity ? 'unlimited' : String(v));

/**
 * Checks HostConfig.Ulimits at create: Docker's texts for unknown names and soft > hard, and a clear
 * refusal for limits above what this host lets the engine set (a runtime would fail the start instead).
 */
export function validateUlimits(list: unknown): Ulimit[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.Ulimits of type []*units.Ulimit');
  const out: Ulimit[] = [];
  for (const u of list as Array<Partial<Ulimit>>) {
    const name = String(u?.Name ?? '');
    if (!(name in ULIMIT_ROWS)) throw invalidParameter(`invalid ulimit type: ${name}`);
    const soft = Number(u.Soft ?? 0);
    const hard = Number(u.Hard ?? 0);
    if (!Number.isInteger(soft) || !Number.isInteger(hard)) throw invalidParameter(`invalid ulimit value for ${name}`);
    const s = soft < 0 ? Infinity : soft;
    const h = hard < 0 ? Infinity : hard;
    if (s > h) throw invalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${show(soft)} > ${show(hard)}`);
    const limit = hostHardLimits().get(name);
    if (limit !== undefined && h > limit && !daemonCanRaise()) {
      throw invalidParameter(
        `invalid ulimit ${name}=${show(soft)}:${show(hard)}: the hard limit is above this host's hard limit for ${name} (${show(limit)}), which the engine cannot raise`,
      );
    }
    out.push({ Name: name, Soft: soft, Hard: hard });
  }
  return out;
}

/** process.rlimits for the spec: only what the user asked for (Docker's bundles carry none by default). */
export function specRlimits(list: Ulimit[] | undefined | null): Array<{ type: string; soft: number | string; hard: number | string }> {
  const v = (n: number) => (n < 0 ? RLIM_INFINITY : n);
  return (list ?? []).map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: v(u.Soft), hard: v(u.Hard) }));
}
