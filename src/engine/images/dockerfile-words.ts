/**
 * Word handling of Dockerfile instruction arguments, as Docker's parser and shell lexer do it:
 * splitting `key=value` lists with quotes, quote removal, backslash escapes and `$VAR`,
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}` expansion.
 * Used by `--change` lines now and meant for the builder's Dockerfile parser later.
 */

export type EnvLookup = (name: string) => string | undefined;

export function envLookup(env: readonly string[] | null | undefined): EnvLookup {
  const map = new Map<string, string>();
  for (const entry of env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) map.set(entry.slice(0, eq), entry.slice(eq + 1));
    else map.set(entry, '');
  }
  return (name) => map.get(name);
}

/** Splits on unquoted whitespace; quotes and backslashes stay in the words (parseWords). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | null = null;
  let escaped = false;
  for (const ch of text) {
    if (escaped) {
      word += ch;
      escaped = false;
      inWord = true;
      continue;
    }
    if (ch === '\\') {
      word += ch;
      escaped = true;
      inWord = true;
      continue;
    }
    if (quote !== null) {
      word += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      word += ch;
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    word += ch;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

/** Splits on whitespace only (parseStringsWhitespaceDelimited). */
export function splitFields(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Quote removal, escapes and variable expansion of one word (the shell lexer's ProcessWord). */
export function expandWord(word: string, lookup: EnvLookup): string {
  return new WordExpander(word, lookup).run();
}

class WordExpander {
  private pos = 0;

  constructor(private readonly text: string, private readonly lookup: EnvLookup) {}

  run(stopAt?: string): string {
    let out = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (stopAt !== undefined && ch === stopAt) return out;
      this.pos++;
      if (ch === "'") out += this.singleQuoted();
      else if (ch === '"') out += this.doubleQuoted();
      else if (ch === '\\') {
        if (this.pos < this.text.length) out += this.text[this.pos++];
      } else if (ch === '$') out += this.variable();
      else out += ch;
    }
    if (stopAt !== undefined) throw new Error(`missing '${stopAt}' in ${this.text}`);
    return out;
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.pos);
    if (end < 0) throw new Error(`unexpected end of statement while looking for matching single-quote`);
    const out = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++];
      if (ch === '"') return out;
      if (ch === '\\' && this.pos < this.text.length && ['"', '$', '\\'].includes(this.text[this.pos])) {
        out += this.text[this.pos++];
      } else if (ch === '$') out += this.variable();
      else out += ch;
    }
    throw new Error('unexpected end of statement while looking for matching double-quote');
  }

  private variable(): string {
    const next = this.text[this.pos];
    if (next === '{') {
      this.pos++;
      const name = this.readName();
      if (name === '') throw new Error(`bad substitution in ${this.text}`);
      const value = this.lookup(name);
      if (this.text[this.pos] === '}') {
        this.pos++;
        return value ?? '';
      }
      const colon = this.text[this.pos] === ':';
      if (colon) this.pos++;
      const modifier = this.text[this.pos++];
      if (modifier !== '-' && modifier !== '+') throw new Error(`unsupported modifier (${modifier}) in substitution`);
      const word = this.run('}');
      this.pos++; // the closing brace
      const set = colon ? value !== undefined && value !== '' : value !== undefined;
      if (modifier === '-') return set ? (value as string) : word;
      return set ? word : '';
    }
    const name = this.readName();
    if (name === '') return '$';
    return this.lookup(name) ?? '';
  }

  private readName(): string {
    const match = /^[A-Za-z0-9_]+/.exec(this.text.slice(this.pos));
    if (!match) return '';
    this.pos += match[0].length;
    return match[0];
  }
}

/** `["a","b"]` → ['a','b']; undefined when the text is not a JSON array of strings. */
export function parseJsonArray(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed as string[];
  } catch {
    // not JSON: shell form
  }
  return undefined;
}

export interface KeyValue {
  key: string;
  value: string;
}

/**
 * ENV and LABEL arguments: `k=v k2="v 2"` or the legacy `key value with spaces` form; keys and
 * values are expanded against `lookup` (the environment before this instruction).
 */
export function parseKeyValues(instruction: string, args: string, lookup: EnvLookup): KeyValue[] {
  const words = splitWords(args);
  if (words.length === 0) throw new Error(`${instruction} requires at least one argument`);
  if (!words[0].includes('=')) {
    const legacy = /^(\S+)\s+([\s\S]*)$/.exec(args.trim());
    if (!legacy) throw new Error(`${instruction} must have two arguments`);
    return [{ key: expandWord(legacy[1], lookup), value: expandWord(legacy[2], lookup) }];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    return { key: expandWord(word.slice(0, eq), lookup), value: expandWord(word.slice(eq + 1), lookup) };
  });
}
