/** Image management: rmi, tag, history, save, load and image prune. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageHistoryItem, isNotFound } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { truncateID } from '../format/container';
import { displayJSONMessages } from '../format/progress';
import { headerContext, renderFormatted } from '../format/table';
import { humanDuration, humanSizeWithPrecision } from '../format/units';
import { ellipsis } from '../format/width';
import { FORMAT_HELP, toFilters } from '../opts';
import { parseNormalizedNamed, tagNameOnly } from '../reference';
import { PRUNE_FILTER_FLAG, pruneFilters, confirmAndPrune } from './lifecycle';
import { errorMessage } from '../../util/errors';

const PLATFORM_USAGE = (what: string) => `${what}. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")`;

// --- platforms (containerd's platforms.Parse, encoded as the Go client's JSON) -------------------

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const HOST_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function normalizeArch(arch: string, variant: string): [string, string] {
  let a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      a = '386';
      v = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      a = 'amd64';
      if (v === 'v1') v = '';
      break;
    case 'aarch64':
    case 'arm64':
      a = 'arm64';
      if (['8', 'v8', 'v8.0'].includes(v)) v = '';
      else if (['9', '9.0', 'v9.0'].includes(v)) v = 'v9';
      break;
    case 'armhf':
      a = 'arm';
      v = 'v7';
      break;
    case 'armel':
      a = 'arm';
      v = 'v6';
      break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (['5', '6', '8'].includes(v)) v = `v${v}`;
      break;
  }
  return [a, v];
}

/** platforms.Parse + json.Marshal(ocispec.Platform); errors worded as containerd words them. */
export function encodePlatform(specifier: string): string {
  const invalid = (msg: string) => new Error(`${msg}: invalid argument`);
  if (specifier.includes('*')) throw invalid(`${JSON.stringify(specifier)}: wildcards not yet supported`);
  const parts = specifier.split('/');
  if (parts.length > 4) parts.splice(3, parts.length - 3, parts.slice(3).join('/'));
  let os = '';
  let osVersion = '';
  let arch = '';
  let variant = '';
  parts.forEach((part, i) => {
    if (i === 0) {
      const m = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$/.exec(part);
      if (!m) {
        throw invalid(
          `${JSON.stringify(part)} is an invalid OS component of ${JSON.stringify(specifier)}: OSAndVersion specifier component must match "^([A-Za-z0-9_-]+)(?:\\\\(([A-Za-z0-9_.-]*)\\\\))?$"`,
        );
      }
      os = m[1].toLowerCase() === 'macos' ? 'darwin' : m[1].toLowerCase();
      osVersion = m[2] ?? '';
    } else if (!/^[A-Za-z0-9_.-]+$/.test(part)) {
      throw invalid(`${JSON.stringify(part)} is an invalid component of ${JSON.stringify(specifier)}: platform specifier component must match "^[A-Za-z0-9_.-]+$"`);
    }
  });
  const hostArch = HOST_ARCH[process.arch] ?? process.arch;
  switch (parts.length) {
    case 1:
      if (KNOWN_OS.has(os)) {
        arch = hostArch;
        break;
      }
      [arch, variant] = normalizeArch(parts[0], '');
      if (arch === 'arm' && variant === 'v7') variant = '';
      if (!KNOWN_ARCH.has(arch)) throw invalid(`${JSON.stringify(specifier)}: unknown operating system or architecture`);
      os = 'linux';
      osVersion = '';
      break;
    case 2:
      [arch, variant] = normalizeArch(parts[1], '');
      if (arch === 'arm' && variant === 'v7') variant = '';
      break;
    case 3:
      [arch, variant] = normalizeArch(parts[1], parts[2]);
      if (arch === 'arm64' && variant === '') variant = 'v8';
      break;
    default:
      throw invalid(`${JSON.stringify(specifier)}: cannot parse platform specifier`);
  }
  return JSON.stringify({
    architecture: arch,
    os,
    ...(osVersion ? { 'os.version': osVersion } : {}),
    ...(variant ? { variant } : {}),
  });
}

/** The --platform value as a query value, or an "invalid platform: …" StatusError. */
function platformQuery(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    return encodePlatform(value);
  } catch (err) {
    throw new StatusError(`invalid platform: ${errorMessage(err)}`, 1);
  }
}

// --- rmi -----------------------------------------------------------------------------------------

async function runRmi(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const force = flags.bool('force');
  const noprune = flags.bool('no-prune');
  const platforms: string[] = [];
  for (const v of flags.list('platform').flatMap((x) => x.split(','))) {
    let p: string;
    try {
      p = encodePlatform(v);
    } catch (err) {
      throw new StatusError(errorMessage(err), 1);
    }
    if (!platforms.includes(p)) platforms.push(p);
  }
  let fatal = false;
  const errs: string[] = [];
  for (const img of args) {
    try {
      const dels = await cli.client.imageRemove(img, { force, noprune, platforms });
      for (const d of dels ?? []) {
        if (d.Deleted) cli.out(`Deleted: ${d.Deleted}\n`);
        else cli.out(`Untagged: ${d.Untagged ?? ''}\n`);
      }
    } catch (err) {
      if (!isNotFound(err)) fatal = true;
      errs.push(errorMessage(err));
    }
  }
  if (errs.length > 0) {
    if (!force || fatal) throw new StatusError(errs.join('\n'), 1);
    cli.err(`${errs.join('\n')}\n`);
  }
  return 0;
}

export const rmiCommand: CommandSpec = {
  name: 'rmi',
  use: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  short: 'Remove one or more images',
  aliasPaths: ['image rm', 'image remove', 'rmi'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
    { name: 'platform', type: 'list', varName: 'strings', usage: PLATFORM_USAGE('Remove only the given platform variant') },
  ],
  run: runRmi,
};

/** `image rm` (aliases rmi, remove). */
export const imageRmCommand: CommandSpec = {
  ...rmiCommand,
  name: 'rm',
  use: 'rm [OPTIONS] IMAGE [IMAGE...]',
  aliases: ['rmi', 'remove'],
};

// --- tag -----------------------------------------------------------------------------------------

/** reference.ParseAnyReference for the source: IDs and digests are fine as they are. */
function checkSourceReference(source: string): void {
  if (/^[a-f0-9]{64}$/.test(source)) return;
  if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(source)) return;
  parseNormalizedNamed(source);
}

async function runTag(cli: Cli, _flags: FlagValues, args: string[]): Promise<number> {
  const [source, target] = args;
  try {
    checkSourceReference(source);
  } catch (err) {
    throw new StatusError(`Error parsing reference: ${JSON.stringify(source)} is not a valid repository/tag: ${errorMessage(err)}`, 1);
  }
  let ref;
  try {
    ref = parseNormalizedNamed(target);
  } catch (err) {
    throw new StatusError(`Error parsing reference: ${JSON.stringify(target)} is not a valid repository/tag: ${errorMessage(err)}`, 1);
  }
  if (ref.digest !== undefined) throw new StatusError('refusing to create a tag with a digest reference', 1);
  ref = tagNameOnly(ref);
  await cli.client.imageTag(source, ref.name, ref.tag ?? '');
  return 0;
}

export const tagCommand: CommandSpec = {
  name: 'tag',
  use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  aliasPaths: ['image tag', 'tag'],
  args: { kind: 'exact', n: 2 },
  interspersed: false,
  run: runTag,
};

// --- history -------------------------------------------------------------------------------------

const p2 = (n: number) => String(n).padStart(2, '0');

/** Go time.Unix(sec, 0).Format(time.RFC3339) in the local zone. */
export function rfc3339Local(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${zone}`
  );
}

const HISTORY_EPOCH = Date.UTC(2000, 0, 1) / 1000;

export class HistoryRow {
  constructor(
    private readonly h: ImageHistoryItem,
    private readonly trunc: boolean,
    private readonly human: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  ID(): string {
    return this.trunc ? truncateID(this.h.Id) : this.h.Id;
  }
  CreatedAt(): string {
    return rfc3339Local(this.h.Created);
  }
  CreatedSince(): string {
    if (!this.human) return this.CreatedAt();
    if (this.h.Created <= HISTORY_EPOCH) return 'N/A';
    return `${humanDuration(this.now() - this.h.Created * 1000)} ago`;
  }
  CreatedBy(): string {
    const createdBy = (this.h.CreatedBy ?? '').replace(/\t/g, ' ');
    return this.trunc ? ellipsis(createdBy, 45) : createdBy;
  }
  Size(): string {
    return this.human ? humanSizeWithPrecision(this.h.Size, 3) : String(this.h.Size);
  }
  Comment(): string {
    return this.h.Comment ?? '';
  }
  toJSON(): Record<string, unknown> {
    return {
      Comment: this.Comment(),
      CreatedAt: this.CreatedAt(),
      CreatedBy: this.CreatedBy(),
      CreatedSince: this.CreatedSince(),
      ID: this.ID(),
      Size: this.Size(),
    };
  }
}

// Template errors name the row type as docker's Go type.
Object.defineProperty(HistoryRow, 'name', { value: '*image.historyContext' });

export const historyHeader = (): Record<string, unknown> =>
  headerContext({
    ID: 'IMAGE',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    CreatedBy: 'CREATED BY',
    Size: 'SIZE',
    Comment: 'COMMENT',
  });

/** NewHistoryFormat */
export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    if (!human) return 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    return 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  }
  return source;
}

async function runHistory(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const history = await cli.client.imageHistory(args[0], platformQuery(flags.string('platform')));
  const human = flags.bool('human');
  const format = historyFormat(flags.string('format') || 'table', flags.bool('quiet'), human);
  const trunc = !flags.bool('no-trunc');
  const rows = (history ?? []).map((h) => new HistoryRow(h, trunc, human));
  cli.out(renderFormatted(format, rows, historyHeader()));
  return 0;
}

export const historyCommand: CommandSpec = {
  name: 'history',
  use: 'history [OPTIONS] IMAGE',
  short: 'Show the history of an image',
  aliasPaths: ['image history', 'history'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'human', short: 'H', type: 'bool', usage: 'Print sizes and dates in human readable format', default: true },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'platform', type: 'string', usage: PLATFORM_USAGE('Show history for the given platform') },
  ],
  run: runHistory,
};

// --- save ----------------------------------------------------------------------------------------

/** atomicwriter's validateDestination. */
function validateDestination(file: string): void {
  if (file === '') throw new Error('file name is empty');
  const dir = path.dirname(file);
  if (dir !== '' && dir !== '.' && dir !== '..') {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch (err) {
      throw new Error(`invalid output path: stat ${dir}: ${errnoText(err)}`);
    }
    if (!st.isDirectory()) throw new Error(`invalid output path: stat ${dir}: not a directory`);
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`failed to stat output path: ${errnoText(err)}`);
  }
  if (st.isFile()) return;
  if (st.isDirectory()) throw new Error('cannot write to a directory');
  if (st.isSymbolicLink()) throw new Error('cannot write to a symbolic link directly');
  if (st.isFIFO()) throw new Error('cannot write to a named pipe (FIFO)');
  if (st.isSocket()) throw new Error('cannot write to a socket');
  if (st.isCharacterDevice()) throw new Error('cannot write to a character device file');
  if (st.isBlockDevice()) throw new Error('cannot write to a block device file');
  throw new Error('unknown file mode');
}

/** Go's text for common errno values ("no such file or directory"). */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e.message;
  }
}

/**
 * Writes an archive the daemon streams (save, export) to `output`, or to stdout when it is not a terminal.
 * A file appears only complete: written under a temporary name, then renamed.
 */
export async function archiveToOutput(cli: Cli, output: string, open: () => Promise<Readable>, failPrefix: string): Promise<number> {
  if (output === '') {
    if (cli.outIsTerminal) throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    await pipeline(await open(), cli.io.stdout, { end: false });
    return 0;
  }
  try {
    validateDestination(output);
  } catch (err) {
    throw new StatusError(`${failPrefix}: ${errorMessage(err)}`, 1);
  }
  const abs = path.resolve(output);
  const res = await open();
  const tmp = path.join(path.dirname(abs), `.tmp-${path.basename(output)}${process.pid}${Date.now()}`);
  try {
    await pipeline(res, fs.createWriteStream(tmp, { mode: 0o600 }));
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, abs);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return 0;
}

async function runSave(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const platform = platformQuery(flags.string('platform'));
  return archiveToOutput(cli, flags.string('output'), () => cli.client.imageSave(args, platform), 'failed to save image');
}

export const saveCommand: CommandSpec = {
  name: 'save',
  use: 'save [OPTIONS] IMAGE [IMAGE...]',
  short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  aliasPaths: ['image save', 'save'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' },
    { name: 'platform', type: 'string', usage: PLATFORM_USAGE('Save only the given platform variant') },
  ],
  run: runSave,
};

// --- load ----------------------------------------------------------------------------------------

async function runLoad(cli: Cli, flags: FlagValues): Promise<number> {
  const inputFile = flags.string('input');
  let input: Readable;
  if (inputFile === '') {
    if (cli.inIsTerminal) throw new StatusError('requested load from stdin, but stdin is empty', 1);
    input = cli.io.stdin;
  } else {
    try {
      const fd = fs.openSync(inputFile, 'r');
      input = fs.createReadStream('', { fd });
    } catch (err) {
      throw new StatusError(`open ${inputFile}: ${errnoText(err)}`, 1);
    }
  }
  const quiet = flags.bool('quiet') || !cli.outIsTerminal;
  const platform = platformQuery(flags.string('platform'));
  const res = await cli.client.imageLoad(input, { quiet, platform });
  if (res.headers['content-type'] === 'application/json') {
    await displayJSONMessages(res, { write: (s) => cli.out(s), isTerminal: cli.outIsTerminal, columns: cli.io.stdout.columns });
    return 0;
  }
  await pipeline(res, cli.io.stdout, { end: false });
  return 0;
}

export const loadCommand: CommandSpec = {
  name: 'load',
  use: 'load [OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  aliasPaths: ['image load', 'load'],
  args: { kind: 'none' },
  flags: [
    { name: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
    { name: 'platform', type: 'string', usage: PLATFORM_USAGE('Load only the given platform variant') },
  ],
  run: runLoad,
};

// --- image prune ---------------------------------------------------------------------------------

const ALL_IMAGES_WARNING =
  'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

async function runImagePrune(cli: Cli, flags: FlagValues): Promise<number> {
  const all = flags.bool('all');
  const filters = toFilters(flags.list('filter'));
  (filters.dangling ??= {})[String(!all)] = true;
  pruneFilters(cli, filters);
  return confirmAndPrune(cli, flags, all ? ALL_IMAGES_WARNING : DANGLING_WARNING, async () => {
    const report = await cli.client.imagesPrune(filters);
    const lines = (report.ImagesDeleted ?? []).map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`));
    return { title: 'Deleted Images', lines, reclaimed: report.SpaceReclaimed };
  });
}

export const imagePruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove unused images',
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
    PRUNE_FILTER_FLAG,
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
  run: runImagePrune,
};
