import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidParameter } from '../../util/errors';
import { log } from '../../util/log';

/**
 * Log rotation for conmon's k8s-file logs. conmon's own --log-size-max only truncates, so Berth rotates:
 * when the log passes max-size it is renamed to `<log>.1` (older ones shift up, the oldest beyond max-file
 * goes), then conmon is told through the bundle's ctl fifo (`2 0 0`) to reopen a fresh file.
 * Rotation is on by default (10 MiB × 3 files) so a chatty container never fills the disk.
 */

export interface LogRotation {
  /** Bytes; 0 disables rotation (`max-size=-1`). */
  maxSize: number;
  /** Files kept in all, the live one included (≥ 1). */
  maxFiles: number;
  /** `--log-driver none`: conmon keeps no log at all. */
  driver?: 'none';
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxSize: 10 * 1024 * 1024, maxFiles: 3 };

const KNOWN_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size']);
const DRIVERS = new Set(['', 'json-file', 'k8s-file', 'local']);

/**
 * go-units' FromHumanSize, which moby's json-file driver reads max-size with: `10m`, `1.5k`, `100`,
 * decimal multiples (k = 1000), an optional i/b suffix.
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$/i.exec(text);
  if (!m) return undefined;
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[m[2]!.toLowerCase()]!;
  return Math.floor(Number(m[1]) * mult);
}

/** Validates HostConfig.LogConfig at create, with Docker's texts; returns the rotation it asks for. */
export function logRotationFromConfig(cfg: { Type?: string; Config?: Record<string, string> | null } | undefined): LogRotation {
  const type = cfg?.Type ?? '';
  const opts = cfg?.Config ?? {};
  if (type === 'none') {
    if (Object.keys(opts).length) throw invalidParameter('invalid logging opts for driver none');
    return { maxSize: 0, maxFiles: 1, driver: 'none' };
  }
  if (!DRIVERS.has(type)) throw invalidParameter(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  const driver = type || 'json-file';
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTS.has(key)) throw invalidParameter(`unknown log opt '${key}' for ${driver} log driver`);
  }
  const out = { ...DEFAULT_LOG_ROTATION };
  if (opts['max-size'] !== undefined) {
    const v = opts['max-size'];
    if (v.trim() === '-1') out.maxSize = 0;
    else {
      const n = parseSize(v);
      if (n === undefined) throw invalidParameter(`invalid size: '${v}'`);
      if (n <= 0) throw invalidParameter('max-size must be a positive number');
      out.maxSize = n;
    }
  }
  if (opts['max-file'] !== undefined) {
    const v = opts['max-file'];
    if (!/^[+-]?\d+$/.test(v.trim())) throw invalidParameter(`strconv.Atoi: parsing "${v}": invalid syntax`);
    const n = Number(v);
    if (n < 1) throw invalidParameter('max-file cannot be less than 1');
    out.maxFiles = n;
  }
  if (opts.compress !== undefined && !/^(true|false|1|0)$/i.test(opts.compress)) throw invalidParameter(`strconv.ParseBool: parsing "${opts.compress}": invalid syntax`);
  return out;
}

/** The rotated files of a log that exist, oldest first (`<log>.N` … `<log>.1`). */
export function rotatedLogFiles(logPath: string): string[] {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a)
    .map((n) => `${logPath}.${n}`);
}

interface Watched {
  logPath: string;
  ctlFifo: string;
  rotation: LogRotation;
  /** Size and time at the last check (growth estimate). */
  lastSize?: number;
  lastAt?: number;
}

const STATE_FILE = 'log-rotation.json';

/**
 * Checks the logs of running containers (once a second, sooner for a log growing fast enough to reach
 * its max-size before then) and rotates those past their size.
 */
export class LogRotator {
  private readonly watched = new Map<string, Watched>();
  private timer?: NodeJS.Timeout;

  /**
   * `intervalMs` between checks; after a tick that rotated something the next check comes after `hotMs`,
   * so a container writing faster than max-size per interval overshoots by at most `hotMs` of output.
   */
  constructor(
    private readonly intervalMs = 1000,
    private readonly hotMs = 100,
  ) {}

  /** Starts watching a container's log; the settings are kept in its bundle so a restarted daemon resumes. */
  watch(id: string, bundle: string, logPath: string, rotation: LogRotation): void {
    if (rotation.maxSize <= 0) return;
    const w: Watched = { logPath, ctlFifo: path.join(bundle, 'ctl'), rotation };
    try {
      fs.writeFileSync(path.join(bundle, STATE_FILE), JSON.stringify(w));
    } catch {
      /* bundle gone already */
    }
    this.watched.set(id, w);
    this.check(id, w);
    this.ensureTimer();
  }

  unwatch(id: string): void {
    this.watched.delete(id);
    if (this.watched.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** After a daemon restart: picks the watches up again from the bundles of live containers. */
  resume(bundlesDir: string): void {
    let ids: string[] = [];
    try {
      ids = fs.readdirSync(bundlesDir);
    } catch {
      return;
    }
    for (const id of ids) {
      try {
        const w = JSON.parse(fs.readFileSync(path.join(bundlesDir, id, STATE_FILE), 'utf8')) as Watched;
        if (w.rotation?.maxSize > 0) this.watched.set(id, w);
      } catch {
        /* no rotation for this one */
      }
    }
    if (this.watched.size) this.ensureTimer();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.schedule(this.intervalMs);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      let next = this.intervalMs;
      for (const [id, w] of this.watched) next = Math.min(next, this.check(id, w));
      if (this.watched.size) this.schedule(Math.max(this.hotMs, next));
    }, ms);
    this.timer.unref();
  }

  /**
   * Rotates the log when it is past max-size. Returns when this log wants its next check: soon when it
   * grows fast enough to reach max-size before the regular interval (estimated from its growth).
   */
  private check(id: string, w: Watched): number {
    // The bundle (and its ctl fifo) goes when the container's runtime state is cleaned up.
    if (!fs.existsSync(w.ctlFifo)) {
      this.unwatch(id);
      return this.intervalMs;
    }
    let size: number;
    try {
      size = fs.statSync(w.logPath).size;
    } catch {
      return this.intervalMs;
    }
    const now = Date.now();
    const rate = w.lastAt !== undefined && size >= (w.lastSize ?? 0) && now > w.lastAt ? (size - w.lastSize!) / (now - w.lastAt) : 0;
    w.lastSize = size;
    w.lastAt = now;
    if (size >= w.rotation.maxSize) {
      try {
        rotateLog(w.logPath, w.rotation.maxFiles, w.ctlFifo);
        w.lastSize = 0;
      } catch (err) {
        log.warn('log rotation failed', { id, error: (err as Error).message });
      }
      return this.hotMs;
    }
    return rate > 0 ? (w.rotation.maxSize - size) / rate : this.intervalMs;
  }
}

/** One rotation: shift `<log>.N`, rename the live file to `<log>.1`, and make conmon reopen the log. */
export function rotateLog(logPath: string, maxFiles: number, ctlFifo: string): void {
  const keep = Math.max(0, maxFiles - 1);
  for (const f of rotatedLogFiles(logPath)) {
    const n = Number(f.slice(logPath.length + 1));
    if (n >= keep) fs.rmSync(f, { force: true });
    else fs.renameSync(f, `${logPath}.${n + 1}`);
  }
  fs.renameSync(logPath, `${logPath}.1`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(ctlFifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, '2 0 0\n');
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (keep === 0) fs.rmSync(`${logPath}.1`, { force: true });
}

/** The daemon-wide rotator. */
export const logRotator = new LogRotator();
