/**
 * Tar streams of `berth cp`, in process: a local tree packed into large buffers for the upload, and a
 * download extracted as its pieces arrive, each written at once with synchronous calls (DirExtractor).
 */
import type { Readable } from 'node:stream';
import { DirExtractor, type DirExtractOptions } from '../../util/tar/dir-extract';
import { TarPackStream } from '../../util/tar/pack';
import { TarReader } from '../../util/tar/reader';

// ---------------------------------------------------------------- pack

/**
 * A tar of `host` (a file, symlink or directory tree) whose top entry is named `name` ('.' for a
 * directory's contents); with `followTop` a symlink at `host` is archived as what it points to.
 * Symlinks inside are archived as symlinks; an entry that cannot be read fails the copy.
 */
export function packForUpload(host: string, name: string, followTop = false): Readable {
  return new TarPackStream(host, name, { followTop, strict: true });
}

// ---------------------------------------------------------------- extract

/**
 * Extracts a tar under the directory `dest` as the docker CLI does for cp (see DirExtractor). `push`
 * each piece of the download, then `end`; `abort` after a failure. A piece is used only during the call
 * (rawGet reuses its read buffer): file data is written at once.
 */
export class TarExtraction {
  private readonly x: DirExtractor;
  private readonly reader: TarReader;

  constructor(dest: string, opts: DirExtractOptions = {}) {
    this.x = new DirExtractor(dest, opts);
    this.reader = new TarReader((e) => this.x.begin(e));
  }

  push(chunk: Buffer): void {
    if (!this.reader.done) void this.reader.push(chunk); // the handler never waits
  }

  end(): void {
    if (!this.reader.done) this.reader.end();
    this.x.finish();
  }

  abort(): void {
    this.reader.abort();
  }
}

