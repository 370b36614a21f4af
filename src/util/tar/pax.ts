/**
 * PAX extended header records: `<length> <key>=<value>\n`, the length counting the whole record.
 * Extended attributes travel as `SCHILY.xattr.<name>=<value>` (GNU tar, Go's archive/tar, Docker).
 * Their values are bytes — `security.capability` is a binary struct — so `SCHILY.xattr.*` values are
 * kept as latin1 strings, one character per byte; every other record is UTF-8.
 */
export const XATTR_PREFIX = 'SCHILY.xattr.';

/** Adds the records in `buf` to `into` (later records win) and returns it. */
export function decodePax(buf: Buffer, into: Record<string, string> = {}): Record<string, string> {
  let rest = buf;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    if (space <= 0) break;
    const length = parseInt(rest.subarray(0, space).toString('latin1'), 10);
    if (!length || length > rest.length) break;
    const record = rest.subarray(space + 1, length - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq < 0) break;
    const key = record.subarray(0, eq).toString('utf8');
    into[key] = record.subarray(eq + 1).toString(key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8');
    rest = rest.subarray(length);
  }
  return into;
}

/** One record, `<len> key=value\n`, its length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}
