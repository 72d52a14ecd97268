/**
 * DUMP and RESTORE: a differential run against real redis-server 7.0 (options, every error text
 * and its order, TTL forms), payload interop both ways for data of every type (DUMP on Redis →
 * RESTORE here, and back), identical payload bytes for uncompressed strings (LZF output may
 * differ), payloads Redis decodes past their end refused here, the recorded replication form
 * (relative TTL → absolute + ABSTTL, an expired REPLACE → DEL), keyspace events, a blocked
 * client woken by RESTORE, and the real clients (ioredis, node-redis, redis-cli).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { type DiffStep, runDifferential, within } from "../helpers/differential.ts";
import { dumpDataset, everyTypeCommands, FAR_EXPIRY, runPipelined } from "../helpers/dataset_dump.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { crc64 } from "../../src/rdb/crc64.ts";

/** DUMP payload of the string "hello" as Redis 7.0 makes it. */
const HELLO = "\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a";

/** `payload` with its body changed by `edit` and a recomputed (valid) CRC. */
function recrc(payload: string, edit: (body: Uint8Array) => Uint8Array): string {
  const bytes = Buffer.from(payload, "latin1");
  const body = edit(new Uint8Array(bytes.subarray(0, bytes.length - 8)));
  const crc = crc64(body);
  const out = Buffer.alloc(body.length + 8);
  out.set(body);
  out.writeBigUInt64LE(crc, body.length);
  return out.toString("latin1");
}

const badLength = recrc(HELLO, (b) => {
  b[1] = 0x06;
  return b;
});
const trailing = recrc(HELLO, (b) => {
  const out = new Uint8Array(b.length + 1);
  out.set(b.subarray(0, b.length - 2));
  out[b.length - 2] = 0x21;
  out.set(b.subarray(b.length - 2), b.length - 1);
  return out;
});
const unknownType = recrc(HELLO, (b) => {
  b[0] = 0x63;
  return b;
});
const badCrc = HELLO.slice(0, -1) + String.fromCharCode(HELLO.charCodeAt(HELLO.length - 1) ^ 1);

const DIFF_STEPS: DiffStep[] = [
  ["DUMP", "nokey"],
  ["SET", "k", "hello"],
  ["DUMP", "k"],
  ["RPUSH", "list", "a", "b", "c"],
  ["HSET", "hash", "f", "v"],
  ["RESTORE", "k", "0", HELLO],
  ["RESTORE", "k", "-1", HELLO],
  ["RESTORE", "k", "abc", HELLO],
  ["RESTORE", "new", "-1", HELLO],
  ["RESTORE", "new", "abc", HELLO],
  ["RESTORE", "new", "0", "garbage"],
  ["RESTORE", "new", "0", ""],
  ["RESTORE", "new", "0", badCrc],
  ["RESTORE", "new", "0", unknownType],
  ["RESTORE", "new", "0", HELLO, "bogus"],
  ["RESTORE", "new", "0", HELLO, "IDLETIME"],
  ["RESTORE", "new", "0", HELLO, "IDLETIME", "-1"],
  ["RESTORE", "new", "0", HELLO, "IDLETIME", "x"],
  ["RESTORE", "new", "0", HELLO, "FREQ", "256"],
  ["RESTORE", "new", "0", HELLO, "FREQ", "-1"],
  ["RESTORE", "new", "0", HELLO, "FREQ", "1", "IDLETIME", "1"],
  ["RESTORE", "new", "0", HELLO, "IDLETIME", "1", "FREQ", "1"],
  ["RESTORE", "k", "0", HELLO, "bogus", "REPLACE"],
  ["RESTORE", "new", "0", HELLO, "IDLETIME", "10"],
  ["GET", "new"],
  ["TTL", "new"],
  ["RESTORE", "new2", "0", HELLO, "FREQ", "5", "REPLACE", "REPLACE"],
  ["GET", "new2"],
  ["RESTORE", "k", "0", HELLO, "REPLACE"],
  ["RESTORE", "t", "100000", HELLO],
  { cmd: ["PTTL", "t"], norm: within(99_000, 100_000) },
  ["RESTORE", "t2", String(FAR_EXPIRY), HELLO, "ABSTTL"],
  ["PEXPIRETIME", "t2"],
  ["RESTORE", "past", "1", HELLO, "ABSTTL"],
  ["EXISTS", "past"],
  ["RESTORE", "k", "1", HELLO, "ABSTTL", "REPLACE"],
  ["EXISTS", "k"],
  ["RESTORE", "list", "0", HELLO, "REPLACE"],
  ["TYPE", "list"],
  ["GET", "list"],
  ["RESTORE", "x", "0"],
  ["DUMP"],
  ["DUMP", "a", "b"],
];

Deno.test("DUMP/RESTORE: differential against redis-server 7.0 (options, errors, TTLs)", async () => {
  const srv = await startServer();
  const redis = await startRedis();
  const a = await RespClient.connect(srv.port);
  const b = await RespClient.connect(redis.port);
  try {
    assert.deepStrictEqual(await runDifferential(a, b, DIFF_STEPS), []);
  } finally {
    a.close();
    b.close();
    await redis.stop();
    await srv.stop();
  }
});

/** Restores every key of `from` (as DUMPed there, with its absolute TTL) into `to`. */
async function copyByDumpRestore(from: number, to: number): Promise<number> {
  let copied = 0;
  const src = await RespClient.connect(from);
  const dst = await RespClient.connect(to);
  try {
    for (const db of [0, 1, 15]) {
      await src.call("SELECT", db);
      await dst.call("SELECT", db);
      const keys = (await src.call("KEYS", "*")) as string[];
      for (const k of keys) {
        const payload = (await src.call("DUMP", k)) as string;
        const at = Number(await src.call("PEXPIRETIME", k));
        const r = await dst.call("RESTORE", k, at > 0 ? at : 0, payload, ...(at > 0 ? ["ABSTTL"] : []));
        assert.equal(r, "OK", `RESTORE ${JSON.stringify(k)}: ${r}`);
        copied++;
      }
    }
  } finally {
    src.close();
    dst.close();
  }
  return copied;
}

Deno.test("DUMP/RESTORE interop: redis-server payloads restore here and ours restore there", async (t) => {
  const srv = await startServer(["--num_shards", "3"]);
  const redis = await startRedis();
  try {
    await t.step("redis-server DUMP → damselfly RESTORE", async () => {
      const c = await RespClient.connect(redis.port);
      await runPipelined(c, everyTypeCommands());
      c.close();
      const theirs = await dumpDataset(redis.port);
      assert.equal(await copyByDumpRestore(redis.port, srv.port), theirs.length);
      assert.deepStrictEqual(await dumpDataset(srv.port), theirs);
    });
    await t.step("damselfly DUMP → redis-server RESTORE", async () => {
      const ours = await dumpDataset(srv.port);
      assert.equal(await call(redis.port, "FLUSHALL"), "OK");
      assert.equal(await copyByDumpRestore(srv.port, redis.port), ours.length);
      assert.deepStrictEqual(await dumpDataset(redis.port), ours);
    });
    await t.step("string payloads are byte-identical", async () => {
      for (const v of ["hello", "12", "-2147483648", "9223372036854775807", "007", "", "x".repeat(20)]) {
        await call(srv.port, "SET", "p", v);
        await call(redis.port, "SET", "p", v);
        assert.equal(await call(srv.port, "DUMP", "p"), await call(redis.port, "DUMP", "p"), JSON.stringify(v));
      }
    });
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

async function call(port: number, ...args: (string | number)[]): Promise<Reply> {
  const c = await RespClient.connect(port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

Deno.test("RESTORE: recorded replication form and keyspace events (in-process)", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.config.setValue("notify-keyspace-events", "KEA");
  const events = () =>
    s.published.filter(([ch]) => ch.startsWith("__keyevent@")).map(([ch, key]) => `${ch.slice(11)} ${key}`);
  s.clearRecords();
  const before = Date.now();
  assert.equal(s.call("RESTORE", "k", "5000", HELLO), "+OK\r\n");
  assert.equal(s.writes.length, 1);
  const [name, key, at, payload, abs] = s.writes[0].args;
  assert.deepStrictEqual([name, key, payload, abs], ["RESTORE", "k", HELLO, "ABSTTL"]);
  assert.ok(Number(at) >= before + 5000 && Number(at) <= Date.now() + 5000, at);
  assert.deepStrictEqual(events(), ["0__:restore k"]);

  s.clearRecords();
  s.call("RESTORE", "k", "0", HELLO, "REPLACE");
  assert.deepStrictEqual(s.writes.map((w) => w.args), [["RESTORE", "k", "0", HELLO, "REPLACE"]]);
  s.clearRecords();
  s.call("RESTORE", "k2", String(FAR_EXPIRY), HELLO, "ABSTTL");
  assert.deepStrictEqual(s.writes.map((w) => w.args), [["RESTORE", "k2", String(FAR_EXPIRY), HELLO, "ABSTTL"]]);
  s.clearRecords();
  assert.equal(s.call("RESTORE", "k", "1", HELLO, "ABSTTL", "REPLACE"), "+OK\r\n");
  assert.deepStrictEqual(s.writes.map((w) => w.args), [["DEL", "k"]]);
  assert.deepStrictEqual(events(), ["0__:del k"]);
  s.clearRecords();
  assert.equal(s.call("RESTORE", "gone", "1", HELLO, "ABSTTL"), "+OK\r\n");
  assert.deepStrictEqual(s.writes, []);
  assert.deepStrictEqual(events(), []);
  assert.equal(s.call("DBSIZE"), ":1\r\n");
});

Deno.test("RESTORE wakes a client blocked on the key; real clients round-trip payloads", async () => {
  const srv = await startServer();
  const blocked = await RespClient.connect(srv.port);
  const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
  try {
    await io.connect();
    await nr.connect();
    await io.rpush("src", "x", "y");
    const payload = await io.dumpBuffer("src");
    assert.ok(payload);
    await blocked.sendCommand("BLPOP", "dst", "10");
    await waitFor(async () => (await io.info("clients")).includes("blocked_clients:1"), "BLPOP to block");
    assert.equal(await io.restore("dst", 0, payload), "OK");
    assert.deepStrictEqual(await blocked.read(), ["dst", "x"]);
    assert.deepStrictEqual(await io.lrange("dst", 0, -1), ["y"]);

    await nr.hSet("h", { a: "1", b: "2" });
    const hp = await nr.sendCommand(["DUMP", "h"], { returnBuffers: true }) as Buffer;
    assert.equal(await nr.sendCommand(["RESTORE", "h2", "0", hp]), "OK");
    assert.deepStrictEqual({ ...await nr.hGetAll("h2") }, { a: "1", b: "2" });

    assert.equal(
      await redisCli(srv.port, ["restore", "k", "0", "x"]),
      "(error) ERR DUMP payload version or checksum are wrong",
    );
    // Redis 7.0 decodes a value past its end into the footer (a string length one too long) or
    // ignores bytes after it; such payloads are corrupt, and damselfly refuses them.
    for (const bad of [badLength, trailing]) {
      assert.deepStrictEqual(await call(srv.port, "RESTORE", "corrupt", "0", bad), new Error("ERR Bad data format"));
    }
    assert.equal(await redisCli(srv.port, ["dump", "nokey"]), "(nil)");
  } finally {
    blocked.close();
    io.disconnect();
    await nr.quit().catch(() => {});
    await srv.stop();
  }
});
