import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsRow, cpuPercent, goFixed, memoryUsage, toEntry } from '../../src/cli/commands/stats';
import { EventMessage, formatEventTime, prettyEvent } from '../../src/cli/commands/events';

test('CPU % and memory as docker/cli computes them', () => {
  const s = {
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
  };
  assert.equal(cpuPercent(s), 100);
  assert.equal(cpuPercent({ ...s, precpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 18_000_000_000 } }), 0);
  assert.equal(memoryUsage({ memory_stats: { usage: 1000, stats: { total_inactive_file: 300 } } }), 700);
  assert.equal(memoryUsage({ memory_stats: { usage: 1000, stats: { inactive_file: 100 } } }), 900);
  assert.equal(memoryUsage({ memory_stats: { usage: 1000, stats: { total_inactive_file: 2000 } } }), 1000);
});

test('percentages round like Go', () => {
  assert.equal(goFixed(3.125, 2), '3.12');
  assert.equal(goFixed(3.135, 2), '3.13');
  assert.equal(goFixed(0.005, 2), '0.01');
  assert.equal(goFixed(99.995, 2), '100.00');
  assert.equal(goFixed(100.62, 2), '100.62');
  assert.equal(goFixed(0, 2), '0.00');
  assert.equal(goFixed(9.999, 2), '10.00');
});

test('stats rows render like docker, and -- for invalid entries', () => {
  const e = toEntry('box', {
    id: 'a'.repeat(64),
    name: '/box',
    memory_stats: { usage: 2 * 1024 * 1024, limit: 64 * 1024 * 1024, stats: { total_inactive_file: 0 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 20 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'Write', value: 1_000_000 }, { op: 'Total', value: 9 }] },
    pids_stats: { current: 3 },
  });
  const r = new StatsRow(e, true);
  assert.equal(r.ID(), 'aaaaaaaaaaaa');
  assert.equal(r.Name(), 'box');
  assert.equal(r.CPUPerc(), '0.00%');
  assert.equal(r.MemUsage(), '2MiB / 64MiB');
  assert.equal(r.MemPerc(), '3.12%');
  assert.equal(r.NetIO(), '2kB / 20B');
  assert.equal(r.BlockIO(), '4.1kB / 1MB');
  assert.equal(r.PIDs(), '3');
  const bad = new StatsRow({ ...e, IsInvalid: true, Name: '' }, false);
  assert.deepEqual([bad.Name(), bad.CPUPerc(), bad.MemUsage(), bad.NetIO(), bad.PIDs()], ['--', '--', '-- / --', '--', '--']);
});

test('events print as docker prints them', () => {
  const e = new EventMessage({
    status: 'die',
    id: 'abc',
    from: 'busybox',
    Type: 'container',
    Action: 'die',
    Actor: { ID: 'abc', Attributes: { name: 'x', exitCode: '3', image: 'busybox' } },
    scope: 'local',
    time: 1795959007,
    timeNano: 1795959007952249000,
  });
  const tz = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    assert.equal(prettyEvent(e), '2026-11-29T13:30:07.952249000Z container die abc (exitCode=3, image=busybox, name=x)\n');
    assert.equal(formatEventTime(0, 1795959007), '2026-11-29T13:30:07.000000000Z');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  assert.deepEqual(Object.keys(e.toJSON()), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  assert.deepEqual(new EventMessage({ Type: 'network', Action: 'create', Actor: { ID: 'n' } }).toJSON(), { Type: 'network', Action: 'create', Actor: { ID: 'n' } });
});
