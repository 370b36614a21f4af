import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  const views = path.join(d.execRoot, 'views');
  assert.deepEqual(fs.existsSync(views) ? fs.readdirSync(views) : [], [], 'no view mount point is left');
  assert.deepEqual(await d.stop(), []);
});

const ok = (args: string[], input?: string) => d.dockerOk(args, { input });
const fails = async (args: string[]) => {
  const r = await d.docker(args);
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
  return r.stderr;
};

test('volume create, inspect, ls filters, rm and prune as Docker', async () => {
  assert.equal(await ok(['volume', 'create', '--label', 'a=b', '--label', 'c', 'v1']), 'v1\n');
  const anon = (await ok(['volume', 'create'])).trim();
  assert.match(anon, /^[0-9a-f]{64}$/);
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'v1']));
  assert.deepEqual(Object.keys(v), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.equal(v.Driver, 'local');
  assert.deepEqual(v.Labels, { a: 'b', c: '' });
  assert.equal(v.Mountpoint, path.join(d.dataRoot, 'volumes/v1/_data'));
  assert.equal(v.Options, null);
  assert.equal(v.Scope, 'local');
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // Creating an existing volume returns it unchanged.
  assert.equal(await ok(['volume', 'create', 'v1']), 'v1\n');

  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=a=b']), 'v1\n');
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'name=v1']), 'v1\n');
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'driver=local', '--filter', 'label=c']), 'v1\n');
  assert.equal((await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').filter(Boolean).length, 2);
  assert.match(await fails(['volume', 'ls', '--filter', 'bogus=1']), /invalid filter 'bogus'/);

  assert.match(await fails(['volume', 'create', 'a']), /create a: volume name is too short, names should be at least two alphanumeric characters/);
  assert.match(await fails(['volume', 'create', 'x/y']), /create x\/y: "x\/y" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
  assert.match(await fails(['volume', 'create', '--opt', 'foo=bar', 'x1']), /create x1: invalid option: "foo"/);
  assert.match(await fails(['volume', 'create', '-d', 'nodrv', 'x2']), /create x2: error looking up volume plugin nodrv: plugin "nodrv" not found/);
  assert.match(await fails(['volume', 'inspect', 'nope']), /get nope: no such volume/);
  assert.match(await fails(['volume', 'rm', 'nope']), /get nope: no such volume/);
  assert.equal((await d.docker(['volume', 'rm', '-f', 'nope'])).code, 0);

  // In use: Docker's 409 text, with -f too.
  const id = (await ok(['create', '-v', 'v1:/data', 'busybox', 'true'])).trim();
  const inUse = await d.api('DELETE', '/volumes/v1');
  assert.equal(inUse.status, 409);
  assert.equal(JSON.parse(inUse.body).message, `remove v1: volume is in use - [${id}]`);
  assert.match(await fails(['volume', 'rm', '-f', 'v1']), new RegExp(`remove v1: volume is in use - \\[${id}\\]`));
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'dangling=false']), 'v1\n');
  await ok(['rm', id]);

  // prune: anonymous only by default; named volumes need --all.
  const auto = (await ok(['create', '-v', '/anon', 'busybox', 'true'])).trim();
  const anonOfContainer = JSON.parse(await ok(['inspect', auto]))[0].Mounts[0].Name as string;
  const [anonVol] = JSON.parse(await ok(['volume', 'inspect', anonOfContainer]));
  assert.deepEqual(anonVol.Labels, { 'com.docker.volume.anonymous': '' });
  const pruned = JSON.parse((await d.api('POST', '/volumes/prune')).body);
  assert.deepEqual(pruned, { VolumesDeleted: [], SpaceReclaimed: 0 }, 'in use, or not anonymous (created by volume create)');
  await ok(['rm', auto]);
  assert.match(await ok(['volume', 'prune', '-f', '--filter', 'label=nope']), /Total reclaimed space: 0B/);
  assert.ok((await ok(['volume', 'ls', '-q'])).includes(anonOfContainer));
  assert.match(await ok(['volume', 'prune', '-f']), new RegExp(`Deleted Volumes:\n${anonOfContainer}\n`));
  const all = await ok(['volume', 'prune', '-af']);
  assert.match(all, /v1/);
  assert.match(all, new RegExp(anon));
  assert.equal(await ok(['volume', 'ls', '-q']), '');
});

test('tmpfs and bind-style local volumes from driver options', async () => {
  await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'tv']);
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'tv']));
  assert.deepEqual(v.Options, { device: 'tmpfs', o: 'size=1m', type: 'tmpfs' });
  const df = await ok(['run', '--rm', '-v', 'tv:/x', 'busybox', 'sh', '-c', 'df -k /x | tail -1; touch /x/f; ls /x']);
  assert.match(df, /^tmpfs\s+1024\s/);
  const hostDir = fs.mkdtempSync(path.join(d.root, 'bindvol-'));
  fs.writeFileSync(path.join(hostDir, 'hello'), 'from host\n');
  await ok(['volume', 'create', '--opt', 'type=none', '--opt', `device=${hostDir}`, '--opt', 'o=bind', 'bv']);
  assert.equal(await ok(['run', '--rm', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'cat /b/hello; echo back > /b/back']), 'from host\n');
  assert.equal(fs.readFileSync(path.join(hostDir, 'back'), 'utf8'), 'back\n');
  // cp through a stopped container reaches the volume's device too.
  await ok(['create', '--name', 'bvc', '-v', 'bv:/b', 'busybox', 'true']);
  assert.equal(await ok(['cp', 'bvc:/b/hello', '-']).then((t) => t.includes('from host')), true);
  await ok(['rm', 'bvc']);
  await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'device=/nonexistent-berth-dev', '--opt', 'o=bind', 'badbind']);
  const bad = await d.docker(['run', '--rm', '-v', 'badbind:/b', 'busybox', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /error while mounting volume '.*\/volumes\/badbind\/_data': failed to mount local volume: mount \/nonexistent-berth-dev:.*\/_data, flags: 0x1000: no such file or directory/);
  await ok(['volume', 'rm', 'tv', 'bv', 'badbind']);
  assert.ok(fs.existsSync(path.join(hostDir, 'hello')), 'removing a bind-style volume leaves the host dir alone');
});

test('-v and --mount: named, bind, anonymous, tmpfs; Mounts as Docker shows them', async () => {
  const hostDir = fs.mkdtempSync(path.join(d.root, 'bind-'));
  fs.writeFileSync(path.join(hostDir, 'h'), 'host\n');
  const missing = path.join(d.root, 'created-by-v/x');
  await ok([
    'run', '-d', '--name', 'm1', '-v', 'named:/data', '-v', `${hostDir}:/h:ro`, '-v', `${missing}:/n`, '-v', '/anon',
    '--mount', 'type=tmpfs,target=/t,tmpfs-size=1048576', '--mount', 'type=volume,source=mv,target=/mv,readonly',
    '--mount', `type=bind,source=${hostDir},target=/hb,bind-propagation=rslave`, '--tmpfs', '/tt:size=64k',
    'busybox', 'sleep', '300',
  ]);
  assert.ok(fs.statSync(missing).isDirectory(), '-v creates a missing host directory');
  const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'm1'])) as Array<Record<string, unknown>>;
  const byDest = Object.fromEntries(mounts.map((m) => [m.Destination, m]));
  const anonName = byDest['/anon']!.Name as string;
  assert.match(anonName, /^[0-9a-f]{64}$/);
  assert.deepEqual(byDest['/data'], { Type: 'volume', Name: 'named', Source: path.join(d.dataRoot, 'volumes/named/_data'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
  assert.deepEqual(byDest['/anon'], { Type: 'volume', Name: anonName, Source: path.join(d.dataRoot, `volumes/${anonName}/_data`), Destination: '/anon', Driver: 'local', Mode: '', RW: true, Propagation: '' });
  assert.deepEqual(byDest['/h'], { Type: 'bind', Source: hostDir, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' });
  assert.deepEqual(byDest['/n'], { Type: 'bind', Source: missing, Destination: '/n', Mode: '', RW: true, Propagation: 'rprivate' });
  assert.deepEqual(byDest['/t'], { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' });
  assert.deepEqual(byDest['/mv'], { Type: 'volume', Name: 'mv', Source: path.join(d.dataRoot, 'volumes/mv/_data'), Destination: '/mv', Driver: 'local', Mode: 'z', RW: false, Propagation: '' });
  assert.deepEqual(byDest['/hb'], { Type: 'bind', Source: hostDir, Destination: '/hb', Mode: '', RW: true, Propagation: 'rslave' });
  const hc = JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.Binds}}', 'm1'])) as string[];
  assert.deepEqual(hc.sort(), ['named:/data', `${hostDir}:/h:ro`, `${missing}:/n`].sort()); // the CLI's order varies
  const [inRoot] = JSON.parse(await ok(['inspect', (await ok(['create', '-v', `${d.dataRoot}/volumes:/vols:ro`, 'busybox', 'true'])).trim()]));
  assert.equal(inRoot.Mounts[0].Propagation, 'rslave', 'a bind from inside the data root is rslave, as moby makes it');
  await ok(['rm', inRoot.Id]);
  const ps = JSON.parse((await d.api('GET', '/containers/json?filters=' + encodeURIComponent('{"name":["m1"]}'))).body);
  assert.equal(ps[0].Mounts.length, 7);
  for (const v of ['named', '/data', hostDir, '/t']) assert.equal(await ok(['ps', '-q', '--no-trunc', '--filter', `volume=${v}`]), `${ps[0].Id}\n`, v);
  assert.equal(await ok(['ps', '-q', '--filter', 'volume=other']), '');

  const out = await ok(['exec', 'm1', 'sh', '-c', 'cat /h/h; echo x > /h/w 2>/dev/null || echo ro-bind; echo y > /mv/w 2>/dev/null || echo ro-vol; df -k /t | tail -1; df -k /tt | tail -1; echo d > /data/f; echo n > /n/f']);
  assert.match(out, /^host\nro-bind\nro-vol\ntmpfs\s+1024\s.*\ntmpfs\s+64\s/);
  assert.equal(fs.readFileSync(path.join(d.dataRoot, 'volumes/named/_data/f'), 'utf8'), 'd\n');
  assert.equal(fs.readFileSync(path.join(missing, 'f'), 'utf8'), 'n\n');

  // --volumes-from, read-only.
  const from = await ok(['run', '--rm', '--volumes-from', 'm1:ro', 'busybox', 'sh', '-c', 'cat /data/f; echo z > /data/g 2>/dev/null || echo ro; ls /t 2>&1 | head -1']);
  assert.match(from, /^d\nro\n/);
  const [c2] = JSON.parse(await ok(['inspect', (await ok(['create', '--volumes-from', 'm1', 'busybox', 'true'])).trim()]));
  const dests = (c2.Mounts as Array<{ Destination: string }>).map((m) => m.Destination).sort();
  assert.deepEqual(dests, ['/anon', '/data', '/h', '/hb', '/mv', '/n'], 'tmpfs mounts are not shared');
  await ok(['rm', c2.Id]);

  // rm -v removes the anonymous volume only.
  await ok(['rm', '-fv', 'm1']);
  const left = (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort();
  assert.deepEqual(left, ['mv', 'named']);
  // --rm removes anonymous volumes as well.
  await ok(['run', '--rm', '-v', '/gone', 'busybox', 'true']);
  assert.deepEqual((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort(), ['mv', 'named']);
  await ok(['volume', 'rm', 'mv', 'named']);
});

test('invalid and conflicting mount specs fail at create with Docker\'s texts', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-v', 'v:/d:xx'], /invalid mode: xx/],
    [['-v', 'vx:/x:ro,rw'], /invalid mode: ro,rw/],
    [['-v', '/a:/b:c:d'], /invalid volume specification: '\/a:\/b:c:d'/],
    [['-v', 'vv:data'], /invalid volume specification: 'vv:data': invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute/],
    [['-v', 'vv:/'], /invalid volume specification: 'vv:\/': invalid specification: destination can't be '\/'/],
    [['-v', 'v1:/d', '-v', 'v2:/d'], /Duplicate mount point: \/d/],
    [['--mount', 'type=volume,dst=/x', '--mount', 'type=volume,dst=/x'], /Duplicate mount point: \/x/],
    [['--mount', 'type=bind,source=/nonexistent-berth,target=/x'], /invalid mount config for type "bind": bind source path does not exist: \/nonexistent-berth/],
    [['--mount', 'type=bind,target=/x'], /invalid mount config for type "bind": field Source must not be empty/],
    [['--mount', 'type=tmpfs,source=foo,target=/x'], /invalid mount config for type "tmpfs": field Source must not be specified/],
    [['--mount', 'type=foo,target=/x'], /invalid mount config for type "foo": mount type unknown/],
    [['--mount', 'type=volume,target=/x,source=/abs'], /create \/abs: "\/abs" includes invalid characters for a local volume name/],
    [['-v', 'rel/x:/x'], /create rel\/x: "rel\/x" includes invalid characters for a local volume name/],
    [['-v', 'v:/x:nocopy,ro'], /create v: volume name is too short/],
    [['--volumes-from', 'nope'], /No such container: nope/],
    [['-v', `${d.dataRoot}/volumes:/x:shared`], /invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: ".*\/data", bind mount source: ".*\/data\/volumes", propagation: "shared"/],
    [['--tmpfs', '/t', '-v', 'tv1:/t'], /Duplicate mount point: \/t/],
  ];
  for (const [args, re] of cases) {
    const r = await d.docker(['create', ...args, 'busybox', 'true']);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
  const drv = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { VolumeDriver: 'nfsx', Binds: ['vx:/x'] } });
  assert.deepEqual([drv.status, JSON.parse(drv.body).message], [404, 'create vx: error looking up volume plugin nfsx: plugin "nfsx" not found']);
  assert.equal(await ok(['ps', '-aq']), '', 'nothing was created');
  assert.equal(await ok(['volume', 'ls', '-q']), '', 'no volume was created by a refused spec');
});

test('image VOLUME: anonymous volumes with the image content copied up (owner, mode); nocopy', async () => {
  await ok(['run', '--name', 'vbase', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo img > /data/f && echo deep > /data/sub/g && chown -R 1000:1000 /data && chmod 750 /data && chmod 604 /data/f']);
  await ok(['commit', '-c', 'VOLUME /data', '-c', 'USER 1000', 'vbase', 'volimg']);
  await ok(['rm', 'vbase']);
  const out = await ok(['run', '--name', 'vc', 'volimg', 'sh', '-c', 'id -u; ls -ln /data | tail -n +2; stat -c "%a %u:%g" /data; cat /data/sub/g; echo w > /data/new && echo wrote']);
  assert.match(out, /^1000\n-rw----r-- +1 1000 +1000 +4 .* f\ndrwxr-xr-x +2 1000 +1000 .* sub\n750 1000:1000\ndeep\nwrote\n$/);
  const [c] = JSON.parse(await ok(['inspect', 'vc']));
  assert.equal(c.Mounts.length, 1);
  assert.equal(c.Mounts[0].Destination, '/data');
  assert.equal(c.Config.Volumes['/data'] !== undefined, true);
  // A named volume gets the content too when new and empty; nocopy leaves it empty.
  assert.equal(await ok(['run', '--rm', '-v', 'cv:/data', 'volimg', 'cat', '/data/f']), 'img\n');
  assert.equal(await ok(['run', '--rm', '-u', '0', '-v', 'nc:/data:nocopy', 'volimg', 'ls', '-A', '/data']), '');
  assert.equal(await ok(['run', '--rm', '-u', '0', '--mount', 'type=volume,src=nc2,dst=/data,volume-nocopy', 'volimg', 'ls', '-A', '/data']), '');
  // A non-root user cannot write into a root-owned volume.
  const denied = await d.docker(['run', '--rm', '-u', '1000', '-v', 'rootvol:/rv', 'busybox', 'sh', '-c', 'touch /rv/x']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr + denied.stdout, /Permission denied/);
  await ok(['rm', '-v', 'vc']);
  await ok(['volume', 'rm', 'cv', 'nc', 'nc2', 'rootvol']);
  await ok(['rmi', 'volimg']);
});

test('volume data survives container removal and a berthd kill -9', async () => {
  await ok(['run', '--rm', '-v', 'keep:/k', 'busybox', 'sh', '-c', 'echo persisted > /k/file']);
  await ok(['run', '-d', '--name', 'holder', '-v', 'keep:/k', '-v', '/anonkeep', 'busybox', 'sleep', '300']);
  await d.kill9();
  await d.launch();
  assert.equal(await ok(['run', '--rm', '-v', 'keep:/k', 'busybox', 'cat', '/k/file']), 'persisted\n');
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'keep']));
  assert.equal(v.Name, 'keep');
  assert.match(await fails(['volume', 'rm', 'keep']), /volume is in use/);
  await ok(['rm', '-fv', 'holder']);
  assert.equal(await ok(['volume', 'ls', '-q']), 'keep\n');
  await ok(['volume', 'rm', 'keep']);
});

test('the berth CLI manages volumes like docker', async () => {
  const r = await d.berth(['volume', 'create', '--label', 'x=y', 'bv1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'bv1\n');
  const ls = await d.berth(['volume', 'ls']);
  assert.match(ls.stdout, /^DRIVER +VOLUME NAME\nlocal +bv1\n$/);
  const insp = await d.berth(['volume', 'inspect', '--format', '{{.Labels}} {{.Driver}}', 'bv1']);
  assert.equal(insp.stdout, 'map[x:y] local\n');
  assert.equal((await d.berth(['volume', 'rm', 'bv1'])).stdout, 'bv1\n');
  const missing = await d.berth(['volume', 'rm', 'bv1']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Error response from daemon: get bv1: no such volume/);
});

test('system df counts volumes: size and how many containers use them', async () => {
  await ok(['run', '--name', 'dfu', '-v', 'dfvol:/d', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero >> /d/z']);
  await ok(['volume', 'create', 'dfidle']);
  const volumeUsage = async () => {
    const df = JSON.parse((await d.api('GET', '/system/df')).body);
    return Object.fromEntries((df.Volumes as Array<{ Name: string; UsageData: object }>).map((v) => [v.Name, v.UsageData]));
  };
  let byName = await volumeUsage();
  assert.deepEqual(byName.dfvol, { Size: 100000, RefCount: 1 });
  assert.deepEqual(byName.dfidle, { Size: 0, RefCount: 0 });
  assert.match(await ok(['system', 'df']), /Local Volumes +2 +1 +100kB +0B \(0%\)/);
  await ok(['start', '-a', 'dfu']); // appends again: the kept size is dropped when the container starts
  byName = await volumeUsage();
  assert.deepEqual(byName.dfvol, { Size: 200000, RefCount: 1 });
  await ok(['rm', 'dfu']);
  await ok(['volume', 'rm', 'dfvol', 'dfidle']);
});

test('--mount keys: volume-label, volume-opt, tmpfs-mode, bind-nonrecursive, readonly tmpfs', async () => {
  const hostDir = fs.mkdtempSync(path.join(d.root, 'nr-'));
  const out = await ok([
    'run', '--rm',
    '--mount', 'type=volume,src=labelled,dst=/l,volume-label=team=db,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m',
    '--mount', 'type=tmpfs,dst=/tm,tmpfs-mode=1770',
    '--mount', 'type=tmpfs,dst=/tro,readonly',
    '--mount', `type=bind,src=${hostDir},dst=/nr,bind-nonrecursive`,
    'busybox', 'sh', '-c', 'df -k /l | tail -1; stat -c %a /tm; touch /tro/x 2>/dev/null || echo ro; grep " /nr " /proc/mounts | wc -l',
  ]);
  assert.match(out, /^tmpfs\s+2048\s.*\n1770\nro\n1\n$/);
  const [v] = JSON.parse(await ok(['volume', 'inspect', 'labelled']));
  assert.deepEqual(v.Labels, { team: 'db' });
  assert.deepEqual(v.Options, { device: 'tmpfs', o: 'size=2m', type: 'tmpfs' });
  await ok(['volume', 'rm', 'labelled']);
});

test('a volume on /etc does not hide the container\'s /etc/hosts, /etc/hostname and /etc/resolv.conf', async () => {
  const out = await ok(['run', '--rm', '-h', 'etchost', '--add-host', 'extra.example:10.1.2.3', '-v', 'etcvol:/etc', 'busybox', 'sh', '-c',
    'cat /etc/hostname; grep -c extra.example /etc/hosts; test -s /etc/resolv.conf && echo resolv; test -f /etc/passwd && echo passwd']);
  assert.equal(out, 'etchost\n1\nresolv\npasswd\n');
  await ok(['volume', 'rm', 'etcvol']);
});
