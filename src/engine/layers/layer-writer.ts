import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanEntryName, resolveInRoot } from '../../util/root-path';
import { entryXattrs } from './pax-xattrs';
import { SpecialFileQueue, SpecialOpStrategy } from './special-files';
import type { TarEntry, TarEntrySink } from '../../util/tar/reader';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/**
 * Thrown (and caught inside LayerWriter) when an entry meets objects still queued for creation: they
 * are created first, then the entry starts over. Everything done before the throw is idempotent.
 */
class FlushFirst extends Error {}

/**
 * Writes the entries of one layer tar into a directory in overlay format: OCI whiteouts become
 * overlay whiteouts (char device 0/0) and opaque markers become the opaque xattr. Every path is
 * resolved inside the directory (see resolveInRoot), so no entry can create or change anything
 * outside it. Mode, owner, mtime, symlinks, hard links, setuid bits and extended attributes
 * (but not overlayfs' own) are kept; device nodes are made only when running as root, like
 * Docker in a user namespace.
 *
 * File system calls are synchronous: each takes microseconds, while a thread-pool round trip
 * per call made extraction ten times slower. Only reading the tar is asynchronous, so the event
 * loop still gets a turn between chunks. An entry waits (begin returns a promise) only when it
 * meets device nodes or links still queued for the child process that creates them.
 */
export class LayerWriter {
  private bytesOnDisk = 0;
  private readonly dirTimes = new Map<string, Date>();
  private readonly special: SpecialFileQueue;
  private readonly isRoot = process.getuid?.() === 0;
  /**
   * Parent paths (as named in the tar) already resolved to real directories inside the root,
   * so that the many entries of one directory skip resolution and mkdir. Cleared whenever
   * anything is removed, the only way such a directory can stop being one.
   */
  private readonly knownDirs = new Map<string, string>();

  constructor(private readonly root: string, strategy?: SpecialOpStrategy) {
    this.special = new SpecialFileQueue(strategy);
  }

  /** Regular file bytes plus symlink target lengths, hard links counted once (like moby). */
  get size(): number {
    return this.bytesOnDisk;
  }

  /** Creates the entry; a regular file's data then goes to the returned sink. */
  begin(entry: TarEntry): TarEntrySink | undefined | Promise<TarEntrySink | undefined> {
    try {
      return this.beginNow(entry);
    } catch (err) {
      if (!(err instanceof FlushFirst)) throw err;
      return this.special.flush().then(() => this.begin(entry));
    }
  }

  private beginNow(entry: TarEntry): TarEntrySink | undefined {
    switch (entry.type) {
      case 'file':
      case 'contiguous-file':
        return this.beginFile(entry);
      case 'directory':
      case 'symlink':
      case 'link':
      case 'character-device':
      case 'block-device':
      case 'fifo':
        this.applyOther(entry, entry.type);
        return undefined;
      default:
        return undefined; // other record types (e.g. Solaris ACLs) carry nothing we store; Docker skips them too
    }
  }

  /** Creates what was queued and restores directory mtimes, which creating children changed. */
  async finish(): Promise<void> {
    await this.special.flush();
    const deepestFirst = [...this.dirTimes].sort((a, b) => b[0].length - a[0].length);
    for (const [dir, time] of deepestFirst) {
      try {
        fs.lutimesSync(dir, time, time);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  private beginFile(entry: TarEntry): TarEntrySink | undefined {
    const target = this.prepareTarget(entry, false, true);
    if (target === null) return undefined;
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = fs.openSync(target, flags, 0o600);
    } catch (err) {
      // Something is in the way (an earlier entry, a planted symlink): O_EXCL never follows
      // or reuses it. Clear it and create the file afresh.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.clearPath(target, false);
      fd = fs.openSync(target, flags, 0o600);
    }
    const finish = (): void => {
      try {
        if (this.isRoot) fs.fchownSync(fd, entry.uid, entry.gid);
        fs.fchmodSync(fd, entry.mode & 0o7777); // after chown, which clears setuid/setgid
        fs.futimesSync(fd, entry.mtime, entry.mtime);
      } finally {
        fs.closeSync(fd);
      }
      this.bytesOnDisk += entry.size;
      this.queueXattrs(target, entry);
    };
    if (entry.size === 0) {
      finish();
      return undefined;
    }
    let failed = false;
    return {
      write(data: Buffer): void {
        try {
          writeAll(fd, data);
        } catch (err) {
          failed = true;
          fs.closeSync(fd);
          throw err;
        }
      },
      end(): void {
        if (!failed) finish();
      },
    };
  }

  /** Queued after owner and mode are set: chown would clear security.capability. */
  private queueXattrs(target: string, entry: TarEntry): void {
    for (const { name, value } of entryXattrs(entry.pax)) {
      this.special.add({ op: 'xattr', path: target, name, value: value.toString('base64'), bestEffort: true });
    }
  }

  private applyOther(header: TarEntry, type: TarEntry['type']): void {
    const target = this.prepareTarget(header, type === 'directory');
    if (target === null) return;
    const mtime = header.mtime;
    switch (type) {
      case 'directory': {
        try {
          fs.mkdirSync(target, { mode: 0o700 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // an existing directory is kept and updated
        }
        this.setOwnerAndMode(target, header);
        this.dirTimes.set(target, mtime);
        this.queueXattrs(target, header);
        return;
      }
      case 'symlink': {
        const linkTarget = header.linkname;
        fs.symlinkSync(linkTarget, target);
        if (this.isRoot) fs.lchownSync(target, header.uid, header.gid);
        fs.lutimesSync(target, mtime, mtime);
        this.bytesOnDisk += Buffer.byteLength(linkTarget);
        this.queueXattrs(target, header);
        return;
      }
      case 'link':
        this.applyHardLink(header, target);
        return;
      case 'fifo':
      case 'character-device':
      case 'block-device': {
        if (type !== 'fifo' && !this.isRoot) return;
        this.special.add({
          op: 'mknod',
          path: target,
          type: type === 'fifo' ? 'p' : type === 'character-device' ? 'c' : 'b',
          major: header.devmajor,
          minor: header.devminor,
          mode: header.mode & 0o7777,
          ...(this.isRoot ? { uid: header.uid, gid: header.gid } : {}),
          mtime: Math.floor(mtime.getTime() / 1000),
        });
        this.queueXattrs(target, header);
        return;
      }
    }
  }

  private applyHardLink(header: TarEntry, target: string): void {
    const linkRel = cleanEntryName(header.linkname);
    if (linkRel === '') throw new Error(`invalid hard link ${header.name}: empty target`);
    const source = path.join(resolveInRoot(this.root, path.posix.dirname(linkRel), true), path.posix.basename(linkRel));
    if (this.special.isPending(source)) {
      this.special.add({ op: 'link', path: target, target: source });
      return;
    }
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(source);
    } catch {
      throw new Error(`invalid hard link ${header.name}: target ${header.linkname} is not in the layer`);
    }
    if (stat.isDirectory()) throw new Error(`invalid hard link ${header.name}: target ${header.linkname} is a directory`);
    fs.linkSync(source, target);
  }

  /**
   * Resolves the entry's path, creates missing parents and removes whatever is in the way
   * (except a directory that a directory entry updates). Returns null for entries that are
   * fully handled here: whiteouts, opaque markers and the layer root itself.
   */
  private prepareTarget(header: TarEntry, isDir: boolean, createsExclusively = false): string | null {
    const rel = cleanEntryName(header.name);
    if (rel === '') {
      if (isDir) {
        this.setOwnerAndMode(this.root, header);
        this.dirTimes.set(this.root, header.mtime);
      }
      return null;
    }
    const base = path.posix.basename(rel);
    const parentRel = path.posix.dirname(rel);

    let parentDir = this.knownDirs.get(parentRel);
    let target: string;
    if (parentDir !== undefined) {
      target = path.join(parentDir, base);
      if (this.special.touches(target)) throw new FlushFirst();
    } else {
      target = path.join(this.resolveParent(parentRel), base);
      if (this.special.touches(target)) throw new FlushFirst();
      parentDir = path.dirname(target);
      fs.mkdirSync(parentDir, { recursive: true, mode: 0o755 });
      this.knownDirs.set(parentRel, parentDir);
    }

    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.applyWhiteout(path.dirname(target), base, header);
      return null;
    }
    // A caller that creates with O_EXCL clears only when that fails, saving an lstat per file.
    if (!createsExclusively) this.clearPath(target, isDir);
    return target;
  }

  private applyWhiteout(dir: string, base: string, header: TarEntry): void {
    if (base === OPAQUE_MARKER) {
      this.special.add({ op: 'xattr', path: dir, name: OVERLAY_OPAQUE_XATTR, value: Buffer.from('y').toString('base64') });
      return;
    }
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    // ".wh..wh.*" names are aufs bookkeeping, not whiteouts.
    if (hidden.startsWith(WHITEOUT_PREFIX) || hidden === '' || hidden === '.' || hidden === '..') return;
    const target = path.join(dir, hidden);
    if (this.special.isPending(target)) throw new FlushFirst();
    this.clearPath(target, false);
    this.special.add({
      op: 'mknod',
      path: target,
      type: 'c',
      major: 0,
      minor: 0,
      mode: 0,
      ...(this.isRoot ? { uid: header.uid, gid: header.gid } : {}),
    });
  }

  private resolveParent(parentRel: string): string {
    return parentRel === '.' ? this.root : resolveInRoot(this.root, parentRel, true);
  }

  private clearPath(target: string, keepDirectory: boolean): void {
    const stat = fs.lstatSync(target, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (keepDirectory && stat.isDirectory()) return;
    // Queued objects were resolved against the tree as it is now; create them before it changes.
    if (this.special.size > 0) throw new FlushFirst();
    // What is removed may be a directory that later entries were resolved into.
    this.knownDirs.clear();
    fs.rmSync(target, { recursive: true, force: true });
  }

  private setOwnerAndMode(target: string, header: TarEntry): void {
    if (this.isRoot) fs.lchownSync(target, header.uid, header.gid);
    fs.chmodSync(target, header.mode & 0o7777);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
}
