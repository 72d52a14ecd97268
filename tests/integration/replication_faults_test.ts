/**
 * Replication under faults, with real processes on loopback: links dropped through a TCP proxy
 * (short drops → partial sync, long drops past a tiny backlog → full sync), a stalled replica
 * dropped without blocking the primary's writes, the primary killed with SIGKILL during full
 * sync and during stable sync and restarted on the same port (with and without
 * break_replication_on_master_restart), replicas killed, and the lag field over a load.
 */
import assert from "node:assert/strict";
import { RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";
import {
  assertSameData,
  call,
  explainFailure,
  fillStrings,
  info,
  role,
  setMany,
  startWriteLoad,
  waitCaughtUp,
  waitState,
} from "../helpers/replication.ts";

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

Deno.test("replication: link drops through a proxy, partial and full resync, slow replicas", async (t) => {
  const primary = await startServer([
    "--num_shards=3",
    "--shard_repl_backlog_len=200",
    "--replication_acks_interval=100",
    "--replication_stream_output_limit=1mb",
    "--replication_timeout=5000",
  ]);
  const replica = await startServer(["--num_shards=2"]);
  const proxy = startTcpProxy(primary.port);
  const explain = (fn: () => Promise<void>) => explainFailure({ primary, replica }, fn);
  try {
    await fillStrings(primary.port, 2000, 30);
    assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", proxy.port), "OK");
    await waitCaughtUp(primary.port, [replica.port]);

    await t.step("a short drop is healed by a partial sync", () =>
      explain(async () => {
        const before = await info(replica.port);
        // A bounded number of writes around the drop, well inside the 3 × 200-entry backlog
        // even when a loaded machine makes the reconnect slow.
        const load = startWriteLoad(primary.port, { seed: 11, connections: 2, pipeline: 4, keys: 50 });
        try {
          await waitFor(() => load.sent() > 100, "some writes");
        } finally {
          await load.stop();
        }
        proxy.cut();
        // The link is down only until the reconnect (500 ms later) succeeds: on a loaded
        // machine a poll can miss that window, so a new sync attempt counts as seen too.
        await waitFor(
          async () => {
            const now = await info(replica.port);
            return now.master_link_status === "down" || Number(now.psync_attempts) > Number(before.psync_attempts);
          },
          "link down",
          10_000,
          5,
        );
        await setMany(primary.port, 100, "short-drop");
        await waitCaughtUp(primary.port, [replica.port], 20_000);
        const after = await info(replica.port);
        assert.equal(Number(after.psync_attempts), Number(before.psync_attempts) + 1);
        assert.equal(Number(after.psync_successes), Number(before.psync_successes) + 1);
        assert.match(primary.logs(), /Partial sync requested from LSN=\d+ and is available/);
        await assertSameData(primary.port, replica.port);
      }));

    await t.step("a long drop past the backlog ends in a full sync", () =>
      explain(async () => {
        const before = await info(replica.port);
        proxy.cut(true);
        await waitFor(async () => (await info(replica.port)).master_link_status === "down", "link down", 5000, 5);
        await setMany(primary.port, 1000, "during-drop");
        proxy.heal();
        await waitCaughtUp(primary.port, [replica.port], 20_000);
        const after = await info(replica.port);
        assert.equal(Number(after.psync_attempts), Number(before.psync_attempts) + 1);
        assert.equal(after.psync_successes, before.psync_successes);
        assert.match(primary.logs(), /Partial sync requested from stale LSN=\d+/);
        assert.match(replica.logs(), /full sync, because the primary no longer holds the requested LSNs/);
        await assertSameData(primary.port, replica.port);
      }));

    await t.step(
      "a stalled replica is dropped without blocking the primary's writes, then comes back",
      () =>
        explain(async () => {
          const dropsBefore = count(primary.logs(), "dropped (was stable_sync)");
          proxy.pause();
          const c = await RespClient.connect(primary.port);
          try {
            const value = "x".repeat(100_000);
            let worst = 0;
            for (let i = 0; i < 150; i++) {
              const t0 = performance.now();
              assert.equal(await c.call("SET", `big:${i}`, value), "OK");
              worst = Math.max(worst, performance.now() - t0);
            }
            // Dragonfly would hold such a write for up to replication_timeout (5 s here).
            assert.ok(worst < 1500, `a write took ${worst.toFixed(1)} ms while the replica was stalled`);
            await waitFor(
              () => count(primary.logs(), "dropped (was stable_sync)") > dropsBefore,
              "the primary to drop the stalled replica",
              10_000,
            );
            assert.match(primary.logs(), /replication_stream_output_limit|replication_timeout/);
            assert.equal(await c.call("SET", "after-drop", "1"), "OK");
          } finally {
            c.close();
          }
          proxy.cut();
          proxy.resume();
          await waitCaughtUp(primary.port, [replica.port], 30_000);
          await assertSameData(primary.port, replica.port);
        }),
    );

    await t.step("lag is 0 at rest, rises under load and returns to 0", () =>
      explain(async () => {
        const lagOf = async () => Number(/lag=(\d+)/.exec((await info(primary.port)).slave0 ?? "")?.[1] ?? -1);
        await waitFor(async () => (await lagOf()) === 0, "lag 0 at rest", 5000);
        const load = startWriteLoad(primary.port, { seed: 5, connections: 3, pipeline: 64, keys: 100 });
        let peak = 0;
        try {
          await waitFor(async () => (peak = Math.max(peak, await lagOf())) > 10, "lag to rise under load", 20_000, 5);
        } finally {
          await load.stop();
        }
        await waitFor(async () => (await lagOf()) === 0, "lag back to 0", 10_000);
        assert.ok(peak > 10);
      }));
  } finally {
    proxy.close();
    await Promise.all([primary.stop(), replica.stop()]);
  }
});

/** Starts a primary on `port` (a fixed port survives restarts). */
function primaryOn(port: number, extra: string[] = []): Promise<ServerProcess> {
  return startServer([`--port=${port}`, "--num_shards=2", ...extra]);
}

Deno.test("replication: the primary killed (SIGKILL) in full sync and in stable sync, restarted on the same port", async (t) => {
  let primary = await startServer(["--num_shards=2"]);
  const port = primary.port;
  const replica = await startServer(["--num_shards=3"]);
  const stubborn = await startServer(["--num_shards=1", "--break_replication_on_master_restart"]);
  const explain = (fn: () => Promise<void>) =>
    explainFailure({
      get primary() {
        return primary;
      },
      replica,
      stubborn,
    }, fn);
  try {
    await t.step("killed during full sync: the replica follows the restarted primary", () =>
      explain(async () => {
        await fillStrings(port, 300_000, 40);
        const done = call(replica.port, "REPLICAOF", "127.0.0.1", port);
        await waitFor(async () => (await role(replica.port))[3] === "full_sync", "full sync", 20_000, 1);
        await primary.stop("SIGKILL");
        assert.equal(await done, "OK");
        await waitFor(async () => (await role(replica.port))[3] === "connecting", "connecting", 5000, 5);
        primary = await primaryOn(port);
        await call(port, "SET", "restarted", "1");
        await waitCaughtUp(port, [replica.port], 30_000);
        assert.equal(await call(replica.port, "DBSIZE"), 1);
        await assertSameData(port, replica.port);
      }));

    await t.step(
      "killed during stable sync: the replica follows the restarted (empty) primary",
      () =>
        explain(async () => {
          assert.equal(await call(stubborn.port, "REPLICAOF", "127.0.0.1", port), "OK");
          await fillStrings(port, 100, 10, "second");
          await waitCaughtUp(port, [replica.port, stubborn.port]);
          const replidBefore = (await info(replica.port)).master_replid;
          await primary.stop("SIGKILL");
          await waitFor(async () => (await role(replica.port))[3] === "connecting", "connecting", 5000, 5);
          primary = await primaryOn(port);
          await call(port, "SET", "third", "3");
          await waitCaughtUp(port, [replica.port], 30_000);
          assert.notEqual((await info(replica.port)).master_replid, replidBefore);
          assert.deepEqual(await call(replica.port, "KEYS", "*"), ["third"]);
          assert.match(replica.logs(), /has a new replid \w+ \(was \w+\): it restarted/);
        }),
    );

    await t.step(
      "with break_replication_on_master_restart the replica keeps its data and stops",
      () =>
        explain(async () => {
          await waitFor(() => /replication halted/.test(stubborn.logs()), "the stubborn replica to halt", 10_000);
          assert.equal(await call(stubborn.port, "DBSIZE"), 101);
          const r = await info(stubborn.port);
          assert.equal(r.role, "replica");
          assert.equal(r.master_link_status, "down");
          assert.equal(await call(stubborn.port, "REPLICAOF", "127.0.0.1", port), "OK");
          await waitCaughtUp(port, [stubborn.port]);
          assert.deepEqual(await call(stubborn.port, "KEYS", "*"), ["third"]);
        }),
    );
  } finally {
    await Promise.all([primary.stop(), replica.stop(), stubborn.stop()]);
  }
});

Deno.test("replication: replicas killed in full sync and in stable sync leave the primary healthy", async () => {
  const primary = await startServer(["--num_shards=2"]);
  const survivor = await startServer(["--num_shards=2"]);
  const victim1 = await startServer(["--num_shards=1"]);
  const victim2 = await startServer(["--num_shards=4"]);
  try {
    await explainFailure({ primary, survivor }, async () => {
      await fillStrings(primary.port, 200_000, 40);
      assert.equal(await call(survivor.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
      const load = startWriteLoad(primary.port, { seed: 3, connections: 2, pipeline: 8, keys: 200 });
      const syncing = call(victim1.port, "REPLICAOF", "127.0.0.1", primary.port);
      await waitFor(async () => (await role(victim1.port))[3] === "full_sync", "victim in full sync", 20_000, 1);
      await victim1.stop("SIGKILL");
      await syncing.catch(() => {});
      assert.equal(await call(victim2.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
      await waitState(victim2.port, "stable_sync");
      await victim2.stop("SIGKILL");
      await waitFor(
        async () => (await info(primary.port)).connected_slaves === "1",
        "sessions of the dead replicas gone",
      );
      const sent = await load.stop();
      assert.ok(sent > 0);
      assert.equal(await call(primary.port, "SET", "still", "writable"), "OK");
      await waitCaughtUp(primary.port, [survivor.port]);
      await assertSameData(primary.port, survivor.port);
    });
  } finally {
    await Promise.all([primary.stop(), survivor.stop(), victim1.stop(), victim2.stop()]);
  }
});
