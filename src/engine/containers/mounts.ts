import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError, invalidParameter, notFound } from '../../util/errors';
import { log } from '../../util/log';
import type { VolumeService } from '../volumes/service';
import type { ContainerRecord } from './types';

/**
 * Mount specs of a container (`-v`, `--mount`, `--volumes-from`, the image's VOLUMEs) resolved at create
 * time into mount points, stored in the container record, turned into OCI mounts at start and into the
 * `Mounts` of inspect. Error texts follow moby's volume/mounts parser.
 */

export type MountType = 'volume' | 'bind' | 'tmpfs';

export interface MountPoint {
  Type: MountType;
  /** Volume name (volumes only). */
  Name?: string;
  /** Host path: the bind source, or the volume's data dir. */
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Copy the image's content into an empty new volume (not with `nocopy`). */
  CopyData?: boolean;
  NonRecursive?: boolean;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
  /** A volume created for this container (removed by `rm -v`). */
  Anonymous?: boolean;
}

/** The Mount object of HostConfig.Mounts (the API's names). */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] } | null;
}

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);
const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);

function specError(spec: string, msg: string): EngineError {
  return invalidParameter(`invalid volume specification: '${spec}': ${msg}`);
}
function configError(type: string, msg: string): EngineError {
  return invalidParameter(`invalid mount config for type "${type}": ${msg}`);
}

/** Checks a `-v` mode string (comma separated); returns undefined if it is not a valid mode. */
export function parseMode(mode: string): { rw?: boolean; propagation?: string; nocopy: boolean; label?: string } | undefined {
  if (mode === '') return { nocopy: false };
  let rw: boolean | undefined;
  let propagation: string | undefined;
  let label: string | undefined;
  let nocopy = false;
  let consistency = false;
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) {
      if (rw !== undefined) return undefined;
      rw = o === 'rw';
    } else if (PROPAGATIONS.has(o)) {
      if (propagation !== undefined) return undefined;
      propagation = o;
    } else if (LABEL_MODES.has(o)) {
      if (label !== undefined) return undefined;
      label = o;
    } else if (o === 'nocopy') {
      if (nocopy) return undefined;
      nocopy = true;
    } else if (CONSISTENCY.has(o)) {
      if (consistency) return undefined;
      consistency = true;
    } else return undefined;
  }
  return { rw, propagation, nocopy, label };
}

function checkDestination(spec: string, type: string, dest: string): string {
  if (!path.posix.isAbsolute(dest)) throw specError(spec, `invalid mount config for type "${type}": invalid mount path: '${dest}' mount path must be absolute`);
  const clean = path.posix.normalize(dest).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw specError(spec, "invalid specification: destination can't be '/'");
  return clean;
}

/** One entry of HostConfig.Binds. */
export function parseBind(spec: string, dataDirOf: (name: string) => string): MountPoint {
  const parts = spec.split(':');
  let src = '';
  let dst: string;
  let mode = '';
  if (parts[0] === '') throw invalidParameter(`invalid volume specification: '${spec}'`);
  if (parts.length === 1) dst = parts[0]!;
  else if (parts.length === 2) {
    // A destination with a mode is no volume (moby: "/foo:rw" is refused).
    if (parseMode(parts[1]!) && parts[1] !== '') throw invalidParameter(`invalid volume specification: '${spec}'`);
    src = parts[0]!;
    dst = parts[1]!;
  } else if (parts.length === 3) {
    [src, dst, mode] = parts as [string, string, string];
  } else throw invalidParameter(`invalid volume specification: '${spec}'`);
  if (!dst) throw invalidParameter(`invalid volume specification: '${spec}'`);
  const m = parseMode(mode);
  if (!m) throw invalidParameter(`invalid mode: ${mode}`);
  const isBind = path.posix.isAbsolute(src);
  const type: MountType = isBind ? 'bind' : 'volume';
  const dest = checkDestination(spec, type, dst);
  if (isBind) {
    if (m.nocopy) throw specError(spec, 'invalid mount config for type "bind": field VolumeOptions must not be specified');
    return {
      Type: 'bind',
      Source: path.posix.normalize(src).replace(/(.)\/+$/, '$1'),
      Destination: dest,
      Mode: mode,
      RW: m.rw !== false,
      Propagation: m.propagation ?? 'rprivate',
    };
  }
  if (m.propagation) throw specError(spec, 'invalid mount config for type "volume": field Propagation must not be specified');
  return {
    Type: 'volume',
    Name: src,
    Source: src ? dataDirOf(src) : '',
    Destination: dest,
    Driver: 'local',
    Mode: mode || 'z',
    RW: m.rw !== false,
    Propagation: '',
    CopyData: !m.nocopy,
  };
}

/** One entry of HostConfig.Mounts (`--mount`). */
export function parseApiMount(m: ApiMount, dataDirOf: (name: string) => string): MountPoint {
  const type = m.Type ?? '';
  if (!['volume', 'bind', 'tmpfs'].includes(type)) throw configError(type, 'mount type unknown');
  if (!m.Target) throw configError(type, 'field Target must not be empty');
  if (!path.posix.isAbsolute(m.Target)) throw configError(type, `invalid mount path: '${m.Target}' mount path must be absolute`);
  const dest = path.posix.normalize(m.Target).replace(/(.)\/+$/, '$1');
  if (dest === '/') throw configError(type, "invalid specification: destination can't be '/'");
  const rw = !m.ReadOnly;
  if (type === 'bind') {
    if (!m.Source) throw configError(type, 'field Source must not be empty');
    if (m.VolumeOptions) throw configError(type, 'field VolumeOptions must not be specified');
    if (m.TmpfsOptions) throw configError(type, 'field TmpfsOptions must not be specified');
    if (!path.posix.isAbsolute(m.Source)) throw configError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
    const prop = m.BindOptions?.Propagation || 'rprivate';
    if (!PROPAGATIONS.has(prop)) throw configError(type, `invalid propagation mode: ${prop}`);
    if (!fs.existsSync(m.Source) && !m.BindOptions?.CreateMountpoint) throw configError(type, `bind source path does not exist: ${m.Source}`);
    return {
      Type: 'bind',
      Source: path.posix.normalize(m.Source).replace(/(.)\/+$/, '$1'),
      Destination: dest,
      Mode: '',
      RW: rw,
      Propagation: prop,
      ...(m.BindOptions?.NonRecursive ? { NonRecursive: true } : {}),
    };
  }
  if (type === 'volume') {
    if (m.BindOptions) throw configError(type, 'field BindOptions must not be specified');
    if (m.TmpfsOptions) throw configError(type, 'field TmpfsOptions must not be specified');
    const name = m.Source ?? '';
    return {
      Type: 'volume',
      Name: name,
      Source: name ? dataDirOf(name) : '',
      Destination: dest,
      Driver: m.VolumeOptions?.DriverConfig?.Name || 'local',
      Mode: 'z',
      RW: rw,
      Propagation: '',
      CopyData: !m.VolumeOptions?.NoCopy,
    };
  }
  if (m.Source) throw configError(type, 'field Source must not be specified');
  if (m.BindOptions) throw configError(type, 'field BindOptions must not be specified');
  if (m.VolumeOptions) throw configError(type, 'field VolumeOptions must not be specified');
  const t = m.TmpfsOptions ?? {};
  if (t.SizeBytes !== undefined && t.SizeBytes < 0) throw configError(type, `invalid tmpfs size ${t.SizeBytes}`);
  return { Type: 'tmpfs', Source: '', Destination: dest, Mode: '', RW: rw, Propagation: '', TmpfsOptions: { ...t } };
}

/**
 * moby's validateBindDaemonRoot: a bind whose source contains the data root or lies in it (string
 * prefixes, as moby compares) gets rslave propagation unless it asks for rslave or rshared itself;
 * any other propagation is refused.
 */
function bindInDaemonRoot(mp: MountPoint, requested: string | undefined, root: string): void {
  if (!mp.Source.startsWith(root) && !root.startsWith(mp.Source)) return;
  if (!requested) {
    mp.Propagation = 'rslave';
    return;
  }
  if (requested === 'rslave' || requested === 'rshared') return;
  throw invalidParameter(
    `invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: ${JSON.stringify(root)}, bind mount source: ${JSON.stringify(mp.Source)}, propagation: ${JSON.stringify(requested)}`,
  );
}

/**
 * Mount points made for `Config.Volumes` (the image's VOLUMEs, `-v /path` of the docker CLI): moby
 * refuses those over a file of the image ("cannot mount volume over existing file"), checked at copy-up.
 */
export const fromConfigVolumes = new WeakSet<MountPoint>();

export interface ResolveMountsInput {
  hostConfig: Record<string, unknown>;
  /** Config.Volumes merged from the image and the request. */
  volumes: Record<string, object> | null;
  volumeService: VolumeService;
  lookupContainer: (ref: string) => ContainerRecord | undefined;
}

/**
 * Resolves every mount source of a create request into mount points, creating named volumes that do
 * not exist yet and anonymous ones (as moby does at create). Validation comes first, so a bad spec
 * creates nothing.
 */
export function resolveMounts(inp: ResolveMountsInput): MountPoint[] {
  const hc = inp.hostConfig;
  const vs = inp.volumeService;
  const dataDirOf = (name: string) => vs.dataDir(name);
  const byDest = new Map<string, MountPoint>();

  // --volumes-from: the other container's binds and volumes, optionally made read-only.
  for (const entry of (hc.VolumesFrom as string[] | null | undefined) ?? []) {
    if (entry === '') throw invalidParameter('volumes-from specification cannot be an empty string');
    const colon = entry.indexOf(':');
    const ref = colon < 0 ? entry : entry.slice(0, colon);
    const mode = colon < 0 ? '' : entry.slice(colon + 1);
    const m = parseMode(mode);
    // moby: no propagation or copy modes on volumes-from.
    if (!m || m.propagation || m.nocopy) throw invalidParameter(`invalid mode: ${mode}`);
    const other = inp.lookupContainer(ref);
    if (!other) throw invalidParameter(`No such container: ${ref}`);
    for (const mp of mountPointsOf(other)) {
      if (mp.Type === 'tmpfs') continue;
      // As moby copies them: read-write only if both are, no mode, no copy-up.
      byDest.set(mp.Destination, { ...mp, RW: mp.RW && m.rw !== false, Mode: '', Anonymous: false, CopyData: false });
    }
  }
  const volumeDriver = typeof hc.VolumeDriver === 'string' ? hc.VolumeDriver : '';
  const fromBindsAndMounts = new Set<string>();
  const tmpfs = new Set(Object.keys((hc.Tmpfs as Record<string, string> | null | undefined) ?? {}).map((t) => path.posix.normalize(t)));
  const add = (mp: MountPoint, isBind = false) => {
    if (fromBindsAndMounts.has(mp.Destination) || (isBind && tmpfs.has(mp.Destination))) throw invalidParameter(`Duplicate mount point: ${mp.Destination}`);
    fromBindsAndMounts.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  };
  const binds = hc.Binds as string[] | null | undefined;
  if (binds !== undefined && binds !== null && !Array.isArray(binds)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.Binds of type []string');
  for (const b of binds ?? []) {
    const mp = parseBind(b, dataDirOf);
    if (mp.Type === 'volume' && volumeDriver) mp.Driver = volumeDriver;
    if (mp.Type === 'bind') bindInDaemonRoot(mp, parseMode(mp.Mode)?.propagation, vs.dataRoot);
    add(mp, true);
  }
  const mounts = hc.Mounts as ApiMount[] | null | undefined;
  if (mounts !== undefined && mounts !== null && !Array.isArray(mounts)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.Mounts of type []mount.Mount');
  const volumeOpts = new Map<MountPoint, ApiMount>();
  for (const m of mounts ?? []) {
    const mp = parseApiMount(m, dataDirOf);
    if (mp.Type === 'bind') bindInDaemonRoot(mp, m.BindOptions?.Propagation || undefined, vs.dataRoot);
    add(mp);
    if (mp.Type === 'volume') volumeOpts.set(mp, m);
  }
  for (const dest of Object.keys(inp.volumes ?? {})) {
    const clean = checkDestination(dest, 'volume', dest);
    if (byDest.has(clean) || tmpfs.has(clean)) continue;
    const mp: MountPoint = { Type: 'volume', Name: '', Source: '', Destination: clean, Driver: volumeDriver || 'local', Mode: '', RW: true, Propagation: '', CopyData: true };
    fromConfigVolumes.add(mp);
    byDest.set(clean, mp);
  }

  // Volume names are checked before anything is created.
  for (const mp of byDest.values()) {
    if (mp.Type !== 'volume') continue;
    if (mp.Driver && mp.Driver !== 'local') {
      throw notFound(`${mp.Name ? `create ${mp.Name}: ` : ''}error looking up volume plugin ${mp.Driver}: plugin "${mp.Driver}" not found`);
    }
    if (mp.Name && !vs.has(mp.Name) && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(mp.Name)) vs.create({ Name: mp.Name }); // throws moby's text
  }
  for (const mp of byDest.values()) {
    if (mp.Type === 'bind') {
      // -v creates a missing host directory (as moby does); --mount refused it above.
      if (!fs.existsSync(mp.Source)) fs.mkdirSync(mp.Source, { recursive: true, mode: 0o755 });
      continue;
    }
    if (mp.Type !== 'volume') continue;
    if (!mp.Name) {
      const api = volumeOpts.get(mp);
      const v = vs.create({ Labels: api?.VolumeOptions?.Labels ?? null, DriverOpts: api?.VolumeOptions?.DriverConfig?.Options ?? null }, true);
      mp.Name = v.Name;
      mp.Anonymous = true;
    } else if (!vs.has(mp.Name)) {
      const api = volumeOpts.get(mp);
      vs.create({ Name: mp.Name, Labels: api?.VolumeOptions?.Labels ?? null, DriverOpts: api?.VolumeOptions?.DriverConfig?.Options ?? null });
    }
    mp.Source = vs.dataDir(mp.Name);
  }
  return [...byDest.values()].sort((a, b) => a.Destination.localeCompare(b.Destination));
}

/** The mount points stored in a container record. */
export function mountPointsOf(c: ContainerRecord): MountPoint[] {
  return c.MountPoints ?? [];
}

/** Names of the volumes a container uses. */
export function volumeNamesOf(c: ContainerRecord): string[] {
  return mountPointsOf(c)
    .filter((m) => m.Type === 'volume' && m.Name)
    .map((m) => m.Name!);
}

/** The `Mounts` array of inspect and of GET /containers/json, as Docker shows it. */
export function mountsView(c: ContainerRecord): object[] {
  return mountPointsOf(c).map((m) =>
    m.Type === 'volume'
      ? { Type: 'volume', Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver ?? 'local', Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
      : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation },
  );
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** tmpfs options of a `--mount type=tmpfs`, as moby builds them. */
function tmpfsOptions(mp: MountPoint): string[] {
  const out = ['nosuid', 'nodev', 'noexec'];
  const t = mp.TmpfsOptions ?? {};
  if (t.SizeBytes) out.push(`size=${Math.floor(t.SizeBytes / 1024)}k`);
  if (t.Mode) out.push(`mode=${(t.Mode & 0o7777).toString(8)}`);
  for (const o of t.Options ?? []) out.push(o.length > 1 ? `${o[0]}=${o[1]}` : o[0]!);
  if (!mp.RW) out.push('ro');
  return out;
}

/**
 * Mounts the container's volumes that have driver options on the host (each once, shared by every
 * container using it; see VolumeService.mount), before the OCI spec binds their `_data` dirs. On failure
 * what this call mounted is released again.
 */
export async function mountVolumes(c: ContainerRecord, vs: VolumeService, ref = c.Id): Promise<void> {
  const names = [...new Set(volumeNamesOf(c))].filter((n) => vs.has(n) && vs.needsMount(n));
  const done: string[] = [];
  try {
    for (const name of names) {
      await vs.mount(name, ref);
      done.push(name);
    }
  } catch (err) {
    for (const name of done) await vs.unmount(name, ref).catch(() => undefined);
    throw err;
  }
}

/** Releases the container's hold on its volumes' host mounts (the last user unmounts). Never throws. */
export async function unmountVolumes(c: ContainerRecord, vs: VolumeService, ref = c.Id): Promise<void> {
  for (const name of new Set(volumeNamesOf(c))) {
    if (!vs.has(name) || !vs.needsMount(name)) continue;
    await vs.unmount(name, ref).catch((err: Error) => log.warn('volume unmount failed', { volume: name, container: c.Id, error: err.message }));
  }
}

/** OCI spec mounts for a container's mount points (after the defaults; later entries win). */
export function ociMounts(c: ContainerRecord, vs: VolumeService): OciMount[] {
  const out: OciMount[] = [];
  for (const mp of mountPointsOf(c)) {
    if (mp.Type === 'tmpfs') {
      out.push({ destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(mp) });
      continue;
    }
    // A volume is its `_data` dir, where one with driver options is mounted (mountVolumes), as in moby.
    const source = mp.Type === 'volume' ? vs.dataDir(mp.Name!) : mp.Source;
    const opts = [mp.NonRecursive ? 'bind' : 'rbind', mp.RW ? 'rw' : 'ro'];
    opts.push(mp.Type === 'bind' ? mp.Propagation || 'rprivate' : 'rprivate');
    out.push({ destination: mp.Destination, type: 'bind', source, options: opts });
  }
  return out; // buildSpec orders them parents first, with the container's other own mounts
}
