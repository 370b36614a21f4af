import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What moby keeps in a container's init layer (mount points and files the engine provides), which
 * therefore never shows in its diff or commits. Berth has no init layer: the runtime creates these
 * mount points in the upper dir, so they are left out here.
 */
export const INIT_PATHS = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/proc', '/sys', '/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/etc/mtab']);
const INIT_PARENTS = new Set(['/dev', '/etc']);

/** Whether an upper-dir entry is only an init mount point: an empty file or directory at an init path. */
export function isInitMountPoint(containerPath: string, host: string): boolean {
  if (!INIT_PATHS.has(containerPath)) return false;
  const st = lstatOrNull(host);
  if (!st) return false;
  if (st.isDirectory()) {
    try {
      return fs.readdirSync(host).length === 0;
    } catch {
      return false;
    }
  }
  return (st.isFile() && st.size === 0) || st.isSymbolicLink();
}

/** One item of GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted. */
export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/** Whether `rel` is present in the image: the first layer (top first) that has it or hides it decides. */
function inLowers(lowers: string[], rel: string): boolean {
  const parts = rel.split('/');
  for (const l of lowers) {
    // A whiteout of the path or of a parent in this layer hides everything below.
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i - 1);
      const wh = path.join(l, ...prefix, `.wh.${parts[i - 1]}`);
      const st = lstatOrNull(wh);
      if (st) return false;
      const real = lstatOrNull(path.join(l, ...parts.slice(0, i)));
      if (real && real.isCharacterDevice() && real.rdev === 0) return false;
    }
    if (lstatOrNull(path.join(l, ...parts))) return true;
  }
  return false;
}

/**
 * docker diff from a container's overlay upper dir: whiteouts are deletions, what the image already
 * had is a change (directories included, as moby reports the parents of changed files), the rest is
 * added. Sorted by path; `null` when nothing changed (as moby answers).
 */
export function upperDirChanges(upper: string, lowers: string[]): Change[] | null {
  const out: Change[] = [];
  const walk = (dir: string, rel: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const host = path.join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatOrNull(host);
      if (!st) continue;
      if (isInitMountPoint(`/${r}`, host)) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: `/${r}`, Kind: 2 });
        continue;
      }
      out.push({ Path: `/${r}`, Kind: inLowers(lowers, r) ? 0 : 1 });
      if (st.isDirectory()) walk(host, r);
    }
  };
  walk(upper, '');
  // /etc or /dev present only because of init mount points is no change.
  const filtered = out.filter((c) => !(c.Kind === 0 && INIT_PARENTS.has(c.Path) && !out.some((o) => o.Path.startsWith(c.Path + '/'))));
  out.length = 0;
  out.push(...filtered);
  out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
  return out.length ? out : null;
}
