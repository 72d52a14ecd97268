/**
 * Transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH) against a real damselfly process with
 * 4 shards: a two-client differential run against real redis-server (every error reply,
 * EXECABORT rules, WATCH broken by other clients, own writes, FLUSHDB/FLUSHALL/SWAPDB and
 * expiry), cross-shard atomicity under a concurrent reader, and the real clients (redis-cli,
 * ioredis, node-redis). In-process checks cover what a socket cannot show: the journal form
 * of a transaction (MULTI … EXEC around two or more writes) and Redis 7.0's rules for a key
 * that was already expired when it was WATCHed (which needs a clock no active expiry races).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { canonicalReply } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { Client } from "../../src/server/client.ts";
import { RespWriter } from "../../src/resp/writer.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";

/** A step of a two-client run: a command for client a or b, or a wait of `pauseMs`. */
type TxStep = ["a" | "b", ...string[]] | { pauseMs: number };

/** Replies a transaction run must match exactly on both servers. */
function txSteps(): TxStep[] {
  return [
    // Errors outside and inside MULTI.
    ["a", "EXEC"],
    ["a", "DISCARD"],
    ["a", "MULTI", "x"],
    ["a", "EXEC", "x"],
    ["a", "SET", "ew", "1"],
    ["a", "WATCH", "ew"],
    ["a", "EXEC", "x"],
    ["b", "SET", "ew", "2"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "DISCARD", "x"],
    ["a", "WATCH"],
    ["a", "UNWATCH", "x"],
    ["a", "MULTI"],
    ["a", "MULTI"],
    ["a", "SET", "k", "1"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "WATCH", "k"],
    ["a", "INCR", "k"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "NOSUCHCOMMAND", "arg"],
    ["a", "SET", "k", "2"],
    ["a", "EXEC"],
    ["a", "GET", "k"],
    ["a", "MULTI"],
    ["a", "SET", "k"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "GET"],
    ["a", "DISCARD"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "SET", "k", "3"],
    ["a", "EXEC", "extra"],
    ["a", "EXEC"],
    ["a", "GET", "k"],
    ["a", "MULTI"],
    ["a", "DISCARD", "extra"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "WATCH"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "CONFIG", "NOSUCHSUB"],
    ["a", "EXEC"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    // Runtime errors are returned in the array and do not stop the rest.
    ["a", "SET", "s", "text"],
    ["a", "MULTI"],
    ["a", "INCR", "s"],
    ["a", "SET", "y", "1"],
    ["a", "INCR", "y"],
    ["a", "LPUSH", "s", "x"],
    ["a", "GET", "y"],
    ["a", "PING"],
    ["a", "ECHO", "hi"],
    ["a", "EXEC"],
    // SELECT inside a transaction, and blocking commands that must not block.
    ["a", "MULTI"],
    ["a", "SELECT", "1"],
    ["a", "SET", "k1", "v1"],
    ["a", "SELECT", "0"],
    ["a", "BLPOP", "nolist", "0"],
    ["a", "BRPOPLPUSH", "nolist", "other", "0"],
    ["a", "EXEC"],
    ["a", "GET", "k1"],
    ["b", "SELECT", "1"],
    ["b", "GET", "k1"],
    ["b", "SELECT", "0"],
    ["a", "MULTI"],
    ["a", "LPUSH", "list", "a", "b"],
    ["a", "BLPOP", "list", "0"],
    ["a", "EXEC"],
    // RESET leaves MULTI and drops the queue.
    ["a", "MULTI"],
    ["a", "SET", "r", "1"],
    ["a", "RESET"],
    ["a", "EXEC"],
    ["a", "GET", "r"],
    // WATCH: other clients' writes, own writes, same-value writes, no-op writes.
    ["a", "SET", "w", "1"],
    ["a", "WATCH", "w"],
    ["b", "SET", "w", "2"],
    ["a", "MULTI"],
    ["a", "SET", "w", "from-a"],
    ["a", "EXEC"],
    ["a", "GET", "w"],
    ["a", "WATCH", "w"],
    ["a", "MULTI"],
    ["a", "SET", "w", "from-a"],
    ["a", "EXEC"],
    ["a", "GET", "w"],
    ["a", "WATCH", "w"],
    ["a", "SET", "w", "own"],
    ["a", "MULTI"],
    ["a", "GET", "w"],
    ["a", "EXEC"],
    ["a", "WATCH", "w"],
    ["b", "SET", "w", "own"],
    ["a", "MULTI"],
    ["a", "GET", "w"],
    ["a", "EXEC"],
    ["a", "WATCH", "w", "nx1", "nx2", "w"],
    ["b", "DEL", "nx1"],
    ["b", "PERSIST", "w"],
    ["b", "EXPIRE", "nx2", "100"],
    ["b", "GET", "w"],
    ["a", "MULTI"],
    ["a", "GET", "w"],
    ["a", "EXEC"],
    ["a", "WATCH", "w", "nx1"],
    ["b", "SET", "nx1", "now"],
    ["a", "MULTI"],
    ["a", "GET", "w"],
    ["a", "EXEC"],
    ["a", "WATCH", "w"],
    ["b", "EXPIRE", "w", "1000"],
    ["a", "MULTI"],
    ["a", "TTL", "w"],
    ["a", "EXEC"],
    ["a", "WATCH", "w"],
    ["b", "INCR", "w"],
    ["a", "MULTI"],
    ["a", "GET", "w"],
    ["a", "EXEC"],
    ["a", "WATCH", "w"],
    ["b", "DEL", "w"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    // UNWATCH inside MULTI is queued, so the watch still applies to this EXEC.
    ["a", "SET", "u", "1"],
    ["a", "WATCH", "u"],
    ["a", "MULTI"],
    ["a", "UNWATCH"],
    ["b", "SET", "u", "2"],
    ["a", "EXEC"],
    ["a", "WATCH", "u"],
    ["a", "UNWATCH"],
    ["b", "SET", "u", "3"],
    ["a", "MULTI"],
    ["a", "GET", "u"],
    ["a", "EXEC"],
    // DISCARD and EXEC forget watches; an aborted EXEC leaves MULTI too.
    ["a", "WATCH", "u"],
    ["a", "MULTI"],
    ["a", "DISCARD"],
    ["b", "SET", "u", "4"],
    ["a", "MULTI"],
    ["a", "GET", "u"],
    ["a", "EXEC"],
    ["a", "WATCH", "u"],
    ["b", "SET", "u", "5"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "EXEC"],
    ["a", "WATCH", "u"],
    ["a", "MULTI"],
    ["a", "NOSUCHCOMMAND"],
    ["a", "EXEC"],
    ["b", "SET", "u", "6"],
    ["a", "MULTI"],
    ["a", "GET", "u"],
    ["a", "EXEC"],
    // A watch belongs to the db the key was watched in.
    ["a", "SELECT", "1"],
    ["a", "WATCH", "dbkey"],
    ["a", "SELECT", "0"],
    ["b", "SET", "dbkey", "db0"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "SELECT", "1"],
    ["a", "WATCH", "dbkey"],
    ["a", "SELECT", "0"],
    ["b", "SELECT", "1"],
    ["b", "SET", "dbkey", "db1"],
    ["b", "SELECT", "0"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    // FLUSHDB, FLUSHALL and SWAPDB touch watched keys that exist (on either side).
    ["a", "SET", "f", "1"],
    ["a", "WATCH", "f"],
    ["b", "FLUSHALL"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "WATCH", "never"],
    ["b", "FLUSHALL"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "SET", "f", "1"],
    ["a", "WATCH", "f"],
    ["b", "FLUSHDB"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "SET", "f", "1"],
    ["a", "WATCH", "f"],
    ["b", "SELECT", "2"],
    ["b", "FLUSHDB"],
    ["b", "SELECT", "0"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "WATCH", "f"],
    ["b", "SWAPDB", "0", "5"],
    ["b", "SWAPDB", "0", "5"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["a", "WATCH", "nowhere"],
    ["b", "SWAPDB", "0", "5"],
    ["b", "SWAPDB", "0", "5"],
    ["a", "MULTI"],
    ["a", "EXEC"],
    ["b", "SELECT", "5"],
    ["b", "SET", "only5", "x"],
    ["b", "SELECT", "0"],
    ["a", "WATCH", "only5"],
    ["b", "SWAPDB", "0", "5"],
    ["a", "MULTI"],
    ["a", "GET", "only5"],
    ["a", "EXEC"],
    ["b", "SWAPDB", "0", "5"],
    // A watched key that expires before EXEC aborts it, even if nobody touched it.
    ["a", "SET", "t", "v", "PX", "30"],
    ["a", "WATCH", "t"],
    { pauseMs: 80 },
    ["a", "MULTI"],
    ["a", "SET", "t", "again"],
    ["a", "EXEC"],
    ["a", "GET", "t"],
    // Subscribe mode (RESP2) refuses MULTI.
    ["b", "SUBSCRIBE", "ch"],
    ["b", "MULTI"],
    ["b", "UNSUBSCRIBE"],
    ["b", "MULTI"],
    ["b", "EXEC"],
  ];
}

/** Runs two-client steps on one server; returns the canonical replies. */
async function runTxSteps(port: number, steps: TxStep[]): Promise<unknown[]> {
  const clients = { a: await RespClient.connect(port), b: await RespClient.connect(port) };
  const out: unknown[] = [];
  try {
    for (const step of steps) {
      if (!Array.isArray(step)) {
        const until = Date.now() + step.pauseMs;
        await waitFor(() => Date.now() >= until, `${step.pauseMs} ms to pass`, step.pauseMs + 1000, 5);
        continue;
      }
      const [who, ...cmd] = step;
      out.push(canonicalReply(await clients[who].call(...cmd)));
    }
  } finally {
    clients.a.close();
    clients.b.close();
  }
  return out;
}

Deno.test("transactions: two-client differential against redis-server", async () => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    const steps = txSteps();
    const got = await runTxSteps(srv.port, steps);
    const want = await runTxSteps(redis.port, steps);
    const commands = steps.filter(Array.isArray);
    const mismatches: string[] = [];
    for (let i = 0; i < commands.length; i++) {
      if (JSON.stringify(got[i]) !== JSON.stringify(want[i])) {
        mismatches.push(
          `#${i} ${JSON.stringify(commands[i])}\n    damselfly: ${JSON.stringify(got[i])}\n    redis:     ${
            JSON.stringify(want[i])
          }`,
        );
      }
    }
    assert.deepEqual(mismatches, []);
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("transactions: exact reply bytes, atomicity and real clients", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  try {
    await t.step("RESP2 and RESP3 bytes of EXEC, EXECABORT and an aborted EXEC", async () => {
      const c = await RespClient.connect(srv.port);
      await c.send("MULTI\r\nSET a 1\r\nINCR a\r\nGET nokey\r\nEXEC\r\n");
      await waitFor(() => c.pending().length >= 49, "replies");
      assert.equal(c.pending(), "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n$-1\r\n");
      await c.readRaw(c.pending().length);
      await c.call("WATCH", "a");
      await c.call("SET", "a", "x");
      await c.send("MULTI\r\nEXEC\r\nMULTI\r\nFOO\r\nEXEC\r\n");
      const want = "+OK\r\n*-1\r\n+OK\r\n-ERR unknown command 'FOO', with args beginning with: \r\n" +
        "-EXECABORT Transaction discarded because of previous errors.\r\n";
      await waitFor(() => c.pending().length >= want.length, "replies");
      assert.equal(c.pending(), want);
      await c.readRaw(want.length);
      await c.call("HELLO", "3");
      await c.call("WATCH", "a");
      await c.call("SET", "a", "y");
      await c.send("MULTI\r\nEXEC\r\nMULTI\r\nGET nokey\r\nEXEC\r\n");
      const want3 = "+OK\r\n_\r\n+OK\r\n+QUEUED\r\n*1\r\n_\r\n";
      await waitFor(() => c.pending().length >= want3.length, "replies");
      assert.equal(c.pending(), want3);
      c.close();
    });

    await t.step("EXEC is atomic across shards for a concurrent reader", async () => {
      const keys = ["x:1", "x:2", "x:3", "x:4", "x:5", "x:6", "x:7", "x:8"];
      const writer = await RespClient.connect(srv.port);
      const reader = await RespClient.connect(srv.port);
      let batch = "";
      for (let i = 0; i < 200; i++) {
        batch += "MULTI\r\n";
        for (const k of keys) batch += `INCR ${k}\r\n`;
        batch += "EXEC\r\n";
      }
      const sent = writer.send(batch);
      for (let i = 0; i < 200; i++) {
        const r = await reader.call("MGET", ...keys) as Reply[];
        assert.equal(new Set(r).size, 1, `a reader saw a partial transaction: ${JSON.stringify(r)}`);
        if (r[0] === "200") break;
      }
      await sent;
      await waitFor(async () => (await reader.call("GET", "x:8")) === "200", "all transactions");
      assert.deepEqual(await reader.call("MGET", ...keys), keys.map(() => "200"));
      writer.close();
      reader.close();
    });

    await t.step("redis-cli", async () => {
      const out = await redisCli(srv.port, [], { stdin: "MULTI\nSET cli 1\nINCR cli\nINCR nope nope\nEXEC\n" });
      assert.equal(
        out,
        "OK\nQUEUED\nQUEUED\n(error) ERR wrong number of arguments for 'incr' command\n" +
          "(error) EXECABORT Transaction discarded because of previous errors.",
      );
      const ok = await redisCli(srv.port, [], { stdin: "MULTI\nSET cli 1\nINCR cli\nEXEC\n" });
      assert.equal(ok, "OK\nQUEUED\nQUEUED\n1) OK\n2) (integer) 2");
    });

    await t.step("ioredis: multi/exec, runtime errors, watch", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      const other = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      await other.connect();
      try {
        assert.deepEqual(await io.multi().set("io", "1").incr("io").get("io").exec(), [[null, "OK"], [null, 2], [
          null,
          "2",
        ]]);
        const mixed = await io.multi().set("io:s", "text").incr("io:s").exec();
        assert.equal(mixed![0][1], "OK");
        assert.ok(mixed![1][0] instanceof Error);
        assert.match(String(mixed![1][0]), /value is not an integer/);
        await io.watch("io");
        await other.set("io", "changed");
        assert.equal(await io.multi().set("io", "mine").exec(), null);
        assert.equal(await io.get("io"), "changed");
        await io.watch("io");
        assert.deepEqual(await io.multi().set("io", "mine").exec(), [[null, "OK"]]);
        await assert.rejects(io.multi([["set", "io"]]).exec(), /EXECABORT/);
      } finally {
        io.disconnect();
        other.disconnect();
      }
    });

    await t.step("node-redis: multi/exec and WatchError", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.deepEqual(await nr.multi().set("nr", "1").incr("nr").exec(), ["OK", 2]);
        await nr.executeIsolated(async (iso) => {
          await iso.watch("nr");
          await nr.set("nr", "changed");
          await assert.rejects(iso.multi().set("nr", "mine").exec(), /watched keys has been changed/);
        });
        assert.equal(await nr.get("nr"), "changed");
        await nr.executeIsolated(async (iso) => {
          await iso.watch("nr");
          assert.deepEqual(await iso.multi().set("nr", "mine").exec(), ["OK"]);
        });
        assert.equal(await nr.get("nr"), "mine");
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});

/** A second in-process client sharing the server of `ip`. */
function extraClient(ip: InProcessServer): (...args: string[]) => string {
  const writer = new RespWriter();
  const c = new Client(ip.server, writer, "internal");
  return (...args) => {
    const r = dispatch(c, args);
    if (r instanceof Promise) throw new Error(`${args[0]} blocked`);
    return Buffer.from(writer.take()).toString("latin1");
  };
}

/** Waits until wall-clock time passes `at` (ms), so a key with that expiry is expired. */
async function passTime(at: number): Promise<void> {
  await waitFor(() => Date.now() > at, `clock past ${at}`, 2000, 2);
}

Deno.test("transactions in-process: a key already expired at WATCH (Redis 7.0 rules)", async () => {
  // No timers run in-process, so expired keys stay stored until something touches them.
  const ip = new InProcessServer(["--num_shards=2"]);
  const b = extraClient(ip);
  const expiredKey = async (key: string) => {
    const at = Date.now() + 5;
    assert.equal(ip.call("SET", key, "v", "PXAT", String(at)), "+OK\r\n");
    await passTime(at);
  };
  const execAfter = (touch: () => void) => {
    assert.equal(ip.call("WATCH", "e"), "+OK\r\n");
    touch();
    ip.call("MULTI");
    return ip.call("EXEC");
  };
  await expiredKey("e");
  assert.equal(execAfter(() => {}), "*0\r\n", "untouched");
  await expiredKey("e");
  assert.equal(execAfter(() => b("GET", "e")), "*0\r\n", "deleted by lazy expiry only");
  await expiredKey("e");
  assert.equal(execAfter(() => b("DEL", "e")), "*0\r\n", "DEL of an expired key");
  await expiredKey("e");
  assert.equal(execAfter(() => b("FLUSHALL")), "*0\r\n", "FLUSHALL of an expired key");
  await expiredKey("e");
  assert.equal(execAfter(() => b("SET", "e", "new")), "*-1\r\n", "overwritten");
  await expiredKey("e");
  assert.equal(
    execAfter(() => {
      b("GET", "e");
      b("SET", "e", "new");
    }),
    "*-1\r\n",
    "deleted by expiry, then written",
  );
  // A live key that expires between WATCH and EXEC aborts without any access.
  const at = Date.now() + 5;
  ip.call("SET", "e", "v", "PXAT", String(at));
  ip.call("WATCH", "e");
  await passTime(at);
  ip.call("MULTI");
  assert.equal(ip.call("EXEC"), "*-1\r\n");
});

Deno.test("transactions in-process: the journal records MULTI … EXEC around 2+ writes", async () => {
  const ip = new InProcessServer(["--num_shards=4"]);
  const run = (...cmds: string[][]) => {
    ip.clearRecords();
    for (const cmd of cmds) ip.call(...cmd);
    return ip.writes.map((w) => [w.db, ...w.args]);
  };
  assert.deepEqual(run(["MULTI"], ["SET", "a", "1"], ["SET", "b", "2"], ["INCR", "a"], ["EXEC"]), [
    [0, "MULTI"],
    [0, "SET", "a", "1"],
    [0, "SET", "b", "2"],
    [0, "INCR", "a"],
    [0, "EXEC"],
  ]);
  assert.deepEqual(
    run(["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["EXEC"]),
    [[0, "SET", "a", "1"]],
    "one write: bare",
  );
  assert.deepEqual(run(["MULTI"], ["GET", "a"], ["INCR", "s", "x"], ["EXEC"]), [], "aborted");
  assert.deepEqual(run(["MULTI"], ["GET", "a"], ["EXEC"]), [], "read-only");
  assert.deepEqual(run(["MULTI"], ["SET", "s", "t"], ["INCR", "s"], ["DEL", "nokey"], ["EXEC"]), [[
    0,
    "SET",
    "s",
    "t",
  ]]);
  assert.deepEqual(
    run(["MULTI"], ["SELECT", "2"], ["SET", "x", "1"], ["SELECT", "0"], ["SET", "y", "1"], ["EXEC"]),
    [[2, "MULTI"], [2, "SET", "x", "1"], [0, "SET", "y", "1"], [0, "EXEC"]],
  );
  const pexpire = run(["MULTI"], ["SET", "e", "1"], ["EXPIRE", "e", "100"], ["EXEC"]);
  assert.equal(pexpire.length, 4);
  assert.deepEqual(pexpire[2].slice(0, 3), [0, "PEXPIREAT", "e"], "relative writes keep their deterministic form");
  ip.call("WATCH", "a");
  extraClient(ip)("SET", "a", "other");
  assert.deepEqual(run(["MULTI"], ["SET", "a", "1"], ["SET", "b", "1"], ["EXEC"]), [], "WATCH-aborted");
  // A key expired lazily inside EXEC is deleted inside the same transaction record.
  const at = Date.now() + 2;
  ip.call("SET", "gone", "v", "PXAT", String(at));
  await passTime(at);
  assert.deepEqual(run(["MULTI"], ["GET", "gone"], ["SET", "z", "1"], ["EXEC"]), [
    [0, "MULTI"],
    [0, "DEL", "gone"],
    [0, "SET", "z", "1"],
    [0, "EXEC"],
  ]);
  // Outside a transaction nothing is wrapped.
  assert.deepEqual(run(["SET", "p", "1"], ["SET", "q", "1"]), [[0, "SET", "p", "1"], [0, "SET", "q", "1"]]);
});
