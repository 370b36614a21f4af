import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tarStream from 'tar-stream';
import { IMAGES_DIR, TestDaemon } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

function tarOf(entries: Array<{ name: string; body: string }>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name, mode: 0o644, mtime: new Date(0) }, e.body);
  pack.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

/** A docker-archive with busybox as the base layer and `count - 1` one-file layers on top. */
async function manyLayerArchive(count: number): Promise<Buffer> {
  const layers: Buffer[] = [fs.readFileSync(path.join(IMAGES_DIR, 'busybox.tar'))];
  for (let i = 1; i < count; i++) layers.push(await tarOf([{ name: `layer${i}`, body: `${i}\n` }]));
  const diffIds = layers.map((l) => `sha256:${createHash('sha256').update(l).digest('hex')}`);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'test' })),
  });
  const entries = [
    { name: 'config.json', body: config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'config.json', RepoTags: ['many:layers'], Layers: layers.map((_, i) => `l${i}.tar`) }]) },
  ];
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name, mode: 0o644 }, e.body);
  layers.forEach((l, i) => pack.entry({ name: `l${i}.tar`, mode: 0o644 }, l));
  pack.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

test('an image with 128 layers mounts and runs (short lower-dir names)', async () => {
  const archive = await manyLayerArchive(128);
  const load = await d.docker(['load'], { input: archive, timeoutMs: 120_000 });
  assert.equal(load.code, 0, load.stderr);
  assert.equal((await d.docker(['image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'many:layers'])).stdout, '128\n');
  const r = await d.docker(['run', '--rm', 'many:layers', 'sh', '-c', 'cat /layer1 /layer127; ls / | grep -c ^layer']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n127\n127\n');
  await d.docker(['rmi', 'many:layers']);
});
