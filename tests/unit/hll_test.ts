/**
 * HyperLogLog encoding (src/store/hll.ts) against byte patterns and numbers taken from a real
 * Redis 7.0: the sparse bytes of a small set, MurmurHash64A register placement, estimates,
 * sparse→dense promotion at hll-sparse-max-bytes, merges and corruption detection.
 */
import assert from "node:assert/strict";
import {
  cachedCardinality,
  decodeSparse,
  estimateFromHistogram,
  histogramOfRegisters,
  histogramOfString,
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_REGISTERS,
  HLL_SPARSE,
  hllPatLen,
  HyperLogLog,
  isHllString,
  mergeInto,
  withCachedCardinality,
} from "../../src/store/hll.ts";

function hex(s: string): string {
  return [...s].map((ch) => ch.charCodeAt(0).toString(16).padStart(2, "0")).join(" ");
}

function count(s: string): number {
  const h = histogramOfString(s);
  assert.ok(h !== null, "valid HLL");
  return estimateFromHistogram(h);
}

function build(elements: Iterable<string>): HyperLogLog {
  const h = HyperLogLog.create();
  for (const e of elements) h.add(e);
  h.invalidateCache();
  return h;
}

Deno.test("hll: an empty HLL is Redis's 18-byte sparse string", () => {
  const s = HyperLogLog.create().toString();
  assert.equal(hex(s), "48 59 4c 4c 01 00 00 00 00 00 00 00 00 00 00 00 7f ff");
  assert.ok(isHllString(s));
  assert.equal(count(s), 0);
});

Deno.test("hll: PFADD a b c gives Redis's exact sparse bytes and decoding", () => {
  const s = build(["a", "b", "c"]).toString();
  // Bytes of `PFADD h a b c` + `GET h` on Redis 7.0.15 (before PFCOUNT caches the count).
  assert.equal(
    hex(s),
    "48 59 4c 4c 01 00 00 00 00 00 00 00 00 00 00 80 60 f3 80 50 b1 84 4b fb 80 42 5a",
  );
  assert.equal(decodeSparse(s), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
  assert.equal(cachedCardinality(s), null);
  assert.equal(count(s), 3);
  const cached = withCachedCardinality(s, 3);
  assert.equal(cachedCardinality(cached), 3);
  assert.equal(hex(cached.slice(8, 16)), "03 00 00 00 00 00 00 00");
});

Deno.test("hll: register placement follows MurmurHash64A with seed 0xadc83b19", () => {
  // PFADD t <e> + PFDEBUG DECODE t on Redis 7.0.15: a → Z:12711 v:2,1; b → Z:15780 v:1,1; c → Z:8436 v:1,1.
  assert.deepEqual(hllPatLen("a"), { index: 12711, count: 2 });
  assert.deepEqual(hllPatLen("b"), { index: 15780, count: 1 });
  assert.deepEqual(hllPatLen("c"), { index: 8436, count: 1 });
});

Deno.test("hll: 20000 elements promote to dense and estimate like Redis", () => {
  const h = HyperLogLog.create();
  let promotedAt = -1;
  for (let i = 0; i < 20000; i++) {
    h.add("el" + i);
    if (promotedAt < 0 && h.encoding === HLL_DENSE) promotedAt = i;
    if (h.encoding === HLL_SPARSE) assert.ok(h.length <= 3000, "sparse stays within hll-sparse-max-bytes");
  }
  assert.ok(promotedAt > 0, "promoted to dense");
  const s = h.toString();
  assert.equal(s.length, HLL_DENSE_SIZE);
  // PFCOUNT on Redis 7.0.15 after PFADD big el0 .. el19999.
  assert.equal(count(s), 20020);
});

Deno.test("hll: a smaller sparse limit promotes earlier, with the same registers", () => {
  const small = HyperLogLog.create(100);
  const normal = HyperLogLog.create();
  for (let i = 0; i < 300; i++) {
    small.add("x" + i);
    normal.add("x" + i);
  }
  assert.equal(small.encoding, HLL_DENSE);
  assert.equal(normal.encoding, HLL_SPARSE);
  assert.deepEqual(small.registers(), normal.registers());
});

Deno.test("hll: merging into a register array equals adding everything to one HLL", () => {
  const a = build(Array.from({ length: 500 }, (_, i) => "a" + i)).toString();
  const b = build(Array.from({ length: 5000 }, (_, i) => "b" + i)).toString();
  const both = build([
    ...Array.from({ length: 500 }, (_, i) => "a" + i),
    ...Array.from({ length: 5000 }, (_, i) => "b" + i),
  ]);
  const max = new Uint8Array(HLL_REGISTERS);
  assert.ok(mergeInto(max, a));
  assert.ok(mergeInto(max, b));
  assert.equal(estimateFromHistogram(histogramOfRegisters(max)), count(both.toString()));
  const merged = HyperLogLog.create();
  merged.toDense();
  for (let i = 0; i < HLL_REGISTERS; i++) if (max[i]) merged.setIfGreater(i, max[i]);
  assert.deepEqual(merged.registers(), both.registers());
});

Deno.test("hll: validation and corruption detection", () => {
  assert.equal(isHllString("HYLL"), false);
  assert.equal(isHllString("hello world, not an hll"), false);
  const dense = HyperLogLog.create();
  dense.toDense();
  assert.ok(isHllString(dense.toString()));
  assert.equal(isHllString(dense.toString() + "x"), false, "dense must have the exact size");
  assert.equal(isHllString("HYLL\x02" + "\0".repeat(11)), false, "unknown encoding");
  // A sparse HLL whose opcodes cover only two registers.
  const short = "HYLL\x01" + "\0".repeat(11) + "\x80\x00";
  assert.ok(isHllString(short));
  assert.equal(histogramOfString(short), null);
  assert.equal(mergeInto(new Uint8Array(HLL_REGISTERS), short), false);
  assert.equal(HyperLogLog.fromString(short).add("a"), -1);
  assert.equal(HyperLogLog.fromString(short).toDense(), false);
});
