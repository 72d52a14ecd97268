/**
 * Set commands against a real damselfly process: a differential run against a real
 * redis-server (replies compared byte for byte in RESP2 and RESP3, intset order included;
 * order-free replies of hashtable-encoded sets compared as multisets), OBJECT ENCODING at the
 * default and configured thresholds, SSCAN's guarantee on a set that changes during the
 * scan, SPOP/SRANDMEMBER properties, the recorded forms (SPOP as SREM/DEL), keyspace events,
 * and the real clients (redis-cli, ioredis, node-redis).
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameKeyEvents } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";

import { type Arg, type Step, Twin } from "../helpers/raw_twin.ts";
import { rng } from "../helpers/rng.ts";

/** Deterministic command script covering every set command, option and error. */
function script(p: string): Step[] {
  const k = (s: string) => `${p}:${s}`;
  const ints: Arg[] = ["SADD", k("ints")];
  for (let i = 0; i < 512; i++) ints.push((i * 37) % 1000 - 500);
  return [
    ["SET", k("str"), "v"],
    // SADD / SREM / membership; intsets answer in numeric order
    ["SADD", k("s"), 3, 1, 2],
    ["SADD", k("s"), 2, 4, -5, 10, -100, 3],
    ["SADD", k("s"), 2],
    ["SMEMBERS", k("s")],
    ["OBJECT", "ENCODING", k("s")],
    ["SADD", k("str"), "a"],
    ["SADD", k("s2"), "a", "b", "a"],
    ["OBJECT", "ENCODING", k("s2")],
    ["SREM", k("s"), 1, "zz", 1],
    ["SREM", k("s"), "zz"],
    ["SREM", k("s"), "01"],
    ["SREM", k("none"), "a"],
    ["SREM", k("str"), "a"],
    ["SMEMBERS", k("s")],
    ["SMEMBERS", k("none")],
    ["SMEMBERS", k("str")],
    ["SISMEMBER", k("s"), 2],
    ["SISMEMBER", k("s"), "02"],
    ["SISMEMBER", k("s"), "+2"],
    ["SISMEMBER", k("none"), "a"],
    ["SISMEMBER", k("str"), "a"],
    ["SMISMEMBER", k("s"), 2, 3, "x"],
    ["SMISMEMBER", k("none"), "a", "b"],
    ["SMISMEMBER", k("str"), "a"],
    ["SCARD", k("s")],
    ["SCARD", k("none")],
    ["SCARD", k("str")],
    ["SADD", k("bin"), "\x00\xff", "", "\r\n"],
    ["SISMEMBER", k("bin"), ""],
    { unordered: ["SMEMBERS", k("bin")] },
    // SPOP / SRANDMEMBER: errors and deterministic forms
    ["SRANDMEMBER", k("s"), 0],
    ["SRANDMEMBER", k("s"), 100],
    ["SRANDMEMBER", k("none"), 0],
    ["SRANDMEMBER", k("none"), 3],
    ["SRANDMEMBER", k("none"), -3],
    ["SRANDMEMBER", k("none")],
    ["SRANDMEMBER", k("s"), "-9223372036854775808"],
    ["SRANDMEMBER", k("s"), "x"],
    ["SRANDMEMBER", k("s"), 1, 2],
    ["SRANDMEMBER", k("str")],
    ["SRANDMEMBER", k("str"), 2],
    ["SPOP", k("none")],
    ["SPOP", k("none"), 0],
    ["SPOP", k("none"), 3],
    ["SPOP", k("s"), 0],
    ["SPOP", k("s"), -1],
    ["SPOP", k("s"), "x"],
    ["SPOP", k("s"), 1, 2],
    ["SPOP", k("str")],
    ["SPOP", k("str"), 2],
    ["SADD", k("one"), "only"],
    ["SRANDMEMBER", k("one")],
    ["SRANDMEMBER", k("one"), -3],
    ["SPOP", k("one")],
    ["EXISTS", k("one")],
    ["SADD", k("mixed"), "a", 3, 1, 2],
    ["SREM", k("mixed"), "a"],
    ["OBJECT", "ENCODING", k("mixed")],
    { unordered: ["SRANDMEMBER", k("mixed"), 10] },
    ["SPOP", k("mixed"), 10],
    ["EXISTS", k("mixed")],
    ["SADD", k("pop"), 5, 4, 3, 2, 1],
    ["SPOP", k("pop"), 5],
    ["EXISTS", k("pop")],
    // SMOVE
    ["SADD", k("src"), 1, 2, "x"],
    ["SMOVE", k("none"), k("str"), "a"],
    ["SMOVE", k("src"), k("str"), 1],
    ["SMOVE", k("str"), k("src"), 1],
    ["SMOVE", k("src"), k("src"), 1],
    ["SMOVE", k("src"), k("src"), 99],
    ["SMOVE", k("src"), k("dst"), 99],
    ["SMOVE", k("src"), k("dst"), 1],
    ["OBJECT", "ENCODING", k("dst")],
    ["SMOVE", k("src"), k("dst"), "x"],
    ["OBJECT", "ENCODING", k("dst")],
    ["SADD", k("src"), "x"],
    ["SMOVE", k("src"), k("dst"), "x"],
    ["SMOVE", k("src"), k("dst"), 2],
    ["EXISTS", k("src")],
    { unordered: ["SMEMBERS", k("dst")] },
    // Algebra; results are intsets (sorted) when every member is an integer
    ["SADD", k("u"), 1, 2, 3, 4, 5, 6],
    ["SADD", k("v"), 4, 5, 6, 7, 8, 9],
    ["SADD", k("w"), 5, 6, "x"],
    ["SINTER", k("u"), k("v")],
    { unordered: ["SINTER", k("u"), k("v"), k("w")] },
    ["SINTER", k("u"), k("u")],
    ["SINTER", k("u"), k("none")],
    ["SINTER", k("none")],
    ["SINTER", k("u"), k("none"), k("str")],
    ["SINTER", k("none"), k("str")],
    ["SINTERCARD", 2, k("u"), k("v")],
    ["SINTERCARD", 2, k("u"), k("v"), "LIMIT", 2],
    ["SINTERCARD", 2, k("u"), k("v"), "limit", 0],
    ["SINTERCARD", 3, k("u"), k("v"), k("w")],
    ["SINTERCARD", 2, k("u"), k("none")],
    ["SINTERCARD", 0, k("u")],
    ["SINTERCARD", "x", k("u")],
    ["SINTERCARD", 3, k("u")],
    ["SINTERCARD", 1, k("u"), "LIMIT", -1],
    ["SINTERCARD", 1, k("u"), "LIMIT", "x"],
    ["SINTERCARD", 1, k("u"), "foo"],
    ["SINTERCARD", 1, k("u"), "LIMIT"],
    ["SINTERCARD", 1, k("none"), k("str")],
    ["SINTERCARD", 2, k("none"), k("str")],
    ["SUNION", k("u"), k("v")],
    ["SUNION", k("u"), k("none")],
    ["SUNION", k("none")],
    ["SUNION", k("u"), k("str")],
    { unordered: ["SUNION", k("u"), k("w")] },
    ["SDIFF", k("u"), k("v")],
    ["SDIFF", k("u"), k("none"), k("v")],
    ["SDIFF", k("none"), k("u")],
    ["SDIFF", k("u"), k("u")],
    ["SDIFF", k("none"), k("str")],
    { unordered: ["SDIFF", k("w"), k("u")] },
    // STORE forms replace the destination (any type, TTL dropped) or delete it when empty
    ["SINTERSTORE", k("d1"), k("u"), k("v")],
    ["SMEMBERS", k("d1")],
    ["OBJECT", "ENCODING", k("d1")],
    ["EXPIRE", k("d1"), 100],
    ["SUNIONSTORE", k("d1"), k("u"), k("w")],
    ["TTL", k("d1")],
    ["OBJECT", "ENCODING", k("d1")],
    ["SINTERSTORE", k("d1"), k("u"), k("none")],
    ["EXISTS", k("d1")],
    ["SINTERSTORE", k("d1"), k("u"), k("none")],
    ["SINTERSTORE", k("d2"), k("none"), k("str")],
    ["SDIFFSTORE", k("d3"), k("u"), k("v")],
    ["SMEMBERS", k("d3")],
    ["SDIFFSTORE", k("d3"), k("u"), k("u")],
    ["EXISTS", k("d3")],
    ["SUNIONSTORE", k("str2"), k("u")],
    ["SET", k("str2"), "x"],
    ["SUNIONSTORE", k("str2"), k("u")],
    ["TYPE", k("str2")],
    ["SUNIONSTORE", k("d4"), k("str")],
    ["SDIFFSTORE", k("d4"), k("none"), k("u")],
    ["EXISTS", k("d4")],
    ["SINTERSTORE", k("d5"), k("u"), k("u")],
    ["SCARD", k("d5")],
    // SSCAN on an intset returns everything with cursor 0
    ["SSCAN", k("s"), 0],
    ["SSCAN", k("s"), 0, "MATCH", "1*"],
    ["SSCAN", k("s"), 0, "count", 1, "match", "*"],
    ["SSCAN", k("s"), 5],
    ["SSCAN", k("s"), ""],
    ["SSCAN", k("s"), "+5"],
    ["SSCAN", k("s"), "-1"],
    ["SSCAN", k("s"), "x"],
    ["SSCAN", k("s"), " 1"],
    ["SSCAN", k("s"), "18446744073709551615"],
    ["SSCAN", k("s"), "18446744073709551616"],
    ["SSCAN", k("s"), 0, "COUNT", 0],
    ["SSCAN", k("s"), 0, "COUNT", "x"],
    ["SSCAN", k("s"), 0, "MATCH"],
    ["SSCAN", k("s"), 0, "TYPE", "string"],
    ["SSCAN", k("none"), 0, "COUNT", 0],
    ["SSCAN", k("none"), "x"],
    ["SSCAN", k("str"), 0],
    ["SSCAN", k("str"), "x"],
    // Encodings at Redis 7.0's defaults: 512 integers, then hashtable
    ints,
    ["OBJECT", "ENCODING", k("ints")],
    ["SMEMBERS", k("ints")],
    ["SADD", k("ints"), 0],
    ["SADD", k("ints"), 100000],
    ["OBJECT", "ENCODING", k("ints")],
    ["SREM", k("ints"), 100000],
    ["OBJECT", "ENCODING", k("ints")],
    ["SCARD", k("ints")],
    { unordered: ["SMEMBERS", k("ints")] },
    ["SADD", k("i2"), "9223372036854775807", "-9223372036854775808"],
    ["OBJECT", "ENCODING", k("i2")],
    ["SMEMBERS", k("i2")],
    ["SADD", k("i3"), "9223372036854775808"],
    ["OBJECT", "ENCODING", k("i3")],
    ["SADD", k("i4"), "1", "-0"],
    ["OBJECT", "ENCODING", k("i4")],
    ["TYPE", k("i4")],
  ];
}

Deno.test("sets: differential against redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    for (const proto of [2, 3] as const) {
      await t.step(`scripted commands, RESP${proto}`, async () => {
        const twin = await Twin.open(srv.port, redis.port, proto);
        try {
          for (const step of script(`s${proto}`)) await twin.run(step);
        } finally {
          twin.close();
        }
      });
    }
    await t.step("seeded random workload (integer members keep intset order)", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      const r = rng(17);
      const key = () => `rnd${Math.floor(r() * 3)}`;
      const m = () => (r() < 0.95 ? String(Math.floor(r() * 40) - 20) : `s${Math.floor(r() * 3)}`);
      try {
        for (let i = 0; i < 3000; i++) {
          const op = Math.floor(r() * 9);
          if (op <= 1) await twin.run(["SADD", key(), m(), m()]);
          else if (op === 2) await twin.run(["SREM", key(), m(), m()]);
          else if (op === 3) await twin.run(["SMOVE", key(), key(), m()]);
          else if (op === 4) await twin.run({ unordered: ["SMEMBERS", key()] });
          else if (op === 5) await twin.run(["SMISMEMBER", key(), m(), m()]);
          else if (op === 6) await twin.run({ unordered: ["SINTER", key(), key()] });
          else if (op === 7) await twin.run(["SUNIONSTORE", `st${Math.floor(r() * 2)}`, key(), key()]);
          else await twin.run(["SINTERCARD", 2, key(), key(), "LIMIT", Math.floor(r() * 4)]);
        }
        for (const k of ["rnd0", "rnd1", "rnd2", "st0", "st1"]) {
          await twin.run(["OBJECT", "ENCODING", k]);
          await twin.run({ unordered: ["SMEMBERS", k] });
        }
      } finally {
        twin.close();
      }
    });
    await t.step("set-max-intset-entries follows CONFIG SET", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      try {
        await twin.run(["CONFIG", "SET", "set-max-intset-entries", "3"]);
        await twin.run(["SADD", "enc:a", 1, 2, 3]);
        await twin.run(["OBJECT", "ENCODING", "enc:a"]);
        await twin.run(["SADD", "enc:a", 4]);
        await twin.run(["OBJECT", "ENCODING", "enc:a"]);
        await twin.run(["SREM", "enc:a", 1, 2, 3]);
        await twin.run(["OBJECT", "ENCODING", "enc:a"]);
        await twin.run(["SADD", "enc:b", 1, 2, 3, 4, 5]);
        await twin.run({ unordered: ["SUNION", "enc:b"] });
        await twin.run(["SUNIONSTORE", "enc:c", "enc:b"]);
        await twin.run(["OBJECT", "ENCODING", "enc:c"]);
        await twin.run(["CONFIG", "SET", "set-max-intset-entries", "0"]);
        await twin.run(["SADD", "enc:d", 1]);
        await twin.run(["OBJECT", "ENCODING", "enc:d"]);
      } finally {
        await twin.run(["CONFIG", "SET", "set-max-intset-entries", "512"]);
        twin.close();
      }
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("sets: SSCAN, SPOP and SRANDMEMBER on a large set", async (t) => {
  const srv = await startServer();
  const c = await RespClient.connect(srv.port);
  try {
    const members = Array.from({ length: 3000 }, (_, i) => `member:${i}`);
    assert.equal(await c.call("SADD", "large", ...members), 3000);
    assert.equal(await c.call("OBJECT", "ENCODING", "large"), "hashtable");
    await t.step("members present for the whole scan are returned despite deletions and additions", async () => {
      const stable = new Set(members);
      const seen = new Set<string>();
      let cursor = "0";
      let n = 0;
      for (let calls = 0; calls < 100_000; calls++) {
        const [next, items] = await c.call("SSCAN", "large", cursor, "COUNT", 41) as [string, string[]];
        for (const m of items) seen.add(m);
        cursor = next;
        if (cursor === "0") break;
        const victim = `member:${(n * 7919) % 3000}`;
        await c.call("SREM", "large", victim);
        stable.delete(victim);
        await c.call("SADD", "large", `new:${n++}`);
      }
      assert.equal(cursor, "0");
      for (const m of stable) assert.ok(seen.has(m), `scan missed ${m}`);
      const [, matched] = await c.call("SSCAN", "large", 0, "MATCH", "new:*", "COUNT", 100000) as [string, string[]];
      assert.equal(matched.length, n);
    });
    await t.step("SRANDMEMBER: distinct for positive counts, repeats for negative ones", async () => {
      const size = await c.call("SCARD", "large") as number;
      for (const count of [1, 10, Math.floor(size / 2), size - 1]) {
        const got = await c.call("SRANDMEMBER", "large", count) as string[];
        assert.equal(got.length, count);
        assert.equal(new Set(got).size, count);
      }
      const repeated = await c.call("SRANDMEMBER", "large", -5000) as string[];
      assert.equal(repeated.length, 5000);
      assert.ok(new Set(repeated).size < 5000);
      assert.equal(await c.call("SISMEMBER", "large", await c.call("SRANDMEMBER", "large") as string), 1);
    });
    await t.step("SPOP removes exactly what it returns, in both strategies", async () => {
      let size = await c.call("SCARD", "large") as number;
      for (const count of [1, 25, Math.floor(size * 0.9)]) {
        const popped = await c.call("SPOP", "large", count) as string[];
        assert.equal(popped.length, count);
        assert.equal(new Set(popped).size, count);
        size -= count;
        assert.equal(await c.call("SCARD", "large"), size);
        const still = await c.call("SMISMEMBER", "large", ...popped) as number[];
        assert.ok(still.every((x) => x === 0));
      }
      const single = await c.call("SPOP", "large") as string;
      assert.equal(await c.call("SISMEMBER", "large", single), 0);
    });
  } finally {
    c.close();
    await srv.stop();
  }
});

Deno.test("sets: recorded writes (SPOP as SREM or DEL)", () => {
  const s = new InProcessServer();
  s.call("SADD", "s", "a", "b", "c", "d", "e", "f");
  s.call("SADD", "s", "a");
  s.clearRecords();
  s.call("SPOP", "s");
  s.call("SPOP", "s", "2");
  s.call("SPOP", "s", "0");
  const popped = s.writes.map((w) => w.args);
  assert.equal(popped.length, 2);
  assert.deepEqual(popped[0].slice(0, 2), ["SREM", "s"]);
  assert.equal(popped[0].length, 3);
  assert.deepEqual(popped[1].slice(0, 2), ["SREM", "s"]);
  assert.equal(popped[1].length, 4);
  s.clearRecords();
  s.call("SPOP", "s", "10");
  s.call("SREM", "s", "zz");
  s.call("SMOVE", "none", "t", "a");
  s.call("SADD", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
  s.call("SPOP", "t", "9");
  assert.deepEqual(s.writes[0].args, ["DEL", "s"]);
  assert.deepEqual(s.writes[1].args.slice(0, 3), ["SADD", "t", "1"]);
  assert.deepEqual(s.writes[2].args.slice(0, 2), ["SREM", "t"]);
  assert.equal(s.writes[2].args.length, 11);
  assert.equal(s.writes.length, 3);
  // Replaying the records on a second server gives the same set.
  const replica = new InProcessServer();
  replica.call("SADD", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
  replica.call(...s.writes[2].args);
  assert.equal(replica.call("SMEMBERS", "t"), s.call("SMEMBERS", "t"));
});

Deno.test("sets: keyspace events match redis-server", async () => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    await assertSameKeyEvents(srv.port, redis.port, [
      ["SADD", "ev", 1, 2, 3],
      ["SADD", "ev", 1],
      ["SREM", "ev", "zz"],
      ["SREM", "ev", 1],
      ["SMOVE", "ev", "ev2", 2],
      ["SMOVE", "ev", "ev2", 3],
      ["SADD", "ev2", 9],
      ["SMOVE", "ev2", "ev3", 9],
      ["SADD", "ev3", 2],
      ["SMOVE", "ev2", "ev3", 2],
      ["SPOP", "ev3", 0],
      ["SPOP", "ev3", 5],
      ["SADD", "ev", 1, 2, 3],
      ["SPOP", "ev"],
      ["SPOP", "ev", 1],
      ["SPOP", "ev", 1],
      ["SADD", "a", 1, 2],
      ["SADD", "b", 2, 3],
      ["SINTERSTORE", "c", "a", "b"],
      ["SUNIONSTORE", "c", "a", "b"],
      ["SDIFFSTORE", "c", "a", "b"],
      ["SDIFFSTORE", "c", "a", "a"],
      ["SINTERSTORE", "c", "a", "none"],
      ["SADD", "c", 1],
      ["SINTERSTORE", "c", "a", "none"],
    ]);
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("sets: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["sadd", "cli", "3", "1", "2"]), "(integer) 3");
      assert.equal(await redisCli(srv.port, ["smembers", "cli"]), '1) "1"\n2) "2"\n3) "3"');
      assert.equal(await redisCli(srv.port, ["-3", "smembers", "cli"]), '1~ "1"\n2~ "2"\n3~ "3"');
      assert.equal(
        await redisCli(srv.port, ["sintercard", "0", "cli"]),
        "(error) ERR numkeys should be greater than 0",
      );
      assert.equal(
        await redisCli(srv.port, ["spop", "cli", "-1"]),
        "(error) ERR value is out of range, must be positive",
      );
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.equal(await io.sadd("io", "a", "b", "c"), 3);
        assert.deepEqual((await io.smembers("io")).sort(), ["a", "b", "c"]);
        assert.equal(await io.sismember("io", "a"), 1);
        assert.deepEqual(await io.smismember("io", "a", "z"), [1, 0]);
        assert.equal(await io.smove("io", "io2", "a"), 1);
        assert.deepEqual((await io.sunion("io", "io2")).sort(), ["a", "b", "c"]);
        assert.equal(await io.sintercard(2, "io", "io2"), 0);
        const [cursor, found] = await io.sscan("io", "0", "COUNT", 100);
        assert.equal(cursor, "0");
        assert.deepEqual(found.sort(), ["b", "c"]);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis (RESP2)", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.sAdd("nr", ["1", "2", "3"]), 3);
        assert.deepEqual(await nr.sMembers("nr"), ["1", "2", "3"]);
        assert.equal(await nr.sCard("nr"), 3);
        assert.deepEqual(await nr.sInter(["nr", "nr"]), ["1", "2", "3"]);
        assert.equal(await nr.sInterStore("nr2", ["nr"]), 3);
        assert.deepEqual(await nr.sDiff(["nr", "nr2"]), []);
        assert.equal((await nr.sPop("nr", 3)).length, 3);
        assert.equal(await nr.exists("nr"), 0);
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});
