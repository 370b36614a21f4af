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

  /**
   * overlay mount options; `lowerDirs` are the image's layer dirs, top first. The kernel takes at most one
   * page of mount options, which 60 absolute layer paths exceed, so lower dirs are named by short symlinks
   * (`links`, to be created in the bundle). The runtime mounts with the bundle's rootfs dir as working
   * directory, so `../l/N` reaches them: 128 layers need about 1 KB.
   */
  mountOptions(id: string, lowerDirs: string[]): { options: string[]; links: Record<string, string> } {
    const links: Record<string, string> = {};
    const names = lowerDirs.map((dir, i) => {
      links[`l/${i.toString(36)}`] = dir;
      return `../l/${i.toString(36)}`;
    });
    return {
      options: [`lowerdir=${names.join(':')}`, `upperdir=${this.upperDir(id)}`, `workdir=${this.workDir(id)}`],
      links,
    };
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Snapshot dirs with no owning container (left by a crash between create steps). */
  orphans(known: Set<string>): string[] {
    return fs.readdirSync(this.root).filter((d) => !known.has(d));
  }
}
