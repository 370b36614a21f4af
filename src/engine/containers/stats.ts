/** `GET /containers/{id}/stats`: samples on demand (stream=0, one-shot) or once a second (stream=1). */
import type { EventBus } from '../events/bus';
import { CgroupStatsReader, NanoClock, ZERO_TIME, emptyCpuStats, emptyStats, statsToJson, type CpuStats, type StatsBody } from '../runtime/cgroup-stats';
import type { ContainerRecord } from './types';

export interface StatsDeps {
  get(ref: string): ContainerRecord;
  /** The container's current record, or undefined once it is removed. */
  find(id: string): ContainerRecord | undefined;
  cgroupsPath(id: string): string;
  events: EventBus;
}

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
}

/** moby's collector interval. */
export const STATS_INTERVAL_MS = 1000;

export class StatsService {
  private readonly clock = new NanoClock();

  constructor(
    private readonly d: StatsDeps,
    private readonly reader = new CgroupStatsReader(),
    private readonly intervalMs = STATS_INTERVAL_MS,
  ) {}

  /** One sample of a live container, or the empty stats moby gives for one that is not running. */
  sample(c: ContainerRecord): StatsBody {
    const running = c.State.Running && !c.State.Restarting;
    if (!running) return emptyStats(c.Id, c.Name);
    return this.reader.sample({
      id: c.Id,
      name: c.Name,
      rel: this.d.cgroupsPath(c.Id),
      pid: c.State.Pid,
      readNs: this.clock.nowNs(),
      withNetwork: c.HostConfig.NetworkMode !== 'host' && c.HostConfig.NetworkMode !== 'none',
    });
  }

  /**
   * Writes stats objects for `ref` until done: one for stream=0 (after a second sample fills precpu_stats,
   * unless one-shot), else one a second until the client goes (`signal`) or the container is removed.
   * Throws (before writing) when the container does not exist.
   */
  async run(ref: string, opts: StatsOptions, write: (json: string) => void, signal: AbortSignal): Promise<void> {
    const first = this.d.get(ref);
    const id = first.Id;
    if (!opts.stream) {
      if (!first.State.Running || first.State.Restarting || opts.oneShot) return write(statsToJson(this.sample(first)));
      const pre = this.sample(first);
      if (!(await this.sleep(this.intervalMs, signal))) return;
      const c = this.d.find(id) ?? first;
      write(statsToJson(withPrevious(this.sample(c), pre.read, pre.cpu_stats)));
      return;
    }
    let preRead = ZERO_TIME;
    let preCpu: CpuStats = emptyCpuStats();
    let removed = false;
    const off = this.d.events.subscribe((ev) => {
      if (ev.Type === 'container' && ev.Action === 'destroy' && ev.Actor.ID === id) removed = true;
    });
    try {
      for (;;) {
        const c = this.d.find(id);
        if (!c || removed) return;
        const s = withPrevious(this.sample(c), preRead, preCpu);
        write(statsToJson(s));
        preRead = s.read;
        preCpu = s.cpu_stats;
        if (!(await this.sleep(this.intervalMs, signal, () => removed))) return;
      }
    } finally {
      off();
    }
  }

  /** Resolves false when aborted (or `stop()` turns true) before the time is up. */
  private sleep(ms: number, signal: AbortSignal, stop?: () => boolean): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(!(stop?.() ?? false));
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function withPrevious(s: StatsBody, preRead: string, preCpu: CpuStats): StatsBody {
  // Keep the key order Docker sends: preread right after read, precpu_stats after cpu_stats.
  return { ...s, preread: preRead, precpu_stats: preCpu };
}
