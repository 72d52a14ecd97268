/**
 * List commands against a real damselfly process: a differential run against a real
 * redis-server (replies compared byte for byte in RESP2 and RESP3: errors, nil kinds, every
 * option), a seeded random workload, the blocking commands (FIFO order, ms timeouts, wake-up
 * by another client, service from the key that became ready, pushes inside MULTI, CLIENT
 * UNBLOCK, BLMOVE chains) compared with redis-server too, keyspace events, the recorded
 * (journaled) forms of pops and moves, and the real clients (redis-cli, ioredis, node-redis).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameKeyEvents } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { RespWriter } from "../../src/resp/writer.ts";
import { Client } from "../../src/server/client.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";

import { type Arg, RawClient, Twin } from "../helpers/raw_twin.ts";
import { rng } from "../helpers/rng.ts";

/** Deterministic command script covering every list command, option and error. */
function script(p: string): Arg[][] {
  const k = (s: string) => `${p}:${s}`;
  return [
    ["SET", k("str"), "v"],
    // Pushes
    ["RPUSH", k("l"), "a", "b", "c", "a", "b", "c"],
    ["LPUSH", k("l"), "z", "y"],
    ["LPUSHX", k("none"), "a"],
    ["RPUSHX", k("none"), "a"],
    ["LPUSHX", k("l"), "x1", "x2"],
    ["RPUSHX", k("l"), "t1"],
    ["LPUSH", k("str"), "a"],
    ["RPUSH", k("str"), "a"],
    ["LPUSHX", k("str"), "a"],
    ["RPUSHX", k("str"), "a"],
    ["RPUSH", k("bin"), "\x00\xff\r\n", "", "\x80\x9f"],
    ["LRANGE", k("bin"), 0, -1],
    ["LPUSH", k("l")],
    ["LLEN", k("l")],
    ["LLEN", k("none")],
    ["LLEN", k("str")],
    // LRANGE and LINDEX edges
    ["LRANGE", k("l"), 0, -1],
    ["LRANGE", k("l"), -3, -1],
    ["LRANGE", k("l"), -100, 2],
    ["LRANGE", k("l"), 5, 2],
    ["LRANGE", k("l"), 100, 200],
    ["LRANGE", k("l"), "-100", "-50"],
    ["LRANGE", k("l"), 0, "9223372036854775807"],
    ["LRANGE", k("l"), "-9223372036854775808", "9223372036854775807"],
    ["LRANGE", k("l"), "x", 1],
    ["LRANGE", k("l"), 0, "1.5"],
    ["LRANGE", k("none"), "x", 1],
    ["LRANGE", k("none"), 0, -1],
    ["LRANGE", k("str"), 0, -1],
    ["LINDEX", k("l"), 0],
    ["LINDEX", k("l"), -1],
    ["LINDEX", k("l"), 100],
    ["LINDEX", k("l"), -100],
    ["LINDEX", k("l"), "-9223372036854775808"],
    ["LINDEX", k("l"), "x"],
    ["LINDEX", k("none"), "x"],
    ["LINDEX", k("none"), 0],
    ["LINDEX", k("str"), 0],
    // LSET
    ["LSET", k("l"), 0, "first"],
    ["LSET", k("l"), -1, "last"],
    ["LSET", k("l"), 100, "x"],
    ["LSET", k("l"), "x", "x"],
    ["LSET", k("none"), 0, "x"],
    ["LSET", k("none"), "x", "x"],
    ["LSET", k("str"), 0, "x"],
    ["LRANGE", k("l"), 0, -1],
    // LINSERT
    ["LINSERT", k("l"), "BEFORE", "a", "A"],
    ["LINSERT", k("l"), "after", "c", "C"],
    ["LINSERT", k("l"), "before", "nope", "x"],
    ["LINSERT", k("l"), "middle", "a", "x"],
    ["LINSERT", k("none"), "before", "a", "x"],
    ["LINSERT", k("str"), "before", "a", "x"],
    ["LINSERT", k("l"), "before", "a"],
    ["LRANGE", k("l"), 0, -1],
    // LPOS
    ["RPUSH", k("p"), "a", "b", "c", "a", "b", "c", "a"],
    ["LPOS", k("p"), "a"],
    ["LPOS", k("p"), "c"],
    ["LPOS", k("p"), "zz"],
    ["LPOS", k("p"), "a", "RANK", 2],
    ["LPOS", k("p"), "a", "RANK", -1],
    ["LPOS", k("p"), "a", "RANK", -2],
    ["LPOS", k("p"), "a", "RANK", 9],
    ["LPOS", k("p"), "a", "RANK", 0],
    ["LPOS", k("p"), "a", "RANK", "-9223372036854775808"],
    ["LPOS", k("p"), "a", "RANK", "9223372036854775808"],
    ["LPOS", k("p"), "a", "RANK", "x"],
    ["LPOS", k("p"), "a", "COUNT", 0],
    ["LPOS", k("p"), "a", "COUNT", 2],
    ["LPOS", k("p"), "a", "COUNT", 2, "RANK", -1],
    ["LPOS", k("p"), "a", "COUNT", 0, "RANK", 2],
    ["LPOS", k("p"), "a", "COUNT", "9223372036854775807"],
    ["LPOS", k("p"), "a", "COUNT", -1],
    ["LPOS", k("p"), "a", "COUNT", "x"],
    ["LPOS", k("p"), "c", "MAXLEN", 2],
    ["LPOS", k("p"), "c", "MAXLEN", 3],
    ["LPOS", k("p"), "a", "MAXLEN", 1, "RANK", -1],
    ["LPOS", k("p"), "a", "COUNT", 0, "MAXLEN", 4],
    ["LPOS", k("p"), "a", "MAXLEN", -1],
    ["LPOS", k("p"), "a", "RANK", 1, "RANK", 2],
    ["LPOS", k("p"), "a", "foo"],
    ["LPOS", k("p"), "a", "RANK"],
    ["LPOS", k("p"), "zz", "COUNT", 0],
    ["LPOS", k("none"), "a"],
    ["LPOS", k("none"), "a", "COUNT", 1],
    ["LPOS", k("none"), "a", "RANK", 0],
    ["LPOS", k("str"), "a"],
    ["LPOS", k("str"), "a", "RANK", 0],
    // LREM
    ["LREM", k("p"), 1, "a"],
    ["LREM", k("p"), -1, "a"],
    ["LRANGE", k("p"), 0, -1],
    ["LREM", k("p"), 0, "b"],
    ["LREM", k("p"), 0, "zz"],
    ["LREM", k("p"), "9223372036854775807", "c"],
    ["LREM", k("p"), "x", "a"],
    ["LREM", k("none"), 0, "a"],
    ["LREM", k("none"), "x", "a"],
    ["LREM", k("str"), 0, "a"],
    ["EXISTS", k("p")],
    ["LRANGE", k("p"), 0, -1],
    ["LREM", k("p"), 0, "a"],
    ["EXISTS", k("p")],
    // LTRIM
    ["RPUSH", k("t"), 1, 2, 3, 4, 5, 6, 7, 8],
    ["LTRIM", k("t"), 0, -1],
    ["LTRIM", k("t"), 1, -2],
    ["LRANGE", k("t"), 0, -1],
    ["LTRIM", k("t"), -3, 100],
    ["LRANGE", k("t"), 0, -1],
    ["LTRIM", k("t"), "a", 1],
    ["LTRIM", k("none"), "a", 1],
    ["LTRIM", k("none"), 0, 1],
    ["LTRIM", k("str"), 0, 1],
    ["LTRIM", k("t"), 2, 1],
    ["EXISTS", k("t")],
    // LPOP / RPOP with and without count
    ["RPUSH", k("q"), 1, 2, 3, 4, 5],
    ["LPOP", k("q")],
    ["RPOP", k("q")],
    ["LPOP", k("q"), 0],
    ["LPOP", k("q"), 2],
    ["RPOP", k("q"), 5],
    ["EXISTS", k("q")],
    ["LPOP", k("q")],
    ["LPOP", k("q"), 0],
    ["LPOP", k("q"), 3],
    ["RPOP", k("q"), -1],
    ["RPOP", k("q"), "x"],
    ["LPOP", k("q"), 1, 2],
    ["LPOP", k("str")],
    ["LPOP", k("str"), 1],
    ["LPOP", k("str"), "x"],
    // LMOVE / RPOPLPUSH
    ["RPUSH", k("src"), "a", "b", "c"],
    ["LMOVE", k("src"), k("dst"), "LEFT", "RIGHT"],
    ["LMOVE", k("src"), k("dst"), "right", "left"],
    ["LMOVE", k("src"), k("src"), "left", "right"],
    ["LRANGE", k("src"), 0, -1],
    ["LMOVE", k("src"), k("dst"), "up", "left"],
    ["LMOVE", k("src"), k("dst"), "left", "down"],
    ["LMOVE", k("src"), k("str"), "left", "left"],
    ["LMOVE", k("none"), k("str"), "left", "left"],
    ["LMOVE", k("str"), k("dst"), "left", "left"],
    ["RPOPLPUSH", k("src"), k("dst")],
    ["RPOPLPUSH", k("src"), k("str")],
    ["RPOPLPUSH", k("none"), k("dst")],
    ["RPOPLPUSH", k("str"), k("dst")],
    ["EXISTS", k("src")],
    ["LRANGE", k("dst"), 0, -1],
    ["RPUSH", k("one"), "x"],
    ["RPOPLPUSH", k("one"), k("one")],
    ["LMOVE", k("one"), k("one"), "left", "left"],
    ["LRANGE", k("one"), 0, -1],
    // LMPOP
    ["RPUSH", k("m"), 1, 2, 3, 4, 5],
    ["LMPOP", 0, k("m"), "left"],
    ["LMPOP", "x", k("m"), "left"],
    ["LMPOP", -1, k("m"), "left"],
    ["LMPOP", 2, k("m"), "left"],
    ["LMPOP", 1, k("m"), "middle"],
    ["LMPOP", 1, k("m"), "left", "count", 0],
    ["LMPOP", 1, k("m"), "left", "count", "x"],
    ["LMPOP", 1, k("m"), "left", "count", -1],
    ["LMPOP", 1, k("m"), "left", "count", 1, "count", 1],
    ["LMPOP", 1, k("m"), "left", "foo"],
    ["LMPOP", 1, k("m"), "left", "count"],
    ["LMPOP", 1, k("none"), "left"],
    ["LMPOP", 2, k("none"), k("str"), "left"],
    ["LMPOP", 2, k("none"), k("m"), "left"],
    ["LMPOP", 2, k("m"), k("str"), "RIGHT", "COUNT", 2],
    ["LMPOP", 1, k("m"), "left", "COUNT", 100],
    ["EXISTS", k("m")],
    // Blocking commands that are served at once or time out quickly
    ["RPUSH", k("b"), 1, 2, 3, 4, 5, 6, 7, 8],
    ["BLPOP", k("none"), k("b"), 0],
    ["BRPOP", k("b"), 0],
    ["BLMPOP", 0, 1, k("b"), "left"],
    ["BLMPOP", 0, 2, k("none"), k("b"), "right", "count", 2],
    ["BRPOPLPUSH", k("b"), k("b2"), 0],
    ["BLMOVE", k("b"), k("b2"), "left", "left", 0],
    ["LRANGE", k("b2"), 0, -1],
    ["BLPOP", k("none"), "0.01"],
    ["BRPOP", k("none"), k("none2"), "0.01"],
    ["BLMPOP", "0.01", 1, k("none"), "left"],
    ["BRPOPLPUSH", k("none"), k("b2"), "0.01"],
    ["BLMOVE", k("none"), k("b2"), "left", "right", "0.01"],
    ["BLPOP", k("none"), "x"],
    ["BLPOP", k("none"), -1],
    ["BLPOP", k("none"), "inf"],
    ["BLPOP", k("none"), "1e20"],
    ["BLPOP", k("none"), " 1"],
    ["BLPOP", k("str"), 1],
    ["BLPOP", k("none"), k("str"), 1],
    ["BRPOPLPUSH", k("none"), k("b2"), "x"],
    ["BRPOPLPUSH", k("b"), k("str"), 0],
    ["BLMOVE", k("none"), k("b2"), "left", "middle", 0],
    ["BLMOVE", k("none"), k("b2"), "left", "left", "x"],
    ["BLMOVE", k("b"), k("str"), "left", "left", 0],
    ["BLMPOP", "x", 1, k("b"), "left"],
    ["BLMPOP", -1, 1, k("b"), "left"],
    ["BLMPOP", 0, 0, k("b"), "left"],
    ["BLMPOP", "x", 0, k("b"), "left"],
    ["BLMPOP", 0, 1, k("b"), "left", "count", 0],
    ["BLMPOP", 0, 1, k("str"), "left"],
    // Blocking commands inside MULTI answer at once
    ["MULTI"],
    ["BLPOP", k("none"), 0],
    ["BRPOP", k("none"), 0],
    ["BLMPOP", 0, 1, k("none"), "left"],
    ["BRPOPLPUSH", k("none"), k("b2"), 0],
    ["BLMOVE", k("none"), k("b2"), "left", "left", 0],
    ["BLPOP", k("b"), 0],
    ["EXEC"],
    // Types and encodings
    ["TYPE", k("b")],
    ["OBJECT", "ENCODING", k("b")],
    ["LRANGE", k("b"), 0, -1],
    ["LRANGE", k("bin"), 0, -1],
  ];
}

/** A random mix of list writes and reads over three keys. */
function randomScript(p: string, seed: number, n: number): Arg[][] {
  const r = rng(seed);
  const key = () => `${p}:r${1 + Math.floor(r() * 3)}`;
  const val = () => String(Math.floor(r() * 6));
  const idx = () => Math.floor(r() * 14) - 7;
  const out: Arg[][] = [];
  for (let i = 0; i < n; i++) {
    const op = Math.floor(r() * 14);
    const k = key();
    if (op === 0) out.push(["LPUSH", k, val(), val()]);
    else if (op === 1) out.push(["RPUSH", k, val()]);
    else if (op === 2) out.push(["LPOP", k, ...(r() < 0.5 ? [] : [Math.floor(r() * 3)])]);
    else if (op === 3) out.push(["RPOP", k]);
    else if (op === 4) out.push(["LINSERT", k, r() < 0.5 ? "BEFORE" : "AFTER", val(), val()]);
    else if (op === 5) out.push(["LREM", k, Math.floor(r() * 5) - 2, val()]);
    else if (op === 6) out.push(["LTRIM", k, idx(), idx()]);
    else if (op === 7) out.push(["LSET", k, idx(), val()]);
    else if (op === 8) out.push(["LRANGE", k, idx(), idx()]);
    else if (op === 9) out.push(["LINDEX", k, idx()]);
    else if (op === 10) out.push(["LPOS", k, val(), "RANK", r() < 0.5 ? 1 : -1, "COUNT", Math.floor(r() * 3)]);
    else if (op === 11) out.push(["LMOVE", k, key(), r() < 0.5 ? "LEFT" : "RIGHT", r() < 0.5 ? "LEFT" : "RIGHT"]);
    else if (op === 12) {
      out.push(["LMPOP", 2, k, key(), r() < 0.5 ? "LEFT" : "RIGHT", "COUNT", 1 + Math.floor(r() * 3)]);
    } else out.push(["LLEN", k]);
  }
  return out;
}

/** Waits until the server reports `n` blocked clients. */
async function blockedClients(admin: RespClient, n: number): Promise<void> {
  await waitFor(
    async () => String(await admin.call("INFO", "clients")).includes(`blocked_clients:${n}\r`),
    `${n} blocked clients`,
  );
}

/**
 * Runs one blocking scenario on a server and returns what every waiter received: waiters
 * are started in order (each confirmed blocked before the next), then `writes` run on
 * another connection.
 */
async function blockingScenario(port: number, waiters: Arg[][], writes: Arg[][]): Promise<string[]> {
  const admin = await RespClient.connect(port);
  const writer = await RawClient.open(port);
  const clients: RawClient[] = [];
  try {
    for (const cmd of waiters) {
      const c = await RawClient.open(port);
      clients.push(c);
      await c.send(...cmd);
      await blockedClients(admin, clients.length);
    }
    const out: string[] = [];
    for (const w of writes) out.push("writer: " + await writer.call(...w));
    for (let i = 0; i < clients.length; i++) out.push(`waiter ${i}: ` + await clients[i].read());
    return out;
  } finally {
    for (const c of clients) c.close();
    writer.close();
    admin.close();
  }
}

Deno.test("lists: differential against redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    for (const proto of [2, 3] as const) {
      await t.step(`scripted commands, RESP${proto}`, async () => {
        const twin = await Twin.open(srv.port, redis.port, proto);
        try {
          for (const cmd of script(`s${proto}`)) await twin.same(...cmd);
        } finally {
          twin.close();
        }
      });
    }
    await t.step("seeded random workload", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      try {
        for (const cmd of randomScript("rnd", 4321, 4000)) await twin.same(...cmd);
        for (const key of ["rnd:r1", "rnd:r2", "rnd:r3"]) await twin.same("LRANGE", key, 0, -1);
      } finally {
        twin.close();
      }
    });
    await t.step("long lists: quicklist encoding, ranges, trims and removals on thousands of elements", async () => {
      const twin = await Twin.open(srv.port, redis.port);
      try {
        const items = Array.from({ length: 5000 }, (_, i) => `item-${i % 97}`);
        await twin.same("RPUSH", "long", ...items);
        await twin.same("OBJECT", "ENCODING", "long");
        await twin.same("LRANGE", "long", 2000, 2100);
        await twin.same("LINDEX", "long", 2500);
        await twin.same("LINSERT", "long", "BEFORE", "item-50", "inserted");
        await twin.same("LREM", "long", -3, "item-7");
        await twin.same("LPOS", "long", "item-3", "RANK", -2, "COUNT", 5, "MAXLEN", 3000);
        await twin.same("LTRIM", "long", 100, -100);
        await twin.same("LMPOP", 1, "long", "RIGHT", "COUNT", 300);
        await twin.same("LRANGE", "long", 0, -1);
      } finally {
        twin.close();
      }
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("lists: blocking commands behave as on redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  const both = async (waiters: Arg[][], writes: Arg[][]) => {
    const ours = await blockingScenario(srv.port, waiters, writes);
    const theirs = await blockingScenario(redis.port, waiters, writes);
    assert.deepEqual(ours, theirs);
    return ours;
  };
  try {
    await t.step("BLPOP is woken by an LPUSH from another client", async () => {
      const out = await both([["BLPOP", "w1", 0]], [["LPUSH", "w1", "a", "b"], ["LRANGE", "w1", 0, -1]]);
      assert.deepEqual(out, [
        "writer: :2\r\n",
        "writer: *1\r\n$1\r\na\r\n",
        "waiter 0: *2\r\n$2\r\nw1\r\n$1\r\nb\r\n",
      ]);
    });
    await t.step("several waiters are served first come first served", async () => {
      const out = await both(
        [["BLPOP", "fifo", 0], ["BRPOP", "fifo", "other", 0], ["BLMPOP", 0, 1, "fifo", "LEFT", "COUNT", 2]],
        [["RPUSH", "fifo", 1, 2, 3, 4, 5], ["LRANGE", "fifo", 0, -1]],
      );
      assert.equal(out[2], "waiter 0: *2\r\n$4\r\nfifo\r\n$1\r\n1\r\n");
    });
    await t.step("a waiter is served from the key that became ready, not the first listed", async () => {
      await both(
        [["BLPOP", "ka", "kb", 0]],
        [["MULTI"], ["RPUSH", "kb", "from-b"], ["RPUSH", "ka", "from-a"], ["EXEC"], ["LRANGE", "ka", 0, -1]],
      );
    });
    await t.step("a push inside MULTI wakes the waiter only after EXEC", async () => {
      const out = await both(
        [["BLPOP", "tx", 0]],
        [["MULTI"], ["RPUSH", "tx", "a"], ["RPOP", "tx"], ["RPUSH", "tx", "b"], ["LLEN", "tx"], ["EXEC"]],
      );
      assert.equal(out[out.length - 1], "waiter 0: *2\r\n$2\r\ntx\r\n$1\r\nb\r\n");
    });
    await t.step("BLMOVE chains: the moved element serves a waiter on the destination", async () => {
      await both(
        [["BLMOVE", "c1", "c2", "LEFT", "RIGHT", 0], ["BLPOP", "c2", 0], ["BRPOPLPUSH", "c3", "c1", 0]],
        [["RPUSH", "c3", "x", "y"], ["LRANGE", "c1", 0, -1], ["LRANGE", "c2", 0, -1], ["LRANGE", "c3", 0, -1]],
      );
    });
    await t.step("a destination of the wrong type unblocks BLMOVE with WRONGTYPE", async () => {
      await both(
        [["BLMOVE", "wsrc", "wdst", "LEFT", "LEFT", 0]],
        [["SET", "wdst", "string"], ["RPUSH", "wsrc", "x"], ["LRANGE", "wsrc", 0, -1]],
      );
    });
    await t.step("a key replaced by another type does not serve; a later list does", async () => {
      await both(
        [["BRPOP", "ty", 0]],
        [["SET", "ty", "s"], ["DEL", "ty"], ["RPUSH", "ty", "1", "2"]],
      );
    });
    await t.step("RESP3 waiters get RESP3 replies", async () => {
      const run = async (port: number) => {
        const w = await RawClient.open(port);
        const admin = await RespClient.connect(port);
        await w.call("HELLO", "3");
        await w.send("BLMPOP", 0, 1, "r3", "RIGHT", "COUNT", 5);
        await blockedClients(admin, 1);
        await admin.call("RPUSH", "r3", "a", "b");
        const got = await w.read();
        const t0 = Date.now();
        const timedOut = await w.call("BLPOP", "r3", "0.05");
        assert.ok(Date.now() - t0 >= 45);
        w.close();
        admin.close();
        return [got, timedOut];
      };
      assert.deepEqual(await run(srv.port), await run(redis.port));
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("lists: blocking timeouts and CLIENT UNBLOCK", async (t) => {
  const srv = await startServer();
  try {
    await t.step("timeouts have millisecond precision", async () => {
      const c = await RespClient.connect(srv.port);
      for (const [cmd, ms] of [[["BLPOP", "to", "0.15"], 150], [["BRPOPLPUSH", "to", "d", "0.05"], 50]] as const) {
        const t0 = performance.now();
        assert.equal(await c.call(...cmd), null);
        const took = performance.now() - t0;
        assert.ok(took >= ms - 2 && took < ms + 250, `${cmd[0]} took ${took} ms, expected about ${ms}`);
      }
      // A sub-millisecond timeout rounds up to 1 ms; it does not mean "forever".
      assert.equal(await c.call("BLMPOP", "0.0001", 1, "to", "LEFT"), null);
      c.close();
    });
    await t.step("CLIENT UNBLOCK answers the timeout reply, or UNBLOCKED with ERROR", async () => {
      const w = await RawClient.open(srv.port);
      const admin = await RespClient.connect(srv.port);
      const id = Number((await w.call("CLIENT", "ID")).slice(1));
      await w.send("BLPOP", "unb", 0);
      await blockedClients(admin, 1);
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id), 1);
      assert.equal(await w.read(), "*-1\r\n");
      await w.send("BLMOVE", "unb", "d", "LEFT", "LEFT", 0);
      await blockedClients(admin, 1);
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id, "ERROR"), 1);
      assert.equal(await w.read(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id), 0);
      await blockedClients(admin, 0);
      w.close();
      admin.close();
    });
    await t.step("commands sent behind a blocked one run after it, in order", async () => {
      const admin = await RespClient.connect(srv.port);
      const w = await RawClient.open(srv.port);
      await w.send("BLPOP", "pipe", 0);
      await blockedClients(admin, 1);
      await w.send("RPUSH", "pipe", "mine");
      await w.send("PING");
      await admin.call("RPUSH", "pipe", "theirs");
      assert.equal(await w.read(), "*2\r\n$4\r\npipe\r\n$6\r\ntheirs\r\n");
      assert.equal(await w.read(), ":1\r\n");
      assert.equal(await w.read(), "+PONG\r\n");
      assert.deepEqual(await admin.call("LRANGE", "pipe", 0, -1), ["mine"]);
      w.close();
      admin.close();
    });
    await t.step("a client that disconnects while blocked is forgotten", async () => {
      const admin = await RespClient.connect(srv.port);
      const w = await RawClient.open(srv.port);
      await w.send("BLPOP", "gone", 0);
      await blockedClients(admin, 1);
      w.close();
      await blockedClients(admin, 0);
      assert.equal(await admin.call("RPUSH", "gone", "x"), 1);
      assert.equal(await admin.call("LLEN", "gone"), 1);
      admin.close();
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("lists: recorded writes are deterministic (pops, moves, served waiters)", async () => {
  const s = new InProcessServer();
  s.call("RPUSH", "l", "a", "b", "c", "d", "e");
  s.clearRecords();
  s.call("BLPOP", "none", "l", "0");
  s.call("BRPOP", "l", "0");
  s.call("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "9");
  s.call("RPUSH", "l", "x", "y");
  s.call("BLMOVE", "l", "m", "LEFT", "RIGHT", "0");
  s.call("BRPOPLPUSH", "l", "m", "0");
  s.call("LMPOP", "1", "m", "RIGHT", "COUNT", "1");
  s.call("LTRIM", "m", "0", "-1");
  s.call("LPOP", "none");
  s.call("LREM", "m", "0", "zz");
  s.call("LINSERT", "m", "BEFORE", "zz", "v");
  assert.deepEqual(s.commands(), [
    ["LPOP", "l"],
    ["RPOP", "l"],
    ["LPOP", "l", "3"],
    ["RPUSH", "l", "x", "y"],
    ["LPOP", "l"],
    ["RPUSH", "m", "x"],
    ["RPOP", "l"],
    ["LPUSH", "m", "y"],
    ["RPOP", "m", "1"],
  ]);
  // A waiter served by another client's push records its own concrete pop after the push.
  const waiterWriter = new RespWriter();
  const waiter = new Client(s.server, waiterWriter, "internal");
  const blocked = [
    dispatch(waiter, ["BLPOP", "w", "0"]),
    dispatch(new Client(s.server, new RespWriter(), "internal"), ["BLMOVE", "w2", "w3", "RIGHT", "LEFT", "0"]),
  ];
  assert.ok(blocked.every((p) => p instanceof Promise));
  s.clearRecords();
  s.call("RPUSH", "w", "1", "2");
  s.call("LPUSH", "w2", "z");
  await Promise.all(blocked);
  assert.deepEqual(s.commands(), [
    ["RPUSH", "w", "1", "2"],
    ["LPOP", "w"],
    ["LPUSH", "w2", "z"],
    ["RPOP", "w2"],
    ["LPUSH", "w3", "z"],
  ]);
  assert.equal(Buffer.from(waiterWriter.take()).toString("latin1"), "*2\r\n$1\r\nw\r\n$1\r\n1\r\n");
});

Deno.test("lists: keyspace events match redis-server", async () => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    await assertSameKeyEvents(srv.port, redis.port, [
      ["RPUSH", "ev", 1, 2, 3, 4, 5],
      ["LPUSH", "ev", 0],
      ["LPUSHX", "ev", -1],
      ["RPUSHX", "ev", 6],
      ["LPUSHX", "none", 1],
      ["LPOP", "ev"],
      ["RPOP", "ev", 2],
      ["LPOP", "ev", 0],
      ["LSET", "ev", 0, "x"],
      ["LINSERT", "ev", "BEFORE", "x", "y"],
      ["LINSERT", "ev", "BEFORE", "nope", "y"],
      ["LREM", "ev", 0, "y"],
      ["LREM", "ev", 0, "nope"],
      ["LTRIM", "ev", 0, -1],
      ["LTRIM", "ev", 1, 2],
      ["LMOVE", "ev", "ev2", "LEFT", "RIGHT"],
      ["RPOPLPUSH", "ev", "ev2"],
      ["LMPOP", 1, "ev2", "LEFT", "COUNT", 1],
      ["RPUSH", "ev2", "a", "b"],
      ["BLPOP", "ev2", 0],
      ["BLMOVE", "ev2", "ev3", "RIGHT", "LEFT", 0],
      ["BLMPOP", 0, 1, "ev3", "LEFT"],
      ["RPUSH", "ev4", "a"],
      ["LTRIM", "ev4", 1, 0],
    ]);
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("lists: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["rpush", "cli", "a", "b", "c"]), "(integer) 3");
      assert.equal(await redisCli(srv.port, ["lrange", "cli", "0", "-1"]), '1) "a"\n2) "b"\n3) "c"');
      assert.equal(await redisCli(srv.port, ["lpos", "cli", "c"]), "(integer) 2");
      assert.equal(
        await redisCli(srv.port, ["lmpop", "1", "cli", "right", "count", "2"]),
        '1) "cli"\n2) 1) "c"\n   2) "b"',
      );
      assert.equal(await redisCli(srv.port, ["lset", "nope", "0", "x"]), "(error) ERR no such key");
      assert.equal(await redisCli(srv.port, ["blpop", "nope", "0.01"]), "(nil)");
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.equal(await io.rpush("io", "1", "2", "3"), 3);
        assert.deepEqual(await io.lrange("io", 0, -1), ["1", "2", "3"]);
        assert.equal(await io.lmove("io", "io2", "LEFT", "RIGHT"), "1");
        assert.deepEqual(await io.lpop("io", 5), ["2", "3"]);
        assert.equal(await io.llen("io"), 0);
        const blocked = io.duplicate();
        const pending = blocked.blpop("io:wait", 0);
        const admin = await RespClient.connect(srv.port);
        await blockedClients(admin, 1);
        await io.rpush("io:wait", "hello");
        assert.deepEqual(await pending, ["io:wait", "hello"]);
        admin.close();
        blocked.disconnect();
        await assert.rejects(io.lset("nope", 0, "x"), /ERR no such key/);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis (RESP2)", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.rPush("nr", ["a", "b", "c"]), 3);
        assert.deepEqual(await nr.lRange("nr", 0, -1), ["a", "b", "c"]);
        assert.equal(await nr.lPos("nr", "b"), 1);
        assert.deepEqual(await nr.lmPop("nr", "LEFT", { COUNT: 2 }), ["nr", ["a", "b"]]);
        assert.deepEqual(await nr.blPop("nr", 0.01), { key: "nr", element: "c" });
        assert.equal(await nr.blPop("nr", 0.01), null);
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});
