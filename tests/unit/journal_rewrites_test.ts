/**
 * Multi-key writes are recorded per key, as Dragonfly journals them (SMOVE → SREM + SADD,
 * LMOVE → pop + push, STORE forms → DEL + batched adds, BITOP/PFMERGE → SET, RENAME → DEL +
 * RESTORE, COPY → RESTORE in the destination db): with keys on different shards, every
 * journal item touches keys of exactly one shard (so a Dragonfly replica applies each once);
 * several records of one command form one transaction (MULTI … EXEC: one txid across the
 * shards, so a damselfly replica applies them atomically); and replaying the recorded writes
 * on a fresh server yields the same DEBUG DIGEST and the same OBJECT ENCODING of every key
 * (a short raw string gets `APPEND key ""`, a shrunk collection an add and remove that converts
 * it, where SET or RESTORE alone would re-derive a compact encoding).
 */
import assert from "node:assert/strict";
import { InProcessServer } from "../helpers/in_process.ts";
import { shardOf } from "../../src/store/key_hash.ts";
import { keyPositions } from "../../src/commands/types.ts";
import { lookupCommand } from "../../src/commands/registry.ts";

const SHARDS = 4;

/** `n` keys named `<prefix><i>`, each on a different shard. */
function keysOnDistinctShards(prefix: string, n: number): string[] {
  const out: string[] = [];
  const used = new Set<number>();
  for (let i = 0; out.length < n && i < 10_000; i++) {
    const k = `${prefix}${i}`;
    const s = shardOf(k, SHARDS);
    if (!used.has(s)) {
      used.add(s);
      out.push(k);
    }
  }
  assert.equal(out.length, n);
  return out;
}

/** The shards of the keys of one command vector. */
function shardsOfKeys(args: readonly string[]): Set<number> {
  const spec = lookupCommand(args[0]);
  assert.ok(spec, `unknown command ${args[0]}`);
  return new Set(keyPositions(spec, [...args]).map((i) => shardOf(args[i], SHARDS)));
}

function digest(s: InProcessServer): string {
  return s.call("DEBUG", "DIGEST");
}

/**
 * Runs `setup` then `command` on a 4-shard primary, checks the journal items of `command`
 * (each touches one shard's keys; several records share one txid) and that replaying every
 * recorded write on a fresh server gives the same dataset. Returns the recorded writes of
 * `command`, without the MULTI/EXEC that wraps several of them.
 */
function checkRewrite(setup: string[][], command: string[], expectReply?: string): string[][] {
  const primary = new InProcessServer([`--num_shards=${SHARDS}`]);
  primary.server.journal.enable();
  for (const cmd of setup) {
    const r = primary.call(...cmd);
    assert.ok(!r.startsWith("-"), `${cmd.join(" ")} → ${r}`);
  }
  const before = primary.writes.length;
  const lsns = primary.server.journal.lsnVector();
  const reply = primary.call(...command);
  assert.ok(!reply.startsWith("-"), `${command[0]} → ${reply}`);
  if (expectReply !== undefined) assert.equal(reply, expectReply);
  let recorded = primary.writes.slice(before).map((w) => w.args);
  assert.ok(recorded.length > 0, `${command[0]} recorded nothing`);
  if (recorded.length > 1) {
    assert.deepEqual([recorded[0], recorded.at(-1)], [["MULTI"], ["EXEC"]], `${command[0]}: not one transaction`);
    recorded = recorded.slice(1, -1);
  }
  const txids = new Set<number>();
  for (const [shard, sj] of primary.server.journal.shards.entries()) {
    for (const item of sj.readFrom(lsns[shard]) ?? []) {
      if (item.args.length === 0) continue; // the PING closing a unit's part on this shard
      txids.add(item.txid);
      const shards = shardsOfKeys(item.args);
      assert.ok(shards.size <= 1, `${command[0]}: ${item.args[0]} touches shards ${[...shards]}`);
      if (shards.size === 1) assert.equal([...shards][0], shard);
    }
  }
  assert.equal(txids.size, 1, `${command[0]}: its items carry ${txids.size} txids`);
  if (recorded.length > 1) assert.notEqual([...txids][0], 0, `${command[0]}: several records outside a unit`);
  const replica = new InProcessServer([`--num_shards=${SHARDS}`]);
  let db = 0;
  for (const w of primary.writes) {
    if (w.db !== db) {
      replica.call("SELECT", String(w.db));
      db = w.db;
    }
    const r = replica.call(...w.args);
    assert.ok(!r.startsWith("-"), `replay of ${w.args[0]} → ${r}`);
  }
  assert.equal(digest(replica), digest(primary), `${command.join(" ").slice(0, 80)}: digests differ`);
  replica.call("SELECT", "0");
  primary.call("SELECT", "0");
  for (const k of [a, b, c]) {
    const enc = (s: InProcessServer) => s.call("OBJECT", "ENCODING", k);
    assert.equal(enc(replica), enc(primary), `${command.join(" ").slice(0, 80)}: encodings of ${k} differ`);
  }
  assert.notEqual(digest(primary), "$40\r\n" + "0".repeat(40) + "\r\n");
  return recorded;
}

const [a, b, c] = keysOnDistinctShards("k", 3);

Deno.test("SMOVE is recorded as SREM src + SADD dst", () => {
  const got = checkRewrite([["SADD", a, "m", "n"], ["SADD", b, "x"]], ["SMOVE", a, b, "m"], ":1\r\n");
  assert.deepEqual(got, [["SREM", a, "m"], ["SADD", b, "m"]]);
  checkRewrite([["SADD", a, "m"]], ["SMOVE", a, b, "m"]);
});

Deno.test("LMOVE, BLMOVE, RPOPLPUSH and BRPOPLPUSH are recorded as a pop and a push of the element", () => {
  const setup = [["RPUSH", a, "1", "2", "3"], ["RPUSH", b, "x"]];
  assert.deepEqual(checkRewrite(setup, ["LMOVE", a, b, "LEFT", "RIGHT"]), [["LPOP", a], ["RPUSH", b, "1"]]);
  assert.deepEqual(checkRewrite(setup, ["BLMOVE", a, b, "RIGHT", "LEFT", "0"]), [["RPOP", a], ["LPUSH", b, "3"]]);
  assert.deepEqual(checkRewrite(setup, ["RPOPLPUSH", a, b]), [["RPOP", a], ["LPUSH", b, "3"]]);
  assert.deepEqual(checkRewrite(setup, ["BRPOPLPUSH", a, c, "1"]), [["RPOP", a], ["LPUSH", c, "3"]]);
  checkRewrite([["RPUSH", a, "only"]], ["LMOVE", a, a, "LEFT", "RIGHT"]);
});

Deno.test("SINTERSTORE, SUNIONSTORE and SDIFFSTORE are recorded as DEL + SADD of the result", () => {
  const setup = [["SADD", a, "1", "2", "3", "x"], ["SADD", b, "2", "3", "y"], ["SET", c, "old", "EX", "100"]];
  assert.deepEqual(checkRewrite(setup, ["SINTERSTORE", c, a, b]), [["DEL", c], ["SADD", c, "2", "3"]]);
  checkRewrite(setup, ["SUNIONSTORE", c, a, b]);
  checkRewrite(setup, ["SDIFFSTORE", c, a, b]);
  // An empty result deletes the destination.
  assert.deepEqual(checkRewrite(setup, ["SDIFFSTORE", c, "missing", a]), [["DEL", c]]);
});

Deno.test("a large STORE result is recorded in batches of 1024 members", () => {
  const members = Array.from({ length: 2500 }, (_, i) => `m${i}`);
  const got = checkRewrite([["SADD", a, ...members]], ["SUNIONSTORE", c, a, b]);
  assert.deepEqual(got.map((r) => [r[0], r.length - 2]), [["DEL", 0], ["SADD", 1024], ["SADD", 1024], [
    "SADD",
    452,
  ]]);
});

Deno.test("Z*STORE and ZRANGESTORE are recorded as DEL + ZADD with exact scores", () => {
  const setup = [
    ["ZADD", a, "1.1", "x", "0.30000000000000004", "y", "-inf", "z", "1e300", "w"],
    ["ZADD", b, "2", "x", "3", "v", "0.1", "y"],
    ["SET", c, "old"],
  ];
  checkRewrite(setup, ["ZUNIONSTORE", c, "2", a, b, "WEIGHTS", "0.1", "3"]);
  checkRewrite(setup, ["ZINTERSTORE", c, "2", a, b, "AGGREGATE", "MAX"]);
  checkRewrite(setup, ["ZDIFFSTORE", c, "2", a, b]);
  const got = checkRewrite(setup, ["ZRANGESTORE", c, a, "0", "1"]);
  assert.deepEqual(got, [["DEL", c], ["ZADD", c, "-inf", "z", "0.30000000000000004", "y"]]);
  assert.deepEqual(checkRewrite(setup, ["ZINTERSTORE", c, "2", a, "missing"]), [["DEL", c]]);
});

Deno.test("GEO STORE forms are recorded as DEL + ZADD", () => {
  const setup = [
    ["GEOADD", a, "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["SET", c, "old"],
  ];
  checkRewrite(setup, ["GEORADIUS", a, "15", "37", "200", "km", "STORE", c]);
  checkRewrite(setup, ["GEORADIUS", a, "15", "37", "200", "km", "STOREDIST", c]);
  checkRewrite(setup, ["GEORADIUSBYMEMBER", a, "Palermo", "200", "km", "STORE", c]);
  checkRewrite(setup, ["GEOSEARCHSTORE", c, a, "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST"]);
  assert.deepEqual(checkRewrite(setup, ["GEORADIUS", "missing", "15", "37", "200", "km", "STORE", c]), [["DEL", c]]);
});

Deno.test('BITOP is recorded as SET dst bytes + APPEND dst "" (DEL when empty)', () => {
  const setup = [["SET", a, "\xff\x0f"], ["SET", b, "\x01"], ["SET", c, "old", "EX", "100"]];
  assert.deepEqual(checkRewrite(setup, ["BITOP", "AND", c, a, b]), [["SET", c, "\x01\x00"], ["APPEND", c, ""]]);
  const long = [["SET", a, "x".repeat(45)]];
  assert.deepEqual(checkRewrite(long, ["BITOP", "OR", c, a]), [["SET", c, "x".repeat(45)]]);
  checkRewrite(setup, ["BITOP", "OR", c, a, b]);
  checkRewrite(setup, ["BITOP", "NOT", c, a]);
  assert.deepEqual(checkRewrite(setup, ["BITOP", "XOR", c, "missing"]), [["DEL", c]]);
});

Deno.test('PFMERGE is recorded as SET dst <hll> KEEPTTL (+ APPEND dst "" when short)', () => {
  const setup = [["PFADD", a, "x", "y"], ["PFADD", b, "z"], ["PFADD", c, "w"], ["EXPIRE", c, "100"]];
  const got = checkRewrite(setup, ["PFMERGE", c, a, b]);
  assert.equal(got.length, 2);
  assert.deepEqual([got[0][0], got[0][1], got[0][3]], ["SET", c, "KEEPTTL"]);
  assert.deepEqual(got[1], ["APPEND", c, ""]);
  const many = Array.from({ length: 40 }, (_, i) => `e${i}`);
  assert.equal(checkRewrite([["PFADD", a, ...many]], ["PFMERGE", c, a]).length, 1);
  checkRewrite([["PFADD", a, "x"]], ["PFMERGE", c, a, b]);
});

Deno.test("SORT ... STORE is recorded as DEL + RPUSH", () => {
  const setup = [["RPUSH", a, "3", "1", "2"], ["SET", c, "old"]];
  assert.deepEqual(checkRewrite(setup, ["SORT", a, "STORE", c]), [["DEL", c], ["RPUSH", c, "1", "2", "3"]]);
  assert.deepEqual(checkRewrite(setup, ["SORT", a, "LIMIT", "5", "1", "STORE", c]), [["DEL", c]]);
});

Deno.test("RENAME and RENAMENX are recorded as DEL src + RESTORE dst ... REPLACE ABSTTL", () => {
  const values = [
    ["SET", a, "v"],
    ["RPUSH", a, "1", "2"],
    ["HSET", a, "f", "v"],
    ["SADD", a, "1", "x"],
    ["ZADD", a, "1.5", "m"],
    ["XADD", a, "1-1", "f", "v"],
  ];
  for (const value of values) {
    const got = checkRewrite([value, ["PEXPIRE", a, "100000"], ["SET", b, "old"]], ["RENAME", a, b]);
    assert.deepEqual(got.map((r) => [r[0], r[1]]), [["DEL", a], ["RESTORE", b]]);
    assert.deepEqual(got[1].slice(4), ["REPLACE", "ABSTTL"]);
    assert.ok(Number(got[1][2]) > Date.now());
  }
  const got = checkRewrite([["SET", a, "v"]], ["RENAMENX", a, b], ":1\r\n");
  assert.equal(got[1][2], "0");
});

Deno.test("RENAME and COPY keep a raw string raw and a shrunk collection converted on the replica", () => {
  const raw = checkRewrite([["APPEND", a, "1"], ["APPEND", a, "2"]], ["RENAME", a, b]);
  assert.deepEqual(raw.map((r) => r[0]), ["DEL", "RESTORE", "APPEND"]);
  assert.deepEqual(raw[2], ["APPEND", b, ""]);
  const shrunk: [string[][], string[]][] = [
    [[["SADD", a, "x", "1"], ["SREM", a, "x"]], ["SADD", "SREM"]],
    [[["HSET", a, "f", "v".repeat(65)], ["HSET", a, "f", "v"]], ["HSET", "HDEL"]],
    [[["ZADD", a, "1", "m".repeat(65), "2", "n"], ["ZREM", a, "m".repeat(65)]], ["ZADD", "ZREM"]],
  ];
  for (const [setup, fix] of shrunk) {
    assert.deepEqual(checkRewrite(setup, ["RENAME", a, b]).map((r) => r[0]), ["DEL", "RESTORE", ...fix]);
    assert.deepEqual(checkRewrite(setup, ["COPY", a, b]).map((r) => r[0]), ["RESTORE", ...fix]);
  }
  assert.deepEqual(checkRewrite([["SETBIT", a, "1", "1"]], ["COPY", a, b]).map((r) => r[0]), ["RESTORE", "APPEND"]);
  assert.deepEqual(checkRewrite([["SADD", a, "x", "1"]], ["COPY", a, b]).map((r) => r[0]), ["RESTORE"]);
});

Deno.test("COPY is recorded as RESTORE dst ... in the destination db", () => {
  const setup = [["ZADD", a, "1", "x", "2", "y"], ["PEXPIRE", a, "100000"], ["SET", b, "old"]];
  const got = checkRewrite(setup, ["COPY", a, b, "REPLACE"], ":1\r\n");
  assert.deepEqual(got.map((r) => [r[0], r[1]]), [["RESTORE", b]]);
  const primary = new InProcessServer([`--num_shards=${SHARDS}`]);
  primary.call("SET", a, "v");
  primary.clearRecords();
  primary.call("COPY", a, b, "DB", "3");
  assert.deepEqual(primary.writes.map((w) => [w.db, w.args[0], w.args[1]]), [[3, "RESTORE", b]]);
  checkRewrite([["SET", a, "v"], ["SELECT", "2"], ["SET", b, "old"], ["SELECT", "0"]], [
    "COPY",
    a,
    b,
    "DB",
    "2",
    "REPLACE",
  ]);
});
