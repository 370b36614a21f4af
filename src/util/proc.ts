import { execFile, spawn, type ExecFileOptions } from 'node:child_process';

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

/** Runs a tool with `input` on stdin; rejects with its stderr when it exits non-zero. */
export function runInput(file: string, args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${file} ${args.join(' ')}: ${err.trim() || `exit status ${code}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
