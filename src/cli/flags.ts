/**
 * A small pflag-compatible flag parser: long and short flags, combined shorthands (`-dit`),
 * `--flag=value` / `--flag value`, `-n5`, `--` and non-interspersed parsing (stop at the first
 * positional, as `run`/`create`/`exec` do). Error texts match pflag's.
 */

export type FlagType = 'bool' | 'string' | 'int' | 'uint' | 'float' | 'duration' | 'list' | 'map';

export interface FlagDef {
  name: string;
  short?: string;
  type: FlagType;
  usage: string;
  /** Word shown after the flag in help; defaults to the type ("string", "int", "list", ...). */
  varName?: string;
  /** Default value (bool, number or string); lists and maps default to empty. */
  default?: string | number | boolean;
  /** Text for "(default X)" in help when it is not derived from `default`. */
  defaultText?: string;
  hidden?: boolean;
  /** pflag MarkDeprecated message: using the flag prints "Flag --x has been deprecated, <msg>". */
  deprecated?: string;
  shorthandDeprecated?: string;
  /** Checks or normalises one value; throw an Error whose message pflag would print. */
  validate?: (value: string) => string;
}

export class FlagError extends Error {}

/** Thrown when `--help` (or deprecated `-h`) is seen. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
  }
}

export class FlagValues {
  constructor(
    private readonly values: Map<string, unknown>,
    readonly changed: ReadonlySet<string>,
  ) {}

  isSet(name: string): boolean {
    return this.changed.has(name);
  }
  bool(name: string): boolean {
    return this.values.get(name) === true;
  }
  string(name: string): string {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : '';
  }
  int(name: string): number {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : 0;
  }
  list(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? (v as string[]) : [];
  }
  map(name: string): Record<string, string> {
    const v = this.values.get(name);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  }
}

export interface ParseResult {
  flags: FlagValues;
  args: string[];
}

export interface ParseOptions {
  /** false: stop at the first positional argument (pflag SetInterspersed(false)). */
  interspersed?: boolean;
  /** Where deprecation notices go. */
  warn?: (msg: string) => void;
}

const PARSE_BOOL: Record<string, boolean> = {
  '1': true, t: true, T: true, TRUE: true, true: true, True: true,
  '0': false, f: false, F: false, FALSE: false, false: false, False: false,
};

export function parseGoBool(s: string): boolean {
  const v = PARSE_BOOL[s];
  if (v === undefined) throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
  return v;
}

/** strconv.ParseInt(s, 0, 64) */
export function parseGoInt(s: string, unsigned = false): number {
  const fn = unsigned ? 'ParseUint' : 'ParseInt';
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[0-9_]+)$/.exec(s);
  if (!m || (unsigned && m[1] !== '')) throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: invalid syntax`);
  const body = m[2].replace(/_/g, '');
  let n: bigint;
  if (/^0[xXbBoO]/.test(body)) n = BigInt(body.toLowerCase());
  else if (body.length > 1 && body.startsWith('0')) n = BigInt('0o' + body.slice(1));
  else n = BigInt(body);
  if (m[1] === '-') n = -n;
  const max = unsigned ? (1n << 64n) - 1n : (1n << 63n) - 1n;
  const min = unsigned ? 0n : -(1n << 63n);
  if (n > max || n < min) throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

/** Go's %q for plain strings (enough for error messages). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Go time.ParseDuration. Returns nanoseconds. */
export function parseGoDuration(s: string): number {
  const orig = s;
  const bad = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') throw bad();
    const unit = units[m[2]];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(m[2])} in duration ${goQuote(orig)}`);
    total += Number.parseFloat(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

export class FlagSet {
  private readonly byName = new Map<string, FlagDef>();
  private readonly byShort = new Map<string, FlagDef>();

  constructor(readonly defs: readonly FlagDef[]) {
    for (const d of defs) {
      this.byName.set(d.name, d);
      if (d.short) this.byShort.set(d.short, d);
    }
  }

  lookup(name: string): FlagDef | undefined {
    return this.byName.get(name);
  }

  private initialValues(): Map<string, unknown> {
    const values = new Map<string, unknown>();
    for (const d of this.defs) {
      switch (d.type) {
        case 'bool':
          values.set(d.name, d.default === true);
          break;
        case 'list':
          values.set(d.name, []);
          break;
        case 'map':
          values.set(d.name, {});
          break;
        case 'string':
          values.set(d.name, typeof d.default === 'string' ? d.default : '');
          break;
        default:
          values.set(d.name, typeof d.default === 'number' ? d.default : 0);
      }
    }
    return values;
  }

  parse(argv: readonly string[], opts: ParseOptions = {}): ParseResult {
    const values = this.initialValues();
    const changed = new Set<string>();
    const positional: string[] = [];
    const interspersed = opts.interspersed ?? true;
    const warn = opts.warn ?? (() => undefined);
    const args = [...argv];
    let helpSeen = false;

    const set = (def: FlagDef, raw: string): void => {
      let value: unknown;
      try {
        value = this.convert(def, raw, values.get(def.name));
      } catch (err) {
        const name = def.short ? `-${def.short}, --${def.name}` : `--${def.name}`;
        throw new FlagError(`invalid argument ${goQuote(raw)} for ${goQuote(name)} flag: ${(err as Error).message}`);
      }
      values.set(def.name, value);
      changed.add(def.name);
      if (def.deprecated) warn(`Flag --${def.name} has been deprecated, ${def.deprecated}`);
    };

    while (args.length > 0) {
      const s = args.shift() as string;
      if (s.length < 2 || s[0] !== '-') {
        if (!interspersed) {
          positional.push(s, ...args);
          break;
        }
        positional.push(s);
        continue;
      }
      if (s[1] === '-') {
        if (s.length === 2) {
          positional.push(...args);
          break;
        }
        const body = s.slice(2);
        if (body.startsWith('-') || body.startsWith('=')) throw new FlagError(`bad flag syntax: ${s}`);
        const eq = body.indexOf('=');
        const name = eq >= 0 ? body.slice(0, eq) : body;
        const def = this.byName.get(name);
        if (!def) {
          if (name === 'help') {
            helpSeen = true;
            continue;
          }
          throw new FlagError(`unknown flag: --${name}`);
        }
        if (eq >= 0) set(def, body.slice(eq + 1));
        else if (def.type === 'bool') set(def, 'true');
        else if (args.length > 0) set(def, args.shift() as string);
        else throw new FlagError(`flag needs an argument: ${s}`);
        continue;
      }
      let shorts = s.slice(1);
      while (shorts.length > 0) {
        const c = shorts[0];
        const def = this.byShort.get(c);
        if (!def) {
          if (c === 'h') {
            helpSeen = true;
            shorts = shorts.slice(1);
            continue;
          }
          throw new FlagError(`unknown shorthand flag: '${c}' in -${shorts}`);
        }
        let value: string;
        if (shorts.length > 2 && shorts[1] === '=') {
          value = shorts.slice(2);
          shorts = '';
        } else if (def.type === 'bool') {
          value = 'true';
          shorts = shorts.slice(1);
        } else if (shorts.length > 1) {
          value = shorts.slice(1);
          shorts = '';
        } else if (args.length > 0) {
          value = args.shift() as string;
          shorts = '';
        } else {
          throw new FlagError(`flag needs an argument: '${c}' in -${shorts}`);
        }
        if (def.shorthandDeprecated) warn(`Flag shorthand -${c} has been deprecated, ${def.shorthandDeprecated}`);
        set(def, value);
      }
    }
    if (helpSeen || (this.byName.get('help')?.type === 'bool' && values.get('help') === true)) {
      throw new HelpRequested();
    }
    return { flags: new FlagValues(values, changed), args: positional };
  }

  private convert(def: FlagDef, raw: string, current: unknown): unknown {
    switch (def.type) {
      case 'bool':
        return parseGoBool(raw);
      case 'string':
        return def.validate ? def.validate(raw) : raw;
      case 'int':
        return parseGoInt(def.validate ? def.validate(raw) : raw);
      case 'uint':
        return parseGoInt(def.validate ? def.validate(raw) : raw, true);
      case 'float': {
        const n = Number(raw);
        if (raw.trim() === '' || Number.isNaN(n)) throw new Error(`strconv.ParseFloat: parsing ${goQuote(raw)}: invalid syntax`);
        return n;
      }
      case 'duration':
        return parseGoDuration(raw);
      case 'list':
        return [...(current as string[]), def.validate ? def.validate(raw) : raw];
      case 'map': {
        const v = def.validate ? def.validate(raw) : raw;
        const eq = v.indexOf('=');
        const next = { ...(current as Record<string, string>) };
        if (eq < 0) next[v] = '';
        else next[v.slice(0, eq)] = v.slice(eq + 1);
        return next;
      }
    }
  }
}

/** A `-h` that only means help (deprecated shorthand) and a hidden `--help`, as docker adds. */
export const HELP_FLAG: FlagDef = {
  name: 'help',
  short: 'h',
  type: 'bool',
  usage: 'Print usage',
  hidden: true,
  shorthandDeprecated: 'use --help',
};
