/**
 * SORT and SORT_RO against a real damselfly process: a differential run against a real
 * redis-server over lists, sets and sorted sets with every option (BY, GET, LIMIT, ASC/DESC,
 * ALPHA, STORE) and error, in RESP2 and RESP3, plus redis-cli, ioredis and node-redis usage.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";

/** Commands whose replies are deterministic in Redis, so they must match exactly. */
function script(p: string): (string | number)[][] {
  const k = (s: string) => `${p}:${s}`;
  const cmds: (string | number)[][] = [
    ["RPUSH", k("nums"), 3, 1, 2, "10", "-5", "2.5", "1e2", "0x10", "inf", "-inf", "007", "2"],
    ["SORT", k("nums")],
    ["SORT", k("nums"), "DESC"],
    ["SORT", k("nums"), "LIMIT", 2, 3],
    ["SORT", k("nums"), "LIMIT", -5, 3],
    ["SORT", k("nums"), "LIMIT", 0, 0],
    ["SORT", k("nums"), "LIMIT", 100, 3],
    ["SORT", k("nums"), "LIMIT", 3, -1],
    ["SORT", k("nums"), "LIMIT", "x", 1],
    ["SORT", k("nums"), "LIMIT", 1],
    ["SORT", k("nums"), "ALPHA"],
    ["SORT", k("nums"), "ALPHA", "DESC", "LIMIT", 1, 4],
    ["RPUSH", k("words"), "pear", "apple", "Banana", "apple", "a\x00b", "a\x00a", "", "zeta", "\xff", "é"],
    ["SORT", k("words")],
    ["SORT", k("words"), "ALPHA"],
    ["SORT", k("words"), "ALPHA", "DESC"],
    ["SORT", k("words"), "ALPHA", "STORE", k("wdst")],
    ["LRANGE", k("wdst"), 0, -1],
    ["TYPE", k("wdst")],
    ["OBJECT", "ENCODING", k("wdst")],
    // BY and GET patterns
    ["RPUSH", k("ids"), 1, 2, 3, 4, 5, 6],
    ["MSET", k("w_1"), 50, k("w_2"), 10, k("w_3"), 50, k("w_4"), "2.5", k("w_6"), -1],
    ["MSET", k("name_1"), "one", k("name_2"), "two", k("name_3"), "three", k("name_5"), "five"],
    ["HSET", k("h_1"), "age", 30, "nick", "a"],
    ["HSET", k("h_2"), "age", 20, "nick", "b"],
    ["HSET", k("h_3"), "age", 40],
    ["HSET", k("h_4"), "nick", "d"],
    ["SORT", k("ids"), "BY", k("w_*")],
    ["SORT", k("ids"), "BY", k("w_*"), "DESC"],
    ["SORT", k("ids"), "BY", k("w_*"), "LIMIT", 1, 3],
    ["SORT", k("ids"), "BY", k("w_*"), "ALPHA"],
    ["SORT", k("ids"), "BY", k("w_*"), "ALPHA", "LIMIT", 1, 3],
    ["SORT", k("ids"), "BY", k("w_*"), "ALPHA", "DESC", "LIMIT", 2, 2],
    ["SORT", k("ids"), "BY", k("h_*->age")],
    ["SORT", k("ids"), "BY", k("h_*->nick"), "ALPHA"],
    ["SORT", k("ids"), "BY", k("h_*->"), "ALPHA"],
    ["SORT", k("ids"), "BY", "nosort"],
    ["SORT", k("ids"), "BY", "nosort", "DESC"],
    ["SORT", k("ids"), "BY", "nosort", "LIMIT", 1, 2],
    ["SORT", k("ids"), "BY", "nosort", "DESC", "LIMIT", 1, 2],
    ["SORT", k("ids"), "BY", "nosort", "LIMIT", 10, 2],
    ["SORT", k("ids"), "GET", "#", "GET", k("name_*"), "GET", k("h_*->age"), "GET", k("h_*->nope")],
    ["SORT", k("ids"), "BY", k("w_*"), "GET", k("name_*"), "LIMIT", 0, 4],
    ["SORT", k("ids"), "GET", "nostar"],
    ["SORT", k("ids"), "GET", k("name_*"), "STORE", k("gdst")],
    ["LRANGE", k("gdst"), 0, -1],
    ["SORT", k("ids"), "BY", "nosort", "GET", "#", "GET", k("w_*"), "DESC"],
    ["SORT", k("ids"), "BY", k("name_*")],
    ["SORT", k("ids"), "BY", k("name_*"), "ALPHA"],
    ["SORT", k("ids"), "BY", k("h_*->nick")],
    // Sets and sorted sets
    ["SADD", k("iset"), 5, -3, 100, 7, 0],
    ["SORT", k("iset")],
    ["SORT", k("iset"), "BY", "nosort"],
    ["SORT", k("iset"), "DESC", "LIMIT", 1, 2],
    ["SADD", k("hset"), "kiwi", "fig", "date", "cherry", "banana"],
    ["SORT", k("hset"), "ALPHA"],
    ["SORT", k("hset"), "ALPHA", "DESC", "LIMIT", 0, 3],
    ["SORT", k("hset"), "BY", "nosort", "STORE", k("sdst")],
    ["LRANGE", k("sdst"), 0, -1],
    ["SORT", k("hset")],
    ["ZADD", k("z"), 3, "30", 1, "100", 2, "-7", 5, "8", 4, "2.5"],
    ["SORT", k("z")],
    ["SORT", k("z"), "ALPHA"],
    ["SORT", k("z"), "BY", "nosort"],
    ["SORT", k("z"), "BY", "nosort", "DESC"],
    ["SORT", k("z"), "BY", "nosort", "LIMIT", 1, 3],
    ["SORT", k("z"), "BY", "nosort", "DESC", "LIMIT", 1, 3],
    ["SORT", k("z"), "BY", "nosort", "DESC", "LIMIT", 7, 3],
    ["OBJECT", "ENCODING", k("z")],
    // STORE edge cases and SORT_RO
    ["SORT", k("missing")],
    ["SORT", k("missing"), "STORE", k("gdst")],
    ["EXISTS", k("gdst")],
    ["SET", k("gdst"), "x"],
    ["SORT", k("nums"), "LIMIT", 0, 2, "STORE", k("gdst")],
    ["LRANGE", k("gdst"), 0, -1],
    ["SORT", k("nums"), "LIMIT", 0, 0, "STORE", k("gdst")],
    ["EXISTS", k("gdst")],
    ["SORT_RO", k("nums"), "LIMIT", 0, 3, "DESC"],
    ["SORT_RO", k("nums"), "STORE", k("gdst")],
    ["SORT_RO", k("ids"), "BY", k("w_*"), "GET", "#"],
    // Errors
    ["RPUSH", k("bad"), 1, "abc", 3],
    ["SORT", k("bad")],
    ["SORT", k("bad"), "ALPHA"],
    ["SORT", k("bad"), "STORE", k("gdst")],
    ["RPUSH", k("bad2"), 1, "1e400"],
    ["SORT", k("bad2")],
    ["RPUSH", k("bad3"), 1, "nan"],
    ["SORT", k("bad3")],
    ["RPUSH", k("ok2"), " 5", "", "1e-400", "3\x00junk"],
    ["SORT", k("ok2")],
    ["SET", k("str"), "v"],
    ["SORT", k("str")],
    ["HSET", k("hh"), "a", 1],
    ["SORT", k("hh")],
    ["SORT", k("nums"), "FOO"],
    ["SORT", k("nums"), "BY"],
    ["SORT", k("nums"), "GET"],
    ["SORT", k("nums"), "STORE"],
  ];
  return cmds;
}

Deno.test("sort: differential against redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    for (const proto of [2, 3] as const) {
      await t.step(`RESP${proto}`, async () => {
        const ours = await RespClient.connect(srv.port);
        const theirs = await RespClient.connect(redis.port);
        if (proto === 3) {
          await ours.call("HELLO", "3");
          await theirs.call("HELLO", "3");
        }
        for (const cmd of script(`s${proto}`)) {
          const a = await ours.call(...cmd);
          const b = await theirs.call(...cmd);
          assert.deepEqual(a, b, `reply to ${JSON.stringify(cmd)}`);
        }
        ours.close();
        theirs.close();
      });
    }
    await t.step("large lists: full and partial sorts with ties", async () => {
      const ours = await RespClient.connect(srv.port);
      const theirs = await RespClient.connect(redis.port);
      const push: (string | number)[] = ["RPUSH", "big"];
      const weights: (string | number)[] = ["MSET"];
      for (let i = 0; i < 500; i++) {
        push.push(`e${(i * 7919) % 500}`);
        weights.push(`wt_e${i}`, String(i % 9));
      }
      for (const c of [ours, theirs]) {
        await c.call(...push);
        await c.call(...weights);
      }
      for (
        const cmd of [
          ["SORT", "big", "ALPHA"],
          ["SORT", "big", "BY", "wt_*"],
          ["SORT", "big", "BY", "wt_*", "LIMIT", 10, 20],
          ["SORT", "big", "BY", "wt_*", "ALPHA", "LIMIT", 10, 60],
          ["SORT", "big", "BY", "wt_*", "ALPHA", "DESC", "LIMIT", 400, 60],
          ["SORT", "big", "BY", "wt_*", "ALPHA"],
          ["SORT", "big", "BY", "nosort", "LIMIT", 490, 20],
        ]
      ) {
        assert.deepEqual(await ours.call(...cmd), await theirs.call(...cmd), JSON.stringify(cmd));
      }
      ours.close();
      theirs.close();
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("sort: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      await redisCli(srv.port, ["rpush", "cli", "3", "1", "2"]);
      assert.equal(await redisCli(srv.port, ["sort", "cli"]), '1) "1"\n2) "2"\n3) "3"');
      await redisCli(srv.port, ["rpush", "clibad", "x"]);
      assert.equal(
        await redisCli(srv.port, ["sort", "clibad"]),
        "(error) ERR One or more scores can't be converted into double",
      );
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        await io.rpush("io", "b", "c", "a");
        assert.deepEqual(await io.sort("io", "ALPHA", "DESC"), ["c", "b", "a"]);
        await io.mset("o_a", "3", "o_b", "1", "o_c", "2");
        assert.deepEqual(await io.sort("io", "BY", "o_*", "GET", "#", "GET", "o_*"), ["b", "1", "c", "2", "a", "3"]);
        assert.equal(await io.sort("io", "ALPHA", "STORE", "io:dst"), 3);
        assert.deepEqual(await io.lrange("io:dst", 0, -1), ["a", "b", "c"]);
        assert.deepEqual(await io.call("SORT_RO", "io", "ALPHA", "LIMIT", "0", "1"), ["a"]);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        await nr.sAdd("nrs", ["10", "2", "33"]);
        assert.deepEqual(await nr.sort("nrs"), ["2", "10", "33"]);
        assert.deepEqual(await nr.sort("nrs", { DIRECTION: "DESC", LIMIT: { offset: 0, count: 2 } }), ["33", "10"]);
        assert.equal(await nr.sortStore("nrs", "nrs:dst", { ALPHA: true }), 3);
        assert.deepEqual(await nr.lRange("nrs:dst", 0, -1), ["10", "2", "33"]);
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});
