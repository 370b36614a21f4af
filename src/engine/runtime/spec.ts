import type { ContainerRecord } from '../containers/types';
import type { ResolvedUser } from './user';

/** Docker's default capability set. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const ALLOWED_DEVICES: Array<{ type: string; major?: number; minor?: number; access: string }> = [
  { type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { type: 'c', major: 136, access: 'rwm' }, // pts/*
  { type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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

/** Builds the OCI runtime spec (config.json) for a container, shaped as Docker's own bundles are. */
export function buildSpec(inp: SpecInputs): object {
  const c = inp.container;
  const caps = DEFAULT_CAPABILITIES;
  const [rows, cols] = c.HostConfig.ConsoleSize ?? [0, 0];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: c.Config.Tty,
      ...(c.Config.Tty && rows > 0 && cols > 0 ? { consoleSize: { height: rows, width: cols } } : {}),
      user: { uid: inp.user.uid, gid: inp.user.gid, ...(inp.user.additionalGids.length ? { additionalGids: inp.user.additionalGids } : {}) },
      args: [c.Path, ...c.Args],
      env: processEnv(c, inp.user.home || '/'),
      cwd: c.Config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: c.Config.Hostname,
    ...(c.Config.Domainname ? { domainname: c.Config.Domainname } : {}),
    mounts: [
      { destination: '/', type: 'overlay', source: 'overlay', options: inp.rootfsOverlay },
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: inp.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: inp.etcFiles.hostname, options: ['rbind', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: inp.etcFiles.hosts, options: ['rbind', 'rprivate'] },
    ],
    linux: {
      namespaces: [
        { type: 'mount' },
        ...(inp.network?.host ? [] : [inp.network?.path ? { type: 'network', path: inp.network.path } : { type: 'network' }]),
        { type: 'uts' },
        { type: 'pid' },
        { type: 'ipc' },
      ],
      cgroupsPath: inp.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }, ...ALLOWED_DEVICES.map((d) => ({ allow: true, ...d }))],
      },
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
