import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, sleep } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
  assert.equal((await d.docker(['run', '-d', '--name', 'box', 'busybox', 'sleep', '300'])).code, 0);
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('exec runs a command, keeps stdout and stderr apart and reports the exit code', async () => {
  const r = await d.docker(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
  assert.equal(r.code, 5);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('exec -i pipes stdin; -u, -w and -e apply', async () => {
  const cat = await d.docker(['exec', '-i', 'box', 'cat'], { input: 'piped\n' });
  assert.equal(cat.stdout, 'piped\n');
  const who = await d.docker(['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'FOO=bar', 'box', 'sh', '-c', 'echo $(id -u) $(pwd) $FOO']);
  assert.equal(who.stdout, '65534 /tmp bar\n');
});

test('exec -t gives a terminal', async () => {
  const r = await d.dockerTty(`exec -t box sh -c 'tty; echo "[$TERM]"'`);
  const lines = r.stdout.split('\n').map((l) => l.replace(/\r/g, ''));
  assert.ok(lines.includes('/dev/pts/0') || lines.some((l) => /^\/dev\/pts\/\d+$/.test(l)), r.stdout);
  assert.ok(lines.includes('[xterm]'), r.stdout);
});

test('exec -d runs in the background', async () => {
  const r = await d.docker(['exec', '-d', 'box', 'sh', '-c', 'echo done > /tmp/marker']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  let out = '';
  for (let i = 0; i < 40 && out !== 'done\n'; i++) {
    await sleep(50);
    out = (await d.docker(['exec', 'box', 'cat', '/tmp/marker'])).stdout;
  }
  assert.equal(out, 'done\n');
});

test('exec of a missing binary exits 127 with the runtime\'s message', async () => {
  const r = await d.docker(['exec', 'box', 'no-such-cmd']);
  assert.equal(r.code, 127);
  assert.match(r.stdout + r.stderr, /OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-cmd": executable file not found in \$PATH: unknown/);
});

test('exec inspect shows the finished process', async () => {
  const create = await d.api('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'exit 9'], AttachStdout: true });
  assert.equal(create.status, 201);
  const { Id } = JSON.parse(create.body);
  const before1 = JSON.parse((await d.api('GET', `/exec/${Id}/json`)).body);
  assert.equal(before1.Running, false);
  assert.equal(before1.ExitCode, null);
  assert.equal((await d.api('POST', `/exec/${Id}/start`, { Detach: true })).status, 200);
  let info = before1;
  for (let i = 0; i < 40 && info.ExitCode === null; i++) {
    await sleep(50);
    info = JSON.parse((await d.api('GET', `/exec/${Id}/json`)).body);
  }
  assert.equal(info.ExitCode, 9);
  assert.deepEqual(info.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 9'], privileged: false });
  const again = await d.api('POST', `/exec/${Id}/start`, { Detach: true });
  assert.equal(again.status, 409);
  const missing = await d.api('GET', '/exec/nope/json');
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).message, 'No such exec instance: nope');
});

test('exec in a stopped container is Docker\'s 409', async () => {
  assert.equal((await d.docker(['create', '--name', 'idle', 'busybox', 'true'])).code, 0);
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'idle'])).stdout.trim();
  const r = await d.docker(['exec', 'idle', 'true']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error response from daemon: container ${id} is not running\n`);
});
