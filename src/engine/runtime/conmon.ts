import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { logRotator, type LogRotation } from './log-rotation';
import type { RuntimePaths } from './paths';

export interface ConmonCreateOptions {
  id: string;
  name: string;
  runtime: string;
  paths: RuntimePaths;
  logPath: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  conmonBinary?: string;
  /** Rotation of the container's log (max-size × max-file); Berth rotates by default. */
  logRotation?: LogRotation;
}

export class RuntimeCreateError extends Error {}

/** How long the monitor may take to report a create; past it the start fails instead of hanging. */
export const MONITOR_REPLY_TIMEOUT_MS = 60_000;

/** Rejects with a RuntimeCreateError when `p` has not settled in time. */
export function withMonitorTimeout<T>(p: Promise<T>, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new RuntimeCreateError(`conmon did not report ${what} within ${MONITOR_REPLY_TIMEOUT_MS / 1000}s`));
    }, MONITOR_REPLY_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** runc reports errors as logrus lines (`time=… level=error msg="…"`); keep just the message. */
export function runtimeErrorMessage(text: string): string {
  const lines = text.trim().split('\n');
  const msgs = lines
    .map((line) => /(?:^|\s)msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1])
    .filter((m): m is string => m !== undefined)
    .map((m) => JSON.parse(`"${m}"`) as string);
  return msgs.length ? msgs[msgs.length - 1]! : text.trim();
}

/** Reads the one JSON line conmon writes on its sync pipe: `{"data": pid}` or `{"data": -1, "message": …}`. */
function readSyncMessage(pipe: Readable): Promise<{ data: number; message?: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err?: Error) => {
      pipe.removeAllListeners('data');
      pipe.removeAllListeners('end');
      pipe.destroy();
      if (err) return reject(err);
      try {
        resolve(JSON.parse(buf.trim().split('\n')[0]!) as { data: number; message?: string });
      } catch {
        reject(new RuntimeCreateError(`conmon gave no create result${buf ? `: ${buf}` : ''}`));
      }
    };
    pipe.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('\n')) done();
    });
    pipe.on('end', () => done());
    pipe.on('error', (e) => done(e));
  });
}

/**
 * Creates a container through conmon: conmon double-forks into the monitor that outlives berthd, runs
 * `runtime create`, and reports the container's pid. The container is then ready for `runtime start`.
 */
export async function conmonCreate(o: ConmonCreateOptions): Promise<number> {
  const bundle = o.paths.bundle(o.id);
  const args = [
    '--api-version', '1',
    '-c', o.id,
    '-u', o.id,
    '-r', o.runtime,
    '-b', bundle,
    '-p', `${bundle}/pidfile`,
    '-n', o.name,
    '--exit-dir', o.paths.exitsDir,
    '--persist-dir', o.paths.persistDir(o.id),
    '--full-attach',
    '-l', o.logRotation?.driver === 'none' ? 'none:' : `k8s-file:${o.logPath}`,
    '--log-level', 'warning',
    '--conmon-pidfile', o.paths.conmonPidFile(o.id),
    '--runtime-arg', '--root',
    '--runtime-arg', o.paths.runcRoot,
  ];
  if (o.tty) args.push('-t');
  if (o.openStdin) {
    args.push('-i');
    if (!o.stdinOnce) args.push('--leave-stdin-open');
  }
  fs.mkdirSync(o.paths.persistDir(o.id), { recursive: true });
  const child = spawn(o.conmonBinary ?? 'conmon', args, {
    cwd: bundle,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new RuntimeCreateError(`conmon: ${e.message}`))));
  const sync = child.stdio[3] as Readable;
  const start = child.stdio[4] as Writable;
  start.end(Buffer.from([0]));
  const msg = await withMonitorTimeout(Promise.race([readSyncMessage(sync), spawnError]), 'the container create', () => child.kill('SIGKILL')).catch((err: Error) => {
    throw new RuntimeCreateError(stderr.trim() || err.message);
  });
  child.unref();
  if (msg.data < 0) throw new RuntimeCreateError(runtimeErrorMessage(msg.message ?? stderr) || 'runtime create failed');
  if (o.logRotation) logRotator.watch(o.id, bundle, o.logPath, o.logRotation);
  return msg.data;
}
