/**
 * Repeated link drops under a mixed write load (multi-shard units included): every drop is
 * healed by a partial sync and the replica stays an exact copy after each one. This is the
 * loop that caught a unit applied twice when the link dropped right after the unit ran and
 * before its flows had counted it in their LSNs.
 */
import { startServer } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";
import {
  assertSameData,
  call,
  explainFailure,
  fillStrings,
  info,
  startWriteLoad,
  waitCaughtUp,
} from "../helpers/replication.ts";
import { waitFor } from "../helpers/server.ts";

const ROUNDS = 12;

Deno.test({
  name: "replication: repeated drops during writes end in partial syncs and an exact copy each time",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const primary = await startServer([
      "--num_shards=3",
      "--shard_repl_backlog_len=400",
      "--replication_acks_interval=100",
      "--replication_timeout=5000",
    ]);
    const replica = await startServer(["--num_shards=2"]);
    const proxy = startTcpProxy(primary.port);
    try {
      await explainFailure({ primary, replica }, async () => {
        await fillStrings(primary.port, 2000, 30);
        assertOk(await call(replica.port, "REPLICAOF", "127.0.0.1", proxy.port));
        await waitCaughtUp(primary.port, [replica.port]);
        const before = Number((await info(replica.port)).psync_successes);
        for (let round = 0; round < ROUNDS; round++) {
          const load = startWriteLoad(primary.port, { seed: 40 + round, connections: 3, pipeline: 8, keys: 30 });
          try {
            await waitFor(() => load.sent() > 300, "writes before the drop");
          } finally {
            await load.stop();
          }
          // Dropped while the last writes are still on their way to the replica; the reconnect can
          // be quicker than a poll, so a new sync attempt counts as seen too.
          const attempts = Number((await info(replica.port)).psync_attempts);
          proxy.cut();
          await waitFor(
            async () => {
              const now = await info(replica.port);
              return now.master_link_status === "down" || Number(now.psync_attempts) > attempts;
            },
            "the link down",
            10_000,
            5,
          );
          await waitCaughtUp(primary.port, [replica.port], 30_000);
          await assertSameData(primary.port, replica.port);
        }
        const after = Number((await info(replica.port)).psync_successes);
        if (after - before < 1) throw new Error(`expected partial syncs, saw ${after - before}`);
      });
    } finally {
      proxy.close();
      await replica.stop();
      await primary.stop();
    }
  },
});

function assertOk(reply: unknown): void {
  if (reply !== "OK") throw new Error(`expected OK, got ${JSON.stringify(reply)}`);
}
