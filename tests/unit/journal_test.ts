/**
 * Journal routing and units: single-shard writes carry txid 0 like Dragonfly; multi-shard
 * writes, global commands and MULTI/EXEC form units (same txid on every involved shard, each
 * part closed by a PING); splittable commands are split per shard; the backlog is bounded.
 */
import assert from "node:assert/strict";
import { InProcessServer } from "../helpers/in_process.ts";
import { shardOf } from "../../src/store/key_hash.ts";
import { JournalDecoder } from "../../src/journal/journal_codec.ts";
import type { JournalItem } from "../../src/journal/shard_journal.ts";

function items(s: InProcessServer, shard: number): JournalItem[] {
  return s.server.journal.shards[shard].readFrom(s.server.journal.shards[shard].firstLsn) ?? [];
}

function keysOnDistinctShards(n: number, shards: number): string[] {
  const out: string[] = [];
  const used = new Set<number>();
  for (let i = 0; out.length < n && i < 10_000; i++) {
    const k = `key${i}`;
    const s = shardOf(k, shards);
    if (!used.has(s)) {
      used.add(s);
      out.push(k);
    }
  }
  return out;
}

Deno.test("single-shard writes are journaled with txid 0 on the key's shard, in LSN order", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.journal.enable();
  s.call("SET", "a", "1");
  s.call("INCR", "a");
  s.call("EXPIRE", "a", "100");
  const shard = shardOf("a", 4);
  const got = items(s, shard);
  assert.deepEqual(got.map((i) => [i.lsn, i.txid, i.shardCount, i.args[0]]), [[1, 0, 1, "SET"], [2, 0, 1, "INCR"], [
    3,
    0,
    1,
    "PEXPIREAT",
  ]]);
  const decoded = new JournalDecoder().feed(got[0].bytes);
  assert.deepEqual(decoded, [{ op: "select", db: 0 }, {
    op: "command",
    txid: 0n,
    shardCount: 1,
    args: ["SET", "a", "1"],
  }]);
  for (let i = 0; i < 4; i++) if (i !== shard) assert.equal(items(s, i).length, 0);
});

Deno.test("MSET across shards is split per shard with one txid and a closing PING per part", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.journal.enable();
  const [k1, k2, k3] = keysOnDistinctShards(3, 4);
  s.call("MSET", k1, "1", k2, "2", k3, "3");
  const txids = new Set<number>();
  for (const k of [k1, k2, k3]) {
    const got = items(s, shardOf(k, 4));
    assert.equal(got.length, 2);
    assert.deepEqual(got[0].args, ["MSET", k, got[0].args[2]]);
    assert.equal(got[0].shardCount, 3);
    assert.deepEqual(got[1].args, []); // PING
    txids.add(got[0].txid);
    assert.equal(got[1].txid, got[0].txid);
  }
  assert.equal(txids.size, 1);
  assert.ok([...txids][0] > 0);
});

Deno.test("MULTI/EXEC and FLUSHALL are units; a one-write EXEC is a plain item", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.journal.enable();
  const [k1, k2] = keysOnDistinctShards(2, 4);
  s.call("MULTI");
  s.call("SET", k1, "x");
  s.call("SET", k2, "y");
  s.call("EXEC");
  const a = items(s, shardOf(k1, 4));
  const b = items(s, shardOf(k2, 4));
  assert.equal(a[0].txid, b[0].txid);
  assert.equal(a[0].shardCount, 2);
  s.call("FLUSHALL");
  for (let i = 0; i < 4; i++) {
    const last = items(s, i).slice(-2);
    assert.equal(last[0].args[0], "FLUSHALL");
    assert.equal(last[0].shardCount, 4);
    assert.deepEqual(last[1].args, []);
  }
  s.call("MULTI");
  s.call("SET", k1, "z");
  s.call("EXEC");
  const tail = items(s, shardOf(k1, 4)).at(-1)!;
  assert.deepEqual([tail.txid, tail.shardCount, tail.args.join(" ")], [0, 1, `SET ${k1} z`]);
});

Deno.test("the backlog is bounded by entries and bytes; readFrom refuses evicted LSNs", () => {
  const s = new InProcessServer(["--num_shards=1", "--shard_repl_backlog_len=10"]);
  s.server.journal.enable();
  for (let i = 0; i < 25; i++) s.call("SET", "k", String(i));
  const j = s.server.journal.shards[0];
  assert.equal(j.backlogLength, 10);
  assert.equal(j.nextLsn, 26);
  assert.equal(j.firstLsn, 16);
  assert.equal(j.readFrom(15), null);
  assert.equal(j.readFrom(16)!.length, 10);
  assert.equal(j.readFrom(26)!.length, 0);
  assert.equal(j.readFrom(27), null);
  const t = new InProcessServer(["--num_shards=1", "--shard_repl_backlog_max_bytes=100"]);
  t.server.journal.enable();
  for (let i = 0; i < 25; i++) t.call("SET", "k", "v".repeat(30));
  assert.ok(t.server.journal.shards[0].backlogBytes <= 100);
});

Deno.test("nothing is journaled until the journal is enabled", () => {
  const s = new InProcessServer(["--num_shards=2"]);
  s.call("SET", "a", "1");
  assert.deepEqual(s.server.journal.lsnVector(), [1, 1]);
});

Deno.test("replica units: every part's flow counts the unit in the same step that runs it", async () => {
  const { CommandRunner, FlowApplier, UnitBarrier } = await import("../../src/replication/journal_applier.ts");
  const s = new InProcessServer(["--num_shards=2"]);
  const runner = new CommandRunner(s.server, "test");
  const barrier = new UnitBarrier(2, runner);
  const counted: number[] = [0, 0];
  const flows = [0, 1].map((i) => {
    const a = new FlowApplier(i, 2, runner, barrier);
    a.onApplied = () => counted[i] += a.takeApplied();
    return a;
  });
  const [k0, k1] = keysOnDistinctShards(2, 2);
  flows[0].command({ db: 0, txid: 7n, shardCount: 2, args: ["SET", k0, "a"] });
  const waiting = flows[0].ping();
  assert.ok(waiting instanceof Promise, "the first part waits for the other");
  assert.deepEqual(counted, [0, 0]);
  flows[1].command({ db: 0, txid: 7n, shardCount: 2, args: ["SET", k1, "b"] });
  void flows[1].ping();
  // Synchronously, before any microtask: both flows have counted their part (command + PING).
  assert.deepEqual(counted, [2, 2]);
  assert.equal(s.server.store.slice(0, k0).get(k0), "a");
  await waiting;
});
