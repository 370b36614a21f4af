import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { TestDaemon } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

test('docker-py (Debian python3-docker) drives berthd', () => {
  const script = path.resolve(__dirname, '../../../test/e2e/clients/docker_py_smoke.py');
  const r = spawnSync('/usr/bin/python3', [script, d.host], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'api 1.50',
    'run hello from docker-py',
    "list ['pyc']",
    'exec 3 exec',
    'wait 137',
    'logs out',
    "images ['busybox:latest', 'hello-world:latest']",
    'error 4',
    'notfound No such container: nope',
  ]);
});
