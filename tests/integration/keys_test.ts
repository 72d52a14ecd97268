/**
 * Generic keyspace commands against a real damselfly process (4 shards): a differential run
 * against real redis-server (RESP2 and RESP3, every option and error case), expiry with
 * deadlines, SCAN completeness while keys are added and removed concurrently, KEYS/SCAN
 * filters, RANDOMKEY, multi-database commands, and the real clients (redis-cli, ioredis,
 * node-redis). In-process checks cover the recorded replication form of writes, keyspace
 * events, and values of other types (TYPE, SCAN TYPE, COPY's deep copy, OBJECT ENCODING).
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameAsRedis, type DiffStep, sorted, within } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { Client } from "../../src/server/client.ts";
import { RespWriter } from "../../src/resp/writer.ts";
import type { CollectionValue } from "../../src/store/values.ts";

const anyInt = (r: Reply) => (typeof r === "number" ? "an integer" : r);

const DEL_EXISTS_STEPS: DiffStep[] = [
  ["MSET", "a", "1", "b", "2", "c", "3"],
  ["DEL", "a", "b", "nokey", "a"],
  ["DEL", "a"],
  ["DEL"],
  ["UNLINK", "c", "nokey"],
  ["UNLINK"],
  ["SET", "x", "1"],
  ["EXISTS", "x", "x", "nokey", "x"],
  ["EXISTS", "nokey"],
  ["EXISTS"],
  ["TOUCH", "x", "nokey", "x"],
  ["TOUCH"],
  ["TYPE", "x"],
  ["TYPE", "nokey"],
  ["TYPE"],
  ["TYPE", "x", "y"],
  ["SET", "", "empty"],
  ["EXISTS", ""],
  ["DEL", ""],
  ["SET", "bin\x00\xff", "v"],
  ["EXISTS", "bin\x00\xff", "bin\x00"],
  ["DEL", "bin\x00\xff"],
];

const EXPIRE_STEPS: DiffStep[] = [
  ["SET", "x", "1"],
  ["EXPIRE", "x", "100"],
  { cmd: ["TTL", "x"], norm: within(99, 100) },
  { cmd: ["PTTL", "x"], norm: within(90000, 100000) },
  ["EXPIRE", "x", "100", "NX"],
  ["EXPIRE", "x", "200", "XX"],
  { cmd: ["TTL", "x"], norm: within(199, 200) },
  ["EXPIRE", "x", "100", "GT"],
  ["EXPIRE", "x", "300", "gt"],
  { cmd: ["TTL", "x"], norm: within(299, 300) },
  ["EXPIRE", "x", "400", "LT"],
  ["EXPIRE", "x", "50", "lt"],
  { cmd: ["TTL", "x"], norm: within(49, 50) },
  ["EXPIRE", "x", "60", "XX", "GT"],
  ["EXPIRE", "x", "10", "XX", "LT"],
  ["EXPIRE", "x", "10", "NX", "XX"],
  ["EXPIRE", "x", "10", "NX", "GT"],
  ["EXPIRE", "x", "10", "NX", "LT"],
  ["EXPIRE", "x", "10", "GT", "LT"],
  ["EXPIRE", "x", "10", "foo"],
  ["EXPIRE", "x", "abc", "foo"],
  ["EXPIRE", "x", "abc"],
  ["EXPIRE", "x", "1.5"],
  ["EXPIRE", "x", ""],
  ["EXPIRE", "x", "9223372036854776"],
  ["EXPIRE", "x", "9223372036854775"],
  ["EXPIRE", "x", "-9223372036854776"],
  ["PEXPIRE", "x", "9223372036854775807"],
  ["EXPIREAT", "x", "9223372036854776"],
  ["EXPIREAT", "x", "9223372036854775"],
  ["PEXPIREAT", "x", "9223372036854775807"],
  ["PEXPIREAT", "x", "9223372036854775808"],
  ["PERSIST", "x"],
  ["PERSIST", "x"],
  ["TTL", "x"],
  ["PERSIST", "nokey"],
  ["EXPIRE", "nokey", "10"],
  ["EXPIRE", "nokey", "abc"],
  ["EXPIRE", "nokey", "10", "bad"],
  ["EXPIRE", "x"],
  ["PEXPIRE", "x"],
  ["EXPIREAT", "x"],
  ["PEXPIREAT", "x"],
  ["EXPIRE", "x", "0"],
  ["EXISTS", "x"],
  ["SET", "y", "1"],
  ["EXPIRE", "y", "-5"],
  ["EXISTS", "y"],
  ["SET", "y", "1"],
  ["PEXPIRE", "y", "-1"],
  ["GET", "y"],
  ["SET", "y", "1"],
  ["EXPIREAT", "y", "1"],
  ["EXISTS", "y"],
  ["SET", "y", "1"],
  ["PEXPIREAT", "y", "1000"],
  ["EXISTS", "y"],
  ["SET", "y", "1"],
  ["EXPIRE", "y", "100"],
  ["EXPIRE", "y", "0", "GT"],
  ["EXISTS", "y"],
  ["EXPIRE", "y", "-1", "LT"],
  ["EXISTS", "y"],
  ["SET", "z", "1"],
  ["EXPIRE", "z", "10", "XX"],
  ["EXPIRE", "z", "10", "GT"],
  ["TTL", "z"],
  ["EXPIRE", "z", "10", "LT"],
  { cmd: ["TTL", "z"], norm: within(9, 10) },
  ["EXPIRE", "z", "100", "NX"],
  ["TTL", "nokey"],
  ["PTTL", "nokey"],
  ["EXPIRETIME", "nokey"],
  ["PEXPIRETIME", "nokey"],
  ["SET", "p", "1"],
  ["TTL", "p"],
  ["PTTL", "p"],
  ["EXPIRETIME", "p"],
  ["PEXPIRETIME", "p"],
  ["EXPIREAT", "p", "4102444800"],
  ["EXPIRETIME", "p"],
  ["PEXPIRETIME", "p"],
  ["PEXPIREAT", "p", "4102444800499"],
  ["EXPIRETIME", "p"],
  ["PEXPIREAT", "p", "4102444800500"],
  ["EXPIRETIME", "p"],
  ["PEXPIRETIME", "p"],
  ["PEXPIRE", "p", "100500"],
  { cmd: ["TTL", "p"], norm: within(100, 101) },
  ["TTL"],
  ["TTL", "a", "b"],
  ["PERSIST"],
];

const RENAME_COPY_MOVE_STEPS: DiffStep[] = [
  ["SET", "r1", "v"],
  ["EXPIRE", "r1", "100"],
  ["RENAME", "r1", "r2"],
  { cmd: ["TTL", "r2"], norm: within(99, 100) },
  ["EXISTS", "r1"],
  ["GET", "r2"],
  ["RENAME", "nokey", "r3"],
  ["RENAME", "r2", "r2"],
  ["RENAMENX", "r2", "r2"],
  ["RENAMENX", "nokey", "nokey"],
  ["RENAME", "nokey", "nokey"],
  ["SET", "r3", "x"],
  ["RENAMENX", "r2", "r3"],
  ["RENAMENX", "r2", "r4"],
  ["GET", "r4"],
  ["SET", "r5", "z"],
  ["EXPIRE", "r5", "100"],
  ["SET", "r6", "w"],
  ["RENAME", "r6", "r5"],
  ["TTL", "r5"],
  ["GET", "r5"],
  ["RENAME", "r5"],
  ["RENAMENX", "r5", "a", "b"],
  ["SET", "{tag}a", "1"],
  ["RENAME", "{tag}a", "{tag}b"],
  ["RENAME", "{tag}b", "untagged"],
  ["GET", "untagged"],
  ["SET", "c1", "v"],
  ["EXPIRE", "c1", "100"],
  ["COPY", "c1", "c2"],
  { cmd: ["TTL", "c2"], norm: within(99, 100) },
  ["GET", "c2"],
  ["COPY", "c1", "c2"],
  ["SET", "c1", "v2"],
  ["COPY", "c1", "c2", "REPLACE"],
  ["GET", "c2"],
  ["TTL", "c2"],
  ["COPY", "c1", "c1"],
  ["COPY", "c1", "c1", "DB", "0"],
  ["COPY", "c1", "c1", "DB", "1"],
  ["COPY", "c1", "c3", "DB", "16"],
  ["COPY", "c1", "c3", "DB", "-1"],
  ["COPY", "c1", "c3", "DB", "x"],
  ["COPY", "c1", "c3", "DB"],
  ["COPY", "c1", "c3", "FOO"],
  ["COPY", "c1", "c3", "REPLACE", "REPLACE", "DB", "2", "DB", "3"],
  ["COPY", "nokey", "c3"],
  ["COPY", "nokey", "nokey"],
  ["COPY", "c1"],
  ["SELECT", "1"],
  ["GET", "c1"],
  ["COPY", "c1", "c1", "DB", "0"],
  ["COPY", "c1", "c1", "DB", "0", "REPLACE"],
  ["SELECT", "3"],
  ["GET", "c3"],
  ["SELECT", "0"],
  ["SET", "m1", "v"],
  ["EXPIRE", "m1", "100"],
  ["MOVE", "m1", "1"],
  ["EXISTS", "m1"],
  ["SELECT", "1"],
  { cmd: ["TTL", "m1"], norm: within(99, 100) },
  ["SELECT", "0"],
  ["MOVE", "m1", "1"],
  ["SET", "m1", "v2"],
  ["MOVE", "m1", "1"],
  ["MOVE", "m1", "0"],
  ["MOVE", "nokey", "0"],
  ["MOVE", "m1", "x"],
  ["MOVE", "m1", "16"],
  ["MOVE", "m1", "-1"],
  ["MOVE", "m1", "99999999999"],
  ["MOVE", "m1", "9999999999999999999999"],
  ["COPY", "m1", "m9", "DB", "99999999999"],
  ["SWAPDB", "0", "99999999999"],
  ["SWAPDB", "99999999999", "0"],
  ["MOVE", "m1"],
  ["SWAPDB", "0", "1"],
  ["GET", "m1"],
  ["GET", "c1"],
  ["DBSIZE"],
  ["SWAPDB", "0", "x"],
  ["SWAPDB", "x", "0"],
  ["SWAPDB", "0", "16"],
  ["SWAPDB", "-1", "0"],
  ["SWAPDB", "0", "1.5"],
  ["SWAPDB", "0", "0"],
  ["SWAPDB", "0"],
  ["SWAPDB", "1", "0"],
  ["GET", "m1"],
  ["DBSIZE"],
  ["DBSIZE", "x"],
];

const DB_STEPS: DiffStep[] = [
  [
    "MSET",
    "hello",
    "1",
    "hallo",
    "2",
    "hxllo",
    "3",
    "hllo",
    "4",
    "heeeello",
    "5",
    "h\x00llo",
    "6",
    "h*llo",
    "7",
    "h[llo",
    "8",
  ],
  { cmd: ["KEYS", "*"], norm: sorted },
  { cmd: ["KEYS", "h?llo"], norm: sorted },
  { cmd: ["KEYS", "h*llo"], norm: sorted },
  { cmd: ["KEYS", "h[ae]llo"], norm: sorted },
  { cmd: ["KEYS", "h[^e]llo"], norm: sorted },
  { cmd: ["KEYS", "h[a-e]llo"], norm: sorted },
  { cmd: ["KEYS", "h[e-a]llo"], norm: sorted },
  { cmd: ["KEYS", "h\\*llo"], norm: sorted },
  { cmd: ["KEYS", "h\\[llo"], norm: sorted },
  { cmd: ["KEYS", "h[llo"], norm: sorted },
  { cmd: ["KEYS", "nomatch*"], norm: sorted },
  { cmd: ["KEYS", "hello"], norm: sorted },
  { cmd: ["KEYS", "*o"], norm: sorted },
  ["KEYS"],
  ["KEYS", "a", "b"],
  ["DBSIZE"],
  ["SCAN", "0", "COUNT", "0"],
  ["SCAN", "0", "COUNT", "-1"],
  ["SCAN", "0", "COUNT", "x"],
  ["SCAN", "x"],
  ["SCAN", " 1"],
  ["SCAN", "1.5"],
  ["SCAN", "18446744073709551616"],
  ["SCAN", "0", "MATCH"],
  ["SCAN", "0", "FOO", "bar"],
  ["SCAN", "0", "TYPE"],
  ["SCAN", "0", "COUNT", "10", "COUNT"],
  ["SCAN"],
  { cmd: ["SCAN", "0", "COUNT", "1000"], norm: (r) => (Array.isArray(r) ? [r[0], sorted(r[1])] : r) },
  { cmd: ["SCAN", "0", "MATCH", "h?llo", "COUNT", "1000"], norm: (r) => (Array.isArray(r) ? [r[0], sorted(r[1])] : r) },
  {
    cmd: ["SCAN", "0", "TYPE", "string", "COUNT", "1000", "MATCH", "*e*"],
    norm: (r) => (Array.isArray(r) ? [r[0], sorted(r[1])] : r),
  },
  { cmd: ["SCAN", "0", "TYPE", "STRING", "COUNT", "1000"], norm: (r) => (Array.isArray(r) ? [r[0], sorted(r[1])] : r) },
  ["SCAN", "0", "TYPE", "list", "COUNT", "1000"],
  ["SCAN", "0", "TYPE", "nosuchtype", "COUNT", "1000"],
  ["SET", "int", "123"],
  ["SET", "neg", "-1"],
  ["SET", "big", "10000"],
  ["SET", "short", "abc"],
  ["SET", "s44", "x".repeat(44)],
  ["SET", "s45", "x".repeat(45)],
  ["SET", "notint", "0123"],
  ["SET", "i64", "9223372036854775807"],
  ["SET", "i64over", "9223372036854775808"],
  ["OBJECT", "ENCODING", "int"],
  ["OBJECT", "ENCODING", "neg"],
  ["OBJECT", "ENCODING", "short"],
  ["OBJECT", "ENCODING", "s44"],
  ["OBJECT", "ENCODING", "s45"],
  ["OBJECT", "ENCODING", "notint"],
  ["OBJECT", "ENCODING", "i64"],
  ["OBJECT", "ENCODING", "i64over"],
  ["OBJECT", "ENCODING", "nokey"],
  ["OBJECT", "encoding", "int"],
  ["OBJECT", "REFCOUNT", "int"],
  ["OBJECT", "REFCOUNT", "big"],
  ["OBJECT", "REFCOUNT", "neg"],
  ["OBJECT", "REFCOUNT", "short"],
  ["OBJECT", "REFCOUNT", "nokey"],
  // With a maxmemory and an LRU/LFU policy Redis shares no integers: each key keeps its own stamp.
  ["CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru"],
  ["SET", "int-lru", "5"],
  ["OBJECT", "REFCOUNT", "int-lru"],
  ["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"],
  ["SET", "int-lfu", "7"],
  ["OBJECT", "REFCOUNT", "int-lfu"],
  ["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
  ["SET", "int-random", "8"],
  ["OBJECT", "REFCOUNT", "int-random"],
  ["CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction"],
  // Redis's LRU clock ticks in whole seconds, so a fresh key may already read 1.
  { cmd: ["OBJECT", "IDLETIME", "short"], norm: within(0, 1) },
  ["OBJECT", "IDLETIME", "nokey"],
  ["OBJECT", "FREQ", "short"],
  ["OBJECT", "FREQ", "nokey"],
  ["OBJECT", "HELP"],
  ["OBJECT", "help"],
  ["OBJECT", "FOO"],
  ["OBJECT", "FOO", "bar"],
  ["OBJECT", "ENCODING"],
  ["OBJECT", "ENCODING", "a", "b"],
  ["OBJECT", "HELP", "x"],
  ["OBJECT"],
  ["MEMORY", "HELP"],
  ["MEMORY", "USAGE", "nokey"],
  { cmd: ["MEMORY", "USAGE", "short"], norm: anyInt },
  { cmd: ["MEMORY", "USAGE", "short", "SAMPLES", "0"], norm: anyInt },
  { cmd: ["MEMORY", "USAGE", "short", "samples", "5", "SAMPLES", "7"], norm: anyInt },
  ["MEMORY", "USAGE", "short", "SAMPLES", "-1"],
  ["MEMORY", "USAGE", "short", "SAMPLES", "x"],
  ["MEMORY", "USAGE", "short", "SAMPLES"],
  ["MEMORY", "USAGE", "short", "FOO"],
  ["MEMORY", "USAGE", "nokey", "SAMPLES", "x"],
  ["MEMORY", "USAGE"],
  ["MEMORY", "PURGE"],
  ["MEMORY", "FOO"],
  ["MEMORY"],
  ["FLUSHDB", "x"],
  ["FLUSHDB", "SYNC", "SYNC"],
  ["FLUSHDB", "ASYNC"],
  ["DBSIZE"],
  ["RANDOMKEY"],
  ["RANDOMKEY", "x"],
  ["SET", "only", "1"],
  ["RANDOMKEY"],
  ["SELECT", "5"],
  ["SET", "in5", "1"],
  ["SELECT", "0"],
  ["FLUSHDB", "sync"],
  ["SELECT", "5"],
  ["DBSIZE"],
  ["SELECT", "0"],
  ["FLUSHALL", "foo"],
  ["FLUSHALL", "async"],
  ["SELECT", "5"],
  ["DBSIZE"],
  ["SELECT", "0"],
  ["SET", "k", "v"],
  ["FLUSHALL", "SYNC"],
  ["FLUSHALL"],
  ["DBSIZE"],
];

/** Runs `steps` on a fresh damselfly and redis-server in RESP2 and RESP3; asserts identical replies. */

Deno.test("keys: replies match redis-server exactly (RESP2 and RESP3, 4 shards)", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    await t.step("DEL, UNLINK, EXISTS, TOUCH, TYPE", () => assertSameAsRedis(srv.port, redis.port, DEL_EXISTS_STEPS));
    await t.step("EXPIRE family, TTL family, PERSIST", () => assertSameAsRedis(srv.port, redis.port, EXPIRE_STEPS));
    await t.step(
      "RENAME, RENAMENX, COPY, MOVE, SWAPDB",
      () => assertSameAsRedis(srv.port, redis.port, RENAME_COPY_MOVE_STEPS),
    );
    await t.step(
      "KEYS, SCAN, OBJECT, MEMORY, FLUSHDB, FLUSHALL, RANDOMKEY",
      () => assertSameAsRedis(srv.port, redis.port, DB_STEPS),
    );
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

/** Runs a full SCAN with `extra` options; returns every key returned (with repeats) and the number of calls. */
async function scanAll(
  c: RespClient,
  extra: string[] = [],
  between: () => Promise<void> = async () => {},
): Promise<[string[], number]> {
  const keys: string[] = [];
  let cursor = "0";
  let calls = 0;
  do {
    const r = await c.call("SCAN", cursor, ...extra) as [string, string[]];
    assert.ok(Array.isArray(r) && typeof r[0] === "string" && Array.isArray(r[1]), `SCAN reply: ${r}`);
    cursor = r[0];
    keys.push(...r[1]);
    calls++;
    assert.ok(calls < 100_000, "SCAN never finished");
    await between();
  } while (cursor !== "0");
  return [keys, calls];
}

Deno.test("keys: SCAN, KEYS and RANDOMKEY over 4 shards", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const c = await RespClient.connect(srv.port);
  const writer = await RespClient.connect(srv.port);
  try {
    await t.step("a key present for the whole scan is returned while others come and go", async () => {
      const stable: string[] = [];
      for (let i = 0; i < 3000; i++) stable.push(`stable:${i}`);
      for (let i = 0; i < stable.length; i += 500) {
        const args: string[] = [];
        for (const k of stable.slice(i, i + 500)) args.push(k, "v");
        assert.equal(await c.call("MSET", ...args), "OK");
      }
      const volatile: string[] = [];
      for (let i = 0; i < 1000; i++) volatile.push(`volatile:${i}`);
      assert.equal(await c.call("MSET", ...volatile.flatMap((k) => [k, "v"])), "OK");
      let added = 0;
      let removed = 0;
      const [keys, calls] = await scanAll(c, ["COUNT", "37"], async () => {
        // Between SCAN calls: remove 10 volatile keys and add 15 new ones.
        for (let j = 0; j < 10 && removed < volatile.length; j++) await writer.call("DEL", volatile[removed++]);
        const fresh: string[] = [];
        for (let j = 0; j < 15; j++) fresh.push(`fresh:${added++}`, "v");
        await writer.call("MSET", ...fresh);
      });
      const seen = new Set(keys);
      const missing = stable.filter((k) => !seen.has(k));
      assert.deepEqual(missing, [], `${missing.length} stable keys missed by SCAN`);
      assert.ok(calls > 50, `SCAN with COUNT 37 took only ${calls} calls`);
      for (const k of seen) assert.match(k, /^(stable|volatile|fresh):\d+$/);
      // A key deleted before the scan started is never returned.
      assert.equal(await c.call("DEL", "stable:0"), 1);
      const [again] = await scanAll(c, ["COUNT", "1000"]);
      assert.ok(!again.includes("stable:0"));
      assert.ok(again.includes("stable:1"));
    });
    await t.step("MATCH, COUNT and TYPE filters; expired keys are skipped", async () => {
      assert.equal(await c.call("FLUSHALL"), "OK");
      const args: string[] = [];
      for (let i = 0; i < 200; i++) args.push(`user:${i}`, "u", `item:${i}`, "i");
      assert.equal(await c.call("MSET", ...args), "OK");
      assert.equal(await c.call("SET", "user:gone", "x", "PX", "1"), "OK");
      await waitFor(async () => (await c.call("PTTL", "user:gone")) === -2, "user:gone to expire", 5000);
      const [users] = await scanAll(c, ["MATCH", "user:*", "COUNT", "25"]);
      assert.equal(new Set(users).size, 200);
      assert.ok(users.every((k) => k.startsWith("user:") && k !== "user:gone"));
      const [strings] = await scanAll(c, ["TYPE", "string"]);
      assert.equal(new Set(strings).size, 400);
      const [lists] = await scanAll(c, ["TYPE", "list"]);
      assert.deepEqual(lists, []);
      const keys = await c.call("KEYS", "item:1?") as string[];
      assert.deepEqual([...keys].sort(), Array.from({ length: 10 }, (_, i) => `item:1${i}`).sort());
      assert.equal((await c.call("KEYS", "*") as string[]).length, 400);
    });
    await t.step("expired keys are not listed by KEYS", async () => {
      assert.equal(await c.call("SET", "soon", "x", "PX", "20"), "OK");
      await waitFor(
        async () => !(await c.call("KEYS", "soon") as string[]).includes("soon"),
        "KEYS to stop listing soon",
        5000,
      );
    });
    await t.step("RANDOMKEY returns live keys from every shard and nil when empty", async () => {
      assert.equal(await c.call("FLUSHALL"), "OK");
      assert.equal(await c.call("RANDOMKEY"), null);
      const all = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"];
      assert.equal(await c.call("MSET", ...all.flatMap((k) => [k, "v"])), "OK");
      const seen = new Set<string>();
      await waitFor(
        async () => {
          const k = await c.call("RANDOMKEY") as string;
          assert.ok(all.includes(k), `RANDOMKEY returned ${k}`);
          seen.add(k);
          return seen.size === all.length;
        },
        "RANDOMKEY to return every key",
        10_000,
        0,
      );
      // Only expired keys left: RANDOMKEY deletes them and answers nil.
      assert.equal(await c.call("FLUSHALL"), "OK");
      const at = String(Date.now() + 30);
      for (let i = 0; i < 20; i++) assert.equal(await c.call("SET", `e${i}`, "v", "PXAT", at), "OK");
      // All share one deadline: once e19 is gone, every key is logically expired.
      await waitFor(async () => (await c.call("PTTL", "e19")) === -2, "e19 to expire", 5000);
      assert.equal(await c.call("RANDOMKEY"), null);
    });
    await t.step("RANDOMKEY on a large database", async () => {
      assert.equal(await c.call("FLUSHALL"), "OK");
      const args: string[] = [];
      for (let i = 0; i < 5000; i++) args.push(`big:${i}`, "v");
      assert.equal(await c.call("MSET", ...args), "OK");
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const k = await c.call("RANDOMKEY") as string;
        assert.match(k, /^big:\d+$/);
        seen.add(k);
      }
      assert.ok(seen.size > 100, `only ${seen.size} distinct keys in 200 RANDOMKEY calls`);
    });
  } finally {
    c.close();
    writer.close();
    await srv.stop();
  }
});

Deno.test("keys: expiry with deadlines and the real clients", async (t) => {
  const srv = await startServer(["--num_shards=4", "--hz=100"]);
  try {
    await t.step("EXPIRE, PEXPIRE, EXPIREAT remove keys on time; PERSIST keeps them", async () => {
      const c = await RespClient.connect(srv.port);
      assert.equal(await c.call("MSET", "e1", "v", "e2", "v", "e3", "v", "kept", "v"), "OK");
      assert.equal(await c.call("PEXPIRE", "e1", "50"), 1);
      assert.equal(await c.call("PEXPIREAT", "e2", String(Date.now() + 80)), 1);
      assert.equal(await c.call("EXPIRE", "e3", "1"), 1);
      assert.equal(await c.call("PEXPIRE", "kept", "80"), 1);
      assert.equal(await c.call("PERSIST", "kept"), 1);
      await waitFor(async () => (await c.call("EXISTS", "e1", "e2", "e3")) === 0, "e1, e2, e3 to expire", 5000);
      assert.equal(await c.call("DBSIZE"), 1);
      assert.equal(await c.call("TTL", "kept"), -1);
      // RENAME keeps the TTL, across shards.
      assert.equal(await c.call("SET", "from", "v", "PX", "60"), "OK");
      assert.equal(await c.call("RENAME", "from", "to-another-shard"), "OK");
      const pttl = await c.call("PTTL", "to-another-shard") as number;
      assert.ok(pttl > 0 && pttl <= 60, `PTTL after RENAME ${pttl}`);
      await waitFor(async () => (await c.call("EXISTS", "to-another-shard")) === 0, "renamed key to expire", 5000);
      c.close();
    });
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["flushall"]), "OK");
      assert.equal(await redisCli(srv.port, ["mset", "a", "1", "b", "2", "c", "3"]), "OK");
      assert.equal(await redisCli(srv.port, ["del", "a", "nokey"]), "(integer) 1");
      assert.equal(
        await redisCli(srv.port, ["expire", "b", "100", "nx", "xx"]),
        "(error) ERR NX and XX, GT or LT options at the same time are not compatible",
      );
      assert.equal(await redisCli(srv.port, ["rename", "nokey", "x"]), "(error) ERR no such key");
      assert.equal(await redisCli(srv.port, ["type", "b"]), "string");
      assert.equal(await redisCli(srv.port, ["dbsize"]), "(integer) 2");
      assert.equal(
        (await redisCli(srv.port, ["--scan", "--pattern", "*"], { raw: false })).split("\n").sort().join(","),
        "b,c",
      );
      assert.equal(await redisCli(srv.port, ["object", "encoding", "b"]), '"int"');
    });
    await t.step("ioredis: scanStream, expiry, rename, copy", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        await io.flushall();
        const pipeline = io.pipeline();
        for (let i = 0; i < 500; i++) pipeline.set(`io:${i}`, String(i));
        await pipeline.exec();
        const found = new Set<string>();
        await new Promise<void>((resolve, reject) => {
          const stream = io.scanStream({ match: "io:*", count: 50 });
          stream.on("data", (keys: string[]) => keys.forEach((k) => found.add(k)));
          stream.on("end", resolve);
          stream.on("error", reject);
        });
        assert.equal(found.size, 500);
        assert.equal(await io.exists("io:1", "io:2", "nope"), 2);
        assert.equal(await io.expire("io:1", 100, "GT"), 0);
        assert.equal(await io.expire("io:1", 100), 1);
        assert.ok((await io.ttl("io:1")) > 98);
        assert.equal(await io.rename("io:1", "io:one"), "OK");
        assert.ok((await io.pttl("io:one")) > 98_000);
        assert.equal(await io.copy("io:one", "io:copy", "DB", 2), 1);
        assert.equal(await io.renamenx("io:2", "io:3"), 0);
        assert.equal(await io.move("io:2", 3), 1);
        assert.equal(await io.dbsize(), 499);
        assert.equal(await io.type("io:3"), "string");
        await assert.rejects(io.rename("nope", "x"), /ERR no such key/);
        assert.equal(await io.flushdb("ASYNC"), "OK");
        assert.equal(await io.dbsize(), 0);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis: scanIterator, TTL family, COPY, OBJECT", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        await nr.flushAll();
        for (let i = 0; i < 300; i++) await nr.set(`nr:${i}`, "v");
        const found = new Set<string>();
        for await (const k of nr.scanIterator({ MATCH: "nr:*", COUNT: 40 })) found.add(k);
        assert.equal(found.size, 300);
        assert.equal(await nr.pExpireAt("nr:1", 4102444800123), true);
        assert.equal(await nr.pExpireTime("nr:1"), 4102444800123);
        assert.equal(await nr.expireTime("nr:1"), 4102444800);
        assert.equal(await nr.persist("nr:1"), true);
        assert.equal(await nr.ttl("nr:1"), -1);
        assert.equal(await nr.copy("nr:1", "nr:copy"), true);
        assert.equal(await nr.copy("nr:1", "nr:copy"), false);
        assert.equal(await nr.objectEncoding("nr:1"), "embstr");
        assert.equal(await nr.objectRefCount("nr:1"), 1);
        assert.equal(await nr.touch(["nr:1", "nr:2", "nope"]), 2);
        assert.equal(await nr.unlink(["nr:1", "nr:2"]), 2);
        assert.equal(await nr.dbSize(), 299);
        assert.equal(await nr.swapDb(0, 1), "OK");
        assert.equal(await nr.dbSize(), 0);
        assert.equal(await nr.swapDb(0, 1), "OK");
        assert.ok((await nr.keys("nr:1*")).length > 10);
        assert.equal(typeof await nr.randomKey(), "string");
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});

/** A small list-typed value, to check type-generic commands without depending on the lists family. */
class FakeList implements CollectionValue {
  readonly kind = "list";
  constructor(public items: string[]) {}
  encoding(): string {
    return "listpack";
  }
  size(): number {
    return this.items.length;
  }
  /** The elements, as the RDB bridge reads a list (RENAME and COPY record a RESTORE). */
  toArray(): string[] {
    return this.items;
  }
  clone(): CollectionValue {
    return new FakeList([...this.items]);
  }
  memoryUsage(): number {
    return 16 * this.items.length;
  }
  canonical(): string {
    return this.items.join(",");
  }
}

Deno.test("keys: other value types (in-process)", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  const list = new FakeList(["a", "b"]);
  s.client.slice("l").set("l", list);
  assert.equal(s.call("TYPE", "l"), "+list\r\n");
  assert.equal(s.call("OBJECT", "ENCODING", "l"), "$8\r\nlistpack\r\n");
  assert.equal(s.call("OBJECT", "REFCOUNT", "l"), ":1\r\n");
  assert.equal(s.call("MEMORY", "USAGE", "l"), `:${56 + 1 + 32}\r\n`);
  assert.equal(s.call("SET", "str", "x"), "+OK\r\n");
  assert.equal(s.call("SCAN", "0", "TYPE", "list", "COUNT", "100"), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nl\r\n");
  assert.equal(s.call("SCAN", "0", "TYPE", "LIST", "MATCH", "x*", "COUNT", "100"), "*2\r\n$1\r\n0\r\n*0\r\n");
  assert.equal(s.call("COPY", "l", "l2"), ":1\r\n");
  const copy = s.client.slice("l2").get("l2") as FakeList;
  assert.ok(copy instanceof FakeList && copy !== list);
  copy.items.push("c");
  assert.deepEqual(list.items, ["a", "b"]);
  assert.equal(s.call("RENAME", "l", "l3"), "+OK\r\n");
  assert.equal(s.client.slice("l3").get("l3"), list);
  assert.equal(s.call("MOVE", "l3", "1"), ":1\r\n");
  assert.equal(s.server.store.slice(1, "l3").get("l3"), list);
  assert.equal(s.call("EXISTS", "l3", "l2"), ":1\r\n");
  const stats = s.call("MEMORY", "STATS");
  assert.match(stats, /^\*32\r\n\$14\r\npeak\.allocated\r\n:\d+\r\n/);
  assert.match(stats, /\$10\r\nkeys\.count\r\n:3\r\n/);
  assert.match(s.call("MEMORY", "DOCTOR"), /^\$\d+\r\nHi Sam, I can't find any memory issue/);
  assert.equal(s.call("MEMORY", "MALLOC-STATS"), "$45\r\nStats not supported for the current allocator\r\n");
  s.call("FLUSHALL");
  assert.match(s.call("MEMORY", "DOCTOR"), /^\$\d+\r\nHi Sam, this instance is empty/);
});

Deno.test("keys: recorded replication form and keyspace events (in-process)", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.config.setValue("notify-keyspace-events", "KEA");
  const check = (cmd: string[], writes: string[][], events: string[]) => {
    s.clearRecords();
    s.call(...cmd);
    assert.deepEqual(s.commands(), writes, `writes of ${cmd.join(" ")}`);
    const keyevents = s.published.filter(([ch]) => ch.startsWith("__keyevent@")).map(([ch]) => ch.slice(11));
    assert.deepEqual(keyevents, events, `events of ${cmd.join(" ")}`);
  };
  s.call("MSET", "a", "1", "b", "2", "c", "3");
  const before = Date.now();
  s.clearRecords();
  s.call("EXPIRE", "a", "100");
  assert.equal(s.writes.length, 1);
  const [name, key, at] = s.writes[0].args;
  assert.deepEqual([name, key], ["PEXPIREAT", "a"]);
  assert.ok(Number(at) >= before + 100_000 && Number(at) <= Date.now() + 100_000, `PEXPIREAT ${at}`);
  assert.deepEqual(s.writes[0].args.length, 3);
  s.clearRecords();
  s.call("PEXPIRE", "a", "500000", "GT");
  assert.equal(s.writes[0].args[0], "PEXPIREAT");
  assert.equal(s.writes[0].args.length, 3);
  check(["EXPIREAT", "a", "4102444800"], [["PEXPIREAT", "a", "4102444800000"]], ["0__:expire"]);
  check(["PEXPIREAT", "a", "4102444800123", "XX"], [["PEXPIREAT", "a", "4102444800123"]], ["0__:expire"]);
  check(["EXPIRE", "a", "100", "NX"], [], []);
  check(["PERSIST", "a"], [["PERSIST", "a"]], ["0__:persist"]);
  check(["PERSIST", "a"], [], []);
  check(["EXPIRE", "a", "-1"], [["DEL", "a"]], ["0__:del"]);
  check(["EXPIRE", "a", "10"], [], []);
  check(["DEL", "b", "nokey"], [["DEL", "b", "nokey"]], ["0__:del"]);
  check(["DEL", "nokey"], [], []);
  check(["UNLINK", "c"], [["UNLINK", "c"]], ["0__:del"]);
  s.call("SET", "r", "v");
  // RENAME and COPY are recorded per key (Dragonfly's form): DEL src + RESTORE dst, or the
  // RESTORE alone in the destination db.
  const dump = s.call("DUMP", "r");
  const payload = dump.slice(dump.indexOf("\r\n") + 2, -2);
  const restore = (key: string) => ["RESTORE", key, "0", payload, "REPLACE", "ABSTTL"];
  check(["RENAME", "r", "r2"], [["DEL", "r"], restore("r2")], ["0__:rename_from", "0__:rename_to"]);
  check(["RENAME", "r2", "r2"], [], []);
  check(["RENAMENX", "r2", "r3"], [["DEL", "r2"], restore("r3")], ["0__:rename_from", "0__:rename_to"]);
  check(["COPY", "r3", "r4", "DB", "2"], [restore("r4")], ["2__:copy_to"]);
  assert.deepEqual(s.writes.map((w) => w.db), [2]);
  check(["MOVE", "r3", "1"], [["MOVE", "r3", "1"]], ["0__:move_from", "1__:move_to"]);
  check(["SWAPDB", "0", "1"], [["SWAPDB", "0", "1"]], []);
  check(["FLUSHDB"], [["FLUSHDB"]], []);
  check(["FLUSHALL", "ASYNC"], [["FLUSHALL", "ASYNC"]], []);
  check(["TTL", "x"], [], []);

  // A replica keeps a key whose expiry already passed and waits for its primary's DEL.
  s.call("SET", "rk", "v");
  s.server.replicaOf = { host: "127.0.0.1", port: 1 };
  s.client.isMasterLink = true;
  check(["PEXPIREAT", "rk", "1000"], [["PEXPIREAT", "rk", "1000"]], ["0__:expire"]);
  assert.equal(s.server.store.slice(0, "rk").data.has("rk"), true);
  assert.equal(s.call("EXISTS", "rk"), ":0\r\n");
});

Deno.test("keys: RENAME, COPY, MOVE and SWAPDB wake clients blocked on the new key (in-process)", async () => {
  const s = new InProcessServer(["--num_shards=4"]);
  const waiter = new Client(s.server, new RespWriter(), "internal");
  /** Blocks `waiter` on `key` of `db` until a list is there; resolves with how it ended. */
  const blockOn = (db: number, key: string) => {
    waiter.db = db;
    let served = false;
    const done = s.server.blocking.block(waiter, {
      keys: [key],
      timeoutMs: 5000,
      tryServe: () => (served = s.server.store.slice(db, key).get(key) instanceof FakeList),
      onTimeout: () => {},
    });
    return done.then(() => served);
  };
  s.client.slice("src").set("src", new FakeList(["x"]));
  let woken = blockOn(0, "renamed");
  assert.equal(s.call("RENAME", "src", "renamed"), "+OK\r\n");
  assert.equal(await woken, true);
  woken = blockOn(2, "copied");
  assert.equal(s.call("COPY", "renamed", "copied", "DB", "2"), ":1\r\n");
  assert.equal(await woken, true);
  woken = blockOn(3, "renamed");
  assert.equal(s.call("MOVE", "renamed", "3"), ":1\r\n");
  assert.equal(await woken, true);
  woken = blockOn(5, "copied");
  assert.equal(s.call("SWAPDB", "2", "5"), "+OK\r\n");
  assert.equal(await woken, true);
});
