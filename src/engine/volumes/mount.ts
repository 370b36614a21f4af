import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * mount(2) and umount2(2) on the host for local volumes with driver options, with moby/sys/mount's
 * semantics and error texts. Node has no binding for these syscalls and mount(8) rewrites both the
 * options and the errors, so the calls are made by a few lines of Perl (perl-base is essential on
 * Debian) that run the steps in order and report the errno of the first that fails.
 */

// Linux mount flags (the kernel's values).
const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_SYNCHRONOUS = 0x10;
const MS_REMOUNT = 0x20;
const MS_MANDLOCK = 0x40;
const MS_DIRSYNC = 0x80;
const MS_NOATIME = 0x400;
const MS_NODIRATIME = 0x800;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SILENT = 0x8000;
const MS_UNBINDABLE = 0x20000;
const MS_PRIVATE = 0x40000;
const MS_SLAVE = 0x80000;
const MS_SHARED = 0x100000;
const MS_RELATIME = 0x200000;
const MS_STRICTATIME = 0x1000000;
const MNT_DETACH = 0x2;

/** moby/sys/mount's option table: [clears the flag, flag]. */
const FLAGS: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [false, MS_RDONLY],
  rw: [true, MS_RDONLY],
  suid: [true, MS_NOSUID],
  nosuid: [false, MS_NOSUID],
  dev: [true, MS_NODEV],
  nodev: [false, MS_NODEV],
  exec: [true, MS_NOEXEC],
  noexec: [false, MS_NOEXEC],
  sync: [false, MS_SYNCHRONOUS],
  async: [true, MS_SYNCHRONOUS],
  dirsync: [false, MS_DIRSYNC],
  remount: [false, MS_REMOUNT],
  mand: [false, MS_MANDLOCK],
  nomand: [true, MS_MANDLOCK],
  atime: [true, MS_NOATIME],
  noatime: [false, MS_NOATIME],
  diratime: [true, MS_NODIRATIME],
  nodiratime: [false, MS_NODIRATIME],
  bind: [false, MS_BIND],
  rbind: [false, MS_BIND | MS_REC],
  unbindable: [false, MS_UNBINDABLE],
  runbindable: [false, MS_UNBINDABLE | MS_REC],
  private: [false, MS_PRIVATE],
  rprivate: [false, MS_PRIVATE | MS_REC],
  shared: [false, MS_SHARED],
  rshared: [false, MS_SHARED | MS_REC],
  slave: [false, MS_SLAVE],
  rslave: [false, MS_SLAVE | MS_REC],
  relatime: [false, MS_RELATIME],
  norelatime: [true, MS_RELATIME],
  strictatime: [false, MS_STRICTATIME],
  nostrictatime: [true, MS_STRICTATIME],
};

const PTYPES = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
const PFLAGS = PTYPES | MS_REC | MS_SILENT;
const BROFLAGS = MS_BIND | MS_RDONLY;

/** moby/sys/mount parseOptions: known words become flags, everything else is file system data. */
export function parseMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options.split(',')) {
    const f = FLAGS[o];
    if (f && f[1] !== 0) {
      if (f[0]) flags &= ~f[1];
      else flags |= f[1];
    } else data.push(o);
  }
  return { flags: flags >>> 0, data: data.join(',') };
}

type Step = { op: 'mount' | 'remount' | 'remount-ro'; source: string; target: string; type: string; flags: number; data: string } | { op: 'umount'; source: ''; target: string; flags: number; data: '' };

/** moby/sys/mount's mountError text: `mount SRC:DST, flags: 0x…, data: …: errno text`. */
function mountErrorText(step: Step, errText: string): string {
  let out = `${step.op} `;
  out += step.source !== '' ? `${step.source}:${step.target}` : step.target;
  if (step.flags !== 0) out += `, flags: 0x${step.flags.toString(16)}`;
  if (step.data !== '') out += `, data: ${step.data}`;
  return `${out}: ${errText}`;
}

/** Go's syscall.Errno text for an errno (glibc's strerror, lower-cased as Go's table has it). */
export function errnoText(errno: number, strerror: string): string {
  const go: Record<number, string> = { 11: 'resource temporarily unavailable', 95: 'operation not supported' };
  return go[errno] ?? (/^[A-Z][a-z]/.test(strerror) ? strerror[0]!.toLowerCase() + strerror.slice(1) : strerror);
}

const SYSCALLS: Record<string, [number, number]> = { x64: [165, 166], arm64: [40, 39], riscv64: [40, 39], s390x: [21, 52], ppc64: [21, 52] };

const PERL = `
my ($nm, $nu) = (shift @ARGV, shift @ARGV); my $i = 0;
while (@ARGV) {
  my $op = shift @ARGV; my $r;
  if ($op eq 'm') { my ($s, $t, $ty, $f, $d) = splice(@ARGV, 0, 5); $r = syscall($nm, $s, $t, $ty, $f + 0, length($d) ? $d : undef); }
  else { my ($t, $f) = splice(@ARGV, 0, 2); $r = syscall($nu, $t, $f + 0); }
  if ($r != 0) { my $e = $! + 0; print "$i $e $!\\n"; exit 1; }
  $i++;
}`;

export class MountError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

/** Runs the steps in order; rejects with moby's error text for the first that fails. */
function runSteps(steps: Step[]): Promise<void> {
  const nr = SYSCALLS[process.arch];
  if (!nr) return Promise.reject(new Error(`mount: unsupported architecture ${process.arch}`));
  const args = ['-e', PERL, String(nr[0]), String(nr[1])];
  for (const s of steps) {
    if (s.op === 'umount') args.push('u', s.target, String(s.flags));
    else args.push('m', s.source, s.target, s.type, String(s.flags), s.data);
  }
  return new Promise((resolve, reject) => {
    const p = spawn('perl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) return resolve();
      const m = /^(\d+) (\d+) (.*)$/m.exec(out);
      if (!m) return reject(new Error(`mount helper failed: ${err.trim() || `exit ${code}`}`));
      const step = steps[Number(m[1])]!;
      const errno = Number(m[2]);
      reject(new MountError(mountErrorText(step, errnoText(errno, m[3]!)), errno));
    });
  });
}

/** moby/sys/mount.Mount(device, target, type, options). */
export function mount(device: string, target: string, type: string, options: string): Promise<void> {
  const { flags, data } = parseMountOptions(options);
  const steps: Step[] = [];
  const oflags = (flags & ~PTYPES) >>> 0;
  const isRemount = (flags & MS_REMOUNT) !== 0 || device === '' || device === 'none';
  if (!isRemount || data !== '') steps.push({ op: 'mount', source: device, target, type, flags: oflags, data });
  if ((flags & PTYPES) !== 0) steps.push({ op: 'remount', source: '', target, type: '', flags: (flags & PFLAGS) >>> 0, data: '' });
  if ((oflags & BROFLAGS) === BROFLAGS) steps.push({ op: 'remount-ro', source: '', target, type: '', flags: (oflags | MS_REMOUNT) >>> 0, data: '' });
  return steps.length ? runSteps(steps) : Promise.resolve();
}

/** moby/sys/mount.Unmount: a lazy unmount; "not mounted" (EINVAL) is no error. */
export async function unmount(target: string): Promise<void> {
  try {
    await runSteps([{ op: 'umount', source: '', target, flags: MNT_DETACH, data: '' }]);
  } catch (err) {
    if (err instanceof MountError && err.errno === 22) return;
    throw err;
  }
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of this process's mount namespace. */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.add(unescapeMountPath(f[4]!));
  }
  return out;
}
