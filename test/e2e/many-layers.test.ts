import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IMAGES_DIR, TestDaemon } from './harness';
import { manyLayerArchive } from './images-fixtures';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});


test('an image with 128 layers mounts and runs (short lower-dir names)', async () => {
  const archive = await manyLayerArchive(128, 'many:layers', fs.readFileSync(path.join(IMAGES_DIR, 'busybox.tar')));
  const load = await d.docker(['load'], { input: archive, timeoutMs: 120_000 });
  assert.equal(load.code, 0, load.stderr);
  assert.equal((await d.docker(['image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'many:layers'])).stdout, '128\n');
  const r = await d.docker(['run', '--rm', 'many:layers', 'sh', '-c', 'cat /layer1 /layer127; ls / | grep -c ^layer']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n127\n127\n');
  await d.docker(['rmi', 'many:layers']);
});
