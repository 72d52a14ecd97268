/**
 * Exact copies: a primary under a concurrent write load of every data type (strings,
 * counters, lists, hashes, sets, sorted sets, streams, HyperLogLogs, bitmaps, geo; MULTI/EXEC,
 * multi-shard MSET/DEL/RENAME/SMOVE/SUNIONSTORE, TTLs that expire during the load, two dbs)
 * with 0, 1 and 3 replicas, 1, 4 and 8 shards and mismatched shard counts. The load runs before
 * REPLICAOF (the snapshot), during the full sync (JOURNAL_BLOBs) and in stable sync. After it
 * stops, each replica's DEBUG DIGEST and a per-key dump equal the primary's.
 */
import assert from "node:assert/strict";
import { type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import {
  assertSameData,
  call,
  explainFailure,
  fillStrings,
  role,
  startWriteLoad,
  waitCaughtUp,
  waitState,
} from "../helpers/replication.ts";

/** Runs one topology: a primary of `primaryShards` and replicas of the given shard counts. */
async function exactCopy(primaryShards: number, replicaShards: number[], seed: number): Promise<void> {
  const primary = await startServer([`--num_shards=${primaryShards}`]);
  const replicas = await Promise.all(replicaShards.map((n) => startServer([`--num_shards=${n}`])));
  const servers = Object.fromEntries([["primary", primary], ...replicas.map((r, i) => [`replica${i}`, r])]);
  try {
    await explainFailure(servers, () => copyUnderLoad(primary, replicas, seed));
  } finally {
    await Promise.all([primary.stop(), ...replicas.map((r) => r.stop())]);
  }
}

/** The load, the syncs and the comparisons of one topology. */
async function copyUnderLoad(primary: ServerProcess, replicas: ServerProcess[], seed: number): Promise<void> {
  await fillStrings(primary.port, 20_000, 30);
  const load = startWriteLoad(primary.port, { seed, connections: 3, pipeline: 16, keys: 400, shortTtls: true });
  try {
    // The dataset grows under load before, during and after the replicas' full syncs.
    const before = load.sent();
    await waitFor(() => load.sent() >= before + 2000, "2000 writes before REPLICAOF", 60_000, 10);
    await Promise.all(replicas.map(async (r) => {
      assert.equal(await call(r.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
    }));
    for (const r of replicas) await waitState(r.port, "stable_sync");
    const stable = load.sent();
    await waitFor(() => load.sent() >= stable + 3000, "3000 writes in stable sync", 60_000, 10);
  } finally {
    await load.stop();
  }
  // Keys with the load's short TTLs (≤ 220 ms) lapse first, so both sides are compared at rest.
  const stoppedAt = Date.now();
  await waitFor(() => Date.now() - stoppedAt > 250, "the short TTLs to lapse");
  await waitCaughtUp(primary.port, replicas.map((r) => r.port));
  for (const r of replicas) await assertSameData(primary.port, r.port);
  if (replicas.length === 0) {
    // With no replica during the load, one that arrives afterwards copies the result.
    const late = await startServer(["--num_shards=3"]);
    try {
      assert.equal(await call(late.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
      await waitCaughtUp(primary.port, [late.port]);
      assert.equal((await role(late.port))[3], "stable_sync");
      await assertSameData(primary.port, late.port);
    } finally {
      await late.stop();
    }
  }
}

Deno.test("exact copy: 4 shards, no replica during the load", () => exactCopy(4, [], 101));
Deno.test("exact copy: 1 shard, 1 replica of 1 shard", () => exactCopy(1, [1], 102));
Deno.test("exact copy: 8 shards, 1 replica of 8 shards", () => exactCopy(8, [8], 103));
Deno.test("exact copy: 4 shards, 3 replicas of 1, 4 and 8 shards", () => exactCopy(4, [1, 4, 8], 104));
Deno.test("exact copy: 1 shard, 1 replica of 4 shards", () => exactCopy(1, [4], 105));
