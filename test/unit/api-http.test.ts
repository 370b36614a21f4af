import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, FrameDecoder, StdStream } from '../../src/api/http/stdcopy';
import { Router } from '../../src/api/http/router';
import { compareVersions, splitVersion, versionError } from '../../src/api/http/version';
import { boolParam, filtersParam } from '../../src/api/http/query';

test('frame writes the 8-byte header: stream, three zeros, big-endian length', () => {
  const f = frame(StdStream.Stdout, Buffer.from('out\n'));
  assert.deepEqual([...f], [1, 0, 0, 0, 0, 0, 0, 4, 0x6f, 0x75, 0x74, 0x0a]);
  const e = frame(StdStream.Stderr, Buffer.alloc(0x10203));
  assert.deepEqual([...e.subarray(0, 8)], [2, 0, 0, 0, 0, 1, 2, 3]);
});

test('FrameDecoder reassembles frames split at any byte', () => {
  const bytes = Buffer.concat([frame(StdStream.Stdout, Buffer.from('hello')), frame(StdStream.Stderr, Buffer.from('world!'))]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got: Array<[number, string]> = [];
    const dec = new FrameDecoder((s, p) => got.push([s, p.toString()]));
    dec.push(bytes.subarray(0, cut));
    dec.push(bytes.subarray(cut));
    assert.deepEqual(got, [
      [1, 'hello'],
      [2, 'world!'],
    ]);
  }
});

test('router: greedy names for image references, single segments for IDs, method mismatch', () => {
  const r = new Router();
  const h = () => undefined;
  r.get('/images/json', h).get('/images/{name*}/json', h).get('/containers/{id}/json', h).delete('/images/{name*}', h);
  const m = r.match('GET', '/images/localhost:5000/team/app:1.2/json');
  assert.ok(m && m !== 'methodMismatch');
  assert.deepEqual(m.params, { name: 'localhost:5000/team/app:1.2' });
  const list = r.match('GET', '/images/json');
  assert.ok(list && list !== 'methodMismatch');
  assert.deepEqual(list.params, {});
  assert.equal(r.match('GET', '/containers/a/b/json'), undefined);
  assert.equal(r.match('POST', '/containers/abc/json'), 'methodMismatch');
  const del = r.match('DELETE', '/images/mytest/commit:1');
  assert.ok(del && del !== 'methodMismatch');
  assert.equal(del.params.name, 'mytest/commit:1');
});

test('version prefix and range checks', () => {
  assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: '1.41', path: '/containers/json' });
  assert.deepEqual(splitVersion('/containers/json'), { version: '1.50', path: '/containers/json' });
  assert.equal(compareVersions('1.9', '1.10'), -1);
  assert.equal(compareVersions('1.50', '1.50'), 0);
  assert.equal(versionError('1.24'), undefined);
  assert.equal(versionError('1.50'), undefined);
  assert.equal(versionError('1.51'), 'client version 1.51 is too new. Maximum supported API version is 1.50');
  assert.match(versionError('1.12')!, /too old/);
});

test('boolean params accept every form clients send', () => {
  const q = new URLSearchParams('a=1&b=True&c=false&d=0&e=');
  assert.equal(boolParam(q, 'a'), true);
  assert.equal(boolParam(q, 'b'), true);
  assert.equal(boolParam(q, 'c'), false);
  assert.equal(boolParam(q, 'd'), false);
  assert.equal(boolParam(q, 'e', true), true);
  assert.equal(boolParam(q, 'missing'), false);
  assert.throws(() => boolParam(new URLSearchParams('x=maybe'), 'x'), /invalid boolean/);
});

test('filters accept both the map and the list encodings', () => {
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"label":{"a=b":true,"c":false},"status":{"running":true}}' })), {
    label: ['a=b'],
    status: ['running'],
  });
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"name":["x","y"]}' })), { name: ['x', 'y'] });
  assert.throws(() => filtersParam(new URLSearchParams({ filters: '{bad' })), /invalid filter/);
});
