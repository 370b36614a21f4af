import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { EngineError, invalidParameter, notFound } from '../../util/errors';
import { log } from '../../util/log';
import { BreakoutError, cleanEntryName, resolveInRoot } from '../../util/root-path';
import { DirExtractor, TarError } from '../../util/tar/dir-extract';
import { packTree } from '../../util/tar/pack';
import { copyTree } from '../../util/tar/tree-copy';
import { TreeWalker } from '../../util/tar/walk';
import { containerUserIds, copyInto, extractInto, type ExtractOptions } from './archive-extract';
import { openClientFile, type ClientFile } from './local-copy';
import { TarFormatError, TarReader, type TarEntry, type TarEntrySink } from '../../util/tar/reader';
import { dropBytes } from '../../util/tar/writev';
import type { EventBus } from '../events/bus';
import type { ImageService } from '../images/service';
import type { ContainerRuntime } from '../runtime/runtime';
import type { OverlaySnapshotter } from '../snapshots/overlay';
import type { VolumeService } from '../volumes/service';
import { etcPaths } from './etc-files';
import { mountPointsOf } from './mounts';
import { RootfsView } from './mounts-view';
import type { ContainerStore } from './store';
import type { ContainerRecord } from './types';

/**
 * docker cp: HEAD/GET/PUT /containers/{id}/archive. Paths are resolved inside the container's root the
 * way the kernel would with that root as `/` (resolveInRoot): symlinks, absolute or with `..`, never lead
 * out. A running container is reached through /proc/<pid>/root and frozen (cgroup freezer) while files
 * are read or written, so its processes cannot swap a path component for a symlink under us
 * (CVE-2018-15664). A stopped container's overlay and volumes are mounted in a private mount namespace
 * (RootfsView). No binary of the container is ever run (CVE-2019-14271).
 */

export interface ArchiveDeps {
  store: ContainerStore;
  snapshots: OverlaySnapshotter;
  images: ImageService;
  runtime: ContainerRuntime;
  /** Where a volume's content is (bind-style local volumes live on their device). */
  volumes?: VolumeService;
  /** Holds off start, exit handling and removal of a container while its stopped file system is mounted. */
  lock?: <T>(id: string, fn: () => Promise<T>) => Promise<T>;
  /** archive-path, export and extract-to-dir events (container sizes are refreshed on extract-to-dir). */
  events?: EventBus;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

// Go os.FileMode bits.
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** A POSIX st_mode as Go's os.FileMode, which the stat header carries. */
export function goFileMode(st: { mode: number }): number {
  const m = st.mode;
  let out = m & 0o777;
  const fmt = m & 0o170000;
  if (fmt === 0o040000) out += GO_DIR;
  else if (fmt === 0o120000) out += GO_SYMLINK;
  else if (fmt === 0o010000) out += GO_PIPE;
  else if (fmt === 0o140000) out += GO_SOCKET;
  else if (fmt === 0o020000) out += GO_DEVICE + GO_CHARDEV;
  else if (fmt === 0o060000) out += GO_DEVICE;
  if (m & 0o4000) out += GO_SETUID;
  if (m & 0o2000) out += GO_SETGID;
  if (m & 0o1000) out += GO_STICKY;
  return out;
}

/** Go's RFC3339Nano (trailing zeros of the fraction dropped) from a bigint stat's nanoseconds. */
export function rfc3339Nano(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().replace(/\.\d+Z$/, '');
  const f = frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${f ? '.' + f : ''}Z`;
}

/** `/a/b/.` and `/a/b/` keep their trailing dot or separator after cleaning (moby PreserveTrailingDotOrSeparator). */
function absContainerPath(p: string): string {
  let clean = path.posix.normalize('/' + p);
  if (clean !== '/' && clean.endsWith('/')) clean = clean.slice(0, -1);
  if (p.endsWith('/.') || p === '.') return clean === '/' ? '/.' : clean + '/.';
  if (p.endsWith('/') && clean !== '/') return clean + '/';
  return clean;
}

/** Resolves a container path in `root`: the directory part with symlinks followed, the last component as is. */
function resolveStatPath(root: string, abs: string): { host: string; base: string } {
  const trimmed = abs.replace(/\/\.?$/, '');
  const base = path.posix.basename(abs.endsWith('/.') ? abs.slice(0, -2) : trimmed) || '/';
  if (abs.endsWith('/.') || abs.endsWith('/')) {
    // A trailing separator or dot: the path itself must be a directory, so it is followed.
    return { host: resolveInRoot(root, trimmed, true), base };
  }
  return { host: resolveInRoot(root, trimmed, false), base };
}

function toContainerPath(root: string, host: string): string {
  const rel = path.relative(root, host);
  return '/' + (rel === '' ? '' : rel);
}

/** packTree's skip test: kernel file systems of a running container (/proc, /sys, /dev) are not archived, only their mount points. */
function kernelFsSkip(root: string): (name: string, host: string) => boolean {
  const rootNorm = path.normalize(root);
  return (_name, h) => /^\/(proc|sys|dev)\/./.test(toContainerPath(rootNorm, path.normalize(h)));
}

/**
 * Freezes or thaws a container's cgroup through cgroupfs (the freezer controller on v1, cgroup.freeze on
 * v2), which is what `runc pause` does without a process per call. 'absent' when neither file exists;
 * 'failed' when the cgroup did not settle in time (a task in uninterruptible sleep): it is thawed again
 * and the operation goes on unfrozen rather than hang.
 */
export async function setFrozen(cgroupsPath: string, frozen: boolean): Promise<'done' | 'absent' | 'failed'> {
  const v1 = path.join('/sys/fs/cgroup/freezer', cgroupsPath, 'freezer.state');
  const v2 = path.join('/sys/fs/cgroup', cgroupsPath, 'cgroup.freeze');
  const deadline = Date.now() + 2000;
  try {
    if (fs.existsSync(v1)) {
      const want = frozen ? 'FROZEN' : 'THAWED';
      for (;;) {
        fs.writeFileSync(v1, want);
        if (fs.readFileSync(v1, 'utf8').trim() === want) return 'done';
        if (Date.now() > deadline) {
          if (frozen) fs.writeFileSync(v1, 'THAWED');
          throw new Error(`cgroup did not reach ${want}`);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    if (fs.existsSync(v2)) {
      fs.writeFileSync(v2, frozen ? '1' : '0');
      const events = path.join(path.dirname(v2), 'cgroup.events');
      while (!fs.readFileSync(events, 'utf8').includes(`frozen ${frozen ? 1 : 0}`)) {
        if (Date.now() > deadline) {
          if (frozen) fs.writeFileSync(v2, '0');
          throw new Error('cgroup did not freeze');
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      return 'done';
    }
  } catch (err) {
    log.warn('cgroup freezer failed', { cgroup: cgroupsPath, error: (err as Error).message });
    return 'failed';
  }
  return 'absent';
}

export class ContainerArchive {
  private readonly frozen = new Map<string, { count: number; done: Promise<void> }>();

  constructor(private readonly d: ArchiveDeps) {
    // Mount points of views that a killed daemon left (the mounts themselves died with their namespace).
    const views = this.d.runtime.paths.viewsDir;
    let stale: string[] = [];
    try {
      stale = fs.readdirSync(views);
    } catch {
      /* none yet */
    }
    for (const name of stale) {
      try {
        if (name.endsWith('.l')) fs.rmSync(path.join(views, name), { recursive: true, force: true });
        else fs.rmdirSync(path.join(views, name));
      } catch (err) {
        log.warn('stale view mount point not removed', { name, error: (err as Error).message });
      }
    }
    // A daemon killed during a cp into a running container leaves it frozen: thaw what is not paused.
    for (const c of this.d.store.all()) {
      if (c.State.Running && !c.State.Paused) void setFrozen(this.d.runtime.cgroupsPath(c.Id), false);
    }
  }

  /**
   * Runs `fn` with a host path showing the container's root file system (volumes included), the
   * container frozen if it runs.
   */
  async withRoot<T>(c: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
    const lock = this.d.lock ?? (<R>(_id: string, f: () => Promise<R>) => f());
    // The state is looked at, and a running container frozen, under the container's lock: never in the
    // middle of a start (a process frozen between runtime create and start would hang the start).
    let live: { pid: number; thaw: () => Promise<void> } | undefined;
    const result = await lock(c.Id, async () => {
      if (!this.d.store.find(c.Id)) throw notFound(`No such container: ${c.Id}`);
      if (this.isLive(c)) {
        live = { pid: c.State.Pid, thaw: await this.freeze(c) };
        return undefined as T;
      }
      return this.withStoppedRoot(c, fn);
    });
    if (!live) return result;
    // Frozen, it cannot exit; the lock is not held while files move, so stop and kill only queue behind.
    try {
      return await fn(`/proc/${live.pid}/root`);
    } finally {
      await live.thaw();
    }
  }

  private isLive(c: ContainerRecord): boolean {
    return c.State.Running && c.State.Pid > 0 && !c.State.Restarting;
  }

  private async withStoppedRoot<T>(c: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
    let lowers: string[] = [];
    try {
      lowers = this.d.images.lowerDirs(c.Image);
    } catch {
      /* image gone: the container's own layer only */
    }
    const upper = this.d.snapshots.upperDir(c.Id);
    this.d.snapshots.prepare(c.Id);
    const binds: Array<{ destination: string; source: string; readonly: boolean }> = [];
    for (const m of mountPointsOf(c)) {
      if (m.Type === 'tmpfs' || !m.Source) continue;
      let source = m.Source;
      if (m.Type === 'volume' && m.Name && this.d.volumes?.has(m.Name)) {
        try {
          const src = this.d.volumes.source(m.Name);
          if (!src.bind) continue; // a tmpfs (or other) volume has no content while nothing mounts it
          source = src.bind;
        } catch {
          continue; // a bind-style volume whose device is gone
        }
      }
      binds.push({ destination: m.Destination, source, readonly: !m.RW });
    }
    // /etc/hosts, /etc/hostname and /etc/resolv.conf as the container last had them (moby's network mounts).
    const etc = etcPaths(this.d.store.dir(c.Id));
    for (const [destination, source] of [['/etc/hosts', etc.hosts], ['/etc/hostname', etc.hostname], ['/etc/resolv.conf', etc.resolvConf]] as const) {
      if (fs.existsSync(source) && !binds.some((b) => b.destination === destination)) binds.push({ destination, source, readonly: false });
    }
    // Writable even for reads (the container's lock keeps a start out): mount points of volumes that the
    // container never created yet are made in its layer, as a start would.
    const view = await RootfsView.open({ lowers: lowers.length ? lowers : [this.d.runtime.emptyLayerDir()], upper, work: this.d.snapshots.workDir(c.Id), binds, tmpRoot: this.d.runtime.paths.viewsDir });
    try {
      return await fn(view.root);
    } finally {
      await view.close();
    }
  }

  /** Freezes a running container (not one a user paused); returns the thaw. Nested calls share one freeze. */
  private async freeze(c: ContainerRecord): Promise<() => Promise<void>> {
    if (c.State.Paused) return async () => undefined;
    let f = this.frozen.get(c.Id);
    if (f) {
      f.count++;
      await f.done;
    } else {
      const done = setFrozen(this.d.runtime.cgroupsPath(c.Id), true)
        .then((ok) => (ok === 'absent' ? this.d.runtime.runc.pause(c.Id) : undefined))
        .then(
          () => undefined,
          (err: Error) => log.warn('cannot freeze container for cp', { id: c.Id, error: err.message }),
        );
      f = { count: 1, done };
      this.frozen.set(c.Id, f);
      await done;
    }
    return async () => {
      const cur = this.frozen.get(c.Id)!;
      if (--cur.count > 0) return;
      this.frozen.delete(c.Id);
      if (c.State.Paused) return;
      if ((await setFrozen(this.d.runtime.cgroupsPath(c.Id), false)) === 'absent') await this.d.runtime.runc.resume(c.Id).catch(() => undefined);
    };
  }

  private notFound(ref: string, p: string): EngineError {
    return notFound(`Could not find the file ${p} in container ${ref}`);
  }

  /** The stat moby computes for a path: lstat of the resolved path, link target resolved inside the root. */
  private statIn(root: string, ref: string, p: string): { stat: PathStat; host: string; abs: string } {
    const abs = absContainerPath(p);
    let host: string;
    let base: string;
    try {
      ({ host, base } = resolveStatPath(root, abs));
      // The root itself is reached through /proc/<pid>/root, a magic link: look at what it points to.
      if (path.normalize(host) === path.normalize(root)) host = `${path.normalize(root)}/.`;
    } catch {
      throw this.notFound(ref, p);
    }
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(host, { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw this.notFound(ref, p);
      if (code === 'ENOTDIR') throw invalidParameter(`lstat ${abs}: not a directory`);
      throw err;
    }
    if ((abs.endsWith('/') || abs.endsWith('/.')) && !st.isDirectory()) throw invalidParameter(`lstat ${abs}: not a directory`);
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      try {
        linkTarget = toContainerPath(root, resolveInRoot(root, toContainerPath(root, host), true));
      } catch {
        linkTarget = '';
      }
    }
    return {
      stat: { name: base, size: Number(st.size), mode: goFileMode({ mode: Number(st.mode) }), mtime: rfc3339Nano(st.mtimeNs), linkTarget },
      host,
      abs,
    };
  }

  /** HEAD /containers/{id}/archive. */
  async stat(ref: string, p: string): Promise<PathStat> {
    if (!p) throw invalidParameter('Path cannot be empty');
    const c = this.d.store.get(ref);
    return this.withRoot(c, async (root) => this.statIn(root, ref, p).stat);
  }

  /**
   * GET /containers/{id}/archive: calls `start` with the stat once the path is known to exist, then
   * streams the tar into `out`.
   */
  async get(ref: string, p: string, start: (stat: PathStat) => Writable): Promise<void> {
    if (!p) throw invalidParameter('Path cannot be empty');
    const c = this.d.store.get(ref);
    await this.withRoot(c, async (root) => {
      const { stat, host, abs } = this.statIn(root, ref, p);
      const out = start(stat);
      const name = abs.endsWith('/.') ? '.' : stat.name;
      await packTree(host, name, out, { skip: kernelFsSkip(root), reuseBuffers: true });
    });
    this.d.events?.container(c, 'archive-path');
  }

  /** GET /containers/{id}/export: the whole file system as a tar, names relative to / (kernel file systems left out). */
  async export(ref: string, start: () => Writable): Promise<void> {
    const c = this.d.store.get(ref);
    await this.withRoot(c, async (root) => {
      const out = start();
      await packTree(root, '', out, { skip: kernelFsSkip(root), reuseBuffers: true });
    });
    this.d.events?.container(c, 'export');
  }

  /** PUT /containers/{id}/archive: extracts a tar into an existing directory of the container. */
  async put(ref: string, p: string, body: Readable, opts: PutOptions): Promise<void> {
    await this.intoDirectory(ref, p, opts, (root, dest, x) => extractInto(root, dest, body, x));
  }

  /**
   * berth cp with a client on this machine (see local-copy.ts): the client's file is opened (or the
   * request refused with 421) and the copy made straight between it and the container.
   */
  async copyLocal(ref: string, req: LocalCopyRequest): Promise<void> {
    const file = openClientFile(req.client);
    try {
      if (req.direction === 'in') await this.putLocal(ref, req.path, file, req.name, req);
      else await this.getLocal(ref, req.path, file, req.name);
    } finally {
      file.close();
    }
  }

  /**
   * berth cp into a container from a local client: the tree of `source` goes under the directory `p`,
   * its top entry named `name` ('.' for a directory's contents), as its tar would have.
   */
  private async putLocal(ref: string, p: string, source: ClientFile, name: string, opts: PutOptions): Promise<void> {
    await this.intoDirectory(ref, p, opts, (root, dest, x) =>
      copyInto(root, dest, new TreeWalker(source.path, name, { followTop: true, strict: true }), x),
    );
  }

  /** Resolves the extraction point `p` and checks it can be written, then lets `extract` fill it. */
  private async intoDirectory(
    ref: string,
    p: string,
    opts: PutOptions,
    extract: (root: string, dest: string, x: ExtractOptions) => Promise<void>,
  ): Promise<void> {
    if (!p) throw invalidParameter('Path cannot be empty');
    const c = this.d.store.get(ref);
    const abs = absContainerPath(p).replace(/\/\.?$/, '') || '/';
    await this.withRoot(c, async (root) => {
      let dest: string;
      try {
        dest = resolveInRoot(root, abs, true);
      } catch {
        throw this.notFound(ref, p);
      }
      let st: fs.Stats;
      try {
        st = fs.statSync(dest);
      } catch {
        throw this.notFound(ref, p);
      }
      if (!st.isDirectory()) throw invalidParameter('extraction point is not a directory');
      const inContainer = toContainerPath(root, dest);
      const mount = mountPointsOf(c)
        .filter((m) => inContainer === m.Destination || inContainer.startsWith(m.Destination + '/'))
        .sort((a, b) => b.Destination.length - a.Destination.length)[0];
      if (mount && !mount.RW) throw invalidParameter('mounted volume is marked read-only');
      if (!mount && c.HostConfig.ReadonlyRootfs) throw invalidParameter('container rootfs is marked read-only');
      // moby 28: entries keep the archive's owners; with copyUIDGID they go to the container's user.
      const chown = opts.copyUIDGID && c.Config.User ? containerUserIds(root, c.Config.User) : undefined;
      await extract(root, inContainer, { noOverwriteDirNonDir: opts.noOverwriteDirNonDir, chown });
    });
    this.d.events?.container(c, 'extract-to-dir');
  }

  /**
   * berth cp out of a container to a local client: what GET would archive at `p` is written under the
   * client's directory `dest` as the CLI would extract it, its top entry named `name`.
   */
  private async getLocal(ref: string, p: string, dest: ClientFile, name: string): Promise<void> {
    if (!p) throw invalidParameter('Path cannot be empty');
    if (!dest.isDirectory) throw invalidParameter('the destination is not a directory');
    const c = this.d.store.get(ref);
    await this.withRoot(c, async (root) => {
      const { host } = this.statIn(root, ref, p);
      const x = new DirExtractor(dest.path, {});
      try {
        await copyTree(new TreeWalker(host, name, { skip: kernelFsSkip(root) }), (e) => x.begin(e));
      } catch (err) {
        // 422 tells the client the message is the extraction's own (berth cp prints it as its own extraction would).
        throw err instanceof TarError ? new EngineError(422, err.message) : err;
      }
      x.finish();
    });
    this.d.events?.container(c, 'archive-path');
  }
}

export interface PutOptions {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

export interface LocalCopyRequest extends PutOptions {
  /** in: the client's tree into the container directory `path`; out: the container's `path` into the client's directory. */
  direction: 'in' | 'out';
  path: string;
  /** The name the copied tree's top gets ('.' for a directory's contents). */
  name: string;
  /** What the client holds open (local-copy.ts ClientFileRef), as it sent it. */
  client: unknown;
}
