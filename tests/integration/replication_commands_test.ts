/**
 * Replication commands against real processes: ROLE and INFO REPLICATION shapes (both naming
 * modes), READONLY, LOADING during a full sync, REPLICAOF to itself, failing REPLICAOF keeps
 * the data, switching primaries discards it, REPLICAOF NO ONE keeps it, REPLICAOF inside
 * MULTI, --replicaof at startup, WAIT, DFLY REPLICAOFFSET, CLIENT LIST flags, REPLCONF/DFLY
 * errors, and expiry through the journal (a replica hides expired keys but never deletes them).
 */
import assert from "node:assert/strict";
import { freePort, redisCli, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";
import { startRedis } from "../helpers/redis.ts";
import { shardOf } from "../../src/store/key_hash.ts";
import {
  assertSameData,
  call,
  caughtUp,
  fillStrings,
  info,
  role,
  waitCaughtUp,
  waitState,
} from "../helpers/replication.ts";

Deno.test("replication commands", async (t) => {
  const primary = await startServer(["--num_shards=2", "--replication_acks_interval=100"]);
  const replica = await startServer(["--num_shards=3"]);
  const other = await startServer(["--num_shards=1"]);
  try {
    await t.step("a primary without replicas: ROLE and INFO", async () => {
      assert.deepEqual(await role(primary.port), ["master", []]);
      const text = await call(primary.port, "INFO", "replication") as string;
      assert.match(text, /^# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_replid:[0-9a-f]{40}\r\n$/);
      assert.deepEqual(await call(primary.port, "DFLY", "REPLICAOFFSET"), [0, 0]);
    });

    await t.step("REPLICAOF to itself is an error and changes nothing", async () => {
      for (const host of ["127.0.0.1", "localhost"]) {
        const r = await call(replica.port, "REPLICAOF", host, replica.port);
        assert.ok(r instanceof Error && /could not greet master.*myself/.test(r.message), String(r));
      }
      assert.equal((await role(replica.port))[0], "master");
    });

    await t.step("a REPLICAOF that cannot connect keeps the data", async () => {
      await call(replica.port, "SET", "mine", "1");
      const r = await call(replica.port, "REPLICAOF", "127.0.0.1", freePort());
      assert.ok(r instanceof Error && r.message === "ERR could not connect to master: Connection refused", String(r));
      assert.equal(await call(replica.port, "GET", "mine"), "1");
      assert.equal((await role(replica.port))[0], "master");
      assert.ok((await call(replica.port, "REPLICAOF", "h", "0")) instanceof Error);
      assert.equal(((await call(replica.port, "REPLICAOF", "NO", "TWO")) as Error).message, "ERR syntax error");
    });

    await t.step("full sync flushes the old data; ROLE and INFO of both sides", async () => {
      await fillStrings(primary.port, 500, 20);
      assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
      await waitState(replica.port, "stable_sync");
      await waitCaughtUp(primary.port, [replica.port]);
      assert.equal(await call(replica.port, "GET", "mine"), null);
      assert.equal(await call(replica.port, "DBSIZE"), 500);
      assert.deepEqual(await role(replica.port), ["replica", "127.0.0.1", String(primary.port), "stable_sync"]);
      assert.deepEqual(await role(primary.port), ["master", [["127.0.0.1", String(replica.port), "stable_sync"]]]);
      const p = await call(primary.port, "INFO", "replication") as string;
      assert.match(
        p,
        new RegExp(
          `^# Replication\\r\\nrole:master\\r\\nconnected_slaves:1\\r\\nslave0:ip=127\\.0\\.0\\.1,port=${replica.port},state=stable_sync,lag=0\\r\\nmaster_replid:[0-9a-f]{40}\\r\\n$`,
        ),
      );
      const replid = /master_replid:(\w+)/.exec(p)![1];
      const r = await info(replica.port);
      assert.deepEqual(Object.keys(r), [
        "role",
        "master_host",
        "master_port",
        "master_link_status",
        "master_last_io_seconds_ago",
        "master_sync_in_progress",
        "master_replid",
        "slave_repl_offset",
        "slave_priority",
        "slave_read_only",
        "psync_attempts",
        "psync_successes",
      ]);
      assert.equal(r.role, "replica");
      assert.equal(r.master_host, "127.0.0.1");
      assert.equal(r.master_port, String(primary.port));
      assert.equal(r.master_link_status, "up");
      assert.equal(r.master_sync_in_progress, "0");
      assert.equal(r.master_replid, replid);
      assert.equal(r.slave_priority, "100");
      assert.equal(r.slave_read_only, "1");
      assert.equal(r.psync_attempts, "0");
      assert.equal(r.psync_successes, "0");
      assert.ok(Number(r.master_last_io_seconds_ago) >= 0);
      await assertSameData(primary.port, replica.port);
    });

    await t.step("Valkey-compatible names (slave, online) with the flag", async () => {
      await call(replica.port, "CONFIG", "SET", "info_replication_valkey_compatible", "true");
      await call(primary.port, "CONFIG", "SET", "info_replication_valkey_compatible", "true");
      try {
        assert.deepEqual(await role(replica.port), ["slave", "127.0.0.1", String(primary.port), "online"]);
        assert.deepEqual(await role(primary.port), ["master", [["127.0.0.1", String(replica.port), "online"]]]);
        assert.equal((await info(replica.port)).role, "slave");
        assert.match((await info(primary.port)).slave0, /state=online,/);
      } finally {
        await call(replica.port, "CONFIG", "SET", "info_replication_valkey_compatible", "false");
        await call(primary.port, "CONFIG", "SET", "info_replication_valkey_compatible", "false");
      }
    });

    await t.step("writes on a replica answer READONLY, reads work, also through redis-cli", async () => {
      const e = await call(replica.port, "SET", "x", "1") as Error;
      assert.equal(e.message, "READONLY You can't write against a read only replica.");
      assert.equal(
        await redisCli(replica.port, ["SET", "x", "1"]),
        "(error) READONLY You can't write against a read only replica.",
      );
      assert.equal(await call(replica.port, "GET", "fill:7"), "v".repeat(20));
      const c = await RespClient.connect(replica.port);
      try {
        assert.equal(await c.call("MULTI"), "OK");
        assert.equal(
          ((await c.call("INCR", "n")) as Error).message,
          "READONLY You can't write against a read only replica.",
        );
        assert.ok((await c.call("EXEC")) instanceof Error);
      } finally {
        c.close();
      }
    });

    await t.step("stable sync carries every write, WAIT counts the replica", async () => {
      const c = await RespClient.connect(primary.port);
      try {
        await c.call("MSET", "a", "1", "b", "2", "c", "3");
        await c.call("INCR", "a");
        assert.equal(await c.call("WAIT", 1, 5000), 1);
        assert.equal(await c.call("WAIT", 2, 200), 1);
        assert.equal(await c.call("WAIT", 0, 0), 1);
        assert.equal(((await c.call("WAIT", "x", 0)) as Error).message, "ERR value is not an integer or out of range");
        assert.equal(((await c.call("WAIT", 1, -1)) as Error).message, "ERR timeout is negative");
      } finally {
        c.close();
      }
      assert.deepEqual(await call(replica.port, "MGET", "a", "b", "c"), ["2", "2", "3"]);
      assert.equal(
        ((await call(replica.port, "WAIT", 1, 0)) as Error).message,
        "ERR WAIT cannot be used with replica instances.",
      );
    });

    await t.step("DFLY REPLICAOFFSET equals the replica's offset; lag is 0 at rest", async () => {
      await waitCaughtUp(primary.port, [replica.port]);
      const offsets = await call(primary.port, "DFLY", "REPLICAOFFSET") as number[];
      assert.equal(offsets.length, 2);
      assert.equal(Number((await info(replica.port)).slave_repl_offset), offsets[0] + offsets[1]);
      await waitFor(async () => /lag=0$/.test((await info(primary.port)).slave0), "lag 0 at rest", 5000);
      const memory = await info(primary.port, "memory");
      assert.ok(Number(memory.psync_buffer_size) > 0, "the backlog's entries show in INFO memory");
      assert.ok(Number(memory.psync_buffer_bytes) > 0, "the backlog's bytes show in INFO memory");
    });

    await t.step("multi-shard MULTI/EXEC and MSET are applied atomically on the replica", async () => {
      const [k1, k2] = ["atom:0", "atom:1", "atom:2", "atom:3", "atom:4", "atom:5"].filter((k, _, all) =>
        shardOf(k, 2) !== shardOf(all[0], 2) || k === all[0]
      );
      assert.notEqual(shardOf(k1, 2), shardOf(k2, 2));
      const writer = await RespClient.connect(primary.port);
      const reader = await RespClient.connect(replica.port);
      let stop = false;
      let torn = 0;
      let reads = 0;
      const readLoop = (async () => {
        while (!stop) {
          const [a, b] = await reader.call("MGET", k1, k2) as (string | null)[];
          reads++;
          if (a !== b) torn++;
        }
      })();
      try {
        for (let i = 0; i < 400; i++) {
          if (i % 2 === 0) {
            await writer.sendCommand("MULTI");
            await writer.sendCommand("SET", k1, i);
            await writer.sendCommand("SET", k2, i);
            await writer.sendCommand("EXEC");
            for (let j = 0; j < 4; j++) await writer.read();
          } else {
            assert.equal(await writer.call("MSET", k1, i, k2, i), "OK");
          }
        }
        await waitCaughtUp(primary.port, [replica.port]);
      } finally {
        stop = true;
        await readLoop;
        writer.close();
        reader.close();
      }
      assert.ok(reads > 10, `${reads} reads`);
      assert.equal(torn, 0, `${torn} of ${reads} reads saw half of a transaction`);
      assert.deepEqual(await call(replica.port, "MGET", k1, k2), ["399", "399"]);
    });

    await t.step("CLIENT LIST flags of replication links on both sides", async () => {
      const onPrimary = await call(primary.port, "CLIENT", "LIST", "TYPE", "replica") as string;
      const lines = onPrimary.trim().split("\n");
      assert.equal(lines.length, 3, onPrimary); // control + 2 flows
      assert.ok(lines.every((l) => /flags=S /.test(l) && /name=repl_(ctrl|flow)_\d+ /.test(l)), onPrimary);
      const onReplica = await call(replica.port, "CLIENT", "LIST", "TYPE", "master") as string;
      assert.match(onReplica.trim(), /flags=M /);
      assert.equal(onReplica.trim().split("\n").length, 1);
    });

    await t.step("REPLCONF and DFLY errors", async () => {
      assert.equal(((await call(primary.port, "REPLCONF", "a")) as Error).message, "ERR syntax error");
      assert.equal(((await call(primary.port, "REPLCONF", "foo", "bar")) as Error).message, "ERR syntax error");
      assert.equal(await call(primary.port, "REPLCONF", "capa", "eof", "capa", "psync2"), "OK");
      assert.equal(
        ((await call(replica.port, "REPLCONF", "listening-port", "1")) as Error).message,
        "ERR Replicating a replica is unsupported",
      );
      assert.equal(
        ((await call(primary.port, "DFLY", "FLOW", "x", "SYNC1", "0")) as Error).message,
        "ERR bad master id",
      );
      const replid = (await info(primary.port)).master_replid;
      assert.equal(
        ((await call(primary.port, "DFLY", "FLOW", replid, "BAD", "0")) as Error).message,
        "ERR bad sync id",
      );
      assert.equal(
        ((await call(primary.port, "DFLY", "FLOW", replid, "SYNC999", "0")) as Error).message,
        "ERR syncid not found",
      );
      assert.equal(((await call(primary.port, "DFLY", "SYNC", "SYNC999")) as Error).message, "ERR syncid not found");
      assert.equal(((await call(primary.port, "DFLY", "NOPE")) as Error).message, "ERR syntax error");
    });

    await t.step("expiry reaches the replica through the journal", async () => {
      await call(primary.port, "SET", "soon", "v", "PX", 300);
      await waitCaughtUp(primary.port, [replica.port]);
      assert.equal(await call(replica.port, "GET", "soon"), "v");
      await waitFor(async () => (await call(primary.port, "EXISTS", "soon")) === 0, "expiry on the primary", 5000);
      await waitCaughtUp(primary.port, [replica.port]);
      assert.equal(await call(replica.port, "EXISTS", "soon"), 0);
      assert.equal(await call(replica.port, "DBSIZE"), await call(primary.port, "DBSIZE"));
    });

    await t.step("a key expired on the replica is hidden but kept until the primary's DEL arrives", async () => {
      const proxy = startTcpProxy(primary.port);
      try {
        assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", proxy.port), "OK");
        await waitCaughtUp(primary.port, [replica.port]);
        await call(primary.port, "SET", "gone", "v", "PX", 300);
        await waitCaughtUp(primary.port, [replica.port]);
        const size = await call(replica.port, "DBSIZE") as number;
        proxy.pause();
        await waitFor(async () => (await call(replica.port, "GET", "gone")) === null, "expiry on the replica", 5000);
        assert.equal(await call(replica.port, "PTTL", "gone"), -2);
        assert.equal(await call(replica.port, "EXISTS", "gone"), 0);
        await waitFor(async () => (await call(primary.port, "EXISTS", "gone")) === 0, "expiry on the primary", 5000);
        assert.equal(await call(replica.port, "DBSIZE"), size, "the replica keeps the expired key");
        proxy.resume();
        await waitFor(async () => (await call(replica.port, "DBSIZE")) === size - 1, "the primary's DEL", 5000);
      } finally {
        proxy.close();
      }
    });

    await t.step("a replica cannot be replicated; a Redis primary is detected and followed", async () => {
      const r = await call(other.port, "REPLICAOF", "127.0.0.1", replica.port);
      assert.ok(r instanceof Error && /could not greet master.*Replicating a replica is unsupported/.test(r.message));
      const redis = await startRedis();
      try {
        assert.equal(await call(other.port, "REPLICAOF", "127.0.0.1", redis.port), "OK");
        await waitFor(async () => (await role(other.port))[3] === "stable_sync", "the sync with the Redis primary");
        assert.equal(await call(other.port, "DBSIZE"), 0, "the Redis primary is empty");
        assert.equal((await role(other.port))[0], "replica");
      } finally {
        assert.equal(await call(other.port, "REPLICAOF", "NO", "ONE"), "OK");
        await redis.stop();
      }
    });

    await t.step("switching primaries discards the old data; REPLICAOF inside MULTI", async () => {
      await call(other.port, "SET", "only-on-other", "1");
      const c = await RespClient.connect(replica.port);
      try {
        assert.equal(await c.call("MULTI"), "OK");
        assert.equal(await c.call("REPLICAOF", "127.0.0.1", other.port), "QUEUED");
        assert.deepEqual(await c.call("EXEC"), ["OK"]);
      } finally {
        c.close();
      }
      await waitCaughtUp(other.port, [replica.port]);
      assert.equal(await call(replica.port, "DBSIZE"), 1);
      assert.equal(await call(replica.port, "GET", "only-on-other"), "1");
      assert.deepEqual(await role(primary.port), ["master", []]);
    });

    await t.step("REPLICAOF NO ONE keeps the data and makes the node writable", async () => {
      assert.equal(await call(replica.port, "REPLICAOF", "NO", "ONE"), "OK");
      assert.equal((await role(replica.port))[0], "master");
      assert.equal(await call(replica.port, "GET", "only-on-other"), "1");
      assert.equal(await call(replica.port, "SET", "w", "1"), "OK");
      assert.equal(await call(replica.port, "REPLICAOF", "NO", "ONE"), "OK");
      assert.equal((await info(replica.port)).role, "master");
    });

    await t.step("--replicaof at startup: link down until the primary is reachable, then synced", async () => {
      const port = freePort();
      const late = await startServer([`--replicaof=127.0.0.1:${port}`]);
      try {
        const r = await info(late.port);
        assert.equal(r.role, "replica");
        assert.equal(r.master_link_status, "down");
        assert.deepEqual(await role(late.port), ["replica", "127.0.0.1", String(port), "connecting"]);
        const p = await startServer([`--port=${port}`, "--num_shards=2"]);
        try {
          await call(p.port, "SET", "k", "v");
          await waitFor(() => caughtUp(p.port, late.port), "the --replicaof replica to sync", 20_000);
          assert.equal(await call(late.port, "GET", "k"), "v");
          assert.equal(await call(late.port, "REPLICAOF", "NO", "ONE"), "OK");
          assert.equal((await role(late.port))[0], "master");
        } finally {
          await p.stop();
        }
      } finally {
        await late.stop();
      }
    });

    await t.step("LOADING during a full sync", async () => {
      const big = await startServer(["--num_shards=1"]);
      const r = await startServer(["--num_shards=1"]);
      try {
        await fillStrings(big.port, 300_000, 50);
        const client = await RespClient.connect(r.port);
        try {
          const done = call(r.port, "REPLICAOF", "127.0.0.1", big.port);
          await waitFor(async () => (await role(r.port))[3] === "full_sync", "full sync", 10_000, 1);
          assert.equal((await info(r.port)).master_sync_in_progress, "1");
          const reply = await client.call("GET", "fill:1");
          assert.ok(reply instanceof Error, "GET during the full sync");
          assert.equal(reply.message, "LOADING Dragonfly is loading the dataset in memory");
          assert.equal(await done, "OK");
          await waitState(r.port, "stable_sync");
          assert.equal(await client.call("GET", "fill:1"), "v".repeat(50));
        } finally {
          client.close();
        }
      } finally {
        await big.stop();
        await r.stop();
      }
    });
  } finally {
    await Promise.all([primary.stop(), replica.stop(), other.stop()]);
  }
});
