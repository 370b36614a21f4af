import type { EngineEvent } from '../events/bus';
import { dirSize } from '../layers/dir-size';
import type { ContainerRecord } from './types';

/** Actions after which a container's upper dir may hold other bytes than before. */
const CHANGING_ACTIONS = new Set(['start', 'restart', 'extract-to-dir', 'destroy']);

/**
 * SizeRw of containers (`ps -s`, `inspect --size`, `system df`, prune's reclaimed bytes). A stopped
 * container's upper dir only changes when it starts or files are copied into it, so its size is
 * walked once and kept until one of those happens (events tell, and the record's start and finish
 * times must still match). A running container writes at will: it is walked on each call, as Docker
 * does for every container.
 */
export class ContainerSizes {
  private readonly known = new Map<string, { stamp: string; size: number }>();

  constructor(private readonly upperDir: (id: string) => string) {}

  /** Feed of engine events; any change to a container drops what is known of it. */
  readonly onEvent = (ev: EngineEvent): void => {
    if (ev.Type === 'container' && CHANGING_ACTIONS.has(ev.Action)) this.known.delete(ev.Actor.ID);
  };

  sizeRw(c: ContainerRecord): number {
    if (isActive(c)) return dirSize(this.upperDir(c.Id));
    const stamp = `${c.State.StartedAt}|${c.State.FinishedAt}`;
    const cached = this.known.get(c.Id);
    if (cached && cached.stamp === stamp) return cached.size;
    const size = dirSize(this.upperDir(c.Id));
    this.known.set(c.Id, { stamp, size });
    return size;
  }
}

function isActive(c: ContainerRecord): boolean {
  return c.State.Running || c.State.Paused || c.State.Restarting || c.State.Status === 'running' || c.State.Status === 'paused';
}
