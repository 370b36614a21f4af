import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError, invalidParameter } from '../../util/errors';
import type { ContainerRecord } from '../containers/types';
import { DEFAULT_CAPABILITIES, containerCapabilities, normalizeCapabilities } from './capabilities';
import { DEFAULT_DEVICE_RULES, deviceCgroupRules, devicesFromPath, hostDevices, validateDeviceMappings, type DeviceRule, type SpecDevice } from './devices';
import { DEFAULT_SHM_SIZE, specResources, type ResourceConfig } from './resources';
import { RLIM_INFINITY, specRlimits, type Ulimit } from './rlimits';
import { containerSeccomp, parseSecurityOpts } from './seccomp';
import type { ResolvedUser } from './user';

export { DEFAULT_CAPABILITIES };

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where `--init` puts the init binary inside the container, as Docker does. */
export const CONTAINER_INIT_PATH = '/sbin/docker-init';
const INIT_CANDIDATES = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/bin/docker-init', '/usr/bin/tini-static'];
let initBinary: string | null | undefined;

/** The host's init for `--init` (Debian's catatonit), looked up once. */
export function hostInitBinary(): string | undefined {
  if (initBinary === undefined) initBinary = INIT_CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
  return initBinary ?? undefined;
}

let netSysctls: Record<string, string> | undefined;

/** Docker's sysctls for a private network namespace, those the host's kernel has (looked up once). */
function defaultNetSysctls(): Record<string, string> {
  if (!netSysctls) {
    netSysctls = {};
    if (fs.existsSync('/proc/sys/net/ipv4/ping_group_range')) netSysctls['net.ipv4.ping_group_range'] = '0 2147483647';
    if (fs.existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start')) netSysctls['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  return netSysctls;
}

/** HostConfig fields the spec reads (the Engine API's names). */
export interface SpecHostConfig extends ResourceConfig {
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  SecurityOpt?: string[] | null;
  Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> | null;
  DeviceCgroupRules?: string[] | null;
  Tmpfs?: Record<string, string> | null;
  Ulimits?: Ulimit[] | null;
  Sysctls?: Record<string, string> | null;
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  CgroupnsMode?: string;
  ShmSize?: number;
  Init?: boolean | null;
  GroupAdd?: string[] | null;
  OomScoreAdj?: number;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  NetworkMode?: string;
  ConsoleSize?: [number, number];
  Annotations?: Record<string, string> | null;
}

export interface SpecInputs {
  container: ContainerRecord;
  user: ResolvedUser;
  /** overlay mount options for the root filesystem: lowerdir, upperdir, workdir. */
  rootfsOverlay: string[];
  /** Files in the container dir bind-mounted over /etc. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  cgroupsPath: string;
  /** The network namespace: a new one (default), an existing one to join, or the host's. */
  network?: { path?: string; host?: boolean };
  /** Reads a file of the container's image (for --group-add names). */
  readImageFile?: (path: string) => string | undefined;
  /** Finds another container (for --ipc/--pid container:NAME). */
  lookupContainer?: (ref: string) => ContainerRecord | undefined;
  /** Volumes, binds and --mount tmpfs (OCI mounts), after the defaults; one at a default's destination replaces it. */
  userMounts?: Array<{ destination: string; type: string; source: string; options: string[] }>;
}

/** Env as the process gets it: the container's (already merged with the image's), plus PATH/HOSTNAME/TERM defaults. */
export function processEnv(c: ContainerRecord, home = '/root'): string[] {
  const env = [...(c.Config.Env ?? [])];
  const has = (k: string) => env.some((e) => e.split('=', 1)[0] === k);
  if (!has('PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (!has('HOSTNAME')) env.push(`HOSTNAME=${c.Config.Hostname}`);
  if (c.Config.Tty && !has('TERM')) env.push('TERM=xterm');
  if (!has('HOME')) env.push(`HOME=${home}`);
  return env;
}

/** Serialises a spec for config.json (RLIM_INFINITY needs a 64-bit literal no JS number can hold). */
export function specJson(spec: object): string {
  return JSON.stringify(spec).replaceAll(`"${RLIM_INFINITY}"`, '18446744073709551615');
}

/** `--group-add` entries as gids: numbers as given, names from the image's /etc/group (moby's text when missing). */
export function resolveGroupAdd(groups: string[], groupFile: string | undefined): number[] {
  const entries = (groupFile ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3);
  return groups.map((g) => {
    const byName = entries.find((f) => f[0] === g);
    if (byName) return Number(byName[2]);
    if (/^[0-9]+$/.test(g)) return Number(g);
    throw new EngineError(500, `Unable to find group ${g}: no matching entries in group file`);
  });
}

type Mount = { destination: string; type: string; source: string; options: string[] };

const TMPFS_FLAGS: Record<string, string> = {
  exec: 'exec', noexec: 'exec', suid: 'suid', nosuid: 'suid', dev: 'dev', nodev: 'dev', rw: 'rw', ro: 'rw',
  atime: 'atime', noatime: 'atime', diratime: 'diratime', nodiratime: 'diratime', relatime: 'atime', strictatime: 'atime',
};

/** Merges tmpfs options as moby does: a later flag overrides its opposite, a later `key=value` its key. */
export function mergeTmpfsOptions(options: string[]): string[] {
  const out: string[] = [];
  const seen = new Map<string, number>();
  for (const raw of options) {
    const o = raw.trim();
    if (!o) continue;
    const group = o.includes('=') ? `data:${o.split('=', 1)[0]}` : `flag:${TMPFS_FLAGS[o] ?? o}`;
    const at = seen.get(group);
    if (at !== undefined) out[at] = o;
    else {
      seen.set(group, out.length);
      out.push(o);
    }
  }
  return out;
}

function joinTarget(kind: 'IPC' | 'PID', ref: string, lookup: SpecInputs['lookupContainer']): ContainerRecord {
  const other = lookup?.(ref);
  if (!other) throw invalidParameter(`No such container: ${ref}`);
  if (!other.State.Running || !other.State.Pid) {
    throw new EngineError(409, `failed to join ${kind} namespace: container ${other.Id} is not running`);
  }
  return other;
}

/**
 * What an exec's process inherits from its container's, as in moby (the exec process is a copy of the
 * container's): capabilities (every one of the bounding set for `exec --privileged`), no-new-privileges,
 * rlimits, and the user's gids with the container's --group-add.
 */
export function execProcessSecurity(
  c: ContainerRecord,
  privilegedExec: boolean,
  user: ResolvedUser,
  readImageFile?: (path: string) => string | undefined,
): { capabilities: { bounding: string[]; effective: string[]; permitted: string[] }; noNewPrivileges: boolean; rlimits?: ReturnType<typeof specRlimits>; additionalGids: number[] } {
  const hc = c.HostConfig as unknown as SpecHostConfig;
  const caps = containerCapabilities(normalizeCapabilities(hc.CapAdd, 'CapAdd'), normalizeCapabilities(hc.CapDrop, 'CapDrop'), Boolean(hc.Privileged) || privilegedExec);
  const rlimits = specRlimits(hc.Ulimits);
  const groupAdd = hc.GroupAdd?.length ? resolveGroupAdd(hc.GroupAdd, readImageFile?.('/etc/group')) : [];
  return {
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: parseSecurityOpts(hc.SecurityOpt).noNewPrivileges,
    ...(rlimits.length ? { rlimits } : {}),
    additionalGids: [...new Set([user.gid, ...user.additionalGids, ...groupAdd])],
  };
}

/** Builds the OCI runtime spec (config.json) for a container, shaped as Docker's own bundles are. */
export function buildSpec(inp: SpecInputs): object {
  const c = inp.container;
  const hc = c.HostConfig as unknown as SpecHostConfig;
  const privileged = Boolean(hc.Privileged);
  const readonly = Boolean(hc.ReadonlyRootfs);

  const caps = containerCapabilities(normalizeCapabilities(hc.CapAdd, 'CapAdd'), normalizeCapabilities(hc.CapDrop, 'CapDrop'), privileged);
  const security = parseSecurityOpts(hc.SecurityOpt);
  const seccomp = containerSeccomp(security, caps, privileged);

  // Namespaces.
  const ipcMode = hc.IpcMode || 'private';
  const pidMode = hc.PidMode || '';
  const utsHost = hc.UTSMode === 'host';
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'mount' }];
  if (!inp.network?.host) namespaces.push(inp.network?.path ? { type: 'network', path: inp.network.path } : { type: 'network' });
  if (!utsHost) namespaces.push({ type: 'uts' });
  let pidJoin: ContainerRecord | undefined;
  if (pidMode.startsWith('container:')) {
    pidJoin = joinTarget('PID', pidMode.slice('container:'.length), inp.lookupContainer);
    namespaces.push({ type: 'pid', path: `/proc/${pidJoin.State.Pid}/ns/pid` });
  } else if (pidMode !== 'host') namespaces.push({ type: 'pid' });
  let ipcJoin: ContainerRecord | undefined;
  if (ipcMode.startsWith('container:')) {
    ipcJoin = joinTarget('IPC', ipcMode.slice('container:'.length), inp.lookupContainer);
    const donorMode = (ipcJoin.HostConfig as unknown as SpecHostConfig).IpcMode;
    if (donorMode !== 'shareable' && donorMode !== 'host') {
      throw invalidParameter(`container ${ipcJoin.Id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    if (donorMode === 'shareable') namespaces.push({ type: 'ipc', path: `/proc/${ipcJoin.State.Pid}/ns/ipc` });
  } else if (ipcMode !== 'host') namespaces.push({ type: 'ipc' });
  if (hc.CgroupnsMode === 'private') namespaces.push({ type: 'cgroup' });

  // Process.
  let args = [c.Path, ...c.Args];
  const mounts: Mount[] = [];
  const userMounts = new Set([...Object.keys(hc.Tmpfs ?? {}), ...(inp.userMounts ?? []).map((m) => m.destination)]);
  const withInit = Boolean(hc.Init) && pidMode === '';
  if (withInit) {
    const init = hostInitBinary();
    if (!init) throw new EngineError(500, 'docker-init binary not found: install catatonit (or tini) on the host');
    args = [CONTAINER_INIT_PATH, '--', ...args];
  }
  const groupAdd = hc.GroupAdd?.length ? resolveGroupAdd(hc.GroupAdd, inp.readImageFile?.('/etc/group')) : [];
  const additionalGids = [...new Set([inp.user.gid, ...inp.user.additionalGids, ...groupAdd])];
  const [rows, cols] = hc.ConsoleSize ?? [0, 0];
  const rlimits = specRlimits(hc.Ulimits);
  if ((hc.OomScoreAdj ?? 0) < 0) throw invalidParameter(`invalid OomScoreAdj ${hc.OomScoreAdj}: this host does not let the engine lower a process's OOM score`);

  // Mounts: Docker's defaults, minus those a user tmpfs replaces.
  const shmSize = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  const defaults: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: privileged ? ['nosuid', 'noexec', 'nodev'] : ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  // A shareable /dev/shm must be one file system that both containers mount; a mount cannot be taken from
  // another mount namespace, so it is a directory in the donor's container dir (removed with the container).
  const containersDir = path.dirname(path.dirname(inp.etcFiles.hosts));
  const shareableShm = (id: string) => path.join(containersDir, id, 'shm');
  if (ipcMode === 'host') defaults.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  else if (ipcJoin) {
    const src = (ipcJoin.HostConfig as unknown as SpecHostConfig).IpcMode === 'host' ? '/dev/shm' : shareableShm(ipcJoin.Id);
    defaults.push({ destination: '/dev/shm', type: 'bind', source: src, options: ['rbind', 'rprivate'] });
  } else if (ipcMode === 'shareable') {
    const dir = shareableShm(c.Id);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o1777 });
    fs.chmodSync(dir, 0o1777);
    defaults.push({ destination: '/dev/shm', type: 'bind', source: dir, options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev'] });
  } else if (ipcMode !== 'none') {
    defaults.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] });
  }
  for (const m of defaults) if (!userMounts.has(m.destination)) mounts.push(m);
  const etcMounts: Mount[] = [
    { destination: '/etc/resolv.conf', type: 'bind', source: inp.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: inp.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: inp.etcFiles.hosts, options: ['rbind', 'rprivate'] },
  ];
  mounts.push(...etcMounts);
  if (withInit) mounts.push({ destination: CONTAINER_INIT_PATH, type: 'bind', source: hostInitBinary()!, options: ['bind', 'ro'] });
  if (readonly) {
    const keepRw = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);
    for (const m of mounts) if (!keepRw.has(m.destination) && !m.options.includes('ro')) m.options.push('ro');
  }
  // The container's own mounts (/etc files, --tmpfs, volumes, binds) go parents first, as moby sorts
  // them: a volume on /etc must not cover the /etc/hosts bind.
  const own: Mount[] = mounts.splice(mounts.indexOf(etcMounts[0]!), etcMounts.length);
  for (const [dest, data] of Object.entries(hc.Tmpfs ?? {})) {
    const options = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...(data ? data.split(',') : [])]);
    own.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options });
  }
  own.push(...(inp.userMounts ?? []));
  mounts.push(...sortedByDepth(own));

  // Devices.
  let devices: SpecDevice[] = [];
  let deviceRules: DeviceRule[] = DEFAULT_DEVICE_RULES;
  const mappings = validateDeviceMappings(hc.Devices);
  if (privileged) {
    devices = hostDevices();
    for (const m of mappings) {
      if (m.PathOnHost === m.PathInContainer) continue;
      devices.push(...devicesFromPath({ ...m, CgroupPermissions: 'rwm' }).devices);
    }
    deviceRules = [{ allow: true, access: 'rwm' }];
  } else {
    const extra = deviceCgroupRules(hc.DeviceCgroupRules);
    if (mappings.length || extra.length) deviceRules = [...DEFAULT_DEVICE_RULES];
    for (const m of mappings) {
      const d = devicesFromPath(m);
      devices.push(...d.devices);
      deviceRules.push(...d.rules);
    }
    deviceRules.push(...extra);
  }

  // Sysctls: Docker's defaults for a private network namespace, then the user's.
  const sysctl: Record<string, string> = {};
  const netMode = hc.NetworkMode ?? '';
  if (!inp.network?.host && !netMode.startsWith('container:') && netMode !== 'host') {
    Object.assign(sysctl, defaultNetSysctls());
  }
  // The NIS domain name is set as moby does, through kernel.domainname (runc ignores the spec's domainname).
  if (c.Config.Domainname && !utsHost) sysctl['kernel.domainname'] = c.Config.Domainname;
  Object.assign(sysctl, hc.Sysctls ?? {});

  const resources = { devices: deviceRules, ...specResources(hc) };
  const maskedPaths = privileged ? [] : hc.MaskedPaths ?? MASKED_PATHS;
  const readonlyPaths = privileged ? [] : hc.ReadonlyPaths ?? READONLY_PATHS;

  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: c.Config.Tty,
      ...(c.Config.Tty && rows > 0 && cols > 0 ? { consoleSize: { height: rows, width: cols } } : {}),
      user: { uid: inp.user.uid, gid: inp.user.gid, additionalGids },
      args,
      env: processEnv(c, inp.user.home || '/'),
      cwd: c.Config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(rlimits.length ? { rlimits } : {}),
      noNewPrivileges: security.noNewPrivileges,
      ...((hc.OomScoreAdj ?? 0) > 0 ? { oomScoreAdj: hc.OomScoreAdj } : {}),
    },
    root: { path: 'rootfs', readonly },
    ...(utsHost ? {} : { hostname: c.Config.Hostname }),
    mounts: [{ destination: '/', type: 'overlay', source: 'overlay', options: inp.rootfsOverlay }, ...mounts],
    ...(hc.Annotations && Object.keys(hc.Annotations).length ? { annotations: { ...hc.Annotations } } : {}),
    linux: {
      namespaces,
      cgroupsPath: inp.cgroupsPath,
      resources,
      ...(devices.length ? { devices } : {}),
      ...(Object.keys(sysctl).length ? { sysctl } : {}),
      ...(seccomp ? { seccomp } : {}),
      maskedPaths,
      readonlyPaths,
    },
  };
}

/** Mounts ordered by the depth of their destination (stable), so that a mount never hides a deeper one. */
export function sortedByDepth<T extends { destination: string }>(mounts: T[]): T[] {
  const depth = (p: string) => path.posix.normalize(p).split('/').filter(Boolean).length;
  return mounts
    .map((m, i) => ({ m, i, d: depth(m.destination) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.m);
}
