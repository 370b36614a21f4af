import type { OutputStream } from '../../engine/runtime/attach-hub';
import type { RawStream, RequestContext } from '../http/context';
import type { AttachSink } from '../../engine/containers/attach';
import { frame, StdStream } from '../http/stdcopy';
import { compareVersions } from '../http/version';

const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const RAW = 'application/vnd.docker.raw-stream';

/** Media type of attach/exec/log streams: multiplexed without a TTY from API 1.42 on, raw otherwise. */
export function streamMediaType(ctx: RequestContext, tty: boolean): string {
  return !tty && compareVersions(ctx.apiVersion, '1.42') >= 0 ? MULTIPLEXED : RAW;
}

/** TTY output is raw; otherwise every chunk is framed with its stream. */
export function encodeOutput(tty: boolean, stream: OutputStream, data: Buffer): Buffer {
  return tty ? data : frame(stream === 'stderr' ? StdStream.Stderr : StdStream.Stdout, data);
}

/** Output queued for a client that does not read, before it is cut off rather than stall the container. */
export const MAX_CLIENT_BACKLOG = 16 * 1024 * 1024;

/**
 * An attach sink writing to a hijacked connection. A client that stops reading is disconnected once its
 * backlog passes MAX_CLIENT_BACKLOG: the container's output never waits for a slow client.
 */
export function connectionSink(conn: RawStream, tty: boolean): AttachSink {
  let cut = false;
  return {
    output(stream, data) {
      if (cut) return;
      conn.write(encodeOutput(tty, stream, data));
      if (conn.backlog() > MAX_CLIENT_BACKLOG) {
        cut = true;
        conn.destroy();
      }
    },
    end() {
      if (!cut) conn.end();
    },
  };
}
