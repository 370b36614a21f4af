import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError, invalidParameter } from '../../util/errors';

/** HostConfig.Devices entry as the Engine API names it. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface SpecDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access: string;
}

/** Docker's default device cgroup rules: deny all, then the standard character devices. */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // fuse
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
];

/** Linux dev_t split (glibc's gnu_dev_major/minor). */
export function devMajor(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
export function devMinor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

function deviceOf(st: fs.Stats, inContainer: string): SpecDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return { path: inContainer, type, major: devMajor(st.rdev), minor: devMinor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Checks a device mapping's permissions (`r`, `w`, `m` in any combination), as the docker CLI does. */
export function validateDeviceMappings(list: unknown): DeviceMapping[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.Devices of type []container.DeviceMapping');
  return (list as Array<Partial<DeviceMapping>>).map((d) => {
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) throw invalidParameter(`bad mode specified: ${perms}`);
    const host = String(d.PathOnHost ?? '');
    if (!host) throw invalidParameter('invalid device specification: empty PathOnHost');
    const inContainer = d.PathInContainer || host;
    if (!path.isAbsolute(inContainer)) throw invalidParameter(`bad format for path: ${inContainer}`);
    return { PathOnHost: host, PathInContainer: inContainer, CgroupPermissions: perms };
  });
}

/**
 * Devices for one --device mapping, read from the host at start (as Docker does): a device node, or
 * every device under a directory. Errors carry Docker's text.
 */
export function devicesFromPath(m: DeviceMapping): { devices: SpecDevice[]; rules: DeviceRule[] } {
  const fail = (why: string) => new EngineError(400, `error gathering device information while adding custom device "${m.PathOnHost}": ${why}`);
  let resolved: string;
  let st: fs.Stats;
  try {
    resolved = fs.realpathSync(m.PathOnHost);
    st = fs.statSync(resolved);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'no such file or directory' : (err as Error).message);
  }
  const devices: SpecDevice[] = [];
  const one = deviceOf(st, m.PathInContainer);
  if (one) devices.push(one);
  else if (st.isDirectory()) {
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isCharacterDevice() || e.isBlockDevice()) {
          const d = deviceOf(fs.statSync(p), path.join(m.PathInContainer, path.relative(resolved, p)));
          if (d) devices.push(d);
        }
      }
    };
    walk(resolved);
  } else throw fail('not a device node');
  const rules = devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: m.CgroupPermissions }));
  return { devices, rules };
}

const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every device node under the host's /dev, for --privileged (runc makes /dev/console itself). */
export function hostDevices(root = '/dev'): SpecDevice[] {
  const out: SpecDevice[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if ((e.isCharacterDevice() || e.isBlockDevice()) && p !== '/dev/console') {
        try {
          const d = deviceOf(fs.statSync(p), p);
          if (d && d.major !== 0) out.push(d);
        } catch {
          /* vanished */
        }
      }
    }
  };
  walk(root);
  return out;
}

/** `--device-cgroup-rule` entries (`c 1:3 mr`, `b *:* rwm`) as device cgroup rules; moby's text for a bad one. */
export function deviceCgroupRules(rules: unknown): DeviceRule[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.DeviceCgroupRules of type []string');
  return (rules as unknown[]).map((r) => {
    const m = typeof r === 'string' ? /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(r) : null;
    if (!m) throw invalidParameter(`invalid device cgroup rule format: '${String(r)}'`);
    return {
      allow: true,
      type: m[1]!,
      ...(m[2] === '*' ? {} : { major: Number(m[2]) }),
      ...(m[3] === '*' ? {} : { minor: Number(m[3]) }),
      access: m[4]!,
    };
  });
}
