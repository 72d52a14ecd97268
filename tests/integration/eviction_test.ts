/**
 * Access tracking and maxmemory, against a real redis-server where Redis 7.0 can answer:
 * - OBJECT IDLETIME grows while a key is idle and resets on access, but not on the commands
 *   Redis looks keys up with LOOKUP_NOTOUCH (OBJECT, TYPE, EXISTS, the TTL family, SCAN, ...);
 *   idle times survive DEBUG RELOAD under an LRU policy (RDB IDLE) and not under others;
 *   CLIENT NO-TOUCH (damselfly only: Redis 7.2) keeps them; DEBUG OBJECT agrees.
 * - OBJECT FREQ under allkeys-lfu: the deterministic part of the LFU counter (new keys, the
 *   first accesses, RESTORE FREQ, overwrites, COPY, RENAME, DEBUG RELOAD) equals Redis's, it
 *   grows with many accesses, and the errors under the wrong policy are Redis's.
 * - maxmemory with noeviction: Redis's exact -OOM for denyoom commands (and anything queued in
 *   MULTI), while GET/DEL/EXPIRE still run.
 * - allkeys-lru, allkeys-random and volatile-ttl: a fill far past maxmemory keeps the live data
 *   near the limit (checked after MEMORY PURGE, since V8 frees memory only when it collects),
 *   counts evicted_keys (INFO and /metrics), emits `evicted` events, evicts what the policy
 *   says first; a replica of an evicting primary stays an exact copy and evicts nothing itself.
 * Idle times have a one-second resolution, so the idle checks share one 2.2 s wait.
 */
import assert from "node:assert/strict";
import { type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { runDifferential, within } from "../helpers/differential.ts";
import { assertSameData, call, explainFailure, info, waitCaughtUp, waitState } from "../helpers/replication.ts";
import { httpGet, parseMetrics } from "../helpers/http.ts";

/** Idle times (s) a key read right after an access shows, and one idle for the whole wait shows. */
const FRESH_MAX = 1;
const IDLE_MIN = 2;

/** Commands that must not count as an access (the key is the last argument unless noted). */
const NO_TOUCH: (string | number)[][] = [
  ["EXISTS", "nt:exists"],
  ["TYPE", "nt:type"],
  ["TTL", "nt:ttl"],
  ["PTTL", "nt:pttl"],
  ["EXPIRETIME", "nt:expiretime"],
  ["PEXPIRETIME", "nt:pexpiretime"],
  ["OBJECT", "ENCODING", "nt:encoding"],
  ["OBJECT", "REFCOUNT", "nt:refcount"],
  ["OBJECT", "FREQ", "nt:freq"],
  ["MEMORY", "USAGE", "nt:memory"],
  ["WATCH", "nt:watch"],
  ["UNWATCH"],
  ["SCAN", 0, "TYPE", "string", "COUNT", 1000],
  ["KEYS", "nt:*"],
  ["RANDOMKEY"],
];
/** Commands that count as an access of their key. */
const TOUCH: (string | number)[][] = [
  ["GET", "t:get"],
  ["STRLEN", "t:strlen"],
  ["GETRANGE", "t:getrange", 0, 1],
  ["DUMP", "t:dump"],
  ["TOUCH", "t:touch"],
  ["APPEND", "t:append", "x"],
  ["SETRANGE", "t:setrange", 0, "x"],
  ["SET", "t:set", "other"],
  ["PERSIST", "t:persist"],
  ["EXPIRE", "t:expire", 1000],
  ["LLEN", "t:llen"],
  ["LCS", "t:lcs", "t:get"],
];
const UNTOUCHED = "idle:untouched";

/** Every key the idle checks create, in a fixed order. */
function idleKeys(): string[] {
  const keys = [UNTOUCHED];
  for (const cmd of NO_TOUCH) {
    const k = cmd.find((a) => typeof a === "string" && a.startsWith("nt:"));
    if (k !== undefined && !String(k).endsWith("*")) keys.push(String(k));
  }
  for (const cmd of TOUCH) keys.push(String(cmd[1]));
  return keys;
}

/** "idle" or "fresh" for each key, from OBJECT IDLETIME (anything else is reported as is). */
async function idleClasses(c: RespClient, keys: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const k of keys) {
    const r = await c.call("OBJECT", "IDLETIME", k);
    out.push(
      typeof r === "number" && r >= IDLE_MIN
        ? "idle"
        : typeof r === "number" && r <= FRESH_MAX
        ? "fresh"
        : `${k}: ${String(r)}`,
    );
  }
  return out;
}

/** Sleeps `ms` (the idle clock has a one-second resolution: there is no event to wait for). */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("access tracking: OBJECT IDLETIME, OBJECT FREQ, CLIENT NO-TOUCH, DEBUG RELOAD, like Redis", async (t) => {
  const damselfly = await startServer();
  const redis = await startRedis(["--enable-debug-command", "yes"]);
  const d = await RespClient.connect(damselfly.port);
  const r = await RespClient.connect(redis.port);
  const noTouch = await RespClient.connect(damselfly.port);
  try {
    const keys = idleKeys();
    await t.step("idle times grow, accesses reset them, LOOKUP_NOTOUCH commands do not", async () => {
      for (const c of [d, r]) {
        for (const k of keys) assert.equal(await c.call("SET", k, `value of ${k}`), "OK");
      }
      for (const k of ["nt:client", "nt:client-set"]) assert.equal(await d.call("SET", k, "v"), "OK");
      // Fresh keys read as fresh on both servers.
      assert.deepEqual(await idleClasses(d, keys), keys.map(() => "fresh"));
      await sleep(2200);
      for (const cmd of [...NO_TOUCH, ...TOUCH]) {
        const [a, b] = [await d.call(...cmd), await r.call(...cmd)];
        // Replies that legitimately differ: random picks, key order, byte estimates.
        if (!["RANDOMKEY", "SCAN", "MEMORY", "KEYS"].includes(String(cmd[0]))) {
          assert.deepEqual(a, b, `${cmd.join(" ")}`);
        }
      }
      const want = await idleClasses(r, keys);
      assert.deepEqual(await idleClasses(d, keys), want);
      assert.deepEqual(want, keys.map((k) => k.startsWith("t:") ? "fresh" : "idle"));
    });

    await t.step("CLIENT NO-TOUCH keeps idle times, except for TOUCH and for new values", async () => {
      assert.equal(await noTouch.call("CLIENT", "NO-TOUCH", "ON"), "OK");
      assert.equal(await noTouch.call("GET", "nt:client"), "v");
      assert.equal(await noTouch.call("SET", "nt:client-set", "new value"), "OK");
      assert.deepEqual(await idleClasses(d, ["nt:client", "nt:client-set"]), ["idle", "fresh"]);
      assert.equal(await noTouch.call("TOUCH", "nt:client"), 1);
      assert.deepEqual(await idleClasses(d, ["nt:client"]), ["fresh"]);
      // DEBUG OBJECT reports the same clock reading.
      const idle = await d.call("OBJECT", "IDLETIME", UNTOUCHED) as number;
      const debug = String(await d.call("DEBUG", "OBJECT", UNTOUCHED));
      const m = /lru:(\d+) lru_seconds_idle:(\d+)/.exec(debug);
      assert.ok(m !== null && Math.abs(Number(m[2]) - idle) <= 1, debug);
    });

    await t.step("an LRU policy keeps idle times across DEBUG RELOAD (RDB IDLE), others do not", async () => {
      for (const c of [d, r]) {
        assert.equal(await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"), "OK");
        assert.equal(await c.call("DEBUG", "RELOAD"), "OK");
      }
      assert.deepEqual(await idleClasses(d, [UNTOUCHED, "t:get"]), ["idle", "fresh"]);
      assert.deepEqual(await idleClasses(r, [UNTOUCHED, "t:get"]), ["idle", "fresh"]);
      for (const c of [d, r]) {
        assert.equal(await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random"), "OK");
        assert.equal(await c.call("DEBUG", "RELOAD"), "OK");
      }
      assert.deepEqual(await idleClasses(d, [UNTOUCHED]), ["fresh"]);
      assert.deepEqual(await idleClasses(r, [UNTOUCHED]), ["fresh"]);
    });

    await t.step("OBJECT FREQ under allkeys-lfu and the policy errors match Redis", async () => {
      for (const c of [d, r]) await c.call("FLUSHALL");
      for (const c of [d, r]) await c.call("SET", "payload", "hello");
      const payload = await r.call("DUMP", "payload") as string;
      const mismatches = await runDifferential(d, r, [
        ["OBJECT", "FREQ", "payload"],
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        ["SET", "f1", "hello"],
        ["OBJECT", "FREQ", "f1"],
        ["OBJECT", "IDLETIME", "f1"],
        ["GET", "f1"],
        ["OBJECT", "FREQ", "f1"],
        ["EXISTS", "f1"],
        ["TYPE", "f1"],
        ["OBJECT", "FREQ", "f1"],
        ["OBJECT", "FREQ", "missing"],
        ["RESTORE", "f2", 0, payload, "FREQ", 0],
        ["OBJECT", "FREQ", "f2"],
        ["GET", "f2"],
        ["OBJECT", "FREQ", "f2"],
        ["SET", "f2", "overwritten"],
        ["OBJECT", "FREQ", "f2"],
        ["APPEND", "f2", "!"],
        ["OBJECT", "FREQ", "f2"],
        ["COPY", "f2", "f3"],
        ["OBJECT", "FREQ", "f3"],
        ["RENAME", "f2", "f4"],
        ["OBJECT", "FREQ", "f4"],
        ["RESTORE", "f5", 0, payload, "IDLETIME", 100],
        ["OBJECT", "FREQ", "f5"],
        ["DEBUG", "RELOAD"],
        ["OBJECT", "FREQ", "f4"],
        ["OBJECT", "FREQ", "f5"],
        ["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
        ["OBJECT", "FREQ", "f4"],
        ["RESTORE", "f6", 0, payload, "IDLETIME", 1000],
        { cmd: ["OBJECT", "IDLETIME", "f6"], norm: within(1000, 1001) },
        ["RESTORE", "f7", 0, payload, "FREQ", 100],
        { cmd: ["OBJECT", "IDLETIME", "f7"], norm: within(0, 1) },
      ]);
      assert.deepEqual(mismatches, []);
    });

    await t.step("the LFU counter grows with accesses", async () => {
      assert.equal(await d.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"), "OK");
      assert.equal(await d.call("SET", "hot", "v"), "OK");
      for (let i = 0; i < 400; i++) await d.sendCommand("GET", "hot");
      for (let i = 0; i < 400; i++) await d.read();
      // From 6, each access counts with p = 1/11: 400 accesses leave 6 with odds of about 1e-16.
      assert.ok((await d.call("OBJECT", "FREQ", "hot") as number) > 6);
      assert.equal(await d.call("CONFIG", "SET", "maxmemory-policy", "noeviction"), "OK");
    });
  } finally {
    d.close();
    r.close();
    noTouch.close();
    await Promise.all([damselfly.stop(), redis.stop()]);
  }
});

Deno.test("maxmemory noeviction: Redis's -OOM for denyoom commands, reads and deletes still run", async () => {
  const damselfly = await startServer();
  const redis = await startRedis();
  const d = await RespClient.connect(damselfly.port);
  const r = await RespClient.connect(redis.port);
  try {
    const mismatches = await runDifferential(d, r, [
      ["SET", "k", "v"],
      ["RPUSH", "list", "a", "b"],
      ["CONFIG", "SET", "maxmemory", 1],
      ["SET", "x", "y"],
      ["SET", "k", "v2", "GET"],
      ["INCR", "n"],
      ["LPUSH", "list", "c"],
      ["HSET", "h", "f", "v"],
      ["MSET", "a", 1, "b", 2],
      ["GET", "k"],
      ["LRANGE", "list", 0, -1],
      ["EXPIRE", "k", 100],
      ["PING"],
      ["MULTI"],
      ["GET", "k"],
      ["EXEC"],
      ["DEL", "k"],
      ["LPOP", "list"],
      ["CONFIG", "SET", "maxmemory", 0],
      ["SET", "x", "y"],
      ["GET", "x"],
    ]);
    assert.deepEqual(mismatches, []);
  } finally {
    d.close();
    r.close();
    await Promise.all([damselfly.stop(), redis.stop()]);
  }
});

/** Value size of the eviction fills. */
const VALUE_SIZE = 1000;
/** Room above the empty server's live memory given to the dataset. */
const HEADROOM = 12 * 1024 * 1024;
/** About how many fill keys fit in HEADROOM (a key of VALUE_SIZE bytes takes about 1.2 KB). */
const FIT = Math.floor(HEADROOM / 1200);

/** Writes keys `prefix:from` .. `prefix:to-1` with pipelined SETs (optionally with a TTL); returns error replies. */
async function fill(
  c: RespClient,
  prefix: string,
  from: number,
  to: number,
  ttl?: (i: number) => number,
): Promise<string[]> {
  const value = "x".repeat(VALUE_SIZE);
  const errors: string[] = [];
  for (let i = from; i < to; i += 200) {
    const end = Math.min(to, i + 200);
    for (let j = i; j < end; j++) {
      await c.sendCommand("SET", `${prefix}:${j}`, value, ...(ttl ? ["EX", ttl(j)] : []));
    }
    for (let j = i; j < end; j++) {
      const reply = await c.read(30_000);
      if (reply instanceof Error) errors.push(reply.message);
    }
  }
  return errors;
}

/** How many of `prefix:from` .. `prefix:to-1` exist. */
async function surviving(c: RespClient, prefix: string, from: number, to: number): Promise<number> {
  let n = 0;
  for (let i = from; i < to; i += 500) {
    const args: string[] = [];
    for (let j = i; j < Math.min(to, i + 500); j++) args.push(`${prefix}:${j}`);
    n += await c.call("EXISTS", ...args) as number;
  }
  return n;
}

/** Live memory: used_memory after a full collection (MEMORY PURGE). */
async function liveMemory(c: RespClient): Promise<number> {
  assert.equal(await c.call("MEMORY", "PURGE"), "OK");
  const text = String(await c.call("INFO", "memory"));
  return Number(/used_memory:(\d+)/.exec(text)![1]);
}

/** Sets maxmemory to the live memory of the empty server plus `headroom`; returns it. */
async function limitMemory(c: RespClient, policy: string, headroom = HEADROOM): Promise<number> {
  assert.equal(await c.call("FLUSHALL"), "OK");
  assert.equal(await c.call("CONFIG", "SET", "maxmemory-policy", policy), "OK");
  assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
  const max = await liveMemory(c) + headroom;
  assert.equal(await c.call("CONFIG", "SET", "maxmemory", max), "OK");
  return max;
}

/** Asserts that live memory is near `max` (not over by much, not far under) and that keys were evicted. */
async function assertNearLimit(c: RespClient, max: number): Promise<number> {
  const stats = String(await c.call("INFO", "stats"));
  const evictedKeys = Number(/evicted_keys:(\d+)/.exec(stats)![1]);
  assert.ok(evictedKeys > 0, "keys were evicted");
  // As in Redis, memory can stand over the limit until the next write runs the eviction check;
  // on a loaded machine the estimate may also trail the real heap. So: write, collect, read,
  // until live memory settles near the limit (bounded by a deadline).
  let live = 0;
  await waitFor(
    async () => {
      await c.call("SET", "settle", "1");
      live = await liveMemory(c);
      return live <= max * 1.15;
    },
    `live memory near maxmemory ${max} (last ${live})`,
    10_000,
  );
  const keys = await c.call("DBSIZE") as number;
  assert.ok(keys * VALUE_SIZE >= HEADROOM * 0.3, `${keys} keys remain: eviction did not empty the dataset`);
  return evictedKeys;
}

Deno.test("eviction: allkeys-lru, allkeys-random and volatile-ttl stay near maxmemory", async (t) => {
  // A short journal backlog: its entries would hold evicted values alive and blur the numbers.
  const server = await startServer(["--shard_repl_backlog_len=256", "--notify-keyspace-events=Ee"]);
  const c = await RespClient.connect(server.port);
  const sub = await RespClient.connect(server.port);
  try {
    await explainFailure({ server }, async () => {
      await t.step("allkeys-lru evicts the least recently used keys first", async () => {
        const max = await limitMemory(c, "allkeys-lru");
        const [old, recent, fresh] = [Math.floor(FIT * 0.6), Math.floor(FIT * 0.2), Math.floor(FIT * 0.5)];
        // Old keys, idle for two seconds, then recent and fresh ones: 1.3 times the room.
        assert.deepEqual(await fill(c, "old", 0, old), []);
        await sleep(2200);
        assert.deepEqual(await fill(c, "recent", 0, recent), []);
        assert.deepEqual(await fill(c, "fresh", 0, fresh), []);
        const evicted = await assertNearLimit(c, max);
        const left = await Promise.all([surviving(c, "old", 0, old), surviving(c, "recent", 0, recent)]);
        // Old keys go first (sampling may pick a few recent ones while old ones remain).
        assert.ok(left[0] < old, `${left[0]} of ${old} old keys survive`);
        assert.ok(left[1] >= recent * 0.95, `${left[1]} of ${recent} recent keys survive`);
        assert.ok(await surviving(c, "fresh", 0, fresh) >= fresh * 0.95);
        // /metrics counts the same evictions (any command may evict more meanwhile).
        const metric = parseMetrics((await httpGet(server.port, "/metrics")).body)
          .get('dragonfly_evicted_keys_total{db="db0"}')!;
        const after = Number(/evicted_keys:(\d+)/.exec(String(await c.call("INFO", "stats")))![1]);
        assert.ok(metric >= evicted && metric <= after, `metric ${metric}, INFO ${evicted} then ${after}`);
      });

      await t.step("allkeys-random evicts and emits `evicted` events", async () => {
        const max = await limitMemory(c, "allkeys-random");
        assert.deepEqual(await sub.call("SUBSCRIBE", "__keyevent@0__:evicted"), [
          "subscribe",
          "__keyevent@0__:evicted",
          1,
        ]);
        const fit = FIT;
        assert.deepEqual(await fill(c, "rnd", 0, 3 * fit), []);
        const evicted = await assertNearLimit(c, max);
        const first = await sub.read() as Reply[];
        assert.deepEqual(first.slice(0, 2), ["message", "__keyevent@0__:evicted"]);
        assert.match(String(first[2]), /^rnd:\d+$/);
        // Every eviction was announced.
        let events = 1;
        while (events < evicted) {
          await sub.read();
          events++;
        }
        assert.equal(await c.call("EXISTS", first[2] as string), 0);
      });

      await t.step("volatile-ttl evicts the nearest expiry first and never keys without a TTL", async () => {
        const max = await limitMemory(c, "volatile-ttl");
        const fit = FIT;
        assert.deepEqual(await fill(c, "persistent", 0, Math.floor(fit / 4)), []);
        // Long TTLs first, then short ones, then more long ones than fit.
        assert.deepEqual(await fill(c, "long", 0, Math.floor(fit / 2), () => 100_000), []);
        assert.deepEqual(await fill(c, "short", 0, Math.floor(fit / 2), () => 1000), []);
        assert.deepEqual(await fill(c, "later", 0, 2 * fit, () => 200_000), []);
        await assertNearLimit(c, max);
        assert.equal(await surviving(c, "persistent", 0, Math.floor(fit / 4)), Math.floor(fit / 4));
        const short = await surviving(c, "short", 0, Math.floor(fit / 2));
        assert.ok(short <= Math.floor(fit / 2) * 0.1, `${short} short-TTL keys survive`);
        // With only keys without a TTL left to grow, writes fail with OOM.
        assert.equal(await c.call("FLUSHALL"), "OK");
        const errors = await fill(c, "nottl", 0, 2 * fit);
        assert.ok(
          errors.length > 0 && errors.every((e) => e === "OOM command not allowed when used memory > 'maxmemory'."),
        );
      });
    });
  } finally {
    c.close();
    sub.close();
    await server.stop();
  }
});

Deno.test("eviction: a replica of an evicting primary stays an exact copy", async () => {
  const primary = await startServer(["--shard_repl_backlog_len=256"]);
  const replica = await startServer();
  try {
    await explainFailure({ primary, replica }, async () => {
      const c = await RespClient.connect(primary.port);
      try {
        assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
        await waitState(replica.port, "stable_sync");
        // Twice the usual room: the replica's stream buffers take memory too (whatever is not yet
        // handed to the socket is not counted, as in Redis).
        await limitMemory(c, "allkeys-lru", 2 * HEADROOM);
        assert.deepEqual(await fill(c, "a", 0, 2 * FIT), []);
        assert.deepEqual(await fill(c, "b", 0, FIT, (i) => 1000 + i), []);
        assert.ok(Number((await info(primary.port, "stats")).evicted_keys) > 0, "the primary evicted keys");
        // The primary evicts before any command while over the limit (the comparison's too): lift
        // the limit, then compare at rest.
        assert.equal(await c.call("CONFIG", "SET", "maxmemory", 0), "OK");
        await waitCaughtUp(primary.port, [replica.port]);
        await assertSameData(primary.port, replica.port);
        assert.equal((await info(replica.port, "stats")).evicted_keys, "0");
      } finally {
        c.close();
      }
    });
  } finally {
    await Promise.all([primary.stop(), replica.stop()]);
  }
});
