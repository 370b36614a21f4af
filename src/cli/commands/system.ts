/** `version` and `info`. */
import * as fs from 'node:fs';
import { ConnectionError, VersionResponse } from '../../client';
import { CLIENT_VERSION, Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { TabWriter } from '../format/tabwriter';
import { compileTemplate } from '../format/template';
import { bytesSize } from '../format/units';
import { INSPECT_FORMAT_HELP } from '../opts';
import { errorMessage } from '../../util/errors';

/** Go's time.ANSIC layout: "Mon Jan _2 15:04:05 2006". */
function ansic(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

function reformatDate(s: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s)) return s;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : ansic(d);
}

function buildTime(): string {
  try {
    return ansic(fs.statSync(__filename).mtime);
  } catch {
    return '';
  }
}

const goArch = (): string => ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;

function clientVersion(cli: Cli, apiVersion: string): Record<string, unknown> {
  const v = {
    Version: CLIENT_VERSION,
    APIVersion: apiVersion,
    DefaultAPIVersion: '1.50',
    GitCommit: '',
    GoVersion: process.version,
    Os: process.platform,
    Arch: goArch(),
    BuildTime: buildTime(),
    Context: cli.options.context || 'default',
  };
  return {
    ...v,
    toJSON: () => ({
      Version: v.Version,
      ApiVersion: v.APIVersion,
      DefaultAPIVersion: v.DefaultAPIVersion,
      GoVersion: v.GoVersion,
      Os: v.Os,
      Arch: v.Arch,
      BuildTime: v.BuildTime,
      Context: v.Context,
    }),
  };
}

/** Makes the daemon's /version JSON usable with Go field names (.APIVersion) in templates. */
function serverData(sv: VersionResponse): Record<string, unknown> {
  const data: Record<string, unknown> = { ...sv };
  Object.defineProperty(data, 'APIVersion', { value: sv.ApiVersion, enumerable: false });
  return data;
}

function engineComponent(sv: VersionResponse): VersionResponse['Components'] {
  // Details is a Go map: its keys come out sorted in JSON.
  const sortKeys = (d: Record<string, string>) => Object.fromEntries(Object.keys(d).sort().map((k) => [k, d[k]]));
  const comps = (sv.Components ?? []).map((c) => ({ ...c, Details: sortKeys({ ...(c.Details ?? {}) }) }));
  const engine = comps.find((c) => c.Name === 'Engine');
  if (engine) {
    if (engine.Details.BuildTime) engine.Details.BuildTime = reformatDate(engine.Details.BuildTime);
  } else {
    comps.push({
      Name: 'Engine',
      Version: sv.Version,
      Details: {
        ApiVersion: sv.ApiVersion,
        MinAPIVersion: sv.MinAPIVersion ?? '',
        GitCommit: sv.GitCommit,
        GoVersion: sv.GoVersion,
        Os: sv.Os,
        Arch: sv.Arch,
        BuildTime: reformatDate(sv.BuildTime ?? ''),
        Experimental: String(sv.Experimental ?? false),
      },
    });
  }
  return comps;
}

function defaultVersionText(client: Record<string, unknown>, sv: VersionResponse | undefined): string {
  const c = client as Record<string, string>;
  let s = 'Client:\n';
  s += ` Version:\t${c.Version}\n`;
  s += ` API version:\t${c.APIVersion}${c.APIVersion !== c.DefaultAPIVersion ? ` (downgraded from ${c.DefaultAPIVersion})` : ''}\n`;
  s += ` Node version:\t${c.GoVersion}\n`;
  s += ` Git commit:\t${c.GitCommit}\n`;
  s += ` Built:\t${c.BuildTime}\n`;
  s += ` OS/Arch:\t${c.Os}/${c.Arch}\n`;
  s += ` Context:\t${c.Context}`;
  if (sv) {
    s += `\n\nServer:${sv.Platform?.Name ? ` ${sv.Platform.Name}` : ''}`;
    for (const comp of sv.Components ?? []) {
      const d = comp.Details ?? {};
      s += `\n ${comp.Name}:`;
      if (comp.Name === 'Engine') {
        s += `\n  Version:\t${comp.Version}`;
        s += `\n  API version:\t${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`;
        s += `\n  Go version:\t${d.GoVersion ?? ''}`;
        s += `\n  Git commit:\t${d.GitCommit ?? ''}`;
        s += `\n  Built:\t${d.BuildTime ?? ''}`;
        s += `\n  OS/Arch:\t${d.Os ?? ''}/${d.Arch ?? ''}`;
        s += `\n  Experimental:\t${d.Experimental ?? ''}`;
      } else {
        s += `\n  Version:\t${comp.Version}`;
        for (const k of Object.keys(d).sort()) s += `\n  ${k}:\t${d[k]}`;
      }
    }
  }
  return s;
}

async function runVersion(cli: Cli, flags: FlagValues): Promise<number> {
  let format = flags.string('format');
  if (format === 'json') format = '{{json .}}';
  let render: ((d: unknown) => string) | undefined;
  if (format !== '') {
    try {
      render = compileTemplate(format);
    } catch (err) {
      throw new StatusError(`template parsing error: ${errorMessage(err)}`, 64);
    }
  }
  let sv: VersionResponse | undefined;
  let error: unknown;
  try {
    sv = await cli.client.version();
    sv = { ...sv, Components: engineComponent(sv) };
  } catch (err) {
    error = err;
  }
  const client = clientVersion(cli, cli.client.transport.apiVersion);
  const tw = new TabWriter(20, 1, 1, ' ');
  if (render) {
    try {
      tw.write(render({ Client: client, Server: sv ? serverData(sv) : null }));
    } catch (err) {
      error ??= new Error(`template: version: ${errorMessage(err)}`);
    }
  } else {
    tw.write(defaultVersionText(client, sv));
  }
  tw.write('\n');
  cli.out(tw.flush());
  if (error) throw new StatusError(errorMessage(error), 1);
  return 0;
}

export const versionCommand: CommandSpec = {
  name: 'version',
  use: 'version [OPTIONS]',
  short: 'Show the Docker version information',
  args: { kind: 'none' },
  topOrder: 10,
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
  run: runVersion,
};

// --- info ------------------------------------------------------------------------------------

type Info = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** fmt.Println-style value formatting for the values info prints. */
function v(x: unknown): string {
  if (x === undefined || x === null) return Array.isArray(x) ? '[]' : '';
  if (Array.isArray(x)) return `[${x.map(v).join(' ')}]`;
  return String(x);
}

function serverInfoText(info: Info, out: (s: string) => void, err: (s: string) => void, debug: boolean): string[] {
  const errs: string[] = [];
  const ln = (...parts: unknown[]) => out(parts.map((p) => (typeof p === 'string' ? p : v(p))).join(' ') + '\n');
  const nonEmpty = (label: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== '') ln(label, value);
  };
  ln(' Containers:', info.Containers ?? 0);
  ln('  Running:', info.ContainersRunning ?? 0);
  ln('  Paused:', info.ContainersPaused ?? 0);
  ln('  Stopped:', info.ContainersStopped ?? 0);
  ln(' Images:', info.Images ?? 0);
  nonEmpty(' Server Version:', info.ServerVersion);
  nonEmpty(' Storage Driver:', info.Driver);
  for (const pair of info.DriverStatus ?? []) out(`  ${pair[0]}: ${pair[1]}\n`);
  for (const pair of info.SystemStatus ?? []) out(` ${pair[0]}: ${pair[1]}\n`);
  nonEmpty(' Logging Driver:', info.LoggingDriver);
  nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  nonEmpty(' Cgroup Version:', info.CgroupVersion);
  const plugins = info.Plugins ?? {};
  ln(' Plugins:');
  ln('  Volume:', (plugins.Volume ?? []).join(' '));
  ln('  Network:', (plugins.Network ?? []).join(' '));
  if ((plugins.Authorization ?? []).length > 0) ln('  Authorization:', plugins.Authorization.join(' '));
  ln('  Log:', (plugins.Log ?? []).join(' '));
  if ((info.CDISpecDirs ?? []).length > 0) {
    ln(' CDI spec directories:');
    for (const d of info.CDISpecDirs) out(`  ${d}\n`);
  }
  if ((info.DiscoveredDevices ?? []).length > 0) {
    ln(' Discovered Devices:');
    for (const d of info.DiscoveredDevices) out(`  ${d.Source}: ${d.ID}\n`);
  }
  const swarm = info.Swarm ?? {};
  ln(' Swarm:', swarm.LocalNodeState ?? '');
  if (swarm.LocalNodeState && swarm.LocalNodeState !== 'inactive' && swarm.LocalNodeState !== 'locked') {
    ln('  NodeID:', swarm.NodeID ?? '');
    if (swarm.Error) ln('  Error:', swarm.Error);
    ln('  Is Manager:', swarm.ControlAvailable ?? false);
    ln('  Node Address:', swarm.NodeAddr ?? '');
  }
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length > 0) {
    ln(' Runtimes:', runtimes.join(' '));
    ln(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    ln(' Init Binary:', info.InitBinary ?? '');
    ln(' containerd version:', info.ContainerdCommit?.ID ?? '');
    ln(' runc version:', info.RuncCommit?.ID ?? '');
    ln(' init version:', info.InitCommit?.ID ?? '');
    const secOpts: string[] = info.SecurityOptions ?? [];
    if (secOpts.length > 0) {
      ln(' Security Options:');
      for (const so of secOpts) {
        const kv = so.split(',').map((p) => p.split('='));
        const name = kv.find((p) => p[0] === 'name')?.[1];
        if (name === undefined) {
          errs.push('invalid security option');
          continue;
        }
        out(`  ${name}\n`);
        for (const [k, val] of kv) if (k === 'profile') ln('   Profile:', val);
      }
    }
  }
  if (info.OSType === 'windows') ln(' Default Isolation:', info.Isolation ?? '');
  nonEmpty(' Kernel Version:', info.KernelVersion);
  nonEmpty(' Operating System:', info.OperatingSystem);
  nonEmpty(' OSType:', info.OSType);
  nonEmpty(' Architecture:', info.Architecture);
  ln(' CPUs:', info.NCPU ?? 0);
  ln(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  nonEmpty(' Name:', info.Name);
  nonEmpty(' ID:', info.ID);
  ln(' Docker Root Dir:', info.DockerRootDir ?? '');
  ln(' Debug Mode:', info.Debug ?? false);
  if (info.Debug || debug) {
    ln('  File Descriptors:', info.NFd ?? 0);
    ln('  Goroutines:', info.NGoroutines ?? 0);
    ln('  System Time:', info.SystemTime ?? '');
    ln('  EventsListeners:', info.NEventsListener ?? 0);
  }
  nonEmpty(' HTTP Proxy:', info.HttpProxy);
  nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length > 0) {
    ln(' Labels:');
    for (const l of info.Labels) out(`  ${l}\n`);
  }
  ln(' Experimental:', info.ExperimentalBuild ?? false);
  const reg = info.RegistryConfig;
  const indexConfigs = Object.values(reg?.IndexConfigs ?? {}) as { Name: string; Secure: boolean }[];
  const cidrs: string[] = reg?.InsecureRegistryCIDRs ?? [];
  if (reg && (cidrs.length > 0 || indexConfigs.length > 0)) {
    ln(' Insecure Registries:');
    for (const ic of indexConfigs) if (!ic.Secure) out(`  ${ic.Name}\n`);
    for (const c of cidrs) out(`  ${c}\n`);
  }
  if ((reg?.Mirrors ?? []).length > 0) {
    ln(' Registry Mirrors:');
    for (const m of reg.Mirrors) out(`  ${m}\n`);
  }
  ln(' Live Restore Enabled:', info.LiveRestoreEnabled ?? false);
  if (info.ProductLicense) ln(' Product License:', info.ProductLicense);
  if ((info.DefaultAddressPools ?? []).length > 0) {
    ln(' Default Address Pools:');
    for (const p of info.DefaultAddressPools) out(`   Base: ${p.Base}, Size: ${p.Size}\n`);
  }
  out('\n');
  for (const w of info.Warnings ?? []) err(`${w}\n`);
  return errs;
}

async function runInfo(cli: Cli, flags: FlagValues): Promise<number> {
  const format = flags.string('format');
  const client = {
    Debug: cli.options.debug,
    Version: CLIENT_VERSION,
    Context: cli.options.context || 'default',
    GoVersion: process.version,
    Os: process.platform,
    Arch: goArch(),
    Plugins: [] as unknown[],
    Warnings: null,
  };
  let info: Info | undefined;
  const serverErrors: string[] = [];
  let connErr: unknown;
  try {
    info = (await cli.client.info()) as Info;
  } catch (err) {
    if (err instanceof ConnectionError) connErr = err;
    else {
      serverErrors.push(errorMessage(err));
      if (format !== '') cli.err(`${errorMessage(err)}\n`);
    }
  }
  if (format === '') {
    cli.out('Client:\n');
    cli.out(` Version:    ${client.Version}\n`);
    cli.out(` Context:    ${client.Context}\n`);
    cli.out(` Debug Mode: ${client.Debug}\n`);
    cli.out('\nServer:\n');
    if (info) serverErrors.push(...serverInfoText(info, (s) => cli.out(s), (s) => cli.err(s), cli.options.debug));
    for (const e of serverErrors) cli.err(`ERROR: ${e}\n`);
    const errs: string[] = [];
    if (serverErrors.length > 0) errs.push('errors pretty printing info');
    if (connErr) errs.push(errorMessage(connErr));
    if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
    return 0;
  }
  const data = { ...(info ?? {}), ...(serverErrors.length ? { ServerErrors: serverErrors } : {}), ClientInfo: client };
  if (connErr) throw new StatusError(errorMessage(connErr), 1);
  let render: (d: unknown) => string;
  try {
    render = compileTemplate(format === 'json' ? '{{json .}}' : format);
  } catch (err) {
    throw new StatusError(`template parsing error: ${errorMessage(err)}`, 64);
  }
  let text: string;
  try {
    text = render(data);
  } catch (err) {
    cli.out('\n');
    throw new StatusError(errorMessage(err), 1);
  }
  cli.out(text + '\n');
  return 0;
}

export const infoCommand: CommandSpec = {
  name: 'info',
  use: 'info [OPTIONS]',
  short: 'Display system-wide information',
  aliasPaths: ['system info', 'info'],
  args: { kind: 'none' },
  topOrder: 12,
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
  run: runInfo,
};

