/**
 * HyperLogLog commands against a real damselfly process: a differential run against real
 * redis-server (RESP2 and RESP3) comparing PFCOUNT and the raw HLL bytes through sparse,
 * promotion and dense stages, PFMERGE, errors (WRONGTYPE, not an HLL, corrupt), PFDEBUG;
 * HLL strings moved from Redis to damselfly keep working byte for byte; the real clients
 * (redis-cli, ioredis, node-redis). In-process checks cover the recorded forms (PFCOUNT
 * journals itself only when it refreshes the cache) and the `pfadd` keyspace events.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameAsRedis, type DiffStep } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";

/** A sparse HLL whose opcodes cover 2 registers instead of 16384. */
const CORRUPT_SPARSE = "HYLL\x01" + "\0".repeat(11) + "\x80\x00";
/** A dense header with a wrong length. */
const SHORT_DENSE = "HYLL\x00" + "\0".repeat(11) + "\0".repeat(100);

const BASIC_STEPS: DiffStep[] = [
  ["PFADD", "h", "a", "b", "c"],
  ["GET", "h"],
  ["PFCOUNT", "h"],
  ["GET", "h"],
  ["PFCOUNT", "h"],
  ["PFADD", "h", "a"],
  ["PFADD", "h", "d", "e"],
  ["GET", "h"],
  ["PFADD", "empty"],
  ["GET", "empty"],
  ["PFADD", "empty"],
  ["PFCOUNT", "empty"],
  ["PFCOUNT", "nokey"],
  ["PFCOUNT", "h", "nokey"],
  ["PFCOUNT", "h", "empty", "h"],
  ["PFADD", "bin", "\x00", "\xff\x80", "a\r\nb", ""],
  ["PFCOUNT", "bin"],
  ["GET", "bin"],
  ["PFMERGE", "m", "h", "bin"],
  ["GET", "m"],
  ["PFCOUNT", "m"],
  ["PFMERGE", "h", "bin"],
  ["GET", "h"],
  ["PFMERGE", "fresh"],
  ["GET", "fresh"],
  ["PFMERGE", "fresh2", "nokey"],
  ["GET", "fresh2"],
  ["PFADD"],
  ["PFCOUNT"],
  ["PFMERGE"],
];

/** Sparse HLL: XZERO over all 16384 registers, then a VAL opcode for a register past the end. */
const OVERFLOWING_SPARSE = "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x80";

const ERROR_STEPS: DiffStep[] = [
  ["SET", "str", "not an hll at all"],
  ["PFADD", "str", "x"],
  ["PFCOUNT", "str"],
  ["PFCOUNT", "nokey", "str"],
  ["PFMERGE", "dest", "str"],
  ["PFMERGE", "str"],
  ["EXISTS", "dest"],
  ["SET", "int", "12345"],
  ["PFADD", "int", "x"],
  ["XADD", "stream", "1-1", "f", "v"],
  ["PFADD", "stream", "a"],
  ["PFCOUNT", "stream"],
  ["PFCOUNT", "nokey", "stream"],
  ["PFMERGE", "stream", "nokey"],
  ["PFMERGE", "dest", "stream"],
  ["SET", "bad", CORRUPT_SPARSE],
  ["PFCOUNT", "bad"],
  ["PFADD", "bad", "a"],
  ["PFCOUNT", "bad", "nokey"],
  ["PFMERGE", "dest", "bad"],
  // A sparse HLL covering every register, then one more: corrupt for merges too.
  ["SET", "over", OVERFLOWING_SPARSE],
  ["PFCOUNT", "over"],
  ["PFCOUNT", "over", "nokey"],
  ["PFMERGE", "dest2", "over"],
  ["EXISTS", "dest2"],
  ["SET", "short", SHORT_DENSE],
  ["PFCOUNT", "short"],
  ["PFADD", "short", "a"],
  ["SET", "badenc", "HYLL\x07" + "\0".repeat(20)],
  ["PFCOUNT", "badenc"],
  ["PFDEBUG", "encoding", "nokey"],
  ["PFDEBUG", "encoding", "str"],
  ["PFDEBUG", "encoding"],
];

const DEBUG_STEPS: DiffStep[] = [
  ["PFADD", "h", "a", "b", "c", "d", "e", "f"],
  ["PFDEBUG", "ENCODING", "h"],
  ["PFDEBUG", "DECODE", "h"],
  ["PFDEBUG", "GETREG", "h"],
  ["PFDEBUG", "ENCODING", "h"],
  ["GET", "h"],
  ["PFADD", "h2", "x", "y"],
  ["PFDEBUG", "todense", "h2"],
  ["PFDEBUG", "todense", "h2"],
  ["PFDEBUG", "decode", "h2"],
  ["GET", "h2"],
  ["PFCOUNT", "h2"],
  ["PFDEBUG", "nosuch", "h2"],
];

/** PFADD batches growing one key through the sparse encoding, its promotion, and dense. */
function growthSteps(): DiffStep[] {
  const steps: DiffStep[] = [];
  let n = 0;
  for (const batch of [1, 5, 20, 50, 100, 200, 300, 400, 600, 800, 1000, 2000, 5000]) {
    const cmd: string[] = ["PFADD", "big"];
    for (let i = 0; i < batch; i++) cmd.push(`elem:${n++}`);
    steps.push(cmd, ["GET", "big"], ["PFCOUNT", "big"], ["GET", "big"]);
    // A second key fed one element per command walks every sparse edit path.
    if (n < 3000) {
      for (let i = 0; i < 40; i++) steps.push(["PFADD", "small", `s${n}-${i}`]);
      steps.push(["GET", "small"]);
    }
  }
  steps.push(
    ["PFMERGE", "merged", "small", "big"],
    ["GET", "merged"],
    ["PFCOUNT", "merged"],
    ["PFMERGE", "merged2", "small"],
    ["GET", "merged2"],
    ["PFCOUNT", "small", "big", "merged"],
  );
  return steps;
}

Deno.test("hyperloglog: replies and raw bytes match redis-server (RESP2 and RESP3)", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    await t.step("PFADD, PFCOUNT (cache), PFMERGE, arity", () => assertSameAsRedis(srv.port, redis.port, BASIC_STEPS));
    await t.step(
      "WRONGTYPE, not-an-HLL and corrupt values",
      () => assertSameAsRedis(srv.port, redis.port, ERROR_STEPS),
    );
    await t.step("PFDEBUG", () => assertSameAsRedis(srv.port, redis.port, DEBUG_STEPS));
    await t.step(
      "sparse growth, promotion to dense, merges",
      () => assertSameAsRedis(srv.port, redis.port, growthSteps()),
    );
    await t.step("HLL strings made by Redis keep working in damselfly byte for byte", async () => {
      const d = await RespClient.connect(srv.port);
      const r = await RespClient.connect(redis.port);
      try {
        for (const [key, n] of [["from-sparse", 150], ["from-dense", 4000]] as const) {
          const elems = Array.from({ length: n }, (_, i) => `${key}:${i}`);
          await r.call("PFADD", key, ...elems);
          const bytes = await r.call("GET", key);
          assert.equal(typeof bytes, "string");
          assert.equal(await d.call("SET", key, bytes as string), "OK");
          assert.equal(await d.call("PFCOUNT", key), await r.call("PFCOUNT", key));
          assert.equal(await d.call("GET", key), await r.call("GET", key));
          await r.call("PFADD", key, "extra1", "extra2");
          await d.call("PFADD", key, "extra1", "extra2");
          assert.equal(await d.call("GET", key), await r.call("GET", key));
          assert.equal(await d.call("PFCOUNT", key), await r.call("PFCOUNT", key));
        }
      } finally {
        d.close();
        r.close();
      }
    });
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

Deno.test("hyperloglog: real clients and TTL preservation", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["pfadd", "cli", "a", "b", "c"]), "(integer) 1");
      assert.equal(await redisCli(srv.port, ["pfcount", "cli"]), "(integer) 3");
      assert.equal(await redisCli(srv.port, ["pfdebug", "encoding", "cli"]), "sparse");
      assert.equal(await redisCli(srv.port, ["set", "s", "v"]), "OK");
      assert.equal(
        await redisCli(srv.port, ["pfcount", "s"]),
        "(error) WRONGTYPE Key is not a valid HyperLogLog string value.",
      );
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.equal(await io.pfadd("io1", "a", "b", "c", "d"), 1);
        assert.equal(await io.pfadd("io1", "a"), 0);
        assert.equal(await io.pfadd("io2", "d", "e"), 1);
        assert.equal(await io.pfcount("io1"), 4);
        assert.equal(await io.pfcount("io1", "io2"), 5);
        assert.equal(await io.pfmerge("io3", "io1", "io2"), "OK");
        assert.equal(await io.pfcount("io3"), 5);
        await io.set("plain", "x");
        await assert.rejects(io.pfadd("plain", "a"), /WRONGTYPE Key is not a valid HyperLogLog string value/);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.pfAdd("nr", ["x", "y", "z"]), true);
        assert.equal(await nr.pfCount("nr"), 3);
        assert.equal(await nr.pfMerge("nr2", ["nr"]), "OK");
        assert.equal(await nr.pfCount(["nr", "nr2"]), 3);
      } finally {
        await nr.quit();
      }
    });
    await t.step("PFADD, PFMERGE and PFCOUNT's cache keep the key's TTL", async () => {
      const c = await RespClient.connect(srv.port);
      try {
        await c.call("PFADD", "ttl", "a");
        assert.equal(await c.call("PEXPIRE", "ttl", "100000"), 1);
        await c.call("PFADD", "ttl", "b");
        await c.call("PFCOUNT", "ttl");
        await c.call("PFMERGE", "ttl", "nokey");
        const pttl = await c.call("PTTL", "ttl");
        assert.ok(typeof pttl === "number" && pttl > 90_000 && pttl <= 100_000, `PTTL ${pttl}`);
      } finally {
        c.close();
      }
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("hyperloglog: recorded writes and keyspace events", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.config.setValue("notify-keyspace-events", "KEA");
  const events = () =>
    s.published.filter(([ch]) => ch.startsWith("__keyevent@0__:")).map(([ch, key]) => `${ch.slice(15)} ${key}`);

  assert.equal(s.call("PFADD", "h", "a", "b"), ":1\r\n");
  assert.deepEqual(s.writes.map((w) => w.args), [["PFADD", "h", "a", "b"]]);
  assert.deepEqual(events(), ["pfadd h"]);
  s.clearRecords();

  assert.equal(s.call("PFADD", "h", "a"), ":0\r\n");
  assert.equal(s.writes.length, 0, "an unchanged HLL records nothing");
  assert.deepEqual(events(), []);

  assert.equal(s.call("PFCOUNT", "h"), ":2\r\n");
  assert.deepEqual(s.writes.map((w) => w.args), [["PFCOUNT", "h"]], "refreshing the cache is journaled");
  s.clearRecords();
  assert.equal(s.call("PFCOUNT", "h"), ":2\r\n");
  assert.equal(s.writes.length, 0, "a cached count records nothing");
  assert.equal(s.call("PFCOUNT", "h", "nokey"), ":2\r\n");
  assert.equal(s.writes.length, 0, "a multi-key count records nothing");

  assert.equal(s.call("PFMERGE", "m", "h"), "+OK\r\n");
  // Recorded as the merged bytes, keeping the TTL: it touches only the destination. The short
  // (sparse) result is then made raw (APPEND ""), as Redis's PFMERGE makes it.
  assert.deepEqual(s.writes.map((w) => w.args), [
    ["MULTI"],
    ["SET", "m", s.client.slice("m").get("m") as string, "KEEPTTL"],
    ["APPEND", "m", ""],
    ["EXEC"],
  ]);
  assert.deepEqual(events(), ["pfadd m"]);
  s.clearRecords();

  assert.equal(s.call("PFDEBUG", "TODENSE", "m"), ":1\r\n");
  assert.deepEqual(s.writes.map((w) => w.args), [["PFDEBUG", "TODENSE", "m"]]);
  s.clearRecords();
  assert.equal(s.call("PFDEBUG", "TODENSE", "m"), ":0\r\n");
  assert.equal(s.writes.length, 0);
});
