import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive } from '../../util/lock';
import { log } from '../../util/log';
import { AttachHub, resizeTerminal } from './attach-hub';
import { conmonCreate } from './conmon';
import { logRotator, type LogRotation } from './log-rotation';
import { ExitWatcher } from './exit-watcher';
import { RuntimePaths } from './paths';
import { Runc } from './runc';
import { specJson } from './spec';

export interface RuntimeOptions {
  execRoot: string;
  runtimeBinary: string;
  conmonBinary: string;
  /** cgroup parent, unique per daemon so two engines never share cgroups. */
  cgroupParent: string;
}

export interface CreateRequest {
  id: string;
  /** Symlinks to make in the bundle (name → target), e.g. the short names of overlay lower dirs. */
  bundleLinks?: Record<string, string>;
  name: string;
  spec: object;
  logPath: string;
  /** Log rotation (default 10 MiB × 3); see log-rotation.ts. */
  logRotation?: LogRotation;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** A killed monitor whose parent has not reaped it yet still answers kill(pid, 0). */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** Drives conmon and the OCI runtime for containers: bundles, monitors, attach sockets and exit files. */
export class ContainerRuntime {
  readonly paths: RuntimePaths;
  readonly runc: Runc;
  private readonly exits: ExitWatcher;
  private readonly hubs = new Map<string, AttachHub>();

  constructor(private readonly opts: RuntimeOptions) {
    this.paths = new RuntimePaths(opts.execRoot);
    this.runc = new Runc(opts.runtimeBinary, this.paths.runcRoot);
    this.exits = new ExitWatcher(this.paths.exitsDir);
  }

  get conmonBinary(): string {
    return this.opts.conmonBinary;
  }

  /** The (made on demand) empty lower dir for the root file system of a container whose image has no layers. */
  emptyLayerDir(): string {
    const dir = this.paths.emptyLayerDir;
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  init(): void {
    for (const d of [this.paths.runcRoot, path.join(this.opts.execRoot, 'c'), path.join(this.opts.execRoot, 'persist'), path.join(this.opts.execRoot, 'exec')]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    this.exits.start();
    logRotator.resume(path.join(this.opts.execRoot, 'c'));
  }

  shutdown(): void {
    this.removeParentCgroups();
    this.exits.stop();
    for (const hub of this.hubs.values()) hub.close();
    this.hubs.clear();
  }

  cgroupsPath(id: string): string {
    return `/${this.opts.cgroupParent}/${id}`;
  }

  /** Writes the bundle and creates the container under a new conmon; connects the attach socket before start. */
  async create(req: CreateRequest): Promise<number> {
    const bundle = this.paths.bundle(req.id);
    fs.rmSync(bundle, { recursive: true, force: true });
    fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true, mode: 0o700 });
    const linkDirs = new Set<string>();
    for (const [name, target] of Object.entries(req.bundleLinks ?? {})) {
      const link = path.join(bundle, name);
      const dir = path.dirname(link);
      if (!linkDirs.has(dir)) fs.mkdirSync(dir, { recursive: true });
      linkDirs.add(dir);
      fs.symlinkSync(target, link);
    }
    // The bundle lives on the exec root and is rewritten at every start: no fsync needed.
    fs.writeFileSync(path.join(bundle, 'config.json'), specJson(req.spec));
    this.exits.clear(req.id);
    fs.rmSync(this.paths.persistDir(req.id), { recursive: true, force: true });
    const pid = await conmonCreate({
      id: req.id,
      name: req.name,
      runtime: this.opts.runtimeBinary,
      conmonBinary: this.opts.conmonBinary,
      paths: this.paths,
      logPath: req.logPath,
      logRotation: req.logRotation,
      tty: req.tty,
      openStdin: req.openStdin,
      stdinOnce: req.stdinOnce,
    });
    await this.attachHub(req.id);
    return pid;
  }

  async start(id: string): Promise<void> {
    await this.runc.start(id);
  }

  /** The daemon's attach connection for a live container, (re)connecting when needed. */
  async attachHub(id: string): Promise<AttachHub | undefined> {
    const existing = this.hubs.get(id);
    if (existing && !existing.isEnded) return existing;
    const hub = new AttachHub(this.paths.attachSocket(id), this.paths.bundle(id));
    try {
      await hub.connect();
    } catch (err) {
      log.debug('attach connect failed', { id, error: (err as Error).message });
      return undefined;
    }
    this.hubs.set(id, hub);
    void hub.whenEnded().then(() => {
      if (this.hubs.get(id) === hub) this.hubs.delete(id);
    });
    return hub;
  }

  hub(id: string): AttachHub | undefined {
    const h = this.hubs.get(id);
    return h && !h.isEnded ? h : undefined;
  }

  onExit(id: string, handler: (code: number) => void): void {
    this.exits.watch(id, handler);
  }

  exitCode(id: string): number | undefined {
    return this.exits.readExitCode(id);
  }

  /** When the monitor wrote the exit file: the real exit time, even if berthd was down then. */
  exitTime(id: string): Date | undefined {
    try {
      return fs.statSync(this.paths.exitFile(id)).mtime;
    } catch {
      return undefined;
    }
  }

  oomKilled(id: string): boolean {
    return fs.existsSync(path.join(this.paths.persistDir(id), 'oom'));
  }

  /** Whether the container's monitor is still running (it outlives berthd restarts). */
  monitorAlive(id: string): boolean {
    try {
      const pid = Number(fs.readFileSync(this.paths.conmonPidFile(id), 'utf8').trim());
      return pid > 0 && isAlive(pid) && !isZombie(pid);
    } catch {
      return false;
    }
  }

  kill(id: string, signal: string): Promise<unknown> {
    return this.runc.kill(id, signal);
  }

  resize(id: string, rows: number, cols: number): void {
    resizeTerminal(this.paths.ctlFifo(id), rows, cols);
  }

  resizeFifo(ctlFifo: string, rows: number, cols: number): void {
    resizeTerminal(ctlFifo, rows, cols);
  }

  /**
   * After the exit file appears, output may still sit unread in our attach socket: wait (bounded) until the
   * monitor closes it, so attached clients get every byte.
   */
  async drainOutput(id: string, timeoutMs = 2000): Promise<void> {
    const hub = this.hubs.get(id);
    if (!hub || hub.isEnded) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([hub.whenEnded(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** After exit: delete the runtime state and every file the monitor left. */
  async cleanup(id: string): Promise<void> {
    this.exits.unwatch(id);
    this.hubs.get(id)?.close();
    this.hubs.delete(id);
    await this.runc.delete(id, true).catch((err: Error) => log.warn('runtime delete failed', { id, error: err.message }));
    fs.rmSync(this.paths.bundle(id), { recursive: true, force: true });
    fs.rmSync(this.paths.persistDir(id), { recursive: true, force: true });
    this.exits.clear(id);
    this.removeCgroups(id);
  }

  /** The runtime removes the container's cgroups but leaves our parent dirs; drop them when empty. */
  private removeCgroups(id: string): void {
    this.rmdirInEveryController(path.join(this.opts.cgroupParent, id));
    // The parent stays until shutdown: removing it here races with a runtime creating the next container
    // under it ("mkdir /sys/fs/cgroup/devices/<parent>/<id>: no such file or directory").
  }

  /** Removes this daemon's cgroup parent where it is empty (concurrent teardowns may each find it busy). */
  removeParentCgroups(): void {
    this.rmdirInEveryController(this.opts.cgroupParent);
  }

  private rmdirInEveryController(rel: string): void {
    let controllers: string[] = [];
    try {
      controllers = fs.readdirSync(CGROUP_ROOT);
    } catch {
      return;
    }
    for (const ctrl of controllers) {
      try {
        fs.rmdirSync(path.join(CGROUP_ROOT, ctrl, rel));
      } catch {
        /* busy (other containers) or already gone */
      }
    }
  }
}
