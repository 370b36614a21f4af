import * as fs from 'node:fs';
import * as path from 'node:path';

/** Resolves a program name against PATH (plus the sbin dirs, which a non-login root shell may lack). */
export function resolveBinary(name: string, what: string): string {
  if (name.includes('/')) {
    if (!fs.existsSync(name)) throw new Error(`${what} binary not found: ${name}`);
    return path.resolve(name);
  }
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  throw new Error(`${what} binary "${name}" not found in PATH`);
}
