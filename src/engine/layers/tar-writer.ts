import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import * as tar from 'tar-stream';

/**
 * Produces tar streams from a directory: `docker cp` out of a container (a path and what is under it) and
 * layer diffs from a container's overlay upper dir (commit), where overlay whiteouts (char device 0/0)
 * become OCI `.wh.<name>` entries and opaque directories get a `.wh..wh..opq` entry. Entries come in
 * lexical order, directories named with a trailing slash, hard links within the tree kept as links.
 * Nothing is followed: symlinks are archived as symlinks, and files are opened with O_NOFOLLOW.
 */

export interface TarWriteOptions {
  /** Convert overlay whiteouts and opaque dirs (layer diffs). */
  overlayWhiteouts?: boolean;
  /** Directories (host paths) that carry the overlay opaque xattr. */
  opaqueDirs?: Set<string>;
  /** Entries to leave out (with what is under them), by their name in the tar. */
  skip?: (name: string, host: string) => boolean;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const CHUNK = 1 << 20;

/** Writes `host` (file or directory tree) as a tar named `name` into `out`, then finalises the tar. */
export async function writeTreeTar(host: string, name: string, out: Writable, opts: TarWriteOptions = {}): Promise<void> {
  const pack = tar.pack();
  const done = new Promise<void>((resolve, reject) => {
    pack.on('error', reject);
    out.on('error', reject);
    out.on('close', resolve);
    out.on('finish', resolve);
  });
  pack.pipe(out);
  const w = new TreeWriter(pack, opts);
  let failed: unknown;
  try {
    if (name === '') await w.children(host, '');
    else await w.add(host, name);
  } catch (err) {
    failed = err;
  }
  pack.finalize();
  await done;
  if (failed) throw failed;
}

/** Directories under `root` carrying `trusted.overlay.opaque=y`, checked in one python3 process. */
export function opaqueDirs(candidates: string[]): Set<string> {
  if (!candidates.length) return new Set();
  const script =
    'import os,sys\n' +
    'for p in sys.stdin.read().split("\\0"):\n' +
    '  if not p: continue\n' +
    '  try:\n' +
    '    if os.getxattr(p, "trusted.overlay.opaque", follow_symlinks=False) == b"y": print(p)\n' +
    '  except OSError: pass\n';
  const r = spawnSync('python3', ['-c', script], { input: candidates.join('\0'), maxBuffer: 64 << 20 });
  if (r.status !== 0) return new Set();
  return new Set(r.stdout.toString().split('\n').filter(Boolean));
}

class TreeWriter {
  private readonly links = new Map<string, string>();

  constructor(private readonly pack: tar.Pack, private readonly opts: TarWriteOptions) {}

  async children(host: string, name: string): Promise<void> {
    let names: string[] = [];
    try {
      names = fs.readdirSync(host).sort();
    } catch {
      return;
    }
    for (const n of names) await this.add(path.join(host, n), name === '' ? n : name === '.' ? `./${n}` : name.endsWith('/') ? `${name}${n}` : `${name}/${n}`);
  }

  async add(host: string, name: string): Promise<void> {
    if (this.opts.skip?.(name, host)) return;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      return; // vanished meanwhile
    }
    const header: tar.Headers = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
    if (this.opts.overlayWhiteouts && st.isCharacterDevice() && st.rdev === 0) {
      const dir = path.posix.dirname(name);
      await this.entry({ ...header, name: dir === '.' ? `${WHITEOUT_PREFIX}${path.posix.basename(name)}` : `${dir}/${WHITEOUT_PREFIX}${path.posix.basename(name)}`, type: 'file', mode: 0 });
      return;
    }
    if (st.isDirectory()) {
      await this.entry({ ...header, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      if (this.opts.overlayWhiteouts && this.opts.opaqueDirs?.has(host)) {
        await this.entry({ ...header, name: `${name}/${OPAQUE_MARKER}`, type: 'file', mode: 0, size: 0 });
      }
      await this.children(host, name);
      return;
    }
    if (st.isSymbolicLink()) {
      await this.entry({ ...header, type: 'symlink', linkname: fs.readlinkSync(host) });
      return;
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.links.get(key);
        if (first) {
          await this.entry({ ...header, type: 'link', linkname: first });
          return;
        }
        this.links.set(key, name);
      }
      let fd: number;
      try {
        fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      } catch {
        return;
      }
      try {
        await this.file({ ...header, type: 'file', size: st.size }, fd, st.size);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    if (st.isFIFO()) {
      await this.entry({ ...header, type: 'fifo' });
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const major = (st.rdev >> 8) & 0xfff;
      const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      await this.entry({ ...header, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
    }
    // sockets are not archived
  }

  private entry(header: tar.Headers): Promise<void> {
    // A file entry without a buffer waits for data; whiteouts and markers are empty files.
    const body = header.type === 'file' ? Buffer.alloc(0) : undefined;
    return new Promise((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) this.pack.entry(header, body, cb);
      else this.pack.entry(header, cb);
    });
  }

  private async file(header: tar.Headers, fd: number, size: number): Promise<void> {
    let cbErr: unknown;
    const sink = this.pack.entry(header, (err) => (cbErr = err));
    const finished = new Promise<void>((resolve, reject) => {
      sink.on('finish', resolve);
      sink.on('close', resolve);
      sink.on('error', reject);
    });
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break; // the file shrank meanwhile: pad to the size announced
      left -= n;
      if (!sink.write(n === buf.length ? buf : buf.subarray(0, n))) await drained(sink as unknown as Writable);
    }
    if (left > 0) sink.write(Buffer.alloc(left));
    sink.end();
    await finished;
    if (cbErr) throw cbErr;
  }
}

export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
