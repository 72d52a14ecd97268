/**
 * Shared reply texts and argument parsers used by every command family.
 *
 * Invariant: error texts are Redis 7's, byte for byte; integer parsing follows Redis's
 * string2ll (no '+', no spaces, no leading zeros) and float parsing its strtold rules.
 */
import type { Client } from "../server/client.ts";
import { EMBSTR_MAX, type Value } from "../store/values.ts";

/** Redis's error texts. */
export const ERR = {
  syntax: "ERR syntax error",
  notInteger: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  wrongType: "WRONGTYPE Operation against a key holding the wrong kind of value",
  noSuchKey: "ERR no such key",
  overflow: "ERR increment or decrement would overflow",
  dbIndex: "ERR DB index is out of range",
  outOfRange: "ERR index out of range",
  nan: "ERR increment would produce NaN or Infinity",
} as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Parses a signed 64-bit integer as Redis's string2ll does; null when invalid. */
export function parseI64(s: string): bigint | null {
  if (s.length === 0 || s.length > 20) return null;
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/** Parses an integer argument that must fit a JS safe integer; null when invalid. */
export function parseIntArg(s: string): number | null {
  const n = s.length <= 15 ? fastInt(s) : null; // 15 digits always fit a safe integer
  if (n !== null) return n;
  const b = parseI64(s);
  if (b === null || b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) return null;
  return Number(b);
}

function fastInt(s: string): number | null {
  const len = s.length;
  if (len === 0) return null;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    if (len === 1) return null;
    neg = true;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return len === i + 1 && !neg ? 0 : null;
  let v = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/** Parses an integer argument or replies with `error` (default: not an integer) and returns null. */
export function intArg(c: Client, s: string, error: string = ERR.notInteger): number | null {
  const n = parseIntArg(s);
  if (n === null) c.w.error(error);
  return n;
}

/**
 * Parses a double the way Redis's string2ld/strtod accepts it: decimal or exponent forms,
 * `inf`, `+inf`, `-inf`, `infinity`; no spaces, no NaN. Null when invalid.
 */
export function parseDouble(s: string): number | null {
  if (s.length === 0 || s.length > 5120) return null;
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) {
    if (/^[+-]?0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s, 16);
    return null;
  }
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

/** Looks up `key` for reading, counting keyspace hits and misses. */
export function lookupRead(c: Client, key: string): Value | undefined {
  const v = c.slice(key).get(key);
  if (v === undefined) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  return v;
}

/** Upper-cases an option argument for comparisons. */
export function opt(s: string): string {
  return s.toUpperCase();
}

/**
 * Parses a blocking timeout given in seconds (BLPOP, BZPOPMIN, ...) as Redis 7.0 does:
 * ms = ceil(seconds × 1000); 0 waits forever. Replies with Redis's error and returns null
 * when the text is not a number, or when the result is negative or overflows a 64-bit
 * integer (7.0 reports both as "negative", `inf` included).
 */
export function parseBlockTimeout(c: Client, s: string): number | null {
  const secs = parseDouble(s);
  if (secs === null || Number.isNaN(secs)) {
    c.w.error("ERR timeout is not a float or out of range");
    return null;
  }
  const ms = Math.ceil(secs * 1000);
  if (!(ms >= 0 && ms < 2 ** 63)) {
    c.w.error("ERR timeout is negative");
    return null;
  }
  return ms === 0 ? 0 : ms; // -0 (from "-0.0001") waits forever, like 0
}

const ULONG_MAX = 2n ** 64n - 1n;

/**
 * Parses a SCAN-family cursor as Redis's parseScanCursorOrReply (strtoul): optional sign,
 * decimal digits, no leading space, at most 2^64-1; "" is 0 and "-n" wraps. Null when invalid
 * (the caller replies `ERR invalid cursor`).
 */
export function parseScanCursor(s: string): bigint | null {
  if (s === "") return 0n;
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2]);
  if (v > ULONG_MAX) return null;
  return m[1] === "-" && v !== 0n ? ULONG_MAX + 1n - v : v;
}

/** Items per record when a computed value is journaled as a DEL plus batched add commands. */
const REPLACE_BATCH = 1024;

/**
 * The deterministic records that make `key` hold exactly a computed collection, as Dragonfly
 * journals a STORE-style command: `DEL key`, then `add key items...` in batches of 1024
 * elements (`step` arguments per element, e.g. 2 for score/member pairs). Each record touches
 * only `key`, so it lives on one shard's journal; an empty `items` leaves just the DEL.
 */
export function replaceRecords(add: string, key: string, items: readonly string[], step = 1): string[][] {
  const records: string[][] = [["DEL", key]];
  const per = REPLACE_BATCH * step;
  for (let i = 0; i < items.length; i += per) records.push([add, key, ...items.slice(i, i + per)]);
  return records;
}

/**
 * The deterministic records that make `key` hold the raw string `value` (the result of BITOP or
 * PFMERGE, recorded by value as Dragonfly journals them): `SET key value [KEEPTTL]`, then, when
 * `value` is short enough that SET alone would give an `int` or `embstr` object, `APPEND key ""`,
 * which makes the replica's string raw as Redis's own replica of the original command would
 * have it (OBJECT ENCODING).
 */
export function rawStringRecords(key: string, value: string, keepTtl: boolean): string[][] {
  const set = keepTtl ? ["SET", key, value, "KEEPTTL"] : ["SET", key, value];
  return value.length > EMBSTR_MAX ? [set] : [set, ["APPEND", key, ""]];
}

/** Longest sentinel member leaveCompactRecords writes (beyond it, the replica may stay compact). */
const MAX_SENTINEL = 1 << 16;

/**
 * Records that move a replica's compact set, hash or sorted set at `key` to its big encoding
 * (hashtable, skiplist) without changing its contents: a member that cannot stay compact (a
 * non-integer for an intset; one longer than `maxListpackValue`, the hash or zset
 * *-max-listpack-value, otherwise) added and removed at once. Used where this server converted
 * a value in a way its recorded form does not carry (Redis never converts back). Empty when the
 * sentinel would be unreasonably long. Assumes the replica's thresholds are this server's.
 */
export function leaveCompactRecords(kind: "set" | "hash" | "zset", key: string, maxListpackValue: number): string[][] {
  if (kind === "set") return [["SADD", key, "x"], ["SREM", key, "x"]];
  if (maxListpackValue + 1 > MAX_SENTINEL) return [];
  const sentinel = "\x00".repeat(maxListpackValue + 1);
  return kind === "hash"
    ? [["HSET", key, sentinel, ""], ["HDEL", key, sentinel]]
    : [["ZADD", key, "0", sentinel], ["ZREM", key, sentinel]];
}
