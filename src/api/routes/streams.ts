import type { OutputStream } from '../../engine/runtime/attach-hub';
import type { RequestContext } from '../http/context';
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
