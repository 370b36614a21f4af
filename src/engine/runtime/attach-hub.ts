import * as fs from 'node:fs';
import { SeqpacketSocket } from 'node-unix-socket';
import { log } from '../../util/log';

const MAX_STDIN_RECORD = 8192;

export type OutputStream = 'stdout' | 'stderr';

export interface AttachClient {
  onOutput(stream: OutputStream, data: Buffer): void;
  /** The container's output ended (it exited, or its monitor went away). */
  onEnd(): void;
}

/**
 * berthd's single connection to a container's conmon attach socket. Output is fanned out to every attached
 * API client; stdin from any client goes to the container. One connection, owned by the daemon, so that
 * output is captured from the first byte and clients can come and go.
 */
export class AttachHub {
  private socket?: SeqpacketSocket;
  private clients = new Set<AttachClient>();
  private ended = false;
  private stdinClosed = false;
  private endWaiters: Array<() => void> = [];

  constructor(
    private readonly socketPath: string,
    private readonly bundleDir: string,
  ) {}

  /** Connects through /proc/self/fd so a long bundle path never hits the 108-byte sun_path limit. */
  connect(): Promise<void> {
    const dirFd = fs.openSync(this.bundleDir, 'r');
    const path = `/proc/self/fd/${dirFd}/${this.socketPath.split('/').pop()}`;
    return new Promise((resolve, reject) => {
      const sock = new SeqpacketSocket();
      let connected = false;
      sock.on('error', (err: Error) => {
        if (!connected) {
          fs.closeSync(dirFd);
          reject(err);
        } else log.debug('attach socket error', { error: err.message });
      });
      sock.on('data', (buf: Buffer) => this.dispatch(buf));
      sock.on('end', () => this.finish());
      sock.on('close', () => this.finish());
      try {
        sock.connect(path, () => {
          connected = true;
          fs.closeSync(dirFd);
          this.socket = sock;
          resolve();
        });
      } catch (err) {
        fs.closeSync(dirFd);
        reject(err);
      }
    });
  }

  private dispatch(buf: Buffer): void {
    log.debug('attach output', { bytes: buf.length, clients: this.clients.size });
    if (buf.length < 1) return;
    const stream: OutputStream = buf[0] === 3 ? 'stderr' : 'stdout';
    const data = buf.subarray(1);
    for (const c of this.clients) c.onOutput(stream, data);
  }

  private finish(): void {
    log.debug('attach end', { ended: this.ended, clients: this.clients.size });
    if (this.ended) return;
    this.ended = true;
    for (const c of this.clients) c.onEnd();
    this.clients.clear();
    for (const w of this.endWaiters.splice(0)) w();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves when the output has ended (the monitor closed the socket). */
  whenEnded(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((r) => this.endWaiters.push(r));
  }

  add(client: AttachClient): () => void {
    if (this.ended) {
      client.onEnd();
      return () => {};
    }
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  writeStdin(data: Buffer): void {
    if (!this.socket || this.ended || this.stdinClosed) return;
    // Each write is one SEQPACKET record, and conmon reads records into a fixed buffer: larger ones are cut.
    for (let off = 0; off < data.length; off += MAX_STDIN_RECORD) {
      this.socket.write(data.subarray(off, off + MAX_STDIN_RECORD));
    }
  }

  /** Half-closes the socket: conmon then closes the container's stdin (unless it was told to leave it open). */
  closeStdin(): void {
    if (!this.socket || this.ended || this.stdinClosed) return;
    this.stdinClosed = true;
    this.socket.end();
  }

  close(): void {
    this.socket?.destroy();
    this.finish();
  }
}

/** Sends a resize to conmon through its control fifo. */
export function resizeTerminal(ctlFifo: string, rows: number, cols: number): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(ctlFifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, `1 ${rows} ${cols}\n`);
  } catch (err) {
    log.debug('resize failed', { error: (err as Error).message });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
