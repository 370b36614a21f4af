/** Docker's multiplexed stream framing for non-TTY streams: [stream, 0, 0, 0, size BE32] + payload. */
export const enum StdStream {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  SystemErr = 3,
}

const MAX_FRAME = 0xffffffff;

export function frame(stream: StdStream, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME) throw new RangeError('frame payload too large');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a multiplexed byte stream back into frames; feed it chunks in order. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: StdStream, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      this.onFrame(this.pending[0] as StdStream, this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
  }
}
