/** berth rmi, tag, history, save, load, image prune and system df against the real daemon, compared with docker. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CmdResult, TestDaemon } from './harness';
import { dockerArchive, fileLayer } from './images-fixtures';

const BERTH_MAIN = path.resolve(__dirname, '../../src/cli/main.js');

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

/** Relative times may tick over between the two runs, and with them the width of their table columns. */
const relTime = (s: string) =>
  s.replace(/(\d+ seconds?|About a minute|Less than a second|\d+ minutes) ago/g, 'X ago').replace(/ {2,}/g, '  ');

const same = (args: string[], input?: string | Buffer) => d.sameAsDocker(args, input, relTime);

/** Binary stdout of a command (save). */
function rawStdout(file: string, args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: d.clientEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out: Buffer.concat(chunks), err }));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('help texts match docker', async () => {
  const cmds = [
    ['rmi'], ['image', 'rm'], ['image', 'remove'], ['tag'], ['image', 'tag'], ['history'], ['image', 'history'],
    ['save'], ['image', 'save'], ['load'], ['image', 'load'], ['image', 'prune'], ['system', 'df'],
  ];
  for (const cmd of cmds) {
    const dk = await d.docker([...cmd, '--help']);
    const bt = await d.berth([...cmd, '--help']);
    assert.equal(bt.stdout, dk.stdout.replace(/docker/g, 'berth').replace('docs.berth.com', 'docs.docker.com'), cmd.join(' '));
  }
});

test('tag: references checked like the Go client', async () => {
  await same(['tag', 'busybox', 'Foo']);
  await same(['tag', 'Busy', 'foo']);
  await same(['tag', 'busybox', `foo@sha256:${'a'.repeat(64)}`]);
  await same(['tag', 'nope', 'foo']);
  await same(['tag', 'busybox']);
  const r = await d.berth(['tag', 'busybox', 'example.com/team/bb:v1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const id = (await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
  const short = id.replace('sha256:', '').slice(0, 12);
  const t = await d.berth(['image', 'tag', short, 'bb2']);
  assert.equal(t.code, 0, t.stderr);
  assert.equal((await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'example.com/team/bb:v1', 'bb2:latest'])).stdout, `${id}\n${id}\n`);
});

test('rmi: untag, errors, -f with missing images', async () => {
  await d.berth(['tag', 'busybox', 'rm-a']);
  await d.berth(['tag', 'busybox', 'rm-a:v2']);
  const r = await d.berth(['rmi', 'rm-a', 'nope', 'rm-a:v2']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'Untagged: rm-a:latest\nUntagged: rm-a:v2\n');
  assert.equal(r.stderr, 'Error response from daemon: No such image: nope:latest\n');
  await same(['rmi', '-f', 'nope']);
  await same(['rmi', 'nope', 'nope2']);
  await same(['rmi']);
  // busybox is used by no container but has other tags: untag only.
  await d.berth(['tag', 'hello-world', 'hw-copy']);
  const u = await d.berth(['image', 'rm', 'hw-copy']);
  assert.equal(u.stdout, 'Untagged: hw-copy:latest\n');
});

test('rmi of the last tag deletes the image', async () => {
  const imp = await d.berth(['import', '-', 'scratchy:1'], { input: emptyTar() });
  assert.equal(imp.code, 0, imp.stderr);
  const id = (await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'scratchy:1'])).stdout.trim();
  const r = await d.berth(['rmi', 'scratchy:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`Untagged: scratchy:1\nDeleted: ${id}\n`), r.stdout);
  assert.match(r.stdout, /^Untagged: .*\n(Deleted: sha256:[0-9a-f]{64}\n)+$/);
});

test('history: table, -H=false, --no-trunc, -q, json and templates like docker', async () => {
  await same(['history', 'busybox']);
  await same(['history', '-H=false', 'busybox']);
  await same(['history', '--no-trunc', 'hello-world']);
  await same(['history', '-q', 'hello-world']);
  await same(['history', '--format', 'json', 'busybox']);
  await same(['image', 'history', '--format', '{{.ID}}|{{.Size}}|{{.Comment}}', 'busybox']);
  await same(['history', '--format', 'table {{.ID}}\t{{.CreatedAt}}', '-H=false', 'busybox']);
  await same(['history', 'nope']);
  await same(['history', '--format', '{{.Nope}}', 'busybox']);
});

test('history of a multi-layer image: <missing> rows, empty layers, long CREATED BY, comments', async () => {
  const { tar } = await dockerArchive([
    {
      layers: [await fileLayer('a', 'x'.repeat(3000)), await fileLayer('b', 'yy')],
      repoTags: ['layered:1'],
      created: '2023-05-06T07:08:09Z',
      history: [
        { created: '2023-05-06T07:08:09Z', created_by: '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ', comment: 'base' },
        { created: '2023-05-06T07:08:09Z', created_by: '/bin/sh -c #(nop)\tCMD ["sh"]', empty_layer: true },
        { created: '1999-01-01T00:00:00Z', created_by: 'RUN echo b > /b # buildkit', comment: 'buildkit.dockerfile.v0' },
      ],
    },
  ]);
  const load = await d.berth(['load'], { input: tar });
  assert.equal(load.code, 0, load.stderr);
  const h = await same(['history', 'layered:1']);
  assert.match(h.stdout, /\n[0-9a-f]{12} +N\/A +RUN echo b > \/b # buildkit +2B +buildkit.dockerfile.v0\n<missing> .*CMD \["sh"\].*\n<missing> .*file:0123456789abcdef0… +3kB +base\n$/);
  await same(['history', '--no-trunc', 'layered:1']);
  await same(['history', '-H=false', '--format', 'json', 'layered:1']);
  await same(['history', '-q', '--no-trunc', 'layered:1']);
  await d.berth(['rmi', 'layered:1']);
});

test('save: stdout and -o give docker\'s bytes; errors like docker', async () => {
  const dk = await rawStdout('docker', ['save', 'busybox', 'hello-world']);
  const bt = await rawStdout(process.execPath, [BERTH_MAIN, 'save', 'busybox', 'hello-world']);
  assert.equal(bt.code, 0, bt.err);
  assert.equal(sha(bt.out), sha(dk.out));
  const out = path.join(d.root, 'bb.tar');
  const o = await d.berth(['save', '-o', out, 'busybox']);
  assert.equal(o.code, 0, o.stderr);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  const again = await rawStdout(process.execPath, [BERTH_MAIN, 'save', 'busybox']);
  assert.equal(sha(fs.readFileSync(out)), sha(again.out));
  await same(['save', '-o', '/nonexistent-dir/x.tar', 'busybox']);
  await same(['save', '-o', d.root, 'busybox']);
  const missing = path.join(d.root, 'missing.tar');
  await same(['save', 'nope', '-o', missing]);
  assert.equal(fs.existsSync(missing), false);
  await same(['save']);
});

test('load: file and stdin, quiet, bad archives', async () => {
  const file = path.join(d.root, 'load.tar');
  assert.equal((await d.berth(['save', '-o', file, 'hello-world'])).code, 0);
  await same(['load', '-i', file]);
  const r = await same(['image', 'load', '-q', '-i', file]);
  assert.equal(r.stdout, 'Loaded image: hello-world:latest\n');
  await same(['load'], fs.readFileSync(file));
  await same(['load', '-i', '/nonexistent.tar']);
  await same(['load', '-i', '/etc/hostname']);
  await same(['load'], 'garbage\n');
  await same(['load', 'extra']);
});

test('image prune: prompt texts, cancel, filters, deleted list', async () => {
  const no = await same(['image', 'prune'], 'n\n');
  assert.equal(no.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
  await same(['image', 'prune', '-a'], '');
  await same(['image', 'prune', '-f', '--filter', 'bogus=1']);
  await same(['image', 'prune', '--filter', 'x']);
  await same(['image', 'prune', '-f']);
  // Containers keep the seeded images from `prune -a`.
  for (const img of ['busybox', 'hello-world']) assert.equal((await d.berth(['create', img])).code, 0);

  const imp = await d.berth(['import', '-c', 'LABEL prune=me', '-', 'prune-me:1'], { input: emptyTar() });
  assert.equal(imp.code, 0, imp.stderr);
  const id = (await d.berth(['image', 'inspect', '-f', '{{.Id}}', 'prune-me:1'])).stdout.trim();
  const r = await d.berth(['image', 'prune', '-a', '--filter', 'until=1h'], { input: 'y\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^WARNING! This will remove all images without at least one container associated to them\.\nAre you sure you want to continue\? \[y\/N\] Total reclaimed space: 0B\n$/);
  // (berthd's prune -a also untags images that containers use, so narrow it to the imported image.)
  const all = await d.berth(['image', 'prune', '-a', '-f', '--filter', 'label=prune=me']);
  assert.equal(all.code, 0, all.stderr);
  assert.ok(all.stdout.startsWith('Deleted Images:\n'), all.stdout);
  assert.ok(all.stdout.includes(`untagged: prune-me:1\n`), all.stdout);
  assert.ok(all.stdout.includes(`deleted: ${id}\n`), all.stdout);
  assert.match(all.stdout, /\n\nTotal reclaimed space: [0-9.]+[kMG]?B\n$/);
});

test('system df: summary, verbose, json, raw and templates like docker', async () => {
  assert.equal((await d.berth(['volume', 'create', 'df-unused'])).code, 0);
  const seed = await d.berth(['run', '--name', 'df-c', '-v', 'df-vol:/data', 'busybox', 'sh', '-c', 'echo data > /f; echo hi > /data/f']);
  assert.equal(seed.code, 0, seed.stderr);
  await same(['system', 'df']);
  await same(['system', 'df', '--format', 'json']);
  await same(['system', 'df', '--format', 'raw']);
  await same(['system', 'df', '--format', '{{.Type}}: {{.Reclaimable}}']);
  await same(['system', 'df', '--format', 'table {{.Type}}\t{{.Size}}']);
  await same(['system', 'df', '-v']);
  await same(['system', 'df', '-v', '--format', 'json']);
  await same(['system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}} {{.Size}}{{end}}']);
  await same(['system', 'df', 'extra']);
  await d.berth(['rm', 'df-c']);
  await d.berth(['volume', 'rm', 'df-vol', 'df-unused']);
});

/** A tar with one empty file (512-byte header, 1024 zero bytes of trailer). */
function emptyTar(): Buffer {
  const header = Buffer.alloc(512);
  header.write('empty', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write('00000000000\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, Buffer.alloc(1024)]);
}
