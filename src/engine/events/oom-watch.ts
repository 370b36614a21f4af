/**
 * Live `oom` events: conmon drops an `oom` file in the container's persist dir when the kernel OOM-kills a
 * process in its cgroup (the container may well keep running, as when a child is killed). Watching that dir
 * (one inotify watch per running container) lets the event go out when it happens, as moby's does; the exit
 * path still reports it for exits seen after a daemon restart, and the bus drops the duplicate.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EventBus } from './bus';

export class OomWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly off: () => void;

  constructor(
    private readonly bus: EventBus,
    private readonly persistDir: (id: string) => string,
  ) {
    this.off = bus.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      if (ev.Action === 'start') this.watch(ev.Actor.ID);
      else if (ev.Action === 'die' || ev.Action === 'destroy') this.unwatch(ev.Actor.ID);
    });
  }

  /** Starts watching a running container (also used for containers found running at start-up). */
  watch(id: string): void {
    this.unwatch(id);
    const dir = this.persistDir(id);
    const report = () => {
      if (fs.existsSync(path.join(dir, 'oom'))) this.bus.publish('container', 'oom', id);
    };
    try {
      const w = fs.watch(dir, (_event, name) => {
        if (name === null || name === 'oom') report();
      });
      w.on('error', () => this.unwatch(id));
      this.watchers.set(id, w);
    } catch {
      return; // no persist dir: nothing to watch
    }
    report(); // written before the watch began
  }

  watchAll(ids: string[]): this {
    for (const id of ids) this.watch(id);
    return this;
  }

  unwatch(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  close(): void {
    this.off();
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
  }
}
