import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TestDaemon, eventually, freePort, httpGet, sleep } from './harness';

/** kill -9 and restart of berthd with running networked containers; leak counts after removal, kill -9 and restart. */
let d: TestDaemon;
const SUB = `10.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]!}`;

before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const run = (args: string[]) => d.docker(args);
const ok = (args: string[]) => d.dockerOk(args);
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
const veths = () => sh('ip', ['-o', 'link', 'show']).split('\n').filter((l) => new RegExp(`^\\d+: ${d.networkPrefix}v`).test(l)).length;
const rules = () => sh('iptables-save', []).split('\n').filter((l) => l.startsWith('-A') && l.includes(`${d.networkPrefix.toUpperCase()}-`));
const dnat = () => rules().filter((l) => l.includes('-j DNAT')).length;

const get = (port: number) => httpGet('127.0.0.1', port, '/hostname', 3000);

test('kill -9 of berthd: networked containers keep working; after restart ports, DNS and IPAM carry on; dead containers leave nothing', async () => {
  await ok(['network', 'create', '--subnet', `${SUB}.0/24`, 'app']);
  const port = await freePort();
  await ok(['run', '-d', '--name', 'web', '--network', 'app', '--network-alias', 'site', '-p', `${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  await ok(['run', '-d', '--name', 'brief', '--network', 'app', '-p', `${await freePort()}:80`, 'busybox', 'sh', '-c', 'sleep 2']);
  await ok(['run', '-d', '--name', 'client', '--network', 'app', 'busybox', 'sleep', '300']);
  const host = (await ok(['inspect', '-f', '{{.Config.Hostname}}', 'web'])).trim();
  const webIp = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.app.IPAddress}}', 'web'])).trim();
  assert.equal(await eventually(() => get(port).catch(() => '')), `${host}\n`);
  const vethsBefore = veths();
  assert.equal(vethsBefore, 3);
  const hostAddr = d.bip.split('/')[0]!;

  await d.kill9();
  // containers keep their network while the daemon is down (DNAT from the host address; peers by IP)
  const viaHost = await httpGet(hostAddr, port, '/hostname', 3000).catch(() => '');
  assert.equal(viaHost, `${host}\n`);
  // 127.0.0.1 publishes are kernel DNAT too, so they keep working without the daemon
  assert.equal(await get(port), `${host}\n`);
  await sleep(2500); // brief exits while the daemon is down

  await d.launch();
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', 'web'])).trim(), 'running');
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', 'brief'])).trim(), 'exited');
  // the loopback proxy is back, DNS answers again, the published port is still listed
  assert.equal(await eventually(() => get(port).catch(() => '')), `${host}\n`);
  assert.equal(await ok(['exec', 'client', 'wget', '-qO-', 'http://site/hostname']), `${host}\n`);
  assert.equal(await ok(['port', 'web', '80']), `0.0.0.0:${port}\n`);
  // brief's veth, endpoint and DNAT rule are gone; web's rule stays
  await eventually(() => veths() === 2);
  assert.equal(dnat(), 1);
  assert.doesNotMatch(await ok(['network', 'inspect', '-f', '{{json .Containers}}', 'app']), /brief/);
  // IPAM remembers: a new container never gets web's address
  const fresh = (await ok(['run', '--rm', '--network', 'app', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).trim();
  assert.doesNotMatch(fresh, new RegExp(`inet ${webIp.replace(/\./g, '\\.')}/`));
  // the port is still held: another container cannot take it
  const clash = await run(['run', '--rm', '-p', `${port}:80`, 'busybox', 'true']);
  assert.match(clash.stderr, /port is already allocated/);

  // a graceful restart with running containers keeps everything in place too
  assert.equal(await d.terminate(), 0);
  await d.launch();
  assert.equal(await eventually(() => get(port).catch(() => '')), `${host}\n`);

  await ok(['rm', '-f', 'web', 'brief', 'client']);
  await eventually(() => veths() === 0 && dnat() === 0);
  await ok(['network', 'rm', 'app']);
  // only the default bridge's rules remain while the daemon runs
  assert.ok(rules().every((l) => l.includes(`${d.networkPrefix}0`) || l.includes('-j ' + d.networkPrefix.toUpperCase())), rules().join('\n'));
});

test('a daemon stopped with no running containers removes its bridges and chains; the next start brings them back', async () => {
  assert.equal(await d.terminate(), 0);
  assert.deepEqual(d.networkLeaks(), []);
  await d.launch();
  assert.ok(sh('ip', ['-o', 'link', 'show', `${d.networkPrefix}0`]).includes(`${d.networkPrefix}0`));
  assert.ok(rules().length > 0);
  await ok(['run', '--rm', 'busybox', 'true']);
});

test('start-up removes links of this daemon that no record explains (a crash between record and link removal)', async () => {
  const n = 14 - d.networkPrefix.length;
  const strayVeth = `${d.networkPrefix}v${'ab'.repeat(8).slice(0, n)}`;
  const strayBridge = `${d.networkPrefix}-${'cd'.repeat(8).slice(0, n)}`;
  await d.kill9();
  spawnSync('ip', ['link', 'add', strayVeth, 'type', 'veth', 'peer', 'name', `${strayVeth.slice(0, 13)}p`]);
  spawnSync('ip', ['link', 'add', strayBridge, 'type', 'bridge']);
  await d.launch();
  const links = sh('ip', ['-o', 'link', 'show']);
  assert.ok(!links.includes(strayVeth) && !links.includes(strayBridge), links);
  assert.ok(links.includes(`${d.networkPrefix}0`));
});
