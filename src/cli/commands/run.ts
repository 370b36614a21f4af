/** `run` and `create`, following docker's call sequence (create → attach → wait → start). */
import * as fs from 'node:fs';
import { ContainerCreateBody, isNotFound, WaitCancelled, WaitHandle } from '../../client';
import { encodedAuthFor } from '../auth';
import type { Cli } from '../cli';
import { CommandSpec, StatusError, withHelp } from '../command';
import { FlagValues } from '../flags';
import { displayJSONMessages } from '../format/progress';
import { EscapeError, Streamer, streamToCli } from '../hijack';
import { apiTag, familiarString, parseNormalizedNamed, Reference, tagNameOnly } from '../reference';
import { forwardSignals, monitorTtySize } from '../signals';
import { buildCreateBody } from './container-config';
import { CONTAINER_FLAGS, CREATE_ONLY_FLAGS, RUN_ONLY_FLAGS } from './container-flags';
import { errorMessage } from '../../util/errors';

const PULL_OPTIONS = ['always', 'missing', 'never', ''];

function validatePull(v: string, command: string): void {
  if (!PULL_OPTIONS.includes(v)) {
    throw new StatusError(
      withHelp(`invalid pull option: '${v}': must be one of "always", "missing" or "never"`, command),
      125,
    );
  }
}

/** docker's toStatusError: 127 for missing executables, 126 for permission problems, else 125. */
export function toStatusError(message: string, command = 'run'): StatusError {
  const text = withHelp(message, command);
  if (
    message.includes('executable file not found') ||
    message.includes('no such file or directory') ||
    message.includes('system cannot find the file specified')
  ) {
    return new StatusError(text, 127);
  }
  if (message.includes('permission denied') || message.includes('is a directory')) return new StatusError(text, 126);
  return new StatusError(text, 125);
}


/** Pulls an image for run/create, printing the progress stream to stderr. */
async function pullImage(cli: Cli, ref: Reference, platform: string, quiet: boolean): Promise<void> {
  const res = await cli.client.imageCreate({
    fromImage: ref.name,
    tag: apiTag(ref),
    platform: platform || undefined,
    registryAuth: encodedAuthFor(ref.domain, cli.config),
  });
  const stderr = cli.io.stderr as typeof cli.io.stderr & { columns?: number };
  await displayJSONMessages(res, {
    write: (s) => {
      if (!quiet) cli.err(s);
    },
    isTerminal: !quiet && stderr.isTTY === true,
    columns: stderr.columns,
  });
}

interface CreateOptions {
  name: string;
  platform: string;
  pull: string;
  quiet: boolean;
}

/** docker's createContainer(): pull on 404 (pull=missing), print warnings, write --cidfile. */
async function createContainer(cli: Cli, body: ContainerCreateBody, opts: CreateOptions): Promise<string> {
  const cidfile = body.HostConfig.ContainerIDFile;
  if (cidfile && fs.existsSync(cidfile)) {
    throw new Error(`container ID file found, make sure the other container isn't running or delete ${cidfile}`);
  }
  let namedRef: Reference | undefined;
  if (!/^[a-f0-9]{64}$/.test(body.Image)) {
    namedRef = tagNameOnly(parseNormalizedNamed(body.Image));
  }
  if (opts.pull === 'always' && namedRef) await pullImage(cli, namedRef, opts.platform, opts.quiet);

  body.HostConfig.ConsoleSize = cli.ttySize();
  const create = () => cli.client.containerCreate(body, { name: opts.name, platform: opts.platform });
  let res;
  try {
    res = await create();
  } catch (err) {
    if (!(isNotFound(err) && namedRef && opts.pull === 'missing')) throw err;
    if (!opts.quiet) cli.err(`Unable to find image '${familiarString(namedRef)}' locally\n`);
    await pullImage(cli, namedRef, opts.platform, opts.quiet);
    res = await create();
  }
  for (const w of res.Warnings ?? []) cli.err(`WARNING: ${w}\n`);
  if (cidfile) {
    try {
      fs.writeFileSync(cidfile, res.Id);
    } catch (err) {
      throw new Error(`failed to write the container ID to the file: ${errorMessage(err)}`);
    }
  }
  return res.Id;
}

function buildBody(cli: Cli, flags: FlagValues, args: string[], command: string): ContainerCreateBody {
  validatePull(flags.string('pull'), command);
  try {
    return buildCreateBody(flags, { image: args[0], args: args.slice(1), env: cli.env, consoleSize: [0, 0] });
  } catch (err) {
    throw new StatusError(withHelp(errorMessage(err), command), 125);
  }
}

function createOptions(flags: FlagValues): CreateOptions {
  return {
    name: flags.string('name'),
    platform: flags.string('platform'),
    pull: flags.string('pull'),
    quiet: flags.bool('quiet'),
  };
}

async function runCreate(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const body = buildBody(cli, flags, args, 'create');
  const id = await createContainer(cli, body, createOptions(flags));
  cli.out(`${id}\n`);
  return 0;
}

/** Waits for the container's status like waitExitOrRemoved: 125 when waiting itself failed. */
function statusOf(cli: Cli, wait: WaitHandle | Error): Promise<number> {
  if (wait instanceof Error) {
    cli.err(`ERRO[0000] error waiting for container: ${wait.message}\n`);
    return Promise.resolve(125);
  }
  return wait.result.then(
    (r) => {
      if (r.Error && r.Error.Message) {
        cli.err(`ERRO[0000] Error waiting for container: ${r.Error.Message}\n`);
        return 125;
      }
      return r.StatusCode;
    },
    (err) => {
      // A cancelled wait never reports a status (the Go goroutine just returns).
      if (err instanceof WaitCancelled) return new Promise<number>(() => undefined);
      cli.err(`ERRO[0000] error waiting for container: ${errorMessage(err)}\n`);
      return 125;
    },
  );
}

async function runRun(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const body = buildBody(cli, flags, args, 'run');
  const detach = flags.bool('detach');
  if (!detach) {
    if (body.AttachStdin && body.Tty && !cli.inIsTerminal) throw new StatusError('the input device is not a TTY', 1);
  } else {
    if (flags.list('attach').length > 0) {
      throw new StatusError('conflicting options: cannot specify both --attach and --detach', 1);
    }
    body.AttachStdin = false;
    body.AttachStdout = false;
    body.AttachStderr = false;
    body.StdinOnce = false;
  }

  let id: string;
  try {
    id = await createContainer(cli, body, createOptions(flags));
  } catch (err) {
    throw toStatusError(errorMessage(err));
  }

  const cleanups: (() => void)[] = [];
  try {
    if (flags.bool('sig-proxy')) cleanups.push(forwardSignals(cli, id));

    const attach = body.AttachStdin || body.AttachStdout || body.AttachStderr;
    let streamer: Streamer | undefined;
    if (attach) {
      const conn = await cli.client.containerAttach(id, {
        stream: true,
        stdin: body.AttachStdin,
        stdout: body.AttachStdout,
        stderr: body.AttachStderr,
        detachKeys: flags.string('detach-keys') || cli.config.detachKeys || undefined,
      });
      streamer = streamToCli(cli, conn, {
        tty: body.Tty === true,
        stdin: body.AttachStdin === true,
        stdout: body.AttachStdout === true,
        stderr: body.AttachStderr === true,
        detachKeys: flags.string('detach-keys') || cli.config.detachKeys || undefined,
      });
      streamer.done.catch(() => undefined);
    }

    // The wait must be registered (headers received) before start.
    const wait = await cli.client
      .containerWait(id, body.HostConfig.AutoRemove ? 'removed' : 'next-exit')
      .catch((err: Error) => err);
    cleanups.push(() => {
      if (!(wait instanceof Error)) wait.cancel();
    });
    const status = statusOf(cli, wait);

    try {
      await cli.client.containerStart(id);
    } catch (err) {
      if (streamer) {
        streamer.cancel();
        await streamer.done.catch(() => undefined);
      }
      if (body.HostConfig.AutoRemove) await status;
      throw toStatusError(errorMessage(err));
    }

    if (!streamer) {
      cli.out(`${id}\n`);
      return 0;
    }

    if (body.Tty && cli.outIsTerminal) {
      cleanups.push(monitorTtySize(cli, (h, w) => cli.client.containerResize(id, h, w)));
    }

    const streamDone = streamer.done.then(
      (): { kind: 'stream'; err?: Error } => ({ kind: 'stream' }),
      (err: Error): { kind: 'stream'; err?: Error } => ({ kind: 'stream', err }),
    );
    const first = await Promise.race([streamDone, status.then((code) => ({ kind: 'status' as const, code }))]);
    if (first.kind === 'stream') {
      if (first.err) {
        if (first.err instanceof EscapeError) return 0;
        throw first.err;
      }
      return await status;
    }
    if (!body.AttachStdout && !body.AttachStderr) streamer.cancel();
    await streamDone;
    return first.code;
  } finally {
    for (const c of cleanups) c();
  }
}

export const runCommand: CommandSpec = {
  name: 'run',
  use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  aliasPaths: ['container run', 'run'],
  flags: [...CONTAINER_FLAGS, ...RUN_ONLY_FLAGS],
  interspersed: false,
  args: { kind: 'min', n: 1 },
  topOrder: 1,
  run: runRun,
};

export const createCommand: CommandSpec = {
  name: 'create',
  use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  aliasPaths: ['container create', 'create'],
  flags: [...CONTAINER_FLAGS, ...CREATE_ONLY_FLAGS],
  interspersed: false,
  args: { kind: 'min', n: 1 },
  run: runCreate,
};

