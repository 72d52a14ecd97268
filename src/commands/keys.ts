/**
 * The generic keyspace family: DEL, UNLINK, EXISTS, TYPE, the EXPIRE family, TTL family,
 * PERSIST, RENAME(NX), TOUCH, COPY, MOVE, OBJECT, MEMORY, SWAPDB, FLUSHDB, FLUSHALL, DBSIZE,
 * RANDOMKEY, KEYS and SCAN (Redis's db.c, expire.c, object.c).
 *
 * Invariants: keys are reached only through their DbSlice (c.slice / store.slice), so keys
 * on different shards are handled alike; an expired key is never reported; relative expiry
 * times are recorded as absolute `PEXPIREAT key ms`, and an expiry in the past deletes the
 * key and is recorded as `DEL key` (except on a replica, which waits for its primary's DEL);
 * a value that lands under a new key (RENAME, COPY, MOVE, SWAPDB) wakes clients blocked on
 * that key. RENAME is recorded as `DEL src` + `RESTORE dst ... REPLACE ABSTTL` and COPY as
 * that RESTORE in the destination db, so every record touches keys of one shard only.
 */
import type { Client } from "../server/client.ts";
import type { DbSlice } from "../store/db_slice.ts";
import {
  type CollectionValue,
  EMBSTR_MAX,
  isCanonicalInt64,
  STRING_MADE_BY_VALUE,
  STRING_MADE_RAW,
  stringEncoding,
  typeOf,
  type Value,
  valueMemoryUsage,
} from "../store/values.ts";
import { globMatch } from "../util/glob.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, leaveCompactRecords, lookupRead, parseI64, parseScanCursor } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { fullGc } from "../observability/gc.ts";
import { createDumpPayload } from "../rdb/dump_payload.ts";
import { encodingLimits, fromRdbValue, toRdbValue } from "../rdb/store_bridge.ts";
import type { RdbValue } from "../rdb/records.ts";
import { latin1Of } from "../rdb/bytes.ts";
import { STAMP_MADE_SHIFT } from "../store/access.ts";
import { ZSetValue } from "../store/types/zset.ts";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const SAME_OBJECT = "ERR source and destination objects are the same";
/** DUMP payload version of recorded RESTOREs (Redis 7.0's RDB version, so Redis replicas accept it). */
const RESTORE_PAYLOAD_VERSION = 10;
/** Redis's refcount of shared objects (the small integers 0..9999 are shared). */
const SHARED_REFCOUNT = 2147483647;
const SHARED_INTEGERS = 10000;

/**
 * Parses a 32-bit int argument like getIntFromObjectOrReply: replies `error` when given, else
 * Redis's default texts (not an integer / out of int range), and returns null if invalid.
 */
function int32Arg(c: Client, s: string, error?: string): number | null {
  const v = parseI64(s);
  if (v === null) {
    c.w.error(error ?? ERR.notInteger);
    return null;
  }
  if (v > 2147483647n || v < -2147483648n) {
    c.w.error(error ?? "ERR value is out of range, value must between -2147483648 and 2147483647");
    return null;
  }
  return Number(v);
}

/** Parses a database index argument; replies with Redis's errors and returns null if invalid. */
function dbIndexArg(c: Client, s: string): number | null {
  const db = int32Arg(c, s);
  if (db === null) return null;
  if (db < 0 || db >= c.server.store.dbCount) {
    c.w.error(ERR.dbIndex);
    return null;
  }
  return db;
}

/** Wakes clients blocked on `key` when a collection was placed there. */
function signalIfCollection(c: Client, db: number, key: string, v: Value): void {
  if (typeof v !== "string") c.server.blocking.signal(db, key);
}

// ---------------------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TOUCH, TYPE

function del(c: Client, args: string[]): void {
  let deleted = 0;
  const db = c.db;
  for (let i = 1; i < args.length; i++) {
    const key = args[i];
    if (c.slice(key).delete(key)) {
      deleted++;
      c.server.notify("g", "del", key, db);
    }
  }
  c.w.int(deleted);
}

function exists(c: Client, args: string[]): void {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (lookupRead(c, args[i]) !== undefined) n++;
  c.w.int(n);
}

function type(c: Client, args: string[]): void {
  const v = lookupRead(c, args[1]);
  c.w.simple(v === undefined ? "none" : typeOf(v));
}

// ---------------------------------------------------------------------------------------
// EXPIRE family, TTL family, PERSIST

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Parses NX/XX/GT/LT (Redis's parseExtendedExpireArgumentsOrReply); null after an error reply. */
function expireFlags(c: Client, args: string[]): number | null {
  let flags = 0;
  for (let j = 3; j < args.length; j++) {
    const opt = args[j].toUpperCase();
    if (opt === "NX") flags |= EXPIRE_NX;
    else if (opt === "XX") flags |= EXPIRE_XX;
    else if (opt === "GT") flags |= EXPIRE_GT;
    else if (opt === "LT") flags |= EXPIRE_LT;
    else {
      c.w.error(`ERR Unsupported option ${args[j]}`);
      return null;
    }
  }
  if ((flags & EXPIRE_NX) && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
    c.w.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return null;
  }
  if ((flags & EXPIRE_GT) && (flags & EXPIRE_LT)) {
    c.w.error("ERR GT and LT options at the same time are not compatible");
    return null;
  }
  return flags;
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (Redis's expireGenericCommand). */
function expireGeneric(c: Client, args: string[], relative: boolean, seconds: boolean): void {
  const flags = expireFlags(c, args);
  if (flags === null) return;
  let when = parseI64(args[2]);
  if (when === null) {
    c.w.error(ERR.notInteger);
    return;
  }
  const invalid = `ERR invalid expire time in '${args[0].toLowerCase()}' command`;
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      c.w.error(invalid);
      return;
    }
    when *= 1000n;
  }
  const now = Date.now();
  const base = relative ? BigInt(now) : 0n;
  if (when > INT64_MAX - base) {
    c.w.error(invalid);
    return;
  }
  when += base;
  const key = args[1];
  const slice = c.slice(key);
  if (slice.get(key) === undefined) {
    c.w.int(0);
    return;
  }
  const at = Number(when);
  if (flags !== 0) {
    const current = slice.getExpire(key);
    if ((flags & EXPIRE_NX) && current !== undefined) return c.w.int(0);
    if ((flags & EXPIRE_XX) && current === undefined) return c.w.int(0);
    if ((flags & EXPIRE_GT) && (current === undefined || at <= current)) return c.w.int(0);
    if ((flags & EXPIRE_LT) && current !== undefined && at >= current) return c.w.int(0);
  }
  if (at <= now && !c.server.isReplica) {
    slice.delete(key);
    propagateAs(["DEL", key]);
    c.server.notify("g", "del", key, c.db);
  } else {
    slice.setExpire(key, at);
    propagateAs(["PEXPIREAT", key, String(when)]);
    c.server.notify("g", "expire", key, c.db);
  }
  c.w.int(1);
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME (Redis's ttlGenericCommand). */
function ttlGeneric(c: Client, key: string, millis: boolean, absolute: boolean): void {
  if (lookupRead(c, key) === undefined) {
    c.w.int(-2);
    return;
  }
  const at = c.slice(key).getExpire(key);
  if (at === undefined) {
    c.w.int(-1);
    return;
  }
  let ttl = absolute ? at : at - Date.now();
  if (ttl < 0) ttl = 0;
  c.w.int(millis ? ttl : Math.floor((ttl + 500) / 1000));
}

function persist(c: Client, args: string[]): void {
  const key = args[1];
  const slice = c.slice(key);
  if (slice.get(key) === undefined || slice.getExpire(key) === undefined) {
    c.w.int(0);
    return;
  }
  slice.setExpire(key, undefined);
  c.server.notify("g", "persist", key, c.db);
  c.w.int(1);
}

// ---------------------------------------------------------------------------------------
// RENAME, COPY, MOVE

/**
 * The deterministic records that make `key` hold `value` with the absolute expiry `expireAt`
 * (ms; none when undefined): `RESTORE key <ttl> <dump> REPLACE ABSTTL` with a version-10
 * payload, which both a damselfly and a Redis 7 replica accept. RESTORE re-derives a string's
 * encoding, so a raw string (`made`) short enough to come out `int` or `embstr` is followed by
 * `APPEND key ""`, which makes it raw again as the replica's own RENAME or COPY would keep it.
 */
function restoreRecords(
  c: Client,
  key: string,
  value: Value,
  expireAt: number | undefined,
  made: number,
): string[][] {
  const rdb = toRdbValue(value);
  const payload = createDumpPayload(rdb, RESTORE_PAYLOAD_VERSION);
  const restore = ["RESTORE", key, String(expireAt ?? 0), latin1Of(payload, 0, payload.length), "REPLACE", "ABSTTL"];
  if (typeof value === "string") {
    return made === STRING_MADE_RAW && value.length <= EMBSTR_MAX ? [restore, ["APPEND", key, ""]] : [restore];
  }
  return [restore, ...conversionRecords(c, key, value, rdb)];
}

/**
 * Records that convert a RESTOREd collection to the encoding `value` has here, when RESTORE
 * alone would make it compact (a set, hash or sorted set that grew past a threshold and then
 * shrank: Redis never converts back, but a load re-derives), as the replica's own RENAME or COPY
 * would have kept the object (see leaveCompactRecords).
 */
function conversionRecords(c: Client, key: string, value: CollectionValue, rdb: RdbValue): string[][] {
  // What replicas hold: a sorted set converted here only (by SORT) is a listpack there.
  const encoding = value instanceof ZSetValue ? value.encodingOnReplicas() : value.encoding();
  if (encoding !== "hashtable" && encoding !== "skiplist") return [];
  const limits = encodingLimits(c.server.config);
  const size = value.size();
  const compactMax = value.kind === "set"
    ? limits.setMaxIntsetEntries
    : value.kind === "hash"
    ? limits.hashMaxListpackEntries
    : limits.zsetMaxListpackEntries;
  if (size > compactMax) return [];
  const restored = fromRdbValue(rdb, limits, RESTORE_PAYLOAD_VERSION) as CollectionValue;
  if (restored.encoding() === encoding) return [];
  if (value.kind === "set") return leaveCompactRecords("set", key, 0);
  if (value.kind === "hash") return leaveCompactRecords("hash", key, limits.hashMaxListpackValue);
  return leaveCompactRecords("zset", key, limits.zsetMaxListpackValue);
}

function renameGeneric(c: Client, args: string[], nx: boolean): void {
  const src = args[1];
  const dst = args[2];
  const srcSlice = c.slice(src);
  const v = srcSlice.get(src);
  if (v === undefined) {
    c.w.error(ERR.noSuchKey);
    return;
  }
  if (src === dst) {
    if (nx) c.w.int(0);
    else c.w.simple("OK");
    return;
  }
  const expire = srcSlice.getExpire(src);
  const dstSlice = c.slice(dst);
  if (nx && dstSlice.get(dst) !== undefined) {
    c.w.int(0);
    return;
  }
  // The value moves with its access stamp (Redis moves the object itself).
  const stamp = srcSlice.accessStamp(src);
  dstSlice.set(dst, v, expire);
  dstSlice.setAccessStamp(dst, stamp);
  srcSlice.delete(src);
  // Per-key records (as Dragonfly journals RENAME): each lives on its key's shard.
  propagateAs(["DEL", src], ...restoreRecords(c, dst, v, expire, stamp >>> STAMP_MADE_SHIFT));
  const db = c.db;
  c.server.notify("g", "rename_from", src, db);
  c.server.notify("g", "rename_to", dst, db);
  signalIfCollection(c, db, dst, v);
  if (nx) c.w.int(1);
  else c.w.simple("OK");
}

function copy(c: Client, args: string[]): void {
  let replace = false;
  let dstDb = c.db;
  for (let j = 3; j < args.length; j++) {
    const opt = args[j].toUpperCase();
    if (opt === "REPLACE") replace = true;
    else if (opt === "DB" && j + 1 < args.length) {
      const db = dbIndexArg(c, args[++j]);
      if (db === null) return;
      dstDb = db;
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  const src = args[1];
  const dst = args[2];
  if (dstDb === c.db && src === dst) {
    c.w.error(SAME_OBJECT);
    return;
  }
  const v = lookupRead(c, src);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  const expire = c.slice(src).getExpire(src);
  const dstSlice = c.server.store.slice(dstDb, dst);
  if (dstSlice.get(dst) !== undefined) {
    if (!replace) {
      c.w.int(0);
      return;
    }
    // The copy is a new object with a new access stamp (Redis deletes, then adds).
    dstSlice.delete(dst);
  }
  const dup = typeof v === "string" ? v : v.clone();
  dstSlice.set(dst, dup, expire);
  // A copied string keeps how it was made (Redis's dupStringObject keeps the encoding).
  const made = c.slice(src).stringMade(src);
  if (made !== STRING_MADE_BY_VALUE) dstSlice.setStringMade(dst, made);
  // Recorded as a RESTORE of the copy in the destination db: it touches only `dst`.
  propagateAs();
  const records = restoreRecords(c, dst, dup, expire, made);
  if (records.length > 1) c.server.beginTransaction();
  for (const record of records) c.server.recordWrite(dstDb, record);
  if (records.length > 1) c.server.endTransaction();
  c.server.notify("g", "copy_to", dst, dstDb);
  signalIfCollection(c, dstDb, dst, dup);
  c.w.int(1);
}

function move(c: Client, args: string[]): void {
  const dstDb = dbIndexArg(c, args[2]);
  if (dstDb === null) return;
  if (dstDb === c.db) {
    c.w.error(SAME_OBJECT);
    return;
  }
  const key = args[1];
  const srcSlice = c.slice(key);
  const v = srcSlice.get(key);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  const expire = srcSlice.getExpire(key);
  const dstSlice = c.server.store.slice(dstDb, key);
  if (dstSlice.get(key) !== undefined) {
    c.w.int(0);
    return;
  }
  const stamp = srcSlice.accessStamp(key);
  dstSlice.set(key, v, expire);
  dstSlice.setAccessStamp(key, stamp);
  srcSlice.delete(key);
  c.server.notify("g", "move_from", key, c.db);
  c.server.notify("g", "move_to", key, dstDb);
  signalIfCollection(c, dstDb, key, v);
  c.w.int(1);
}

// ---------------------------------------------------------------------------------------
// OBJECT, MEMORY

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

const MEMORY_HELP = [
  "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
  "HELP",
  "    Prints this help.",
];

const POLICY_SWITCH_NOTE =
  "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

function replyHelp(c: Client, lines: readonly string[]): void {
  c.w.array(lines.length);
  for (const l of lines) c.w.simple(l);
}

function lfuPolicy(c: Client): boolean {
  return c.server.config.str("maxmemory-policy").endsWith("-lfu");
}

/** Looks up the key of an OBJECT subcommand; replies nil and returns undefined when absent. */
function objectLookup(c: Client, key: string): Value | undefined {
  const v = c.slice(key).get(key);
  if (v === undefined) c.w.nil();
  return v;
}

function objectEncoding(c: Client, args: string[]): void {
  const v = objectLookup(c, args[2]);
  if (v !== undefined) {
    c.w.bulk(typeof v === "string" ? stringEncoding(v, c.slice(args[2]).stringMade(args[2])) : v.encoding());
  }
}

/**
 * Whether Redis would use its shared small integers now: not with a maxmemory and an LRU or
 * LFU policy (MAXMEMORY_FLAG_NO_SHARED_INTEGERS), where every key needs its own access stamp.
 */
function sharesIntegers(c: Client): boolean {
  const policy = c.server.config.str("maxmemory-policy");
  return c.server.config.num("maxmemory") === 0 || !(policy.endsWith("-lru") || policy.endsWith("-lfu"));
}

function objectRefcount(c: Client, args: string[]): void {
  const v = objectLookup(c, args[2]);
  if (v === undefined) return;
  const shared = typeof v === "string" && v.length <= 4 && isCanonicalInt64(v) && Number(v) >= 0 &&
    Number(v) < SHARED_INTEGERS && c.slice(args[2]).stringMade(args[2]) === STRING_MADE_BY_VALUE &&
    sharesIntegers(c);
  c.w.int(shared ? SHARED_REFCOUNT : 1);
}

/** OBJECT IDLETIME: whole seconds since the key's last access (its LRU stamp; Redis's estimateObjectIdleTime). */
function objectIdletime(c: Client, args: string[]): void {
  const key = args[2];
  if (objectLookup(c, key) === undefined) return;
  if (lfuPolicy(c)) {
    c.w.error(`ERR An LFU maxmemory policy is selected, idle time not tracked. ${POLICY_SWITCH_NOTE}`);
    return;
  }
  const slice = c.slice(key);
  c.w.int(Math.floor(slice.access.idleMs(slice.accessStamp(key)) / 1000));
}

/** OBJECT FREQ: the key's logarithmic access counter after decay (Redis's LFUDecrAndReturn). */
function objectFreq(c: Client, args: string[]): void {
  const key = args[2];
  if (objectLookup(c, key) === undefined) return;
  if (!lfuPolicy(c)) {
    c.w.error(`ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${POLICY_SWITCH_NOTE}`);
    return;
  }
  const slice = c.slice(key);
  c.w.int(slice.access.frequency(slice.accessStamp(key)));
}

function memoryUsage(c: Client, args: string[]): void {
  for (let j = 3; j < args.length; j++) {
    if (args[j].toUpperCase() === "SAMPLES" && j + 1 < args.length) {
      const n = parseI64(args[++j]);
      if (n === null) {
        c.w.error(ERR.notInteger);
        return;
      }
      if (n < 0n) {
        c.w.error(ERR.syntax);
        return;
      }
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  const key = args[2];
  const v = c.slice(key).get(key);
  if (v === undefined) c.w.nil();
  else c.w.int(valueMemoryUsage(key, v));
}

/** Heap in use when this module loaded: the baseline reported as startup.allocated. */
const STARTUP_HEAP = Deno.memoryUsage().heapUsed;
let peakHeap = STARTUP_HEAP;

function memoryStats(c: Client): void {
  const mem = Deno.memoryUsage();
  if (mem.heapUsed > peakHeap) peakHeap = mem.heapUsed;
  const keys = c.server.store.keyspace();
  let keyCount = 0;
  for (const s of keys.values()) keyCount += s.keys;
  let replicas = 0;
  let normalBuffers = 0;
  for (const cl of c.server.clients.values()) {
    if (cl.isReplica) replicas++;
    else normalBuffers += cl.pendingOutput();
  }
  const dataset = Math.max(0, mem.heapUsed - STARTUP_HEAP);
  const fields: [string, number, boolean][] = [
    ["peak.allocated", peakHeap, false],
    ["total.allocated", mem.heapUsed, false],
    ["startup.allocated", STARTUP_HEAP, false],
    ["replication.backlog", 0, false],
    ["clients.slaves", replicas, false],
    ["clients.normal", normalBuffers, false],
    ["keys.count", keyCount, false],
    ["keys.bytes-per-key", keyCount === 0 ? 0 : Math.floor(dataset / keyCount), false],
    ["dataset.bytes", dataset, false],
    ["dataset.percentage", mem.heapUsed === 0 ? 0 : (dataset * 100) / mem.heapUsed, true],
    ["peak.percentage", (mem.heapUsed * 100) / peakHeap, true],
    ["allocator.allocated", mem.heapUsed + mem.external, false],
    ["allocator.active", mem.heapTotal + mem.external, false],
    ["allocator.resident", mem.rss, false],
    ["fragmentation", mem.heapUsed === 0 ? 0 : mem.rss / mem.heapUsed, true],
    ["fragmentation.bytes", Math.max(0, mem.rss - mem.heapUsed), false],
  ];
  c.w.map(fields.length);
  for (const [name, value, isDouble] of fields) {
    c.w.bulk(name);
    if (isDouble) c.w.double(value);
    else c.w.int(value);
  }
}

function memoryDoctor(c: Client): void {
  const keys = c.server.store.keyspace();
  const text = keys.size === 0
    ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
    : "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";
  c.w.verbatim(text);
}

// ---------------------------------------------------------------------------------------
// Databases: SWAPDB, FLUSHDB, FLUSHALL, DBSIZE

function swapdb(c: Client, args: string[]): void {
  const a = int32Arg(c, args[1], "ERR invalid first DB index");
  if (a === null) return;
  const b = int32Arg(c, args[2], "ERR invalid second DB index");
  if (b === null) return;
  const store = c.server.store;
  if (a < 0 || a >= store.dbCount || b < 0 || b >= store.dbCount) {
    c.w.error(ERR.dbIndex);
    return;
  }
  store.swapDb(a, b);
  const blocking = c.server.blocking;
  if (blocking.blockingKeys > 0) {
    for (const db of [a, b]) {
      for (const slice of store.slices(db)) for (const key of slice.data.keys()) blocking.signal(db, key);
    }
  }
  c.w.simple("OK");
}

/** Parses FLUSHDB/FLUSHALL's optional ASYNC|SYNC; false after a syntax error reply. */
function flushArgsOk(c: Client, args: string[]): boolean {
  if (args.length === 1) return true;
  const mode = args[1].toUpperCase();
  if (args.length === 2 && (mode === "SYNC" || mode === "ASYNC")) return true;
  c.w.error(ERR.syntax);
  return false;
}

function flushdb(c: Client, args: string[]): void {
  if (!flushArgsOk(c, args)) return;
  c.server.store.flushDb(c.db);
  c.w.simple("OK");
}

function flushall(c: Client, args: string[]): void {
  if (!flushArgsOk(c, args)) return;
  c.server.store.flushAll();
  c.w.simple("OK");
}

// ---------------------------------------------------------------------------------------
// RANDOMKEY, KEYS, SCAN

/** Databases up to this size pick a uniformly random key by walking to a random position. */
const RANDOM_EXACT_LIMIT = 1024;
/** Larger databases advance a per-slice iterator by a random step below this bound. */
const RANDOM_STEP_LIMIT = 1024;
const randomCursors = new WeakMap<DbSlice, Iterator<string>>();

/** A random key of `slice` (which must not be empty), expired or not. */
function randomKeyOf(slice: DbSlice): string {
  const size = slice.data.size;
  if (size <= RANDOM_EXACT_LIMIT) {
    let target = Math.floor(Math.random() * size);
    for (const key of slice.data.keys()) if (target-- === 0) return key;
  }
  let it = randomCursors.get(slice) ?? slice.data.keys();
  let steps = 1 + Math.floor(Math.random() * RANDOM_STEP_LIMIT);
  let key: string | undefined;
  // At most two passes: the iterator restarts once when it reaches the end.
  for (let guard = 0; steps > 0 && guard < 2 * RANDOM_STEP_LIMIT + 2; guard++) {
    const r = it.next();
    if (r.done) {
      it = slice.data.keys();
      continue;
    }
    key = r.value;
    steps--;
  }
  randomCursors.set(slice, it);
  return key ?? slice.data.keys().next().value!;
}

function randomkey(c: Client): void {
  const slices = c.server.store.slices(c.db);
  // Every failed pick on a primary deletes an expired key, so this ends; a replica gives up
  // after 100 expired picks and returns one anyway, as Redis does.
  for (let tries = 0;; tries++) {
    let total = 0;
    for (const s of slices) total += s.size;
    if (total === 0) {
      c.w.nil();
      return;
    }
    let pick = Math.floor(Math.random() * total);
    let slice = slices[0];
    for (const s of slices) {
      if (pick < s.size) {
        slice = s;
        break;
      }
      pick -= s.size;
    }
    const key = randomKeyOf(slice);
    if (slice.get(key) !== undefined || (c.server.isReplica && tries >= 100)) {
      c.w.bulk(key);
      return;
    }
  }
}

function keys(c: Client, args: string[]): void {
  const pattern = args[1];
  const all = pattern === "*";
  const now = Date.now();
  const out: string[] = [];
  for (const slice of c.server.store.slices(c.db)) {
    for (const key of slice.data.keys()) {
      if ((all || globMatch(pattern, key)) && !slice.isExpired(key, now)) out.push(key);
    }
  }
  c.w.bulkArray(out);
}

/** Parses a SCAN cursor; null after an error reply. */
function scanCursor(c: Client, s: string): number | null {
  const v = parseScanCursor(s);
  if (v === null) {
    c.w.error("ERR invalid cursor");
    return null;
  }
  return Number(v);
}

function scan(c: Client, args: string[]): void {
  const cursor = scanCursor(c, args[1]);
  if (cursor === null) return;
  let count = 10;
  let pattern: string | null = null;
  let typeName: string | null = null;
  for (let i = 2; i < args.length; i += 2) {
    const opt = args[i].toUpperCase();
    const hasValue = i + 1 < args.length;
    if (opt === "COUNT" && hasValue) {
      const n = parseI64(args[i + 1]);
      if (n === null) {
        c.w.error(ERR.notInteger);
        return;
      }
      if (n < 1n) {
        c.w.error(ERR.syntax);
        return;
      }
      count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (opt === "MATCH" && hasValue) {
      pattern = args[i + 1] === "*" ? null : args[i + 1];
    } else if (opt === "TYPE" && hasValue) {
      typeName = args[i + 1].toLowerCase();
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  const [next, found] = c.server.store.scan(c.db, cursor, count, (key, slice) => {
    if (pattern !== null && !globMatch(pattern, key)) return false;
    const v = slice.get(key);
    if (v === undefined) return false;
    return typeName === null || typeOf(v) === typeName;
  });
  c.w.array(2);
  c.w.bulk(String(next));
  c.w.bulkArray(found);
}

// ---------------------------------------------------------------------------------------
// The table

const expire = (c: Client, a: string[]) => expireGeneric(c, a, true, true);
const pexpire = (c: Client, a: string[]) => expireGeneric(c, a, true, false);
const expireat = (c: Client, a: string[]) => expireGeneric(c, a, false, true);
const pexpireat = (c: Client, a: string[]) => expireGeneric(c, a, false, false);

/** Commands of the keys family. */
export const keyCommands: CommandSpec[] = [
  command("del", -2, ["write"], [1, -1, 1], "generic", "Deletes one or more keys.", "1.0.0", del),
  command(
    "unlink",
    -2,
    ["write", "fast"],
    [1, -1, 1],
    "generic",
    "Asynchronously deletes one or more keys.",
    "4.0.0",
    del,
  ),
  command(
    "exists",
    -2,
    ["readonly", "fast"],
    [1, -1, 1],
    "generic",
    "Determines whether one or more keys exist.",
    "1.0.0",
    exists,
  ),
  command(
    "type",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "generic",
    "Determines the type of value stored at a key.",
    "1.0.0",
    type,
  ),
  command(
    "expire",
    -3,
    ["write", "fast"],
    [1, 1, 1],
    "generic",
    "Sets the expiration time of a key in seconds.",
    "1.0.0",
    expire,
  ),
  command(
    "pexpire",
    -3,
    ["write", "fast"],
    [1, 1, 1],
    "generic",
    "Sets the expiration time of a key in milliseconds.",
    "2.6.0",
    pexpire,
  ),
  command(
    "expireat",
    -3,
    ["write", "fast"],
    [1, 1, 1],
    "generic",
    "Sets the expiration time of a key to a Unix timestamp.",
    "1.2.0",
    expireat,
  ),
  command(
    "pexpireat",
    -3,
    ["write", "fast"],
    [1, 1, 1],
    "generic",
    "Sets the expiration time of a key to a Unix milliseconds timestamp.",
    "2.6.0",
    pexpireat,
  ),
  command(
    "ttl",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "generic",
    "Returns the expiration time in seconds of a key.",
    "1.0.0",
    (c, a) => ttlGeneric(c, a[1], false, false),
  ),
  command(
    "pttl",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "generic",
    "Returns the expiration time in milliseconds of a key.",
    "2.6.0",
    (c, a) => ttlGeneric(c, a[1], true, false),
  ),
  command(
    "expiretime",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "generic",
    "Returns the expiration time of a key as a Unix timestamp.",
    "7.0.0",
    (c, a) => ttlGeneric(c, a[1], false, true),
  ),
  command(
    "pexpiretime",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "generic",
    "Returns the expiration time of a key as a Unix milliseconds timestamp.",
    "7.0.0",
    (c, a) => ttlGeneric(c, a[1], true, true),
  ),
  command(
    "persist",
    2,
    ["write", "fast"],
    [1, 1, 1],
    "generic",
    "Removes the expiration time of a key.",
    "2.2.0",
    persist,
  ),
  command(
    "rename",
    3,
    ["write"],
    [1, 2, 1],
    "generic",
    "Renames a key and overwrites the destination.",
    "1.0.0",
    (c, a) => renameGeneric(c, a, false),
  ),
  command(
    "renamenx",
    3,
    ["write", "fast"],
    [1, 2, 1],
    "generic",
    "Renames a key only when the target key name doesn't exist.",
    "1.0.0",
    (c, a) => renameGeneric(c, a, true),
  ),
  command(
    "touch",
    -2,
    ["readonly", "fast"],
    [1, -1, 1],
    "generic",
    "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
    "3.2.1",
    exists,
  ),
  command(
    "copy",
    -3,
    ["write", "denyoom"],
    [1, 2, 1],
    "generic",
    "Copies the value of a key to a new key.",
    "6.2.0",
    copy,
  ),
  command("move", 3, ["write", "fast"], [1, 1, 1], "generic", "Moves a key to another database.", "1.0.0", move),
  command(
    "object",
    -2,
    [],
    [0, 0, 0],
    "generic",
    "A container for object introspection commands.",
    "2.2.3",
    undefined,
    {
      subcommands: [
        command(
          "object|encoding",
          3,
          ["readonly"],
          [2, 2, 1],
          "generic",
          "Returns the internal encoding of a Redis object.",
          "2.2.3",
          objectEncoding,
        ),
        command(
          "object|freq",
          3,
          ["readonly"],
          [2, 2, 1],
          "generic",
          "Returns the logarithmic access frequency counter of a Redis object.",
          "4.0.0",
          objectFreq,
        ),
        command(
          "object|idletime",
          3,
          ["readonly"],
          [2, 2, 1],
          "generic",
          "Returns the time since the last access to a Redis object.",
          "2.2.3",
          objectIdletime,
        ),
        command(
          "object|refcount",
          3,
          ["readonly"],
          [2, 2, 1],
          "generic",
          "Returns the reference count of a value of a key.",
          "2.2.3",
          objectRefcount,
        ),
        command(
          "object|help",
          2,
          ["loading", "stale"],
          [0, 0, 0],
          "generic",
          "Returns helpful text about the different subcommands.",
          "6.2.0",
          (c) => replyHelp(c, OBJECT_HELP),
        ),
      ],
    },
  ),
  command("memory", -2, [], [0, 0, 0], "server", "A container for memory diagnostics commands.", "4.0.0", undefined, {
    subcommands: [
      command(
        "memory|usage",
        -3,
        ["readonly"],
        [2, 2, 1],
        "server",
        "Estimates the memory usage of a key.",
        "4.0.0",
        memoryUsage,
        { categories: ["read"] },
      ),
      command("memory|stats", 2, [], [0, 0, 0], "server", "Returns details about memory usage.", "4.0.0", memoryStats),
      command("memory|doctor", 2, [], [0, 0, 0], "server", "Outputs a memory problems report.", "4.0.0", memoryDoctor),
      command(
        "memory|malloc-stats",
        2,
        [],
        [0, 0, 0],
        "server",
        "Returns the allocator statistics.",
        "4.0.0",
        (c) => c.w.bulk("Stats not supported for the current allocator"),
      ),
      command(
        "memory|purge",
        2,
        [],
        [0, 0, 0],
        "server",
        "Asks the allocator to release memory.",
        "4.0.0",
        (c) => {
          fullGc();
          c.w.simple("OK");
        },
      ),
      command(
        "memory|help",
        2,
        ["loading", "stale"],
        [0, 0, 0],
        "server",
        "Returns helpful text about the different subcommands.",
        "4.0.0",
        (c) => replyHelp(c, MEMORY_HELP),
      ),
    ],
  }),
  command("swapdb", 3, ["write", "fast"], [0, 0, 0], "server", "Swaps two Redis databases.", "4.0.0", swapdb, {
    categories: ["keyspace", "dangerous"],
  }),
  command(
    "flushdb",
    -1,
    ["write"],
    [0, 0, 0],
    "server",
    "Remove all keys from the current database.",
    "1.0.0",
    flushdb,
    { categories: ["keyspace", "dangerous"] },
  ),
  command("flushall", -1, ["write"], [0, 0, 0], "server", "Removes all keys from all databases.", "1.0.0", flushall, {
    categories: ["keyspace", "dangerous"],
  }),
  command(
    "dbsize",
    1,
    ["readonly", "fast"],
    [0, 0, 0],
    "server",
    "Returns the number of keys in the database.",
    "1.0.0",
    (c) => c.w.int(c.server.store.dbSize(c.db)),
    { categories: ["keyspace", "read"] },
  ),
  command(
    "randomkey",
    1,
    ["readonly"],
    [0, 0, 0],
    "generic",
    "Returns a random key name from the database.",
    "1.0.0",
    randomkey,
  ),
  command("keys", 2, ["readonly"], [0, 0, 0], "generic", "Returns all key names that match a pattern.", "1.0.0", keys, {
    categories: ["dangerous"],
  }),
  command(
    "scan",
    -2,
    ["readonly"],
    [0, 0, 0],
    "generic",
    "Iterates over the key names in the database.",
    "2.8.0",
    scan,
  ),
];
