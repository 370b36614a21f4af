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

test('docker run hello-world prints the greeting and exits 0', async () => {
  const r = await d.docker(['run', '--rm', 'hello-world']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n')[0], 'Hello from Berth!');
  assert.equal(r.stderr, '');
});

test('exit codes pass through: sh -c "exit 3" gives 3', async () => {
  const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3);
});

test('stdin is piped with -i and closes at EOF', async () => {
  const r = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  const big = 'x'.repeat(300_000) + '\n';
  const wc = await d.docker(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: big });
  assert.equal(wc.stdout.trim(), String(big.length));
});

test('stdout and stderr stay apart without a TTY', async () => {
  const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('-t gives the process a terminal', async () => {
  const r = await d.dockerTty(`run --rm -t busybox sh -c 'tty; echo "[$TERM]"'`);
  assert.equal(r.code, 0, r.stdout);
  const lines = r.stdout.split(/\r?\n/).map((l) => l.replace(/\r/g, ''));
  assert.ok(lines.includes('/dev/pts/0'), r.stdout);
  assert.ok(lines.includes('[xterm]'), r.stdout);
});

test('run -d, ps, logs, rm -f', async () => {
  const run = await d.docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'echo one; echo two >&2; sleep 300']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await d.docker(['ps', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}}']);
  assert.equal(ps.stdout, `${id.slice(0, 12)} ticker busybox running\n`);
  const table = await d.docker(['ps']);
  const [header, row] = table.stdout.split('\n');
  assert.match(header!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.match(row!, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo one; ec…"\\s+.+ago\\s+Up .+\\s+ticker$`));
  await eventually(async () => (await d.docker(['logs', 'ticker'])).stdout === 'one\n');
  const logs = await d.docker(['logs', 'ticker']);
  assert.equal(logs.stdout, 'one\n');
  assert.equal(logs.stderr, 'two\n');
  const ts = await d.docker(['logs', '-t', '--tail', '1', 'ticker']);
  assert.match(ts.stdout + ts.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (one|two)\n$/);
  const rm = await d.docker(['rm', 'ticker']);
  assert.equal(rm.code, 1);
  assert.equal(
    rm.stderr,
    `Error response from daemon: You cannot remove a running container ${id}. Stop the container before attempting removal or force remove\n`,
  );
  const rmf = await d.docker(['rm', '-f', 'ticker']);
  assert.equal(rmf.code, 0);
  assert.equal(rmf.stdout, 'ticker\n');
  assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
});

test('a missing binary exits 127 with Docker\'s message', async () => {
  const r = await d.docker(['run', '--rm', '--name', 'nobin', 'busybox', 'nonexistent-binary']);
  assert.equal(r.code, 127);
  assert.match(
    r.stderr,
    /^docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nonexistent-binary": executable file not found in \$PATH: unknown/,
  );
  assert.equal((await d.docker(['ps', '-aq', '--filter', 'name=nobin'])).stdout, '', '--rm removed the container');
});

test('a file that is not executable exits 126', async () => {
  const r = await d.docker(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(r.code, 126, r.stderr);
  assert.match(r.stderr, /permission denied/);
});

test('a name conflict is Docker\'s 409 message', async () => {
  const first = await d.docker(['create', '--name', 'dup', 'busybox', 'true']);
  assert.equal(first.code, 0);
  const id = first.stdout.trim();
  const second = await d.docker(['run', '--name', 'dup', 'busybox', 'true']);
  assert.equal(second.code, 125);
  assert.match(
    second.stderr,
    new RegExp(
      `^docker: Error response from daemon: Conflict. The container name "/dup" is already in use by container "${id}". You have to remove \\(or rename\\) that container to be able to reuse that name.`,
    ),
  );
  await d.docker(['rm', 'dup']);
});

test('a missing image is "No such image" for inspect and run', async () => {
  const r = await d.docker(['image', 'inspect', 'nosuch:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such image: nosuch:1/);
  const run = await d.docker(['run', '--rm', 'nosuch:1']);
  assert.equal(run.code, 125);
  assert.match(run.stderr, /Unable to find image 'nosuch:1' locally/);
});

test('create + start -a, wait, inspect state', async () => {
  const c = await d.docker(['create', '--name', 'w1', '-e', 'GREETING=hey', '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo $GREETING $(pwd) $(id -u); exit 5']);
  assert.equal(c.code, 0);
  const start = await d.docker(['start', '-a', 'w1']);
  assert.equal(start.code, 5);
  assert.equal(start.stdout, 'hey /tmp 65534\n');
  const wait = await d.docker(['wait', 'w1']);
  assert.equal(wait.stdout, '5\n');
  const state = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.Config.User}} {{.Name}}', 'w1']);
  assert.equal(state.stdout, 'exited 5 false nobody /w1\n');
  await d.docker(['rm', 'w1']);
});

test('--network none gives a private network namespace with only lo, never the host\'s', async () => {
  const r = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
  assert.equal(r.stdout, 'lo\n');
  const hostNs = (await import('node:fs')).readlinkSync('/proc/self/ns/net');
  const inner = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'readlink', '/proc/self/ns/net']);
  assert.notEqual(inner.stdout.trim(), hostNs);
});

test('docker import of a rootfs tar creates a runnable image', async () => {
  const tar = fs.readFileSync(path.join(IMAGES_DIR, 'busybox.tar'));
  const imp = await d.docker(['import', '-c', 'CMD ["echo","imported"]', '-', 'mine:v1'], { input: tar });
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.ok(images.stdout.split('\n').includes('mine:v1'), images.stdout);
  const run = await d.docker(['run', '--rm', 'mine:v1']);
  assert.equal(run.stdout, 'imported\n');
  const id = (await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'mine:v1'])).stdout.trim();
  assert.equal(id, imp.stdout.trim());
});
