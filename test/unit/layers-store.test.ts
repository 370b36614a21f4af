import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import * as tarStream from 'tar-stream';
import { ContentStore } from '../../src/engine/content/store';
import { chainIdOf, chainIds } from '../../src/engine/layers/chain-id';
import { cleanEntryName } from '../../src/util/root-path';
import { LayerStore } from '../../src/engine/layers/store';
import type { SpecialOpStrategy } from '../../src/engine/layers/special-files';
import { makeTar as makeTarAt } from '../e2e/images-fixtures';

const makeTar = (entries: Entry[]) => makeTarAt(entries, { mtime: new Date(1_000_000_000_000) });

type Entry = tarStream.Headers & { body?: string | Buffer };


const sha256 = (data: Buffer): string => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
const tmpRoots: string[] = [];

async function openStores(strategy?: SpecialOpStrategy): Promise<{ base: string; content: ContentStore; layers: LayerStore }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-layers-'));
  tmpRoots.push(base);
  const content = await ContentStore.open(path.join(base, 'data', 'content'));
  const layers = await LayerStore.open(path.join(base, 'data', 'layers'), content, { specialStrategy: strategy });
  return { base, content, layers };
}

function assertNoLeftovers(base: string): void {
  assert.deepEqual(fs.readdirSync(path.join(base, 'data', 'content', 'ingest')), [], 'content ingest is empty');
  const tmp = path.join(base, 'data', 'layers', '.tmp');
  assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], [], 'layer temp dir is empty');
  assert.deepEqual(fs.readdirSync(base), ['data'], 'nothing written beside the data root');
}

function xattr(file: string, name: string): string | null {
  const script = `import os,sys\ntry: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())\nexcept OSError: sys.stdout.write('<none>')`;
  const out = execFileSync('python3', ['-c', script, file, name]).toString();
  return out === '<none>' ? null : out;
}

after(() => {
  for (const dir of tmpRoots) fs.rmSync(dir, { recursive: true, force: true });
});

describe('chain IDs', () => {
  test('follow the OCI definition', () => {
    const a = sha256(Buffer.from('a'));
    const b = sha256(Buffer.from('b'));
    const c = sha256(Buffer.from('c'));
    const ab = sha256(Buffer.from(`${a} ${b}`));
    assert.equal(chainIdOf(null, a), a);
    assert.equal(chainIdOf(a, b), ab);
    assert.deepEqual(chainIds([a, b, c]), [a, ab, sha256(Buffer.from(`${ab} ${c}`))]);
  });
});

describe('entry names', () => {
  test('absolute names are rooted in the layer, climbing out is refused', () => {
    assert.equal(cleanEntryName('/etc/passwd'), 'etc/passwd');
    assert.equal(cleanEntryName('./a/b/'), 'a/b');
    assert.equal(cleanEntryName('/../x'), 'x');
    assert.equal(cleanEntryName('./'), '');
    assert.throws(() => cleanEntryName('../x'), /escapes the layer/);
    assert.throws(() => cleanEntryName('a/../../x'), /escapes the layer/);
  });
});

describe('LayerStore.apply', () => {
  test('extracts files, dirs, links, modes, owners and times; diff ID is the tar digest', async () => {
    const { base, content, layers } = await openStores();
    const t = new Date('2020-02-03T04:05:06Z');
    const tar = await makeTar([
      { name: './', type: 'directory', mode: 0o755 },
      { name: 'bin/', type: 'directory', mode: 0o750, uid: 1000, gid: 1001, mtime: t },
      { name: 'bin/tool', body: 'echo hi\n', mode: 0o4755, uid: 1000, gid: 1001, mtime: t },
      { name: 'bin/alias', type: 'symlink', linkname: 'tool', mtime: t },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'deep/er/file', body: 'x', mode: 0o600 },
    ]);
    const info = await layers.apply(Readable.from([tar]), null);
    assert.equal(info.diffId, sha256(tar));
    assert.equal(info.chainId, info.diffId);
    assert.equal(info.parent, null);
    assert.equal(info.size, 'echo hi\n'.length + 'tool'.length + 1);
    assert.deepEqual(content.readSync(info.diffId), tar, 'the raw tar is kept byte for byte');

    const dir = layers.diffDir(info.chainId);
    const tool = fs.lstatSync(path.join(dir, 'bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755, 'setuid bit kept');
    assert.equal(tool.uid, 1000);
    assert.equal(tool.gid, 1001);
    assert.equal(tool.mtime.getTime(), t.getTime());
    assert.equal(tool.nlink, 2, 'hard link shares the inode');
    assert.equal(fs.readlinkSync(path.join(dir, 'bin/alias')), 'tool');
    assert.equal(fs.lstatSync(path.join(dir, 'bin/alias')).mtime.getTime(), t.getTime());
    const binDir = fs.statSync(path.join(dir, 'bin'));
    assert.equal(binDir.mode & 0o7777, 0o750);
    assert.equal(binDir.mtime.getTime(), t.getTime(), 'directory mtime restored after its children');
    assert.equal(fs.readFileSync(path.join(dir, 'deep/er/file'), 'utf8'), 'x');
    assert.equal(fs.statSync(path.join(dir, 'deep')).mode & 0o777, 0o755, 'implicit parents are 0755');
    assertNoLeftovers(base);

    const reopened = await LayerStore.open(path.join(base, 'data', 'layers'), content);
    assert.deepEqual(reopened.get(info.chainId), info);
  });

  test('gzip input gives the same diff ID as the plain tar', async () => {
    const { layers } = await openStores();
    const tar = await makeTar([{ name: 'a.txt', body: 'hello' }]);
    const info = await layers.apply(Readable.from([zlib.gzipSync(tar)]), null);
    assert.equal(info.diffId, sha256(tar));
    assert.equal(fs.readFileSync(path.join(layers.diffDir(info.chainId), 'a.txt'), 'utf8'), 'hello');
  });

  test('zstd, xz and bzip2 input (through their tools) give the same diff ID as the plain tar', async () => {
    const { layers } = await openStores();
    const tar = await makeTar([{ name: 'z.txt', body: 'compressed\n' }]);
    for (const [tool, args] of [['zstd', ['-c', '-q']], ['xz', ['-c']], ['bzip2', ['-c']]] as const) {
      const packed = execFileSync(tool, [...args], { input: tar });
      const info = await layers.apply(Readable.from([packed]), null);
      assert.equal(info.diffId, sha256(tar), tool);
    }
    const corrupt = Buffer.concat([execFileSync('zstd', ['-c', '-q'], { input: tar }).subarray(0, 12), Buffer.alloc(40, 7)]);
    await assert.rejects(layers.apply(Readable.from([corrupt]), null), /invalid zstd stream/);
  });

  test('extended attributes from PAX records are kept byte for byte; overlayfs ones are refused', async () => {
    const { base, layers } = await openStores();
    const src = path.join(base, 'xsrc');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'f'), 'x');
    const value = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41]);
    execFileSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(path.join(src, 'f'))}, 'user.bin', bytes.fromhex('${value.toString('hex')}'))`]);
    if (process.getuid?.() === 0) {
      execFileSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(src)}, 'trusted.overlay.redirect', b'/etc')`]);
    }
    const tar = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', src, '-cf', '-', '.']);
    const info = await layers.apply(Readable.from([tar]), null);
    const dir = layers.diffDir(info.chainId);
    const read = (p: string, n: string) =>
      execFileSync('python3', ['-c', `import os,sys; sys.stdout.write(os.getxattr(${JSON.stringify(p)}, '${n}').hex())`], { encoding: 'utf8' });
    assert.equal(read(path.join(dir, 'f'), 'user.bin'), value.toString('hex'));
    if (process.getuid?.() === 0) {
      assert.throws(() => read(dir, 'trusted.overlay.redirect'), /No data available|ENODATA|Errno 61/);
    }
  });

  test('layers on a shared base share its directory; the same layer twice is stored once', async () => {
    const { layers } = await openStores();
    const baseTar = await makeTar([{ name: 'base', body: 'b' }]);
    const base1 = await layers.apply(Readable.from([baseTar]), null);
    const base2 = await layers.apply(Readable.from([baseTar]), null);
    assert.deepEqual(base2, base1);
    const top1 = await layers.apply(Readable.from([await makeTar([{ name: 'one', body: '1' }])]), base1.chainId);
    const top2 = await layers.apply(Readable.from([await makeTar([{ name: 'two', body: '2' }])]), base1.chainId);
    assert.equal(top1.chainId, chainIdOf(base1.chainId, top1.diffId));
    assert.equal(top2.parent, base1.chainId);
    const dirs = fs.readdirSync(layers.root).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(dirs.length, 3);
    await assert.rejects(layers.apply(Readable.from([baseTar]), 'sha256:' + '0'.repeat(64)), /parent layer/);
  });

  test('whiteouts become overlay whiteouts and opaque markers the opaque xattr', async () => {
    const python = hasCommand('python3');
    const strategies: SpecialOpStrategy[] = python ? ['python', 'commands'] : ['commands'];
    for (const strategy of strategies) {
      const { layers } = await openStores(strategy);
      // Without python3 the opaque xattr needs setfattr (Debian's attr), not always installed;
      // reading it back here uses python3.
      const canSetXattr = python && (strategy === 'python' || hasCommand('setfattr'));
      const tar = await makeTar([
        { name: 'etc/.wh.gone', body: '' },
        { name: 'var/cache/', type: 'directory' },
        ...(canSetXattr ? [{ name: 'var/cache/.wh..wh..opq', body: '' }] : []),
        { name: 'var/cache/new', body: 'n' },
        { name: '.wh..wh.plnk', type: 'directory' },
        { name: 'pipe', type: 'fifo', mode: 0o640 },
      ]);
      const info = await layers.apply(Readable.from([tar]), null);
      const dir = layers.diffDir(info.chainId);
      const gone = fs.lstatSync(path.join(dir, 'etc/gone'));
      assert.ok(gone.isCharacterDevice(), `${strategy}: whiteout is a char device`);
      assert.equal(gone.rdev, 0, `${strategy}: whiteout is 0/0`);
      assert.ok(!fs.existsSync(path.join(dir, 'etc/.wh.gone')));
      assert.ok(!fs.existsSync(path.join(dir, '.wh..wh.plnk')), 'aufs metadata is skipped');
      if (canSetXattr) {
        assert.equal(xattr(path.join(dir, 'var/cache'), 'trusted.overlay.opaque'), 'y');
      }
      assert.ok(!fs.existsSync(path.join(dir, 'var/cache/.wh..wh..opq')));
      assert.equal(fs.readFileSync(path.join(dir, 'var/cache/new'), 'utf8'), 'n');
      const pipe = fs.lstatSync(path.join(dir, 'pipe'));
      assert.ok(pipe.isFIFO());
      assert.equal(pipe.mode & 0o777, 0o640);
    }
  });

  test('device nodes are made with mknod when running as root', { skip: process.getuid?.() !== 0 }, async () => {
    const { layers } = await openStores();
    const tar = await makeTar([{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
    const info = await layers.apply(Readable.from([tar]), null);
    const st = fs.lstatSync(path.join(layers.diffDir(info.chainId), 'dev/null'));
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, (1 << 8) | 3);
    assert.equal(st.mode & 0o777, 0o666);
  });

  test('queued special files are made first when a later entry replaces or links to them', { skip: process.getuid?.() !== 0 }, async () => {
    const { layers } = await openStores();
    const tar = await makeTar([
      { name: 'p', type: 'fifo', mode: 0o600 },
      { name: 'p', body: 'a file now' },
      { name: 'dev/zero', type: 'character-device', devmajor: 1, devminor: 5, mode: 0o666 },
      { name: 'dev/zero2', type: 'link', linkname: 'dev/zero' },
      { name: '.wh.q', body: '' },
      { name: 'q', body: 'a file replaces the whiteout' },
    ]);
    const dir = layers.diffDir((await layers.apply(Readable.from([tar]), null)).chainId);
    assert.equal(fs.readFileSync(path.join(dir, 'p'), 'utf8'), 'a file now');
    const zero = fs.lstatSync(path.join(dir, 'dev/zero'));
    assert.ok(zero.isCharacterDevice());
    assert.equal(fs.lstatSync(path.join(dir, 'dev/zero2')).ino, zero.ino);
    assert.equal(fs.readFileSync(path.join(dir, 'q'), 'utf8'), 'a file replaces the whiteout');
  });

  test('later entries replace earlier ones; a directory entry updates an existing directory', async () => {
    const { layers } = await openStores();
    const tar = await makeTar([
      { name: 'x', body: 'file first' },
      { name: 'x/', type: 'directory', mode: 0o700 },
      { name: 'x/inner', body: 'i' },
      { name: 'd/', type: 'directory', mode: 0o755 },
      { name: 'd/keep', body: 'k' },
      { name: 'd/', type: 'directory', mode: 0o711 },
      { name: 'f', body: 'old' },
      { name: 'f', body: 'new' },
    ]);
    const dir = layers.diffDir((await layers.apply(Readable.from([tar]), null)).chainId);
    assert.ok(fs.statSync(path.join(dir, 'x')).isDirectory());
    assert.equal(fs.readFileSync(path.join(dir, 'd/keep'), 'utf8'), 'k');
    assert.equal(fs.statSync(path.join(dir, 'd')).mode & 0o777, 0o711);
    assert.equal(fs.readFileSync(path.join(dir, 'f'), 'utf8'), 'new');
  });
});

describe('LayerStore.apply with hostile tars', () => {
  const marker = `berth-escape-${process.pid}-${Date.now()}`;

  test('"../x" is refused and stores nothing', async () => {
    const { base, content, layers } = await openStores();
    const tar = await makeTar([{ name: 'ok', body: '1' }, { name: `../${marker}`, body: 'evil' }]);
    await assert.rejects(layers.apply(Readable.from([tar]), null), /escapes the layer/);
    assert.equal(layers.list().length, 0);
    assert.equal(content.list().length, 0);
    assertNoLeftovers(base);
  });

  test('absolute names land inside the layer', async () => {
    const { base, layers } = await openStores();
    const tar = await makeTar([{ name: `/tmp/${marker}`, body: 'abs' }]);
    const info = await layers.apply(Readable.from([tar]), null);
    assert.equal(fs.readFileSync(path.join(layers.diffDir(info.chainId), 'tmp', marker), 'utf8'), 'abs');
    assert.ok(!fs.existsSync(`/tmp/${marker}`));
    assertNoLeftovers(base);
  });

  test('files written through a symlink stay inside the layer', async () => {
    const { base, layers } = await openStores();
    const tar = await makeTar([
      { name: 'evil', type: 'symlink', linkname: '/' },
      { name: `evil/tmp/${marker}`, body: 'through root link' },
      { name: 'up', type: 'symlink', linkname: '../../../../../../..' },
      { name: `up/tmp/${marker}-2`, body: 'through relative link' },
      { name: 'outside', type: 'symlink', linkname: base },
      { name: `outside/${marker}-3`, body: 'through link to the data dir' },
    ]);
    const info = await layers.apply(Readable.from([tar]), null);
    const dir = layers.diffDir(info.chainId);
    assert.equal(fs.readFileSync(path.join(dir, 'tmp', marker), 'utf8'), 'through root link');
    assert.equal(fs.readFileSync(path.join(dir, 'tmp', `${marker}-2`), 'utf8'), 'through relative link');
    assert.equal(fs.readFileSync(path.join(dir, base, `${marker}-3`), 'utf8'), 'through link to the data dir');
    assert.ok(!fs.existsSync(`/tmp/${marker}`));
    assert.ok(!fs.existsSync(`/tmp/${marker}-2`));
    assertNoLeftovers(base);
  });

  test('hard links to files outside the layer are refused', async () => {
    const passwdLinks = fs.statSync('/etc/passwd').nlink;
    for (const linkname of ['/etc/passwd', '../../../../etc/passwd', 'etcdir/passwd']) {
      const { base, layers } = await openStores();
      const tar = await makeTar([
        { name: 'etcdir', type: 'symlink', linkname: '/etc' },
        { name: 'stolen', type: 'link', linkname },
      ]);
      await assert.rejects(layers.apply(Readable.from([tar]), null), /not in the layer|escapes the layer/, linkname);
      assert.equal(layers.list().length, 0);
      assertNoLeftovers(base);
    }
    assert.equal(fs.statSync('/etc/passwd').nlink, passwdLinks);
  });

  test('a queued whiteout is made before its directory is swapped for a symlink', async () => {
    const { base, layers } = await openStores();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
    tmpRoots.push(outside);
    const tar = await makeTar([
      { name: 'a/', type: 'directory' },
      { name: 'a/.wh.b', body: '' },
      { name: 'a', type: 'symlink', linkname: outside },
      { name: 'c/.wh.d', body: '' },
    ]);
    const info = await layers.apply(Readable.from([tar]), null);
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.ok(fs.lstatSync(path.join(layers.diffDir(info.chainId), 'a')).isSymbolicLink());
    assert.ok(fs.lstatSync(path.join(layers.diffDir(info.chainId), 'c/d')).isCharacterDevice());
    assertNoLeftovers(base);
  });

  test('truncated and garbage input store nothing and leave no temp files', async () => {
    const good = await makeTar([{ name: 'big', body: Buffer.alloc(50_000, 7) }, { name: 'small', body: 's' }]);
    const inputs: [string, Buffer][] = [
      ['truncated tar', good.subarray(0, 20_000)],
      ['garbage', crypto.randomBytes(4096)],
      ['short text', Buffer.from('not a tar at all')],
      ['truncated gzip', zlib.gzipSync(good).subarray(0, 200)],
      ['xz magic', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3])],
    ];
    for (const [label, data] of inputs) {
      const { base, content, layers } = await openStores();
      await assert.rejects(layers.apply(Readable.from([data]), null), /invalid tar stream|invalid (gzip|xz) stream|unsupported compression/, label);
      assert.equal(layers.list().length, 0, label);
      assert.equal(content.list().length, 0, label);
      assertNoLeftovers(base);
    }
  });

  test('a source stream that fails midway stores nothing', async () => {
    const { base, content, layers } = await openStores();
    const good = await makeTar([{ name: 'big', body: Buffer.alloc(100_000, 1) }]);
    async function* failing(): AsyncGenerator<Buffer> {
      yield good.subarray(0, 30_000);
      throw new Error('connection reset');
    }
    await assert.rejects(layers.apply(Readable.from(failing()), null), /connection reset/);
    assert.equal(content.list().length, 0);
    assertNoLeftovers(base);
  });

  test('crash leftovers are removed when the store opens', async () => {
    const { base, content } = await openStores();
    fs.mkdirSync(path.join(base, 'data', 'layers', '.tmp', 'half-made', 'diff'), { recursive: true });
    fs.writeFileSync(path.join(base, 'data', 'content', 'ingest', 'partial'), 'x');
    const reopened = await ContentStore.open(content.root);
    await LayerStore.open(path.join(base, 'data', 'layers'), reopened);
    assertNoLeftovers(base);
  });
});

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}
