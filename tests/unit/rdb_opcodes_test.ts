/**
 * RDB reader on hand-built files for what no fixture holds: legacy opcodes and types, MODULE_AUX,
 * module values, 7.4 hash-TTL types, SLOT_INFO, pre-GA functions, every length form, versions,
 * stream corner cases, duplicates, reader lifecycle, and bounded memory on a large streamed file.
 */
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/rdb/bytes.ts";
import { RdbType } from "../../src/rdb/constants.ts";
import { crc64 } from "../../src/rdb/crc64.ts";
import { RdbEncoder } from "../../src/rdb/encoder.ts";
import { RdbError } from "../../src/rdb/errors.ts";
import { encodeIntset } from "../../src/rdb/intset.ts";
import { encodeListpack } from "../../src/rdb/listpack.ts";
import { RdbReader } from "../../src/rdb/reader.ts";
import type { RdbRecord, RdbStreamValue } from "../../src/rdb/records.ts";
import { RdbWriter } from "../../src/rdb/writer.ts";
import { encodeZiplist } from "../../src/rdb/ziplist.ts";
import { assertEquals, assertThrows, entriesOf, readAll } from "./rdb_testlib.ts";

/** Builds an RDB: magic, `body`, EOF and (version >= 5) the CRC. */
function rdb(version: number, body: (e: RdbEncoder, o: ByteWriter) => void): Uint8Array {
  const o = new ByteWriter();
  o.latin1(`REDIS${String(version).padStart(4, "0")}`);
  body(new RdbEncoder(o, 10, false), o);
  o.u8(0xff);
  if (version >= 5) {
    const crc = crc64(o.buf, 0, o.length);
    o.reserve(8);
    new DataView(o.buf.buffer).setBigUint64(o.length, crc, true);
    o.length += 8;
  }
  return o.toBytes();
}

/** Writes a key record header: type byte and key. */
function key(e: RdbEncoder, type: number, name: string): void {
  e.out.u8(type);
  e.writeString(name);
}

/** Reads `bytes` whole and byte by byte (both must agree); returns the records. */
function read(bytes: Uint8Array): RdbRecord[] {
  const whole = readAll(bytes).records;
  assertEquals(readAll(bytes, 1).records, whole);
  return whole;
}

function moduleId(name: string, encver: number): bigint {
  const charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let id = 0n;
  for (const c of name) id = (id << 6n) | BigInt(charset.indexOf(c));
  return (id << 10n) | BigInt(encver);
}

Deno.test("rdb opcodes: legacy EXPIRETIME (seconds), plain LIST (1), ZSET (3) text scores, ziplist list (10)", () => {
  const bytes = rdb(2, (e, o) => {
    o.u8(0xfe);
    e.writeLen(4);
    o.u8(0xfd);
    o.u32le(1700000000);
    key(e, RdbType.STRING, "k");
    e.writeString("v");
    key(e, RdbType.LIST, "list");
    e.writeLen(3);
    for (const s of ["a", "12", ""]) e.writeString(s);
    key(e, RdbType.ZSET, "zset");
    e.writeLen(4);
    for (const [m, score] of [["a", "3.5"], ["b", "-2"], ["c", "1e3"]]) {
      e.writeString(m);
      o.u8(score.length);
      o.latin1(score);
    }
    e.writeString("pinf");
    o.u8(254);
    key(e, RdbType.ZSET, "ninf");
    e.writeLen(1);
    e.writeString("n");
    o.u8(255);
    key(e, RdbType.LIST_ZIPLIST, "zl");
    e.writeBlob(encodeZiplist(["1", "x", "6000000000"]));
  });
  assertEquals(entriesOf(read(bytes)), [
    { db: 4, key: "k", value: { type: "string", value: "v" }, expireAtMs: 1700000000000 },
    { db: 4, key: "list", value: { type: "list", items: ["a", "12", ""] } },
    { db: 4, key: "zset", value: { type: "zset", entries: [["a", 3.5], ["b", -2], ["c", 1000], ["pinf", Infinity]] } },
    { db: 4, key: "ninf", value: { type: "zset", entries: [["n", -Infinity]] } },
    { db: 4, key: "zl", value: { type: "list", items: ["1", "x", "6000000000"] } },
  ]);
  const nan = rdb(2, (e, o) => {
    key(e, RdbType.ZSET, "bad");
    e.writeLen(1);
    e.writeString("m");
    o.u8(253);
  });
  const err = assertThrows(() => readAll(nan), RdbError, "NaN");
  assertEquals(err.key, "bad");
});

Deno.test("rdb opcodes: every length and string form (6/14/32/64-bit, int8/16/32, LZF)", () => {
  const long = "q".repeat(70_000);
  const bytes = rdb(9, (e, o) => {
    key(e, RdbType.SET, "forms");
    o.u8(0x81); // 64-bit length 4
    o.u64be(4n);
    o.u8(0x80); // 32-bit length string
    o.u32be(3);
    o.latin1("abc");
    o.u8(0xc0);
    o.u8(0x85); // int8 -123
    o.u8(0xc1);
    o.u16le(0xfffe); // int16 -2
    o.u8(0xc2);
    o.u32le(0x7fffffff); // int32
    key(e, RdbType.STRING, long.slice(0, 100)); // a 14-bit length key
    new RdbEncoder(o, 10, true).writeString(long); // LZF
  });
  const entries = entriesOf(read(bytes));
  assertEquals(entries[0].value, { type: "set", members: ["abc", "-123", "-2", "2147483647"] });
  assertEquals(entries[1], { db: 0, key: long.slice(0, 100), value: { type: "string", value: long } });
  const badLen = rdb(9, (e, o) => {
    key(e, RdbType.LIST, "k");
    o.u8(0x82);
  });
  assertThrows(() => readAll(badLen), RdbError, "unknown length encoding");
  const encodedCount = rdb(9, (e, o) => {
    key(e, RdbType.LIST, "k");
    o.u8(0xc0);
  });
  assertThrows(() => readAll(encodedCount), RdbError, "where a length was expected");
  const badEnc = rdb(9, (e, o) => {
    key(e, RdbType.STRING, "k");
    o.u8(0xc4);
  });
  assertThrows(() => readAll(badEnc), RdbError, "unknown string encoding");
  const badLzf = rdb(9, (e, o) => {
    key(e, RdbType.STRING, "k");
    o.u8(0xc3);
    e.writeLen(2);
    e.writeLen(10);
    o.u8(0x00);
    o.u8(0x41);
  });
  assertThrows(() => readAll(badLzf), RdbError, "bad LZF string");
});

Deno.test("rdb opcodes: MODULE_AUX is skipped and reported; module values are refused with key and offset", () => {
  const id = moduleId("mymodule1", 3);
  const bytes = rdb(9, (e, o) => {
    o.u8(0xf7);
    e.writeLen(id);
    e.writeLen(2);
    e.writeLen(2);
    e.writeLen(2); // UINT
    e.writeLen(5);
    e.writeLen(1); // SINT
    e.writeLen(7);
    e.writeLen(3); // FLOAT
    o.u32le(0);
    e.writeLen(4); // DOUBLE
    o.f64le(1.5);
    e.writeLen(5); // STRING
    e.writeString("payload");
    e.writeLen(0); // EOF
    key(e, RdbType.STRING, "after");
    e.writeString("ok");
  });
  const records = read(bytes);
  const aux = records.find((r) => r.kind === "module_aux");
  assert(aux !== undefined && aux.kind === "module_aux");
  assertEquals([aux.moduleName, aux.encVersion, aux.when, aux.offset], ["mymodule1", 3, 2, 9]);
  assertEquals(entriesOf(records).map((e) => e.key), ["after"]);
  const withValue = rdb(9, (e) => {
    key(e, RdbType.STRING, "first");
    e.writeString("x");
    key(e, RdbType.MODULE_2, "modkey");
    e.writeLen(id);
    e.writeLen(0);
  });
  const err = assertThrows(() => readAll(withValue), RdbError, "module");
  assertEquals(err.key, "modkey");
  assertEquals(err.offset, 9 + 1 + 6 + 2);
  assert(err.message.includes('"mymodule1"') && err.message.includes("offset 18"), err.message);
});

Deno.test("rdb opcodes: 7.4 hash field TTL types and unknown types are refused clearly", () => {
  for (const type of [22, 23, 24, 25]) {
    const bytes = rdb(12, (e) => key(e, type, `h${type}`));
    const err = assertThrows(() => readAll(bytes), RdbError, "field TTLs");
    assertEquals(err.key, `h${type}`);
  }
  assertThrows(() => readAll(rdb(12, (e) => key(e, 99, "x"))), RdbError, "unknown RDB value type 99");
  assertThrows(() => readAll(rdb(12, (e) => key(e, 8, "x"))), RdbError, "unknown RDB value type 8");
});

Deno.test("rdb opcodes: SLOT_INFO, pre-GA FUNCTION, FUNCTION2, AUX anywhere, RESIZEDB", () => {
  const bytes = rdb(12, (e, o) => {
    o.u8(0xf6);
    e.writeString("lib");
    e.writeString("LUA");
    e.writeLen(1);
    e.writeString("a description");
    e.writeString("redis.register_function('f', function() return 1 end)");
    o.u8(0xf5);
    e.writeString("#!lua name=lib2\nreturn 1");
    o.u8(0xfe);
    e.writeLen(0);
    o.u8(0xfb);
    e.writeLen(20000);
    e.writeLen(70000);
    o.u8(0xf4);
    e.writeLen(1234);
    e.writeLen(5);
    e.writeLen(1);
    key(e, RdbType.STRING, "k");
    e.writeString("v");
    o.u8(0xfa);
    e.writeString("lua");
    e.writeString("return 1");
  });
  const records = read(bytes).filter((r) => r.kind !== "end");
  assertEquals(records, [
    { kind: "header", version: 12 },
    { kind: "function", code: "#!LUA name=lib\nredis.register_function('f', function() return 1 end)", preGa: true },
    { kind: "function", code: "#!lua name=lib2\nreturn 1", preGa: false },
    { kind: "selectdb", db: 0 },
    { kind: "resizedb", dbSize: 20000, expiresSize: 70000 },
    { kind: "slot_info", slot: 1234, slotSize: 5, expiresSlotSize: 1 },
    { kind: "entry", entry: { db: 0, key: "k", value: { type: "string", value: "v" } } },
    { kind: "aux", key: "lua", value: "return 1" },
  ]);
});

Deno.test("rdb opcodes: versions 1..12 accepted, 13 and bad magic refused; old versions have no CRC", () => {
  for (let v = 1; v <= 12; v++) {
    const records = read(rdb(v, (e) => {
      key(e, RdbType.STRING, "k");
      e.writeString(`v${v}`);
    }));
    assertEquals(entriesOf(records)[0].value, { type: "string", value: `v${v}` });
    assertEquals((records[0] as { version: number }).version, v);
  }
  assertThrows(() => readAll(rdb(13, () => {})), RdbError, "can't handle RDB format version 13");
  assertThrows(() => readAll(new TextEncoder().encode("REDIX0009\xff")), RdbError, "bad magic");
  assertThrows(() => readAll(new TextEncoder().encode("REDIS00a9\xff")), RdbError, "bad RDB version");
  assertThrows(() => readAll(new Uint8Array(0)), RdbError, "header");
});

Deno.test("rdb opcodes: duplicates are corruption (unless disabled), empty zipmaps and intsets too", () => {
  const dupSet = rdb(9, (e) => {
    key(e, RdbType.SET, "s");
    e.writeLen(2);
    e.writeString("a");
    e.writeString("a");
  });
  const err = assertThrows(() => readAll(dupSet), RdbError, "duplicate set member");
  assertEquals(err.key, "s");
  assertEquals(entriesOf(readAll(dupSet, 100, { checkDuplicates: false }).records)[0].value, {
    type: "set",
    members: ["a", "a"],
  });
  const dupHash = rdb(10, (e) => {
    key(e, RdbType.HASH_LISTPACK, "h");
    e.writeBlob(encodeListpack(["f", "1", "f", "2"]));
  });
  assertThrows(() => readAll(dupHash), RdbError, "duplicate fields");
  const dupZset = rdb(10, (e) => {
    key(e, RdbType.ZSET_2, "z");
    e.writeLen(2);
    e.writeString("m");
    e.out.f64le(1);
    e.writeString("m");
    e.out.f64le(2);
  });
  assertThrows(() => readAll(dupZset), RdbError, "duplicate zset member");
  const emptyIntset = rdb(10, (e) => {
    key(e, RdbType.SET_INTSET, "i");
    e.writeBlob(encodeIntset([]));
  });
  assertThrows(() => readAll(emptyIntset), RdbError, "intset is empty");
  const emptyZipmap = rdb(3, (e) => {
    key(e, RdbType.HASH_ZIPMAP, "z");
    e.writeBlob(new Uint8Array([0, 0xff]));
  });
  assertThrows(() => readAll(emptyZipmap), RdbError, "zipmap is empty");
  const oddHash = rdb(10, (e) => {
    key(e, RdbType.HASH_LISTPACK, "h");
    e.writeBlob(encodeListpack(["f", "1", "g"]));
  });
  assertThrows(() => readAll(oddHash), RdbError, "odd number");
  const badQuicklist = rdb(10, (e) => {
    key(e, RdbType.LIST_QUICKLIST_2, "l");
    e.writeLen(1);
    e.writeLen(3);
    e.writeString("x");
  });
  assertThrows(() => readAll(badQuicklist), RdbError, "quicklist container 3");
});

/** Writes a type-15 stream by hand with one node made of `items`. */
function handStream(items: (string | number)[], length: number, consumerPel: [number, number][] = []): Uint8Array {
  return rdb(9, (e, o) => {
    key(e, RdbType.STREAM_LISTPACKS, "st");
    e.writeLen(1);
    const nodeKey = new ByteWriter();
    nodeKey.u64be(5n);
    nodeKey.u64be(0n);
    e.writeBlob(nodeKey.toBytes());
    e.writeBlob(encodeListpack(items));
    e.writeLen(length);
    e.writeLen(5);
    e.writeLen(1);
    e.writeLen(1); // groups
    e.writeString("g");
    e.writeLen(5);
    e.writeLen(1);
    e.writeLen(1); // PEL
    o.u64be(5n);
    o.u64be(1n);
    o.i64le(1000);
    e.writeLen(2);
    e.writeLen(1); // consumers
    e.writeString("c");
    o.i64le(999);
    e.writeLen(consumerPel.length);
    for (const [ms, seq] of consumerPel) {
      o.u64be(BigInt(ms));
      o.u64be(BigInt(seq));
    }
  });
}

Deno.test("rdb opcodes: stream nodes with deleted entries, and stream corruption", () => {
  // master: 1 live, 1 deleted, fields [f]; entry 5-0 deleted; entry 5-1 live; both SAMEFIELDS.
  const good = [1, 1, 1, "f", 0, 3, 0, 0, "v0", 4, 2, 0, 1, "v1", 4];
  const records = read(handStream(good, 1, [[5, 1]]));
  const st = entriesOf(records)[0].value as RdbStreamValue;
  assertEquals(st.entries, [{ id: { ms: 5n, seq: 1n }, fields: ["f", "v1"] }]);
  assertEquals(st.firstId, { ms: 5n, seq: 1n });
  assertEquals(st.entriesAdded, 1n);
  assertEquals(st.groups[0].entriesRead, -1n);
  assertEquals(st.groups[0].pending, [{ id: { ms: 5n, seq: 1n }, deliveryTimeMs: 1000, deliveryCount: 2 }]);
  assertEquals(st.groups[0].consumers, [{
    name: "c",
    seenTimeMs: 999,
    activeTimeMs: 999,
    pending: [{ ms: 5n, seq: 1n }],
  }]);
  const cases: [(string | number)[], number, [number, number][], string][] = [
    [good, 2, [[5, 1]], "stream length 2"],
    [good, 1, [[5, 7]], "not in the group PEL"],
    [good, 1, [[5, 1], [5, 1]], "not in the group PEL"],
    [[1, 1, 1, "f", 0, 3, 0, 0, "v0", 5, 2, 0, 1, "v1", 4], 1, [], "lp-count"],
    [[1, 1, 1, "f", 7, 3, 0, 0, "v0", 4, 2, 0, 1, "v1", 4], 1, [], "not terminated"],
    [[2, 0, 1, "f", 0, 2, 0, 1, "v1", 4, 2, 0, 0, "v0", 4], 2, [], "is not after"],
    [[1, 0, 1, "f", 0, 2, 0, 1, "v1"], 1, [], "ends inside an entry"],
    [[1, 0, 1, "f", 0, 2, 0, 1, "v1", 4, 9], 1, [], "after its last entry"],
    [[1, 1, 1, "f", 0, 2, 0, 0, "v0", 4, 2, 0, 1, "v1", 4], 1, [], "says 1 live entries, has 2"],
  ];
  for (const [items, length, pel, what] of cases) {
    const err = assertThrows(() => readAll(handStream(items, length, pel)), RdbError, what);
    assertEquals(err.key, "st");
  }
});

Deno.test("rdb reader lifecycle: feed after the end, sticky errors, truncated message", () => {
  const bytes = rdb(9, (e) => {
    key(e, RdbType.STRING, "k");
    e.writeString("v");
  });
  const records: RdbRecord[] = [];
  const r = new RdbReader((x) => records.push(x));
  const withTail = new Uint8Array([...bytes, 1, 2, 3]);
  assertEquals(r.feed(withTail), bytes.length);
  assert(r.done);
  assertEquals(r.feed(new Uint8Array([4])), 0);
  r.finish();
  assertEquals(r.offset, bytes.length);
  const bad = new RdbReader(() => {});
  const err = assertThrows(() => bad.feed(new TextEncoder().encode("NOTREDIS!")), RdbError);
  assert.throws(() => bad.feed(bytes), (e) => e === err);
  assert.throws(() => bad.finish(), (e) => e === err);
  const cut = new RdbReader(() => {});
  cut.feed(bytes.subarray(0, 13));
  const trunc = assertThrows(() => cut.finish(), RdbError, "truncated");
  assertEquals(trunc.key, "k");
});

Deno.test("rdb reader: a large file streamed from the writer in 4 KB chunks keeps memory bounded", () => {
  let keys = 0;
  let maxCapacity = 0;
  const reader = new RdbReader((r) => {
    if (r.kind === "entry") keys++;
  });
  const writer = new RdbWriter((chunk) => {
    for (let off = 0; off < chunk.length; off += 4096) {
      reader.feed(chunk.subarray(off, off + 4096));
      maxCapacity = Math.max(maxCapacity, reader.bufferCapacity);
    }
  }, { version: 10, compress: false });
  writer.writeHeader({ redisVer: "7.0.15" });
  writer.selectDb(0, 0, 0);
  const value = "v".repeat(1000);
  const items = Array.from({ length: 200 }, (_, i) => `item:${i}`);
  for (let i = 0; i < 60_000; i++) {
    writer.writeEntry({ key: `key:${i}`, value: i % 2 ? { type: "string", value } : { type: "list", items } });
  }
  const huge = "h".repeat(20 * 1024 * 1024);
  writer.writeEntry({ key: "huge", value: { type: "string", value: huge } });
  writer.end();
  reader.finish();
  assertEquals(keys, 60_001);
  assert(writer.bytesWritten > 100 * 1024 * 1024, `wrote ${writer.bytesWritten} bytes`);
  // Only the huge single string needed more than a small buffer (grown by doubling).
  assert(maxCapacity <= 2 * huge.length, `capacity ${maxCapacity}`);
});

Deno.test("rdb reader: absurd lengths fail fast without huge allocations; callback errors pass through", () => {
  const hugeString = rdb(9, (e, o) => {
    key(e, RdbType.STRING, "k");
    o.u8(0x80);
    o.u32be(0xfffffff0);
  });
  assertThrows(() => readAll(hugeString), RdbError, "beyond the supported maximum");
  const lzfBomb = rdb(9, (e, o) => {
    key(e, RdbType.STRING, "k");
    o.u8(0xc3);
    e.writeLen(2);
    e.writeLen(400_000_000);
    o.u8(0);
    o.u8(0x41);
  });
  assertThrows(() => readAll(lzfBomb), RdbError, "LZF string claims");
  // A length that is merely larger than the data: waits for more input, then reports truncation.
  const short = rdb(9, (e, o) => {
    key(e, RdbType.STRING, "k");
    o.u8(0x80);
    o.u32be(50_000_000);
  });
  const r = new RdbReader(() => {});
  r.feed(short);
  assert(r.bufferCapacity < 1024 * 1024, `capacity ${r.bufferCapacity}`);
  assertThrows(() => r.finish(), RdbError, "truncated");
  const boom = new Error("store full");
  const cb = new RdbReader((rec) => {
    if (rec.kind === "entry") throw boom;
  });
  assert.throws(() =>
    cb.feed(rdb(9, (e) => {
      key(e, RdbType.STRING, "k");
      e.writeString("v");
    })), (e) => e === boom);
});
