import * as fs from 'node:fs';
import { ApiServer } from '../api/http/server';
import { buildRouter } from '../api/routes';
import { ENGINE_VERSION } from '../api/http/context';
import { lockDirectory } from '../util/lock';
import { log, setLogLevel } from '../util/log';
import { writeFileAtomicSync } from '../util/atomic';
import { USAGE, UsageError, engineId, loadConfig } from './config';
import { Engine } from './engine';
import { resolveBinary } from './binaries';

async function main(): Promise<number> {
  let action;
  try {
    action = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return 125;
    }
    throw err;
  }
  if (action.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (action.kind === 'version') {
    process.stdout.write(`Berth version ${ENGINE_VERSION}\n`);
    return 0;
  }
  const config = action.config;
  setLogLevel(config.logLevel);
  if (process.getuid?.() !== 0) {
    process.stderr.write('berthd needs to be started with root privileges\n');
    return 1;
  }
  fs.mkdirSync(config.dataRoot, { recursive: true, mode: 0o711 });
  let unlock: () => void;
  try {
    unlock = lockDirectory(`${config.dataRoot}/berthd.lock`);
  } catch (err) {
    process.stderr.write(`failed to start daemon: ${(err as Error).message}\n`);
    return 1;
  }
  config.engineId = engineId(config.dataRoot);
  config.runtime = resolveBinary(config.runtime, 'runtime');
  config.conmon = resolveBinary(config.conmon, 'conmon');

  const engine = await Engine.open(config);
  const server = new ApiServer(buildRouter(engine));
  for (const host of config.hosts) await server.listenUnix(host);
  fs.mkdirSync(config.execRoot, { recursive: true });
  writeFileAtomicSync(config.pidfile, `${process.pid}\n`);
  log.info('Daemon has completed initialization', { hosts: config.hosts.join(','), dataRoot: config.dataRoot });
  log.info('API listen on ' + config.hosts.join(', '));

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info(`Processing signal '${sig}'`);
      resolve();
    };
    process.once('SIGTERM', () => stop('terminated'));
    process.once('SIGINT', () => stop('interrupt'));
  });
  // Containers keep running under their monitors; a later berthd re-attaches to them.
  await server.close();
  await engine.shutdown();
  for (const host of config.hosts) fs.rmSync(host, { force: true });
  fs.rmSync(config.pidfile, { force: true });
  unlock();
  log.info('Daemon shutdown complete');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`failed to start daemon: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
