import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { TestDaemon, dockerBinary, eventually, sleep } from './harness';

let d: TestDaemon;
let boxId = '';
before(async () => {
  d = await TestDaemon.start();
  const run = await d.docker(['run', '-d', '--name', 'box', '--label', 'team=obs', 'busybox', 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
  boxId = (await d.docker(['inspect', '-f', '{{.Id}}', 'box'])).stdout.trim();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

/** Reads `n` NDJSON objects from a streaming GET, then closes the connection. */
function readStream(socket: string, urlPath: string, n: number, timeoutMs = 10_000): Promise<{ headers: http.IncomingHttpHeaders; objects: any[] }> {
  return new Promise((resolve, reject) => {
    const objects: any[] = [];
    const req = http.get({ socketPath: socket, path: urlPath }, (res) => {
      let buf = '';
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`only ${objects.length} objects in time`));
      }, timeoutMs);
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) objects.push(JSON.parse(line));
          if (objects.length === n) {
            clearTimeout(timer);
            req.destroy();
            resolve({ headers: res.headers, objects });
            return;
          }
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ headers: res.headers, objects });
      });
    });
    req.on('error', (e) => (objects.length ? undefined : reject(e)));
  });
}

// ---- top ----

test('top lists the container processes with ps -ef titles by default', async () => {
  const r = await d.docker(['top', 'box']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  assert.equal(lines.length, 2, r.stdout);
  assert.match(lines[1]!, /sleep 300$/);
  const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'box'])).stdout.trim();
  assert.equal(lines[1]!.split(/\s+/)[1], pid);
});

test('top passes ps options and sees exec processes', async () => {
  const ex = await d.docker(['exec', '-d', 'box', 'sleep', '123']);
  assert.equal(ex.code, 0);
  const r = await eventually(async () => {
    const out = await d.docker(['top', 'box', '-o', 'pid,comm,args']);
    return out.stdout.includes('sleep 123') ? out : undefined;
  });
  assert.ok(r);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^PID\s+COMMAND\s+COMMAND$/);
  assert.equal(lines.length, 3, r.stdout);
  const api = await d.api('GET', '/containers/box/top?ps_args=aux');
  assert.equal(api.status, 200);
  const body = JSON.parse(api.body);
  assert.deepEqual(body.Titles, ['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND']);
  assert.ok(body.Processes.some((p: string[]) => p[10] === 'sleep 300'), api.body);
  assert.ok(body.Processes.every((p: string[]) => p.length === 11));
});

test('top refuses a renamed PID column and a stopped container, in Docker\'s words', async () => {
  const bad = await d.api('GET', `/containers/box/top?ps_args=${encodeURIComponent('-o user=PID')}`);
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).message, 'specifying "user=PID" is not allowed');
  assert.equal((await d.docker(['create', '--name', 'idle', 'busybox', 'true'])).code, 0);
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'idle'])).stdout.trim();
  const r = await d.docker(['top', 'idle']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error response from daemon: container ${id} is not running\n`);
  const missing = await d.docker(['top', 'nope']);
  assert.equal(missing.stderr, 'Error response from daemon: No such container: nope\n');
});

// ---- stats ----

test('stats stream=0 has every field the CLI reads, with a previous sample', async () => {
  const t0 = Date.now();
  const r = await d.api('GET', '/containers/box/stats?stream=0');
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 >= 900, 'waits for a second sample');
  assert.equal(r.headers['content-type'], 'application/json');
  assert.ok(r.body.endsWith('}\n'));
  const s = JSON.parse(r.body);
  assert.equal(s.id, boxId);
  assert.equal(s.name, '/box');
  assert.ok(Date.parse(s.read) > Date.parse(s.preread) && Date.parse(s.preread) > t0 - 1000, `${s.read} ${s.preread}`);
  assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
  assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage);
  assert.ok(s.cpu_stats.online_cpus >= 1);
  assert.ok(s.precpu_stats.cpu_usage.total_usage > 0);
  assert.ok(s.memory_stats.usage > 0);
  assert.ok(s.memory_stats.limit > 0);
  assert.ok('total_inactive_file' in s.memory_stats.stats || 'inactive_file' in s.memory_stats.stats);
  assert.ok(s.pids_stats.current >= 1);
  assert.ok(Array.isArray(s.blkio_stats.io_service_bytes_recursive));
  assert.equal(s.num_procs, 0);
  assert.deepEqual(s.storage_stats, {});
  // Exact 64-bit counters: an unlimited cgroup's limit is written as Go writes it.
  if ('hierarchical_memory_limit' in s.memory_stats.stats) assert.match(r.body, /"hierarchical_memory_limit":9223372036854771712/);
});

test('stats one-shot answers at once without a previous sample', async () => {
  const t0 = Date.now();
  const r = await d.api('GET', '/containers/box/stats?stream=0&one-shot=1');
  assert.ok(Date.now() - t0 < 900);
  const s = JSON.parse(r.body);
  assert.equal(s.preread, '0001-01-01T00:00:00Z');
  assert.equal(s.precpu_stats.cpu_usage.total_usage, 0);
  assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
  // API 1.40 has no one-shot: the previous sample is always taken
  const old = JSON.parse((await d.api('GET', '/v1.40/containers/box/stats?stream=0&one-shot=1')).body);
  assert.notEqual(old.preread, '0001-01-01T00:00:00Z');
});

test('stats stream=1 sends a sample a second, each carrying the one before', async () => {
  const { headers, objects } = await readStream(d.socket, '/containers/box/stats', 3);
  assert.equal(headers['transfer-encoding'], 'chunked');
  assert.equal(objects.length, 3);
  assert.equal(objects[0].preread, '0001-01-01T00:00:00Z');
  assert.equal(objects[1].preread, objects[0].read);
  assert.equal(objects[2].preread, objects[1].read);
  assert.deepEqual(objects[2].precpu_stats, objects[1].cpu_stats);
  const gap = Date.parse(objects[2].read) - Date.parse(objects[1].read);
  assert.ok(gap >= 900 && gap < 2000, String(gap));
});

test('stats of a stopped container is Docker\'s empty object', async () => {
  const r = await d.api('GET', '/containers/idle/stats?stream=0');
  assert.equal(r.status, 200);
  const s = JSON.parse(r.body);
  assert.equal(s.read, '0001-01-01T00:00:00Z');
  assert.deepEqual(s.pids_stats, {});
  assert.deepEqual(s.memory_stats, {});
  assert.equal(s.blkio_stats.io_service_bytes_recursive, null);
  assert.equal(s.name, '/idle');
  assert.equal((await d.api('GET', '/containers/nope/stats?stream=0')).status, 404);
});

test('a streamed stats response ends when the container is removed', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'gone', 'busybox', 'sleep', '300'])).code, 0);
  const pending = readStream(d.socket, '/containers/gone/stats', 100, 15_000);
  await sleep(1200);
  assert.equal((await d.docker(['rm', '-f', 'gone'])).code, 0);
  const { objects } = await pending;
  assert.ok(objects.length >= 1 && objects.length < 10, String(objects.length));
});

test('docker stats --no-stream prints Docker\'s table; CPU % of a busy container is near 100', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done'])).code, 0);
  try {
    await busyChecks();
  } finally {
    await d.docker(['rm', '-f', 'busy']);
  }
});

async function busyChecks(): Promise<void> {
  const r = await d.docker(['stats', '--no-stream', 'box', 'busy']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  assert.match(lines[1]!, new RegExp(`^${boxId.slice(0, 12)}\\s+box\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / [\\d.]+[KMG]iB\\s+\\d+\\.\\d\\d%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+\\d+$`));
  const cpu = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}', 'busy']);
  const m = /^busy (\d+\.\d\d)% 1\n$/.exec(cpu.stdout);
  assert.ok(m, cpu.stdout);
  assert.ok(Number(m[1]) > 20, cpu.stdout); // a busy loop: one CPU's worth on an idle host, less when the host is loaded
  const json = await d.docker(['stats', '--no-stream', '--format', 'json', 'box']);
  const row = JSON.parse(json.stdout);
  assert.equal(row.Name, 'box');
  assert.equal(row.ID, boxId.slice(0, 12));
  assert.match(row.MemUsage, / \/ /);
}

test('docker stats without arguments follows every running container', async () => {
  const all = await d.docker(['stats', '--no-stream', '--format', '{{.Name}}']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(all.stdout.trim().split('\n').sort(), ['box']);
  // Streaming: events + list + one stats stream per container; a container started meanwhile shows up.
  const child = spawn(dockerBinary(), ['stats', '--format', '{{.Name}} {{.PIDs}}'], { env: d.clientEnv() });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await eventually(() => /box \d+\n/.test(out), 10_000);
    assert.equal((await d.docker(['run', '-d', '--name', 'late', 'busybox', 'sleep', '300'])).code, 0);
    await eventually(() => out.includes('late 1'), 10_000);
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal((await d.docker(['rm', '-f', 'late'])).code, 0);
});

test('stats networks: the container\'s interfaces without lo; none for --network none and host', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'netnone', '--network', 'none', 'busybox', 'sleep', '300'])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'nethost', '--network', 'host', 'busybox', 'sleep', '300'])).code, 0);
  const get = async (n: string) => JSON.parse((await d.api('GET', `/containers/${n}/stats?stream=0&one-shot=1`)).body);
  const box = await get('box');
  const mode = (await d.docker(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'box'])).stdout.trim();
  if (mode !== 'none' && mode !== 'host') {
    assert.ok(box.networks && Object.keys(box.networks).length >= 1, JSON.stringify(box.networks));
    assert.ok(!('lo' in box.networks));
    for (const n of Object.values<Record<string, number>>(box.networks)) {
      assert.deepEqual(Object.keys(n), ['rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped']);
    }
  }
  assert.equal((await get('netnone')).networks, undefined);
  assert.equal((await get('nethost')).networks, undefined);
  assert.equal((await d.docker(['rm', '-f', 'netnone', 'nethost'])).code, 0);
});

// ---- events ----

test('events --since/--until replays past events with Docker\'s attributes and exits', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  assert.equal((await d.docker(['run', '--name', 'ev1', '--label', 'stage=test', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'ev1'])).stdout.trim();
  assert.equal((await d.docker(['rm', 'ev1'])).code, 0);
  await sleep(1100); // --until is sent in whole seconds
  const r = await d.docker(['events', '--since', String(since), '--until', '0s', '--filter', 'container=ev1', '--format', '{{.Type}} {{.Action}}'], {
    timeoutMs: 10_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['container create', 'container attach', 'container start', 'container die', 'container destroy']);
  const json = await d.docker(['events', '--since', String(since), '--until', '0s', '--filter', `container=${id.slice(0, 8)}`, '--filter', 'event=die', '--format', '{{json .}}']);
  const ev = JSON.parse(json.stdout);
  assert.equal(ev.status, 'die');
  assert.equal(ev.id, id);
  assert.equal(ev.from, 'busybox');
  assert.equal(ev.Actor.ID, id);
  assert.deepEqual(Object.keys(ev.Actor.Attributes), ['execDuration', 'exitCode', 'image', 'name', 'stage']);
  assert.equal(ev.Actor.Attributes.exitCode, '3');
  assert.equal(ev.Actor.Attributes.stage, 'test');
  assert.equal(ev.scope, 'local');
  assert.equal(Math.floor(ev.timeNano / 1e9), ev.time);
  // default format: "<time> container die <id> (execDuration=0, exitCode=3, image=busybox, name=ev1, stage=test)"
  const plain = await d.docker(['events', '--since', String(since), '--until', '0s', '--filter', 'container=ev1', '--filter', 'event=die']);
  assert.match(plain.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container die ${id} \\(execDuration=\\d+, exitCode=3, image=busybox, name=ev1, stage=test\\)\\n$`));
});

test('events filters: label, image, type, event (with exec_ prefixes), kill signal', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  assert.equal((await d.docker(['exec', 'box', 'true'])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'kl', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; sleep 300 & wait'])).code, 0);
  assert.equal((await d.docker(['kill', '-s', 'TERM', 'kl'])).code, 0);
  await d.docker(['wait', 'kl']);
  await sleep(1100);
  const q = (filters: string[]) =>
    d.docker(['events', '--since', String(since), '--until', '0s', ...filters.flatMap((f) => ['--filter', f]), '--format', '{{.Actor.Attributes.name}} {{.Action}}']);
  const byLabel = await q(['label=team=obs']);
  // moby names exec actions "exec_create: <entrypoint> <args>": a trailing space without arguments
  assert.deepEqual(byLabel.stdout.split('\n').filter(Boolean), ['box exec_create: true ', 'box exec_start: true ', 'box exec_die']);
  assert.equal((await q(['label=team=other'])).stdout, '');
  const execs = await q(['event=exec_start']);
  assert.equal(execs.stdout, 'box exec_start: true \n');
  const kills = await d.docker(['events', '--since', String(since), '--until', '0s', '--filter', 'event=kill', '--format', '{{.Actor.Attributes.name}} {{.Actor.Attributes.signal}}']);
  assert.equal(kills.stdout, 'kl 15\n');
  const img = await q(['image=busybox', 'event=start']);
  assert.equal(img.stdout, 'kl start\n');
  const typ = await q(['type=image']);
  assert.equal(typ.stdout, '');
  const bad = await d.api('GET', `/events?since=${since}&until=${Number(since) - 10}`);
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /^`since` time \([\d.]+\) cannot be after `until` time \([\d.]+\)$/);
  const junk = await d.api('GET', '/events?since=abc');
  assert.equal(junk.status, 400);
  assert.equal(JSON.parse(junk.body).message, 'strconv.ParseInt: parsing "abc": invalid syntax');
  assert.equal((await d.docker(['rm', 'kl'])).code, 0);
});

test('stop, restart and rm -f publish Docker\'s sequences (kill with the signal, die, stop)', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  assert.equal((await d.docker(['run', '-d', '--name', 'seq', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; sleep 300 & wait'])).code, 0);
  assert.equal((await d.docker(['stop', 'seq'])).code, 0);
  assert.equal((await d.docker(['restart', '-t', '1', 'seq'])).code, 0);
  assert.equal((await d.docker(['rm', '-f', 'seq'])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'stubborn', 'busybox', 'sleep', '300'])).code, 0);
  assert.equal((await d.docker(['stop', '-t', '1', 'stubborn'])).code, 0);
  assert.equal((await d.docker(['rm', 'stubborn'])).code, 0);
  await sleep(1100);
  const r = await d.docker(['events', '--since', since, '--until', '0s', '--format', '{{.Actor.Attributes.name}} {{.Action}} {{index .Actor.Attributes "signal"}}{{index .Actor.Attributes "exitCode"}}']);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
    'seq create ',
    'seq start ',
    'seq kill 15',
    'seq die 0',
    'seq stop ',
    'seq start ',
    'seq restart ',
    'seq kill 9',
    'seq die 137',
    'seq destroy ',
    'stubborn create ',
    'stubborn start ',
    'stubborn kill 15',
    'stubborn kill 9',
    'stubborn die 137',
    'stubborn stop ',
    'stubborn destroy ',
  ]);
});

test('resize publishes height and width', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  assert.equal((await d.api('POST', '/containers/box/resize?h=10&w=20')).status, 200);
  await sleep(1100);
  const r = await d.docker(['events', '--since', since, '--until', '0s', '--filter', 'event=resize', '--format', '{{json .Actor.Attributes}}']);
  assert.equal(r.stdout, '{"height":"10","image":"busybox","name":"box","team":"obs","width":"20"}\n');
});

test('docker cp publishes archive-path and extract-to-dir', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-cp-'));
  try {
    assert.equal((await d.docker(['cp', 'box:/etc/hostname', path.join(dir, 'h')])).code, 0);
    const put = await d.docker(['cp', path.join(dir, 'h'), 'box:/tmp/']);
    assert.equal(put.code, 0, put.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await sleep(1100);
  const r = await d.docker(['events', '--since', since, '--until', '0s', '--filter', 'container=box', '--format', '{{.Action}} {{json .Actor.Attributes}}']);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
    'archive-path {"image":"busybox","name":"box","team":"obs"}',
    'extract-to-dir {"image":"busybox","name":"box","team":"obs"}',
  ]);
});

test('volume mount and unmount events around a run', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  const run = await d.docker(['run', '--rm', '--name', 'vol', '-v', 'obsvol:/data', '-v', '/tmp:/h:ro', 'busybox', 'true']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await d.docker(['volume', 'rm', 'obsvol'])).code, 0);
  await sleep(1100);
  const r = await d.docker(['events', '--since', since, '--until', '0s', '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}} {{json .Actor.Attributes}}']);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/[0-9a-f]{64}/g, 'ID'));
  assert.deepEqual(lines, [
    'create obsvol {"driver":"local"}',
    'mount obsvol {"container":"ID","destination":"/data","driver":"local","propagation":"","read/write":"true"}',
    'unmount obsvol {"container":"ID","driver":"local"}',
    'destroy obsvol {"driver":"local"}',
  ]);
  const all = await d.docker(['events', '--since', since, '--until', '0s', '--format', '{{.Type}} {{.Action}}']);
  const order = all.stdout.split('\n').filter((l) => /^(volume (mount|unmount)|container (start|die))$/.test(l));
  assert.deepEqual(order, ['volume mount', 'container start', 'container die', 'volume unmount']);
});

test('events streams live events to a following client', async () => {
  const child = spawn(dockerBinary(), ['events', '--filter', 'container=live', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], { env: d.clientEnv() });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await sleep(300);
    assert.equal((await d.docker(['run', '--rm', '--name', 'live', 'busybox', 'true'])).code, 0);
    await eventually(() => out.includes('destroy live'), 10_000);
  } finally {
    child.kill('SIGKILL');
  }
  assert.deepEqual(out.trim().split('\n'), ['create live', 'attach live', 'start live', 'die live', 'destroy live']);
});

// ---- OOM ----

test('a container over its memory limit is OOM-killed: exit 137, OOMKilled, an oom event', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  const r = await d.docker(['run', '--name', 'oom', '-m', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done'], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 137, r.stderr);
  const state = JSON.parse((await d.docker(['inspect', '-f', '{{json .State}}', 'oom'])).stdout);
  assert.equal(state.OOMKilled, true);
  assert.equal(state.ExitCode, 137);
  assert.equal(state.Status, 'exited');
  const limit = (await d.docker(['inspect', '-f', '{{.HostConfig.Memory}}', 'oom'])).stdout.trim();
  assert.equal(limit, String(8 * 1024 * 1024));
  await sleep(1100);
  const ev = await d.docker(['events', '--since', String(since), '--until', '0s', '--filter', 'container=oom', '--format', '{{.Action}}']);
  const actions = ev.stdout.trim().split('\n');
  assert.ok(actions.includes('oom'), ev.stdout);
  assert.ok(actions.indexOf('oom') < actions.indexOf('die'), ev.stdout);
  // A restarted container starts with OOMKilled cleared.
  assert.equal((await d.docker(['rm', 'oom'])).code, 0);
});

test('an OOM kill of a child is an oom event while the container keeps running', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  const run = await d.docker(['run', '-d', '--name', 'oomchild', '-m', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'sh -c "x=a; while true; do x=\\$x\\$x; done"; echo survived; sleep 300']);
  assert.equal(run.code, 0, run.stderr);
  await eventually(async () => (await d.docker(['logs', 'oomchild'])).stdout === 'survived\n', 20_000);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'oomchild'])).stdout, 'running\n');
  await eventually(async () => {
    const r = await d.docker(['events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'container=oomchild', '--format', '{{.Action}}']);
    return r.stdout.split('\n').includes('oom');
  });
  assert.equal((await d.docker(['rm', '-f', 'oomchild'])).code, 0);
  await sleep(1100);
  const r = await d.docker(['events', '--since', since, '--until', '0s', '--filter', 'container=oomchild', '--format', '{{.Action}}']);
  assert.equal(r.stdout.split('\n').filter((a) => a === 'oom').length, 1, 'one oom per run, not another at exit');
});

test('stats reports the memory limit set with -m', async () => {
  assert.equal((await d.docker(['run', '-d', '--name', 'lim', '-m', '64m', 'busybox', 'sleep', '300'])).code, 0);
  const s = JSON.parse((await d.api('GET', '/containers/lim/stats?stream=0&one-shot=1')).body);
  assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
  const r = await d.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'lim']);
  assert.match(r.stdout, / \/ 64MiB\n$/);
  assert.equal((await d.docker(['rm', '-f', 'lim'])).code, 0);
});

// ---- inspect on everything ----

test('docker inspect finds containers and images, and says so when nothing matches', async () => {
  const c = JSON.parse((await d.docker(['inspect', 'box'])).stdout);
  assert.equal(c[0].Id, boxId);
  const i = JSON.parse((await d.docker(['inspect', 'busybox'])).stdout);
  assert.match(i[0].Id, /^sha256:/);
  assert.equal((await d.docker(['volume', 'create', 'inspectvol'])).code, 0);
  const v = JSON.parse((await d.docker(['inspect', 'inspectvol'])).stdout);
  assert.equal(v[0].Name, 'inspectvol');
  assert.equal(v[0].Driver, 'local');
  assert.equal((await d.docker(['volume', 'rm', 'inspectvol'])).code, 0);
  const both = await d.docker(['inspect', '--format', '{{.Id}}', 'box', 'busybox']);
  assert.equal(both.stdout.trim().split('\n').length, 2);
  const none = await d.docker(['inspect', 'no-such-thing']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No such object: no-such-thing/);
});
