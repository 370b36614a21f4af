import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ANONYMOUS_LABEL, VolumeService } from '../../src/engine/volumes/service';

const roots: string[] = [];
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
function service(): { vs: VolumeService; root: string; events: string[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
  roots.push(root);
  const events: string[] = [];
  return { vs: new VolumeService(root, (a, n) => events.push(`${a} ${n}`)), root, events };
}

test('create writes a record atomically and loads it back; an existing name is returned as is', () => {
  const { vs, root, events } = service();
  const v = vs.create({ Name: 'data', Labels: { a: 'b' } });
  assert.equal(v.Name, 'data');
  assert.ok(fs.statSync(path.join(root, 'data/_data')).isDirectory());
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'data/volume.json'), 'utf8')).Labels, { a: 'b' });
  assert.equal(vs.create({ Name: 'data', Labels: { other: '1' } }), v);
  assert.deepEqual(events, ['create data']);
  // Leftovers of a crash (dot dirs) are swept on load; records survive.
  fs.mkdirSync(path.join(root, '.new-half-1'), { recursive: true });
  const again = new VolumeService(root);
  assert.deepEqual(again.get('data').Labels, { a: 'b' });
  assert.ok(!fs.existsSync(path.join(root, '.new-half-1')));
});

test('names, drivers and local options are checked with moby texts', () => {
  const { vs } = service();
  assert.throws(() => vs.create({ Name: 'a' }), /create a: volume name is too short/);
  assert.throws(() => vs.create({ Name: 'a/b' }), /includes invalid characters for a local volume name/);
  assert.throws(() => vs.create({ Name: 'x1', Driver: 'nfs' }), (e: Error & { status?: number }) => e.status === 404 && /plugin "nfs" not found/.test(e.message));
  assert.throws(() => vs.create({ Name: 'x1', DriverOpts: { foo: 'bar' } }), /create x1: invalid option: "foo"/);
  assert.throws(() => vs.create({ Name: 'x1', DriverOpts: { type: 'tmpfs' } }), /missing required option: "device"/);
  const t = vs.create({ Name: 'tv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' } });
  assert.deepEqual(vs.source(t.Name), { mount: { type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'uid=1000'] } });
  const anon = vs.create({}, true);
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.Labels, { [ANONYMOUS_LABEL]: '' });
});

test('list filters, in-use conflicts, removal of anonymous volumes and prune', () => {
  const { vs } = service();
  vs.create({ Name: 'named', Labels: { tier: 'db' } });
  const anon = vs.create({}, true).Name;
  const anon2 = vs.create({}, true).Name;
  let users = [{ id: 'c1', volumes: ['named', anon], running: false }];
  vs.setUsers(() => users);
  const names = (f: Record<string, string[]>) => (vs.list(f).Volumes as Array<{ Name: string }>).map((v) => v.Name);
  assert.deepEqual(names({ dangling: ['true'] }), [anon2]);
  assert.deepEqual(names({ label: ['tier=db'] }), ['named']);
  assert.deepEqual(names({ name: ['nam'] }), ['named']);
  assert.throws(() => vs.list({ dangling: ['maybe'] }), /invalid filter 'dangling=\[maybe\]'/);
  assert.deepEqual(names({ name: ['^na.*d$'] }), ['named']);
  assert.throws(() => vs.prune({ all: ['true', 'false'] }), /invalid filter 'all=\[true false\]': only one value is expected/);
  assert.throws(() => vs.prune({ all: ['x'] }), /invalid filter 'all': strconv.ParseBool: parsing "x": invalid syntax/);
  vs.create({ Name: 'withopts', DriverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  assert.throws(() => vs.remove('named'), (e: Error & { status?: number }) => e.status === 409 && e.message === 'remove named: volume is in use - [c1]');
  assert.throws(() => vs.remove('nope'), /get nope: no such volume/);
  vs.remove('nope', true);
  assert.deepEqual(vs.prune({}).VolumesDeleted, [anon2]);
  users = [];
  vs.removeAnonymous(['named', anon]);
  assert.ok(vs.has('named'), 'named volumes stay on rm -v');
  assert.ok(!vs.has(anon));
  assert.deepEqual(vs.prune({ label: ['tier=web'], all: ['true'] }).VolumesDeleted, []);
  assert.deepEqual(vs.prune({ all: ['true'] }).VolumesDeleted, ['named'], 'volumes with driver options are never pruned');
  assert.ok(vs.has('withopts'));
});

test('system df sizes: a volume no running container uses is walked once and kept until forgotten', () => {
  const { vs } = service();
  vs.create({ Name: 'kept' });
  let users = [{ id: 'c1', volumes: ['kept'], running: false }];
  vs.setUsers(() => users);
  const size = () => (vs.usage() as Array<{ Name: string; UsageData: { Size: number; RefCount: number } }>).find((v) => v.Name === 'kept')!.UsageData;
  fs.writeFileSync(path.join(vs.dataDir('kept'), 'a'), Buffer.alloc(100));
  assert.deepEqual(size(), { Size: 100, RefCount: 1 });
  fs.writeFileSync(path.join(vs.dataDir('kept'), 'b'), Buffer.alloc(50)); // behind the service's back: not walked again
  assert.equal(size().Size, 100);
  vs.forgetSizes(); // what the daemon does on container create, start and cp
  assert.equal(size().Size, 150);
  users = [{ id: 'c1', volumes: ['kept'], running: true }];
  fs.writeFileSync(path.join(vs.dataDir('kept'), 'c'), Buffer.alloc(25));
  assert.equal(size().Size, 175, 'a running user may write at any time: measured per call');
  fs.writeFileSync(path.join(vs.dataDir('kept'), 'd'), Buffer.alloc(25));
  assert.equal(size().Size, 200);
});
