import { EngineError, invalidParameter } from '../../util/errors';
import { shortId } from '../../util/ids';
import type { ContainerUse } from './usage';
import {
  InvalidReferenceError,
  ParsedReference,
  familiarString,
  parseNormalizedReference,
  withDefaultTag,
} from './reference';

export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** The store operations image deletion needs; ImageService provides them. */
export interface DeleteStore {
  refsFor(id: string): ParsedReference[];
  /** Removes a tag or digest reference (and persists that). */
  untag(ref: ParsedReference): void;
  hasChildren(id: string): boolean;
  parentOf(id: string): string;
  containersUsing(id: string): ContainerUse[];
  /**
   * Removes the image record; layers and blobs nothing else refers to go too. Returns the chain
   * IDs of the removed layers, top first. With `retain`, the record is only hidden (a container
   * still needs its layers).
   */
  removeImage(id: string, retain: boolean): Promise<string[]>;
  event(action: 'untag' | 'delete', id: string): void;
}

/** A reason not to delete; `used` marks conflicts caused by containers. */
export class DeleteConflict extends EngineError {
  constructor(message: string, readonly used: boolean) {
    super(409, message);
  }
}

const HARD_CHILD = 1;
const HARD_RUNNING = 2;
const SOFT_REFERENCE = 4;
const SOFT_STOPPED = 8;
const HARD = HARD_CHILD | HARD_RUNNING;
const SOFT = SOFT_REFERENCE | SOFT_STOPPED;

/**
 * `DELETE /images/{name}` with moby's semantics: a name removes that reference and then the
 * image only if nothing else refers to it; an ID removes the image with all its references.
 * Running containers and child images always block (hard conflicts); tags and stopped
 * containers block unless forced (soft conflicts). With `prune`, parents left without
 * references are removed too.
 */
export async function deleteImage(
  store: DeleteStore,
  ref: string,
  imageId: string,
  opts: { force: boolean; prune: boolean },
): Promise<DeleteResponseItem[]> {
  const records: DeleteResponseItem[] = [];
  let quiet = false;
  let refs = store.refsFor(imageId);

  if (!isIdPrefix(imageId, ref)) {
    if (!opts.force && isSingleReference(refs)) {
      const user = store.containersUsing(imageId)[0];
      if (user) {
        throw new EngineError(
          409,
          `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(imageId)}`,
        );
      }
    }
    const parsed = withDefaultTag(parseRef(ref));
    untag(store, imageId, parsed, records);
    refs = store.refsFor(imageId);
    if (parsed.digest === undefined) {
      // Digest references of a repository go with its last tag.
      const tagLeft = refs.some((r) => r.digest === undefined && r.name === parsed.name);
      if (!tagLeft) {
        for (const r of refs.filter((r) => r.digest !== undefined && r.name === parsed.name)) untag(store, imageId, r, records);
        refs = store.refsFor(imageId);
      }
    }
    if (refs.length > 0) return records;
    quiet = true;
  } else if (isSingleReference(refs)) {
    const conflict = findConflict(store, imageId, HARD | (opts.force ? 0 : SOFT_STOPPED));
    if (conflict) throw conflict;
    for (const r of refs) untag(store, imageId, r, records);
  }

  await deleteHelper(store, imageId, records, opts.force, opts.prune, quiet);
  return records;
}

async function deleteHelper(
  store: DeleteStore,
  imageId: string,
  records: DeleteResponseItem[],
  force: boolean,
  prune: boolean,
  quiet: boolean,
): Promise<void> {
  const conflict = findConflict(store, imageId, HARD | (force ? 0 : SOFT));
  if (conflict) {
    const dangling = store.refsFor(imageId).length === 0 && !store.hasChildren(imageId);
    if (quiet && (!dangling || conflict.used)) return;
    throw conflict;
  }
  const parent = store.parentOf(imageId);
  for (const r of store.refsFor(imageId)) untag(store, imageId, r, records);
  const retain = store.containersUsing(imageId).length > 0; // only stopped ones get here, and only when forced
  const removedLayers = await store.removeImage(imageId, retain);
  store.event('delete', imageId);
  records.push({ Deleted: imageId });
  for (const chainId of removedLayers) records.push({ Deleted: chainId });
  if (prune && parent) await deleteHelper(store, parent, records, false, true, true);
}

function untag(store: DeleteStore, imageId: string, ref: ParsedReference, records: DeleteResponseItem[]): void {
  store.untag(ref);
  store.event('untag', imageId);
  records.push({ Untagged: familiarString(ref) });
}

function findConflict(store: DeleteStore, imageId: string, mask: number): DeleteConflict | undefined {
  const prefix = `conflict: unable to delete ${shortId(imageId)}`;
  if (mask & HARD_CHILD && store.hasChildren(imageId)) {
    return new DeleteConflict(`${prefix} (cannot be forced) - image has dependent child images`, false);
  }
  const users = mask & (HARD_RUNNING | SOFT_STOPPED) ? store.containersUsing(imageId) : [];
  const running = users.find((c) => c.running);
  if (mask & HARD_RUNNING && running) {
    return new DeleteConflict(`${prefix} (cannot be forced) - image is being used by running container ${shortId(running.id)}`, true);
  }
  if (mask & SOFT_REFERENCE && store.refsFor(imageId).length > 0) {
    return new DeleteConflict(`${prefix} (must be forced) - image is referenced in multiple repositories`, false);
  }
  const stopped = users.find((c) => !c.running);
  if (mask & SOFT_STOPPED && stopped) {
    return new DeleteConflict(`${prefix} (must be forced) - image is being used by stopped container ${shortId(stopped.id)}`, true);
  }
  return undefined;
}

/** True when all references are in one repository with at most one tag; false for none. */
function isSingleReference(refs: ParsedReference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tagged = refs.filter((r) => r.digest === undefined);
  if (tagged.length > 1) return false;
  const digestRepos = new Set(refs.filter((r) => r.digest !== undefined).map((r) => r.name));
  const single = tagged[0] ?? refs[0]!;
  return digestRepos.size === 1 && digestRepos.has(single.name);
}

function isIdPrefix(imageId: string, candidate: string): boolean {
  return imageId.startsWith(candidate) || imageId.slice('sha256:'.length).startsWith(candidate);
}

function parseRef(ref: string): ParsedReference {
  try {
    return parseNormalizedReference(ref);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw invalidParameter(err.message);
    throw err;
  }
}
