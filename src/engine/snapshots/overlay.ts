import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Per-container copy-on-write layers: an upper and a work dir over the image's read-only layer dirs.
 * The overlay itself is mounted by the runtime inside the container's mount namespace, so nothing is
 * mounted on the host and nothing can leak there when berthd or the container dies.
 */
export class OverlaySnapshotter {
  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }
  upperDir(id: string): string {
    return path.join(this.dir(id), 'diff');
  }
  workDir(id: string): string {
    return path.join(this.dir(id), 'work');
  }

  prepare(id: string): void {
    fs.mkdirSync(this.upperDir(id), { recursive: true, mode: 0o755 });
    fs.mkdirSync(this.workDir(id), { recursive: true, mode: 0o700 });
  }

  /** overlay mount options; `lowerDirs` are the image's layer dirs, top first. */
  mountOptions(id: string, lowerDirs: string[]): string[] {
    return [`lowerdir=${lowerDirs.join(':')}`, `upperdir=${this.upperDir(id)}`, `workdir=${this.workDir(id)}`];
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Snapshot dirs with no owning container (left by a crash between create steps). */
  orphans(known: Set<string>): string[] {
    return fs.readdirSync(this.root).filter((d) => !known.has(d));
  }
}
