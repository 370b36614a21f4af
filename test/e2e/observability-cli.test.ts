import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { TestDaemon, eventually, sleep } from './harness';

const BERTH_MAIN = path.resolve(__dirname, '../../src/cli/main.js');

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
  const run = await d.docker(['run', '-d', '--name', 'box', '--label', 'team=obs', 'busybox', 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

/** The same command through both CLIs. */
async function both(args: string[]): Promise<[string, string]> {
  const [b, k] = await Promise.all([d.berth(args), d.docker(args)]);
  assert.equal(b.code, k.code, `${b.stderr} / ${k.stderr}`);
  return [b.stdout + b.stderr, k.stdout + k.stderr];
}

test('berth top prints what docker top prints', async () => {
  for (const args of [['top', 'box'], ['top', 'box', '-o', 'pid,comm'], ['container', 'top', 'box', 'aux']]) {
    const [b, k] = await both(args);
    // %CPU / TIME may tick between the two calls; compare the shape and the stable columns
    assert.equal(b.split('\n')[0], k.split('\n')[0]);
    assert.equal(b.split('\n').length, k.split('\n').length);
    assert.match(b, /sleep/);
  }
  const [b, k] = await both(['top', 'nope']);
  assert.equal(b, k);
  assert.equal(b, 'Error response from daemon: No such container: nope\n');
});

test('berth stats --no-stream: table, --format and json as docker prints them', async () => {
  const b = await d.berth(['stats', '--no-stream', 'box']);
  assert.equal(b.code, 0, b.stderr);
  const k = await d.docker(['stats', '--no-stream', 'box']);
  const cols = (t: string) => t.split('\n')[0]!.split(/\s{2,}/);
  assert.deepEqual(cols(b.stdout), cols(k.stdout));
  assert.match(b.stdout.split('\n')[1]!, /^[0-9a-f]{12}\s+box\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+1$/);
  const f = await d.berth(['stats', '--no-stream', '--format', '{{.Name}}: {{.PIDs}} {{.Container}}', 'box']);
  assert.equal(f.stdout, 'box: 1 box\n');
  const j = JSON.parse((await d.berth(['stats', '--no-stream', '--format', 'json', 'box'])).stdout);
  assert.deepEqual(Object.keys(j), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
  const all = await d.berth(['stats', '--no-stream', '--format', '{{.Name}}']);
  assert.equal(all.stdout, 'box\n');
  const [bm, km] = await both(['stats', '--no-stream', 'nope']);
  assert.equal(bm, km);
});

test('berth stats streams and redraws, and picks up containers that start', async () => {
  const child = spawn(process.execPath, [BERTH_MAIN, 'stats', '--format', '{{.Name}} {{.PIDs}}'], { env: d.clientEnv() });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await eventually(() => out.includes('box 1'));
    assert.ok(out.startsWith('\x1b[H'), JSON.stringify(out.slice(0, 20)));
    assert.equal((await d.docker(['run', '-d', '--name', 'late', 'busybox', 'sleep', '300'])).code, 0);
    await eventually(() => out.includes('late 1'));
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal((await d.docker(['rm', '-f', 'late'])).code, 0);
});

test('berth events: --since/--until, --filter and --format like docker', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  assert.equal((await d.docker(['run', '--name', 'ev', '-l', 'k=v', 'busybox', 'sh', '-c', 'exit 2'])).code, 2);
  assert.equal((await d.docker(['rm', 'ev'])).code, 0);
  await sleep(1100);
  for (const extra of [[], ['--format', '{{json .}}'], ['--format', '{{.Status}} {{.Actor.Attributes.exitCode}}'], ['--filter', 'event=die']]) {
    const [b, k] = await both(['events', '--since', since, '--until', '0s', '--filter', 'container=ev', ...extra]);
    assert.equal(b, k, extra.join(' '));
    assert.ok(b.length > 0);
  }
  const bad = await d.berth(['events', '--format', '{{.Nope}}', '--until', '0s']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /^Error parsing format: /);
});

test('berth events follows live events', async () => {
  const child = spawn(process.execPath, [BERTH_MAIN, 'events', '--filter', 'container=live', '--format', '{{.Action}}'], { env: d.clientEnv() });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await sleep(500);
    assert.equal((await d.docker(['run', '--rm', '--name', 'live', 'busybox', 'true'])).code, 0);
    await eventually(() => out.includes('destroy'));
  } finally {
    child.kill('SIGKILL');
  }
  assert.deepEqual(out.trim().split('\n'), ['create', 'attach', 'start', 'die', 'destroy']);
});
