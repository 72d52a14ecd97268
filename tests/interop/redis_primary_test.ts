/**
 * damselfly as a replica of Debian's real redis-server 7.0 (issue 6, first half): full sync of
 * every data type in several databases written before and during the sync (diskless `$EOF:`
 * and disk `$<len>` transfers), the stable stream (transactions, expiry, every type), byte-exact
 * offsets (damselfly's slave_repl_offset equals Redis's `offset=` for it), partial resync after
 * a link drop through a TCP proxy (Redis's sync_partial_ok grows), a full sync after a Redis
 * restart, requirepass + masterauth (also set with CONFIG SET), promotion; and bad primaries
 * (garbage, a truncated RDB, an unknown RDB type) that get a clear error and a retry while the
 * old data stays until a sync really starts.
 *
 * Every wait is bounded; comparisons are full dumps (tests/helpers/dataset_dump.ts).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type RedisProcess, startRedis } from "../helpers/redis.ts";
import { freePort, RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { call, explainFailure, info, role, startWriteLoad } from "../helpers/replication.ts";
import { dumpDataset, everyTypeCommands, runPipelined } from "../helpers/dataset_dump.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp_proxy.ts";
import { propagationTour } from "../helpers/propagation.ts";

/** Redis settings that make a full sync start at once (no 5 s diskless delay). */
const FAST_SYNC = ["--repl-diskless-sync-delay", "0"];

/** Loads the every-type data set into the server on `port`. */
async function loadEveryType(port: number): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    await runPipelined(c, everyTypeCommands());
  } finally {
    c.close();
  }
}

/** master_repl_offset of Redis, and the `offset=` it shows for its first replica (or -1). */
async function redisOffsets(port: number): Promise<{ master: number; replica: number }> {
  const r = await info(port);
  const m = /offset=(\d+)/.exec(r.slave0 ?? "");
  return { master: Number(r.master_repl_offset), replica: m ? Number(m[1]) : -1 };
}

/**
 * Waits until damselfly (on `replicaPort`) applied Redis's whole stream and Redis received the
 * ACK for it: damselfly's slave_repl_offset = Redis's master_repl_offset = Redis's `offset=`.
 */
async function waitInSync(redisPort: number, replicaPort: number, timeoutMs = 30_000): Promise<number> {
  let last = "";
  try {
    const synced = await waitFor(
      async () => {
        const [r, d] = await Promise.all([redisOffsets(redisPort), info(replicaPort)]);
        last =
          `redis master ${r.master}, redis offset= ${r.replica}, damselfly ${d.slave_repl_offset} (${d.master_link_status})`;
        const ours = Number(d.slave_repl_offset);
        return d.master_link_status === "up" && ours === r.master && r.replica === r.master ? { ours } : null;
      },
      "damselfly to apply and acknowledge Redis's whole stream",
      timeoutMs,
    );
    return synced!.ours;
  } catch (e) {
    throw new Error(`${(e as Error).message}; last: ${last}`);
  }
}

/** Asserts that both servers hold exactly the same data (full dumps). */
async function assertSameDataset(redisPort: number, replicaPort: number): Promise<void> {
  const [theirs, ours] = await Promise.all([dumpDataset(redisPort), dumpDataset(replicaPort)]);
  assert.ok(theirs.length > 0, "the primary holds data");
  assert.deepStrictEqual(ours, theirs);
}

/** INFO stats of Redis as numbers. */
async function redisStats(port: number): Promise<Record<string, number>> {
  const s = await info(port, "stats");
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number(v)]));
}

Deno.test({
  name: "damselfly replicates a real Redis 7.0 primary",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "damselfly-redis-primary-" });
    const redisPort = freePort();
    let redis: RedisProcess = await startRedis(FAST_SYNC, { port: redisPort, dir });
    const proxy: TcpProxy = startTcpProxy(redisPort);
    const replica: ServerProcess = await startServer(["--num_shards=3"]);
    try {
      await explainFailure({ replica }, async () => {
        await t.step("full sync: every type in several dbs, written before and during the sync", async () => {
          await loadEveryType(redisPort);
          await call(replica.port, "SET", "old-key", "stays until the sync starts");
          const load = startWriteLoad(redisPort, { seed: 11, dbs: 4, connections: 2 });
          await waitFor(() => load.sent() > 500, "writes on Redis before REPLICAOF");
          assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", proxy.port), "OK");
          await waitFor(async () => (await role(replica.port))[3] === "stable_sync", "stable sync", 30_000);
          const sentAtSync = load.sent();
          await waitFor(() => load.sent() > sentAtSync + 2000, "writes on Redis after the sync");
          await load.stop();
          const offset = await waitInSync(redisPort, replica.port);
          assert.ok(offset > 0);
          assert.equal(await call(replica.port, "EXISTS", "old-key"), 0, "the full sync flushed the old data");
          await assertSameDataset(redisPort, replica.port);
        });

        await t.step("INFO, ROLE and metrics of the replica", async () => {
          const r = await info(replica.port);
          const ri = await info(redisPort);
          assert.equal(r.role, "replica");
          assert.equal(r.master_host, "127.0.0.1");
          assert.equal(r.master_port, String(proxy.port));
          assert.equal(r.master_link_status, "up");
          assert.equal(r.master_sync_in_progress, "0");
          assert.equal(r.master_replid, ri.master_replid);
          assert.equal(r.slave_repl_offset, ri.master_repl_offset);
          assert.deepEqual(await role(replica.port), ["replica", "127.0.0.1", String(proxy.port), "stable_sync"]);
          const metrics = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
          assert.match(metrics, /dragonfly_replica_sync_state\{state="stable_sync"\} 1/);
          assert.match(metrics, new RegExp(`dragonfly_slave_repl_offset ${ri.master_repl_offset}\\b`));
        });

        await t.step("the stable stream: transactions, SELECT, expiry, GETACK-driven WAIT", async () => {
          const c = await RespClient.connect(redisPort);
          try {
            assert.equal(await c.call("SELECT", 5), "OK");
            assert.equal(await c.call("MULTI"), "OK");
            await c.call("SET", "tx:a", "1");
            await c.call("SELECT", 6);
            await c.call("LPUSH", "tx:l", "x", "y");
            assert.deepEqual(await c.call("EXEC"), ["OK", "OK", 2]);
            await c.call("SELECT", 0);
            await c.call("SET", "short-lived", "v", "PX", "150");
            await c.call("SETEX", "later", "1000", "v");
            await c.call("SPOP", "set:small");
            await c.call("INCRBYFLOAT", "fl", "1.5");
            // WAIT makes Redis put REPLCONF GETACK * into the stream; damselfly answers it.
            assert.equal(await c.call("WAIT", 1, 5000), 1);
          } finally {
            c.close();
          }
          await waitFor(async () => (await call(redisPort, "EXISTS", "short-lived")) === 0, "the key to expire", 5000);
          await waitInSync(redisPort, replica.port);
          assert.equal(await call(replica.port, "EXISTS", "short-lived"), 0, "the primary's DEL arrived");
          await assertSameDataset(redisPort, replica.port);
        });

        await t.step("a link drop through the proxy ends in a partial resync", async () => {
          const before = await redisStats(redisPort);
          const rBefore = await info(replica.port);
          proxy.cut(true);
          await waitFor(async () => (await info(replica.port)).master_link_status === "down", "the link down");
          await call(redisPort, "SET", "written-while-down", "1");
          await call(redisPort, "HSET", "h:small", "down", "yes");
          proxy.heal();
          await waitInSync(redisPort, replica.port);
          const after = await redisStats(redisPort);
          assert.equal(after.sync_partial_ok, before.sync_partial_ok + 1, "Redis granted a partial resync");
          assert.equal(after.sync_full, before.sync_full, "no full sync");
          const r = await info(replica.port);
          assert.equal(Number(r.psync_successes), Number(rBefore.psync_successes) + 1);
          assert.equal(await call(replica.port, "GET", "written-while-down"), "1");
          await assertSameDataset(redisPort, replica.port);
        });

        await t.step("a restarted Redis gets a full sync", async () => {
          const oldReplid = (await info(replica.port)).master_replid;
          await redis.stop();
          redis = await startRedis(FAST_SYNC, { port: redisPort, dir });
          await call(redisPort, "SET", "after-restart", "yes");
          await waitFor(async () => (await info(replica.port)).master_replid !== oldReplid, "the new replid");
          await waitInSync(redisPort, replica.port);
          assert.equal(await call(replica.port, "DBSIZE"), 1, "the replica holds the restarted Redis's data only");
          assert.equal(await call(replica.port, "GET", "after-restart"), "yes");
        });

        await t.step("every command Redis propagates is applied; an unsupported one is logged loudly", async () => {
          await call(redisPort, "SET", "to-dump", "payload");
          const payload = await call(redisPort, "DUMP", "to-dump") as string;
          const c = await RespClient.connect(redisPort);
          try {
            for (const cmd of propagationTour(payload)) {
              const r = await c.call(...cmd);
              assert.ok(!(r instanceof Error), `${cmd.join(" ")}: ${r}`);
            }
            // Script effects arrive as plain commands (two writes: wrapped in MULTI/EXEC).
            await c.call("EVAL", "redis.call('set','ev1','1') redis.call('lpush','ev2','x')", 0);
            await c.call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f1', function() return 1 end)");
            await c.call("SET", "after-function", "1");
          } finally {
            c.close();
          }
          await waitInSync(redisPort, replica.port);
          assert.match(
            replica.logs(),
            /UNSUPPORTED command "FUNCTION" in the replication stream at offset \d+ \(damselfly does not support this command\)/,
          );
          assert.doesNotMatch(replica.logs(), /replicated command .* failed/);
          assert.equal(await call(replica.port, "GET", "after-function"), "1", "the link stayed up");
          await assertSameDataset(redisPort, replica.port);
        });

        await t.step("promotion with REPLICAOF NO ONE keeps the data and accepts writes", async () => {
          await loadEveryType(redisPort);
          await waitInSync(redisPort, replica.port);
          const before = await dumpDataset(replica.port);
          assert.equal(await call(replica.port, "REPLICAOF", "NO", "ONE"), "OK");
          assert.equal((await role(replica.port))[0], "master");
          assert.deepStrictEqual(await dumpDataset(replica.port), before);
          assert.equal(await call(replica.port, "SET", "promoted", "1"), "OK");
          assert.equal(await call(replica.port, "GET", "promoted"), "1");
        });
      });
    } finally {
      proxy.close();
      await replica.stop();
      await redis.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "damselfly replicates Redis: disk ($<len>) transfer, requirepass with masterauth and masteruser",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const redis = await startRedis([...FAST_SYNC, "--repl-diskless-sync", "no", "--requirepass", "s3cret"]);
    const replica = await startServer([]);
    try {
      await explainFailure({ replica }, async () => {
        const c = await RespClient.connect(redis.port);
        try {
          assert.equal(await c.call("AUTH", "s3cret"), "OK");
          await runPipelined(c, everyTypeCommands());
        } finally {
          c.close();
        }
        await t.step("without masterauth REPLICAOF fails and changes nothing", async () => {
          const r = await call(replica.port, "REPLICAOF", "127.0.0.1", redis.port);
          assert.ok(r instanceof Error && /NOAUTH/.test(r.message), String(r));
          assert.equal((await role(replica.port))[0], "master");
        });
        await t.step("masterauth set with CONFIG SET authenticates the link; $<len> RDB loads", async () => {
          assert.equal(await call(replica.port, "CONFIG", "SET", "masterauth", "s3cret"), "OK");
          assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", redis.port), "OK");
          await waitFor(async () => (await role(replica.port))[3] === "stable_sync", "stable sync", 30_000);
          await waitFor(() => /\d+ bytes\)/.test(replica.logs()), "the length-prefixed transfer in the log");
          const c2 = await RespClient.connect(redis.port);
          try {
            await c2.call("AUTH", "s3cret");
            await c2.call("SET", "stable", "write");
            const r = await c2.call("INFO", "replication") as string;
            const master = Number(/master_repl_offset:(\d+)/.exec(r)![1]);
            await waitFor(
              async () => Number((await info(replica.port)).slave_repl_offset) === master,
              "the write applied",
            );
          } finally {
            c2.close();
          }
        });
        await t.step("masteruser: an ACL user with only +ping +replconf +psync; replica_announce_ip", async () => {
          const admin = await RespClient.connect(redis.port);
          try {
            await admin.call("AUTH", "s3cret");
            assert.equal(
              await admin.call("ACL", "SETUSER", "repl", "on", ">rpw", "+ping", "+replconf", "+psync"),
              "OK",
            );
            for (
              const [k, v] of [["masteruser", "repl"], ["masterauth", "rpw"], ["replica_announce_ip", "127.0.0.9"]]
            ) {
              assert.equal(await call(replica.port, "CONFIG", "SET", k, v), "OK");
            }
            await admin.call("CLIENT", "KILL", "TYPE", "replica");
            await waitFor(
              async () => /user=repl/.test(await admin.call("CLIENT", "LIST", "TYPE", "replica") as string),
              "the replica back as user repl",
            );
            await admin.call("SET", "as-user", "repl");
            const r = await admin.call("INFO", "replication") as string;
            assert.match(r, /slave0:ip=127\.0\.0\.9,/);
            const master = Number(/master_repl_offset:(\d+)/.exec(r)![1]);
            await waitFor(
              async () => Number((await info(replica.port)).slave_repl_offset) === master,
              "the write applied",
            );
            assert.equal(await call(replica.port, "GET", "as-user"), "repl");
            assert.match(await admin.call("INFO", "stats") as string, /sync_partial_ok:1/);
          } finally {
            admin.close();
          }
          const theirs = await dumpWithAuth(redis.port, "s3cret");
          assert.deepStrictEqual(await dumpDataset(replica.port), theirs);
        });
      });
    } finally {
      await replica.stop();
      await redis.stop();
    }
  },
});

/** dumpDataset of a Redis that requires `password` (this test's own server: its password is removed first). */
async function dumpWithAuth(port: number, password: string): Promise<Awaited<ReturnType<typeof dumpDataset>>> {
  const c = await RespClient.connect(port);
  try {
    await c.call("AUTH", password);
    await c.call("CONFIG", "SET", "requirepass", "");
    return await dumpDataset(port);
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Bad primaries

/** What a fake primary does once the replica sent PSYNC. */
type FakeBehaviour = (conn: Deno.Conn) => Promise<void>;

/**
 * A fake Redis primary: answers the handshake (+PONG, +OK for every REPLCONF) and runs
 * `onPsync` when PSYNC arrives. Counts the PSYNCs it received.
 */
function fakePrimary(onPsync: FakeBehaviour): { port: number; psyncs: () => number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let psyncs = 0;
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(16 * 1024);
        let text = "";
        try {
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) break;
            text += Buffer.from(buf.subarray(0, n)).toString("latin1");
            for (;;) {
              const cmd = takeCommand(text);
              if (cmd === null) break;
              text = cmd.rest;
              const name = cmd.args[0]?.toUpperCase();
              if (name === "PING") await conn.write(Buffer.from("+PONG\r\n"));
              else if (name === "PSYNC") {
                psyncs++;
                await onPsync(conn);
              } else if (name === "REPLCONF" && cmd.args[1]?.toUpperCase() === "ACK") continue;
              else await conn.write(Buffer.from("+OK\r\n"));
            }
          }
        } catch {
          // closed
        }
        conns.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    psyncs: () => psyncs,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

/** Splits one inline or RESP-array command off `text`; null when incomplete. */
function takeCommand(text: string): { args: string[]; rest: string } | null {
  if (text.startsWith("*")) {
    let pos = text.indexOf("\r\n");
    if (pos < 0) return null;
    const n = Number(text.slice(1, pos));
    pos += 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const end = text.indexOf("\r\n", pos);
      if (end < 0) return null;
      const len = Number(text.slice(pos + 1, end));
      if (text.length < end + 2 + len + 2) return null;
      args.push(text.slice(end + 2, end + 2 + len));
      pos = end + 2 + len + 2;
    }
    return { args, rest: text.slice(pos) };
  }
  const nl = text.indexOf("\n");
  if (nl < 0) return null;
  return { args: text.slice(0, nl).replace(/\r$/, "").split(" ").filter((a) => a !== ""), rest: text.slice(nl + 1) };
}

/** A minimal RDB 9 (design §H): foo=bar with an expiry and myset={a,b}; optionally with a bad type byte. */
function tinyRdb(unknownType = false): Uint8Array {
  const hex =
    "524544495330303039fa0e7265706c2d73747265616d2d64620130fe00fb0201fc0068e5cf8b0100000003666f6f0362617202056d797365740201610162fff1d8d40c4114c2ab";
  const bytes = Buffer.from(hex, "hex");
  if (unknownType) bytes[bytes.indexOf(Buffer.from("\x02\x05myset", "latin1"))] = 0x63;
  return new Uint8Array(bytes);
}

Deno.test({
  name: "bad Redis primaries: a clear error and a retry; the old data stays until a sync starts",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const replica = await startServer([]);
    const write = (conn: Deno.Conn, s: string | Uint8Array) =>
      conn.write(typeof s === "string" ? Buffer.from(s, "latin1") : s);
    const fullResync = "+FULLRESYNC 0123456789012345678901234567890123456789 0\r\n";
    try {
      await explainFailure({ replica }, async () => {
        await call(replica.port, "SET", "old", "data");

        await t.step("garbage instead of a PSYNC reply", async () => {
          const fake = fakePrimary(async (conn) => {
            await write(conn, "\n\nhello there, I am not Redis\r\n");
            conn.close();
          });
          try {
            assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", fake.port), "OK");
            await waitFor(() => fake.psyncs() >= 2, "a retry");
            assert.match(replica.logs(), /unexpected PSYNC reply "hello there, I am not Redis"/);
            assert.equal(await call(replica.port, "GET", "old"), "data", "nothing was flushed");
          } finally {
            fake.close();
          }
        });

        await t.step("garbage instead of the payload header", async () => {
          const fake = fakePrimary(async (conn) => {
            await write(conn, fullResync + "\n\n#### not a bulk header\r\n");
            conn.close();
          });
          try {
            assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", fake.port), "OK");
            await waitFor(() => fake.psyncs() >= 2, "a retry");
            assert.match(replica.logs(), /bad payload header "#### not a bulk header"/);
            assert.equal(await call(replica.port, "GET", "old"), "data", "nothing was flushed");
          } finally {
            fake.close();
          }
        });

        await t.step("a truncated RDB", async () => {
          const rdb = tinyRdb();
          const fake = fakePrimary(async (conn) => {
            await write(conn, `${fullResync}$${rdb.length}\r\n`);
            await write(conn, rdb.subarray(0, 30));
            conn.close();
          });
          try {
            assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", fake.port), "OK");
            await waitFor(() => fake.psyncs() >= 2, "a retry");
            assert.match(replica.logs(), /connection lost during the full sync, after 30 bytes of the RDB/);
            assert.equal((await role(replica.port))[3] === "stable_sync", false);
          } finally {
            fake.close();
          }
        });

        await t.step("an unknown RDB type", async () => {
          const rdb = tinyRdb(true);
          const mark = "m".repeat(40);
          const fake = fakePrimary(async (conn) => {
            await write(conn, `${fullResync}$EOF:${mark}\r\n`);
            await write(conn, rdb);
            await write(conn, mark);
          });
          try {
            assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", fake.port), "OK");
            await waitFor(() => fake.psyncs() >= 2, "a retry");
            assert.match(replica.logs(), /replication stopped: RDB error at offset \d+.*type/i);
          } finally {
            fake.close();
          }
        });

        await t.step("a good fake primary: both RDB forms load, then the stream applies", async () => {
          const rdb = tinyRdb();
          const mark = "0123456789abcdef0123456789abcdef01234567";
          const fake = fakePrimary(async (conn) => {
            await write(conn, `\n\n${fullResync}\n$EOF:${mark}\r\n`);
            await write(conn, rdb);
            await write(conn, mark + "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n");
          });
          try {
            assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", fake.port), "OK");
            await waitFor(async () => (await call(replica.port, "GET", "k1")) === "v1", "the streamed SET");
            assert.deepEqual((await call(replica.port, "SMEMBERS", "myset") as string[]).sort(), ["a", "b"]);
            assert.equal(
              await call(replica.port, "DBSIZE"),
              3,
              "an expired key is kept on a replica (the primary's DEL removes it)",
            );
            assert.equal(Number((await info(replica.port)).slave_repl_offset), 23 + 29);
          } finally {
            fake.close();
          }
        });
      });
    } finally {
      await replica.stop();
    }
  },
});
