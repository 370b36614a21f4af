/**
 * A download extracted into a local directory the way the docker CLI does for `cp` out of a container:
 * modes and times from the archive, owners not (the files belong to whoever runs the extraction), a
 * directory never replaced by a non-directory or the reverse. Extraction stays under the destination
 * whatever the entries say: names climbing out are refused, every parent is resolved with symlinks
 * followed as if the destination were the root (absolute targets and `..` never leave it), and nothing
 * is written through an entry's own name (an existing one is replaced). Used by `berth cp` on the tar
 * it reads, and by berthd when it copies straight into a local client's directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveInRoot } from '../root-path';
import type { TarEntry, TarEntrySink } from './reader';
import { writevFullySync } from './writev';

export class TarError extends Error {}

export interface DirExtractOptions {
  /** The first name component `from` becomes `to` (docker cp's rebasing to a new name). */
  rename?: { from: string; to: string };
}

/** Synchronous: a piece of file data is written during the write() call, never kept. */
export class DirExtractor {
  private readonly dirTimes: Array<[string, Date]> = [];
  /** Directories (relative to dest) resolved and made in this extraction → their paths. */
  private readonly dirs = new Map<string, string>();
  private readonly root: string;

  constructor(dest: string, private readonly opts: DirExtractOptions) {
    this.root = path.resolve(dest);
  }

  /** `rel` inside the root, symlinks of existing components followed without ever leaving it. */
  private resolve(rel: string): string {
    try {
      return resolveInRoot(this.root, rel, true);
    } catch (err) {
      throw new TarError((err as Error).message);
    }
  }

  private parentDir(rel: string): string {
    const known = this.dirs.get(rel);
    if (known !== undefined) return known;
    const host = this.resolve(rel);
    fs.mkdirSync(host, { recursive: true, mode: 0o755 });
    this.dirs.set(rel, host);
    return host;
  }

  /** The entry's name relative to the destination, renamed as asked; '' for the destination itself. */
  private relName(name: string): string {
    if (name.includes('\0')) throw new TarError(`invalid tar entry ${JSON.stringify(name)}`);
    let rel = path.posix.normalize(name).replace(/^\/+/, '').replace(/\/+$/, '');
    if (rel === '.') rel = '';
    if (rel === '..' || rel.startsWith('../')) throw new TarError(`${JSON.stringify(name)} is outside of ${JSON.stringify(this.root)}`);
    const r = this.opts.rename;
    if (r) {
      if (r.from === '.' || r.from === '') rel = rel === '' ? r.to : `${r.to}/${rel}`;
      else if (rel === r.from) rel = r.to;
      else if (rel.startsWith(`${r.from}/`)) rel = r.to + rel.slice(r.from.length);
    }
    return rel;
  }

  begin(e: TarEntry): TarEntrySink | undefined {
    const rel = this.relName(e.name);
    if (rel === '') return undefined;
    const parent = this.parentDir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    const target = path.join(parent, path.posix.basename(rel));
    const mode = e.mode & 0o7777;
    const type = e.type === 'contiguous-file' ? 'file' : e.type;
    const isDir = type === 'directory';
    if (type === 'file') {
      const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
      try {
        return this.file(fs.openSync(target, flags, 0o600), e, mode);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(target);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (existing.isDirectory() && !isDir) throw new TarError(`cannot overwrite directory ${JSON.stringify(target)} with non-directory ${JSON.stringify(this.root)}`);
      if (!existing.isDirectory() && isDir) throw new TarError(`cannot overwrite non-directory ${JSON.stringify(target)} with directory ${JSON.stringify(this.root)}`);
      if (!isDir) {
        fs.rmSync(target, { force: true });
        this.dirs.clear();
      }
    }
    switch (type) {
      case 'directory':
        if (!existing) fs.mkdirSync(target, { mode });
        fs.chmodSync(target, mode);
        this.dirTimes.push([target, e.mtime]);
        return undefined;
      case 'file':
        return this.file(fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600), e, mode);
      case 'symlink': {
        // As docker: a relative link must not point out of the destination.
        if (!e.linkname.startsWith('/')) {
          const to = path.posix.normalize(path.posix.join(path.posix.dirname(rel), e.linkname));
          if (to === '..' || to.startsWith('../')) throw new TarError(`invalid symlink ${JSON.stringify(target)} -> ${JSON.stringify(e.linkname)}`);
        }
        this.dirs.clear();
        fs.symlinkSync(e.linkname, target);
        fs.lutimesSync(target, e.mtime, e.mtime);
        return undefined;
      }
      case 'link': {
        const linkRel = this.relName(e.linkname);
        if (linkRel === '') throw new TarError(`invalid hardlink ${JSON.stringify(target)} -> ${JSON.stringify(e.linkname)}`);
        const dir = path.posix.dirname(linkRel);
        const src = path.join(this.resolve(dir === '.' ? '' : dir), path.posix.basename(linkRel));
        fs.linkSync(src, target);
        return undefined;
      }
      default:
        // Devices, FIFOs and the rest: left out (the docker CLI does not make them either when it cannot).
        if (type === 'fifo') {
          try {
            require('node:child_process').spawnSync('mkfifo', ['-m', mode.toString(8), target]);
          } catch {
            /* no mkfifo */
          }
        }
        return undefined;
    }
  }

  private file(fd: number, e: TarEntry, mode: number): TarEntrySink | undefined {
    const close = () => {
      try {
        fs.fchmodSync(fd, mode);
        fs.futimesSync(fd, e.mtime, e.mtime);
      } finally {
        fs.closeSync(fd);
      }
    };
    if (e.size === 0) {
      close();
      return undefined;
    }
    return {
      write: (data: Buffer) => writevFullySync(fd, [data], data.length),
      end: close,
      fd,
    };
  }

  finish(): void {
    for (const [dir, t] of this.dirTimes.reverse()) {
      try {
        fs.utimesSync(dir, t, t);
      } catch {
        /* gone */
      }
    }
  }
}
