import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { IMAGES_DIR, TestDaemon, sleep } from './harness';
import { dockerArchive, hex, makeTar, ociLayout } from './images-fixtures';
import { chainIds } from '../../src/engine/layers/chain-id';

let d: TestDaemon;
let big: { tar: Buffer; built: { id: string; diffIds: string[] }[] };

before(async () => {
  d = await TestDaemon.start();
  const layers = await Promise.all([0, 1, 2, 3].map((i) => makeTar([{ name: `blob${i}`, body: crypto.randomBytes(8 << 20) }])));
  big = await dockerArchive([{ layers, repoTags: ['rt/crash:1'] }]);
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const dir = (...p: string[]) => path.join(d.dataRoot, ...p);
const list = (p: string): string[] => (fs.existsSync(p) ? fs.readdirSync(p) : []);

/** The store after a restart: nothing half-made, nothing unreferenced. */
async function assertConsistent(): Promise<string[]> {
  const ids = (await d.docker(['images', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
  const keepLayers = new Set<string>();
  const keepBlobs = new Set<string>();
  for (const id of ids) {
    const r = await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', id]);
    assert.equal(r.code, 0, `listed image ${id} inspects`);
    const diffIds = JSON.parse(r.stdout) as string[];
    chainIds(diffIds).forEach((c) => keepLayers.add(hex(c)));
    diffIds.forEach((x) => keepBlobs.add(hex(x)));
    keepBlobs.add(hex(id));
  }
  assert.deepEqual(list(dir('layers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort(), [...keepLayers].sort(), 'no orphan layers');
  assert.deepEqual(list(dir('content/sha256')).sort(), [...keepBlobs].sort(), 'no orphan blobs');
  assert.deepEqual(list(dir('content/ingest')), [], 'no half-written blobs');
  assert.deepEqual(list(dir('layers/.tmp')), [], 'no half-extracted layers');
  return ids;
}

/** Starts a load and returns once `ready()` holds, leaving the request open. */
function startLoad(body: Buffer, sendAll: boolean): http.ClientRequest {
  const req = http.request({ socketPath: d.socket, method: 'POST', path: '/v1.50/images/load?quiet=1', headers: { 'Content-Type': 'application/x-tar' } });
  req.on('error', () => undefined);
  req.on('response', (res) => res.resume());
  req.write(sendAll ? body : body.subarray(0, body.length >> 1));
  if (sendAll) req.end();
  return req;
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(2);
  }
  return false;
}

async function crashAndRestart(): Promise<void> {
  await d.kill9();
  await d.launch();
}

test('kill -9 while the archive is being received: nothing listed, nothing left, load works again', async () => {
  const before = await assertConsistent();
  const req = startLoad(big.tar, false);
  assert.ok(await waitFor(() => list(dir('content/ingest')).length > 0), 'the daemon is writing a blob');
  await crashAndRestart();
  req.destroy();
  assert.deepEqual(await assertConsistent(), before);
});

test('kill -9 at several points during layer extraction and image registration', async () => {
  const before = await assertConsistent();
  const points: [string, () => boolean][] = [
    ['first layer extracting', () => list(dir('layers/.tmp')).length > 0],
    ['two layers in place', () => list(dir('layers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).length >= before.length + 2],
    ['all sent, a few ms in', () => true],
  ];
  for (const [name, ready] of points) {
    const req = startLoad(big.tar, true);
    assert.ok(await waitFor(ready), name);
    await crashAndRestart();
    req.destroy();
    const ids = await assertConsistent();
    // Either the load had finished (the image is complete and tagged) or nothing of it is listed.
    const extra = ids.filter((i) => !before.includes(i));
    assert.ok(extra.length === 0 || (extra.length === 1 && extra[0] === big.built[0]!.id), `${name}: ${JSON.stringify(extra)}`);
    if (extra.length === 1) assert.equal((await d.docker(['rmi', 'rt/crash:1'])).code, 0);
  }
  const r = await d.docker(['load'], { input: big.tar });
  assert.deepEqual([r.code, r.stdout], [0, 'Loaded image: rt/crash:1\n']);
  await assertConsistent();
});

test('kill -9 during rmi, prune and import: the operation can be repeated and the store stays consistent', async () => {
  for (const op of ['rmi', 'prune', 'import'] as const) {
    if (op !== 'import' && (await d.docker(['images', '-q', 'rt/crash:1'])).stdout === '') {
      assert.equal((await d.docker(['load'], { input: big.tar })).code, 0);
    }
    if (op === 'prune') assert.equal((await d.docker(['tag', 'rt/crash:1', 'rt/other:1'])).code, 0);
    if (op === 'prune') assert.equal((await d.docker(['rmi', 'rt/crash:1', 'rt/other:1'])).code, 0);
    if (op === 'prune') assert.equal((await d.docker(['load'], { input: big.tar })).code, 0);
    const layerCount = list(dir('layers')).length;
    const path_ = op === 'rmi' ? '/v1.50/images/rt/crash:1' : op === 'prune' ? '/v1.50/images/prune?filters=%7B%22dangling%22%3A%7B%22false%22%3Atrue%7D%2C%22label%22%3A%7B%22none%22%3Atrue%7D%7D' : '/v1.50/images/create?fromSrc=-&repo=rt/imp';
    const req = http.request({ socketPath: d.socket, method: op === 'rmi' ? 'DELETE' : 'POST', path: path_ });
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    if (op === 'import') req.end(big.tar.subarray(0, 9 << 20));
    else req.end();
    await waitFor(() => list(dir('layers')).length !== layerCount || list(dir('layers/.tmp')).length > 0, 200);
    await crashAndRestart();
    await assertConsistent();
    if (op === 'rmi') {
      const again = await d.docker(['rmi', 'rt/crash:1']);
      assert.ok(again.code === 0 || /No such image/.test(again.stderr), again.stderr);
    } else if (op === 'prune') {
      assert.equal((await d.docker(['image', 'prune', '-af'])).code, 0);
    } else {
      const again = await d.docker(['import', '-', 'rt/imp'], { input: await makeTar([{ name: 'f', body: 'x' }]) });
      assert.equal(again.code, 0, again.stderr);
    }
    await assertConsistent();
  }
});

test('a client that goes away mid-upload leaves nothing behind, without a restart', async () => {
  const before = await assertConsistent();
  const req = startLoad(big.tar, false);
  assert.ok(await waitFor(() => list(dir('layers/.tmp')).length > 0 || list(dir('content/ingest')).length > 0), 'the daemon is receiving');
  req.destroy();
  assert.ok(await waitFor(() => list(dir('layers/.tmp')).length === 0 && list(dir('content/ingest')).length === 0), 'temp files removed');
  assert.deepEqual(await assertConsistent(), before);
});

test('an image force-removed under a stopped container keeps its layers across a kill -9, and loses them with the container', async () => {
  const layer = await makeTar([{ name: 'kept.txt', body: 'kept across a crash\n' }]);
  const busybox = fs.readFileSync(path.join(IMAGES_DIR, 'busybox.tar'));
  const { tar, built } = await dockerArchive([{ layers: [busybox, layer], repoTags: ['rt/kept:1'], cmd: ['cat', '/kept.txt'] }]);
  assert.equal((await d.docker(['load'], { input: tar })).code, 0);
  assert.equal((await d.docker(['create', '--name', 'kept-c', 'rt/kept:1'])).code, 0);
  const r = await d.docker(['rmi', '-f', 'rt/kept:1']);
  assert.equal(r.stdout, `Untagged: rt/kept:1\nDeleted: ${built[0]!.id}\n`);
  await crashAndRestart();
  const top = hex(chainIds(built[0]!.diffIds)[1]!);
  assert.ok(list(dir('layers')).includes(top), 'the container still needs the layer');
  const run = await d.docker(['start', '-a', 'kept-c']);
  assert.deepEqual([run.code, run.stdout], [0, 'kept across a crash\n']);
  assert.equal((await d.docker(['image', 'inspect', built[0]!.id])).code, 1, 'but the image is gone for users');
  assert.equal((await d.docker(['rm', 'kept-c'])).code, 0);
  assert.ok(await waitFor(() => !list(dir('layers')).includes(top)), 'freed with the container');
  await assertConsistent();
});

test('start-up sweep removes what a crash can leave: temp files, unreferenced layers and blobs, dangling records', async () => {
  await d.kill9();
  fs.mkdirSync(dir('layers/.tmp/abc/diff'), { recursive: true });
  fs.writeFileSync(dir('content/ingest/partial'), 'half a blob');
  const orphanLayer = crypto.randomBytes(32).toString('hex');
  fs.mkdirSync(dir('layers', orphanLayer, 'diff'), { recursive: true });
  const orphanBlob = crypto.createHash('sha256').update('orphan').digest('hex');
  fs.writeFileSync(dir('content/sha256', orphanBlob), 'orphan');
  // an index entry whose config blob never made it to disk
  const images = JSON.parse(fs.readFileSync(dir('images.json'), 'utf8'));
  images.images[`sha256:${'e'.repeat(64)}`] = { size: 1 };
  fs.writeFileSync(dir('images.json'), JSON.stringify(images));
  await d.launch();
  await assertConsistent();
  assert.ok(!(await d.docker(['images', '-aq', '--no-trunc'])).stdout.includes('e'.repeat(64)));
});

test('bad archives: clear errors, nothing stored, nothing lost', async () => {
  const before = await assertConsistent();
  const layer = await makeTar([{ name: 'ok.txt', body: 'fine\n' }]);
  const good = await dockerArchive([{ layers: [layer], repoTags: ['rt/bad:1'] }]);
  const wrongDiff = await dockerArchive([{ layers: [layer], repoTags: ['rt/bad:1'] }]);
  const tamperedLayer = await makeTar([{ name: 'ok.txt', body: 'evil\n' }]);
  const tamperedArchive = await makeTar([
    { name: `${hex(wrongDiff.built[0]!.diffIds[0]!)}.tar`, body: tamperedLayer },
    { name: `${hex(wrongDiff.built[0]!.id)}.json`, body: wrongDiff.built[0]!.config },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${hex(wrongDiff.built[0]!.id)}.json`, RepoTags: ['rt/bad:1'], Layers: [`${hex(wrongDiff.built[0]!.diffIds[0]!)}.tar`] }]) },
  ]);
  const unknownMedia = await ociLayout([{ layers: [layer], layerMediaType: 'application/vnd.example.unknown', refName: 'rt/bad:1' }]);
  const badBlobName = (await ociLayout([{ layers: [layer], refName: 'rt/bad:1' }])).tar;
  // flip a byte inside the layer blob: its content no longer matches its name
  const idx = badBlobName.indexOf(Buffer.from('fine\n'));
  const wrongDigest = Buffer.from(badBlobName);
  wrongDigest[idx] = 'F'.charCodeAt(0);
  const gzipLayerButCorrupt = await ociLayout([
    { layers: [layer], layerMediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', transformLayer: () => Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]), refName: 'rt/bad:1' },
  ]);
  const cases: [string, Buffer, RegExp][] = [
    ['not a tar', Buffer.from('this is not a tar archive\n'.repeat(40)), /invalid tar|not an image archive/],
    ['empty input', Buffer.alloc(0), /invalid tar archive/],
    ['truncated', good.tar.subarray(0, 1500), /invalid tar archive|Unexpected end|not an image archive|missing/],
    ['a tar but no image', await makeTar([{ name: 'hello.txt', body: 'hi' }]), /not an image archive/],
    ['layer does not match its diff ID', tamperedArchive, /invalid diffID for layer 0: expected "sha256:[0-9a-f]{64}", got "sha256:[0-9a-f]{64}"/],
    ['unknown layer media type', unknownMedia.tar, /unsupported layer media type "application\/vnd.example.unknown"/],
    ['blob content does not match its digest', wrongDigest, /wrong digest for blobs\/sha256\//],
    ['corrupt gzip layer', gzipLayerButCorrupt.tar, /invalid gzip|invalid tar|unexpected end|incorrect header/i],
    ['layers missing', await makeTar([{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', Layers: [] }]) }]), /c\.json is missing/],
  ];
  for (const [name, input, message] of cases) {
    const r = await d.docker(['load'], { input });
    assert.equal(r.code, 1, `${name}: ${r.stdout}`);
    assert.match(r.stderr, message, name);
    assert.deepEqual(await assertConsistent(), before, name);
  }
  const ok = await d.docker(['load'], { input: good.tar });
  assert.deepEqual([ok.code, ok.stdout], [0, 'Loaded image: rt/bad:1\n']);
});
