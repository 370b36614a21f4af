import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AttachHub } from './attach-hub';
import { RuntimeCreateError, runtimeErrorMessage, withMonitorTimeout } from './conmon';

export interface ExecLaunch {
  containerId: string;
  execId: string;
  dir: string;
  runtime: string;
  runcRoot: string;
  conmonBinary: string;
  process: object;
  tty: boolean;
  stdin: boolean;
  /** Connect an attach socket before the process starts (not for detached execs). */
  attach: boolean;
}

export interface RunningExec {
  pid: number;
  hub?: AttachHub;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
}

/** Reads newline-separated JSON messages (`{"data": n, "message"?: s}`) from one of conmon's pipes. */
class SyncReader {
  private buf = '';
  private queue: Array<{ data: number; message?: string }> = [];
  private waiters: Array<(m: { data: number; message?: string } | undefined) => void> = [];
  private ended = false;

  constructor(pipe: Readable) {
    pipe.on('data', (c: Buffer) => {
      this.buf += c.toString('utf8');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        try {
          this.push(JSON.parse(line) as { data: number; message?: string });
        } catch {
          /* not a sync message */
        }
      }
    });
    const end = () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    pipe.on('end', end);
    pipe.on('close', end);
    pipe.on('error', end);
  }

  private push(m: { data: number; message?: string }): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  next(): Promise<{ data: number; message?: string } | undefined> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((r) => this.waiters.push(r));
  }
}

/**
 * Starts a process in a running container through a dedicated conmon (`--exec`). With `attach`, conmon waits
 * on its start pipe until our attach socket is connected, so no output is lost.
 */
export async function launchExec(o: ExecLaunch): Promise<RunningExec> {
  fs.mkdirSync(path.join(o.dir, 'exit'), { recursive: true });
  fs.mkdirSync(path.join(o.dir, 'persist'), { recursive: true });
  const specFile = path.join(o.dir, 'process.json');
  fs.writeFileSync(specFile, JSON.stringify(o.process));
  const args = [
    '--api-version', '1',
    '-c', o.containerId,
    '-u', o.execId,
    '-r', o.runtime,
    '-b', o.dir,
    '-p', path.join(o.dir, 'pid'),
    '--exit-dir', path.join(o.dir, 'exit'),
    '--persist-dir', path.join(o.dir, 'persist'),
    '--full-attach',
    '-l', 'none',
    '--log-level', 'warning',
    '-e',
    '--exec-process-spec', specFile,
    '--runtime-arg', '--root',
    '--runtime-arg', o.runcRoot,
  ];
  if (o.attach) args.push('--exec-attach');
  if (o.tty) args.push('-t');
  if (o.stdin) args.push('-i');
  const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' };
  if (o.attach) env._OCI_ATTACHPIPE = '5';
  const child = spawn(o.conmonBinary, args, {
    cwd: o.dir,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', ...(o.attach ? (['pipe'] as const) : [])],
    env,
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new RuntimeCreateError(`conmon: ${e.message}`))));
  const sync = new SyncReader(child.stdio[3] as Readable);
  const start = child.stdio[4] as Writable;
  start.write(Buffer.from([0]));

  let hub: AttachHub | undefined;
  if (o.attach) {
    const attachPipe = new SyncReader((child.stdio as unknown as Readable[])[5]!);
    const ready = await withMonitorTimeout(Promise.race([attachPipe.next(), spawnFailed]), 'exec attach readiness', () => child.kill('SIGKILL'));
    if (!ready || ready.data !== 0) throw new RuntimeCreateError(stderr.trim() || 'exec attach setup failed');
    hub = new AttachHub(path.join(o.dir, 'attach'), o.dir);
    await hub.connect();
    start.end(Buffer.from([0]));
  } else {
    start.end();
  }
  const first = await withMonitorTimeout(Promise.race([sync.next(), spawnFailed]), 'the exec start', () => child.kill('SIGKILL'));
  if (!first || first.data < 0) {
    hub?.close();
    const msg = runtimeErrorMessage(first?.message ?? stderr) || 'exec failed';
    throw new RuntimeCreateError(msg);
  }
  child.unref();
  const exited = sync.next().then((m) => {
    if (m) return m.data;
    const file = path.join(o.dir, 'exit', o.containerId);
    try {
      return Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      return -1;
    }
  });
  return { pid: first.data, hub, exited };
}
