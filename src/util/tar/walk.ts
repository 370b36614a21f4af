/**
 * The walk behind every tree Berth archives or copies: a file, symlink or directory tree visited without
 * following anything (lstat, O_NOFOLLOW opens; with `followTop` only a symlink given as the source itself
 * is followed), entries in lexical order as tar headers would describe them: directories named with a
 * trailing slash, hard links within the tree as links, sockets left out. For layer diffs, overlay
 * whiteouts (char device 0/0) become OCI `.wh.<name>` entries and opaque directories get a
 * `.wh..wh..opq` entry. TreePacker encodes the entries as a tar; copyTree hands them to an extractor.
 */
import * as fs from 'node:fs';
import type { HeaderFields } from './header';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

export interface WalkOptions {
  /** Entries to leave out (with what is under them), by their name in the tar and host path. */
  skip?: (name: string, host: string) => boolean;
  /** Convert overlay whiteouts and opaque dirs (layer diffs). */
  overlayWhiteouts?: boolean;
  /** Directories (host paths) that carry the overlay opaque xattr. */
  opaqueDirs?: Set<string>;
  /** A symlink given as the source itself is archived as what it points to (cp -L). */
  followTop?: boolean;
  /**
   * An entry below the top that cannot be read fails the walk. Without it such entries are left
   * out, as are, always, entries that vanish meanwhile.
   */
  strict?: boolean;
}

export interface WalkEntry {
  fields: HeaderFields;
  /** A regular file with data: opened for reading. Whoever takes the entry closes it. */
  fd?: number;
}

/** Error codes of an entry that vanished or changed type while the tree was walked. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EINVAL', 'ENXIO']);

interface DirFrame {
  hostDir: string;
  prefix: string;
  names: string[];
  i: number;
}

/**
 * Walks `host`. The top entry is named `name` ('.' for a directory's contents as `./…`); with `name`
 * '' only what is under a directory is visited, names relative to it (layer diffs, export).
 */
export class TreeWalker {
  private readonly stack: DirFrame[] = [];
  private first: string | undefined;
  private readonly links = new Map<string, string>();
  /** An entry to hand out before walking on (a directory's opaque marker). */
  private queued: WalkEntry | undefined;

  constructor(
    private readonly host: string,
    name: string,
    private readonly opts: WalkOptions = {},
  ) {
    if (name === '') this.stack.push({ hostDir: host, prefix: '', names: fs.readdirSync(host).sort(), i: 0 });
    else this.first = name;
  }

  /** The next entry, or undefined at the end of the tree. */
  next(): WalkEntry | undefined {
    if (this.queued) {
      const q = this.queued;
      this.queued = undefined;
      return q;
    }
    if (this.first !== undefined) {
      const name = this.first;
      this.first = undefined;
      const e = this.entry(this.host, name, true);
      if (e) return e;
    }
    while (this.stack.length) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.i < top.names.length) {
        const n = top.names[top.i++]!;
        const e = this.entry(`${top.hostDir}/${n}`, top.prefix + n, false);
        if (e) return e;
        continue;
      }
      this.stack.pop();
    }
    return undefined;
  }

  /** Whether an error on an entry below the top only leaves it out. */
  private skippable(err: unknown, top: boolean): boolean {
    if (top) return false;
    return !this.opts.strict || VANISHED.has((err as NodeJS.ErrnoException).code ?? '');
  }

  private entry(host: string, name: string, top: boolean): WalkEntry | undefined {
    const opts = this.opts;
    if (opts.skip?.(name, host)) return undefined;
    const follow = top && opts.followTop === true;
    let st: fs.Stats;
    try {
      st = follow ? fs.statSync(host) : fs.lstatSync(host);
    } catch (err) {
      if (this.skippable(err, top)) return undefined;
      throw err;
    }
    const h: HeaderFields = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0, type: '0' };
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = fs.readdirSync(host).sort();
      } catch (err) {
        if (!this.skippable(err, top)) throw err;
        names = [];
      }
      h.type = '5';
      if (!name.endsWith('/')) h.name = `${name}/`;
      const prefix = name === '.' ? './' : name.endsWith('/') ? name : `${name}/`;
      if (opts.overlayWhiteouts && opts.opaqueDirs?.has(host)) {
        this.queued = { fields: { ...h, name: `${prefix}${OPAQUE_MARKER}`, type: '0', mode: 0 } };
      }
      if (names.length) this.stack.push({ hostDir: host, prefix, names, i: 0 });
      return { fields: h };
    }
    if (st.isSymbolicLink()) {
      try {
        h.linkname = fs.readlinkSync(host);
      } catch (err) {
        if (this.skippable(err, top)) return undefined;
        throw err;
      }
      h.type = '2';
      return { fields: h };
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.links.get(key);
        if (first !== undefined) {
          h.type = '1';
          h.linkname = first;
          return { fields: h };
        }
        this.links.set(key, name);
      }
      let fd: number;
      try {
        fd = fs.openSync(host, fs.constants.O_RDONLY | (follow ? 0 : fs.constants.O_NOFOLLOW));
      } catch (err) {
        if (this.skippable(err, top)) return undefined;
        throw err;
      }
      h.size = st.size;
      if (st.size > 0) return { fields: h, fd };
      fs.closeSync(fd);
      return { fields: h };
    }
    if (opts.overlayWhiteouts && st.isCharacterDevice() && st.rdev === 0) {
      const slash = name.lastIndexOf('/');
      return { fields: { ...h, name: `${name.slice(0, slash + 1)}${WHITEOUT_PREFIX}${name.slice(slash + 1)}`, mode: 0 } };
    }
    if (st.isFIFO()) {
      h.type = '6';
      return { fields: h };
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      h.type = st.isCharacterDevice() ? '3' : '4';
      h.devmajor = (st.rdev >> 8) & 0xfff;
      h.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      return { fields: h };
    }
    return undefined; // sockets are not archived
  }
}
