/**
 * `stats [CONTAINER...]`: one stats stream per container (stream=0 with --no-stream); with no arguments, the
 * running containers plus those that start meanwhile (followed through container events), as docker does.
 */
import type * as http from 'node:http';
import { ApiError, readJsonStream } from '../../client';
import { encodeFilters } from '../../client/client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { truncateID } from '../format/container';
import { headerContext, renderFormatted } from '../format/table';
import { bytesSize, humanSizeWithPrecision } from '../format/units';
import { FORMAT_HELP } from '../opts';

export const DEFAULT_STATS_TABLE_FORMAT =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

const NO_VALUE = '--';

/** The fields of a stats response the CLI uses. */
export interface StatsJson {
  id?: string;
  name?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
  pids_stats?: { current?: number };
}

export interface StatsEntry {
  Container: string;
  Name: string;
  ID: string;
  CPUPercentage: number;
  Memory: number;
  MemoryLimit: number;
  MemoryPercentage: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PidsCurrent: number;
  IsInvalid: boolean;
}

/** docker/cli's calculateCPUPercentUnix. */
export function cpuPercent(s: StatsJson): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  let online = s.cpu_stats?.online_cpus ?? 0;
  if (online === 0) online = s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Usage without the inactive page cache: total_inactive_file on cgroup v1, inactive_file on v2. */
export function memoryUsage(s: StatsJson): number {
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  if ('total_inactive_file' in stats && stats.total_inactive_file! < usage) return usage - stats.total_inactive_file!;
  const v = stats.inactive_file ?? 0;
  return v < usage ? usage - v : usage;
}

export function toEntry(container: string, s: StatsJson): StatsEntry {
  const mem = memoryUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const c = (e.op ?? '')[0];
    if (c === 'r' || c === 'R') read += e.value ?? 0;
    else if (c === 'w' || c === 'W') write += e.value ?? 0;
  }
  return {
    Container: container,
    Name: s.name ?? '',
    ID: s.id ?? '',
    CPUPercentage: cpuPercent(s),
    Memory: mem,
    MemoryLimit: limit,
    MemoryPercentage: limit !== 0 ? (mem / limit) * 100 : 0,
    NetworkRx: rx,
    NetworkTx: tx,
    BlockRead: read,
    BlockWrite: write,
    PidsCurrent: s.pids_stats?.current ?? 0,
    IsInvalid: false,
  };
}

/** Go's strconv.FormatFloat(v, 'f', prec, 64): correctly rounded, exact ties to even (3.125 → "3.12"). */
export function goFixed(v: number, prec: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  if (a < 1e-6 || a >= 1e21) return (neg ? '-' : '') + a.toFixed(prec);
  const [ip, fp = ''] = a.toPrecision(100).split('.'); // exact decimal expansion of the double
  const frac = fp.padEnd(prec + 1, '0');
  let n = BigInt(ip! + frac.slice(0, prec));
  const rest = frac.slice(prec);
  if (rest[0]! > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || n % 2n === 1n))) n += 1n;
  const digits = n.toString().padStart(prec + 1, '0');
  const out = prec > 0 ? `${digits.slice(0, digits.length - prec)}.${digits.slice(digits.length - prec)}` : digits;
  return (neg ? '-' : '') + out;
}

function percentage(v: number): string {
  return `${goFixed(v, 2)}%`;
}

/** docker's statsContext. */
export class StatsRow {
  constructor(
    private readonly s: StatsEntry,
    private readonly trunc: boolean,
  ) {}

  Container(): string {
    return this.s.Container;
  }
  Name(): string {
    const n = this.s.Name.replace(/^\//, '');
    return n !== '' ? n : NO_VALUE;
  }
  ID(): string {
    return this.trunc ? truncateID(this.s.ID) : this.s.ID;
  }
  CPUPerc(): string {
    return this.s.IsInvalid ? NO_VALUE : percentage(this.s.CPUPercentage);
  }
  MemUsage(): string {
    return this.s.IsInvalid ? '-- / --' : `${bytesSize(this.s.Memory)} / ${bytesSize(this.s.MemoryLimit)}`;
  }
  MemPerc(): string {
    return this.s.IsInvalid ? NO_VALUE : percentage(this.s.MemoryPercentage);
  }
  NetIO(): string {
    return this.s.IsInvalid ? NO_VALUE : `${humanSizeWithPrecision(this.s.NetworkRx, 3)} / ${humanSizeWithPrecision(this.s.NetworkTx, 3)}`;
  }
  BlockIO(): string {
    return this.s.IsInvalid ? NO_VALUE : `${humanSizeWithPrecision(this.s.BlockRead, 3)} / ${humanSizeWithPrecision(this.s.BlockWrite, 3)}`;
  }
  PIDs(): string {
    return this.s.IsInvalid ? NO_VALUE : String(this.s.PidsCurrent);
  }
  toJSON(): Record<string, string> {
    return {
      BlockIO: this.BlockIO(),
      CPUPerc: this.CPUPerc(),
      Container: this.Container(),
      ID: this.ID(),
      MemPerc: this.MemPerc(),
      MemUsage: this.MemUsage(),
      Name: this.Name(),
      NetIO: this.NetIO(),
      PIDs: this.PIDs(),
    };
  }
}

export const statsHeader = (): Record<string, unknown> =>
  headerContext({
    Container: 'CONTAINER',
    Name: 'NAME',
    ID: 'CONTAINER ID',
    CPUPerc: 'CPU %',
    MemUsage: 'MEM USAGE / LIMIT',
    MemPerc: 'MEM %',
    NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O',
    PIDs: 'PIDS',
  });

/** One container's stats stream. */
class Collector {
  entry: StatsEntry;
  error?: Error;
  private res?: http.IncomingMessage;
  private stopped = false;
  private watchdog?: NodeJS.Timeout;
  readonly first: Promise<void>;
  private resolveFirst!: () => void;

  constructor(
    private readonly cli: Cli,
    readonly container: string,
    private readonly stream: boolean,
  ) {
    this.entry = { ...toEntry(container, {}), Container: container };
    this.first = new Promise((r) => (this.resolveFirst = r));
  }

  start(): void {
    void this.run().finally(() => this.resolveFirst());
  }

  private arm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.stopped) return;
    this.watchdog = setTimeout(() => {
      // No update within 2 s: zero the values, as docker does.
      this.entry = { ...toEntry(this.container, {}), Name: this.entry.Name, ID: this.entry.ID, IsInvalid: true };
      this.error = new Error('timeout waiting for stats');
      this.resolveFirst();
    }, 2000);
  }

  private async run(): Promise<void> {
    this.arm();
    try {
      this.res = await this.cli.client.transport.request({
        method: 'GET',
        path: `/containers/${this.container}/stats`,
        query: { stream: this.stream ? '1' : '0' },
      });
      for await (const s of readJsonStream<StatsJson>(this.res)) {
        if (this.stopped) break;
        this.entry = toEntry(this.container, s);
        this.error = undefined;
        this.resolveFirst();
        this.arm();
        if (!this.stream) break;
      }
    } catch (err) {
      if (!this.stopped) {
        this.error = err as Error;
        this.entry = { ...this.entry, IsInvalid: true };
      }
    } finally {
      if (this.watchdog) clearTimeout(this.watchdog);
      this.res?.destroy();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.res?.destroy();
    this.resolveFirst();
  }
}

interface WireEvent {
  Action?: string;
  Actor?: { ID?: string };
}

async function runStats(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const all = flags.bool('all');
  const noStream = flags.bool('no-stream');
  const trunc = !flags.bool('no-trunc');
  const collectors: Collector[] = [];
  const add = (container: string): Collector | undefined => {
    if (collectors.some((c) => c.container === container)) return undefined;
    const c = new Collector(cli, container, !noStream);
    collectors.push(c);
    c.start();
    return c;
  };
  const remove = (id: string) => {
    const i = collectors.findIndex((c) => c.container === id);
    if (i >= 0) collectors.splice(i, 1)[0]!.stop();
  };
  const showAll = args.length === 0;
  let events: http.IncomingMessage | undefined;
  let eventsEnded: Promise<Error | undefined> = new Promise(() => undefined);
  try {
    if (showAll) {
      events = await cli.client.transport.request({ method: 'GET', path: '/events', query: { filters: encodeFilters({ type: { container: true } }) } });
      const addOn = new Set(all ? ['start', 'create'] : ['start']);
      const removeOn = new Set(all ? ['destroy'] : ['destroy', 'die']);
      eventsEnded = (async () => {
        try {
          for await (const ev of readJsonStream<WireEvent>(events!)) {
            const id = ev.Actor?.ID ?? '';
            if (!id) continue;
            if (addOn.has(ev.Action ?? '')) add(id);
            else if (removeOn.has(ev.Action ?? '')) remove(id);
          }
          return undefined;
        } catch (err) {
          return err as Error;
        }
      })();
      const list = await cli.client.containerList({ all });
      for (const c of list) add(c.Id);
      await Promise.all(collectors.map((c) => c.first));
    } else {
      for (const name of args) add(name);
      await Promise.all(collectors.map((c) => c.first));
      const errors = collectors.map((c) => c.error).filter((e): e is Error => e !== undefined);
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new StatusError(errors.map((e) => e.message).join('\n'), 1);
    }

    let format = flags.string('format');
    if (format === '') format = (cli.config as { statsFormat?: string }).statsFormat || 'table';
    const source = format === 'table' ? DEFAULT_STATS_TABLE_FORMAT : format;
    const render = () => renderFormatted(source, collectors.map((c) => new StatsRow(c.entry, trunc)), statsHeader());

    if (noStream) {
      if (collectors.length > 0) cli.out(render());
      return 0;
    }
    let stop = false;
    let failure: Error | undefined;
    void eventsEnded.then((err) => {
      stop = true;
      failure = err;
    });
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      if (stop) {
        if (failure && !(failure instanceof ApiError)) return 0;
        if (failure) throw failure;
        return 0;
      }
      if (collectors.length === 0 && !showAll) {
        cli.out('\x1b[H\x1b[J');
        return 0;
      }
      const text = render();
      let frame = '\x1b[H';
      for (const line of text.split('\n')) frame += line + '\x1b[K\n';
      frame += '\x1b[J';
      cli.out(frame);
    }
  } finally {
    for (const c of collectors) c.stop();
    events?.destroy();
  }
}

export const statsCommand: CommandSpec = {
  name: 'stats',
  use: 'stats [OPTIONS] [CONTAINER...]',
  short: "Display a live stream of container(s) resource usage statistics",
  aliasPaths: ['container stats', 'stats'],
  args: { kind: 'min', n: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
  ],
  run: runStats,
};
