/**
 * The strings command family: SET and its variants, GET and its variants, counters,
 * ranges, APPEND and LCS (Redis's t_string.c).
 *
 * Invariants: a string value is a latin1 JS string (one char per byte); every write goes
 * through the key's DbSlice; writes with relative or non-deterministic effects are recorded
 * in an absolute, unconditional form (SET with options → SET k v [KEEPTTL | PXAT ms], MSETNX → MSET, SETEX →
 * SET k v PXAT ms, GETEX → PEXPIREAT/PERSIST/DEL, GETDEL → DEL, INCRBYFLOAT → SET k result
 * KEEPTTL); keyspace events use Redis's names. The hot commands (GET, SET, INCR, MGET, MSET)
 * avoid option parsing and allocation when they have no options. APPEND and SETRANGE on an
 * existing key (and SETRANGE creating one) record their result as a raw string, INCRBYFLOAT as
 * an embstr-or-raw one (STRING_MADE_*, for OBJECT ENCODING); the others store by value.
 */
import type { Client } from "../server/client.ts";
import type { DbSlice } from "../store/db_slice.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, lookupRead, parseI64 } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from "../util/long_double.ts";
import { STRING_MADE_AS_STRING, STRING_MADE_RAW } from "../store/values.ts";

const OK_REPLY = new TextEncoder().encode("+OK\r\n");
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/** Parses a canonical decimal integer of at most 15 digits (always a safe integer); null otherwise. */
function smallInt(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 15) return null;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    if (len === 1) return null;
    neg = true;
    i = 1;
  }
  if (s.charCodeAt(i) === 48) return len === 1 ? 0 : null;
  let v = 0;
  for (; i < len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** True when the resulting string length is over the proto-max-bulk-len limit (Redis's checkStringLength). */
function tooLong(c: Client, total: number): boolean {
  if (c.isMasterLink || total <= c.server.config.num("proto_max_bulk_len")) return false;
  c.w.error(STRING_TOO_LONG);
  return true;
}

/** Redis's checkAlreadyExpired: an absolute time in the past deletes the key, except on replicas. */
function alreadyExpired(c: Client, whenMs: number): boolean {
  return whenMs <= Date.now() && !c.server.isReplica;
}

// ---------------------------------------------------------------------------------------
// SET family

const FLAG_NX = 1;
const FLAG_XX = 2;
const FLAG_GET = 4;
const FLAG_KEEPTTL = 8;
const FLAG_PERSIST = 16;
const FLAG_EX = 32;
const FLAG_PX = 64;
const FLAG_EXAT = 128;
const FLAG_PXAT = 256;
const ANY_EXPIRE = FLAG_EX | FLAG_PX | FLAG_EXAT | FLAG_PXAT;

/** Options of SET / GETEX after parsing. */
interface StringOptions {
  flags: number;
  /** The raw expire argument, when EX/PX/EXAT/PXAT was given. */
  expire: string | null;
}

/**
 * Parses SET (isSet) or GETEX options starting at argv[3] / argv[2], exactly as Redis's
 * parseExtendedStringArgumentsOrReply does (including which repetitions are accepted).
 */
function parseStringOptions(c: Client, args: string[], start: number, isSet: boolean): StringOptions | null {
  let flags = 0;
  let expire: string | null = null;
  for (let j = start; j < args.length; j++) {
    const opt = args[j].toUpperCase();
    const hasNext = j < args.length - 1;
    if (opt === "NX" && isSet && !(flags & FLAG_XX)) {
      flags |= FLAG_NX;
    } else if (opt === "XX" && isSet && !(flags & FLAG_NX)) {
      flags |= FLAG_XX;
    } else if (opt === "GET" && isSet) {
      flags |= FLAG_GET;
    } else if (opt === "KEEPTTL" && isSet && !(flags & (FLAG_PERSIST | ANY_EXPIRE))) {
      flags |= FLAG_KEEPTTL;
    } else if (opt === "PERSIST" && !isSet && !(flags & (ANY_EXPIRE | FLAG_KEEPTTL))) {
      flags |= FLAG_PERSIST;
    } else if (opt === "EX" && hasNext && !(flags & (FLAG_KEEPTTL | FLAG_PERSIST | FLAG_EXAT | FLAG_PX | FLAG_PXAT))) {
      flags |= FLAG_EX;
      expire = args[++j];
    } else if (opt === "PX" && hasNext && !(flags & (FLAG_KEEPTTL | FLAG_PERSIST | FLAG_EX | FLAG_EXAT | FLAG_PXAT))) {
      flags |= FLAG_PX;
      expire = args[++j];
    } else if (opt === "EXAT" && hasNext && !(flags & (FLAG_KEEPTTL | FLAG_PERSIST | FLAG_EX | FLAG_PX | FLAG_PXAT))) {
      flags |= FLAG_EXAT;
      expire = args[++j];
    } else if (opt === "PXAT" && hasNext && !(flags & (FLAG_KEEPTTL | FLAG_PERSIST | FLAG_EX | FLAG_EXAT | FLAG_PX))) {
      flags |= FLAG_PXAT;
      expire = args[++j];
    } else {
      c.w.error(ERR.syntax);
      return null;
    }
  }
  return { flags, expire };
}

/**
 * Converts an EX/PX/EXAT/PXAT argument to absolute ms (Redis's getExpireMillisecondsOrReply),
 * replying with the error and returning null when it is not a positive, non-overflowing time.
 */
function expireMillis(c: Client, raw: string, flags: number, commandName: string): number | null {
  const v = parseI64(raw);
  if (v === null) {
    c.w.error(ERR.notInteger);
    return null;
  }
  const seconds = (flags & (FLAG_EX | FLAG_EXAT)) !== 0;
  if (v <= 0n || (seconds && v > INT64_MAX / 1000n)) {
    c.w.error(`ERR invalid expire time in '${commandName}' command`);
    return null;
  }
  let ms = seconds ? v * 1000n : v;
  if (flags & (FLAG_EX | FLAG_PX)) ms += BigInt(Date.now());
  if (ms > INT64_MAX) {
    c.w.error(`ERR invalid expire time in '${commandName}' command`);
    return null;
  }
  return Number(ms);
}

/** Replies with the string at `key` (or nil) for SET ... GET; false after a WRONGTYPE error. */
function replyOldValue(c: Client, slice: DbSlice, key: string): boolean {
  const old = slice.get(key);
  if (old === undefined) {
    c.w.nil();
    return true;
  }
  if (typeof old !== "string") {
    c.w.error(ERR.wrongType);
    return false;
  }
  c.w.bulk(old);
  return true;
}

/**
 * The common body of SET, SETNX, SETEX and PSETEX (Redis's setGenericCommand). `okReply` /
 * `abortReply` are written on success / NX-XX abort; null means +OK / nil.
 */
function setGeneric(
  c: Client,
  args: string[],
  key: string,
  value: string,
  opts: StringOptions,
  okReply: "ok" | "one",
  abortReply: "nil" | "zero",
): void {
  const flags = opts.flags;
  let expireAt = 0;
  if (opts.expire !== null) {
    const ms = expireMillis(c, opts.expire, flags, args[0].toLowerCase());
    if (ms === null) return;
    expireAt = ms;
  }
  const slice = c.slice(key);
  if (flags & FLAG_GET) {
    if (!replyOldValue(c, slice, key)) return;
  }
  if (flags & (FLAG_NX | FLAG_XX)) {
    const found = slice.get(key) !== undefined;
    if (((flags & FLAG_NX) && found) || ((flags & FLAG_XX) && !found)) {
      if (!(flags & FLAG_GET)) {
        if (abortReply === "nil") c.w.nil();
        else c.w.int(0);
      }
      return;
    }
  }
  const db = c.db;
  if (opts.expire !== null) {
    slice.set(key, value, expireAt);
    c.server.notify("$", "set", key, db);
    c.server.notify("g", "expire", key, db);
    propagateAs(["SET", key, value, "PXAT", String(expireAt)]);
  } else {
    const keepTtl = (flags & FLAG_KEEPTTL) !== 0;
    slice.set(key, value, keepTtl ? null : undefined);
    c.server.notify("$", "set", key, db);
    // NX/XX held here; the replica applies the effect unconditionally (GET only shaped the reply).
    if (args.length > 3) propagateAs(keepTtl ? ["SET", key, value, "KEEPTTL"] : ["SET", key, value]);
  }
  if (!(flags & FLAG_GET)) {
    if (okReply === "ok") c.w.raw(OK_REPLY);
    else c.w.int(1);
  }
}

function set(c: Client, args: string[]): void {
  if (args.length === 3) {
    const key = args[1];
    c.slice(key).set(key, args[2]);
    c.server.notify("$", "set", key, c.db);
    c.w.raw(OK_REPLY);
    return;
  }
  const opts = parseStringOptions(c, args, 3, true);
  if (opts !== null) setGeneric(c, args, args[1], args[2], opts, "ok", "nil");
}

function setnx(c: Client, args: string[]): void {
  setGeneric(c, args, args[1], args[2], { flags: FLAG_NX, expire: null }, "one", "zero");
}

function setex(c: Client, args: string[]): void {
  setGeneric(c, args, args[1], args[3], { flags: FLAG_EX, expire: args[2] }, "ok", "nil");
}

function psetex(c: Client, args: string[]): void {
  setGeneric(c, args, args[1], args[3], { flags: FLAG_PX, expire: args[2] }, "ok", "nil");
}

// ---------------------------------------------------------------------------------------
// GET family

function get(c: Client, args: string[]): void {
  const v = lookupRead(c, args[1]);
  if (v === undefined) c.w.nil();
  else if (typeof v === "string") c.w.bulk(v);
  else c.w.error(ERR.wrongType);
}

/** GET's reply for GETDEL/GETSET; returns the string, null when absent, undefined after an error. */
function getForReply(c: Client, key: string): string | null | undefined {
  const v = lookupRead(c, key);
  if (v === undefined) {
    c.w.nil();
    return null;
  }
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return undefined;
  }
  c.w.bulk(v);
  return v;
}

function getex(c: Client, args: string[]): void {
  const opts = parseStringOptions(c, args, 2, false);
  if (opts === null) return;
  const key = args[1];
  const v = lookupRead(c, key);
  if (v === undefined) {
    c.w.nil();
    return;
  }
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  let when = 0;
  if (opts.expire !== null) {
    const ms = expireMillis(c, opts.expire, opts.flags, "getex");
    if (ms === null) return;
    when = ms;
  }
  c.w.bulk(v);
  const slice = c.slice(key);
  const db = c.db;
  if ((opts.flags & (FLAG_EXAT | FLAG_PXAT)) && alreadyExpired(c, when)) {
    slice.delete(key);
    propagateAs(["DEL", key]);
    c.server.notify("g", "del", key, db);
  } else if (opts.expire !== null) {
    slice.setExpire(key, when);
    propagateAs(["PEXPIREAT", key, String(when)]);
    c.server.notify("g", "expire", key, db);
  } else if (opts.flags & FLAG_PERSIST) {
    if (slice.getExpire(key) !== undefined) {
      slice.setExpire(key, undefined);
      propagateAs(["PERSIST", key]);
      c.server.notify("g", "persist", key, db);
    }
  }
}

function getdel(c: Client, args: string[]): void {
  const key = args[1];
  const v = getForReply(c, key);
  if (typeof v !== "string") return;
  c.slice(key).delete(key);
  propagateAs(["DEL", key]);
  c.server.notify("g", "del", key, c.db);
}

function getset(c: Client, args: string[]): void {
  const key = args[1];
  if (getForReply(c, key) === undefined) return;
  c.slice(key).set(key, args[2]);
  c.server.notify("$", "set", key, c.db);
  propagateAs(["SET", key, args[2]]);
}

function mget(c: Client, args: string[]): void {
  const n = args.length;
  c.w.array(n - 1);
  for (let i = 1; i < n; i++) {
    const v = lookupRead(c, args[i]);
    if (typeof v === "string") c.w.bulk(v);
    else c.w.nil();
  }
}

function mset(c: Client, args: string[]): void {
  const n = args.length;
  if ((n & 1) === 0) {
    c.w.error(`ERR wrong number of arguments for '${args[0].toLowerCase()}' command`);
    return;
  }
  const db = c.db;
  for (let i = 1; i < n; i += 2) {
    const key = args[i];
    c.slice(key).set(key, args[i + 1]);
    c.server.notify("$", "set", key, db);
  }
  c.w.raw(OK_REPLY);
}

function msetnx(c: Client, args: string[]): void {
  const n = args.length;
  if ((n & 1) === 0) {
    c.w.error(`ERR wrong number of arguments for '${args[0].toLowerCase()}' command`);
    return;
  }
  for (let i = 1; i < n; i += 2) {
    if (c.slice(args[i]).get(args[i]) !== undefined) {
      c.w.int(0);
      return;
    }
  }
  const db = c.db;
  for (let i = 1; i < n; i += 2) {
    const key = args[i];
    c.slice(key).set(key, args[i + 1]);
    c.server.notify("$", "set", key, db);
  }
  // Recorded unconditionally: its parts may be applied shard by shard.
  propagateAs(["MSET", ...args.slice(1)]);
  c.w.int(1);
}

// ---------------------------------------------------------------------------------------
// Lengths, ranges, APPEND

function strlen(c: Client, args: string[]): void {
  const v = lookupRead(c, args[1]);
  if (v === undefined) c.w.int(0);
  else if (typeof v === "string") c.w.int(v.length);
  else c.w.error(ERR.wrongType);
}

function append(c: Client, args: string[]): void {
  const key = args[1];
  const extra = args[2];
  const slice = c.slice(key);
  const v = slice.get(key);
  let total: number;
  if (v === undefined) {
    slice.set(key, extra);
    total = extra.length;
  } else {
    if (typeof v !== "string") {
      c.w.error(ERR.wrongType);
      return;
    }
    if (tooLong(c, v.length + extra.length)) return;
    const next = v + extra;
    slice.replaceValue(key, next, STRING_MADE_RAW);
    total = next.length;
  }
  c.server.notify("$", "append", key, c.db);
  c.w.int(total);
}

/** Clamps a 64-bit index to a range where double arithmetic against string lengths is exact. */
function clampIndex(v: bigint): number {
  const limit = 2n ** 40n;
  return Number(v > limit ? limit : v < -limit ? -limit : v);
}

function getrange(c: Client, args: string[]): void {
  const startArg = parseI64(args[2]);
  const endArg = parseI64(args[3]);
  if (startArg === null || endArg === null) {
    c.w.error(ERR.notInteger);
    return;
  }
  const v = lookupRead(c, args[1]);
  if (v === undefined) {
    c.w.bulk("");
    return;
  }
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  if (startArg < 0n && endArg < 0n && startArg > endArg) {
    c.w.bulk("");
    return;
  }
  const len = v.length;
  let start = clampIndex(startArg);
  let end = clampIndex(endArg);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) c.w.bulk("");
  else c.w.bulk(v.substring(start, end + 1));
}

function setrange(c: Client, args: string[]): void {
  const key = args[1];
  const value = args[3];
  const offsetArg = parseI64(args[2]);
  if (offsetArg === null) {
    c.w.error(ERR.notInteger);
    return;
  }
  if (offsetArg < 0n) {
    c.w.error("ERR offset is out of range");
    return;
  }
  const offset = clampIndex(offsetArg);
  const slice = c.slice(key);
  const v = slice.get(key);
  if (v !== undefined && typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  const old = v ?? "";
  if (value.length === 0) {
    c.w.int(old.length);
    return;
  }
  if (tooLong(c, offset + value.length)) return;
  const head = old.length >= offset ? old.substring(0, offset) : old + "\0".repeat(offset - old.length);
  const next = head + value + old.substring(offset + value.length);
  if (v === undefined) {
    slice.set(key, next);
    slice.setStringMade(key, STRING_MADE_RAW);
  } else slice.replaceValue(key, next, STRING_MADE_RAW);
  c.server.notify("$", "setrange", key, c.db);
  c.w.int(next.length);
}

// ---------------------------------------------------------------------------------------
// Counters

/** Stores a counter result, keeping the key's TTL, and replies with it. */
function storeCounter(c: Client, slice: DbSlice, key: string, existed: boolean, result: number | bigint): void {
  const s = String(result);
  if (existed) slice.replaceValue(key, s);
  else slice.set(key, s);
  c.server.notify("$", "incrby", key, c.db);
  c.w.int(result);
}

/** INCR/DECR/INCRBY/DECRBY with an increment given as a number or (beyond 2^53) a bigint. */
function incrDecr(c: Client, key: string, incr: number | bigint): void {
  const slice = c.slice(key);
  const v = slice.get(key);
  let current: number | null = 0;
  if (v !== undefined) {
    if (typeof v !== "string") {
      c.w.error(ERR.wrongType);
      return;
    }
    current = smallInt(v);
    if (current === null) {
      const big = parseI64(v);
      if (big === null) {
        c.w.error(ERR.notInteger);
        return;
      }
      return incrDecrBig(c, slice, key, true, big, BigInt(incr));
    }
  }
  if (typeof incr === "number") {
    const result = current + incr;
    if (Number.isSafeInteger(result)) return storeCounter(c, slice, key, v !== undefined, result);
  }
  incrDecrBig(c, slice, key, v !== undefined, BigInt(current), BigInt(incr));
}

function incrDecrBig(c: Client, slice: DbSlice, key: string, existed: boolean, current: bigint, incr: bigint): void {
  const result = current + incr;
  if (result > INT64_MAX || result < INT64_MIN) {
    c.w.error(ERR.overflow);
    return;
  }
  storeCounter(c, slice, key, existed, Number.isSafeInteger(Number(result)) ? Number(result) : result);
}

/** Parses an increment argument: a number when it is small, else a bigint; null after an error reply. */
function incrementArg(c: Client, s: string): number | bigint | null {
  const small = smallInt(s);
  if (small !== null) return small;
  const big = parseI64(s);
  if (big === null) c.w.error(ERR.notInteger);
  return big;
}

function incr(c: Client, args: string[]): void {
  incrDecr(c, args[1], 1);
}

function decr(c: Client, args: string[]): void {
  incrDecr(c, args[1], -1);
}

function incrby(c: Client, args: string[]): void {
  const by = incrementArg(c, args[2]);
  if (by !== null) incrDecr(c, args[1], by);
}

function decrby(c: Client, args: string[]): void {
  const by = incrementArg(c, args[2]);
  if (by === null) return;
  if (by === INT64_MIN) {
    c.w.error("ERR decrement would overflow");
    return;
  }
  incrDecr(c, args[1], -by);
}

function incrbyfloat(c: Client, args: string[]): void {
  const key = args[1];
  const slice = c.slice(key);
  const v = slice.get(key);
  if (v !== undefined && typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  const current = v === undefined ? parseLongDouble("0") : parseLongDouble(v);
  const by = current === null ? null : parseLongDouble(args[2]);
  if (current === null || by === null) {
    c.w.error(ERR.notFloat);
    return;
  }
  const sum = addLongDouble(current, by);
  if (sum === "nan" || sum.inf) {
    c.w.error(ERR.nan);
    return;
  }
  const result = formatLongDoubleHuman(sum);
  // Redis makes the result with createStringObject: embstr or raw by length, never int.
  if (v === undefined) {
    slice.set(key, result);
    slice.setStringMade(key, STRING_MADE_AS_STRING);
  } else slice.replaceValue(key, result, STRING_MADE_AS_STRING);
  c.server.notify("$", "incrbyfloat", key, c.db);
  c.w.bulk(result);
  propagateAs(["SET", key, result, "KEEPTTL"]);
}

// ---------------------------------------------------------------------------------------
// LCS

/** One matched range of LCS IDX: [aStart, aEnd], [bStart, bEnd], length. */
type LcsMatch = [number, number, number, number, number];

function lcs(c: Client, args: string[]): void {
  const va = lookupRead(c, args[1]);
  const vb = lookupRead(c, args[2]);
  if ((va !== undefined && typeof va !== "string") || (vb !== undefined && typeof vb !== "string")) {
    c.w.error("ERR The specified keys must contain string values");
    return;
  }
  const a = va ?? "";
  const b = vb ?? "";
  let getIdx = false;
  let getLen = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < args.length; j++) {
    const opt = args[j].toUpperCase();
    const more = args.length - 1 - j;
    if (opt === "IDX") getIdx = true;
    else if (opt === "LEN") getLen = true;
    else if (opt === "WITHMATCHLEN") withMatchLen = true;
    else if (opt === "MINMATCHLEN" && more > 0) {
      const n = parseI64(args[++j]);
      if (n === null) {
        c.w.error(ERR.notInteger);
        return;
      }
      minMatchLen = n < 0n ? 0 : clampIndex(n);
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  if (getIdx && getLen) {
    c.w.error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  const alen = a.length;
  const blen = b.length;
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > c.server.config.num("proto_max_bulk_len")) {
    c.w.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    return;
  }
  let table: Uint32Array;
  try {
    table = new Uint32Array(cells);
  } catch {
    c.w.error("ERR Insufficient memory, failed allocating transient memory for LCS");
    return;
  }
  const row = blen + 1;
  for (let i = 1; i <= alen; i++) {
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= blen; j++) {
      if (ai === b.charCodeAt(j - 1)) table[i * row + j] = table[(i - 1) * row + j - 1] + 1;
      else {
        const up = table[(i - 1) * row + j];
        const left = table[i * row + j - 1];
        table[i * row + j] = up > left ? up : left;
      }
    }
  }
  const total = table[alen * row + blen];
  if (getLen && !getIdx) {
    c.w.int(total);
    return;
  }
  // Walk back from the end, building the LCS string and the matched ranges (Redis's order).
  const chars: number[] = new Array(total);
  const matches: LcsMatch[] = [];
  let idx = total;
  let i = alen;
  let j = blen;
  let aStart = alen;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      chars[idx - 1] = a.charCodeAt(i - 1);
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * row + j] > table[i * row + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) matches.push([aStart, aEnd, bStart, bEnd, matchLen]);
      aStart = alen;
    }
  }
  if (!getIdx) {
    let s = "";
    for (let k = 0; k < chars.length; k++) s += String.fromCharCode(chars[k]);
    c.w.bulk(s);
    return;
  }
  c.w.map(2);
  c.w.bulk("matches");
  c.w.array(matches.length);
  for (const m of matches) {
    c.w.array(withMatchLen ? 3 : 2);
    c.w.array(2);
    c.w.int(m[0]);
    c.w.int(m[1]);
    c.w.array(2);
    c.w.int(m[2]);
    c.w.int(m[3]);
    if (withMatchLen) c.w.int(m[4]);
  }
  c.w.bulk("len");
  c.w.int(total);
}

/** Commands of the strings family. */
export const stringCommands: CommandSpec[] = [
  command(
    "set",
    -3,
    ["write", "denyoom"],
    [1, 1, 1],
    "string",
    "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    "1.0.0",
    set,
  ),
  command(
    "setnx",
    3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Set the string value of a key only when the key doesn't exist.",
    "1.0.0",
    setnx,
  ),
  command(
    "setex",
    4,
    ["write", "denyoom"],
    [1, 1, 1],
    "string",
    "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
    "2.0.0",
    setex,
  ),
  command(
    "psetex",
    4,
    ["write", "denyoom"],
    [1, 1, 1],
    "string",
    "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
    "2.6.0",
    psetex,
  ),
  command("get", 2, ["readonly", "fast"], [1, 1, 1], "string", "Returns the string value of a key.", "1.0.0", get),
  command(
    "getex",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    "string",
    "Returns the string value of a key after setting its expiration time.",
    "6.2.0",
    getex,
  ),
  command(
    "getdel",
    2,
    ["write", "fast"],
    [1, 1, 1],
    "string",
    "Returns the string value of a key after deleting the key.",
    "6.2.0",
    getdel,
  ),
  command(
    "getset",
    3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Returns the previous string value of a key after setting it to a new value.",
    "1.0.0",
    getset,
  ),
  command(
    "mget",
    -2,
    ["readonly", "fast"],
    [1, -1, 1],
    "string",
    "Atomically returns the string values of one or more keys.",
    "1.0.0",
    mget,
  ),
  command(
    "mset",
    -3,
    ["write", "denyoom"],
    [1, -1, 2],
    "string",
    "Atomically creates or modifies the string values of one or more keys.",
    "1.0.1",
    mset,
  ),
  command(
    "msetnx",
    -3,
    ["write", "denyoom"],
    [1, -1, 2],
    "string",
    "Atomically modifies the string values of one or more keys only when all keys don't exist.",
    "1.0.1",
    msetnx,
  ),
  command(
    "append",
    3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Appends a string to the value of a key. Creates the key if it doesn't exist.",
    "2.0.0",
    append,
  ),
  command(
    "strlen",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "string",
    "Returns the length of a string value.",
    "2.2.0",
    strlen,
  ),
  command(
    "getrange",
    4,
    ["readonly"],
    [1, 1, 1],
    "string",
    "Returns a substring of the string stored at a key.",
    "2.4.0",
    getrange,
  ),
  command(
    "substr",
    4,
    ["readonly"],
    [1, 1, 1],
    "string",
    "Returns a substring from a string value.",
    "1.0.0",
    getrange,
  ),
  command(
    "setrange",
    4,
    ["write", "denyoom"],
    [1, 1, 1],
    "string",
    "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
    "2.2.0",
    setrange,
  ),
  command(
    "incr",
    2,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    "1.0.0",
    incr,
  ),
  command(
    "decr",
    2,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    "1.0.0",
    decr,
  ),
  command(
    "incrby",
    3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    "1.0.0",
    incrby,
  ),
  command(
    "decrby",
    3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
    "1.0.0",
    decrby,
  ),
  command(
    "incrbyfloat",
    3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "string",
    "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    "2.6.0",
    incrbyfloat,
  ),
  command("lcs", -3, ["readonly"], [1, 2, 1], "string", "Finds the longest common substring.", "7.0.0", lcs),
];
