import * as fs from 'node:fs';
import { invalidParameter } from '../../util/errors';

/** Linux capabilities by number (capability.h), as far as the runtimes know them. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default capability set. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Parses a hex capability mask (as /proc/<pid>/status shows it) into names. */
export function capsFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** The mask of a set of capabilities, as the kernel prints it (16 hex digits). */
export function capsToMask(caps: string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const i = ALL_CAPABILITIES.indexOf(c);
    if (i >= 0) mask |= 1n << BigInt(i);
  }
  return mask.toString(16).padStart(16, '0');
}

let hostCaps: string[] | undefined;

/**
 * The capabilities this engine can hand to containers: the daemon's bounding set (read once). A runtime
 * asked for anything outside it fails ("unable to apply caps"), so requests are checked against it.
 */
export function hostCapabilities(): string[] {
  if (!hostCaps) {
    try {
      const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      hostCaps = m ? capsFromMask(m[1]!) : [...ALL_CAPABILITIES];
    } catch {
      hostCaps = [...ALL_CAPABILITIES];
    }
  }
  return hostCaps;
}

/** For tests: pretend the bounding set is `caps`. */
export function setHostCapabilitiesForTest(caps: string[] | undefined): void {
  hostCaps = caps;
}

/**
 * Upper-cases, adds the CAP_ prefix and checks each name, as moby does for CapAdd/CapDrop; `ALL` stays.
 * Names the host cannot grant get moby's "not available" error rather than a runtime failure at start.
 */
export function normalizeCapabilities(list: unknown, field: 'CapAdd' | 'CapDrop'): string[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'string')) {
    throw invalidParameter(`json: cannot unmarshal ${typeof list} into Go struct field HostConfig.${field} of type strslice.StrSlice`);
  }
  const out: string[] = [];
  const host = hostCapabilities();
  for (const raw of list as string[]) {
    let c = raw.toUpperCase();
    if (c === 'ALL') {
      out.push(c);
      continue;
    }
    if (!c.startsWith('CAP_')) c = `CAP_${c}`;
    if (!ALL_CAPABILITIES.includes(c)) throw invalidParameter(`invalid ${field}: unknown capability: "${c}"`);
    if (field === 'CapAdd' && !host.includes(c)) {
      throw invalidParameter(
        `invalid ${field}: capability not supported by your kernel or not available in the current environment: "${c}"`,
      );
    }
    out.push(c);
  }
  return out;
}

/** The container's capability set: Docker's defaults tweaked by CapAdd/CapDrop, or everything for privileged. */
export function containerCapabilities(capAdd: string[], capDrop: string[], privileged: boolean): string[] {
  const host = hostCapabilities();
  let caps: string[];
  if (privileged || capAdd.includes('ALL')) caps = host.filter((c) => privileged || !capDrop.includes(c));
  else if (capDrop.includes('ALL')) caps = [...new Set(capAdd)];
  else caps = [...new Set([...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd])];
  // Never hand the runtime a capability outside the bounding set: it would fail the create.
  return caps.filter((c) => host.includes(c));
}
