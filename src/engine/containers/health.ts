import { log } from '../../util/log';
import type { EventBus, EngineEvent } from '../events/bus';
import type { ExecService } from './exec';
import type { ContainerStore } from './store';
import type { ContainerRecord, HealthLogEntry, HealthState } from './types';

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

const NS_PER_MS = 1_000_000;
const DEFAULTS = { interval: 30_000, timeout: 30_000, startInterval: 5_000, retries: 3 };
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** moby's merge: the container's healthcheck wins; fields it leaves at zero come from the image's. */
export function mergeHealthcheck(image: HealthConfig | undefined | null, user: HealthConfig | undefined | null): HealthConfig | undefined {
  if (!user) return image ?? undefined;
  if (!image) return user;
  const out: HealthConfig = { ...user };
  if (!out.Test || out.Test.length === 0) out.Test = image.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!out[k]) out[k] = image[k];
  }
  return out;
}

/** The argv of a probe, or undefined when there is no check (`NONE`, or no test at all). */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const test = h?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  return test;
}

interface Watch {
  timer?: NodeJS.Timeout;
  startedAt: number;
  running: boolean;
}

/**
 * Runs healthcheck probes for running containers. It follows the event bus (start, die, pause, unpause,
 * destroy), so the container life cycle knows nothing about it; probes are execs.
 */
export class HealthMonitor {
  private watches = new Map<string, Watch>();
  private unsubscribe?: () => void;

  constructor(
    private readonly store: ContainerStore,
    private readonly execs: ExecService,
    private readonly events: EventBus,
  ) {}

  /** Starts watching the running containers (after a daemon restart) and follows life-cycle events. */
  init(): void {
    for (const c of this.store.all()) if (c.State.Running && !c.State.Paused && !c.State.Restarting) this.watch(c, false);
    this.unsubscribe = this.events.subscribe((ev) => this.onEvent(ev));
  }

  shutdown(): void {
    this.unsubscribe?.();
    for (const id of [...this.watches.keys()]) this.unwatch(id);
  }

  private onEvent(ev: EngineEvent): void {
    if (ev.Type !== 'container') return;
    const c = this.store.find(ev.Actor.ID);
    if (ev.Action === 'start' && c) this.watch(c, true);
    else if (ev.Action === 'unpause' && c) this.watch(c, false);
    else if (['die', 'destroy', 'pause'].includes(ev.Action)) this.unwatch(ev.Actor.ID);
  }

  private watch(c: ContainerRecord, fresh: boolean): void {
    const cfg = c.Config.Healthcheck as HealthConfig | undefined;
    if (!probeCommand(cfg)) return;
    this.unwatch(c.Id);
    if (fresh || !c.State.Health) {
      c.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
      this.store.save(c);
    }
    const w: Watch = { startedAt: Date.parse(c.State.StartedAt) || Date.now(), running: false };
    this.watches.set(c.Id, w);
    this.schedule(c.Id, w);
  }

  private unwatch(id: string): void {
    const w = this.watches.get(id);
    if (w?.timer) clearTimeout(w.timer);
    this.watches.delete(id);
  }

  private schedule(id: string, w: Watch): void {
    const c = this.store.find(id);
    if (!c) return;
    const cfg = c.Config.Healthcheck as HealthConfig;
    const inStartPeriod = Date.now() - w.startedAt < (cfg.StartPeriod ?? 0) / NS_PER_MS;
    const health = c.State.Health;
    const delay =
      inStartPeriod && health?.Status === 'starting' && cfg.StartInterval
        ? cfg.StartInterval / NS_PER_MS
        : cfg.Interval
          ? cfg.Interval / NS_PER_MS
          : DEFAULTS.interval;
    w.timer = setTimeout(() => void this.probe(id, w), delay);
    w.timer.unref();
  }

  private async probe(id: string, w: Watch): Promise<void> {
    if (this.watches.get(id) !== w) return;
    const c = this.store.find(id);
    if (!c || !c.State.Running || c.State.Paused) return this.unwatch(id);
    const cfg = c.Config.Healthcheck as HealthConfig;
    const cmd = probeCommand(cfg)!;
    const timeoutMs = cfg.Timeout ? cfg.Timeout / NS_PER_MS : DEFAULTS.timeout;
    const start = new Date();
    let result: { exitCode: number; output: string };
    try {
      result = await this.execs.runProbe(c.Id, cmd, timeoutMs, MAX_OUTPUT);
    } catch (err) {
      result = { exitCode: -1, output: (err as Error).message };
    }
    if (this.watches.get(id) !== w) return;
    this.record(c, cfg, w, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: result.exitCode, Output: result.output });
    this.schedule(id, w);
  }

  private record(c: ContainerRecord, cfg: HealthConfig, w: Watch, entry: HealthLogEntry): void {
    const h: HealthState = c.State.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const before = h.Status;
    h.Log = [...h.Log, entry].slice(-MAX_LOG_ENTRIES);
    if (entry.ExitCode === 0) {
      h.Status = 'healthy';
      h.FailingStreak = 0;
    } else {
      const inStartPeriod = Date.now() - w.startedAt < (cfg.StartPeriod ?? 0) / NS_PER_MS;
      if (!(inStartPeriod && h.Status === 'starting')) {
        h.FailingStreak++;
        if (h.FailingStreak >= (cfg.Retries || DEFAULTS.retries)) h.Status = 'unhealthy';
      }
    }
    c.State.Health = h;
    this.store.save(c);
    if (h.Status !== before) {
      this.events.publish('container', `health_status: ${h.Status}`, c.Id);
    }
    log.debug('health probe', { id: c.Id, exitCode: entry.ExitCode, status: h.Status });
  }
}
