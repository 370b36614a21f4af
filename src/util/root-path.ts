import * as fs from 'node:fs';
import * as path from 'node:path';

export class BreakoutError extends Error {
  constructor(name: string) {
    super(`invalid tar entry ${JSON.stringify(name)}: path escapes the layer`);
  }
}

/**
 * Turns a tar entry name into a clean path relative to the layer root ('' for the root itself).
 * Absolute names are taken as relative to the root, like Docker does; a relative name whose `..`
 * components climb above the root is refused.
 */
export function cleanEntryName(name: string): string {
  if (name.includes('\0')) throw new BreakoutError(name);
  const normalized = path.posix.normalize(name);
  if (normalized === '..' || normalized.startsWith('../')) throw new BreakoutError(name);
  const relative = normalized.replace(/^\/+/, '').replace(/\/+$/, '');
  return relative === '.' ? '' : relative;
}

const MAX_SYMLINKS = 40;

/**
 * Resolves `relative` inside `root` the way the kernel would if `root` were the process's root
 * directory: symlinks met on the way are followed, but absolute targets and `..` never leave
 * `root`. Synchronous on purpose: extraction does a handful of these per entry, and thread-pool
 * round trips would dominate the time. The last component is followed only with `followLast` (parent directories); an entry's
 * own name is not, since callers replace it or link to it.
 * Components that do not exist are kept as they are. The returned path therefore contains no
 * symlink in its existing part, so creating or writing it cannot touch anything outside.
 */
export function resolveInRoot(root: string, relative: string, followLast = false): string {
  let pending = relative.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let linksFollowed = 0;
  let missing = false;

  while (pending.length > 0) {
    const component = pending.shift() as string;
    if (component === '..') {
      // The kernel cannot walk back out of a directory that does not exist either.
      if (missing) throw new Error(`cannot resolve ${relative}: no such directory`);
      resolved.pop();
      continue;
    }
    const isLast = pending.length === 0;
    if (missing || (isLast && !followLast)) {
      resolved.push(component);
      continue;
    }
    const candidate = path.join(root, ...resolved, component);
    let stat;
    try {
      stat = fs.lstatSync(candidate);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      missing = true;
      resolved.push(component);
      continue;
    }
    if (!stat.isSymbolicLink()) {
      resolved.push(component);
      continue;
    }
    if (++linksFollowed > MAX_SYMLINKS) throw new Error(`too many levels of symbolic links resolving ${relative}`);
    const target = fs.readlinkSync(candidate);
    const targetParts = target.split('/').filter((c) => c !== '' && c !== '.');
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...targetParts, ...pending];
  }
  return path.join(root, ...resolved);
}
