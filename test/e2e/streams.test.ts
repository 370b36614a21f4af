import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { FrameDecoder } from '../../src/api/http/stdcopy';
import { TestDaemon, eventually, sleep } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('attach without Upgrade gets a 200 raw stream carrying multiplexed frames', async () => {
  const { Id } = JSON.parse((await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; echo out; echo err >&2'] })).body);
  const frames: Array<[number, string]> = [];
  const done = new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: `/v1.50/containers/${Id}/attach?stream=1&stdout=1&stderr=1` }, (res) => {
      const dec = new FrameDecoder((s, p) => frames.push([s, p.toString()]));
      res.on('data', (c: Buffer) => dec.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
  await sleep(100);
  assert.equal((await d.api('POST', `/containers/${Id}/start`)).status, 204);
  const r = await done;
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/vnd.docker.raw-stream');
  assert.deepEqual(frames, [
    [1, 'out\n'],
    [2, 'err\n'],
  ]);
  await d.api('DELETE', `/containers/${Id}`);
});

test('logs -f follows new output and ends when the container stops', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'echo a; sleep 1; echo b; sleep 1; echo c'])).code, 0);
  const started = Date.now();
  const r = await d.docker(['logs', '-f', 'follow'], { timeoutMs: 20_000 });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'a\nb\nc\n');
  assert.ok(Date.now() - started >= 1000, 'followed live output');
  const since = await d.docker(['logs', '--since', '2000-01-01T00:00:00Z', '--until', '2000-01-02T00:00:00Z', 'follow']);
  assert.equal(since.stdout, '');
  assert.equal((await d.docker(['logs', '--details', '--tail', '1', 'follow'])).stdout, ' c\n');
  await d.docker(['rm', 'follow']);
});

test('a TTY container can be detached from with ctrl-p ctrl-q and keeps running', async (t) => {
  assert.equal((await d.docker(['run', '-dit', '--name', 'tty1', 'busybox', 'sh'])).code, 0);
  t.after(() => d.docker(['rm', '-f', 'tty1']));
  const r = await d.dockerTty('attach tty1', {
    typed: [
      { afterMs: 800, data: 'echo attached-$((40+2))\n' },
      { afterMs: 500, data: '\x10' },
      { afterMs: 100, data: '\x11' },
      { afterMs: 3000, data: '' },
    ],
    timeoutMs: 15_000,
  });
  assert.match(r.stdout, /attached-42/);
  assert.match(r.stdout, /read escape sequence/);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'tty1'])).stdout, 'true\n');
});

test('two daemons run side by side with their own sockets, state and cgroups', async () => {
  const other = await TestDaemon.start();
  try {
    assert.notEqual(other.socket, d.socket);
    assert.notEqual(other.cgroupParent, d.cgroupParent);
    assert.equal((await other.docker(['run', '-d', '--name', 'same-name', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'same-name', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await other.docker(['ps', '-q'])).stdout.trim().split('\n').length, 1);
    assert.equal((await d.docker(['ps', '-q'])).stdout.trim().split('\n').length, 1);
    const pidA = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'same-name'])).stdout.trim();
    const pidB = (await other.docker(['inspect', '-f', '{{.State.Pid}}', 'same-name'])).stdout.trim();
    assert.notEqual(pidA, pidB);
    await eventually(async () => (await d.docker(['rm', '-f', 'same-name'])).code === 0);
  } finally {
    assert.deepEqual(await other.stop(), []);
  }
});

test('a client that stops reading is cut off; the container never stalls', async () => {
  const net = await import('node:net');
  const { Id } = JSON.parse((await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'head -c 100000000 /dev/zero; echo done >&2'] })).body);
  const sock = net.createConnection(d.socket);
  await new Promise((r) => sock.once('connect', r));
  sock.write(`POST /v1.50/containers/${Id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  await new Promise((r) => sock.once('data', r));
  sock.pause(); // never reads again
  const started = Date.now();
  assert.equal((await d.api('POST', `/containers/${Id}/start`)).status, 204);
  const waited = JSON.parse((await d.api('POST', `/containers/${Id}/wait`)).body);
  assert.equal(waited.StatusCode, 0);
  assert.ok(Date.now() - started < 30_000);
  sock.destroy();
  const logs = await d.docker(['logs', Id]);
  assert.equal(logs.stderr, 'done\n');
  await d.api('DELETE', `/containers/${Id}`);
});
