import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/engine/events/bus';
import { eventMatches, stripTag } from '../../src/engine/events/filter';
import { containerAttributes } from '../../src/engine/events/attributes';

const ctr = { Id: 'a'.repeat(64), Name: '/web', ImageRef: 'busybox', Config: { Image: 'busybox:1', Labels: { team: 'x', 'com.example.z': '1' } } };

test('container attributes: labels, image and name, in Go map order', () => {
  const attrs = containerAttributes(ctr, { exitCode: '3', name: 'ignored' });
  assert.deepEqual(Object.entries(attrs), [
    ['com.example.z', '1'],
    ['exitCode', '3'],
    ['image', 'busybox:1'],
    ['name', 'web'],
    ['team', 'x'],
  ]);
});

test('the bus completes container events from the record, also after it is gone', () => {
  const bus = new EventBus();
  let rec: typeof ctr | undefined = ctr;
  bus.setContainerResolver((id) => (rec && id === rec.Id ? { ...rec, State: { StartedAt: new Date(Date.now() - 5000).toISOString() } } : undefined));
  const start = bus.publish('container', 'start', ctr.Id, { image: 'busybox', name: 'web' });
  assert.equal(start.Actor.Attributes.team, 'x');
  assert.equal(start.from, 'busybox:1');
  assert.deepEqual(Object.keys(start).slice(0, 4), ['status', 'id', 'from', 'Type']);
  const die = bus.publish('container', 'die', ctr.Id, { exitCode: '0' });
  assert.equal(die.Actor.Attributes.execDuration, '5');
  rec = undefined;
  const destroy = bus.publish('container', 'destroy', ctr.Id);
  assert.equal(destroy.Actor.Attributes.team, 'x');
  assert.equal(destroy.Actor.Attributes.name, 'web');
  const later = bus.publish('container', 'destroy', ctr.Id, { name: 'web' });
  assert.deepEqual(later.Actor.Attributes, { name: 'web' });
  const net = bus.publish('network', 'create', 'n1', { name: 'net1', type: 'bridge' });
  assert.equal(net.status, undefined);
});

test('replay honours since and until, and nothing without either', () => {
  const bus = new EventBus(3);
  const evs = ['a', 'b', 'c', 'd'].map((a) => bus.publish('container', a, 'id'));
  assert.deepEqual(bus.replay(), []);
  assert.deepEqual(bus.replay(0).map((e) => e.Action), ['b', 'c', 'd'], 'bounded buffer');
  assert.deepEqual(bus.replay(evs[2]!.timeNano).map((e) => e.Action), ['c', 'd']);
  assert.deepEqual(bus.replay(undefined, evs[2]!.timeNano).map((e) => e.Action), ['b', 'c']);
  for (let i = 1; i < evs.length; i++) assert.ok(evs[i]!.timeNano > evs[i - 1]!.timeNano, 'monotonic');
});

test('filters follow moby: fuzzy names, exact events (fuzzy for exec_/health_status), labels ANDed, images by familiar name', () => {
  const bus = new EventBus();
  bus.setContainerResolver((id) => (id === ctr.Id ? ctr : undefined));
  const die = bus.publish('container', 'die', ctr.Id, { exitCode: '1' });
  const exec = bus.publish('container', 'exec_start: sh -c true', ctr.Id, { execID: 'e1' });
  const img = bus.publish('image', 'tag', 'sha256:' + 'b'.repeat(64), { name: 'docker.io/library/busybox:latest' });
  assert.ok(eventMatches(die, {}));
  assert.ok(eventMatches(die, { container: ['web'] }));
  assert.ok(eventMatches(die, { container: ['aaaa'] }), 'ID prefix');
  assert.ok(!eventMatches(die, { container: ['other'] }));
  assert.ok(eventMatches(die, { container: ['other', 'we'] }), 'name prefix, any value');
  assert.ok(eventMatches(die, { event: ['die'] }));
  assert.ok(!eventMatches(die, { event: ['di'] }));
  assert.ok(eventMatches(exec, { event: ['exec_start'] }));
  assert.ok(!eventMatches(exec, { event: ['exec'] }));
  assert.ok(eventMatches(die, { type: ['container'] }) && !eventMatches(die, { type: ['image'] }));
  assert.ok(eventMatches(die, { label: ['team'] }));
  assert.ok(eventMatches(die, { label: ['team=x', 'com.example.z=1'] }));
  assert.ok(!eventMatches(die, { label: ['team=x', 'com.example.z=2'] }));
  assert.ok(eventMatches(die, { image: ['busybox:1'] }) && eventMatches(die, { image: ['busybox'] }));
  assert.ok(!eventMatches(die, { image: ['alpine'] }));
  assert.ok(eventMatches(img, { image: ['busybox'] }) && eventMatches(img, { image: ['busybox:latest'] }) === false);
  assert.ok(eventMatches(img, { image: ['docker.io/library/busybox:latest'] }));
  assert.ok(!eventMatches(img, { container: ['web'] }));
  assert.ok(eventMatches(die, { scope: ['local'] }) && !eventMatches(die, { scope: ['swarm'] }));
  assert.ok(!eventMatches(die, { network: ['n'] }) && !eventMatches(die, { volume: ['v'] }));
  assert.equal(stripTag('docker.io/library/busybox:latest'), 'busybox');
  assert.equal(stripTag('localhost:5000/a/b:1'), 'localhost:5000/a/b');
  assert.equal(stripTag('busybox@sha256:' + 'c'.repeat(64)), 'busybox');
});

test('one oom event per run of a container', () => {
  const bus = new EventBus();
  const first = bus.publish('container', 'oom', 'c1');
  assert.equal(bus.publish('container', 'oom', 'c1'), first);
  bus.publish('container', 'start', 'c1');
  assert.notEqual(bus.publish('container', 'oom', 'c1'), first);
  assert.equal(bus.replay(0).filter((e) => e.Action === 'oom').length, 2);
});

test('/events since/until: unix seconds with a fraction, moby\'s errors otherwise', async () => {
  const { parseEventTime } = await import('../../src/api/routes/system');
  assert.equal(parseEventTime(null), undefined);
  assert.equal(parseEventTime('12'), 12e9);
  assert.equal(parseEventTime('12.5'), 12.5e9);
  assert.equal(parseEventTime('12.000000001'), 12e9 + 1);
  assert.equal(parseEventTime('-5'), -5e9);
  assert.throws(() => parseEventTime('abc'), /^EngineError: strconv.ParseInt: parsing "abc": invalid syntax$/);
  assert.throws(() => parseEventTime('1.5x'), /parsing "5x": invalid syntax/);
  assert.throws(() => parseEventTime('2026-11-29T13:00:00Z'), /parsing "2026-11-29T13:00:00Z"/);
});

test('volume mount events come just before start, unmount after die', async () => {
  const { wireVolumeMountEvents } = await import('../../src/engine/events/volume-events');
  const bus = new EventBus();
  wireVolumeMountEvents(bus, (id) =>
    id === 'c1'
      ? [
          { Type: 'volume', Name: 'v1', Destination: '/data', Driver: 'local', RW: false, Propagation: '' },
          { Type: 'bind', Destination: '/h', RW: true },
        ]
      : [],
  );
  bus.publish('container', 'start', 'c1');
  bus.publish('container', 'die', 'c1', { exitCode: '0' });
  bus.publish('container', 'start', 'c2');
  assert.deepEqual(
    bus.replay(0).map((e) => `${e.Type} ${e.Action} ${e.Actor.ID} ${JSON.stringify(e.Actor.Attributes)}`),
    [
      'volume mount v1 {"container":"c1","destination":"/data","driver":"local","propagation":"","read/write":"false"}',
      'container start c1 {}',
      'container die c1 {"exitCode":"0"}',
      'volume unmount v1 {"container":"c1","driver":"local"}',
      'container start c2 {}',
    ],
  );
});
