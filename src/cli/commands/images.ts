/** `images` (image ls) and `import`. */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Cli } from '../cli';
import { BIN, CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { imageFormat, imageHeader, imageRows } from '../format/image';
import { displayJSONMessages } from '../format/progress';
import { renderFormatted } from '../format/table';
import { FILTER_FLAG, FORMAT_HELP, toFilters } from '../opts';
import { parseNormalizedNamed } from '../reference';

const AMBIGUOUS = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'];

function imagesRunner(calledAs: string) {
  return async (cli: Cli, flags: FlagValues, args: string[]): Promise<number> => {
    const quiet = flags.bool('quiet');
    const digests = flags.bool('digests');
    const filters = toFilters(flags.list('filter'));
    const matchName = args[0] ?? '';
    if (matchName !== '') (filters.reference ??= {})[matchName] = true;
    if (flags.bool('tree')) {
      if (quiet) throw new StatusError('--quiet is not yet supported with --tree', 1);
      if (flags.bool('no-trunc')) throw new StatusError('--no-trunc is not yet supported with --tree', 1);
      if (digests) throw new StatusError('--show-digest is not yet supported with --tree', 1);
      if (flags.string('format') !== '') throw new StatusError('--format is not yet supported with --tree', 1);
      throw new StatusError('--tree is not supported by berth yet', 1);
    }
    const images = await cli.client.imageList({ all: flags.bool('all'), filters });
    let format = flags.string('format');
    if (format === '') format = cli.config.imagesFormat && !quiet ? cli.config.imagesFormat : 'table';
    const fmt = imageFormat(format, quiet, digests);
    const rows = imageRows(images, { trunc: !flags.bool('no-trunc'), digest: digests, format: fmt });
    cli.out(renderFormatted(fmt, rows, imageHeader()));
    if (matchName !== '' && images.length === 0 && calledAs === 'images' && AMBIGUOUS.includes(matchName)) {
      cli.err(`\nNo images found matching ${JSON.stringify(matchName)}: did you mean "${BIN} image ${matchName}"?\n`);
    }
    return 0;
  };
}

const IMAGES_FLAGS = [
  { name: 'quiet', short: 'q', type: 'bool' as const, usage: 'Only show image IDs' },
  { name: 'all', short: 'a', type: 'bool' as const, usage: 'Show all images (default hides intermediate images)' },
  { name: 'no-trunc', type: 'bool' as const, usage: "Don't truncate output" },
  { name: 'digests', type: 'bool' as const, usage: 'Show digests' },
  { name: 'format', type: 'string' as const, usage: FORMAT_HELP },
  FILTER_FLAG,
  { name: 'tree', type: 'bool' as const, usage: 'List multi-platform images as a tree (EXPERIMENTAL)' },
];

export const imagesCommand: CommandSpec = {
  name: 'images',
  use: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  short: 'List images',
  aliasPaths: ['image ls', 'image list', 'images'],
  args: { kind: 'max', n: 1 },
  topOrder: 7,
  flags: IMAGES_FLAGS,
  run: imagesRunner('images'),
};

export const imageLsCommand: CommandSpec = {
  ...imagesCommand,
  name: 'ls',
  use: 'ls [OPTIONS] [REPOSITORY[:TAG]]',
  aliases: ['list'],
  topOrder: undefined,
  run: imagesRunner('ls'),
};

async function runImport(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const source = args[0];
  const ref = args[1] ?? '';
  let body: Readable | undefined;
  let fromSrc = source;
  if (source === '-') {
    body = cli.io.stdin;
  } else if (!source.startsWith('https://') && !source.startsWith('http://')) {
    try {
      fs.accessSync(source, fs.constants.R_OK);
      if (fs.statSync(source).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw new StatusError(`open ${source}: ${why}`, 1);
    }
    body = fs.createReadStream(source);
    fromSrc = '-';
  }
  if (ref !== '') {
    try {
      parseNormalizedNamed(ref);
    } catch (err) {
      throw new StatusError((err as Error).message, 1);
    }
  }
  const res = await cli.client.imageImport(body, {
    source: fromSrc,
    repo: ref || undefined,
    message: flags.string('message') || undefined,
    changes: flags.list('change'),
    platform: flags.string('platform') || undefined,
  });
  await displayJSONMessages(res, { write: (s) => cli.out(s), isTerminal: cli.outIsTerminal, columns: cli.io.stdout.columns });
  return 0;
}

export const importCommand: CommandSpec = {
  name: 'import',
  use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  aliasPaths: ['image import', 'import'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
  ],
  run: runImport,
};
