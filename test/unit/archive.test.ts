import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, test } from 'node:test';
import { goFileMode, rfc3339Nano } from '../../src/engine/containers/archive';
import { containerUserIds, extractInto } from '../../src/engine/containers/archive-extract';
import { TarReader, type TarEntry } from '../../src/util/tar/reader';
import { writeTreeTar } from '../../src/engine/layers/tar-writer';
import { TreePacker } from '../../src/util/tar/pack';
import { ResponseDecoder, type RawHead } from '../../src/client/raw-get';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-arch-'));
  dirs.push(d);
  return d;
};
/** Feeds `buf` in pieces of `piece` bytes, as HTTP bodies arrive. */
const pieces = (buf: Buffer, piece: number) => Readable.from((function* () {
  for (let i = 0; i < buf.length; i += piece) yield buf.subarray(i, i + piece);
})());

test('Go FileMode bits and RFC 3339 times of the stat header', () => {
  assert.equal(goFileMode({ mode: 0o40755 }), 2147484141);
  assert.equal(goFileMode({ mode: 0o120777 }), 134218239);
  assert.equal(goFileMode({ mode: 0o100644 }), 420);
  assert.equal(goFileMode({ mode: 0o104755 }), 2 ** 23 + 0o755);
  assert.equal(goFileMode({ mode: 0o41777 }), 2 ** 31 + 2 ** 20 + 0o777);
  assert.equal(rfc3339Nano(1795434535_481471440n), '2026-11-23T11:48:55.48147144Z');
  assert.equal(rfc3339Nano(1795434535_000000000n), '2026-11-23T11:48:55Z');
});

test('the tar reader handles ustar, GNU and PAX long names in any piece size', () => {
  const src = tmp();
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
  fs.mkdirSync(path.join(src, long), { recursive: true });
  fs.writeFileSync(path.join(src, long, 'f'.repeat(90)), 'x'.repeat(1000));
  fs.symlinkSync('t'.repeat(150), path.join(src, 'ln'));
  for (const format of ['gnu', 'pax', 'ustar']) {
    if (format === 'ustar') fs.rmSync(path.join(src, 'ln'));
    const tar = execFileSync('tar', ['-c', `--format=${format}`, '-C', src, '.'], { maxBuffer: 1 << 24 });
    for (const piece of [1, 7, 512, 100000]) {
      const seen: Array<[string, string, number]> = [];
      const r = new TarReader((h: TarEntry) => {
        seen.push([h.type, h.name, h.size]);
        let n = 0;
        return { write: (b) => (n += b.length), end: () => assert.equal(n, h.size) };
      });
      for (let i = 0; i < tar.length && !r.done; i += piece) void r.push(tar.subarray(i, i + piece));
      assert.ok(r.done, `${format}/${piece}`);
      assert.ok(seen.some(([t, n, s]) => t === 'file' && n === `./${long}/${'f'.repeat(90)}` && s === 1000), `${format}/${piece}`);
    }
  }
  assert.throws(() => new TarReader(() => undefined).push(Buffer.alloc(512, 1)), /invalid tar header/);
});

test('extraction stays inside the root: absolute and .. symlinks, .. names, replaced symlinks', async () => {
  const root = tmp();
  const outside = tmp();
  fs.mkdirSync(path.join(root, 'etc'));
  fs.symlinkSync(outside, path.join(root, 'abs'));
  fs.symlinkSync('../../../../../../..' + outside, path.join(root, 'rel'));
  fs.symlinkSync(path.join(outside, 'target'), path.join(root, 'etc', 'passwd'));
  const src = tmp();
  fs.writeFileSync(path.join(src, 'f'), 'payload');
  const mk = (args: string[]) => execFileSync('tar', ['-c', '-C', src, ...args], { maxBuffer: 1 << 20 });
  await extractInto(root, '/abs', pieces(mk(['f']), 100), { noOverwriteDirNonDir: true });
  await extractInto(root, '/rel', pieces(mk(['f']), 100), { noOverwriteDirNonDir: true });
  await extractInto(root, '/etc', pieces(mk(['--transform', 's|^f|passwd|', 'f']), 100), { noOverwriteDirNonDir: false });
  await assert.rejects(
    extractInto(root, '/', pieces(mk(['--transform', 's|^f|../../../escape|', 'f']), 100), { noOverwriteDirNonDir: true }),
    /Error processing tar file/,
  );
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing written outside');
  assert.equal(fs.readFileSync(path.join(root, outside, 'f'), 'utf8'), 'payload', 'the absolute link resolved inside the root');
  assert.equal(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), 'payload', 'a symlink is replaced, not written through');
  assert.ok(!fs.lstatSync(path.join(root, 'etc/passwd')).isSymbolicLink());
});

test('owners: the archive\'s by default, a given owner for copyUIDGID; dir over file refused with noOverwriteDirNonDir', async () => {
  const root = tmp();
  const src = tmp();
  fs.mkdirSync(path.join(src, 'd'));
  fs.writeFileSync(path.join(src, 'd/x'), 'x');
  fs.chownSync(path.join(src, 'd/x'), 1234, 4321);
  const tar = execFileSync('tar', ['-c', '-C', src, 'd']);
  await extractInto(root, '/', pieces(tar, 4096), { noOverwriteDirNonDir: true });
  assert.deepEqual([fs.statSync(path.join(root, 'd/x')).uid, fs.statSync(path.join(root, 'd/x')).gid], [1234, 4321]);
  fs.rmSync(path.join(root, 'd'), { recursive: true });
  await extractInto(root, '/', pieces(tar, 4096), { noOverwriteDirNonDir: true, chown: { uid: 33, gid: 34 } });
  assert.deepEqual([fs.statSync(path.join(root, 'd/x')).uid, fs.statSync(path.join(root, 'd/x')).gid], [33, 34]);
  fs.rmSync(path.join(root, 'd'), { recursive: true });
  fs.writeFileSync(path.join(root, 'd'), 'file');
  await assert.rejects(extractInto(root, '/', pieces(tar, 4096), { noOverwriteDirNonDir: true }), /cannot overwrite non-directory "\/d" with directory "\/"/);
});

test('copyUIDGID owner: moby 28\'s user[:group] lookup in the container\'s files', () => {
  const root = tmp();
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nwww:x:33:35::/var/www:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:\n');
  assert.deepEqual(containerUserIds(root, 'www'), { uid: 33, gid: 35 });
  assert.deepEqual(containerUserIds(root, '33'), { uid: 33, gid: 35 });
  assert.deepEqual(containerUserIds(root, '12345'), { uid: 12345, gid: 0 });
  assert.deepEqual(containerUserIds(root, 'www:staff'), { uid: 33, gid: 50 });
  assert.deepEqual(containerUserIds(root, ':77'), { uid: 0, gid: 77 });
  assert.throws(() => containerUserIds(root, 'nobody'), /failed to look up user "nobody" in container: no matching entries in passwd file/);
  assert.throws(() => containerUserIds(root, 'www:nogroup'), /failed to look up group "nogroup" in container: no matching entries in group file/);
});

test('layer tars from an upper dir: overlay whiteouts and opaque dirs become OCI entries', async () => {
  const upper = tmp();
  fs.mkdirSync(path.join(upper, 'etc'));
  fs.writeFileSync(path.join(upper, 'etc/new'), 'n');
  execFileSync('mknod', [path.join(upper, 'etc/gone'), 'c', '0', '0']);
  fs.mkdirSync(path.join(upper, 'opq'));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeTreeTar(upper, '', out, { overlayWhiteouts: true, opaqueDirs: new Set([path.join(upper, 'opq')]) });
  const names = execFileSync('tar', ['-t'], { input: Buffer.concat(chunks) }).toString().split('\n').filter(Boolean);
  assert.deepEqual(names, ['etc/', 'etc/.wh.gone', 'etc/new', 'opq/', 'opq/.wh..wh..opq']);
});

test('the tree packer: long names, links and hard links read back by GNU tar and the reader, whatever the buffer size', () => {
  const src = tmp();
  const longDir = `${'a'.repeat(80)}/${'b'.repeat(80)}`;
  fs.mkdirSync(path.join(src, 'top', longDir), { recursive: true });
  fs.writeFileSync(path.join(src, 'top', longDir, 'c'.repeat(99)), 'x'.repeat(1500));
  fs.writeFileSync(path.join(src, 'top', 'é'.repeat(60)), 'unicode');
  fs.symlinkSync('t'.repeat(150), path.join(src, 'top', 'longlink'));
  fs.writeFileSync(path.join(src, 'top', 'h1'), 'hard');
  fs.linkSync(path.join(src, 'top', 'h1'), path.join(src, 'top', 'h2'));
  fs.writeFileSync(path.join(src, 'top', 'empty'), '');
  let reference: Buffer | undefined;
  for (const size of [1, 100, 511, 512, 1000, 1 << 20]) {
    const p = new TreePacker(path.join(src, 'top'), 'top');
    const parts: Buffer[] = [];
    while (!p.finished) {
      const buf = Buffer.alloc(size);
      parts.push(buf.subarray(0, p.fill(buf, 0)));
    }
    const tar = Buffer.concat(parts);
    if (reference) assert.ok(tar.equals(reference), `buffers of ${size} bytes give the same archive`);
    reference = tar;
  }
  const out = tmp();
  execFileSync('tar', ['-x', '-C', out], { input: reference });
  assert.equal(fs.readFileSync(path.join(out, 'top', longDir, 'c'.repeat(99)), 'utf8'), 'x'.repeat(1500));
  assert.equal(fs.readFileSync(path.join(out, 'top', 'é'.repeat(60)), 'utf8'), 'unicode');
  assert.equal(fs.readlinkSync(path.join(out, 'top', 'longlink')), 't'.repeat(150));
  assert.equal(fs.statSync(path.join(out, 'top', 'h2')).ino, fs.statSync(path.join(out, 'top', 'h1')).ino);
  const seen: string[] = [];
  const r = new TarReader((e: TarEntry) => void seen.push(`${e.type} ${e.name}${e.linkname ? ` -> ${e.linkname}` : ''}`));
  void r.push(reference!);
  r.end();
  assert.ok(r.done);
  assert.deepEqual(seen, [
    'directory top/',
    `directory top/${'a'.repeat(80)}/`,
    `directory top/${longDir}/`,
    `file top/${longDir}/${'c'.repeat(99)}`,
    'file top/empty',
    'file top/h1',
    'link top/h2 -> top/h1',
    `symlink top/longlink -> ${'t'.repeat(150)}`,
    `file top/${'é'.repeat(60)}`,
  ]);
});

test('the raw response decoder of berth cp: chunked, Content-Length and close-delimited bodies in any piece size', () => {
  const body = Buffer.from('x'.repeat(3000) + 'end');
  const chunked = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Docker-Container-Path-Stat: e30=\r\n\r\n'),
    Buffer.from('a00;ext=1\r\n'), body.subarray(0, 2560), Buffer.from('\r\n'),
    Buffer.from(`${(body.length - 2560).toString(16)}\r\n`), body.subarray(2560), Buffer.from('\r\n0\r\nTrailer: t\r\n\r\n'),
  ]);
  const sized = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  const closed = Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), body]);
  for (const wire of [chunked, sized, closed]) {
    for (const piece of [1, 3, 100, 1 << 20]) {
      const got: Buffer[] = [];
      let head: RawHead | undefined;
      const dec = new ResponseDecoder((h) => ((head = h), true), (b) => got.push(Buffer.from(b)));
      for (let i = 0; i < wire.length && !dec.done; i += piece) dec.push(Buffer.from(wire.subarray(i, i + piece)));
      dec.end();
      assert.equal(head!.status, 200);
      assert.ok(Buffer.concat(got).equals(body), `piece ${piece}`);
    }
  }
  assert.equal(new ResponseDecoder(() => true, () => undefined).done, false);
  const cut = new ResponseDecoder(() => true, () => undefined);
  cut.push(sized.subarray(0, sized.length - 10));
  assert.throws(() => cut.end(), /unexpected EOF/);
  const refused = new ResponseDecoder((h) => h.status === 200, () => assert.fail('no body for an error'));
  refused.push(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!'));
  assert.ok(refused.done);
});
