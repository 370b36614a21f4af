import { runInput } from '../../util/proc';

/** `ip -batch -` with one command per line (nothing to do for an empty list). */
export async function ipBatch(lines: string[], netnsPid?: number): Promise<void> {
  if (lines.length === 0) return;
  const input = lines.join('\n') + '\n';
  if (netnsPid) await runInput('nsenter', ['-t', String(netnsPid), '-n', 'ip', '-batch', '-'], input);
  else await runInput('ip', ['-batch', '-'], input);
}

/** Same, but keeps going past failing lines (teardown of objects that may already be gone). */
export async function ipBatchForce(lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await runInput('ip', ['-force', '-batch', '-'], lines.join('\n') + '\n').catch(() => undefined);
}

/** Names of the host's network links. */
export async function linkNames(): Promise<Set<string>> {
  const out = await runInput('ip', ['-o', 'link', 'show']);
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** IPv4 prefixes the host routes (main table), e.g. `172.17.0.0/16`; `default` is skipped. */
export async function hostRoutes(): Promise<string[]> {
  const out = await runInput('ip', ['-4', '-o', 'route', 'show', 'table', 'main']);
  const routes: string[] = [];
  for (const line of out.split('\n')) {
    const dst = line.trim().split(/\s+/)[0];
    if (!dst || dst === 'default') continue;
    routes.push(dst.includes('/') ? dst : `${dst}/32`);
  }
  return routes;
}
