/**
 * Copies between the local stdio and a hijacked attach/exec connection (docker's
 * hijackedIOStreamer): raw mode and detach-key detection in TTY mode, stdin piped then
 * half-closed, output copied raw (TTY) or demultiplexed.
 */
import { spawnSync } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { HijackedConnection } from '../client';
import type { Cli } from './cli';
import { StdcopyDemuxer } from '../client';

export const DEFAULT_ESCAPE_KEYS = [16, 17];

/** The user typed the detach sequence (moby/term EscapeError). */
export class EscapeError extends Error {
  constructor() {
    super('read escape sequence');
  }
}

/** moby/term ToBytes: "ctrl-p,ctrl-q" → [16, 17]. */
export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const raw of keys.split(',')) {
    const key = raw.trim();
    if (key.length > 1 && !key.startsWith('ctrl-')) throw new Error(`Unknown character: '${key}'`);
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const c = key.slice(5).toLowerCase();
    if (c.length !== 1) throw new Error(`Unknown character: '${key}'`);
    const code = c.charCodeAt(0);
    if (c >= 'a' && c <= 'z') out.push(code - 96);
    else if (c === '@') out.push(0);
    else if (c === '[') out.push(27);
    else if (c === '\\') out.push(28);
    else if (c === ']') out.push(29);
    else if (c === '^') out.push(30);
    else if (c === '_') out.push(31);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return out;
}

/** Passes bytes through, holding back a partial escape sequence; reports a complete one. */
export class EscapeDetector {
  private matched = 0;

  constructor(private readonly keys: readonly number[]) {}

  /** Returns bytes to forward, and whether the escape sequence completed. */
  push(chunk: Buffer): { forward: Buffer; escaped: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), escaped: true };
        continue;
      }
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]);
      this.matched = 0;
      if (b === this.keys[0]) {
        this.matched = 1;
        if (this.keys.length === 1) return { forward: Buffer.from(out), escaped: true };
        continue;
      }
      out.push(b);
    }
    return { forward: Buffer.from(out), escaped: false };
  }
}

type TtyStdin = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; fd?: number };

/**
 * Raw mode like Go's term.MakeRaw. libuv's raw mode keeps output post-processing (ONLCR) on,
 * which would turn the container's "\r\n" into "\r\r\n"; stty clears it. Leaving raw mode
 * restores the saved termios, OPOST included.
 */
function setRaw(stdin: TtyStdin): boolean {
  if (!stdin.isTTY || !stdin.setRawMode || process.env.NORAW) return false;
  stdin.setRawMode(true);
  if (stdin.fd === 0) spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  return true;
}

export interface StreamOptions {
  conn: HijackedConnection;
  tty: boolean;
  stdin?: TtyStdin;
  stdout?: Writable;
  stderr?: Writable;
  detachKeys?: string;
  /** Called with a warning line (invalid detach keys). */
  warn?: (msg: string) => void;
}

export interface Streamer {
  /** Resolves when output is done (or input is done and there is no output); rejects with EscapeError on detach. */
  done: Promise<void>;
  /** Stops streaming (like cancelling the Go context) and restores the terminal. */
  cancel(): void;
}

function safeWrite(w: Writable | undefined, b: Buffer): void {
  if (!w || b.length === 0) return;
  try {
    w.write(b);
  } catch {
    // the local end went away; keep draining the connection
  }
}

export function streamHijacked(opts: StreamOptions): Streamer {
  const { conn, tty, stdin, stdout, stderr } = opts;
  const socket = conn.socket;
  let restored = false;
  let rawSet = false;
  const cleanups: (() => void)[] = [];

  const restore = () => {
    if (restored) return;
    restored = true;
    if (rawSet && stdin?.setRawMode) {
      try {
        stdin.setRawMode(false);
      } catch {
        // not a tty any more
      }
    }
    for (const c of cleanups.splice(0)) c();
  };

  let escapeKeys = DEFAULT_ESCAPE_KEYS;
  if (stdin && tty) {
    rawSet = setRaw(stdin);
    if (opts.detachKeys) {
      try {
        escapeKeys = parseDetachKeys(opts.detachKeys);
      } catch (err) {
        opts.warn?.(`invalid detach escape keys, using default: ${(err as Error).message}`);
      }
    }
  }

  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let finished = false;
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    restore();
    if (err) settle.reject(err);
    else settle.resolve();
  };

  const hasOutput = stdout !== undefined || stderr !== undefined;

  // Output: raw copy for TTY, stdcopy demultiplexing otherwise.
  if (hasOutput) {
    const demux = tty ? undefined : new StdcopyDemuxer((s, b) => safeWrite(s === 1 ? stdout : stderr, b));
    socket.on('data', (chunk: Buffer) => {
      if (demux) {
        try {
          demux.push(chunk);
        } catch (err) {
          socket.destroy();
          finish(err as Error);
        }
      } else {
        safeWrite(stdout, chunk);
      }
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
  } else {
    socket.resume();
  }
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish();
    else finish(err);
  });

  const closeWrite = () => {
    if (!socket.destroyed && socket.writable) socket.end();
  };

  // Input: pipe stdin, then half-close so the container sees EOF while output keeps flowing.
  if (stdin) {
    const detector = tty ? new EscapeDetector(escapeKeys) : undefined;
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (detector) {
        const { forward, escaped } = detector.push(buf);
        if (forward.length > 0 && socket.writable) socket.write(forward);
        if (escaped) {
          socket.destroy();
          finish(new EscapeError());
        }
        return;
      }
      if (socket.writable) socket.write(buf);
    };
    const onEnd = () => {
      if (tty) restore();
      closeWrite();
      if (!hasOutput) finish();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    cleanups.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    });
    stdin.resume();
  } else {
    closeWrite();
    if (!hasOutput) finish();
  }

  return {
    done,
    cancel: () => {
      socket.destroy();
      finish();
    },
  };
}

/**
 * streamHijacked on the CLI's own terminal: the streams asked for are this process's (a TTY's stderr is
 * its stdout), warnings go to stderr as docker prints them.
 */
export function streamToCli(
  cli: Cli,
  conn: HijackedConnection,
  o: { tty: boolean; stdin: boolean; stdout?: boolean; stderr?: boolean; detachKeys?: string },
): Streamer {
  return streamHijacked({
    conn,
    tty: o.tty,
    stdin: o.stdin ? cli.io.stdin : undefined,
    stdout: o.stdout === false ? undefined : cli.io.stdout,
    stderr: o.stderr === false ? undefined : o.tty ? cli.io.stdout : cli.io.stderr,
    detachKeys: o.detachKeys,
    warn: (m) => cli.err(`WARN[0000] ${m}\n`),
  });
}
