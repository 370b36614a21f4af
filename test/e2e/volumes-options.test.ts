import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, eventually } from './harness';

/**
 * Local volumes with driver options (type/device/o) as moby's local driver has them: mounted once on the
 * host at `_data` on first use, shared by every container using the volume, unmounted after the last
 * one; copy-up at create through that mount; and mounts over a file of the image refused as Docker does.
 */

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const ok = (args: string[]) => d.dockerOk(args);
const data = (name: string) => path.join(d.dataRoot, 'volumes', name, '_data');

/** Mounts on the host (this namespace) under the test daemon's root: mount point → "fstype root". */
function hostMounts(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 10 || !f[4]!.startsWith(d.root)) continue;
    const sep = f.indexOf('-');
    out[f[4]!] = `${f[sep + 1]} ${f[3]}`;
  }
  return out;
}

test('a tmpfs volume is mounted once on the host and shared by the containers using it', async () => {
  assert.equal(await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=64m,mode=1770', 'shared']), 'shared\n');
  assert.deepEqual(hostMounts(), {}, 'nothing is mounted before a container uses it');
  await ok(['run', '-d', '--name', 't1', '-v', 'shared:/a', 'busybox', 'sh', '-c', 'echo from-t1 > /a/f; sleep 300']);
  await eventually(() => fs.existsSync(path.join(data('shared'), 'f')));
  assert.deepEqual(hostMounts(), { [data('shared')]: 'tmpfs /' });
  assert.equal(fs.statSync(data('shared')).mode & 0o7777, 0o1770, 'the o= options reach the file system');
  // A second container sees the same file system, and the first sees its writes.
  await ok(['run', '-d', '--name', 't2', '-v', 'shared:/b:ro', 'busybox', 'sleep', '300']);
  assert.equal(await ok(['exec', 't2', 'cat', '/b/f']), 'from-t1\n');
  assert.match(await ok(['exec', 't2', 'df', '-k', '/b']), /\ntmpfs\s+65536\s/);
  assert.equal(await ok(['run', '--rm', '-v', 'shared:/c', 'busybox', 'sh', '-c', 'echo from-run > /c/g; ls /c']), 'f\ng\n');
  assert.equal(await ok(['exec', 't1', 'cat', '/a/g']), 'from-run\n');
  assert.equal(Object.keys(hostMounts()).length, 1, 'still one mount');
  const inUse = await d.api('DELETE', '/volumes/shared');
  assert.equal(inUse.status, 409);
  // The mount stays while one user is left; the last stop unmounts it and the content is gone with it.
  await ok(['stop', '-t', '0', 't1']);
  assert.deepEqual(hostMounts(), { [data('shared')]: 'tmpfs /' });
  assert.equal(await ok(['exec', 't2', 'cat', '/b/g']), 'from-run\n');
  await ok(['stop', '-t', '0', 't2']);
  assert.deepEqual(hostMounts(), {}, 'unmounted when the last container stops');
  assert.deepEqual(fs.readdirSync(data('shared')), []);
  await ok(['start', 't1']);
  assert.deepEqual(hostMounts(), { [data('shared')]: 'tmpfs /' }, 'mounted again on the next start');
  await ok(['rm', '-f', 't1']);
  assert.deepEqual(hostMounts(), {}, 'rm -f unmounts');
  await ok(['rm', 't2']);
  assert.equal(await ok(['volume', 'rm', 'shared']), 'shared\n');
});

test('bind-style volumes (type=none, o=bind[,ro]) bind their device at _data while in use', async () => {
  const dev = fs.mkdtempSync(path.join(d.root, 'dev-'));
  fs.writeFileSync(path.join(dev, 'hello'), 'from host\n');
  await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${dev}`, 'bindv']);
  await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind,ro', '--opt', `device=${dev}`, 'bindro']);
  await ok(['run', '-d', '--name', 'b1', '-v', 'bindv:/v', '-v', 'bindro:/r', 'busybox', 'sleep', '300']);
  const mounts = hostMounts();
  assert.deepEqual(Object.keys(mounts).sort(), [data('bindro'), data('bindv')]);
  assert.ok(mounts[data('bindv')]!.endsWith(`/${path.basename(dev)}`), `the device is what is mounted: ${mounts[data('bindv')]}`);
  assert.equal(await ok(['exec', 'b1', 'sh', '-c', 'cat /v/hello; echo back > /v/back; (echo x > /r/x) 2>&1 || echo refused']), 'from host\nsh: can\'t create /r/x: Read-only file system\nrefused\n');
  assert.equal(fs.readFileSync(path.join(dev, 'back'), 'utf8'), 'back\n');
  await ok(['rm', '-f', 'b1']);
  assert.deepEqual(hostMounts(), {});
  await ok(['volume', 'rm', 'bindv', 'bindro']);
  assert.deepEqual(fs.readdirSync(dev).sort(), ['back', 'hello'], 'removing the volumes leaves the device alone');
});

test('driver option errors read as Docker\'s, and a failed mount leaves nothing mounted', async () => {
  const create = async (opts: string[], name: string) => {
    const r = await d.docker(['volume', 'create', ...opts.flatMap((o) => ['--opt', o]), name]);
    return [r.code, r.stderr.trim()];
  };
  assert.deepEqual(await create(['o=size=1m'], 'e1'), [1, 'Error response from daemon: create e1: missing required option: "device"']);
  assert.deepEqual(await create(['type=tmpfs'], 'e2'), [1, 'Error response from daemon: create e2: missing required option: "device"']);
  assert.deepEqual(await create(['device=tmpfs'], 'e3'), [1, 'Error response from daemon: create e3: missing required option: "type"']);
  assert.deepEqual(await create(['size=1x'], 'e4'), [1, "Error response from daemon: create e4: invalid suffix: 'x'"]);
  assert.deepEqual(await create(['size=10m'], 'e5'), [1, 'Error response from daemon: create e5: quota size requested but no quota support']);
  assert.deepEqual(await create(['type=cifs', 'device=//srv:445/share'], 'e6'), [1, "Error response from daemon: create e6: port not allowed in CIFS device URL, include 'port' in 'o='"]);
  assert.equal(await ok(['volume', 'ls', '-q']), '');

  await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=abc', 'badopt']);
  const bad = await d.docker(['run', '--name', 'bo', '-v', 'badopt:/x', 'busybox', 'true']);
  const want = `error while mounting volume '${data('badopt')}': failed to mount local volume: mount tmpfs:${data('badopt')}, data: size=abc: invalid argument`;
  assert.equal(bad.code, 125);
  assert.equal(bad.stderr, `docker: Error response from daemon: ${want}\n\nRun 'docker run --help' for more information\n`);
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}', 'bo']), `created 128 ${want}\n`);

  await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', 'device=/nonexistent-berth-dev', 'nodev']);
  // The first volume mounts, the second fails: the first is let go again.
  await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'goodtmp']);
  const r = await d.docker(['run', '--rm', '-v', 'goodtmp:/a', '-v', 'nodev:/b', 'busybox', 'true']);
  assert.equal(r.code, 127, 'the docker CLI exits 127 on "no such file or directory"');
  assert.match(r.stderr, new RegExp(`error while mounting volume '${data('nodev')}': failed to mount local volume: mount /nonexistent-berth-dev:${data('nodev')}, flags: 0x1000: no such file or directory`));
  assert.deepEqual(hostMounts(), {});
  // Over a path of the image the volume is mounted at create already, for the copy-up (moby's populateVolume).
  const pop = await d.docker(['create', '-v', 'goodtmp:/bin', '-v', 'nodev:/etc', 'busybox', 'true']);
  assert.deepEqual([pop.code, pop.stderr], [1, `Error response from daemon: failed to populate volume: error while mounting volume '${data('nodev')}': failed to mount local volume: mount /nonexistent-berth-dev:${data('nodev')}, flags: 0x1000: no such file or directory\n`]);
  assert.deepEqual(hostMounts(), {});
  assert.equal(await ok(['ps', '-aq']), (await ok(['ps', '-aq', '--filter', 'name=bo'])), 'the failed create left no container');
  await ok(['rm', 'bo']);
  await ok(['volume', 'rm', 'badopt', 'nodev', 'goodtmp']);
});

/**
 * What a volume on /etc holds besides the mount points the runtime creates in it for the container's
 * /etc/hostname, /etc/hosts and /etc/resolv.conf (empty files, as with Docker: those binds go on top).
 */
function copiedInto(dir: string): string[] {
  const runtimeMountPoints = ['hostname', 'hosts', 'resolv.conf'];
  for (const name of runtimeMountPoints) {
    if (fs.existsSync(path.join(dir, name))) assert.equal(fs.statSync(path.join(dir, name)).size, 0, `${name} is an empty mount point`);
  }
  return fs.readdirSync(dir).filter((n) => !runtimeMountPoints.includes(n)).sort();
}

test('copy-up into volumes with driver options: through the host mount at create, as moby does', async () => {
  const dev = fs.mkdtempSync(path.join(d.root, 'cdev-'));
  await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${dev}`, 'cbind']);
  // busybox has /etc/group and /etc/passwd: copied into the empty device dir, owners and modes kept.
  assert.equal(await ok(['run', '--rm', '-v', 'cbind:/etc', 'busybox', 'sh', '-c', 'ls /etc | grep -v "^host\\|^resolv"']), 'group\npasswd\n');
  assert.deepEqual(copiedInto(dev), ['group', 'passwd']);
  assert.equal(fs.readFileSync(path.join(dev, 'passwd'), 'utf8').split('\n')[0], 'root:x:0:0:root:/root:/bin/sh');
  // Not empty any more: nothing is copied again.
  fs.rmSync(path.join(dev, 'group'));
  await ok(['run', '--rm', '-v', 'cbind:/etc', 'busybox', 'true']);
  assert.deepEqual(copiedInto(dev), ['passwd']);
  assert.deepEqual(hostMounts(), {});

  // A tmpfs volume held by a running container keeps the copy (the mount outlives the create)…
  await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'ctmp']);
  await ok(['run', '-d', '--name', 'holder', '-v', 'ctmp:/held', 'busybox', 'sleep', '300']);
  assert.equal(await ok(['run', '--rm', '-v', 'ctmp:/etc', 'busybox', 'cat', '/etc/group']).then((t) => t.startsWith('root:x:0:')), true);
  assert.deepEqual((await ok(['exec', 'holder', 'ls', '/held'])).split('\n').filter((n) => n === 'group' || n === 'passwd'), ['group', 'passwd']);
  await ok(['rm', '-f', 'holder']);
  // …while without a holder the copy goes with the unmount after the create (moby's populateVolume).
  assert.equal(await ok(['run', '--rm', '-v', 'ctmp:/etc', 'busybox', 'sh', '-c', 'ls /etc | grep -c "^group\\|^passwd" || true']), '0\n');
  // nocopy: nothing copied, also for a bind-style volume.
  fs.rmSync(path.join(dev, 'passwd'));
  await ok(['run', '--rm', '-v', 'cbind:/etc:nocopy', 'busybox', 'true']);
  assert.deepEqual(copiedInto(dev), []);
  assert.deepEqual(hostMounts(), {});
  await ok(['volume', 'rm', 'cbind', 'ctmp']);
});

test('mounting a directory over a file of the image (and a file over a directory) fails as in Docker', async () => {
  // Config.Volumes (docker run -v /path, the image's VOLUME) over a file: refused at create.
  for (const dest of ['/etc/passwd', '/etc/hosts']) {
    const r = await d.docker(['run', '--rm', '-v', dest, 'busybox', 'true']);
    assert.equal(r.code, 125, dest);
    assert.match(r.stderr, new RegExp(`^docker: Error response from daemon: cannot mount volume over existing file, file exists ${d.dataRoot}/snapshots/[0-9a-f]{64}/merged${dest}\n`), dest);
  }
  assert.equal(await ok(['ps', '-aq']), '', 'no container is left');
  assert.equal(await ok(['volume', 'ls', '-q']), '', 'nor its anonymous volume');

  // An empty named volume over a file: moby 28's copy-up refuses the file as its source.
  const named = await d.docker(['create', '-v', 'overfile:/etc/passwd', 'busybox', 'true']);
  assert.equal(named.code, 1, 'docker create exits 1 on a daemon error');
  assert.match(named.stderr, new RegExp(`^Error response from daemon: source ${d.dataRoot}/snapshots/[0-9a-f]{64}/merged/etc/passwd is not directory\n`));
  assert.equal(await ok(['volume', 'ls', '-q']), 'overfile\n', 'a named volume stays, as in moby');

  // No copy-up (nocopy, a bind of a directory, a file bind over a directory): the runtime refuses it at start.
  const hostDir = fs.mkdtempSync(path.join(d.root, 'hd-'));
  const hostFile = path.join(hostDir, 'file');
  fs.writeFileSync(hostFile, 'x');
  const cases: Array<[string, string, string]> = [
    ['overfile:/etc/passwd:nocopy', data('overfile'), '/etc/passwd'],
    [`${hostDir}:/etc/passwd`, hostDir, '/etc/passwd'],
    [`${hostFile}:/bin`, hostFile, '/bin'],
  ];
  for (const [spec, src, dest] of cases) {
    const r = await d.docker(['run', '--name', 'mm', '-v', spec, 'busybox', 'true']);
    assert.equal(r.code, 125, spec);
    const hint = ': unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type';
    assert.ok(r.stderr.startsWith('docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: '), r.stderr);
    assert.ok(r.stderr.includes(`error mounting "${src}" to rootfs at "${dest}"`), r.stderr);
    assert.ok(r.stderr.endsWith(`not a directory${hint}\n\nRun 'docker run --help' for more information\n`), r.stderr);
    const [c] = JSON.parse(await ok(['inspect', 'mm']));
    assert.equal(c.State.Status, 'created');
    assert.equal(c.State.ExitCode, 127);
    assert.ok((c.State.Error as string).endsWith(`not a directory${hint}`));
    const start = await d.api('POST', '/containers/mm/start');
    assert.equal(start.status, 400, spec);
    await ok(['rm', 'mm']);
  }
  assert.deepEqual(hostMounts(), {});
  await ok(['volume', 'rm', 'overfile']);
});

test('after berthd kill -9: running containers keep their volume mounted, mounts nobody holds are cleaned', async () => {
  for (const v of ['keepm', 'stale']) await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', v]);
  await ok(['run', '-d', '--name', 'k1', '-v', 'keepm:/k', 'busybox', 'sh', '-c', 'echo kept > /k/f; sleep 300']);
  await ok(['run', '-d', '--name', 'k2', '-v', 'stale:/s', 'busybox', 'sleep', '300']);
  await eventually(() => fs.existsSync(path.join(data('keepm'), 'f')));
  assert.deepEqual(Object.keys(hostMounts()).sort(), [data('keepm'), data('stale')]);
  const pid2 = Number((await ok(['inspect', '-f', '{{.State.Pid}}', 'k2'])).trim());
  await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'orphan']);
  await d.kill9();
  // A mount nobody holds (as a copy-up cut short by the kill leaves it).
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', data('orphan')]).status, 0);
  process.kill(pid2, 'SIGKILL'); // k2 dies while berthd is down
  await eventually(() => !fs.existsSync(`/proc/${pid2}`) || fs.readFileSync(`/proc/${pid2}/stat`, 'utf8').includes(') Z'));
  await d.launch();
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', 'k2']), 'exited\n');
  assert.deepEqual(Object.keys(hostMounts()), [data('keepm')], "the dead container's volume is unmounted, the live one's kept");
  // The live container's mount is still the shared one: a new container sees its file, and the refcount holds.
  assert.equal(await ok(['run', '--rm', '-v', 'keepm:/k', 'busybox', 'cat', '/k/f']), 'kept\n');
  assert.deepEqual(Object.keys(hostMounts()), [data('keepm')]);
  assert.equal(await ok(['exec', 'k1', 'cat', '/k/f']), 'kept\n');
  await ok(['rm', '-f', 'k1', 'k2']);
  assert.deepEqual(hostMounts(), {});
  await ok(['volume', 'rm', 'keepm', 'stale', 'orphan']);
});
