import * as path from 'node:path';
import { readJsonSync, writeJsonAtomicSync } from '../../util/atomic';
import { ParsedReference, familiarString, fullString, parseNormalizedReference } from './reference';

/** repositories.json, in Docker's own layout: familiar repo name → familiar reference → image ID. */
interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

export interface TagEntry {
  ref: ParsedReference;
  id: string;
}

/** Tags (`name:tag`) and digest references (`name@sha256:…`) pointing at image IDs. */
export class TagStore {
  private readonly entries = new Map<string, TagEntry>(); // key: full reference string

  private constructor(private readonly file: string) {}

  static load(dataRoot: string): TagStore {
    const store = new TagStore(path.join(dataRoot, 'repositories.json'));
    const data = readJsonSync<RepositoriesFile>(store.file);
    for (const refs of Object.values(data?.Repositories ?? {})) {
      for (const [refText, id] of Object.entries(refs)) {
        try {
          const ref = parseNormalizedReference(refText);
          store.entries.set(fullString(ref), { ref, id });
        } catch {
          // an unparsable entry cannot be resolved anyway; it disappears on the next save
        }
      }
    }
    return store;
  }

  /** `ref` must carry a tag or a digest. Returns the image the reference pointed at before. */
  set(ref: ParsedReference, id: string): string | undefined {
    const key = fullString(ref);
    const previous = this.entries.get(key)?.id;
    this.entries.set(key, { ref, id });
    return previous;
  }

  get(ref: ParsedReference): string | undefined {
    return this.entries.get(fullString(ref))?.id;
  }

  delete(ref: ParsedReference): boolean {
    return this.entries.delete(fullString(ref));
  }

  /** References to `id`, sorted the way Docker lists them. */
  refsFor(id: string): ParsedReference[] {
    return [...this.entries.values()]
      .filter((e) => e.id === id)
      .map((e) => e.ref)
      .sort((a, b) => (fullString(a) < fullString(b) ? -1 : fullString(a) > fullString(b) ? 1 : 0));
  }

  /** Tag references (no digests) of one repository (full name), sorted. */
  byName(name: string): TagEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.ref.name === name && e.ref.tag !== undefined && e.ref.digest === undefined)
      .sort((a, b) => (fullString(a.ref) < fullString(b.ref) ? -1 : 1));
  }

  imageIds(): Set<string> {
    return new Set([...this.entries.values()].map((e) => e.id));
  }

  /** Drops every reference whose image is not in `ids`; true if any was dropped. */
  retainImages(ids: ReadonlySet<string>): boolean {
    let changed = false;
    for (const [key, entry] of this.entries) {
      if (!ids.has(entry.id)) {
        this.entries.delete(key);
        changed = true;
      }
    }
    return changed;
  }

  save(): void {
    const repositories: RepositoriesFile['Repositories'] = {};
    for (const { ref, id } of this.entries.values()) {
      (repositories[ref.familiarName] ??= {})[familiarString(ref)] = id;
    }
    writeJsonAtomicSync(this.file, { Repositories: repositories });
  }
}
