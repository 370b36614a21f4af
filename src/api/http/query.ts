import { invalidParameter } from '../../util/errors';

/** Boolean query params arrive as 1/0/true/false/True/False; absent means the default. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const lower = v.toLowerCase();
  if (lower === '1' || lower === 'true') return true;
  if (lower === '0' || lower === 'false') return false;
  throw invalidParameter(`invalid boolean value for ${name}: ${v}`);
}

export function intParam(q: URLSearchParams, name: string, dflt?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidParameter(`invalid value for ${name}: ${v}`);
  return n;
}

/**
 * `filters` is JSON: either {"key":{"value":true}} (current clients) or {"key":["value"]} (older ones).
 * Returns key → list of values.
 */
export function filtersParam(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get('filters');
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter(`invalid filter: ${raw}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidParameter(`invalid filter: ${raw}`);
  const out: Record<string, string[]> = {};
  for (const [key, val] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(val)) out[key] = val.map(String);
    else if (val && typeof val === 'object') out[key] = Object.entries(val).filter(([, on]) => on).map(([k]) => k);
    else throw invalidParameter(`invalid filter: ${raw}`);
  }
  return out;
}
