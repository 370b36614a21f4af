import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { encodeFrame, JsonStreamDecoder, readJsonStream, StdcopyDemuxer, StreamError } from '../../src/client/streams';
import { encodeQuery, queryEscape } from '../../src/client/transport';
import { DEFAULT_HOST, parseHost, resolveHost } from '../../src/client/host';
import { encodeFilters, normalizeCapabilities } from '../../src/client/client';

test('stdcopy demuxer handles frames split at any byte', () => {
  const data = Buffer.concat([encodeFrame(1, 'out\n'), encodeFrame(2, 'err\n'), encodeFrame(0, 'in'), encodeFrame(1, '')]);
  for (let split = 0; split <= data.length; split++) {
    const got: string[] = [];
    const d = new StdcopyDemuxer((s, b) => got.push(`${s}:${b.toString()}`));
    d.push(data.subarray(0, split));
    d.push(data.subarray(split));
    assert.deepEqual(got, ['1:out\n', '2:err\n', '1:in', '1:'], `split at ${split}`);
    assert.equal(d.leftover, 0);
  }
});

test('stdcopy demuxer: byte-by-byte and systemerr/unknown streams', () => {
  const got: Buffer[] = [];
  const d = new StdcopyDemuxer((_s, b) => got.push(b));
  for (const byte of encodeFrame(1, 'hello')) d.push(Buffer.from([byte]));
  assert.equal(Buffer.concat(got).toString(), 'hello');
  const e = new StdcopyDemuxer(() => undefined);
  assert.throws(() => e.push(encodeFrame(3, 'boom')), (err: Error) => err instanceof StreamError && err.message === 'error from daemon in stream: boom');
  const u = new StdcopyDemuxer(() => undefined);
  assert.throws(() => u.push(encodeFrame(7, 'x')), /Unrecognized input header: 7/);
});

test('JSON stream decoder: CRLF, LF, no separator, split UTF-8', () => {
  const d = new JsonStreamDecoder();
  const text = Buffer.from('{"status":"a"}\r\n{"id":"x","s":"}{\\""}{"n":"é"}\n[1,2]');
  const out: unknown[] = [];
  for (let i = 0; i < text.length; i++) out.push(...d.push(text.subarray(i, i + 1)));
  out.push(...d.end());
  assert.deepEqual(out, [{ status: 'a' }, { id: 'x', s: '}{"' }, { n: 'é' }, [1, 2]]);
  const bad = new JsonStreamDecoder();
  bad.push('{"a":');
  assert.throws(() => bad.end(), /unexpected EOF/);
});

test('readJsonStream iterates a readable', async () => {
  const values: unknown[] = [];
  for await (const v of readJsonStream(Readable.from([Buffer.from('{"a":1}\r\n{"b"'), Buffer.from(':2}\r\n')]))) values.push(v);
  assert.deepEqual(values, [{ a: 1 }, { b: 2 }]);
});

test('query strings are encoded like Go url.Values', () => {
  assert.equal(queryEscape("a b/c:d!'()*~"), 'a+b%2Fc%3Ad%21%27%28%29%2A~');
  assert.equal(
    encodeQuery({ stream: '1', stderr: '1', stdin: undefined, stdout: '1', changes: ['ENV A=1', 'CMD x'] }),
    'changes=ENV+A%3D1&changes=CMD+x&stderr=1&stdout=1&stream=1',
  );
  assert.equal(encodeFilters({ name: { x: true }, label: { 'b=1': true, 'a=2': true } }), '{"label":{"a=2":true,"b=1":true},"name":{"x":true}}');
  assert.equal(encodeFilters({}), undefined);
});

test('capabilities are normalised like the Go client', () => {
  assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_SYS_ADMIN', 'NET_ADMIN']), ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']);
  assert.deepEqual(normalizeCapabilities(['all']), ['ALL']);
  assert.equal(normalizeCapabilities([]), null);
});

test('host selection: -H, then DOCKER_HOST, then the default socket', () => {
  assert.equal(resolveHost([], {}).host, DEFAULT_HOST);
  assert.equal(resolveHost([], { DOCKER_HOST: 'unix:///tmp/x.sock' }).socketPath, '/tmp/x.sock');
  assert.equal(resolveHost(['unix:///a.sock'], { DOCKER_HOST: 'unix:///b.sock' }).socketPath, '/a.sock');
  assert.throws(() => resolveHost(['unix:///a', 'unix:///b'], {}), /Specify only one -H/);
  const tcp = parseHost('tcp://127.0.0.1:2376');
  assert.equal(tcp.proto, 'tcp');
  assert.equal(tcp.port, 2376);
  assert.equal(parseHost('tcp://[::1]').host, 'tcp://[::1]:2375');
  assert.throws(() => parseHost('ssh://x'), /unsupported protocol/);
});
