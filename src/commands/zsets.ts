/**
 * The sorted-set command family: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZCOUNT,
 * ZLEXCOUNT, the ZRANGE family and ZRANGESTORE, ZRANK/ZREVRANK, ZREMRANGEBY*, ZPOPMIN/ZPOPMAX,
 * ZMPOP, the blocking BZPOPMIN/BZPOPMAX/BZMPOP, ZUNION/ZINTER/ZDIFF and their STORE forms,
 * ZINTERCARD, ZRANDMEMBER and ZSCAN. Also the helpers geo.ts and sort.ts share (strtod
 * parsing, typed lookups, storing a computed set).
 *
 * Invariants: replies, error texts and keyspace events are Redis 7.0's (ZSCAN's cursor is a
 * rank count, see zscanCommand); a set is mutated only after `getForWrite` on its key, and
 * only when something really changes (so unchanged sets record no write and touch no WATCH);
 * emptied sets are deleted; the listpack flag follows Redis's conversion rules (and a
 * listpack stores -0 as 0, as Redis's listpack does).
 */
import { command, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { ERR, lookupRead, parseBlockTimeout, parseI64, parseScanCursor, replaceRecords } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { ZSetValue } from "../store/types/zset.ts";
import { SetValue } from "../store/types/set.ts";
import type { Value } from "../store/values.ts";
import { StringMap } from "../store/string_map.ts";
import { globMatch } from "../util/glob.ts";
import { formatDouble } from "../resp/writer.ts";

// ---------------------------------------------------------------------------------------
// Number parsing shared with geo.ts and sort.ts
// ---------------------------------------------------------------------------------------

/** Result of a C `strtod` call: the value, where parsing stopped, and whether errno was ERANGE. */
export interface StrtodResult {
  /** Parsed value (0 when nothing was converted). */
  value: number;
  /** Index just past the parsed text; 0 when nothing was converted. */
  end: number;
  /** True when glibc would set ERANGE (overflow to ±inf, or underflow to 0). */
  erange: boolean;
}

function isCSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Emulates glibc `strtod` on a latin1 string: leading whitespace, sign, decimal and hex
 * forms with exponents, `inf`/`infinity`/`nan`. Decimal conversion is correctly rounded.
 */
export function strtod(s: string): StrtodResult {
  const len = s.length;
  let i = 0;
  while (i < len && isCSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (i < len && (s[i] === "+" || s[i] === "-")) {
    neg = s[i] === "-";
    i++;
  }
  const rest = s.slice(i, i + 8).toLowerCase();
  if (rest.startsWith("inf")) {
    const end = i + (rest === "infinity" ? 8 : 3);
    return { value: neg ? -Infinity : Infinity, end, erange: false };
  }
  if (rest.startsWith("nan")) {
    let end = i + 3;
    if (s[end] === "(") {
      let j = end + 1;
      while (j < len && /[0-9A-Za-z_]/.test(s[j])) j++;
      if (s[j] === ")") end = j + 1;
    }
    return { value: NaN, end, erange: false };
  }
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    const hex = parseHexFloat(s, i + 2, neg);
    if (hex !== null) return hex;
  }
  const start = i;
  let digits = 0;
  let nonZero = false;
  while (i < len && isDigit(s.charCodeAt(i))) {
    if (s[i] !== "0") nonZero = true;
    i++;
    digits++;
  }
  if (i < len && s[i] === ".") {
    i++;
    while (i < len && isDigit(s.charCodeAt(i))) {
      if (s[i] !== "0") nonZero = true;
      i++;
      digits++;
    }
  }
  if (digits === 0) return { value: 0, end: 0, erange: false };
  if (i < len && (s[i] === "e" || s[i] === "E")) {
    let j = i + 1;
    if (j < len && (s[j] === "+" || s[j] === "-")) j++;
    if (j < len && isDigit(s.charCodeAt(j))) {
      while (j < len && isDigit(s.charCodeAt(j))) j++;
      i = j;
    }
  }
  const magnitude = Number(s.slice(start, i));
  const value = neg ? -magnitude : magnitude;
  return { value, end: i, erange: outOfRange(magnitude, nonZero) };
}

/** glibc's ERANGE rule: overflow to infinity, or a nonzero input that underflows (subnormal or 0). */
function outOfRange(magnitude: number, nonZero: boolean): boolean {
  return magnitude === Infinity || (nonZero && magnitude < 2.2250738585072014e-308);
}

/** Parses the hex part of a `0x` float from `i`; null when no hex digit follows (then "0" parses). */
function parseHexFloat(s: string, i: number, neg: boolean): StrtodResult | null {
  let mant = 0n;
  let digits = 0;
  let scale = 0;
  while (i < s.length && hexValue(s.charCodeAt(i)) >= 0) {
    mant = (mant << 4n) | BigInt(hexValue(s.charCodeAt(i++)));
    digits++;
  }
  if (s[i] === ".") {
    let j = i + 1;
    let frac = 0;
    while (j < s.length && hexValue(s.charCodeAt(j)) >= 0) {
      mant = (mant << 4n) | BigInt(hexValue(s.charCodeAt(j++)));
      frac++;
    }
    if (digits + frac > 0) {
      i = j;
      digits += frac;
      scale = -4 * frac;
    }
  }
  if (digits === 0) return null;
  if (s[i] === "p" || s[i] === "P") {
    let j = i + 1;
    let eneg = false;
    if (s[j] === "+" || s[j] === "-") eneg = s[j++] === "-";
    if (j < s.length && isDigit(s.charCodeAt(j))) {
      let e = 0;
      while (j < s.length && isDigit(s.charCodeAt(j))) e = Math.min(1e6, e * 10 + s.charCodeAt(j++) - 48);
      scale += eneg ? -e : e;
      i = j;
    }
  }
  const magnitude = Number(mant) * 2 ** scale;
  const value = neg ? -magnitude : magnitude;
  return { value, end: i, erange: outOfRange(magnitude, mant !== 0n) };
}

/**
 * Parses a double as Redis's getDoubleFromObject does: the whole string, no leading space,
 * not NaN, no overflow or underflow (a literal `inf` is fine). Null when invalid.
 */
export function parseRedisDouble(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) return null;
  if (r.erange && (r.value === 0 || !Number.isFinite(r.value))) return null;
  return r.value;
}

/** Parses a signed 64-bit integer argument (Redis's getLongFromObject) as a JS number; null when invalid. */
export function parseLong(s: string): number | null {
  const v = parseI64(s);
  return v === null ? null : Number(v);
}

// ---------------------------------------------------------------------------------------
// Typed access and storing
// ---------------------------------------------------------------------------------------

/**
 * Reads a sorted set for a read command (counting hits and misses): the set, null when the
 * key is missing, or false after replying WRONGTYPE.
 */
export function readZset(c: Client, key: string): ZSetValue | null | false {
  return asZset(c, lookupRead(c, key));
}

/** Like readZset for write commands (no hit/miss accounting). */
export function writeZset(c: Client, key: string): ZSetValue | null | false {
  return asZset(c, c.slice(key).get(key));
}

function asZset(c: Client, v: Value | undefined): ZSetValue | null | false {
  if (v === undefined) return null;
  if (v instanceof ZSetValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

/** Redis's listpack limits for sorted sets, from CONFIG. */
function limits(c: Client): [entries: number, value: number] {
  const cfg = c.server.config;
  return [cfg.num("zset-max-listpack-entries"), cfg.num("zset-max-listpack-value")];
}

/**
 * Adds a new member the way Redis's zsetAdd does: converts a listpack that would outgrow its
 * limits to a skiplist first, and stores -0 as 0 in a listpack.
 */
export function zsetInsert(c: Client, z: ZSetValue, member: string, score: number): void {
  // A set converted here only is still a listpack on replicas, which convert it themselves.
  if (z.listpack || z.listpackOnReplicas) {
    const [entries, value] = limits(c);
    if (z.size() + 1 > entries || member.length > value) z.listpack = false;
    else if (score === 0 && z.listpack) score = 0;
  }
  z.insert(member, score);
}

/** Changes an existing member's score (listpacks store -0 as 0). */
export function zsetUpdate(z: ZSetValue, member: string, oldScore: number, newScore: number): void {
  if (z.listpack && newScore === 0) newScore = 0;
  z.update(member, oldScore, newScore);
}

/** Builds a set from unsorted unique entries, with the encoding Redis gives a set built whole. */
export function buildZset(c: Client, members: string[], scores: number[]): ZSetValue {
  const order = members.map((_, i) => i);
  order.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    if (sa !== sb) return sa < sb ? -1 : 1;
    const ma = members[a];
    const mb = members[b];
    return ma < mb ? -1 : ma > mb ? 1 : 0;
  });
  const [entries, value] = limits(c);
  let longest = 0;
  for (const m of members) if (m.length > longest) longest = m.length;
  const listpack = members.length <= entries && longest <= value;
  const sortedMembers = order.map((i) => members[i]);
  const sortedScores = order.map((i) => (listpack && scores[i] === 0 ? 0 : scores[i]));
  const z = ZSetValue.fromSorted(sortedMembers, sortedScores);
  z.listpack = listpack;
  return z;
}

/**
 * Stores a computed set under `dst` (replacing any value and TTL) and replies with its size;
 * an empty result deletes `dst` instead. Emits `event` (or `del`) as Redis does. Records
 * `DEL dst` + batched `ZADD dst score member ...` (scores round-trip exactly), as Dragonfly
 * journals a STORE command: every record touches only `dst`.
 */
export function storeZsetResult(c: Client, dst: string, members: string[], scores: number[], event: string): void {
  const slice = c.slice(dst);
  const n = members.length;
  if (n > 0) {
    slice.set(dst, buildZset(c, members, scores));
    c.w.int(n);
    c.server.notify("z", event, dst, c.db);
    c.server.blocking.signal(c.db, dst);
  } else {
    c.w.int(0);
    if (slice.delete(dst)) c.server.notify("g", "del", dst, c.db);
  }
  const pairs: string[] = new Array(2 * n);
  for (let i = 0; i < n; i++) {
    pairs[2 * i] = formatDouble(scores[i]);
    pairs[2 * i + 1] = members[i];
  }
  propagateAs(...replaceRecords("ZADD", dst, pairs, 2));
}

/** Deletes `key` if its set became empty, emitting `del`; returns whether it did. */
function deleteIfEmpty(c: Client, key: string, z: ZSetValue): boolean {
  if (z.size() !== 0) return false;
  c.slice(key).delete(key);
  return true;
}

// ---------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------

/** A parsed score range (zslParseRange). */
interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** Parses one score bound the way zslParseRange does (strtod, optional '('); null when invalid. */
function parseScoreBound(s: string): [number, boolean] | null {
  const ex = s.charCodeAt(0) === 40; // '('
  const text = ex ? s.slice(1) : s;
  const r = strtod(text);
  // C checks that strtod stopped at the terminating NUL: "" converts to 0, "  " does not.
  if (r.end !== text.length || Number.isNaN(r.value)) return null;
  return [r.value, ex];
}

/** Parses min and max score bounds; null when either is invalid. */
function parseScoreRange(minArg: string, maxArg: string): ScoreRange | null {
  const lo = parseScoreBound(minArg);
  const hi = parseScoreBound(maxArg);
  if (lo === null || hi === null) return null;
  return { min: lo[0], minex: lo[1], max: hi[0], maxex: hi[1] };
}

/** One lex bound: -inf (`-`), +inf (`+`), or a member with inclusive/exclusive flag. */
type LexBound = { kind: "min" } | { kind: "max" } | { kind: "item"; value: string; ex: boolean };

/** Parses a lex bound (`-`, `+`, `[x`, `(x`); null when invalid. */
function parseLexBound(s: string): LexBound | null {
  if (s === "-") return { kind: "min" };
  if (s === "+") return { kind: "max" };
  if (s[0] === "[") return { kind: "item", value: s.slice(1), ex: false };
  if (s[0] === "(") return { kind: "item", value: s.slice(1), ex: true };
  return null;
}

/** Rank of the first entry at or above a lex lower bound. */
function lexFirst(z: ZSetValue, b: LexBound): number {
  if (b.kind === "min") return 0;
  if (b.kind === "max") return z.size();
  return z.firstRankByLex(b.value, b.ex);
}

/** Rank of the last entry at or below a lex upper bound (-1 when none). */
function lexLast(z: ZSetValue, b: LexBound): number {
  if (b.kind === "max") return z.size() - 1;
  if (b.kind === "min") return -1;
  return z.lastRankByLex(b.value, b.ex);
}

/** True when `m` is at or above the lower bound `b`. */
function lexGteMin(m: string, b: LexBound): boolean {
  if (b.kind !== "item") return b.kind === "min";
  return b.ex ? m > b.value : m >= b.value;
}

/** True when `m` is at or below the upper bound `b`. */
function lexLteMax(m: string, b: LexBound): boolean {
  if (b.kind !== "item") return b.kind === "max";
  return b.ex ? m < b.value : m <= b.value;
}

/** True when no member can lie between `lo` and `hi` (Redis compares the bounds first). */
function emptyLexRange(lo: LexBound, hi: LexBound): boolean {
  if (lo.kind === "max" || hi.kind === "min") return true;
  if (lo.kind === "min" || hi.kind === "max") return false;
  return lo.value > hi.value || (lo.value === hi.value && (lo.ex || hi.ex));
}

/**
 * The run a lex range selects, after LIMIT `offset`/`limit` (-1: no limit). Lex ranges are
 * meant for members that share one score; for a set whose scores differ the answer is Redis's
 * where Redis's is defined. A listpack set is walked as Redis walks a listpack: it is empty
 * unless the first entry is ≤ max and the last ≥ min; a forward run starts at the first entry
 * ≥ min (a reverse one at the last ≤ max), skips `offset` entries unchecked, and ends at the
 * first entry past max (below min). A skiplist set gives the entries between the ranks of the
 * two bounds (Redis's own answer then depends on its skiplist's random levels).
 */
function lexRun(z: ZSetValue, lo: LexBound, hi: LexBound, reverse: boolean, offset: number, limit: number): RankRun {
  const none = { start: 0, count: 0, reverse };
  if (!z.listpack) return boundedRun(lexFirst(z, lo), lexLast(z, hi), reverse, offset, limit);
  const n = z.size();
  if (n === 0 || offset < 0 || emptyLexRange(lo, hi)) return none;
  const members: string[] = [];
  z.collect(members, []);
  if (!lexGteMin(members[n - 1], lo) || !lexLteMax(members[0], hi)) return none;
  let count = 0;
  if (!reverse) {
    let first = 0;
    while (first < n && !lexGteMin(members[first], lo)) first++;
    if (first === n || !lexLteMax(members[first], hi)) return none;
    const start = first + offset;
    while (start + count < n && count !== limit && lexLteMax(members[start + count], hi)) count++;
    return count === 0 ? none : { start, count, reverse };
  }
  let last = n - 1;
  while (last >= 0 && !lexLteMax(members[last], hi)) last--;
  if (last < 0 || !lexGteMin(members[last], lo)) return none;
  const start = last - offset;
  while (start - count >= 0 && count !== limit && lexGteMin(members[start - count], lo)) count++;
  return count === 0 ? none : { start, count, reverse };
}

/** A contiguous run of ranks to emit: `count` entries from `start`, walking down when `reverse`. */
interface RankRun {
  start: number;
  count: number;
  reverse: boolean;
}

/** The run for a rank range (Redis's index sanitizing); count 0 when empty. */
function rankRun(size: number, start: number, end: number, reverse: boolean): RankRun {
  if (start < 0) start = size + start;
  if (end < 0) end = size + end;
  if (start < 0) start = 0;
  if (start > end || start >= size) return { start: 0, count: 0, reverse };
  if (end >= size) end = size - 1;
  const count = end - start + 1;
  return { start: reverse ? size - 1 - start : start, count, reverse };
}

/** The run between two ranks [first, last] after LIMIT offset/count. */
function boundedRun(first: number, last: number, reverse: boolean, offset: number, limit: number): RankRun {
  let count = last - first + 1;
  if (count <= 0 || offset < 0) return { start: 0, count: 0, reverse };
  count -= offset;
  if (limit >= 0 && limit < count) count = limit;
  if (count <= 0) return { start: 0, count: 0, reverse };
  return { start: reverse ? last - offset : first + offset, count, reverse };
}

/** Writes entries of a run as a ZRANGE-style reply (RESP3 WITHSCORES pairs as arrays). */
function replyRun(c: Client, z: ZSetValue, run: RankRun, withScores: boolean): void {
  const w = c.w;
  if (withScores && w.proto === 2) w.array(run.count * 2);
  else w.array(run.count);
  if (run.count === 0) return;
  if (!withScores) {
    z.walk(run.start, run.count, run.reverse, (m) => w.bulk(m));
  } else if (w.proto === 3) {
    z.walk(run.start, run.count, run.reverse, (m, s) => {
      w.array(2);
      w.bulk(m);
      w.double(s);
    });
  } else {
    z.walk(run.start, run.count, run.reverse, (m, s) => {
      w.bulk(m);
      w.double(s);
    });
  }
}

// ---------------------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM
// ---------------------------------------------------------------------------------------

const NAN_SCORE = "ERR resulting score is not a number (NaN)";

function zaddGeneric(c: Client, args: string[], incrOnly: boolean): void {
  const key = args[1];
  let nx = false, xx = false, gt = false, lt = false, ch = false, incr = incrOnly;
  let i = 2;
  if (!incrOnly) {
    for (; i < args.length; i++) {
      // Every option starts with a letter; a score (digits, sign, dot, "inf") rarely does, and
      // is then not lower-cased only to be compared with the options.
      const c0 = args[i].charCodeAt(0) | 0x20;
      if (c0 < 0x61 || c0 > 0x7a) break;
      const o = args[i].toLowerCase();
      if (o === "nx") nx = true;
      else if (o === "xx") xx = true;
      else if (o === "gt") gt = true;
      else if (o === "lt") lt = true;
      else if (o === "ch") ch = true;
      else if (o === "incr") incr = true;
      else break;
    }
  }
  const pairs = args.length - i;
  if (pairs === 0 || pairs % 2 !== 0) return c.w.error(ERR.syntax);
  const elements = pairs / 2;
  if (nx && xx) return c.w.error("ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    return c.w.error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 1) return c.w.error("ERR INCR option supports a single increment-element pair");
  const scores: number[] = new Array(elements);
  for (let j = 0; j < elements; j++) {
    const s = parseRedisDouble(args[i + j * 2]);
    if (s === null) return c.w.error(ERR.notFloat);
    scores[j] = s;
  }
  const slice = c.slice(key);
  let z = writeZset(c, key);
  if (z === false) return;
  if (z === null) {
    if (xx) return incr ? c.w.nil() : c.w.int(0);
    z = new ZSetValue();
    const [entries, value] = limits(c);
    if (entries === 0 || value < args[i + 1].length) z.listpack = false;
    slice.set(key, z);
  }
  let added = 0, updated = 0, processed = 0;
  let touched = false;
  let lastScore = 0;
  for (let j = 0; j < elements; j++) {
    const member = args[i + j * 2 + 1];
    let score = scores[j];
    const cur = z.score(member);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) return c.w.error(NAN_SCORE);
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      lastScore = score;
      processed++;
      // As Redis compares doubles: 0 and -0 are the same score, and the stored one stays.
      if (score !== cur) {
        if (!touched) slice.getForWrite(key), touched = true;
        zsetUpdate(z, member, cur, score);
        updated++;
      }
    } else {
      if (xx) continue;
      if (!touched) slice.getForWrite(key), touched = true;
      zsetInsert(c, z, member, score);
      lastScore = score;
      added++;
      processed++;
    }
  }
  if (z.size() === 0) slice.delete(key);
  if (added + updated > 0) {
    c.server.notify("z", incr ? "zincr" : "zadd", key, c.db);
    c.server.blocking.signal(c.db, key);
  }
  if (incr) {
    if (processed > 0) c.w.double(lastScore);
    else c.w.nil();
  } else {
    c.w.int(ch ? added + updated : added);
  }
}

/** Runs a ZADD argument vector (GEOADD rewrites itself into one). */
export function zadd(c: Client, args: string[]): void {
  zaddGeneric(c, args, false);
}

function zremCommand(c: Client, args: string[]): void {
  const key = args[1];
  const z = writeZset(c, key);
  if (z === false) return;
  if (z === null) return c.w.int(0);
  const slice = c.slice(key);
  let deleted = 0;
  for (let i = 2; i < args.length; i++) {
    if (!z.has(args[i])) continue;
    if (deleted === 0) slice.getForWrite(key);
    z.remove(args[i]);
    deleted++;
    if (z.size() === 0) break;
  }
  if (deleted > 0) {
    const removed = deleteIfEmpty(c, key, z);
    c.server.notify("z", "zrem", key, c.db);
    if (removed) c.server.notify("g", "del", key, c.db);
  }
  c.w.int(deleted);
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBY*
// ---------------------------------------------------------------------------------------

type RangeKind = "rank" | "score" | "lex";

function zremrangeGeneric(c: Client, args: string[], kind: RangeKind): void {
  const key = args[1];
  let rankStart = 0, rankEnd = 0;
  let score: ScoreRange | null = null;
  let lexMin: LexBound | null = null, lexMax: LexBound | null = null;
  if (kind === "rank") {
    const s = parseLong(args[2]);
    const e = parseLong(args[3]);
    if (s === null || e === null) return c.w.error(ERR.notInteger);
    rankStart = s;
    rankEnd = e;
  } else if (kind === "score") {
    score = parseScoreRange(args[2], args[3]);
    if (score === null) return c.w.error("ERR min or max is not a float");
  } else {
    lexMin = parseLexBound(args[2]);
    lexMax = parseLexBound(args[3]);
    if (lexMin === null || lexMax === null) return c.w.error("ERR min or max not valid string range item");
  }
  const z = writeZset(c, key);
  if (z === false) return;
  if (z === null) return c.w.int(0);
  let first: number, count: number;
  if (kind === "rank") {
    const run = rankRun(z.size(), rankStart, rankEnd, false);
    first = run.start;
    count = run.count;
  } else if (kind === "score") {
    first = z.firstRankByScore(score!.min, score!.minex);
    count = z.lastRankByScore(score!.max, score!.maxex) - first + 1;
  } else {
    const run = lexRun(z, lexMin!, lexMax!, false, 0, -1);
    first = run.start;
    count = run.count;
  }
  if (count <= 0) return c.w.int(0);
  c.slice(key).getForWrite(key);
  z.removeRange(first, count);
  const removed = deleteIfEmpty(c, key, z);
  c.server.notify("z", "zremrangeby" + kind, key, c.db);
  if (removed) c.server.notify("g", "del", key, c.db);
  c.w.int(count);
}

// ---------------------------------------------------------------------------------------
// Reads: ZCARD, ZSCORE, ZMSCORE, ZCOUNT, ZLEXCOUNT, ZRANK
// ---------------------------------------------------------------------------------------

function zcardCommand(c: Client, args: string[]): void {
  const z = readZset(c, args[1]);
  if (z === false) return;
  c.w.int(z === null ? 0 : z.size());
}

function zscoreCommand(c: Client, args: string[]): void {
  const z = readZset(c, args[1]);
  if (z === false) return;
  const s = z === null ? undefined : z.score(args[2]);
  if (s === undefined) c.w.nil();
  else c.w.double(s);
}

function zmscoreCommand(c: Client, args: string[]): void {
  const z = readZset(c, args[1]);
  if (z === false) return;
  c.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const s = z === null ? undefined : z.score(args[i]);
    if (s === undefined) c.w.nil();
    else c.w.double(s);
  }
}

function zcountCommand(c: Client, args: string[]): void {
  const range = parseScoreRange(args[2], args[3]);
  if (range === null) return c.w.error("ERR min or max is not a float");
  const z = readZset(c, args[1]);
  if (z === false) return;
  if (z === null) return c.w.int(0);
  const first = z.firstRankByScore(range.min, range.minex);
  const last = z.lastRankByScore(range.max, range.maxex);
  c.w.int(Math.max(0, last - first + 1));
}

function zlexcountCommand(c: Client, args: string[]): void {
  const lo = parseLexBound(args[2]);
  const hi = parseLexBound(args[3]);
  if (lo === null || hi === null) return c.w.error("ERR min or max not valid string range item");
  const z = readZset(c, args[1]);
  if (z === false) return;
  if (z === null) return c.w.int(0);
  c.w.int(lexRun(z, lo, hi, false, 0, -1).count);
}

function zrankGeneric(c: Client, args: string[], reverse: boolean): void {
  if (args.length > 4 || (args.length === 4 && args[3].toLowerCase() !== "withscore")) {
    return c.w.error(ERR.syntax);
  }
  const withScore = args.length === 4;
  const z = readZset(c, args[1]);
  if (z === false) return;
  const rank = z === null ? -1 : z.rank(args[2]);
  if (rank < 0) return withScore ? c.w.nilArray() : c.w.nil();
  const r = reverse ? z!.size() - 1 - rank : rank;
  if (!withScore) return c.w.int(r);
  c.w.array(2);
  c.w.int(r);
  c.w.double(z!.score(args[2])!);
}

// ---------------------------------------------------------------------------------------
// ZRANGE family
// ---------------------------------------------------------------------------------------

type RangeType = "auto" | "rank" | "score" | "lex";
type Direction = "auto" | "forward" | "reverse";

function zrangeGeneric(
  c: Client,
  args: string[],
  argStart: number,
  store: boolean,
  type: RangeType,
  dir: Direction,
): void {
  const key = args[argStart];
  let minArg = args[argStart + 1];
  let maxArg = args[argStart + 2];
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let limitGiven = false;
  for (let j = argStart + 3; j < args.length; j++) {
    const left = args.length - j - 1;
    const o = args[j].toLowerCase();
    if (!store && o === "withscores") {
      withScores = true;
    } else if (o === "limit" && left >= 2) {
      const off = parseLong(args[j + 1]);
      const lim = parseLong(args[j + 2]);
      if (off === null || lim === null) return c.w.error(ERR.notInteger);
      offset = off;
      limit = lim;
      limitGiven = true;
      j += 2;
    } else if (dir === "auto" && o === "rev") {
      dir = "reverse";
    } else if (type === "auto" && o === "bylex") {
      type = "lex";
    } else if (type === "auto" && o === "byscore") {
      type = "score";
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  if (dir === "auto") dir = "forward";
  if (type === "auto") type = "rank";
  if (limitGiven && limit !== -1 && type === "rank") {
    return c.w.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (withScores && type === "lex") {
    return c.w.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  const reverse = dir === "reverse";
  if (reverse && type !== "rank") [minArg, maxArg] = [maxArg, minArg];
  let rs = 0, re = 0;
  let score: ScoreRange | null = null;
  let lexMin: LexBound | null = null, lexMax: LexBound | null = null;
  if (type === "rank") {
    const s = parseLong(minArg);
    const e = parseLong(maxArg);
    if (s === null || e === null) return c.w.error(ERR.notInteger);
    rs = s;
    re = e;
  } else if (type === "score") {
    score = parseScoreRange(minArg, maxArg);
    if (score === null) return c.w.error("ERR min or max is not a float");
  } else {
    lexMin = parseLexBound(minArg);
    lexMax = parseLexBound(maxArg);
    if (lexMin === null || lexMax === null) return c.w.error("ERR min or max not valid string range item");
  }
  const z = store ? writeZset(c, key) : readZset(c, key);
  if (z === false) return;
  if (z === null) {
    if (store) return storeZsetResult(c, args[1], [], [], "zrangestore");
    return c.w.array(0);
  }
  let run: RankRun;
  if (type === "rank") {
    run = rankRun(z.size(), rs, re, reverse);
  } else if (type === "score") {
    const first = z.firstRankByScore(score!.min, score!.minex);
    const last = z.lastRankByScore(score!.max, score!.maxex);
    run = boundedRun(first, last, reverse, offset, limit);
  } else {
    run = lexRun(z, lexMin!, lexMax!, reverse, offset, limit);
  }
  if (!store) return replyRun(c, z, run, withScores);
  const members: string[] = [];
  const scores: number[] = [];
  z.walk(run.start, run.count, run.reverse, (m, s) => {
    members.push(m);
    scores.push(s);
  });
  storeZsetResult(c, args[1], members, scores, "zrangestore");
}

// ---------------------------------------------------------------------------------------
// Pops: ZPOPMIN/ZPOPMAX, ZMPOP and the blocking forms
// ---------------------------------------------------------------------------------------

/** How a pop reply is shaped. */
interface PopShape {
  /** Emit the key (BZPOP*, ZMPOP, BZMPOP). */
  emitKey: boolean;
  /** Entries as [member, score] pairs (ZMPOP forms always; ZPOP* with COUNT in RESP3). */
  nested: boolean;
}

/**
 * Pops up to `count` entries from the non-empty set under `key` and writes the reply in
 * `shape`, with events and deletion as Redis's genericZpopCommand does.
 */
function popFrom(c: Client, key: string, z: ZSetValue, max: boolean, count: number, shape: PopShape): void {
  const w = c.w;
  const n = Math.min(count, z.size());
  if (shape.emitKey && shape.nested) {
    w.array(2);
    w.bulk(key);
    w.array(n);
  } else if (shape.emitKey) {
    w.array(n * 2 + 1);
    w.bulk(key);
  } else {
    w.array(shape.nested ? n : n * 2);
  }
  const start = max ? z.size() - 1 : 0;
  z.walk(start, n, max, (m, s) => {
    if (shape.nested) w.array(2);
    w.bulk(m);
    w.double(s);
  });
  c.slice(key).getForWrite(key);
  z.removeRange(max ? z.size() - n : 0, n);
  c.server.notify("z", max ? "zpopmax" : "zpopmin", key, c.db);
  if (deleteIfEmpty(c, key, z)) c.server.notify("g", "del", key, c.db);
}

/** The deterministic form of a pop for the journal: ZPOPMIN/ZPOPMAX key [count]. */
function popVector(key: string, max: boolean, count: number | null): string[] {
  const v = [max ? "ZPOPMAX" : "ZPOPMIN", key];
  if (count !== null) v.push(String(count));
  return v;
}

function zpopCommand(c: Client, args: string[], max: boolean): void {
  if (args.length > 3) return c.w.error(ERR.syntax);
  let count = -1;
  if (args.length === 3) {
    const n = parseLong(args[2]);
    if (n === null || n < 0) return c.w.error("ERR value is out of range, must be positive");
    count = n;
  }
  const key = args[1];
  const z = writeZset(c, key);
  if (z === false) return;
  if (z === null || count === 0) return c.w.array(0);
  popFrom(c, key, z, max, count === -1 ? 1 : count, { emitKey: false, nested: c.w.proto === 3 && count !== -1 });
}

/** Parses `numkeys key... MIN|MAX [COUNT n]` from `numkeysIdx`; null after replying an error. */
function parseMpop(
  c: Client,
  args: string[],
  numkeysIdx: number,
): { keys: string[]; max: boolean; count: number } | null {
  const numkeys = parseLong(args[numkeysIdx]);
  if (numkeys === null || numkeys < 1) {
    c.w.error("ERR numkeys should be greater than 0");
    return null;
  }
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= args.length) {
    c.w.error(ERR.syntax);
    return null;
  }
  const where = args[whereIdx].toLowerCase();
  if (where !== "min" && where !== "max") {
    c.w.error(ERR.syntax);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < args.length; j++) {
    const more = args.length - 1 - j;
    if (count === -1 && args[j].toLowerCase() === "count" && more > 0) {
      j++;
      const n = parseLong(args[j]);
      if (n === null || n < 1) {
        c.w.error("ERR count should be greater than 0");
        return null;
      }
      count = n;
    } else {
      c.w.error(ERR.syntax);
      return null;
    }
  }
  return { keys: args.slice(numkeysIdx + 1, whereIdx), max: where === "max", count: count === -1 ? 1 : count };
}

/** Finds the first key holding a non-empty set; replies WRONGTYPE (returning false) on the way. */
function firstPoppable(c: Client, keys: string[]): [string, ZSetValue] | null | false {
  for (const key of keys) {
    const z = writeZset(c, key);
    if (z === false) return false;
    if (z !== null && z.size() > 0) return [key, z];
  }
  return null;
}

function zmpopCommand(c: Client, args: string[]): void {
  const p = parseMpop(c, args, 1);
  if (p === null) return;
  const found = firstPoppable(c, p.keys);
  if (found === false) return;
  if (found === null) return c.w.nilArray();
  popFrom(c, found[0], found[1], p.max, p.count, { emitKey: true, nested: true });
  propagateAs(popVector(found[0], p.max, p.count));
}

/** True when a blocking command must answer at once instead of blocking (inside MULTI/EXEC). */
function cannotBlock(c: Client): boolean {
  return c.multi !== null;
}

function blockingPop(
  c: Client,
  keys: string[],
  timeoutMs: number,
  max: boolean,
  count: number | null,
): void | Promise<void> {
  const shape: PopShape = { emitKey: true, nested: count !== null };
  const found = firstPoppable(c, keys);
  if (found === false) return;
  if (found !== null) {
    popFrom(c, found[0], found[1], max, count ?? 1, shape);
    propagateAs(popVector(found[0], max, count));
    return;
  }
  if (cannotBlock(c)) return c.w.nilArray();
  const db = c.db; // a blocked client cannot SELECT another db meanwhile
  return c.server.blocking.block(c, {
    keys,
    timeoutMs,
    tryServe: () => {
      for (const key of keys) {
        const v = c.server.store.slice(db, key).get(key);
        if (!(v instanceof ZSetValue) || v.size() === 0) continue;
        popFrom(c, key, v, max, count ?? 1, shape);
        c.server.recordWrite(db, popVector(key, max, count));
        return true;
      }
      return false;
    },
    onTimeout: () => c.w.nilArray(),
  });
}

function bzpopCommand(c: Client, args: string[], max: boolean): void | Promise<void> {
  const timeout = parseBlockTimeout(c, args[args.length - 1]);
  if (timeout === null) return;
  return blockingPop(c, args.slice(1, -1), timeout, max, null);
}

function bzmpopCommand(c: Client, args: string[]): void | Promise<void> {
  const timeout = parseBlockTimeout(c, args[1]);
  if (timeout === null) return;
  const p = parseMpop(c, args, 2);
  if (p === null) return;
  return blockingPop(c, p.keys, timeout, p.max, p.count);
}

// ---------------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (and STORE), ZINTERCARD
// ---------------------------------------------------------------------------------------

type SetOp = "union" | "inter" | "diff";
type Aggregate = "sum" | "min" | "max";

/** One input of a set operation: a sorted set, a plain set (scores 1) or a missing key. */
interface OpSource {
  /** Member → score lookup (undefined when absent). */
  score(member: string): number | undefined;
  /** Calls fn for every member with its score. */
  forEach(fn: (member: string, score: number) => void): void;
  /** Cardinality. */
  size: number;
  /** WEIGHTS factor. */
  weight: number;
}

/** Wraps a stored value as an operation source; null for anything but a set or sorted set. */
function opSource(v: Value | undefined): OpSource | null {
  if (v === undefined) return { score: () => undefined, forEach: () => {}, size: 0, weight: 1 };
  if (v instanceof ZSetValue) {
    return { score: (m) => v.score(m), forEach: (fn) => v.forEach(fn), size: v.size(), weight: 1 };
  }
  if (v instanceof SetValue) {
    return {
      score: (m) => (v.has(m) ? 1 : undefined),
      forEach: (fn) => {
        for (let i = 0, n = v.size(); i < n; i++) fn(v.at(i), 1);
      },
      size: v.size(),
      weight: 1,
    };
  }
  return null;
}

function aggregateInto(target: number, value: number, agg: Aggregate): number {
  if (agg === "sum") {
    const t = target + value;
    return Number.isNaN(t) ? 0 : t;
  }
  if (agg === "min") return value < target ? value : target;
  return value > target ? value : target;
}

function setOpGeneric(
  c: Client,
  args: string[],
  dst: string | null,
  numkeysIdx: number,
  op: SetOp,
  cardOnly: boolean,
): void {
  const numkeys = parseLong(args[numkeysIdx]);
  if (numkeys === null) return c.w.error(ERR.notInteger);
  if (numkeys < 1) return c.w.error(`ERR at least 1 input key is needed for '${args[0].toLowerCase()}' command`);
  if (numkeys > args.length - numkeysIdx - 1) return c.w.error(ERR.syntax);
  const sources: OpSource[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < numkeys; i++, j++) {
    const key = args[j];
    const v = dst !== null ? c.slice(key).get(key) : lookupRead(c, key);
    const src = opSource(v);
    if (src === null) return c.w.error(ERR.wrongType);
    sources.push(src);
  }
  let agg: Aggregate = "sum";
  let withScores = false;
  let limit = 0;
  while (j < args.length) {
    const remaining = args.length - j;
    const o = args[j].toLowerCase();
    if (op !== "diff" && !cardOnly && remaining >= numkeys + 1 && o === "weights") {
      j++;
      for (let i = 0; i < numkeys; i++, j++) {
        const wgt = parseRedisDouble(args[j]);
        if (wgt === null) return c.w.error("ERR weight value is not a float");
        sources[i].weight = wgt;
      }
    } else if (op !== "diff" && !cardOnly && remaining >= 2 && o === "aggregate") {
      const a = args[j + 1].toLowerCase();
      if (a !== "sum" && a !== "min" && a !== "max") return c.w.error(ERR.syntax);
      agg = a;
      j += 2;
    } else if (dst === null && !cardOnly && o === "withscores") {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && o === "limit") {
      const l = parseLong(args[j + 1]);
      if (l === null || l < 0) return c.w.error("ERR LIMIT can't be negative");
      limit = l;
      j += 2;
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  // Redis sorts inputs by cardinality (stably) for union and intersection; the order decides
  // how floating-point sums accumulate, so it is kept.
  const ordered = op === "diff" ? sources : [...sources].sort((a, b) => a.size - b.size);
  // A StringMap: a V8 Map would internalize every member it is given.
  const result = new StringMap<number>();
  let cardinality = 0;
  if (op === "inter") {
    const first = ordered[0];
    if (first.size > 0) {
      try {
        first.forEach((m, s0) => {
          let score = first.weight * s0;
          if (Number.isNaN(score)) score = 0;
          let k = 1;
          for (; k < ordered.length; k++) {
            const v = ordered[k].score(m);
            if (v === undefined) break;
            score = aggregateInto(score, v * ordered[k].weight, agg);
          }
          if (k !== ordered.length) return;
          if (cardOnly) {
            cardinality++;
            if (limit > 0 && cardinality >= limit) throw STOP;
          } else {
            result.set(m, score);
          }
        });
      } catch (e) {
        if (e !== STOP) throw e;
      }
    }
  } else if (op === "union") {
    for (const src of ordered) {
      if (src.size === 0) continue;
      src.forEach((m, s0) => {
        let score = src.weight * s0;
        if (Number.isNaN(score)) score = 0;
        const prev = result.get(m);
        result.set(m, prev === undefined ? score : aggregateInto(prev, score, agg));
      });
    }
  } else if (ordered[0].size > 0) {
    ordered[0].forEach((m, s) => {
      for (let k = 1; k < ordered.length; k++) if (ordered[k].score(m) !== undefined) return;
      result.set(m, s);
    });
  }
  if (cardOnly) return c.w.int(cardinality);
  const members = [...result.keys()];
  const scores = [...result.values()];
  if (dst !== null) return storeZsetResult(c, dst, members, scores, `z${op}store`);
  const z = buildZset(c, members, scores);
  replyRun(c, z, { start: 0, count: z.size(), reverse: false }, withScores);
}

/** Sentinel thrown to stop an iteration early. */
const STOP = new Error("stop");

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

function zrandmemberCommand(c: Client, args: string[]): void {
  if (args.length >= 3) {
    const l = parseI64(args[2]);
    if (l === null) return c.w.error(ERR.notInteger);
    if (l < -(2n ** 63n - 1n)) {
      return c.w.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    }
    if (args.length > 4 || (args.length === 4 && args[3].toLowerCase() !== "withscores")) {
      return c.w.error(ERR.syntax);
    }
    const withScores = args.length === 4;
    if (withScores && (l < -(2n ** 62n) || l > 2n ** 62n)) return c.w.error("ERR value is out of range");
    return zrandmemberWithCount(c, args[1], Number(l), withScores);
  }
  const z = readZset(c, args[1]);
  if (z === false) return;
  if (z === null) return c.w.nil();
  c.w.bulk(z.memberAt(randomInt(z.size())));
}

function zrandmemberWithCount(c: Client, key: string, count: number, withScores: boolean): void {
  const z = readZset(c, key);
  if (z === false) return;
  if (z === null || count === 0) return c.w.array(0);
  const w = c.w;
  const size = z.size();
  const emit = (rank: number) => {
    if (withScores && w.proto === 3) w.array(2);
    w.bulk(z.memberAt(rank));
    if (withScores) w.double(z.scoreAt(rank));
  };
  const uniq = count > 0;
  if (!uniq) count = -count;
  if (!uniq || count === 1) {
    w.array(withScores && w.proto === 2 ? count * 2 : count);
    for (let i = 0; i < count; i++) emit(randomInt(size));
    return;
  }
  if (count >= size) {
    // Redis returns the whole set, highest rank first.
    replyRun(c, z, { start: size - 1, count: size, reverse: true }, withScores);
    return;
  }
  // Distinct ranks: a partial Fisher-Yates shuffle over a sparse map of swapped ranks.
  const swapped = new Map<number, number>();
  w.array(withScores && w.proto === 2 ? count * 2 : count);
  for (let i = 0; i < count; i++) {
    const j = i + randomInt(size - i);
    const pick = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    emit(pick);
  }
}

/** Formats a score as a listpack stores it: integers within ±2^62 as integers, else %.17g. */
function listpackScoreText(s: number): string {
  if (Number.isInteger(s) && Math.abs(s) <= 2 ** 62) return BigInt(s).toString();
  return formatDouble(s);
}

function zscanCommand(c: Client, args: string[]): void {
  const parsed = parseScanCursor(args[2]);
  if (parsed === null) return c.w.error("ERR invalid cursor");
  const cursor = parsed > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(parsed);
  const z = readZset(c, args[1]);
  if (z === false) return;
  if (z === null) {
    c.w.array(2);
    c.w.bulk("0");
    return c.w.array(0);
  }
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < args.length; i += 2) {
    const o = args[i].toLowerCase();
    const more = args.length - i;
    if (o === "count" && more >= 2) {
      const n = parseLong(args[i + 1]);
      if (n === null) return c.w.error(ERR.notInteger);
      if (n < 1) return c.w.error(ERR.syntax);
      count = n;
    } else if (o === "match" && more >= 2) {
      pattern = args[i + 1];
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  // A listpack-encoded set is returned whole in one call, as Redis does. A larger one is
  // walked from the highest rank down, `count` ranks per call; the cursor is the number of
  // ranks still to visit. Removing members already returned (the usual ZSCAN + ZREM loop) or
  // not yet reached never makes a member present throughout the scan be missed; inserting
  // below the cursor can, which is the price of a cursor that is a plain integer.
  const size = z.size();
  const remaining = z.listpack || cursor === 0 ? size : Math.min(cursor, size);
  const n = z.listpack ? size : Math.min(count, remaining);
  const next = z.listpack ? 0 : remaining - n;
  const out: string[] = [];
  const text = z.listpack ? listpackScoreText : formatDouble;
  const visit = (m: string, s: number) => {
    if (pattern === null || globMatch(pattern, m)) out.push(m, text(s));
  };
  if (z.listpack) z.walk(0, n, false, visit);
  else if (n > 0) z.walk(remaining - 1, n, true, visit);
  c.w.array(2);
  c.w.bulk(String(next));
  c.w.bulkArray(out);
}

// ---------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------

/** Keys of ZUNIONSTORE-style commands: destination, then numkeys inputs. */
function storeOpKeys(args: string[]): number[] {
  const n = parseLong(args[2] ?? "") ?? 0;
  const out = [1];
  for (let i = 0; i < n && 3 + i < args.length; i++) out.push(3 + i);
  return out;
}

/** Keys of ZUNION-style commands: numkeys at `idx`, then the inputs. */
function numkeysKeys(idx: number): (args: string[]) => number[] {
  return (args) => {
    const n = parseLong(args[idx] ?? "") ?? 0;
    const out: number[] = [];
    for (let i = 0; i < n && idx + 1 + i < args.length; i++) out.push(idx + 1 + i);
    return out;
  };
}

const G = "sorted_set";

/** Commands of the sorted-set family. */
export const zsetCommands: CommandSpec[] = [
  command(
    "zadd",
    -4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Add members or update scores",
    "1.2.0",
    (c, a) => zaddGeneric(c, a, false),
  ),
  command(
    "zincrby",
    4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Increment a member's score",
    "1.2.0",
    (c, a) => zaddGeneric(c, a, true),
  ),
  command("zrem", -3, ["write", "fast"], [1, 1, 1], G, "Remove members", "1.2.0", zremCommand),
  command(
    "zremrangebyscore",
    4,
    ["write"],
    [1, 1, 1],
    G,
    "Remove members in a score range",
    "1.2.0",
    (c, a) => zremrangeGeneric(c, a, "score"),
  ),
  command(
    "zremrangebyrank",
    4,
    ["write"],
    [1, 1, 1],
    G,
    "Remove members in a rank range",
    "2.0.0",
    (c, a) => zremrangeGeneric(c, a, "rank"),
  ),
  command(
    "zremrangebylex",
    4,
    ["write"],
    [1, 1, 1],
    G,
    "Remove members in a lex range",
    "2.8.9",
    (c, a) => zremrangeGeneric(c, a, "lex"),
  ),
  command(
    "zunionstore",
    -4,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    G,
    "Store the union of sorted sets",
    "2.0.0",
    (c, a) => setOpGeneric(c, a, a[1], 2, "union", false),
    { getKeys: storeOpKeys },
  ),
  command(
    "zinterstore",
    -4,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    G,
    "Store the intersection of sorted sets",
    "2.0.0",
    (c, a) => setOpGeneric(c, a, a[1], 2, "inter", false),
    { getKeys: storeOpKeys },
  ),
  command(
    "zdiffstore",
    -4,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    G,
    "Store the difference of sorted sets",
    "6.2.0",
    (c, a) => setOpGeneric(c, a, a[1], 2, "diff", false),
    { getKeys: storeOpKeys },
  ),
  command(
    "zunion",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    G,
    "Union of sorted sets",
    "6.2.0",
    (c, a) => setOpGeneric(c, a, null, 1, "union", false),
    { getKeys: numkeysKeys(1) },
  ),
  command(
    "zinter",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    G,
    "Intersection of sorted sets",
    "6.2.0",
    (c, a) => setOpGeneric(c, a, null, 1, "inter", false),
    { getKeys: numkeysKeys(1) },
  ),
  command(
    "zdiff",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    G,
    "Difference of sorted sets",
    "6.2.0",
    (c, a) => setOpGeneric(c, a, null, 1, "diff", false),
    { getKeys: numkeysKeys(1) },
  ),
  command(
    "zintercard",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    G,
    "Cardinality of an intersection",
    "7.0.0",
    (c, a) => setOpGeneric(c, a, null, 1, "inter", true),
    { getKeys: numkeysKeys(1) },
  ),
  command(
    "zrange",
    -4,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members in a range",
    "1.2.0",
    (c, a) => zrangeGeneric(c, a, 1, false, "auto", "auto"),
  ),
  command(
    "zrangestore",
    -5,
    ["write", "denyoom"],
    [1, 2, 1],
    G,
    "Store a range of members",
    "6.2.0",
    (c, a) => zrangeGeneric(c, a, 2, true, "auto", "auto"),
  ),
  command(
    "zrangebyscore",
    -4,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members in a score range",
    "1.0.5",
    (c, a) => zrangeGeneric(c, a, 1, false, "score", "forward"),
  ),
  command(
    "zrevrangebyscore",
    -4,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members in a score range, high to low",
    "2.2.0",
    (c, a) => zrangeGeneric(c, a, 1, false, "score", "reverse"),
  ),
  command(
    "zrangebylex",
    -4,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members in a lex range",
    "2.8.9",
    (c, a) => zrangeGeneric(c, a, 1, false, "lex", "forward"),
  ),
  command(
    "zrevrangebylex",
    -4,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members in a lex range, high to low",
    "2.8.9",
    (c, a) => zrangeGeneric(c, a, 1, false, "lex", "reverse"),
  ),
  command(
    "zrevrange",
    -4,
    ["readonly"],
    [1, 1, 1],
    G,
    "Members in a rank range, high to low",
    "1.2.0",
    (c, a) => zrangeGeneric(c, a, 1, false, "rank", "reverse"),
  ),
  command("zcount", 4, ["readonly", "fast"], [1, 1, 1], G, "Count members in a score range", "2.0.0", zcountCommand),
  command(
    "zlexcount",
    4,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Count members in a lex range",
    "2.8.9",
    zlexcountCommand,
  ),
  command("zcard", 2, ["readonly", "fast"], [1, 1, 1], G, "Number of members", "1.2.0", zcardCommand),
  command("zscore", 3, ["readonly", "fast"], [1, 1, 1], G, "Score of a member", "1.2.0", zscoreCommand),
  command("zmscore", -3, ["readonly", "fast"], [1, 1, 1], G, "Scores of members", "6.2.0", zmscoreCommand),
  command(
    "zrank",
    -3,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Rank of a member",
    "2.0.0",
    (c, a) => zrankGeneric(c, a, false),
  ),
  command(
    "zrevrank",
    -3,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Rank of a member, high to low",
    "2.0.0",
    (c, a) => zrankGeneric(c, a, true),
  ),
  command(
    "zpopmin",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    G,
    "Remove and return the lowest members",
    "5.0.0",
    (c, a) => zpopCommand(c, a, false),
  ),
  command(
    "zpopmax",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    G,
    "Remove and return the highest members",
    "5.0.0",
    (c, a) => zpopCommand(c, a, true),
  ),
  command(
    "zmpop",
    -4,
    ["write", "movablekeys"],
    [0, 0, 0],
    G,
    "Pop from the first non-empty sorted set",
    "7.0.0",
    zmpopCommand,
    { getKeys: numkeysKeys(1) },
  ),
  command(
    "bzpopmin",
    -3,
    ["write", "noscript", "blocking", "fast"],
    [1, -2, 1],
    G,
    "Blocking ZPOPMIN",
    "5.0.0",
    (c, a) => bzpopCommand(c, a, false),
  ),
  command(
    "bzpopmax",
    -3,
    ["write", "noscript", "blocking", "fast"],
    [1, -2, 1],
    G,
    "Blocking ZPOPMAX",
    "5.0.0",
    (c, a) => bzpopCommand(c, a, true),
  ),
  command("bzmpop", -5, ["write", "blocking", "movablekeys"], [0, 0, 0], G, "Blocking ZMPOP", "7.0.0", bzmpopCommand, {
    getKeys: numkeysKeys(2),
  }),
  command("zrandmember", -2, ["readonly"], [1, 1, 1], G, "Random members", "6.2.0", zrandmemberCommand),
  command("zscan", -3, ["readonly"], [1, 1, 1], G, "Incrementally iterate members and scores", "2.8.0", zscanCommand),
];
