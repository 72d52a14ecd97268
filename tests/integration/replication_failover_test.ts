/**
 * Failover with real processes: REPLTAKEOVER under a write load loses no acknowledged write
 * and shuts the old primary down; a sibling replica then follows the promoted node with a
 * partial sync (DFLY FLOW's LSN-vector form); REPLICAOF NO ONE does the same at rest; and
 * REPLTAKEOVER's errors.
 */
import assert from "node:assert/strict";
import { RespClient, startServer, waitFor } from "../helpers/server.ts";
import { assertSameData, call, explainFailure, fillStrings, info, role, waitCaughtUp } from "../helpers/replication.ts";

Deno.test("replication: REPLTAKEOVER under load, then siblings partial-sync from the new primary", async (t) => {
  const primary = await startServer(["--num_shards=2", "--replication_acks_interval=50"]);
  const r1 = await startServer(["--num_shards=2"]);
  const r2 = await startServer(["--num_shards=2"]);
  const r3 = await startServer(["--num_shards=4"]);
  const explain = (fn: () => Promise<void>) => explainFailure({ primary, r1, r2, r3 }, fn);
  try {
    await fillStrings(primary.port, 1000, 20);
    for (const r of [r1, r2, r3]) assert.equal(await call(r.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
    await waitCaughtUp(primary.port, [r1.port, r2.port, r3.port]);

    await t.step("REPLTAKEOVER errors", () =>
      explain(async () => {
        assert.equal(
          ((await call(r1.port, "REPLTAKEOVER", "x")) as Error).message,
          "ERR value is not an integer or out of range",
        );
        assert.equal(((await call(r1.port, "REPLTAKEOVER", "-1")) as Error).message, "ERR timeout is negative");
        assert.equal(
          ((await call(r1.port, "REPLTAKEOVER", "1", "NOW")) as Error).message,
          "ERR Unsupported option:NOW",
        );
        assert.equal(await call(primary.port, "REPLTAKEOVER", "1"), "OK", "a primary answers OK");
      }));

    await t.step("no acknowledged write is lost; the old primary exits", () =>
      explain(async () => {
        const counters = 4;
        const acked = new Array(counters).fill(0);
        let stop = false;
        const loops = Array.from({ length: counters }, async (_, i) => {
          const c = await RespClient.connect(primary.port);
          try {
            while (!stop) {
              const r = await c.call("INCR", `counter:${i}`);
              if (typeof r !== "number") break;
              acked[i] = r;
            }
          } catch {
            // the old primary went away
          } finally {
            c.close();
          }
        });
        await waitFor(() => acked.every((n) => n > 50), "the INCR loops to run");
        assert.equal(await call(r1.port, "REPLTAKEOVER", "10"), "OK");
        stop = true;
        await Promise.all(loops);
        const status = await primary.child.status;
        assert.equal(status.code, 0, "the old primary shuts down");
        assert.equal((await role(r1.port))[0], "master");
        for (let i = 0; i < counters; i++) {
          const v = Number(await call(r1.port, "GET", `counter:${i}`));
          assert.ok(
            v >= acked[i] && v <= acked[i] + 1,
            `counter ${i}: ${v} on the new primary, ${acked[i]} acknowledged`,
          );
        }
        assert.equal(await call(r1.port, "SET", "on-new-primary", "1"), "OK");
      }));

    await t.step("a sibling with the same shard count partial-syncs from the promoted node", () =>
      explain(async () => {
        // r2's and r3's LSN vectors have the old primary's 2 flows, and the promoted r1 has 2 shards
        // (the replicas' own shard counts do not matter).
        for (const r of [r2, r3]) {
          assert.equal(await call(r.port, "REPLICAOF", "127.0.0.1", r1.port), "OK");
        }
        await waitCaughtUp(r1.port, [r2.port, r3.port]);
        for (const r of [r2, r3]) {
          const i = await info(r.port);
          assert.equal(i.psync_successes, "1", `replica ${r.port} partial-synced`);
          await assertSameData(r1.port, r.port);
        }
        assert.match(
          r1.logs(),
          /Partial sync requested from LSN=\d+ and is available .*continuing the old primary's LSNs/,
        );
      }));

    await t.step(
      "REPLICAOF NO ONE at rest: a sibling partial-syncs from a promoted node of 2 shards",
      () =>
        explain(async () => {
          assert.equal(await call(r2.port, "REPLICAOF", "NO", "ONE"), "OK");
          assert.equal(await call(r3.port, "REPLICAOF", "127.0.0.1", r2.port), "OK");
          await waitCaughtUp(r2.port, [r3.port]);
          assert.equal((await info(r3.port)).psync_successes, "1", "the new REPLICAOF partial-synced");
          await assertSameData(r2.port, r3.port);
          assert.equal(await call(r2.port, "SET", "after", "1"), "OK");
          await waitCaughtUp(r2.port, [r3.port]);
          assert.equal(await call(r3.port, "GET", "after"), "1");
        }),
    );
  } finally {
    await Promise.all([primary.stop(), r1.stop(), r2.stop(), r3.stop()]);
  }
});
