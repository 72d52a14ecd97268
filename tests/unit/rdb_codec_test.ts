/**
 * RDB building blocks: CRC64 check value, LZF round trips and corrupt input, ziplist / listpack /
 * intset / zipmap encoding and validation, number rules, and DUMP payload creation/verification.
 */
import assert from "node:assert/strict";
import { crc64 } from "../../src/rdb/crc64.ts";
import {
  createDumpPayload,
  DUMP_BAD_DATA_FORMAT,
  DUMP_PAYLOAD_WRONG,
  DumpPayloadError,
  parseDumpPayload,
} from "../../src/rdb/dump_payload.ts";
import { ContainerError } from "../../src/rdb/errors.ts";
import { decodeIntset, encodeIntset } from "../../src/rdb/intset.ts";
import { decodeListpack, encodeListpack, type ListpackItem } from "../../src/rdb/listpack.ts";
import { lzfCompress, lzfDecompress } from "../../src/rdb/lzf.ts";
import { canonicalInt64, formatScore, parseScore } from "../../src/rdb/numbers.ts";
import { decodeZiplist, encodeZiplist } from "../../src/rdb/ziplist.ts";
import { decodeZipmap } from "../../src/rdb/zipmap.ts";
import { assertEquals, assertThrows, canonValue, sampleEntries } from "./rdb_testlib.ts";

const hex = (s: string) => new Uint8Array(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

Deno.test("crc64: Redis check value and incremental equivalence", () => {
  assertEquals(crc64(latin1("123456789")), 0xe9c6d914c4b8d9can);
  assertEquals(crc64(new Uint8Array(0)), 0n);
  const data = latin1("x".repeat(1000) + "abc");
  assertEquals(crc64(data, 0, data.length), crc64(data.slice()));
});

Deno.test("lzf: round trips and rejects corrupt input", () => {
  const inputs = [
    "a".repeat(137),
    "abcdefghij".repeat(2500),
    Array.from({ length: 5000 }, (_, i) => String.fromCharCode((i * 7919) % 251)).join(""),
    "ab".repeat(20) + "xyz".repeat(300) + "q".repeat(9000),
  ];
  for (const s of inputs) {
    const src = latin1(s);
    const packed = lzfCompress(src);
    if (packed === null) continue;
    assert(packed.length <= src.length - 4);
    assertEquals(lzfDecompress(packed, 0, packed.length, src.length), src);
  }
  assertEquals(lzfCompress(latin1("abc")), null); // too short to save 4 bytes
  assertEquals(lzfCompress(latin1("0123456789abcdefghijklmnop")), null); // incompressible
  const packed = lzfCompress(latin1("a".repeat(100)))!;
  assertThrows(() => lzfDecompress(packed, 0, packed.length, 99), ContainerError);
  assertThrows(() => lzfDecompress(packed, 0, packed.length, 101), ContainerError);
  assertThrows(() => lzfDecompress(packed, 0, packed.length - 1, 100), ContainerError);
  assertThrows(() => lzfDecompress(hex("20 05"), 0, 2, 10), ContainerError, "before the start");
  assertThrows(() => lzfDecompress(hex("05 61"), 0, 2, 6), ContainerError, "past the end");
});

Deno.test("ziplist: the spec example, round trips of every integer width, and corruption", () => {
  const out: string[] = [];
  decodeZiplist(hex("0f000000 0c000000 0200 00f3 02f6 ff"), 0, 15, out);
  assertEquals(out, ["2", "5"]);
  const items = [
    "0",
    "12",
    "13",
    "-1",
    "127",
    "-128",
    "128",
    "32767",
    "-32768",
    "32768",
    "8388607",
    "-8388608",
    "8388608",
    "2147483647",
    "-2147483648",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "007",
    "-0",
    "+1",
    "",
    "a".repeat(63),
    "b".repeat(64),
    "c".repeat(16383),
    "d".repeat(16384),
    "x".repeat(300),
  ];
  const zl = encodeZiplist(items);
  const back: string[] = [];
  decodeZiplist(zl, 0, zl.length, back);
  assertEquals(back, items);
  // Corruptions: size, tail, count, prevlen, terminator, truncated entry.
  const bad = (mutate: (b: Uint8Array) => void, what: string) => {
    const b = encodeZiplist(["a", "bb", "300"]);
    mutate(b);
    assertThrows(() => decodeZiplist(b, 0, b.length, []), ContainerError, what);
  };
  bad((b) => b[0]++, "header says");
  bad((b) => b[4]++, "tail offset");
  bad((b) => b[8]++, "entries");
  bad((b) => b[13] = 7, "prevlen");
  bad((b) => b[b.length - 1] = 0, "0xFF");
  bad((b) => b[11] = 0x3f, "runs past the end");
  bad((b) => b[11] = 0xc1, "invalid encoding");
  assertThrows(() => decodeZiplist(latin1("xxxxx"), 0, 5, []), ContainerError, "shorter than its header");
});

Deno.test("listpack: empty form, round trips of every integer width, and corruption", () => {
  assertEquals(encodeListpack([]), hex("07000000 0000 ff"));
  const items = [
    "0",
    "127",
    "128",
    "-1",
    "4095",
    "-4096",
    "4096",
    "32767",
    "-32768",
    "32768",
    "8388607",
    "-8388608",
    "2147483647",
    "-2147483648",
    "2147483648",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "007",
    "-0",
    "",
    "a".repeat(63),
    "b".repeat(64),
    "c".repeat(4095),
    "d".repeat(4096),
    "e".repeat(20000),
  ];
  const lp = encodeListpack(items);
  const back: ListpackItem[] = [];
  decodeListpack(lp, 0, lp.length, back, true);
  assertEquals(back, items);
  const raw: ListpackItem[] = [];
  const mixed = encodeListpack(["5", 300, -70000n, "x", "9223372036854775807"]);
  decodeListpack(mixed, 0, mixed.length, raw, false);
  assertEquals(raw.slice(0, 4), [5, 300, -70000, "x"]);
  assertEquals(raw[4], "9223372036854775807");
  const bad = (mutate: (b: Uint8Array) => void, what: string) => {
    const b = encodeListpack(["a", "bb", "300"]);
    mutate(b);
    assertThrows(() => decodeListpack(b, 0, b.length, [], true), ContainerError, what);
  };
  bad((b) => b[0]++, "header says");
  bad((b) => b[4]++, "elements, has");
  bad((b) => b[8] = 9, "backlen");
  bad((b) => b[b.length - 1] = 0, "0xFF");
  bad((b) => b[6] = 0xbf, "runs past the end");
  bad((b) => b[6] = 0xf7, "invalid encoding");
});

Deno.test("intset: widths, ordering rules, exact size", () => {
  for (const values of [[1, 2, 3], [-100000, 5], [-(2n ** 63n), 0, 2n ** 63n - 1n]]) {
    const blob = encodeIntset(values);
    const out: string[] = [];
    decodeIntset(blob, 0, blob.length, out);
    assertEquals(out, values.map(String));
  }
  assertEquals(encodeIntset([1, 2])[0], 2);
  assertEquals(encodeIntset([1, 70000])[0], 4);
  assertEquals(encodeIntset([1, 2 ** 40])[0], 8);
  assertThrows(() => decodeIntset(encodeIntset([2, 1]), 0, 12, []), ContainerError, "ascending");
  assertThrows(() => decodeIntset(encodeIntset([1, 1]), 0, 12, []), ContainerError, "ascending");
  assertThrows(() => decodeIntset(encodeIntset([]), 0, 8, []), ContainerError, "empty");
  assertThrows(() => decodeIntset(encodeIntset([1, 2]), 0, 11, []), ContainerError, "does not fit");
  const badWidth = encodeIntset([1]);
  badWidth[0] = 3;
  assertThrows(() => decodeIntset(badWidth, 0, badWidth.length, []), ContainerError, "encoding");
});

Deno.test("zipmap: pairs with free bytes and big lengths; corruption", () => {
  const b = latin1(`\x02\x02f1\x02\x00v1\x02f2\x02\x02v2\x00\x00\xff`);
  const out: [string, string][] = [];
  decodeZipmap(b, 0, b.length, out);
  assertEquals(out, [["f1", "v1"], ["f2", "v2"]]);
  const big = latin1(`\x01\x01k\xfe\x2c\x01\x00\x00\x00${"v".repeat(300)}\xff`);
  const out2: [string, string][] = [];
  decodeZipmap(big, 0, big.length, out2);
  assertEquals(out2, [["k", "v".repeat(300)]]);
  assertThrows(() => decodeZipmap(b, 0, b.length - 1, []), ContainerError, "terminator");
  assertThrows(() => decodeZipmap(latin1("\x01\x09ab\xff"), 0, 5, []), ContainerError, "past the end");
});

Deno.test("numbers: canonical integers and score text", () => {
  for (const s of ["0", "-1", "9223372036854775807", "-9223372036854775808", "123"]) {
    assert(canonicalInt64(s) !== null, s);
  }
  for (const s of ["", "-", "-0", "007", "+1", " 1", "1 ", "9223372036854775808", "1e3", "0x10", "1.0"]) {
    assertEquals(canonicalInt64(s), null, s);
  }
  assertEquals(canonicalInt64("9007199254740993"), 9007199254740993n);
  assertEquals(canonicalInt64("9007199254740991"), 9007199254740991);
  for (const d of [0, -0, 1, -1.5, 0.1, 1 / 3, 1e300, 1e-300, 5e-324, Infinity, -Infinity, 2 ** 63]) {
    assert(Object.is(parseScore(formatScore(d)), d), String(d));
  }
  assert(Number.isNaN(parseScore("nan")));
  assert(Number.isNaN(parseScore("")));
  assertEquals(parseScore(" 1"), 1); // strtod skips leading blanks
  assertEquals(parseScore("+inf"), Infinity);
  assertEquals(parseScore("-infinity"), -Infinity);
});

Deno.test("dump payload: every sample value round-trips at versions 9, 10, 11", () => {
  for (const version of [9, 10, 11] as const) {
    for (const e of sampleEntries()) {
      const payload = createDumpPayload(e.value, version);
      const parsed = parseDumpPayload(payload);
      assertEquals(parsed.version, version);
      if (e.value.type !== "stream") assertEquals(canonValue(parsed.value), canonValue(e.value), e.key);
      // RESTORE receives the payload as a latin1 string argument.
      const asText = Array.from(payload, (b) => String.fromCharCode(b)).join("");
      assertEquals(parseDumpPayload(asText).value, parsed.value);
    }
  }
});

Deno.test("dump payload: version, checksum and data errors use Redis's texts", () => {
  const good = createDumpPayload({ type: "list", items: ["a", "b"] }, 10);
  const flip = (i: number) => {
    const b = good.slice();
    b[i] ^= 0x01;
    return b;
  };
  assertThrows(() => parseDumpPayload(flip(good.length - 1)), DumpPayloadError, DUMP_PAYLOAD_WRONG);
  assertThrows(() => parseDumpPayload(flip(11)), DumpPayloadError, DUMP_PAYLOAD_WRONG);
  assertThrows(() => parseDumpPayload(good.subarray(0, 9)), DumpPayloadError, DUMP_PAYLOAD_WRONG);
  assertThrows(() => parseDumpPayload(good, { maxVersion: 9 }), DumpPayloadError, DUMP_PAYLOAD_WRONG);
  assertEquals(parseDumpPayload(flip(11), { skipChecksum: true }).value, { type: "list", items: ["`", "b"] });
  // A valid footer around bad data: Bad data format.
  const withFooter = (body: Uint8Array, version = 10) => {
    const out = new Uint8Array(body.length + 10);
    out.set(body);
    out[body.length] = version;
    const crc = crc64(out, 0, body.length + 2);
    new DataView(out.buffer).setBigUint64(body.length + 2, crc, true);
    return out;
  };
  assertEquals(parseDumpPayload(withFooter(latin1("\x00\x03abc"))).value, { type: "string", value: "abc" });
  for (const body of ["\x00\x05abc", "\x00\x03abcdef", "\x02\x00", "\x63\x01a", "\x12\x01\x02\x05abcde"]) {
    const err = assertThrows(() => parseDumpPayload(withFooter(latin1(body))), DumpPayloadError, DUMP_BAD_DATA_FORMAT);
    assert(err.cause !== undefined);
  }
});
