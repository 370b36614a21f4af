/** Container life cycle: pause, unpause, rename, update and container prune. */
import type { Filters } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagDef, FlagValues, goQuote } from '../flags';
import { humanSize } from '../format/units';
import { toFilters, validateFilter } from '../opts';
import { ramInBytes, validateBytes } from './container-flags';
import { eachInParallel } from './containers';
import { errorMessage } from '../../util/errors';

export const pauseCommand: CommandSpec = {
  name: 'pause',
  use: 'pause CONTAINER [CONTAINER...]',
  short: 'Pause all processes within one or more containers',
  aliasPaths: ['container pause', 'pause'],
  args: { kind: 'min', n: 1 },
  run: (cli, _flags, args) => eachInParallel(cli, args, (name) => cli.client.containerPause(name)),
};

export const unpauseCommand: CommandSpec = {
  name: 'unpause',
  use: 'unpause CONTAINER [CONTAINER...]',
  short: 'Unpause all processes within one or more containers',
  aliasPaths: ['container unpause', 'unpause'],
  args: { kind: 'min', n: 1 },
  run: (cli, _flags, args) => eachInParallel(cli, args, (name) => cli.client.containerUnpause(name)),
};

async function runRename(cli: Cli, _flags: FlagValues, args: string[]): Promise<number> {
  const oldName = args[0].trim();
  const newName = args[1].trim();
  if (oldName === '' || newName === '') throw new StatusError('Error: Neither old nor new names may be empty', 1);
  try {
    await cli.client.containerRename(oldName, newName);
  } catch (err) {
    cli.err(`${errorMessage(err)}\n`);
    throw new StatusError(`Error: failed to rename container named ${oldName}`, 1);
  }
  return 0;
}

export const renameCommand: CommandSpec = {
  name: 'rename',
  use: 'rename CONTAINER NEW_NAME',
  short: 'Rename a container',
  aliasPaths: ['container rename', 'rename'],
  args: { kind: 'exact', n: 2 },
  run: runRename,
};

// --- update ------------------------------------------------------------------------------------

/** opts.ParseCPUs: a rational number of CPUs → nano CPUs (must be a whole number of them). */
export function parseCPUs(value: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value);
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(value);
  let num: bigint;
  let den: bigint;
  if (frac) {
    num = BigInt(frac[1]);
    den = BigInt(frac[2]);
    if (den === 0n) throw new Error(`failed to parse ${value} as a rational number`);
  } else if (m && (m[2] !== '' || (m[3] ?? '') !== '')) {
    const digits = m[2] + (m[3] ?? '');
    num = BigInt(digits === '' ? '0' : digits);
    den = 10n ** BigInt((m[3] ?? '').length);
    const exp = Number(m[4] ?? '0');
    if (exp > 0) num *= 10n ** BigInt(exp);
    else if (exp < 0) den *= 10n ** BigInt(-exp);
    if (m[1] === '-') num = -num;
  } else {
    throw new Error(`failed to parse ${value} as a rational number`);
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

function validateCPUs(v: string): string {
  parseCPUs(v);
  return v;
}

function validateUint16(v: string): string {
  const n = Number(v.replace(/_/g, ''));
  if (/^[0-9]/.test(v) && Number.isFinite(n) && n > 65535) {
    throw new Error(`strconv.ParseUint: parsing ${goQuote(v)}: value out of range`);
  }
  return v;
}

/** units.RAMInBytes, which also refuses negative sizes. */
function validateSize(v: string): string {
  validateBytes(v);
  if (ramInBytes(v) < 0 || /^\s*-/.test(v)) throw new Error(`invalid size: '${v}'`);
  return v;
}

function validateMemSwap(v: string): string {
  if (v === '-1') return v;
  return validateSize(v);
}

/** opts.ParseRestartPolicy (the CLI leaves the policy name to the daemon to check). */
export function parseUpdateRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const name = colon >= 0 ? policy.slice(0, colon) : policy;
  const count = colon >= 0 ? policy.slice(colon + 1) : '';
  if (colon >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count) || !Number.isSafeInteger(Number(count))) {
      throw new Error('invalid restart policy format: maximum retry count must be an integer');
    }
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

const UPDATE_FLAGS: FlagDef[] = [
  {
    name: 'blkio-weight',
    type: 'uint',
    varName: 'uint16',
    usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)',
    validate: validateUint16,
  },
  { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', type: 'int', usage: 'Limit the CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
  { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
  { name: 'memory', short: 'm', type: 'string', varName: 'bytes', usage: 'Memory limit', validate: validateSize },
  { name: 'memory-reservation', type: 'string', varName: 'bytes', usage: 'Memory soft limit', validate: validateSize },
  {
    name: 'memory-swap',
    type: 'string',
    varName: 'bytes',
    usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap',
    validate: validateMemSwap,
  },
  { name: 'kernel-memory', type: 'string', varName: 'bytes', usage: 'Kernel memory limit (deprecated)', validate: validateSize, hidden: true },
  { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits' },
  { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'cpus', type: 'string', varName: 'decimal', usage: 'Number of CPUs', validate: validateCPUs },
];

const bytes = (flags: FlagValues, name: string): number => {
  const v = flags.string(name);
  if (v === '') return 0;
  if (v === '-1') return -1;
  return ramInBytes(v);
};

/** The UpdateConfig body (container.Resources + RestartPolicy) as the Go client encodes it. */
export function buildUpdateConfig(flags: FlagValues): Record<string, unknown> {
  let restartPolicy = { Name: '', MaximumRetryCount: 0 };
  if (flags.string('restart') !== '') {
    try {
      restartPolicy = parseUpdateRestartPolicy(flags.string('restart'));
    } catch (err) {
      throw new StatusError(errorMessage(err), 1);
    }
  }
  const cpus = flags.string('cpus');
  return {
    CpuShares: flags.int('cpu-shares'),
    Memory: bytes(flags, 'memory'),
    NanoCpus: cpus === '' ? 0 : parseCPUs(cpus),
    CgroupParent: '',
    BlkioWeight: flags.int('blkio-weight'),
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: flags.int('cpu-period'),
    CpuQuota: flags.int('cpu-quota'),
    CpuRealtimePeriod: flags.int('cpu-rt-period'),
    CpuRealtimeRuntime: flags.int('cpu-rt-runtime'),
    CpusetCpus: flags.string('cpuset-cpus'),
    CpusetMems: flags.string('cpuset-mems'),
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    KernelMemory: bytes(flags, 'kernel-memory'),
    KernelMemoryTCP: 0,
    MemoryReservation: bytes(flags, 'memory-reservation'),
    MemorySwap: bytes(flags, 'memory-swap'),
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: flags.int('pids-limit') !== 0 ? flags.int('pids-limit') : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: restartPolicy,
  };
}

async function runUpdate(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  if (flags.changed.size === 0) throw new StatusError('you must provide one or more flags when using this command', 1);
  const config = buildUpdateConfig(flags);
  const warns: string[] = [];
  const errs: string[] = [];
  for (const name of args) {
    try {
      const r = await cli.client.containerUpdate(name, config);
      cli.out(`${name}\n`);
      warns.push(...(r.Warnings ?? []));
    } catch (err) {
      errs.push(errorMessage(err));
    }
  }
  if (warns.length > 0) cli.out(`${warns.join('\n')}\n`);
  if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
  return 0;
}

export const updateCommand: CommandSpec = {
  name: 'update',
  use: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Update configuration of one or more containers',
  aliasPaths: ['container update', 'update'],
  args: { kind: 'min', n: 1 },
  flags: UPDATE_FLAGS,
  run: runUpdate,
};

// --- prune (shared with image prune) ------------------------------------------------------------

/** The --filter flag of the prune commands. */
export const PRUNE_FILTER_FLAG: FlagDef = {
  name: 'filter',
  type: 'list',
  varName: 'filter',
  usage: 'Provide filter values (e.g. "until=<timestamp>")',
  validate: validateFilter,
};

/** command.PruneFilters: adds the config file's pruneFilters (label/label! conflicts skipped). */
export function pruneFilters(cli: Cli, filters: Filters): Filters {
  const extra = (cli.config as { pruneFilters?: unknown }).pruneFilters;
  if (!Array.isArray(extra)) return filters;
  for (const f of extra) {
    if (typeof f !== 'string') continue;
    const eq = f.indexOf('=');
    if (eq < 0) continue;
    const k = f.slice(0, eq);
    const v = f.slice(eq + 1);
    if (k === 'label' && filters['label!']?.[v]) continue;
    if (k === 'label!' && filters.label?.[v]) continue;
    (filters[k] ??= {})[v] = true;
  }
  return filters;
}

/** Reads one line from stdin (bufio.Scanner semantics: a final unterminated line counts). */
export function readLine(stdin: Cli['io']['stdin']): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const finish = (line: string | undefined) => {
      if (done) return;
      done = true;
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onEnd);
      stdin.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl).replace(/\r$/, ''));
    };
    const onEnd = () => finish(buf === '' ? undefined : buf);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
    stdin.resume();
  });
}

/**
 * prompt.Confirm: prints the message and " [y/N] " and reads an answer. SIGINT or SIGTERM while
 * waiting ends the prompt with a newline and counts as "no" (docker then exits 0, silently).
 */
export async function confirm(cli: Cli, message: string, proc: NodeJS.Process = process): Promise<boolean> {
  cli.out(`${message} [y/N] `);
  let onSignal: (() => void) | undefined;
  const terminated = new Promise<undefined>((resolve) => {
    onSignal = () => {
      cli.out('\n');
      resolve(undefined);
    };
    proc.once('SIGINT', onSignal);
    proc.once('SIGTERM', onSignal);
  });
  try {
    const answer = await Promise.race([readLine(cli.io.stdin), terminated]);
    return answer !== undefined && answer.trim().toLowerCase() === 'y';
  } finally {
    if (onSignal) {
      proc.off('SIGINT', onSignal);
      proc.off('SIGTERM', onSignal);
    }
  }
}

/** What a prune reports: the "Deleted …:" title, one line per item, and the space reclaimed if the kind has one. */
export interface PruneReport {
  title: string;
  lines: string[];
  reclaimed?: number;
}

/**
 * The shared run of `container|image|volume|network prune`: unless --force, docker's warning and a [y/N]
 * prompt (no: exit 0, silently); then the prune, its list (when not empty) and "Total reclaimed space"
 * (counted only when something was deleted, as docker does).
 */
export async function confirmAndPrune(cli: Cli, flags: FlagValues, warning: string, prune: () => Promise<PruneReport>): Promise<number> {
  if (!flags.bool('force') && !(await confirm(cli, warning))) return 0;
  const { title, lines, reclaimed } = await prune();
  if (lines.length > 0) cli.out(`${title}:\n${lines.map((l) => `${l}\n`).join('')}\n`);
  if (reclaimed !== undefined) cli.out(`Total reclaimed space: ${humanSize(lines.length > 0 ? reclaimed : 0)}\n`);
  return 0;
}

async function runContainerPrune(cli: Cli, flags: FlagValues): Promise<number> {
  const filters = pruneFilters(cli, toFilters(flags.list('filter')));
  return confirmAndPrune(cli, flags, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?', async () => {
    const report = await cli.client.containersPrune(filters);
    return { title: 'Deleted Containers', lines: report.ContainersDeleted ?? [], reclaimed: report.SpaceReclaimed };
  });
}

export const containerPruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove all stopped containers',
  args: { kind: 'none' },
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' }, PRUNE_FILTER_FLAG],
  run: runContainerPrune,
};
