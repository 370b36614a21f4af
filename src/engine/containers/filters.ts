import { invalidParameter } from '../../util/errors';
import { labelMatches } from '../../util/labels';
import type { ContainerRecord } from './types';
import { mountPointsOf } from './mounts';

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const KNOWN = new Set(['status', 'name', 'id', 'label', 'exited', 'ancestor', 'before', 'since', 'volume']);

/** A predicate for GET /containers/json `filters`; values of one key are OR-ed, keys AND-ed, as in Docker. */
export function containerFilter(
  filters: Record<string, string[]>,
  find: (ref: string) => ContainerRecord | undefined,
  imageMatches: (c: ContainerRecord, ref: string) => boolean,
): (c: ContainerRecord) => boolean {
  for (const key of Object.keys(filters)) if (!KNOWN.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  for (const s of filters.status ?? []) {
    if (!STATUSES.includes(s)) throw invalidParameter(`invalid filter 'status=${s}'`);
  }
  const created = (ref: string) => {
    const c = find(ref);
    if (!c) throw invalidParameter(`No such container: ${ref}`);
    return Date.parse(c.Created);
  };
  const before = filters.before?.map(created);
  const since = filters.since?.map(created);
  const any = (vals: string[] | undefined, pred: (v: string) => boolean) => !vals || vals.length === 0 || vals.some(pred);
  return (c) =>
    any(filters.status, (s) => c.State.Status === s) &&
    any(filters.name, (n) => new RegExp(n).test(c.Name.slice(1)) || c.Name === n) &&
    any(filters.id, (id) => c.Id.startsWith(id)) &&
    (filters.label ?? []).every((l) => labelMatches(c.Config.Labels, l)) &&
    any(filters.exited, (code) => c.State.Status === 'exited' && c.State.ExitCode === Number(code)) &&
    any(filters.ancestor, (ref) => imageMatches(c, ref)) &&
    (before ?? []).every((t) => Date.parse(c.Created) < t) &&
    (since ?? []).every((t) => Date.parse(c.Created) > t) &&
    any(filters.volume, (v) => mountPointsOf(c).some((m) => m.Destination === v || (m.Name ? m.Name === v : m.Source === v)));
}
