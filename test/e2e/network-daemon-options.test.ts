import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start({ args: ['--icc=false', '--mtu', '1400'] });
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('--icc=false and --mtu shape the default bridge', async () => {
  const opts = JSON.parse((await d.docker(['network', 'inspect', '-f', '{{json .Options}}', 'bridge'])).stdout);
  assert.equal(opts['com.docker.network.bridge.enable_icc'], 'false');
  assert.equal(opts['com.docker.network.driver.mtu'], '1400');
  assert.equal((await d.docker(['run', '-d', '--name', 'target', 'busybox', 'sleep', '300'])).code, 0);
  const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'target'])).stdout.trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const mtu = await d.docker(['run', '--rm', 'busybox', 'cat', '/sys/class/net/eth0/mtu']);
  assert.equal(mtu.stdout, '1400\n');
  // icc off: another container on the default bridge cannot reach it
  const ping = await d.docker(['run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '1', ip]);
  assert.notEqual(ping.code, 0);
  await d.docker(['rm', '-f', 'target']);
});
