/**
 * OBJECT ENCODING against real redis-server: the same command histories go to damselfly and to
 * Debian's redis-server 7.0, and OBJECT ENCODING of the touched keys is compared after every
 * step. Strings cover every way a value comes to be (SET and its variants, counters, APPEND,
 * SETRANGE, bit and HLL commands, COPY, RENAME, MOVE, RESTORE, SORT..STORE, RDB load via DEBUG
 * RELOAD); containers cover listpack/quicklist/intset/hashtable/skiplist/stream with the
 * thresholds set by CONFIG SET and the (lack of) conversions after deletes. Replicas (of a
 * damselfly primary and of a Redis primary) and a SAVE/restart round trip must report what a
 * Redis replica or a restarted Redis reports for the same history.
 */
import assert from "node:assert/strict";
import { RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameAsRedis, type DiffStep } from "../helpers/differential.ts";

type Cmd = (string | number)[];

/** A step whose reply is not compared (random picks). */
interface Unchecked {
  /** The command. */
  unchecked: Cmd;
}

/**
 * Steps running each command and then OBJECT ENCODING of `keys` (the command's first key by
 * default); an Unchecked entry runs without comparing its reply.
 */
function withEncodings(cmds: (Cmd | [Cmd, string[]] | Unchecked)[]): DiffStep[] {
  const steps: DiffStep[] = [];
  for (const entry of cmds) {
    if (!Array.isArray(entry)) {
      steps.push({ cmd: entry.unchecked, norm: () => "not compared" });
      continue;
    }
    const [cmd, keys] = Array.isArray(entry[0]) ? entry as [Cmd, string[]] : [entry as Cmd, [String(entry[1])]];
    steps.push(cmd);
    for (const k of keys) steps.push(["OBJECT", "ENCODING", k]);
  }
  return steps;
}

const LONG = "x".repeat(44);
const LONGER = "x".repeat(45);

/** Strings made by SET and its variants: the encoding follows the content (tryObjectEncoding). */
const SET_FAMILY = withEncodings([
  ["SET", "s", "hello"],
  ["SET", "s", "123"],
  ["SET", "s", "-123"],
  ["SET", "s", "0"],
  ["SET", "s", "-0"],
  ["SET", "s", "+1"],
  ["SET", "s", "007"],
  ["SET", "s", " 1"],
  ["SET", "s", "9223372036854775807"],
  ["SET", "s", "9223372036854775808"],
  ["SET", "s", "-9223372036854775808"],
  ["SET", "s", "-9223372036854775809"],
  ["SET", "s", "1.5"],
  ["SET", "s", ""],
  ["SET", "s", LONG],
  ["SET", "s", LONGER],
  ["SET", "s", "12345678901234567890123"],
  ["SET", "s", "v", "EX", "100"],
  ["SET", "s", "42", "KEEPTTL"],
  ["SET", "s", "abc", "GET"],
  ["SET", "s", "17", "GET"],
  ["SET", "s", "x", "NX"],
  ["SETEX", "s", 100, "5"],
  ["SETEX", "s", 100, "five"],
  ["PSETEX", "s", 100000, LONGER],
  ["SETNX", "n", "1"],
  ["SETNX", "n2", "one"],
  ["GETSET", "s", "77"],
  ["GETSET", "s", "seventy"],
  [["MSET", "m1", "1", "m2", "two", "m3", LONGER], ["m1", "m2", "m3"]],
  [["MSETNX", "m4", "4", "m5", "five"], ["m4", "m5"]],
  ["GETEX", "m4", "EX", "100"],
  ["GETEX", "m5", "PERSIST"],
  ["GETDEL", "m4"],
  ["SET", "s", "-1"],
  ["SET", "s", "10000"],
  ["SET", "s", "9999"],
]);

/** Strings changed in place or built by other commands: Redis's raw and unshared objects. */
const MADE_STRINGS = withEncodings([
  ["APPEND", "a", "1"],
  ["APPEND", "a", "2"],
  ["APPEND", "a2", "hello"],
  ["APPEND", "a2", ""],
  ["SET", "a3", "12"],
  ["APPEND", "a3", ""],
  ["SET", "a4", "ab"],
  ["APPEND", "a4", "cd"],
  ["APPEND", "a5", LONGER],
  ["SETRANGE", "r", 0, "abc"],
  ["SETRANGE", "r1", 0, "12"],
  ["SETRANGE", "r2", 0, ""],
  ["SET", "r3", "hello"],
  ["SETRANGE", "r3", 0, ""],
  ["SETRANGE", "r3", 1, "a"],
  ["SET", "r4", "123"],
  ["SETRANGE", "r4", 0, ""],
  ["SETRANGE", "r4", 0, "4"],
  ["INCR", "r4"],
  ["INCR", "c"],
  ["INCRBY", "c", 100],
  ["DECR", "c"],
  ["DECRBY", "c", 5],
  ["SET", "c2", "10"],
  ["INCR", "c2"],
  ["INCRBYFLOAT", "f", "1"],
  ["INCRBYFLOAT", "f", "1.5"],
  ["INCRBYFLOAT", "f", "0.5"],
  ["INCR", "f"],
  ["INCRBYFLOAT", "f2", "1e40"],
  ["INCRBYFLOAT", "f2", "1e10"],
  ["SET", "f3", "7"],
  ["INCRBYFLOAT", "f3", "0"],
  ["SETBIT", "b", 3, 1],
  ["SETBIT", "b", 3, 1],
  ["SET", "b2", "12"],
  ["SETBIT", "b2", 0, 0],
  ["SET", "b3", "hi"],
  ["GETBIT", "b3", 0],
  ["BITCOUNT", "b3"],
  ["BITFIELD", "bf", "SET", "u8", 0, 49],
  ["SET", "bf2", "hello"],
  ["BITFIELD", "bf2", "GET", "u8", 0],
  ["BITFIELD_RO", "bf2", "GET", "u8", 0],
  ["BITFIELD", "bf2", "INCRBY", "u8", 0, 1],
  ["SET", "bf3", "9"],
  ["BITFIELD", "bf3", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 8],
  ["SET", "bo1", "ab"],
  ["SET", "bo2", "12"],
  [["BITOP", "AND", "bo", "bo1", "bo2"], ["bo", "bo1", "bo2"]],
  [["BITOP", "OR", "bo3", "bo2"], ["bo3"]],
  [["BITOP", "NOT", "bo4", "bo1"], ["bo4"]],
  [["BITOP", "XOR", "bo5", "bo", LONGER], ["bo5"]],
  [["BITOP", "AND", "bo", "nokey"], ["bo"]],
  ["PFADD", "h", "a", "b"],
  ["PFADD", "h", "a"],
  ["PFADD", "h2"],
  ["PFCOUNT", "h"],
  ["PFMERGE", "h3", "h", "h2"],
  ["PFMERGE", "h4"],
  ["SET", "h5", "x"],
  ["DEL", "h5"],
  ["PFADD", "h5", "q"],
  ["SET", "r", "plain"],
  ["APPEND", "r", "x"],
  ["DEL", "r"],
  ["SET", "r", "5"],
  ["SETRANGE", "r", 0, "6"],
  ["SET", "r", "6"],
  ["SETRANGE", "r", 0, "7"],
  ["DECR", "r"],
  ["APPEND", "r", "1"],
  ["GETSET", "r", "8"],
  ["APPEND", "r", "1"],
  ["EXPIRE", "r", 100],
  ["PERSIST", "r"],
  ["GETEX", "r", "PX", 100000],
  ["SET", "r", "x", "KEEPTTL"],
]);

/** Values moved or copied keep how they were made; RESTORE and SORT..STORE make new ones. */
const MOVED_STRINGS = withEncodings([
  ["APPEND", "src", "a"],
  ["APPEND", "src", "b"],
  [["COPY", "src", "dst"], ["src", "dst"]],
  [["RENAME", "src", "ren"], ["ren"]],
  [["RENAMENX", "ren", "ren2"], ["ren2"]],
  ["INCRBYFLOAT", "fl", "3"],
  [["COPY", "fl", "fl2"], ["fl2"]],
  ["SET", "i", "12"],
  [["COPY", "i", "i2"], ["i2"]],
  ["SETRANGE", "m", 0, "5"],
  [["MOVE", "m", 1], ["m"]],
  ["SELECT", 1],
  ["OBJECT", "ENCODING", "m"],
  [["COPY", "m", "m", "DB", 0], ["m"]],
  ["SELECT", 0],
  ["OBJECT", "ENCODING", "m"],
  ["SET", "sw", "1"],
  ["SWAPDB", 0, 1],
  ["OBJECT", "ENCODING", "sw"],
  ["OBJECT", "ENCODING", "m"],
  ["SWAPDB", 0, 1],
  ["OBJECT", "ENCODING", "sw"],
  ["OBJECT", "ENCODING", "m"],
  ["RPUSH", "list", "3", "1", "2"],
  [["SORT", "list", "STORE", "sorted"], ["sorted"]],
]);

/** RESTORE of a DUMP of a raw string re-derives the encoding, as Redis's RDB load does. */
async function restoreSteps(redisPort: number): Promise<DiffStep[]> {
  const r = await RespClient.connect(redisPort);
  try {
    await r.call("FLUSHALL");
    const dumps: Record<string, unknown> = {};
    await r.call("APPEND", "x1", "12");
    await r.call("APPEND", "x2", "ab");
    await r.call("INCRBYFLOAT", "x3", "2");
    await r.call("SET", "x4", LONGER);
    await r.call("RPUSH", "x5", "a");
    await r.call("PFADD", "hll", "a");
    for (const k of ["x1", "x2", "x3", "x4", "x5", "hll"]) dumps[k] = await r.call("DUMP", k);
    await r.call("FLUSHALL");
    const hll = dumps.hll as string;
    return withEncodings([
      ...Object.entries(dumps).map(([k, d]) => [["RESTORE", `${k}r`, 0, d as string], [`${k}r`]] as [Cmd, string[]]),
      // A short HLL restored is an embstr; HLL commands that unshare it make it raw.
      ["RESTORE", "h1", 0, hll],
      [["PFCOUNT", "h1", "nokey"], ["h1"]],
      ["PFCOUNT", "h1"],
      ["RESTORE", "h2", 0, hll],
      ["PFADD", "h2", "a"],
      ["RESTORE", "h3", 0, hll],
      [["PFMERGE", "h4", "h3"], ["h3", "h4"]],
      ["PFMERGE", "h3"],
      ["RESTORE", "h5", 0, hll],
      ["PFDEBUG", "ENCODING", "h5"],
      ["RESTORE", "h6", 0, hll],
      ["PFDEBUG", "DECODE", "h6"],
      ["RESTORE", "h7", 0, hll],
      ["PFDEBUG", "TODENSE", "h7"],
      ["PFADD", "h7", "a"],
      ["RESTORE", "h8", 0, hll],
      ["PFDEBUG", "TODENSE", "h8"],
      ["RESTORE", "h9", 0, hll],
      ["PFADD", "h9"],
      [["OBJECT", "REFCOUNT", "h9"], []],
      ["SETRANGE", "ref", 0, "5"],
      [["OBJECT", "REFCOUNT", "ref"], []],
      ["INCRBYFLOAT", "ref2", "5"],
      [["OBJECT", "REFCOUNT", "ref2"], []],
      ["SET", "ref3", "5"],
      [["OBJECT", "REFCOUNT", "ref3"], []],
    ]);
  } finally {
    r.close();
  }
}

const V64 = "v".repeat(64);
const V65 = "v".repeat(65);
const ints = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));

/** Hashes: listpack until too many fields or a long field or value, then hashtable for good. */
const HASHES = withEncodings([
  ["CONFIG", "SET", "hash-max-listpack-entries", "4"],
  ["CONFIG", "SET", "hash-max-listpack-value", "64"],
  ["HSET", "hash", "a", "1", "b", V64],
  ["HSET", "hash", "c", "3", "d", "4"],
  ["HSET", "hash", "e", "5"],
  ["HDEL", "hash", "a", "b", "c", "d"],
  ["HSET", "hash2", "a", V65],
  ["HSET", "hash3", V65, "1"],
  ["HSET", "hash4", "f", "1"],
  ["HSETNX", "hash4", "g", V65],
  ["HSET", "hash5", "f", "1"],
  ["HINCRBY", "hash5", "n", 5],
  ["HINCRBYFLOAT", "hash5", "x", "1e60"],
  ["HINCRBYFLOAT", "hash5", "y", "1e70"],
  ["HSET", "hash12", "f", "1"],
  ["HINCRBY", "hash12", "g" + "x".repeat(70), 1],
  ["HSET", "hash6", "f", "1"],
  ["HINCRBYFLOAT", "hash6", "f" + "x".repeat(70), "1"],
  ["HSET", "hash7", "a", "1", "b", "2", "c", "3", "d", "4"],
  ["HSETNX", "hash7", "e", "5"],
  ["HMSET", "hash8", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"],
  ["CONFIG", "SET", "hash-max-ziplist-entries", "0"],
  ["CONFIG", "GET", "hash-max-listpack-entries"],
  ["HSET", "hash9", "a", "1"],
  ["CONFIG", "SET", "hash-max-listpack-entries", "512"],
  ["HSET", "hash9", "b", "1"],
  ["HSET", "hash", "z", "1"],
  ["CONFIG", "SET", "hash-max-listpack-value", "2"],
  ["HSET", "hash10", "ab", "cd"],
  ["HSET", "hash10", "abc", "d"],
  ["HSET", "hash11", "long-field", "long-value"],
  ["CONFIG", "SET", "hash-max-listpack-value", "3"],
  ["HSET", "hash11", "f", "v"],
  ["HSET", "hash11", "long-field", "x"],
  ["CONFIG", "SET", "hash-max-listpack-entries", "1"],
  ["HSET", "hash11", "long-field", "y"],
  ["HSET", "hash11", "g", "w"],
  ["CONFIG", "SET", "hash-max-listpack-entries", "512"],
  ["CONFIG", "SET", "hash-max-listpack-value", "64"],
  [["COPY", "hash", "hashc"], ["hashc"]],
  [["RENAME", "hash7", "hash7r"], ["hash7r"]],
  [["DEBUG", "RELOAD"], [
    "hash",
    "hash2",
    "hash3",
    "hash4",
    "hash5",
    "hash6",
    "hash7r",
    "hash8",
    "hash9",
    "hash10",
    "hashc",
  ]],
]);

/** Sets: intset while every member is an integer and there are few enough, else hashtable. */
const SETS = withEncodings([
  ["CONFIG", "SET", "set-max-listpack-entries", "4"],
  ["CONFIG", "GET", "set-max-listpack-entries"],
  ["CONFIG", "SET", "set-max-intset-entries", "4"],
  ["SADD", "s", "1", "2", "-3"],
  ["SADD", "s", "4"],
  ["SADD", "s", "5"],
  ["SREM", "s", "1", "2", "-3", "4"],
  ["SADD", "s2", "1", "x"],
  ["SREM", "s2", "x"],
  ["SADD", "s3", "01"],
  ["SADD", "s4", "9223372036854775807"],
  ["SADD", "s5", "9223372036854775808"],
  ["SADD", "s6", "+1"],
  ["SADD", "s7", "-0"],
  ["SADD", "s8", "1", "2", "3", "4", "5"],
  ["SADD", "s9", "1", "2", "3"],
  [["SMOVE", "s9", "s10", "1"], ["s9", "s10"]],
  [["SMOVE", "s2", "s11", "1"], ["s2", "s11"]],
  [["SINTERSTORE", "s12", "s", "s8"], ["s12"]],
  [["SUNIONSTORE", "s13", "s9", "s10"], ["s13"]],
  [["SUNIONSTORE", "s14", "s8", "s2"], ["s14"]],
  [["SDIFFSTORE", "s15", "s8", "s9"], ["s15"]],
  [["SDIFFSTORE", "s16", "s2", "s8"], ["s16"]],
  ["SADD", "sp", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
  { unchecked: ["SPOP", "sp"] },
  ["OBJECT", "ENCODING", "sp"],
  ["SREM", "sp", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
  ["SADD", "sp2", "a", ...ints(1, 20)],
  ["SREM", "sp2", "a"],
  { unchecked: ["SPOP", "sp2", 18] },
  ["OBJECT", "ENCODING", "sp2"],
  ["SADD", "sp3", "a", ...ints(1, 20)],
  ["SREM", "sp3", "a"],
  { unchecked: ["SPOP", "sp3", 3] },
  ["OBJECT", "ENCODING", "sp3"],
  ["CONFIG", "SET", "set-max-intset-entries", "512"],
  ["SADD", "s17", "1", "2", "3"],
  ["CONFIG", "SET", "set-max-intset-entries", "2"],
  ["SADD", "s17", "2"],
  ["SREM", "s17", "1"],
  ["SADD", "s17", "1"],
  ["CONFIG", "SET", "set-max-intset-entries", "512"],
  ["SADD", "s8", "6"],
  [["COPY", "s", "sc"], ["sc"]],
  [["DEBUG", "RELOAD"], ["s", "s2", "s8", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "sp", "sp2", "sc"]],
  ["CONFIG", "SET", "set-max-intset-entries", "2"],
  [["DEBUG", "RELOAD"], ["s", "s2", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "sp", "sp2", "sc"]],
  ["CONFIG", "SET", "set-max-intset-entries", "512"],
]);

/** Sorted sets: listpack until too many entries or a long member, then skiplist. */
const ZSETS = withEncodings([
  ["CONFIG", "SET", "zset-max-listpack-entries", "4"],
  ["CONFIG", "SET", "zset-max-listpack-value", "64"],
  ["ZADD", "z", 1, "a", 2, V64],
  ["ZADD", "z", 3, "c", 4, "d"],
  ["ZADD", "z", 5, "e"],
  ["ZREM", "z", "a", V64, "c", "d"],
  ["ZADD", "z2", 1, V65],
  ["ZADD", "z3", 1, "a", 2, V65],
  ["ZINCRBY", "z4", 1, V65],
  ["ZADD", "z5", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"],
  ["ZPOPMIN", "z5", 4],
  [["ZUNIONSTORE", "z6", 1, "z5"], ["z6"]],
  [["ZUNIONSTORE", "z7", 2, "z", "z5"], ["z7"]],
  [["ZINTERSTORE", "z8", 1, "z3"], ["z8"]],
  [["ZDIFFSTORE", "z9", 1, "z3"], ["z9"]],
  [["ZRANGESTORE", "z10", "z3", 0, -1], ["z10"]],
  [["ZRANGESTORE", "z11", "z3", 0, 0], ["z11"]],
  [["ZUNIONSTORE", "z12", 2, "z5", "z3"], ["z12"]],
  ["GEOADD", "g", 13.361389, 38.115556, "Palermo"],
  [["GEOSEARCHSTORE", "g2", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km"], ["g2"]],
  ["CONFIG", "SET", "zset-max-listpack-entries", "0"],
  ["ZADD", "z13", 1, "a"],
  [["ZUNIONSTORE", "z14", 1, "z5"], ["z14"]],
  ["CONFIG", "SET", "zset-max-listpack-entries", "128"],
  ["CONFIG", "SET", "zset-max-listpack-value", "1"],
  ["ZADD", "z15", 1, "ab"],
  ["ZADD", "z16", 1, "a"],
  ["ZADD", "z16", 1, "ab"],
  ["ZADD", "z17", 1, "long-member", 2, "m"],
  ["CONFIG", "SET", "zset-max-listpack-value", "3"],
  ["ZADD", "z17", 3, "n"],
  ["ZADD", "z17", 4, "long-member"],
  ["ZINCRBY", "z17", 1, "long-member"],
  ["CONFIG", "SET", "zset-max-listpack-entries", "2"],
  ["ZADD", "z17", 5, "m"],
  ["ZADD", "z17", 5, "o"],
  ["CONFIG", "SET", "zset-max-listpack-entries", "128"],
  ["CONFIG", "SET", "zset-max-listpack-value", "64"],
  [["COPY", "z", "zc"], ["zc"]],
  [["DEBUG", "RELOAD"], [
    "z",
    "z2",
    "z3",
    "z4",
    "z5",
    "z6",
    "z7",
    "z8",
    "z9",
    "z10",
    "z11",
    "z12",
    "z13",
    "z14",
    "z15",
    "z16",
    "zc",
    "g",
    "g2",
  ]],
]);

/** Lists (always quicklist in 7.0, whatever list-max-listpack-size says) and streams. */
const LISTS_AND_STREAMS = withEncodings([
  ["CONFIG", "SET", "list-max-listpack-size", "2"],
  ["RPUSH", "l", "a"],
  ["RPUSH", "l", "b", "c", "d"],
  ["LPOP", "l", 3],
  ["CONFIG", "SET", "list-max-listpack-size", "-2"],
  ["LPUSH", "l2", V65],
  [["LMOVE", "l2", "l3", "LEFT", "RIGHT"], ["l3"]],
  ["RPUSH", "l4", "3", "1"],
  [["SORT", "l4", "STORE", "l5"], ["l5"]],
  ["XADD", "x", "1-1", "f", "v"],
  ["XTRIM", "x", "MAXLEN", 0],
  [["COPY", "x", "xc"], ["xc"]],
  [["DEBUG", "RELOAD"], ["l", "l3", "l5", "x", "xc"]],
]);

/** Encodings survive accesses under either maxmemory policy, and an RDB reload re-derives them. */
const POLICY_AND_RELOAD = withEncodings([
  ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
  ["APPEND", "p1", "1"],
  ["APPEND", "p1", "2"],
  ["GET", "p1"],
  ["INCRBYFLOAT", "p2", "2"],
  ["GET", "p2"],
  ["SET", "p1", "3", "GET"],
  ["APPEND", "p1", "4"],
  ["SET", "p1", "5"],
  ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
  ["APPEND", "p1", "6"],
  ["GET", "p1"],
  ["STRLEN", "p1"],
  ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
  [["OBJECT", "FREQ", "p1"], []],
  ["SETBIT", "p3", 1, 1],
  ["SETRANGE", "p4", 0, "9"],
  [["DEBUG", "RELOAD"], ["p1", "p2", "p3", "p4"]],
]);

Deno.test("object encoding: strings match redis-server for every way a value is made", async (t) => {
  const srv = await startServer(["--num_shards=2"]);
  const redis = await startRedis(["--enable-debug-command", "yes"]);
  try {
    await t.step("SET and its variants", () => assertSameAsRedis(srv.port, redis.port, SET_FAMILY, [2]));
    await t.step(
      "APPEND, SETRANGE, counters, bits, HLL",
      () => assertSameAsRedis(srv.port, redis.port, MADE_STRINGS, [2]),
    );
    await t.step(
      "COPY, RENAME, MOVE, SWAPDB, SORT STORE",
      () => assertSameAsRedis(srv.port, redis.port, MOVED_STRINGS, [2]),
    );
    await t.step("policies and DEBUG RELOAD", () => assertSameAsRedis(srv.port, redis.port, POLICY_AND_RELOAD, [2]));
    await t.step("hashes", () => assertSameAsRedis(srv.port, redis.port, HASHES, [2]));
    await t.step("sets", () => assertSameAsRedis(srv.port, redis.port, SETS, [2]));
    await t.step("sorted sets", () => assertSameAsRedis(srv.port, redis.port, ZSETS, [2]));
    await t.step("lists and streams", () => assertSameAsRedis(srv.port, redis.port, LISTS_AND_STREAMS, [2]));
    await t.step("RESTORE", async () => assertSameAsRedis(srv.port, redis.port, await restoreSteps(redis.port), [2]));
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

/** Lower thresholds, given to every server of the replication test (configuration is not replicated). */
const SMALL_THRESHOLDS = ["hash-max-listpack-entries", "set-max-intset-entries", "zset-max-listpack-entries"];
/** SMALL_THRESHOLDS as redis-server arguments. */
const REDIS_THRESHOLDS = SMALL_THRESHOLDS.flatMap((name) => [`--${name}`, "4"]);
/** SMALL_THRESHOLDS as damselfly flags. */
const DF_THRESHOLDS = SMALL_THRESHOLDS.map((name) => `--${name}=4`);

/** The deterministic writes of some differential steps (no OBJECT, CONFIG, DEBUG, SELECT or unchecked steps). */
function writesOf(...lists: DiffStep[][]): Cmd[] {
  const skip = new Set(["OBJECT", "CONFIG", "DEBUG", "SELECT", "SWAPDB", "MOVE"]);
  return lists.flat().filter((s): s is Cmd => Array.isArray(s) && !skip.has(String(s[0])));
}

/** Runs `cmds` on the server at `port`; replies are not checked (the encodings are). */
async function runAll(port: number, cmds: Cmd[]): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    for (const cmd of cmds) await c.call(...cmd);
  } finally {
    c.close();
  }
}

/** OBJECT ENCODING of every key of dbs 0 and 1 on the server at `port`, as `db/key=encoding` lines. */
async function encodings(port: number): Promise<string[]> {
  const c = await RespClient.connect(port);
  try {
    const out: string[] = [];
    for (const db of [0, 1]) {
      await c.call("SELECT", db);
      const keys = (await c.call("KEYS", "*") as string[]).sort();
      for (const k of keys) out.push(`${db}/${k}=${String(await c.call("OBJECT", "ENCODING", k))}`);
    }
    return out;
  } finally {
    c.close();
  }
}

/** INFO replication of the server at `port` as a record. */
async function replInfo(port: number): Promise<Record<string, string>> {
  const text = String(
    await RespClient.connect(port).then(async (c) => {
      try {
        return await c.call("INFO", "replication");
      } finally {
        c.close();
      }
    }),
  );
  return Object.fromEntries(text.split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(/:(.*)/s, 2)));
}

Deno.test("object encoding: replicas and restarts answer what Redis's own would", async (t) => {
  // Keys written before the replicas attach (in db 1) reach them by full sync (an RDB:
  // encodings are re-derived); the rest (in db 0) by the command stream.
  const before: Cmd[] = [["SELECT", 1], ...writesOf(MADE_STRINGS, MOVED_STRINGS, HASHES, SETS, ZSETS)];
  const after = writesOf(MADE_STRINGS, MOVED_STRINGS, HASHES, SETS, ZSETS, LISTS_AND_STREAMS);
  const redisPrimary = await startRedis([
    "--repl-diskless-sync-delay",
    "0",
    "--enable-debug-command",
    "yes",
    ...REDIS_THRESHOLDS,
  ]);
  const dir = await Deno.makeTempDir({ prefix: "damselfly-encoding-" });
  const dfFlags = ["--num_shards=3", `--dir=${dir}`, "--dbfilename=dump.rdb", ...DF_THRESHOLDS];
  let dfPrimary = await startServer(dfFlags);
  const started: { stop(): Promise<unknown> }[] = [redisPrimary, dfPrimary];
  try {
    for (const p of [redisPrimary.port, dfPrimary.port]) await runAll(p, before);
    const redisOfRedis = await startRedis(["--replicaof", "127.0.0.1", String(redisPrimary.port), ...REDIS_THRESHOLDS]);
    started.push(redisOfRedis);
    const dfOfRedis = await startServer([`--replicaof=127.0.0.1:${redisPrimary.port}`, ...DF_THRESHOLDS]);
    started.push(dfOfRedis);
    const dfOfDf = await startServer([`--replicaof=127.0.0.1:${dfPrimary.port}`, ...DF_THRESHOLDS]);
    started.push(dfOfDf);
    const redisOfDf = await startRedis(["--replicaof", "127.0.0.1", String(dfPrimary.port), ...REDIS_THRESHOLDS]);
    started.push(redisOfDf);
    const replicas = [redisOfRedis, dfOfRedis, dfOfDf, redisOfDf];
    for (const r of replicas) {
      await waitFor(async () => (await replInfo(r.port)).master_link_status === "up", `replica ${r.port} link up`);
    }
    for (const p of [redisPrimary.port, dfPrimary.port]) await runAll(p, after);
    // Every replica applied its primary's whole stream (offsets match).
    const applied = async (primary: number, replica: number) =>
      (await replInfo(replica)).slave_repl_offset === (await replInfo(primary)).master_repl_offset;
    await waitFor(() => applied(redisPrimary.port, redisOfRedis.port), "redis replica of redis in sync");
    await waitFor(() => applied(redisPrimary.port, dfOfRedis.port), "damselfly replica of redis in sync");
    await waitFor(() => applied(dfPrimary.port, redisOfDf.port), "redis replica of damselfly in sync");
    await waitFor(async () => {
      const [lsns, r] = await Promise.all([
        RespClient.connect(dfPrimary.port).then(async (c) => {
          try {
            return await c.call("DFLY", "REPLICAOFFSET") as number[];
          } finally {
            c.close();
          }
        }),
        replInfo(dfOfDf.port),
      ]);
      return Number(r.slave_repl_offset) === lsns.reduce((a, b) => a + b, 0);
    }, "damselfly replica of damselfly in sync");

    const truth = await encodings(redisOfRedis.port);
    assert.ok(truth.length > 150, `the history made ${truth.length} keys`);
    await t.step("damselfly replica of Redis", async () => assert.deepEqual(await encodings(dfOfRedis.port), truth));
    await t.step("damselfly replica of damselfly", async () => assert.deepEqual(await encodings(dfOfDf.port), truth));
    await t.step("Redis replica of damselfly", async () => assert.deepEqual(await encodings(redisOfDf.port), truth));
    await t.step("the primaries, and both after an RDB save and load", async () => {
      assert.deepEqual(await encodings(dfPrimary.port), await encodings(redisPrimary.port));
      await runAll(dfPrimary.port, [["SAVE"]]);
      await dfPrimary.stop();
      dfPrimary = await startServer(dfFlags);
      started.push(dfPrimary);
      await runAll(redisPrimary.port, [["DEBUG", "RELOAD"]]);
      const reloaded = await encodings(redisPrimary.port);
      assert.notDeepEqual(reloaded, truth, "a reload re-derives some encodings");
      assert.deepEqual(await encodings(dfPrimary.port), reloaded);
    });
  } finally {
    for (const s of started.reverse()) await s.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
