import type { EngineEvent } from '../events/bus';
import { KeptDirSizes, dirSize } from '../layers/dir-size';
import type { ContainerRecord } from './types';

/** Actions after which a container's files (its upper dir, the volumes it mounts) may hold other bytes than before. */
export const FILE_CHANGING_ACTIONS: ReadonlySet<string> = new Set(['create', 'start', 'restart', 'extract-to-dir', 'destroy']);

/**
 * SizeRw of containers (`ps -s`, `inspect --size`, `system df`, prune's reclaimed bytes). A stopped
 * container's upper dir only changes when it starts or files are copied into it, so its size is
 * walked once and kept until one of those happens (events tell, and the record's start and finish
 * times must still match). A running container writes at will: it is walked on each call, as Docker
 * does for every container.
 */
export class ContainerSizes {
  private readonly kept = new KeptDirSizes();

  constructor(private readonly upperDir: (id: string) => string) {}

  /** Feed of engine events; any change to a container drops what is known of it. */
  readonly onEvent = (ev: EngineEvent): void => {
    if (ev.Type === 'container' && FILE_CHANGING_ACTIONS.has(ev.Action)) this.kept.forget(ev.Actor.ID);
  };

  sizeRw(c: ContainerRecord): number {
    if (isActive(c)) return dirSize(this.upperDir(c.Id));
    return this.kept.size(c.Id, this.upperDir(c.Id), `${c.State.StartedAt}|${c.State.FinishedAt}`);
  }
}

export function isActive(c: ContainerRecord): boolean {
  return c.State.Running || c.State.Paused || c.State.Restarting || c.State.Status === 'running' || c.State.Status === 'paused';
}
