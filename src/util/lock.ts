import * as fs from 'node:fs';

/**
 * An exclusive lock on a directory, held for the life of the process: a pid file created with O_EXCL.
 * A stale file (its pid no longer alive) is taken over, so a kill -9 never leaves the data root locked.
 */
export function lockDirectory(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(lockFile, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`another berthd (pid ${holder}) is using this data root; lock held at ${lockFile}`);
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not take the lock ${lockFile}`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
