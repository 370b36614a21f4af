import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonSync, writeJsonAtomicSync } from '../../util/atomic';
import type { NetworkRecord, SandboxRecord } from './types';

/** Network records (`<root>/<id>.json`) and sandbox records (`<root>/sandboxes/<cid>.json`), written atomically. */
export class NetworkStore {
  private readonly byId = new Map<string, NetworkRecord>();
  readonly sandboxDir: string;

  constructor(readonly root: string) {
    this.sandboxDir = path.join(root, 'sandboxes');
    fs.mkdirSync(this.sandboxDir, { recursive: true });
  }

  load(): void {
    for (const f of fs.readdirSync(this.root)) {
      if (!f.endsWith('.json')) continue;
      const rec = readJsonSync<NetworkRecord>(path.join(this.root, f));
      if (rec) this.byId.set(rec.Id, rec);
    }
  }

  all(): NetworkRecord[] {
    return [...this.byId.values()];
  }

  /** Docker's lookup order: full ID, exact name, then unique ID prefix. */
  find(ref: string): NetworkRecord | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.all().find((n) => n.Name === ref);
    if (byName) return byName;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = this.all().filter((n) => n.Id.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  save(rec: NetworkRecord): void {
    this.byId.set(rec.Id, rec);
    writeJsonAtomicSync(path.join(this.root, `${rec.Id}.json`), rec);
  }

  delete(id: string): void {
    fs.rmSync(path.join(this.root, `${id}.json`), { force: true });
    this.byId.delete(id);
  }

  sandbox(cid: string): SandboxRecord | undefined {
    return readJsonSync<SandboxRecord>(path.join(this.sandboxDir, `${cid}.json`));
  }

  saveSandbox(sb: SandboxRecord): void {
    writeJsonAtomicSync(path.join(this.sandboxDir, `${sb.containerId}.json`), sb);
  }

  deleteSandbox(cid: string): void {
    fs.rmSync(path.join(this.sandboxDir, `${cid}.json`), { force: true });
  }

  sandboxIds(): string[] {
    return fs.readdirSync(this.sandboxDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  }
}
