import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CgroupStatsReader,
  NanoClock,
  detectCgroups,
  emptyStats,
  parseBlkio,
  parseIoStat,
  parseNetDev,
  parseProcStat,
  parseU64,
  statsToJson,
} from '../../src/engine/runtime/cgroup-stats';
import { parsePsOutput, validatePsArgs } from '../../src/engine/containers/top';

const sandboxes: string[] = [];
after(() => sandboxes.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const sandbox = (prefix: string): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  sandboxes.push(dir);
  return dir;
};

function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

const PROC_STAT = 'cpu  61522 0 19574 260976 1909 0 308 15 0 0\ncpu0 29288 0 9326 133059 410 0 31 5 0 0\ncpu1 32233 0 10247 127916 1499 0 276 9 0 0\nintr 1 2 3\n';
const NET_DEV =
  'Inter-|   Receive                                                |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
  '    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n' +
  '  eth0:    2052      29    1    2    0     0          0         0      653       7    3    4    0     0       0          0\n';

test('u64 values stay exact beyond 2^53 and serialise as Go does', () => {
  assert.equal(parseU64('123\n'), 123);
  assert.equal(parseU64('9223372036854771712'), 9223372036854771712n);
  assert.equal(parseU64('max'), 0);
  assert.equal(statsToJson({ a: 9223372036854771712n, b: [1n, 2], c: 'x' }), '{"a":9223372036854771712,"b":[1,2],"c":"x"}');
});

test('/proc/stat gives system CPU time in ns and the online CPUs', () => {
  const s = parseProcStat(PROC_STAT);
  assert.equal(s.onlineCpus, 2);
  assert.equal(s.systemUsage, (61522 + 19574 + 260976 + 1909 + 308) * 10_000_000);
});

test('net/dev: every interface but lo; nothing when only lo exists', () => {
  const n = parseNetDev(NET_DEV)!;
  assert.deepEqual(Object.keys(n), ['eth0']);
  assert.deepEqual(n.eth0, { rx_bytes: 2052, rx_packets: 29, rx_errors: 1, rx_dropped: 2, tx_bytes: 653, tx_packets: 7, tx_errors: 3, tx_dropped: 4 });
  assert.equal(parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n')), undefined);
});

test('blkio (v1) and io.stat (v2) entries', () => {
  assert.deepEqual(parseBlkio('8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n'), [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 0, op: 'Total', value: 12288 },
  ]);
  assert.deepEqual(parseBlkio('Total 0\n'), []);
  assert.deepEqual(parseIoStat('259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n'), [
    { major: 259, minor: 0, op: 'read', value: 10 },
    { major: 259, minor: 0, op: 'write', value: 20 },
  ]);
});

test('a cgroup v1 sample reads memory, cpu, pids, blkio and the network of the pid', () => {
  const root = sandbox('cg1-');
  const proc = sandbox('proc-');
  const rel = 'berth/abc';
  write(root, `memory/${rel}/memory.usage_in_bytes`, '335872\n');
  write(root, `memory/${rel}/memory.max_usage_in_bytes`, '2772992\n');
  write(root, `memory/${rel}/memory.limit_in_bytes`, '9223372036854771712\n');
  write(root, `memory/${rel}/memory.failcnt`, '0\n');
  write(root, `memory/${rel}/memory.stat`, 'cache 8192\nrss 49152\ntotal_inactive_file 4096\nswap 0\nhierarchical_memory_limit 9223372036854771712\n');
  write(root, `cpuacct/${rel}/cpuacct.usage`, '9202266\n');
  write(root, `cpuacct/${rel}/cpuacct.usage_percpu`, '1703626 7498640 \n');
  write(root, `cpuacct/${rel}/cpuacct.stat`, 'user 3\nsystem 2\n');
  write(root, `cpu/${rel}/cpu.stat`, 'nr_periods 5\nnr_throttled 1\nthrottled_time 777\n');
  write(root, `pids/${rel}/pids.current`, '3\n');
  write(root, `pids/${rel}/pids.max`, '100\n');
  write(root, `blkio/${rel}/blkio.throttle.io_service_bytes_recursive`, '8:0 Read 10\n8:0 Write 20\nTotal 30\n');
  write(root, `blkio/${rel}/blkio.throttle.io_serviced_recursive`, '8:0 Read 1\n8:0 Write 2\nTotal 3\n');
  write(proc, 'stat', PROC_STAT);
  write(proc, '42/net/dev', NET_DEV);
  const reader = new CgroupStatsReader(detectCgroups(root), 1_000_000_000, proc);
  assert.equal(reader.layout.version, 1);
  const s = reader.sample({ id: 'abc', name: '/c', rel, pid: 42, readNs: 1_795_958_562_826_571_000n, withNetwork: true });
  assert.equal(s.read, '2026-11-29T13:22:42.826571Z');
  assert.deepEqual(s.pids_stats, { current: 3, limit: 100 });
  assert.equal(s.memory_stats.usage, 335872);
  assert.equal(s.memory_stats.max_usage, 2772992);
  assert.equal(s.memory_stats.limit, 1_000_000_000, 'an unlimited cgroup reports the machine memory');
  assert.equal(s.memory_stats.failcnt, undefined);
  assert.equal(s.memory_stats.stats!.total_inactive_file, 4096);
  assert.equal(s.memory_stats.stats!.hierarchical_memory_limit, 9223372036854771712n);
  assert.equal(s.memory_stats.stats!.swap, undefined, 'only the keys moby reports');
  assert.equal(Object.keys(s.memory_stats.stats!).length, 32);
  assert.deepEqual(s.cpu_stats, {
    cpu_usage: { total_usage: 9202266, percpu_usage: [1703626, 7498640], usage_in_kernelmode: 20_000_000, usage_in_usermode: 30_000_000 },
    system_cpu_usage: 344289 * 10_000_000,
    online_cpus: 2,
    throttling_data: { periods: 5, throttled_periods: 1, throttled_time: 777 },
  });
  assert.deepEqual(Object.keys(s.cpu_stats), ['cpu_usage', 'system_cpu_usage', 'online_cpus', 'throttling_data']);
  assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'Read', value: 10 },
    { major: 8, minor: 0, op: 'Write', value: 20 },
  ]);
  assert.deepEqual(s.blkio_stats.io_queue_recursive, []);
  assert.equal(s.networks!.eth0!.rx_bytes, 2052);
  const host = reader.sample({ id: 'abc', name: '/c', rel, pid: 42, readNs: 0n, withNetwork: false });
  assert.equal(host.networks, undefined);
  assert.deepEqual(reader.pids(rel), []);
  write(root, `pids/${rel}/cgroup.procs`, '42\n7\n');
  write(root, `pids/${rel}/sub/cgroup.procs`, '9\n');
  assert.deepEqual(reader.pids(rel), [7, 9, 42]);
});

test('a cgroup v2 sample uses the unified files', () => {
  const root = sandbox('cg2-');
  const proc = sandbox('proc-');
  const rel = 'berth/abc';
  write(root, 'cgroup.controllers', 'cpu memory pids io\n');
  write(root, `${rel}/memory.current`, '1048576\n');
  write(root, `${rel}/memory.max`, '8388608\n');
  write(root, `${rel}/memory.stat`, 'anon 4096\ninactive_file 8192\nfile 100\n');
  write(root, `${rel}/memory.events`, 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n');
  write(root, `${rel}/cpu.stat`, 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 30\n');
  write(root, `${rel}/pids.current`, '2\n');
  write(root, `${rel}/pids.max`, 'max\n');
  write(root, `${rel}/io.stat`, '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n');
  write(proc, 'stat', PROC_STAT);
  const reader = new CgroupStatsReader(detectCgroups(root), 1_000_000_000, proc);
  assert.equal(reader.layout.version, 2);
  const s = reader.sample({ id: 'abc', name: '/c', rel, pid: 0, readNs: 0n, withNetwork: true });
  assert.deepEqual(s.pids_stats, { current: 2 });
  assert.equal(s.memory_stats.usage, 1048576);
  assert.equal(s.memory_stats.limit, 8388608);
  assert.equal(s.memory_stats.failcnt, 2);
  assert.equal(s.memory_stats.stats!.inactive_file, 8192);
  assert.equal(s.memory_stats.stats!.total_inactive_file, undefined);
  assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 1_500_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_000_000 });
  assert.deepEqual(s.cpu_stats.throttling_data, { periods: 4, throttled_periods: 2, throttled_time: 30_000 });
  assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'read', value: 10 },
    { major: 8, minor: 0, op: 'write', value: 20 },
  ]);
  assert.equal(s.blkio_stats.io_serviced_recursive, null);
  write(root, `${rel}/cgroup.procs`, '5\n');
  assert.deepEqual(reader.pids(rel), [5]);
});

test('empty stats for a stopped container match moby', () => {
  assert.equal(
    statsToJson(emptyStats('id1', '/x')),
    '{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/x","id":"id1"}',
  );
  assert.equal(NanoClock.format(1_795_958_562_000_000_000n), '2026-11-29T13:22:42Z');
  assert.equal(NanoClock.format(1_795_958_562_100_000_001n), '2026-11-29T13:22:42.100000001Z');
});

test('top: ps output parsing and ps_args checks as moby', () => {
  const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 13:19 ? 00:00:00 sleep 300\nroot 11 1 0 13:19 ? 00:00:00 other thing\nroot 12 10 0 13:19 ? 00:00:00 sh -c a b\n';
  assert.deepEqual(parsePsOutput(out, [10, 12]), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['root', '10', '1', '0', '13:19', '?', '00:00:00', 'sleep 300'],
      ['root', '12', '10', '0', '13:19', '?', '00:00:00', 'sh -c a b'],
    ],
  });
  // thread lines ("-" PID) follow the process they belong to
  const threads = 'USER PID TID CMD\nroot 10 - sleep\nroot - 10 -\nroot 11 - x\nroot - 11 -\n';
  assert.deepEqual(parsePsOutput(threads, [10]).Processes, [
    ['root', '10', '-', 'sleep'],
    ['root', '-', '10', '-'],
  ]);
  assert.throws(() => parsePsOutput('USER CMD\nroot x\n', [1]), /Couldn't find PID field in ps output/);
  assert.doesNotThrow(() => validatePsArgs('-o pid=PID'));
  assert.throws(() => validatePsArgs('-o user=PID'), /specifying "user=PID" is not allowed/);
});
