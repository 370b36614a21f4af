import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from './harness';
import { dockerArchive, fileLayer, hex } from './images-fixtures';
import { chainIds } from '../../src/engine/layers/chain-id';

let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const layerDirs = (): string[] => fs.readdirSync(path.join(d.dataRoot, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));

async function load(tar: Buffer): Promise<void> {
  const r = await d.docker(['load'], { input: tar });
  assert.equal(r.code, 0, r.stderr);
}

test('image ls filters: dangling, label, reference, before, since', async () => {
  const l1 = await fileLayer('f1', 'one');
  const old = await dockerArchive([{ layers: [l1], repoTags: ['rt/f:1'], labels: { tier: 'a' }, created: '2020-01-01T00:00:00Z' }]);
  const mid = await dockerArchive([{ layers: [l1], repoTags: ['rt/g:1'], labels: { tier: 'b' }, created: '2021-01-01T00:00:00Z', cmd: ['g'] }]);
  const replaced = await dockerArchive([{ layers: [l1], repoTags: ['rt/f:1'], created: '2022-01-01T00:00:00Z', cmd: ['new'] }]);
  await load(old.tar);
  await load(mid.tar);
  await load(replaced.tar); // rt/f:1 moves; the 2020 image is now dangling
  const ls = async (...args: string[]) => (await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', ...args])).stdout.trim().split('\n');
  assert.deepEqual(await ls('--filter', 'dangling=true'), ['<none>:<none>']);
  assert.deepEqual(await ls('--filter', 'label=tier=b'), ['rt/g:1']);
  assert.deepEqual(await ls('--filter', 'label=tier'), ['rt/g:1', '<none>:<none>']);
  assert.deepEqual(await ls('--filter', 'reference=rt/*'), ['rt/f:1', 'rt/g:1']);
  assert.deepEqual(await ls('--filter', 'before=rt/f:1', '--filter', 'since=' + old.built[0]!.id), ['rt/g:1']);
  const bad = await d.docker(['images', '--filter', 'nope=1']);
  assert.deepEqual([bad.code, bad.stderr], [1, "Error response from daemon: invalid filter 'nope'\n"]);
});

test('image prune: dangling by default, -a for unused, label and until filters, space reclaimed', async () => {
  const id = hex((await d.docker(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])).stdout.trim());
  const danglingId = `sha256:${id}`;
  let r = await d.docker(['image', 'prune', '-f', '--filter', 'until=2019-01-01T00:00:00Z']);
  assert.deepEqual([r.code, r.stdout], [0, 'Total reclaimed space: 0B\n']);
  r = await d.docker(['image', 'prune', '-f']);
  assert.deepEqual([r.code, r.stderr], [0, '']);
  // the dangling image shares its only layer with rt/f:1 and rt/g:1, so no layer goes
  assert.equal(r.stdout, `Deleted Images:\ndeleted: ${danglingId}\n\nTotal reclaimed space: 0B\n`);

  const big = await fileLayer('big', Buffer.alloc(100_000, 7));
  const keep = await dockerArchive([{ layers: [big], repoTags: ['rt/keep:1'], labels: { keep: 'yes' } }]);
  const drop = await dockerArchive([{ layers: [big, await fileLayer('x', 'x')], repoTags: ['rt/drop:1', 'rt/drop:2'] }]);
  await load(keep.tar);
  await load(drop.tar);
  r = await d.docker(['create', '--name', 'prune-user', 'busybox', 'true']);
  assert.equal(r.code, 0, r.stderr);
  const dropChain = chainIds(drop.built[0]!.diffIds);
  const api = await d.api('POST', `/v1.50/images/prune?filters=${encodeURIComponent(JSON.stringify({ dangling: { false: true }, 'label!': { keep: true }, until: { '2030-01-01T00:00:00Z': true } }))}`);
  assert.equal(api.status, 200);
  const report = JSON.parse(api.body) as { ImagesDeleted: { Untagged?: string; Deleted?: string }[]; SpaceReclaimed: number };
  // busybox is used by a container; rt/keep:1 is excluded by label!; hello-world, rt/f and rt/g go
  const deleted = report.ImagesDeleted.filter((x) => x.Deleted).map((x) => x.Deleted);
  assert.ok(deleted.includes(drop.built[0]!.id));
  assert.ok(deleted.includes(dropChain[1]!));
  assert.ok(!deleted.includes(dropChain[0]!), 'the layer rt/keep:1 shares stays');
  assert.ok(report.ImagesDeleted.some((x) => x.Untagged === 'rt/drop:1') && report.ImagesDeleted.some((x) => x.Untagged === 'rt/drop:2'));
  assert.ok(report.ImagesDeleted.some((x) => x.Untagged === 'hello-world:latest'));
  assert.ok(report.SpaceReclaimed > 0);
  r = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['busybox:latest', 'rt/keep:1']);
  assert.ok(!layerDirs().includes(hex(dropChain[1]!)));
  r = await d.docker(['image', 'prune', '-a', '-f', '--filter', 'label=keep=yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Deleted Images:\nuntagged: rt/keep:1\ndeleted: ${keep.built[0]!.id}\ndeleted: ${keep.built[0]!.diffIds[0]}\n\nTotal reclaimed space: 100kB\n`);
  r = await d.docker(['image', 'prune', '-f', '--filter', 'foo=bar']);
  assert.deepEqual([r.code, r.stderr], [1, "Error response from daemon: invalid filter 'foo'\n"]);
  assert.equal((await d.docker(['rm', 'prune-user'])).code, 0);
});

test('system df: layer sizes from the store, shared sizes, container counts and SizeRw', async () => {
  const shared = await fileLayer('shared', Buffer.alloc(3000, 1));
  const { tar } = await dockerArchive([
    { layers: [shared, await fileLayer('a', Buffer.alloc(1000, 2))], repoTags: ['rt/df-a:1'] },
    { layers: [shared, await fileLayer('b', Buffer.alloc(500, 3))], repoTags: ['rt/df-b:1'] },
  ]);
  await load(tar);
  let r = await d.docker(['run', '--name', 'df-writer', 'busybox', 'sh', '-c', 'head -c 12345 /dev/zero > /data.bin']);
  assert.equal(r.code, 0, r.stderr);
  const res = await d.api('GET', '/v1.50/system/df');
  assert.equal(res.status, 200);
  const df = JSON.parse(res.body) as {
    LayersSize: number;
    Images: { RepoTags: string[]; Size: number; SharedSize: number; Containers: number }[];
    Containers: { Names: string[]; SizeRw: number; SizeRootFs: number }[];
    Volumes: unknown[];
    BuildCache: unknown[];
  };
  const busybox = df.Images.find((i) => i.RepoTags.includes('busybox:latest'))!;
  const a = df.Images.find((i) => i.RepoTags.includes('rt/df-a:1'))!;
  const b = df.Images.find((i) => i.RepoTags.includes('rt/df-b:1'))!;
  assert.deepEqual([a.Size, a.SharedSize, a.Containers], [4000, 3000, 0]);
  assert.deepEqual([b.Size, b.SharedSize], [3500, 3000]);
  assert.equal(busybox.Containers, 1);
  assert.equal(df.LayersSize, busybox.Size + 4500);
  const c = df.Containers.find((x) => x.Names[0] === '/df-writer')!;
  assert.equal(c.SizeRw, 12345);
  assert.equal(c.SizeRootFs, 12345 + busybox.Size);
  assert.deepEqual([df.Volumes, df.BuildCache], [[], []]);
  const listed = JSON.parse((await d.api('GET', '/v1.50/images/json?shared-size=1')).body) as { RepoTags: string[]; SharedSize: number }[];
  assert.equal(listed.find((i) => i.RepoTags.includes('rt/df-a:1'))!.SharedSize, 3000);
  const plain = JSON.parse((await d.api('GET', '/v1.50/images/json')).body) as { SharedSize: number }[];
  assert.ok(plain.every((i) => i.SharedSize === -1));

  r = await d.docker(['system', 'df']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.match(lines[1]!, /^Images\s+3\s+1\s+/);
  assert.match(lines[2]!, /^Containers\s+1\s+0\s+12\.35kB\s+12\.35kB \(100%\)$/);
  r = await d.docker(['system', 'df', '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rt\/df-a\s+1\s+[0-9a-f]{12}\s+.+\s+4kB\s+3kB\s+1kB\s+0/);
  assert.equal((await d.docker(['rm', 'df-writer'])).code, 0);
});

test('container sizes: ps -s and inspect --size; a stopped container is measured once until it starts or gets files', async () => {
  let r = await d.docker(['run', '--name', 'sized', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /five']);
  assert.equal(r.code, 0, r.stderr);
  const imageSize = Number((await d.docker(['image', 'inspect', '-f', '{{.Size}}', 'busybox'])).stdout.trim());
  const sizes = async () => {
    const out = (await d.docker(['inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'sized'])).stdout.trim();
    const ps = (await d.docker(['ps', '-a', '-s', '--filter', 'name=sized', '--format', '{{.Size}}'])).stdout.trim();
    const df = JSON.parse((await d.api('GET', '/v1.50/system/df')).body) as { Containers: { Names: string[]; SizeRw: number }[] };
    return { inspect: out, ps, df: df.Containers.find((c) => c.Names[0] === '/sized')!.SizeRw };
  };
  assert.deepEqual(await sizes(), { inspect: `5000 ${5000 + imageSize}`, ps: `5kB (virtual ${humanSize(5000 + imageSize)})`, df: 5000 });
  // without size=1 neither field is there, as in Docker
  const plain = JSON.parse((await d.api('GET', '/v1.50/containers/sized/json')).body) as Record<string, unknown>;
  assert.deepEqual(['SizeRw' in plain, 'SizeRootFs' in plain], [false, false]);

  // Bytes put into the upper dir behind the engine's back are not seen: the size is kept, not walked again...
  const upper = (await d.docker(['inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'sized'])).stdout.trim();
  fs.writeFileSync(path.join(upper, 'unseen'), Buffer.alloc(1000));
  assert.equal((await sizes()).df, 5000);
  // ...until files are copied in (docker cp) or the container starts.
  const src = fs.mkdtempSync('/tmp/berth-df-cp-');
  fs.writeFileSync(path.join(src, 'copied'), Buffer.alloc(300));
  r = await d.docker(['cp', path.join(src, 'copied'), 'sized:/copied']);
  fs.rmSync(src, { recursive: true, force: true });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await sizes()).df, 6300);
  fs.writeFileSync(path.join(upper, 'unseen2'), Buffer.alloc(700));
  assert.equal((await sizes()).df, 6300);
  r = await d.docker(['start', '-a', 'sized']); // rewrites /five: same size
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await sizes()).df, 7000);
  // a running container is measured on every call
  r = await d.docker(['run', '-d', '--name', 'sized-live', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const live = async () => Number((await d.docker(['inspect', '--size', '-f', '{{.SizeRw}}', 'sized-live'])).stdout.trim());
  const before = await live();
  assert.equal((await d.docker(['exec', 'sized-live', 'sh', '-c', 'head -c 2222 /dev/zero > /more'])).code, 0);
  assert.equal(await live(), before + 2222);
  assert.equal((await d.docker(['rm', '-f', 'sized', 'sized-live'])).code, 0);
});

/** docker's units.HumanSizeWithPrecision(n, 3) for the sizes in these tests. */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}
