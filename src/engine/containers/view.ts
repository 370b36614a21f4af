import { humanDuration } from '../../util/human';
import { mountsView } from './mounts';
import type { ContainerRecord } from './types';

function healthSuffix(c: ContainerRecord): string {
  const h = c.State.Health;
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

/** `Status` text of GET /containers/json, as Docker words it. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  if (s.Status === 'running') return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${healthSuffix(c)}`;
  if (s.Status === 'paused') return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  return 'Created';
}

export interface ContainerPaths {
  resolvConf: string;
  hostname: string;
  hosts: string;
  log: string;
  lowerDir: string;
  upperDir: string;
  workDir: string;
  mergedDir: string;
}

/** GET /containers/{id}/json. */
export function inspectView(c: ContainerRecord, p: ContainerPaths, net: { NetworkSettings: Record<string, unknown> }): object {
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: c.State,
    Image: c.Image,
    ResolvConfPath: p.resolvConf,
    HostnamePath: p.hostname,
    HostsPath: p.hosts,
    LogPath: p.log,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.HostConfig,
    GraphDriver: {
      Data: { LowerDir: p.lowerDir, MergedDir: p.mergedDir, UpperDir: p.upperDir, WorkDir: p.workDir },
      Name: 'overlay2',
    },
    Mounts: mountsView(c),
    Config: c.Config,
    NetworkSettings: net.NetworkSettings,
  };
}

/** The Command column: Path and Args, with arguments that contain spaces in single quotes, as moby shows it. */
export function commandText(c: ContainerRecord): string {
  return [c.Path, ...c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}

/** One item of GET /containers/json. */
export function summaryView(c: ContainerRecord, net: { NetworkSettings: Record<string, unknown>; Ports: object[] }, now = Date.now()): object {
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: c.ImageRef,
    ImageID: c.Image,
    Command: commandText(c),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: net.Ports,
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusText(c, now),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: net.NetworkSettings.Networks ?? {} },
    Mounts: mountsView(c),
  };
}
