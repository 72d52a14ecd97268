/**
 * Seeded random differential of primaries and replicas: the same random commands go to a
 * damselfly primary (with a damselfly replica and a stock Redis replica) and to a redis-server
 * primary (with a Redis replica of its own). After each round every reply, every dataset and
 * every key's OBJECT ENCODING must agree: damselfly's primary with Redis's primary, and each
 * replica of damselfly with the Redis replica of Redis. The commands favour what the
 * replication stream rewrites (BITOP, PFMERGE, RENAME, COPY, MOVE, INCRBYFLOAT, SMOVE, SORT and
 * the other *STORE commands, LMOVE) and
 * collections crossing their encoding thresholds both ways.
 *
 * Every wait is bounded; the seed of a failing round is in the failure message.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "../helpers/redis.ts";
import { startServer, waitFor } from "../helpers/server.ts";
import { call, info, waitState } from "../helpers/replication.ts";
import { rng } from "../helpers/rng.ts";
import { dumpDataset, type DumpedKey, type DumpedStream } from "../helpers/dataset_dump.ts";
import { comparableReply, randomDataCommand } from "../helpers/random_commands.ts";
import type { Reply } from "../helpers/server.ts";

/** Random rounds; DIFF_ROUNDS in the environment runs more (for local soak runs). */
const ROUNDS = Number(Deno.env.get("DIFF_ROUNDS") ?? 3);
/** Seed of round 0 (round n uses SEED_BASE + n); DIFF_SEED in the environment explores others. */
const SEED_BASE = Number(Deno.env.get("DIFF_SEED") ?? 20261126);
const COMMANDS_PER_ROUND = 300;
/** A file to append every command sent to (DIFF_LOG in the environment), for replaying a failure. */
const COMMAND_LOG = Deno.env.get("DIFF_LOG");
const KEYS = ["a", "b", "c", "{t}x", "{t}y", "s1", "s2", "h1", "z1", "z2", "l1", "l2", "hl1", "hl2"];

/** Histories that once diverged: replayed first, before the random rounds. */
const FIXED_HISTORY: string[][] = [
  // SORT converts a listpack sorted set to a skiplist; Redis's replicas run SORT ... STORE too.
  ["ZADD", "zs", "1", "a", "2", "b", "3", "c"],
  ["SORT", "zs", "ALPHA", "STORE", "ls"],
  ["ZADD", "zs2", "1", "a"],
  ["SORT", "zs2", "BY", "nosort", "STORE", "zs2"],
  // Writes that change nothing make the primary's string raw but are not propagated: a copy or
  // rename of it is raw on the primary and made by value on the replicas.
  ["SET", "nb", "abc"],
  ["SETBIT", "nb", "10", "1"],
  ["COPY", "nb", "nbcopy"],
  ["SET", "bf", "abc"],
  ["BITFIELD", "bf", "SET", "u8", "0", "97"],
  ["RENAME", "bf", "bfrenamed"],
  ["SET", "bf2", "7"],
  ["BITFIELD", "bf2", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"],
  ["COPY", "bf2", "bf2copy"],
  ["PFADD", "hll", "a"],
  ["PFADD", "hll", "a"],
  ["COPY", "hll", "hllcopy"],
  // SORT without STORE converts a listpack sorted set on the primary only: a rename or copy of
  // it stays a listpack on replicas, until a write converts their copy too.
  ["ZADD", "sz", "1", "a", "2", "b"],
  ["SORT", "sz", "DESC"],
  ["RENAME", "sz", "sz2"],
  ["COPY", "sz2", "sz3"],
  ["ZADD", "sz4", "1", "a"],
  ["SORT_RO", "sz4", "ALPHA"],
  ["ZADD", "sz4", "2", "m".repeat(80)],
  ["ZREM", "sz4", "m".repeat(80)],
  ["COPY", "sz4", "sz5"],
  ["SORT", "sz2", "ALPHA", "STORE", "sz2list"],
  ["COPY", "sz2", "sz6"],
  // Redis's own replica misses this key (the primary creates it and propagates nothing).
  ["BITFIELD", "bfnew", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "200"],
  // A failed MSETNX that found an expired key writes nothing but the expiry's DEL.
  ["SET", "nx1", "x"],
  ["SET", "nx2", "v", "EXAT", "100000"],
  ["MSETNX", "nx2", "v", "nx1", "w"],
  ["MSETNX", "nx3", "v", "nx4", "w"],
  // Rotating a one-element list keeps the list and its TTL.
  ["RPUSH", "rot", "x"],
  ["EXPIRE", "rot", "1000"],
  ["LMOVE", "rot", "rot", "LEFT", "RIGHT"],
  ["RPOPLPUSH", "rot", "rot"],
];

/**
 * One random command; `pick` and `num` draw from the round's seeded generator. Half come from
 * the list below (what replication rewrites), half are any data command (random_commands.ts).
 */
function randomCommand(pick: <T>(a: T[]) => T, num: (n: number) => number): string[] {
  if (num(2) === 0) return randomDataCommand({ pick, num }).map(String);
  const k = pick(KEYS);
  const k2 = pick(KEYS);
  const makers: (() => (string | number)[])[] = [
    () => ["SET", k, pick(["1", "12345", "abc", "x".repeat(50), "007", "-0"])],
    () => ["APPEND", k, pick(["", "z", "12"])],
    () => ["SETRANGE", k, num(5), pick(["", "q", "99"])],
    () => ["INCR", k],
    () => ["INCRBYFLOAT", k, "1.5"],
    () => ["SETBIT", k, num(40), num(2)],
    () => ["BITOP", pick(["AND", "OR", "XOR"]), "{t}x", "{t}y", "{t}x"],
    () => ["PFADD", pick(["hl1", "hl2"]), `e${num(20)}`],
    () => ["PFMERGE", "hl1", "hl2"],
    () => ["RENAME", k, k2],
    () => ["COPY", k, k2, "REPLACE"],
    () => ["SADD", pick(["s1", "s2"]), pick([String(num(200)), `m${num(200)}`])],
    () => ["SREM", pick(["s1", "s2"]), String(num(200))],
    () => ["SMOVE", "s1", "s2", String(num(200))],
    () => ["SUNIONSTORE", pick(["s1", "s2"]), "s1", "s2"],
    () => ["HSET", "h1", `f${num(200)}`, pick(["v", "x".repeat(70)])],
    () => ["HDEL", "h1", `f${num(200)}`],
    () => ["ZADD", "z1", num(100), `m${num(200)}`],
    () => ["ZREM", "z1", `m${num(200)}`],
    () => ["RPUSH", "l1", pick(["a", "x".repeat(70)])],
    () => ["LPOP", "l1"],
    () => ["DEL", k],
    () => ["GETSET", k, String(num(1000))],
    () => ["EXPIRE", k, 1000],
    () => ["ZUNIONSTORE", "z2", 2, "z1", pick(["s1", "z2"])],
    () => ["ZINTERSTORE", "z2", 2, "z1", "z2", "WEIGHTS", 2, 3],
    () => ["SINTERSTORE", "s2", "s1", "s2"],
    () => ["SDIFFSTORE", "s1", "s2", "s1"],
    () => ["SORT", pick(["s1", "l1", "z1"]), "ALPHA", "STORE", pick(["l2", "z1"])],
    () => ["LMOVE", pick(["l1", "l2"]), pick(["l1", "l2"]), pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])],
    () => ["LINSERT", "l1", "BEFORE", "a", pick(["b", "x".repeat(70)])],
    () => ["LSET", "l1", 0, pick(["q", "y".repeat(80)])],
    () => ["HINCRBYFLOAT", "h1", `f${num(50)}`, "0.5"],
    () => ["HINCRBY", "h1", `n${num(50)}`, 3],
    () => ["ZINCRBY", "z1", 1.5, `m${num(200)}`],
    () => ["ZPOPMIN", "z1", num(3)],
    () => ["GETDEL", k],
    () => ["GETEX", k, "PERSIST"],
    () => ["MSET", k, "5", k2, "abc"],
    () => ["SETEX", k, 100, pick(["1", "z"])],
    () => ["DECRBY", k, 7],
    () => ["MOVE", k, 1],
    () => ["SWAPDB", 0, 1],
    () => ["GEOADD", "g1", 13.36, 38.11, `p${num(10)}`],
  ];
  return pick(makers)().map(String);
}

/** Every key's OBJECT ENCODING, sorted, as one line. */
async function encodings(port: number): Promise<string> {
  const c = new Redis({ port });
  try {
    const out: string[] = [];
    for (const k of await c.keys("*")) out.push(`${k}=${await c.object("ENCODING", k)}`);
    return out.sort().join(" ");
  } finally {
    c.disconnect();
  }
}

/**
 * A dump with clock readings blurred. Across two primaries (which take them a few ms apart):
 * absolute expiry times, and the delivery and seen times of stream consumer groups. Between a
 * primary and its replicas (`seenOnly`): consumers' seen times alone, which a replica takes
 * from its own clock when it applies a delivery, as Redis's replicas do; expiry and delivery
 * times travel in the stream and must match exactly.
 */
async function dumpWithoutTimes(port: number, seenOnly = false): Promise<string> {
  const keys: DumpedKey[] = await dumpDataset(port);
  for (const k of keys) {
    if (k.expireAtMs !== null && !seenOnly) k.expireAtMs = 1;
    if (k.type !== "stream") continue;
    for (const g of (k.value as DumpedStream).groups) {
      if (!seenOnly) { for (const p of g.pending) p[2] = 0; }
      for (const c of g.consumers) {
        c.seenTime = 0;
        if (!seenOnly) { for (const p of c.pending) p[1] = 0; }
      }
    }
  }
  return JSON.stringify(keys);
}

/** Every key of db 0 with its dump (as `dumpWithoutTimes(port, true)` gives it). */
async function keyDumps(port: number): Promise<Map<string, string>> {
  const keys = JSON.parse(await dumpWithoutTimes(port, true)) as DumpedKey[];
  return new Map(keys.filter((k) => k.db === 0).map((k) => [k.key, JSON.stringify(k)]));
}

/** Keys that exist in only one of `primary` and `replica`, or with other contents. */
function notCopiedKeys(primary: Map<string, string>, replica: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [k, t] of primary) if (replica.get(k) !== t) out.add(k);
  for (const k of replica.keys()) if (!primary.has(k)) out.add(k);
  return out;
}

/** An `encodings` line without the entries of `keys`. */
function withoutKeys(line: string, keys: Set<string>): string {
  if (keys.size === 0 || line === "") return line;
  return line.split(" ").filter((e) => !keys.has(e.slice(0, e.lastIndexOf("=")))).join(" ");
}

/** Every key of db 0 with its type, encoding and PTTL (for failure messages). */
async function keyStates(port: number): Promise<string> {
  const c = new Redis({ port });
  try {
    const out: string[] = [];
    for (const k of (await c.keys("*")).sort()) {
      out.push(`${k}:${await c.type(k)}/${await c.object("ENCODING", k)}/${await c.pttl(k)}`);
    }
    return out.join(" ");
  } finally {
    c.disconnect();
  }
}

/** A reply (or error) in a comparable form. */
async function replyOf(client: Redis, cmd: string[]): Promise<string> {
  try {
    return comparableReply(cmd, await client.call(cmd[0], ...cmd.slice(1)) as Reply);
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

/** True once `replicaPort` has applied `primaryPort`'s whole Redis-protocol stream. */
async function redisReplicaCaughtUp(primaryPort: number, replicaPort: number): Promise<boolean> {
  const [p, r] = await Promise.all([info(primaryPort), info(replicaPort)]);
  return r.master_link_status === "up" && r.slave_repl_offset === p.master_repl_offset;
}

Deno.test("random commands: damselfly primary and replicas agree with Redis's in replies, data and encodings", async () => {
  const primary = await startServer(["--num_shards=2"]);
  const replica = await startServer(["--num_shards=3"]);
  const redisReplicaOfDamselfly = await startRedis();
  const redisPrimary = await startRedis();
  const redisReplica = await startRedis();
  const damselflyClient = new Redis({ port: primary.port });
  const redisClient = new Redis({ port: redisPrimary.port });
  try {
    await call(replica.port, "REPLICAOF", "127.0.0.1", primary.port);
    await call(redisReplicaOfDamselfly.port, "REPLICAOF", "127.0.0.1", primary.port);
    // No wait for more replicas before a full sync (Redis's default is 5 s).
    await call(redisPrimary.port, "CONFIG", "SET", "repl-diskless-sync-delay", "0");
    await call(redisReplica.port, "REPLICAOF", "127.0.0.1", redisPrimary.port);
    // Every key must reach the replicas through the command stream: one loaded from a full
    // sync's RDB has its encoding re-derived (a short raw string loads as embstr).
    await waitState(replica.port, "stable_sync");
    await waitFor(() => redisReplicaCaughtUp(primary.port, redisReplicaOfDamselfly.port), "Redis replica link");
    await waitFor(() => redisReplicaCaughtUp(redisPrimary.port, redisReplica.port), "Redis replica link");
    // Round 0 replays FIXED_HISTORY (cases the random rounds found once); the others are random.
    for (let round = 0; round <= ROUNDS; round++) {
      const seed = SEED_BASE + round;
      const rand = rng(seed);
      const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)];
      const num = (n: number) => Math.floor(rand() * n);
      const replyDiffs: string[] = [];
      const count = round === 0 ? FIXED_HISTORY.length : COMMANDS_PER_ROUND;
      for (let i = 0; i < count; i++) {
        const cmd = round === 0 ? FIXED_HISTORY[i] : randomCommand(pick, num);
        if (COMMAND_LOG !== undefined) {
          Deno.writeTextFileSync(COMMAND_LOG, JSON.stringify(cmd) + "\n", { append: true });
        }
        const [got, want] = [await replyOf(damselflyClient, cmd), await replyOf(redisClient, cmd)];
        if (got !== want) replyDiffs.push(`${cmd.join(" ")}: damselfly ${got}, redis ${want}`);
      }
      assert.deepEqual(replyDiffs, [], `seed ${seed}: replies differ`);
      const expected = await dumpWithoutTimes(redisPrimary.port);
      assert.equal(await dumpWithoutTimes(primary.port), expected, `seed ${seed}: primaries' data differ`);
      assert.equal(await encodings(primary.port), await encodings(redisPrimary.port), `seed ${seed}: primaries`);
      await waitFor(() => redisReplicaCaughtUp(redisPrimary.port, redisReplica.port), "the Redis replica of Redis");
      await waitFor(
        () => redisReplicaCaughtUp(primary.port, redisReplicaOfDamselfly.port),
        "the Redis replica of damselfly",
      );
      const primaryData = await dumpWithoutTimes(primary.port, true);
      await waitFor(
        async () => (await dumpWithoutTimes(replica.port, true)) === primaryData,
        `seed ${seed}: the damselfly replica to hold the primary's data`,
      );
      // Where Redis's replica lost a key its primary has, kept one its primary lost, or holds
      // other contents (after a RENAME of a key it lost), it is not a copy, and damselfly's
      // replicas stay exact instead: such keys are left out of the encoding comparison (the
      // data comparisons above cover them). Redis 7.0 loses keys this way through BITFIELD ...
      // OVERFLOW FAIL on a missing key: it creates the key, but propagates nothing.
      const notCopied = notCopiedKeys(await keyDumps(redisPrimary.port), await keyDumps(redisReplica.port));
      const replicaEncodings = withoutKeys(await encodings(redisReplica.port), notCopied);
      const damselflyReplicaEncodings = withoutKeys(await encodings(replica.port), notCopied);
      if (damselflyReplicaEncodings !== replicaEncodings) {
        const states = await Promise.all([primary, replica, redisPrimary, redisReplica].map((s) => keyStates(s.port)));
        assert.fail(
          `seed ${seed}: damselfly replica's encodings differ\n  ${damselflyReplicaEncodings}\n  ${replicaEncodings}\n` +
            `  damselfly primary: ${states[0]}\n  damselfly replica: ${states[1]}\n` +
            `  redis primary:     ${states[2]}\n  redis replica:     ${states[3]}`,
        );
      }
      assert.equal(
        withoutKeys(await encodings(redisReplicaOfDamselfly.port), notCopied),
        replicaEncodings,
        `seed ${seed}: Redis replica`,
      );
      assert.equal(await dumpWithoutTimes(redisReplicaOfDamselfly.port, true), primaryData, `seed ${seed}`);
    }
    // Replicas that join now get the whole dataset by full sync (a damselfly one through the
    // shard flows, a Redis one through damselfly's RDB, and a damselfly one of the Redis
    // primary through Redis's RDB) and must hold the same data.
    const lateReplica = await startServer(["--num_shards=1"]);
    const lateRedisReplica = await startRedis();
    const lateReplicaOfRedis = await startServer(["--num_shards=2"]);
    try {
      await call(lateReplica.port, "REPLICAOF", "127.0.0.1", primary.port);
      await call(lateRedisReplica.port, "REPLICAOF", "127.0.0.1", primary.port);
      await call(lateReplicaOfRedis.port, "REPLICAOF", "127.0.0.1", redisPrimary.port);
      const redisData = await dumpWithoutTimes(redisPrimary.port, true);
      await waitFor(
        async () => (await dumpWithoutTimes(lateReplicaOfRedis.port, true)) === redisData,
        "the late damselfly replica of Redis to hold Redis's data",
      );
      await waitState(lateReplica.port, "stable_sync");
      await waitFor(() => redisReplicaCaughtUp(primary.port, lateRedisReplica.port), "the late Redis replica");
      const primaryData = await dumpWithoutTimes(primary.port, true);
      await waitFor(
        async () => (await dumpWithoutTimes(lateReplica.port, true)) === primaryData,
        "the late damselfly replica to hold the primary's data",
      );
      assert.equal(await dumpWithoutTimes(lateRedisReplica.port, true), primaryData, "the late Redis replica");
    } finally {
      await Promise.all([lateReplica.stop(), lateRedisReplica.stop(), lateReplicaOfRedis.stop()]);
    }
  } finally {
    damselflyClient.disconnect();
    redisClient.disconnect();
    await Promise.all([
      primary.stop(),
      replica.stop(),
      redisReplicaOfDamselfly.stop(),
      redisPrimary.stop(),
      redisReplica.stop(),
    ]);
  }
});
