import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import * as tarStream from 'tar-stream';
import { EngineError } from '../../src/util/errors';
import { ImageService, normalizeReference } from '../../src/engine/images/service';
import { makeTar } from '../e2e/images-fixtures';

type Entry = tarStream.Headers & { body?: string | Buffer };


const sha256 = (data: Buffer): string => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
const stream = (data: Buffer): Readable => Readable.from([data]);
const tmpRoots: string[] = [];

function tempDataRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-'));
  tmpRoots.push(dir);
  return path.join(dir, 'data');
}

function isEngineError(status: number, message: RegExp) {
  return (err: unknown): boolean => err instanceof EngineError && err.status === status && message.test(err.message);
}

const ROOTFS: Entry[] = [
  { name: 'bin/', type: 'directory', mode: 0o755 },
  { name: 'bin/sh', body: '#!fake shell\n', mode: 0o755 },
  { name: 'etc/', type: 'directory', mode: 0o755 },
  { name: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
];

after(() => {
  for (const dir of tmpRoots) fs.rmSync(dir, { recursive: true, force: true });
});

describe('ImageService.importImage', () => {
  test('stores the config; the ID is the digest of the stored config bytes', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    const tar = await makeTar(ROOTFS);
    const id = await svc.importImage(stream(tar), { repo: 'busybox', tag: 'latest', changes: ['CMD ["sh"]'] });
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const configBytes = fs.readFileSync(path.join(root, 'content', 'sha256', id.slice(7)));
    assert.equal(sha256(configBytes), id);
    const config = JSON.parse(configBytes.toString());
    assert.equal(config.architecture, 'amd64');
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config, { Cmd: ['sh'] });
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [sha256(tar)] });
    assert.deepEqual(config.history, [{ created: config.created, comment: 'Imported from -' }]);
    assert.match(config.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);

    const record = svc.get('busybox');
    assert.equal(record.id, id);
    assert.deepEqual(record.config, { Cmd: ['sh'] });
    assert.deepEqual(record.repoTags, ['busybox:latest']);
    assert.deepEqual(record.repoDigests, []);
    assert.deepEqual(record.layers, [sha256(tar)]);
    assert.equal(record.created, config.created);
    assert.equal(record.size, '#!fake shell\n'.length + 'root:x:0:0:root:/root:/bin/sh\n'.length);
    assert.equal(svc.count(), 1);
    const [lower] = svc.lowerDirs(id);
    assert.equal(fs.readFileSync(path.join(lower, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
    assert.equal(svc.layerDir(sha256(tar)), lower);
  });

  test('message, repo with its own tag, gzip input', async () => {
    const svc = await ImageService.open(tempDataRoot());
    const tar = await makeTar(ROOTFS);
    const id = await svc.importImage(stream(zlib.gzipSync(tar)), { repo: 'mytest/imported:1', message: 'from a gzip' });
    const record = svc.get('mytest/imported:1');
    assert.equal(record.id, id);
    assert.deepEqual(record.layers, [sha256(tar)], 'the diff ID is the digest of the uncompressed tar');
    const inspect = svc.inspect(id) as { Comment: string; Config: { Cmd: unknown } };
    assert.equal(inspect.Comment, 'from a gzip');
    assert.equal(inspect.Config.Cmd, null);
    const untagged = await svc.importImage(stream(tar), {});
    assert.deepEqual(svc.get(untagged).repoTags, []);
  });

  test('bad changes and bad references are refused before the body is read', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    let read = false;
    const body = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    await assert.rejects(svc.importImage(body, { changes: ['RUN echo hi'] }), isEngineError(400, /^RUN is not a valid change command$/));
    await assert.rejects(svc.importImage(body, { repo: 'Bad' }), isEngineError(400, /must be lowercase/));
    await assert.rejects(svc.importImage(body, { repo: 'x@sha256:' + 'c'.repeat(64) }), isEngineError(400, /cannot import digest reference/));
    assert.equal(read, false);
    assert.equal(svc.count(), 0);
  });

  test('garbage and truncated input are 400s and leave nothing behind', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    const tar = await makeTar([...ROOTFS, { name: 'big', body: Buffer.alloc(40_000, 1) }]);
    await assert.rejects(svc.importImage(stream(tar.subarray(0, 10_000)), { repo: 'broken' }), isEngineError(400, /invalid tar/));
    // A body that is still open: reading stops at the bad header, and the body is left to the
    // caller (not destroyed), which still has to answer on that connection.
    const openBody = new Readable({ read() {} });
    openBody.push(crypto.randomBytes(2048));
    await assert.rejects(svc.importImage(openBody, { repo: 'broken' }), isEngineError(400, /invalid tar/));
    assert.equal(openBody.destroyed, false);
    assert.equal(svc.count(), 0);
    assert.equal(svc.resolve('broken'), undefined);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'sha256')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'ingest')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers', '.tmp')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers')), ['.tmp']);
  });

  test('two images on the same layer share one layer directory', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    const tar = await makeTar(ROOTFS);
    const a = await svc.importImage(stream(tar), { repo: 'a', changes: ['CMD ["a"]'] });
    const b = await svc.importImage(stream(tar), { repo: 'b', changes: ['CMD ["b"]'] });
    assert.notEqual(a, b);
    assert.deepEqual(svc.lowerDirs(a), svc.lowerDirs(b));
    const layerDirs = fs.readdirSync(path.join(root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.deepEqual(layerDirs, [sha256(tar).slice(7)]);
  });
});

describe('ImageService.resolve', () => {
  test('by every name form and by full, short and prefixed IDs', async () => {
    const svc = await ImageService.open(tempDataRoot());
    const id = await svc.importImage(stream(await makeTar(ROOTFS)), { repo: 'busybox', tag: 'latest' });
    const hex = id.slice(7);
    const forms = [
      'busybox',
      'busybox:latest',
      'library/busybox',
      'library/busybox:latest',
      'docker.io/library/busybox',
      'docker.io/library/busybox:latest',
      'index.docker.io/library/busybox:latest',
      id,
      hex,
      hex.slice(0, 12),
      `sha256:${hex.slice(0, 12)}`,
      hex.slice(0, 3),
      `busybox@${id}`,
    ];
    for (const ref of forms) assert.equal(svc.resolve(ref)?.id, id, ref);
    for (const ref of ['busybox:other', 'other', 'docker.io/x/busybox', hex.slice(0, 12) + 'zz', `sha256:${'0'.repeat(64)}`]) {
      assert.equal(svc.resolve(ref), undefined, ref);
    }
    assert.throws(() => svc.get('nothere:1'), isEngineError(404, /^No such image: nothere:1$/));
    assert.throws(() => svc.get('Nothere'), isEngineError(400, /must be lowercase/));
  });

  test('an ambiguous ID prefix resolves to nothing', async () => {
    const svc = await ImageService.open(tempDataRoot());
    const tar = await makeTar(ROOTFS);
    const ids: string[] = [];
    // 17 IDs cannot all start with different hex digits.
    for (let i = 0; i < 17; i++) ids.push(await svc.importImage(stream(tar), { changes: [`LABEL n=${i}`] }));
    const first = ids.map((id) => id[7]);
    const shared = first.find((c, i) => first.indexOf(c) !== i) as string;
    assert.equal(svc.resolve(shared), undefined);
    assert.throws(() => svc.get(shared), isEngineError(404, /No such image/));
  });
});

describe('ImageService.tag', () => {
  test('adds tags, moves an existing tag, records LastTagTime', async () => {
    const svc = await ImageService.open(tempDataRoot());
    const tar = await makeTar(ROOTFS);
    const one = await svc.importImage(stream(tar), { repo: 'app', tag: 'v1', changes: ['LABEL v=1'] });
    const two = await svc.importImage(stream(tar), { changes: ['LABEL v=2'] });
    assert.equal((svc.inspect(two) as { Metadata: { LastTagTime: string } }).Metadata.LastTagTime, '0001-01-01T00:00:00Z');

    await svc.tag(one, 'docker.io/mytest/commit', '2');
    await svc.tag(one, 'localhost:5000/app:x');
    assert.deepEqual(svc.get(one).repoTags, ['app:v1', 'mytest/commit:2', 'localhost:5000/app:x'].sort((a, b) => normalizeReference(a).full.localeCompare(normalizeReference(b).full)));
    await svc.tag('app:v1', 'app');
    assert.equal(svc.resolve('app')?.id, one);
    await svc.tag(two, 'app', 'v1');
    assert.equal(svc.resolve('app:v1')?.id, two, 'the tag moved');
    assert.ok(!svc.get(one).repoTags.includes('app:v1'));
    assert.notEqual((svc.inspect(two) as { Metadata: { LastTagTime: string } }).Metadata.LastTagTime, '0001-01-01T00:00:00Z');

    await assert.rejects(() => svc.tag('nothere', 'x'), isEngineError(404, /No such image: nothere/));
    await assert.rejects(() => svc.tag(one, 'sha256', 'abc'), isEngineError(400, /ambiguous tag/));
    await assert.rejects(() => svc.tag(one, 'UP'), isEngineError(400, /must be lowercase/));
  });
});

describe('ImageService.list and inspect', () => {
  test('list items carry Docker\'s fields, newest first, with filters', async () => {
    const svc = await ImageService.open(tempDataRoot());
    const tar = await makeTar(ROOTFS);
    const first = await svc.importImage(stream(tar), { repo: 'web', tag: '1', changes: ['LABEL tier=front team=a'] });
    const second = await svc.importImage(stream(tar), { repo: 'db', tag: '1', changes: ['LABEL tier=back'] });
    const dangling = await svc.importImage(stream(tar), {});

    const all = svc.list({}) as Record<string, unknown>[];
    assert.deepEqual(all.map((i) => i.Id), [dangling, second, first]);
    const web = all[2];
    assert.deepEqual(Object.keys(web), ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'SharedSize', 'Labels', 'Containers']);
    assert.equal(web.ParentId, '');
    assert.deepEqual(web.RepoTags, ['web:1']);
    assert.deepEqual(web.RepoDigests, []);
    assert.equal(typeof web.Created, 'number');
    assert.ok(Math.abs((web.Created as number) - Date.now() / 1000) < 60);
    assert.equal(web.Size, svc.get(first).size);
    assert.equal(web.SharedSize, -1);
    assert.equal(web.Containers, -1);
    assert.deepEqual(web.Labels, { tier: 'front', team: 'a' });
    assert.equal(all[0].Labels, null);
    assert.deepEqual(all[0].RepoTags, []);

    const ids = (filters: Record<string, string[]>): unknown[] => (svc.list({ filters }) as { Id: string }[]).map((i) => i.Id);
    assert.deepEqual(ids({ dangling: ['true'] }), [dangling]);
    assert.deepEqual(ids({ dangling: ['false'] }), [second, first]);
    assert.deepEqual(ids({ label: ['tier'] }), [second, first]);
    assert.deepEqual(ids({ label: ['tier=front'] }), [first]);
    assert.deepEqual(ids({ label: ['tier', 'team=a'] }), [first]);
    assert.deepEqual(ids({ reference: ['w*'] }), [first]);
    assert.deepEqual(ids({ reference: ['docker.io/library/db:*'] }), [second]);
    assert.deepEqual(ids({ before: ['db:1'] }), [first]);
    assert.deepEqual(ids({ since: ['web:1'] }), [dangling, second]);
    assert.deepEqual(ids({ until: ['1h'] }), []);
    assert.throws(() => svc.list({ filters: { color: ['red'] } }), isEngineError(400, /invalid filter 'color'/));
    assert.throws(() => svc.list({ filters: { dangling: ['maybe'] } }), isEngineError(400, /invalid filter/));
    assert.throws(() => svc.list({ filters: { since: ['nothere'] } }), isEngineError(404, /No such image/));
  });

  test('inspect body', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    const tar = await makeTar(ROOTFS);
    const id = await svc.importImage(stream(tar), {
      repo: 'busybox',
      changes: ['CMD ["sh"]', 'ENV PATH=/bin', 'EXPOSE 80', 'LABEL a=b', 'WORKDIR /srv', 'STOPSIGNAL SIGTERM'],
    });
    const body = svc.inspect('busybox:latest') as Record<string, any>;
    assert.deepEqual(Object.keys(body), [
      'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author', 'Config',
      'Architecture', 'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata',
    ]);
    assert.equal(body.Id, id);
    assert.deepEqual(body.RepoTags, ['busybox:latest']);
    assert.equal(body.Comment, 'Imported from -');
    assert.equal(body.Created, svc.get(id).created);
    assert.deepEqual(body.Config, {
      User: '',
      ExposedPorts: { '80/tcp': {} },
      Env: ['PATH=/bin'],
      Entrypoint: null,
      Cmd: ['sh'],
      Volumes: null,
      WorkingDir: '/srv',
      Labels: { a: 'b' },
      OnBuild: null,
      StopSignal: 'SIGTERM',
    });
    assert.equal(body.Architecture, 'amd64');
    assert.equal(body.Os, 'linux');
    assert.equal(body.Size, svc.get(id).size);
    const layer = path.join(root, 'layers', sha256(tar).slice(7));
    assert.deepEqual(body.GraphDriver, {
      Data: { MergedDir: `${layer}/merged`, UpperDir: `${layer}/diff`, WorkDir: `${layer}/work` },
      Name: 'overlay2',
    });
    assert.deepEqual(body.RootFS, { Type: 'layers', Layers: [sha256(tar)] });
    assert.match(body.Metadata.LastTagTime, /^\d{4}-.*Z$/);
    assert.throws(() => svc.inspect('nothere'), isEngineError(404, /No such image: nothere/));
  });
});

describe('ImageService.open', () => {
  test('reloads images and tags, and sweeps what a crash left behind', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    const tar = await makeTar(ROOTFS);
    const id = await svc.importImage(stream(tar), { repo: 'keep', tag: 'me', changes: ['CMD ["sh"]'] });
    const orphanTar = await makeTar([{ name: 'orphan', body: 'o' }]);
    // A crash after a layer was stored but before its image was recorded:
    const orphan = await svc.layerStore.apply(stream(orphanTar), null);
    fs.mkdirSync(path.join(root, 'layers', '.tmp', 'half', 'diff'), { recursive: true });
    fs.writeFileSync(path.join(root, 'content', 'ingest', 'partial'), 'x');
    fs.writeFileSync(path.join(root, 'content', 'sha256', 'f'.repeat(64)), 'unreferenced');
    fs.mkdirSync(path.join(root, 'layers', 'e'.repeat(64), 'diff'), { recursive: true }); // no layer.json

    const reopened = await ImageService.open(root);
    assert.equal(reopened.count(), 1);
    assert.deepEqual(reopened.get('keep:me'), svc.get('keep:me'));
    assert.deepEqual(reopened.get(id).config, { Cmd: ['sh'] });
    assert.ok(!fs.existsSync(path.join(root, 'layers', orphan.chainId.slice(7))));
    assert.ok(!fs.existsSync(path.join(root, 'content', 'sha256', orphan.diffId.slice(7))));
    assert.ok(!fs.existsSync(path.join(root, 'content', 'sha256', 'f'.repeat(64))));
    assert.ok(!fs.existsSync(path.join(root, 'layers', 'e'.repeat(64))));
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'ingest')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers', '.tmp')), []);
    assert.ok(fs.existsSync(path.join(root, 'content', 'sha256', sha256(tar).slice(7))), 'the layer tar is kept');
    assert.ok(fs.existsSync(reopened.lowerDirs(id)[0]));
  });

  test('drops records whose config or layer is gone, and tags pointing at them', async () => {
    const root = tempDataRoot();
    const svc = await ImageService.open(root);
    const id = await svc.importImage(stream(await makeTar(ROOTFS)), { repo: 'lost' });
    fs.rmSync(path.join(root, 'content', 'sha256', id.slice(7)));
    const reopened = await ImageService.open(root);
    assert.equal(reopened.count(), 0);
    assert.equal(reopened.resolve('lost'), undefined);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'repositories.json'), 'utf8')), { Repositories: {} });
  });
});
