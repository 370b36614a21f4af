import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { copyInto, extractInto } from '../../src/engine/containers/archive-extract';
import { DirExtractor } from '../../src/util/tar/dir-extract';
import { TarPackStream } from '../../src/util/tar/pack';
import { TarReader } from '../../src/util/tar/reader';
import { copyTree } from '../../src/util/tar/tree-copy';
import { TreeWalker } from '../../src/util/tar/walk';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-treecopy-'));
  dirs.push(d);
  return d;
};

/** Every entry under `root`: type, mode, owner, mtime, size, content hash or link target, inode group. */
function listing(root: string): string[] {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isFIFO() ? 'p' : '?';
    let extra = '';
    if (st.isSymbolicLink()) extra = fs.readlinkSync(p);
    else if (st.isFile()) {
      extra = execFileSync('md5sum', [p]).toString().slice(0, 12);
      const first = inodes.get(st.ino);
      if (first) extra += ` =${first}`;
      else inodes.set(st.ino, rel);
    }
    const mtime = st.isSymbolicLink() ? '' : String(Math.floor(st.mtimeMs / 1000));
    out.push(`${kind} ${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${mtime} ${st.isFile() ? st.size : ''} ${extra}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return out;
}

function sourceTree(): string {
  const src = tmp();
  fs.mkdirSync(path.join(src, 'a/b'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a/b/big'), Buffer.alloc(3 << 20, 9)); // above the in-place size: copied by the kernel
  fs.writeFileSync(path.join(src, 'a/small'), 'small\n');
  fs.writeFileSync(path.join(src, 'empty'), '');
  fs.writeFileSync(path.join(src, 'suid'), 'x');
  fs.chmodSync(path.join(src, 'suid'), 0o4755);
  fs.chownSync(path.join(src, 'a/small'), 1234, 5678);
  fs.linkSync(path.join(src, 'a/b/big'), path.join(src, 'hard-big'));
  fs.linkSync(path.join(src, 'a/small'), path.join(src, 'hard-small'));
  fs.symlinkSync('a/b/big', path.join(src, 'rel-link'));
  fs.symlinkSync('/etc/passwd', path.join(src, 'abs-link'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  const long = 'n'.repeat(150);
  fs.mkdirSync(path.join(src, long));
  fs.writeFileSync(path.join(src, long, 'deep'), 'deep\n');
  for (const [p, t] of [['a/b/big', 1e9], ['a/small', 1.1e9], ['a/b', 1.2e9], ['a', 1.3e9], ['', 1.4e9]] as const) {
    fs.utimesSync(path.join(src, p), t, t);
  }
  return src;
}

const tarOf = (src: string, name: string) => new TarPackStream(src, name, { strict: true });

test('copyTree into the upload extractor makes what the tar of the tree makes', async () => {
  const src = sourceTree();
  const viaTar = tmp();
  const viaCopy = tmp();
  const opts = { noOverwriteDirNonDir: true };
  await extractInto(viaTar, '/', tarOf(src, 'top'), opts);
  await copyInto(viaCopy, '/', new TreeWalker(src, 'top', { followTop: true, strict: true }), opts);
  const expected = listing(viaTar);
  assert.deepEqual(listing(viaCopy), expected);
  // The tree itself came through: owners kept, the hard link of the big file one inode, the FIFO left out.
  assert.ok(expected.some((l) => l.startsWith('f top/a/small 644 1234:5678 1100000000 6 ')), expected.join('\n'));
  assert.ok(expected.some((l) => l.startsWith('f top/hard-big 644 0:0') && l.endsWith('=top/a/b/big')), expected.join('\n'));
  assert.ok(expected.some((l) => l.startsWith('f top/suid 4755 ')));
  assert.ok(!expected.some((l) => l.includes('fifo')));
  // With a given owner, and a directory's contents ('.') into an existing directory.
  const chownTar = tmp();
  const chownCopy = tmp();
  await extractInto(chownTar, '/', tarOf(src, '.'), { ...opts, chown: { uid: 7, gid: 8 } });
  await copyInto(chownCopy, '/', new TreeWalker(src, '.', { followTop: true, strict: true }), { ...opts, chown: { uid: 7, gid: 8 } });
  assert.deepEqual(listing(chownCopy), listing(chownTar));
  assert.ok(listing(chownCopy).every((l) => l.split(' ')[3] === '7:8' || l.startsWith('d  ')));
});

test('copyTree into the download extractor makes what berth cp makes of the tar', async () => {
  const src = sourceTree();
  const viaTar = tmp();
  const viaCopy = tmp();
  const fromTar = new DirExtractor(viaTar, {});
  const reader = new TarReader((e) => fromTar.begin(e));
  for await (const chunk of tarOf(src, 'top') as Readable) await reader.push(chunk as Buffer);
  reader.end();
  fromTar.finish();
  const fromCopy = new DirExtractor(viaCopy, {});
  await copyTree(new TreeWalker(src, 'top', { followTop: true }), (e) => fromCopy.begin(e));
  fromCopy.finish();
  assert.deepEqual(listing(viaCopy), listing(viaTar));
  // Owners are not taken from the source: the files belong to whoever extracts.
  assert.ok(listing(viaCopy).some((l) => l.startsWith('f top/a/small 644 0:0 1100000000 6 ')));
  assert.ok(listing(viaCopy).some((l) => l.startsWith('p top/fifo ')), 'the CLI makes FIFOs');
});

test('copyTree refuses what the extractor refuses, and leaves no file open', async () => {
  const src = sourceTree();
  const dest = tmp();
  fs.mkdirSync(path.join(dest, 'top'));
  fs.writeFileSync(path.join(dest, 'top/a'), 'a file where the tree has a directory');
  const before = fs.readdirSync('/proc/self/fd').length;
  await assert.rejects(
    copyInto(dest, '/', new TreeWalker(src, 'top', { followTop: true, strict: true }), { noOverwriteDirNonDir: true }),
    /Error processing tar file\(exit status 1\): cannot overwrite non-directory "\/top\/a" with directory "\/"/,
  );
  assert.equal(fs.readdirSync('/proc/self/fd').length, before);
});

test('a file that shrinks while it is copied: the copy ends, padded to the size first seen', { timeout: 20_000 }, async () => {
  const src = tmp();
  const dest = tmp();
  const big = path.join(src, 'big');
  fs.writeFileSync(big, Buffer.alloc(3 << 20, 5));
  fs.writeFileSync(path.join(src, 'after'), 'after\n');
  const x = new DirExtractor(dest, {});
  await copyTree(new TreeWalker(src, 'top', { followTop: true }), (e) => {
    // The walker has opened the file and taken its size; now it loses most of its data.
    if (e.name === 'top/big') fs.truncateSync(big, 1000);
    return x.begin(e);
  });
  x.finish();
  const copied = fs.readFileSync(path.join(dest, 'top/big'));
  assert.equal(copied.length, 3 << 20);
  assert.ok(copied.subarray(0, 1000).every((b) => b === 5));
  assert.ok(copied.subarray(1000).every((b) => b === 0));
  assert.equal(fs.readFileSync(path.join(dest, 'top/after'), 'utf8'), 'after\n');
});
