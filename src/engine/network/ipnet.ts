/** IPv4 address and prefix arithmetic (addresses as unsigned 32-bit numbers). */

export interface Cidr {
  /** Network address (host bits cleared). */
  base: number;
  bits: number;
}

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Parses `a.b.c.d/n`; `strict` rejects host bits set (Docker's "invalid subnet" for --subnet). */
export function parseCidr(s: string): { ip: number; cidr: Cidr } | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  const bits = Number(m[2]);
  if (ip === undefined || bits > 32) return undefined;
  return { ip, cidr: { base: (ip & mask(bits)) >>> 0, bits } };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.bits)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & mask(bits)) >>> 0) === ((b.base & mask(bits)) >>> 0);
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

/** First and last usable host addresses (network and broadcast addresses excluded below /31). */
export function hostRange(c: Cidr): [number, number] {
  if (c.bits >= 31) return [c.base, c.base + size(c) - 1];
  return [c.base + 1, c.base + size(c) - 2];
}

/** Docker's MAC for an address: 02:42 followed by the four address bytes. */
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
