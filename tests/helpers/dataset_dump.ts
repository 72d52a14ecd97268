/**
 * Full logical dump of a server's dataset through a real client (ioredis, binary-safe Buffer
 * replies), for comparing two servers (damselfly vs redis-server) or a server with the fixture
 * JSON files in tests/fixtures/rdb (README.md there describes their format).
 *
 * Invariants: the dump is canonical (keys sorted by db then bytes, sets sorted, hashes sorted by
 * field; lists, sorted sets and streams in server order), strings are latin1 (one char per byte),
 * so equal datasets give deepStrictEqual dumps; every loop is bounded by the server's replies.
 */
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";

/** One key of a dump. */
export interface DumpedKey {
  /** Database index. */
  db: number;
  /** Key (latin1). */
  key: string;
  /** TYPE. */
  type: string;
  /** Canonical value (see the file comment). */
  value: unknown;
  /** Absolute expiry in ms, or null without a TTL. */
  expireAtMs: number | null;
}

/** A stream as XINFO STREAM FULL shows it, minus the node layout (radix tree sizes). */
export interface DumpedStream {
  length: number;
  lastGeneratedId: string;
  maxDeletedEntryId?: string;
  entriesAdded?: number;
  recordedFirstEntryId?: string;
  entries: [string, string[]][];
  groups: {
    name: string;
    lastDeliveredId: string;
    entriesRead?: number | null;
    lag?: number | null;
    pelCount: number;
    pending: [string, string, number, number][];
    consumers: { name: string; seenTime: number; pelCount: number; pending: [string, number, number][] }[];
  }[];
}

function latin1(x: unknown): unknown {
  if (Buffer.isBuffer(x)) return x.toString("latin1");
  if (Array.isArray(x)) return x.map(latin1);
  return x;
}

function pairsToObject(flat: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[String(flat[i])] = flat[i + 1];
  return o;
}

const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function score(s: string): number {
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  return Number(s);
}

function nullableInt(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** XINFO STREAM key FULL (RESP2, latin1) → DumpedStream. */
function streamOf(full: unknown[]): DumpedStream {
  const o = pairsToObject(full);
  return {
    length: Number(o["length"]),
    lastGeneratedId: String(o["last-generated-id"]),
    maxDeletedEntryId: String(o["max-deleted-entry-id"]),
    entriesAdded: Number(o["entries-added"]),
    recordedFirstEntryId: String(o["recorded-first-entry-id"]),
    entries: (o["entries"] as [string, string[]][]).map(([id, f]) => [id, f]),
    groups: (o["groups"] as unknown[][]).map((gFlat) => {
      const g = pairsToObject(gFlat);
      return {
        name: String(g["name"]),
        lastDeliveredId: String(g["last-delivered-id"]),
        entriesRead: nullableInt(g["entries-read"]),
        lag: nullableInt(g["lag"]),
        pelCount: Number(g["pel-count"]),
        pending: (g["pending"] as unknown[][]).map((p) => [String(p[0]), String(p[1]), Number(p[2]), Number(p[3])]),
        consumers: (g["consumers"] as unknown[][]).map((cFlat) => {
          const c = pairsToObject(cFlat);
          return {
            name: String(c["name"]),
            seenTime: Number(c["seen-time"]),
            pelCount: Number(c["pel-count"]),
            pending: (c["pending"] as unknown[][]).map((p) => [String(p[0]), Number(p[1]), Number(p[2])]),
          };
        }),
      };
    }),
  };
}

/** Non-empty databases according to INFO keyspace. */
async function nonEmptyDbs(io: Redis): Promise<number[]> {
  const info = await io.info("keyspace");
  return [...info.matchAll(/^db(\d+):keys=(\d+)/gm)].filter((m) => Number(m[2]) > 0).map((m) => Number(m[1]));
}

/** Dumps every key of every database of the server on 127.0.0.1:`port`. */
export async function dumpDataset(port: number, opts: { batch?: number } = {}): Promise<DumpedKey[]> {
  const batch = opts.batch ?? 500;
  const admin = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
  await admin.connect();
  const out: DumpedKey[] = [];
  try {
    for (const db of await nonEmptyDbs(admin)) {
      const io = new Redis({ port, host: "127.0.0.1", db, lazyConnect: true, maxRetriesPerRequest: 0 });
      await io.connect();
      try {
        const keys: Buffer[] = [];
        let cursor = "0";
        do {
          const [next, found] = (await io.callBuffer("SCAN", [cursor, "COUNT", "1000"])) as [Buffer, Buffer[]];
          cursor = next.toString();
          keys.push(...found);
        } while (cursor !== "0");
        for (let i = 0; i < keys.length; i += batch) {
          const part = keys.slice(i, i + batch);
          const meta = io.pipeline();
          for (const k of part) {
            meta.call("TYPE", [k]);
            meta.call("PEXPIRETIME", [k]);
          }
          const metaRes = (await meta.exec())!;
          const types = part.map((_, j) => String(metaRes[2 * j][1]));
          const values = io.pipeline();
          part.forEach((k, j) => {
            switch (types[j]) {
              case "string":
                values.callBuffer("GET", [k]);
                break;
              case "list":
                values.callBuffer("LRANGE", [k, "0", "-1"]);
                break;
              case "set":
                values.callBuffer("SMEMBERS", [k]);
                break;
              case "hash":
                values.callBuffer("HGETALL", [k]);
                break;
              case "zset":
                values.callBuffer("ZRANGE", [k, "0", "-1", "WITHSCORES"]);
                break;
              case "stream":
                values.callBuffer("XINFO", ["STREAM", k, "FULL", "COUNT", "0"]);
                break;
              default:
                values.callBuffer("TYPE", [k]);
            }
          });
          const valRes = (await values.exec())!;
          part.forEach((k, j) => {
            const [err, raw] = valRes[j];
            if (err) throw err;
            const v = latin1(raw) as unknown;
            let value: unknown;
            switch (types[j]) {
              case "set":
                value = (v as string[]).slice().sort(byBytes);
                break;
              case "hash": {
                const flat = v as string[];
                const pairs: [string, string][] = [];
                for (let p = 0; p + 1 < flat.length; p += 2) pairs.push([flat[p], flat[p + 1]]);
                value = pairs.sort((a, b) => byBytes(a[0], b[0]));
                break;
              }
              case "zset": {
                const flat = v as string[];
                const entries: [string, number][] = [];
                for (let p = 0; p + 1 < flat.length; p += 2) entries.push([flat[p], score(flat[p + 1])]);
                value = entries;
                break;
              }
              case "stream":
                value = streamOf(v as unknown[]);
                break;
              default:
                value = v;
            }
            const exp = Number(metaRes[2 * j + 1][1]);
            out.push({ db, key: k.toString("latin1"), type: types[j], value, expireAtMs: exp >= 0 ? exp : null });
          });
        }
      } finally {
        io.disconnect();
      }
    }
  } finally {
    admin.disconnect();
  }
  out.sort((a, b) => a.db - b.db || byBytes(a.key, b.key));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixture JSON (tests/fixtures/rdb/*.json)

/** A fixture JSON string (UTF-8 text or {b64}) as latin1. */
export function fixtureString(v: unknown): string {
  if (typeof v === "string") return Buffer.from(v, "utf8").toString("latin1");
  if (v && typeof v === "object" && "b64" in v) {
    return Buffer.from((v as { b64: string }).b64, "base64").toString("latin1");
  }
  throw new Error(`not a fixture string: ${JSON.stringify(v)}`);
}

// deno-lint-ignore no-explicit-any
type Json = any;

function fixtureScore(v: Json): number {
  return v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number(v);
}

/**
 * Converts one fixture key to the dump shape. Stream fields the fixture does not have (6.2
 * files lack the 7.x counters) are left out; `trimStream` removes the same fields from a dump.
 */
export function fixtureKey(k: Json): DumpedKey {
  const s = fixtureString;
  let value: unknown;
  switch (k.type) {
    case "string":
      value = s(k.value);
      break;
    case "list":
      value = (k.value as Json[]).map(s);
      break;
    case "set":
      value = (k.value as Json[]).map(s).sort(byBytes);
      break;
    case "hash":
      value = Object.entries(k.value as Record<string, Json>).map(([f, v]) => [s(f), s(v)]).sort((a, b) =>
        byBytes(a[0] as string, b[0] as string)
      );
      break;
    case "zset":
      value = (k.value as Json[]).map(([m, sc]: Json) => [s(m), fixtureScore(sc)]);
      break;
    case "stream": {
      const v = k.value;
      const st: DumpedStream = {
        length: v.length,
        lastGeneratedId: v.last_generated_id,
        entries: (v.entries as Json[]).map(([id, f]: Json) => [id, (f as Json[]).map(s)]),
        groups: (v.groups as Json[]).map((g: Json) => ({
          name: s(g.name),
          lastDeliveredId: g.last_delivered_id,
          ...("entries_read" in g ? { entriesRead: g.entries_read } : {}),
          pelCount: g.pel_count,
          pending: (g.pending as Json[]).map((p: Json) =>
            [p.id, s(p.consumer), p.delivery_time_ms, p.delivery_count] as [string, string, number, number]
          ),
          consumers: (g.consumers as Json[]).map((c: Json) => ({
            name: s(c.name),
            seenTime: c.seen_time_ms,
            pelCount: c.pel_count,
            pending: c.pending,
          })),
        })),
      };
      if ("max_deleted_entry_id" in v) st.maxDeletedEntryId = v.max_deleted_entry_id;
      if ("entries_added" in v) st.entriesAdded = v.entries_added;
      if ("recorded_first_entry_id" in v) st.recordedFirstEntryId = v.recorded_first_entry_id;
      value = st;
      break;
    }
    default:
      throw new Error(`unknown fixture type ${k.type}`);
  }
  return {
    db: k.db,
    key: s(k.key),
    type: k.type,
    value,
    expireAtMs: k.ttl_present ? k.expire_at_ms : null,
  };
}

/**
 * Brings a dumped key to the fixture's level of detail: drops stream fields the fixture key does
 * not have, and reduces consumer PEL entries to their IDs (the fixture lists only IDs there).
 */
export function likeFixture(dumped: DumpedKey, fixture: DumpedKey): DumpedKey {
  if (dumped.type !== "stream" || fixture.type !== "stream") return dumped;
  const d = dumped.value as DumpedStream;
  const f = fixture.value as DumpedStream;
  const out: DumpedStream = {
    length: d.length,
    lastGeneratedId: d.lastGeneratedId,
    entries: d.entries,
    groups: d.groups.map((g, i) => {
      const fg = f.groups[i];
      return {
        name: g.name,
        lastDeliveredId: g.lastDeliveredId,
        ...(fg && "entriesRead" in fg ? { entriesRead: g.entriesRead } : {}),
        pelCount: g.pelCount,
        pending: g.pending,
        consumers: g.consumers.map((c) => ({
          name: c.name,
          seenTime: c.seenTime,
          pelCount: c.pelCount,
          pending: c.pending.map((p) => p[0]) as unknown as [string, number, number][],
        })),
      };
    }),
  };
  if ("maxDeletedEntryId" in f) out.maxDeletedEntryId = d.maxDeletedEntryId;
  if ("entriesAdded" in f) out.entriesAdded = d.entriesAdded;
  if ("recordedFirstEntryId" in f) out.recordedFirstEntryId = d.recordedFirstEntryId;
  return { ...dumped, value: out };
}

// ---------------------------------------------------------------------------------------------
// Test data

/** Deterministic pseudo-random bytes (xorshift), as a latin1 string. */
export function pseudoRandomBytes(n: number, seed = 1): string {
  let x = seed >>> 0 || 1;
  let s = "";
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += String.fromCharCode((x >>> 0) & 0xff);
  }
  return s;
}

/** Far-future exact expiry times (year 2100) used by the data sets. */
export const FAR_EXPIRY = 4102444800123;

/**
 * Commands that build data of every type and encoding in dbs 0, 1 and 15 (strings of every
 * on-disk form, small and large lists/sets/hashes/sorted sets, streams with groups, PELs,
 * consumers and deletions, TTLs). Ends with SELECT 0.
 */
export function everyTypeCommands(): string[][] {
  const range = (n: number, f: (i: number) => string[]) => Array.from({ length: n }, (_, i) => f(i)).flat();
  const cmds: string[][] = [
    ["SELECT", "0"],
    ["SET", "s:short", "hello"],
    ["SET", "s:int8", "12"],
    ["SET", "s:int32", "-2147483648"],
    ["SET", "s:int64", "9223372036854775807"],
    ["SET", "s:lead", "007"],
    ["SET", "s:float", "3.14"],
    ["SET", "s:empty", ""],
    ["SET", "s:binary", "\x00\xff\r\n\x80\x9f"],
    ["SET", "s:compressible", "ab".repeat(12_500)],
    ["SET", "s:random", pseudoRandomBytes(4000, 7)],
    ["SET", "k\xe9y \xff", "latin1 key"],
    ["SET", "e:str", "expiring", "PXAT", String(FAR_EXPIRY)],
    ["RPUSH", "l:small", "a", "b", "", "123", "-5", "a"],
    ["RPUSH", "l:large", ...range(2050, (i) => [`item:${i}`])],
    ["RPUSH", "l:bigelems", "x".repeat(10_000), pseudoRandomBytes(10_000, 3), "y".repeat(10_000)],
    ["RPUSH", "e:list", "x", "y"],
    ["PEXPIREAT", "e:list", String(FAR_EXPIRY + 1)],
    ["SADD", "set:intset", "1", "-5", "70000", "-2147483649", "9223372036854775807"],
    ["SADD", "set:intset-large", ...range(600, (i) => [String(i * 3)])],
    ["SADD", "set:small", "a", "b", "c", "1"],
    ["SADD", "set:large", ...range(1000, (i) => [`member:${i}`])],
    ["HSET", "h:small", "f1", "v1", "f2", "v2", "n", "12"],
    ["HSET", "h:large", ...range(1000, (i) => [`field:${i}`, `value:${i}`])],
    ["HSET", "h:bigvalue", "short", "v", "long", "x".repeat(100)],
    ["HSET", "e:hash", "f", "v"],
    ["PEXPIREAT", "e:hash", String(FAR_EXPIRY + 2)],
    ["ZADD", "z:small", "1", "a", "2", "b", "2", "c", "-1.5", "d"],
    [
      "ZADD",
      "z:special",
      "inf",
      "pinf",
      "-inf",
      "ninf",
      "0.1",
      "tenth",
      "-0.5",
      "neg",
      "1e300",
      "huge",
      "1e-300",
      "tiny",
    ],
    ["ZADD", "z:large", ...range(1002, (i) => [String(i / 7), `m:${i}`])],
    ["ZADD", "z:bigmember", "1", "m".repeat(100), "2", "short"],
    ["XADD", "st:events", "1700000000000-1", "n", "1", "payload", "p1"],
    ...Array.from(
      { length: 248 },
      (_, i) => ["XADD", "st:events", `1700000000000-${i + 2}`, "n", String(i + 2), "payload", `p${i + 2}`],
    ),
    ["XADD", "st:events", "1700000000001-0", "other", "fields", "here", "too"],
    ["XGROUP", "CREATE", "st:events", "g1", "0"],
    ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "st:events", ">"],
    ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "st:events", ">"],
    ["XACK", "st:events", "g1", "1700000000000-2"],
    ["XDEL", "st:events", "1700000000000-10", "1700000000000-11"],
    ["XGROUP", "CREATE", "st:events", "g2", "$"],
    ["XGROUP", "CREATECONSUMER", "st:events", "g2", "carol"],
    ["XGROUP", "CREATE", "st:mkstream", "grp", "$", "MKSTREAM"],
    ["XADD", "st:emptied", "5-1", "f", "v"],
    ["XGROUP", "CREATE", "st:emptied", "grp", "$"],
    ["XDEL", "st:emptied", "5-1"],
    ["XADD", "e:stream", "1-1", "f", "v"],
    ["PEXPIREAT", "e:stream", String(FAR_EXPIRY + 3)],
    ["SELECT", "1"],
    ["SET", "s:short", "other db"],
    ["RPUSH", "db1:list", "1", "2", "3"],
    ["SADD", "db1:set", "x", "y"],
    ["SELECT", "15"],
    ["INCRBY", "db15:counter", "42"],
    ["SET", "db15:expiring", "soon", "PXAT", String(FAR_EXPIRY + 4)],
    ["HSET", "db15:hash", "a", "1"],
    ["ZADD", "db15:zset", "1", "one"],
    ["SELECT", "0"],
  ];
  return cmds;
}

/** Sends commands pipelined (in batches) on a raw connection; throws on the first error reply. */
export async function runPipelined(
  client: { sendCommand(...a: string[]): Promise<void>; read(t?: number): Promise<unknown> },
  cmds: string[][],
  batch = 256,
): Promise<void> {
  for (let i = 0; i < cmds.length; i += batch) {
    const part = cmds.slice(i, i + batch);
    for (const c of part) await client.sendCommand(...c);
    for (const c of part) {
      const r = await client.read(30_000);
      if (r instanceof Error) throw new Error(`${c.slice(0, 3).join(" ")}: ${r.message}`);
    }
  }
}
