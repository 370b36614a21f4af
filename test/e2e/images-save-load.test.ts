import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tarStream from 'tar-stream';
import { Readable } from 'node:stream';
import { TestDaemon } from './harness';
import { LEGACY_BASE_V1, LEGACY_CHILD_V1, dockerArchive, fileLayer, hex, legacyArchive, makeTar, ociLayout, sha256 } from './images-fixtures';

let d: TestDaemon;
let work: string;

before(async () => {
  d = await TestDaemon.start();
  work = fs.mkdtempSync('/tmp/berth-save-');
});
after(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  assert.deepEqual(await d.stop(), []);
});

async function readTar(buf: Buffer): Promise<Map<string, { type: string; body: Buffer; mode: number; linkname?: string | null }>> {
  const out = new Map<string, { type: string; body: Buffer; mode: number; linkname?: string | null }>();
  const extract = tarStream.extract();
  Readable.from([buf]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.set(entry.header.name, { type: entry.header.type ?? 'file', body: Buffer.concat(chunks), mode: entry.header.mode ?? 0, linkname: entry.header.linkname });
  }
  return out;
}

const HISTORY_FIXTURE = async () => {
  const a = await fileLayer('a.txt', 'aaaa\n');
  const b = await fileLayer('b.txt', 'bbbbbbbb\n');
  return dockerArchive([
    {
      layers: [a, b],
      repoTags: ['rt/h:1'],
      labels: { 'x.y': 'z' },
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ', comment: 'base' },
        { created: '2024-01-02T00:00:00Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
        { created: '2024-01-03T00:00:00Z', created_by: '/bin/sh -c echo b > /b.txt' },
      ],
    },
  ]);
};

test('history: sizes per layer, <missing> below the image, comments and tags (as Docker 20.10 answers)', async () => {
  const { tar, built } = await HISTORY_FIXTURE();
  const loaded = await d.docker(['load'], { input: tar });
  assert.deepEqual([loaded.code, loaded.stdout], [0, 'Loaded image: rt/h:1\n']);
  const id = built[0]!.id;
  assert.equal(id, 'sha256:44d1e96b6558233d58f2b02af493740d9a2c8c3930d148c13031240e97a30ac1'); // the ID Docker gave the same archive
  const r = await d.api('GET', '/v1.50/images/rt/h:1/history');
  assert.equal(r.status, 200);
  assert.equal(
    r.body,
    `[{"Comment":"","Created":1704240000,"CreatedBy":"/bin/sh -c echo b > /b.txt","Id":"${id}","Size":9,"Tags":["rt/h:1"]},` +
      '{"Comment":"","Created":1704153600,"CreatedBy":"/bin/sh -c #(nop)  CMD [\\"sh\\"]","Id":"<missing>","Size":0,"Tags":null},' +
      '{"Comment":"base","Created":1704067200,"CreatedBy":"/bin/sh -c #(nop) ADD file:abc in / ","Id":"<missing>","Size":5,"Tags":null}]\n',
  );
  const cli = await d.docker(['history', '--no-trunc', '-H=false', 'rt/h:1']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(
    cli.stdout,
    'IMAGE                                                                     CREATED AT             CREATED BY                             SIZE      COMMENT\n' +
      `${id}   2024-01-03T00:00:00Z   /bin/sh -c echo b > /b.txt             9         \n` +
      '<missing>                                                                 2024-01-02T00:00:00Z   /bin/sh -c #(nop)  CMD ["sh"]          0         \n' +
      '<missing>                                                                 2024-01-01T00:00:00Z   /bin/sh -c #(nop) ADD file:abc in /    5         base\n',
  );
  const q = await d.docker(['history', '-q', 'rt/h:1']);
  assert.equal(q.stdout, `${hex(id).slice(0, 12)}\n<missing>\n<missing>\n`);
  const missing = await d.docker(['history', 'nosuch:1']);
  assert.deepEqual([missing.code, missing.stderr], [1, 'Error response from daemon: No such image: nosuch:1\n']);
});

test('save writes the OCI layout plus manifest.json and repositories (moby 28 layout)', async () => {
  const r = await d.docker(['save', '-o', path.join(work, 'h.tar'), 'rt/h:1']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  const files = await readTar(fs.readFileSync(path.join(work, 'h.tar')));
  const { built } = await HISTORY_FIXTURE();
  const { id, diffIds, config } = built[0]!;
  const manifestBlob = [...files.keys()].find((n) => n.startsWith('blobs/sha256/') && files.get(n)!.body.includes('"schemaVersion":2') && !n.endsWith(hex(id)))!;
  assert.deepEqual([...files.keys()], [
    'blobs/',
    'blobs/sha256/',
    ...[hex(id), ...diffIds.map(hex), manifestBlob.slice('blobs/sha256/'.length)].sort().map((h) => `blobs/sha256/${h}`),
    'index.json',
    'manifest.json',
    'oci-layout',
    'repositories',
  ]);
  assert.ok(files.get(`blobs/sha256/${hex(id)}`)!.body.equals(config), 'config bytes kept');
  assert.equal(sha256(files.get(manifestBlob)!.body), `sha256:${manifestBlob.slice('blobs/sha256/'.length)}`);
  assert.deepEqual(JSON.parse(files.get(manifestBlob)!.body.toString()), {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: config.length },
    layers: diffIds.map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: 2048 })),
  });
  assert.equal(
    files.get('manifest.json')!.body.toString(),
    JSON.stringify([{ Config: `blobs/sha256/${hex(id)}`, RepoTags: ['rt/h:1'], Layers: diffIds.map((x) => `blobs/sha256/${hex(x)}`) }]) + '\n',
  );
  assert.equal(files.get('repositories')!.body.toString(), JSON.stringify({ 'rt/h': { '1': hex(diffIds[1]!) } }) + '\n');
  assert.equal(files.get('oci-layout')!.body.toString(), '{"imageLayoutVersion": "1.0.0"}');
  assert.deepEqual(JSON.parse(files.get('index.json')!.body.toString()), {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${manifestBlob.slice('blobs/sha256/'.length)}`,
        size: files.get(manifestBlob)!.body.length,
        annotations: { 'io.containerd.image.name': 'docker.io/rt/h:1', 'org.opencontainers.image.ref.name': '1' },
      },
    ],
  });
  const missing = await d.docker(['save', '-o', path.join(work, 'x.tar'), 'rt/h:1', 'nosuch:2']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error response from daemon: reference does not exist\n');
  assert.ok(!fs.existsSync(path.join(work, 'x.tar')));
});

test('save → rmi → load keeps IDs, tags, history and layer bytes; several images in one archive', async () => {
  const before = (await d.docker(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout;
  const histBefore = (await d.api('GET', '/v1.50/images/rt/h:1/history')).body;
  const out = path.join(work, 'all.tar');
  let r = await d.docker(['save', '-o', out, 'busybox:latest', 'hello-world', 'rt/h:1']);
  assert.equal(r.code, 0, r.stderr);
  const first = await readTar(fs.readFileSync(out));
  r = await d.docker(['rmi', 'busybox:latest', 'hello-world', 'rt/h:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.docker(['images', '-q'])).stdout, '');
  const layers = fs.readdirSync(path.join(d.dataRoot, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  assert.deepEqual(layers, []);

  r = await d.docker(['load', '-i', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: busybox:latest\nLoaded image: hello-world:latest\nLoaded image: rt/h:1\n');
  assert.equal((await d.docker(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout, before);
  assert.equal((await d.api('GET', '/v1.50/images/rt/h:1/history')).body, histBefore);
  r = await d.docker(['save', '-o', out, 'busybox:latest', 'hello-world', 'rt/h:1']);
  const second = await readTar(fs.readFileSync(out));
  assert.deepEqual([...second.keys()], [...first.keys()]);
  for (const [name, f] of first) assert.ok(second.get(name)!.body.equals(f.body), `${name} is byte for byte the same`);
  r = await d.docker(['run', '--rm', 'busybox', 'echo', 'still runs']);
  assert.deepEqual([r.code, r.stdout], [0, 'still runs\n']);
});

test('load: quiet=0 streams progress, IDs only for untagged images, retagging message', async () => {
  const layer = await fileLayer('q.txt', 'quiet\n');
  const { tar, built } = await dockerArchive([{ layers: [layer] }]);
  let r = await d.docker(['load'], { input: tar });
  assert.deepEqual([r.code, r.stdout], [0, `Loaded image ID: ${built[0]!.id}\n`]);

  const other = await dockerArchive([{ layers: [layer], repoTags: ['rt/h:1'], cmd: ['other'] }]);
  const api = await fetchLoad(other.tar, false);
  const lines = api.trim().split('\r\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { stream: `The image rt/h:1 already exists, renaming the old one with ID sha256:44d1e96b6558233d58f2b02af493740d9a2c8c3930d148c13031240e97a30ac1 to empty string\n` },
    { stream: 'Loaded image: rt/h:1\n' },
  ]);
  const third = await dockerArchive([{ layers: [await fileLayer('p.txt', 'progress\n')], repoTags: ['rt/p:1'] }]);
  const progress = (await fetchLoad(third.tar, false)).trim().split('\r\n').map((l) => JSON.parse(l));
  const layerId = hex(third.built[0]!.diffIds[0]!).slice(0, 12);
  assert.deepEqual(progress, [
    { status: 'Loading layer', progressDetail: { current: 2048, total: 2048 }, progress: `[${'='.repeat(50)}>]  2.048kB/2.048kB`, id: layerId },
    { stream: 'Loaded image: rt/p:1\n' },
  ]);
});

function fetchLoad(tar: Buffer, quiet: boolean): Promise<string> {
  return d.api('POST', `/v1.50/images/load?quiet=${quiet ? 1 : 0}`, tar.toString('latin1')).then((r) => r.body);
}

test('load: an OCI image layout without manifest.json (names from the ref.name annotation)', async () => {
  const layer = await fileLayer('oci.txt', 'from an oci layout\n');
  const { tar, built } = await ociLayout([{ layers: [layer], refName: 'localhost:5000/rt/oci:2' }, { layers: [layer], cmd: ['x'], refName: 'latest' }]);
  const r = await d.docker(['load'], { input: tar });
  assert.equal(r.code, 0, r.stderr);
  // moby prints the "Loaded image ID" lines (all of them) only when the last image had no name
  assert.equal(r.stdout, `Loaded image: localhost:5000/rt/oci:2\nLoaded image ID: ${built[0]!.id}\nLoaded image ID: ${built[1]!.id}\n`);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'localhost:5000/rt/oci:2'])).stdout.trim(), built[0]!.id);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}}', built[1]!.id])).code, 0);
});

test('skopeo reads Berth’s save, and an archive skopeo writes loads with the same image ID', async () => {
  const saved = path.join(work, 'sk-in.tar');
  assert.equal((await d.docker(['save', '-o', saved, 'rt/h:1'])).code, 0);
  const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${saved}`], { encoding: 'utf8' })) as { Layers: string[]; Labels: Record<string, string> };
  const id = (await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'rt/h:1'])).stdout.trim();
  const diffIds = JSON.parse((await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'rt/h:1'])).stdout) as string[];
  assert.deepEqual(inspect.Layers, diffIds);
  const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--raw', `docker-archive:${saved}`], { encoding: 'utf8' }));
  assert.deepEqual(cfg.rootfs.diff_ids, diffIds);

  const written = path.join(work, 'sk-out.tar');
  const ociDir = path.join(work, 'sk-oci');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${saved}`, `oci:${ociDir}:x`]);
  execFileSync('skopeo', ['copy', '-q', `oci:${ociDir}:x`, `docker-archive:${written}:rt/skopeo:1`]);
  const files = await readTar(fs.readFileSync(written));
  const manifest = JSON.parse(files.get('manifest.json')!.body.toString()) as { Config: string }[];
  const expectedId = sha256(files.get(manifest[0]!.Config)!.body);
  const r = await d.docker(['load', '-i', written]);
  assert.deepEqual([r.code, r.stdout], [0, 'Loaded image: rt/skopeo:1\n']);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'rt/skopeo:1'])).stdout.trim(), expectedId);
  assert.notEqual(expectedId, id, 'skopeo converted the config to OCI, so the ID is its own');
  const ociTar = path.join(work, 'sk-oci.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${saved}`, `oci-archive:${ociTar}:localhost/rt/ociarchive:3`]);
  const r2 = await d.docker(['load', '-i', ociTar]);
  assert.deepEqual([r2.code, r2.stdout], [0, 'Loaded image: localhost/rt/ociarchive:3\n']);
});

test('load: Docker 20.10 save layout (<v1 id>/layer.tar, json, VERSION; repeated layers as symlinks)', async () => {
  const { imageConfig, makeTar } = await import('./images-fixtures');
  const shared = await fileLayer('shared.txt', 'shared\n');
  const own = await fileLayer('own.txt', 'own\n');
  const first = imageConfig({ layers: [shared], cmd: ['first'] });
  const second = imageConfig({ layers: [shared, own], cmd: ['second'] });
  const v1 = (n: number) => String(n).repeat(64).slice(0, 64);
  const tar = await makeTar([
    { name: `${v1(1)}/`, type: 'directory' },
    { name: `${v1(1)}/VERSION`, body: '1.0' },
    { name: `${v1(1)}/json`, body: JSON.stringify({ id: v1(1) }) },
    { name: `${v1(1)}/layer.tar`, body: shared },
    { name: `${v1(2)}/`, type: 'directory' },
    { name: `${v1(2)}/layer.tar`, type: 'symlink', linkname: `../${v1(1)}/layer.tar` },
    { name: `${v1(3)}/`, type: 'directory' },
    { name: `${v1(3)}/layer.tar`, body: own },
    { name: `${hex(first.id)}.json`, body: first.config },
    { name: `${hex(second.id)}.json`, body: second.config },
    {
      name: 'manifest.json',
      body: JSON.stringify([
        { Config: `${hex(first.id)}.json`, RepoTags: ['rt/legacy:first'], Layers: [`${v1(1)}/layer.tar`] },
        { Config: `${hex(second.id)}.json`, RepoTags: ['rt/legacy:second'], Layers: [`${v1(2)}/layer.tar`, `${v1(3)}/layer.tar`] },
      ]),
    },
    { name: 'repositories', body: JSON.stringify({ 'rt/legacy': { first: v1(1), second: v1(3) } }) },
  ]);
  const r = await d.docker(['load'], { input: tar });
  assert.deepEqual([r.code, r.stdout], [0, 'Loaded image: rt/legacy:first\nLoaded image: rt/legacy:second\n']);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}} {{len .RootFS.Layers}}', 'rt/legacy:second'])).stdout.trim(), `${second.id} 2`);
  const run = await d.docker(['save', 'rt/legacy:second'], {});
  assert.equal(run.code, 0);
});

test('load: a multi-platform OCI index picks linux/amd64; gzip layers with Docker media types', async () => {
  const { imageConfig, makeTar } = await import('./images-fixtures');
  const zlib = await import('node:zlib');
  const layer = await fileLayer('platform.txt', 'amd64\n');
  const gz = zlib.gzipSync(layer);
  const amd = imageConfig({ layers: [layer], cmd: ['amd64'] });
  const armConfig = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: amd.diffIds } }));
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => {
    blobs.set(sha256(b), b);
    return { digest: sha256(b), size: b.length };
  };
  const manifestFor = (config: Buffer) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...put(config) },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...put(gz) }],
      }),
    );
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', ...put(manifestFor(armConfig)), platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', ...put(manifestFor(amd.config)), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...put(list), annotations: { 'io.containerd.image.name': 'docker.io/rt/multi:1', 'org.opencontainers.image.ref.name': '1' } }],
  };
  const tar = await makeTar([
    ...[...blobs].map(([dg, body]) => ({ name: `blobs/sha256/${hex(dg)}`, body })),
    { name: 'index.json', body: JSON.stringify(index) },
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
  ]);
  const r = await d.docker(['load'], { input: tar });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Loaded image: rt/multi:1\n', '']);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}} {{.Architecture}}', 'rt/multi:1'])).stdout.trim(), `${amd.id} amd64`);
  // the gzip blob was only a carrier: the store keeps the uncompressed tar under its diff ID
  const blobsOnDisk = fs.readdirSync(path.join(d.dataRoot, 'content/sha256'));
  assert.ok(blobsOnDisk.includes(hex(amd.diffIds[0]!)));
  assert.ok(!blobsOnDisk.includes(hex(sha256(gz))));
  const run = await d.docker(['save', 'rt/multi:1', '-o', path.join(work, 'multi.tar')]);
  assert.equal(run.code, 0, run.stderr);
});

test('load: zstd- and gzip-compressed archives, OCI layers with tar+zstd media type', async () => {
  const layer = await fileLayer('zstd.txt', 'zstd layer\n');
  const zst = (b: Buffer) => execFileSync('zstd', ['-c', '-q'], { input: b });
  const oci = await ociLayout([
    { layers: [layer], layerMediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', transformLayer: zst, refName: 'docker.io/rt/zstd:1' },
  ]);
  let r = await d.docker(['load'], { input: oci.tar });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Loaded image: rt/zstd:1\n', '']);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'rt/zstd:1'])).stdout.trim(), oci.built[0]!.id);
  const saved = path.join(work, 'zstd.tar');
  assert.equal((await d.docker(['save', '-o', saved, 'rt/zstd:1'])).code, 0);
  assert.equal((await d.docker(['rmi', 'rt/zstd:1'])).code, 0);
  r = await d.docker(['load'], { input: zst(fs.readFileSync(saved)) });
  assert.deepEqual([r.code, r.stdout], [0, 'Loaded image: rt/zstd:1\n']);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'rt/zstd:1'])).stdout.trim(), oci.built[0]!.id);
});

test('load: a pre-1.10 archive (v1 image directories, no manifest.json) gets the image IDs Docker 20.10 gives it', async () => {
  const { tar, layers } = await legacyArchive();
  // The IDs Debian's Docker 20.10 reports after `docker load` of this very archive (moby's legacyLoad).
  const appId = 'sha256:4a601aa7ecd24432b50e2fb62d55cbb01e0a317cf12c52ea8a4675df0dacf0ef';
  const baseId = 'sha256:122f0e32924a7303d2cfaa26302f7a4a581ae1603d7d1fdc9ba2a4c8950bdfd3';
  const r = await d.docker(['load'], { input: tar });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', ''], 'legacy loads print nothing, as in Docker');
  const inspect = async (ref: string, f: string) => (await d.docker(['image', 'inspect', '-f', f, ref])).stdout.trim();
  assert.equal(await inspect('legacy/app:v1', '{{.Id}} {{.Parent}} {{.Created}}'), `${appId} ${baseId} 2015-10-01T12:00:01Z`);
  assert.equal(await inspect('legacy/base:latest', '{{.Id}} {{.Parent}} {{.Created}}'), `${baseId}  2015-10-01T12:00:00.5Z`);
  assert.equal(await inspect('legacy/app:v1', '{{json .RootFS.Layers}}'), JSON.stringify(layers.map(sha256)));
  assert.equal(await inspect('legacy/app:v1', '{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}|{{json .Config.Labels}}'), 'Ann <ann@example.com>|with & <html> é|["sh","-c","cat /f"]|{"k":"v"}');
  const history = await d.docker(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', 'legacy/app:v1']);
  assert.equal(history.stdout, `${appId}|/bin/sh -c echo a && echo b > /f|with & <html> é\n${baseId}|/bin/sh -c #(nop) ADD file:abc in /|\n`);
  // The converted config is moby's byte for byte: Go's JSON (sorted keys, compact, <>& escaped), v1-only fields gone.
  assert.equal((await d.docker(['save', '-o', path.join(work, 'legacy-saved.tar'), 'legacy/app:v1'])).code, 0);
  const saved = await readTar(fs.readFileSync(path.join(work, 'legacy-saved.tar')));
  const config = saved.get(`blobs/sha256/${hex(appId)}`)!.body.toString('utf8');
  assert.equal(sha256(config), appId);
  assert.ok(config.startsWith('{"architecture":"amd64","author":"Ann \\u003cann@example.com\\u003e","comment":"with \\u0026 \\u003chtml\\u003e é","config":{'), config);
  assert.ok(!/"(id|parent|Size|throwaway)":/.test(config), config);
  // The files are there.
  assert.equal((await d.docker(['create', '--name', 'legacy-c', 'legacy/app:v1'])).code, 0);
  assert.equal((await d.docker(['cp', 'legacy-c:/f', path.join(work, 'legacy-f')])).code, 0);
  assert.equal(fs.readFileSync(path.join(work, 'legacy-f'), 'utf8'), 'a && b <c>\n');
  assert.equal((await d.docker(['rm', 'legacy-c'])).code, 0);
  assert.equal((await d.docker(['rmi', 'legacy/app:v1', 'legacy/base:latest'])).code, 0);

  // Broken legacy archives: Docker's texts, nothing stored.
  const before = (await d.docker(['images', '-aq'])).stdout;
  const orphan = await makeTar([
    { name: `${LEGACY_CHILD_V1}/json`, body: JSON.stringify({ id: LEGACY_CHILD_V1, parent: LEGACY_BASE_V1, created: '2015-10-01T12:00:01Z' }) },
    { name: `${LEGACY_CHILD_V1}/layer.tar`, body: layers[1]! },
  ]);
  let bad = await d.docker(['load'], { input: orphan });
  assert.deepEqual([bad.code, bad.stderr], [1, `invalid archive: parent ${LEGACY_BASE_V1} of ${LEGACY_CHILD_V1} is missing\n`]);
  const unknownTag = await makeTar([
    { name: 'repositories', body: JSON.stringify({ x: { latest: LEGACY_BASE_V1 } }) },
    { name: `${LEGACY_CHILD_V1}/json`, body: JSON.stringify({ id: LEGACY_CHILD_V1, created: '2015-10-01T12:00:01Z' }) },
    { name: `${LEGACY_CHILD_V1}/layer.tar`, body: layers[1]! },
  ]);
  bad = await d.docker(['load'], { input: unknownTag });
  assert.deepEqual([bad.code, bad.stderr], [1, `invalid target ID: ${LEGACY_BASE_V1}\n`]);
  assert.equal((await d.docker(['images', '-aq'])).stdout, before);
});
