/** `ps` (container ls). */
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { ContainerRow, containerFormat, containerHeader } from '../format/container';
import { renderFormatted, preFormat } from '../format/table';
import { compileTemplate } from '../format/template';
import { FILTER_FLAG, FORMAT_HELP, toFilters } from '../opts';

/** Does the template read .Size? docker executes it on an empty row to find out. */
function templateUsesSize(format: string): boolean {
  let render: (d: unknown) => string;
  try {
    render = compileTemplate(preFormat(format === 'json' ? '{{json .}}' : format));
  } catch (err) {
    throw new StatusError(`failed to parse template: ${(err as Error).message}`, 1);
  }
  const probe = new ContainerRow({}, false);
  try {
    render(probe);
  } catch (err) {
    throw new StatusError(`failed to execute template: ${(err as Error).message}`, 1);
  }
  return probe.sizeUsed;
}

async function runPs(cli: Cli, flags: FlagValues): Promise<number> {
  const quiet = flags.bool('quiet');
  let format = flags.string('format');
  if (format === '') format = cli.config.psFormat ?? '';
  else if (quiet) cli.err('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');

  let size = flags.bool('size');
  let limit = flags.int('last');
  if (flags.bool('latest') && limit === -1) limit = 1;
  if (format !== '' && format !== 'table' && format !== 'raw') {
    if (templateUsesSize(format) && !quiet && !size && !flags.isSet('size')) size = true;
  }
  const containers = await cli.client.containerList({
    all: flags.bool('all'),
    limit,
    size,
    filters: toFilters(flags.list('filter')),
  });
  const trunc = !flags.bool('no-trunc');
  const rows = containers.map((c) => new ContainerRow(c, trunc));
  cli.out(renderFormatted(containerFormat(format, quiet, size), rows, containerHeader()));
  return 0;
}

export const psCommand: CommandSpec = {
  name: 'ps',
  use: 'ps [OPTIONS]',
  short: 'List containers',
  aliasPaths: ['container ls', 'container list', 'container ps', 'ps'],
  args: { kind: 'none' },
  topOrder: 3,
  flags: [
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'last', short: 'n', type: 'int', usage: 'Show n last created containers (includes all states)', default: -1 },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    FILTER_FLAG,
  ],
  run: runPs,
};
