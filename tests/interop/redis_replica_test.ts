/**
 * damselfly as a primary for stock Redis tools (issue 6, second half), with Debian's real
 * redis-server 7.0 and redis-cli: a `redis-server --replicaof <damselfly>` holds exactly
 * damselfly's data after the full sync (every type, several databases, writes during the sync)
 * and under stable writes, resyncs partially after a link drop through a TCP proxy (and fully
 * when the backlog no longer holds its offset); WAIT, ROLE, INFO and /metrics count it;
 * `redis-cli --rdb` writes a file redis-server loads; `redis-cli --replica` shows the stream; a
 * replica without `capa eof` gets a `$<len>` payload; a replica that refuses RDB 10 gets 9.
 *
 * Every wait is bounded; comparisons are full dumps (tests/helpers/dataset_dump.ts).
 */
import assert from "node:assert/strict";
import { type RedisProcess, startRedis } from "../helpers/redis.ts";
import { RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { call, explainFailure, info, role, startWriteLoad } from "../helpers/replication.ts";
import { dumpDataset, everyTypeCommands, runPipelined } from "../helpers/dataset_dump.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";
import { propagationTour } from "../helpers/propagation.ts";

/** damselfly's master_repl_offset and the `offset=` of its first Redis replica. */
async function primaryOffsets(port: number): Promise<{ master: number; acked: number }> {
  const r = await info(port);
  const line = Object.entries(r).find(([k, v]) => /^slave\d+$/.test(k) && v.includes("offset="));
  const m = line ? /offset=(\d+)/.exec(line[1]) : null;
  return { master: Number(r.master_repl_offset ?? -1), acked: m ? Number(m[1]) : -1 };
}

/** Waits until the Redis replica applied and acknowledged damselfly's whole stream. */
async function waitInSync(primaryPort: number, replicaPort: number, timeoutMs = 30_000): Promise<void> {
  let last = "";
  try {
    await waitFor(
      async () => {
        const [p, r] = await Promise.all([primaryOffsets(primaryPort), info(replicaPort)]);
        last =
          `damselfly ${p.master} (acked ${p.acked}), redis replica ${r.slave_repl_offset} (${r.master_link_status})`;
        return r.master_link_status === "up" && Number(r.slave_repl_offset) === p.master && p.acked === p.master;
      },
      "the Redis replica to apply and acknowledge damselfly's whole stream",
      timeoutMs,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last: ${last}`);
  }
}

async function assertSameDataset(primaryPort: number, replicaPort: number): Promise<void> {
  const [ours, theirs] = await Promise.all([dumpDataset(primaryPort), dumpDataset(replicaPort)]);
  assert.ok(ours.length > 0, "the primary holds data");
  assert.deepStrictEqual(theirs, ours);
}

/** INFO stats of damselfly as numbers. */
async function stats(port: number): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await info(port, "stats")).map(([k, v]) => [k, Number(v)]));
}

Deno.test({
  name: "a real redis-server replicates damselfly",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const primary: ServerProcess = await startServer(["--num_shards=3"]);
    const proxy = startTcpProxy(primary.port);
    const logDir = await Deno.makeTempDir({ prefix: "damselfly-redis-replica-" });
    const replicaLog = `${logDir}/replica.log`;
    let replica: RedisProcess | null = null;
    try {
      await explainFailure({ primary }, async () => {
        await t.step("full sync: every type in several dbs, written before and during the sync", async () => {
          const c = await RespClient.connect(primary.port);
          try {
            await runPipelined(c, everyTypeCommands());
          } finally {
            c.close();
          }
          const load = startWriteLoad(primary.port, { seed: 5, dbs: 4, connections: 2 });
          await waitFor(() => load.sent() > 500, "writes before the replica connects");
          replica = await startRedis(["--replicaof", "127.0.0.1", String(proxy.port), "--logfile", replicaLog]);
          await waitFor(async () => (await info(replica!.port)).master_link_status === "up", "the link up", 30_000);
          const sentAtSync = load.sent();
          await waitFor(() => load.sent() > sentAtSync + 2000, "writes after the sync");
          await load.stop();
          await waitInSync(primary.port, replica.port);
          await assertSameDataset(primary.port, replica.port);
          assert.match(await Deno.readTextFile(replicaLog), /MASTER <-> REPLICA sync: Finished with success/);
        });

        await t.step("INFO, ROLE, WAIT and /metrics count the Redis replica", async () => {
          const r = await info(primary.port);
          assert.equal(r.connected_slaves, "1");
          assert.match(r.slave0, /^ip=127\.0\.0\.1,port=\d+,state=stable_sync,offset=\d+,lag=0$/);
          assert.equal(r.master_replid, (await info(replica!.port)).master_replid);
          assert.equal(r.repl_backlog_active, "1");
          assert.equal(r.repl_backlog_size, "1048576");
          const port = /port=(\d+)/.exec(r.slave0)![1];
          assert.deepEqual(await role(primary.port), ["master", [["127.0.0.1", port, "stable_sync"]]]);
          await call(primary.port, "SET", "waited", "1");
          assert.equal(await call(primary.port, "WAIT", 1, 5000), 1);
          const metrics = await (await fetch(`http://127.0.0.1:${primary.port}/metrics`)).text();
          assert.match(
            metrics,
            new RegExp(
              `dragonfly_connected_replica_lag_records\\{replica_ip="127.0.0.1", replica_port="${port}", replica_state="stable_sync"\\} \\d+`,
            ),
          );
        });

        await t.step("a damselfly replica and the Redis replica side by side in INFO, ROLE and /metrics", async () => {
          const df = await startServer([]);
          try {
            assert.equal(await call(df.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
            await waitFor(
              async () => (await role(df.port))[3] === "stable_sync",
              "the damselfly replica in stable sync",
            );
            const r = await info(primary.port);
            assert.equal(r.connected_slaves, "2");
            assert.match(r.slave0, /^ip=127\.0\.0\.1,port=\d+,state=stable_sync,lag=\d+$/, "the damselfly replica");
            assert.match(
              r.slave1,
              /^ip=127\.0\.0\.1,port=\d+,state=stable_sync,offset=\d+,lag=\d+$/,
              "the Redis replica",
            );
            assert.equal(((await role(primary.port))[1] as unknown[]).length, 2);
            await call(primary.port, "SET", "both", "replicas");
            assert.equal(await call(primary.port, "WAIT", 2, 5000), 2);
            await waitFor(async () => (await call(df.port, "GET", "both")) === "replicas", "the damselfly copy");
            assert.equal(await call(replica!.port, "GET", "both"), "replicas");
            const metrics = await (await fetch(`http://127.0.0.1:${primary.port}/metrics`)).text();
            assert.equal(metrics.match(/^dragonfly_connected_replica_lag_records\{/gm)?.length, 2);
          } finally {
            await df.stop();
          }
          await waitFor(async () => (await info(primary.port)).connected_slaves === "1", "the damselfly replica gone");
        });

        await t.step("PUBLISH on damselfly reaches subscribers of the Redis replica", async () => {
          const sub = await RespClient.connect(replica!.port);
          try {
            assert.deepEqual(await sub.call("SUBSCRIBE", "news"), ["subscribe", "news", 1]);
            await call(primary.port, "PUBLISH", "news", "hello from damselfly");
            assert.deepEqual(await sub.read(10_000), ["message", "news", "hello from damselfly"]);
          } finally {
            sub.close();
          }
          await waitInSync(primary.port, replica!.port);
        });

        await t.step("the stable stream stays exact (transactions, expiry, every type)", async () => {
          const c = await RespClient.connect(primary.port);
          try {
            await c.call("SELECT", 3);
            assert.equal(await c.call("MULTI"), "OK");
            await c.call("SET", "tx:a", "1");
            await c.call("SELECT", 7);
            await c.call("RPUSH", "tx:l", "x", "y");
            assert.deepEqual(await c.call("EXEC"), ["OK", "OK", 2]);
            await c.call("SET", "short-lived", "v", "PX", "100");
          } finally {
            c.close();
          }
          const load = startWriteLoad(primary.port, { seed: 6, dbs: 4, connections: 2 });
          await waitFor(() => load.sent() > 3000, "stable writes");
          await load.stop();
          await waitFor(async () => {
            const c2 = await RespClient.connect(primary.port);
            try {
              await c2.call("SELECT", 7);
              return (await c2.call("EXISTS", "short-lived")) === 0;
            } finally {
              c2.close();
            }
          }, "the short-lived key to expire on damselfly");
          await waitInSync(primary.port, replica!.port);
          await assertSameDataset(primary.port, replica!.port);
        });

        await t.step("Redis accepts damselfly's propagated form of every write", async () => {
          await call(primary.port, "SET", "to-dump", "payload");
          const payload = await call(primary.port, "DUMP", "to-dump") as string;
          const c = await RespClient.connect(primary.port);
          try {
            for (const cmd of propagationTour(payload)) {
              const r = await c.call(...cmd);
              assert.ok(!(r instanceof Error), `${cmd.join(" ")}: ${r}`);
            }
          } finally {
            c.close();
          }
          await waitInSync(primary.port, replica!.port);
          await assertSameDataset(primary.port, replica!.port);
          // Redis 7 logs every error its master's stream caused ("== CRITICAL ==").
          assert.doesNotMatch(await Deno.readTextFile(replicaLog), /CRITICAL/);
        });

        await t.step("a link drop through the proxy ends in a partial resync", async () => {
          const before = await stats(primary.port);
          const replid = (await info(replica!.port)).master_replid;
          proxy.cut(true);
          await waitFor(async () => (await info(replica!.port)).master_link_status === "down", "the link down");
          await call(primary.port, "SET", "written-while-down", "1");
          await call(primary.port, "LPUSH", "l:small", "while-down");
          proxy.heal();
          await waitInSync(primary.port, replica!.port);
          const after = await stats(primary.port);
          assert.equal(after.sync_partial_ok, before.sync_partial_ok + 1, "a partial resync was served");
          assert.equal(after.sync_full, before.sync_full, "no full sync");
          assert.equal((await info(replica!.port)).master_replid, replid);
          assert.match(await Deno.readTextFile(replicaLog), /Successful partial resynchronization with master/);
          await assertSameDataset(primary.port, replica!.port);
        });

        await t.step("an offset the backlog no longer holds gets a full resync", async () => {
          assert.equal(await call(primary.port, "CONFIG", "SET", "repl-backlog-size", "16384"), "OK");
          const before = await stats(primary.port);
          proxy.cut(true);
          await waitFor(async () => (await info(replica!.port)).master_link_status === "down", "the link down");
          const c = await RespClient.connect(primary.port);
          try {
            for (let i = 0; i < 100; i++) await c.sendCommand("SET", `big:${i}`, "x".repeat(1000));
            for (let i = 0; i < 100; i++) await c.read();
          } finally {
            c.close();
          }
          assert.equal((await info(primary.port)).repl_backlog_histlen, "16384");
          proxy.heal();
          await waitInSync(primary.port, replica!.port);
          const after = await stats(primary.port);
          assert.equal(after.sync_partial_err, before.sync_partial_err + 1);
          assert.equal(after.sync_full, before.sync_full + 1);
          await assertSameDataset(primary.port, replica!.port);
        });

        await t.step("redis-cli --rdb writes a file that redis-server loads", async () => {
          const path = `${logDir}/cli.rdb`;
          const out = await new Deno.Command("redis-cli", {
            args: ["-h", "127.0.0.1", "-p", String(primary.port), "--rdb", path],
            stdout: "piped",
            stderr: "piped",
          }).output();
          assert.ok(out.success, new TextDecoder().decode(out.stderr));
          assert.match(
            new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout),
            /Transfer finished with success/,
          );
          const loaded = await startRedis(["--dbfilename", "cli.rdb", "--dir", logDir]);
          try {
            assert.deepStrictEqual(await dumpDataset(loaded.port), await dumpDataset(primary.port));
          } finally {
            await loaded.stop();
          }
        });

        await t.step("redis-cli --replica shows the command stream", async () => {
          const child = new Deno.Command("redis-cli", {
            args: ["-h", "127.0.0.1", "-p", String(primary.port), "--replica"],
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          // redis-cli reports its progress on stderr and prints the stream on stdout.
          let out = "";
          const collect = async (s: ReadableStream<Uint8Array>) => {
            const dec = new TextDecoder();
            for await (const chunk of s) out += dec.decode(chunk);
          };
          const pump = collect(child.stdout);
          const errPump = collect(child.stderr);
          try {
            await waitFor(() => /Logging commands from master/.test(out), "redis-cli to finish its SYNC", 10_000);
            await call(primary.port, "SET", "seen-by-cli", "42");
            await waitFor(() => /"set","seen-by-cli","42"/i.test(out), "the SET in redis-cli's output", 10_000);
          } finally {
            child.kill("SIGKILL");
            await child.status;
            await pump.catch(() => {});
            await errPump.catch(() => {});
          }
        });
      });
    } finally {
      proxy.close();
      if (replica !== null) await (replica as RedisProcess).stop();
      await primary.stop();
      await Deno.remove(logDir, { recursive: true }).catch(() => {});
    }
  },
});

/** Reads from `c` until `pattern` matches the received text (latin1). */
async function readUntil(c: RespClient, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  await waitFor(() => pattern.test(c.pending()), `${pattern} from the primary`, timeoutMs, 5);
  return c.pending();
}

Deno.test({
  name: "damselfly as a Redis primary: $<len> payloads, RDB version fallback, REPLCONF",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const primary = await startServer([]);
    try {
      await explainFailure({ primary }, async () => {
        await call(primary.port, "SET", "k", "v");

        await t.step("REPLCONF options of stock replicas and redis-cli", async () => {
          const c = await RespClient.connect(primary.port);
          try {
            assert.equal(await c.call("REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2"), "OK");
            assert.equal(await c.call("REPLCONF", "rdb-only", "1"), "OK");
            assert.equal(
              (await c.call("REPLCONF", "rdb-only", "5") as Error).message,
              "ERR value is out of range, value must between 0 and 1",
            );
            assert.equal(
              (await c.call("REPLCONF", "rdb-only", "x") as Error).message,
              "ERR value is not an integer or out of range",
            );
            assert.equal(await c.call("REPLCONF", "rdb-filter-only", "functions"), "OK");
            assert.equal(
              (await c.call("REPLCONF", "rdb-filter-only", "x") as Error).message,
              "ERR Unsupported rdb-filter-only option: x",
            );
            // ACK and GETACK are never answered.
            await c.sendCommand("REPLCONF", "ACK", "5", "FACK", "4");
            await c.sendCommand("REPLCONF", "GETACK", "*");
            assert.equal(await c.call("PING"), "PONG");
          } finally {
            c.close();
          }
        });

        await t.step("a replica without capa eof gets +FULLRESYNC, $<len>, the RDB, then the stream", async () => {
          const c = await RespClient.connect(primary.port);
          try {
            assert.equal(await c.call("REPLCONF", "listening-port", "7001"), "OK");
            await c.sendCommand("PSYNC", "?", "-1");
            const head = await readUntil(c, /^\+FULLRESYNC [0-9a-f]{40} \d+\r\n\n*\$\d+\r\n/);
            const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n(\n*)\$(\d+)\r\n/.exec(head)!;
            const skip = m[0].length;
            const len = Number(m[4]);
            await c.readRaw(skip);
            const rdb = await c.readRaw(len);
            assert.equal(rdb.slice(0, 9), "REDIS0010");
            assert.equal(rdb.charCodeAt(len - 9), 0xff, "EOF opcode then the CRC");
            await call(primary.port, "SET", "after", "sync");
            const stream = await readUntil(c, /after\r\n\$4\r\nsync\r\n/);
            assert.equal(stream, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$4\r\nsync\r\n");
          } finally {
            c.close();
          }
        });

        await t.step("a replica that drops the link after RDB 10 without an ACK gets RDB 9", async () => {
          const attempt = async (): Promise<string> => {
            const c = await RespClient.connect(primary.port);
            try {
              assert.equal(await c.call("REPLCONF", "listening-port", "7002"), "OK");
              assert.equal(await c.call("REPLCONF", "capa", "eof", "capa", "psync2"), "OK");
              await c.sendCommand("PSYNC", "?", "-1");
              // Nothing follows the EOF mark until an ACK: the text ends with the mark once the RDB is in.
              const complete = () => {
                const m = /\$EOF:([0-9a-f]{40})\r\n/.exec(c.pending());
                return m !== null && c.pending().length > m.index + m[0].length + 40 && c.pending().endsWith(m[1]);
              };
              await waitFor(complete, "the whole diskless RDB and its mark");
              return /\$EOF:[0-9a-f]{40}\r\nREDIS(\d{4})/.exec(c.pending())![1];
            } finally {
              c.close();
            }
          };
          assert.equal(await attempt(), "0010");
          await waitFor(
            () => /without acknowledging it; its next full sync gets version 9/.test(primary.logs()),
            "the refusal noted",
          );
          assert.equal(await attempt(), "0009");
        });

        await t.step("PSYNC and SYNC are refused on a replica", async () => {
          const other = await startServer([]);
          try {
            assert.equal(await call(other.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
            await waitFor(async () => (await role(other.port))[3] === "stable_sync", "the replica in stable sync");
            assert.equal(
              (await call(other.port, "PSYNC", "?", "-1") as Error).message,
              "ERR Replicating a replica is unsupported",
            );
            assert.equal((await call(other.port, "SYNC") as Error).message, "ERR Replicating a replica is unsupported");
          } finally {
            await other.stop();
          }
        });
      });
    } finally {
      await primary.stop();
    }
  },
});

Deno.test({
  name: "failover between damselfly and Redis continues with partial resyncs both ways",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const damselfly = await startServer([]);
    const redisStats = async (port: number) =>
      Object.fromEntries(Object.entries(await info(port, "stats")).map(([k, v]) => [k, Number(v)]));
    let redis: RedisProcess | null = null;
    let sibling: RedisProcess | null = null;
    try {
      await explainFailure({ damselfly }, async () => {
        await t.step("a demoted damselfly continues from its promoted Redis replica (replid2)", async () => {
          await call(damselfly.port, "SET", "a", "1");
          redis = await startRedis([
            "--replicaof",
            "127.0.0.1",
            String(damselfly.port),
            "--repl-diskless-sync-delay",
            "0",
          ]);
          await waitInSync(damselfly.port, redis.port);
          assert.equal(await call(redis.port, "REPLICAOF", "NO", "ONE"), "OK");
          await call(redis.port, "SET", "b", "2");
          assert.equal(await call(damselfly.port, "REPLICAOF", "127.0.0.1", redis.port), "OK");
          await waitFor(async () => (await call(damselfly.port, "GET", "b")) === "2", "the promoted Redis's write");
          const s = await redisStats(redis.port);
          assert.equal(s.sync_partial_ok, 1, "the promoted Redis served a partial resync");
          assert.equal(s.sync_full, 0);
        });

        await t.step("a promoted damselfly serves its Redis sibling a partial resync (replid2)", async () => {
          sibling = await startRedis(["--replicaof", "127.0.0.1", String((redis as RedisProcess).port)]);
          await call(redis!.port, "SET", "c", "3");
          await waitFor(async () => {
            const [d, s] = await Promise.all([info(damselfly.port), info(sibling!.port)]);
            return (await call(damselfly.port, "GET", "c")) === "3" && d.slave_repl_offset === s.slave_repl_offset;
          }, "damselfly and its sibling at the same offset");
          const before = await stats(damselfly.port);
          assert.equal(await call(damselfly.port, "REPLICAOF", "NO", "ONE"), "OK");
          const r = await info(damselfly.port);
          assert.equal(r.master_replid2, (await info(sibling!.port)).master_replid);
          assert.equal(await call(sibling!.port, "REPLICAOF", "127.0.0.1", damselfly.port), "OK");
          await call(damselfly.port, "SET", "d", "4");
          await waitFor(async () => (await call(sibling!.port, "GET", "d")) === "4", "the new primary's write");
          const after = await stats(damselfly.port);
          assert.equal(after.sync_partial_ok, before.sync_partial_ok + 1);
          assert.equal(after.sync_full, before.sync_full);
          await assertSameDataset(damselfly.port, sibling!.port);
        });
      });
    } finally {
      if (sibling !== null) await (sibling as RedisProcess).stop();
      if (redis !== null) await (redis as RedisProcess).stop();
      await damselfly.stop();
    }
  },
});
