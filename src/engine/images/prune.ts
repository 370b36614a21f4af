import { conflict, invalidParameter } from '../../util/errors';
import type { DeleteResponseItem } from './image-delete';
import { DeleteConflict } from './image-delete';
import type { ImageEntry } from './image-index';
import { boolFilter } from './image-list';
import { labelMatches } from '../../util/labels';
import { ParsedReference, fullString } from './reference';
import { parseFilterTimestamp, timestampMs } from './time';

const ACCEPTED = new Set(['dangling', 'label', 'label!', 'until']);

export interface PruneStore {
  entries(): ImageEntry[];
  refsFor(id: string): ParsedReference[];
  hasChildren(id: string): boolean;
  /** Whether a container (running or not) was created from the image: prune never touches those. */
  inUse(id: string): boolean;
  layerSize(chainId: string): number | undefined;
  /** Runs DELETE /images/{ref} with prune=true and force=false. */
  remove(ref: string): Promise<DeleteResponseItem[]>;
}

export interface PruneReport {
  ImagesDeleted: DeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/**
 * `POST /images/prune`: dangling images (or, with dangling=false, every image no container
 * uses), narrowed by `until` and `label`/`label!`. Images that cannot be deleted without force
 * are skipped silently, as in moby.
 */
export async function pruneImages(store: PruneStore, filters: Record<string, string[]>): Promise<PruneReport> {
  for (const key of Object.keys(filters)) {
    if (!ACCEPTED.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  const danglingOnly = filters.dangling?.length ? boolFilter('dangling', filters.dangling) : true;
  const until = untilFilter(filters.until);
  const sizes = new Map<string, number>();
  for (const e of store.entries()) for (const c of e.chainIds) sizes.set(c, store.layerSize(c) ?? 0);

  const candidates = store.entries().filter((e) => {
    if (store.inUse(e.id)) return false;
    if (danglingOnly && store.hasChildren(e.id)) return false;
    if (store.refsFor(e.id).length === 0 && store.hasChildren(e.id)) return false; // intermediate images go with their child
    if (until !== undefined && !(timestampMs(e.config.created) <= until)) return false;
    return matchLabels(filters, e.config.config?.Labels ?? {});
  });

  const deleted: DeleteResponseItem[] = [];
  for (const e of candidates) {
    const refs = store.refsFor(e.id);
    const targets =
      refs.length === 0
        ? [e.id.slice('sha256:'.length)]
        : !danglingOnly || !refs.some((r) => r.digest === undefined)
          ? refs.map(fullString)
          : [];
    for (const target of targets) {
      try {
        deleted.push(...(await store.remove(target)));
      } catch (err) {
        if (err instanceof DeleteConflict || (err as { status?: number }).status === 409 || (err as { status?: number }).status === 404) continue;
        throw err;
      }
    }
  }
  const reclaimed = deleted.reduce((sum, d) => sum + (d.Deleted ? (sizes.get(d.Deleted) ?? 0) : 0), 0);
  return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
}

export const pruneRunning = () => conflict('a prune operation is already running');

function untilFilter(values: string[] | undefined): number | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw invalidParameter('more than one until filter specified');
  try {
    return parseFilterTimestamp(values[0]!);
  } catch (err) {
    throw invalidParameter((err as Error).message);
  }
}

/** `label` filters must all match, `label!` filters exclude when they all match (moby's MatchKVList). */
function matchLabels(filters: Record<string, string[]>, labels: Record<string, string>): boolean {
  const want = filters.label ?? [];
  if (want.length > 0 && !want.every((f) => labelMatches(labels, f))) return false;
  const not = filters['label!'] ?? [];
  if (not.length > 0 && not.every((f) => labelMatches(labels, f))) return false;
  return true;
}
