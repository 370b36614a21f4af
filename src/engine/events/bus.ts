import { EventEmitter } from 'node:events';
import { containerAttributes, execDuration, sortedAttributes, type ContainerLike } from './attributes';

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'builder' | 'plugin';

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // legacy fields Docker still sends (API < 1.52) for containers and images
  status?: string;
  id?: string;
  from?: string;
}

/** How many past events `since`/`until` can replay (moby keeps 256; we keep more, in memory only). */
export const REPLAY_LIMIT = 1024;

/** Wall clock in ns, kept monotonic so events published in order are timestamped in order. */
class EventClock {
  private readonly baseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  private lastNs = 0n;

  now(): bigint {
    let ns = this.baseNs + process.hrtime.bigint();
    // Microsecond resolution: such values print exactly as JSON numbers.
    ns -= ns % 1000n;
    if (ns <= this.lastNs) ns = this.lastNs + 1000n;
    this.lastNs = ns;
    return ns;
  }
}

/** In-process event bus with a bounded replay buffer for `since`/`until`. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: EngineEvent[] = [];
  private readonly clock = new EventClock();
  private resolveContainer?: (id: string) => ContainerLike | undefined;
  /** What container events need of containers seen so far, for events published after the record is gone. */
  private readonly known = new Map<string, ContainerLike>();
  private readonly oomReported = new Map<string, EngineEvent>();
  private readonly before = new Map<string, Array<(id: string) => void>>();

  constructor(private readonly limit = REPLAY_LIMIT) {
    this.emitter.setMaxListeners(0);
  }

  /** Runs `fn` (which may publish events of its own) just before each container event with this action. */
  beforeContainerEvent(action: string, fn: (id: string) => void): void {
    const list = this.before.get(action) ?? [];
    list.push(fn);
    this.before.set(action, list);
  }

  /**
   * Lets the bus complete every container event with Docker's attribute set (labels, image, name; execDuration
   * on die), whoever publishes it.
   */
  setContainerResolver(resolve: (id: string) => ContainerLike | undefined): void {
    this.resolveContainer = resolve;
  }

  private completeContainerAttributes(action: string, id: string, attributes: Record<string, string>): Record<string, string> {
    const found = id ? this.resolveContainer?.(id) : undefined;
    if (found) {
      this.known.set(id, { Id: found.Id, Name: found.Name, ImageRef: found.ImageRef, Config: { Image: found.Config.Image, Labels: { ...(found.Config.Labels ?? {}) } } });
    }
    const c = found ?? this.known.get(id);
    if (action === 'destroy') this.known.delete(id);
    if (!c) return attributes;
    const extra = { ...attributes };
    if (action === 'die' && extra.execDuration === undefined && found) {
      const d = execDuration(found);
      if (d !== undefined) extra.execDuration = d;
    }
    // A rename's record already has the new name; everything else names the container as the record does.
    return containerAttributes(c, extra);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    if (type === 'container') {
      for (const fn of this.before.get(action) ?? []) {
        try {
          fn(id);
        } catch {
          /* a derived event must never stop the one it precedes */
        }
      }
      // One `oom` per run of a container, whether the OOM watcher or the exit path saw it first.
      if (action === 'start') this.oomReported.delete(id);
      else if (action === 'oom') {
        const earlier = this.oomReported.get(id);
        if (earlier) return earlier;
      }
      attributes = this.completeContainerAttributes(action, id, attributes);
    }
    const nowNs = this.clock.now();
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: sortedAttributes(attributes) },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      // moby's backFillLegacy: status/id/from for containers, status/id for images
      const legacy: EngineEvent = { status: action, id, ...(type === 'container' ? { from: attributes.image ?? '' } : {}), ...ev };
      this.record(legacy);
      return legacy;
    }
    this.record(ev);
    return ev;
  }

  /**
   * A container event with Docker's attribute set: the container's labels, `image` (as the user named it) and
   * `name`, plus the action's own attributes (exitCode, signal, execID, …).
   */
  container(c: ContainerLike, action: string, extra: Record<string, string> = {}): EngineEvent {
    return this.publish('container', action, c.Id, containerAttributes(c, extra));
  }

  private record(ev: EngineEvent): void {
    if (ev.Type === 'container' && ev.Action === 'oom') this.oomReported.set(ev.Actor.ID, ev);
    else if (ev.Type === 'container' && ev.Action === 'destroy') this.oomReported.delete(ev.Actor.ID);
    this.recent.push(ev);
    if (this.recent.length > this.limit) this.recent.splice(0, this.recent.length - this.limit);
    this.emitter.emit('event', ev);
  }

  /**
   * Buffered events between `sinceNs` and `untilNs` (nanoseconds since the epoch, inclusive) as moby's
   * loadBufferedEvents does: nothing when neither bound is given.
   */
  replay(sinceNs?: number, untilNs?: number): EngineEvent[] {
    if (sinceNs === undefined && untilNs === undefined) return [];
    return this.recent.filter((e) => (sinceNs === undefined || e.timeNano >= sinceNs) && (untilNs === undefined || e.timeNano <= untilNs));
  }

  subscribe(listener: (ev: EngineEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  get listenerCount(): number {
    return this.emitter.listenerCount('event');
  }
}
