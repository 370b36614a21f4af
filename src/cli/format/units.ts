/** go-units and Go fmt/time helpers used by docker's formatters. */

// go-units' sizes and durations and Go's %g are shared with the engine (util/human).
export { bytesSize, formatG, humanDuration, humanSize, humanSizeWithPrecision } from '../../util/human';

const p2 = (n: number) => String(n).padStart(2, '0');

function zoneName(d: Date): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d);
    const z = parts.find((p) => p.type === 'timeZoneName')?.value;
    if (z) return z;
  } catch {
    // fall through
  }
  return 'UTC';
}

/** Go time.Unix(sec, 0).String() in the local zone: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ` +
    `${sign}${p2(Math.floor(abs / 60))}${p2(abs % 60)} ${zoneName(d)}`
  );
}

/** Go strconv.Quote for the common (printable UTF-8) case. */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0x80 && c < 0xa0) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}
