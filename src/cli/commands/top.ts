/** `top CONTAINER [ps OPTIONS]`: the daemon runs ps; we print its columns aligned like docker. */
import type { Cli } from '../cli';
import { CommandSpec } from '../command';
import { FlagValues } from '../flags';
import { TabWriter } from '../format/tabwriter';

interface TopResponse {
  Titles: string[];
  Processes: string[][] | null;
}

async function runTop(cli: Cli, _flags: FlagValues, args: string[]): Promise<number> {
  const [container, ...psArgs] = args;
  const list = await cli.client.transport.json<TopResponse>({
    method: 'GET',
    path: `/containers/${container}/top`,
    query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined },
  });
  const tw = new TabWriter(20, 1, 3, ' ');
  tw.write(list.Titles.join('\t') + '\n');
  for (const p of list.Processes ?? []) tw.write(p.join('\t') + '\n');
  cli.out(tw.flush());
  return 0;
}

export const topCommand: CommandSpec = {
  name: 'top',
  use: 'top CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  aliasPaths: ['container top', 'top'],
  args: { kind: 'min', n: 1 },
  interspersed: false,
  flags: [],
  run: runTop,
};
