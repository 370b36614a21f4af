/**
 * `berth cp` with a daemon on the same machine: instead of a tar, the client names a file or directory
 * it holds open (its pid, the descriptor, and the device and inode it sees there) and berthd copies
 * between that tree and the container itself, file data moving inside the kernel (copyTree). The
 * descriptor is reached through /proc/<pid>/fd, which lands in the client's own view of its files
 * whatever mount namespace it runs in; the device and inode must match, or the client is not where
 * the daemon can see it (another machine, another pid namespace). Only a client running as root is
 * served: it could read and write every file it names anyway, whereas a copy by the daemon would skip
 * a user's permission checks. Whenever the copy cannot be made this way the answer is 421, and the
 * client sends a tar as usual.
 */
import * as fs from 'node:fs';
import { EngineError } from '../../util/errors';

/** What the client says it holds open. */
export interface ClientFileRef {
  Pid: number;
  Fd: number;
  /** Decimal strings: a 64-bit device or inode number does not fit a JSON number. */
  Dev: string;
  Ino: string;
}

/** 421 Misdirected Request: this copy must go as a tar. */
export class LocalCopyUnavailable extends EngineError {
  constructor(why: string) {
    super(421, `the client's files are not reachable from the daemon: ${why}`);
  }
}

/** The client's file, opened by the daemon: `path` names it for as long as it is open. */
export interface ClientFile {
  path: string;
  isDirectory: boolean;
  close(): void;
}

function fsUid(pid: number): number | undefined {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    const fields = line?.split(/\s+/) ?? [];
    return fields.length >= 5 ? Number(fields[4]) : undefined;
  } catch {
    return undefined;
  }
}

export function openClientFile(ref: unknown): ClientFile {
  const r = ref as Partial<ClientFileRef> | null;
  if (!r || !Number.isSafeInteger(r.Pid) || r.Pid! <= 0 || !Number.isSafeInteger(r.Fd) || r.Fd! < 0) {
    throw new LocalCopyUnavailable('no process and descriptor given');
  }
  if (typeof r.Dev !== 'string' || typeof r.Ino !== 'string' || !/^\d+$/.test(r.Dev) || !/^\d+$/.test(r.Ino)) {
    throw new LocalCopyUnavailable('no device and inode given');
  }
  if (fsUid(r.Pid!) !== 0) throw new LocalCopyUnavailable(`process ${r.Pid} is not a root process of this machine`);
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${r.Pid}/fd/${r.Fd}`, fs.constants.O_RDONLY);
  } catch (err) {
    throw new LocalCopyUnavailable(`cannot open descriptor ${r.Fd} of process ${r.Pid}: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (st.dev.toString() !== r.Dev || st.ino.toString() !== r.Ino) {
      throw new LocalCopyUnavailable(`descriptor ${r.Fd} of process ${r.Pid} is another file`);
    }
    // A second look after the open: the process named may have been another one that went away.
    if (fsUid(r.Pid!) !== 0) throw new LocalCopyUnavailable(`process ${r.Pid} is not a root process of this machine`);
    return {
      path: `/proc/self/fd/${fd}`,
      isDirectory: st.isDirectory(),
      close: () => fs.closeSync(fd),
    };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
