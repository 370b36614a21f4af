import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonSync, writeJsonAtomicSync } from '../../util/atomic';
import { conflict, invalidParameter, noSuchContainer } from '../../util/errors';
import type { ContainerRecord } from './types';

const RECORD = 'container.json';

/** Container records on disk (`<root>/<id>/container.json`, written atomically) and their name index. */
export class ContainerStore {
  private byId = new Map<string, ContainerRecord>();
  private byName = new Map<string, string>();

  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** Loads every complete record; a dir without one is a create that crashed midway and is removed. */
  load(): void {
    for (const id of fs.readdirSync(this.root)) {
      const rec = readJsonSync<ContainerRecord>(path.join(this.dir(id), RECORD));
      if (!rec) {
        fs.rmSync(this.dir(id), { recursive: true, force: true });
        continue;
      }
      this.byId.set(rec.Id, rec);
      this.byName.set(rec.Name, rec.Id);
    }
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  count(): number {
    return this.byId.size;
  }

  /** Docker's lookup order: full ID, exact name, then unique ID prefix. */
  find(ref: string): ContainerRecord | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = [...this.byId.keys()].filter((id) => id.startsWith(ref));
    if (matches.length > 1) throw invalidParameter(`multiple IDs found with provided prefix: ${ref}`);
    return matches.length ? this.byId.get(matches[0]!) : undefined;
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw noSuchContainer(ref);
    return rec;
  }

  nameTaken(name: string): boolean {
    return this.byName.has(`/${name}`);
  }

  nameConflict(name: string): Error {
    const holder = this.byName.get(`/${name}`)!;
    return conflict(
      `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }

  add(rec: ContainerRecord): void {
    const name = rec.Name.slice(1);
    if (this.nameTaken(name)) throw this.nameConflict(name);
    fs.mkdirSync(this.dir(rec.Id), { recursive: true, mode: 0o710 });
    this.byId.set(rec.Id, rec);
    this.byName.set(rec.Name, rec.Id);
  }

  /** Moves the record to a new name (without the slash); conflicts as Docker words them. */
  rename(rec: ContainerRecord, name: string): void {
    if (this.nameTaken(name)) throw this.nameConflict(name);
    this.byName.delete(rec.Name);
    rec.Name = `/${name}`;
    this.byName.set(rec.Name, rec.Id);
    this.save(rec);
  }

  save(rec: ContainerRecord): void {
    writeJsonAtomicSync(path.join(this.dir(rec.Id), RECORD), rec);
  }

  remove(id: string): void {
    const rec = this.byId.get(id);
    if (!rec) return;
    // Drop the record first so a crash mid-removal never leaves a listed container without its files.
    fs.rmSync(path.join(this.dir(id), RECORD), { force: true });
    fs.rmSync(this.dir(id), { recursive: true, force: true });
    this.byId.delete(id);
    if (this.byName.get(rec.Name) === id) this.byName.delete(rec.Name);
  }
}
