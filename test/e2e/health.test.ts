import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, eventually } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const health = async (name: string) => JSON.parse((await d.docker(['inspect', '-f', '{{json .State.Health}}', name])).stdout);

test('a passing healthcheck turns the container healthy, with a log and an event', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await d.docker(['run', '-d', '--name', 'ok', '--health-cmd', 'echo fine', '--health-interval', '200ms', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match((await d.docker(['ps', '--format', '{{.Status}}'])).stdout, /\(health: starting\)|\(healthy\)/);
  await eventually(async () => (await health('ok')).Status === 'healthy');
  const h = await health('ok');
  assert.equal(h.FailingStreak, 0);
  assert.equal(h.Log[0].ExitCode, 0);
  assert.equal(h.Log[0].Output, 'fine\n');
  assert.match((await d.docker(['ps', '--format', '{{.Status}}', '--filter', 'name=ok'])).stdout, /^Up .+ \(healthy\)\n$/);
  const events = await d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}']);
  assert.ok(events.stdout.split('\n').includes('health_status: healthy'), events.stdout);
  await d.docker(['rm', '-f', 'ok']);
});

test('failing probes count a streak and turn unhealthy after the retries', async () => {
  await d.docker(['run', '-d', '--name', 'sick', '--health-cmd', 'echo nope; exit 1', '--health-interval', '150ms', '--health-retries', '2', 'busybox', 'sleep', '300']);
  await eventually(async () => (await health('sick')).Status === 'unhealthy');
  const h = await health('sick');
  assert.ok(h.FailingStreak >= 2);
  assert.equal(h.Log.at(-1).ExitCode, 1);
  assert.equal(h.Log.at(-1).Output, 'nope\n');
  await d.docker(['rm', '-f', 'sick']);
});

test('a probe past its timeout is killed and counted as a failure', async () => {
  await d.docker(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '300']);
  await eventually(async () => (await health('slow')).Status === 'unhealthy', 15_000);
  const h = await health('slow');
  assert.equal(h.Log.at(-1).ExitCode, -1);
  assert.equal(h.Log.at(-1).Output, 'Health check exceeded timeout (0.3s)');
  await d.docker(['rm', '-f', 'slow']);
});

test('--no-healthcheck disables an image healthcheck; Healthcheck is in Config', async () => {
  await d.docker(['run', '-d', '--name', 'none', '--no-healthcheck', 'busybox', 'sleep', '300']);
  assert.equal((await d.docker(['inspect', '-f', '{{json .Config.Healthcheck}} {{json .State.Health}}', 'none'])).stdout, '{"Test":["NONE"]} null\n');
  await d.docker(['rm', '-f', 'none']);
});
