/**
 * The hashes command family: HSET, HSETNX, HGET, HMSET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS,
 * HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD and HSCAN. Also the SCAN-style
 * argument parsing and random-sampling helpers that sets.ts shares.
 *
 * Invariants: replies, error texts and keyspace events are Redis 7.0's; a hash is mutated
 * only after `beforeWrite` on its key and only when something really changes; emptied hashes
 * are deleted; a hash leaves the listpack encoding when a field or value exceeds
 * hash-max-listpack-value or it holds more than hash-max-listpack-entries fields, and never
 * returns to it. HINCRBYFLOAT computes in x87 long double like Redis and is recorded as HSET
 * with the result.
 */
import { command, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { ERR, lookupRead, parseI64, parseScanCursor } from "./helpers.ts";
import { arityError, propagateAs } from "./dispatcher.ts";
import { HashValue } from "../store/types/hash.ts";
import { globMatch } from "../util/glob.ts";
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from "../util/long_double.ts";

const G = "hash";
const LONG_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------------------------------
// Helpers shared with sets.ts
// ---------------------------------------------------------------------------------------

/** The COUNT and MATCH options of HSCAN/SSCAN. */
export interface ScanOptions {
  /** COUNT (default 10). */
  count: number;
  /** MATCH pattern, or null when every element matches. */
  pattern: string | null;
}

/** Parses `[MATCH pattern] [COUNT count]` from `args[from]` on; null after an error reply. */
export function parseScanOptions(c: Client, args: string[], from: number): ScanOptions | null {
  const opts: ScanOptions = { count: 10, pattern: null };
  for (let i = from; i < args.length; i += 2) {
    const o = args[i].toLowerCase();
    const hasValue = i + 1 < args.length;
    if (o === "count" && hasValue) {
      const n = parseI64(args[i + 1]);
      if (n === null) {
        c.w.error(ERR.notInteger);
        return null;
      }
      if (n < 1n) {
        c.w.error(ERR.syntax);
        return null;
      }
      opts.count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (o === "match" && hasValue) {
      opts.pattern = args[i + 1] === "*" ? null : args[i + 1];
    } else {
      c.w.error(ERR.syntax);
      return null;
    }
  }
  return opts;
}

/** Writes a SCAN-style reply: [cursor, [items...]]. */
export function replyScan(c: Client, cursor: bigint, items: readonly string[]): void {
  c.w.array(2);
  c.w.bulk(cursor.toString());
  c.w.bulkArray(items);
}

/**
 * Parses the count of HRANDFIELD/SRANDMEMBER (Redis's getRangeLongFromObjectOrReply over
 * [-LONG_MAX, LONG_MAX]); null after an error reply.
 */
export function parseRandomCount(c: Client, s: string): bigint | null {
  const v = parseI64(s);
  if (v === null) {
    c.w.error(ERR.notInteger);
    return null;
  }
  if (v < -LONG_MAX) {
    c.w.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    return null;
  }
  return v;
}

/** A uniform random integer in [0, n). */
export function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

/**
 * `count` distinct positions out of [0, size), count < size, in random order: a partial
 * Fisher-Yates shuffle when the sample is a large part of the whole, else rejection
 * sampling; O(count) expected either way.
 */
export function sampleDistinct(size: number, count: number): number[] {
  if (count * 3 > size) {
    const all = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + randomIndex(size - i);
      const t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    all.length = count;
    return all;
  }
  const picked = new Set<number>();
  while (picked.size < count) picked.add(randomIndex(size));
  return [...picked];
}

/**
 * True once a reply grew past client_output_buffer_limit: the connection then drops the
 * client, so a generator of a huge random reply (negative counts) can stop early.
 */
export function outputOverLimit(c: Client): boolean {
  return c.pendingOutput() > c.server.config.num("client_output_buffer_limit");
}

// ---------------------------------------------------------------------------------------
// Typed access and the encoding rules
// ---------------------------------------------------------------------------------------

/** A hash for a read command (counting hits and misses): the hash, null when missing, false after WRONGTYPE. */
function readHash(c: Client, key: string): HashValue | null | false {
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (v instanceof HashValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

/** A hash for a write command: the hash, null when missing, false after WRONGTYPE. */
function writeHash(c: Client, key: string): HashValue | null | false {
  const v = c.slice(key).get(key);
  if (v === undefined) return null;
  if (v instanceof HashValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

/**
 * Prepares `key` for a change: runs the write hooks of an existing hash, or creates and
 * stores an empty one (Redis's hashTypeLookupWriteOrCreate).
 */
function hashForWrite(c: Client, key: string, existing: HashValue | null): HashValue {
  const slice = c.slice(key);
  if (existing !== null) {
    slice.beforeWrite(key);
    return existing;
  }
  const h = new HashValue(true);
  slice.set(key, h);
  return h;
}

/** Sets a field as Redis's hashTypeSet does, converting to hashtable past the listpack limits. */
function setField(c: Client, h: HashValue, field: string, value: string): boolean {
  if (h.compact) {
    const maxValue = c.server.config.num("hash-max-listpack-value");
    if (field.length > maxValue || value.length > maxValue) h.convertToHashtable();
  }
  const added = h.set(field, value);
  if (h.compact && h.size() > c.server.config.num("hash-max-listpack-entries")) h.convertToHashtable();
  return added;
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

function hsetGeneric(c: Client, args: string[], replyOk: boolean): void {
  if (args.length % 2 !== 0) return c.w.error(arityError(args[0].toLowerCase()));
  const key = args[1];
  const found = writeHash(c, key);
  if (found === false) return;
  const h = hashForWrite(c, key, found);
  let added = 0;
  for (let i = 2; i < args.length; i += 2) if (setField(c, h, args[i], args[i + 1])) added++;
  if (replyOk) c.w.simple("OK");
  else c.w.int(added);
  c.server.notify("h", "hset", key, c.db);
}

function hsetnx(c: Client, args: string[]): void {
  const key = args[1];
  const found = writeHash(c, key);
  if (found === false) return;
  if (found !== null && found.has(args[2])) return c.w.int(0);
  setField(c, hashForWrite(c, key, found), args[2], args[3]);
  c.w.int(1);
  c.server.notify("h", "hset", key, c.db);
}

function hget(c: Client, args: string[]): void {
  const h = readHash(c, args[1]);
  if (h === false) return;
  c.w.bulk(h === null ? null : h.get(args[2]) ?? null);
}

function hmget(c: Client, args: string[]): void {
  const h = readHash(c, args[1]);
  if (h === false) return;
  c.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) c.w.bulk(h === null ? null : h.get(args[i]) ?? null);
}

function hdel(c: Client, args: string[]): void {
  const key = args[1];
  const h = writeHash(c, key);
  if (h === false) return;
  if (h === null) return c.w.int(0);
  const slice = c.slice(key);
  let deleted = 0;
  for (let i = 2; i < args.length; i++) {
    if (!h.has(args[i])) continue;
    if (deleted === 0) slice.beforeWrite(key);
    h.delete(args[i]);
    deleted++;
    if (h.size() === 0) break;
  }
  if (deleted > 0) {
    c.server.notify("h", "hdel", key, c.db);
    if (h.size() === 0) {
      slice.delete(key);
      c.server.notify("g", "del", key, c.db);
    }
  }
  c.w.int(deleted);
}

function hlen(c: Client, args: string[]): void {
  const h = readHash(c, args[1]);
  if (h === false) return;
  c.w.int(h === null ? 0 : h.size());
}

function hstrlen(c: Client, args: string[]): void {
  const h = readHash(c, args[1]);
  if (h === false) return;
  c.w.int(h === null ? 0 : h.get(args[2])?.length ?? 0);
}

function hexists(c: Client, args: string[]): void {
  const h = readHash(c, args[1]);
  if (h === false) return;
  c.w.int(h !== null && h.has(args[2]) ? 1 : 0);
}

/** HKEYS, HVALS and HGETALL (a map in RESP3). */
function hgetallGeneric(c: Client, args: string[], fields: boolean, values: boolean): void {
  const h = readHash(c, args[1]);
  if (h === false) return;
  const n = h === null ? 0 : h.size();
  if (fields && values) c.w.map(n);
  else c.w.array(n);
  for (let i = 0; i < n; i++) {
    if (fields) c.w.bulk(h!.fieldAt(i));
    if (values) c.w.bulk(h!.valueAt(i));
  }
}

function hincrby(c: Client, args: string[]): void {
  const incr = parseI64(args[3]);
  if (incr === null) return c.w.error(ERR.notInteger);
  const key = args[1];
  const found = writeHash(c, key);
  if (found === false) return;
  const current = found === null ? undefined : found.get(args[2]);
  let value = 0n;
  if (current !== undefined) {
    const v = parseI64(current);
    if (v === null) return c.w.error("ERR hash value is not an integer");
    value = v;
  }
  const sum = value + incr;
  if (sum > LONG_MAX || sum < -LONG_MAX - 1n) return c.w.error(ERR.overflow);
  setField(c, hashForWrite(c, key, found), args[2], sum.toString());
  c.w.int(sum);
  c.server.notify("h", "hincrby", key, c.db);
}

function hincrbyfloat(c: Client, args: string[]): void {
  const incr = parseLongDouble(args[3]);
  if (incr === null) return c.w.error(ERR.notFloat);
  if (incr.inf) return c.w.error("ERR value is NaN or Infinity");
  const key = args[1];
  const found = writeHash(c, key);
  if (found === false) return;
  const current = found === null ? undefined : found.get(args[2]);
  let value = parseLongDouble("0")!;
  if (current !== undefined) {
    const v = parseLongDouble(current);
    if (v === null) return c.w.error("ERR hash value is not a float");
    value = v;
  }
  const sum = addLongDouble(value, incr);
  if (sum === "nan" || sum.inf) return c.w.error(ERR.nan);
  const result = formatLongDoubleHuman(sum);
  setField(c, hashForWrite(c, key, found), args[2], result);
  c.w.bulk(result);
  c.server.notify("h", "hincrbyfloat", key, c.db);
  propagateAs(["HSET", key, args[2], result]);
}

/** Writes one HRANDFIELD element: the field, or [field, value] (nested in RESP3). */
function replyRandomPair(c: Client, h: HashValue, i: number, withValues: boolean): void {
  if (withValues && c.proto === 3) c.w.array(2);
  c.w.bulk(h.fieldAt(i));
  if (withValues) c.w.bulk(h.valueAt(i));
}

function hrandfield(c: Client, args: string[]): void {
  if (args.length === 2) {
    const h = readHash(c, args[1]);
    if (h === false) return;
    if (h === null) return c.w.nil();
    return c.w.bulk(h.fieldAt(randomIndex(h.size())));
  }
  const parsed = parseRandomCount(c, args[2]);
  if (parsed === null) return;
  let withValues = false;
  if (args.length > 4 || (args.length === 4 && args[3].toLowerCase() !== "withvalues")) return c.w.error(ERR.syntax);
  if (args.length === 4) {
    withValues = true;
    if (parsed < -LONG_MAX / 2n || parsed > LONG_MAX / 2n) return c.w.error("ERR value is out of range");
  }
  const l = Number(parsed);
  const h = readHash(c, args[1]);
  if (h === false) return;
  if (h === null || l === 0) return c.w.array(0);
  const size = h.size();
  const count = Math.abs(l);
  const width = withValues && c.proto === 2 ? 2 : 1;
  if (l < 0 || count === 1) {
    // With repetitions (or a single pick): independent random positions.
    c.w.array(count * width);
    for (let i = 0; i < count; i++) {
      if ((i & 1023) === 1023 && outputOverLimit(c)) return;
      replyRandomPair(c, h, randomIndex(size), withValues);
    }
    return;
  }
  if (count >= size) {
    c.w.array(size * width);
    for (let i = 0; i < size; i++) replyRandomPair(c, h, i, withValues);
    return;
  }
  c.w.array(count * width);
  for (const i of sampleDistinct(size, count)) replyRandomPair(c, h, i, withValues);
}

function hscan(c: Client, args: string[]): void {
  const cursor = parseScanCursor(args[2]);
  if (cursor === null) return c.w.error("ERR invalid cursor");
  const h = readHash(c, args[1]);
  if (h === false) return;
  if (h === null) return replyScan(c, 0n, []);
  const opts = parseScanOptions(c, args, 3);
  if (opts === null) return;
  const items: string[] = [];
  const visit = (f: string, v: string) => {
    if (opts.pattern === null || globMatch(opts.pattern, f)) items.push(f, v);
  };
  // A listpack hash is returned whole in one call, as Redis does.
  if (h.compact) {
    for (let i = 0, n = h.size(); i < n; i++) visit(h.fieldAt(i), h.valueAt(i));
    return replyScan(c, 0n, items);
  }
  const next = h.scan(cursor, opts.count, visit);
  replyScan(c, next, items);
}

/** Commands of the hashes family. */
export const hashCommands: CommandSpec[] = [
  command(
    "hset",
    -4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Set the string value of a hash field",
    "2.0.0",
    (c, a) => hsetGeneric(c, a, false),
  ),
  command(
    "hsetnx",
    4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Set the value of a hash field, only if the field does not exist",
    "2.0.0",
    hsetnx,
  ),
  command("hget", 3, ["readonly", "fast"], [1, 1, 1], G, "Get the value of a hash field", "2.0.0", hget),
  command(
    "hmset",
    -4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Set multiple hash fields to multiple values",
    "2.0.0",
    (c, a) => hsetGeneric(c, a, true),
  ),
  command(
    "hmget",
    -3,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Get the values of all the given hash fields",
    "2.0.0",
    hmget,
  ),
  command("hdel", -3, ["write", "fast"], [1, 1, 1], G, "Delete one or more hash fields", "2.0.0", hdel),
  command("hlen", 2, ["readonly", "fast"], [1, 1, 1], G, "Get the number of fields in a hash", "2.0.0", hlen),
  command(
    "hstrlen",
    3,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Get the length of the value of a hash field",
    "3.2.0",
    hstrlen,
  ),
  command("hexists", 3, ["readonly", "fast"], [1, 1, 1], G, "Determine if a hash field exists", "2.0.0", hexists),
  command(
    "hkeys",
    2,
    ["readonly"],
    [1, 1, 1],
    G,
    "Get all the fields in a hash",
    "2.0.0",
    (c, a) => hgetallGeneric(c, a, true, false),
  ),
  command(
    "hvals",
    2,
    ["readonly"],
    [1, 1, 1],
    G,
    "Get all the values in a hash",
    "2.0.0",
    (c, a) => hgetallGeneric(c, a, false, true),
  ),
  command(
    "hgetall",
    2,
    ["readonly"],
    [1, 1, 1],
    G,
    "Get all the fields and values in a hash",
    "2.0.0",
    (c, a) => hgetallGeneric(c, a, true, true),
  ),
  command(
    "hincrby",
    4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Increment the integer value of a hash field by the given number",
    "2.0.0",
    hincrby,
  ),
  command(
    "hincrbyfloat",
    4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Increment the float value of a hash field by the given amount",
    "2.6.0",
    hincrbyfloat,
  ),
  command(
    "hrandfield",
    -2,
    ["readonly"],
    [1, 1, 1],
    G,
    "Get one or multiple random fields from a hash",
    "6.2.0",
    hrandfield,
  ),
  command(
    "hscan",
    -3,
    ["readonly"],
    [1, 1, 1],
    G,
    "Incrementally iterate hash fields and associated values",
    "2.8.0",
    hscan,
  ),
];
