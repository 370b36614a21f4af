import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('HEAD and GET /_ping carry the headers the docker CLI reads', async () => {
  const head = await d.api('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.headers['api-version'], '1.50');
  assert.equal(head.headers['ostype'], 'linux');
  assert.equal(head.headers['docker-experimental'], 'false');
  assert.equal(head.headers['swarm'], 'inactive');
  assert.equal(head.body, '');
  const get = await d.api('GET', '/_ping');
  assert.equal(get.body, 'OK');
  assert.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
});

test('/version is a full object docker-py can negotiate with, on versioned and unversioned paths', async () => {
  for (const p of ['/version', '/v1.24/version', '/v1.50/version']) {
    const res = await d.api('GET', p);
    assert.equal(res.status, 200);
    const v = JSON.parse(res.body);
    assert.equal(v.ApiVersion, '1.50');
    assert.equal(v.MinAPIVersion, '1.24');
    assert.equal(v.Os, 'linux');
    for (const k of ['Version', 'Arch', 'KernelVersion', 'GitCommit', 'GoVersion']) assert.equal(typeof v[k], 'string', k);
    assert.equal(v.Components[0].Name, 'Engine');
  }
});

test('versions outside 1.24-1.50 get Docker\'s 400 texts', async () => {
  const high = await d.api('GET', '/v1.51/version');
  assert.equal(high.status, 400);
  assert.equal(high.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(high.body).message, 'client version 1.51 is too new. Maximum supported API version is 1.50');
  const low = await d.api('GET', '/v1.23/version');
  assert.equal(low.status, 400);
  assert.equal(
    JSON.parse(low.body).message,
    'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  );
});

test('/info reports real counts and host facts', async () => {
  const info = JSON.parse((await d.api('GET', '/info')).body);
  assert.equal(info.Driver, 'overlay2');
  assert.equal(info.Images, 2);
  assert.equal(info.Containers, 0);
  assert.equal(info.DockerRootDir, d.dataRoot);
  assert.equal(info.CgroupDriver, 'cgroupfs');
  assert.ok(['1', '2'].includes(info.CgroupVersion));
  assert.ok(info.NCPU >= 1);
  assert.ok(info.MemTotal > 0);
  assert.ok(info.Runtimes.runc.path.endsWith('runc'));
  const create = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(create.status, 201);
  const after1 = JSON.parse((await d.api('GET', '/info')).body);
  assert.equal(after1.Containers, 1);
  assert.equal(after1.ContainersStopped, 1);
  await d.api('DELETE', `/containers/${JSON.parse(create.body).Id}`);
});

test('errors are {"message"} with exactly application/json', async () => {
  const missing = await d.api('GET', '/containers/nope/json');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(missing.body), { message: 'No such container: nope' });
  const img = await d.api('GET', '/images/nope:1/json');
  assert.equal(img.status, 404);
  assert.equal(JSON.parse(img.body).message, 'No such image: nope:1');
  const route = await d.api('GET', '/plugins/x/json');
  assert.equal(route.status, 404);
  assert.equal(route.headers['content-type'], 'application/json');
});

test('malformed and oversized bodies are 400s and create nothing', async () => {
  const bad = await d.api('POST', '/containers/create', '{"Image": ');
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /^invalid JSON/);
  const notObject = await d.api('POST', '/containers/create', '[1,2]');
  assert.equal(notObject.status, 400);
  const noImage = await d.api('POST', '/containers/create', { Cmd: ['true'] });
  assert.equal(noImage.status, 400);
  const huge = await d.api('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Labels: { x: 'y'.repeat(17 * 1024 * 1024) } }));
  assert.equal(huge.status, 413);
  const list = JSON.parse((await d.api('GET', '/containers/json?all=1')).body);
  assert.equal(list.length, 0);
});

test('wait flushes its headers before the container exits', async () => {
  const { Id } = JSON.parse((await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '1'] })).body);
  const http = await import('node:http');
  const headersAt = await new Promise<number>((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: `/containers/${Id}/wait?condition=next-exit` }, (res) => {
      resolve(Date.now());
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
  const start = await d.api('POST', `/containers/${Id}/start`);
  assert.equal(start.status, 204);
  assert.ok(headersAt <= Date.now());
  const again = await d.api('POST', `/containers/${Id}/start`);
  assert.equal(again.status, 304);
  const waited = await d.api('POST', `/containers/${Id}/wait`);
  assert.deepEqual(JSON.parse(waited.body), { StatusCode: 0 });
  await d.api('DELETE', `/containers/${Id}?force=1`);
});

test('containers list filters by status, name, id and label', async () => {
  const mk = async (name: string, labels: Record<string, string>) =>
    JSON.parse((await d.api('POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sleep', '60'], Labels: labels })).body).Id as string;
  const a = await mk('fa', { tier: 'web' });
  const b = await mk('fb', { tier: 'db' });
  await d.api('POST', `/containers/${a}/start`);
  const q = async (filters: object, all = true) =>
    (JSON.parse((await d.api('GET', `/containers/json?all=${all ? 1 : 0}&filters=${encodeURIComponent(JSON.stringify(filters))}`)).body) as Array<{ Names: string[] }>)
      .map((c) => c.Names[0])
      .sort();
  assert.deepEqual(await q({ status: { running: true } }), ['/fa']);
  assert.deepEqual(await q({ status: { created: true } }), ['/fb']);
  assert.deepEqual(await q({ name: { fb: true } }), ['/fb']);
  assert.deepEqual(await q({ id: [b.slice(0, 8)] }), ['/fb']);
  assert.deepEqual(await q({ label: { 'tier=web': true } }), ['/fa']);
  assert.deepEqual(await q({ label: { tier: true } }), ['/fa', '/fb']);
  assert.deepEqual(await q({}, false), ['/fa']);
  const limited = JSON.parse((await d.api('GET', '/containers/json?limit=1')).body);
  assert.equal(limited.length, 1);
  assert.equal(limited[0].Names[0], '/fb');
  const bad = await d.api('GET', `/containers/json?filters=${encodeURIComponent('{"bogus":{"x":true}}')}`);
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).message, "invalid filter 'bogus'");
  await d.api('DELETE', `/containers/${a}?force=1`);
  await d.api('DELETE', `/containers/${b}?force=1`);
});
