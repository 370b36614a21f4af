import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TestDaemon } from './harness';

/** The berth CLI's `network` commands and `port`, next to the docker CLI's output for the same daemon. */
let d: TestDaemon;
const SUB = `10.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]!}`;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('berth network create/ls/inspect/connect/disconnect/rm/prune and berth port', async () => {
  const create = await d.berth(['network', 'create', '--subnet', `${SUB}.0/24`, '--label', 'team=a', 'bnet']);
  assert.equal(create.code, 0, create.stderr);
  assert.match(create.stdout, /^[0-9a-f]{64}\n$/);
  const ls = await d.berth(['network', 'ls']);
  const dls = await d.docker(['network', 'ls']);
  assert.equal(ls.stdout, dls.stdout);
  assert.equal((await d.berth(['network', 'ls', '-q', '--filter', 'label=team=a'])).stdout, create.stdout.slice(0, 12) + '\n');
  assert.equal((await d.berth(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'bnet'])).stdout, `${SUB}.0/24\n`);
  assert.equal((await d.berth(['network', 'inspect', 'bnet'])).stdout, (await d.docker(['network', 'inspect', 'bnet'])).stdout);

  assert.equal((await d.berth(['run', '-d', '--name', 'pc', '-p', '127.0.0.1::80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'])).code, 0);
  const port = await d.berth(['port', 'pc']);
  assert.match(port.stdout, /^80\/tcp -> 127\.0\.0\.1:\d+\n$/);
  assert.equal(port.stdout, (await d.docker(['port', 'pc'])).stdout);
  assert.equal((await d.berth(['port', 'pc', '80/tcp'])).stdout, port.stdout.replace('80/tcp -> ', ''));
  const none = await d.berth(['port', 'pc', '81']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No public port '81\/tcp' published for pc/);

  assert.equal((await d.berth(['network', 'connect', '--alias', 'web', '--ip', `${SUB}.50`, 'bnet', 'pc'])).code, 0);
  assert.equal((await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.bnet.IPAddress}}', 'pc'])).stdout, `${SUB}.50\n`);
  const rmBusy = await d.berth(['network', 'rm', 'bnet']);
  assert.equal(rmBusy.code, 1);
  assert.match(rmBusy.stderr, /has active endpoints/);
  assert.equal((await d.berth(['network', 'disconnect', 'bnet', 'pc'])).code, 0);
  assert.equal((await d.berth(['rm', '-f', 'pc'])).code, 0);
  const rm = await d.berth(['network', 'rm', 'bnet']);
  assert.equal(rm.stdout, 'bnet\n', rm.stderr);
  const missing = await d.berth(['network', 'rm', 'bnet']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /network bnet not found/);
  assert.equal((await d.berth(['network', 'create', 'gone'])).code, 0);
  assert.equal((await d.berth(['network', 'prune', '-f'])).stdout, 'Deleted Networks:\ngone\n\n');
  const help = await d.berth(['network', '--help']);
  assert.match(help.stdout, /Usage:\s+berth network COMMAND/);
});
