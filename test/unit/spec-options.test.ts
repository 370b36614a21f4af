import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  capsToMask,
  containerCapabilities,
  normalizeCapabilities,
  setHostCapabilitiesForTest,
} from '../../src/engine/runtime/capabilities';
import { normalizeResources, parseCpuset, specResources, validateResources } from '../../src/engine/runtime/resources';
import { RLIM_INFINITY, setHostLimitsForTest, specRlimits, validateUlimits } from '../../src/engine/runtime/rlimits';
import { containerSeccomp, parseSecurityOpts, toSpecSeccomp } from '../../src/engine/runtime/seccomp';
import { defaultSeccompProfile } from '../../src/engine/runtime/seccomp-default';
import { buildSpec, execProcessSecurity, mergeTmpfsOptions, resolveGroupAdd, specJson, type SpecInputs } from '../../src/engine/runtime/spec';
import { checkRunOptions } from '../../src/engine/containers/run-options';
import { devMajor, devMinor, validateDeviceMappings } from '../../src/engine/runtime/devices';
import { freshState, type ContainerRecord } from '../../src/engine/containers/types';

const HOST_CAPS = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
setHostCapabilitiesForTest(HOST_CAPS);
after(() => {
  setHostCapabilitiesForTest(undefined);
  setHostLimitsForTest(undefined);
});

test('capabilities: normalisation, ALL, drops and the host bounding set', () => {
  assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_CHOWN', 'all'], 'CapAdd'), ['CAP_NET_ADMIN', 'CAP_CHOWN', 'ALL']);
  assert.throws(() => normalizeCapabilities(['foo'], 'CapAdd'), /^Error: invalid CapAdd: unknown capability: "CAP_FOO"$|invalid CapAdd: unknown capability: "CAP_FOO"/);
  assert.throws(() => normalizeCapabilities(['SYS_RESOURCE'], 'CapAdd'), /capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"/);
  // Dropping a capability the host lacks is fine.
  assert.deepEqual(normalizeCapabilities(['SYS_RESOURCE'], 'CapDrop'), ['CAP_SYS_RESOURCE']);
  assert.equal(capsToMask(containerCapabilities([], [], false)), '00000000a80425fb');
  assert.deepEqual(containerCapabilities([], ['ALL'], false), []);
  assert.deepEqual(containerCapabilities(['CAP_CHOWN'], ['ALL'], false), ['CAP_CHOWN']);
  assert.deepEqual(containerCapabilities(['ALL'], ['CAP_CHOWN'], false), HOST_CAPS.filter((c) => c !== 'CAP_CHOWN'));
  assert.deepEqual(containerCapabilities([], [], true), HOST_CAPS);
  assert.ok(!containerCapabilities(['CAP_NET_ADMIN'], ['CAP_KILL'], false).includes('CAP_KILL'));
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
});

test('resources: moby\'s validation texts and the cgroup values', () => {
  const err = (r: object) => {
    try {
      validateResources(r);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(err({ Memory: 1024 }), 'Minimum memory limit allowed is 6MB');
  assert.equal(err({ Memory: 10 << 20, MemorySwap: 5 << 20 }), 'Minimum memoryswap limit should be larger than memory limit, see usage');
  assert.equal(err({ MemorySwap: 50 << 20 }), 'You should always set the Memory limit when using Memoryswap limit, see usage');
  assert.equal(err({ MemorySwappiness: 101 }), 'Invalid value: 101, valid memory swappiness range is 0-100');
  assert.equal(err({ NanoCpus: 1e9, CpuQuota: 50000 }), 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  assert.equal(err({ CpuPeriod: 10 }), 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  assert.equal(err({ CpuRealtimeRuntime: 1000 }), 'CPU real-time scheduling (--cpu-rt-period/--cpu-rt-runtime) is not supported by this engine');
  assert.equal(err({ CpusetCpus: '0-x' }), 'Invalid value 0-x for cpuset cpus: invalid format: 0-x');
  if (fs.existsSync('/sys/fs/cgroup/blkio/blkio.weight')) assert.equal(err({ BlkioWeight: 5 }), 'Range of blkio weight is from 10 to 1000');
  else if (!fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const r = { BlkioWeight: 500 };
    assert.deepEqual(validateResources(r), ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
    assert.equal(r.BlkioWeight, 0);
  }
  assert.deepEqual(validateResources({ OomKillDisable: true }), [
    'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
  ]);
  assert.deepEqual([...parseCpuset('0-2,5')!], [0, 1, 2, 5]);
  assert.deepEqual(normalizeResources({ Memory: 100 }), { Memory: 100, MemorySwap: 200, OomKillDisable: false, MemorySwappiness: null, PidsLimit: null });
  assert.deepEqual(specResources({ Memory: 64 << 20, NanoCpus: 1.5e9, CpuShares: 512, PidsLimit: 0, BlkioWeight: 500 }), {
    memory: { limit: 64 << 20, swap: 128 << 20 },
    cpu: { shares: 512, period: 100000, quota: 150000 },
    pids: { limit: -1 },
  });
  assert.deepEqual(specResources({ Memory: 64 << 20, MemorySwap: -1, OomKillDisable: true }).memory, { limit: 64 << 20, swap: -1, disableOOMKiller: true });
  assert.deepEqual(specResources({}), {});
});

test('ulimits: names, soft ≤ hard, host hard limits, RLIM_INFINITY in config.json', () => {
  setHostLimitsForTest(new Map([['nofile', 20000], ['core', Infinity]]));
  assert.deepEqual(validateUlimits([{ Name: 'nofile', Soft: 100, Hard: 200 }]), [{ Name: 'nofile', Soft: 100, Hard: 200 }]);
  assert.throws(() => validateUlimits([{ Name: 'bogus', Soft: 1, Hard: 1 }]), /^EngineError: invalid ulimit type: bogus$/);
  assert.throws(() => validateUlimits([{ Name: 'nofile', Soft: 300, Hard: 200 }]), /ulimit soft limit must be less than or equal to hard limit: 300 > 200/);
  assert.throws(() => validateUlimits([{ Name: 'nofile', Soft: 30000, Hard: 30000 }]), /above this host's hard limit for nofile \(20000\)/);
  assert.throws(() => validateUlimits([{ Name: 'nofile', Soft: -1, Hard: -1 }]), /above this host's hard limit/);
  assert.equal(validateUlimits([{ Name: 'core', Soft: -1, Hard: -1 }]).length, 1);
  const rl = specRlimits([{ Name: 'core', Soft: -1, Hard: -1 }]);
  assert.deepEqual(rl, [{ type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY }]);
  assert.equal(specJson({ rlimits: rl }), '{"rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615}]}');
  setHostLimitsForTest(undefined);
});

test('seccomp: the default profile has Docker\'s semantics, resolved per capability set', () => {
  const names = (s: ReturnType<typeof toSpecSeccomp>, action = 'SCMP_ACT_ALLOW') =>
    new Set(s.syscalls.filter((r) => r.action === action && !r.args).flatMap((r) => r.names));
  const plain = toSpecSeccomp(defaultSeccompProfile(), DEFAULT_CAPABILITIES);
  assert.equal(plain.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(plain.defaultErrnoRet, 1);
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = names(plain);
  for (const n of ['read', 'write', 'openat', 'execve', 'ptrace', 'chroot', 'arch_prctl', 'statx', 'faccessat2']) assert.ok(allowed.has(n), n);
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'kexec_load', 'reboot', 'bpf', 'io_uring_setup', 'clone', 'clone3', 'personality', 'socket']) {
    assert.ok(!allowed.has(n), n);
  }
  const clone = plain.syscalls.find((r) => r.names.includes('clone'))!;
  assert.deepEqual(clone.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.deepEqual(plain.syscalls.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  assert.equal(plain.syscalls.filter((r) => r.names.includes('personality')).length, 5);
  // socket: every family but AF_ALG (38) and AF_VSOCK (40).
  assert.deepEqual(plain.syscalls.filter((r) => r.names.includes('socket')).map((r) => r.args![0]), [
    { index: 0, value: 38, valueTwo: 0, op: 'SCMP_CMP_LT' },
    { index: 0, value: 39, valueTwo: 0, op: 'SCMP_CMP_EQ' },
    { index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_GT' },
  ]);

  const admin = toSpecSeccomp(defaultSeccompProfile(), [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  const adminAllowed = names(admin);
  for (const n of ['mount', 'unshare', 'setns', 'clone', 'clone3']) assert.ok(adminAllowed.has(n), n);
  assert.equal(admin.syscalls.find((r) => r.action === 'SCMP_ACT_ERRNO'), undefined);
  const noChroot = names(toSpecSeccomp(defaultSeccompProfile(), ['CAP_CHOWN']));
  assert.ok(!noChroot.has('chroot'));

  assert.equal(containerSeccomp({ noNewPrivileges: false, seccomp: 'unconfined' }, [], false), undefined);
  assert.equal(containerSeccomp({ noNewPrivileges: false }, [], true), undefined);
  const custom = containerSeccomp(
    { noNewPrivileges: false, seccomp: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_CHOWN'] } }] }) },
    ['CAP_CHOWN'],
    true,
  )!;
  assert.deepEqual(custom, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
});

test('security options: moby\'s parsing and texts', () => {
  assert.deepEqual(parseSecurityOpts(['no-new-privileges']), { noNewPrivileges: true });
  assert.deepEqual(parseSecurityOpts(['no-new-privileges=false', 'seccomp=unconfined', 'apparmor=unconfined', 'label=disable']), { noNewPrivileges: false, seccomp: 'unconfined' });
  assert.deepEqual(parseSecurityOpts(['no-new-privileges:true']), { noNewPrivileges: true });
  assert.throws(() => parseSecurityOpts(['foo']), /invalid --security-opt 1: "foo"/);
  assert.throws(() => parseSecurityOpts(['foo=bar']), /invalid --security-opt 2: "foo=bar"/);
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /invalid --security-opt 2: "no-new-privileges=maybe"/);
  assert.throws(() => parseSecurityOpts(['seccomp={x']), /Decoding seccomp profile failed/);
});

test('tmpfs options, group-add, devices', () => {
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'size=2m', 'mode=700']), ['exec', 'nosuid', 'nodev', 'rprivate', 'size=2m', 'mode=700']);
  assert.deepEqual(resolveGroupAdd(['10', 'audio', 'nobody'], 'root:x:0:\naudio:x:29:\nnobody:x:65534:\n'), [10, 29, 65534]);
  assert.throws(() => resolveGroupAdd(['nosuch'], 'root:x:0:\n'), /Unable to find group nosuch: no matching entries in group file/);
  const null_ = fs.statSync('/dev/null');
  assert.deepEqual([devMajor(null_.rdev), devMinor(null_.rdev)], [1, 3]);
  assert.deepEqual(validateDeviceMappings([{ PathOnHost: '/dev/null', PathInContainer: '', CgroupPermissions: '' }]), [
    { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' },
  ]);
  assert.throws(() => validateDeviceMappings([{ PathOnHost: '/dev/null', PathInContainer: '/x', CgroupPermissions: 'rwx' }]), /bad mode specified: rwx/);
});

function record(hostConfig: Record<string, unknown>, config: Record<string, unknown> = {}): ContainerRecord {
  const run = checkRunOptions({ hostConfig });
  return {
    Id: 'a'.repeat(64),
    Name: '/t',
    Created: new Date().toISOString(),
    Path: 'sh',
    Args: ['-c', 'true'],
    Image: 'sha256:x',
    ImageRef: 'busybox',
    Config: { Hostname: 'aaaaaaaaaaaa', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: [], Cmd: null, Image: 'busybox', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {}, ...config },
    HostConfig: { AutoRemove: false, NetworkMode: 'default', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, ...run.hostConfig } as ContainerRecord['HostConfig'],
    State: freshState(),
    RestartCount: 0,
    ManuallyStopped: false,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const inputs = (c: ContainerRecord): SpecInputs => ({
  container: c,
  user: { uid: 0, gid: 0, additionalGids: [10], home: '/root' },
  rootfsOverlay: ['lowerdir=/l', 'upperdir=/u', 'workdir=/w'],
  etcFiles: { hosts: path.join(dir, c.Id, 'hosts'), hostname: path.join(dir, c.Id, 'hostname'), resolvConf: path.join(dir, c.Id, 'resolv.conf') },
  cgroupsPath: '/berth/x',
  readImageFile: (p) => (p === '/etc/group' ? 'root:x:0:\nwheel:x:10:root\nstaff:x:50:\n' : undefined),
});
type Spec = {
  process: { args: string[]; user: { additionalGids: number[] }; capabilities: { bounding: string[] }; rlimits?: unknown; noNewPrivileges: boolean };
  root: { readonly: boolean };
  hostname?: string;
  mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
  linux: { namespaces: Array<{ type: string; path?: string }>; resources: { devices: unknown[]; memory?: unknown }; sysctl?: Record<string, string>; seccomp?: unknown; maskedPaths: string[]; readonlyPaths: string[]; devices?: unknown[] };
};

test('buildSpec: defaults as Docker\'s bundles (no rlimits, seccomp on, masked paths, shm 64m)', () => {
  const s = buildSpec(inputs(record({}))) as Spec;
  assert.equal(s.process.rlimits, undefined);
  assert.ok(s.linux.seccomp);
  assert.equal(s.root.readonly, false);
  assert.deepEqual(s.process.user.additionalGids, [0, 10]);
  assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/dev/shm')!.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']);
  assert.equal(s.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], fs.existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start') ? '0' : undefined);
});

test('buildSpec: read-only, tmpfs, init, group-add, domainname, ipc none, uts/pid host, privileged', () => {
  const ro = buildSpec(inputs(record({ ReadonlyRootfs: true, Tmpfs: { '/run': 'size=1m', '/dev/shm': '' }, Init: true, GroupAdd: ['staff', '7'], IpcMode: 'none' }, { Domainname: 'example.com' }))) as Spec;
  assert.equal(ro.root.readonly, true);
  assert.ok(ro.mounts.find((m) => m.destination === '/etc/hosts')!.options.includes('ro'));
  assert.ok(!ro.mounts.find((m) => m.destination === '/proc')!.options.includes('ro'));
  assert.deepEqual(ro.mounts.find((m) => m.destination === '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m'] });
  assert.equal(ro.mounts.filter((m) => m.destination === '/dev/shm').length, 1); // the user's tmpfs replaces the default
  if (fs.existsSync('/usr/bin/catatonit')) {
    assert.deepEqual(ro.process.args, ['/sbin/docker-init', '--', 'sh', '-c', 'true']);
    assert.deepEqual(ro.mounts.find((m) => m.destination === '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/catatonit', options: ['bind', 'ro'] });
  }
  assert.deepEqual(ro.process.user.additionalGids, [0, 10, 50, 7]);
  assert.equal(ro.linux.sysctl?.['kernel.domainname'], 'example.com');

  const host = buildSpec(inputs(record({ UTSMode: 'host', PidMode: 'host', IpcMode: 'host', Init: true }))) as Spec;
  assert.deepEqual(host.linux.namespaces.map((n) => n.type), ['mount', 'network']);
  assert.equal(host.hostname, undefined);
  assert.deepEqual(host.process.args, ['sh', '-c', 'true']); // no init outside a private pid namespace
  assert.equal(host.mounts.find((m) => m.destination === '/dev/shm')!.source, '/dev/shm');

  const priv = buildSpec(inputs(record({ Privileged: true }))) as Spec;
  assert.deepEqual(priv.process.capabilities.bounding, HOST_CAPS);
  assert.deepEqual([priv.linux.maskedPaths, priv.linux.readonlyPaths, priv.linux.seccomp], [[], [], undefined]);
  assert.deepEqual(priv.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(!priv.mounts.find((m) => m.destination === '/sys')!.options.includes('ro'));
  assert.ok((priv.linux.devices ?? []).length > 0);
});

test('run options: stored HostConfig as moby keeps it, and create-time errors', () => {
  const hc = checkRunOptions({ hostConfig: { Memory: 100 << 20, CapAdd: ['net_admin'], LogConfig: { Type: '', Config: { 'max-size': '1m' } } } }).hostConfig;
  assert.deepEqual(
    [hc.MemorySwap, hc.CapAdd, hc.CapDrop, hc.IpcMode, hc.ShmSize, hc.OomKillDisable, hc.LogConfig],
    [200 << 20, ['CAP_NET_ADMIN'], null, 'private', 64 << 20, false, { Type: 'json-file', Config: { 'max-size': '1m' } }],
  );
  const err = (h: Record<string, unknown>, extra: object = {}) => {
    try {
      checkRunOptions({ hostConfig: h, ...extra });
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(err({ IpcMode: 'foo' }), 'invalid IPC mode: foo');
  assert.equal(err({ PidMode: 'foo' }), 'invalid PID mode: foo');
  assert.equal(err({ UTSMode: 'foo' }), 'invalid UTS mode: foo');
  assert.equal(err({ ShmSize: -1 }), 'SHM size can not be less than 0');
  assert.equal(err({ OomScoreAdj: 2000 }), 'Invalid value 2000, range for oom score adj is [-1000, 1000]');
  assert.equal(err({ Tmpfs: { rel: '' } }), "invalid mount path: 'rel' mount path must be absolute");
  assert.equal(err({ Sysctls: { 'kernel.panic': '1' } }), 'sysctl "kernel.panic" is not in a separate kernel namespace');
  assert.equal(err({ IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } }), 'sysctl "kernel.shmmax" not allowed in host IPC namespace');
  assert.equal(err({ LogConfig: { Type: 'json-file', Config: { 'max-file': 'x' } } }), 'strconv.Atoi: parsing "x": invalid syntax');
  assert.equal(err({ LogConfig: { Type: 'bogus', Config: {} } }), 'error looking up logging plugin bogus: plugin "bogus" not found');
  assert.equal(err({ LogConfig: { Type: 'none', Config: { 'max-size': '1m' } } }), 'invalid logging opts for driver none');
  assert.deepEqual(checkRunOptions({ hostConfig: { LogConfig: { Type: 'none', Config: {} } } }).hostConfig.LogConfig, { Type: 'none', Config: {} });
  assert.equal(err({}, { hostname: 'x'.repeat(65) }), `hostname "${'x'.repeat(65)}" is too long (maximum 64 bytes)`);
  assert.equal(err({}, { stopSignal: 'NOPE' }), 'Invalid signal: NOPE');
  assert.equal(err({ PidMode: 'container:gone' }, { lookupContainer: () => undefined }), 'No such container: gone');
  assert.equal(err({ Runtime: 'foo' }), 'unknown or invalid runtime name: foo');
  const stored = checkRunOptions({ hostConfig: { MemorySwappiness: -1, PidsLimit: 0 } }).hostConfig;
  assert.deepEqual([stored.MemorySwappiness, stored.PidsLimit, stored.Runtime], [null, null, 'runc']);
  assert.equal(err({ Annotations: { '': 'x' } }), 'invalid Annotations: the empty string is not permitted as an annotation key');
  const annotated = buildSpec(inputs(record({ Annotations: { 'org.example/a': 'b' } }))) as Spec & { annotations?: unknown };
  assert.deepEqual(annotated.annotations, { 'org.example/a': 'b' });
});

test('execProcessSecurity: an exec gets its container\'s capabilities, no-new-privileges, rlimits and --group-add', () => {
  setHostLimitsForTest(new Map([['nofile', 20000]]));
  const c = record({ CapDrop: ['ALL'], CapAdd: ['CHOWN'], SecurityOpt: ['no-new-privileges'], Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }], GroupAdd: ['staff'] });
  const user = { uid: 1000, gid: 1000, additionalGids: [], home: '/' };
  const sec = execProcessSecurity(c, false, user, () => 'staff:x:50:\n');
  assert.deepEqual(sec.capabilities.effective, ['CAP_CHOWN']);
  assert.equal(sec.noNewPrivileges, true);
  assert.deepEqual(sec.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }]);
  assert.deepEqual(sec.additionalGids, [1000, 50]);
  assert.deepEqual(execProcessSecurity(c, true, user, () => 'staff:x:50:\n').capabilities.bounding, HOST_CAPS);
  setHostLimitsForTest(undefined);
});
