/**
 * RDB and DUMP interop with the real redis-server 7.0.15:
 * - our v10 and v9 files (every type) are loaded by redis-server, which then holds exactly our data;
 * - redis-server's own SAVE output (of our data, and of data built with commands) reads back equal
 *   to what redis-server reports;
 * - DUMP payloads from redis-server decode, ours RESTORE there, and both sides reject bad payloads
 *   with the same error text.
 */
import assert from "node:assert/strict";
import type { RdbWriteVersion } from "../../src/rdb/constants.ts";
import { createDumpPayload, DumpPayloadError, parseDumpPayload } from "../../src/rdb/dump_payload.ts";
import { readRdbFile } from "../../src/rdb/reader.ts";
import type { RdbEntry, RdbRecord } from "../../src/rdb/records.ts";
import { RdbWriter } from "../../src/rdb/writer.ts";
import { type RedisProcess, startRedis } from "../helpers/redis.ts";
import { type Reply, RespClient } from "../helpers/server.ts";
import {
  assertEquals,
  type Canon,
  canonDataset,
  canonValue,
  entriesOf,
  expectedAfter,
  sampleEntries,
} from "./rdb_testlib.ts";

const FUNCTION_CODE = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)";

/** Writes the sample data set as an RDB file of `version`. */
async function writeSampleRdb(path: string, version: RdbWriteVersion, entries: RdbEntry[]): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const pending: Uint8Array[] = [];
  const w = new RdbWriter((c) => pending.push(c), { version, chunkSize: 16 * 1024 });
  w.writeHeader({ redisVer: "7.0.15", usedMem: 1 << 20 });
  if (version >= 10) w.writeFunction(FUNCTION_CODE);
  for (const db of [...new Set(entries.map((e) => e.db))]) {
    const inDb = entries.filter((e) => e.db === db);
    w.selectDb(db, inDb.length, inDb.filter((e) => e.expireAtMs !== undefined).length);
    for (const e of inDb) {
      w.writeEntry(e);
      while (pending.length > 0) await file.write(pending.shift()!);
    }
  }
  w.end();
  for (const c of pending) {
    let off = 0;
    while (off < c.length) off += await file.write(c.subarray(off));
  }
  file.close();
}

/** Starts redis-server on `dir/dbfilename`, with its log kept for failure messages. */
async function redisOn(dir: string, dbfilename: string): Promise<RedisProcess> {
  try {
    return await startRedis(["--dir", dir, "--dbfilename", dbfilename, "--logfile", `${dir}/redis.log`]);
  } catch (e) {
    const log = await Deno.readTextFile(`${dir}/redis.log`).catch(() => "(no log)");
    throw new Error(`redis-server did not start on ${dbfilename}: ${e}\n${log.slice(-3000)}`);
  }
}

function flat(reply: Reply): Map<string, Reply> {
  const m = new Map<string, Reply>();
  const a = reply as Reply[];
  for (let i = 0; i < a.length; i += 2) m.set(a[i] as string, a[i + 1]);
  return m;
}

function redisScore(s: string): string {
  return String(s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s));
}

const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const toLatin1 = (b: Uint8Array) => Array.from(b, (x) => String.fromCharCode(x)).join("");

/** Canonical form of one key as redis-server reports it through commands. */
async function redisKey(c: RespClient, db: number, key: string): Promise<Canon> {
  const type = await c.call("TYPE", key) as string;
  const pexp = await c.call("PEXPIRETIME", key) as number;
  let value: Canon;
  switch (type) {
    case "string":
      value = await c.call("GET", key);
      break;
    case "list":
      value = await c.call("LRANGE", key, 0, -1);
      break;
    case "set":
      value = (await c.call("SMEMBERS", key) as string[]).sort(byBytes);
      break;
    case "hash": {
      const a = await c.call("HGETALL", key) as string[];
      const pairs: [string, string][] = [];
      for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
      value = pairs.sort((x, y) => byBytes(x[0], y[0]));
      break;
    }
    case "zset": {
      const a = await c.call("ZRANGE", key, 0, -1, "WITHSCORES") as string[];
      const pairs: [string, string][] = [];
      for (let i = 0; i < a.length; i += 2) pairs.push([a[i], redisScore(a[i + 1])]);
      value = pairs;
      break;
    }
    case "stream": {
      const info = flat(await c.call("XINFO", "STREAM", key, "FULL", "COUNT", 0));
      value = {
        length: info.get("length"),
        last_generated_id: info.get("last-generated-id"),
        max_deleted_entry_id: info.get("max-deleted-entry-id"),
        recorded_first_entry_id: info.get("recorded-first-entry-id"),
        entries_added: info.get("entries-added"),
        entries: info.get("entries"),
        groups: (info.get("groups") as Reply[]).map((gr) => {
          const g = flat(gr);
          const pending = g.get("pending") as [string, string, number, number][];
          return {
            name: g.get("name"),
            last_delivered_id: g.get("last-delivered-id"),
            entries_read: g.get("entries-read"),
            pel_count: g.get("pel-count"),
            pending: pending.map(([id, consumer, t, n]) => ({
              id,
              consumer,
              delivery_time_ms: t,
              delivery_count: n,
            })),
            consumers: (g.get("consumers") as Reply[]).map((cr) => {
              const cm = flat(cr);
              return {
                name: cm.get("name"),
                seen_time_ms: cm.get("seen-time"),
                active_time_ms: cm.get("seen-time"),
                pel_count: cm.get("pel-count"),
                pending: (cm.get("pending") as [string][]).map((p) => p[0]),
              };
            }).sort((a, b) => byBytes(a.name as string, b.name as string)),
          };
        }).sort((a, b) => byBytes(a.name as string, b.name as string)),
      };
      break;
    }
    default:
      throw new Error(`unexpected type ${type} of ${key}`);
  }
  return { db, key, type, value, expire: pexp === -1 ? null : pexp };
}

/** Every key of every db of a redis-server, canonical and sorted like canonDataset. */
async function redisDataset(c: RespClient): Promise<Canon[]> {
  const out: Canon[] = [];
  for (let db = 0; db < 16; db++) {
    await c.call("SELECT", db);
    const keys = (await c.call("KEYS", "*") as string[]).sort(byBytes);
    for (const key of keys) out.push(await redisKey(c, db, key));
  }
  await c.call("SELECT", 0);
  return out;
}

/** Redis estimates entries-read for streams loaded from v9 (type 15): not comparable. */
function withoutEntriesRead(data: Canon[]): Canon[] {
  return data.map((e) => {
    const x = e as { type: string; value: { groups: object[] } };
    if (x.type !== "stream") return e;
    return { ...x, value: { ...x.value, groups: x.value.groups.map((g) => ({ ...g, entries_read: null })) } };
  });
}

async function readOurs(path: string): Promise<RdbRecord[]> {
  const records: RdbRecord[] = [];
  await readRdbFile(path, (r) => records.push(r));
  return records;
}

for (const version of [10, 9] as const) {
  Deno.test(`rdb interop: redis-server 7.0.15 loads our v${version} file with every type`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "rdb-interop-" });
    let redis: RedisProcess | null = null;
    let client: RespClient | null = null;
    try {
      const sample = sampleEntries();
      await writeSampleRdb(`${dir}/ours.rdb`, version, sample);
      redis = await redisOn(dir, "ours.rdb");
      client = await RespClient.connect(redis.port);
      const expected = canonDataset(expectedAfter(version, sample));
      let theirs = await redisDataset(client);
      if (version === 9) theirs = withoutEntriesRead(theirs);
      assertEquals(theirs, version === 9 ? withoutEntriesRead(expected) : expected);
      if (version >= 10) {
        const libs = await client.call("FUNCTION", "LIST", "WITHCODE") as Reply[][];
        assertEquals(libs.length, 1);
        assertEquals(flat(libs[0]).get("library_code"), FUNCTION_CODE);
      }
      // And back: redis-server's SAVE of our data reads back equal to what it reports.
      assertEquals(await client.call("SAVE"), "OK");
      const records = await readOurs(`${dir}/ours.rdb`);
      let again = canonDataset(entriesOf(records));
      if (version === 9) again = withoutEntriesRead(again);
      assertEquals(again, theirs);
    } finally {
      client?.close();
      await redis?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** Builds data of every type in redis-server with ordinary commands. */
async function populate(c: RespClient): Promise<void> {
  const cmds: (string | number)[][] = [
    ["SET", "s:short", "hello"],
    ["SET", "s:int", "12345"],
    ["SET", "s:big", "x".repeat(30_000)],
    ["SET", "s:bin", "\u0000\u0001\u00ff\r\n"],
    ["SET", "s:ttl", "v", "PXAT", 4102444800777],
    ["INCRBY", "s:counter", 99],
    ["RPUSH", "l:small", "a", "1", "", "-77", "9223372036854775807"],
    ["LPUSH", "l:ttl", "x"],
    ["PEXPIREAT", "l:ttl", 4102444800001],
    ["SADD", "set:ints", 1, 2, 3, 70000, 5000000000],
    ["SADD", "set:small", "a", "b", "c"],
    ["ZADD", "z:small", 1, "a", 2.5, "b", "-inf", "c", "inf", "d"],
    ["HSET", "h:small", "f1", "v1", "f2", "22"],
    ["XADD", "st:s", "1-1", "f", "v"],
    ["XADD", "st:s", "1-2", "f", "w", "g", "x"],
    ["XADD", "st:s", "2-0", "f", "y"],
    ["XDEL", "st:s", "1-2"],
    ["XGROUP", "CREATE", "st:s", "grp", "0"],
    ["XREADGROUP", "GROUP", "grp", "alice", "COUNT", 1, "STREAMS", "st:s", ">"],
    ["XGROUP", "CREATE", "st:empty", "g", "$", "MKSTREAM"],
    ["SELECT", 3],
    ["SET", "db3:k", "v"],
    ["SELECT", 0],
    ["FUNCTION", "LOAD", FUNCTION_CODE],
  ];
  for (const cmd of cmds) {
    const r = await c.call(...cmd);
    assert(!(r instanceof Error), `${cmd.join(" ")}: ${r}`);
  }
  // Larger collections, past the compact-encoding thresholds, with pipelining.
  for (let i = 0; i < 3000; i++) {
    await c.sendCommand("RPUSH", "l:large", `element:${i}`);
    await c.sendCommand("SADD", "set:large", `member:${i}`);
    await c.sendCommand("HSET", "h:large", `field:${i}`, `value:${i}`);
    await c.sendCommand("ZADD", "z:large", i / 7, `m:${i}`);
    await c.sendCommand("XADD", "st:large", "*", "n", String(i), "payload", `p${i}`);
  }
  for (let i = 0; i < 5 * 3000; i++) await c.read();
}

Deno.test("rdb interop: our reader reads redis-server's SAVE of command-built data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rdb-interop-" });
  let redis: RedisProcess | null = null;
  let client: RespClient | null = null;
  try {
    redis = await redisOn(dir, "theirs.rdb");
    client = await RespClient.connect(redis.port);
    await populate(client);
    assertEquals(await client.call("SAVE"), "OK");
    const records = await readOurs(`${dir}/theirs.rdb`);
    assertEquals(canonDataset(entriesOf(records)), await redisDataset(client));
    const fns = records.filter((r) => r.kind === "function");
    assertEquals(fns.map((f) => (f as { code: string }).code), [FUNCTION_CODE]);
  } finally {
    client?.close();
    await redis?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rdb interop: DUMP payloads both ways with redis-server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rdb-interop-" });
  let redis: RedisProcess | null = null;
  let client: RespClient | null = null;
  try {
    redis = await redisOn(dir, "dump.rdb");
    client = await RespClient.connect(redis.port);
    const c = client;
    await populate(c);
    // Redis → us: every DUMP decodes to what Redis reports.
    const keys = (await c.call("KEYS", "*") as string[]).sort(byBytes);
    assert(keys.length > 10);
    for (const key of keys) {
      const payload = await c.call("DUMP", key) as string;
      const { value, version } = parseDumpPayload(payload);
      assertEquals(version, 10);
      const theirs = await redisKey(c, 0, key) as { type: string; value: Canon };
      assertEquals(canonValue(value), { type: theirs.type, value: theirs.value }, key);
    }
    // Us → Redis: our payloads (v10 and v9 encodings) RESTORE to the same data.
    await c.call("SELECT", 5);
    const sample = sampleEntries().filter((e) => e.db === 0);
    for (const version of [10, 9] as const) {
      for (const e of expectedAfter(version, sample)) {
        const payload = createDumpPayload(e.value, version);
        const restored = `${version}:${e.key}`;
        const r = await c.call("RESTORE", restored, 0, toLatin1(payload));
        assertEquals(r, "OK", `RESTORE of ${JSON.stringify(e.key)} (v${version})`);
        const theirs = await redisKey(c, 5, restored) as { type: string; value: Canon };
        let ours = canonValue(e.value) as { type: string; value: Canon };
        let got = { type: theirs.type, value: theirs.value };
        if (version === 9) {
          [ours] = withoutEntriesRead([ours]) as typeof ours[];
          [got] = withoutEntriesRead([got]) as typeof got[];
        }
        assertEquals(got, ours, `${e.key} v${version}`);
      }
    }
    // Bad payloads: same error text on both sides.
    const good = createDumpPayload({ type: "string", value: "hello" }, 10);
    const badCrc = good.slice();
    badCrc[badCrc.length - 1] ^= 1;
    const newer = createDumpPayload({ type: "string", value: "hello" }, 11);
    for (const bad of [badCrc, good.subarray(0, 5)]) {
      const r = await c.call("RESTORE", "bad", 0, toLatin1(bad));
      assert(r instanceof Error);
      const ours = (() => {
        try {
          parseDumpPayload(bad);
        } catch (e) {
          return e as DumpPayloadError;
        }
        throw new Error("accepted a bad payload");
      })();
      assertEquals(ours.message, r.message);
    }
    // A 7.2 (v11) payload: Redis 7.0 refuses it, as our parser does when limited to version 10.
    const r = await c.call("RESTORE", "newer", 0, toLatin1(newer));
    assert(r instanceof Error);
    assert.throws(() => parseDumpPayload(newer, { maxVersion: 10 }), (e: Error) => e.message === (r as Error).message);
    assertEquals(parseDumpPayload(newer).value, { type: "string", value: "hello" });
  } finally {
    client?.close();
    await redis?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
