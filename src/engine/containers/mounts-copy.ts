import * as fs from 'node:fs';
import * as path from 'node:path';
import { log } from '../../util/log';
import { resolveInRoot } from '../layers/entry-path';
import type { VolumeService } from '../volumes/service';
import type { MountPoint } from './mounts';
import { runProc } from './mounts-proc';
import { RootfsView } from './mounts-view';

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/**
 * Copies the image's content at each volume's destination into the volume when the volume is empty
 * (moby's copy-up): files, ownership, modes, xattrs and the directory's own owner and mode. Volumes
 * marked nocopy and volumes with driver options are left alone.
 */
export async function copyUpVolumes(mounts: MountPoint[], lowers: string[], vs: VolumeService, tmpRoot?: string): Promise<void> {
  const todo = mounts.filter((m) => {
    if (m.Type !== 'volume' || !m.CopyData || !m.Name) return false;
    const v = vs.get(m.Name);
    if (v.Options && v.Options.type) return false;
    if (!isEmptyDir(vs.dataDir(m.Name))) return false;
    const first = m.Destination.split('/').filter(Boolean)[0]!;
    return lowers.some((l) => fs.existsSync(path.join(l, first)));
  });
  if (!todo.length || !lowers.length) return;
  const view = await RootfsView.open({ lowers, tmpRoot });
  try {
    for (const m of todo) {
      let src: string;
      try {
        src = resolveInRoot(view.root, m.Destination, true);
        if (!fs.statSync(src).isDirectory()) continue;
      } catch {
        continue;
      }
      const data = vs.dataDir(m.Name!);
      try {
        await runProc('cp', ['-a', '--no-target-directory', `${src}/.`, data]);
      } catch (err) {
        log.warn('volume copy-up failed', { volume: m.Name, error: (err as Error).message });
      }
    }
  } finally {
    await view.close();
  }
}
