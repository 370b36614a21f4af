/** Human-readable durations in the wording Docker uses (go-units HumanDuration): "Up 3 seconds", "2 hours ago". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/* go-units HumanSize and the Go fmt `%g` it prints with (strconv's exact, half-to-even rounding). */

/** Exact decimal digits of a finite positive double, as [digits, decimalPointPosition]. */
function exactDigits(x: number): [string, number] {
  const s = x.toPrecision(100);
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s) ?? /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return ['0', 0];
  if (s.includes('e')) {
    const digits = (m[1] + (m[2] ?? '')).replace(/0+$/, '');
    return [digits, Number(m[3]) + 1];
  }
  const intPart = m[1];
  const frac = m[2] ?? '';
  let digits = (intPart + frac).replace(/0+$/, '');
  let dp = intPart.length;
  const lead = /^0*/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(lead);
  dp -= lead;
  return [digits, dp];
}

/** Rounds decimal digits to n significant digits, half to even (Go strconv). */
function roundDigits(digits: string, dp: number, n: number): [string, number] {
  if (digits.length <= n) return [digits, dp];
  const keep = digits.slice(0, n).split('').map(Number);
  const rest = digits.slice(n);
  let up: boolean;
  if (rest[0] > '5') up = true;
  else if (rest[0] < '5') up = false;
  else if (/[1-9]/.test(rest.slice(1))) up = true;
  else up = n > 0 && keep[n - 1] % 2 === 1;
  if (up) {
    let i = n - 1;
    while (i >= 0 && keep[i] === 9) {
      keep[i] = 0;
      i--;
    }
    if (i < 0) {
      keep.unshift(1);
      keep.pop();
      dp++;
    } else {
      keep[i]++;
    }
  }
  return [keep.join('').replace(/0+$/, ''), dp];
}

/** Go fmt "%.{prec}g". */
export function formatG(x: number, prec: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  const neg = x < 0 || Object.is(x, -0);
  if (prec === 0) prec = 1;
  let [digits, dp] = x === 0 ? ['', 0] : exactDigits(Math.abs(x));
  if (x !== 0) [digits, dp] = roundDigits(digits, dp, prec);
  const nd = digits.length;
  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  const exp = dp - 1;
  let out: string;
  if (exp < -4 || exp >= eprec) {
    const p = Math.min(prec, nd) - 1;
    const first = digits[0] ?? '0';
    let frac = digits.slice(1, 1 + p);
    frac = frac.padEnd(p, '0');
    const e = nd === 0 ? 0 : exp;
    const ee = Math.abs(e) < 10 ? `0${Math.abs(e)}` : `${Math.abs(e)}`;
    out = `${first}${p > 0 ? '.' + frac : ''}e${e < 0 ? '-' : '+'}${ee}`;
  } else {
    let p = prec;
    if (p > dp) p = nd;
    const decimals = Math.max(p - dp, 0);
    let intPart: string;
    if (dp <= 0) intPart = '0';
    else intPart = digits.slice(0, dp).padEnd(dp, '0');
    let frac = '';
    for (let i = 0; i < decimals; i++) {
      const idx = dp + i;
      frac += idx >= 0 && idx < nd ? digits[idx] : '0';
    }
    out = intPart + (decimals > 0 ? '.' + frac : '');
  }
  return (neg ? '-' : '') + out;
}

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]];
}

/** units.HumanSizeWithPrecision */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [v, unit] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return formatG(v, precision) + unit;
}

/** units.HumanSize */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** units.BytesSize */
export function bytesSize(size: number): string {
  const [v, unit] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return formatG(v, 4) + unit;
}
