/** `logs`: inspect first (for Tty), then stream raw or demultiplexed output. */
import { demuxStream } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec } from '../command';
import { FlagValues } from '../flags';
import { getTimestamp } from '../format/timestamp';

async function runLogs(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const c = await cli.client.containerInspect(args[0]);
  const since = flags.string('since') ? getTimestamp(flags.string('since')) : undefined;
  const until = flags.string('until') ? getTimestamp(flags.string('until')) : undefined;
  const res = await cli.client.containerLogs(c.Id, {
    stdout: true,
    stderr: true,
    since,
    until,
    timestamps: flags.bool('timestamps'),
    follow: flags.bool('follow'),
    tail: flags.string('tail'),
    details: flags.bool('details'),
  });
  if (c.Config.Tty) {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (b: Buffer) => cli.io.stdout.write(b));
      res.on('end', resolve);
      res.on('error', reject);
    });
  } else {
    await demuxStream(
      res,
      (b) => cli.io.stdout.write(b),
      (b) => cli.io.stderr.write(b),
    );
  }
  return 0;
}

export const logsCommand: CommandSpec = {
  name: 'logs',
  use: 'logs [OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  aliasPaths: ['container logs', 'logs'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
    {
      name: 'since',
      type: 'string',
      usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    {
      name: 'until',
      type: 'string',
      usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
    { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
    { name: 'tail', short: 'n', type: 'string', usage: 'Number of lines to show from the end of the logs', default: 'all' },
  ],
  run: runLogs,
};
