import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, dockerBinary } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const names = (tarFile: string) =>
  spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.trim().split('\n').map((n) => n.replace(/^\.\//, ''));

test('export writes the container file system (its own changes included, no kernel file systems)', async () => {
  assert.equal((await d.docker(['run', '--name', 'exp', 'busybox', 'sh', '-c', 'echo mine > /root/note; rm /bin/vi'])).code, 0);
  const viaDocker = path.join(d.root, 'docker.tar');
  const r = spawnSync('sh', ['-c', `${dockerBinary()} export exp > ${viaDocker}`], { env: d.clientEnv() });
  assert.equal(r.status, 0, String(r.stderr));
  const list = names(viaDocker);
  assert.ok(list.includes('root/note'), 'the container change is there');
  assert.ok(list.includes('bin/busybox'));
  assert.ok(!list.includes('bin/vi'), 'deleted files are gone');
  assert.ok(!list.some((n) => n.startsWith('proc/') && n !== 'proc/'), 'no /proc content');
  const note = spawnSync('tar', ['-xOf', viaDocker, 'root/note'], { encoding: 'utf8' });
  assert.equal(note.stdout, 'mine\n');

  const viaBerth = path.join(d.root, 'berth.tar');
  const b = await d.berth(['export', '-o', viaBerth, 'exp']);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(names(viaBerth).sort(), list.sort());
  assert.equal(fs.statSync(viaBerth).mode & 0o777, 0o600);

  const missing = await d.docker(['export', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);
  await d.docker(['rm', 'exp']);
});
