/**
 * Extended attributes travel in PAX records `SCHILY.xattr.<name>=<value>` (GNU tar, Go's
 * archive/tar, Docker). Their values are bytes — `security.capability` is a binary struct — so
 * `SCHILY.xattr.*` values are kept as latin1 strings, one character per byte; every other record
 * is UTF-8.
 */
const XATTR_PREFIX = 'SCHILY.xattr.';
/** overlayfs reads these itself (opaque dirs, redirects, metacopy); a layer must not set them. */
const REFUSED_PREFIXES = ['trusted.overlay.'];

export function decodePaxBinarySafe(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
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
    const value = record.subarray(eq + 1);
    result[key] = value.toString(key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8');
    rest = rest.subarray(length);
  }
  return result;
}

/** The extended attributes in an entry's PAX records that a layer may set (bytes restored from latin1). */
export function entryXattrs(pax: Record<string, string> | undefined): { name: string; value: Buffer }[] {
  if (!pax) return [];
  return Object.entries(pax)
    .filter(([key]) => key.startsWith(XATTR_PREFIX))
    .map(([key, value]) => ({ name: key.slice(XATTR_PREFIX.length), value: Buffer.from(value, 'latin1') }))
    .filter(({ name }) => name !== '' && !REFUSED_PREFIXES.some((p) => name.startsWith(p)));
}
