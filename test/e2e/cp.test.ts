import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import { IMAGES_DIR, TestDaemon, eventually } from './harness';
import { manyLayerArchive } from './images-fixtures';

let d: TestDaemon;
let work: string;
before(async () => {
  d = await TestDaemon.start();
  work = fs.mkdtempSync(path.join(d.root, 'cp-'));
});
after(async () => {
  const views = path.join(d.execRoot, 'views');
  assert.deepEqual(fs.existsSync(views) ? fs.readdirSync(views) : [], [], 'no view mount point is left');
  assert.deepEqual(await d.stop(), []);
});

const ok = (args: string[], input?: string | Buffer) => d.dockerOk(args, { input });
const fails = async (args: string[]) => {
  const r = await d.docker(args);
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
  return r.stderr;
};
const statHeader = async (id: string, p: string) => {
  const r = await d.api('HEAD', `/containers/${id}/archive?path=${encodeURIComponent(p)}`);
  const raw = r.headers['x-docker-container-path-stat'];
  return { status: r.status, stat: raw ? JSON.parse(Buffer.from(String(raw), 'base64').toString()) : undefined };
};

test('cp into and out of a running container: files, dirs, dir/., -a, -L, tar streams', async () => {
  await ok(['run', '-d', '--name', 'c1', 'busybox', 'sh', '-c', 'mkdir /dd; echo a > /ff; ln -s /etc /lnk; mkdir -p /src/sub; echo s > /src/sub/x; chown -R 1234:5678 /src; sleep 300']);
  fs.writeFileSync(path.join(work, 'f.txt'), 'data\n');
  fs.mkdirSync(path.join(work, 'dir/inner'), { recursive: true });
  fs.writeFileSync(path.join(work, 'dir/inner/y'), 'y\n');
  fs.chmodSync(path.join(work, 'dir/inner/y'), 0o640);
  fs.chownSync(path.join(work, 'dir/inner/y'), 4321, 8765);
  await new Promise((r) => setTimeout(r, 300));

  await ok(['cp', path.join(work, 'f.txt'), 'c1:/dd/f.txt']);
  await ok(['cp', path.join(work, 'f.txt'), 'c1:/dd']); // into an existing directory
  await ok(['cp', path.join(work, 'f.txt'), 'c1:/ff']); // over a file
  await ok(['cp', path.join(work, 'dir'), 'c1:/newdir']); // a directory to a new name
  await ok(['cp', '-a', path.join(work, 'dir'), 'c1:/archived']);
  await ok(['cp', path.join(work, 'dir'), 'c1:/']); // into the root directory (reached through /proc/<pid>/root)
  await ok(['exec', 'c1', 'test', '-f', '/dir/inner/y']);
  const inside = await ok(['exec', 'c1', 'sh', '-c', 'cat /dd/f.txt /ff; ls /dd; stat -c "%a %u:%g" /newdir/inner/y /archived/inner/y']);
  // As moby 28: the archive's owners are kept; -a gives the container's user (root here, so the same).
  assert.equal(inside, 'data\ndata\nf.txt\n640 4321:8765\n640 4321:8765\n');
  await ok(['run', '-d', '--name', 'cu', '-u', 'nobody', 'busybox', 'sleep', '300']);
  await ok(['cp', '-a', path.join(work, 'dir'), 'cu:/tmp/owned']);
  assert.equal(await ok(['exec', 'cu', 'stat', '-c', '%u:%g', '/tmp/owned/inner/y']), '65534:65534\n');
  await ok(['rm', '-f', 'cu']);
  await ok(['create', '--name', 'cu2', '-u', 'ghost', 'busybox', 'true']);
  assert.match(await fails(['cp', '-a', path.join(work, 'f.txt'), 'cu2:/tmp/']), /failed to look up user "ghost" in container: no matching entries in passwd file/);
  await ok(['rm', 'cu2']);

  // Out: a file, a directory, its contents (dir/.), a symlink as link and followed (-L).
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  await ok(['cp', 'c1:/etc/hostname', path.join(out, 'hn')]);
  assert.equal(fs.readFileSync(path.join(out, 'hn'), 'utf8').trim().length, 12);
  await ok(['cp', 'c1:/src', path.join(out, 'src')]);
  assert.equal(fs.readFileSync(path.join(out, 'src/sub/x'), 'utf8'), 's\n');
  fs.mkdirSync(path.join(out, 'dot'));
  await ok(['cp', 'c1:/src/.', path.join(out, 'dot')]);
  assert.deepEqual(fs.readdirSync(path.join(out, 'dot')), ['sub']);
  await ok(['cp', 'c1:/lnk', path.join(out, 'lnk')]);
  assert.equal(fs.readlinkSync(path.join(out, 'lnk')), '/etc');
  await ok(['cp', '-L', 'c1:/lnk', path.join(out, 'lnk2')]);
  assert.ok(fs.statSync(path.join(out, 'lnk2')).isDirectory());
  assert.ok(fs.existsSync(path.join(out, 'lnk2/hostname')));

  // Tar streams on stdout/stdin.
  const tar = spawnSync('docker', ['cp', 'c1:/src', '-'], { env: d.clientEnv() });
  assert.equal(tar.status, 0);
  const list = spawnSync('tar', ['tvf', '-'], { input: tar.stdout }).stdout.toString();
  assert.match(list, /^drwxr-xr-x 1234\/5678 +0 .* src\/\n/);
  assert.match(list, /-rw-r--r-- 1234\/5678 +2 .* src\/sub\/x\n/);
  const upload = spawnSync('tar', ['cf', '-', '-C', work, 'f.txt']).stdout;
  await ok(['cp', '-', 'c1:/dd/'], upload);
  await ok(['exec', 'c1', 'test', '-f', '/dd/f.txt']);

  // The stat header: Go FileMode bits, RFC 3339 mtime, link target.
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'c1'])).trim();
  const dirStat = await statHeader(id, '/etc/');
  assert.equal(dirStat.status, 200);
  assert.equal(dirStat.stat.name, 'etc');
  assert.equal(dirStat.stat.mode, 2 ** 31 + 0o755);
  assert.match(dirStat.stat.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const linkStat = await statHeader(id, '/lnk');
  assert.deepEqual([linkStat.stat.mode, linkStat.stat.linkTarget], [2 ** 27 + 0o777, '/etc']);
  const fileStat = await statHeader(id, '/ff');
  assert.deepEqual([fileStat.stat.name, fileStat.stat.size, fileStat.stat.mode], ['ff', 5, 0o644]);
  const since = Math.floor(Date.now() / 1000) - 1;
  const get = await d.api('GET', `/containers/${id}/archive?path=/ff`);
  await ok(['cp', path.join(work, 'f.txt'), 'c1:/tmp/']);
  const evs = await d.api('GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`);
  const actions = evs.body.split('\n').filter(Boolean).map((l) => JSON.parse(l).Action as string);
  assert.ok(actions.includes('archive-path') && actions.includes('extract-to-dir'), actions.join(','));
  assert.equal(get.headers['content-type'], 'application/x-tar');
  assert.ok(get.headers['x-docker-container-path-stat']);
  await ok(['rm', '-f', 'c1']);
});

test('cp errors in Docker\'s words', async () => {
  await ok(['run', '-d', '--name', 'c2', '-v', 'rov:/ro:ro', 'busybox', 'sh', '-c', 'echo a > /ff; mkdir /dd; sleep 300']);
  await ok(['run', '-d', '--name', 'cro', '--read-only', 'busybox', 'sleep', '300']);
  const f = path.join(work, 'e.txt');
  fs.writeFileSync(f, 'e\n');
  const dir = path.join(work, 'edir');
  fs.mkdirSync(dir);
  await new Promise((r) => setTimeout(r, 300));
  assert.match(await fails(['cp', 'c2:/nonexist', work]), /Error response from daemon: Could not find the file \/nonexist in container c2/);
  assert.match(await fails(['cp', f, 'c2:/nonexist/x']), /Could not find the file \/nonexist in container c2/);
  assert.match(await fails(['cp', 'c2:/ff/x', work]), /lstat \/ff\/x: not a directory/);
  assert.match(await fails(['cp', dir, 'c2:/ff/']), /cannot overwrite non-directory "\/ff" with directory "\/"/);
  assert.match(await fails(['cp', f, 'c2:/ro/']), /mounted volume is marked read-only/);
  await ok(['exec', 'c2', 'mkdir', '-p', '/dd/e.txt']);
  assert.match(await fails(['cp', f, 'c2:/dd']), /Error processing tar file\(exit status 1\): cannot overwrite directory "\/dd\/e.txt" with non-directory "\/dd"/);
  assert.match(await fails(['cp', f, 'cro:/etc/']), /container rootfs is marked read-only/);
  assert.match(await fails(['cp', f, 'nosuch:/x']), /No such container: nosuch/);
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'c2'])).trim();
  const missing = await d.api('HEAD', `/containers/${id}/archive?path=/nonexist`);
  assert.equal(missing.status, 404);
  const put = await d.api('PUT', `/containers/${id}/archive?path=/ff`, '');
  assert.deepEqual([put.status, JSON.parse(put.body).message], [400, 'extraction point is not a directory']);
  await ok(['rm', '-f', 'c2', 'cro']);
  await ok(['volume', 'rm', 'rov']);
});

test('cp works on stopped containers, through volumes and binds, both ways', async () => {
  const hostDir = fs.mkdtempSync(path.join(d.root, 'bind-'));
  fs.writeFileSync(path.join(hostDir, 'onhost'), 'h\n');
  await ok(['run', '--name', 'c3', '-v', 'cpvol:/vol', '-v', `${hostDir}:/bind`, 'busybox', 'sh', '-c', 'echo v > /vol/v; echo mine > /mine']);
  const f = path.join(work, 's.txt');
  fs.writeFileSync(f, 'stopped\n');
  await ok(['cp', f, 'c3:/etc/s.txt']);
  await ok(['cp', f, 'c3:/']);
  assert.match(await ok(['cp', 'c3:/', '-']), /s\.txt/);
  await ok(['cp', f, 'c3:/vol/s.txt']);
  await ok(['cp', f, 'c3:/bind/s.txt']);
  assert.equal(fs.readFileSync(path.join(hostDir, 's.txt'), 'utf8'), 'stopped\n');
  assert.equal(fs.readFileSync(path.join(d.dataRoot, 'volumes/cpvol/_data/s.txt'), 'utf8'), 'stopped\n');
  const back = path.join(work, 'back');
  fs.mkdirSync(back);
  await ok(['cp', 'c3:/etc/s.txt', path.join(back, 'a')]);
  const hostname = (await ok(['inspect', '-f', '{{.Config.Hostname}}', 'c3'])).trim();
  assert.match(await ok(['cp', 'c3:/etc/hostname', '-']), new RegExp(hostname), 'the network files as the container last had them');
  await ok(['cp', 'c3:/mine', path.join(back, 'b')]);
  await ok(['cp', 'c3:/vol/v', path.join(back, 'c')]);
  await ok(['cp', 'c3:/bind/onhost', path.join(back, 'd')]);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((n) => fs.readFileSync(path.join(back, n), 'utf8')), ['stopped\n', 'mine\n', 'v\n', 'h\n']);
  assert.equal(await ok(['start', '-a', 'c3']), '');
  assert.equal((await ok(['diff', 'c3'])).includes('A /etc/s.txt'), true);
  await ok(['rm', '-v', 'c3']);
  await ok(['volume', 'rm', 'cpvol']);
});

test('cp and start of a stopped container at the same time: both work, nothing stays mounted', async () => {
  await ok(['create', '--name', 'race', 'busybox', 'sh', '-c', 'cat /in/* > /dev/null; sleep 0.1']);
  const f = path.join(work, 'race.txt');
  fs.writeFileSync(f, 'race\n');
  for (let i = 0; i < 4; i++) {
    // Uploads, reads and a start at once: a freeze never lands between the runtime's create and start.
    const [cp, start, ...reads] = await Promise.all([
      d.docker(['cp', f, `race:/r${i}`]),
      d.docker(['start', '-a', 'race'], { timeoutMs: 30_000 }),
      ...[0, 1, 2].map((k) => new Promise((r) => setTimeout(r, k * 15)).then(() => d.docker(['cp', 'race:/etc/passwd', '-']))),
    ]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(start.code, 0, start.stderr);
    for (const r of reads) assert.equal(r.code, 0, r.stderr);
  }
  const names = (await ok(['cp', 'race:/', '-'])).match(/r[0-3]/g) ?? [];
  assert.deepEqual([...new Set(names)].sort(), ['r0', 'r1', 'r2', 'r3']);
  await ok(['rm', '-f', 'race']);
});

test('berthd killed in the middle of a cp into a stopped container: no mount, no helper, nothing left', async () => {
  await ok(['create', '--name', 'mid', 'busybox', 'true']);
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'mid'])).trim();
  const req = http.request({ socketPath: d.socket, method: 'PUT', path: `/containers/${id}/archive?path=/tmp`, headers: { 'Transfer-Encoding': 'chunked' } });
  req.on('error', () => undefined);
  const header = Buffer.alloc(512);
  header.write('big.bin', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write((64 << 20).toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  req.write(header);
  req.write(Buffer.alloc(1 << 20));
  const views = path.join(d.execRoot, 'views');
  await eventually(() => fs.existsSync(views) && fs.readdirSync(views).length > 0);
  await d.kill9();
  req.destroy();
  // The bridge and NAT rules stay for the next start; processes and mounts must be gone.
  const mine = () => d.leaks().filter((l) => l.startsWith('process') || l.startsWith('mount'));
  await eventually(() => mine().length === 0).catch(() => assert.fail(mine().join('\n')));
  await d.launch();
  assert.deepEqual(fs.readdirSync(views), [], 'stale view mount points are swept at start');
  await ok(['rm', 'mid']);
});

test('berthd killed while a cp holds a running container frozen: the next start thaws it', async () => {
  await ok(['run', '-d', '--name', 'frz', 'busybox', 'sh', '-c', 'head -c 50000000 /dev/zero > /big; sleep 300']);
  await eventually(async () => (await d.docker(['exec', 'frz', 'test', '-s', '/big'])).code === 0);
  await new Promise((r) => setTimeout(r, 500));
  const res = await new Promise<http.IncomingMessage>((resolve) => {
    http.get({ socketPath: d.socket, path: '/containers/frz/archive?path=/big' }, resolve);
  });
  res.pause(); // a client that does not read: the daemon stays inside the frozen section
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'frz'])).trim();
  const state = `/sys/fs/cgroup/freezer/${d.cgroupParent}/${id}/freezer.state`;
  if (fs.existsSync(state)) assert.equal(fs.readFileSync(state, 'utf8').trim(), 'FROZEN');
  await d.kill9();
  res.destroy();
  await d.launch();
  const r = await d.docker(['exec', 'frz', 'echo', 'alive'], { timeoutMs: 10_000 });
  assert.equal(r.stdout, 'alive\n');
  await ok(['rm', '-f', 'frz']);
});

test('a stopped container of an image with 64 layers: cp both ways (short lower-dir names in the view)', async () => {
  fs.writeFileSync(path.join(work, 'f.txt'), 'data\n');
  const archive = await manyLayerArchive(64, 'many:cp', fs.readFileSync(path.join(IMAGES_DIR, 'busybox.tar')));
  assert.equal((await d.docker(['load', '-q'], { input: archive, timeoutMs: 120_000 })).code, 0);
  await ok(['create', '--name', 'many', 'many:cp']);
  await ok(['cp', path.join(work, 'f.txt'), 'many:/etc/put.txt']);
  assert.equal(await ok(['cp', 'many:/layer63', '-']).then((t) => t.includes('63\n')), true);
  assert.match(await ok(['cp', 'many:/etc/put.txt', '-']), /data/);
  await ok(['rm', 'many']);
  await ok(['rmi', 'many:cp']);
});

test('hostile symlinks never lead cp out of the container (CVE-2018-15664 family)', async () => {
  const secretDir = fs.mkdtempSync(path.join(d.root, 'secret-'));
  fs.writeFileSync(path.join(secretDir, 'secret'), 'HOSTSECRET\n');
  const rel = '../'.repeat(12) + secretDir.slice(1);
  await ok([
    'run', '-d', '--name', 'evil', 'busybox', 'sh', '-c',
    `ln -s / /hostroot; ln -s ${secretDir} /abs; ln -s ${rel} /rel; ln -s ${secretDir}/secret /abfile; mkdir /w; ` +
      `while true; do mkdir -p /w/d; echo inner > /w/d/secret; rm -rf /w/d; ln -s ${secretDir} /w/d; rm /w/d; done`,
  ]);
  await new Promise((r) => setTimeout(r, 300));
  for (const p of [`/hostroot${secretDir}/secret`, '/abs/secret', '/rel/secret']) {
    const r = await d.docker(['cp', `evil:${p}`, '-']);
    assert.notEqual(r.code, 0, p);
    assert.match(r.stderr, /Could not find the file/);
  }
  const follow = await d.docker(['cp', '-L', 'evil:/abfile', '-']);
  assert.ok(!follow.stdout.includes('HOSTSECRET'));
  // Writing through the links lands inside the container or fails, never on the host.
  const f = path.join(work, 'planted');
  fs.writeFileSync(f, 'planted\n');
  for (const dest of ['evil:/abs/', 'evil:/rel/', `evil:/hostroot${secretDir}/`]) await d.docker(['cp', f, dest]);
  const tarIn = spawnSync('tar', ['cf', '-', '-C', work, 'planted', '--transform', `s|^planted|../../../../../../../${secretDir.slice(1)}/dotdot|`]).stdout;
  await d.docker(['cp', '-', 'evil:/w'], { input: tarIn });
  assert.deepEqual(fs.readdirSync(secretDir), ['secret'], 'nothing was written on the host');
  // Swapped during copy: the container is frozen while cp reads, so the host file never shows up.
  for (let i = 0; i < 15; i++) {
    const r = await d.docker(['cp', 'evil:/w/d/secret', '-']);
    assert.ok(!r.stdout.includes('HOSTSECRET'), 'host content leaked');
  }
  // The same through berthd's local copies (berth cp as root on this machine), both ways.
  for (const dest of ['evil:/abs/', 'evil:/rel/', `evil:/hostroot${secretDir}/`]) await d.berth(['cp', f, dest]);
  const berthOut = fs.mkdtempSync(path.join(d.root, 'evil-out-'));
  for (const p of [`/hostroot${secretDir}/secret`, '/abs/secret', '/rel/secret']) {
    const r = await d.berth(['cp', `evil:${p}`, path.join(berthOut, 'x')]);
    assert.equal(r.code, 1, p);
    assert.match(r.stderr, /Could not find the file/);
  }
  await d.berth(['cp', '-L', 'evil:/abfile', path.join(berthOut, 'followed')]);
  for (let i = 0; i < 10; i++) await d.berth(['-D', 'cp', 'evil:/w/d/secret', path.join(berthOut, `swapped${i}`)]);
  for (const name of fs.readdirSync(berthOut)) {
    assert.ok(!fs.readFileSync(path.join(berthOut, name), 'utf8').includes('HOSTSECRET'), `berth cp out: ${name}`);
  }
  assert.deepEqual(fs.readdirSync(secretDir), ['secret'], 'nothing was written on the host');
  await ok(['stop', '-t', '0', 'evil']);
  for (const p of ['/abs/secret', '/rel/secret', `/hostroot${secretDir}/secret`]) {
    const r = await d.docker(['cp', `evil:${p}`, '-']);
    assert.ok(!r.stdout.includes('HOSTSECRET'), `stopped ${p}`);
  }
  for (const dest of ['evil:/abs/', 'evil:/rel/']) await d.docker(['cp', f, dest]);
  assert.deepEqual(fs.readdirSync(secretDir), ['secret']);
  await ok(['rm', 'evil']);
});

/**
 * berth cp both ways. `local`: berthd copies straight from or into this (root) process's files, which
 * `-D` reports; `tar`: the copies go as tars (BERTH_CP_TAR=1), as with any other daemon.
 */
async function berthCopiesBothWays(mode: 'local' | 'tar'): Promise<void> {
  const bc = `bc-${mode}`;
  const work = fs.mkdtempSync(path.join(d.root, `berth-cp-${mode}-`));
  await ok(['run', '-d', '--name', bc, 'busybox', 'sh', '-c', 'mkdir -p /src/sub; echo s > /src/sub/x; ln -s sub/x /src/rel; ln -s /etc /lnk; chmod 600 /src/sub/x; sleep 300']);
  const f = path.join(work, 'b.txt');
  fs.writeFileSync(f, 'berth\n');
  const env: Record<string, string> = mode === 'tar' ? { BERTH_CP_TAR: '1' } : {};
  const berthOk = async (args: string[], input?: string | Buffer) => {
    const r = await d.berth(['-D', ...args.map((a) => a.replace(/^bc:/, `${bc}:`))], { input, env });
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    const local = /DEBU\[0000\] cp (in|out): copied by the daemon/.test(r.stderr);
    const streams = args.includes('-');
    assert.equal(local, mode === 'local' && !streams, `berth ${args.join(' ')} (${mode}): ${r.stderr}`);
    return r.stdout;
  };
  await berthOk(['cp', f, 'bc:/b.txt']);
  await berthOk(['cp', 'bc:/b.txt', path.join(work, 'b2.txt')]);
  assert.equal(fs.readFileSync(path.join(work, 'b2.txt'), 'utf8'), 'berth\n');
  const miss = await d.berth(['cp', `${bc}:/nope`, work], { env });
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /Error response from daemon: Could not find the file \/nope in container bc-(local|tar)/);

  // A tree in: to a new name, into an existing directory, its contents (dir/.), over a file; -a.
  const tree = path.join(work, 'btree');
  fs.mkdirSync(path.join(tree, 'a/b'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'a/b/big'), Buffer.alloc(3 << 20, 7));
  fs.writeFileSync(path.join(tree, 'top'), 'top\n');
  fs.chmodSync(path.join(tree, 'top'), 0o751);
  fs.chownSync(path.join(tree, 'top'), 4321, 8765);
  fs.utimesSync(path.join(tree, 'top'), 981173106, 981173106);
  fs.symlinkSync('a/b/big', path.join(tree, 'link'));
  fs.linkSync(path.join(tree, 'top'), path.join(tree, 'hard'));
  const long = 'n'.repeat(120);
  fs.mkdirSync(path.join(tree, long, long), { recursive: true });
  fs.writeFileSync(path.join(tree, long, long, 'deep'), 'deep\n');
  await berthOk(['cp', tree, 'bc:/newname']);
  await berthOk(['cp', tree, 'bc:/src']);
  await ok(['exec', bc, 'mkdir', '/dot']);
  await berthOk(['cp', `${tree}/.`, 'bc:/dot']);
  await berthOk(['container', 'cp', path.join(tree, 'top'), 'bc:/b.txt']);
  const inside = await ok(['exec', bc, 'sh', '-c',
    `cd /newname && stat -c '%a %u:%g %h %Y' top; readlink link; md5sum a/b/big | cut -c1-8; cat ${long}/${long}/deep; ` +
      'ls /src/btree | wc -l; ls /dot | wc -l; cat /b.txt']);
  const bigSum = createHash('md5').update(Buffer.alloc(3 << 20, 7)).digest('hex').slice(0, 8);
  assert.equal(inside, `751 4321:8765 2 981173106\na/b/big\n${bigSum}\ndeep\n5\n5\ntop\n`);

  // Out: a tree to a new name, into an existing directory, its contents, a symlink as is and with -L.
  const out = path.join(work, 'bout');
  fs.mkdirSync(out);
  await berthOk(['cp', 'bc:/newname', path.join(out, 'copy')]);
  assert.equal(createHash('md5').update(fs.readFileSync(path.join(out, 'copy/a/b/big'))).digest('hex').slice(0, 8), bigSum);
  assert.equal(fs.readFileSync(path.join(out, `copy/${long}/${long}/deep`), 'utf8'), 'deep\n');
  assert.equal(fs.readlinkSync(path.join(out, 'copy/link')), 'a/b/big');
  assert.equal(fs.statSync(path.join(out, 'copy/top')).mode & 0o7777, 0o751);
  assert.equal(fs.statSync(path.join(out, 'copy/top')).mtimeMs, 981173106000);
  assert.equal(fs.statSync(path.join(out, 'copy/top')).uid, 0, 'out of a container, files belong to whoever copies');
  assert.equal(fs.statSync(path.join(out, 'copy/top')).ino, fs.statSync(path.join(out, 'copy/hard')).ino);
  await berthOk(['cp', 'bc:/src', out]);
  assert.equal(fs.readFileSync(path.join(out, 'src/sub/x'), 'utf8'), 's\n');
  assert.equal(fs.statSync(path.join(out, 'src/sub/x')).mode & 0o777, 0o600);
  assert.equal(fs.readlinkSync(path.join(out, 'src/rel')), 'sub/x');
  fs.mkdirSync(path.join(out, 'dot'));
  await berthOk(['cp', 'bc:/src/.', path.join(out, 'dot')]);
  assert.deepEqual(fs.readdirSync(path.join(out, 'dot')).sort(), ['btree', 'rel', 'sub']);
  await berthOk(['cp', 'bc:/lnk', path.join(out, 'lnk')]);
  assert.equal(fs.readlinkSync(path.join(out, 'lnk')), '/etc');
  await berthOk(['cp', '-L', 'bc:/lnk', path.join(out, 'lnk2')]);
  assert.ok(fs.existsSync(path.join(out, 'lnk2/hostname')));
  await berthOk(['cp', 'bc:/b.txt', path.join(out, 'copy/top')]); // over a file
  assert.equal(fs.readFileSync(path.join(out, 'copy/top'), 'utf8'), 'top\n');
  const dirOverFile = await d.berth(['cp', `${bc}:/src`, path.join(out, 'copy/top')], { env });
  assert.equal(dirOverFile.code, 1);
  assert.match(dirOverFile.stderr, /cannot copy a directory to a file/);
  const noDir = await d.berth(['cp', `${bc}:/b.txt`, path.join(out, 'nodir/')], { env });
  assert.match(noDir.stderr, /destination directory ".*nodir\/" must exist/);
  const noParent = await d.berth(['cp', `${bc}:/b.txt`, path.join(out, 'nodir/x')], { env });
  assert.match(noParent.stderr, /no such file or directory/);

  // Tar streams both ways.
  const tarOut = spawnSync(process.execPath, ['--', path.join(__dirname, '../../src/cli/main.js'), 'cp', `${bc}:/src/sub`, '-'], { env: { ...d.clientEnv(), ...env } });
  assert.equal(tarOut.status, 0, tarOut.stderr.toString());
  assert.match(spawnSync('tar', ['tvf', '-'], { input: tarOut.stdout }).stdout.toString(), /sub\/x\n/);
  await berthOk(['cp', '-', 'bc:/dot'], spawnSync('tar', ['cf', '-', '-C', work, 'b.txt']).stdout);
  assert.equal(await ok(['exec', bc, 'cat', '/dot/b.txt']), 'berth\n');
  await ok(['rm', '-f', bc]);
}

test('the berth CLI copies both ways: berthd copying the local files itself', () => berthCopiesBothWays('local'));
test('the berth CLI copies both ways as tars (BERTH_CP_TAR=1, as with any other daemon)', () => berthCopiesBothWays('tar'));

test('POST /containers/{id}/archive/local: a root process\'s open file, checked by device and inode, or 421', async () => {
  await ok(['run', '-d', '--name', 'lc', 'busybox', 'sleep', '300']);
  const dir = fs.mkdtempSync(path.join(d.root, 'lc-'));
  fs.writeFileSync(path.join(dir, 'f'), 'local\n');
  const fd = fs.openSync(dir, 'r');
  const st = fs.fstatSync(fd, { bigint: true });
  const client = { Pid: process.pid, Fd: fd, Dev: String(st.dev), Ino: String(st.ino) };
  const post = (body: unknown) => d.api('POST', '/v1.50/containers/lc/archive/local', body);
  try {
    const copied = await post({ Direction: 'in', Path: '/', Name: 'copied', Client: client });
    assert.equal(copied.status, 204, copied.body);
    assert.equal(await ok(['exec', 'lc', 'cat', '/copied/f']), 'local\n');
    const back = await post({ Direction: 'out', Path: '/copied/f', Name: 'back', Client: client });
    assert.equal(back.status, 204, back.body);
    assert.equal(fs.readFileSync(path.join(dir, 'back'), 'utf8'), 'local\n');
    // A stopped container too (its file system is mounted in a private view meanwhile).
    await ok(['stop', '-t', '0', 'lc']);
    assert.equal((await post({ Direction: 'in', Path: '/', Name: 'stopped', Client: client })).status, 204);
    assert.equal((await post({ Direction: 'out', Path: '/stopped/f', Name: 'back2', Client: client })).status, 204);
    assert.equal(fs.readFileSync(path.join(dir, 'back2'), 'utf8'), 'local\n');

    // Not the file the client sees, no file at all, someone else's process: 421, nothing copied.
    const other = await post({ Direction: 'in', Path: '/', Name: 'other', Client: { ...client, Ino: String(st.ino + 1n) } });
    assert.equal(other.status, 421);
    assert.match(other.body, /not reachable from the daemon: descriptor \d+ of process \d+ is another file/);
    const closed = await post({ Direction: 'in', Path: '/', Name: 'other', Client: { ...client, Fd: 999 } });
    assert.equal(closed.status, 421);
    assert.equal((await post({ Direction: 'in', Path: '/', Name: 'other' })).status, 421);
    const fileFd = fs.openSync(path.join(dir, 'f'), 'r');
    const fst = fs.fstatSync(fileFd, { bigint: true });
    const nobody = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '30'], { stdio: [fileFd, 'ignore', 'ignore'] });
    fs.closeSync(fileFd);
    try {
      await eventually(() => fs.readlinkSync(`/proc/${nobody.pid}/exe`).endsWith('/sleep'));
      const unprivileged = await post({ Direction: 'in', Path: '/', Name: 'other', Client: { Pid: nobody.pid, Fd: 0, Dev: String(fst.dev), Ino: String(fst.ino) } });
      assert.equal(unprivileged.status, 421);
      assert.match(unprivileged.body, /is not a root process of this machine/);
    } finally {
      nobody.kill('SIGKILL');
    }
    assert.equal((await statHeader('lc', '/other')).status, 404, 'nothing was copied');

    // Malformed requests.
    assert.equal((await post({ Direction: 'sideways', Path: '/', Name: 'x', Client: client })).status, 400);
    const fileAsDest = await post({ Direction: 'out', Path: '/copied/f', Name: 'x', Client: { ...client, Fd: fs.openSync(path.join(dir, 'f'), 'r'), Ino: String(fst.ino) } });
    assert.equal(fileAsDest.status, 400);
    assert.match(fileAsDest.body, /the destination is not a directory/);
    const missing = await post({ Direction: 'out', Path: '/nope', Name: 'x', Client: client });
    assert.equal(missing.status, 404);
    assert.match(missing.body, /Could not find the file \/nope in container lc/);
  } finally {
    fs.closeSync(fd);
  }
  await ok(['rm', '-f', 'lc']);
});

test('berth cp never extracts outside the destination, whatever the daemon sends', async () => {
  // A fake daemon answers every archive GET with a hostile tar: names climbing out, a symlink to an
  // outside directory followed by entries under it, an absolute symlink then a file through it.
  const outside = fs.mkdtempSync(path.join(d.root, 'outside-'));
  const stage = fs.mkdtempSync(path.join(d.root, 'stage-'));
  const build = (args: string[]) => spawnSync('tar', args, { cwd: stage });
  fs.mkdirSync(path.join(stage, 'payload'));
  fs.writeFileSync(path.join(stage, 'payload/f'), 'pwned\n');
  fs.symlinkSync(outside, path.join(stage, 'payload/abs'));
  fs.symlinkSync('/', path.join(stage, 'payload/root'));
  const parts = [
    build(['cf', '-', 'payload/abs', 'payload/root']).stdout,
    build(['cf', '-', '--transform', `s|^payload/f|payload/abs/through-abs|`, 'payload/f']).stdout,
    build(['cf', '-', '--transform', `s|^payload/f|payload/root${outside}/through-root|`, 'payload/f']).stdout,
  ];
  // Concatenated archives without their end blocks in between.
  const strip = (t: Buffer) => {
    let end = t.length;
    while (end >= 512 && t.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    return t.subarray(0, end);
  };
  const hostile = Buffer.concat([...parts.map(strip), Buffer.alloc(1024)]);
  const climbing = build(['cf', '-', '--transform', `s|^payload/f|../../../../../../../..${outside}/climbed|`, '-P', 'payload/f']).stdout;
  const relLink = fs.mkdtempSync(path.join(d.root, 'rl-'));
  fs.symlinkSync('../../../../../../../..' + outside, path.join(relLink, 'up'));
  const relTar = spawnSync('tar', ['cf', '-', 'up'], { cwd: relLink }).stdout;
  let body = hostile;
  const sock = path.join(d.root, 'fake.sock');
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url!.includes('_ping')) {
      res.writeHead(200, { 'Api-Version': '1.50' });
      res.end();
      return;
    }
    const stat = Buffer.from(JSON.stringify({ name: 'payload', size: 0, mode: 2 ** 31 + 0o755, mtime: '2024-01-01T00:00:00Z', linkTarget: '' })).toString('base64');
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': stat });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const dest = fs.mkdtempSync(path.join(d.root, 'dest-'));
    const run = (args: string[]) => runBerth(['-H', `unix://${sock}`, ...args]);
    const first = await run(['cp', 'x:/payload', dest]);
    assert.equal(first.status, 0, first.stderr);
    body = climbing;
    const climbed = await run(['cp', 'x:/payload', dest]);
    assert.notEqual(climbed.status, 0);
    assert.match(climbed.stderr, /is outside of/);
    body = relTar;
    const rel = await run(['cp', 'x:/payload', dest]);
    assert.notEqual(rel.status, 0);
    assert.match(rel.stderr, /invalid symlink/);
    assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written outside the destination');
    // What went through the links landed inside the destination (links resolved as if it were the root).
    assert.equal(fs.readFileSync(path.join(dest, outside.slice(1), 'through-abs'), 'utf8'), 'pwned\n');
    assert.equal(fs.readFileSync(path.join(dest, outside.slice(1), 'through-root'), 'utf8'), 'pwned\n');
  } finally {
    server.close();
  }
});

function runBerth(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--', path.join(__dirname, '../../src/cli/main.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (status) => resolve({ status, stderr }));
  });
}
