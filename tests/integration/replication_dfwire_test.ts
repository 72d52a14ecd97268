/**
 * Wire interop with Dragonfly 1.40, from the real byte traces in tests/fixtures/wire/:
 * - damselfly as a replica of a Dragonfly primary: a fake primary replays the recorded
 *   primary→replica bytes (control replies, both flows' RDB streams, plain and LZ4-compressed,
 *   then journal records) to a real damselfly replica, which must end with the primary's data;
 * - a Dragonfly replica of damselfly: the recorded replica→primary commands (inline, with the
 *   replid and port of this run) are sent to a real damselfly primary, whose replies must have
 *   the recorded shapes and whose flow streams must decode as a Dragonfly replica reads them.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RespClient, startServer, waitFor } from "../helpers/server.ts";
import { call, info, waitState } from "../helpers/replication.ts";
import { type DfFlowEvent, DfFlowReader } from "../../src/replication/df_flow_reader.ts";
import { shardOf } from "../../src/store/key_hash.ts";

const WIRE = new URL("../fixtures/wire/", import.meta.url).pathname;

/** Splits a byte stream of simple RESP replies (+, -, :, *) into whole replies. */
function splitReplies(bytes: Uint8Array): Uint8Array[] {
  const text = Buffer.from(bytes).toString("latin1");
  const out: Uint8Array[] = [];
  let pos = 0;
  const skip = (p: number): number => {
    const nl = text.indexOf("\r\n", p);
    if (text[p] !== "*") return nl + 2;
    let q = nl + 2;
    for (let i = 0; i < Number(text.slice(p + 1, nl)); i++) q = skip(q);
    return q;
  };
  while (pos < text.length) {
    const end = skip(pos);
    out.push(bytes.subarray(pos, end));
    pos = end;
  }
  return out;
}

/** Complete CRLF-terminated lines of an inline command stream. */
function lines(bytes: Uint8Array): string[] {
  return Buffer.from(bytes).toString("latin1").split("\r\n").filter((l) => l !== "");
}

/** A fake Dragonfly primary that replays one recorded sync. */
function fakeDragonfly(dir: string): { port: number; commands: string[]; close(): void } {
  const replies = splitReplies(Deno.readFileSync(`${dir}/conn1.primary-to-replica.bin`));
  const flows = [2, 3].map((n) => Deno.readFileSync(`${dir}/conn${n}.primary-to-replica.bin`));
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const commands: string[] = [];
  const synced = Promise.withResolvers<void>();
  const conns: Deno.Conn[] = [];
  const writeAll = async (c: Deno.Conn, b: Uint8Array) => {
    for (let off = 0; off < b.length;) off += await c.write(b.subarray(off));
  };
  const serve = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(64 * 1024);
    let pending = "";
    let replied = 0;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        pending += Buffer.from(buf.subarray(0, n)).toString("latin1");
        let nl: number;
        while ((nl = pending.indexOf("\r\n")) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 2);
          commands.push(line);
          if (line.startsWith("DFLY FLOW ")) {
            // The reply at once; the RDB and the journal once the replica sent DFLY SYNC.
            const stream = flows[Number(line.split(" ")[4])];
            await writeAll(conn, stream.subarray(0, 54));
            await synced.promise;
            await writeAll(conn, stream.subarray(54));
          } else if (line.startsWith("REPLCONF ACK ")) {
            // Flow ACKs get no reply.
          } else {
            await writeAll(conn, replies[replied++]);
            if (line.startsWith("DFLY SYNC ")) synced.resolve();
          }
        }
      }
    } catch {
      // closed
    }
  };
  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      conns.push(conn);
      void serve(conn);
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    commands,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
    },
  };
}

for (const variant of ["dragonfly-1.40-nocompression", "dragonfly-1.40"]) {
  Deno.test(`damselfly replicates a recorded Dragonfly 1.40 primary (${variant})`, async () => {
    const fake = fakeDragonfly(`${WIRE}${variant}`);
    const replica = await startServer(["--num_shards=3"]);
    try {
      assert.equal(await call(replica.port, "SET", "old", "data"), "OK");
      assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", fake.port), "OK");
      await waitState(replica.port, "stable_sync");
      // The last journal item of both flows is `SREM set <popped member>` (SPOP).
      await waitFor(async () => (await call(replica.port, "SCARD", "set")) === 1, "the journal to be applied");
      assert.deepEqual(fake.commands.filter((c) => !c.startsWith("REPLCONF ACK")).map((c) => c.split(" ")[0]), [
        "PING",
        "REPLCONF",
        "REPLCONF",
        "REPLCONF",
        "REPLCONF",
        "REPLCONF",
        "DFLY",
        "DFLY",
        "DFLY",
        "DFLY",
      ]);
      assert.ok(fake.commands.includes("REPLCONF CLIENT-VERSION 5"));
      assert.ok(fake.commands.some((c) => /^REPLCONF ACK \d+$/.test(c)), "the flows acknowledge");
      const r = await RespClient.connect(replica.port);
      try {
        assert.equal(await r.call("GET", "old"), null, "the full sync flushed the old data");
        assert.equal(await r.call("GET", "str"), null, "DEL str");
        assert.equal(await r.call("GET", "ttl"), "v");
        assert.ok((await r.call("PEXPIRETIME", "ttl") as number) > Date.now());
        assert.deepEqual(await r.call("LRANGE", "list", 0, -1), ["z", "a", "b", "c"]);
        assert.deepEqual(await r.call("HMGET", "hash", "f1", "f2"), ["v1", "v2"]);
        assert.deepEqual(await r.call("ZRANGE", "zset", 0, -1, "WITHSCORES"), ["m1", "1.5", "m2", "2"]);
        assert.deepEqual(await r.call("XRANGE", "stream", "-", "+"), [["1-1", ["k", "v"]]]);
        assert.equal(await r.call("STRLEN", "big"), 3000);
        assert.equal(await r.call("GET", "counter"), "1");
        assert.equal(await r.call("GET", "fl"), "1.5");
        assert.deepEqual(await r.call("MGET", "tx1", "tx2"), ["1", "2"]);
        // EXPIRE 1000 and SETEX 500 became absolute times (PEXPIREAT, SET PXAT) in the capture.
        assert.equal(await r.call("GET", "k1"), null);
        assert.equal(await r.call("GET", "k2"), null);
        assert.equal(await r.call("SELECT", 3), "OK");
        assert.deepEqual(await r.call("MGET", "db3", "db3b"), ["three", "x"]);
      } finally {
        r.close();
      }
      const i = await info(replica.port);
      assert.equal(i.master_link_status, "up");
      assert.equal(i.master_replid.length, 40);
      assert.ok(Number(i.slave_repl_offset) > 2);
    } finally {
      await call(replica.port, "REPLICAOF", "NO", "ONE").catch(() => {});
      fake.close();
      await replica.stop();
    }
  });
}

/** Reads a flow connection into a DfFlowReader until `until` says so. */
async function readFlow(conn: Deno.Conn, reader: DfFlowReader, until: () => boolean): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  await waitFor(
    async () => {
      if (until()) return true;
      const n = await conn.read(buf);
      if (n === null) throw new Error("flow closed");
      reader.feed(buf.subarray(0, n));
      return until();
    },
    "flow events",
    20_000,
    0,
  );
}

Deno.test("a Dragonfly 1.40 replica's commands against a damselfly primary", async () => {
  const recorded = lines(Deno.readFileSync(`${WIRE}dragonfly-1.40-nocompression/conn1.replica-to-primary.bin`));
  const recordedReplies = splitReplies(
    Deno.readFileSync(`${WIRE}dragonfly-1.40-nocompression/conn1.primary-to-replica.bin`),
  ).map((b) => Buffer.from(b).toString("latin1"));
  const primary = await startServer(["--num_shards=2"]);
  const conns: Deno.Conn[] = [];
  try {
    await call(primary.port, "SET", "before", "1");
    await call(primary.port, "RPUSH", "list", "a", "b");
    const control = await Deno.connect({ hostname: "127.0.0.1", port: primary.port });
    conns.push(control);
    const buf = new Uint8Array(4096);
    const send = async (line: string): Promise<string> => {
      await control.write(Buffer.from(line + "\r\n", "latin1"));
      const n = await control.read(buf);
      return Buffer.from(buf.subarray(0, n!)).toString("latin1");
    };
    // The handshake exactly as recorded (inline commands), up to CLIENT-VERSION.
    const shape = (s: string) => s.replace(/[0-9a-f]{40}/g, "<id>");
    let replid = "";
    let syncId = "";
    for (let i = 0; i < 6; i++) {
      const reply = await send(recorded[i].replace(/listening-port \d+/, "listening-port 16379"));
      assert.equal(shape(reply), shape(recordedReplies[i]), `reply to ${recorded[i]}`);
      const m = /^\*5\r\n\+([0-9a-f]{40})\r\n\+(SYNC\d+)\r\n:2\r\n:5\r\n\+\1\r\n$/.exec(reply);
      if (m) [replid, syncId] = [m[1], m[2]];
    }
    assert.equal(replid.length, 40, "capa dragonfly answered with the replid");
    const readers: DfFlowReader[] = [];
    const events: DfFlowEvent[][] = [[], []];
    for (let f = 0; f < 2; f++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: primary.port });
      conns.push(c);
      readers.push(new DfFlowReader((e) => events[f].push(e)));
      await c.write(Buffer.from(`DFLY FLOW ${replid} ${syncId} ${f}\r\n`, "latin1"));
      await readFlow(c, readers[f], () => readers[f].mode !== null);
      assert.equal(readers[f].mode, "FULL");
    }
    const flow = (key: string) => shardOf(key, 2);
    assert.equal(await send(`DFLY SYNC ${syncId}`), "+OK\r\n");
    await call(primary.port, "SET", "during", "2");
    for (let f = 0; f < 2; f++) await readFlow(conns[1 + f], readers[f], () => readers[f].fullSyncEnded);
    assert.equal(await send(`DFLY STARTSTABLE ${syncId}`), "+OK\r\n");
    await call(primary.port, "SET", "after", "3");
    for (let f = 0; f < 2; f++) {
      await readFlow(conns[1 + f], readers[f], () => readers[f].phase === "journal");
      await conns[1 + f].write(Buffer.from(`REPLCONF ACK ${readers[f].journalOffset}\r\n`, "latin1"));
    }
    const seen = (f: number, pred: (e: DfFlowEvent) => boolean) => events[f].some(pred);
    await readFlow(
      conns[1 + flow("after")],
      readers[flow("after")],
      () => seen(flow("after"), (e) => e.kind === "journalItem" && !e.fullSync && e.args[1] === "after"),
    );
    assert.ok(seen(flow("before"), (e) => e.kind === "entry" && e.entry.key === "before"), "snapshot has `before`");
    assert.ok(seen(flow("list"), (e) => e.kind === "entry" && e.entry.key === "list"), "snapshot has `list`");
    assert.ok(
      seen(flow("during"), (e) => e.kind === "journalItem" && e.fullSync && e.args[1] === "during"),
      "a write during the full sync comes as a JOURNAL_BLOB",
    );
    assert.ok(events.every((ev) => ev.some((e) => e.kind === "eof")), "both flows end the RDB with EOF and the token");
    assert.match((await info(primary.port)).slave0, /^ip=127\.0\.0\.1,port=16379,state=stable_sync,lag=\d+$/);
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
    await primary.stop();
  }
});
