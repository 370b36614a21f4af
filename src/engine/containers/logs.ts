import * as fs from 'node:fs';
import { LineSplitter, parseLogLine, tailOffset, type LogRecord } from '../runtime/log-reader';

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

/**
 * Streams a container's log records to `emit`. Reads the requested tail without scanning the whole
 * file, then, with follow, keeps reading appended records until the container stops.
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

  let offset = 0;
  if (!fs.existsSync(file)) {
    if (!follow) return;
  } else if (opts.tail !== undefined) {
    offset = tailOffset(file, opts.tail);
  }
  const splitter = new LineSplitter();

  const drain = async (): Promise<void> => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(256 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        for (const line of splitter.push(buf.subarray(0, n))) {
          const rec = parseLogLine(line);
          if (wanted(rec)) await emit(rec);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };

  await drain();
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
    await drain();
  }
  await drain();
}
