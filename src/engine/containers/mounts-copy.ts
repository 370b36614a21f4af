import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../../util/errors';
import { log } from '../../util/log';
import { resolveInRoot } from '../../util/root-path';
import type { VolumeService } from '../volumes/service';
import { fromConfigVolumes, type MountPoint } from './mounts';
import { run } from '../../util/proc';
import { RootfsView } from './mounts-view';

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/** Files of moby's init layer: they exist in every container's root, whatever the image has. */
const INIT_FILES = new Set(['/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/dev/console']);
const INIT_DIRS = new Set(['/dev', '/dev/pts', '/dev/shm', '/proc', '/sys', '/etc']);

export interface CopyUpInput {
  mounts: MountPoint[];
  /** The image's layer dirs, top first. */
  lowers: string[];
  vs: VolumeService;
  tmpRoot?: string;
  /** The container's merged dir as inspect shows it (GraphDriver.Data.MergedDir), for error texts. */
  mergedDir: string;
  /** Who holds a volume with driver options while its content is copied (moby mounts it for that). */
  ref: string;
}

/**
 * moby's create-time volume set-up (createContainerOSSpecificSettings, populateVolume): a `Config.Volumes`
 * entry over a file of the image is refused; then each volume without `nocopy` whose destination exists
 * in the image gets the image's content there copied in when the volume is empty (files, ownership,
 * modes, xattrs, the directory's own owner and mode). A volume with driver options is mounted for the
 * copy and unmounted after it, as moby does: a tmpfs volume keeps the copy only while another
 * container holds it mounted; a bind-style one keeps it in its device.
 */
export async function copyUpVolumes(inp: CopyUpInput): Promise<void> {
  const { lowers, vs } = inp;
  const checks = inp.mounts.filter((m) => fromConfigVolumes.has(m));
  const todo = inp.mounts.filter((m) => m.Type === 'volume' && m.CopyData && m.Name);
  if (!checks.length && !todo.length) return;
  const inImage = (dest: string) => {
    const first = dest.split('/').filter(Boolean)[0]!;
    return lowers.some((l) => fs.existsSync(path.join(l, first)));
  };
  const needView = lowers.length > 0 && [...checks, ...todo].some((m) => inImage(m.Destination));
  const view = needView ? await RootfsView.open({ lowers, tmpRoot: inp.tmpRoot }) : undefined;

  /** What is at `dest` in a new container's root: its path there (symlinks followed) and its kind. */
  const statInRoot = (dest: string): { inRoot: string; host: string; kind: 'dir' | 'file' | 'none' } => {
    let inRoot = path.posix.normalize(dest);
    let host = '';
    if (view) {
      try {
        host = resolveInRoot(view.root, dest, true);
        inRoot = host.slice(view.root.length) || '/';
      } catch {
        return { inRoot, host: '', kind: 'none' };
      }
      try {
        return { inRoot, host, kind: fs.statSync(host).isDirectory() ? 'dir' : 'file' };
      } catch {
        /* not in the image */
      }
    }
    if (INIT_FILES.has(inRoot)) return { inRoot, host: '', kind: 'file' };
    if (INIT_DIRS.has(inRoot)) return { inRoot, host: '', kind: 'dir' };
    return { inRoot, host: '', kind: 'none' };
  };
  const merged = (inRoot: string) => path.join(inp.mergedDir, inRoot);

  try {
    for (const m of checks) {
      const st = statInRoot(m.Destination);
      if (st.kind === 'file') throw new EngineError(500, `cannot mount volume over existing file, file exists ${merged(st.inRoot)}`);
    }
    for (const m of todo) {
      const st = statInRoot(m.Destination);
      if (st.kind === 'none') continue;
      const name = m.Name!;
      const mounted = vs.needsMount(name);
      let data: string;
      try {
        data = await vs.mount(name, inp.ref);
      } catch (err) {
        throw new EngineError(500, `failed to populate volume: ${(err as Error).message}`);
      }
      try {
        if (!isEmptyDir(data)) continue;
        // moby copies with continuity's CopyDir, which refuses a file as its source.
        if (st.kind === 'file') throw new EngineError(500, `source ${merged(st.inRoot)} is not directory`);
        if (!st.host) continue; // an init-layer dir: nothing of the image to copy
        try {
          await run('cp', ['-a', '--no-target-directory', `${st.host}/.`, data]);
        } catch (err) {
          log.warn('volume copy-up failed', { volume: name, error: (err as Error).message });
        }
      } finally {
        if (mounted) await vs.unmount(name, inp.ref).catch((err: Error) => log.warn('volume unmount after copy-up failed', { volume: name, error: err.message }));
      }
    }
  } finally {
    await view?.close();
  }
}
