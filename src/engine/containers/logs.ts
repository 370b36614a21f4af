import * as fs from 'node:fs';
import { LineSplitter, parseLogLine, tailPosition, type LogRecord } from '../runtime/log-reader';
import { rotatedLogFiles } from '../runtime/log-rotation';

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  /** Number of lines from the end, or undefined for all. */
  tail?: number;
  sinceNs?: bigint;
  untilNs?: bigint;
}

export interface LogFollowControl {
  /** Resolves when the container is no longer running (follow ends once the file is drained). */
  stopped: Promise<void>;
  /** The client went away. */
  aborted: AbortSignal;
}

/** An open log file being read: its fd, inode, and how far we are. */
interface OpenLog {
  fd: number;
  ino: number;
  offset: number;
}

function openLog(file: string, offset = 0): OpenLog | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    return { fd, ino: fs.fstatSync(fd).ino, offset };
  } catch {
    return undefined;
  }
}

/**
 * Streams a container's log records to `emit`, across rotated files (`<log>.N` … `<log>.1`, then the live
 * file). Reads the requested tail without scanning whole files, then, with follow, keeps reading appended
 * records until the container stops, moving on to the new file when the log is rotated.
 */
export async function streamLogs(
  file: string,
  opts: LogOptions,
  emit: (rec: LogRecord) => Promise<void> | void,
  follow?: LogFollowControl,
): Promise<void> {
  const wanted = (rec: LogRecord | undefined): rec is LogRecord =>
    !!rec &&
    ((rec.stream === 'stdout' && opts.stdout) || (rec.stream === 'stderr' && opts.stderr)) &&
    (opts.sinceNs === undefined || rec.timeNs >= opts.sinceNs) &&
    (opts.untilNs === undefined || rec.timeNs <= opts.untilNs);

  const splitter = new LineSplitter();
  const buf = Buffer.alloc(256 * 1024);
  const drainFd = async (o: OpenLog): Promise<void> => {
    for (;;) {
      const n = fs.readSync(o.fd, buf, 0, buf.length, o.offset);
      if (n <= 0) break;
      o.offset += n;
      for (const line of splitter.push(buf.subarray(0, n))) {
        const rec = parseLogLine(line);
        if (wanted(rec)) await emit(rec);
      }
    }
  };
  const readWhole = async (f: string, offset = 0): Promise<void> => {
    const o = openLog(f, offset);
    if (!o) return;
    try {
      await drainFd(o);
    } finally {
      fs.closeSync(o.fd);
    }
  };

  // The files to read, oldest first, and where to begin in the first one.
  const files = [...rotatedLogFiles(file), file].filter((f) => fs.existsSync(f));
  let first = 0;
  let firstOffset = 0;
  if (opts.tail !== undefined && files.length) {
    let need = opts.tail;
    first = files.length - 1;
    for (let i = files.length - 1; i >= 0; i--) {
      const pos = tailPosition(files[i]!, need);
      first = i;
      firstOffset = pos.offset;
      need -= pos.lines;
      if (need <= 0 || i === 0) break;
      firstOffset = 0;
    }
  }
  const startsInLive = files[first] === file;
  const older = files.slice(first).filter((f) => f !== file);
  for (let i = 0; i < older.length; i++) await readWhole(older[i]!, i === 0 ? firstOffset : 0);
  const liveStart = startsInLive ? firstOffset : 0;

  let live = openLog(file, liveStart);
  const drainLive = async (): Promise<void> => {
    if (!live) {
      live = openLog(file);
      if (!live) return;
    }
    await drainFd(live);
    // Rotated since we opened it? Finish the old file, any files rotated past us, then the new live file.
    let ino: number | undefined;
    try {
      ino = fs.statSync(file).ino;
    } catch {
      return; // renamed, not yet reopened: keep reading the old one
    }
    if (ino === live.ino) return;
    await drainFd(live);
    const oldIno = live.ino;
    fs.closeSync(live.fd);
    live = undefined;
    const rotated = rotatedLogFiles(file);
    const at = rotated.findIndex((f) => {
      try {
        return fs.statSync(f).ino === oldIno;
      } catch {
        return false;
      }
    });
    if (at >= 0) for (const f of rotated.slice(at + 1)) await readWhole(f);
    live = openLog(file);
    if (live) await drainFd(live);
  };

  try {
    await drainLive();
    if (!follow || follow.aborted.aborted) return;

    let stopped = false;
    void follow.stopped.then(() => (stopped = true));
    while (!stopped && !follow.aborted.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        let watcher: fs.FSWatcher | undefined;
        const done = () => {
          clearTimeout(timer);
          watcher?.close();
          resolve();
        };
        try {
          watcher = fs.watch(file, done);
        } catch {
          /* file not there yet: poll */
        }
        void follow.stopped.then(done);
        follow.aborted.addEventListener('abort', done, { once: true });
      });
      await drainLive();
    }
    await drainLive();
  } finally {
    if (live) fs.closeSync(live.fd);
  }
}
