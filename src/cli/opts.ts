/** Shared option helpers: --filter values and the --format help texts. */
import type { Filters } from '../client';
import { FlagDef } from './flags';

export const FORMAT_HELP =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n" +
  "'table TEMPLATE':   Print output in table format using the given Go template\n" +
  "'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\n" +
  'Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates';

export const INSPECT_FORMAT_HELP =
  "Format output using a custom template:\n'json':             Print in JSON format\n" +
  "'TEMPLATE':         Print output using the given Go template.\n" +
  'Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates';

/** opts.FilterOpt.Set: requires name=value. */
export function validateFilter(v: string): string {
  if (v !== '' && !v.includes('=')) throw new Error('bad format of filter (expected name=value)');
  return v;
}

export const FILTER_FLAG: FlagDef = {
  name: 'filter',
  short: 'f',
  type: 'list',
  varName: 'filter',
  usage: 'Filter output based on conditions provided',
  validate: validateFilter,
};

/** Turns name=value strings into the API's filters map (names lower-cased, values trimmed). */
export function toFilters(values: string[]): Filters {
  const f: Filters = {};
  for (const v of values) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    const name = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    (f[name] ??= {})[value] = true;
  }
  return f;
}
