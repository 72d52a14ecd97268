/**
 * Number ↔ text rules the RDB containers share: which strings are stored as integers, and how
 * zset scores are written and read as text.
 *
 * Invariants: an integer encoding is used only for the canonical decimal form of an int64 (no
 * leading zeros, no '+', no "-0"), so decoding gives back the exact original string; score text
 * round-trips every double exactly (shortest form), with "inf"/"-inf" for infinities.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The int64 value of `s` when `s` is its canonical decimal form, else null. Safe integers come back
 * as numbers, the rest of the int64 range as bigints.
 */
export function canonicalInt64(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  const neg = s.charCodeAt(0) === 45; // '-'
  if (neg) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first < 48 || first > 57) return null;
  if (first === 48) return n === 1 ? 0 : null; // "0" only; no "-0", no leading zeros
  for (let k = i + 1; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return null;
  }
  if (n - i <= 15) return Number(s);
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return null;
  return Number.isSafeInteger(Number(big)) && BigInt(Number(big)) === big ? Number(big) : big;
}

/** Text form of a zset score inside a ziplist/listpack (parsed back by `parseScore`). */
export function formatScore(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Object.is(d, -0)) return "-0";
  return String(d);
}

/**
 * Parses a score stored as text (ziplist/listpack member scores, type-3 zsets) the way strtod
 * does for the forms Redis writes: decimal, exponent, hex, and inf/infinity with an optional sign.
 * Returns NaN when the text is not a number (callers treat that as corruption).
 */
export function parseScore(s: string): number {
  if (s.length === 0) return NaN;
  const v = Number(s);
  if (!Number.isNaN(v)) return v;
  const t = s.toLowerCase();
  if (t === "inf" || t === "+inf" || t === "infinity" || t === "+infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  return NaN;
}
