/**
 * Hash commands against a real damselfly process: a differential run against a real
 * redis-server (replies compared byte for byte in RESP2 and RESP3; order-free replies of
 * hashtable-encoded hashes compared as multisets), OBJECT ENCODING at the default and
 * configured thresholds, HINCRBYFLOAT's long-double results, HSCAN's guarantee on a hash
 * that changes during the scan, HRANDFIELD's properties, the recorded forms, keyspace
 * events, and the real clients (redis-cli, ioredis, node-redis).
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameKeyEvents } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";

import { type Arg, type Step, Twin } from "../helpers/raw_twin.ts";
import { rng } from "../helpers/rng.ts";

/** Deterministic command script covering every hash command, option and error. */
function script(p: string, proto: 2 | 3): Step[] {
  const k = (s: string) => `${p}:${s}`;
  const long = "L".repeat(65);
  const edge = "E".repeat(64);
  const big: Arg[] = ["HSET", k("big")];
  for (let i = 0; i < 512; i++) big.push(`f${i}`, i);
  return [
    ["SET", k("str"), "v"],
    // HSET / HMSET / HSETNX
    ["HSET", k("h"), "a"],
    ["HSET", k("h"), "a", 1, "b"],
    ["HMSET", k("h"), "a"],
    ["HSET", k("h"), "a", 1],
    ["HSET", k("h"), "a", 2, "b", 3, "c", 4, "b", 5],
    ["HMSET", k("h"), "d", 5, "e", 6],
    ["HSET", k("str"), "a", 1],
    ["HMSET", k("str"), "a", 1],
    ["HSETNX", k("h"), "a", 9],
    ["HSETNX", k("h"), "z", 26],
    ["HSETNX", k("str"), "a", 2],
    ["HSETNX", k("new"), "a", 2],
    ["HSET", k("bin"), "\x00\xff", "\r\n", "", "empty-field"],
    ["HGETALL", k("bin")],
    // Reads
    ["HGET", k("h"), "a"],
    ["HGET", k("h"), "nope"],
    ["HGET", k("none"), "a"],
    ["HGET", k("str"), "a"],
    ["HMGET", k("h"), "a", "nope", "b"],
    ["HMGET", k("none"), "a", "b"],
    ["HMGET", k("str"), "a"],
    ["HLEN", k("h")],
    ["HLEN", k("none")],
    ["HLEN", k("str")],
    ["HSTRLEN", k("h"), "c"],
    ["HSTRLEN", k("h"), "nope"],
    ["HSTRLEN", k("none"), "a"],
    ["HSTRLEN", k("str"), "a"],
    ["HEXISTS", k("h"), "c"],
    ["HEXISTS", k("h"), "nope"],
    ["HEXISTS", k("none"), "a"],
    ["HEXISTS", k("str"), "a"],
    ["HGETALL", k("h")],
    ["HKEYS", k("h")],
    ["HVALS", k("h")],
    ["HGETALL", k("none")],
    ["HKEYS", k("none")],
    ["HVALS", k("none")],
    ["HGETALL", k("str")],
    ["HKEYS", k("str")],
    ["HVALS", k("str")],
    // HDEL keeps the listpack order
    ["HDEL", k("h"), "nope"],
    ["HDEL", k("h"), "a", "nope", "a"],
    ["HDEL", k("none"), "a"],
    ["HDEL", k("str"), "a"],
    ["HSET", k("h"), "a", "back"],
    ["HGETALL", k("h")],
    ["HSET", k("gone"), "x", 1],
    ["HDEL", k("gone"), "x", "y"],
    ["EXISTS", k("gone")],
    // HINCRBY / HINCRBYFLOAT
    ["HINCRBY", k("n"), "i", 5],
    ["HINCRBY", k("n"), "i", -7],
    ["HINCRBY", k("n"), "i", "x"],
    ["HINCRBY", k("n"), "i", "1.5"],
    ["HINCRBY", k("n"), "i", "9223372036854775807"],
    ["HINCRBY", k("n"), "i", "-9223372036854775808"],
    ["HSET", k("n"), "max", "9223372036854775807", "min", "-9223372036854775808", "s", "foo", "sp", " 1"],
    ["HINCRBY", k("n"), "max", 1],
    ["HINCRBY", k("n"), "min", -1],
    ["HINCRBY", k("n"), "max", 0],
    ["HINCRBY", k("n"), "s", 1],
    ["HINCRBY", k("n"), "sp", 1],
    ["HINCRBY", k("str"), "i", 1],
    ["HINCRBYFLOAT", k("n"), "f", "1.5"],
    ["HINCRBYFLOAT", k("n"), "f", "0.1"],
    ["HINCRBYFLOAT", k("n"), "g", "0.1"],
    ["HINCRBYFLOAT", k("n"), "g", "0.2"],
    ["HINCRBYFLOAT", k("n"), "g", "1e20"],
    ["HINCRBYFLOAT", k("n"), "g", "-1e20"],
    ["HINCRBYFLOAT", k("n"), "h", "1e308"],
    ["HINCRBYFLOAT", k("n"), "h", "1e308"],
    ["HINCRBYFLOAT", k("n"), "k", "1.1"],
    ["HINCRBYFLOAT", k("n"), "k", "1.23e-5"],
    ["HINCRBYFLOAT", k("n"), "m", "5.0e3"],
    ["HINCRBYFLOAT", k("n"), "m", "-5000"],
    ["HINCRBYFLOAT", k("n"), "x", "0x10"],
    ["HINCRBYFLOAT", k("n"), "i", "2.5"],
    ["HINCRBYFLOAT", k("n"), "s", 1],
    ["HINCRBYFLOAT", k("n"), "f", "x"],
    ["HINCRBYFLOAT", k("n"), "f", "inf"],
    ["HINCRBYFLOAT", k("n"), "f", "nan"],
    ["HINCRBYFLOAT", k("n"), "f", " 1"],
    ["HINCRBYFLOAT", k("n"), "f", ""],
    ["HSET", k("n"), "inf", "inf"],
    ["HINCRBYFLOAT", k("n"), "inf", 1],
    ["HINCRBYFLOAT", k("str"), "f", 1],
    // The 309-digit value made this hash a hashtable: its order is Redis's dict order.
    { unordered: ["HGETALL", k("n")], width: 2 },
    ["OBJECT", "ENCODING", k("n")],
    // HRANDFIELD: only deterministic forms (whole hash, errors, empty)
    ["HRANDFIELD", k("h"), 100],
    ["HRANDFIELD", k("h"), 100, "WITHVALUES"],
    ["HRANDFIELD", k("h"), 0],
    ["HRANDFIELD", k("h"), 0, "withvalues"],
    ["HRANDFIELD", k("h"), "x"],
    ["HRANDFIELD", k("h"), 1, "withvalue"],
    ["HRANDFIELD", k("h"), 1, "withvalues", "x"],
    ["HRANDFIELD", k("h"), "-9223372036854775807", "withvalues"],
    ["HRANDFIELD", k("h"), "4611686018427387904", "withvalues"],
    ["HRANDFIELD", k("h"), "-9223372036854775808"],
    ["HRANDFIELD", k("none")],
    ["HRANDFIELD", k("none"), 3],
    ["HRANDFIELD", k("none"), -3, "withvalues"],
    ["HRANDFIELD", k("str")],
    ["HRANDFIELD", k("str"), 1],
    ["HSET", k("one"), "only", "v"],
    ["HRANDFIELD", k("one")],
    ["HRANDFIELD", k("one"), -3, "WITHVALUES"],
    ["HRANDFIELD", k("one"), 1, "WITHVALUES"],
    // HSCAN on a listpack hash returns everything with cursor 0
    ["HSCAN", k("h"), 0],
    ["HSCAN", k("h"), 0, "MATCH", "[a-c]*"],
    ["HSCAN", k("h"), 0, "match", "*", "count", 1],
    ["HSCAN", k("h"), 7, "COUNT", 1000],
    ["HSCAN", k("h"), ""],
    ["HSCAN", k("h"), "x"],
    ["HSCAN", k("h"), "-1"],
    ["HSCAN", k("h"), "18446744073709551616"],
    ["HSCAN", k("h"), 0, "COUNT", 0],
    ["HSCAN", k("h"), 0, "COUNT", "x"],
    ["HSCAN", k("h"), 0, "MATCH"],
    ["HSCAN", k("h"), 0, "TYPE", "string"],
    ["HSCAN", k("h"), 0, "NOVALUES"],
    ["HSCAN", k("none"), 0, "COUNT", 0],
    ["HSCAN", k("none"), "x"],
    ["HSCAN", k("str"), 0],
    // Encodings at Redis 7.0's defaults: 512 entries, 64-byte fields and values
    ["HSET", k("e1"), "f", edge],
    ["OBJECT", "ENCODING", k("e1")],
    ["HSET", k("e1"), "g", long],
    ["OBJECT", "ENCODING", k("e1")],
    ["HSET", k("e2"), long, "v"],
    ["OBJECT", "ENCODING", k("e2")],
    ["HINCRBY", k("e3"), long, 1],
    ["OBJECT", "ENCODING", k("e3")],
    ["HINCRBYFLOAT", k("e4"), long, 1],
    ["OBJECT", "ENCODING", k("e4")],
    ["HSETNX", k("e5"), "a", long],
    ["OBJECT", "ENCODING", k("e5")],
    ["HMSET", k("e6"), "a", 1, "b", long],
    ["OBJECT", "ENCODING", k("e6")],
    big,
    ["OBJECT", "ENCODING", k("big")],
    ["HSET", k("big"), "f511", "again"],
    ["OBJECT", "ENCODING", k("big")],
    ["HSET", k("big"), "one-more", 1],
    ["OBJECT", "ENCODING", k("big")],
    ["HDEL", k("big"), "one-more", "f0", "f1"],
    ["OBJECT", "ENCODING", k("big")],
    ["HLEN", k("big")],
    { unordered: ["HGETALL", k("big")], width: 2 },
    { unordered: ["HKEYS", k("big")] },
    { unordered: ["HVALS", k("big")] },
    { unordered: ["HRANDFIELD", k("big"), 1000, "WITHVALUES"], width: proto === 3 ? 1 : 2 },
    ["HMGET", k("big"), "f5", "f0", "f510"],
    ["TYPE", k("big")],
  ];
}

/** Random increments of many shapes, for HINCRBYFLOAT. */
function randomIncrement(r: () => number): string {
  const shapes = [
    () => (r() * 1000 - 500).toFixed(Math.floor(r() * 6)),
    () => `${(r() * 10 - 5).toFixed(3)}e${Math.floor(r() * 40) - 20}`,
    () => String(Math.floor(r() * 2 ** 53) - 2 ** 52),
    () => `0.${Math.floor(r() * 1e9)}`,
    () => `-${Math.floor(r() * 100)}.${Math.floor(r() * 100)}`,
  ];
  return shapes[Math.floor(r() * shapes.length)]();
}

Deno.test("hashes: differential against redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    for (const proto of [2, 3] as const) {
      await t.step(`scripted commands, RESP${proto}`, async () => {
        const twin = await Twin.open(srv.port, redis.port, proto);
        try {
          for (const step of script(`s${proto}`, proto)) await twin.run(step);
        } finally {
          twin.close();
        }
      });
    }
    await t.step("HINCRBYFLOAT and HINCRBY on random operands give Redis's exact results", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      const r = rng(99);
      try {
        for (let i = 0; i < 1500; i++) {
          const field = `f${Math.floor(r() * 8)}`;
          if (r() < 0.85) await twin.run(["HINCRBYFLOAT", "flt", field, randomIncrement(r)]);
          else await twin.run(["HINCRBY", "int", field, Math.floor(r() * 2e6) - 1e6]);
        }
        await twin.run(["HGETALL", "flt"]);
        await twin.run(["HGETALL", "int"]);
      } finally {
        twin.close();
      }
    });
    await t.step("seeded random workload keeps listpack order like Redis", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      const r = rng(3);
      try {
        for (let i = 0; i < 3000; i++) {
          const key = `rnd${Math.floor(r() * 3)}`;
          const f = () => `f${Math.floor(r() * 20)}`;
          const op = Math.floor(r() * 6);
          if (op === 0) await twin.run(["HSET", key, f(), i, f(), -i]);
          else if (op === 1) await twin.run(["HDEL", key, f(), f()]);
          else if (op === 2) await twin.run(["HSETNX", key, f(), i]);
          else if (op === 3) await twin.run(["HINCRBY", key, f(), 3]);
          else if (op === 4) await twin.run(["HGETALL", key]);
          else await twin.run(["HMGET", key, f(), f()]);
        }
      } finally {
        twin.close();
      }
    });
    await t.step("encoding thresholds follow CONFIG SET", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      try {
        await twin.run(["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
        await twin.run(["CONFIG", "SET", "hash-max-listpack-value", "8"]);
        await twin.run(["HSET", "enc:a", "a", 1, "b", 2, "c", 3, "d", 4]);
        await twin.run(["OBJECT", "ENCODING", "enc:a"]);
        await twin.run(["HSET", "enc:a", "e", 5]);
        await twin.run(["OBJECT", "ENCODING", "enc:a"]);
        await twin.run(["HDEL", "enc:a", "a", "b", "c"]);
        await twin.run(["OBJECT", "ENCODING", "enc:a"]);
        await twin.run(["HSET", "enc:b", "a", "123456789"]);
        await twin.run(["OBJECT", "ENCODING", "enc:b"]);
        await twin.run(["HSET", "enc:c", "12345678", "12345678"]);
        await twin.run(["OBJECT", "ENCODING", "enc:c"]);
        await twin.run(["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
        await twin.run(["HSET", "enc:d", "a", 1]);
        await twin.run(["OBJECT", "ENCODING", "enc:d"]);
      } finally {
        await twin.run(["CONFIG", "SET", "hash-max-listpack-entries", "512"]);
        await twin.run(["CONFIG", "SET", "hash-max-listpack-value", "64"]);
        twin.close();
      }
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

/** Runs HSCAN to completion, calling `between` after every call; returns the fields seen. */
async function scanAll(c: RespClient, key: string, count: number, between: () => Promise<void>): Promise<Set<string>> {
  const seen = new Set<string>();
  let cursor = "0";
  for (let calls = 0; calls < 100_000; calls++) {
    const [next, items] = await c.call("HSCAN", key, cursor, "COUNT", count) as [string, string[]];
    for (let i = 0; i < items.length; i += 2) seen.add(items[i]);
    cursor = next;
    if (cursor === "0") return seen;
    await between();
  }
  throw new Error("HSCAN did not finish");
}

Deno.test("hashes: HSCAN and HRANDFIELD on a large hash", async (t) => {
  const srv = await startServer();
  const c = await RespClient.connect(srv.port);
  try {
    const fields: string[] = [];
    for (let i = 0; i < 3000; i++) fields.push(`field:${i}`, `value:${i}`);
    assert.equal(await c.call("HSET", "large", ...fields), 3000);
    assert.equal(await c.call("OBJECT", "ENCODING", "large"), "hashtable");
    await t.step("a full scan returns every field once when nothing changes", async () => {
      const seen = await scanAll(c, "large", 100, async () => {});
      assert.equal(seen.size, 3000);
      const [, matched] = await c.call("HSCAN", "large", 0, "MATCH", "field:1*", "COUNT", 10000) as [string, string[]];
      assert.equal(matched.length / 2, 1 + 10 + 100 + 1000);
      assert.ok(matched.every((x, i) => i % 2 === 1 || x.startsWith("field:1")));
    });
    await t.step("fields present for the whole scan are returned despite deletions and additions", async () => {
      const stable = new Set(Array.from({ length: 3000 }, (_, i) => `field:${i}`));
      let n = 0;
      const seen = await scanAll(c, "large", 37, async () => {
        // Delete a spread of fields and add new ones between calls.
        const victim = `field:${(n * 7919) % 3000}`;
        await c.call("HDEL", "large", victim);
        stable.delete(victim);
        await c.call("HSET", "large", `new:${n++}`, "x");
      });
      for (const f of stable) assert.ok(seen.has(f), `scan missed ${f}`);
    });
    await t.step("HRANDFIELD counts: distinct for positive, repeated for negative, pairs match", async () => {
      const len = await c.call("HLEN", "large") as number;
      const distinct = await c.call("HRANDFIELD", "large", 50) as string[];
      assert.equal(distinct.length, 50);
      assert.equal(new Set(distinct).size, 50);
      const many = await c.call("HRANDFIELD", "large", Math.floor(len / 2)) as string[];
      assert.equal(new Set(many).size, Math.floor(len / 2));
      const repeated = await c.call("HRANDFIELD", "large", -5000) as string[];
      assert.equal(repeated.length, 5000);
      assert.ok(new Set(repeated).size < 5000, "negative counts repeat fields");
      const pairs = await c.call("HRANDFIELD", "large", -20, "WITHVALUES") as string[];
      assert.equal(pairs.length, 40);
      for (let i = 0; i < pairs.length; i += 2) assert.equal(await c.call("HGET", "large", pairs[i]), pairs[i + 1]);
      const single = await c.call("HRANDFIELD", "large") as string;
      assert.equal(await c.call("HEXISTS", "large", single), 1);
      const c3 = await RespClient.connect(srv.port);
      await c3.call("HELLO", "3");
      const nested = await c3.call("HRANDFIELD", "large", 3, "WITHVALUES") as Reply[];
      assert.equal(nested.length, 3);
      for (const p of nested) assert.ok(Array.isArray(p) && p.length === 2);
      c3.close();
    });
  } finally {
    c.close();
    await srv.stop();
  }
});

Deno.test("hashes: recorded writes", () => {
  const s = new InProcessServer();
  s.call("HSET", "h", "a", "1", "b", "2");
  s.call("HINCRBYFLOAT", "h", "f", "0.1");
  s.call("HINCRBYFLOAT", "h", "f", "0.2");
  s.call("HINCRBY", "h", "a", "5");
  s.call("HDEL", "h", "nope");
  s.call("HSETNX", "h", "a", "x");
  s.call("HDEL", "h", "b", "nope");
  s.call("HMSET", "h", "c", "3");
  assert.deepEqual(s.writes.map((w) => w.args), [
    ["HSET", "h", "a", "1", "b", "2"],
    ["HSET", "h", "f", "0.1"],
    ["HSET", "h", "f", "0.3"],
    ["HINCRBY", "h", "a", "5"],
    ["HDEL", "h", "b", "nope"],
    ["HMSET", "h", "c", "3"],
  ]);
});

Deno.test("hashes: keyspace events match redis-server", async () => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    await assertSameKeyEvents(srv.port, redis.port, [
      ["HSET", "ev", "a", 1, "b", 2],
      ["HSET", "ev", "a", 1],
      ["HMSET", "ev", "c", 3],
      ["HSETNX", "ev", "a", 1],
      ["HSETNX", "ev", "d", 4],
      ["HINCRBY", "ev", "a", 1],
      ["HINCRBYFLOAT", "ev", "a", "1.5"],
      ["HDEL", "ev", "nope"],
      ["HDEL", "ev", "a", "b"],
      ["HDEL", "ev", "c", "d"],
    ]);
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("hashes: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["hset", "cli", "a", "1", "b", "2"]), "(integer) 2");
      assert.equal(await redisCli(srv.port, ["hgetall", "cli"]), '1) "a"\n2) "1"\n3) "b"\n4) "2"');
      assert.equal(await redisCli(srv.port, ["hincrbyfloat", "cli", "a", "0.5"]), '"1.5"');
      assert.equal(await redisCli(srv.port, ["hincrby", "cli", "a", "1"]), "(error) ERR hash value is not an integer");
      assert.equal(
        await redisCli(srv.port, ["hset", "cli", "x"]),
        "(error) ERR wrong number of arguments for 'hset' command",
      );
      assert.equal(await redisCli(srv.port, ["-3", "hgetall", "cli"]), '1# "a" => "1.5"\n2# "b" => "2"');
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.equal(await io.hset("io", { a: "1", b: "2" }), 2);
        assert.deepEqual(await io.hgetall("io"), { a: "1", b: "2" });
        assert.deepEqual(await io.hmget("io", "a", "zz"), ["1", null]);
        assert.equal(await io.hincrby("io", "a", 10), 11);
        assert.equal(await io.hincrbyfloat("io", "b", "0.25"), "2.25");
        assert.deepEqual(await io.hscan("io", "0"), ["0", ["a", "11", "b", "2.25"]]);
        assert.equal(await io.hdel("io", "a", "b"), 2);
        assert.equal(await io.exists("io"), 0);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis (RESP2)", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.hSet("nr", { a: "1", b: "2" }), 2);
        assert.deepEqual({ ...await nr.hGetAll("nr") }, { a: "1", b: "2" });
        assert.deepEqual(await nr.hKeys("nr"), ["a", "b"]);
        assert.equal(await nr.hExists("nr", "a"), true);
        assert.equal(await nr.hStrLen("nr", "b"), 1);
        assert.ok(["a", "b"].includes(await nr.hRandField("nr") as string));
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});
