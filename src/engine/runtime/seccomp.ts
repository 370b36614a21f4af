import * as os from 'node:os';
import { invalidParameter } from '../../util/errors';
import { defaultSeccompProfile } from './seccomp-default';

/** Docker's seccomp profile format (what `--security-opt seccomp=<file>` sends). */
export interface DockerSyscallArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}
export interface DockerSyscallFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}
export interface DockerSyscallRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: DockerSyscallArg[] | null;
  includes?: DockerSyscallFilter;
  excludes?: DockerSyscallFilter;
  comment?: string;
}
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }>;
  syscalls?: DockerSyscallRule[] | null;
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
}

/** linux.seccomp as the OCI runtime spec has it. */
export interface SpecSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: DockerSyscallArg[] }>;
}

/** Security options as moby parses HostConfig.SecurityOpt. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined: the default profile; 'unconfined'; or a profile's JSON text. */
  seccomp?: string;
}

/** Parses HostConfig.SecurityOpt with moby's rules and error texts; a seccomp profile is checked here, at create. */
export function parseSecurityOpts(list: unknown): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false };
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw invalidParameter('json: cannot unmarshal into Go struct field HostConfig.SecurityOpt of type []string');
  const bool = (v: string, opt: string) => {
    if (/^(1|t|T|true|TRUE|True)$/.test(v)) return true;
    if (/^(0|f|F|false|FALSE|False)$/.test(v)) return false;
    throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
  };
  for (const opt of list as string[]) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable' || opt === 'writable-cgroups') continue;
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw invalidParameter(`invalid --security-opt 1: "${opt}"`);
    const i = opt.indexOf(sep);
    const k = opt.slice(0, i);
    const v = opt.slice(i + 1);
    switch (k) {
      case 'label':
      case 'apparmor':
        break; // no SELinux or AppArmor on this kernel: accepted and ignored, as Docker does without them
      case 'seccomp':
        if (v === 'unconfined') out.seccomp = 'unconfined';
        else if (v === 'builtin' || v === '') out.seccomp = undefined;
        else {
          parseProfile(v);
          out.seccomp = v;
        }
        break;
      case 'no-new-privileges':
        out.noNewPrivileges = bool(v, opt);
        break;
      case 'writable-cgroups':
        bool(v, opt);
        break;
      default:
        throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

function parseProfile(text: string): DockerSeccompProfile {
  let p: DockerSeccompProfile;
  try {
    p = JSON.parse(text) as DockerSeccompProfile;
  } catch (err) {
    throw invalidParameter(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw invalidParameter('Decoding seccomp profile failed: not a JSON object');
  if (p.architectures?.length && p.archMap?.length) {
    throw invalidParameter("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const s of p.syscalls ?? []) {
    if (s.name && s.names?.length) throw invalidParameter("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
  }
  return p;
}

const ARCH_NAMES: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };
const SCMP_NATIVE: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM', s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', '386': 'SCMP_ARCH_X86' };

const goArch = ARCH_NAMES[process.arch] ?? process.arch;
const kernel = (() => {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
})();

function kernelAtLeast(v: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return true;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return kernel[0]! > a || (kernel[0] === a && kernel[1]! >= b);
}

/** Converts a Docker-format profile into linux.seccomp for a container holding `caps`, resolving includes/excludes. */
export function toSpecSeccomp(p: DockerSeccompProfile, caps: string[]): SpecSeccomp {
  const native = SCMP_NATIVE[goArch];
  let architectures: string[] = [];
  if (p.architectures?.length) architectures = p.architectures;
  else
    for (const a of p.archMap ?? []) {
      if (a.architecture === native) architectures = [a.architecture, ...(a.subArchitectures ?? [])];
    }
  const syscalls: SpecSeccomp['syscalls'] = [];
  for (const s of p.syscalls ?? []) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(goArch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) continue;
    if (exc.arches?.length && exc.arches.includes(goArch)) continue;
    if (exc.caps?.length && exc.caps.some((c) => caps.includes(c))) continue;
    const names = s.names?.length ? s.names : s.name ? [s.name] : [];
    if (!names.length) continue;
    syscalls.push({
      names: [...names],
      action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args?.length ? { args: s.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}),
    ...(p.flags?.length ? { flags: p.flags } : {}),
    ...(p.listenerPath ? { listenerPath: p.listenerPath } : {}),
    ...(p.listenerMetadata ? { listenerMetadata: p.listenerMetadata } : {}),
    syscalls,
  };
}

/** linux.seccomp for a container: none when unconfined or privileged (unless a profile was given), else a profile. */
export function containerSeccomp(sec: SecurityOptions, caps: string[], privileged: boolean): SpecSeccomp | undefined {
  if (sec.seccomp === 'unconfined') return undefined;
  if (sec.seccomp) return toSpecSeccomp(parseProfile(sec.seccomp), caps);
  if (privileged) return undefined;
  return toSpecSeccomp(defaultSeccompProfile(), caps);
}
