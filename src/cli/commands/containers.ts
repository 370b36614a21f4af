/** Container lifecycle commands: start, wait, rm, stop, kill, restart. */
import { isNotFound, WaitCancelled, WaitHandle } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagDef, FlagValues } from '../flags';
import { EscapeError, Streamer, streamToCli } from '../hijack';
import { forwardSignals, monitorTtySize } from '../signals';
import { errorMessage } from '../../util/errors';

/** errors.Join: messages one per line, exit status 1. */
function joinErrors(errs: unknown[]): StatusError | undefined {
  if (errs.length === 0) return undefined;
  return new StatusError(errs.map(errorMessage).join('\n'), 1);
}

/** Runs op for every container with bounded parallelism; results keep argument order. */
async function parallel<T>(items: string[], op: (item: string) => Promise<T>, limit = 50): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await op(items[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * docker's parallelOperation over the named containers (stop, kill, pause, unpause): each name printed once
 * its operation succeeds, in argument order; the failures joined into one error (exit 1).
 */
export async function eachInParallel(cli: Cli, args: string[], op: (name: string) => Promise<unknown>): Promise<number> {
  const results = await parallel(args, op);
  const errs: unknown[] = [];
  results.forEach((r, i) => (r.status === 'rejected' ? errs.push(r.reason) : cli.out(`${args[i]}\n`)));
  const e = joinErrors(errs);
  if (e) throw e;
  return 0;
}

async function waitStatus(cli: Cli, handle: WaitHandle | Error): Promise<number> {
  if (handle instanceof Error) {
    cli.err(`ERRO[0000] error waiting for container: ${handle.message}\n`);
    return 125;
  }
  try {
    const r = await handle.result;
    if (r.Error && r.Error.Message) {
      cli.err(`ERRO[0000] Error waiting for container: ${r.Error.Message}\n`);
      return 125;
    }
    return r.StatusCode;
  } catch (err) {
    if (err instanceof WaitCancelled) return new Promise<number>(() => undefined);
    cli.err(`ERRO[0000] error waiting for container: ${errorMessage(err)}\n`);
    return 125;
  }
}

async function startAttached(cli: Cli, flags: FlagValues, name: string): Promise<number> {
  const c = await cli.client.containerInspect(name);
  const cleanups: (() => void)[] = [];
  try {
    if (!c.Config.Tty) cleanups.push(forwardSignals(cli, c.Id));
    const detachKeys = flags.string('detach-keys') || cli.config.detachKeys || undefined;
    const withStdin = flags.bool('interactive') && c.Config.OpenStdin;
    const conn = await cli.client.containerAttach(c.Id, {
      stream: true,
      stdin: withStdin,
      stdout: true,
      stderr: true,
      detachKeys,
    });
    const streamer: Streamer = streamToCli(cli, conn, { tty: c.Config.Tty, stdin: withStdin, detachKeys });
    streamer.done.catch(() => undefined);
    const wait = await cli.client
      .containerWait(c.Id, c.HostConfig.AutoRemove ? 'removed' : 'next-exit')
      .catch((err: Error) => err);
    cleanups.push(() => {
      if (!(wait instanceof Error)) wait.cancel();
    });
    const status = waitStatus(cli, wait);
    try {
      await cli.client.containerStart(c.Id);
    } catch (err) {
      streamer.cancel();
      await streamer.done.catch(() => undefined);
      if (c.HostConfig.AutoRemove) await status;
      throw err;
    }
    if (c.Config.Tty && cli.outIsTerminal) {
      cleanups.push(monitorTtySize(cli, (h, w) => cli.client.containerResize(c.Id, h, w)));
    }
    try {
      await streamer.done;
    } catch (err) {
      if (err instanceof EscapeError) return 0;
      throw err;
    }
    return await status;
  } finally {
    for (const fn of cleanups) fn();
  }
}

async function runStart(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  if (flags.bool('attach') || flags.bool('interactive')) {
    if (args.length > 1) throw new StatusError('you cannot start and attach multiple containers at once', 1);
    return startAttached(cli, flags, args[0]);
  }
  if (flags.string('checkpoint') !== '') {
    if (args.length > 1) throw new StatusError('you cannot restore multiple containers at once', 1);
    await cli.client.transport.noContent({
      method: 'POST',
      path: `/containers/${args[0]}/start`,
      query: { checkpoint: flags.string('checkpoint'), 'checkpoint-dir': flags.string('checkpoint-dir') || undefined },
    });
    return 0;
  }
  const failed: string[] = [];
  for (const name of args) {
    try {
      await cli.client.containerStart(name);
      cli.out(`${name}\n`);
    } catch (err) {
      cli.err(`${errorMessage(err)}\n`);
      failed.push(name);
    }
  }
  if (failed.length > 0) throw new StatusError(`Error: failed to start containers: ${failed.join(', ')}`, 1);
  return 0;
}

async function runWait(cli: Cli, _flags: FlagValues, args: string[]): Promise<number> {
  const errs: unknown[] = [];
  for (const name of args) {
    try {
      const h = await cli.client.containerWait(name.trim(), '');
      const r = await h.result;
      cli.out(`${r.StatusCode}\n`);
    } catch (err) {
      errs.push(err);
    }
  }
  const e = joinErrors(errs);
  if (e) throw e;
  return 0;
}

async function runRm(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const force = flags.bool('force');
  const results = await parallel(args, async (name) => {
    const id = name.replace(/^\/+|\/+$/g, '');
    if (id === '') throw new Error('container name cannot be empty');
    await cli.client.containerRemove(id, { force, volumes: flags.bool('volumes'), link: flags.bool('link') });
  });
  const errs: unknown[] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      if (force && isNotFound(r.reason)) {
        cli.err(`${errorMessage(r.reason)}\n`);
        return;
      }
      errs.push(r.reason);
      return;
    }
    cli.out(`${args[i]}\n`);
  });
  const e = joinErrors(errs);
  if (e) throw e;
  return 0;
}

function stopTimeout(flags: FlagValues): number | undefined {
  if (flags.isSet('time') && flags.isSet('timeout')) {
    throw new StatusError('conflicting options: cannot specify both --timeout and --time', 1);
  }
  if (flags.isSet('timeout')) return flags.int('timeout');
  if (flags.isSet('time')) return flags.int('time');
  return undefined;
}

async function runStop(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const timeout = stopTimeout(flags);
  const signal = flags.string('signal') || undefined;
  return eachInParallel(cli, args, (name) => cli.client.containerStop(name, { timeout, signal }));
}

async function runKill(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const signal = flags.string('signal') || undefined;
  return eachInParallel(cli, args, (name) => cli.client.containerKill(name, signal));
}

async function runRestart(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const timeout = stopTimeout(flags);
  const signal = flags.string('signal') || undefined;
  const errs: unknown[] = [];
  for (const name of args) {
    try {
      await cli.client.containerRestart(name, { timeout, signal });
      cli.out(`${name}\n`);
    } catch (err) {
      errs.push(err);
    }
  }
  const e = joinErrors(errs);
  if (e) throw e;
  return 0;
}

const STOP_FLAGS: FlagDef[] = [
  { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
  { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
  {
    name: 'time',
    type: 'int',
    usage: 'Seconds to wait before killing the container (deprecated: use --timeout)',
    hidden: true,
    deprecated: 'use --timeout instead',
  },
];

export const startCommand: CommandSpec = {
  name: 'start',
  use: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  aliasPaths: ['container start', 'start'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'checkpoint', type: 'string', usage: 'Restore from this checkpoint' },
    { name: 'checkpoint-dir', type: 'string', usage: 'Use a custom checkpoint storage directory' },
  ],
  run: runStart,
};

export const waitCommand: CommandSpec = {
  name: 'wait',
  use: 'wait CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  aliasPaths: ['container wait', 'wait'],
  args: { kind: 'min', n: 1 },
  run: runWait,
};

export const rmCommand: CommandSpec = {
  name: 'rm',
  use: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  aliases: ['remove'],
  aliasPaths: ['container rm', 'container remove', 'rm'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
    { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
    { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
  ],
  run: runRm,
};

export const stopCommand: CommandSpec = {
  name: 'stop',
  use: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  aliasPaths: ['container stop', 'stop'],
  args: { kind: 'min', n: 1 },
  flags: STOP_FLAGS,
  run: runStop,
};

export const killCommand: CommandSpec = {
  name: 'kill',
  use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  aliasPaths: ['container kill', 'kill'],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
  run: runKill,
};

export const restartCommand: CommandSpec = {
  name: 'restart',
  use: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  aliasPaths: ['container restart', 'restart'],
  args: { kind: 'min', n: 1 },
  flags: STOP_FLAGS,
  run: runRestart,
};
