import type { AttachClient, AttachHub, OutputStream } from '../runtime/attach-hub';

export interface AttachSink {
  output(stream: OutputStream, data: Buffer): void;
  end(): void;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Close the container's stdin when this client's input ends. */
  stdinOnce: boolean;
  detachKeys: number[];
  onDetach?: () => void;
}

const CTRL: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** Parses Docker's detach key spec (`ctrl-p,ctrl-q`, `ctrl-x,a`) into bytes; invalid specs throw. */
export function parseDetachKeys(spec: string): number[] {
  if (spec === '') return [16, 17];
  return spec.split(',').map((part) => {
    if (part.length === 1) return part.charCodeAt(0);
    const m = /^ctrl-(.)$/.exec(part);
    if (!m) throw new Error(`Invalid escape keys (${spec}) provided`);
    const ch = m[1]!;
    if (/[a-z]/.test(ch)) return ch.charCodeAt(0) - 96;
    if (ch in CTRL) return CTRL[ch]!;
    throw new Error(`Invalid escape keys (${spec}) provided`);
  });
}

/**
 * One API client attached to a container: its output filter, its stdin (queued until the container runs),
 * and detach-key scanning.
 */
export class AttachSession {
  private hub?: AttachHub;
  private unsubscribe?: () => void;
  private queued: Buffer[] = [];
  private stdinEnded = false;
  private closed = false;
  private matched = 0;

  constructor(
    private readonly opts: AttachOptions,
    private readonly sink: AttachSink,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  bind(hub: AttachHub): void {
    if (this.closed) return;
    this.hub = hub;
    const client: AttachClient = {
      onOutput: (stream: OutputStream, data: Buffer) => {
        if ((stream === 'stdout' && this.opts.stdout) || (stream === 'stderr' && this.opts.stderr)) this.sink.output(stream, data);
      },
      onEnd: () => this.close(),
    };
    this.unsubscribe = hub.add(client);
    for (const chunk of this.queued.splice(0)) hub.writeStdin(chunk);
    if (this.stdinEnded && this.opts.stdinOnce) hub.closeStdin();
  }

  pushStdin(data: Buffer): void {
    if (!this.opts.stdin || this.closed) return;
    const { forward, detached } = this.scanDetach(data);
    if (forward.length) {
      if (this.hub) this.hub.writeStdin(forward);
      else this.queued.push(forward);
    }
    if (detached) {
      this.opts.onDetach?.();
      this.close();
    }
  }

  endStdin(): void {
    if (!this.opts.stdin || this.stdinEnded || this.closed) return;
    this.stdinEnded = true;
    if (this.hub && this.opts.stdinOnce) this.hub.closeStdin();
  }

  /** Ends this client's stream; the container keeps running. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.sink.end();
  }

  /** Finds the detach sequence across chunk boundaries; bytes of a partial match are held back. */
  private scanDetach(data: Buffer): { forward: Buffer; detached: boolean } {
    const keys = this.opts.detachKeys;
    if (keys.length === 0) return { forward: data, detached: false };
    const out: number[] = [];
    for (const byte of data) {
      if (byte === keys[this.matched]) {
        this.matched++;
        if (this.matched === keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      if (this.matched > 0) {
        out.push(...keys.slice(0, this.matched));
        this.matched = 0;
      }
      if (byte === keys[0]) this.matched = 1;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
