/** Renders a JSON progress stream (pull, import, load) like docker's jsonmessage package. */
import type { Readable } from 'node:stream';
import type { JSONMessage } from '../../client';
import { readJsonStream } from '../../client';
import { humanSize } from './units';

export class JSONMessageError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

export interface ProgressOutput {
  write(s: string): void;
  isTerminal: boolean;
  /** Terminal width; docker assumes 200 when unknown. */
  columns?: number;
}

function progressString(m: JSONMessage, width: number, nowMs: number): string {
  const p = m.progressDetail ?? {};
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) {
    return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  }
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (width > 110) {
    const spaces = Math.max(50 - percentage, 0);
    bar = `[${'='.repeat(percentage)}>${' '.repeat(spaces)}] `;
  }
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) {
      numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
    } else {
      numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    }
  }
  let left = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    const fromStart = nowMs - (p.start as number) * 1000;
    const perEntry = fromStart / current;
    const secs = Math.round(((total - current) * perEntry) / 1000);
    left = ' ' + goDurationSeconds(secs);
  }
  return bar + numbers + left;
}

/** time.Duration.String() for whole seconds. */
function goDurationSeconds(total: number): string {
  if (total === 0) return '0s';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function rfc3339NanoFixed(ms: number, nanos?: number): string {
  const d = new Date(ms);
  const iso = d.toISOString().slice(0, 19);
  const frac = nanos !== undefined ? String(nanos % 1e9).padStart(9, '0') : '000000000';
  return `${iso}.${frac}Z`;
}

/** Displays one message; returns an error for errorDetail. */
function display(m: JSONMessage, out: ProgressOutput, width: number): void {
  if (m.errorDetail) throw new JSONMessageError(m.errorDetail.message ?? '', m.errorDetail.code);
  let endl = '';
  const hasProgress = m.progressDetail !== undefined && m.progressDetail !== null;
  const progress = hasProgress ? progressString(m, width, Date.now()) : '';
  if (out.isTerminal && !m.stream && hasProgress) {
    out.write('\x1b[2K');
    endl = '\r';
    out.write(endl);
  } else if (hasProgress && progress !== '') {
    return;
  }
  if (m.timeNano) out.write(`${rfc3339NanoFixed(Math.floor(m.timeNano / 1e6), m.timeNano)} `);
  else if (m.time) out.write(`${rfc3339NanoFixed(m.time * 1000)} `);
  if (m.id) out.write(`${m.id}: `);
  if (m.from) out.write(`(from ${m.from}) `);
  if (hasProgress && out.isTerminal) out.write(`${m.status ?? ''} ${progress}${endl}`);
  else if (m.progress) out.write(`${m.status ?? ''} ${m.progress}${endl}`);
  else if (m.stream) out.write(`${m.stream}${endl}`);
  else out.write(`${m.status ?? ''}${endl}\n`);
}

/**
 * jsonmessage.DisplayJSONMessagesStream: on a terminal, per-id lines are redrawn in place with
 * cursor movement; otherwise progress updates are skipped and other messages printed as lines.
 */
export async function displayJSONMessages(
  source: Readable,
  out: ProgressOutput,
  onAux?: (m: JSONMessage) => void,
): Promise<void> {
  const ids = new Map<string, number>();
  const width = out.columns && out.columns > 0 ? out.columns : 200;
  for await (const m of readJsonStream<JSONMessage>(source)) {
    if (m.aux !== undefined && m.aux !== null) {
      onAux?.(m);
      continue;
    }
    let diff = 0;
    if (m.id && ((m.progressDetail !== undefined && m.progressDetail !== null) || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (out.isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (out.isTerminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids.clear();
    }
    try {
      display(m, out, width);
    } finally {
      if (m.id && out.isTerminal && diff > 0) out.write(`\x1b[${diff}B`);
    }
  }
}
