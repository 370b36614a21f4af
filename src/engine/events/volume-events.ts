/**
 * Volume `mount` / `unmount` events around a container's run, as moby publishes them: a `mount` per named or
 * anonymous volume just before the container's `start`, an `unmount` per volume after its `die`.
 */
import type { EventBus } from './bus';

/** The part of a record's MountPoints these events need. */
export interface VolumeMountLike {
  Type: string;
  Name?: string;
  Destination: string;
  Driver?: string;
  RW: boolean;
  Propagation?: string;
}

export function wireVolumeMountEvents(bus: EventBus, mountsOf: (id: string) => readonly VolumeMountLike[]): void {
  const volumes = (id: string) => mountsOf(id).filter((m) => m.Type === 'volume' && m.Name);
  bus.beforeContainerEvent('start', (id) => {
    for (const m of volumes(id)) {
      bus.publish('volume', 'mount', m.Name!, {
        container: id,
        destination: m.Destination,
        driver: m.Driver || 'local',
        propagation: m.Propagation ?? '',
        'read/write': String(m.RW),
      });
    }
  });
  bus.subscribe((ev) => {
    if (ev.Type !== 'container' || ev.Action !== 'die') return;
    for (const m of volumes(ev.Actor.ID)) bus.publish('volume', 'unmount', m.Name!, { container: ev.Actor.ID, driver: m.Driver || 'local' });
  });
}
