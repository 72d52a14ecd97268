/**
 * Keyspace notifications against a real damselfly process: the event streams of string,
 * generic, list, hash, set and sorted-set commands (and of a MULTI/EXEC) compared with real
 * redis-server message by message, class filtering for each `notify-keyspace-events`
 * setting, `expired` events from active and lazy expiry, CONFIG SET validation, and an
 * ioredis consumer.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";

/** Commands whose notifications are compared with Redis's (run on db 0 unless they SELECT). */
const EVENT_COMMANDS: string[][] = [
  ["SET", "s", "1"],
  ["SET", "s", "2", "EX", "100"],
  ["INCR", "s"],
  ["INCRBY", "s", "5"],
  ["INCRBYFLOAT", "s", "0.5"],
  ["APPEND", "s", "x"],
  ["SETRANGE", "s", "1", "yy"],
  ["SET", "s", "3", "NX"],
  ["SETNX", "s2", "a"],
  ["MSET", "m1", "1", "m2", "2"],
  ["GETDEL", "m2"],
  ["GETEX", "m1", "PX", "100000"],
  ["GETEX", "m1", "PERSIST"],
  ["EXPIRE", "m1", "100"],
  ["PEXPIRE", "m1", "100000"],
  ["PERSIST", "m1"],
  ["PERSIST", "m1"],
  ["EXPIRE", "nokey", "100"],
  ["RENAME", "m1", "m3"],
  ["DEL", "m3", "s2", "nokey"],
  ["UNLINK", "s"],
  ["SET", "gone", "v"],
  ["EXPIRE", "gone", "0"],
  ["SET", "gone", "v"],
  ["PEXPIREAT", "gone", "1"],
  // Overwriting a key whose time has passed expires it first ("expired", then "set").
  ["SET", "late", "v", "PXAT", "1"],
  ["SET", "late", "w"],
  ["SET", "late2", "v", "EXAT", "100000"],
  ["MSET", "late2", "w", "other", "x"],
  ["SET", "late3", "v", "PXAT", "1"],
  ["SET", "late3", "w", "KEEPTTL"],
  ["PTTL", "late3"],
  ["LPUSH", "l", "a", "b", "c"],
  ["RPOP", "l"],
  ["LPOP", "l", "2"],
  ["HSET", "h", "f", "v", "g", "w"],
  ["HDEL", "h", "f"],
  ["HINCRBY", "h", "n", "2"],
  ["SADD", "st", "a", "b"],
  ["SREM", "st", "a", "b"],
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZINCRBY", "z", "3", "a"],
  ["ZREM", "z", "a"],
  ["MULTI"],
  ["SET", "tx", "1"],
  ["INCR", "tx"],
  ["DEL", "tx"],
  ["EXEC"],
  ["SELECT", "3"],
  ["SET", "db3", "x"],
  ["DEL", "db3"],
  ["SELECT", "0"],
];

/** A small command set that touches every class, for the filtering runs. */
const CLASS_COMMANDS: string[][] = [
  ["SET", "a", "1"],
  ["EXPIRE", "a", "100"],
  ["DEL", "a"],
  ["LPUSH", "l", "x"],
  ["LPOP", "l"],
  ["HSET", "h", "f", "v"],
  ["DEL", "h"],
  ["SADD", "s", "m"],
  ["SREM", "s", "m"],
  ["ZADD", "z", "1", "m"],
  ["ZREM", "z", "m"],
  ["SET", "e", "v"],
  ["PEXPIREAT", "e", "1"],
];

/** Keyspace-event settings compared with Redis (A alone and K/E alone emit nothing). */
const CLASS_SETTINGS = ["", "KEA", "E$", "Kg", "Ex", "A", "AK", "KEl", "Eh", "Es", "Ez", "KEg$lshz", "E", "K$"];

/** Reads published messages until the message on channel `done`; returns the rest. */
async function readUntilDone(sub: RespClient): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < 10_000; i++) {
    const r = await sub.read(5000) as Reply[];
    if (r[0] === "message" && r[1] === "done") return out;
    out.push(r);
  }
  throw new Error("no done message");
}

/** Runs `commands` with `setting` on one server and returns the notifications they caused. */
async function eventsOf(port: number, setting: string, commands: string[][]): Promise<Reply[]> {
  const sub = await RespClient.connect(port);
  const ctl = await RespClient.connect(port);
  try {
    assert.equal(await ctl.call("FLUSHALL"), "OK");
    assert.equal(await ctl.call("CONFIG", "SET", "notify-keyspace-events", setting), "OK");
    await sub.sendCommand("PSUBSCRIBE", "__key*__:*");
    await sub.read();
    await sub.sendCommand("SUBSCRIBE", "done");
    await sub.read();
    for (const cmd of commands) await ctl.call(...cmd);
    await ctl.call("PUBLISH", "done", "end");
    return await readUntilDone(sub);
  } finally {
    await ctl.call("CONFIG", "SET", "notify-keyspace-events", "");
    sub.close();
    ctl.close();
  }
}

Deno.test("keyspace notifications: event streams and class filtering match redis-server", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    await t.step("every event of string, generic, list, hash, set, zset commands and EXEC", async () => {
      const got = await eventsOf(srv.port, "KEA", EVENT_COMMANDS);
      const want = await eventsOf(redis.port, "KEA", EVENT_COMMANDS);
      assert.ok(want.length > 60, `redis sent ${want.length} events`);
      assert.deepEqual(got, want);
    });
    await t.step("each notify-keyspace-events setting selects the same events", async () => {
      for (const setting of CLASS_SETTINGS) {
        const got = await eventsOf(srv.port, setting, CLASS_COMMANDS);
        const want = await eventsOf(redis.port, setting, CLASS_COMMANDS);
        assert.deepEqual(got, want, `notify-keyspace-events '${setting}'`);
      }
    });
    await t.step("CONFIG SET validation and canonical CONFIG GET", async () => {
      for (const port of [srv.port, redis.port]) {
        const c = await RespClient.connect(port);
        assert.deepEqual(
          await c.call("CONFIG", "SET", "notify-keyspace-events", "KEx?"),
          new Error(
            "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
          ),
        );
        for (const [set, get] of [["KEA", "AKE"], ["Ex", "xE"], ["mgK", "gKm"], ["", ""]]) {
          assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", set), "OK");
          assert.deepEqual(await c.call("CONFIG", "GET", "notify-keyspace-events"), ["notify-keyspace-events", get]);
        }
        c.close();
      }
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("keyspace notifications: expired events from active and lazy expiry", async () => {
  const srv = await startServer(["--hz=100"]);
  const sub = await RespClient.connect(srv.port);
  const ctl = await RespClient.connect(srv.port);
  try {
    await ctl.call("CONFIG", "SET", "notify-keyspace-events", "KEx");
    await sub.sendCommand("PSUBSCRIBE", "__key*__:*");
    await sub.read();
    await sub.sendCommand("SUBSCRIBE", "done");
    await sub.read();
    // Active expiry: nobody reads the key.
    await ctl.call("SET", "active", "v", "PX", "30");
    assert.deepEqual(await sub.read(5000), ["pmessage", "__key*__:*", "__keyspace@0__:active", "expired"]);
    assert.deepEqual(await sub.read(5000), ["pmessage", "__key*__:*", "__keyevent@0__:expired", "active"]);
    // Lazy expiry (or active, whichever comes first): exactly one expired event per key.
    await ctl.call("SET", "lazy", "v", "PX", "20");
    const at = Date.now() + 40;
    await waitFor(() => Date.now() > at, "the key's expiry time to pass", 2000, 2);
    assert.equal(await ctl.call("GET", "lazy"), null);
    await ctl.call("PUBLISH", "done", "end");
    assert.deepEqual(await readUntilDone(sub), [
      ["pmessage", "__key*__:*", "__keyspace@0__:lazy", "expired"],
      ["pmessage", "__key*__:*", "__keyevent@0__:expired", "lazy"],
    ]);
  } finally {
    sub.close();
    ctl.close();
    await srv.stop();
  }
});

Deno.test("keyspace notifications: an ioredis consumer", async () => {
  const srv = await startServer();
  const opts = { port: srv.port, host: "127.0.0.1", lazyConnect: true };
  const sub = new Redis(opts);
  const cmd = new Redis(opts);
  try {
    await sub.connect();
    await cmd.connect();
    assert.equal(await cmd.config("SET", "notify-keyspace-events", "Eg$x"), "OK");
    const events: string[] = [];
    sub.on("pmessage", (_pattern: string, channel: string, key: string) => events.push(`${channel} ${key}`));
    await sub.psubscribe("__keyevent@0__:*");
    await cmd.set("k", "v");
    await cmd.expire("k", 100);
    await cmd.del("k");
    await cmd.set("t", "v", "PX", 20);
    await waitFor(() => events.length === 6, "six events", 5000);
    assert.deepEqual(events, [
      "__keyevent@0__:set k",
      "__keyevent@0__:expire k",
      "__keyevent@0__:del k",
      "__keyevent@0__:set t",
      "__keyevent@0__:expire t",
      "__keyevent@0__:expired t",
    ]);
  } finally {
    sub.disconnect();
    cmd.disconnect();
    await srv.stop();
  }
});
