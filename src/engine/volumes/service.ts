import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonSync, writeJsonAtomicSync } from '../../util/atomic';
import { EngineError, conflict, invalidParameter, notFound } from '../../util/errors';
import { newId } from '../../util/ids';
import { log } from '../../util/log';
import { KeptDirSizes, dirSize } from '../layers/dir-size';
import { labelMatches } from '../../util/labels';
import { KeyedMutex } from '../containers/locks';
import { mount, mountPoints, unmount } from './mount';

/** The label moby (≥ 23) puts on anonymous volumes; `volume prune` without `all` removes only those. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_OPTS = new Set(['type', 'device', 'o', 'size']);

/** One local volume as stored in `<data-root>/volumes/<name>/volume.json` (data in `_data`). */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

/** A container and the volumes it mounts (from its record). */
export interface VolumeUser {
  id: string;
  volumes: string[];
  running: boolean;
}

export interface VolumeEvents {
  (action: string, name: string, attrs: Record<string, string>): void;
}

/**
 * Where a volume's content is while no container mounts it (cp and commit of stopped containers): the
 * `_data` dir (also when a volume with driver options is mounted there), the device of a bind-style
 * volume, or nothing to show (`mount`: a tmpfs or other file system that only exists while mounted).
 */
export interface VolumeSource {
  bind?: string;
  mount?: { type: string; source: string; options: string[] };
}

function volumeError(status: number, op: string, name: string, msg: string): EngineError {
  return new EngineError(status, `${op} ${name}: ${msg}`);
}

/** RFC 3339 with seconds, as moby's local driver reports CreatedAt. */
function createdAt(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * The local volume driver: named and anonymous volumes under `<data-root>/volumes`. Records are written
 * atomically; who uses a volume is derived from container records (see `setUsers`), never stored twice.
 */
export class VolumeService {
  private readonly volumes = new Map<string, VolumeRecord>();
  private users: () => VolumeUser[] = () => [];
  private readonly keptSizes = new KeptDirSizes();
  /**
   * Volumes with driver options are mounted once on the host at their `_data` dir (moby's local driver):
   * on the first use, and unmounted when the last user lets go. `refs` holds who uses each mount (container
   * IDs, or a create's copy-up); `mounted` what is mounted now. Both live in memory; after a restart
   * `restore` rebuilds them from the mount table and the running containers.
   */
  private readonly refs = new Map<string, Set<string>>();
  private readonly mounted = new Set<string>();
  private readonly mountLock = new KeyedMutex();

  constructor(readonly root: string, private readonly emit: VolumeEvents = () => undefined) {
    fs.mkdirSync(root, { recursive: true, mode: 0o701 });
    this.load();
  }

  private load(): void {
    const mounts = mountPoints();
    for (const name of fs.readdirSync(this.root)) {
      if (name.startsWith('.')) {
        fs.rmSync(path.join(this.root, name), { recursive: true, force: true }); // half-created or half-removed
        continue;
      }
      const rec = readJsonSync<VolumeRecord>(path.join(this.root, name, 'volume.json'));
      if (!rec) {
        log.warn('volume without a record, ignored', { name });
        continue;
      }
      this.volumes.set(rec.Name, rec);
      if (needsMount(rec) && mounts.has(this.dataDir(rec.Name))) this.mounted.add(rec.Name); // moby's restoreIfMounted
    }
  }

  /** Lets the service ask which containers use which volumes (rm conflicts, dangling, prune). */
  setUsers(fn: () => VolumeUser[]): void {
    this.users = fn;
  }

  /**
   * A container was created (content copied up), started, or had files copied in: volume sizes
   * kept for `system df` may be stale. (Volumes a running container uses are measured per call.)
   */
  forgetSizes(): void {
    this.keptSizes.forget();
  }

  /** Bytes in a volume (-1 for volumes with driver options, as moby reports them). */
  private sizeOf(v: VolumeRecord, users: VolumeUser[]): number {
    if (v.Options) return -1;
    if (users.some((u) => u.running && u.volumes.includes(v.Name))) return dirSize(this.dataDir(v.Name));
    return this.keptSizes.size(v.Name, this.dataDir(v.Name), v.CreatedAt);
  }

  /** The daemon's data root (volumes live in `<data-root>/volumes`). */
  get dataRoot(): string {
    return path.dirname(this.root);
  }

  dataDir(name: string): string {
    return path.join(this.root, name, '_data');
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  private usersOf(name: string): string[] {
    return this.users()
      .filter((u) => u.volumes.includes(name))
      .map((u) => u.id);
  }

  /** POST /volumes/create; an existing volume of that name is returned as it is (moby does the same). */
  create(opts: { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }, anonymous = false): VolumeRecord {
    const driver = opts.Driver || 'local';
    const name = opts.Name || newId();
    if (driver !== 'local') {
      throw volumeError(404, 'create', name, `error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    const existing = this.volumes.get(name);
    if (existing) return existing;
    if (!NAME_RE.test(name)) {
      if (name.length < 2 && /^[a-zA-Z0-9]*$/.test(name)) {
        throw volumeError(400, 'create', name, 'volume name is too short, names should be at least two alphanumeric characters');
      }
      throw volumeError(
        400,
        'create',
        name,
        `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
    const options = opts.DriverOpts && Object.keys(opts.DriverOpts).length ? { ...opts.DriverOpts } : null;
    if (options) validateLocalOptions(name, options);
    let labels = opts.Labels && Object.keys(opts.Labels).length ? { ...opts.Labels } : null;
    if (anonymous) labels = { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' };
    const rec: VolumeRecord = { Name: name, Driver: 'local', CreatedAt: createdAt(), Labels: labels, Options: options };
    // Built under a dot name, renamed into place: a crash leaves either nothing or a whole volume.
    const tmp = path.join(this.root, `.new-${name}-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.join(tmp, '_data'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(tmp, '_data'), 0o755);
    writeJsonAtomicSync(path.join(tmp, 'volume.json'), rec);
    fs.renameSync(tmp, path.join(this.root, name));
    this.volumes.set(name, rec);
    this.emit('create', name, { driver: 'local' });
    return rec;
  }

  get(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /** GET /volumes/{name}. */
  inspect(name: string): object {
    return this.view(this.get(name));
  }

  view(v: VolumeRecord, usage?: { size: number; refs: number }): object {
    return {
      CreatedAt: v.CreatedAt,
      Driver: v.Driver,
      Labels: v.Labels,
      Mountpoint: this.dataDir(v.Name),
      Name: v.Name,
      Options: v.Options,
      Scope: 'local',
      ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refs } } : {}),
    };
  }

  /** GET /volumes. */
  list(filters: Record<string, string[]>): { Volumes: object[]; Warnings: null } {
    for (const key of Object.keys(filters)) {
      if (!['dangling', 'name', 'driver', 'label'].includes(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    // moby's GetBoolOrDefault: exactly one of true/1 and false/0.
    let dangling: boolean | undefined;
    if (filters.dangling) {
      const vals = filters.dangling;
      const isTrue = vals.includes('true') || vals.includes('1');
      const isFalse = vals.includes('false') || vals.includes('0');
      if (isTrue === isFalse) throw invalidParameter(`invalid filter 'dangling=[${vals.join(' ')}]'`);
      dangling = isTrue;
    }
    const nameMatches = (name: string, n: string) => {
      if (name === n) return true;
      try {
        return new RegExp(n).test(name);
      } catch {
        return false;
      }
    };
    const used = new Set(this.users().flatMap((u) => u.volumes));
    const any = (vals: string[] | undefined, pred: (v: string) => boolean) => !vals || vals.length === 0 || vals.some(pred);
    const out = [...this.volumes.values()]
      .filter((v) => any(filters.name, (n) => nameMatches(v.Name, n)))
      .filter((v) => any(filters.driver, (d) => v.Driver === d))
      .filter((v) => (filters.label ?? []).every((l) => labelMatches(v.Labels, l)))
      .filter((v) => dangling === undefined || dangling === !used.has(v.Name))
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map((v) => this.view(v));
    return { Volumes: out, Warnings: null };
  }

  /** DELETE /volumes/{name}. */
  remove(name: string, force = false): void {
    const v = this.volumes.get(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const users = this.usersOf(name);
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.destroy(name);
  }

  /** Removes the record first (rename away), then the data; a volume still mounted is unmounted first. */
  private destroy(name: string): void {
    const dir = path.join(this.root, name);
    if (this.mounted.has(name) || (needsMount(this.volumes.get(name)) && mountPoints().has(this.dataDir(name)))) {
      // Never remove files through a mount (a bind-style volume's device is the user's directory).
      throw new EngineError(500, `remove ${name}: volume has active mounts`);
    }
    const trash = path.join(this.root, `.rm-${name}-${process.pid}-${Date.now()}`);
    fs.renameSync(dir, trash);
    this.volumes.delete(name);
    fs.rmSync(trash, { recursive: true, force: true });
    this.emit('destroy', name, { driver: 'local' });
  }

  /** Removes a container's anonymous volumes (`rm -v`) when nothing else uses them. */
  removeAnonymous(names: string[]): void {
    for (const name of names) {
      const v = this.volumes.get(name);
      if (!v || !(v.Labels && ANONYMOUS_LABEL in v.Labels)) continue;
      if (this.usersOf(name).length) continue;
      try {
        this.destroy(name);
      } catch (err) {
        log.warn('could not remove anonymous volume', { name, error: (err as Error).message });
      }
    }
  }

  /** POST /volumes/prune: unused anonymous volumes, or every unused one with `all=true`. */
  prune(filters: Record<string, string[]>): { VolumesDeleted: string[]; SpaceReclaimed: number } {
    for (const key of Object.keys(filters)) {
      if (!['label', 'label!', 'all'].includes(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    const allValues = filters.all ?? [];
    if (allValues.length > 1) throw invalidParameter(`invalid filter 'all=[${allValues.join(' ')}]': only one value is expected`);
    let all = false;
    if (allValues.length === 1) {
      const v = allValues[0]!;
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) all = true;
      else if (!['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) {
        throw invalidParameter(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
      }
    }
    const used = new Set(this.users().flatMap((u) => u.volumes));
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of [...this.volumes.values()]) {
      if (used.has(v.Name)) continue;
      if (v.Options && Object.keys(v.Options).length) continue; // moby never prunes volumes with driver options
      if (!all && !(v.Labels && ANONYMOUS_LABEL in v.Labels)) continue;
      if (!(filters.label ?? []).every((l) => labelMatches(v.Labels, l))) continue;
      const not = filters['label!'] ?? [];
      if (not.length && not.some((l) => labelMatches(v.Labels, l))) continue;
      const size = v.Options ? 0 : this.sizeOf(v, []);
      this.destroy(v.Name);
      deleted.push(v.Name);
      reclaimed += size;
    }
    this.emit('prune', '', { reclaimed: String(reclaimed) });
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** Volumes with usage, for `system df`. */
  usage(): object[] {
    const users = this.users();
    return [...this.volumes.values()].map((v) => this.view(v, { size: this.sizeOf(v, users), refs: users.filter((u) => u.volumes.includes(v.Name)).length }));
  }

  /** Where the volume's content is while no container of ours mounts it (see VolumeSource). */
  source(name: string): VolumeSource {
    const v = this.get(name);
    const o = v.Options;
    if (!needsMount(v) || this.mounted.has(name)) return { bind: this.dataDir(name) };
    const flags = (o!.o ?? '').split(',').filter(Boolean);
    if (flags.includes('bind') || flags.includes('rbind')) {
      const data = this.dataDir(name);
      if (!o!.device || !path.isAbsolute(o!.device) || !fs.existsSync(o!.device)) {
        throw new EngineError(500, `error while mounting volume '${data}': failed to mount local volume: mount ${o!.device ?? ''}:${data}, flags: 0x1000: no such file or directory`);
      }
      return { bind: o!.device };
    }
    return { mount: { type: o!.type ?? '', source: o!.device ?? '', options: flags } };
  }

  /** Whether the volume is mounted from its driver options (type/device) rather than being a plain dir. */
  needsMount(name: string): boolean {
    return needsMount(this.volumes.get(name));
  }

  /**
   * moby's localVolume.Mount: a volume with driver options is mounted at its `_data` dir when its first
   * user comes (`ref`: a container ID), and counted; returns the host path to bind into containers.
   * Errors read as moby's: `error while mounting volume '<_data>': failed to mount local volume: …`.
   */
  async mount(name: string, ref: string): Promise<string> {
    const data = this.dataDir(name);
    return this.mountLock.run(name, async () => {
      const v = this.get(name);
      if (!needsMount(v)) return data;
      if (!this.mounted.has(name)) {
        const o = v.Options!;
        try {
          if (!o.device) throw new Error('missing device in volume options');
          fs.mkdirSync(data, { recursive: true, mode: 0o755 });
          await mount(o.device, data, o.type ?? '', o.o ?? '');
        } catch (err) {
          let msg = (err as Error).message;
          const password = /(?:^|,)password=([^,]*)/.exec(o.o ?? '')?.[1];
          if (password) msg = msg.replace(`password=${password}`, 'password=********');
          throw new EngineError(500, `error while mounting volume '${data}': failed to mount local volume: ${msg}`);
        }
        this.mounted.add(name);
      }
      let set = this.refs.get(name);
      if (!set) this.refs.set(name, (set = new Set()));
      set.add(ref);
      return data;
    });
  }

  /** moby's localVolume.Unmount: drops `ref`; the last one unmounts the volume from the host. */
  async unmount(name: string, ref: string): Promise<void> {
    await this.mountLock.run(name, async () => {
      const set = this.refs.get(name);
      set?.delete(ref);
      if (set && set.size > 0) return;
      this.refs.delete(name);
      if (!this.mounted.has(name)) return;
      await unmount(this.dataDir(name));
      this.mounted.delete(name);
    });
  }

  /**
   * After a daemon start: the containers still running hold their volumes' mounts (they were mounted
   * before berthd went down); a mount nobody holds (its containers died meanwhile, or a copy-up was cut
   * short) is unmounted.
   */
  async restore(holders: Array<{ id: string; volumes: string[] }>): Promise<void> {
    for (const name of [...this.volumes.keys()]) {
      if (!this.needsMount(name)) continue;
      const users = holders.filter((h) => h.volumes.includes(name)).map((h) => h.id);
      await this.mountLock.run(name, async () => {
        if (users.length) {
          if (!this.mounted.has(name)) log.warn('volume of a running container is not mounted on the host', { name });
          this.refs.set(name, new Set(users));
          return;
        }
        this.refs.delete(name);
        if (!this.mounted.has(name)) return;
        try {
          await unmount(this.dataDir(name));
          this.mounted.delete(name);
        } catch (err) {
          log.warn('could not unmount a stale volume mount', { name, error: (err as Error).message });
        }
      });
    }
  }
}

/** moby's needsMount: a local volume with a device or a type is mounted from its options. */
function needsMount(v: VolumeRecord | undefined): boolean {
  return !!v?.Options && (!!v.Options.device || !!v.Options.type);
}

/** go-units RAMInBytes; throws its error text. */
function ramInBytes(text: string): number {
  let sep = -1;
  for (let i = text.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(text[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${text}'`);
  const num = text[sep] !== ' ' ? text.slice(0, sep + 1) : text.slice(0, sep);
  let sfx = text.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  let size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${text}'`);
  if (!sfx) return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 } as Record<string, number>)[sfx[0]!];
  if (!mul) throw bad();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** moby's local driver validateOpts (this host has no project quotas, so a size above 0 is refused). */
function validateLocalOptions(name: string, o: Record<string, string>): void {
  for (const key of Object.keys(o)) {
    if (!LOCAL_OPTS.has(key)) throw volumeError(400, 'create', name, `invalid option: "${key}"`);
  }
  if (o.type === 'cifs' && o.device) {
    // Go's url.Parse(device).Port(): the authority after `scheme://` or `//`, its part after the last ':'.
    const host = /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/([^/?#]*)/.exec(o.device)?.[1]?.replace(/^.*@/, '') ?? '';
    const port = /:([0-9]+)$/.exec(host)?.[1] ?? '';
    if (port) throw volumeError(400, 'create', name, "port not allowed in CIFS device URL, include 'port' in 'o='");
  }
  if (o.size !== undefined) {
    let size: number;
    try {
      size = ramInBytes(o.size);
    } catch (err) {
      throw volumeError(400, 'create', name, (err as Error).message);
    }
    if (size > 0) throw volumeError(400, 'create', name, 'quota size requested but no quota support');
  }
  const mandatory: Array<[string, string[]]> = [['device', ['type']], ['type', ['device']], ['o', ['device', 'type']]];
  for (const [opt, reqs] of mandatory) {
    if (!(opt in o)) continue;
    for (const req of reqs) if (!(req in o)) throw volumeError(400, 'create', name, `missing required option: "${req}"`);
  }
}
