/**
 * Sorted-set commands against a real damselfly process: a differential run against a real
 * redis-server (same command sequences, replies compared byte for byte in RESP2 and RESP3,
 * including score formatting, errors and OBJECT ENCODING), a seeded random workload, the
 * blocking pops, keyspace events, and the real clients (redis-cli, ioredis, node-redis).
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameKeyEvents } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { Client } from "../../src/server/client.ts";
import { RespWriter } from "../../src/resp/writer.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import { rng } from "../helpers/rng.ts";

/** A pair of connections, one to damselfly and one to redis-server, fed the same commands. */
class Twin {
  constructor(readonly ours: RespClient, readonly theirs: RespClient) {}

  static async open(ourPort: number, redisPort: number, proto: 2 | 3): Promise<Twin> {
    const t = new Twin(await RespClient.connect(ourPort), await RespClient.connect(redisPort));
    if (proto === 3) {
      await t.ours.call("HELLO", "3");
      await t.theirs.call("HELLO", "3");
    }
    return t;
  }

  /** Runs a command on both and asserts equal replies; returns the reply. */
  async same(...cmd: (string | number)[]): Promise<Reply> {
    const ours = await this.ours.call(...cmd);
    const theirs = await this.theirs.call(...cmd);
    assert.deepEqual(ours, theirs, `reply to ${JSON.stringify(cmd)}`);
    return ours;
  }

  close(): void {
    this.ours.close();
    this.theirs.close();
  }
}

/** Deterministic command script covering every option and error of the family. */
function script(p: string): (string | number)[][] {
  const k = (s: string) => `${p}:${s}`;
  const big: (string | number)[] = ["ZADD", k("big")];
  for (let i = 0; i < 300; i++) big.push(i % 7 === 0 ? i / 3 : i, `m${String(i).padStart(3, "0")}`);
  const lex: (string | number)[] = ["ZADD", k("lex")];
  for (const m of ["a", "b", "c", "d", "e", "f", "g", "aa", "ab", "", "\x00", "\xff", "zz"]) lex.push(0, m);
  return [
    // ZADD and its options and errors
    ["ZADD", k("z"), 1, "a", 2, "b", 3, "c"],
    ["ZADD", k("z"), "NX", 10, "a", 4, "d"],
    ["ZADD", k("z"), "XX", 10, "a", 5, "e"],
    ["ZADD", k("z"), "XX", "CH", 11, "a", 5, "e"],
    ["ZADD", k("z"), "GT", "CH", 1, "a", 20, "b"],
    ["ZADD", k("z"), "LT", "CH", 1, "a", 30, "c"],
    ["ZADD", k("z"), "GT", "XX", "CH", 50, "c", 60, "zz"],
    ["ZADD", k("z"), "INCR", 2.5, "a"],
    ["ZADD", k("z"), "NX", "INCR", 2.5, "a"],
    ["ZADD", k("z"), "XX", "INCR", 2.5, "nope"],
    ["ZADD", k("z"), "GT", "INCR", -1, "a"],
    ["ZADD", k("z"), "LT", "INCR", -1, "a"],
    ["ZADD", k("z"), "nx", "xx", 1, "a"],
    ["ZADD", k("z"), "gt", "lt", 1, "a"],
    ["ZADD", k("z"), "nx", "gt", 1, "a"],
    ["ZADD", k("z"), "incr", 1, "a", 2, "b"],
    ["ZADD", k("z"), 1, "a", 2],
    ["ZADD", k("z"), "ch"],
    ["ZADD", k("z"), "x", "a"],
    ["ZADD", k("z"), "nan", "a"],
    ["ZADD", k("z"), " 1", "a"],
    ["ZADD", k("z"), "1 ", "a"],
    ["ZADD", k("z"), "", "a"],
    ["ZADD", k("z"), "1e400", "a"],
    ["ZADD", k("z"), "1e-400", "a"],
    [
      "ZADD",
      k("z"),
      "0x10",
      "hex",
      "1e3",
      "exp",
      "+5",
      "plus",
      ".5",
      "dot",
      "5.",
      "dot2",
      "-inf",
      "ninf",
      "+inf",
      "pinf",
    ],
    [
      "ZADD",
      k("z"),
      "1.1",
      "f1",
      "0.1",
      "f2",
      "1.00000762939453125",
      "tie",
      "1e-300",
      "tiny",
      "123456789012345678",
      "huge",
    ],
    ["ZADD", k("z"), "5e-324", "denorm", "-0", "negzero", "1e17", "e17", "3.0000000000000004", "ulp"],
    // Integers between 2^53 and 1e17: %.17g prints all 17 digits where JS's shortest form ends in 0.
    ["ZADD", k("big"), "32057407838348712", "a", "9007199254740993", "b", "99999999999999984", "c"],
    ["ZRANGE", k("big"), 0, -1, "WITHSCORES"],
    ["ZINCRBY", k("big"), "4", "a"],
    ["ZSCORE", k("z"), "tie"],
    ["ZRANGE", k("z"), 0, -1, "WITHSCORES"],
    ["ZINCRBY", k("z"), "inf", "pinf"],
    ["ZINCRBY", k("z"), "-inf", "pinf"],
    ["ZINCRBY", k("z"), "1", "pinf"],
    ["ZINCRBY", k("z"), "abc", "pinf"],
    ["ZINCRBY", k("z"), "-1.5", "newone"],
    ["ZADD", k("z"), "INCR", "-inf", "pinf"],
    ["ZADD", k("neg"), "INCR", "-0", "m"],
    ["ZSCORE", k("neg"), "m"],
    ["ZADD", k("neg"), "-0", "n"],
    ["ZRANGE", k("neg"), 0, -1, "WITHSCORES"],
    ["ZCARD", k("z")],
    ["ZCARD", k("none")],
    ["ZSCORE", k("z"), "missing"],
    ["ZSCORE", k("none"), "a"],
    ["ZMSCORE", k("z"), "a", "missing", "b"],
    ["ZMSCORE", k("none"), "a", "b"],
    ["ZRANK", k("z"), "a"],
    ["ZREVRANK", k("z"), "a"],
    ["ZRANK", k("z"), "missing"],
    ["ZRANK", k("none"), "a"],
    // ZRANGE family
    big,
    lex,
    ["OBJECT", "ENCODING", k("z")],
    ["OBJECT", "ENCODING", k("big")],
    ["ZRANGE", k("big"), 0, 10],
    ["ZRANGE", k("big"), -5, -1, "WITHSCORES"],
    ["ZRANGE", k("big"), 295, 1000],
    ["ZRANGE", k("big"), 10, 5],
    ["ZRANGE", k("big"), -1000, 2],
    ["ZRANGE", k("big"), 0, 3, "REV", "WITHSCORES"],
    ["ZRANGE", k("big"), 5, 20, "BYSCORE", "LIMIT", 2, 3],
    ["ZRANGE", k("big"), "(5", "20", "BYSCORE", "WITHSCORES"],
    ["ZRANGE", k("big"), 20, 5, "BYSCORE", "REV", "LIMIT", 1, 4, "WITHSCORES"],
    ["ZRANGE", k("big"), "-inf", "+inf", "BYSCORE", "LIMIT", 295, 10],
    ["ZRANGE", k("big"), "-inf", "+inf", "BYSCORE", "LIMIT", -1, 10],
    ["ZRANGE", k("big"), "-inf", "+inf", "BYSCORE", "LIMIT", 3, -1],
    ["ZRANGE", k("big"), "-inf", "+inf", "BYSCORE", "LIMIT", 3, 0],
    ["ZRANGE", k("big"), "(20", "(20", "BYSCORE"],
    ["ZRANGE", k("big"), "20", "20", "BYSCORE"],
    ["ZRANGE", k("big"), "", " 5", "BYSCORE"],
    ["ZRANGE", k("big"), "(", "10", "BYSCORE"],
    ["ZRANGE", k("big"), "x", "10", "BYSCORE"],
    ["ZRANGE", k("big"), "nan", "10", "BYSCORE"],
    ["ZRANGE", k("big"), 0, 5, "LIMIT", 0, 1],
    ["ZRANGE", k("big"), 0, 5, "LIMIT", 0, -1],
    ["ZRANGE", k("big"), 0, 5, "BYLEX"],
    ["ZRANGE", k("lex"), "-", "+", "BYLEX"],
    ["ZRANGE", k("lex"), "[a", "(c", "BYLEX"],
    ["ZRANGE", k("lex"), "+", "-", "BYLEX", "REV", "LIMIT", 2, 3],
    ["ZRANGE", k("lex"), "-", "+", "BYLEX", "WITHSCORES"],
    ["ZRANGE", k("lex"), "(", "[", "BYLEX"],
    ["ZRANGE", k("lex"), "[", "+", "BYLEX"],
    ["ZRANGE", k("lex"), "+", "+", "BYLEX"],
    ["ZRANGE", k("lex"), "-", "-", "BYLEX"],
    ["ZRANGE", k("lex"), "[b", "[b", "BYLEX"],
    ["ZRANGE", k("lex"), "(b", "[b", "BYLEX"],
    ["ZRANGE", k("big"), 0, 1, "REV", "REV"],
    ["ZRANGE", k("big"), 0, 1, "BYSCORE", "BYLEX"],
    ["ZRANGE", k("big"), 0, 1, "FOO"],
    ["ZRANGE", k("big"), "a", 1],
    ["ZRANGE", k("big"), 0, 1, "LIMIT", "x", 1, "BYSCORE"],
    ["ZRANGE", k("big"), 0, 1, "LIMIT", 1],
    ["ZRANGE", k("none"), 0, -1],
    ["ZRANGEBYSCORE", k("big"), "(3", 30, "WITHSCORES", "LIMIT", 1, 5],
    ["ZRANGEBYSCORE", k("big"), 3, 30, "BYSCORE"],
    ["ZREVRANGEBYSCORE", k("big"), 30, "(3", "WITHSCORES"],
    ["ZREVRANGEBYSCORE", k("big"), 3, 30],
    ["ZRANGEBYLEX", k("lex"), "[aa", "[d", "LIMIT", 1, 2],
    ["ZRANGEBYLEX", k("lex"), "a", "[d"],
    ["ZRANGEBYLEX", k("lex"), "-", "+", "WITHSCORES"],
    ["ZREVRANGEBYLEX", k("lex"), "[d", "[aa"],
    ["ZREVRANGEBYLEX", k("lex"), "+", "-", "LIMIT", 0, 4],
    // 0 and -0 are the same score: an existing -0 stays (skiplist; a listpack stores 0).
    ["ZADD", k("negzero"), ...Array.from({ length: 130 }, (_, n) => ["1", `pad${n}`]).flat()],
    ["ZADD", k("negzero"), "-0", "a"],
    ["ZSCORE", k("negzero"), "a"],
    ["ZADD", k("negzero"), "0", "a"],
    ["ZADD", k("negzero"), "CH", "0", "a"],
    ["ZINCRBY", k("negzero"), "0", "a"],
    ["ZSCORE", k("negzero"), "a"],
    ["ZADD", k("negzero"), "INCR", "0", "a"],
    ["ZRANGE", k("negzero"), "0", "0", "WITHSCORES"],
    // Lex ranges over a listpack whose scores differ: Redis's listpack walk.
    ["ZADD", k("mixed"), 1, "b", 2, "a", 3, "c", 4, "aa", 5, "d"],
    ["ZRANGEBYLEX", k("mixed"), "[a", "[b"],
    ["ZREVRANGEBYLEX", k("mixed"), "[b", "[a"],
    ["ZRANGEBYLEX", k("mixed"), "[a", "[b", "LIMIT", 3, 5],
    ["ZRANGE", k("mixed"), "[b", "[a", "BYLEX", "REV", "LIMIT", 1, 2],
    ["ZRANGEBYLEX", k("mixed"), "[b", "[c"],
    ["ZLEXCOUNT", k("mixed"), "[a", "[b"],
    ["ZREMRANGEBYLEX", k("mixed"), "(a", "[c"],
    ["ZRANGE", k("mixed"), 0, -1, "WITHSCORES"],
    ["ZREVRANGE", k("big"), 0, 4, "WITHSCORES"],
    ["ZREVRANGE", k("big"), 0, 4, "REV"],
    ["ZCOUNT", k("big"), 10, 20],
    ["ZCOUNT", k("big"), "(10", "(20"],
    ["ZCOUNT", k("big"), "-inf", "+inf"],
    ["ZCOUNT", k("big"), "a", "+inf"],
    ["ZCOUNT", k("none"), 0, 1],
    ["ZLEXCOUNT", k("lex"), "-", "+"],
    ["ZLEXCOUNT", k("lex"), "[b", "(e"],
    ["ZLEXCOUNT", k("lex"), "b", "(e"],
    ["ZRANGESTORE", k("dst"), k("big"), 0, 9],
    ["ZRANGE", k("dst"), 0, -1, "WITHSCORES"],
    ["OBJECT", "ENCODING", k("dst")],
    ["ZRANGESTORE", k("dst2"), k("big"), "-inf", "+inf", "BYSCORE"],
    ["OBJECT", "ENCODING", k("dst2")],
    ["ZRANGESTORE", k("dst"), k("lex"), "[b", "[d", "BYLEX", "REV", "LIMIT", 0, 2],
    ["ZRANGE", k("dst"), 0, -1],
    ["ZRANGESTORE", k("dst"), k("big"), 0, 1, "WITHSCORES"],
    ["ZRANGESTORE", k("dst"), k("none"), 0, -1],
    ["EXISTS", k("dst")],
    ["ZRANGESTORE", k("dst"), k("big"), 5, 1],
    // Removal
    ["ZREM", k("z"), "a", "missing", "b"],
    ["ZREM", k("none"), "a"],
    ["ZREMRANGEBYRANK", k("big"), 0, 4],
    ["ZREMRANGEBYRANK", k("big"), -3, -1],
    ["ZREMRANGEBYRANK", k("big"), 10, 5],
    ["ZREMRANGEBYRANK", k("big"), "x", 5],
    ["ZREMRANGEBYSCORE", k("big"), "(10", 40],
    ["ZREMRANGEBYSCORE", k("big"), "x", 40],
    ["ZREMRANGEBYLEX", k("lex"), "[aa", "(c"],
    ["ZREMRANGEBYLEX", k("lex"), "aa", "(c"],
    ["ZRANGE", k("big"), 0, -1, "WITHSCORES"],
    ["ZRANGE", k("lex"), 0, -1],
    ["ZREMRANGEBYRANK", k("lex"), 0, -1],
    ["EXISTS", k("lex")],
    ["OBJECT", "ENCODING", k("big")],
    // Pops
    ["ZADD", k("p"), 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"],
    ["ZPOPMIN", k("p")],
    ["ZPOPMAX", k("p")],
    ["ZPOPMIN", k("p"), 2],
    ["ZPOPMAX", k("p"), 0],
    ["ZPOPMAX", k("p"), -1],
    ["ZPOPMAX", k("p"), "x"],
    ["ZPOPMAX", k("p"), 1, 2],
    ["ZPOPMAX", k("p"), 10],
    ["EXISTS", k("p")],
    ["ZPOPMIN", k("none")],
    ["ZPOPMIN", k("none"), 3],
    ["ZADD", k("p"), 1, "a", 2, "b", 3, "c"],
    ["ZMPOP", 2, k("none"), k("p"), "MIN"],
    ["ZMPOP", 2, k("none"), k("p"), "MAX", "COUNT", 10],
    ["ZMPOP", 1, k("p"), "MIN"],
    ["ZMPOP", 0, k("p"), "MIN"],
    ["ZMPOP", 1, k("p"), "MIDDLE"],
    ["ZMPOP", 1, k("p"), "MIN", "COUNT", 0],
    ["ZMPOP", 1, k("p"), "MIN", "COUNT", 1, "COUNT", 1],
    ["ZMPOP", 5, k("p"), "MIN"],
    ["BZPOPMIN", k("none"), "x"],
    ["BZPOPMIN", k("none"), "-1"],
    ["BZMPOP", "x", 1, k("p"), "MIN"],
    ["BZMPOP", 0, 0, k("p"), "MIN"],
    ["ZADD", k("p"), 1, "a", 2, "b", 3, "c"],
    ["BZPOPMIN", k("none"), k("p"), 0],
    ["BZPOPMAX", k("p"), 0.5],
    ["BZMPOP", 0, 2, k("none"), k("p"), "MAX", "COUNT", 5],
    ["EXISTS", k("p")],
    // Set operations
    ["ZADD", k("s1"), 1, "a", 2, "b", 3, "c", "inf", "i"],
    ["ZADD", k("s2"), 10, "b", 20, "c", 30, "d", "-inf", "i"],
    ["ZADD", k("s3"), 0.1, "c", 0.2, "b", 0.3, "e"],
    ["ZUNION", 2, k("s1"), k("s2"), "WITHSCORES"],
    ["ZUNION", 3, k("s1"), k("s2"), k("s3"), "WEIGHTS", 1, 2, 3, "WITHSCORES"],
    ["ZUNION", 3, k("s1"), k("s2"), k("s3"), "WEIGHTS", 0.1, 0.2, 0.3, "WITHSCORES"],
    ["ZUNION", 2, k("s1"), k("s2"), "AGGREGATE", "MIN", "WITHSCORES"],
    ["ZUNION", 2, k("s1"), k("s2"), "AGGREGATE", "MAX", "WITHSCORES"],
    ["ZUNION", 2, k("s1"), k("s2"), "WEIGHTS", 0, 1, "WITHSCORES"],
    ["ZUNION", 2, k("s1"), k("none"), "WITHSCORES"],
    ["ZUNION", 2, k("s1"), k("s2"), "AGGREGATE", "AVG"],
    ["ZUNION", 2, k("s1"), k("s2"), "WEIGHTS", 1],
    ["ZUNION", 2, k("s1"), k("s2"), "WEIGHTS", 1, "x"],
    ["ZUNION", 3, k("s1"), k("s2")],
    ["ZUNION", 0, k("s1")],
    ["ZUNION", "x", k("s1")],
    ["ZINTER", 2, k("s1"), k("s2"), "WITHSCORES"],
    ["ZINTER", 3, k("s1"), k("s2"), k("s3"), "WEIGHTS", 1, 1, 100, "WITHSCORES"],
    ["ZINTER", 2, k("s1"), k("s2"), "AGGREGATE", "MAX"],
    ["ZINTER", 2, k("s1"), k("none")],
    ["ZINTER", 2, k("s1"), k("s1"), "WITHSCORES"],
    ["ZDIFF", 2, k("s1"), k("s2"), "WITHSCORES"],
    ["ZDIFF", 3, k("s1"), k("s3"), k("none")],
    ["ZDIFF", 1, k("none")],
    ["ZDIFF", 2, k("s1"), k("s2"), "WEIGHTS", 1, 1],
    ["ZINTERCARD", 2, k("s1"), k("s2")],
    ["ZINTERCARD", 2, k("s1"), k("s2"), "LIMIT", 1],
    ["ZINTERCARD", 2, k("s1"), k("s2"), "LIMIT", 0],
    ["ZINTERCARD", 2, k("s1"), k("s2"), "LIMIT", -1],
    ["ZINTERCARD", 2, k("s1"), k("s2"), "WITHSCORES"],
    ["ZINTERCARD", 0, k("s1")],
    ["ZUNIONSTORE", k("out"), 3, k("s1"), k("s2"), k("s3"), "WEIGHTS", 2, 1, 1],
    ["ZRANGE", k("out"), 0, -1, "WITHSCORES"],
    ["ZINTERSTORE", k("out"), 2, k("s1"), k("s2"), "AGGREGATE", "MIN"],
    ["ZRANGE", k("out"), 0, -1, "WITHSCORES"],
    ["ZDIFFSTORE", k("out"), 2, k("s1"), k("s2")],
    ["ZRANGE", k("out"), 0, -1, "WITHSCORES"],
    ["ZINTERSTORE", k("out"), 2, k("s1"), k("none")],
    ["EXISTS", k("out")],
    ["ZUNIONSTORE", k("out"), 1, k("big")],
    ["OBJECT", "ENCODING", k("out")],
    ["ZUNIONSTORE", k("out"), 2, k("s1"), k("s2"), "WITHSCORES"],
    ["ZUNIONSTORE", k("out"), 0, k("s1")],
    // Random members and scans where the reply is deterministic
    ["ZRANDMEMBER", k("s1"), 0],
    ["ZRANDMEMBER", k("s1"), 10],
    ["ZRANDMEMBER", k("s1"), 4, "WITHSCORES"],
    ["ZRANDMEMBER", k("none")],
    ["ZRANDMEMBER", k("none"), 5],
    ["ZRANDMEMBER", k("s1"), "x"],
    ["ZRANDMEMBER", k("s1"), 1, "WITHSCOREZ"],
    ["ZRANDMEMBER", k("s1"), 1, "WITHSCORES", "x"],
    ["ZRANDMEMBER", k("s1"), "-9223372036854775808"],
    ["ZRANDMEMBER", k("s1"), "9223372036854775807", "WITHSCORES"],
    ["ZADD", k("one"), 7, "only"],
    ["ZRANDMEMBER", k("one"), -3, "WITHSCORES"],
    ["ZRANDMEMBER", k("one")],
    ["ZSCAN", k("s1"), 0],
    ["ZSCAN", k("s1"), 0, "MATCH", "[ab]", "COUNT", 1],
    ["ZSCAN", k("s1"), "x"],
    ["ZSCAN", k("s1"), 0, "COUNT", 0],
    ["ZSCAN", k("s1"), 0, "BOGUS", 1],
    ["ZSCAN", k("none"), 0],
    ["ZADD", k("int"), "1e17", "a", "4611686018427387904", "b", "-0", "c", "2.5", "d"],
    ["ZSCAN", k("int"), 0],
    // Wrong types
    ["SET", k("str"), "v"],
    ["ZADD", k("str"), 1, "a"],
    ["ZSCORE", k("str"), "a"],
    ["ZRANGE", k("str"), 0, -1],
    ["ZRANGE", k("str"), "x", -1],
    ["ZCARD", k("str")],
    ["ZREM", k("str"), "a"],
    ["ZPOPMIN", k("str")],
    ["ZMPOP", 2, k("none"), k("str"), "MIN"],
    ["BZPOPMIN", k("str"), 0],
    ["ZUNION", 2, k("s1"), k("str")],
    ["ZUNIONSTORE", k("str"), 1, k("s1")],
    ["TYPE", k("str")],
    ["ZRANGESTORE", k("str"), k("s1"), 0, -1],
    ["TYPE", k("str")],
    ["SET", k("str"), "v"],
    ["ZINCRBY", k("str"), 1, "a"],
    ["ZSCAN", k("str"), 0],
    ["ZRANDMEMBER", k("str")],
    ["ZLEXCOUNT", k("str"), "-", "+"],
    ["ZCOUNT", k("str"), "x", "+"],
  ];
}

/** Seeded random commands over a few keys (deterministic replies only). */
function randomScript(p: string, seed: number, n: number): (string | number)[][] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const keys = [`${p}:r1`, `${p}:r2`, `${p}:r3`];
  const member = () => "m" + Math.floor(r() * 400);
  const score = () =>
    pick(["1", "2.5", "-3", "0.1", "1e5", "-inf", "inf", "7", String(Math.floor(r() * 100)), (r() * 10).toFixed(3)]);
  const bound = () => pick(["-inf", "+inf", "(5", "5", "0", "(0.1", "50", "(99"]);
  const lexb = () => pick(["-", "+", "[m1", "(m2", "[m3", "(m55"]);
  const out: (string | number)[][] = [];
  for (let i = 0; i < 200; i++) out.push(["ZADD", `${p}:lex`, 0, member()]);
  for (let i = 0; i < n; i++) {
    const key = pick(keys);
    const p0 = r();
    if (p0 < 0.3) {
      const cmd: (string | number)[] = ["ZADD", key];
      if (r() < 0.3) cmd.push(pick(["NX", "XX", "GT", "LT", "CH"]));
      const count = 1 + Math.floor(r() * 60);
      for (let j = 0; j < count; j++) cmd.push(score(), member());
      out.push(cmd);
    } else if (p0 < 0.35) out.push(["ZINCRBY", key, score(), member()]);
    else if (p0 < 0.42) out.push(["ZREM", key, member(), member()]);
    else if (p0 < 0.5) {
      out.push([
        "ZRANGE",
        key,
        Math.floor(r() * 40) - 20,
        Math.floor(r() * 40) - 5,
        ...(r() < 0.5 ? ["WITHSCORES"] : []),
      ]);
    } else if (p0 < 0.55) {
      out.push([
        "ZRANGEBYSCORE",
        key,
        bound(),
        bound(),
        "WITHSCORES",
        "LIMIT",
        Math.floor(r() * 5),
        Math.floor(r() * 10) - 2,
      ]);
    } else if (p0 < 0.6) out.push(["ZREVRANGEBYSCORE", key, bound(), bound(), "WITHSCORES"]);
    else if (p0 < 0.63) out.push(["ZRANK", key, member()]);
    else if (p0 < 0.66) out.push(["ZREVRANK", key, member()]);
    else if (p0 < 0.7) out.push(["ZCOUNT", key, bound(), bound()]);
    else if (p0 < 0.72) out.push(["ZREMRANGEBYRANK", key, Math.floor(r() * 10), Math.floor(r() * 20)]);
    else if (p0 < 0.74) out.push(["ZREMRANGEBYSCORE", key, bound(), bound()]);
    else if (p0 < 0.76) out.push(["ZPOPMIN", key, Math.floor(r() * 4)]);
    else if (p0 < 0.78) out.push(["ZPOPMAX", key]);
    else if (p0 < 0.82) {
      out.push([
        "ZUNIONSTORE",
        pick(keys),
        2,
        pick(keys),
        pick(keys),
        "WEIGHTS",
        score(),
        score(),
        "AGGREGATE",
        pick(["SUM", "MIN", "MAX"]),
      ]);
    } else if (p0 < 0.85) out.push(["ZINTER", 2, pick(keys), pick(keys), "WITHSCORES"]);
    else if (p0 < 0.87) out.push(["ZDIFFSTORE", pick(keys), 2, pick(keys), pick(keys)]);
    else if (p0 < 0.9) out.push(["ZRANGESTORE", pick(keys), key, bound(), bound(), "BYSCORE"]);
    else if (p0 < 0.93) out.push(["ZMSCORE", key, member(), member()]);
    else if (p0 < 0.95) out.push(["ZLEXCOUNT", `${p}:lex`, lexb(), lexb()]);
    else if (p0 < 0.97) out.push(["ZCARD", key]);
    else out.push(["OBJECT", "ENCODING", key]);
  }
  return out;
}

Deno.test("sorted sets: differential against redis-server", async (t) => {
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
      const twin = await Twin.open(srv.port, redis.port, 2);
      try {
        for (const cmd of randomScript("rnd", 1234, 3000)) await twin.same(...cmd);
        for (const key of ["rnd:r1", "rnd:r2", "rnd:r3"]) await twin.same("ZRANGE", key, 0, -1, "WITHSCORES");
      } finally {
        twin.close();
      }
    });
    await t.step("encoding thresholds follow CONFIG SET", async () => {
      const twin = await Twin.open(srv.port, redis.port, 2);
      try {
        await twin.same("CONFIG", "SET", "zset-max-listpack-entries", "4");
        await twin.same("CONFIG", "SET", "zset-max-listpack-value", "8");
        await twin.same("ZADD", "enc:a", 1, "a", 2, "b", 3, "c", 4, "d");
        await twin.same("OBJECT", "ENCODING", "enc:a");
        await twin.same("ZADD", "enc:a", 5, "e");
        await twin.same("OBJECT", "ENCODING", "enc:a");
        await twin.same("ZREM", "enc:a", "a", "b", "c");
        await twin.same("OBJECT", "ENCODING", "enc:a");
        await twin.same("ZADD", "enc:b", 1, "123456789");
        await twin.same("OBJECT", "ENCODING", "enc:b");
        await twin.same("ZADD", "enc:c", 1, "a", 2, "a", 3, "a", 4, "a", 5, "a", 6, "a");
        await twin.same("OBJECT", "ENCODING", "enc:c");
        await twin.same("ZUNIONSTORE", "enc:d", 1, "enc:a");
        await twin.same("OBJECT", "ENCODING", "enc:d");
        await twin.same("ZADD", "enc:e", 1, "a", "-0", "z");
        await twin.same("ZINCRBY", "enc:e", "-0", "z");
        await twin.same("ZADD", "enc:f", "-0", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e");
        await twin.same("ZRANGE", "enc:f", 0, -1, "WITHSCORES");
        await twin.same("ZINCRBY", "enc:f", "-0", "z");
        await twin.same("ZSCORE", "enc:f", "z");
        await twin.same("CONFIG", "SET", "zset-max-listpack-entries", "0");
        await twin.same("ZADD", "enc:g", 1, "a");
        await twin.same("OBJECT", "ENCODING", "enc:g");
        await twin.same("CONFIG", "SET", "zset-max-listpack-entries", "128");
        await twin.same("CONFIG", "SET", "zset-max-listpack-value", "64");
      } finally {
        twin.close();
      }
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("sorted sets: blocking pops", async (t) => {
  const srv = await startServer();
  try {
    await t.step("BZPOPMIN is served by a later ZADD from another client", async () => {
      const waiter = await RespClient.connect(srv.port);
      const writer = await RespClient.connect(srv.port);
      await waiter.sendCommand("BZPOPMIN", "bz:a", "bz:b", 0);
      await waitFor(async () => (await writer.call("CLIENT", "LIST")) !== null, "client list");
      assert.equal(await writer.call("ZADD", "bz:b", 5, "x", 6, "y"), 2);
      assert.deepEqual(await waiter.read(), ["bz:b", "x", "5"]);
      assert.deepEqual(await writer.call("ZRANGE", "bz:b", 0, -1), ["y"]);
      waiter.close();
      writer.close();
    });
    await t.step("timeout answers a null array after the deadline", async () => {
      const c = await RespClient.connect(srv.port);
      const t0 = Date.now();
      assert.equal(await c.call("BZPOPMAX", "bz:none", 0.2), null);
      assert.ok(Date.now() - t0 >= 190, "waited at least the timeout");
      assert.equal(await c.call("BZMPOP", 0.05, 1, "bz:none", "MIN"), null);
      c.close();
    });
    await t.step("waiters are served first come first served", async () => {
      const w1 = await RespClient.connect(srv.port);
      const w2 = await RespClient.connect(srv.port);
      const writer = await RespClient.connect(srv.port);
      await w1.sendCommand("BZPOPMIN", "bz:fifo", 0);
      await waitFor(
        async () => String(await writer.call("INFO", "clients")).includes("blocked_clients:1"),
        "first waiter",
      );
      await w2.sendCommand("BZMPOP", 0, 1, "bz:fifo", "MAX", "COUNT", 2);
      await waitFor(
        async () => String(await writer.call("INFO", "clients")).includes("blocked_clients:2"),
        "second waiter",
      );
      await writer.call("ZADD", "bz:fifo", 1, "a");
      assert.deepEqual(await w1.read(), ["bz:fifo", "a", "1"]);
      await writer.call("ZADD", "bz:fifo", 1, "b", 2, "c", 3, "d");
      assert.deepEqual(await w2.read(), ["bz:fifo", [["d", "3"], ["c", "2"]]]);
      assert.deepEqual(await writer.call("ZRANGE", "bz:fifo", 0, -1), ["b"]);
      for (const c of [w1, w2, writer]) c.close();
    });
    await t.step("RESP3 waiter gets a double score; a key of another type does not serve", async () => {
      const w = await RespClient.connect(srv.port);
      await w.call("HELLO", "3");
      const writer = await RespClient.connect(srv.port);
      await w.sendCommand("BZPOPMAX", "bz:r3", 0);
      await waitFor(async () => String(await writer.call("INFO", "clients")).includes("blocked_clients:1"), "waiter");
      await writer.call("SET", "bz:r3", "string");
      await writer.call("DEL", "bz:r3");
      await writer.call("ZADD", "bz:r3", 1.5, "m");
      assert.deepEqual(await w.read(), ["bz:r3", "m", "1.5"]);
      w.close();
      writer.close();
    });
    await t.step("CLIENT UNBLOCK answers the timeout reply", async () => {
      const w = await RespClient.connect(srv.port);
      const id = await w.call("CLIENT", "ID");
      const admin = await RespClient.connect(srv.port);
      await w.sendCommand("BZPOPMIN", "bz:unblock", 0);
      await waitFor(async () => String(await admin.call("INFO", "clients")).includes("blocked_clients:1"), "waiter");
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id as number), 1);
      assert.equal(await w.read(), null);
      w.close();
      admin.close();
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("sorted sets: keyspace events match redis-server", async () => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    await assertSameKeyEvents(srv.port, redis.port, [
      ["ZADD", "ev", 1, "a", 2, "b", 3, "c"],
      ["ZADD", "ev", "XX", 1, "zz"],
      ["ZINCRBY", "ev", 1, "a"],
      ["ZREM", "ev", "a"],
      ["ZPOPMIN", "ev"],
      ["ZPOPMAX", "ev"],
      ["ZADD", "ev", 1, "a", 2, "b", 3, "c"],
      ["ZREMRANGEBYRANK", "ev", 0, 0],
      ["ZREMRANGEBYSCORE", "ev", 2, 2],
      ["ZREMRANGEBYLEX", "ev", "-", "+"],
      ["ZADD", "ev", 1, "a"],
      ["ZUNIONSTORE", "ev2", 1, "ev"],
      ["ZINTERSTORE", "ev2", 1, "ev"],
      ["ZDIFFSTORE", "ev2", 1, "ev"],
      ["ZRANGESTORE", "ev3", "ev", 0, -1],
      ["ZUNIONSTORE", "ev3", 1, "nothing"],
      ["ZMPOP", 1, "ev", "MIN"],
      ["GEOADD", "evg", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"],
      ["GEORADIUS", "evg", 15, 37, 200, "km", "STORE", "evg2"],
      ["GEOSEARCHSTORE", "evg3", "evg", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "STOREDIST"],
      ["GEOSEARCHSTORE", "evg3", "evg", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km"],
      ["SORT", "evg", "ALPHA", "STORE", "evs"],
      ["SORT", "nothing", "STORE", "evs"],
    ]);
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("sorted sets: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["zadd", "cli", "1", "a", "2.5", "b"]), "(integer) 2");
      assert.equal(await redisCli(srv.port, ["zscore", "cli", "b"]), '"2.5"');
      assert.equal(
        await redisCli(srv.port, ["zadd", "cli", "nx", "xx", "1", "a"]),
        "(error) ERR XX and NX options at the same time are not compatible",
      );
      assert.equal(
        await redisCli(srv.port, ["zadd", "cli", "incr", "1", "a", "2", "b"]),
        "(error) ERR INCR option supports a single increment-element pair",
      );
      assert.equal(await redisCli(srv.port, ["zincrby", "cli", "x", "a"]), "(error) ERR value is not a valid float");
      assert.equal(
        await redisCli(srv.port, ["zrange", "cli", "0", "-1", "withscores"]),
        '1) "a"\n2) "1"\n3) "b"\n4) "2.5"',
      );
    });
    await t.step("ZRANK/ZREVRANK WITHSCORE (the Redis 7.2 form)", async () => {
      const c = await RespClient.connect(srv.port);
      await c.call("ZADD", "wr", 1.5, "a", 2, "b");
      assert.deepEqual(await c.call("ZRANK", "wr", "b", "WITHSCORE"), [1, "2"]);
      assert.deepEqual(await c.call("ZREVRANK", "wr", "b", "withscore"), [0, "2"]);
      assert.equal(await c.call("ZRANK", "wr", "zz", "WITHSCORE"), null);
      assert.deepEqual(await c.call("ZRANK", "wr", "b", "WITHSCORES"), new Error("ERR syntax error"));
      await c.call("HELLO", "3");
      assert.deepEqual(await c.call("ZRANK", "wr", "a", "WITHSCORE"), [0, "1.5"]);
      c.close();
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.equal(await io.zadd("io", 1, "a", 2, "b", 3, "c"), 3);
        assert.equal(await io.zadd("io", "GT", "CH", 0, "a", 5, "b"), 1);
        assert.deepEqual(await io.zrange("io", 0, -1, "WITHSCORES"), ["a", "1", "c", "3", "b", "5"]);
        assert.deepEqual(await io.zrangebyscore("io", "(1", "+inf", "LIMIT", 0, 1), ["c"]);
        assert.equal(await io.zscore("io", "b"), "5");
        assert.equal(await io.zrank("io", "b"), 2);
        assert.deepEqual(await io.zpopmin("io"), ["a", "1"]);
        assert.deepEqual(await io.zmscore("io", "b", "nope"), ["5", null]);
        assert.equal(await io.zunionstore("io2", 2, "io", "io", "WEIGHTS", 1, 2), 2);
        assert.deepEqual(await io.zrevrange("io2", 0, -1, "WITHSCORES"), ["b", "15", "c", "9"]);
        assert.deepEqual(await io.bzpopmax("io2", 1), ["io2", "b", "15"]);
        await assert.rejects(io.zadd("io", "nan", "x"), /ERR value is not a valid float/);
        await io.set("io:str", "x");
        await assert.rejects(io.zcard("io:str"), /WRONGTYPE/);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.zAdd("nr", [{ score: 1, value: "a" }, { score: 2.25, value: "b" }]), 2);
        assert.deepEqual(await nr.zRangeWithScores("nr", 0, -1), [{ value: "a", score: 1 }, {
          value: "b",
          score: 2.25,
        }]);
        assert.equal(await nr.zCount("nr", "-inf", "+inf"), 2);
        assert.deepEqual(await nr.zPopMax("nr"), { value: "b", score: 2.25 });
        assert.equal(await nr.zCard("nr"), 1);
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("sorted sets: journaled forms of writes", async () => {
  const p = new InProcessServer();
  const recorded = () => p.writes.map((w) => w.args.join(" "));
  p.call("ZADD", "j", "1", "a", "2", "b", "3", "c", "4", "d");
  p.call("ZADD", "j", "XX", "5", "missing");
  p.call("ZADD", "nokey", "XX", "5", "m");
  p.call("ZREM", "j", "missing");
  p.call("ZPOPMIN", "j");
  p.call("ZMPOP", "1", "j", "MAX", "COUNT", "2");
  p.call("BZPOPMIN", "nokey", "j", "0");
  p.call("ZRANGESTORE", "dst", "nokey", "0", "-1");
  p.call("GEOADD", "g", "13.361389", "38.115556", "Palermo");
  p.call("GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo");
  assert.deepEqual(recorded(), [
    "ZADD j 1 a 2 b 3 c 4 d",
    "ZPOPMIN j",
    "ZPOPMAX j 2",
    "ZPOPMIN j",
    "zadd g 3479099956230698 Palermo",
  ]);
  // A waiter served by another client's write is journaled after that write, as a pop.
  p.clearRecords();
  const waiter = new Client(p.server, new RespWriter(), "internal");
  const blocked = dispatch(waiter, ["BZMPOP", "0", "2", "w1", "w2", "MIN", "COUNT", "5"]);
  assert.ok(blocked instanceof Promise);
  const timedOut = new Client(p.server, new RespWriter(), "internal");
  const blocked2 = dispatch(timedOut, ["BZPOPMAX", "w3", "0.01"]);
  p.call("ZADD", "w2", "1", "x", "2", "y");
  await blocked;
  await blocked2;
  assert.deepEqual(recorded(), ["ZADD w2 1 x 2 y", "ZPOPMIN w2 5"]);
  assert.equal(p.call("EXISTS", "w2"), ":0\r\n");
});

Deno.test("sorted sets: transactions and WATCH", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    await t.step("BZPOPMIN inside MULTI does not block; ZADD in EXEC serves a waiter after EXEC", async () => {
      const c = await RespClient.connect(srv.port);
      await c.call("MULTI");
      await c.call("BZPOPMIN", "tx:none", 0);
      await c.call("BZMPOP", 0, 1, "tx:none", "MIN");
      assert.deepEqual(await c.call("EXEC"), [null, null]);
      const waiter = await RespClient.connect(srv.port);
      await waiter.sendCommand("BZPOPMAX", "tx:k", 0);
      await waitFor(async () => String(await c.call("INFO", "clients")).includes("blocked_clients:1"), "waiter");
      await c.call("MULTI");
      await c.call("ZADD", "tx:k", 1, "a", 2, "b");
      await c.call("ZREM", "tx:k", "b");
      assert.deepEqual(await c.call("EXEC"), [2, 1]);
      assert.deepEqual(await waiter.read(), ["tx:k", "a", "1"]);
      c.close();
      waiter.close();
    });
    await t.step("WATCH is broken by real changes only (differential)", async () => {
      const outcomes: Reply[][] = [];
      for (const port of [srv.port, redis.port]) {
        const c = await RespClient.connect(port);
        const other = await RespClient.connect(port);
        await c.call("ZADD", "wk", 1, "a");
        const got: Reply[] = [];
        for (
          const touch of [
            ["ZADD", "wk", "XX", 5, "missing"],
            ["ZADD", "wk", 1, "a"],
            ["ZREM", "wk", "missing"],
            ["ZINCRBY", "wk", 1, "a"],
            ["ZREMRANGEBYSCORE", "wk", 100, 200],
            ["ZPOPMIN", "wk", 0],
            ["ZUNIONSTORE", "wk", 1, "wk"],
          ]
        ) {
          await c.call("WATCH", "wk");
          await other.call(...touch);
          await c.call("MULTI");
          await c.call("PING");
          got.push(await c.call("EXEC"));
        }
        outcomes.push(got);
        c.close();
        other.close();
      }
      assert.deepEqual(outcomes[0], outcomes[1]);
    });
    await t.step("sets are sorted-set inputs with score 1 (differential)", async () => {
      const twin = await Twin.open(srv.port, redis.port, 2);
      try {
        await twin.same("SADD", "si:ints", 1, 2, 3);
        await twin.same("SADD", "si:strs", "a", "b", "2");
        await twin.same("ZADD", "si:z", 5, "a", 7, "2", 9, "q");
        for (
          const cmd of [
            ["ZUNION", 3, "si:ints", "si:strs", "si:z", "WITHSCORES"],
            ["ZUNION", 2, "si:ints", "si:z", "WEIGHTS", 10, 2, "AGGREGATE", "MAX", "WITHSCORES"],
            ["ZINTER", 2, "si:strs", "si:z", "WITHSCORES"],
            ["ZDIFF", 2, "si:z", "si:strs", "WITHSCORES"],
            ["ZINTERCARD", 3, "si:ints", "si:strs", "si:z"],
            ["ZUNIONSTORE", "si:out", 2, "si:ints", "si:strs"],
            ["ZRANGE", "si:out", 0, -1, "WITHSCORES"],
            ["ZINTERSTORE", "si:out", 2, "si:ints", "si:strs", "WEIGHTS", 2, 3],
            ["ZRANGE", "si:out", 0, -1, "WITHSCORES"],
            ["RPUSH", "si:list", "a"],
            ["ZUNION", 2, "si:ints", "si:list"],
          ]
        ) {
          await twin.same(...cmd);
        }
      } finally {
        twin.close();
      }
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("sorted sets: ZSCAN and ZRANDMEMBER on large sets", async () => {
  const srv = await startServer();
  const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
  await io.connect();
  try {
    const args: (string | number)[] = [];
    for (let i = 0; i < 1000; i++) args.push(i % 10, `m${i}`);
    await io.zadd("scan", ...args);
    assert.equal(await io.object("ENCODING", "scan"), "skiplist");
    // A full scan returns every member once even while returned members are removed.
    const seen = new Set<string>();
    const removed = new Set<string>();
    let cursor = "0";
    let calls = 0;
    do {
      const [next, flat] = await io.zscan("scan", cursor, "COUNT", 50);
      for (let i = 0; i < flat.length; i += 2) {
        assert.ok(!seen.has(flat[i]), `duplicate ${flat[i]}`);
        seen.add(flat[i]);
        assert.equal(flat[i + 1], String(Number(flat[i].slice(1)) % 10));
      }
      if (flat.length > 0 && calls % 2 === 0) {
        await io.zrem("scan", flat[0]);
        removed.add(flat[0]);
      }
      cursor = next;
      calls++;
    } while (cursor !== "0" && calls < 1000);
    assert.equal(seen.size, 1000);
    const [, matched] = await io.zscan("scan", 0, "MATCH", "m99*", "COUNT", 10000);
    const candidates = ["m99", ...Array.from({ length: 10 }, (_, i) => `m99${i}`)];
    assert.deepEqual(
      matched.filter((_, i) => i % 2 === 0).sort(),
      candidates.filter((m) => !removed.has(m)).sort(),
    );
    // ZRANDMEMBER: distinct members for a positive count, repetitions allowed for a negative one.
    const distinct = await io.zrandmember("scan", 300);
    assert.equal(new Set(distinct).size, 300);
    const withScores = await io.zrandmember("scan", -2000, "WITHSCORES");
    assert.equal(withScores.length, 4000);
    for (let i = 0; i < withScores.length; i += 2) {
      assert.equal(withScores[i + 1], String(Number(withScores[i].slice(1)) % 10));
    }
    const one = await io.zrandmember("scan");
    assert.ok(typeof one === "string" && one.startsWith("m"));
  } finally {
    io.disconnect();
    await srv.stop();
  }
});
