import { EventEmitter } from 'node:events';

export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'builder';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // legacy fields Docker still sends for containers and images
  status?: string;
  id?: string;
  from?: string;
}

const REPLAY_LIMIT = 1024;

/** In-process event bus with a bounded replay buffer for `since`. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: EngineEvent[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + BigInt(process.hrtime.bigint() % 1_000_000n);
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      ev.status = action;
      ev.id = id;
      if (attributes.image) ev.from = attributes.image;
    }
    this.recent.push(ev);
    if (this.recent.length > REPLAY_LIMIT) this.recent.shift();
    this.emitter.emit('event', ev);
  }

  /** Events recorded at or after `sinceNs` (nanoseconds since the epoch). */
  replay(sinceNs: number): EngineEvent[] {
    return this.recent.filter((e) => e.timeNano >= sinceNs);
  }

  subscribe(listener: (ev: EngineEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
