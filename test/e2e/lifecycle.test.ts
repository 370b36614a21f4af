import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { TestDaemon, eventually, sleep } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const inspect = async (name: string, fmt: string) => (await d.docker(['inspect', '-f', fmt, name])).stdout.trim();

test('pause freezes and unpause thaws, with Docker\'s states and errors', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'p1', 'busybox', 'sh', '-c', 'while true; do date +%s%N > /tmp/t; sleep 0.05; done'])).code, 0);
  const id = await inspect('p1', '{{.Id}}');
  assert.equal((await d.docker(['pause', 'p1'])).stdout, 'p1\n');
  assert.equal(await inspect('p1', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'), 'paused true true');
  const ps = await d.docker(['ps', '--format', '{{.Status}}', '--filter', 'name=p1']);
  assert.match(ps.stdout, /^Up .+ \(Paused\)\n$/);
  const freezer = fs.readFileSync(`/sys/fs/cgroup/freezer/${d.cgroupParent}/${id}/freezer.state`, 'utf8').trim();
  assert.equal(freezer, 'FROZEN');
  const again = await d.docker(['pause', 'p1']);
  assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));
  const exec = await d.docker(['exec', 'p1', 'true']);
  assert.equal(exec.code, 1);
  assert.match(exec.stderr, /is paused, unpause the container first/);
  assert.equal((await d.docker(['unpause', 'p1'])).stdout, 'p1\n');
  assert.equal(await inspect('p1', '{{.State.Status}} {{.State.Paused}}'), 'running false');
  const notPaused = await d.docker(['unpause', 'p1']);
  assert.match(notPaused.stderr, new RegExp(`Container ${id} is not paused`));
  assert.equal((await d.docker(['rm', '-f', 'p1'])).code, 0);
});

test('rename keeps the container and frees the old name', async () => {
  await d.docker(['create', '--name', 'before', 'busybox', 'true']);
  const id = await inspect('before', '{{.Id}}');
  assert.equal((await d.docker(['rename', 'before', 'after'])).code, 0);
  assert.equal(await inspect('after', '{{.Id}} {{.Name}}'), `${id} /after`);
  assert.equal((await d.docker(['inspect', 'before'])).code, 1);
  await d.docker(['create', '--name', 'other', 'busybox', 'true']);
  const clash = await d.docker(['rename', 'after', 'other']);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /Conflict. The container name "\/other" is already in use/);
  const bad = await d.docker(['rename', 'after', 'bad name']);
  assert.match(bad.stderr, /Invalid container name \(bad name\)/);
  await d.docker(['rm', 'after', 'other']);
});

test('on-failure:2 restarts twice, then stays exited with RestartCount 2', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3'])).code, 0);
  await eventually(async () => (await inspect('flaky', '{{.State.Status}} {{.RestartCount}}')) === 'exited 2', 15_000);
  await sleep(500);
  assert.equal(await inspect('flaky', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}'), 'exited 2 3');
  const logs = await d.docker(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'flaky']);
  assert.equal(logs.stdout, 'on-failure:2\n');
  await d.docker(['rm', 'flaky']);
});

test('always restarts after an exit; a manual stop keeps it down', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3; exit 0'])).code, 0);
  await eventually(async () => Number(await inspect('phoenix', '{{.RestartCount}}')) >= 2, 15_000);
  assert.equal((await d.docker(['stop', '-t', '1', 'phoenix'])).code, 0);
  const count = await inspect('phoenix', '{{.RestartCount}}');
  await sleep(1000);
  assert.equal(await inspect('phoenix', '{{.State.Status}} {{.RestartCount}}'), `exited ${count}`);
  await d.docker(['rm', '-f', 'phoenix']);
});

test('restart policies are validated with Docker\'s texts', async () => {
  const r = await d.docker(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /conflicting options: cannot specify both --restart and --rm/);
  const rm = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } });
  assert.equal(rm.status, 400);
  assert.equal(JSON.parse(rm.body).message, "can't create 'AutoRemove' container with restart policy");
  const bad = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { RestartPolicy: { Name: 'sometimes' } } });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /invalid restart policy/);
});

test('update changes the restart policy and the memory limit of a running container', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'upd', 'busybox', 'sleep', '300'])).code, 0);
  const id = await inspect('upd', '{{.Id}}');
  const r = await d.docker(['update', '--restart', 'unless-stopped', '--memory', '64m', '--memory-swap', '128m', 'upd']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'upd\n');
  assert.equal(await inspect('upd', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Memory}}'), `unless-stopped ${64 * 1024 * 1024}`);
  const limit = fs.readFileSync(`/sys/fs/cgroup/memory/${d.cgroupParent}/${id}/memory.limit_in_bytes`, 'utf8').trim();
  assert.equal(limit, String(64 * 1024 * 1024));
  // without --restart the policy stays; cpu shares reach the cgroup
  assert.equal((await d.docker(['update', '--cpu-shares', '512', 'upd'])).code, 0);
  assert.equal(await inspect('upd', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.CpuShares}}'), 'unless-stopped 512');
  assert.equal(fs.readFileSync(`/sys/fs/cgroup/cpu/${d.cgroupParent}/${id}/cpu.shares`, 'utf8').trim(), '512');
  await d.docker(['rm', '-f', 'upd']);
});

test('container prune removes stopped containers only, honouring label filters', async () => {
  await d.docker(['create', '--name', 'keepme', '--label', 'keep=yes', 'busybox', 'true']);
  await d.docker(['create', '--name', 'dropme', 'busybox', 'true']);
  await d.docker(['run', '-d', '--name', 'runner', 'busybox', 'sleep', '300']);
  const dropId = await inspect('dropme', '{{.Id}}');
  const res = await d.api('POST', `/containers/prune?filters=${encodeURIComponent(JSON.stringify({ 'label!': { keep: true } }))}`);
  assert.equal(res.status, 200);
  const body = JSON.parse(res.body);
  assert.deepEqual(body.ContainersDeleted, [dropId]);
  assert.equal(typeof body.SpaceReclaimed, 'number');
  const names = (await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.trim().split('\n').sort();
  assert.deepEqual(names, ['keepme', 'runner']);
  const cli = await d.docker(['container', 'prune', '-f']);
  assert.equal(cli.code, 0);
  assert.match(cli.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.deepEqual((await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'runner\n');
  await d.docker(['rm', '-f', 'runner']);
});

test('after a host restart (everything killed, daemon restarted) always and unless-stopped come back', async () => {
  await d.docker(['run', '-d', '--name', 'svc-always', '--restart', 'always', 'busybox', 'sleep', '300']);
  await d.docker(['run', '-d', '--name', 'svc-unless', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
  await d.docker(['run', '-d', '--name', 'svc-stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
  await d.docker(['run', '-d', '--name', 'svc-none', 'busybox', 'sleep', '300']);
  await d.docker(['stop', '-t', '0', 'svc-stopped']);
  const pids: Record<string, string> = {};
  for (const n of ['svc-always', 'svc-unless', 'svc-none']) pids[n] = await inspect(n, '{{.State.Pid}}');
  await d.kill9();
  // the "reboot": every monitor and container process of this daemon dies
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(d.execRoot)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const pid of Object.values(pids)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await sleep(500);
  await d.launch();
  await eventually(async () => (await inspect('svc-always', '{{.State.Status}}')) === 'running');
  await eventually(async () => (await inspect('svc-unless', '{{.State.Status}}')) === 'running');
  assert.notEqual(await inspect('svc-always', '{{.State.Pid}}'), pids['svc-always']);
  assert.equal(await inspect('svc-stopped', '{{.State.Status}}'), 'exited');
  assert.equal(await inspect('svc-none', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 255');
  await d.docker(['rm', '-f', 'svc-always', 'svc-unless', 'svc-stopped', 'svc-none']);
});
