/** `events`: GET /events (since/until/filters) and print each message, pretty or through --format. */
import { readJsonStream } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { compileTemplate } from '../format/template';
import { getTimestamp } from '../format/timestamp';
import { FILTER_FLAG, INSPECT_FORMAT_HELP, toFilters } from '../opts';
import { encodeFilters } from '../../client/client';

interface WireEvent {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number;
}

/** events.Message as templates see it: Go field names, JSON with the wire names (omitempty). */
export class EventMessage {
  readonly Status: string;
  readonly ID: string;
  readonly From: string;
  readonly Type: string;
  readonly Action: string;
  readonly Actor: { ID: string; Attributes: Record<string, string> };
  readonly Scope: string;
  readonly Time: number;
  readonly TimeNano: number;

  constructor(e: WireEvent = {}) {
    this.Status = e.status ?? '';
    this.ID = e.id ?? '';
    this.From = e.from ?? '';
    this.Type = e.Type ?? '';
    this.Action = e.Action ?? '';
    this.Actor = { ID: e.Actor?.ID ?? '', Attributes: e.Actor?.Attributes ?? {} };
    this.Scope = e.scope ?? '';
    this.Time = e.time ?? 0;
    this.TimeNano = e.timeNano ?? 0;
  }

  toJSON(): object {
    const attrs = Object.keys(this.Actor.Attributes).length ? this.Actor.Attributes : undefined;
    return {
      ...(this.Status ? { status: this.Status } : {}),
      ...(this.ID ? { id: this.ID } : {}),
      ...(this.From ? { from: this.From } : {}),
      Type: this.Type,
      Action: this.Action,
      Actor: { ID: this.Actor.ID, ...(attrs ? { Attributes: attrs } : {}) },
      ...(this.Scope ? { scope: this.Scope } : {}),
      ...(this.Time ? { time: this.Time } : {}),
      ...(this.TimeNano ? { timeNano: this.TimeNano } : {}),
    };
  }
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in local time (UTC prints as Z). */
export function formatEventTime(timeNano: number, time: number): string {
  // The decimal digits JSON carried (String() of a parsed number gives them back), not the binary double.
  const digits = String(timeNano);
  const ns = timeNano ? (/^-?[0-9]+$/.test(digits) ? BigInt(digits) : BigInt(Math.round(timeNano))) : BigInt(time) * 1_000_000_000n;
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const offMin = -d.getTimezoneOffset();
  const local = new Date(ms + offMin * 60_000).toISOString().slice(0, 19);
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  let zone = 'Z';
  if (offMin !== 0) {
    const a = Math.abs(offMin);
    zone = `${offMin < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
  }
  return `${local}.${frac}${zone}`;
}

export function prettyEvent(e: EventMessage): string {
  let out = '';
  if (e.TimeNano !== 0 || e.Time !== 0) out += formatEventTime(e.TimeNano, e.Time) + ' ';
  out += `${e.Type} ${e.Action} ${e.Actor.ID}`;
  const keys = Object.keys(e.Actor.Attributes).sort();
  if (keys.length) out += ` (${keys.map((k) => `${k}=${e.Actor.Attributes[k]}`).join(', ')})`;
  return out + '\n';
}

async function runEvents(cli: Cli, flags: FlagValues): Promise<number> {
  const format = flags.string('format');
  let render: ((e: EventMessage) => string) | undefined;
  if (format !== '') {
    try {
      const tmpl = compileTemplate(format === 'json' ? '{{json .}}' : format);
      tmpl(new EventMessage());
      render = (e) => tmpl(e) + '\n';
    } catch (err) {
      throw new StatusError(`Error parsing format: ${(err as Error).message}`, 64);
    }
  }
  const now = Date.now();
  const since = flags.string('since') ? getTimestamp(flags.string('since'), now) : undefined;
  const until = flags.string('until') ? getTimestamp(flags.string('until'), now) : undefined;
  const filters = toFilters(flags.list('filter'));
  const res = await cli.client.transport.request({
    method: 'GET',
    path: '/events',
    query: { filters: encodeFilters(filters), since, until },
  });
  for await (const raw of readJsonStream<WireEvent>(res)) {
    const e = new EventMessage(raw);
    cli.out(render ? render(e) : prettyEvent(e));
  }
  return 0;
}

export const eventsCommand: CommandSpec = {
  name: 'events',
  use: 'events [OPTIONS]',
  short: 'Get real time events from the server',
  aliasPaths: ['system events', 'events'],
  args: { kind: 'none' },
  flags: [
    { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
    FILTER_FLAG,
    { name: 'format', type: 'string', usage: INSPECT_FORMAT_HELP },
  ],
  run: runEvents,
};
