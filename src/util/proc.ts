import { execFile, type ExecFileOptions } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; rejects with its stderr (trimmed) as the message on a non-zero exit. */
export function run(file: string, args: string[], opts: ExecFileOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...opts, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error((String(stderr).trim() || err.message).trim()) as Error & { code?: unknown; stderr?: string };
        e.code = (err as NodeJS.ErrnoException).code;
        e.stderr = String(stderr);
        reject(e);
      } else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
