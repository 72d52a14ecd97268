/**
 * DfFlowReader against real Dragonfly 1.40 flows (tests/fixtures/wire, with and without LZ4) and
 * synthetic flows with the opcodes the captures lack (JOURNAL_BLOB, DF_MASK, TAGGED_CHUNK, ZSTD,
 * PING, PARTIAL): decoded contents checked against index.json, split-independence, and errors.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as zlib from "node:zlib";
import { encodeCommandItem, encodeLsn, encodePing } from "../../src/journal/journal_codec.ts";
import { RdbWriter } from "../../src/rdb/writer.ts";
import type { RdbEntry, RdbValue } from "../../src/rdb/records.ts";
import { lz4FrameCompress } from "../../src/replication/compression.ts";
import { DfFlowError, type DfFlowEvent, DfFlowReader } from "../../src/replication/df_flow_reader.ts";
import {
  assertThrows,
  bytesOf,
  concat,
  fixture,
  postSyncWrites,
  readFlow,
  SESSIONS,
  snapshotDataset,
} from "./df_flow_testlib.ts";

type JournalItemEvent = Extract<DfFlowEvent, { kind: "journalItem" }>;
type EntryEvent = Extract<DfFlowEvent, { kind: "entry" }>;

/** node:zlib's zstd compressor (in the runtime, newer than the bundled Node typings). */
const zstdCompress = (b: Uint8Array) =>
  new Uint8Array((zlib as unknown as { zstdCompressSync(b: Buffer): Buffer }).zstdCompressSync(Buffer.from(b)));

const TOKEN = "0123456789abcdef0123456789abcdef01234567";

function items(events: DfFlowEvent[]): JournalItemEvent[] {
  return events.filter((e): e is JournalItemEvent => e.kind === "journalItem");
}

function entries(events: DfFlowEvent[]): RdbEntry[] {
  return events.filter((e): e is EntryEvent => e.kind === "entry").map((e) => e.entry);
}

/** Order-independent form of a value (sets and hashes sorted). */
function canonical(v: RdbValue): RdbValue {
  if (v.type === "set") return { type: "set", members: [...v.members].sort() };
  if (v.type === "hash") return { type: "hash", fields: [...v.fields].sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
  return v;
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function u64le(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

/** An RDB length (6- or 14-bit forms, or 32-bit). */
function rdbLen(n: number): Uint8Array {
  if (n < 64) return Uint8Array.of(n);
  if (n < 16384) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  return concat(Uint8Array.of(0x80), Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
}

/** The RDB records (no magic) of `list`, encoded as a Dragonfly primary encodes values. */
function records(list: { db?: number; entry: Omit<RdbEntry, "db"> }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const w = new RdbWriter((c) => parts.push(c), { version: 9, encodingVersion: 11, compress: false, checksum: false });
  let db = -1;
  for (const { db: d = 0, entry } of list) {
    if (d !== db) w.selectDb(d);
    db = d;
    w.writeEntry(entry);
  }
  w.flush();
  return concat(...parts);
}

/** A complete FULL flow around `body` (records after the magic), then `journal` bytes. */
function fullFlow(body: Uint8Array[], journal: Uint8Array[] = [], offset = 1n): Uint8Array {
  return concat(
    bytesOf(`*2\r\n+FULL\r\n+${TOKEN}\r\n`),
    bytesOf("REDIS0009"),
    ...body,
    Uint8Array.of(200, 0, 0, 0, 0, 0, 0, 0, 0),
    Uint8Array.of(211),
    u64le(offset),
    Uint8Array.of(255, 0, 0, 0, 0, 0, 0, 0, 0),
    bytesOf(TOKEN),
    ...journal,
  );
}

function journalBlob(item: Uint8Array, count = 1): Uint8Array {
  return concat(Uint8Array.of(210), rdbLen(count), rdbLen(item.length), item);
}

function tagged(id: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(224), u32le(id), u32le(payload.length), payload);
}

const str = (key: string, value: string) => ({ entry: { key, value: { type: "string", value } as RdbValue } });

// ---------------------------------------------------------------------------------------- fixtures

for (const session of SESSIONS) {
  Deno.test(`${session}: the snapshots of both flows hold exactly index.json's keys`, () => {
    const got = new Map<string, RdbEntry>();
    for (const conn of ["conn2", "conn3"]) {
      const { events, reader } = readFlow(fixture(session, `${conn}.primary-to-replica.bin`));
      const ctime = Number((events.find((e) => e.kind === "aux" && e.key === "ctime") as { value: string }).value);
      for (const e of entries(events)) {
        const id = `${e.db}/${e.key}`;
        assert(!got.has(id), `${id} appears twice`);
        got.set(id, e);
        if (e.expireAtMs !== undefined) assert(Math.abs(e.expireAtMs - (ctime * 1000 + 100000000)) < 60000);
      }
      assert.equal(reader.phase, "journal");
      assert.equal(reader.journalOffset, 1n);
      assert.equal(reader.shardId, conn === "conn2" ? 0 : 1);
      assert.equal(reader.shardCount, conn === "conn2" ? 2 : null);
    }
    const expected = snapshotDataset(session);
    assert.equal(got.size, expected.length);
    for (const k of expected) {
      const e = got.get(`${k.db}/${k.key}`);
      assert(e !== undefined, `${k.db}/${k.key} missing`);
      assert.deepEqual(canonical(e.value), canonical(k.value), k.key);
      assert.equal(e.expireAtMs !== undefined, k.pxMs !== undefined, `${k.key} TTL`);
    }
  });

  Deno.test(`${session}: every post-sync write arrives once, in order, with its txid and LSN`, () => {
    const flows = ["conn2", "conn3"].map((c) => readFlow(fixture(session, `${c}.primary-to-replica.bin`)));
    const queues = flows.map((f) => items(f.events));
    const sets = snapshotDataset(session).find((k) => k.key === "set")!.value as { members: string[] };
    const stamps: Record<string, number> = {};
    const matches = (w: { db: number; command: string[]; inMulti: boolean }, it: JournalItemEvent): boolean => {
      if (it.db !== w.db || it.txid !== (w.inMulti ? 3n : 0n) || it.fullSync || it.shardCount !== 1) return false;
      const [cmd, ...a] = w.command;
      const got = it.args;
      switch (cmd) {
        case "EXPIRE":
          if (got.length !== 3 || got[0] !== "PEXPIREAT" || got[1] !== a[0] || !/^\d+$/.test(got[2])) return false;
          stamps.expire = Number(got[2]) - Number(a[1]) * 1000;
          return true;
        case "SETEX":
          if (got.length !== 5 || got.slice(0, 4).join(" ") !== `SET ${a[0]} ${a[2]} PXAT`) return false;
          stamps.setex = Number(got[4]) - Number(a[1]) * 1000;
          return true;
        case "SPOP":
          return got.length === 3 && got[0] === "SREM" && got[1] === a[0] && sets.members.includes(got[2]);
        default:
          return got.join("\u0000") === w.command.join("\u0000");
      }
    };
    for (const w of postSyncWrites(session)) {
      const hits = queues.filter((q) => q.length > 0 && matches(w, q[0]));
      assert.equal(hits.length, 1, `${w.command.join(" ")} should head exactly one flow`);
      hits[0].shift();
    }
    assert.deepEqual(queues.map((q) => q.length), [0, 0]);
    // EXPIRE and SETEX ran in the same second: their absolute times share one base.
    assert.equal(stamps.expire, stamps.setex);
    // LSNs count from JOURNAL_OFFSET (1); the first item is followed by `LSN 1`.
    for (const f of flows) {
      const its = items(f.events);
      assert.deepEqual(its.map((i) => i.lsn), its.map((_, i) => BigInt(i + 1)));
      const first = f.events.findIndex((e) => e.kind === "journalItem");
      assert.deepEqual(f.events[first + 1], { kind: "lsnRecord", lsn: 1n });
      assert.equal(f.reader.nextLsn, BigInt(its.length + 1));
      assert.equal(f.reader.itemsReceived, its.length);
    }
    assert.deepEqual(flows.map((f) => items(f.events).length), [9, 2]);
  });

  for (const conn of ["conn2", "conn3"]) {
    const bytes = fixture(session, `${conn}.primary-to-replica.bin`);
    Deno.test(`${session} ${conn}: the tokens, the phase order and the end offset`, () => {
      const { events, reader } = readFlow(bytes);
      const token = new TextDecoder().decode(bytes.subarray(12, 52));
      assert.deepEqual(events[0], { kind: "reply", mode: "FULL", token });
      assert.equal(reader.token, token);
      const kinds = events.map((e) => e.kind).filter((k) => !["aux", "entry", "journalItem"].includes(k));
      assert.deepEqual(kinds.slice(0, 5), ["reply", "rdbHeader", "fullSyncEnd", "journalOffset", "eof"]);
      assert.deepEqual(events.find((e) => e.kind === "eof"), { kind: "eof", journalOffset: 1n });
      assert.equal(reader.offset, bytes.length);
    });

    Deno.test(`${session} ${conn}: every split point and 1-byte feeding give identical events`, () => {
      const whole = readFlow(bytes).events;
      for (let cut = 0; cut <= bytes.length; cut++) {
        const events: DfFlowEvent[] = [];
        const r = new DfFlowReader((e) => events.push(e));
        r.feed(bytes.subarray(0, cut));
        r.feed(bytes.subarray(cut));
        r.finish();
        assert.deepEqual(events, whole, `cut at ${cut}`);
      }
      assert.deepEqual(readFlow(bytes, 1).events, whole);
      assert.deepEqual(readFlow(bytes, 7).events, whole);
      assert.deepEqual(readFlow(bytes, 1000).events, whole);
    });
  }
}

Deno.test("the LZ4 flow decodes to the same snapshot as the uncompressed one", () => {
  const plain = readFlow(fixture(SESSIONS[0], "conn2.primary-to-replica.bin")).events;
  const lz4 = readFlow(fixture(SESSIONS[1], "conn2.primary-to-replica.bin")).events;
  const strip = (es: DfFlowEvent[]) => entries(es).map((e) => ({ ...e, expireAtMs: undefined }));
  assert.deepEqual(strip(lz4), strip(plain));
});

Deno.test("recompressing the plain records as LZ4 or ZSTD blobs gives identical events", () => {
  const flow = fixture(SESSIONS[0], "conn2.primary-to-replica.bin");
  const body = flow.subarray(196, 3321);
  const want = readFlow(flow).events;
  const lz4 = lz4FrameCompress(body);
  const zstd = zstdCompress(body);
  for (const [op, frame] of [[202, lz4], [201, zstd]] as const) {
    const bytes = concat(flow.subarray(0, 196), Uint8Array.of(op), rdbLen(frame.length), frame, flow.subarray(3321));
    assert.deepEqual(readFlow(bytes).events, want, `opcode ${op}`);
    assert.deepEqual(readFlow(bytes, 3).events, want, `opcode ${op}, 3-byte chunks`);
  }
  // Two blobs back to back, and the old explicit COMPRESSED_BLOB_END (203) at the end of a blob.
  const half = 2 + 65 + 9 + 7; // SELECTDB, stream, ttl with its expiry
  const a = lz4FrameCompress(body.subarray(0, half));
  const b = lz4FrameCompress(concat(body.subarray(half), Uint8Array.of(203)));
  const two = concat(
    flow.subarray(0, 196),
    Uint8Array.of(202),
    rdbLen(a.length),
    a,
    Uint8Array.of(202),
    rdbLen(b.length),
    b,
    flow.subarray(3321),
  );
  assert.deepEqual(readFlow(two).events, want);
});

// ---------------------------------------------------------------------------------------- synthetic

Deno.test("JOURNAL_BLOBs during the full sync: items with their db, no LSN, counted apart", () => {
  const bytes = fullFlow(
    [
      records([str("a", "1")]),
      journalBlob(encodeCommandItem(5, 7n, 1, ["SET", "b", "2"])),
      journalBlob(concat(encodeCommandItem(0, 0n, 1, ["DEL", "a"]), encodeCommandItem(2, 0n, 1, ["INCR", "c"])), 2),
    ],
    [encodeCommandItem(1, 0n, 1, ["SET", "x", "y"]), encodeLsn(4)],
    4n,
  );
  const { events, reader } = readFlow(bytes);
  assert.deepEqual(items(events), [
    { kind: "journalItem", db: 5, txid: 7n, shardCount: 1, args: ["SET", "b", "2"], lsn: null, fullSync: true },
    { kind: "journalItem", db: 0, txid: 0n, shardCount: 1, args: ["DEL", "a"], lsn: null, fullSync: true },
    { kind: "journalItem", db: 2, txid: 0n, shardCount: 1, args: ["INCR", "c"], lsn: null, fullSync: true },
    { kind: "journalItem", db: 1, txid: 0n, shardCount: 1, args: ["SET", "x", "y"], lsn: 4n, fullSync: false },
  ]);
  assert.equal(reader.fullSyncItemsReceived, 3);
  assert.equal(reader.itemsReceived, 1);
  assert.equal(reader.nextLsn, 5n);
  assertThrows(
    () => readFlow(fullFlow([journalBlob(encodeCommandItem(0, 0n, 1, ["DEL", "a"]), 2)])),
    DfFlowError,
    "announces 2 items but holds 1",
  );
});

Deno.test("DF_MASK flags reach the entry; unknown flag bits are an error", () => {
  const mask = (flags: number, mc?: number) =>
    concat(Uint8Array.of(220), u32le(flags), mc === undefined ? new Uint8Array(0) : u32le(mc));
  const bytes = fullFlow([
    Uint8Array.of(254, 0),
    Uint8Array.of(252),
    u64le(1800000000000n),
    mask(1),
    records([str("sticky", "v")]).subarray(2),
    mask(3, 0xdeadbeef),
    records([str("mc", "v")]).subarray(2),
    records([str("plain", "v")]).subarray(2),
  ]);
  const got = readFlow(bytes).events.filter((e): e is EntryEvent => e.kind === "entry");
  assert.deepEqual(got.map((e) => [e.entry.key, e.sticky, e.mcFlags, e.entry.expireAtMs]), [
    ["sticky", true, undefined, 1800000000000],
    ["mc", true, 0xdeadbeef, undefined],
    ["plain", false, undefined, undefined],
  ]);
  assertThrows(() => readFlow(fullFlow([mask(4)])), DfFlowError, "unknown DF_MASK flags 0x4");
});

Deno.test("TAGGED_CHUNK: split keys reassembled across interleaved streams and journal blobs", () => {
  const big: RdbValue = { type: "list", items: Array.from({ length: 3000 }, (_, i) => `item-${i}`) };
  const hash: RdbValue = { type: "hash", fields: Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]) };
  const bigRec = records([{ entry: { key: "biglist", value: big, expireAtMs: 1900000000000 } }]).subarray(2);
  const hashRec = records([{ entry: { key: "bighash", value: hash } }]).subarray(2);
  const cutA = Math.floor(bigRec.length / 3);
  const cutB = Math.floor((2 * bigRec.length) / 3);
  const bytes = fullFlow([
    Uint8Array.of(254, 4),
    tagged(7, bigRec.subarray(0, cutA)),
    tagged(9, hashRec.subarray(0, 10)),
    journalBlob(encodeCommandItem(4, 0n, 1, ["SET", "j", "1"])),
    Uint8Array.of(254, 1),
    tagged(7, bigRec.subarray(cutA, cutB)),
    tagged(9, hashRec.subarray(10)),
    records([str("small", "s")]).subarray(2),
    tagged(7, bigRec.subarray(cutB)),
    tagged(7, records([str("again", "x")]).subarray(2)),
  ]);
  const want = [
    "journal 4 SET j 1",
    "entry 4 bighash",
    "entry 1 small",
    "entry 4 biglist",
    "entry 1 again",
  ];
  for (const chunk of [bytes.length, 1, 13]) {
    const { events } = readFlow(bytes, chunk);
    const seen = events.flatMap((e) =>
      e.kind === "entry"
        ? [`entry ${e.entry.db} ${e.entry.key}`]
        : e.kind === "journalItem"
        ? [`journal ${e.db} ${e.args.join(" ")}`]
        : []
    );
    assert.deepEqual(seen, want);
    const es = entries(events);
    assert.deepEqual(es.find((e) => e.key === "biglist")!.value, big);
    assert.equal(es.find((e) => e.key === "biglist")!.expireAtMs, 1900000000000);
    assert.deepEqual(es.find((e) => e.key === "bighash")!.value, hash);
  }
  // A SELECTDB serialized inside a split key's first piece switches the db of what follows too.
  const withSelect = records([{ db: 6, entry: { key: "in6", value: big } }]);
  const moved = readFlow(fullFlow([
    Uint8Array.of(254, 2),
    tagged(5, withSelect.subarray(0, 40)),
    tagged(5, withSelect.subarray(40)),
    records([str("after", "a")]).subarray(2),
  ])).events;
  assert.deepEqual(entries(moved).map((e) => `${e.db} ${e.key}`), ["6 in6", "6 after"]);
  assertThrows(() => readFlow(fullFlow([tagged(0, bigRec)])), DfFlowError, "reserved stream id 0");
  assertThrows(
    () => readFlow(fullFlow([tagged(3, bigRec.subarray(0, cutA))])),
    DfFlowError,
    "tagged stream 3 (a split key) was incomplete",
  );
  assertThrows(
    () => readFlow(fullFlow([tagged(3, concat(bigRec.subarray(0, 20), Uint8Array.of(0xfe, 0x41)))])),
    DfFlowError,
    "in tagged stream 3",
  );
});

Deno.test("PARTIAL: the journal follows the reply at once, LSNs from the requested one, PINGs counted", () => {
  const bytes = concat(
    bytesOf(`*2\r\n+PARTIAL\r\n+${TOKEN}\r\n`),
    encodeCommandItem(0, 0n, 1, ["SET", "a", "b"]),
    encodeLsn(41),
    encodePing(),
    encodeCommandItem(3, 9n, 1, ["DEL", "a"]),
    encodeLsn(43),
  );
  const { events, reader } = readFlow(bytes, 1, { requestedLsn: 41n });
  assert.deepEqual(events, [
    { kind: "reply", mode: "PARTIAL", token: TOKEN },
    { kind: "journalItem", db: 0, txid: 0n, shardCount: 1, args: ["SET", "a", "b"], lsn: 41n, fullSync: false },
    { kind: "lsnRecord", lsn: 41n },
    { kind: "ping", lsn: 42n, fullSync: false },
    { kind: "journalItem", db: 3, txid: 9n, shardCount: 1, args: ["DEL", "a"], lsn: 43n, fullSync: false },
    { kind: "lsnRecord", lsn: 43n },
  ]);
  assert.equal(reader.mode, "PARTIAL");
  assert.equal(reader.nextLsn, 44n);
  assert.equal(reader.itemsReceived, 3);
  // Without the requested LSN, the first LSN record sets the count.
  const blind = readFlow(bytes).reader;
  assert.equal(blind.nextLsn, 44n);
});

// ---------------------------------------------------------------------------------------- errors

Deno.test("errors: garbage after the token, a wrong token, a wrong LSN record", () => {
  const flow = fixture(SESSIONS[0], "conn2.primary-to-replica.bin");
  const garbage = concat(flow.subarray(0, 3388), bytesOf("+OK\r\n"));
  const e1 = assertThrows(() => readFlow(garbage), DfFlowError, "unknown journal opcode 43");
  assert.equal(e1.offset, 3388);

  const wrong = flow.slice();
  wrong[3350] ^= 1;
  const e2 = assertThrows(() => readFlow(wrong), DfFlowError, "does not match the DFLY FLOW token");
  assert.equal(e2.offset, 3348);

  const lsn = concat(flow.subarray(0, 3406), Uint8Array.of(2));
  const e3 = assertThrows(() => readFlow(lsn), DfFlowError, "LSN record says 2 but the last item received was LSN 1");
  assert.equal(e3.offset, 3405);

  const legacy = concat(flow, Uint8Array.of(12));
  assertThrows(() => readFlow(legacy), DfFlowError, "unsupported journal opcode 12");
});

Deno.test("errors: truncation anywhere is reported by finish() with the offset reached", () => {
  const flow = fixture(SESSIONS[1], "conn2.primary-to-replica.bin");
  for (const [cut, what] of [[20, "reply"], [300, "RDB"], [400, "eof token"], [430, "journal record"]] as const) {
    const r = new DfFlowReader(() => {});
    r.feed(flow.subarray(0, cut));
    const e = assertThrows(() => r.finish(), DfFlowError, what);
    assert(e.offset <= cut);
  }
  const r = new DfFlowReader(() => {});
  r.feed(flow);
  r.finish(); // a journal stream may end between records
});

Deno.test("errors: truncated and corrupt LZ4 blobs, bad ZSTD data", () => {
  const flow = fixture(SESSIONS[1], "conn2.primary-to-replica.bin");
  const shortLen = flow.slice();
  shortLen[198] = 150; // the blob length says 150 of the 156 frame bytes
  assertThrows(() => readFlow(shortLen), DfFlowError, "bad LZ4 blob: LZ4 block is truncated");

  const badMagic = flow.slice();
  badMagic[199] = 0;
  const e = assertThrows(() => readFlow(badMagic), DfFlowError, "not an LZ4 frame");
  assert.equal(e.offset, 196);

  const badHc = flow.slice();
  badHc[213] ^= 0xff;
  assertThrows(() => readFlow(badHc), DfFlowError, "LZ4 header checksum");

  const badOffset = flow.slice();
  badOffset[218 + 14] = 0xff; // the first match offset: far beyond the 13 bytes decoded
  badOffset[218 + 15] = 0x7f;
  assertThrows(() => readFlow(badOffset), DfFlowError, "LZ4 match offset");

  const body = fixture(SESSIONS[0], "conn2.primary-to-replica.bin").subarray(196, 3321);
  const cutRecords = lz4FrameCompress(body.subarray(0, 100)); // ends inside the `big` key
  assertThrows(
    () => readFlow(concat(flow.subarray(0, 196), Uint8Array.of(202), rdbLen(cutRecords.length), cutRecords)),
    DfFlowError,
    "ends inside a record",
  );

  const zstd = zstdCompress(body);
  zstd[zstd.length - 5] ^= 0x55;
  zstd[10] ^= 0x55;
  const zflow = concat(flow.subarray(0, 196), Uint8Array.of(201), rdbLen(zstd.length), zstd, flow.subarray(355));
  assertThrows(() => readFlow(zflow), DfFlowError, "bad ZSTD blob");
  const notZstd = concat(flow.subarray(0, 196), Uint8Array.of(201), rdbLen(4), bytesOf("abcd"));
  assertThrows(() => readFlow(notZstd), DfFlowError, "not a ZSTD frame");
  assertThrows(() => readFlow(fullFlow([Uint8Array.of(203)])), DfFlowError, "COMPRESSED_BLOB_END outside");
});

Deno.test("errors: unknown opcodes, Dragonfly-only types, a refused flow, a missing cut", () => {
  const e = assertThrows(() => readFlow(fullFlow([Uint8Array.of(205)])), DfFlowError, "unknown opcode 205");
  assert.equal(e.offset, 54 + 9);
  const json = concat(Uint8Array.of(254, 0, 30, 3), bytesOf("doc"), Uint8Array.of(2), bytesOf("{}"));
  const t = assertThrows(() => readFlow(fullFlow([json])), DfFlowError, "unsupported Dragonfly type 30 (JSON)");
  assert.equal(t.key, "doc");
  assertThrows(() => readFlow(fullFlow([Uint8Array.of(222)])), DfFlowError, "search-index opcode 222");
  assertThrows(() => readFlow(bytesOf("-ERR syncid not found\r\n")), DfFlowError, "primary refused the flow");
  assertThrows(() => readFlow(bytesOf("*2\r\n+FULL\r\n+short\r\n")), DfFlowError, "40 hex");
  const noCut = concat(bytesOf(`*2\r\n+FULL\r\n+${TOKEN}\r\nREDIS0009`), Uint8Array.of(255, 0, 0, 0, 0, 0, 0, 0, 0));
  assertThrows(() => readFlow(noCut), DfFlowError, "without FULLSYNC_END");
  const twice = fullFlow([Uint8Array.of(200, 0, 0, 0, 0, 0, 0, 0, 0)]);
  assertThrows(() => readFlow(twice), DfFlowError, "a second FULLSYNC_END");
});

Deno.test("errors are sticky, and an exception from the event handler passes through unchanged", () => {
  const r = new DfFlowReader(() => {});
  assertThrows(() => r.feed(bytesOf("?")), DfFlowError, "unexpected reply type byte");
  assertThrows(() => r.feed(bytesOf("*2\r\n")), DfFlowError, "unexpected reply type byte");
  const boom = new Error("handler failed");
  const flow = fixture(SESSIONS[1], "conn2.primary-to-replica.bin");
  for (const when of ["entry", "journalItem", "eof", "aux"]) {
    const h = new DfFlowReader((e) => {
      if (e.kind === when) throw boom;
    });
    assert.throws(() => h.feed(flow), (err) => err === boom);
    assert.throws(() => h.feed(flow), (err) => err === boom);
  }
});
