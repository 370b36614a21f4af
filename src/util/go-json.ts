/**
 * JSON as Go's encoding/json writes it, where image IDs (digests of config bytes) or the CLI's
 * output (`--format json`) depend on it: strings with `<`, `>`, `&`, U+2028 and U+2029 escaped,
 * maps with sorted keys, raw values compacted.
 */

const GO_ESCAPES = /[<>&\u2028\u2029]/g;

/** json.Marshal's HTML escaping applied to JSON text (those characters only occur inside strings). */
export function escapeLikeGo(json: string): string {
  return json.replace(GO_ESCAPES, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function goJsonString(s: string): string {
  return escapeLikeGo(JSON.stringify(s));
}

/**
 * Go's json.Marshal of a map[string]*json.RawMessage read from `raw` (a JSON object), without the
 * `drop` keys and with `extra` (raw JSON values) added: keys sorted, each value compacted as it
 * was written (numbers keep their text), HTML characters in strings escaped.
 */
export function goMarshalObjectFromRaw(raw: string, drop: ReadonlySet<string>, extra: Record<string, string>): string {
  const members = new Map(rawObjectMembers(raw));
  for (const key of drop) members.delete(key);
  for (const [key, value] of Object.entries(extra)) members.set(key, value);
  const keys = [...members.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goJsonString(k)}:${compactRaw(members.get(k)!)}`).join(',')}}`;
}

/** Top-level members of a JSON object as [key, raw value text]; later duplicates win, as in Go. */
function rawObjectMembers(raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = skipSpace(raw, 0);
  if (raw[i] !== '{') throw new SyntaxError('not a JSON object');
  i = skipSpace(raw, i + 1);
  if (raw[i] === '}') return out;
  for (;;) {
    const keyEnd = endOfValue(raw, i);
    const key = JSON.parse(raw.slice(i, keyEnd)) as unknown;
    if (typeof key !== 'string') throw new SyntaxError('object key is not a string');
    i = skipSpace(raw, keyEnd);
    if (raw[i] !== ':') throw new SyntaxError(`expected ':' at ${i}`);
    i = skipSpace(raw, i + 1);
    const valueEnd = endOfValue(raw, i);
    out.push([key, raw.slice(i, valueEnd)]);
    i = skipSpace(raw, valueEnd);
    if (raw[i] === '}') return out;
    if (raw[i] !== ',') throw new SyntaxError(`expected ',' or '}' at ${i}`);
    i = skipSpace(raw, i + 1);
  }
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

/** Index just past the JSON value starting at `i` (validated by JSON.parse later, when compacted). */
function endOfValue(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j]!;
    if (c === '"') {
      j++;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (depth === 0) return j + 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return j + 1;
      if (depth < 0) return j;
    } else if (depth === 0 && (c === ',' || c === ' ' || c === '\t' || c === '\n' || c === '\r')) return j;
  }
  if (depth !== 0) throw new SyntaxError('unexpected end of JSON input');
  return s.length;
}

/** encoding/json's compact with HTML escaping: whitespace outside strings removed, nothing else changed. */
function compactRaw(value: string): string {
  JSON.parse(value); // must be valid on its own, as Go checks a RawMessage
  let out = '';
  for (let j = 0; j < value.length; j++) {
    const c = value[j]!;
    if (c === '"') {
      let k = j + 1;
      while (k < value.length && value[k] !== '"') k += value[k] === '\\' ? 2 : 1;
      out += escapeLikeGo(value.slice(j, k + 1));
      j = k;
    } else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') out += c;
  }
  return out;
}
