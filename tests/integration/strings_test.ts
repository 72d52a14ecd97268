/**
 * String commands against a real damselfly process (4 shards): a differential run against
 * real redis-server (RESP2 and RESP3, every option and error case, binary-safe data), a
 * randomized INCRBYFLOAT differential, expiry with deadlines, and the real clients
 * (redis-cli, ioredis, node-redis). In-process checks cover what a socket cannot show: the
 * recorded replication form of each write, keyspace events, and WRONGTYPE against values of
 * other types.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameAsRedis, type DiffStep, within } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import type { CollectionValue } from "../../src/store/values.ts";

/** Every byte value, so binary safety is checked for keys and values. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("latin1");
const BIN_KEY = "k\x00\r\n\xff\x80\x9f{x}" + ALL_BYTES.slice(0, 40);

const SET_STEPS: DiffStep[] = [
  ["SET", "foo", "bar"],
  ["GET", "foo"],
  ["SET", "foo", "bar", "NX"],
  ["SET", "foo", "baz", "XX"],
  ["GET", "foo"],
  ["SET", "nokey", "v", "XX"],
  ["GET", "nokey"],
  ["SET", "foo", "bar", "NX", "XX"],
  ["SET", "foo", "bar", "XX", "NX"],
  ["SET", "foo", "bar", "nx", "nx"],
  ["SET", "foo", "bar", "EX", "10", "PX", "100"],
  ["SET", "foo", "bar", "PX", "100", "EX", "10"],
  ["SET", "foo", "bar", "EXAT", "100", "PXAT", "100"],
  ["SET", "foo", "bar", "EX"],
  ["SET", "foo", "bar", "EX", "0"],
  ["SET", "foo", "bar", "EX", "-1"],
  ["SET", "foo", "bar", "PX", "0"],
  ["SET", "foo", "bar", "EXAT", "0"],
  ["SET", "foo", "bar", "PXAT", "-5"],
  ["SET", "foo", "bar", "EX", "abc"],
  ["SET", "foo", "bar", "EX", "1.5"],
  ["SET", "foo", "bar", "EX", "9223372036854775807"],
  ["SET", "foo", "bar", "EX", "9223372036854775"],
  ["SET", "foo", "bar", "PX", "9223372036854775807"],
  ["SET", "foo", "bar", "EX", "9223372036854775808"],
  ["SET", "foo", "bar", "KEEPTTL", "EX", "10"],
  ["SET", "foo", "bar", "EX", "10", "KEEPTTL"],
  ["SET", "foo", "bar", "PERSIST"],
  ["SET", "foo", "bar", "unknown"],
  ["SET", "foo", "bar", "GET"],
  ["SET", "foo", "baz", "get", "GeT"],
  ["SET", "newkey", "v", "GET"],
  ["SET", "foo", "v", "NX", "GET"],
  ["SET", "foo", "w", "XX", "GET"],
  ["SET", "absent", "w", "XX", "GET"],
  ["GET", "absent"],
  ["SET", "foo", "v1", "EX", "100", "EX", "200"],
  { cmd: ["TTL", "foo"], norm: within(199, 200) },
  ["SET", "foo", "v2", "KEEPTTL"],
  { cmd: ["TTL", "foo"], norm: within(199, 200) },
  ["SET", "foo", "v2", "KEEPTTL", "KEEPTTL"],
  ["SET", "foo", "v3"],
  ["TTL", "foo"],
  ["SET", "foo", "v4", "PX", "100000", "GET"],
  { cmd: ["PTTL", "foo"], norm: within(90000, 100000) },
  ["SET", "foo", "v5", "EXAT", "4102444800"],
  ["EXPIRETIME", "foo"],
  ["SET", "foo", "v6", "PXAT", "4102444800123"],
  ["PEXPIRETIME", "foo"],
  ["SET", "foo", "v7", "EXAT", "1"],
  ["GET", "foo"],
  ["EXISTS", "foo"],
  ["SET", "foo"],
  ["SET"],
  ["SETNX", "foo", "x"],
  ["SETNX", "foo", "y"],
  ["GET", "foo"],
  ["SETNX", "foo"],
  ["SETEX", "s", "100", "v"],
  { cmd: ["TTL", "s"], norm: within(99, 100) },
  ["SETEX", "s", "0", "v"],
  ["SETEX", "s", "-1", "v"],
  ["SETEX", "s", "x", "v"],
  ["SETEX", "s", "9223372036854775807", "v"],
  ["SETEX", "s", "10"],
  ["PSETEX", "p", "100000", "v"],
  { cmd: ["PTTL", "p"], norm: within(90000, 100000) },
  ["PSETEX", "p", "0", "v"],
  ["PSETEX", "p", "x", "v"],
  ["PSETEX", "p", "9223372036854775807", "v"],
  ["GET", "p"],
];

const GET_STEPS: DiffStep[] = [
  ["SET", "foo", "bar"],
  ["GET", "foo", "extra"],
  ["GET"],
  ["GETEX", "foo"],
  ["GETEX", "foo", "EX", "100"],
  { cmd: ["TTL", "foo"], norm: within(99, 100) },
  ["GETEX", "foo", "PERSIST"],
  ["TTL", "foo"],
  ["GETEX", "foo", "PERSIST"],
  ["GETEX", "foo", "PX", "50000"],
  { cmd: ["PTTL", "foo"], norm: within(40000, 50000) },
  ["GETEX", "foo", "EXAT", "4102444800"],
  ["EXPIRETIME", "foo"],
  ["GETEX", "foo", "PXAT", "4102444800555"],
  ["PEXPIRETIME", "foo"],
  ["GETEX", "foo", "PX", "0"],
  ["GETEX", "foo", "EX", "-3"],
  ["GETEX", "foo", "EX", "x"],
  ["GETEX", "foo", "EX", "10", "PX", "10"],
  ["GETEX", "foo", "PERSIST", "EX", "10"],
  ["GETEX", "foo", "EX", "10", "PERSIST"],
  ["GETEX", "foo", "KEEPTTL"],
  ["GETEX", "foo", "GET"],
  ["GETEX", "foo", "NX"],
  ["GETEX", "foo", "EX"],
  ["GETEX", "missing"],
  ["GETEX", "missing", "EX", "0"],
  ["GETEX", "missing", "BADOPT"],
  ["GETEX", "foo", "EXAT", "1"],
  ["EXISTS", "foo"],
  ["SET", "foo", "bar"],
  ["GETEX", "foo", "PXAT", "1"],
  ["EXISTS", "foo"],
  ["GETEX"],
  ["SET", "gd", "v"],
  ["GETDEL", "gd"],
  ["GETDEL", "gd"],
  ["EXISTS", "gd"],
  ["GETDEL"],
  ["GETDEL", "a", "b"],
  ["GETSET", "gs", "1"],
  ["GETSET", "gs", "2"],
  ["GET", "gs"],
  ["SETEX", "gs", "100", "3"],
  ["GETSET", "gs", "4"],
  ["TTL", "gs"],
  ["GETSET", "gs"],
  ["MSET", "a", "1", "b", "2", "c", "3"],
  ["MGET", "a", "b", "c", "nokey", "a"],
  ["MSET", "a", "1", "b"],
  ["MSET", "a"],
  ["MSET", "a", "x", "a", "y"],
  ["GET", "a"],
  ["MSETNX", "a", "1", "new1", "2"],
  ["EXISTS", "new1"],
  ["MSETNX", "new1", "1", "new2", "2"],
  ["MGET", "new1", "new2"],
  ["MSETNX", "new3", "1", "new3", "2"],
  ["GET", "new3"],
  ["MSETNX", "x", "1", "y"],
  ["MGET"],
];

const RANGE_STEPS: DiffStep[] = [
  ["APPEND", "ap", "hello"],
  ["APPEND", "ap", " world"],
  ["GET", "ap"],
  ["APPEND", "ap", ""],
  ["APPEND", "empty", ""],
  ["EXISTS", "empty"],
  ["STRLEN", "ap"],
  ["STRLEN", "nokey"],
  ["SETEX", "apttl", "100", "x"],
  ["APPEND", "apttl", "y"],
  { cmd: ["TTL", "apttl"], norm: within(99, 100) },
  ["SET", "r", "This is a string"],
  ["GETRANGE", "r", "0", "3"],
  ["GETRANGE", "r", "-3", "-1"],
  ["GETRANGE", "r", "0", "-1"],
  ["GETRANGE", "r", "10", "100"],
  ["GETRANGE", "r", "5", "3"],
  ["GETRANGE", "r", "-1", "-5"],
  ["GETRANGE", "r", "-100", "-50"],
  ["GETRANGE", "r", "-100", "2"],
  ["GETRANGE", "r", "100", "200"],
  ["GETRANGE", "r", "0", "0"],
  ["GETRANGE", "r", "-9223372036854775807", "-9223372036854775808"],
  ["GETRANGE", "r", "-9223372036854775808", "9223372036854775807"],
  ["GETRANGE", "r", "9223372036854775807", "-1"],
  ["GETRANGE", "r", "x", "1"],
  ["GETRANGE", "r", "1", "1.5"],
  ["GETRANGE", "r", "0", "9223372036854775808"],
  ["GETRANGE", "nokey", "0", "-1"],
  ["GETRANGE", "r", "0"],
  ["SUBSTR", "r", "0", "3"],
  ["SUBSTR", "r", "-3", "-1"],
  ["SUBSTR", "r", "0"],
  ["SET", "n", "12345"],
  ["GETRANGE", "n", "1", "2"],
  ["SET", "e", ""],
  ["GETRANGE", "e", "0", "-1"],
  ["SETRANGE", "sr", "5", "hello"],
  ["GET", "sr"],
  ["SETRANGE", "sr", "0", "HE"],
  ["GET", "sr"],
  ["SETRANGE", "sr", "8", "LLO world"],
  ["GET", "sr"],
  ["SETRANGE", "sr", "1", ""],
  ["SETRANGE", "sr2", "1", ""],
  ["EXISTS", "sr2"],
  ["SETRANGE", "sr", "-1", "x"],
  ["SETRANGE", "sr", "x", "x"],
  ["SETRANGE", "sr", "536870912", "x"],
  ["SETRANGE", "sr", "536870911", "xy"],
  ["SETRANGE", "sr", "9223372036854775807", "x"],
  ["SETRANGE", "sr3", "536870912", ""],
  ["SETRANGE", "sr", "0"],
  ["SETEX", "srttl", "100", "abc"],
  ["SETRANGE", "srttl", "1", "Z"],
  ["GET", "srttl"],
  { cmd: ["TTL", "srttl"], norm: within(99, 100) },
  ["SET", "lcs1", "ohmytext"],
  ["SET", "lcs2", "mynewtext"],
  ["LCS", "lcs1", "lcs2"],
  ["LCS", "lcs1", "lcs2", "LEN"],
  ["LCS", "lcs1", "lcs2", "IDX"],
  ["LCS", "lcs1", "lcs2", "IDX", "MINMATCHLEN", "4"],
  ["LCS", "lcs1", "lcs2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
  ["LCS", "lcs1", "lcs2", "IDX", "WITHMATCHLEN"],
  ["LCS", "lcs1", "lcs2", "IDX", "MINMATCHLEN", "-5"],
  ["LCS", "lcs1", "lcs2", "IDX", "MINMATCHLEN", "x"],
  ["LCS", "lcs1", "lcs2", "IDX", "MINMATCHLEN"],
  ["LCS", "lcs1", "lcs2", "IDX", "LEN"],
  ["LCS", "lcs1", "lcs2", "LEN", "IDX"],
  ["LCS", "lcs1", "lcs2", "FOO"],
  ["LCS", "lcs1", "nokey"],
  ["LCS", "nokey", "nokey2", "IDX"],
  ["LCS", "nokey", "lcs2", "LEN"],
  ["SET", "lcs3", "ACGTTGCAACGTAGCTAGCTAGCATTTACGACG"],
  ["SET", "lcs4", "TTGACGATCGATCGATCGAAAACGTGTCA"],
  ["LCS", "lcs3", "lcs4"],
  ["LCS", "lcs3", "lcs4", "IDX", "WITHMATCHLEN"],
  ["LCS", "lcs4", "lcs3", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"],
  ["LCS", "lcs1"],
];

const COUNTER_STEPS: DiffStep[] = [
  ["INCR", "n"],
  ["INCR", "n"],
  ["DECR", "n"],
  ["DECR", "fresh"],
  ["INCRBY", "n", "100"],
  ["INCRBY", "n", "-1000"],
  ["DECRBY", "n", "5"],
  ["DECRBY", "n", "-5"],
  ["INCRBY", "n", "x"],
  ["INCRBY", "n", "1.5"],
  ["INCRBY", "n", "9223372036854775808"],
  ["INCRBY", "n", ""],
  ["INCRBY", "n", "+1"],
  ["INCRBY", "n", " 1"],
  ["INCRBY", "n", "01"],
  ["INCRBY", "n", "-0"],
  ["DECRBY", "n", "-9223372036854775808"],
  ["DECRBY", "n", "9223372036854775807"],
  ["SET", "big", "9223372036854775806"],
  ["INCR", "big"],
  ["INCR", "big"],
  ["GET", "big"],
  ["SET", "big", "-9223372036854775807"],
  ["DECR", "big"],
  ["DECR", "big"],
  ["SET", "big", "9007199254740991"],
  ["INCR", "big"],
  ["INCRBY", "big", "9007199254740993"],
  ["INCRBY", "big", "-9223372036854775808"],
  ["SET", "big", "4611686018427387904"],
  ["INCRBY", "big", "4611686018427387903"],
  ["INCRBY", "big", "1"],
  ["INCRBY", "nb", "-9223372036854775808"],
  ["INCRBY", "nb", "-1"],
  ["SET", "s", "abc"],
  ["INCR", "s"],
  ["SET", "s", " 1"],
  ["INCR", "s"],
  ["SET", "s", "1 "],
  ["INCR", "s"],
  ["SET", "s", "01"],
  ["INCR", "s"],
  ["SET", "s", "-0"],
  ["INCR", "s"],
  ["SET", "s", "+1"],
  ["INCR", "s"],
  ["SET", "s", "9223372036854775808"],
  ["INCR", "s"],
  ["SET", "s", "1.0"],
  ["INCR", "s"],
  ["SET", "s", ""],
  ["INCR", "s"],
  ["SETEX", "ttln", "100", "5"],
  ["INCR", "ttln"],
  { cmd: ["TTL", "ttln"], norm: within(99, 100) },
  ["INCR"],
  ["INCRBY", "n"],
  ["INCRBYFLOAT", "f", "10.5"],
  ["INCRBYFLOAT", "f", "0.1"],
  ["INCRBYFLOAT", "f", "-5.0e3"],
  ["INCRBYFLOAT", "f", "5.0e3"],
  ["SET", "f", "0.1"],
  ["INCRBYFLOAT", "f", "0.2"],
  ["INCRBYFLOAT", "f2", "1e20"],
  ["INCRBYFLOAT", "f2", "1e-20"],
  ["INCRBYFLOAT", "f3", "1.5e-17"],
  ["INCRBYFLOAT", "f3", "-1.5e-17"],
  ["INCRBYFLOAT", "f4", "-0.0"],
  ["INCRBYFLOAT", "f5", "1e400"],
  ["INCRBYFLOAT", "f5", "-1e400"],
  ["INCRBYFLOAT", "f6", "1e4933"],
  ["INCRBYFLOAT", "f6", "1e-5000"],
  ["INCRBYFLOAT", "f6", "0x10"],
  ["INCRBYFLOAT", "f6", "0x1.8p1"],
  ["INCRBYFLOAT", "f6", "0x.8"],
  ["INCRBYFLOAT", "f6", "0x"],
  ["INCRBYFLOAT", "f6", "inf"],
  ["INCRBYFLOAT", "f6", "-Infinity"],
  ["INCRBYFLOAT", "f6", "nan"],
  ["INCRBYFLOAT", "f6", "abc"],
  ["INCRBYFLOAT", "f6", ""],
  ["INCRBYFLOAT", "f6", " 1"],
  ["INCRBYFLOAT", "f6", "1 "],
  ["INCRBYFLOAT", "f6", "1e"],
  ["INCRBYFLOAT", "f6", "1e+"],
  ["INCRBYFLOAT", "f6", ".5"],
  ["INCRBYFLOAT", "f6", "5."],
  ["INCRBYFLOAT", "f6", "."],
  ["INCRBYFLOAT", "f6", "+3"],
  ["INCRBYFLOAT", "f6", "3.0000000000000000001"],
  ["INCRBYFLOAT", "f6", "1" + "0".repeat(300)],
  ["INCRBYFLOAT", "f6", "0." + "0".repeat(30) + "1"],
  ["INCRBYFLOAT", "f6", "1".repeat(5119)],
  ["INCRBYFLOAT", "f6", "1".repeat(5120)],
  ["SET", "f7", "inf"],
  ["INCRBYFLOAT", "f7", "1"],
  ["SET", "f7", "abc"],
  ["INCRBYFLOAT", "f7", "1"],
  ["INCRBYFLOAT", "f7", "x"],
  ["SET", "f8", "5"],
  ["INCRBYFLOAT", "f8", "x"],
  ["SETEX", "f9", "100", "1.5"],
  ["INCRBYFLOAT", "f9", "1"],
  { cmd: ["TTL", "f9"], norm: within(99, 100) },
  ["INCRBYFLOAT", "f9"],
];

const BINARY_STEPS: DiffStep[] = [
  ["SET", BIN_KEY, ALL_BYTES],
  ["GET", BIN_KEY],
  ["STRLEN", BIN_KEY],
  ["APPEND", BIN_KEY, ALL_BYTES.slice(200)],
  ["GETRANGE", BIN_KEY, "250", "270"],
  ["SETRANGE", BIN_KEY, "3", "\x00\xff\x00"],
  ["GETRANGE", BIN_KEY, "0", "10"],
  ["MSET", "\x00", "\xff", "\xff", "\x00"],
  ["MGET", "\x00", "\xff", BIN_KEY],
  ["GETSET", "\x00", "\x80\x81"],
  ["GETDEL", "\x00"],
  ["SET", "lb1", "a\x00b\xffc\x00d"],
  ["SET", "lb2", "\x00b\xff\x00d"],
  ["LCS", "lb1", "lb2"],
  ["LCS", "lb1", "lb2", "IDX"],
  ["SET", "", "empty key"],
  ["GET", ""],
];

/** A deterministic pseudo-random generator in [0, 1), so failures reproduce. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

/** Runs `steps` on a fresh damselfly and redis-server in RESP2 and RESP3; asserts identical replies. */

Deno.test("strings: replies match redis-server exactly (RESP2 and RESP3, 4 shards)", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    await t.step("SET and its options, SETNX, SETEX, PSETEX", () => assertSameAsRedis(srv.port, redis.port, SET_STEPS));
    await t.step(
      "GET, GETEX, GETDEL, GETSET, MGET, MSET, MSETNX",
      () => assertSameAsRedis(srv.port, redis.port, GET_STEPS),
    );
    await t.step(
      "APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE, LCS",
      () => assertSameAsRedis(srv.port, redis.port, RANGE_STEPS),
    );
    await t.step(
      "INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT",
      () => assertSameAsRedis(srv.port, redis.port, COUNTER_STEPS),
    );
    await t.step(
      "binary-safe keys and values (bytes 0x00-0xff)",
      () => assertSameAsRedis(srv.port, redis.port, BINARY_STEPS),
    );
    await t.step("randomized INCRBYFLOAT sequences match long double arithmetic", async () => {
      const rand = seededRandom(12345);
      const steps: DiffStep[] = [];
      for (let i = 0; i < 1200; i++) {
        const digits = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => Math.floor(rand() * 10)).join("");
        const sign = rand() < 0.4 ? "-" : "";
        const point = Math.floor(rand() * digits.length);
        const decimal = digits.slice(0, point) + "." + digits.slice(point);
        const exp = Math.floor(rand() * 80 - 40) * (rand() < 0.1 ? 60 : 1);
        const hex = `0x${Math.floor(rand() * 1e9).toString(16)}.${Math.floor(rand() * 1e6).toString(16)}p${
          Math.floor(rand() * 200 - 100)
        }`;
        const forms = [sign + decimal, `${sign}${decimal}e${exp}`, sign + hex, sign + digits];
        const key = `rf${i % 13}`;
        if (rand() < 0.05) steps.push(["DEL", key]);
        steps.push(["INCRBYFLOAT", key, forms[Math.floor(rand() * forms.length)]]);
      }
      await assertSameAsRedis(srv.port, redis.port, steps);
    });
    await t.step("randomized LCS, GETRANGE and SETRANGE", async () => {
      const rand = seededRandom(4242);
      const text = (n: number, alphabet: string) =>
        Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      const steps: DiffStep[] = [];
      for (let i = 0; i < 150; i++) {
        const alphabet = ["ab", "acgt", "abcdefghij", "\x00\xff\x80"][i % 4];
        steps.push(["SET", "la", text(Math.floor(rand() * 40), alphabet)], [
          "SET",
          "lb",
          text(Math.floor(rand() * 40), alphabet),
        ]);
        steps.push(
          ["LCS", "la", "lb"],
          ["LCS", "la", "lb", "LEN"],
          ["LCS", "la", "lb", "IDX", "WITHMATCHLEN"],
          ["LCS", "lb", "la", "IDX", "MINMATCHLEN", String(Math.floor(rand() * 4))],
          ["GETRANGE", "la", String(Math.floor(rand() * 100 - 50)), String(Math.floor(rand() * 100 - 50))],
          ["SETRANGE", "la", String(Math.floor(rand() * 50)), text(Math.floor(rand() * 5), alphabet)],
          ["GET", "la"],
        );
      }
      await assertSameAsRedis(srv.port, redis.port, steps);
    });
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

Deno.test("strings: expiry, real clients and a large value", async (t) => {
  const srv = await startServer(["--num_shards=4", "--hz=100"]);
  try {
    await t.step("PX and PXAT keys disappear, lazily and by the active cycle", async () => {
      const c = await RespClient.connect(srv.port);
      assert.equal(await c.call("SET", "short", "v", "PX", "50"), "OK");
      assert.equal(await c.call("PSETEX", "short2", "50", "v"), "OK");
      assert.equal(await c.call("SET", "short3", "v", "PXAT", String(Date.now() + 50)), "OK");
      assert.equal(await c.call("GET", "short"), "v");
      await waitFor(async () => (await c.call("GET", "short")) === null, "short to expire", 5000);
      // Never touched again: the active expiry cycle must remove them.
      await waitFor(async () => (await c.call("DBSIZE")) === 0, "the active cycle to remove short2 and short3", 5000);
      assert.equal(await c.call("GETEX", "k", "EX", "1"), null);
      assert.equal(await c.call("SET", "k", "v"), "OK");
      assert.equal(await c.call("GETEX", "k", "PX", "60"), "v");
      await waitFor(async () => (await c.call("EXISTS", "k")) === 0, "GETEX PX to expire k", 5000);
      c.close();
    });
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["set", "cli", "hello world"]), "OK");
      assert.equal(await redisCli(srv.port, ["get", "cli"]), '"hello world"');
      assert.equal(await redisCli(srv.port, ["incr", "counter"]), "(integer) 1");
      assert.equal(await redisCli(srv.port, ["incrbyfloat", "counter", "0.5"]), '"1.5"');
      assert.equal(
        await redisCli(srv.port, ["set", "cli", "x", "ex", "0"]),
        "(error) ERR invalid expire time in 'set' command",
      );
      assert.equal(await redisCli(srv.port, ["mset", "m1", "a", "m2", "b"]), "OK");
      assert.equal(await redisCli(srv.port, ["mget", "m1", "m2", "m3"]), '1) "a"\n2) "b"\n3) (nil)');
      assert.equal(await redisCli(srv.port, ["lcs", "m1", "m2", "len"]), "(integer) 0");
    });
    await t.step("ioredis with binary buffers", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        const key = Buffer.from([0, 1, 2, 0xff, 0x80]);
        const value = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
        assert.equal(await io.set(key, value), "OK");
        assert.deepEqual(await io.getBuffer(key), value);
        assert.equal(await io.strlen(key), 256);
        assert.equal(await io.append(key, Buffer.from([0])), 257);
        assert.deepEqual(await io.getrangeBuffer(key, -2, -1), Buffer.from([0, 0]));
        assert.equal(await io.set("io", "1", "EX", 100, "NX"), "OK");
        assert.equal(await io.set("io", "1", "EX", 100, "NX"), null);
        assert.equal(await io.incrby("io", 41), 42);
        assert.equal(await io.decrby("io", 2), 40);
        assert.equal(await io.incrbyfloat("io", "0.25"), "40.25");
        assert.ok((await io.ttl("io")) > 98);
        assert.deepEqual(await io.mget("io", "nope"), ["40.25", null]);
        assert.equal(await io.msetnx("x1", "1", "x2", "2"), 1);
        assert.equal(await io.getdel("x1"), "1");
        assert.equal(await io.getex("x2", "PX", 100000), "2");
        assert.ok((await io.pttl("x2")) > 90000);
        assert.equal(await io.setrange("sr", 2, "ab"), 4);
        assert.equal(await io.get("sr"), "\x00\x00ab");
        await assert.rejects(io.incr("sr"), /ERR value is not an integer or out of range/);
        await assert.rejects(io.set("io", "v", "EX", 0), /ERR invalid expire time in 'set' command/);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.set("nr", "v", { PX: 100000, GET: true }), null);
        assert.equal(await nr.set("nr", "w", { KEEPTTL: true, GET: true }), "v");
        assert.ok((await nr.pTTL("nr")) > 90000);
        assert.equal(await nr.setNX("nr", "x"), false);
        assert.equal(await nr.setEx("nr2", 100, "y"), "OK");
        assert.equal(await nr.getSet("nr2", "z"), "y");
        assert.equal(await nr.ttl("nr2"), -1);
        assert.equal(await nr.incrByFloat("fl", 1.5), "1.5");
        assert.equal(await nr.decr("dc"), -1);
        assert.equal(await nr.lcs("nr", "nr2"), "");
        assert.deepEqual(await nr.lcsLen("nr", "nr2"), 0);
        assert.equal(await nr.getRange("nr", 0, -1), "w");
        assert.deepEqual(await nr.mGet(["nr", "nr2", "missing"]), ["w", "z", null]);
      } finally {
        await nr.quit();
      }
    });
    await t.step("a 4 MB value round-trips and APPEND grows it", async () => {
      const c = await RespClient.connect(srv.port);
      const big = "x".repeat(4 * 1024 * 1024);
      assert.equal(await c.call("SET", "big", big), "OK");
      assert.equal(await c.call("APPEND", "big", "yz"), big.length + 2);
      assert.equal(await c.call("GETRANGE", "big", "-3", "-1"), "xyz");
      assert.equal(await c.call("SETRANGE", "big", String(big.length + 10), "!"), big.length + 11);
      assert.equal(await c.call("STRLEN", "big"), big.length + 11);
      c.close();
    });
  } finally {
    await srv.stop();
  }
});

/** A minimal non-string value, to check WRONGTYPE without depending on another family. */
function fakeList(): CollectionValue {
  const v: CollectionValue = {
    kind: "list",
    encoding: () => "listpack",
    size: () => 1,
    clone: () => fakeList(),
    memoryUsage: () => 10,
    canonical: () => "a",
  };
  return v;
}

const WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

Deno.test("strings: WRONGTYPE against other types (in-process)", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.client.slice("l").set("l", fakeList());
  for (
    const cmd of [
      ["GET", "l"],
      ["GETEX", "l", "EX", "10"],
      ["GETDEL", "l"],
      ["GETSET", "l", "v"],
      ["SET", "l", "v", "GET"],
      ["APPEND", "l", "x"],
      ["STRLEN", "l"],
      ["GETRANGE", "l", "0", "1"],
      ["SETRANGE", "l", "0", "x"],
      ["SETRANGE", "l", "0", ""],
      ["INCR", "l"],
      ["DECRBY", "l", "2"],
      ["INCRBYFLOAT", "l", "1"],
    ]
  ) {
    assert.equal(s.call(...cmd), WRONGTYPE, cmd.join(" "));
  }
  assert.equal(s.call("LCS", "l", "x"), "-ERR The specified keys must contain string values\r\n");
  assert.equal(s.call("MGET", "l", "nokey"), "*2\r\n$-1\r\n$-1\r\n");
  assert.equal(s.call("SET", "l", "v", "NX"), "$-1\r\n");
  assert.equal(s.call("SETNX", "l", "v"), ":0\r\n");
  assert.equal(s.call("MSETNX", "l", "v"), ":0\r\n");
  assert.equal(s.call("SET", "l", "now a string"), "+OK\r\n");
  assert.equal(s.call("GET", "l"), "$12\r\nnow a string\r\n");
});

Deno.test("strings: recorded replication form and keyspace events (in-process)", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.config.setValue("notify-keyspace-events", "KEA");
  const check = (cmd: string[], writes: string[][], events: string[]) => {
    s.clearRecords();
    s.call(...cmd);
    assert.deepEqual(s.writes.map((w) => w.args), writes, `writes of ${cmd.join(" ")}`);
    const keyevents = s.published.filter(([ch]) => ch.startsWith("__keyevent@0__:")).map(([ch]) => ch.slice(15));
    assert.deepEqual(keyevents, events, `events of ${cmd.join(" ")}`);
  };
  const pxat = (w: string[]) => Number(w[4]);
  check(["SET", "a", "1"], [["SET", "a", "1"]], ["set"]);
  check(["SET", "a", "2", "GET"], [["SET", "a", "2"]], ["set"]);
  check(["SET", "a", "3", "get", "KEEPTTL", "GET"], [["SET", "a", "3", "KEEPTTL"]], ["set"]);
  check(["SET", "a", "4", "NX"], [], []);
  check(["SET", "a", "5", "XX"], [["SET", "a", "5"]], ["set"]);
  check(["SET", "b", "v", "NX", "GET"], [["SET", "b", "v"]], ["set"]);
  check(["SETNX", "b", "w"], [], []);

  const before = Date.now();
  s.clearRecords();
  s.call("SET", "e", "v", "EX", "100", "XX");
  assert.equal(s.writes.length, 0);
  s.call("SET", "e", "v", "EX", "100", "NX", "GET");
  assert.equal(s.writes.length, 1);
  assert.deepEqual(s.writes[0].args.slice(0, 4), ["SET", "e", "v", "PXAT"]);
  assert.ok(pxat(s.writes[0].args) >= before + 100_000 && pxat(s.writes[0].args) <= Date.now() + 100_000);
  assert.deepEqual(s.published.map(([ch]) => ch).filter((ch) => ch.startsWith("__keyevent")), [
    "__keyevent@0__:set",
    "__keyevent@0__:expire",
  ]);

  s.clearRecords();
  s.call("SETEX", "e2", "10", "v");
  s.call("PSETEX", "e3", "1000", "v");
  s.call("SET", "e4", "v", "PX", "500");
  s.call("SET", "e5", "v", "EXAT", "4102444800");
  s.call("SET", "e6", "v", "PXAT", "4102444800123");
  assert.deepEqual(s.writes.map((w) => w.args.slice(0, 4)), [
    ["SET", "e2", "v", "PXAT"],
    ["SET", "e3", "v", "PXAT"],
    ["SET", "e4", "v", "PXAT"],
    ["SET", "e5", "v", "PXAT"],
    ["SET", "e6", "v", "PXAT"],
  ]);
  assert.deepEqual(s.writes.slice(3).map((w) => w.args[4]), ["4102444800000", "4102444800123"]);
  assert.ok(pxat(s.writes[0].args) >= before + 10_000 && pxat(s.writes[0].args) <= Date.now() + 10_000);

  check(["GETEX", "a", "EXAT", "4102444800"], [["PEXPIREAT", "a", "4102444800000"]], ["expire"]);
  check(["GETEX", "a", "PERSIST"], [["PERSIST", "a"]], ["persist"]);
  check(["GETEX", "a", "PERSIST"], [], []);
  check(["GETEX", "a"], [], []);
  check(["GETEX", "a", "PXAT", "1"], [["DEL", "a"]], ["del"]);
  check(["GETDEL", "b"], [["DEL", "b"]], ["del"]);
  check(["GETDEL", "b"], [], []);
  check(["GETSET", "g", "1"], [["SET", "g", "1"]], ["set"]);
  check(["MSET", "m1", "1", "m2", "2"], [["MSET", "m1", "1", "m2", "2"]], ["set", "set"]);
  check(["MSETNX", "m1", "1", "m3", "2"], [], []);
  check(["MSETNX", "m3", "1", "m4", "2"], [["MSET", "m3", "1", "m4", "2"]], ["set", "set"]);
  check(["MSETNX", "m3", "5", "m9", "6"], [], []);
  check(["APPEND", "m1", "x"], [["APPEND", "m1", "x"]], ["append"]);
  check(["SETRANGE", "m1", "0", "y"], [["SETRANGE", "m1", "0", "y"]], ["setrange"]);
  check(["SETRANGE", "m1", "0", ""], [], []);
  check(["INCR", "i"], [["INCR", "i"]], ["incrby"]);
  check(["DECRBY", "i", "5"], [["DECRBY", "i", "5"]], ["incrby"]);
  check(["INCRBYFLOAT", "i", "0.5"], [["SET", "i", "-3.5", "KEEPTTL"]], ["incrbyfloat"]);
  check(["INCRBYFLOAT", "i", "x"], [], []);
  check(["SETNX", "i", "1"], [], []);
  check(["SETNX", "n", "1"], [["SETNX", "n", "1"]], ["set"]);
});
