/**
 * Exact emulation of the x86-64 `long double` (80-bit x87 extended precision) arithmetic that
 * Redis's INCRBYFLOAT performs: `strtold` parsing, one addition, and `%.17Lf` formatting.
 *
 * Invariants: every operation is exact on BigInt rationals and rounds once, to nearest with
 * ties to even, to a 64-bit significand with the x87 exponent range (normal numbers down to
 * 2^-16382, subnormals below, overflow at 2^16384), so results match glibc bit for bit.
 * Only Redis's accepted inputs parse: no leading whitespace, no NaN, no overflow to infinity
 * and no underflow to zero (string2ld's rules).
 */

/** A finite or infinite extended-precision value: `(neg ? -1 : 1) * m * 2^e`, or ±infinity. */
export interface LongDouble {
  /** Sign (also for zero). */
  neg: boolean;
  /** Significand: 0, or below 2^64 (at least 2^63 unless subnormal). */
  m: bigint;
  /** Binary exponent of the significand's last bit. */
  e: number;
  /** True for ±infinity (m and e are then meaningless). */
  inf: boolean;
}

/** Longest input string2ld accepts, exclusive (Redis's MAX_LONG_DOUBLE_CHARS). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;
const SIGNIFICAND_BITS = 64;
/** Exponent of the last significand bit of the smallest subnormal (2^-16445). */
const MIN_EXP = -16382 - (SIGNIFICAND_BITS - 1);
/** Largest exponent of the last significand bit before overflow (values below 2^16384). */
const MAX_EXP = 16384 - SIGNIFICAND_BITS;
const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Integer division rounded to nearest, ties to even. */
function divRoundEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twice = 2n * (n - q * d);
  if (twice > d || (twice === d && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** Rounds the positive rational `n / d * 2^shift` to extended precision. */
function roundRational(neg: boolean, n: bigint, d: bigint, shift: number): LongDouble {
  if (n === 0n) return { neg, m: 0n, e: 0, inf: false };
  // Choose e so that n/d * 2^(shift - e) has 64 or 65 bits before rounding.
  let e = shift + bitLength(n) - bitLength(d) - SIGNIFICAND_BITS;
  let m = 0n;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (e < MIN_EXP) e = MIN_EXP;
    const k = shift - e;
    m = k >= 0 ? divRoundEven(n << BigInt(k), d) : divRoundEven(n, d << BigInt(-k));
    if (m >= TWO_64) {
      e++;
      continue;
    }
    if (m < TWO_63 && e > MIN_EXP && m !== 0n) {
      e--;
      continue;
    }
    break;
  }
  if (m === TWO_64) {
    m = TWO_63;
    e++;
  }
  if (e > MAX_EXP) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m, e, inf: false };
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

const HEX_DIGIT = /[0-9a-f]/i;

/**
 * Parses `s` as Redis's string2ld does (glibc strtold, whole string, no leading space, no
 * NaN, no ±HUGE_VAL or zero on range errors). Returns null when Redis would reject it.
 */
export function parseLongDouble(s: string): LongDouble | null {
  const len = s.length;
  if (len === 0 || len >= MAX_LONG_DOUBLE_CHARS || isSpace(s.charCodeAt(0))) return null;
  let i = 0;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    i = 1;
  }
  const rest = s.slice(i).toLowerCase();
  if (rest === "inf" || rest === "infinity") return { neg, m: 0n, e: 0, inf: true };
  if (rest.startsWith("0x") && (HEX_DIGIT.test(rest[2] ?? "") || (rest[2] === "." && HEX_DIGIT.test(rest[3] ?? "")))) {
    return parseHex(neg, rest.slice(2));
  }
  return parseDecimal(neg, rest);
}

/** Parses the digits, optional point and optional exponent of a decimal or hex number. */
function splitNumber(
  body: string,
  digit: RegExp,
  expMark: string,
): { digits: string; fracLen: number; exp: number } | null {
  let i = 0;
  let digits = "";
  let fracLen = 0;
  while (i < body.length && digit.test(body[i])) digits += body[i++];
  if (body[i] === ".") {
    i++;
    while (i < body.length && digit.test(body[i])) {
      digits += body[i++];
      fracLen++;
    }
  }
  if (digits.length === 0) return null;
  let exp = 0;
  if (i < body.length && body[i] === expMark) {
    i++;
    let expNeg = false;
    if (body[i] === "+" || body[i] === "-") expNeg = body[i++] === "-";
    const start = i;
    while (i < body.length && body.charCodeAt(i) >= 48 && body.charCodeAt(i) <= 57) {
      // Saturate: any exponent this large already overflows or underflows.
      if (exp < 1e9) exp = exp * 10 + body.charCodeAt(i) - 48;
      i++;
    }
    if (i === start) return null;
    if (expNeg) exp = -exp;
  }
  if (i !== body.length) return null;
  return { digits, fracLen, exp };
}

const DECIMAL_DIGIT = /[0-9]/;

function parseDecimal(neg: boolean, body: string): LongDouble | null {
  const parts = splitNumber(body, DECIMAL_DIGIT, "e");
  if (parts === null) return null;
  const stripped = parts.digits.replace(/^0+/, "");
  if (stripped.length === 0) return { neg, m: 0n, e: 0, inf: false };
  const scale = parts.exp - parts.fracLen;
  const magnitude = scale + stripped.length;
  // Above ~1.19e4932 overflows; below ~3.6e-4951 (smallest subnormal) underflows to zero.
  if (magnitude > 4940) return null;
  if (magnitude < -4960) return null;
  const digits = BigInt(stripped);
  const r = scale >= 0
    ? roundRational(neg, digits * 10n ** BigInt(scale), 1n, 0)
    : roundRational(neg, digits, 10n ** BigInt(-scale), 0);
  return r.inf || r.m === 0n ? null : r;
}

function parseHex(neg: boolean, body: string): LongDouble | null {
  const parts = splitNumber(body, HEX_DIGIT, "p");
  if (parts === null) return null;
  const digits = BigInt("0x" + parts.digits);
  if (digits === 0n) return { neg, m: 0n, e: 0, inf: false };
  const shift = parts.exp - 4 * parts.fracLen;
  if (shift + bitLength(digits) > 16400) return null;
  if (shift + bitLength(digits) < -16500) return null;
  const r = roundRational(neg, digits, 1n, shift);
  return r.inf || r.m === 0n ? null : r;
}

/** `a + b` rounded to extended precision (IEEE rules for infinities, exact zeros are +0). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | "nan" {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return "nan";
    return a.inf ? a : b;
  }
  if (a.m === 0n) return b.m === 0n ? { neg: a.neg && b.neg, m: 0n, e: 0, inf: false } : b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const x = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const y = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const sum = x + y;
  if (sum === 0n) return { neg: false, m: 0n, e: 0, inf: false };
  return roundRational(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
}

const TEN_17 = 10n ** 17n;

/**
 * Formats a finite value as Redis's ld2string in LD_STR_HUMAN mode: `%.17Lf`, then trailing
 * zeros (and a trailing point) removed, and `-0` written as `0`.
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  let scaled: bigint;
  if (v.e >= 0) scaled = (v.m << BigInt(v.e)) * TEN_17;
  else scaled = divRoundEven(v.m * TEN_17, 1n << BigInt(-v.e));
  const intPart = (scaled / TEN_17).toString();
  let frac = (scaled % TEN_17).toString().padStart(17, "0").replace(/0+$/, "");
  if (frac.length > 0) frac = "." + frac;
  const out = (v.neg ? "-" : "") + intPart + frac;
  return out === "-0" ? "0" : out;
}
