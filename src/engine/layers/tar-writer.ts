import { spawnSync } from 'node:child_process';
import type { Writable } from 'node:stream';
import { packTree, type PackOptions } from '../../util/tar/pack';

/**
 * Layer diffs from a container's overlay upper dir (commit): the tree packer of util/tar with overlay
 * whiteouts (char device 0/0) written as OCI `.wh.<name>` entries and opaque directories given a
 * `.wh..wh..opq` entry.
 */

export type TarWriteOptions = Pick<PackOptions, 'overlayWhiteouts' | 'opaqueDirs' | 'skip'>;

/** Writes `host` (file or directory tree) as a tar named `name` ('' for what is under it) into `out`, then ends it. */
export function writeTreeTar(host: string, name: string, out: Writable, opts: TarWriteOptions = {}): Promise<void> {
  return packTree(host, name, out, opts);
}

/** Directories under `root` carrying `trusted.overlay.opaque=y`, checked in one python3 process. */
export function opaqueDirs(candidates: string[]): Set<string> {
  if (!candidates.length) return new Set();
  const script =
    'import os,sys\n' +
    'for p in sys.stdin.read().split("\\0"):\n' +
    '  if not p: continue\n' +
    '  try:\n' +
    '    if os.getxattr(p, "trusted.overlay.opaque", follow_symlinks=False) == b"y": print(p)\n' +
    '  except OSError: pass\n';
  const r = spawnSync('python3', ['-c', script], { input: candidates.join('\0'), maxBuffer: 64 << 20 });
  if (r.status !== 0) return new Set();
  return new Set(r.stdout.toString().split('\n').filter(Boolean));
}
