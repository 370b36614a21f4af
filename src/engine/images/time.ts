/**
 * RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints UTC times (trailing zeros of the
 * fraction dropped). JavaScript clocks stop at milliseconds; the sub-millisecond digits come
 * from the monotonic clock so that two images created in the same millisecond still differ.
 */
export function nowRfc3339Nano(): string {
  const ms = Date.now();
  const subMs = Number(process.hrtime.bigint() % 1_000_000n);
  return formatRfc3339Nano(Math.floor(ms / 1000), (ms % 1000) * 1_000_000 + subMs);
}

export function formatRfc3339Nano(unixSeconds: number, nanos: number): string {
  const base = new Date(unixSeconds * 1000).toISOString().slice(0, 19);
  const fraction = nanos > 0 ? '.' + String(nanos).padStart(9, '0').replace(/0+$/, '') : '';
  return `${base}${fraction}Z`;
}

/**
 * An RFC 3339 timestamp as Go writes the time it parses from it (time.RFC3339Nano): the fraction
 * without trailing zeros, "Z" for a zero offset, other offsets kept. Undefined when Go would not parse it.
 */
export function goTimeText(text: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(text);
  if (!m) return undefined;
  const fraction = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[3]!.toUpperCase() === 'Z' || /^[+-]00:00$/.test(m[3]!) ? 'Z' : m[3]!;
  return `${m[1]}${fraction ? '.' + fraction : ''}${zone}`;
}

/** Unix seconds of an RFC 3339 timestamp (any fraction length); 0 when absent or unparsable. */
export function unixSeconds(timestamp: string | undefined): number {
  if (!timestamp) return 0;
  const ms = Date.parse(timestamp.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Milliseconds for ordering; sub-millisecond digits are compared through the string. */
export function timestampMs(timestamp: string | undefined): number {
  if (!timestamp) return 0;
  const ms = Date.parse(timestamp.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? 0 : ms;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go duration ("1h30m", "500ms", "10s") in milliseconds; undefined if not a duration. */
export function parseGoDurationMs(text: string): number | undefined {
  const match = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.test(text);
  if (!match) return text === '0' ? 0 : undefined;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += parseFloat(part[1]) * DURATION_UNITS[part[2]];
  }
  return text.startsWith('-') ? -total : total;
}

/**
 * Docker's filter timestamps ("until", "since" on events): unix seconds with optional fraction,
 * RFC 3339 dates, or a Go duration meaning that long before `now`.
 */
export function parseFilterTimestamp(value: string, now = Date.now()): number {
  const duration = parseGoDurationMs(value);
  if (duration !== undefined && value !== '0') return now - duration;
  if (/^\d+(\.\d+)?$/.test(value)) return parseFloat(value) * 1000;
  const ms = Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(ms)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  return ms;
}
