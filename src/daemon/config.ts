import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { writeFileAtomicSync } from '../util/atomic';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  logLevel: string;
  runtime: string;
  conmon: string;
  bip?: string;
  bridge?: string;
  /** Inter-container communication on the default bridge (dockerd's --icc). */
  icc: boolean;
  /** MTU of the default bridge's interfaces (dockerd's --mtu). */
  mtu?: number;
  /** Prefix of this daemon's kernel objects: bridges, veths, iptables chains (default "berth"). */
  networkPrefix: string;
  cgroupParent: string;
  engineId: string;
}

export const USAGE = `Usage:	berthd [OPTIONS]

A self-sufficient runtime for containers, compatible with the Docker Engine API.

Options:
      --bip string              Specify default-bridge IPv4 network
      --icc                     Enable inter-container communication on the default bridge (default true)
      --mtu int                 Set the MTU of the default bridge's interfaces (default 1500)
  -b, --bridge string           Attach containers to a network bridge (reserved for networking)
      --cgroup-parent string    Set parent cgroup for all containers (default "berth")
      --config-file string      Daemon configuration file (default "/etc/berth/daemon.json")
      --conmon string           Path to the conmon container monitor (default "conmon")
      --data-root string        Root directory of persistent Berth state (default "/var/lib/berth")
      --exec-root string        Root directory for execution state files (default "/run/berth")
  -h, --help                    Print usage
  -H, --host list               Daemon socket(s) to connect to (default unix:///run/berth/berth.sock)
      --network-prefix string   Prefix for bridges, veths and iptables chains, at most 8 characters (default "berth", or derived
                                from --cgroup-parent)
  -l, --log-level string        Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -p, --pidfile string          Path to use for daemon PID file (default "<exec-root>/berthd.pid")
      --runtime string          Path to the OCI runtime (runc) (default "runc")
  -v, --version                 Print version information and quit
`;

/** Flag name → daemon.json key (Docker's names where dockerd has the option). */
const FLAGS: Record<string, { key: string; short?: string; list?: boolean; bool?: boolean }> = {
  host: { key: 'hosts', short: 'H', list: true },
  'data-root': { key: 'data-root' },
  'exec-root': { key: 'exec-root' },
  pidfile: { key: 'pidfile', short: 'p' },
  'config-file': { key: '' },
  'log-level': { key: 'log-level', short: 'l' },
  runtime: { key: 'runtime' },
  conmon: { key: 'conmon' },
  bip: { key: 'bip' },
  icc: { key: 'icc', bool: true },
  mtu: { key: 'mtu' },
  bridge: { key: 'bridge', short: 'b' },
  'network-prefix': { key: 'network-prefix' },
  'cgroup-parent': { key: 'cgroup-parent' },
};

/** daemon.json keys Docker has that Berth accepts and ignores for now. */
const IGNORED_KEYS = new Set(['debug', 'storage-driver', 'live-restore', 'log-driver', 'log-opts', 'insecure-registries', 'registry-mirrors', 'features', 'experimental', 'iptables', 'ip-forward', 'default-address-pools', 'dns', 'userland-proxy', 'default-ulimits', 'runtimes', 'default-runtime', 'exec-opts', 'labels', 'max-concurrent-downloads', 'max-concurrent-uploads']);

export class UsageError extends Error {}

export type Action = { kind: 'run'; config: DaemonConfig } | { kind: 'help' } | { kind: 'version' };

function parseArgs(argv: string[]): { flags: Record<string, string | string[]>; action?: 'help' | 'version' } {
  const flags: Record<string, string | string[]> = {};
  const shortToLong = Object.fromEntries(Object.entries(FLAGS).filter(([, v]) => v.short).map(([k, v]) => [v.short!, k]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { flags, action: 'help' };
    if (arg === '-v' || arg === '--version') return { flags, action: 'version' };
    let name: string | undefined;
    let value: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) value = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]/.test(arg)) {
      name = shortToLong[arg[1]!];
      if (!name) throw new UsageError(`unknown shorthand flag: '${arg[1]}' in ${arg}`);
      if (arg.length > 2) value = arg.slice(2).replace(/^=/, '');
    } else {
      throw new UsageError(`berthd: '${arg}' is not a berthd command.`);
    }
    const def = FLAGS[name];
    if (!def) throw new UsageError(`unknown flag: --${name}`);
    if (value === undefined && def.bool) value = 'true';
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: --${name}`);
    }
    if (def.list) flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags };
}

function readConfigFile(file: string, explicit: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return {};
    throw new UsageError(`unable to configure the Berth daemon with file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`unable to configure the Berth daemon with file ${file}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`unable to configure the Berth daemon with file ${file}: not a JSON object`);
  }
  const known = new Set(Object.values(FLAGS).map((f) => f.key).filter(Boolean));
  const unknown = Object.keys(parsed).filter((k) => !known.has(k) && !IGNORED_KEYS.has(k));
  if (unknown.length) {
    throw new UsageError(`unable to configure the Berth daemon with file ${file}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  return parsed as Record<string, unknown>;
}

function parseBool(v: string, name: string): boolean {
  if (/^(1|true)$/i.test(v)) return true;
  if (/^(0|false)$/i.test(v)) return false;
  throw new UsageError(`invalid boolean value "${v}" for --${name}`);
}

function parseMtu(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 68 || n > 65535) throw new UsageError(`invalid MTU ${v}: must be an integer between 68 and 65535`);
  return n;
}

export function loadConfig(argv: string[]): Action {
  const { flags, action } = parseArgs(argv);
  if (action) return { kind: action };
  const configFile = (flags['config-file'] as string | undefined) ?? '/etc/berth/daemon.json';
  const file = readConfigFile(configFile, flags['config-file'] !== undefined);
  const both = Object.entries(FLAGS).filter(([name, def]) => def.key && flags[name] !== undefined && def.key in file).map(([, d]) => d.key);
  if (both.length) {
    throw new UsageError(`unable to configure the Berth daemon with file ${configFile}: the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  }
  const pick = (name: string): string | undefined => {
    const v = flags[name] ?? file[FLAGS[name]!.key];
    return v === undefined ? undefined : String(v);
  };
  const hostsRaw = (flags.host as string[] | undefined) ?? (file.hosts as string[] | undefined) ?? ['unix:///run/berth/berth.sock'];
  const hosts = hostsRaw.map((h) => {
    if (h.startsWith('unix://')) return h.slice('unix://'.length);
    if (h.startsWith('/')) return h;
    throw new UsageError(`unsupported host ${h}: only unix:// sockets are supported`);
  });
  const dataRoot = path.resolve(pick('data-root') ?? '/var/lib/berth');
  const execRoot = path.resolve(pick('exec-root') ?? '/run/berth');
  const cgroupParent = (pick('cgroup-parent') ?? 'berth').replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(cgroupParent)) throw new UsageError(`invalid cgroup parent: ${cgroupParent}`);
  const logLevel = pick('log-level') ?? 'info';
  // Daemons with their own cgroup parent get their own kernel object names unless told otherwise.
  const networkPrefix = pick('network-prefix') ?? (cgroupParent === 'berth' ? 'berth' : `b${createHash('sha256').update(cgroupParent).digest('hex').slice(0, 7)}`);
  if (!/^[a-z][a-z0-9]{0,7}$/.test(networkPrefix)) throw new UsageError(`invalid network prefix "${networkPrefix}": 1 to 8 lower-case letters and digits`);
  if (!['debug', 'info', 'warn', 'error', 'fatal'].includes(logLevel)) throw new UsageError(`unable to parse logging level: ${logLevel}`);
  return {
    kind: 'run',
    config: {
      hosts,
      dataRoot,
      execRoot,
      pidfile: path.resolve(pick('pidfile') ?? path.join(execRoot, 'berthd.pid')),
      logLevel,
      runtime: pick('runtime') ?? 'runc',
      conmon: pick('conmon') ?? 'conmon',
      bip: pick('bip'),
      icc: parseBool(pick('icc') ?? 'true', 'icc'),
      mtu: parseMtu(pick('mtu')),
      bridge: pick('bridge'),
      networkPrefix,
      cgroupParent,
      engineId: '',
    },
  };
}

/** A stable engine ID per data root (Docker shows one in `info`). */
export function engineId(dataRoot: string): string {
  const file = path.join(dataRoot, 'engine-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = randomUUID();
    writeFileAtomicSync(file, id);
    return id;
  }
}
