import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IMAGES_DIR, TestDaemon, eventually } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('berth run hello-world', async () => {
  const r = await d.berth(['run', '--rm', 'hello-world']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n')[0], 'Hello from Berth!');
});

test('berth passes exit codes, stdin and stderr through', async () => {
  assert.equal((await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
  const cat = await d.berth(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
  assert.equal(cat.stdout, 'hi\n');
  const both = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
  assert.equal(both.stdout, 'out\n');
  assert.equal(both.stderr, 'err\n');
});

test('berth run -t allocates a terminal', async () => {
  const r = await d.berth(['run', '--rm', '-t', 'busybox', 'tty']);
  // without a local terminal the CLI still asks for one; the container sees a pty
  assert.equal(r.stdout.replace(/\r/g, ''), '/dev/pts/0\n');
});

test('berth run -d, ps, logs -f, rm -f', async () => {
  const run = await d.berth(['run', '-d', '--name', 'bticker', '-e', 'N=3', 'busybox', 'sh', '-c', 'for i in $(seq $N); do echo line$i; done; sleep 300']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await d.berth(['ps', '--format', '{{.ID}}|{{.Names}}|{{.Status}}']);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\|bticker\\|Up .+\\n$`));
  assert.equal((await d.berth(['ps', '-q'])).stdout, `${id.slice(0, 12)}\n`);
  assert.equal((await d.berth(['ps', '-q', '--no-trunc'])).stdout, `${id}\n`);
  await eventually(async () => (await d.berth(['logs', 'bticker'])).stdout === 'line1\nline2\nline3\n');
  assert.equal((await d.berth(['logs', '--tail', '1', 'bticker'])).stdout, 'line3\n');
  const rm = await d.berth(['rm', 'bticker']);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /^Error response from daemon: You cannot remove a running container/);
  const rmf = await d.berth(['rm', '-f', 'bticker']);
  assert.equal(rmf.stdout, 'bticker\n');
  assert.equal((await d.berth(['ps', '-aq'])).stdout, '');
});

test('berth: missing binary 127, name conflict 125 with Docker\'s texts', async () => {
  const r = await d.berth(['run', '--rm', 'busybox', 'nope-binary']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /executable file not found in \$PATH/);
  await d.berth(['create', '--name', 'taken', 'busybox', 'true']);
  const c = await d.berth(['run', '--name', 'taken', 'busybox', 'true']);
  assert.equal(c.code, 125);
  assert.match(c.stderr, /Conflict. The container name "\/taken" is already in use by container/);
  await d.berth(['rm', 'taken']);
});

test('berth create, start -a, wait, inspect --format', async () => {
  await d.berth(['create', '--name', 'bw', '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'pwd; exit 4']);
  const s = await d.berth(['start', '-a', 'bw']);
  assert.equal(s.code, 4);
  assert.equal(s.stdout, '/tmp\n');
  assert.equal((await d.berth(['wait', 'bw'])).stdout, '4\n');
  const f = await d.berth(['inspect', '--format', '{{.State.Status}}/{{.State.ExitCode}}/{{json .Config.Cmd}}', 'bw']);
  assert.equal(f.stdout, 'exited/4/["sh","-c","pwd; exit 4"]\n');
  const both = await d.berth(['inspect', 'bw']);
  const parsed = JSON.parse(both.stdout);
  assert.equal(parsed[0].Name, '/bw');
  await d.berth(['rm', 'bw']);
});

test('berth import, images, image inspect', async () => {
  const file = path.join(IMAGES_DIR, 'busybox.tar');
  const imp = await d.berth(['import', '-c', 'CMD ["echo","from-berth"]', file, 'bimp:1']);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const images = await d.berth(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.deepEqual(images.stdout.trim().split('\n').sort(), ['bimp:1', 'busybox:latest', 'hello-world:latest']);
  const table = await d.berth(['images']);
  assert.match(table.stdout.split('\n')[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.equal((await d.berth(['run', '--rm', 'bimp:1'])).stdout, 'from-berth\n');
  const stdinImport = await d.berth(['import', '-', 'bimp:2'], { input: fs.readFileSync(file) });
  assert.equal(stdinImport.code, 0, stdinImport.stderr);
});

test('berth version, info and --help', async () => {
  const v = await d.berth(['version', '--format', '{{.Server.APIVersion}}']);
  assert.equal(v.stdout, '1.50\n');
  const info = await d.berth(['info', '--format', '{{.Driver}} {{.Images}}']);
  assert.match(info.stdout, /^overlay2 \d+\n$/);
  for (const cmd of ['run', 'create', 'start', 'ps', 'logs', 'wait', 'rm', 'inspect', 'images', 'import', 'version', 'info']) {
    const h = await d.berth([cmd, '--help']);
    assert.equal(h.code, 0, cmd);
    assert.match(h.stdout, new RegExp(`^Usage:  berth ${cmd}`), cmd);
  }
  const bad = await d.berth(['run', '--bogus', 'busybox']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /unknown flag: --bogus/);
});
