import { spawn } from 'node:child_process';

/** Runs a command; rejects with its stderr when it fails. */
export function runProc(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}
