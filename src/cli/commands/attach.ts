/** `attach`: attach the local streams to a running container (docker's attach.go sequence). */
import type { ContainerInspect, WaitHandle, WaitResponse } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { streamToCli } from '../hijack';
import { forwardSignals, monitorTtySize } from '../signals';

/** inspectContainerAndCheckState: the texts docker prints for containers one cannot attach to. */
async function inspectAndCheckState(cli: Cli, name: string): Promise<ContainerInspect> {
  const c = await cli.client.containerInspect(name);
  if (!c.State.Running) throw new StatusError('You cannot attach to a stopped container, start it first', 1);
  if (c.State.Paused) throw new StatusError('You cannot attach to a paused container, unpause it first', 1);
  if (c.State.Restarting) {
    throw new StatusError('You cannot attach to a restarting container, wait until it is running', 1);
  }
  return c;
}

type WaitOutcome = { ok: WaitResponse } | { err: Error };

async function runAttach(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const name = args[0];
  // The wait (condition not-running) goes out first, without blocking the inspect.
  let handle: WaitHandle | undefined;
  const outcome: Promise<WaitOutcome> = cli.client.containerWait(name, '').then(
    (h) => {
      handle = h;
      return h.result.then(
        (ok): WaitOutcome => ({ ok }),
        (err: Error): WaitOutcome => ({ err }),
      );
    },
    (err: Error): WaitOutcome => ({ err }),
  );
  const cleanups: (() => void)[] = [() => handle?.cancel()];
  try {
    const c = await inspectAndCheckState(cli, name);
    const noStdin = flags.bool('no-stdin');
    if (!noStdin && c.Config.Tty && !cli.inIsTerminal) throw new StatusError('the input device is not a TTY', 1);

    const detachKeys = flags.string('detach-keys') || cli.config.detachKeys || undefined;
    const withStdin = !noStdin && c.Config.OpenStdin;

    if (flags.bool('sig-proxy') && !c.Config.Tty) cleanups.push(forwardSignals(cli, name));

    const conn = await cli.client.containerAttach(name, { stream: true, stdin: withStdin, stdout: true, stderr: true, detachKeys });
    cleanups.push(() => conn.socket.destroy());

    // Re-check: the container may have stopped between the first inspect and the attach.
    await inspectAndCheckState(cli, name);

    if (c.Config.Tty && cli.outIsTerminal) {
      const [h, w] = cli.ttySize();
      if (h !== 0 || w !== 0) await cli.client.containerResize(name, h + 1, w + 1).catch(() => undefined);
      cleanups.push(monitorTtySize(cli, (hh, ww) => cli.client.containerResize(name, hh, ww)));
    }

    const streamer = streamToCli(cli, conn, { tty: c.Config.Tty, stdin: withStdin, detachKeys });
    await streamer.done;

    const r = await outcome;
    if ('err' in r) throw r.err;
    if (r.ok.Error && r.ok.Error.Message) throw new StatusError(r.ok.Error.Message, 1);
    if (r.ok.StatusCode !== 0) throw new StatusError('', r.ok.StatusCode);
    return 0;
  } finally {
    for (const fn of cleanups) fn();
  }
}

export const attachCommand: CommandSpec = {
  name: 'attach',
  use: 'attach [OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  aliasPaths: ['container attach', 'attach'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', usage: 'Proxy all received signals to the process', default: true },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
  ],
  run: runAttach,
};
