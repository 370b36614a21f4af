import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as os from 'node:os';
import { DockerClient } from '../../src/client/client';
import { ApiError, ConnectionError } from '../../src/client/errors';
import { parseHost } from '../../src/client/host';
import { readBody } from '../../src/client/transport';
import { acceptUpgrade, FakeDaemon, sendJSON } from '../../src/client/testing/fake-daemon';

async function withDaemon(fn: (d: FakeDaemon, c: DockerClient) => Promise<void>): Promise<void> {
  const d = new FakeDaemon();
  await d.start();
  const c = new DockerClient(parseHost(d.host));
  try {
    await fn(d, c);
  } finally {
    c.close();
    await d.stop();
  }
}

test('negotiates the API version with HEAD /_ping and prefixes paths', async () => {
  await withDaemon(async (d, c) => {
    d.apiVersion = '1.41';
    d.on('GET', '/info', (_req, res) => sendJSON(res, 200, { ID: 'x' }));
    assert.deepEqual(await c.info(), { ID: 'x' });
    assert.equal(d.requests[0].method, 'HEAD');
    assert.equal(d.requests[0].url, '/_ping');
    assert.equal(d.requests[1].url, '/v1.41/info');
    assert.equal(d.requests[1].headers.host, 'api.moby.localhost');
  });
});

test('caps the negotiated version at 1.50 and falls back to GET /_ping', async () => {
  await withDaemon(async (d, c) => {
    d.apiVersion = '1.99';
    d.on('HEAD', '/_ping', (_req, res) => {
      res.writeHead(404);
      res.end();
    });
    d.on('GET', '/_ping', (_req, res) => {
      res.setHeader('Api-Version', '1.99');
      res.end('OK');
    });
    d.on('GET', '/version', (_req, res) => sendJSON(res, 200, { Version: 'v' }));
    await c.version();
    assert.deepEqual(d.requests.map((r) => `${r.method} ${r.url}`), ['HEAD /_ping', 'GET /_ping', 'GET /v1.50/version']);
  });
});

test('daemon errors are worded like docker', async () => {
  await withDaemon(async (d, c) => {
    d.on('GET', '/containers/a/json', (_req, res) => sendJSON(res, 404, { message: 'No such container: a' }));
    d.on('GET', '/containers/b/json', (_req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"message":"x"}');
    });
    d.on('GET', '/containers/c/json', (_req, res) => {
      res.writeHead(404);
      res.end();
    });
    await assert.rejects(c.containerInspect('a'), (err: Error) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.statusCode, 404);
      assert.equal(err.message, 'Error response from daemon: No such container: a');
      return true;
    });
    await assert.rejects(c.containerInspect('b'), { message: 'Error response from daemon: {"message":"x"}' });
    await assert.rejects(c.containerInspect('c'), (err: Error) => {
      assert.match(err.message, /^request returned 404 Not Found for API route and version http:\/\/%2F.*docker\.sock\/v1\.50\/containers\/c\/json, check if the server supports the requested API version$/);
      return true;
    });
  });
});

test('connection failures name the host', async () => {
  const sock = path.join(os.tmpdir(), `berth-missing-${process.pid}.sock`);
  const c = new DockerClient(parseHost(`unix://${sock}`));
  await assert.rejects(c.info(), (err: Error) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.message, `Cannot connect to the Docker daemon at unix://${sock}. Is the docker daemon running?`);
    return true;
  });
  c.close();
});

test('wait resolves on headers; result arrives later', async () => {
  await withDaemon(async (d, c) => {
    let finish!: () => void;
    d.on('POST', '/containers/x/wait', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      finish = () => res.end('{"StatusCode":7}\n');
    });
    const h = await c.containerWait('x', 'next-exit');
    assert.equal(d.requests.at(-1)?.url, '/v1.50/containers/x/wait?condition=next-exit');
    finish();
    assert.deepEqual(await h.result, { StatusCode: 7 });
  });
});

test('hijack: 101 upgrade, raw duplex, half-close keeps output flowing', async () => {
  await withDaemon(async (d, c) => {
    d.onUpgrade('/containers/x/attach', (_req, socket) => {
      acceptUpgrade(socket);
      const chunks: Buffer[] = [];
      socket.on('data', (b: Buffer) => chunks.push(b));
      // Reply only after the client half-closed: the server must still be able to write.
      socket.on('end', () => socket.end(`got:${Buffer.concat(chunks).toString()}`));
    });
    const conn = await c.containerAttach('x', { stream: true, stdin: true, stdout: true, stderr: true });
    const req = d.requests.at(-1);
    assert.equal(req?.url, '/v1.50/containers/x/attach?stderr=1&stdin=1&stdout=1&stream=1');
    assert.equal(req?.headers.upgrade, 'tcp');
    assert.equal(req?.headers.connection, 'Upgrade');
    assert.equal(conn.mediaType, 'application/vnd.docker.raw-stream');
    conn.socket.write('hello');
    conn.socket.end();
    assert.equal((await readBody(conn.socket)).toString(), 'got:hello');
  });
});

test('hijack: anything but 101 is an upgrade error', async () => {
  await withDaemon(async (_d, c) => {
    await assert.rejects(c.containerAttach('nope', { stream: true }), { message: 'unable to upgrade to tcp, received 404' });
  });
});
