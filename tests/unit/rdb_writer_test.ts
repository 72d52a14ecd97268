/**
 * RDB writer: write → read round trips for every type at versions 9, 10 and 11 (whole and in
 * small chunks), the on-disk types chosen per version, the AUX header, CRC, chunked output, and
 * the hand-built test vector of spec §H.
 */
import assert from "node:assert/strict";
import { RdbType, type RdbWriteVersion } from "../../src/rdb/constants.ts";
import { ByteWriter } from "../../src/rdb/bytes.ts";
import { crc64 } from "../../src/rdb/crc64.ts";
import { RdbEncoder } from "../../src/rdb/encoder.ts";
import type { RdbRecord, RdbValue } from "../../src/rdb/records.ts";
import { RdbWriter } from "../../src/rdb/writer.ts";
import { assertEquals, canonDataset, entriesOf, expectedAfter, readAll, sampleEntries } from "./rdb_testlib.ts";

/** Writes `entries` (grouped by db) into one RDB. */
function writeRdb(version: RdbWriteVersion, opts: { compress?: boolean; chunkSize?: number } = {}): {
  bytes: Uint8Array;
  chunks: number;
} {
  const parts: Uint8Array[] = [];
  const w = new RdbWriter((c) => parts.push(c), { version, ...opts });
  w.writeHeader({ redisVer: "7.0.15", ctimeSec: 1700000000, usedMem: 123456789012, aofBase: false });
  if (version >= 10) w.writeFunction("#!lua name=mylib\nredis.register_function('f', function() return 1 end)");
  const entries = sampleEntries();
  const dbs = [...new Set(entries.map((e) => e.db))];
  for (const db of dbs) {
    const inDb = entries.filter((e) => e.db === db);
    w.selectDb(db, inDb.length, inDb.filter((e) => e.expireAtMs !== undefined).length);
    for (const e of inDb) assert(w.writeEntry(e));
  }
  w.end();
  const total = parts.reduce((n, p) => n + p.length, 0);
  assertEquals(w.bytesWritten, total);
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, chunks: parts.length };
}

for (const version of [9, 10, 11] as const) {
  for (const compress of [true, false]) {
    Deno.test(`rdb writer: v${version} (compress ${compress}) round-trips every type`, () => {
      const { bytes, chunks } = writeRdb(version, { compress, chunkSize: 4096 });
      assert(chunks > 3, "output arrives in several chunks");
      const expected = canonDataset(expectedAfter(version, sampleEntries()));
      for (const chunk of [bytes.length, 4096, 7]) {
        const { records } = readAll(bytes, chunk);
        assertEquals(canonDataset(entriesOf(records)), expected, `read in ${chunk}-byte chunks`);
        const end = records[records.length - 1];
        assert(end.kind === "end" && end.checksumVerified);
        const header = records[0];
        assert(header.kind === "header" && header.version === version);
      }
      const { records } = readAll(bytes);
      const aux = Object.fromEntries(
        records.filter((r) => r.kind === "aux").map((
          r,
        ) => [(r as { key: string }).key, (r as { value: string }).value]),
      );
      assertEquals(aux, {
        "redis-ver": "7.0.15",
        "redis-bits": "64",
        ctime: "1700000000",
        "used-mem": "123456789012",
        [version >= 10 ? "aof-base" : "aof-preamble"]: "0",
      });
      const fns = records.filter((r): r is Extract<RdbRecord, { kind: "function" }> => r.kind === "function");
      assertEquals(fns.length, version >= 10 ? 1 : 0);
      const selects = records.filter((r) => r.kind === "selectdb").map((r) => (r as { db: number }).db);
      assertEquals(selects, [0, 1, 9, 15]);
      // The checksum is Redis's CRC64 of everything up to and including the EOF opcode.
      const stored = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(bytes.length - 8, true);
      assertEquals(stored, crc64(bytes, 0, bytes.length - 8));
    });
  }
}

Deno.test("rdb writer: compression makes long compressible strings smaller", () => {
  const small = writeRdb(10, { compress: true }).bytes.length;
  const big = writeRdb(10, { compress: false }).bytes.length;
  assert(small < big - 20_000, `${small} vs ${big}`);
});

Deno.test("rdb writer: on-disk types per version are the ones that Redis version writes", () => {
  const typeFor = (version: RdbWriteVersion, v: RdbValue) => new RdbEncoder(new ByteWriter(), version, true).typeOf(v);
  const byKey = new Map(sampleEntries().map((e) => [e.key, e.value]));
  const table: [string, number, number, number][] = [
    ["s:short", RdbType.STRING, RdbType.STRING, RdbType.STRING],
    ["l:small", RdbType.LIST_QUICKLIST, RdbType.LIST_QUICKLIST_2, RdbType.LIST_QUICKLIST_2],
    ["set:int16", RdbType.SET_INTSET, RdbType.SET_INTSET, RdbType.SET_INTSET],
    ["set:intset-large", RdbType.SET, RdbType.SET, RdbType.SET],
    ["set:small", RdbType.SET, RdbType.SET, RdbType.SET_LISTPACK],
    ["set:large", RdbType.SET, RdbType.SET, RdbType.SET],
    ["set:longmember", RdbType.SET, RdbType.SET, RdbType.SET],
    ["z:small", RdbType.ZSET_ZIPLIST, RdbType.ZSET_LISTPACK, RdbType.ZSET_LISTPACK],
    ["z:large", RdbType.ZSET_2, RdbType.ZSET_2, RdbType.ZSET_2],
    ["z:longmember", RdbType.ZSET_2, RdbType.ZSET_2, RdbType.ZSET_2],
    ["h:small", RdbType.HASH_ZIPLIST, RdbType.HASH_LISTPACK, RdbType.HASH_LISTPACK],
    ["h:large", RdbType.HASH, RdbType.HASH, RdbType.HASH],
    ["h:longvalue", RdbType.HASH, RdbType.HASH, RdbType.HASH],
    ["st:events", RdbType.STREAM_LISTPACKS, RdbType.STREAM_LISTPACKS_2, RdbType.STREAM_LISTPACKS_3],
  ];
  for (const [key, v9, v10, v11] of table) {
    const v = byKey.get(key)!;
    assertEquals([typeFor(9, v), typeFor(10, v), typeFor(11, v)], [v9, v10, v11], key);
  }
});

Deno.test("rdb writer: empty collections are skipped, functions need v10", () => {
  const w = new RdbWriter(() => {}, { version: 9 });
  w.writeHeader({ redisVer: "6.2.16" });
  w.selectDb(0, 1, 0);
  assertEquals(w.writeEntry({ key: "k", value: { type: "list", items: [] } }), false);
  assert.throws(() => w.writeFunction("#!lua name=x\n"), /version 10/);
  assert.throws(() => new RdbWriter(() => {}, { version: 12 as RdbWriteVersion }), /versions 9, 10 and 11/);
});

Deno.test("rdb writer/reader: IDLE and FREQ metadata round-trip", () => {
  const parts: Uint8Array[] = [];
  const w = new RdbWriter((c) => parts.push(c), { version: 9 });
  w.writeHeader({ redisVer: "6.2.16" });
  w.selectDb(3, 2, 1);
  w.writeEntry({ key: "a", value: { type: "string", value: "1" }, lruIdleSec: 12345 });
  w.writeEntry({ key: "b", value: { type: "string", value: "2" }, lfuFreq: 200, expireAtMs: 1 });
  w.end();
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) bytes.set(p, (off += p.length) - p.length);
  const entries = entriesOf(readAll(bytes, 1).records);
  assertEquals(entries, [
    { db: 3, key: "a", value: { type: "string", value: "1" }, lruIdleSec: 12345 },
    { db: 3, key: "b", value: { type: "string", value: "2" }, lfuFreq: 200, expireAtMs: 1 },
  ]);
});

Deno.test("rdb reader: the hand-built v9 vector of spec §H", () => {
  const hex =
    "524544495330303039fa0e7265706c2d73747265616d2d64620130fe00fb0201fc0068e5cf8b0100000003666f6f0362617202056d797365740201610162fff1d8d40c4114c2ab";
  const bytes = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const { records } = readAll(bytes);
  assertEquals(entriesOf(records), [
    { db: 0, key: "foo", value: { type: "string", value: "bar" }, expireAtMs: 1700000000000 },
    { db: 0, key: "myset", value: { type: "set", members: ["a", "b"] } },
  ]);
  const end = records[records.length - 1];
  assert(end.kind === "end" && end.checksumVerified);
});
