/** `GET /containers/{id}/top`: ps(1) on the host, filtered to the container's cgroup, as moby's ContainerTop. */
import { execFile } from 'node:child_process';
import { EngineError, conflict, invalidParameter } from '../../util/errors';
import type { ContainerRecord } from './types';

export interface TopResponse {
  Titles: string[];
  Processes: string[][];
}

/** `-o pid=PID` style aliases of the PID column are refused, as moby does. */
export function validatePsArgs(psArgs: string): void {
  const re = /\s+([^\s]*)=\s*(PID[^\s]*)/g;
  for (let m = re.exec(psArgs); m; m = re.exec(psArgs)) {
    if (m[1] !== 'pid') throw invalidParameter(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

function fieldsAscii(s: string): string[] {
  return s.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

/** Keeps the header and the lines of `pids` (and thread lines, PID "-", that follow one of them). */
export function parsePsOutput(output: string, pids: readonly number[]): TopResponse {
  const lines = output.split('\n');
  const titles = fieldsAscii(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new EngineError(500, "Couldn't find PID field in ps output");
  const want = new Set(pids);
  const processes: string[][] = [];
  const add = (fields: string[]) => {
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  };
  let previousIn = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const fields = fieldsAscii(line);
    const pidField = fields[pidIndex] ?? '';
    if (pidField === '-') {
      if (previousIn) add(fields);
      continue;
    }
    if (!/^-?[0-9]+$/.test(pidField)) throw new EngineError(500, `Unexpected pid '${pidField}': strconv.Atoi: parsing "${pidField}": invalid syntax`);
    previousIn = want.has(Number(pidField));
    if (previousIn) add(fields);
  }
  return { Titles: titles, Processes: processes };
}

function runPs(args: string[]): Promise<{ ok: true; out: string } | { ok: false; err: string }> {
  return new Promise((resolve) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, out: stdout });
      const first = String(stderr).split('\n')[0] ?? '';
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      resolve({ ok: false, err: missing ? 'exec: "ps": executable file not found in $PATH' : first || err.message });
    });
  });
}

/**
 * Lists the container's processes with `ps <psArgs>` (default `-ef`): first restricted with `-q <pids>`, and
 * without it when ps refuses the combination (e.g. `f`).
 */
export async function containerTop(c: ContainerRecord, psArgs: string, pidsOf: (c: ContainerRecord) => number[]): Promise<TopResponse> {
  const argsText = psArgs === '' ? '-ef' : psArgs;
  validatePsArgs(argsText);
  if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
  if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
  const pids = pidsOf(c);
  if (pids.length === 0 && c.State.Pid > 0) pids.push(c.State.Pid);
  const args = argsText.split(' ');
  let r = await runPs([...args, `-q${pids.join(',')}`]);
  if (!r.ok) r = await runPs(args);
  if (!r.ok) throw new EngineError(500, `ps: ${r.err}`);
  return parsePsOutput(r.out, pids);
}
