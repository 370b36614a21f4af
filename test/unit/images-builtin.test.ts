import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { BUILTIN_IMAGES } from '../../src/engine/images/builtin';
import { ImageService } from '../../src/engine/images/service';

/** The repository root: where scripts/build-images.sh is (tests may run from a copied dist). */
function repoRoot(): string | undefined {
  const candidates = [process.cwd()];
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) candidates.push(dir);
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'scripts', 'build-images.sh')));
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}

const root = repoRoot();
const canBuild = root !== undefined && hasCommand('gcc') && ['/usr/bin/busybox', '/bin/busybox'].some((p) => fs.existsSync(p));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-builtin-'));

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('built-in images', { skip: canBuild ? false : 'needs the repository scripts, gcc and busybox-static' }, () => {
  test('build-images.sh makes deterministic tars that import into runnable images', async () => {
    const script = path.join(root as string, 'scripts', 'build-images.sh');
    execFileSync('bash', [script, path.join(tmp, 'out1')], { stdio: 'pipe' });
    execFileSync('bash', [script, path.join(tmp, 'out2')], { stdio: 'pipe' });
    for (const image of BUILTIN_IMAGES) {
      const first = fs.readFileSync(path.join(tmp, 'out1', image.tarFile));
      assert.ok(first.equals(fs.readFileSync(path.join(tmp, 'out2', image.tarFile))), `${image.tarFile} is reproducible`);
    }

    const svc = await ImageService.open(path.join(tmp, 'data'));
    for (const image of BUILTIN_IMAGES) {
      assert.equal(image.name, `${image.repo}:${image.tag}`);
      await svc.importImage(fs.createReadStream(path.join(tmp, 'out1', image.tarFile)), {
        repo: image.repo,
        tag: image.tag,
        changes: image.changes,
      });
    }

    const hello = svc.get('hello-world');
    assert.deepEqual(hello.config.Cmd, ['/hello']);
    const [helloDir] = svc.lowerDirs(hello.id);
    assert.ok(fs.statSync(path.join(helloDir, 'hello')).size < 8192, 'hello stays a few KB');
    const greeting = execFileSync(path.join(helloDir, 'hello')).toString();
    assert.equal(greeting.split('\n')[0], 'Hello from Berth!');
    assert.match(greeting, /client[\s\S]*daemon[\s\S]*image[\s\S]*container[\s\S]*output/);

    const busybox = svc.get('busybox:latest');
    assert.deepEqual(busybox.config.Cmd, ['sh']);
    const [bbDir] = svc.lowerDirs(busybox.id);
    for (const applet of ['sh', 'ls', 'cat', 'echo', 'sleep', 'wget', 'ps']) {
      assert.equal(fs.readlinkSync(path.join(bbDir, 'bin', applet)), 'busybox', applet);
    }
    assert.equal(fs.statSync(path.join(bbDir, 'tmp')).mode & 0o7777, 0o1777);
    for (const dir of ['proc', 'sys', 'dev', 'etc']) assert.ok(fs.statSync(path.join(bbDir, dir)).isDirectory(), dir);
    assert.match(fs.readFileSync(path.join(bbDir, 'etc/passwd'), 'utf8'), /^root:x:0:0:.*\nnobody:x:65534:/);
    assert.match(fs.readFileSync(path.join(bbDir, 'etc/group'), 'utf8'), /^root:x:0:/);
    if (process.getuid?.() === 0) {
      const out = execFileSync('chroot', [bbDir, '/bin/sh', '-c', 'echo "$((6 * 7))"; id -un']).toString();
      assert.equal(out, '42\nroot\n');
    }
  });
});
