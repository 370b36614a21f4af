import * as path from 'node:path';

/** Where the runtime keeps a container's files: bundle and monitor files under the exec root (tmpfs). */
export class RuntimePaths {
  constructor(readonly execRoot: string) {}

  get runcRoot(): string {
    return path.join(this.execRoot, 'runc');
  }
  get exitsDir(): string {
    return path.join(this.execRoot, 'exits');
  }
  /** Mount points of private-namespace views of stopped containers (cp, copy-up). */
  get viewsDir(): string {
    return path.join(this.execRoot, 'views');
  }
  /** The lower dir of a container whose image has no layers. */
  get emptyLayerDir(): string {
    return path.join(this.execRoot, 'empty-layer');
  }
  bundle(id: string): string {
    return path.join(this.execRoot, 'c', id);
  }
  persistDir(id: string): string {
    return path.join(this.execRoot, 'persist', id);
  }
  exitFile(id: string): string {
    return path.join(this.exitsDir, id);
  }
  conmonPidFile(id: string): string {
    return path.join(this.bundle(id), 'conmon.pid');
  }
  attachSocket(id: string): string {
    return path.join(this.bundle(id), 'attach');
  }
  ctlFifo(id: string): string {
    return path.join(this.bundle(id), 'ctl');
  }
}
