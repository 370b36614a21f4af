/** berth: a docker-compatible CLI. Entry point and command dispatch. */
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiError, ConnectionError, HostError } from '../client';
import { CLIENT_VERSION, Cli, CliIO, GlobalOptions } from './cli';
import { BIN, checkArgs, CommandSpec, StatusError } from './command';
import type * as Commands from './commands';
import { defaultConfigDir } from './config';
import { FlagDef, FlagError, FlagSet, HELP_FLAG, HelpRequested } from './flags';
import { commandHelp, rootHelp, useLine } from './help';

/** The command tree, loaded on first use: `cp` starts without it (a copy's time includes start-up). */
let commandsModule: typeof Commands | undefined;
const commands = (): typeof Commands => (commandsModule ??= require('./commands') as typeof Commands);

function globalFlags(env: NodeJS.ProcessEnv): FlagDef[] {
  const dir = defaultConfigDir(env);
  const certDir = env.DOCKER_CERT_PATH || dir;
  return [
    { name: 'config', type: 'string', usage: 'Location of client config files', default: dir },
    {
      name: 'context',
      short: 'c',
      type: 'string',
      usage:
        'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")',
    },
    { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
    { name: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to' },
    {
      name: 'log-level',
      short: 'l',
      type: 'string',
      usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
      default: 'info',
    },
    { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify', default: env.DOCKER_TLS !== undefined && env.DOCKER_TLS !== '' },
    { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA', default: path.join(certDir, 'ca.pem') },
    { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file', default: path.join(certDir, 'cert.pem') },
    { name: 'tlskey', type: 'string', usage: 'Path to TLS key file', default: path.join(certDir, 'key.pem') },
    { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote', default: env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' },
    { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
    HELP_FLAG,
  ];
}

function flagErrorText(err: Error, use: string, cmdPath: string): string {
  return `${err.message}\n\nUsage:  ${use}\n\nRun '${cmdPath} --help' for more information`;
}

/** Prints an error the way docker's main() does and returns the exit code. */
function report(cli: Cli, err: unknown): number {
  if (err instanceof StatusError) {
    if (err.message !== '') cli.err(`${err.message}\n`);
    return err.status || 1;
  }
  if (err instanceof ApiError || err instanceof ConnectionError || err instanceof HostError || err instanceof Error) {
    if (err.message !== '') cli.err(`${err.message}\n`);
    return 1;
  }
  cli.err(`${String(err)}\n`);
  return 1;
}

async function runCommand(cli: Cli, cmd: CommandSpec, parentPath: string, argv: string[]): Promise<number> {
  const cmdPath = `${parentPath} ${cmd.name}`;
  const use = useLine(parentPath, cmd);
  if (cmd.subcommands) {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
      const text = commandHelp(cmd, parentPath, cli.helpWidth);
      if (argv.length === 0) cli.err(text);
      else cli.out(text);
      return 0;
    }
    const child = argv[0].startsWith('-') ? undefined : commands().findCommand(cmd.subcommands, argv[0]);
    if (!child) {
      if (argv[0].startsWith('-')) {
        throw new StatusError(flagErrorText(new Error(`unknown flag: ${argv[0].split('=')[0]}`), cmdPath, cmdPath), 125);
      }
      throw new StatusError(
        `${BIN}: unknown command: ${cmdPath} ${argv[0]}\n\nUsage:  ${cmdPath}\n\nRun '${cmdPath} --help' for more information`,
        1,
      );
    }
    return runCommand(cli, child, cmdPath, argv.slice(1));
  }
  const defs = cmd.flags ?? [];
  const flagset = new FlagSet(defs.some((d) => d.name === 'help') ? defs : [...defs, HELP_FLAG]);
  let parsed;
  try {
    parsed = flagset.parse(argv, { interspersed: cmd.interspersed ?? true, warn: (m) => cli.err(`${m}\n`) });
  } catch (err) {
    if (err instanceof HelpRequested) {
      cli.out(commandHelp(cmd, parentPath, cli.helpWidth));
      return 0;
    }
    if (err instanceof FlagError) throw new StatusError(flagErrorText(err, use, cmdPath), 125);
    throw err;
  }
  checkArgs(cmd.args, cmdPath, use, parsed.args);
  if (!cmd.run) return 0;
  return (await cmd.run(cli, parsed.flags, parsed.args)) ?? 0;
}

/** Runs the CLI with the given arguments and streams; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const gdefs = globalFlags(env);
  const options: GlobalOptions = { hosts: [], debug: false, logLevel: 'info', configDir: defaultConfigDir(env), context: '' };
  const cli = new Cli(io, env, options);
  try {
    let parsed;
    try {
      parsed = new FlagSet(gdefs).parse(argv, { interspersed: false, warn: (m) => cli.err(`${m}\n`) });
    } catch (err) {
      if (err instanceof HelpRequested) {
        cli.out(rootHelp(commands().COMMANDS, gdefs, cli.helpWidth));
        return 0;
      }
      if (err instanceof FlagError) throw new StatusError(flagErrorText(err, `${BIN} [OPTIONS] COMMAND [ARG...]`, BIN), 125);
      throw err;
    }
    const f = parsed.flags;
    options.hosts = f.list('host');
    options.debug = f.bool('debug');
    options.logLevel = f.string('log-level');
    options.configDir = f.string('config');
    options.context = f.string('context');
    if (f.bool('version')) {
      cli.out(`Berth version ${CLIENT_VERSION}, build ${os.platform()}\n`);
      return 0;
    }
    const args = parsed.args;
    if (args.length === 0) {
      cli.err(rootHelp(commands().COMMANDS, gdefs, cli.helpWidth));
      return 0;
    }
    if (args[0] === 'help') {
      if (args.length === 1) {
        cli.out(rootHelp(commands().COMMANDS, gdefs, cli.helpWidth));
        return 0;
      }
      let list: readonly CommandSpec[] = commands().COMMANDS;
      let parent = BIN;
      let target: CommandSpec | undefined;
      for (const name of args.slice(1)) {
        target = commands().findCommand(list, name);
        if (!target) throw new StatusError(`unknown help topic: ${args.slice(1).join(' ')}`, 1);
        if (target.subcommands) {
          list = target.subcommands;
        }
        if (name !== args[args.length - 1]) parent = `${parent} ${target.name}`;
      }
      cli.out(commandHelp(target as CommandSpec, parent, cli.helpWidth));
      return 0;
    }
    if (args[0] === 'cp' || (args[0] === 'container' && args[1] === 'cp')) {
      const { cpCommand } = require('./commands/cp') as typeof import('./commands/cp');
      if (args[0] === 'cp') return await runCommand(cli, cpCommand, BIN, args.slice(1));
      return await runCommand(cli, { ...cpCommand, topOrder: undefined }, `${BIN} container`, args.slice(2));
    }
    const cmd = commands().findCommand(commands().COMMANDS, args[0]);
    if (!cmd) {
      throw new StatusError(`${BIN}: unknown command: ${BIN} ${args[0]}\n\nRun '${BIN} --help' for more information`, 1);
    }
    return await runCommand(cli, cmd, BIN, args.slice(1));
  } catch (err) {
    return report(cli, err);
  } finally {
    cli.close();
  }
}

function main(): void {
  const exit = (code: number) => {
    // Let pending stdout/stderr writes drain before exiting (pipes to a slow reader).
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  };
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
    });
  }
  runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, process.env).then(
    exit,
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      exit(1);
    },
  );
}

if (require.main === module) main();
