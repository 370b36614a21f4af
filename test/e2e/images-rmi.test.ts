import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { IMAGES_DIR, TestDaemon } from './harness';
import { dockerArchive, fileLayer, hex, imageConfig, makeTar } from './images-fixtures';
import { chainIds } from '../../src/engine/layers/chain-id';

let d: TestDaemon;
let busyboxLayer: Buffer;

before(async () => {
  d = await TestDaemon.start();
  busyboxLayer = fs.readFileSync(path.join(IMAGES_DIR, 'busybox.tar'));
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const short = (id: string): string => hex(id).slice(0, 12);
const layerDirs = (): string[] => fs.readdirSync(path.join(d.dataRoot, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
const blobs = (): string[] => fs.readdirSync(path.join(d.dataRoot, 'content/sha256'));

async function imageId(ref: string): Promise<string> {
  const r = await d.docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function load(tar: Buffer): Promise<string> {
  const r = await d.docker(['load'], { input: tar });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('tag adds references; rmi of one of several tags only untags', async () => {
  const id = await imageId('busybox:latest');
  let r = await d.docker(['tag', 'busybox:latest', 'rt/a:1']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  r = await d.docker(['tag', 'busybox', 'localhost:5000/rt/b']);
  assert.equal(r.code, 0, r.stderr);
  r = await d.docker(['image', 'inspect', '--format', '{{json .RepoTags}}', id]);
  assert.equal(r.stdout.trim(), '["busybox:latest","rt/a:1","localhost:5000/rt/b:latest"]'); // sorted by full name

  r = await d.docker(['rmi', 'rt/a:1']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Untagged: rt/a:1\n', '']);
  r = await d.docker(['rmi', short(id)]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short(id)} (must be forced) - image is referenced in multiple repositories\n`);
  r = await d.docker(['rmi', 'localhost:5000/rt/b']);
  assert.deepEqual([r.code, r.stdout], [0, 'Untagged: localhost:5000/rt/b:latest\n']);
  assert.equal(await imageId('busybox:latest'), id);
  const events = await d.docker(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
  assert.match(events.stdout, new RegExp(`^tag ${id} rt/a:1\ntag ${id} localhost:5000/rt/b:latest\nuntag ${id} ${id}\n`, 'm'));
});

test('tag: Docker texts for bad repositories and tags, 404 for a missing image', async () => {
  const post = (q: string, name = 'busybox') => d.api('POST', `/v1.50/images/${name}/tag?${q}`);
  let r = await post('repo=Bad&tag=x');
  assert.deepEqual([r.status, JSON.parse(r.body).message], [400, 'invalid reference format: repository name (library/Bad) must be lowercase']);
  r = await post('repo=ok&tag=b@d');
  assert.deepEqual([r.status, JSON.parse(r.body).message], [400, 'invalid tag format']);
  r = await post('repo=sha256&tag=x');
  assert.deepEqual([r.status, JSON.parse(r.body).message], [400, 'refusing to create an ambiguous tag using digest algorithm as name']);
  r = await post('repo=ok&tag=1', 'nosuch');
  assert.deepEqual([r.status, JSON.parse(r.body).message], [404, 'No such image: nosuch:latest']);
  r = await post('repo=ok&tag=1');
  assert.equal(r.status, 201);
  r = await d.api('DELETE', '/v1.50/images/ok:1');
  assert.deepEqual(JSON.parse(r.body), [{ Untagged: 'ok:1' }]);
  r = await d.api('DELETE', '/v1.50/images/nosuch');
  assert.deepEqual([r.status, JSON.parse(r.body).message], [404, 'No such image: nosuch:latest']);
});

test('rmi deletes an image and exactly the layers and blobs no other image shares', async () => {
  const base = await fileLayer('base.txt', 'base\n');
  const top1 = await fileLayer('one.txt', 'one\n');
  const top2 = await fileLayer('two.txt', 'two\n');
  const { tar, built } = await dockerArchive([
    { layers: [base, top1], repoTags: ['rt/one:1'] },
    { layers: [base, top2], repoTags: ['rt/two:1'] },
  ]);
  const layersBefore = layerDirs().length;
  assert.equal(await load(tar), 'Loaded image: rt/one:1\nLoaded image: rt/two:1\n');
  assert.equal(layerDirs().length, layersBefore + 3);
  const [one, two] = built as [ReturnType<typeof imageConfig>, ReturnType<typeof imageConfig>];
  const chainOne = chainIds(one.diffIds);
  const chainTwo = chainIds(two.diffIds);

  let r = await d.docker(['rmi', 'rt/one:1']);
  assert.deepEqual([r.code, r.stderr], [0, '']);
  assert.equal(r.stdout, `Untagged: rt/one:1\nDeleted: ${one.id}\nDeleted: ${chainOne[1]}\n`);
  assert.ok(!layerDirs().includes(hex(chainOne[1]!)));
  assert.ok(layerDirs().includes(hex(chainOne[0]!)), 'the shared base layer stays');
  assert.ok(!blobs().includes(hex(one.id)) && !blobs().includes(hex(one.diffIds[1]!)));
  assert.ok(blobs().includes(hex(one.diffIds[0]!)));

  r = await d.docker(['rmi', hex(two.id).slice(0, 8)]);
  assert.equal(r.stdout, `Untagged: rt/two:1\nDeleted: ${two.id}\nDeleted: ${chainTwo[1]}\nDeleted: ${chainTwo[0]}\n`);
  assert.equal(layerDirs().length, layersBefore);
  for (const digest of [two.id, ...two.diffIds]) assert.ok(!blobs().includes(hex(digest)));

  const events = await d.docker(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}}']);
  assert.match(events.stdout, new RegExp(`untag ${two.id}\ndelete ${two.id}\n`));
});

test('containers: must-force texts, running containers block even -f, -f keeps the layers a stopped container needs', async () => {
  const top = await fileLayer('hello.txt', 'hello from a deleted image\n');
  const { tar, built } = await dockerArchive([{ layers: [busyboxLayer, top], repoTags: ['rt/c:1'], cmd: ['cat', '/hello.txt'] }]);
  await load(tar);
  const id = built[0]!.id;
  const chain = chainIds(built[0]!.diffIds);
  let r = await d.docker(['create', '--name', 'rmi-c1', 'rt/c:1']);
  assert.equal(r.code, 0, r.stderr);
  const c1 = r.stdout.trim();

  r = await d.docker(['rmi', 'rt/c:1']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error response from daemon: conflict: unable to remove repository reference "rt/c:1" (must force) - container ${c1.slice(0, 12)} is using its referenced image ${short(id)}\n`);
  r = await d.docker(['rmi', hex(id)]);
  assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short(id)} (must be forced) - image is being used by stopped container ${c1.slice(0, 12)}\n`);

  r = await d.docker(['run', '-d', '--name', 'rmi-c2', 'rt/c:1', 'sleep', '60']);
  assert.equal(r.code, 0, r.stderr);
  const c2 = r.stdout.trim();
  r = await d.docker(['rmi', '-f', hex(id)]);
  assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short(id)} (cannot be forced) - image is being used by running container ${c2.slice(0, 12)}\n`);
  assert.equal((await d.docker(['rm', '-f', 'rmi-c2'])).code, 0);

  r = await d.docker(['rmi', '-f', 'rt/c:1']);
  assert.deepEqual([r.code, r.stdout], [0, `Untagged: rt/c:1\nDeleted: ${id}\n`]);
  r = await d.docker(['image', 'inspect', id]);
  assert.equal(r.code, 1);
  assert.ok(!(await d.docker(['images', '-aq', '--no-trunc'])).stdout.includes(id));
  assert.ok(layerDirs().includes(hex(chain[1]!)), 'the stopped container still has its layers');
  r = await d.docker(['start', '-a', 'rmi-c1']);
  assert.deepEqual([r.code, r.stdout], [0, 'hello from a deleted image\n']);

  assert.equal((await d.docker(['rm', 'rmi-c1'])).code, 0);
  for (let i = 0; i < 50 && layerDirs().includes(hex(chain[1]!)); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(!layerDirs().includes(hex(chain[1]!)), 'released once the container is gone');
});

test('rmi prunes untagged parents unless --no-prune', async () => {
  const a = await fileLayer('a', 'a');
  const b = await fileLayer('b', 'b');
  const parent = imageConfig({ layers: [a] });
  const child = imageConfig({ layers: [a, b], repoTags: ['rt/child:1'] });
  // manifest.json records the parent link, as `docker save` of a built image does
  const manifest = [
    { Config: `${hex(parent.id)}.json`, RepoTags: null, Layers: [`${hex(parent.diffIds[0]!)}.tar`] },
    { Config: `${hex(child.id)}.json`, RepoTags: ['rt/child:1'], Layers: child.diffIds.map((x) => `${hex(x)}.tar`), Parent: parent.id },
  ];
  const tar = await makeTar([
    { name: `${hex(parent.diffIds[0]!)}.tar`, body: a },
    { name: `${hex(child.diffIds[1]!)}.tar`, body: b },
    { name: `${hex(parent.id)}.json`, body: parent.config },
    { name: `${hex(child.id)}.json`, body: child.config },
    { name: 'manifest.json', body: JSON.stringify(manifest) },
  ]);
  assert.equal(await load(tar), 'Loaded image: rt/child:1\n');
  let r = await d.docker(['image', 'inspect', '--format', '{{.Parent}}', 'rt/child:1']);
  assert.equal(r.stdout.trim(), parent.id);
  r = await d.docker(['rmi', parent.id]);
  assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short(parent.id)} (cannot be forced) - image has dependent child images\n`);

  r = await d.docker(['rmi', '--no-prune', 'rt/child:1']);
  assert.equal(r.stdout, `Untagged: rt/child:1\nDeleted: ${child.id}\nDeleted: ${chainIds(child.diffIds)[1]}\n`);
  assert.equal(await imageId(parent.id), parent.id);
  assert.equal((await d.docker(['rmi', parent.id])).code, 0);

  await load(tar);
  r = await d.docker(['rmi', 'rt/child:1']);
  assert.equal(
    r.stdout,
    `Untagged: rt/child:1\nDeleted: ${child.id}\nDeleted: ${chainIds(child.diffIds)[1]}\nDeleted: ${parent.id}\nDeleted: ${parent.diffIds[0]}\n`,
  );
});
