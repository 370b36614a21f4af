import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon } from './harness';
import { ALL_CAPABILITIES, capsFromMask } from '../../src/engine/runtime/capabilities';

/** `docker run` options that shape the runtime spec, checked through the real docker CLI from inside the container. */

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const hostCapBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;

/** Runs `docker run --rm <args>` and returns stdout, failing the test on a non-zero exit. */
async function run(args: string[]): Promise<string> {
  const r = await d.docker(['run', '--rm', ...args]);
  assert.equal(r.code, 0, `docker run ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs a command that must fail with the docker CLI's daemon-error exit code and message. */
async function runFails(args: string[], message: string, code = 125): Promise<void> {
  const r = await d.docker(['run', '--rm', ...args]);
  assert.equal(r.code, code, r.stdout + r.stderr);
  assert.equal(r.stderr.split('\n')[0], `docker: Error response from daemon: ${message}`);
}

const status = (text: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text)?.[1];

test('capabilities: Docker\'s default set, --cap-add/--cap-drop with ALL and without the CAP_ prefix', async () => {
  const def = await run(['busybox', 'cat', '/proc/self/status']);
  assert.equal(status(def, 'CapEff'), '00000000a80425fb');
  assert.equal(status(def, 'CapBnd'), '00000000a80425fb');
  const none = await run(['--cap-drop', 'ALL', 'busybox', 'cat', '/proc/self/status']);
  assert.equal(status(none, 'CapEff'), '0000000000000000');
  const one = await run(['--cap-drop', 'all', '--cap-add', 'chown', 'busybox', 'cat', '/proc/self/status']);
  assert.equal(status(one, 'CapEff'), '0000000000000001');
  const tweaked = await run(['--cap-add', 'NET_ADMIN', '--cap-drop', 'cap_chown', 'busybox', 'cat', '/proc/self/status']);
  assert.deepEqual(capsFromMask(status(tweaked, 'CapEff')!).includes('CAP_NET_ADMIN'), true);
  assert.deepEqual(capsFromMask(status(tweaked, 'CapEff')!).includes('CAP_CHOWN'), false);
  // ALL means every capability this host can give, never one it would refuse.
  const all = await run(['--cap-add', 'ALL', 'busybox', 'cat', '/proc/self/status']);
  assert.equal(status(all, 'CapEff'), hostCapBnd);

  assert.equal((await d.docker(['create', '--name', 'capsx', '--cap-add', 'net_admin', '--cap-drop', 'chown', 'busybox'])).code, 0);
  const hc = JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig}}', 'capsx'])).stdout);
  assert.deepEqual(hc.CapAdd, ['CAP_NET_ADMIN']);
  assert.deepEqual(hc.CapDrop, ['CAP_CHOWN']);
  await d.docker(['rm', 'capsx']);
});

test('capabilities: unknown names and capabilities outside the host\'s bounding set get clear errors at create', async () => {
  await runFails(['--cap-add', 'FOO', 'busybox', 'true'], 'invalid CapAdd: unknown capability: "CAP_FOO"');
  await runFails(['--cap-drop', 'bar', 'busybox', 'true'], 'invalid CapDrop: unknown capability: "CAP_BAR"');
  const missing = ALL_CAPABILITIES.filter((c) => !capsFromMask(hostCapBnd).includes(c));
  if (missing.length) {
    await runFails(
      ['--cap-add', missing[0]!.slice(4), 'busybox', 'true'],
      `invalid CapAdd: capability not supported by your kernel or not available in the current environment: "${missing[0]}"`,
    );
  }
  assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
});

test('--privileged: every capability of the bounding set, host devices, rw /sys, no masked paths, no seccomp', async () => {
  const out = await run(['--privileged', 'busybox', 'sh', '-c', 'cat /proc/self/status; ls /dev; echo ---; mount']);
  assert.equal(status(out, 'CapEff'), hostCapBnd);
  assert.equal(status(out, 'Seccomp'), '0');
  const [, rest] = out.split(/^CapAmb.*$/m);
  const [devs, mounts] = rest!.split('---\n');
  for (const dev of ['fuse', 'loop0', 'kmsg']) if (fs.existsSync(`/dev/${dev}`)) assert.match(devs!, new RegExp(`^${dev}$`, 'm'));
  assert.match(mounts!, /^sysfs on \/sys type sysfs \(rw,/m);
  assert.doesNotMatch(mounts!, / on \/proc\/keys /);
  const plain = await run(['busybox', 'sh', '-c', 'ls /dev; echo ---; mount']);
  assert.doesNotMatch(plain.split('---')[0]!, /^loop0$/m);
  assert.match(plain, /^sysfs on \/sys type sysfs \(ro,/m);
  assert.match(plain, / on \/proc\/keys /);
  assert.match(plain, /^proc on \/proc\/sys type proc \(ro,/m);
  assert.equal((await d.docker(['create', '--name', 'privx', '--privileged', 'busybox'])).code, 0);
  assert.equal((await d.docker(['inspect', '-f', '{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}} {{.HostConfig.Privileged}}', 'privx'])).stdout, 'null null true\n');
  await d.docker(['rm', 'privx']);
});

test('seccomp: Docker-like default profile, unconfined, and a profile file; no-new-privileges', async () => {
  const def = await run(['busybox', 'sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; unshare -U true 2>&1; echo rc=$?']);
  assert.equal(status(def, 'Seccomp'), '2');
  assert.equal(status(def, 'NoNewPrivs'), '0');
  assert.match(def, /Operation not permitted/);
  assert.match(def, /rc=1/);
  // With CAP_SYS_ADMIN the namespace calls open up, as in Docker's profile.
  const admin = await run(['--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'unshare -u hostname changed && echo ok']);
  assert.equal(admin, 'ok\n');
  const unconfined = await run(['--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']);
  assert.equal(status(unconfined, 'Seccomp'), '0');
  // systempaths=unconfined: the CLI sends empty MaskedPaths/ReadonlyPaths, honoured as given.
  const sys = await d.docker(['run', '--rm', '--security-opt', 'systempaths=unconfined', 'busybox', 'mount']);
  assert.doesNotMatch(sys.stdout, / on \/proc\/(keys|sys) /);
  const nnp = await run(['--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']);
  assert.equal(status(nnp, 'NoNewPrivs'), '1');

  const profile = path.join(d.root, 'no-mkdir.json');
  fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  const r = await d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/x']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "mkdir: can't create directory '/x': Operation not permitted\n");

  const bad = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['seccomp={not json'] } });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /^Decoding seccomp profile failed: /);
  const opt = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['foo'] } });
  assert.deepEqual([opt.status, JSON.parse(opt.body).message], [400, 'invalid --security-opt 1: "foo"']);
  const opt2 = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['foo=bar'] } });
  assert.deepEqual([opt2.status, JSON.parse(opt2.body).message], [400, 'invalid --security-opt 2: "foo=bar"']);
});

test('resources: memory, swap, reservation, OOM killer, CPUs, shares, cpuset, pids in the cgroup files', async () => {
  const out = await run([
    '-m', '64m', '--memory-reservation', '32m', '--oom-kill-disable', '--cpus', '1.5', '--cpu-shares', '512', '--cpuset-cpus', '0',
    '--pids-limit', '50', 'busybox', 'sh', '-c',
    'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares cpuset/cpuset.cpus pids/pids.max; grep oom_kill_disable memory/memory.oom_control',
  ]);
  assert.deepEqual(out.trim().split('\n'), ['67108864', '134217728', '33554432', '150000', '100000', '512', '0', '50', 'oom_kill_disable 1']);
  const swap = await run(['-m', '32m', '--memory-swap', '-1', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes']);
  assert.ok(Number(swap) > 2 ** 40, swap);
  const quota = await run(['--cpu-period', '50000', '--cpu-quota', '25000', 'busybox', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/cpu/cpu.cfs_period_us']);
  assert.equal(quota, '25000\n50000\n');

  assert.equal(await run(['--memory-swappiness', '10', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.swappiness']), '10\n');
  if (fs.existsSync('/dev/loop0')) {
    const io = await run(['--device-read-bps', '/dev/loop0:1mb', '--device-write-iops', '/dev/loop0:100', 'busybox', 'cat',
      '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device', '/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device']);
    assert.equal(io, '7:0 1048576\n7:0 100\n');
  }
  if (!fs.existsSync('/sys/fs/cgroup/blkio/blkio.weight')) {
    const w = await d.docker(['run', '--rm', '--blkio-weight', '500', 'busybox', 'true']);
    assert.equal(w.code, 0);
    assert.equal(w.stderr, 'WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n');
  }

  assert.equal((await d.docker(['create', '--name', 'res', '-m', '100m', 'busybox'])).code, 0);
  const hc = JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig}}', 'res'])).stdout);
  assert.deepEqual([hc.Memory, hc.MemorySwap, hc.OomKillDisable, hc.ShmSize, hc.IpcMode], [104857600, 209715200, false, 67108864, 'private']);
  await d.docker(['rm', 'res']);
});

test('resources: Docker\'s errors for bad values', async () => {
  const ncpu = os.cpus().length;
  await runFails(['-m', '1m', 'busybox', 'true'], 'Minimum memory limit allowed is 6MB');
  await runFails(['-m', '10m', '--memory-swap', '5m', 'busybox', 'true'], 'Minimum memoryswap limit should be larger than memory limit, see usage');
  await runFails(['--memory-swap', '50m', 'busybox', 'true'], 'You should always set the Memory limit when using Memoryswap limit, see usage');
  await runFails(['--memory-reservation', '1m', 'busybox', 'true'], 'Minimum memory reservation allowed is 6MB');
  await runFails(['-m', '10m', '--memory-reservation', '20m', 'busybox', 'true'], 'Minimum memory limit can not be less than memory reservation limit, see usage');
  await runFails(['--cpus', String(ncpu + 3), 'busybox', 'true'], `range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  await runFails(['--cpus', '1', '--cpu-quota', '50000', 'busybox', 'true'], 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  await runFails(['--cpus', '1', '--cpu-period', '50000', 'busybox', 'true'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  await runFails(['--cpu-period', '100', 'busybox', 'true'], 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  await runFails(['--cpu-quota', '100', 'busybox', 'true'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  await runFails(['--cpuset-cpus', '64', 'busybox', 'true'], `Requested CPUs are not available - requested 64, available: ${fs.readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim()}`);
  await runFails(['--cpuset-cpus', 'abc', 'busybox', 'true'], 'Invalid value abc for cpuset cpus: invalid format: abc');
  await runFails(['--cpu-shares', '-5', 'busybox', 'true'], 'invalid CPU shares (-5): value must be a positive integer');
  await runFails(['--oom-score-adj', '-5', 'busybox', 'true'], "invalid OomScoreAdj -5: this host does not let the engine lower a process's OOM score (only 0 to 1000 work here)");
  const oom = await d.docker(['run', '--rm', '--oom-kill-disable', 'busybox', 'true']);
  assert.equal(oom.code, 0);
  assert.match(oom.stderr, /WARNING: OOM killer is disabled for the container, but no memory limit is set/);
  assert.equal(await run(['--oom-score-adj', '500', 'busybox', 'cat', '/proc/self/oom_score_adj']), '500\n');
  assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
});

test('--ulimit: applied within the host\'s hard limits, refused clearly above them; no rlimits by default', async () => {
  assert.equal(await run(['--ulimit', 'nofile=100:200', '--ulimit', 'core=-1', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -c']), '100\n200\nunlimited\n');
  const hostNofile = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))!;
  assert.equal(await run(['busybox', 'sh', '-c', 'ulimit -n']), `${hostNofile[1]}\n`);
  const over = Number(hostNofile[2]) + 1000;
  const caps = capsFromMask(/^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!);
  if (hostNofile[2] !== 'unlimited' && !caps.includes('CAP_SYS_RESOURCE')) {
    await runFails(
      ['--ulimit', `nofile=${over}:${over}`, 'busybox', 'true'],
      `invalid ulimit nofile=${over}:${over}: the hard limit is above this host's hard limit for nofile (${hostNofile[2]}), which the engine cannot raise`,
    );
  }
  const api = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 300, Hard: 200 }] } });
  assert.deepEqual([api.status, JSON.parse(api.body).message], [400, 'ulimit soft limit must be less than or equal to hard limit: 300 > 200']);
  const bad = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Ulimits: [{ Name: 'foo', Soft: 1, Hard: 1 }] } });
  assert.deepEqual([bad.status, JSON.parse(bad.body).message], [400, 'invalid ulimit type: foo']);
});

test('--sysctl: namespaced ones are set; others are refused at create', async () => {
  assert.equal(
    await run(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000000', '--sysctl', 'fs.mqueue.msg_max=20', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmax', '/proc/sys/fs/mqueue/msg_max']),
    '1\n1000000\n20\n',
  );
  // Docker's defaults for a private network namespace.
  assert.equal(await run(['busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']), '0\n');
  const create = (Sysctls: Record<string, string>, extra: object = {}) =>
    d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Sysctls, ...extra } });
  const vm = await create({ 'vm.swappiness': '1' });
  assert.deepEqual([vm.status, JSON.parse(vm.body).message], [400, 'sysctl "vm.swappiness" is not in a separate kernel namespace']);
  const hostNet = await create({ 'net.ipv4.ip_forward': '1' }, { NetworkMode: 'host' });
  assert.deepEqual([hostNet.status, JSON.parse(hostNet.body).message], [400, 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace']);
  // The docker CLI refuses non-namespaced sysctls itself.
  const cli = await d.docker(['run', '--rm', '--sysctl', 'vm.swappiness=1', 'busybox', 'true']);
  assert.equal(cli.code, 125);
  assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
});

test('--read-only and --tmpfs: read-only root and /etc files, writable tmpfs with the given options', async () => {
  const out = await run(['--read-only', '--tmpfs', '/run:size=1m,mode=700', '--tmpfs', '/scratch', 'busybox', 'sh', '-c',
    'touch /x 2>&1; touch /run/ok /scratch/ok /dev/shm/ok && echo writable; ls -ld /run; mount']);
  assert.match(out, /^touch: \/x: Read-only file system$/m);
  assert.match(out, /^writable$/m);
  assert.match(out, /^drwx------ /m);
  assert.match(out, /^overlay on \/ type overlay \(ro,/m);
  assert.match(out, /^\S+ on \/etc\/hosts type \S+ \(ro,/m);
  assert.match(out, /^tmpfs on \/run type tmpfs \(rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700\)$/m);
  assert.match(out, /^tmpfs on \/scratch type tmpfs \(rw,nosuid,nodev,noexec,relatime\)$/m);
  const rw = await run(['busybox', 'sh', '-c', 'touch /x && echo ok']);
  assert.equal(rw, 'ok\n');
  await runFails(['--tmpfs', 'relative', 'busybox', 'true'], "invalid mount path: 'relative' mount path must be absolute");
  await runFails(['--tmpfs', '/', 'busybox', 'true'], "invalid specification: destination can't be '/'");
});

test('--init: catatonit as pid 1, bind-mounted read-only at /sbin/docker-init, the command as its child', async () => {
  const out = await run(['--init', 'busybox', 'sh', '-c', 'ps -o pid,args; mount | grep docker-init']);
  const lines = out.trim().split('\n');
  assert.match(lines[1]!, /^\s+1 \/sbin\/docker-init -- sh -c /);
  assert.match(lines[2]!, /^\s+\d+ sh -c /);
  assert.match(out, / on \/sbin\/docker-init type \S+ \(ro,/);
  // The init forwards signals: docker stop ends quickly even though sh as pid 1 would ignore TERM.
  assert.equal((await d.docker(['run', '-d', '--name', 'initstop', '--init', 'busybox', 'sh', '-c', 'sleep 300'])).code, 0);
  const t0 = Date.now();
  assert.equal((await d.docker(['stop', '-t', '10', 'initstop'])).code, 0);
  assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'initstop'])).stdout.trim(), '143');
  await d.docker(['rm', 'initstop']);
});

test('--hostname, --domainname, --group-add, -u', async () => {
  assert.equal(
    await run(['--hostname', 'foo', '--domainname', 'example.com', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; cat /proc/sys/kernel/domainname; echo $HOSTNAME']),
    'foo\nfoo\nexample.com\nfoo\n',
  );
  assert.equal(await run(['-u', '1000', '--group-add', '10', '--group-add', 'nobody', 'busybox', 'id']), 'uid=1000 gid=0(root) groups=0(root),10,65534(nobody)\n');
  await runFails(['--group-add', 'nosuch', 'busybox', 'id'], 'Unable to find group nosuch: no matching entries in group file');
  assert.equal(await run(['-u', '1234:5678', 'busybox', 'id']), 'uid=1234 gid=5678 groups=5678\n');
  assert.equal(await run(['-u', 'nobody', '--group-add', 'root', 'busybox', 'id']), 'uid=65534(nobody) gid=65534(nobody) groups=0(root),65534(nobody)\n');
  await runFails(['-u', 'nosuch', 'busybox', 'id'], 'unable to find user nosuch: no matching entries in passwd file');
  await runFails(['-u', '0:nosuch', 'busybox', 'id'], 'unable to find group nosuch: no matching entries in group file');
  const long = 'h'.repeat(65);
  await runFails(['--hostname', long, 'busybox', 'true'], `hostname "${long}" is too long (maximum 64 bytes)`);
  assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
});

test('--device: host devices with their permissions; Docker\'s error for a missing one', async () => {
  const out = await run(['--device', '/dev/fuse:/dev/myfuse:r', 'busybox', 'sh', '-c', 'ls -l /dev/myfuse; echo x > /dev/myfuse; grep "10:229" /sys/fs/cgroup/devices/devices.list']);
  assert.match(out, /^crw------- +1 root +root +10, +229 .* \/dev\/myfuse$/m);
  assert.match(out, /^c 10:229 r$/m);
  const same = await run(['--device', '/dev/fuse', 'busybox', 'ls', '/dev/fuse']);
  assert.equal(same, '/dev/fuse\n');
  if (fs.existsSync('/dev/net/tun')) assert.equal(await run(['--device', '/dev/net:/dev/mynet', 'busybox', 'ls', '/dev/mynet']), 'tun\n');
  await runFails(['--device', '/etc/passwd', 'busybox', 'true'], 'error gathering device information while adding custom device "/etc/passwd": not a device node');
  const missing = await d.docker(['run', '--rm', '--device', '/dev/nonexist', 'busybox', 'true']);
  assert.equal(missing.stderr.split('\n')[0], 'docker: Error response from daemon: error gathering device information while adding custom device "/dev/nonexist": no such file or directory');
  assert.equal(missing.code, 127); // the CLI maps "no such file or directory" to 127, as with Docker
  const rule = await run(['--device-cgroup-rule', 'c 10:229 rw', '--device-cgroup-rule', 'b *:* m', 'busybox', 'grep', '-E', '^(c 10:229|b \\*:\\*) ', '/sys/fs/cgroup/devices/devices.list']);
  assert.equal(rule, 'b *:* m\nc 10:229 rw\n');
  const badRule = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { DeviceCgroupRules: ['c 1:1  rwm'] } });
  assert.deepEqual([badRule.status, JSON.parse(badRule.body).message], [400, "invalid device cgroup rule format: 'c 1:1  rwm'"]);
  const bad = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/x', CgroupPermissions: 'rwz' }] } });
  assert.deepEqual([bad.status, JSON.parse(bad.body).message], [400, 'bad mode specified: rwz']);
  assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
});

test('--ipc/--pid/--uts: host, container:NAME (shareable donor), none, private; --shm-size', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo shared > /dev/shm/x; exec sleep 300'])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'private', 'busybox', 'sleep', '300'])).code, 0);
  const joined = await run(['--ipc', 'container:donor', '--pid', 'container:donor', 'busybox', 'sh', '-c', 'cat /dev/shm/x; ps -o pid,args']);
  assert.match(joined, /^shared$/m);
  assert.match(joined, /^\s+1 sleep 300$/m);
  const donorId = (await d.docker(['inspect', '-f', '{{.Id}}', 'donor'])).stdout.trim();
  assert.equal((await d.docker(['create', '--name', 'joiner', '--ipc', 'container:donor', '--pid', 'container:donor', 'busybox'])).code, 0);
  assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}', 'joiner'])).stdout.trim(), `container:${donorId} container:${donorId}`);
  await d.docker(['rm', 'joiner']);
  const privId = (await d.docker(['inspect', '-f', '{{.Id}}', 'private'])).stdout.trim();
  await runFails(['--ipc', 'container:private', 'busybox', 'true'], `container ${privId}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
  await runFails(['--ipc', 'container:nonexist', 'busybox', 'true'], 'No such container: nonexist');
  await runFails(['--ipc', 'foo', 'busybox', 'true'], 'invalid IPC mode: foo');
  await d.docker(['rm', '-f', 'private']);
  await d.docker(['rm', '-f', 'donor']);

  assert.doesNotMatch(await run(['--ipc', 'none', 'busybox', 'mount']), / on \/dev\/shm /);
  assert.match(await run(['--shm-size', '16m', 'busybox', 'mount']), /^shm on \/dev\/shm type tmpfs \(rw,nosuid,nodev,noexec,relatime,size=16384k\)$/m);
  assert.match(await run(['busybox', 'mount']), /^shm on \/dev\/shm type tmpfs \(rw,nosuid,nodev,noexec,relatime,size=65536k\)$/m);
  const hostPid = await run(['--pid', 'host', 'busybox', 'ps', '-o', 'pid,args']);
  assert.match(hostPid, new RegExp(`^\\s*${process.pid} `, 'm'));
  assert.equal(await run(['--uts', 'host', 'busybox', 'hostname']), `${os.hostname()}\n`);
  await runFails(['--uts', 'host', '-h', 'foo', 'busybox', 'true'], 'conflicting options: hostname and the UTS mode');
  assert.equal(await run(['busybox', 'sh', '-c', 'echo $$']), '1\n'); // a private pid namespace
  assert.match(await run(['--cgroupns', 'private', 'busybox', 'cat', '/proc/self/cgroup']), /^\d+:pids:\/$/m);
  if (!fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    assert.match(await run(['busybox', 'cat', '/proc/self/cgroup']), new RegExp(`^\\d+:pids:/${d.cgroupParent}/[0-9a-f]{64}$`, 'm'));
  }
});

test('--stop-signal/--stop-timeout and labels are stored in Config; a bad stop signal is refused', async () => {
  const label = path.join(d.root, 'labels');
  fs.writeFileSync(label, 'from.file=yes\n');
  assert.equal((await d.docker(['create', '--name', 'cfg', '--stop-signal', 'SIGUSR1', '--stop-timeout', '7', '-l', 'a=b', '--label-file', label, 'busybox'])).code, 0);
  const cfg = JSON.parse((await d.docker(['inspect', '-f', '{{json .Config}}', 'cfg'])).stdout);
  assert.deepEqual([cfg.StopSignal, cfg.StopTimeout, cfg.Labels], ['SIGUSR1', 7, { a: 'b', 'from.file': 'yes' }]);
  await d.docker(['rm', 'cfg']);
  await runFails(['--stop-signal', 'FOO', 'busybox', 'true'], 'Invalid signal: FOO');
  await runFails(['-w', 'relative', 'busybox', 'true'], "the working directory 'relative' is invalid, it needs to be an absolute path");
  assert.equal(await run(['-w', '/a/../b/', 'busybox', 'pwd']), '/b\n');
  const env = await d.api('POST', '/containers/create', { Image: 'busybox', Env: ['=foo'] });
  assert.deepEqual([env.status, JSON.parse(env.body).message], [400, 'invalid environment variable: =foo']);
});

test('log rotation: max-size/max-file rotate the log, docker logs reads rotated files in order, -f follows across rotations', async () => {
  const script = 'i=0; while [ $i -lt 1500 ]; do echo line-$i; i=$((i+1)); [ $((i % 50)) -eq 0 ] && sleep 0.1; done';
  const id = (await d.docker(['run', '-d', '--name', 'chatty', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script])).stdout.trim();
  const follow = d.docker(['logs', '-f', 'chatty']);
  assert.equal((await d.docker(['wait', 'chatty'])).stdout, '0\n');
  const dir = path.join(d.dataRoot, 'containers', id);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('container.log')).sort();
  assert.deepEqual(files, ['container.log', 'container.log.1']);
  // Checks follow the log's growth, so a rotated file overshoots max-size by what arrives between two checks
  // (more on a loaded machine); the point is that it stays bounded.
  assert.ok(fs.statSync(path.join(dir, 'container.log.1')).size < 6 * 10240, String(fs.statSync(path.join(dir, 'container.log.1')).size));
  const seq = (text: string) => text.trim().split('\n').map((l) => Number(l.slice('line-'.length)));
  const contiguous = (nums: number[]) => nums.every((n, i) => i === 0 || n === nums[i - 1]! + 1);
  const all = seq((await d.docker(['logs', 'chatty'])).stdout);
  assert.ok(all[0]! > 0, 'older lines were rotated away');
  assert.equal(all[all.length - 1], 1499);
  assert.ok(contiguous(all));
  const tail = seq((await d.docker(['logs', '--tail', String(all.length - 5), 'chatty'])).stdout);
  assert.deepEqual(tail, all.slice(5));
  const followed = seq((await follow).stdout);
  assert.equal(followed.length, 1500);
  assert.ok(contiguous(followed) && followed[0] === 0);
  const logConfig = JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'chatty'])).stdout);
  assert.deepEqual(logConfig.Config, { 'max-file': '2', 'max-size': '10k' });
  await d.docker(['rm', 'chatty']);
  assert.equal(fs.existsSync(dir), false);

  await runFails(['--log-opt', 'foo=bar', 'busybox', 'true'], "unknown log opt 'foo' for json-file log driver");
  await runFails(['--log-driver', 'bogus', 'busybox', 'true'], 'error looking up logging plugin bogus: plugin "bogus" not found');
  // --log-driver none: output still reaches attached clients, nothing is stored, docker logs says so.
  const none = await d.docker(['run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
  assert.deepEqual([none.code, none.stdout, none.stderr], [0, 'out\n', 'err\n']);
  const noneId = (await d.docker(['inspect', '-f', '{{.Id}}', 'nolog'])).stdout.trim();
  assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'containers', noneId)).filter((f) => f.startsWith('container.log')), []);
  const noLogs = await d.docker(['logs', 'nolog']);
  assert.deepEqual([noLogs.code, noLogs.stderr], [1, 'Error response from daemon: configured logging driver does not support reading\n']);
  assert.equal((await d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'nolog'])).stdout, '{"Type":"none","Config":{}}\n');
  await d.docker(['rm', 'nolog']);
  await runFails(['--log-opt', 'max-size=abc', 'busybox', 'true'], "invalid size: 'abc'");
  await runFails(['--log-opt', 'max-file=0', 'busybox', 'true'], 'max-file cannot be less than 1');
});

test('log rotation carries on after berthd is killed and restarted (settings kept in the bundle)', async () => {
  const script = 'i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); [ $((i % 40)) -eq 0 ] && sleep 0.1; done';
  const id = (await d.docker(['run', '-d', '--name', 'survivor', '--log-opt', 'max-size=8k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script])).stdout.trim();
  await new Promise((r) => setTimeout(r, 300));
  await d.kill9();
  await new Promise((r) => setTimeout(r, 1500)); // output piles up in the live file while nobody rotates
  await d.launch();
  assert.equal((await d.docker(['wait', 'survivor'])).stdout, '0\n');
  const dir = path.join(d.dataRoot, 'containers', id);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('container.log')).sort();
  assert.deepEqual(files, ['container.log', 'container.log.1', 'container.log.2']);
  const nums = (await d.docker(['logs', 'survivor'])).stdout.trim().split('\n').map((l) => Number(l.slice(5)));
  assert.equal(nums[nums.length - 1], 1999);
  assert.ok(nums.every((n, i) => i === 0 || n === nums[i - 1]! + 1));
  await d.docker(['rm', 'survivor']);
});

test('the default seccomp profile runs glibc programs that create threads (clone3 falls back to clone)', async (t) => {
  const files = ['/usr/bin/sort', '/bin/dash', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'];
  if (!files.every((f) => fs.existsSync(f))) return t.skip('no Debian glibc binaries on this host');
  const root = path.join(d.root, 'glibc-root');
  for (const f of files) {
    fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
    fs.copyFileSync(f, path.join(root, f));
    fs.chmodSync(path.join(root, f), 0o755);
  }
  // Large enough that sort starts threads (pthread_create → clone3, which the profile answers with ENOSYS).
  fs.writeFileSync(path.join(root, 'in'), Array.from({ length: 1_000_000 }, (_, i) => 1_000_000 - i).join('\n') + '\n');
  const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
  assert.equal((await d.docker(['import', '-', 'glibc:local'], { input: tar.stdout })).code, 0);
  const script = '/usr/bin/sort -n --parallel=4 /in | { read a; echo first=$a; }';
  assert.equal(await run(['glibc:local', '/bin/dash', '-c', script]), 'first=1\n');
  await d.docker(['rmi', 'glibc:local']);
});

test('the berth CLI sends the same options: caps, read-only, tmpfs, memory, ulimit, sysctl, init, no-new-privileges', async () => {
  const r = await d.berth([
    'run', '--rm', '--cap-drop', 'ALL', '--read-only', '--tmpfs', '/run:size=1m', '-m', '64m', '--ulimit', 'nofile=100:200',
    '--sysctl', 'net.ipv4.ip_forward=1', '--init', '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c',
    'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status; ulimit -n; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /proc/sys/net/ipv4/ip_forward; touch /x 2>/dev/null || echo ro; touch /run/x && echo rw; ps -o pid,args | grep -c "^ *1 /sbin/docker-init"',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'CapEff:\t0000000000000000\nNoNewPrivs:\t1\n100\n67108864\n1\nro\nrw\n1\n');
  const bad = await d.berth(['run', '--rm', '--cap-add', 'bogus', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^berth: Error response from daemon: invalid CapAdd: unknown capability: "CAP_BOGUS"$/m);
});

test('exec inherits the container\'s capabilities, no-new-privileges, ulimits and --group-add; exec --privileged gets the bounding set', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'inherit', '--cap-drop', 'ALL', '--ulimit', 'nofile=100:200', '--security-opt', 'no-new-privileges', '--group-add', '10', 'busybox', 'sleep', '300'])).code, 0);
  const r = await d.docker(['exec', 'inherit', 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ulimit -n; id']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'NoNewPrivs:\t1\nSeccomp:\t2\n100\nuid=0(root) gid=0(root) groups=0(root),10\n'.replace('NoNewPrivs', 'CapEff:\t0000000000000000\nNoNewPrivs'));
  const p = await d.docker(['exec', '--privileged', 'inherit', 'grep', 'CapEff', '/proc/self/status']);
  assert.equal(p.stdout, `CapEff:\t${hostCapBnd}\n`);
  await d.docker(['rm', '-f', 'inherit']);
});
