import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, invalidParameter, notFound } from '../../util/errors';
import { newId } from '../../util/ids';
import { log } from '../../util/log';
import type { EventBus } from '../events/bus';
import { RuntimeCreateError } from '../runtime/conmon';
import { launchExec } from '../runtime/exec';
import type { ContainerRuntime } from '../runtime/runtime';
import { execProcessSecurity, processEnv } from '../runtime/spec';
import { resolveUser } from '../runtime/user';
import { AttachSession, parseDetachKeys, type AttachSink } from './attach';
import type { ContainerStore } from './store';

export interface ExecCreateBody {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

interface ExecRecord {
  id: string;
  containerId: string;
  body: ExecCreateBody;
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  session?: AttachSession;
}

/** Execs are kept in memory, as Docker does; they are dropped a while after they end. */
const EXEC_RETENTION_MS = 5 * 60_000;

export class ExecService {
  private execs = new Map<string, ExecRecord>();

  constructor(
    private readonly store: ContainerStore,
    private readonly runtime: ContainerRuntime,
    private readonly events: EventBus,
  ) {}

  create(ref: string, body: ExecCreateBody): { Id: string } {
    const c = this.store.get(ref);
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw invalidParameter('No exec command specified');
    if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`container ${c.Id} is paused, unpause the container first`);
    if (body.DetachKeys) {
      try {
        parseDetachKeys(body.DetachKeys);
      } catch (err) {
        throw invalidParameter((err as Error).message);
      }
    }
    const id = newId();
    this.execs.set(id, { id, containerId: c.Id, body, running: false, exitCode: null, pid: 0, started: false });
    this.events.publish('container', execAction('exec_create', body.Cmd), c.Id, { execID: id });
    return { Id: id };
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  inspect(id: string): object {
    const e = this.get(id);
    const b = e.body;
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        tty: Boolean(b.Tty),
        entrypoint: b.Cmd![0],
        arguments: b.Cmd!.slice(1),
        privileged: Boolean(b.Privileged),
        ...(b.User ? { user: b.User } : {}),
      },
      OpenStdin: Boolean(b.AttachStdin),
      OpenStderr: Boolean(b.AttachStderr),
      OpenStdout: Boolean(b.AttachStdout),
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: b.DetachKeys ?? '',
      Pid: e.pid,
    };
  }

  /** Checks that start may proceed (before a client connection is hijacked). */
  checkStartable(id: string): ExecRecord {
    const e = this.get(id);
    if (e.started) throw conflict(`Error: Exec command ${id} has already run`);
    const c = this.store.get(e.containerId);
    if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`container ${c.Id} is paused, unpause the container first`);
    return e;
  }

  /**
   * Starts the exec. With a sink, output goes to it and the sink ends only once the exit code is recorded
   * (the CLI inspects the exec right after the stream ends).
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }, sink?: AttachSink): Promise<AttachSession | undefined> {
    const e = this.checkStartable(id);
    e.started = true;
    const c = this.store.get(e.containerId);
    const b = e.body;
    const tty = opts.tty ?? Boolean(b.Tty);
    const attach = !opts.detach && sink !== undefined;
    const dir = path.join(this.runtime.paths.execRoot, 'exec', e.id);
    const rootfs = `/proc/${c.State.Pid}/root`;
    const readContainerFile = (p: string): string | undefined => {
      try {
        return fs.readFileSync(path.join(rootfs, p), 'utf8');
      } catch {
        return undefined;
      }
    };
    const user = resolveUser(b.User || c.Config.User, readContainerFile);
    const env = processEnv(c, user.home || '/');
    for (const kv of b.Env ?? []) {
      const key = kv.split('=', 1)[0];
      const i = env.findIndex((x) => x.split('=', 1)[0] === key);
      if (i >= 0) env[i] = kv;
      else env.push(kv);
    }
    if (tty && !env.some((x) => x.startsWith('TERM='))) env.push('TERM=xterm');
    const size = opts.consoleSize ?? b.ConsoleSize;
    // As in moby, the exec inherits the container's capabilities, no-new-privileges, rlimits and --group-add.
    const sec = execProcessSecurity(c, Boolean(b.Privileged), user, readContainerFile);
    const processSpec = {
      terminal: tty,
      ...(tty && size && size[0] > 0 && size[1] > 0 ? { consoleSize: { height: size[0], width: size[1] } } : {}),
      user: { uid: user.uid, gid: user.gid, additionalGids: sec.additionalGids },
      args: b.Cmd!,
      env,
      cwd: b.WorkingDir || c.Config.WorkingDir || '/',
      capabilities: sec.capabilities,
      noNewPrivileges: sec.noNewPrivileges,
      ...(sec.rlimits ? { rlimits: sec.rlimits } : {}),
    };

    let session: AttachSession | undefined;
    let finishSink: (() => void) | undefined;
    if (attach) {
      const sinkEnded = new Promise<void>((resolve) => (finishSink = resolve));
      session = new AttachSession(
        { stdin: Boolean(b.AttachStdin), stdout: Boolean(b.AttachStdout), stderr: Boolean(b.AttachStderr), stdinOnce: true, detachKeys: parseDetachKeys(b.DetachKeys ?? '') },
        {
          output: (s, d) => sink!.output(s, d),
          // The hub ending means the output is complete; hold the end until the exit code is known.
          end: () => void sinkEnded.then(() => sink!.end()),
        },
      );
    }
    e.running = true;
    try {
      const launched = await launchExec({
        containerId: c.Id,
        execId: e.id,
        dir,
        runtime: this.runtime.runc.binary,
        runcRoot: this.runtime.paths.runcRoot,
        conmonBinary: this.runtime.conmonBinary,
        process: processSpec,
        tty,
        stdin: Boolean(b.AttachStdin) && attach,
        attach,
      });
      e.pid = launched.pid;
      if (session && launched.hub) session.bind(launched.hub);
      this.events.publish('container', execAction('exec_start', b.Cmd!), c.Id, { execID: e.id });
      void launched.exited.then(async (code) => {
        if (launched.hub) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([launched.hub.whenEnded(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
          clearTimeout(timer);
          launched.hub.close();
        }
        this.finish(e, code, dir);
        finishSink?.();
        this.events.publish('container', 'exec_die', c.Id, { execID: e.id, exitCode: String(code) });
      });
    } catch (err) {
      const message = err instanceof RuntimeCreateError ? `OCI runtime exec failed: ${err.message}: unknown` : (err as Error).message;
      const lower = message.toLowerCase();
      this.finish(e, lower.includes('executable file not found') || lower.includes('no such file or directory') ? 127 : 126, dir);
      if (sink && !opts.detach) {
        sink.output('stdout', Buffer.from(message + '\r\n'));
        sink.end();
        return session;
      }
      throw conflict(message);
    }
    return session;
  }

  /** Runs a command to completion with its output captured (healthcheck probes); kills it past `timeoutMs`. */
  async runProbe(containerId: string, cmd: string[], timeoutMs: number, maxOutput: number): Promise<{ exitCode: number; output: string }> {
    const { Id } = this.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    let output = '';
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    await this.start(Id, { detach: false }, {
      output: (_s, data) => {
        if (output.length < maxOutput) output += data.toString('utf8');
      },
      end: () => finished(),
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      done.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    const e = this.get(Id);
    if (timedOut) {
      if (e.pid > 0) {
        try {
          process.kill(e.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      return { exitCode: -1, output: `Health check exceeded timeout (${formatSeconds(timeoutMs)})` };
    }
    return { exitCode: e.exitCode ?? -1, output: output.slice(0, maxOutput) };
  }

  resize(id: string, rows: number, cols: number): void {
    const e = this.get(id);
    if (!e.running) throw conflict(`exec ${id} is not running`);
    const ctl = path.join(this.runtime.paths.execRoot, 'exec', e.id, 'ctl');
    this.runtime.resizeFifo(ctl, rows, cols);
  }

  private finish(e: ExecRecord, code: number, dir: string): void {
    e.running = false;
    e.exitCode = code;
    e.pid = 0;
    fs.rm(dir, { recursive: true, force: true }, (err) => err && log.debug('exec dir cleanup failed', { error: err.message }));
    setTimeout(() => this.execs.delete(e.id), EXEC_RETENTION_MS).unref();
  }
}

function formatSeconds(ms: number): string {
  return `${ms / 1000}s`;
}

/** moby names exec events `exec_create: <cmd> <args…>` (with the space even when there are no arguments). */
function execAction(kind: string, cmd: string[]): string {
  return `${kind}: ${cmd[0]} ${cmd.slice(1).join(' ')}`;
}
