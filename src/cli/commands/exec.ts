/** `exec`: run a command in a running container (docker's cli/command/container/exec.go flow). */
import { ConnectionError, ExecCreateConfig } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { streamToCli } from '../hijack';
import { monitorTtySize } from '../signals';
import { validateEnv } from './container-flags';
import { readKVFile } from './container-config';

/** parseExec: the exec create body from the flags (env files first, then -e values). */
export function buildExecConfig(cli: Cli, flags: FlagValues, cmd: string[]): ExecCreateConfig {
  const env: string[] = [];
  // kvfile.Parse omits bare keys that are not set locally.
  for (const f of flags.list('env-file')) env.push(...readKVFile(f, (k) => cli.env[k]).filter((e) => e.includes('=')));
  env.push(...flags.list('env'));
  const detach = flags.bool('detach');
  const tty = flags.bool('tty');
  return {
    User: flags.string('user'),
    Privileged: flags.bool('privileged'),
    Tty: tty,
    AttachStdin: !detach && flags.bool('interactive'),
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: flags.string('detach-keys') || cli.config.detachKeys || '',
    Env: env.length > 0 ? env : null,
    WorkingDir: flags.string('workdir'),
    Cmd: cmd,
  };
}

/** The create body in the Go client's field order; ConsoleSize only when a TTY is requested. */
function createBody(config: ExecCreateConfig, consoleSize?: [number, number]): ExecCreateConfig {
  return {
    User: config.User,
    Privileged: config.Privileged,
    Tty: config.Tty,
    ...(consoleSize ? { ConsoleSize: consoleSize } : {}),
    AttachStdin: config.AttachStdin,
    AttachStderr: config.AttachStderr,
    AttachStdout: config.AttachStdout,
    Detach: config.Detach,
    DetachKeys: config.DetachKeys,
    Env: config.Env,
    WorkingDir: config.WorkingDir,
    Cmd: config.Cmd,
  };
}

async function runExec(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const container = args[0];
  const config = buildExecConfig(cli, flags, args.slice(1));

  // Inspect first so that "No such container" wins over a TTY complaint, and no exec is leaked.
  await cli.client.containerInspect(container);
  if (!config.Detach && config.Tty && config.AttachStdin && !cli.inIsTerminal) {
    throw new StatusError('the input device is not a TTY', 1);
  }
  const consoleSize = config.Tty ? cli.ttySize() : undefined;
  const created = await cli.client.execCreate(container, createBody(config, consoleSize));
  const execId = created.Id;
  if (!execId) throw new StatusError('exec ID empty', 1);

  if (config.Detach) {
    await cli.client.execStartDetached(execId, { tty: config.Tty, consoleSize });
    return 0;
  }

  const conn = await cli.client.execAttach(execId, { tty: config.Tty, consoleSize: config.Tty ? cli.ttySize() : undefined });
  const streamer = streamToCli(cli, conn, { tty: config.Tty, stdin: config.AttachStdin === true, detachKeys: config.DetachKeys || undefined });
  let stopResize: (() => void) | undefined;
  if (config.Tty && cli.inIsTerminal) {
    stopResize = monitorTtySize(cli, (h, w) => cli.client.execResize(execId, h, w));
  }
  try {
    await streamer.done;
  } finally {
    stopResize?.();
  }

  let status: number;
  try {
    const info = await cli.client.execInspect(execId);
    status = info.ExitCode ?? 0;
  } catch (err) {
    // The daemon went away: docker exits with StatusError{-1}, i.e. 255.
    if (err instanceof ConnectionError) return 255;
    throw err;
  }
  if (status !== 0) throw new StatusError('', status < 0 ? status & 0xff : status);
  return 0;
}

export const execCommand: CommandSpec = {
  name: 'exec',
  use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  aliasPaths: ['container exec', 'exec'],
  interspersed: false,
  args: { kind: 'min', n: 2 },
  topOrder: 2,
  flags: [
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
    { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
    { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables', validate: (v) => validateEnv(v) },
    { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
    { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
  ],
  run: runExec,
};
