import { constants as osConstants } from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidParameter } from '../../util/errors';
import { normalizeCapabilities } from '../runtime/capabilities';
import { deviceCgroupRules, validateDeviceMappings } from '../runtime/devices';
import { logRotationFromConfig } from '../runtime/log-rotation';
import { DEFAULT_SHM_SIZE, normalizeResources, validateResources } from '../runtime/resources';
import { validateUlimits } from '../runtime/rlimits';
import { parseSecurityOpts } from '../runtime/seccomp';
import { MASKED_PATHS, READONLY_PATHS, type SpecHostConfig } from '../runtime/spec';
import type { ContainerRecord } from './types';

/**
 * Create-time checks of the `docker run` options that shape the runtime spec, with moby's error texts
 * (400), and the stored form of HostConfig as moby keeps it (normalised capabilities, MemorySwap, ShmSize,
 * IpcMode, masked paths…). Anything that would only fail later in the runtime is refused here.
 */

const MAX_HOSTNAME = 64;

/** Sysctls that live in a namespace the container owns: IPC ones, fs.mqueue, net (with its own netns), uts. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function validateSysctls(sysctls: unknown, hc: SpecHostConfig): Record<string, string> | undefined {
  if (sysctls === undefined || sysctls === null) return undefined;
  if (typeof sysctls !== 'object' || Array.isArray(sysctls)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.Sysctls of type map[string]string');
  const netMode = hc.NetworkMode ?? '';
  for (const key of Object.keys(sysctls)) {
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (hc.IpcMode === 'host') throw invalidParameter(`sysctl "${key}" not allowed in host IPC namespace`);
      continue;
    }
    if (key.startsWith('net.')) {
      if (netMode === 'host') throw invalidParameter(`sysctl "${key}" not allowed in host network namespace`);
      continue;
    }
    if (key === 'kernel.hostname' || key === 'kernel.domainname') {
      if (hc.UTSMode === 'host') throw invalidParameter(`sysctl "${key}" not allowed in host UTS namespace`);
      continue;
    }
    throw invalidParameter(`sysctl "${key}" is not in a separate kernel namespace`);
  }
  return sysctls as Record<string, string>;
}

function validMode(mode: string, allowed: string[]): boolean {
  if (allowed.includes(mode)) return true;
  return mode.startsWith('container:') && mode.length > 'container:'.length;
}

/** A signal name or number as moby's signal.ParseSignal accepts it. */
function checkSignal(sig: string): void {
  const s = sig.toUpperCase();
  if (/^[0-9]+$/.test(s)) {
    if (Number(s) === 0) throw invalidParameter(`Invalid signal: ${sig}`);
    return;
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  if (!(name in osConstants.signals) && !/^SIGRTM(IN|AX)([+-]\d+)?$/.test(name)) throw invalidParameter(`Invalid signal: ${sig}`);
}

export interface RunOptionsInput {
  hostConfig: Record<string, unknown>;
  hostname?: string;
  stopSignal?: string;
  workingDir?: string;
  env?: string[] | null;
  /** Finds another container by name or id (for --ipc/--pid container:NAME). */
  lookupContainer?: (ref: string) => ContainerRecord | undefined;
}

/** Validates and normalises the run options of a create body; returns the HostConfig fields to store and warnings. */
export function checkRunOptions(inp: RunOptionsInput): { hostConfig: Record<string, unknown>; warnings: string[] } {
  const hc = { ...inp.hostConfig } as SpecHostConfig & Record<string, unknown>;
  if (inp.hostname && inp.hostname.length > MAX_HOSTNAME) {
    throw invalidParameter(`hostname "${inp.hostname}" is too long (maximum ${MAX_HOSTNAME} bytes)`);
  }
  if (inp.stopSignal) checkSignal(inp.stopSignal);
  if (inp.workingDir && !inp.workingDir.startsWith('/')) {
    throw invalidParameter(`the working directory '${inp.workingDir}' is invalid, it needs to be an absolute path`);
  }
  for (const e of inp.env ?? []) if (typeof e === 'string' && e.split('=', 1)[0] === '') throw invalidParameter(`invalid environment variable: ${e}`);

  const warnings = validateResources(hc);
  Object.assign(hc, normalizeResources(hc));

  const capAdd = normalizeCapabilities(hc.CapAdd, 'CapAdd');
  const capDrop = normalizeCapabilities(hc.CapDrop, 'CapDrop');
  hc.CapAdd = capAdd.length ? capAdd : null;
  hc.CapDrop = capDrop.length ? capDrop : null;

  const ipc = hc.IpcMode ?? '';
  if (!validMode(ipc, ['', 'none', 'private', 'shareable', 'host'])) throw invalidParameter(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode ?? '';
  if (!validMode(pid, ['', 'host'])) throw invalidParameter(`invalid PID mode: ${pid}`);
  const uts = hc.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') throw invalidParameter(`invalid UTS mode: ${uts}`);
  if (uts === 'host' && inp.hostname) throw invalidParameter('conflicting options: hostname and the UTS mode');
  const cgns = (hc.CgroupnsMode as string | undefined) ?? '';
  if (!['', 'host', 'private'].includes(cgns)) throw invalidParameter(`invalid cgroup namespace mode: ${cgns}`);
  hc.IpcMode = ipc || 'private';
  hc.PidMode = pid;
  hc.UTSMode = uts;
  // Joined containers are stored by ID, as moby does, so a rename does not break the link.
  for (const key of ['IpcMode', 'PidMode'] as const) {
    const mode = hc[key] ?? '';
    if (!mode.startsWith('container:')) continue;
    const ref = mode.slice('container:'.length);
    const other = inp.lookupContainer?.(ref);
    if (inp.lookupContainer && !other) throw invalidParameter(`No such container: ${ref}`);
    if (other) hc[key] = `container:${other.Id}`;
  }
  // moby's default: a private cgroup namespace on cgroup v2 (privileged too), the host's on v1.
  hc.CgroupnsMode = cgns || (fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'private' : 'host');

  if (hc.ShmSize !== undefined && hc.ShmSize !== null && hc.ShmSize < 0) throw invalidParameter('SHM size can not be less than 0');
  if (!hc.ShmSize) hc.ShmSize = DEFAULT_SHM_SIZE;
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw invalidParameter(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  if (oom < 0) {
    throw invalidParameter(`invalid OomScoreAdj ${oom}: this host does not let the engine lower a process's OOM score (only 0 to 1000 work here)`);
  }

  for (const dest of Object.keys(hc.Tmpfs ?? {})) {
    if (!path.isAbsolute(dest)) throw invalidParameter(`invalid mount path: '${dest}' mount path must be absolute`);
    if (path.posix.normalize(dest) === '/') throw invalidParameter("invalid specification: destination can't be '/'");
  }
  deviceCgroupRules(hc.DeviceCgroupRules);
  const devices = validateDeviceMappings(hc.Devices);
  hc.Devices = devices.length ? devices : hc.Devices ?? [];
  const ulimits = validateUlimits(hc.Ulimits);
  hc.Ulimits = ulimits.length ? ulimits : hc.Ulimits ?? null;
  validateSysctls(hc.Sysctls, hc);
  parseSecurityOpts(hc.SecurityOpt); // moby's texts for bad options; a seccomp profile is parsed here too
  if (hc.GroupAdd !== undefined && hc.GroupAdd !== null && !Array.isArray(hc.GroupAdd)) {
    throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.GroupAdd of type []string');
  }
  // As moby stores them: the defaults, or null for a privileged container (which gets none).
  if (hc.MaskedPaths === undefined || hc.MaskedPaths === null) hc.MaskedPaths = hc.Privileged ? null : MASKED_PATHS;
  if (hc.ReadonlyPaths === undefined || hc.ReadonlyPaths === null) hc.ReadonlyPaths = hc.Privileged ? null : READONLY_PATHS;
  hc.Privileged = Boolean(hc.Privileged);
  if (!hc.Runtime) hc.Runtime = 'runc';
  if (hc.Runtime !== 'runc') throw invalidParameter(`unknown or invalid runtime name: ${String(hc.Runtime)}`);
  hc.ReadonlyRootfs = Boolean(hc.ReadonlyRootfs);

  for (const k of Object.keys((hc.Annotations as Record<string, string> | null) ?? {})) {
    if (k === '') throw invalidParameter('invalid Annotations: the empty string is not permitted as an annotation key');
  }
  const logConfig = (hc.LogConfig ?? {}) as { Type?: string; Config?: Record<string, string> | null };
  const logging = logRotationFromConfig(logConfig);
  // Stored under Docker's driver names (empty means json-file): clients such as docker-py read logs only
  // for json-file and journald; the bytes on disk are conmon's k8s-file format either way.
  hc.LogConfig = { Type: logging.driver ?? (logConfig.Type || 'json-file'), Config: { ...(logConfig.Config ?? {}) } };
  return { hostConfig: hc, warnings };
}
