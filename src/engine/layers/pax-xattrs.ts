import { XATTR_PREFIX } from '../../util/tar/pax';

/*
 * Extended attributes of layer entries, from their PAX records `SCHILY.xattr.<name>=<value>` (decoded
 * byte for byte by util/tar/pax.ts: values are latin1 strings, one character per byte).
 */

/** overlayfs reads these itself (opaque dirs, redirects, metacopy); a layer must not set them. */
const REFUSED_PREFIXES = ['trusted.overlay.'];

/** The extended attributes in an entry's PAX records that a layer may set (bytes restored from latin1). */
export function entryXattrs(pax: Record<string, string> | undefined): { name: string; value: Buffer }[] {
  if (!pax) return [];
  return Object.entries(pax)
    .filter(([key]) => key.startsWith(XATTR_PREFIX))
    .map(([key, value]) => ({ name: key.slice(XATTR_PREFIX.length), value: Buffer.from(value, 'latin1') }))
    .filter(({ name }) => name !== '' && !REFUSED_PREFIXES.some((p) => name.startsWith(p)));
}
