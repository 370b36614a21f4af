/** `volume create|ls|inspect|rm|prune` (docker/cli cli/command/volume). */
import { encodeFilters, type VolumeUsage } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { renderFormatted } from '../format/table';
import { volumeHeader, VolumeRow } from '../format/volume';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, toFilters } from '../opts';
import { inspectAndPrint } from './inspect';
import { PRUNE_FILTER_FLAG, pruneFilters, confirmAndPrune } from './lifecycle';

/** key=value pairs of repeated flags; a bare key maps to ''. */
function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

async function runCreate(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const flagName = flags.string('name');
  if (flagName && args.length && args[0] !== flagName) {
    throw new StatusError(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`, 1);
  }
  const v = await cli.client.transport.json<VolumeUsage>({
    method: 'POST',
    path: '/volumes/create',
    json: {
      Name: args[0] ?? flagName ?? '',
      Driver: flags.string('driver') || 'local',
      DriverOpts: keyValues(flags.list('opt')),
      Labels: keyValues(flags.list('label')),
    },
  });
  cli.out(`${v.Name}\n`);
  return 0;
}

async function runLs(cli: Cli, flags: FlagValues): Promise<number> {
  const filters = toFilters(flags.list('filter'));
  const list = await cli.client.transport.json<{ Volumes: VolumeUsage[] | null }>({
    method: 'GET',
    path: '/volumes',
    query: { filters: encodeFilters(filters) },
  });
  const vols = [...(list.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  let format = flags.string('format') || 'table';
  if (flags.bool('quiet')) format = '{{.Name}}';
  else if (format === 'table') format = 'table {{.Driver}}\t{{.Name}}';
  cli.out(renderFormatted(format, vols.map((v) => new VolumeRow(v)), volumeHeader()));
  return 0;
}

async function runInspect(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  return inspectAndPrint(cli, args, flags.string('format'), (ref) => cli.client.rawGet(`/volumes/${encodeURIComponent(ref)}`));
}

async function runRm(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const errs: string[] = [];
  for (const name of args) {
    try {
      await cli.client.transport.noContent({ method: 'DELETE', path: `/volumes/${encodeURIComponent(name)}`, query: { force: flags.bool('force') ? '1' : undefined } });
      cli.out(`${name}\n`);
    } catch (err) {
      errs.push((err as Error).message);
    }
  }
  if (errs.length) throw new StatusError(errs.join('\n'), 1);
  return 0;
}

const PRUNE_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const PRUNE_ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

async function runPrune(cli: Cli, flags: FlagValues): Promise<number> {
  const filters = toFilters(flags.list('filter'));
  const all = flags.bool('all');
  if (all) (filters.all ??= {}).true = true;
  pruneFilters(cli, filters);
  return confirmAndPrune(cli, flags, all ? PRUNE_ALL_WARNING : PRUNE_WARNING, async () => {
    const report = await cli.client.transport.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>({
      method: 'POST',
      path: '/volumes/prune',
      query: { filters: encodeFilters(filters) },
    });
    return { title: 'Deleted Volumes', lines: report.VolumesDeleted ?? [], reclaimed: report.SpaceReclaimed ?? 0 };
  });
}

export const volumeGroup: CommandSpec = {
  name: 'volume',
  use: 'volume COMMAND',
  short: 'Manage volumes',
  subcommands: [
    {
      name: 'create',
      use: 'create [OPTIONS] [VOLUME]',
      short: 'Create a volume',
      args: { kind: 'max', n: 1 },
      flags: [
        { name: 'driver', short: 'd', type: 'string', usage: 'Specify volume driver name', default: 'local' },
        { name: 'label', type: 'list', usage: 'Set metadata for a volume' },
        { name: 'name', type: 'string', usage: 'Specify volume name', hidden: true },
        { name: 'opt', short: 'o', type: 'list', usage: 'Set driver specific options' },
      ],
      run: runCreate,
    },
    {
      name: 'inspect',
      use: 'inspect [OPTIONS] VOLUME [VOLUME...]',
      short: 'Display detailed information on one or more volumes',
      args: { kind: 'min', n: 1 },
      flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
      run: runInspect,
    },
    {
      name: 'ls',
      use: 'ls [OPTIONS]',
      short: 'List volumes',
      aliases: ['list'],
      args: { kind: 'none' },
      flags: [
        { name: 'filter', short: 'f', type: 'list', usage: "Provide filter values (e.g. 'dangling=true')" },
        { name: 'format', type: 'string', usage: FORMAT_HELP },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display volume names' },
      ],
      run: runLs,
    },
    {
      name: 'prune',
      use: 'prune [OPTIONS]',
      short: 'Remove unused local volumes',
      args: { kind: 'none' },
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
        PRUNE_FILTER_FLAG,
        { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
      ],
      run: runPrune,
    },
    {
      name: 'rm',
      use: 'rm [OPTIONS] VOLUME [VOLUME...]',
      short: 'Remove one or more volumes',
      aliases: ['remove'],
      args: { kind: 'min', n: 1 },
      flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of one or more volumes' }],
      run: runRm,
    },
  ],
};
