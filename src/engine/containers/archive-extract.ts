/**
 * Uploads of `docker cp` extracted into a container (PUT /containers/{id}/archive), from a tar or, for a
 * local berth client, straight from its tree (copyTree).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { EngineError, invalidParameter } from '../../util/errors';
import { BreakoutError, cleanEntryName, resolveInRoot } from '../../util/root-path';
import { TarFormatError, TarReader, type TarEntry, type TarEntrySink } from '../../util/tar/reader';
import { copyTree } from '../../util/tar/tree-copy';
import type { TreeWalker } from '../../util/tar/walk';
import { dropBytes } from '../../util/tar/writev';


const WRITE_BATCH = 1 << 20;

class ExtractError extends EngineError {
  constructor(msg: string) {
    super(400, `Error processing tar file(exit status 1): ${msg}`);
  }
}

/**
 * Extracts a cp tar under `dest` (a container path) inside `root`. Every entry is resolved in the
 * root with its parents' symlinks followed there, and an existing last component is removed before it
 * is replaced, so nothing is ever written through a symlink.
 */
export interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  /** Owner for every entry; without it the archive's owners are kept. */
  chown?: { uid: number; gid: number };
}

/** moby 28's getUIDGID for copyUIDGID: `user[:group]`, names looked up in the container's files. */
export function containerUserIds(root: string, spec: string): { uid: number; gid: number } {
  const read = (p: string): string => {
    try {
      return fs.readFileSync(resolveInRoot(root, p, true), 'utf8');
    } catch {
      return '';
    }
  };
  const rows = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? '' : spec.slice(colon + 1);
  const isId = (v: string) => /^[0-9]+$/.test(v) && Number(v) <= 2147483647;
  let uid = 0;
  let gid = 0;
  if (userPart !== '') {
    const passwd = rows(read('/etc/passwd'));
    if (isId(userPart)) {
      uid = Number(userPart);
      const entry = passwd.find((f) => f.length >= 4 && Number(f[2]) === uid);
      gid = entry ? Number(entry[3]) : 0;
    } else {
      const entry = passwd.find((f) => f.length >= 4 && f[0] === userPart);
      if (!entry) throw invalidParameter(`failed to look up user "${userPart}" in container: no matching entries in passwd file`);
      uid = Number(entry[2]);
      gid = Number(entry[3]);
    }
  }
  if (groupPart !== '') {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const entry = rows(read('/etc/group')).find((f) => f.length >= 3 && f[0] === groupPart);
      if (!entry) throw invalidParameter(`failed to look up group "${groupPart}" in container: no matching entries in group file`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

/** Bytes handed to the thread pool but not written yet: above HIGH the request is paused, below LOW resumed. */
const INFLIGHT_HIGH = 16 << 20;
const INFLIGHT_LOW = 4 << 20;

/**
 * One upload being extracted. The tar is parsed on the main thread as the request's pieces arrive
 * (headers, path resolution, opens: synchronous and cheap); file data goes to the thread pool as
 * positioned writev calls of up to WRITE_BATCH bytes made of the request's own buffers (no copies),
 * so disk writes overlap with receiving. Bytes in flight are bounded: past INFLIGHT_HIGH the request
 * is paused until the writes catch up. A file is chowned, chmodded, timed and closed once its last
 * write is done; the upload is answered once every write is.
 */
class Extraction {
  private readonly dirTimes: Array<[string, Date]> = [];
  /** Container directories already resolved (and made) in this upload → their host paths. */
  private readonly dirs = new Map<string, string>();
  private inflight = 0;
  private ops = 0;
  private paused = false;
  error: unknown;
  private idle: (() => void) | undefined;

  constructor(
    private readonly root: string,
    private readonly dest: string,
    private readonly opts: ExtractOptions,
    /** The upload being read, paused while too many bytes wait for the disk (none for copyTree). */
    private readonly body?: Readable,
  ) {}

  /** Host path of the directory `dir` (a container path), resolved in the root and made if missing. */
  private parentDir(dir: string): string {
    const known = this.dirs.get(dir);
    if (known !== undefined) return known;
    const host = resolveInRoot(this.root, dir, true);
    fs.mkdirSync(host, { recursive: true, mode: 0o755 });
    this.dirs.set(dir, host);
    return host;
  }

  /** Something was removed or a link made: resolutions made before may no longer hold. */
  private forgetDirs(): void {
    this.dirs.clear();
  }

  begin(h: TarEntry): TarEntrySink | undefined {
    if (this.error) throw this.error;
    const { root, dest, opts } = this;
    const rel = cleanEntryName(h.name);
    const type = h.type === 'contiguous-file' ? 'file' : h.type;
    if (rel === '' || type === 'other') return undefined;
    const containerPath = path.posix.join(dest, rel);
    const parentHost = this.parentDir(path.posix.dirname(containerPath));
    const target = path.join(parentHost, path.posix.basename(containerPath));
    const uid = opts.chown ? opts.chown.uid : h.uid;
    const gid = opts.chown ? opts.chown.gid : h.gid;
    const mode = h.mode & 0o7777;
    const mtime = h.mtime;
    const isDir = type === 'directory';
    let existing: fs.Stats | undefined;
    if (type === 'file') {
      // The common case, a new file: O_EXCL|O_NOFOLLOW creates it or fails if anything is there.
      const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
      try {
        return this.fileSink(fs.openSync(target, flags, 0o600), h.size, uid, gid, mode, mtime);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    existing = lstatOrUndefined(target);
    if (existing) {
      if (opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) {
        throw new ExtractError(`cannot overwrite directory "${containerPath}" with non-directory "${dest}"`);
      }
      if (opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) {
        throw new ExtractError(`cannot overwrite non-directory "${containerPath}" with directory "${dest}"`);
      }
      if (!(existing.isDirectory() && isDir)) {
        fs.rmSync(target, { recursive: true, force: true });
        this.forgetDirs();
      }
    }
    switch (type) {
      case 'directory':
        if (!existing || !existing.isDirectory()) fs.mkdirSync(target, { mode });
        fs.chownSync(target, uid, gid);
        fs.chmodSync(target, mode);
        this.dirTimes.push([target, mtime]);
        return undefined;
      case 'file': {
        const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
        return this.fileSink(fs.openSync(target, flags, 0o600), h.size, uid, gid, mode, mtime);
      }
      case 'symlink':
        this.forgetDirs();
        fs.symlinkSync(h.linkname, target);
        fs.lchownSync(target, uid, gid);
        fs.lutimesSync(target, mtime, mtime);
        return undefined;
      case 'link': {
        const linkPath = path.posix.join(dest, cleanEntryName(h.linkname));
        const src = path.join(resolveInRoot(root, path.posix.dirname(linkPath), true), path.posix.basename(linkPath));
        const sst = lstatOrUndefined(src);
        if (!sst || sst.isDirectory()) throw new ExtractError(`hard link target ${JSON.stringify(h.linkname)} not found`);
        fs.linkSync(src, target);
        return undefined;
      }
      default:
        // Devices and FIFOs: not created (as moby in a user namespace); the rest of the archive goes on.
        return undefined;
    }
  }

  private fileSink(fd: number, size: number, uid: number, gid: number, mode: number, mtime: Date): TarEntrySink | undefined {
    let outstanding = 0;
    let ended = false;
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      try {
        fs.fchownSync(fd, uid, gid);
        fs.fchmodSync(fd, mode);
        fs.futimesSync(fd, mtime, mtime);
      } catch (err) {
        this.fail(err);
      } finally {
        fs.closeSync(fd);
      }
    };
    if (size === 0) {
      finish();
      if (this.error) throw this.error;
      return undefined;
    }
    let parts: Buffer[] = [];
    let pending = 0;
    let position = 0;
    const submit = (bufs: Buffer[], bytes: number, at: number) => {
      outstanding++;
      this.ops++;
      this.inflight += bytes;
      fs.writev(fd, bufs, at, (err, n) => {
        this.inflight -= bytes;
        this.ops--;
        outstanding--;
        if (err) this.fail(err);
        else if (n < bytes) {
          // A short write: the rest goes again (a full disk fails the next one).
          submit(dropBytes(bufs, n), bytes - n, at + n);
        }
        if (ended && outstanding === 0) finish();
        this.settle();
      });
      if (this.inflight > INFLIGHT_HIGH && !this.paused) {
        this.paused = true;
        this.body?.pause();
      }
    };
    const flush = () => {
      if (pending === 0) return;
      const bufs = parts;
      const bytes = pending;
      parts = [];
      pending = 0;
      submit(bufs, bytes, position);
      position += bytes;
    };
    return {
      fd,
      write: (data: Buffer) => {
        parts.push(data);
        pending += data.length;
        if (pending >= WRITE_BATCH) flush();
      },
      end: () => {
        if (closed || ended) return;
        ended = true;
        if (!this.error) flush();
        if (outstanding === 0) finish();
      },
    };
  }

  fail(err: unknown): void {
    if (!this.error) this.error = err;
  }

  /** After a write finished: resume the request when writes caught up, wake `drain`. */
  private settle(): void {
    if (this.paused && this.inflight < INFLIGHT_LOW && !this.error) {
      this.paused = false;
      this.body?.resume();
    }
    if (this.ops === 0 && this.idle) {
      const wake = this.idle;
      this.idle = undefined;
      wake();
    }
  }

  /** Directory times, set again last: creating their entries changed them. */
  restoreDirTimes(): void {
    for (const [dir, time] of this.dirTimes.reverse()) {
      try {
        fs.lutimesSync(dir, time, time);
      } catch {
        /* gone */
      }
    }
  }

  /** Resolves once no write is in flight. */
  drain(): Promise<void> {
    if (this.ops === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }
}

export async function extractInto(root: string, dest: string, body: Readable, opts: ExtractOptions): Promise<void> {
  const x = new Extraction(root, dest, opts, body);
  const reader = new TarReader((h) => x.begin(h));
  try {
    // 'data' events rather than an async iterator: uploads come in 16–64 KiB pieces, thousands of them.
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        try {
          if (x.error) throw x.error;
          if (!reader.done) reader.push(chunk);
        } catch (err) {
          body.off('data', onData);
          reject(err);
        }
      };
      body.on('data', onData);
      body.once('end', () => {
        try {
          if (x.error) throw x.error;
          if (!reader.done) reader.end();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
      body.once('error', reject);
      body.once('aborted', () => reject(new Error('request aborted')));
    });
    await x.drain();
    if (x.error) throw x.error;
  } catch (err) {
    reader.abort();
    await x.drain();
    body.resume();
    throw extractError(err);
  }
  body.resume();
  x.restoreDirTimes();
}

/** Like extractInto, from a local tree (a berth client's, see local-copy) instead of a tar. */
export async function copyInto(root: string, dest: string, walker: TreeWalker, opts: ExtractOptions): Promise<void> {
  const x = new Extraction(root, dest, opts);
  try {
    await copyTree(walker, (h) => x.begin(h));
    await x.drain();
    if (x.error) throw x.error;
  } catch (err) {
    await x.drain();
    throw extractError(err);
  }
  x.restoreDirTimes();
}

/** Tar format errors and names that climb out are the client's fault, in moby's words. */
function extractError(err: unknown): unknown {
  if (err instanceof EngineError) return err;
  const msg = (err as Error).message ?? String(err);
  if (err instanceof TarFormatError || err instanceof BreakoutError) return new ExtractError(msg);
  return err;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
