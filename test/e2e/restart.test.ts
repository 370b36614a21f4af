import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, eventually, sleep } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('kill -9 of berthd: containers keep running, and everything works after restart', async () => {
  const run = (args: string[]) => d.docker(args);
  assert.equal((await run(['run', '-d', '--name', 'keeper', 'busybox', 'sh', '-c', 'echo before; sleep 300'])).code, 0);
  assert.equal((await run(['run', '-d', '--name', 'ender', 'busybox', 'sh', '-c', 'sleep 2; exit 42'])).code, 0);
  assert.equal((await run(['run', '-d', '--rm', '--name', 'vanisher', 'busybox', 'sh', '-c', 'sleep 2; exit 7'])).code, 0);
  assert.equal((await run(['run', '-d', '-i', '--name', 'reader', 'busybox', 'sh', '-c', 'read line; echo "got $line"; sleep 300'])).code, 0);
  assert.equal((await run(['run', '-d', '--name', 'waited', 'busybox', 'sleep', '300'])).code, 0);
  await eventually(async () => (await run(['logs', 'keeper'])).stdout === 'before\n');
  const pidBefore = (await run(['inspect', '-f', '{{.State.Pid}}', 'keeper'])).stdout.trim();

  await d.kill9();
  await sleep(3000); // ender and vanisher exit while the daemon is down
  assert.ok(pidBefore !== '0');
  process.kill(Number(pidBefore), 0); // still alive without berthd

  await d.launch();
  const state = async (name: string) => (await run(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).stdout.trim();
  assert.equal(await state('keeper'), 'running 0');
  assert.equal((await run(['inspect', '-f', '{{.State.Pid}}', 'keeper'])).stdout.trim(), pidBefore);
  assert.equal(await state('ender'), 'exited 42');
  const gone = await run(['inspect', 'vanisher']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such object: vanisher/);

  // logs and follow still work
  assert.equal((await run(['logs', 'keeper'])).stdout, 'before\n');

  // attach (stdin) still works through the re-established monitor connection
  const attach = await d.docker(['attach', 'reader'], { input: 'hello\n', timeoutMs: 10_000 });
  assert.equal(attach.stdout, 'got hello\n');

  // wait sees an exit that happens after the restart
  const waiter = d.docker(['wait', 'waited']);
  await sleep(300);
  assert.equal((await run(['kill', 'waited'])).code, 0);
  assert.equal((await waiter).stdout, '137\n');

  // stop and rm -f work on containers started by the previous daemon
  const stop = await run(['stop', '-t', '1', 'keeper']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(await state('keeper'), 'exited 137');
  assert.equal((await run(['rm', '-f', 'reader'])).code, 0);
  assert.equal((await run(['ps', '-q'])).stdout, '');
});

test('SIGTERM stops serving, leaves containers running and exits 0', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'survivor', 'busybox', 'sleep', '300'])).code, 0);
  const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', 'survivor'])).stdout.trim());
  assert.equal(await d.terminate(), 0);
  process.kill(pid, 0);
  assert.equal(await d.ping(), false);
  await d.launch();
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'survivor'])).stdout, 'running\n');
});

test('a second daemon on the same data root is refused with a clear message', async () => {
  const { spawnSync } = await import('node:child_process');
  const path = await import('node:path');
  const r = spawnSync(process.execPath, [path.resolve(__dirname, '../../src/daemon/main.js'), '-H', `unix://${d.root}/other.sock`, '--data-root', d.dataRoot, '--exec-root', `${d.root}/exec2`], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^failed to start daemon: another berthd \(pid \d+\) is using this data root; lock held at /);
});
