/** `export`: a container's file system as a tar archive. */
import type { Cli } from '../cli';
import { CommandSpec } from '../command';
import { FlagValues } from '../flags';
import { archiveToOutput } from './image-manage';

async function runExport(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  return archiveToOutput(cli, flags.string('output'), () => cli.client.containerExport(args[0]!), 'failed to export container');
}

export const exportCommand: CommandSpec = {
  name: 'export',
  use: 'export [OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  aliasPaths: ['container export', 'export'],
  args: { kind: 'exact', n: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
  run: runExport,
};
