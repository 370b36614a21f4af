import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { upperDirChanges } from '../../src/engine/containers/changes';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-chg-'));
  dirs.push(d);
  return d;
};

test('diff of an upper dir: added, changed (with parents), deleted (whiteouts), init mount points left out', () => {
  const lower = tmp();
  fs.mkdirSync(path.join(lower, 'etc'));
  fs.writeFileSync(path.join(lower, 'etc/passwd'), 'root');
  fs.writeFileSync(path.join(lower, 'etc/group'), 'root');
  fs.mkdirSync(path.join(lower, 'home'));
  const upper = tmp();
  fs.mkdirSync(path.join(upper, 'etc'));
  fs.writeFileSync(path.join(upper, 'etc/passwd'), 'root+');
  execFileSync('mknod', [path.join(upper, 'etc/group'), 'c', '0', '0']);
  execFileSync('mknod', [path.join(upper, 'home'), 'c', '0', '0']);
  fs.mkdirSync(path.join(upper, 'new/sub'), { recursive: true });
  fs.writeFileSync(path.join(upper, 'new/sub/f'), 'x');
  fs.writeFileSync(path.join(upper, 'etc/hosts'), ''); // a mount point the runtime made
  fs.mkdirSync(path.join(upper, 'proc'));
  assert.deepEqual(upperDirChanges(upper, [lower]), [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/group', Kind: 2 },
    { Path: '/etc/passwd', Kind: 0 },
    { Path: '/home', Kind: 2 },
    { Path: '/new', Kind: 1 },
    { Path: '/new/sub', Kind: 1 },
    { Path: '/new/sub/f', Kind: 1 },
  ]);
  const onlyInit = tmp();
  fs.mkdirSync(path.join(onlyInit, 'etc'));
  fs.writeFileSync(path.join(onlyInit, 'etc/hostname'), '');
  assert.equal(upperDirChanges(onlyInit, [lower]), null, 'nothing but init mount points is no change');
});
