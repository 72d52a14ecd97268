/**
 * Shared helpers for the rdb_* tests: run the reader over bytes, and bring reader records and the
 * fixture JSON files (tests/fixtures/rdb/README.md) to one canonical, comparable shape.
 *
 * Invariant: canonical forms are order-normalised exactly as the fixture JSON is (sets by raw
 * bytes, hashes by field, zsets by score then member, groups/consumers by name), strings are latin1.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RdbReader, type RdbReaderOptions } from "../../src/rdb/reader.ts";
import type { RdbEntry, RdbRecord, RdbStreamEntry, RdbStreamId, RdbValue } from "../../src/rdb/records.ts";

/** Deep strict equality. */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Asserts that `fn` throws an instance of `cls` (whose message includes `includes`); returns it. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  cls: new (...args: any[]) => E,
  includes = "",
): E {
  try {
    fn();
  } catch (e) {
    assert(e instanceof cls, `expected ${cls.name}, got ${e}`);
    assert(e.message.includes(includes), `"${e.message}" does not include "${includes}"`);
    return e;
  }
  throw new assert.AssertionError({ message: `expected ${cls.name} to be thrown` });
}

/** Fixture directory. */
export const FIXTURES = new URL("../fixtures/rdb/", import.meta.url).pathname;

/** Feeds `bytes` to a reader in chunks of `chunkSize` bytes; returns the records and the reader. */
export function readAll(
  bytes: Uint8Array,
  chunkSize = bytes.length || 1,
  opts: RdbReaderOptions = {},
): { records: RdbRecord[]; reader: RdbReader; consumed: number } {
  const records: RdbRecord[] = [];
  const reader = new RdbReader((r) => records.push(r), opts);
  let consumed = 0;
  for (let off = 0; off < bytes.length && !reader.done; off += chunkSize) {
    consumed += reader.feed(bytes.subarray(off, Math.min(off + chunkSize, bytes.length)));
  }
  reader.finish();
  return { records, reader, consumed };
}

/** The entries among records. */
export function entriesOf(records: RdbRecord[]): RdbEntry[] {
  const out: RdbEntry[] = [];
  for (const r of records) if (r.kind === "entry") out.push(r.entry);
  return out;
}

/** A JSON string from the fixtures (UTF-8 text or {b64}) as latin1. */
export function fixtureString(v: unknown): string {
  if (typeof v === "string") return Buffer.from(v, "utf8").toString("latin1");
  if (v && typeof v === "object" && "b64" in v) {
    return Buffer.from((v as { b64: string }).b64, "base64").toString("latin1");
  }
  throw new Error(`not a fixture string: ${JSON.stringify(v)}`);
}

function fixtureScore(v: unknown): number {
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  if (typeof v === "number") return v;
  throw new Error(`bad score ${JSON.stringify(v)}`);
}

const idText = (id: RdbStreamId) => `${id.ms}-${id.seq}`;
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Canonical comparable value: plain JSON-able data. */
export type Canon = unknown;

/** Canonical form of a value from the reader. */
export function canonValue(v: RdbValue): Canon {
  switch (v.type) {
    case "string":
      return { type: "string", value: v.value };
    case "list":
      return { type: "list", value: v.items };
    case "set":
      return { type: "set", value: [...v.members].sort(byBytes) };
    case "hash":
      return { type: "hash", value: [...v.fields].sort((a, b) => byBytes(a[0], b[0])) };
    case "zset":
      return {
        type: "zset",
        value: [...v.entries].sort((a, b) => a[1] - b[1] || byBytes(a[0], b[0])).map(([m, s]) => [m, String(s)]),
      };
    case "stream": {
      const groups = [...v.groups].sort((a, b) => byBytes(a.name, b.name)).map((g) => {
        const owner = new Map<string, string>();
        for (const c of g.consumers) for (const id of c.pending) owner.set(idText(id), c.name);
        return {
          name: g.name,
          last_delivered_id: idText(g.lastId),
          entries_read: g.entriesRead === -1n ? null : Number(g.entriesRead),
          pel_count: g.pending.length,
          pending: g.pending.map((p) => ({
            id: idText(p.id),
            consumer: owner.get(idText(p.id)) ?? null,
            delivery_time_ms: p.deliveryTimeMs,
            delivery_count: p.deliveryCount,
          })),
          consumers: [...g.consumers].sort((a, b) => byBytes(a.name, b.name)).map((c) => ({
            name: c.name,
            seen_time_ms: c.seenTimeMs,
            active_time_ms: c.activeTimeMs,
            pel_count: c.pending.length,
            pending: c.pending.map(idText),
          })),
        };
      });
      return {
        type: "stream",
        value: {
          length: v.entries.length,
          last_generated_id: idText(v.lastId),
          max_deleted_entry_id: idText(v.maxDeletedId),
          recorded_first_entry_id: idText(v.firstId),
          entries_added: Number(v.entriesAdded),
          entries: v.entries.map((e) => [idText(e.id), e.fields]),
          groups,
        },
      };
    }
  }
}

/** Canonical form of a reader entry: {db, key, type, value, expire}. */
export function canonEntry(e: RdbEntry): Canon {
  return { db: e.db, key: e.key, ...(canonValue(e.value) as object), expire: e.expireAtMs ?? null };
}

// deno-lint-ignore no-explicit-any
type Json = any;

/**
 * Canonical form of one fixture JSON key. Stream fields the fixture lacks (older Redis versions do
 * not report them) are copied from `ours` so only reported facts are compared.
 */
export function canonFixtureKey(k: Json, ours?: Canon): Canon {
  const base = { db: k.db, key: fixtureString(k.key) };
  const expire = k.ttl_present ? k.expire_at_ms : null;
  let value: Canon;
  switch (k.type) {
    case "string":
      value = fixtureString(k.value);
      break;
    case "list":
      value = k.value.map(fixtureString);
      break;
    case "set":
      value = k.value.map(fixtureString).sort(byBytes);
      break;
    case "hash":
      value = Object.entries(k.value).map(([f, v]) => [fixtureString(f), fixtureString(v)]).sort((a, b) =>
        byBytes(a[0] as string, b[0] as string)
      );
      break;
    case "zset":
      value = k.value.map(([m, s]: [unknown, unknown]) => [fixtureString(m), String(fixtureScore(s))]);
      break;
    case "stream": {
      // deno-lint-ignore no-explicit-any
      const o = ((ours as any)?.value ?? {}) as Json;
      const s = k.value;
      value = {
        length: s.length,
        last_generated_id: s.last_generated_id,
        max_deleted_entry_id: s.max_deleted_entry_id ?? o.max_deleted_entry_id,
        recorded_first_entry_id: s.recorded_first_entry_id ?? o.recorded_first_entry_id,
        entries_added: s.entries_added ?? o.entries_added,
        entries: s.entries.map(([id, f]: [string, unknown[]]) => [id, f.map(fixtureString)]),
        groups: s.groups.map((g: Json, gi: number) => ({
          name: fixtureString(g.name),
          last_delivered_id: g.last_delivered_id,
          entries_read: "entries_read" in g ? g.entries_read : o.groups?.[gi]?.entries_read,
          pel_count: g.pel_count,
          pending: g.pending.map((p: Json) => ({
            id: p.id,
            consumer: fixtureString(p.consumer),
            delivery_time_ms: p.delivery_time_ms,
            delivery_count: p.delivery_count,
          })),
          consumers: g.consumers.map((c: Json, ci: number) => ({
            name: fixtureString(c.name),
            seen_time_ms: c.seen_time_ms,
            active_time_ms: c.active_time_ms ?? o.groups?.[gi]?.consumers?.[ci]?.active_time_ms,
            pel_count: c.pel_count,
            pending: c.pending,
          })),
        })),
      };
      break;
    }
    default:
      throw new Error(`unknown fixture type ${k.type}`);
  }
  return { ...base, type: k.type, value, expire };
}

// ------------------------------------------------------------------ sample data of every type

const id = (ms: bigint | number, seq: bigint | number): RdbStreamId => ({ ms: BigInt(ms), seq: BigInt(seq) });

function bytesString(from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(i & 0xff);
  return s;
}

/** Deterministic pseudo-random text (hex), barely compressible. */
function noise(n: number, seed: number): string {
  let x = seed >>> 0;
  let s = "";
  while (s.length < n) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    s += x.toString(16).padStart(8, "0");
  }
  return s.slice(0, n);
}

/** Entries covering every value type and encoding choice, in dbs 0, 1, 9 and 15. */
export function sampleEntries(): RdbEntry[] {
  const far = 4102444800123; // 2100-01-01, so nothing expires during a test
  const out: RdbEntry[] = [];
  const add = (db: number, key: string, value: RdbValue, extra: Partial<RdbEntry> = {}) =>
    out.push({ db, key, value, ...extra });
  // Strings: every integer width, non-canonical integers, binary, LZF-able, larger than a chunk.
  const strings: [string, string][] = [
    ["s:empty", ""],
    ["s:short", "hello world"],
    ["s:int8", "7"],
    ["s:neg8", "-128"],
    ["s:int16", "-1234"],
    ["s:int32", "123456789"],
    ["s:int32min", "-2147483648"],
    ["s:int32max+1", "2147483648"],
    ["s:int64max", "9223372036854775807"],
    ["s:int64min", "-9223372036854775808"],
    ["s:uint64", "18446744073709551615"],
    ["s:leadingzero", "007"],
    ["s:minuszero", "-0"],
    ["s:plus", "+5"],
    ["s:space", " 5"],
    ["s:float", "3.14159"],
    ["s:binary", bytesString(0, 256)],
    ["s:crlf", "a\r\nb\u0000c\u00ff"],
    ["s:21bytes", "a".repeat(21)],
    ["s:compressible", "abcdefghij".repeat(2500)],
    ["s:noise", noise(4000, 1)],
    ["s:big", noise(100_000, 2) + "x".repeat(100_000)],
    ["s:utf8", Buffer.from("héllo wörld ✓ ключ", "utf8").toString("latin1")],
  ];
  for (const [k, v] of strings) add(0, k, { type: "string", value: v });
  add(0, "\u0000bin\u00ff\u00fe\u0080key", { type: "string", value: "binary key" });
  add(0, "", { type: "string", value: "empty key name" });
  add(0, "e:str", { type: "string", value: "expiring" }, { expireAtMs: far });
  add(0, "e:past-2038", { type: "string", value: "x" }, { expireAtMs: 253402300799999 });
  // Lists.
  add(0, "l:small", {
    type: "list",
    items: [
      "a",
      "b",
      "",
      "1",
      "-1",
      "12",
      "13",
      "127",
      "128",
      "-129",
      "32768",
      "8388608",
      "2147483648",
      "9223372036854775807",
      "-9223372036854775808",
      "007",
      "-0",
      "a".repeat(63),
      "b".repeat(64),
    ],
  });
  add(0, "l:large", { type: "list", items: Array.from({ length: 5000 }, (_, i) => `element:${i}`) });
  add(0, "l:ints", { type: "list", items: Array.from({ length: 3000 }, (_, i) => String(i * 7919 - 1_000_000)) });
  add(0, "l:bigelems", { type: "list", items: ["a".repeat(10_000), noise(20_000, 3), "tail", "z".repeat(70_000)] });
  add(0, "l:binary", { type: "list", items: [bytesString(0, 128), bytesString(128, 256), "\u0000"] });
  add(0, "e:list", { type: "list", items: ["x", "y"] }, { expireAtMs: far + 1 });
  // Sets.
  add(0, "set:int16", { type: "set", members: ["3", "1", "2", "-5", "32767", "-32768"] });
  add(0, "set:int32", { type: "set", members: ["100000", "-100000", "1", "2147483647"] });
  add(0, "set:int64", { type: "set", members: ["4294967296", "-9223372036854775808", "9223372036854775807", "0"] });
  add(0, "set:intset-large", { type: "set", members: Array.from({ length: 600 }, (_, i) => String(i * 3 + 100)) });
  add(0, "set:small", { type: "set", members: ["apple", "banana", "cherry", "1"] });
  add(0, "set:large", { type: "set", members: Array.from({ length: 1000 }, (_, i) => `member:${i}`) });
  add(0, "set:longmember", { type: "set", members: ["m".repeat(65), "short"] });
  add(0, "set:binary", { type: "set", members: [bytesString(0, 10), bytesString(250, 256), "007"] });
  add(0, "e:set", { type: "set", members: ["1", "2", "x"] }, { expireAtMs: far + 2 });
  // Sorted sets.
  add(0, "z:small", { type: "zset", entries: [["a", 1], ["b", 2.5], ["c", -3], ["d", 0]] });
  add(0, "z:special", {
    type: "zset",
    entries: [
      ["pinf", Infinity],
      ["ninf", -Infinity],
      ["tenth", 0.1],
      ["neghalf", -0.5],
      ["huge", 1e300],
      ["tiny", 1e-300],
      ["denormal", 5e-324],
      ["bigint", 9007199254740993],
      ["third", 1 / 3],
      ["same1", 7],
      ["same2", 7],
      ["int", 42],
    ],
  });
  add(0, "z:large", {
    type: "zset",
    entries: Array.from({ length: 300 }, (_, i): [string, number] => [`m:${i}`, i / 7]),
  });
  add(0, "z:longmember", { type: "zset", entries: [["m".repeat(65), 1], ["short", 2]] });
  add(0, "z:binary", { type: "zset", entries: [[bytesString(0, 20), 1], [bytesString(200, 256), 2]] });
  add(0, "e:zset", { type: "zset", entries: [["x", 1]] }, { expireAtMs: far + 3 });
  // Hashes.
  add(0, "h:small", { type: "hash", fields: [["name", "fixture"], ["count", "42"], ["empty", ""], ["neg", "-7"]] });
  add(0, "h:large", {
    type: "hash",
    fields: Array.from({ length: 1000 }, (_, i): [string, string] => [`field:${i}`, `value:${i}`]),
  });
  add(0, "h:longvalue", { type: "hash", fields: [["long", "x".repeat(100)], ["short", "v"]] });
  add(0, "h:binary", { type: "hash", fields: [[bytesString(0, 16), bytesString(240, 256)], ["1", "2"]] });
  add(0, "e:hash", { type: "hash", fields: [["f", "v"]] }, { expireAtMs: far + 4 });
  // Streams.
  add(0, "st:mkstream", {
    type: "stream",
    entries: [],
    lastId: id(0, 0),
    firstId: id(0, 0),
    maxDeletedId: id(0, 0),
    entriesAdded: 0n,
    groups: [{ name: "grp", lastId: id(0, 0), entriesRead: 0n, pending: [], consumers: [] }],
  });
  add(0, "st:one", {
    type: "stream",
    entries: [{ id: id(1, 1), fields: ["f", "v"] }],
    lastId: id(1, 1),
    firstId: id(1, 1),
    maxDeletedId: id(0, 0),
    entriesAdded: 1n,
    groups: [],
  }, { expireAtMs: far + 5 });
  const events: RdbStreamEntry[] = [];
  for (let i = 1; i <= 250; i++) {
    const fields = i % 50 === 0
      ? ["other", String(i), "dup", "a", "dup", "b"]
      : i % 7 === 0
      ? ["n", String(i), "payload", noise(30, i), "extra", ""]
      : ["n", String(i), "payload", `p${i}`];
    events.push({ id: id(1700000000000 + Math.floor(i / 100), i % 100), fields });
  }
  add(0, "st:events", {
    type: "stream",
    entries: events,
    lastId: id(1700000000005, 3),
    firstId: events[0].id,
    maxDeletedId: id(1700000000000, 0),
    entriesAdded: 260n,
    groups: [
      {
        name: "g1",
        lastId: events[7].id,
        entriesRead: 8n,
        pending: [3, 4, 5, 6, 7].map((n) => ({
          id: events[n].id,
          deliveryTimeMs: 1795680471179 + n,
          deliveryCount: n,
        })),
        consumers: [
          {
            name: "alice",
            seenTimeMs: 1795680471178,
            activeTimeMs: 1795680471178,
            pending: [3, 4, 5].map((n) => events[n].id),
          },
          {
            name: "bob",
            seenTimeMs: 1795680471183,
            activeTimeMs: 1795680471183,
            pending: [6, 7].map((n) => events[n].id),
          },
          { name: "carol", seenTimeMs: 1795680471190, activeTimeMs: 1795680471190, pending: [] },
        ],
      },
      { name: "g2", lastId: id(1700000000005, 3), entriesRead: -1n, pending: [], consumers: [] },
    ],
  });
  add(0, "st:bigids", {
    type: "stream",
    entries: [
      { id: id(1, 0), fields: ["a", "1"] },
      { id: id(2n ** 64n - 1n, 2n ** 64n - 2n), fields: ["b", "2"] },
    ],
    lastId: id(2n ** 64n - 1n, 2n ** 64n - 2n),
    firstId: id(1, 0),
    maxDeletedId: id(0, 0),
    entriesAdded: 2n,
    groups: [],
  });
  // Other databases.
  add(1, "s:short", { type: "string", value: "db1 has its own s:short" });
  add(1, "db1:list", { type: "list", items: ["one", "two", "three"] });
  add(9, "db9:hash", { type: "hash", fields: [["a", "1"]] }, { expireAtMs: far + 6 });
  add(15, "db15:counter", { type: "string", value: "1000000" });
  add(15, "db15:zset", { type: "zset", entries: [["one", 1], ["two", 2]] });
  return out;
}

/**
 * What `entries` become after a write → read round trip at `version`: stream fields an older
 * format does not store are derived as Redis derives them.
 */
export function expectedAfter(version: number, entries: RdbEntry[]): RdbEntry[] {
  return entries.map((e) => {
    if (e.value.type !== "stream") return e;
    const s = e.value;
    const groups = s.groups.map((g) => ({
      ...g,
      entriesRead: version >= 10 ? g.entriesRead : -1n,
      consumers: g.consumers.map((c) => ({ ...c, activeTimeMs: version >= 11 ? c.activeTimeMs : c.seenTimeMs })),
    }));
    const value = version >= 10 ? { ...s, groups } : {
      ...s,
      groups,
      firstId: s.entries.length > 0 ? s.entries[0].id : { ms: 2n ** 64n - 1n, seq: 2n ** 64n - 1n },
      maxDeletedId: { ms: 0n, seq: 0n },
      entriesAdded: BigInt(s.entries.length),
    };
    return { ...e, value };
  });
}

/** Canonical entries sorted by db and key, for whole-dataset comparison. */
export function canonDataset(entries: RdbEntry[]): Canon[] {
  return [...entries].sort((a, b) => a.db - b.db || byBytes(a.key, b.key)).map(canonEntry);
}
