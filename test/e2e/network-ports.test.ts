import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TestDaemon, eventually, freePort, httpGet } from './harness';

/**
 * Published ports: reachable on 127.0.0.1 (loopback proxy), from another host (a network namespace this test
 * creates, DNAT), and hairpin from containers; -P, ranges, docker port, "port is already allocated".
 */
let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const ns = `btx${tag}`;
const hostIf = `btx${tag}h`;
const extNet = `10.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]!}`;
const HOST = `${extNet}.1`;
const EXT = `${extNet}.2`;
const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
const inExt = (args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);

before(async () => {
  d = await TestDaemon.start();
  // A fake external host: its own namespace, a veth to the host, a default route through it.
  for (const cmd of [
    ['netns', 'add', ns],
    ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns],
    ['addr', 'add', `${HOST}/30`, 'dev', hostIf],
    ['link', 'set', hostIf, 'up'],
    ['-n', ns, 'addr', 'add', `${EXT}/30`, 'dev', 'eth0'],
    ['-n', ns, 'link', 'set', 'eth0', 'up'],
    ['-n', ns, 'link', 'set', 'lo', 'up'],
    ['-n', ns, 'route', 'add', 'default', 'via', HOST],
  ]) {
    const r = sh('ip', cmd);
    assert.equal(r.code, 0, `ip ${cmd.join(' ')}: ${r.stderr}`);
  }
});

after(async () => {
  sh('ip', ['link', 'del', hostIf]);
  sh('ip', ['netns', 'del', ns]);
  assert.deepEqual(await d.stop(), []);
});

const run = (args: string[]) => d.docker(args);
const ok = (args: string[]) => d.dockerOk(args);

const get = (host: string, port: number, urlPath = '/hostname') => httpGet(host, port, urlPath);

const dnatRules = () => sh('iptables-save', ['-t', 'nat']).stdout.split('\n').filter((l) => l.startsWith(`-A ${d.networkPrefix.toUpperCase()}-DNAT`));
const veths = () => sh('ip', ['-o', 'link', 'show']).stdout.split('\n').filter((l) => new RegExp(`^\\d+: ${d.networkPrefix}v`).test(l));

test('-p host:container reaches the container from 127.0.0.1, the host address and another host; docker port and ps show it', async () => {
  const port = await freePort();
  const loPort = await freePort();
  await ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, '-p', `127.0.0.1:${loPort}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  const hostname = (await ok(['inspect', '-f', '{{.Config.Hostname}}', 'web'])).trim();
  assert.equal(await eventually(() => get('127.0.0.1', port).catch(() => '')), `${hostname}\n`);
  assert.equal(await get('127.0.0.1', loPort), `${hostname}\n`);
  assert.equal(await get(HOST, port), `${hostname}\n`);
  // from the fake external host: DNAT on the host's address
  const ext = inExt(['busybox', 'wget', '-qO-', `http://${HOST}:${port}/hostname`]);
  assert.equal(ext.stdout, `${hostname}\n`, ext.stderr);
  // a loopback-only publish is not reachable from outside
  const extLo = inExt(['busybox', 'sh', '-c', `timeout 3 busybox wget -qO- http://${HOST}:${loPort}/hostname; exit $?`]);
  assert.notEqual(extLo.code, 0);
  assert.equal(await ok(['port', 'web']), `80/tcp -> 0.0.0.0:${port}\n80/tcp -> 127.0.0.1:${loPort}\n`);
  assert.equal(await ok(['port', 'web', '80']), `0.0.0.0:${port}\n127.0.0.1:${loPort}\n`);
  const ps = await ok(['ps', '--format', '{{.Ports}}', '--filter', 'name=web']);
  assert.match(ps, new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp`));
  assert.match(ps, new RegExp(`127\\.0\\.0\\.1:${loPort}->80/tcp`));
  const settings = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings}}', 'web']));
  assert.deepEqual(settings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(port) }, { HostIp: '127.0.0.1', HostPort: String(loPort) }]);
  assert.match(settings.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(settings.Networks.bridge.IPAddress, settings.IPAddress);
  assert.equal(settings.Gateway, d.bip.split('/')[0]);
  assert.match(settings.MacAddress, /^02:42:/);
  assert.match(settings.Networks.bridge.EndpointID, /^[0-9a-f]{64}$/);

  // hairpin: a container on the same bridge and one on another network reach the published port via the host
  const gw = d.bip.split('/')[0]!;
  assert.equal(await ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${gw}:${port}/hostname`]), `${hostname}\n`);
  await ok(['network', 'create', '--subnet', `${extNet.replace(/\.\d+$/, '')}.${(Number(extNet.split('.')[2]) + 1) % 256}.0/24`, 'other']);
  assert.equal(await ok(['run', '--rm', '--network', 'other', 'busybox', 'wget', '-qO-', `http://${HOST}:${port}/hostname`]), `${hostname}\n`);
  await ok(['rm', '-f', 'web']);
  await ok(['network', 'rm', 'other']);
  await eventually(() => dnatRules().length === 0 && veths().length === 0);
});

test('containers reach outside hosts through masquerade (the outside sees the host address)', async () => {
  const srv = spawnSyncServer();
  try {
    const out = await ok(['run', '--rm', 'busybox', 'sh', '-c', `timeout 5 wget -qO- http://${EXT}:8099/; exit $?`]);
    assert.equal(out, HOST);
  } finally {
    srv.kill();
  }
});

/** A tiny HTTP server inside the external namespace that answers with the client's address. */
function spawnSyncServer(): { kill(): void } {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', "require('http').createServer((q,s)=>s.end(q.socket.remoteAddress.replace('::ffff:',''))).listen(8099)"], { stdio: 'ignore' });
  spawnSync('sleep', ['0.5']);
  return { kill: () => child.kill('SIGKILL') };
}

test('port is already allocated: Docker\'s error and nothing half set up', async () => {
  const port = await freePort();
  await ok(['run', '-d', '--name', 'first', '-p', `${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  const rules = dnatRules().length;
  const links = veths().length;
  const second = await run(['run', '-d', '--name', 'second', '-p', `${port + 0}:80`, '-p', `${await freePort()}:81`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(second.code, 125);
  assert.match(second.stderr, new RegExp(`driver failed programming external connectivity on endpoint second \\([0-9a-f]{64}\\): Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
  assert.equal(dnatRules().length, rules);
  assert.equal(veths().length, links);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.NetworkSettings.IPAddress}}', 'second'])).trim(), 'created');
  // an outside listener counts as well
  const blocker = net.createServer().listen(await freePort(), '0.0.0.0');
  await new Promise((r) => blocker.once('listening', r));
  const bport = (blocker.address() as net.AddressInfo).port;
  const third = await run(['run', '--rm', '-p', `${bport}:80`, 'busybox', 'true']);
  blocker.close();
  assert.equal(third.code, 125);
  assert.match(third.stderr, /port is already allocated/);
  await ok(['rm', '-f', 'first', 'second']);
});

test('-P publishes EXPOSEd ports on random host ports; ranges map one to one; udp works', async () => {
  await ok(['run', '-d', '--name', 'exposed', '--expose', '80', '--expose', '7000-7001', '-P', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  const ports = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'exposed'])) as Record<string, Array<{ HostIp: string; HostPort: string }>>;
  assert.deepEqual(Object.keys(ports).sort(), ['7000/tcp', '7001/tcp', '80/tcp']);
  const p80 = Number(ports['80/tcp']![0]!.HostPort);
  assert.ok(p80 > 1024);
  const hostname = (await ok(['inspect', '-f', '{{.Config.Hostname}}', 'exposed'])).trim();
  assert.equal(await eventually(() => get('127.0.0.1', p80).catch(() => '')), `${hostname}\n`);
  assert.equal(inExt(['busybox', 'wget', '-qO-', `http://${HOST}:${p80}/hostname`]).stdout, `${hostname}\n`);
  await ok(['rm', '-f', 'exposed']);

  // a range: one DNAT rule for the whole range when host and container ports are the same
  const base = 20000 + (randomBytes(2).readUInt16BE() % 20000);
  await ok(['run', '-d', '--name', 'ranged', '-p', `${base}-${base + 4}:${base}-${base + 4}`, 'busybox', 'sh', '-c', `for p in $(seq ${base} ${base + 4}); do httpd -p $p -h /etc; done; sleep 300`]);
  assert.equal(dnatRules().filter((r) => r.includes(`--dport ${base}:${base + 4}`)).length, 1, dnatRules().join('\n'));
  for (const p of [base, base + 2, base + 4]) {
    assert.equal(inExt(['busybox', 'wget', '-qO-', `http://${HOST}:${p}/hostname`]).stdout.length > 0, true);
    assert.ok((await get('127.0.0.1', p)).length > 0);
  }
  assert.equal((await ok(['port', 'ranged'])).trim().split('\n').length, 5);
  await ok(['rm', '-f', 'ranged']);

  // udp: bound and listed (busybox has no UDP server to answer, so no round trip here)
  const uport = await freePort();
  await ok(['run', '-d', '--name', 'udp', '-p', `127.0.0.1:${uport}:5353/udp`, 'busybox', 'sleep', '300']);
  assert.equal((await ok(['port', 'udp'])).trim(), `5353/udp -> 127.0.0.1:${uport}`);
  assert.equal(dnatRules().filter((r) => r.includes(`-p udp -m udp --dport ${uport} `)).length, 1);
  const clash = await run(['run', '--rm', '-p', `127.0.0.1:${uport}:53/udp`, 'busybox', 'true']);
  assert.match(clash.stderr, /port is already allocated/);
  await ok(['rm', '-f', 'udp']);
  await eventually(() => dnatRules().length === 0 && veths().length === 0);
});
