/** Help output in the layout of docker's cobra usage template, with pflag's flag wrapping. */
import { BIN, CommandSpec } from './command';
import { FlagDef } from './flags';

const DEFAULT_VAR_NAMES: Record<string, string> = {
  bool: '',
  string: 'string',
  int: 'int',
  uint: 'uint',
  float: 'float',
  duration: 'duration',
  list: 'list',
  map: 'map',
};

/** pflag wrapN: split at the last whitespace before i, allowing `slop` overflow for the tail. */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag wrap: wraps `s` to width `w` with continuation lines indented by `i`. */
export function wrapText(i: number, w: number, s: string): string {
  const indentNl = (t: string, n: number) => t.split('\n').join('\n' + ' '.repeat(n));
  if (w === 0) return indentNl(s, i);
  let wrap = w - i;
  let r = '';
  if (wrap < 24) {
    i = 16;
    wrap = w - i;
    r += '\n' + ' '.repeat(i);
  }
  if (wrap < 24) return s.split('\n').join(r);
  const slop = 5;
  wrap -= slop;
  let [l, rest] = wrapN(wrap, slop, s);
  r += indentNl(l, i);
  while (rest !== '') {
    let t: string;
    [t, rest] = wrapN(wrap, slop, rest);
    r += '\n' + ' '.repeat(i) + indentNl(t, i);
  }
  return r;
}

function defaultSuffix(f: FlagDef): string {
  if (f.defaultText !== undefined) return ` (default ${f.defaultText})`;
  if (f.default === undefined) return '';
  if (f.type === 'bool') return f.default === true ? ' (default true)' : '';
  if (f.type === 'string') return f.default === '' ? '' : ` (default ${JSON.stringify(f.default)})`;
  if (typeof f.default === 'number') return f.default === 0 ? '' : ` (default ${f.default})`;
  return '';
}

/** pflag FlagUsagesWrapped: sorted by name, aligned after the longest "-x, --name type". */
export function flagUsages(defs: readonly FlagDef[], cols: number): string {
  const visible = defs.filter((d) => !d.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines: [string, string][] = [];
  let maxlen = 0;
  for (const f of visible) {
    let left = f.short && !f.shorthandDeprecated ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const varName = f.varName ?? DEFAULT_VAR_NAMES[f.type];
    if (varName) left += ` ${varName}`;
    if (left.length > maxlen) maxlen = left.length;
    let usage = f.usage + defaultSuffix(f);
    if (f.deprecated) usage += ` (DEPRECATED: ${f.deprecated})`;
    lines.push([left, usage]);
  }
  let out = '';
  // pflag prints Println(left, spacing, usage): two separating spaces plus the padding.
  for (const [left, usage] of lines) {
    out += `${left}${' '.repeat(maxlen - left.length + 1)}  ${wrapText(maxlen + 3, cols, usage)}\n`;
  }
  return out;
}

export function terminalWidth(stdinIsTTY: boolean, columns: number | undefined): number {
  return stdinIsTTY && columns && columns > 0 ? columns : 80;
}

export function useLine(parentPath: string, cmd: CommandSpec): string {
  return parentPath ? `${parentPath} ${cmd.use}` : cmd.use;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Help for a leaf or group command ("berth ps --help", "berth container"). */
export function commandHelp(cmd: CommandSpec, parentPath: string, cols: number): string {
  const path = parentPath ? `${parentPath} ${cmd.name}` : cmd.name;
  const subs = (cmd.subcommands ?? []).filter((c) => !c.hidden);
  let s = 'Usage:';
  if (subs.length === 0) s += `  ${useLine(parentPath, cmd)}`;
  else s += `  ${path}${(cmd.flags ?? []).some((f) => !f.hidden) ? ' [OPTIONS]' : ''} COMMAND`;
  s += `\n\n${cmd.short.trim()}`;
  if (cmd.aliasPaths && cmd.aliasPaths.length > 0) {
    s += `\n\nAliases:\n  ${cmd.aliasPaths.map((p) => `${BIN} ${p}`).join(', ')}`;
  } else if (cmd.aliases && cmd.aliases.length > 0) {
    s += `\n\nAliases:\n  ${[path, ...cmd.aliases.map((a) => `${parentPath} ${a}`)].join(', ')}`;
  }
  const flags = (cmd.flags ?? []).filter((f) => !f.hidden);
  if (flags.length > 0) s += `\n\nOptions:\n${flagUsages(flags, cols - 1).trimEnd()}`;
  if (subs.length > 0) {
    const width = Math.max(...subs.map((c) => c.name.length), 11);
    s += '\n\nCommands:';
    for (const c of subs) s += `\n  ${pad(c.name, width)} ${c.short}`;
    s += `\n\nRun '${path} COMMAND --help' for more information on a command.`;
  }
  return s + '\n';
}

/** The root help ("berth --help"). */
export function rootHelp(commands: readonly CommandSpec[], globalFlags: readonly FlagDef[], cols: number): string {
  const visible = commands.filter((c) => !c.hidden);
  const width = Math.max(11, ...commands.map((c) => c.name.length)) + 1;
  const top = visible.filter((c) => c.topOrder !== undefined).sort((a, b) => (a.topOrder ?? 0) - (b.topOrder ?? 0));
  const mgmt = visible.filter((c) => c.topOrder === undefined && (c.subcommands?.length ?? 0) > 0);
  const rest = visible.filter((c) => c.topOrder === undefined && !c.subcommands?.length);
  let s = `Usage:  ${BIN} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers`;
  const block = (title: string, list: CommandSpec[]) => {
    if (list.length === 0) return;
    s += `\n\n${title}:`;
    for (const c of [...list]) s += `\n  ${pad(c.name + ' ', width)}${c.short}`;
  };
  block('Common Commands', top);
  block('Management Commands', [...mgmt].sort((a, b) => a.name.localeCompare(b.name)));
  block('Commands', [...rest].sort((a, b) => a.name.localeCompare(b.name)));
  s += `\n\nGlobal Options:\n${flagUsages(globalFlags, cols - 1).trimEnd()}`;
  s += `\n\nRun '${BIN} COMMAND --help' for more information on a command.\n`;
  return s;
}
