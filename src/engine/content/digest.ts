import * as crypto from 'node:crypto';

/** Digests are always "sha256:<64 lowercase hex>"; the store accepts no other algorithm. */
export const SHA256_PREFIX = 'sha256:';
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

export function assertDigest(value: string): string {
  if (!isDigest(value)) throw new Error(`invalid digest: ${JSON.stringify(value)}`);
  return value;
}

/** "sha256:abc…" → "abc…" (the form used in file names). */
export function digestHex(digest: string): string {
  return assertDigest(digest).slice(SHA256_PREFIX.length);
}

export function sha256Digest(data: string | Buffer): string {
  return SHA256_PREFIX + crypto.createHash('sha256').update(data).digest('hex');
}
