import { labelMatches } from '../../util/labels';
import { invalidParameter } from '../../util/errors';
import type { ImageEntry } from './image-index';
import { ParsedReference, familiarString, fullString, repoDigests, repoTags, withDefaultTag } from './reference';
import { parseFilterTimestamp, timestampMs, unixSeconds } from './time';

const ACCEPTED_FILTERS = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);

export interface ListSource {
  entries: ImageEntry[];
  refsFor(id: string): ParsedReference[];
  hasChildren(id: string): boolean;
  /** Created timestamp of the image a `before`/`since` value names; throws if there is none. */
  createdOf(ref: string): string;
}

/** GET /images/json items, newest first, with Docker's filter semantics (daemon/images/image_list.go). */
export function listImages(source: ListSource, opts: { all?: boolean; filters?: Record<string, string[]> }): object[] {
  const filters = opts.filters ?? {};
  for (const key of Object.keys(filters)) {
    if (!ACCEPTED_FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  const danglingValues = filters.dangling ?? [];
  const danglingOnly = danglingValues.length > 0 && boolFilter('dangling', danglingValues);
  const before = timeBound(filters.before, (v) => timestampMs(source.createdOf(v)), Math.min);
  const until = timeBound(filters.until, (v) => untilMs(v), Math.min);
  const upper = before === undefined ? until : until === undefined ? before : Math.min(before, until);
  const since = timeBound(filters.since, (v) => timestampMs(source.createdOf(v)), Math.max);
  const labels = filters.label ?? [];
  const patterns = (filters.reference ?? []).map(globToRegExp);

  const items: { created: string; item: object }[] = [];
  for (const entry of source.entries) {
    const created = entry.config.created;
    const createdMs = timestampMs(created);
    if (upper !== undefined && !(createdMs < upper)) continue;
    if (since !== undefined && !(createdMs > since)) continue;
    const imageLabels = entry.config.config?.Labels ?? null;
    if (labels.length > 0 && !labels.every((l) => labelMatches(imageLabels, l))) continue;

    let refs = source.refsFor(entry.id);
    if (patterns.length > 0) refs = refs.filter((r) => referenceMatches(r, patterns));
    const tags = repoTags(refs);
    const digests = repoDigests(refs);

    if (tags.length === 0 && digests.length === 0) {
      if (!opts.all && source.hasChildren(entry.id)) continue; // an intermediate image, shown with -a only
      if (danglingValues.length > 0 && !danglingOnly) continue;
      if (patterns.length > 0) continue;
    } else if (danglingOnly && tags.length > 0) {
      continue;
    }

    items.push({
      created: created ?? '',
      item: {
        Id: entry.id,
        ParentId: entry.parent,
        RepoTags: tags,
        RepoDigests: digests,
        Created: unixSeconds(created),
        Size: entry.size,
        SharedSize: -1,
        Labels: imageLabels,
        Containers: -1,
      },
    });
  }
  items.sort((a, b) => compareTimestamps(b.created, a.created));
  return items.map((i) => i.item);
}

export function boolFilter(name: string, values: string[]): boolean {
  const truthy = values.some((v) => ['true', '1'].includes(v.toLowerCase()));
  const falsy = values.some((v) => ['false', '0'].includes(v.toLowerCase()));
  if (truthy === falsy) throw invalidParameter(`invalid filter '${name}=${values.join(',')}'`);
  return truthy;
}

function timeBound(values: string[] | undefined, toMs: (v: string) => number, pick: (a: number, b: number) => number): number | undefined {
  if (!values || values.length === 0) return undefined;
  return values.map(toMs).reduce((a, b) => pick(a, b));
}

function untilMs(value: string): number {
  try {
    return parseFilterTimestamp(value);
  } catch (err) {
    throw invalidParameter(`invalid value for 'until' filter: ${(err as Error).message}`);
  }
}

/** `key` matches when the label exists, `key=value` when it has that value. */

/** Matches familiar and full forms, with and without tag, like moby does. */
function referenceMatches(ref: ParsedReference, patterns: RegExp[]): boolean {
  const targets = [familiarString(ref), ref.familiarName, fullString(withDefaultTag(ref)), ref.name];
  return patterns.some((p) => targets.some((t) => p.test(t)));
}

/** Go's path.Match: `*` and `?` stop at '/', `[...]` classes with `^` negation, `\` escapes. */
export function globToRegExp(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '\\') {
      i++;
      if (i >= pattern.length) throw invalidParameter('syntax error in pattern');
      out += escapeRegExp(pattern[i]);
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalidParameter('syntax error in pattern');
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else out += escapeRegExp(ch);
  }
  return new RegExp(out + '$');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** RFC 3339 strings in UTC with varying fraction lengths, compared by time. */
function compareTimestamps(a: string, b: string): number {
  const diff = timestampMs(a) - timestampMs(b);
  if (diff !== 0) return diff;
  const fraction = (t: string): number => Number(`0${/\.\d+/.exec(t)?.[0] ?? ''}`);
  return fraction(a) - fraction(b);
}
