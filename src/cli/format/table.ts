import { escapeLikeGo } from '../../util/go-json';
/**
 * docker's formatter.Context: `table` / `json` / custom Go-template formats, rows rendered one per
 * line, and for tables a header row rendered from the header context, all aligned by a
 * tabwriter(minwidth 10, tabwidth 1, padding 3, ' ').
 */
import { compileTemplate } from './template';
import { TabWriter } from './tabwriter';
import { StatusError } from '../command';

export const TABLE_KEY = 'table';
export const RAW_KEY = 'raw';
export const JSON_KEY = 'json';
export const DEFAULT_QUIET_FORMAT = '{{.ID}}';
export const JSON_FORMAT = '{{json .}}';

export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_KEY);
}

/** formatter.Context.preFormat: strip `table`, expand `json`, trim spaces, unescape \t and \n. */
export function preFormat(format: string): string {
  let f = format;
  if (isTableFormat(f)) f = f.slice(TABLE_KEY.length);
  else if (f === JSON_KEY) f = JSON_FORMAT;
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/**
 * Go's json.Marshal of a row context (formatter.MarshalJSON): keys as given (already sorted),
 * with HTML characters escaped as json.Marshal does ("<none>" → "\u003cnone\u003e").
 */
export function marshalRow(value: unknown): string {
  return escapeLikeGo(JSON.stringify(value));
}

function hasToJSON(v: unknown): v is { toJSON(): unknown } {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function';
}

function templateError(err: unknown): StatusError {
  return new StatusError(`template parsing error: ${(err as Error).message}`, 1);
}

export function compileOrThrow(src: string): (data: unknown) => string {
  try {
    return compileTemplate(src);
  } catch (err) {
    throw templateError(err);
  }
}

/** Renders rows with a format; for table formats also renders the header and aligns columns. */
export function renderFormatted(format: string, rows: readonly unknown[], header: unknown): string {
  const src = preFormat(format);
  const tmpl = compileOrThrow(src);
  let buffer = '';
  for (const row of rows) {
    if (src === JSON_FORMAT && hasToJSON(row)) {
      // The row contexts marshal themselves with encoding/json's HTML escaping.
      buffer += marshalRow(row.toJSON()) + '\n';
      continue;
    }
    try {
      buffer += tmpl(row) + '\n';
    } catch (err) {
      throw templateError(err);
    }
  }
  if (!isTableFormat(format)) return buffer;
  const tw = new TabWriter(10, 1, 3, ' ');
  let head = '';
  try {
    head = compileTemplate(src, { headerFunctions: true })(header);
  } catch {
    head = '';
  }
  tw.write(head);
  tw.write('\n');
  tw.write(buffer);
  return tw.flush();
}

/** Header labels for `{{.Label "com.example.x"}}`: last dotted segment, '-' and '_' as spaces. */
export function headerLabel(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1].replace(/[-_]/g, ' ');
}

/** Builds a header context: field name → column title, plus the Label method. */
export function headerContext(fields: Record<string, string>): Record<string, unknown> {
  return { ...fields, Label: (name: string) => headerLabel(name) };
}
