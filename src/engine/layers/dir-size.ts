import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Bytes held by a directory tree as Docker counts a container's SizeRw: regular file sizes and
 * symlink target lengths, each hard-linked inode once. Missing directories count as 0.
 */
export function dirSize(root: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (dir: string): void => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) {
        walk(p);
        continue;
      }
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      if (!st.isFile() && !st.isSymbolicLink()) continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  walk(root);
  return total;
}

/**
 * Sizes of directories that change only at known moments (a stopped container's upper dir, a
 * volume no running container uses): each is walked once and kept under a key until it is
 * forgotten or its stamp (whatever identifies the directory's current state) changes.
 */
export class KeptDirSizes {
  private readonly known = new Map<string, { stamp: string; size: number }>();

  size(key: string, dir: string, stamp = ''): number {
    const kept = this.known.get(key);
    if (kept && kept.stamp === stamp) return kept.size;
    const size = dirSize(dir);
    this.known.set(key, { stamp, size });
    return size;
  }

  /** Forgets one key, or all of them. */
  forget(key?: string): void {
    if (key === undefined) this.known.clear();
    else this.known.delete(key);
  }
}
