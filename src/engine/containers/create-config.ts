import * as path from 'node:path';
import { invalidParameter } from '../../util/errors';
import type { ImageConfigBody } from '../images/service';
import { validateRestartPolicy } from './restart-policy';
import { mergeHealthcheck, type HealthConfig } from './health';
import { checkRunOptions } from './run-options';
import { freshState, type ContainerConfig, type ContainerRecord, type HostConfig } from './types';

/** The body of POST /containers/create: Config fields at the top level plus HostConfig and NetworkingConfig. */
export interface CreateBody extends Partial<ContainerConfig> {
  HostConfig?: Partial<HostConfig>;
  NetworkingConfig?: unknown;
}

const asStringArray = (v: unknown, field: string): string[] | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalidParameter(`json: cannot unmarshal ${typeof v} into Go struct field Config.${field} of type strslice.StrSlice`);
};

/** Env merge as moby does it: the image's variables, overridden key by key by the container's. */
export function mergeEnv(imageEnv: string[] | null | undefined, userEnv: string[] | null | undefined): string[] {
  const out = [...(imageEnv ?? [])];
  for (const e of userEnv ?? []) {
    const key = e.split('=', 1)[0];
    const i = out.findIndex((x) => x.split('=', 1)[0] === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** Entrypoint/Cmd rules: a user Entrypoint drops the image's Cmd; `[""]` resets the Entrypoint. */
export function resolveCommand(
  img: ImageConfigBody,
  userEntrypoint: string[] | null,
  userCmd: string[] | null,
): { entrypoint: string[] | null; cmd: string[] | null; path: string; args: string[] } {
  let entrypoint = userEntrypoint;
  let cmd = userCmd;
  if (entrypoint === null) {
    entrypoint = img.Entrypoint ?? null;
    if (cmd === null || cmd.length === 0) cmd = img.Cmd ?? null;
  } else if (entrypoint.length === 1 && entrypoint[0] === '') {
    entrypoint = null;
  }
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw invalidParameter('no command specified');
  return { entrypoint, cmd, path: argv[0]!, args: argv.slice(1) };
}

export interface CreateInputs {
  id: string;
  name: string;
  body: CreateBody;
  imageId: string;
  imageRef: string;
  imageConfig: ImageConfigBody;
  /** Finds another container by name or id (for --ipc/--pid container:NAME). */
  lookupContainer?: (ref: string) => ContainerRecord | undefined;
  /** Receives create warnings (moby's texts), returned to the client. */
  warnings?: string[];
}

export function buildRecord(inp: CreateInputs): ContainerRecord {
  const b = inp.body;
  const img = inp.imageConfig;
  const cmd = resolveCommand(img, asStringArray(b.Entrypoint, 'Entrypoint'), asStringArray(b.Cmd, 'Cmd'));
  const hc = b.HostConfig ?? {};
  const run = checkRunOptions({
    hostConfig: hc,
    hostname: b.Hostname,
    stopSignal: b.StopSignal,
    workingDir: b.WorkingDir,
    env: asStringArray(b.Env, 'Env'),
    lookupContainer: inp.lookupContainer,
  });
  inp.warnings?.push(...run.warnings);
  const restart = validateRestartPolicy(hc.RestartPolicy, Boolean(hc.AutoRemove));
  const health = mergeHealthcheck(img.Healthcheck as HealthConfig | undefined, b.Healthcheck as HealthConfig | undefined);
  const config: ContainerConfig = {
    Hostname: b.Hostname || inp.id.slice(0, 12),
    Domainname: b.Domainname ?? '',
    User: b.User || img.User || '',
    AttachStdin: Boolean(b.AttachStdin),
    AttachStdout: Boolean(b.AttachStdout),
    AttachStderr: Boolean(b.AttachStderr),
    ...(b.ExposedPorts || img.ExposedPorts ? { ExposedPorts: { ...img.ExposedPorts, ...b.ExposedPorts } } : {}),
    Tty: Boolean(b.Tty),
    OpenStdin: Boolean(b.OpenStdin),
    StdinOnce: Boolean(b.StdinOnce),
    Env: mergeEnv(img.Env, asStringArray(b.Env, 'Env')),
    Cmd: cmd.cmd,
    Image: inp.imageRef,
    Volumes: img.Volumes && Object.keys(img.Volumes).length ? { ...img.Volumes, ...(b.Volumes ?? {}) } : b.Volumes ?? null,
    WorkingDir: b.WorkingDir ? path.posix.normalize(b.WorkingDir).replace(/(.)\/$/, '$1') : img.WorkingDir || '',
    Entrypoint: cmd.entrypoint,
    OnBuild: img.OnBuild ?? null,
    Labels: { ...(img.Labels ?? {}), ...(b.Labels ?? {}) },
    ...(health ? { Healthcheck: health } : {}),
    ...(b.StopSignal || img.StopSignal ? { StopSignal: b.StopSignal || img.StopSignal } : {}),
    ...(b.StopTimeout !== undefined && b.StopTimeout !== null ? { StopTimeout: b.StopTimeout } : {}),
  };
  const hostConfig: HostConfig = {
    ...run.hostConfig,
    AutoRemove: Boolean(hc.AutoRemove),
    NetworkMode: hc.NetworkMode || 'default',
    RestartPolicy: { Name: restart.Name || 'no', MaximumRetryCount: restart.MaximumRetryCount ?? 0 },
    LogConfig: run.hostConfig.LogConfig as HostConfig['LogConfig'],
    ...(hc.ConsoleSize ? { ConsoleSize: hc.ConsoleSize } : {}),
  };
  return {
    Id: inp.id,
    Name: `/${inp.name}`,
    Created: new Date().toISOString(),
    Path: cmd.path,
    Args: cmd.args,
    Image: inp.imageId,
    ImageRef: inp.imageRef,
    Config: config,
    HostConfig: hostConfig,
    State: freshState(),
    RestartCount: 0,
    ManuallyStopped: false,
    ...(b.NetworkingConfig ? { NetworkingConfig: structuredClone(b.NetworkingConfig) as ContainerRecord['NetworkingConfig'] } : {}),
  };
}
