/**
 * Graceful shutdown of real processes: SIGTERM under a write load (every write a client saw
 * acknowledged is in the snapshot, checked after a restart, and in the connected replica;
 * the process exits 0), SIGINT with a blocked client and an open HTTP connection, and a second
 * signal that exits at once while the first shutdown waits for a stopped replica.
 */
import assert from "node:assert/strict";
import { type Reply, RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { call, explainFailure, waitCaughtUp } from "../helpers/replication.ts";
import { HttpConnection } from "../helpers/http.ts";

/** Waits for the process to exit on its own (no kill), within `timeoutMs`. */
async function exitStatus(p: ServerProcess, timeoutMs: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p.child.status, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the writers saw acknowledged: key → value, and the largest INCR reply. */
interface Acknowledged {
  keys: Map<string, string>;
  maxCounter: number;
  /** Unexpected replies (anything but the acknowledgements). */
  problems: string[];
}

/**
 * One writer: pipelines of SET w<id>:<seq> <seq> plus INCR counter, recording each reply
 * as it arrives, until the server closes the connection (bounded by `maxWrites`).
 */
async function writer(port: number, id: number, ack: Acknowledged, maxWrites: number): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    for (let seq = 0; seq < maxWrites;) {
      const batch: string[] = [];
      try {
        for (let i = 0; i < 10; i++, seq++) {
          await c.sendCommand("SET", `w${id}:${seq}`, String(seq));
          await c.sendCommand("INCR", "counter");
          batch.push(`w${id}:${seq}`);
        }
      } catch {
        return; // the server went away while we were sending
      }
      for (const key of batch) {
        let set: Reply;
        let incr: Reply;
        try {
          set = await c.read(20_000);
          incr = await c.read(20_000);
        } catch (e) {
          if ((e as Error).message === "connection closed") return;
          throw e;
        }
        if (set !== "OK" || typeof incr !== "number") {
          ack.problems.push(`${key}: ${String(set)} / ${String(incr)}`);
          return;
        }
        ack.keys.set(key, key.slice(key.indexOf(":") + 1));
        ack.maxCounter = Math.max(ack.maxCounter, incr);
      }
    }
  } finally {
    c.close();
  }
}

/** Asserts that every acknowledged write is on the server at `port`. */
async function assertHasAcknowledged(port: number, ack: Acknowledged, who: string): Promise<void> {
  const keys = [...ack.keys.keys()];
  const c = await RespClient.connect(port);
  try {
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const values = await c.call("MGET", ...chunk) as (string | null)[];
      chunk.forEach((k, j) => assert.equal(values[j], ack.keys.get(k), `${who}: acknowledged ${k} missing`));
    }
    const counter = Number(await c.call("GET", "counter"));
    assert.ok(counter >= ack.maxCounter, `${who}: counter ${counter} < acknowledged ${ack.maxCounter}`);
  } finally {
    c.close();
  }
}

Deno.test("SIGTERM under a write load: acknowledged writes are in the snapshot and in the replica", async () => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-shutdown-" });
  const flags = [`--dir=${dir}`, "--dbfilename=dump.rdb", "--num_shards=2"];
  const primary = await startServer(flags);
  const replica = await startServer(["--num_shards=2", `--replicaof=127.0.0.1:${primary.port}`]);
  let restarted: ServerProcess | null = null;
  try {
    await explainFailure({ primary, replica }, async () => {
      await waitCaughtUp(primary.port, [replica.port], 30_000);
      const ack: Acknowledged = { keys: new Map(), maxCounter: 0, problems: [] };
      const writers = [0, 1, 2].map((id) => writer(primary.port, id, ack, 50_000));
      await waitFor(() => ack.keys.size >= 3000, "3000 acknowledged writes", 30_000, 5);
      primary.child.kill("SIGTERM");
      const status = await exitStatus(primary, 30_000);
      await Promise.all(writers);
      assert.deepEqual(ack.problems, []);
      assert.equal(status.code, 0);
      assert.match(primary.logs(), /SIGTERM received: shutting down gracefully/);
      assert.match(primary.logs(), /DB saved on disk/);
      assert.match(primary.logs(), /shutdown complete/);

      await assertHasAcknowledged(replica.port, ack, "replica");

      restarted = await startServer(flags);
      await assertHasAcknowledged(restarted.port, ack, "restarted primary");
      // Beyond them, at most the writes of the pipelines in flight (10 per writer) may be there.
      assert.ok(await extraKeys(restarted.port, ack) <= 30);
    });
  } finally {
    await (restarted as ServerProcess | null)?.stop();
    await replica.stop();
    await primary.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** Keys on the server beyond the acknowledged ones (writes executed whose replies were lost). */
async function extraKeys(port: number, ack: Acknowledged): Promise<number> {
  const c = await RespClient.connect(port);
  try {
    let extra = 0;
    let cursor = "0";
    do {
      const [next, keys] = await c.call("SCAN", cursor, "COUNT", 1000) as [string, string[]];
      for (const k of keys) if (k !== "counter" && !ack.keys.has(k)) extra++;
      cursor = next;
    } while (cursor !== "0");
    return extra;
  } finally {
    c.close();
  }
}

Deno.test("SIGINT with a blocked client and an open HTTP connection: snapshot saved, exit 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-shutdown-" });
  const flags = [`--dir=${dir}`, "--dbfilename=snap.rdb"];
  const srv = await startServer(flags);
  let restarted: ServerProcess | null = null;
  const blocked = await RespClient.connect(srv.port);
  const http = await HttpConnection.connect(srv.port);
  try {
    assert.equal(await call(srv.port, "SET", "kept", "yes"), "OK");
    await blocked.sendCommand("BLPOP", "nothing", 0);
    await http.request("GET", "/healthz");
    assert.equal((await http.read()).status, 200);
    await waitFor(async () => String(await call(srv.port, "CLIENT", "LIST")).includes("cmd=blpop"), "BLPOP to block");
    srv.child.kill("SIGINT");
    const status = await exitStatus(srv, 20_000);
    assert.equal(status.code, 0);
    await blocked.waitClosed();
    await http.waitClosed();
    restarted = await startServer(flags);
    assert.equal(await call(restarted.port, "GET", "kept"), "yes");
  } finally {
    blocked.close();
    await http.close();
    await (restarted as ServerProcess | null)?.stop();
    await srv.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a second signal exits at once while the first shutdown waits for a stopped replica", async () => {
  const primary = await startServer(["--num_shards=2"]);
  const replica = await startServer(["--num_shards=2", `--replicaof=127.0.0.1:${primary.port}`]);
  let stopped = false;
  try {
    await explainFailure({ primary, replica }, async () => {
      await waitCaughtUp(primary.port, [replica.port], 30_000);
      Deno.kill(replica.child.pid, "SIGSTOP");
      stopped = true;
      for (let i = 0; i < 20; i++) assert.equal(await call(primary.port, "SET", `lagging:${i}`, "v"), "OK");
      primary.child.kill("SIGTERM");
      await waitFor(() => primary.logs().includes("shutting down (signal"), "the graceful shutdown to start");
      // The listener is closed: new clients are refused while the shutdown waits.
      await assert.rejects(
        () => Deno.connect({ hostname: "127.0.0.1", port: primary.port }),
        Deno.errors.ConnectionRefused,
      );
      const started = Date.now();
      primary.child.kill("SIGTERM");
      const status = await exitStatus(primary, 5_000);
      assert.equal(status.code, 1);
      assert.ok(Date.now() - started < 5_000);
      assert.match(primary.logs(), /SIGTERM received again: exiting at once/);
    });
  } finally {
    if (stopped) Deno.kill(replica.child.pid, "SIGCONT");
    await replica.stop();
    await primary.stop();
  }
});
