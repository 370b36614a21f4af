import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import * as tarStream from 'tar-stream';
import { TarEntry, TarEntrySink, TarReader } from '../../src/util/tar/reader';
import { makeTar as pack } from '../e2e/images-fixtures';

const sandboxes: string[] = [];
after(() => sandboxes.forEach((s) => fs.rmSync(s, { recursive: true, force: true })));

function sandbox(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-reader-'));
  sandboxes.push(dir);
  return dir;
}

interface Seen {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  body: string;
  xattrs: Record<string, string>;
}

/** Reads `data` pushed in pieces of the given sizes (cycled), collecting what the handler saw. */
async function read(data: Buffer, pieces: number[] = [data.length], handlerWaits = false): Promise<Seen[]> {
  const seen: Seen[] = [];
  const onEntry = (e: TarEntry): TarEntrySink | Promise<TarEntrySink> => {
    const s: Seen = {
      name: e.name,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: e.size,
      mtime: e.mtime.getTime(),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      body: '',
      xattrs: Object.fromEntries(Object.entries(e.pax).filter(([k]) => k.startsWith('SCHILY.xattr.'))),
    };
    seen.push(s);
    const chunks: Buffer[] = [];
    const sink = { write: (b: Buffer) => void chunks.push(Buffer.from(b)), end: () => void (s.body = Buffer.concat(chunks).toString('latin1')) };
    return handlerWaits ? new Promise((resolve) => setImmediate(() => resolve(sink))) : sink;
  };
  const reader = new TarReader(onEntry);
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = Math.max(1, pieces[i % pieces.length]!);
    const waiting = reader.push(data.subarray(off, off + n));
    if (waiting) await waiting;
    off += n;
  }
  reader.end();
  return seen;
}


test('entries of every type, with long names and PAX records, read the same at any chunking', async () => {
  const longName = 'deep/' + 'd'.repeat(120) + '/' + 'f'.repeat(150);
  const data = await pack([
    { name: 'dir', type: 'directory', mode: 0o750, uid: 1000, gid: 1001, mtime: new Date(1_600_000_000_000) },
    { name: 'dir/file', mode: 0o4755, uid: 5, gid: 6, body: 'hello\n', mtime: new Date(1_600_000_001_000) },
    { name: longName, mode: 0o644, body: 'x'.repeat(1000) },
    { name: 'dir/link', type: 'symlink', linkname: '../' + 'l'.repeat(200) },
    { name: 'dir/hard', type: 'link', linkname: 'dir/file' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 },
    { name: 'pipe', type: 'fifo', mode: 0o600 },
    { name: 'big', mode: 0o600, uid: 200_000, body: 'y'.repeat(513) },
    { name: 'empty', body: '' },
  ]);
  const whole = await read(data);
  assert.deepEqual(
    whole.map((s) => [s.name, s.type, s.size, s.body.length]),
    [
      ['dir', 'directory', 0, 0],
      ['dir/file', 'file', 6, 6],
      [longName, 'file', 1000, 1000],
      ['dir/link', 'symlink', 0, 0],
      ['dir/hard', 'link', 0, 0],
      ['dev/null', 'character-device', 0, 0],
      ['dev/sda', 'block-device', 0, 0],
      ['pipe', 'fifo', 0, 0],
      ['big', 'file', 513, 513],
      ['empty', 'file', 0, 0],
    ],
  );
  assert.deepEqual([whole[0]!.mode, whole[0]!.uid, whole[0]!.gid, whole[0]!.mtime], [0o750, 1000, 1001, 1_600_000_000_000]);
  assert.deepEqual([whole[1]!.mode, whole[1]!.uid, whole[1]!.gid, whole[1]!.body], [0o4755, 5, 6, 'hello\n']);
  assert.equal(whole[3]!.linkname, '../' + 'l'.repeat(200));
  assert.equal(whole[4]!.linkname, 'dir/file');
  assert.deepEqual([whole[5]!.devmajor, whole[5]!.devminor, whole[6]!.devmajor], [1, 3, 8]);
  assert.equal(whole[8]!.uid, 200_000);
  for (const pieces of [[1], [511], [512], [513], [7, 1024, 3], [100_000]]) {
    assert.deepEqual(await read(data, pieces), whole, `pieces ${pieces}`);
  }
  assert.deepEqual(await read(data, [300], true), whole, 'a handler that waits');
});

test('GNU tar archives: long names (././@LongLink), binary xattrs in PAX, base-256 numbers', async () => {
  const dir = sandbox();
  const src = path.join(dir, 'src');
  const long = 'n'.repeat(180);
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'sub', long), 'long');
  fs.writeFileSync(path.join(src, 'cap'), 'cap');
  // xattr values are bytes (security.capability is a binary struct): bytes above 0x7f must survive
  execFileSync('python3', ['-c', "import os,sys; os.setxattr(sys.argv[1], 'user.bin', bytes([0xff, 0, 0x80, 0x41]))", path.join(src, 'cap')]);
  for (const format of ['gnu', 'pax']) {
    const args = ['-C', src, '--format', format, '--xattrs', '--xattrs-include=*', '-cf', '-', '--sort=name', '.'];
    const data = execFileSync('tar', args, { maxBuffer: 1 << 26 });
    const seen = await read(data, [4096]);
    assert.ok(seen.some((s) => s.name === `./sub/${long}` && s.body === 'long'), `${format}: long name`);
    if (format === 'pax') {
      const cap = seen.find((s) => s.name === './cap')!;
      assert.deepEqual(Buffer.from(cap.xattrs['SCHILY.xattr.user.bin']!, 'latin1'), Buffer.from([0xff, 0x00, 0x80, 0x41]));
    }
  }
  // a size over 8 GiB - 1 does not fit in 11 octal digits: GNU writes it base-256 (here: header only)
  const h = Buffer.alloc(512);
  h.write('huge', 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h[124] = 0x80;
  h.writeUIntBE(2 ** 33, 130, 6);
  h.write('00000000000\0', 136);
  h[156] = '0'.charCodeAt(0);
  h.write('ustar  \0', 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  let size = -1;
  new TarReader((e) => void (size = e.size)).push(h);
  assert.equal(size, 2 ** 33);
});

test('a V7 archive (no magic) and a signed checksum are accepted', async () => {
  const data = await pack([{ name: 'a', body: 'é' }]);
  const v7 = Buffer.from(data);
  v7.fill(0, 257, 512); // magic, version, names, devices, prefix gone
  const fix = (h: Buffer, signed: boolean) => {
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h.subarray(0, 512)) sum += signed && b > 127 ? b - 256 : b;
    h.write((sum >>> 0).toString(8).padStart(6, '0') + '\0 ', 148);
  };
  fix(v7, false);
  assert.deepEqual((await read(v7)).map((s) => [s.name, s.body]), [['a', Buffer.from('é').toString('latin1')]]);
  const signed = Buffer.from(data);
  signed.write('\u00ff', 0, 'latin1'); // a byte above 0x7f in the name makes the two sums differ
  fix(signed, true);
  assert.equal((await read(signed))[0]!.name, Buffer.from([0xff]).toString('utf8'));
});

test('bad input: a broken checksum, a truncated body or header, and trailing bytes after the end', async () => {
  const data = await pack([{ name: 'a', body: 'abc' }, { name: 'b', body: 'x'.repeat(2000) }]);
  const corrupt = Buffer.from(data);
  corrupt[0] = 0x5a;
  await assert.rejects(read(corrupt), /archive\/tar: invalid tar header/);
  await assert.rejects(read(data.subarray(0, 1024 + 1000)), /unexpected EOF/);
  await assert.rejects(read(data.subarray(0, 1024 + 100)), /unexpected EOF/);
  await assert.rejects(read(Buffer.from('not a tar at all')), /unexpected EOF/);
  assert.deepEqual(await read(Buffer.alloc(0)), []);
  const trailing = Buffer.concat([data, Buffer.from('garbage after the end-of-archive marker')]);
  assert.deepEqual((await read(trailing)).map((s) => s.name), ['a', 'b']);
});

test('an error thrown by the handler stops reading, and abort ends the open entry', async () => {
  const data = await pack([{ name: 'a', body: 'x'.repeat(5000) }, { name: 'b', body: 'b' }]);
  const ended: string[] = [];
  const reader = new TarReader((e) => {
    if (e.name === 'b') throw new Error('refused b');
    return { write: () => undefined, end: () => void ended.push(e.name) };
  });
  reader.push(data.subarray(0, 1000));
  reader.abort();
  assert.deepEqual(ended, ['a']);
  const again = new TarReader((e) => {
    if (e.name === 'b') throw new Error('refused b');
    return undefined;
  });
  assert.throws(() => again.push(data), /refused b/);
  const waiting = new TarReader((e) => (e.name === 'b' ? Promise.reject(new Error('refused later')) : undefined));
  await assert.rejects(waiting.push(data) ?? Promise.resolve(), /refused later/);
});
