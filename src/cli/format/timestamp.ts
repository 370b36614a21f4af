/** docker's timetypes.GetTimestamp: --since/--until values to unix "seconds.nanoseconds". */
import { parseGoDuration } from '../flags';

function localDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date {
  return new Date(y, mo - 1, d, h, mi, s, ms);
}

function fromDate(d: Date, nanos: number): string {
  const secs = Math.floor(d.getTime() / 1000);
  return `${secs}.${String(nanos).padStart(9, '0')}`;
}

export function getTimestamp(value: string, nowMs: number = Date.now()): string {
  if (value !== '0') {
    try {
      const ns = parseGoDuration(value);
      return String(Math.floor((nowMs - ns / 1e6) / 1000));
    } catch {
      // not a duration
    }
  }
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const nanos = frac ? Number(frac.padEnd(9, '0')) : 0;
    const ms = Math.floor(nanos / 1e6);
    let date: Date;
    if (!zone) {
      date = localDate(+y, +mo, +d, +(h ?? 0), +(mi ?? 0), +(s ?? 0), ms);
    } else {
      const offset = zone === 'Z' || zone === 'z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      date = new Date(Date.UTC(+y, +mo - 1, +d, +(h ?? 0), +(mi ?? 0), +(s ?? 0), ms) - offset * 60000);
    }
    if (Number.isNaN(date.getTime())) throw new Error(`parsing time ${JSON.stringify(value)}: invalid`);
    return fromDate(date, nanos);
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse`);
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
}
