import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseApiMount, parseBind, parseMode } from '../../src/engine/containers/mounts';

const dataDir = (n: string) => `/var/lib/berth/volumes/${n}/_data`;

test('-v specs: volumes, binds, anonymous, modes', () => {
  assert.deepEqual(parseBind('data:/d', dataDir), {
    Type: 'volume', Name: 'data', Source: dataDir('data'), Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: '', CopyData: true,
  });
  assert.deepEqual(parseBind('/host/dir/:/c/:ro,rshared', dataDir), {
    Type: 'bind', Source: '/host/dir', Destination: '/c', Mode: 'ro,rshared', RW: false, Propagation: 'rshared',
  });
  assert.equal(parseBind('v:/x:nocopy', dataDir).CopyData, false);
  const anon = parseBind('/only', dataDir);
  assert.deepEqual([anon.Type, anon.Name, anon.Destination], ['volume', '', '/only']);
  assert.throws(() => parseBind('/anon:ro', dataDir), /invalid volume specification: '\/anon:ro'/);
  assert.throws(() => parseBind(':/x', dataDir), /invalid volume specification: ':\/x'/);
  assert.equal(parseMode('ro,rw'), undefined);
  assert.equal(parseMode('z,Z'), undefined);
  assert.deepEqual(parseMode('rw,z,nocopy,delegated'), { rw: true, propagation: undefined, nocopy: true, label: 'z' });
  assert.throws(() => parseBind('v:/d:xx', dataDir), /^Error: invalid mode: xx$|invalid mode: xx/);
  assert.throws(() => parseBind('a:b:c:d', dataDir), /invalid volume specification: 'a:b:c:d'/);
  assert.throws(() => parseBind('v:rel', dataDir), /invalid volume specification: 'v:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute/);
  assert.throws(() => parseBind('v:/', dataDir), /destination can't be '\/'/);
  assert.throws(() => parseBind('v:/x:shared', dataDir), /field Propagation must not be specified/);
  assert.throws(() => parseBind('/h:/x:nocopy', dataDir), /invalid mount config for type "bind": field VolumeOptions must not be specified/);
});

test('--mount specs: keys per type and moby texts', () => {
  const t = parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o700 } }, dataDir);
  assert.deepEqual([t.Type, t.Source, t.Destination, t.RW], ['tmpfs', '', '/t', true]);
  const v = parseApiMount({ Type: 'volume', Source: 'n', Target: '/v', ReadOnly: true, VolumeOptions: { NoCopy: true } }, dataDir);
  assert.deepEqual([v.Name, v.RW, v.CopyData, v.Mode], ['n', false, false, 'z']);
  const b = parseApiMount({ Type: 'bind', Source: '/', Target: '/b', BindOptions: { Propagation: 'rslave', NonRecursive: true } }, dataDir);
  assert.deepEqual([b.Propagation, b.NonRecursive, b.Mode], ['rslave', true, '']);
  assert.throws(() => parseApiMount({ Type: 'foo', Target: '/x' }, dataDir), /invalid mount config for type "foo": mount type unknown/);
  assert.throws(() => parseApiMount({ Type: 'bind', Target: '/x' }, dataDir), /field Source must not be empty/);
  assert.throws(() => parseApiMount({ Type: 'bind', Source: '/does/not/exist/berth', Target: '/x' }, dataDir), /bind source path does not exist: \/does\/not\/exist\/berth/);
  assert.throws(() => parseApiMount({ Type: 'tmpfs', Source: 's', Target: '/x' }, dataDir), /field Source must not be specified/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '/x', BindOptions: {} }, dataDir), /field BindOptions must not be specified/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '' }, dataDir), /field Target must not be empty/);
});
