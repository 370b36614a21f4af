/** Turns run/create flags into the POST /containers/create body (docker's opts.go parse()). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerCreateBody, EndpointSettings, HostConfig, PortBinding } from '../../client';
import { FlagValues, parseGoInt } from '../flags';
import { ramInBytes, validateEnv } from './container-flags';

export class ConfigError extends Error {}

function bytesFlag(flags: FlagValues, name: string): number {
  const v = flags.string(name);
  return v === '' ? 0 : ramInBytes(v);
}

function parsePortRange(s: string): [number, number] {
  if (s === '') throw new Error('empty string specified for ports');
  const [a, b] = s.includes('-') ? s.split('-', 2) : [s, s];
  const start = parseGoInt(a, true);
  const end = parseGoInt(b, true);
  if (end < start) throw new Error(`invalid range specified for port: ${s}`);
  return [start, end];
}

/** nat.ParsePortSpecs (docker's -p syntax, plus the long `target=,published=` form). */
export function parsePortSpecs(specs: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (let raw of specs) {
    if (raw.includes('=')) {
      const params: Record<string, string> = { protocol: 'tcp' };
      for (const param of raw.split(',')) {
        const eq = param.indexOf('=');
        if (eq <= 0) throw new ConfigError(`invalid publish opts format (should be name=value but got '${param}')`);
        params[param.slice(0, eq)] = param.slice(eq + 1);
      }
      raw = `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
    }
    const parts = raw.split(':');
    const n = parts.length;
    let containerPart = parts[n - 1];
    let ip = '';
    let hostPort = '';
    if (n === 2) hostPort = parts[0];
    else if (n === 3) [ip, hostPort] = [parts[0], parts[1]];
    else if (n > 3) [ip, hostPort] = [parts.slice(0, n - 2).join(':'), parts[n - 2]];
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (ip !== '' && !/^[0-9.]+$|:/.test(ip)) throw new ConfigError(`invalid IP address: ${ip}`);
    let proto = 'tcp';
    const slash = containerPart.indexOf('/');
    if (slash >= 0) {
      proto = containerPart.slice(slash + 1) || 'tcp';
      containerPart = containerPart.slice(0, slash);
    }
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new ConfigError(`invalid proto: ${proto}`);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(containerPart);
    } catch {
      throw new ConfigError(`invalid containerPort: ${containerPart}`);
    }
    let hStart = 0;
    let hEnd = 0;
    if (hostPort !== '') {
      try {
        [hStart, hEnd] = parsePortRange(hostPort);
      } catch {
        throw new ConfigError(`invalid hostPort: ${hostPort}`);
      }
    }
    if (hostPort !== '' && end - start !== hEnd - hStart && !(start === end)) {
      throw new ConfigError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPort}`);
    }
    for (let i = 0; i <= end - start; i++) {
      const key = `${start + i}/${proto.toLowerCase()}`;
      let hp = hostPort;
      if (hostPort !== '' && end - start === hEnd - hStart) hp = String(hStart + i);
      if (start === end && hStart !== hEnd) hp = `${hStart}-${hEnd}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
  return { exposed, bindings };
}

/** Reads KEY=VALUE files (--env-file, --label-file); lookup fills bare keys (env files only). */
export function readKVFile(file: string, lookup?: (k: string) => string | undefined): string[] {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  }
  const out: string[] = [];
  content.split('\n').forEach((rawLine, idx) => {
    let line = rawLine.replace(/^[ \t\r\n\v\f]+/, '');
    if (idx === 0) line = line.replace(/^\ufeff/, '');
    if (line === '' || line.startsWith('#')) return;
    line = line.replace(/\r$/, '');
    const eq = line.indexOf('=');
    const key = (eq >= 0 ? line.slice(0, eq) : line).replace(/^[ \t]+/, '');
    if (/[ \t]/.test(key)) throw new ConfigError(`variable '${key}' contains whitespaces`);
    if (key === '') throw new ConfigError(`no variable name on line '${line}'`);
    if (eq >= 0) {
      out.push(`${key}=${line.slice(eq + 1)}`);
    } else if (lookup) {
      const v = lookup(key.trimEnd());
      out.push(v !== undefined ? `${key.trimEnd()}=${v}` : key.trimEnd());
    } else {
      out.push(line);
    }
  });
  return out;
}

function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: 'no', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const name = colon >= 0 ? policy.slice(0, colon) : policy;
  const count = colon >= 0 ? policy.slice(colon + 1) : '';
  if (name === '') throw new ConfigError('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^-?\d+$/.test(count)) throw new ConfigError('invalid restart policy format: maximum retry count must be an integer');
    if (name !== 'on-failure') {
      throw new ConfigError("invalid restart policy format: maximum retry count can only be used with 'on-failure'");
    }
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

const NON_USER_NETWORKS = new Set(['default', 'bridge', 'host', 'none']);
const isUserDefined = (n: string) => !NON_USER_NETWORKS.has(n) && !n.startsWith('container:');

function emptyEndpoint(): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, unknown> = { Type: 'volume' };
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    const value = eq >= 0 ? field.slice(eq + 1) : '';
    switch (key) {
      case 'type':
        m.Type = value;
        break;
      case 'source':
      case 'src':
        m.Source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = value;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = value === '' || value === 'true' || value === '1';
        break;
      case 'consistency':
        m.Consistency = value;
        break;
      case 'bind-propagation':
        m.BindOptions = { ...((m.BindOptions as object) ?? {}), Propagation: value };
        break;
      case 'volume-nocopy':
        m.VolumeOptions = { ...((m.VolumeOptions as object) ?? {}), NoCopy: value === '' || value === 'true' };
        break;
      case 'tmpfs-size':
        m.TmpfsOptions = { ...((m.TmpfsOptions as object) ?? {}), SizeBytes: ramInBytes(value) };
        break;
      case 'tmpfs-mode':
        m.TmpfsOptions = { ...((m.TmpfsOptions as object) ?? {}), Mode: Number.parseInt(value, 8) };
        break;
      default:
        throw new ConfigError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new ConfigError('target is required');
  return m;
}

export interface BuildOptions {
  image: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  consoleSize: [number, number];
}

/** Builds the create body; throws ConfigError (or Error) with docker's messages. */
export function buildCreateBody(flags: FlagValues, opts: BuildOptions): ContainerCreateBody {
  const attach = flags.list('attach');
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  const openStdin = flags.bool('interactive');
  if (openStdin) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }

  const swappiness = flags.int('memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new ConfigError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  const volumes: Record<string, Record<string, never>> = {};
  const binds: string[] = [];
  for (const v of flags.list('volume')) {
    const parts = v.split(':');
    if (parts.length >= 2 && parts[0] !== '') {
      let host = parts[0];
      if (!path.isAbsolute(host) && host.startsWith('.')) host = path.resolve(host);
      binds.push([host, ...parts.slice(1)].join(':'));
    } else {
      volumes[v] = {};
    }
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.list('tmpfs')) {
    const c = t.indexOf(':');
    if (c >= 0) tmpfs[t.slice(0, c)] = t.slice(c + 1);
    else tmpfs[t] = '';
  }

  const cmd = opts.args.length > 0 ? opts.args : null;
  let entrypoint: string[] | null = null;
  if (flags.string('entrypoint') !== '') entrypoint = [flags.string('entrypoint')];
  else if (flags.isSet('entrypoint')) entrypoint = [''];

  const { exposed, bindings } = parsePortSpecs(flags.list('publish'));
  for (const e of flags.list('expose')) {
    if (e.includes(':')) throw new ConfigError(`invalid port format for --expose: ${e}`);
    const slash = e.indexOf('/');
    const proto = slash >= 0 ? e.slice(slash + 1) : 'tcp';
    const port = slash >= 0 ? e.slice(0, slash) : e;
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new ConfigError(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = start; i <= end; i++) exposed[`${i}/${proto}`] ??= {};
  }

  const lookup = (k: string) => opts.env[k];
  const envList: string[] = [];
  for (const f of flags.list('env-file')) envList.push(...readKVFile(f, lookup));
  for (const e of flags.list('env')) envList.push(validateEnv(e, opts.env));

  const labelList: string[] = [];
  for (const f of flags.list('label-file')) labelList.push(...readKVFile(f));
  labelList.push(...flags.list('label'));
  const labels: Record<string, string> = {};
  for (const l of labelList) {
    const eq = l.indexOf('=');
    if (eq >= 0) labels[l.slice(0, eq)] = l.slice(eq + 1);
    else labels[l] = '';
  }

  const pid = flags.string('pid');
  if (pid !== '' && pid !== 'host' && !pid.startsWith('container:')) throw new ConfigError('--pid: invalid PID mode');
  const uts = flags.string('uts');
  if (uts !== '' && uts !== 'host') throw new ConfigError('--uts: invalid UTS mode');
  const userns = flags.string('userns');
  if (userns !== '' && userns !== 'host') throw new ConfigError('--userns: invalid USER mode');
  const cgroupns = flags.string('cgroupns');
  if (cgroupns !== '' && cgroupns !== 'host' && cgroupns !== 'private') throw new ConfigError('--cgroupns: invalid CGROUP mode');

  const restart = parseRestartPolicy(flags.string('restart'));
  const logOpts: Record<string, string> = {};
  for (const o of flags.list('log-opt')) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new ConfigError(`invalid key value pair format in logging opts`);
    logOpts[o.slice(0, eq)] = o.slice(eq + 1);
  }
  if (flags.string('log-driver') === 'none' && Object.keys(logOpts).length > 0) {
    throw new ConfigError('invalid logging opts for driver none');
  }

  const securityOpts: string[] = [];
  for (const o of flags.list('security-opt')) {
    let opt = o;
    if (opt === 'systempaths=unconfined') {
      securityOpts.push(opt);
      continue;
    }
    const eq = opt.indexOf('=') >= 0 ? opt.indexOf('=') : opt.indexOf(':');
    if (eq < 0 && opt !== 'no-new-privileges') throw new ConfigError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (eq >= 0 && opt.slice(0, eq) === 'seccomp' && opt.slice(eq + 1) !== 'unconfined' && opt.slice(eq + 1) !== 'builtin') {
      const file = opt.slice(eq + 1);
      let content: string;
      try {
        content = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`opening seccomp profile (${file}) failed: ${(err as Error).message}`);
      }
      opt = `seccomp=${JSON.stringify(JSON.parse(content))}`;
    }
    securityOpts.push(opt);
  }
  const unconfinedPaths = securityOpts.includes('systempaths=unconfined');
  const finalSecurityOpts = securityOpts.filter((o) => o !== 'systempaths=unconfined');

  const storageOpt: Record<string, string> = {};
  for (const o of flags.list('storage-opt')) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new ConfigError(`invalid storage option`);
    storageOpt[o.slice(0, eq)] = o.slice(eq + 1);
  }

  let healthcheck: ContainerCreateBody['Healthcheck'];
  const healthCmd = flags.string('health-cmd');
  const hi = flags.int('health-interval');
  const ht = flags.int('health-timeout');
  const hsp = flags.int('health-start-period');
  const hsi = flags.int('health-start-interval');
  const hr = flags.int('health-retries');
  const haveHealth = healthCmd !== '' || hi !== 0 || ht !== 0 || hsp !== 0 || hr !== 0 || hsi !== 0;
  if (flags.bool('no-healthcheck')) {
    if (haveHealth) throw new ConfigError('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (hi < 0) throw new ConfigError('--health-interval cannot be negative');
    if (ht < 0) throw new ConfigError('--health-timeout cannot be negative');
    if (hr < 0) throw new ConfigError('--health-retries cannot be negative');
    if (hsp < 0) throw new ConfigError('--health-start-period cannot be negative');
    if (hsi < 0) throw new ConfigError('--health-start-interval cannot be negative');
    // Go omits zero-valued HealthConfig fields (omitempty).
    healthcheck = {
      ...(healthCmd !== '' ? { Test: ['CMD-SHELL', healthCmd] } : {}),
      ...(hi ? { Interval: hi } : {}),
      ...(ht ? { Timeout: ht } : {}),
      ...(hsp ? { StartPeriod: hsp } : {}),
      ...(hsi ? { StartInterval: hsi } : {}),
      ...(hr ? { Retries: hr } : {}),
    };
  }

  const ulimits = flags.list('ulimit').map((u) => {
    const eq = u.indexOf('=');
    if (eq < 0) throw new ConfigError(`invalid ulimit argument: ${u}`);
    const [soft, hard] = u.slice(eq + 1).split(':');
    return { Name: u.slice(0, eq), Hard: Number(hard ?? soft), Soft: Number(soft) };
  });
  const devices = flags.list('device').map((d) => {
    const parts = d.split(':');
    const perms = parts.length > 1 && /^[rwm]+$/.test(parts[parts.length - 1]) ? (parts.pop() as string) : 'rwm';
    return { PathOnHost: parts[0], PathInContainer: parts[1] ?? parts[0], CgroupPermissions: perms };
  });
  const deviceRequests = flags.string('gpus') !== '' ? [{ Driver: '', Count: flags.string('gpus') === 'all' ? -1 : Number(flags.string('gpus').replace(/^count=/, '')) || 0, DeviceIDs: null, Capabilities: [['gpu']], Options: {} }] : null;

  const cpus = flags.string('cpus');
  let nanoCpus = 0;
  if (cpus !== '') {
    const n = Number(cpus);
    if (Number.isNaN(n)) throw new ConfigError(`failed to parse ${cpus} as a rational number`);
    nanoCpus = Math.round(n * 1e9);
  }

  const networks = [...flags.list('net'), ...flags.list('network')];
  const networkMode = networks.length > 0 ? networks[0] : 'default';
  const aliases = [...flags.list('net-alias'), ...flags.list('network-alias')];
  const endpoints: Record<string, EndpointSettings> = {};
  const makeEndpoint = (target: string, first: boolean): EndpointSettings => {
    const ep = emptyEndpoint();
    if (first) {
      if (aliases.length > 0) {
        if (!isUserDefined(target)) throw new ConfigError('network-scoped aliases are only supported for user-defined networks');
        ep.Aliases = [...aliases];
      }
      if (isUserDefined(target) && flags.list('link').length > 0) ep.Links = [...flags.list('link')];
      const ip4 = flags.string('ip');
      const ip6 = flags.string('ip6');
      const lla = flags.list('link-local-ip');
      if (ip4 || ip6 || lla.length > 0) {
        ep.IPAMConfig = {
          ...(ip4 ? { IPv4Address: ip4 } : {}),
          ...(ip6 ? { IPv6Address: ip6 } : {}),
          ...(lla.length ? { LinkLocalIPs: lla } : {}),
        };
      }
      if (flags.string('mac-address')) ep.MacAddress = flags.string('mac-address');
    }
    return ep;
  };
  if (networks.length === 0) {
    endpoints.default = makeEndpoint('default', true);
  } else {
    let user = false;
    let nonUser = false;
    networks.forEach((n, i) => {
      if (isUserDefined(n)) user = true;
      else nonUser = true;
      if (n in endpoints) throw new ConfigError(`network ${JSON.stringify(n)} is specified multiple times`);
      const ep = makeEndpoint(n, i === 0);
      if (i === 0 && networks.length === 1 && JSON.stringify(ep) === JSON.stringify(emptyEndpoint())) return;
      endpoints[n] = ep;
    });
    if (user && nonUser) {
      throw new ConfigError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    }
  }

  const autoRemove = flags.bool('rm');
  if (autoRemove && restart.Name !== 'no' && restart.Name !== '') {
    throw new ConfigError('conflicting options: cannot specify both --restart and --rm');
  }

  const hostConfig: HostConfig = {
    Binds: binds.length > 0 ? binds : null,
    ContainerIDFile: flags.string('cidfile'),
    LogConfig: { Type: flags.string('log-driver'), Config: logOpts },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    VolumeDriver: flags.string('volume-driver'),
    VolumesFrom: flags.list('volumes-from').length ? flags.list('volumes-from') : null,
    ConsoleSize: opts.consoleSize,
    ...(Object.keys(flags.map('annotation')).length ? { Annotations: flags.map('annotation') } : {}),
    CapAdd: flags.list('cap-add').length ? flags.list('cap-add') : null,
    CapDrop: flags.list('cap-drop').length ? flags.list('cap-drop') : null,
    CgroupnsMode: cgroupns,
    Dns: flags.list('dns'),
    DnsOptions: [...flags.list('dns-opt'), ...flags.list('dns-option')],
    DnsSearch: flags.list('dns-search'),
    ExtraHosts: flags.list('add-host').length ? flags.list('add-host') : null,
    GroupAdd: flags.list('group-add').length ? flags.list('group-add') : null,
    IpcMode: flags.string('ipc'),
    Cgroup: '',
    Links: flags.list('link').length ? flags.list('link') : null,
    OomScoreAdj: flags.int('oom-score-adj'),
    PidMode: pid,
    Privileged: flags.bool('privileged'),
    PublishAllPorts: flags.bool('publish-all'),
    ReadonlyRootfs: flags.bool('read-only'),
    SecurityOpt: finalSecurityOpts.length ? finalSecurityOpts : null,
    ...(Object.keys(storageOpt).length ? { StorageOpt: storageOpt } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    UTSMode: uts,
    UsernsMode: userns,
    ShmSize: bytesFlag(flags, 'shm-size'),
    ...(Object.keys(flags.map('sysctl')).length ? { Sysctls: flags.map('sysctl') } : {}),
    ...(flags.string('runtime') ? { Runtime: flags.string('runtime') } : {}),
    Isolation: flags.string('isolation'),
    CpuShares: flags.int('cpu-shares'),
    Memory: bytesFlag(flags, 'memory'),
    NanoCpus: nanoCpus,
    CgroupParent: flags.string('cgroup-parent'),
    BlkioWeight: flags.int('blkio-weight'),
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: flags.int('cpu-period'),
    CpuQuota: flags.int('cpu-quota'),
    CpuRealtimePeriod: flags.int('cpu-rt-period'),
    CpuRealtimeRuntime: flags.int('cpu-rt-runtime'),
    CpusetCpus: flags.string('cpuset-cpus'),
    CpusetMems: flags.string('cpuset-mems'),
    Devices: devices,
    DeviceCgroupRules: flags.list('device-cgroup-rule').length ? flags.list('device-cgroup-rule') : null,
    DeviceRequests: deviceRequests,
    ...(flags.string('kernel-memory') ? { KernelMemory: bytesFlag(flags, 'kernel-memory') } : {}),
    MemoryReservation: bytesFlag(flags, 'memory-reservation'),
    MemorySwap: bytesFlag(flags, 'memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: flags.bool('oom-kill-disable'),
    PidsLimit: flags.int('pids-limit'),
    Ulimits: ulimits,
    CpuCount: flags.int('cpu-count'),
    CpuPercent: flags.int('cpu-percent'),
    IOMaximumIOps: flags.int('io-maxiops'),
    IOMaximumBandwidth: bytesFlag(flags, 'io-maxbandwidth'),
    ...(flags.list('mount').length ? { Mounts: flags.list('mount').map(parseMount) } : {}),
    MaskedPaths: unconfinedPaths ? [] : null,
    ReadonlyPaths: unconfinedPaths ? [] : null,
  };
  if (flags.isSet('init')) hostConfig.Init = flags.bool('init');

  const body: ContainerCreateBody = {
    Hostname: flags.string('hostname'),
    Domainname: flags.string('domainname'),
    User: flags.string('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: flags.bool('tty'),
    OpenStdin: openStdin,
    StdinOnce: openStdin && attachStdin,
    Env: envList.length > 0 ? envList : null,
    Cmd: cmd,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: opts.image,
    Volumes: volumes,
    WorkingDir: flags.string('workdir'),
    Entrypoint: entrypoint,
    ...(flags.string('mac-address') ? { MacAddress: flags.string('mac-address') } : {}),
    OnBuild: null,
    Labels: labels,
    ...(flags.string('stop-signal') ? { StopSignal: flags.string('stop-signal') } : {}),
    ...(flags.isSet('stop-timeout') ? { StopTimeout: flags.int('stop-timeout') } : {}),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return body;
}
