/** `network create|connect|disconnect|inspect|ls|prune|rm` and `port` (docker/cli cli/command/network, container/port.go). */
import { encodeFilters } from '../../client/client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { renderFormatted, headerContext } from '../format/table';
import { FILTER_FLAG, FORMAT_HELP, INSPECT_FORMAT_HELP, toFilters } from '../opts';
import { inspectAndPrint } from './inspect';
import { PRUNE_FILTER_FLAG, pruneFilters, confirmAndPrune } from './lifecycle';

interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels: Record<string, string> | null;
  Created: string;
}

const DEFAULT_NETWORK_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

function parseOpts(values: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new StatusError(`invalid argument "${v}" for "--${what}" flag: bad format for ${what}: ${v}`, 125);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

async function runCreate(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const subnets = flags.list('subnet');
  const ranges = flags.list('ip-range');
  const gateways = flags.list('gateway');
  if (ranges.length > subnets.length || gateways.length > subnets.length) {
    throw new StatusError('no matching subnet for range or gateway', 1);
  }
  const config = subnets.map((s, i) => ({ Subnet: s, ...(ranges[i] ? { IPRange: ranges[i] } : {}), ...(gateways[i] ? { Gateway: gateways[i] } : {}) }));
  const body = {
    Name: args[0],
    Driver: flags.string('driver') || 'bridge',
    Internal: flags.bool('internal'),
    Attachable: flags.bool('attachable'),
    EnableIPv6: flags.bool('ipv6') || undefined,
    IPAM: { Driver: flags.string('ipam-driver') || 'default', Config: config, Options: parseOpts(flags.list('ipam-opt'), 'ipam-opt') },
    Options: parseOpts(flags.list('opt'), 'opt'),
    Labels: parseOpts(flags.list('label').map((l) => (l.includes('=') ? l : `${l}=`)), 'label'),
  };
  const res = await cli.client.transport.json<{ Id: string }>({ method: 'POST', path: '/networks/create', json: body });
  cli.out(`${res.Id}\n`);
  return 0;
}

async function runLs(cli: Cli, flags: FlagValues): Promise<number> {
  const filters = toFilters(flags.list('filter'));
  const list = await cli.client.transport.json<NetworkSummary[]>({ method: 'GET', path: '/networks', query: { filters: encodeFilters(filters) } });
  list.sort((a, b) => a.Name.localeCompare(b.Name));
  const quiet = flags.bool('quiet');
  const trunc = !flags.bool('no-trunc');
  let format = flags.string('format');
  if (format === '' || format === 'table') format = quiet ? '{{.ID}}' : DEFAULT_NETWORK_FORMAT;
  else if (quiet) format = '{{.ID}}';
  const rows = list.map((n) => ({
    ID: trunc ? n.Id.slice(0, 12) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    CreatedAt: n.Created,
    Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    Label: (name: string) => n.Labels?.[name] ?? '',
  }));
  const header = headerContext({ ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED', Labels: 'LABELS' });
  cli.out(renderFormatted(format, rows, header));
  return 0;
}

async function runInspect(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  return inspectAndPrint(cli, args, flags.string('format'), (ref) => cli.client.rawGet(`/networks/${encodeURIComponent(ref)}`));
}

async function runRm(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const errs: string[] = [];
  for (const ref of args) {
    try {
      await cli.client.rawGet(`/networks/${encodeURIComponent(ref)}`);
      await cli.client.transport.noContent({ method: 'DELETE', path: `/networks/${encodeURIComponent(ref)}` });
      cli.out(`${ref}\n`);
    } catch (err) {
      if (flags.bool('force') && /not found/.test((err as Error).message)) continue;
      errs.push((err as Error).message);
    }
  }
  if (errs.length) throw new StatusError(errs.join('\n'), 1);
  return 0;
}

async function runPrune(cli: Cli, flags: FlagValues): Promise<number> {
  const filters = pruneFilters(cli, toFilters(flags.list('filter')));
  return confirmAndPrune(cli, flags, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?', async () => {
    const res = await cli.client.transport.json<{ NetworksDeleted: string[] | null }>({ method: 'POST', path: '/networks/prune', query: { filters: encodeFilters(filters) } });
    return { title: 'Deleted Networks', lines: res.NetworksDeleted ?? [] };
  });
}

async function runConnect(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const ip = flags.string('ip');
  const aliases = flags.list('alias');
  const endpoint = {
    ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}),
    ...(aliases.length ? { Aliases: aliases } : {}),
  };
  await cli.client.transport.noContent({ method: 'POST', path: `/networks/${encodeURIComponent(args[0]!)}/connect`, json: { Container: args[1], EndpointConfig: endpoint } });
  return 0;
}

async function runDisconnect(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  await cli.client.transport.noContent({ method: 'POST', path: `/networks/${encodeURIComponent(args[0]!)}/disconnect`, json: { Container: args[1], Force: flags.bool('force') } });
  return 0;
}

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`. */
async function runPort(cli: Cli, _flags: FlagValues, args: string[]): Promise<number> {
  const c = (await cli.client.containerInspect(args[0]!)) as unknown as { NetworkSettings?: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> } };
  const ports = c.NetworkSettings?.Ports ?? {};
  const fmt = (b: { HostIp: string; HostPort: string }) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
  if (args[1]) {
    let [port, proto = 'tcp'] = args[1].split('/');
    proto = proto.toLowerCase();
    const key = `${port}/${proto}`;
    const binds = ports[key];
    if (binds && binds.length) {
      cli.out(binds.map((b) => `${fmt(b)}\n`).join(''));
      return 0;
    }
    throw new StatusError(`Error: No public port '${key}' published for ${args[0]}`, 1);
  }
  const keys = Object.keys(ports).sort((a, b) => Number(a.split('/')[0]) - Number(b.split('/')[0]) || a.localeCompare(b));
  let out = '';
  for (const k of keys) for (const b of ports[k] ?? []) out += `${k} -> ${fmt(b)}\n`;
  cli.out(out);
  return 0;
}

export const portCommand: CommandSpec = {
  name: 'port',
  use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  aliasPaths: ['container port', 'port'],
  args: { kind: 'range', min: 1, max: 2 },
  run: runPort,
};

export const networkGroup: CommandSpec = {
  name: 'network',
  use: 'network',
  short: 'Manage networks',
  subcommands: [
    {
      name: 'connect',
      use: 'connect [OPTIONS] NETWORK CONTAINER',
      short: 'Connect a container to a network',
      args: { kind: 'exact', n: 2 },
      flags: [
        { name: 'alias', type: 'list', varName: 'strings', usage: 'Add network-scoped alias for the container' },
        { name: 'driver-opt', type: 'list', varName: 'strings', usage: 'driver options for the network' },
        { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
        { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
        { name: 'link', type: 'list', varName: 'list', usage: 'Add link to another container' },
        { name: 'link-local-ip', type: 'list', varName: 'strings', usage: 'Add a link-local address for the container' },
      ],
      run: runConnect,
    },
    {
      name: 'create',
      use: 'create [OPTIONS] NETWORK',
      short: 'Create a network',
      args: { kind: 'exact', n: 1 },
      flags: [
        { name: 'attachable', type: 'bool', usage: 'Enable manual container attachment' },
        { name: 'driver', short: 'd', type: 'string', usage: 'Driver to manage the Network', default: 'bridge' },
        { name: 'gateway', type: 'list', varName: 'strings', usage: 'IPv4 or IPv6 Gateway for the master subnet' },
        { name: 'internal', type: 'bool', usage: 'Restrict external access to the network' },
        { name: 'ip-range', type: 'list', varName: 'strings', usage: 'Allocate container ip from a sub-range' },
        { name: 'ipam-driver', type: 'string', usage: 'IP Address Management Driver', default: 'default' },
        { name: 'ipam-opt', type: 'list', varName: 'map', usage: 'Set IPAM driver specific options' },
        { name: 'ipv6', type: 'bool', usage: 'Enable or disable IPv6 networking' },
        { name: 'label', type: 'list', varName: 'list', usage: 'Set metadata on a network' },
        { name: 'opt', short: 'o', type: 'list', varName: 'map', usage: 'Set driver specific options' },
        { name: 'subnet', type: 'list', varName: 'strings', usage: 'Subnet in CIDR format that represents a network segment' },
      ],
      run: runCreate,
    },
    {
      name: 'disconnect',
      use: 'disconnect [OPTIONS] NETWORK CONTAINER',
      short: 'Disconnect a container from a network',
      args: { kind: 'exact', n: 2 },
      flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the container to disconnect from a network' }],
      run: runDisconnect,
    },
    {
      name: 'inspect',
      use: 'inspect [OPTIONS] NETWORK [NETWORK...]',
      short: 'Display detailed information on one or more networks',
      args: { kind: 'min', n: 1 },
      flags: [
        { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
        { name: 'verbose', short: 'v', type: 'bool', usage: 'Verbose output for diagnostics' },
      ],
      run: runInspect,
    },
    {
      name: 'ls',
      use: 'ls [OPTIONS]',
      short: 'List networks',
      aliases: ['list'],
      args: { kind: 'none' },
      flags: [
        { ...FILTER_FLAG, usage: "Provide filter values (e.g. 'driver=bridge')" },
        { name: 'format', type: 'string', usage: FORMAT_HELP },
        { name: 'no-trunc', type: 'bool', usage: 'Do not truncate the output' },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display network IDs' },
      ],
      run: runLs,
    },
    {
      name: 'prune',
      use: 'prune [OPTIONS]',
      short: 'Remove all unused networks',
      args: { kind: 'none' },
      flags: [PRUNE_FILTER_FLAG, { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' }],
      run: runPrune,
    },
    {
      name: 'rm',
      use: 'rm NETWORK [NETWORK...]',
      short: 'Remove one or more networks',
      aliases: ['remove'],
      args: { kind: 'min', n: 1 },
      flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not error if the network does not exist' }],
      run: runRm,
    },
  ],
};
