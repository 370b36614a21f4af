import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import { EngineError, conflict, invalidParameter, noSuchContainer, notModified } from '../../util/errors';
import { newId } from '../../util/ids';
import { log } from '../../util/log';
import type { EventBus } from '../events/bus';
import type { ImageService } from '../images/service';
import { RuntimeCreateError } from '../runtime/conmon';
import type { ContainerRuntime } from '../runtime/runtime';
import { buildSpec } from '../runtime/spec';
import { logRotationFromConfig } from '../runtime/log-rotation';
import { resolveUser } from '../runtime/user';
import type { OverlaySnapshotter } from '../snapshots/overlay';
import { AttachSession, parseDetachKeys, type AttachSink } from './attach';
import { buildRecord, type CreateBody } from './create-config';
import { etcPaths, writeEtcFiles } from './etc-files';
import { containerFilter } from './filters';
import { labelMatches } from '../../util/labels';
import { parseFilterTimestamp } from '../images/time';
import { KeyedMutex } from './locks';
import { streamLogs, type LogOptions } from './logs';
import type { ContainerNetworking } from './networking';
import { Backoff, restartOnDaemonStart, shouldRestart, validateRestartPolicy } from './restart-policy';
import { runcUpdateArgs, UPDATABLE_RESOURCES, type ResourceUpdate } from '../runtime/update';
import type { ContainerStore } from './store';
import type { ContainerRecord, RestartPolicy } from './types';
import { ZERO_TIME } from './types';
import { inspectView, summaryView } from './view';
import { generateName, validateName } from './names';
import type { LogRecord } from '../runtime/log-reader';
import type { VolumeService } from '../volumes/service';
import { mountVolumes, ociMounts, resolveMounts, unmountVolumes, volumeNamesOf } from './mounts';
import { copyUpVolumes } from './mounts-copy';
import { ContainerSizes } from './sizes';

/** moby's setExitCodeFromError adds this to a runtime error about a file/directory mismatch of a mount. */
const NOT_A_DIRECTORY_HINT = ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface ContainerServiceDeps {
  networking: ContainerNetworking;
  store: ContainerStore;
  runtime: ContainerRuntime;
  images: ImageService;
  snapshots: OverlaySnapshotter;
  events: EventBus;
  /** Volumes and mounts (-v, --mount, VOLUME); without it containers get no mounts of their own. */
  volumes?: VolumeService;
}

/** Exit code moby records when the runtime could not start the process, by the kind of failure. */
function startFailureExitCode(message: string, command: string): number {
  const m = message.toLowerCase();
  if (m.includes(command.toLowerCase()) && (m.includes('executable file not found') || m.includes('no such file or directory'))) return 127;
  if (m.includes('permission denied')) return 126;
  return 128;
}

/** Normalises a signal given as `KILL`, `SIGKILL` or `9` to the runtime's name form. */
export function parseSignal(sig: string): string {
  const s = sig.trim().toUpperCase();
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    const name = Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
    if (!name || n === 0) throw invalidParameter(`Invalid signal: ${sig}`);
    return name;
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  if (!(name in osConstants.signals)) throw invalidParameter(`Invalid signal: ${sig}`);
  return name;
}

/** The container life cycle: create, start, attach, wait, stop, kill, remove, logs, and recovery after a restart. */
export class ContainerService {
  private readonly mutex = new KeyedMutex();
  private readonly pendingAttach = new Map<string, Set<AttachSession>>();
  private readonly exitListeners = new Map<string, Set<(code: number) => void>>();
  private readonly removeListeners = new Map<string, Set<(code: number) => void>>();
  /** Runtime teardown still running after an exit was reported (kept off the exit → wait path). */
  private readonly pendingCleanups = new Map<string, Promise<void>>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly backoffs = new Map<string, Backoff>();

  private readonly sizes: ContainerSizes;

  constructor(private readonly d: ContainerServiceDeps) {
    this.sizes = new ContainerSizes((id) => d.snapshots.upperDir(id));
    d.events.subscribe(this.sizes.onEvent);
  }

  private get store() {
    return this.d.store;
  }

  count(): { total: number; running: number; paused: number; stopped: number } {
    const all = this.store.all();
    const running = all.filter((c) => c.State.Status === 'running').length;
    const paused = all.filter((c) => c.State.Status === 'paused').length;
    return { total: all.length, running, paused, stopped: all.length - running - paused };
  }

  usesImage(imageId: string): ContainerRecord | undefined {
    return this.store.all().find((c) => c.Image === imageId);
  }

  // ---- create ----

  async create(body: CreateBody, requestedName?: string): Promise<{ Id: string; Warnings: string[] }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidParameter('invalid JSON: config must be an object');
    if (!body.Image || typeof body.Image !== 'string') throw invalidParameter('no image specified'); // moby: "No image specified"? kept lower-case as moby 28
    const name = requestedName ? validateName(requestedName) : generateName((n) => this.store.nameTaken(n));
    if (this.store.nameTaken(name)) throw this.store.nameConflict(name);
    const image = this.d.images.get(body.Image);
    const id = newId();
    const warnings: string[] = [];
    const rec = buildRecord({ id, name, body, imageId: image.id, imageRef: body.Image, imageConfig: image.config, lookupContainer: (r) => this.store.find(r), warnings });
    await this.d.networking.validate?.(rec);
    const mountPoints = this.d.volumes
      ? resolveMounts({ hostConfig: rec.HostConfig, volumes: rec.Config.Volumes, volumeService: this.d.volumes, lookupContainer: (r) => this.store.find(r) })
      : [];
    if (mountPoints.length) rec.MountPoints = mountPoints;
    this.store.add(rec);
    try {
      this.d.snapshots.prepare(id);
      if (this.d.volumes && mountPoints.length) {
        const mergedDir = path.join(this.d.snapshots.dir(id), 'merged');
        await copyUpVolumes({ mounts: mountPoints, lowers: this.d.images.lowerDirs(image.id), vs: this.d.volumes, tmpRoot: this.d.runtime.paths.viewsDir, mergedDir, ref: `create:${id}` });
      }
      this.store.save(rec);
    } catch (err) {
      this.store.remove(id);
      this.d.snapshots.remove(id);
      this.d.volumes?.removeAnonymous(volumeNamesOf(rec)); // as moby's clean-up of a failed create (RemoveVolume)
      throw err;
    }
    this.d.events.publish('container', 'create', id);
    return { Id: id, Warnings: warnings };
  }

  // ---- start ----

  async start(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.mutex.run(c.Id, () => this.startLocked(c));
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    if (c.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
    if (c.State.Running && !c.State.Restarting) throw notModified();
    if (c.State.Status === 'removing' || !this.store.find(c.Id)) throw noSuchContainer(c.Id);
    this.cancelRestart(c.Id);
    await this.pendingCleanups.get(c.Id);
    let pid: number;
    try {
      pid = await this.launch(c);
    } catch (err) {
      throw await this.failStart(c, err);
    }

    c.State = {
      ...c.State,
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: pid,
      ExitCode: 0,
      Error: '',
      StartedAt: new Date().toISOString(),
      FinishedAt: c.State.FinishedAt ?? ZERO_TIME,
    };
    c.ManuallyStopped = false;
    this.store.save(c);
    this.d.events.publish('container', 'start', c.Id);
    this.d.runtime.onExit(c.Id, (code) => void this.handleExit(c.Id, code));
  }

  /** Everything between a start request and a running process; any failure is handled by failStart. */
  private async launch(c: ContainerRecord): Promise<number> {
    const image = this.d.images.get(c.Image);
    const lowers = this.d.images.lowerDirs(image.id);
    const dir = this.store.dir(c.Id);
    const plan = await this.d.networking.prepare(c);
    const etc = writeEtcFiles(dir, c, plan);
    this.d.snapshots.prepare(c.Id);
    const overlay = this.d.snapshots.mountOptions(c.Id, lowers.length ? lowers : [this.d.runtime.emptyLayerDir()]);
    if (this.d.volumes) await mountVolumes(c, this.d.volumes);
    const spec = buildSpec({
      container: c,
      user: resolveUser(c.Config.User, (p) => this.readImageFile(c.Id, lowers, p)),
      rootfsOverlay: overlay.options,
      etcFiles: etc,
      cgroupsPath: this.d.runtime.cgroupsPath(c.Id),
      network: { path: plan.netnsPath, host: plan.hostNetwork },
      readImageFile: (p) => this.readImageFile(c.Id, lowers, p),
      lookupContainer: (r) => this.store.find(r),
      userMounts: this.d.volumes ? ociMounts(c, this.d.volumes) : undefined,
    });
    const pid = await this.d.runtime.create({
      id: c.Id,
      name: c.Name.slice(1),
      spec,
      bundleLinks: overlay.links,
      logPath: this.logPath(c.Id),
      logRotation: logRotationFromConfig(c.HostConfig.LogConfig),
      tty: c.Config.Tty,
      openStdin: c.Config.OpenStdin,
      stdinOnce: c.Config.StdinOnce,
    });
    await this.d.networking.attach(c, pid);
    const hub = this.d.runtime.hub(c.Id);
    if (hub) for (const s of this.pendingAttach.get(c.Id) ?? []) s.bind(hub);
    this.pendingAttach.delete(c.Id);
    await this.d.runtime.start(c.Id);
    return pid;
  }

  /**
   * A start that failed at any step: undo what was set up, record the error and exit code as moby does,
   * end waiting attach clients, apply AutoRemove (`docker run --rm` waits for the removal), and return the
   * error for the API.
   */
  private async failStart(c: ContainerRecord, err: unknown): Promise<EngineError> {
    await this.d.runtime.cleanup(c.Id);
    await this.d.networking.release(c).catch((e: Error) => log.warn('network release failed', { id: c.Id, error: e.message }));
    if (this.d.volumes) await unmountVolumes(c, this.d.volumes);
    const runtimeMsg = err instanceof Error ? err.message : String(err);
    let message =
      err instanceof RuntimeCreateError
        ? `failed to create task for container: failed to create shim task: OCI runtime create failed: ${runtimeMsg}: unknown`
        : runtimeMsg;
    c.State.ExitCode = startFailureExitCode(message, c.Path);
    if (err instanceof RuntimeCreateError && c.State.ExitCode !== 126 && /not a directory/i.test(message)) {
      message += NOT_A_DIRECTORY_HINT;
      c.State.ExitCode = 127;
    }
    c.State.Error = message;
    this.store.save(c);
    for (const s of this.pendingAttach.get(c.Id) ?? []) s.close();
    this.pendingAttach.delete(c.Id);
    if (c.HostConfig.AutoRemove) await this.removeLocked(c);
    if (err instanceof EngineError) return err;
    return new EngineError(c.State.ExitCode === 128 ? 500 : 400, message);
  }

  /** Reads a file as the container would see it before start: its own upper dir, then the image layers. */
  private readImageFile(id: string, lowers: string[], p: string): string | undefined {
    for (const dir of [this.d.snapshots.upperDir(id), ...lowers]) {
      try {
        return fs.readFileSync(path.join(dir, p), 'utf8');
      } catch {
        /* not in this layer */
      }
    }
    return undefined;
  }

  logPath(id: string): string {
    return path.join(this.store.dir(id), 'container.log');
  }

  // ---- exit ----

  private async handleExit(id: string, code: number): Promise<void> {
    await this.mutex.run(id, async () => {
      const c = this.store.find(id);
      if (!c || (!c.State.Running && c.State.Status !== 'paused')) return;
      const oom = this.d.runtime.oomKilled(id);
      const finishedAt = (this.d.runtime.exitTime(id) ?? new Date()).toISOString();
      await this.d.runtime.drainOutput(id);
      this.cleanupInBackground(id, () => this.d.networking.release(c));
      // Volumes mounted on the host are let go before the exit is reported (moby's Cleanup → UnmountVolumes).
      if (this.d.volumes) await unmountVolumes(c, this.d.volumes);
      c.State = {
        ...c.State,
        Status: 'exited',
        Running: false,
        Paused: false,
        Restarting: false,
        OOMKilled: oom,
        Pid: 0,
        ExitCode: code,
        FinishedAt: finishedAt,
      };
      this.store.save(c);
      if (oom) this.d.events.publish('container', 'oom', id);
      this.d.events.publish('container', 'die', id, { exitCode: String(code) });
      this.notify(this.exitListeners, id, code);
      if (c.HostConfig.AutoRemove) await this.removeLocked(c);
      else this.scheduleRestart(c);
    });
  }

  // ---- restart policies ----

  /** Applies the restart policy after an exit: the container waits in `restarting` for its back-off delay. */
  private scheduleRestart(c: ContainerRecord): void {
    if (!shouldRestart(c.HostConfig.RestartPolicy, c.State.ExitCode, c.RestartCount, c.ManuallyStopped)) {
      this.backoffs.delete(c.Id);
      return;
    }
    let backoff = this.backoffs.get(c.Id);
    if (!backoff) this.backoffs.set(c.Id, (backoff = new Backoff()));
    const delay = backoff.next(Date.parse(c.State.FinishedAt) - Date.parse(c.State.StartedAt));
    c.State = { ...c.State, Status: 'restarting', Running: true, Restarting: true, Pid: 0 };
    this.store.save(c);
    this.armRestart(c, delay);
  }

  private armRestart(c: ContainerRecord, delayMs: number): void {
    this.cancelRestart(c.Id);
    const timer = setTimeout(() => {
      this.restartTimers.delete(c.Id);
      void this.mutex.run(c.Id, async () => {
        if (!this.store.find(c.Id) || !c.State.Restarting) return;
        c.RestartCount++;
        try {
          await this.startLocked(c);
        } catch (err) {
          log.warn('restart failed', { id: c.Id, error: (err as Error).message });
          c.State = { ...c.State, Status: 'exited', Running: false, Restarting: false };
          this.store.save(c);
        }
      });
    }, delayMs);
    timer.unref();
    this.restartTimers.set(c.Id, timer);
  }

  private cancelRestart(id: string): void {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  /** A restarting container that a user stops or removes: it just stays down. */
  private stopRestarting(c: ContainerRecord): void {
    this.cancelRestart(c.Id);
    this.backoffs.delete(c.Id);
    c.State = { ...c.State, Status: 'exited', Running: false, Restarting: false };
    this.store.save(c);
  }

  /** runc delete and file removal, started now, awaited by whoever needs the runtime state gone. */
  private cleanupInBackground(id: string, then?: () => unknown): void {
    const prev = this.pendingCleanups.get(id) ?? Promise.resolve();
    const p: Promise<void> = prev
      .then(() => this.d.runtime.cleanup(id))
      .then(then)
      .then(
        () => undefined,
        (err: Error) => log.warn('cleanup failed', { id, error: err.message }),
      )
      .finally(() => {
        if (this.pendingCleanups.get(id) === p) this.pendingCleanups.delete(id);
      });
    this.pendingCleanups.set(id, p);
  }

  /** Waits for every background cleanup (daemon shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.pendingCleanups.values()]);
  }

  private notify(map: Map<string, Set<(code: number) => void>>, id: string, code: number): void {
    const set = map.get(id);
    map.delete(id);
    for (const fn of set ?? []) fn(code);
  }

  private listen(map: Map<string, Set<(code: number) => void>>, id: string, fn: (code: number) => void): () => void {
    let set = map.get(id);
    if (!set) map.set(id, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  // ---- wait ----

  /** Resolves with the exit code when `condition` is met; `signal` aborts the wait (client gone). */
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } }> {
    const c = this.store.get(ref);
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidParameter(`invalid condition: "${condition}"`);
    const running = c.State.Running || c.State.Status === 'paused';
    if (condition === 'not-running' && !running) return Promise.resolve({ StatusCode: c.State.ExitCode });
    const map = condition === 'removed' ? this.removeListeners : this.exitListeners;
    return new Promise((resolve, reject) => {
      const off = this.listen(map, c.Id, (code) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ StatusCode: code });
      });
      const onAbort = () => {
        off();
        reject(new Error('wait aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---- attach ----

  /** The errors attach gives, raised before a client's connection is taken over. */
  checkAttachable(ref: string, detachKeys?: string): number[] {
    const c = this.store.get(ref);
    if (c.State.Paused) throw conflict(`container ${c.Id} is paused, unpause the container before attach`);
    try {
      return parseDetachKeys(detachKeys ?? '');
    } catch (err) {
      throw invalidParameter((err as Error).message);
    }
  }

  attach(
    ref: string,
    opts: { stdin: boolean; stdout: boolean; stderr: boolean; stream: boolean; logs: boolean; detachKeys?: string },
    sink: AttachSink,
  ): AttachSession {
    const c = this.store.get(ref);
    const keys = this.checkAttachable(ref, opts.detachKeys);
    const session = new AttachSession(
      {
        stdin: opts.stdin && c.Config.OpenStdin,
        stdout: opts.stdout,
        stderr: opts.stderr,
        stdinOnce: c.Config.StdinOnce,
        detachKeys: keys,
        onDetach: () => this.d.events.publish('container', 'detach', c.Id),
      },
      sink,
    );
    this.d.events.publish('container', 'attach', c.Id);
    const bindLive = () => {
      if (!opts.stream) return session.close();
      const hub = this.d.runtime.hub(c.Id);
      if (hub && c.State.Running) session.bind(hub);
      else if (c.State.Status === 'created') {
        let set = this.pendingAttach.get(c.Id);
        if (!set) this.pendingAttach.set(c.Id, (set = new Set()));
        set.add(session);
      } else session.close();
    };
    if (opts.logs) {
      void streamLogs(this.logPath(c.Id), { stdout: opts.stdout, stderr: opts.stderr, follow: false }, (rec) =>
        sink.output(rec.stream, rec.data),
      ).then(bindLive, bindLive);
    } else bindLive();
    return session;
  }

  detachSession(ref: string, session: AttachSession): void {
    session.close();
    const c = this.store.find(ref);
    if (c) this.pendingAttach.get(c.Id)?.delete(session);
  }

  resize(ref: string, rows: number, cols: number): void {
    const c = this.store.get(ref);
    if (!c.State.Running) throw conflict(`cannot resize a stopped container: unknown`);
    if (c.Config.Tty) this.d.runtime.resize(c.Id, rows, cols);
    this.d.events.container(c, 'resize', { height: String(rows), width: String(cols) });
  }

  // ---- logs ----

  async logs(ref: string, opts: LogOptions, emit: (rec: LogRecord) => Promise<void> | void, aborted: AbortSignal): Promise<void> {
    const c = this.store.get(ref);
    const running = () => c.State.Running || c.State.Status === 'paused';
    const stopped = new Promise<void>((resolve) => {
      if (!running()) return resolve();
      const off = this.listen(this.exitListeners, c.Id, () => resolve());
      aborted.addEventListener('abort', () => {
        off();
        resolve();
      });
    });
    await streamLogs(this.logPath(c.Id), opts, emit, opts.follow ? { stopped, aborted } : undefined);
  }

  // ---- stop / kill ----

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.store.get(ref);
    const sig = parseSignal(signal);
    if (!c.State.Running) throw conflict(`cannot kill container: ${ref}: container ${c.Id} is not running`);
    if (c.State.Restarting) throw conflict(`cannot kill container: ${ref}: container ${c.Id} is restarting, wait until the container is running`);
    if (sig === parseSignal(c.Config.StopSignal || 'SIGTERM')) {
      c.ManuallyStopped = true;
      this.store.save(c);
    }
    this.d.events.publish('container', 'kill', c.Id, { signal: String(osConstants.signals[sig as keyof typeof osConstants.signals]) });
    await this.d.runtime.kill(c.Id, sig).catch((err: Error) => {
      if (c.State.Running) throw err;
    });
    if (c.State.Paused) await this.d.runtime.runc.resume(c.Id).catch(() => undefined);
  }

  /** Resolves true when the container has exited within `ms` (negative: wait forever). */
  private waitForExit(c: ContainerRecord, ms: number): Promise<boolean> {
    if (!c.State.Running) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = ms >= 0 ? setTimeout(() => (off(), resolve(false)), ms) : undefined;
      const off = this.listen(this.exitListeners, c.Id, () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async stop(ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    const c = this.store.get(ref);
    if (!c.State.Running) throw notModified();
    c.ManuallyStopped = true;
    this.store.save(c);
    if (c.State.Restarting) {
      await this.mutex.run(c.Id, async () => this.stopRestarting(c));
      return;
    }
    const sig = parseSignal(signal || c.Config.StopSignal || 'SIGTERM');
    const timeout = timeoutSeconds ?? c.Config.StopTimeout ?? 10;
    this.d.events.container(c, 'kill', { signal: String(osConstants.signals[sig as keyof typeof osConstants.signals]) });
    await this.d.runtime.kill(c.Id, sig).catch(() => undefined);
    if (c.State.Paused) await this.d.runtime.runc.resume(c.Id).catch(() => undefined);
    if (!(await this.waitForExit(c, timeout < 0 ? -1 : timeout * 1000))) {
      this.d.events.container(c, 'kill', { signal: '9' });
      await this.d.runtime.kill(c.Id, 'SIGKILL').catch(() => undefined);
      await this.waitForExit(c, -1);
    }
    this.d.events.publish('container', 'stop', c.Id);
  }

  async restart(ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    const c = this.store.get(ref);
    if (c.State.Running) await this.stop(c.Id, timeoutSeconds, signal);
    await this.start(c.Id);
    this.d.events.publish('container', 'restart', c.Id);
  }

  // ---- pause / rename ----

  async pause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.mutex.run(c.Id, async () => {
      if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
      if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
      await this.d.runtime.runc.pause(c.Id);
      c.State = { ...c.State, Status: 'paused', Paused: true };
      this.store.save(c);
      this.d.events.publish('container', 'pause', c.Id);
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.mutex.run(c.Id, async () => {
      if (!c.State.Paused) throw conflict(`Container ${c.Id} is not paused`);
      await this.d.runtime.runc.resume(c.Id);
      c.State = { ...c.State, Status: 'running', Paused: false };
      this.store.save(c);
      this.d.events.publish('container', 'unpause', c.Id);
    });
  }

  rename(ref: string, newName: string): void {
    const c = this.store.get(ref);
    if (!newName) throw invalidParameter('Neither old nor new names may be empty');
    const name = validateName(newName);
    if (`/${name}` === c.Name) throw invalidParameter('Renaming a container with the same name as its current name');
    const oldName = c.Name;
    this.store.rename(c, name);
    this.d.events.publish('container', 'rename', c.Id, { oldName });
  }


  // ---- remove ----

  async remove(ref: string, opts: { force: boolean; volumes?: boolean }): Promise<void> {
    const c = this.store.get(ref);
    if (c.State.Restarting && opts.force) await this.mutex.run(c.Id, async () => this.stopRestarting(c));
    if (c.State.Running) {
      if (!opts.force) {
        throw conflict(`You cannot remove a running container ${c.Id}. Stop the container before attempting removal or force remove`);
      }
      this.d.events.container(c, 'kill', { signal: '9' });
      await this.d.runtime.kill(c.Id, 'SIGKILL').catch(() => undefined);
      if (c.State.Paused) await this.d.runtime.runc.resume(c.Id).catch(() => undefined);
      await this.waitForExit(c, 15_000);
    }
    await this.mutex.run(c.Id, async () => {
      if (!this.store.find(c.Id)) return; // removed on exit (AutoRemove)
      if (c.State.Running) {
        // The monitor did not report the exit: take the runtime down ourselves.
        await this.d.runtime.cleanup(c.Id);
        c.State.Running = false;
      }
      await this.removeLocked(c, opts.volumes);
    });
  }

  private async removeLocked(c: ContainerRecord, removeVolumes = c.HostConfig.AutoRemove): Promise<void> {
    if (!this.store.find(c.Id)) return;
    c.State.Status = 'removing';
    for (const s of this.pendingAttach.get(c.Id) ?? []) s.close();
    this.pendingAttach.delete(c.Id);
    this.store.remove(c.Id);
    if (this.d.volumes) await unmountVolumes(c, this.d.volumes);
    if (removeVolumes) this.d.volumes?.removeAnonymous(volumeNamesOf(c));
    // Files go after the record; a crash in between leaves orphans that the start-up sweep removes.
    this.cleanupInBackground(c.Id, async () => {
      await this.d.networking.remove(c);
      this.d.snapshots.remove(c.Id);
    });
    this.d.events.container(c, 'destroy'); // the record is gone: pass it, the bus cannot look it up
    this.notify(this.exitListeners, c.Id, c.State.ExitCode);
    this.notify(this.removeListeners, c.Id, c.State.ExitCode);
  }

  // ---- update ----

  /** docker update: resources of a running container (through the runtime) and the restart policy. */
  async update(ref: string, body: Record<string, unknown>): Promise<{ Warnings: string[] }> {
    const c = this.store.get(ref);
    return this.mutex.run(c.Id, async () => {
      const resources: ResourceUpdate = {};
      for (const key of UPDATABLE_RESOURCES) {
        if (body[key] !== undefined && body[key] !== null && body[key] !== 0 && body[key] !== '') (resources as Record<string, unknown>)[key] = body[key];
      }
      const restart = body.RestartPolicy as Partial<RestartPolicy> | undefined;
      // The docker CLI always sends a RestartPolicy; an empty name means "leave it as it is", as in moby.
      const policy = restart && restart.Name ? validateRestartPolicy(restart, c.HostConfig.AutoRemove) : undefined;
      const flags = runcUpdateArgs(resources, c.HostConfig as ResourceUpdate);
      if (flags.length && c.State.Running && !c.State.Restarting) {
        await this.d.runtime.runc.update(c.Id, flags).catch((err: Error) => {
          throw new EngineError(500, `Cannot update container ${c.Id}: ${err.message}`);
        });
      }
      Object.assign(c.HostConfig, resources);
      if (policy) c.HostConfig.RestartPolicy = policy;
      this.store.save(c);
      this.d.events.publish('container', 'update', c.Id);
      return { Warnings: [] };
    });
  }

  // ---- prune ----

  /** Removes stopped containers matching `until` and `label`/`label!` filters; reports what was freed. */
  async prune(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const key of Object.keys(filters)) {
      if (!['until', 'label', 'label!'].includes(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    let until: number | undefined;
    if (filters.until?.length) {
      if (filters.until.length > 1) throw invalidParameter('more than one until filter specified');
      try {
        until = parseFilterTimestamp(filters.until[0]!);
      } catch (err) {
        throw invalidParameter((err as Error).message);
      }
    }
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of this.store.all()) {
      if (c.State.Running || c.State.Status === 'removing') continue;
      if (until !== undefined && !(Date.parse(c.Created) < until)) continue;
      if (!(filters.label ?? []).every((l) => labelMatches(c.Config.Labels, l))) continue;
      const not = filters['label!'] ?? [];
      if (not.length > 0 && not.every((l) => labelMatches(c.Config.Labels, l))) continue;
      const size = this.sizes.sizeRw(c);
      await this.mutex.run(c.Id, () => this.removeLocked(c));
      deleted.push(c.Id);
      reclaimed += size;
    }
    this.d.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  // ---- views ----

  /** Bytes in the container's copy-on-write layer (0 for an unknown container). */
  sizeRw(id: string): number {
    const c = this.store.find(id);
    return c ? this.sizes.sizeRw(c) : 0;
  }

  /** SizeRw and SizeRootFs (that plus the image's layers), as `size=1` adds them to inspect and list. */
  private sizeFields(c: ContainerRecord): { SizeRw: number; SizeRootFs: number } {
    const rw = this.sizes.sizeRw(c);
    return { SizeRw: rw, SizeRootFs: rw + this.d.images.imageSize(c.Image) };
  }

  inspect(ref: string, opts: { size?: boolean } = {}): object {
    const c = this.store.get(ref);
    const etc = etcPaths(this.store.dir(c.Id));
    let lower = '';
    try {
      lower = this.d.images.lowerDirs(c.Image).join(':');
    } catch {
      /* image gone */
    }
    const view = inspectView(c, {
      ...etc,
      resolvConf: etc.resolvConf,
      log: this.logPath(c.Id),
      lowerDir: lower,
      upperDir: this.d.snapshots.upperDir(c.Id),
      workDir: this.d.snapshots.workDir(c.Id),
      mergedDir: path.join(this.d.snapshots.dir(c.Id), 'merged'),
    }, this.d.networking.settings(c));
    return opts.size ? { ...view, ...this.sizeFields(c) } : view;
  }

  /** Runs `fn` while no start, exit or removal of the container can happen (cp and commit of stopped containers). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(id, fn);
  }

  get(ref: string): ContainerRecord {
    return this.store.get(ref);
  }

  list(opts: { all: boolean; limit?: number; size?: boolean; filters: Record<string, string[]> }): object[] {
    const match = containerFilter(
      opts.filters,
      (r) => this.store.find(r),
      (c, ref) => {
        const img = this.d.images.resolve(ref);
        return img ? img.id === c.Image : false;
      },
    );
    let list = this.store
      .all()
      .filter((c) => opts.all || (opts.limit !== undefined && opts.limit > 0) || c.State.Running || c.State.Status === 'paused')
      .filter(match)
      .sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    if (opts.limit !== undefined && opts.limit > 0) list = list.slice(0, opts.limit);
    const now = Date.now();
    return list.map((c) => ({
      ...summaryView(c, this.d.networking.settings(c), now),
      ...(opts.size ? this.sizeFields(c) : {}),
    }));
  }

  // ---- recovery ----

  /**
   * After a daemon (re)start: containers whose monitor still runs are re-attached; exits that happened
   * while berthd was down are recorded (and AutoRemove applied); leftovers of crashed operations are swept.
   */
  async reconcile(): Promise<void> {
    const known = new Set(this.store.all().map((c) => c.Id));
    for (const id of this.d.snapshots.orphans(known)) this.d.snapshots.remove(id);
    // Volume mounts are held by the containers the records say run; exits found below let theirs go.
    const live = this.store.all().filter((c) => (c.State.Running && !c.State.Restarting) || c.State.Status === 'paused');
    await this.d.volumes?.restore(live.map((c) => ({ id: c.Id, volumes: volumeNamesOf(c) })));
    const wasDown: ContainerRecord[] = [];
    for (const c of this.store.all()) {
      if (c.State.Status === 'removing') {
        await this.mutex.run(c.Id, () => this.removeLocked(c));
        continue;
      }
      if (c.State.Restarting) {
        this.armRestart(c, 0);
        continue;
      }
      if (!c.State.Running && c.State.Status !== 'paused') {
        // A crash between an exit and its runtime teardown leaves a bundle behind.
        if (fs.existsSync(this.d.runtime.paths.bundle(c.Id))) await this.d.runtime.cleanup(c.Id);
        wasDown.push(c);
        continue;
      }
      const code = this.d.runtime.exitCode(c.Id);
      if (code !== undefined) {
        await this.handleExit(c.Id, code);
      } else if (this.d.runtime.monitorAlive(c.Id)) {
        await this.d.runtime.attachHub(c.Id);
        this.d.runtime.onExit(c.Id, (exit) => void this.handleExit(c.Id, exit));
      } else {
        log.warn('container monitor is gone; marking the container exited', { id: c.Id });
        await this.handleExit(c.Id, 255);
      }
    }
    await this.sweepBundles(known);
    // Containers that were down when the daemon started come back per their policy (always, unless-stopped).
    for (const c of wasDown) {
      if (c.State.StartedAt === ZERO_TIME) continue;
      if (!restartOnDaemonStart(c.HostConfig.RestartPolicy, c.State.ExitCode, c.RestartCount, c.ManuallyStopped)) continue;
      void this.start(c.Id).catch((err: Error) => log.warn('restart on daemon start failed', { id: c.Id, error: err.message }));
    }
  }

  private async sweepBundles(known: Set<string>): Promise<void> {
    const dir = path.join(this.d.runtime.paths.execRoot, 'c');
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const id of entries) {
      if (known.has(id)) continue;
      if (this.d.runtime.monitorAlive(id)) await this.d.runtime.kill(id, 'SIGKILL').catch(() => undefined);
      await this.d.runtime.cleanup(id);
    }
  }
}
