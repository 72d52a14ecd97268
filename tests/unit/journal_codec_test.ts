/**
 * Journal codec against real Dragonfly 1.40 bytes (fixtures/wire): decoding the stable-sync
 * stream of both flows, byte-identical re-encoding, packed integers, and split feeds.
 */
import assert from "node:assert/strict";
import {
  decodeRecord,
  encodeCommandItem,
  encodeLsn,
  JournalDecoder,
  JournalFormatError,
  type JournalRecord,
  readPackedUint,
  writePackedUint,
} from "../../src/journal/journal_codec.ts";

const WIRE = new URL("../fixtures/wire/dragonfly-1.40-nocompression/", import.meta.url);
const flow0 = Deno.readFileSync(new URL("conn2.primary-to-replica.bin", WIRE));
const flow1 = Deno.readFileSync(new URL("conn3.primary-to-replica.bin", WIRE));

function commands(records: JournalRecord[]): string[] {
  return records.filter((r) => r.op === "command").map((r) => (r as { args: string[] }).args.join(" "));
}

Deno.test("decodes flow 0's stable-sync journal exactly as DECODED.md lists it", () => {
  const stream = flow0.subarray(3388);
  const records = new JournalDecoder().feed(stream);
  assert.deepEqual(commands(records), [
    "SET k1 v1",
    "INCR counter",
    "PEXPIREAT k1 1795686935709",
    "SET k2 v2 PXAT 1795686435709",
    "INCRBYFLOAT fl 1.5",
    "LPUSH list z",
    "SET tx1 1",
    "SET db3b x",
    "SREM set x",
  ]);
  const selects = records.filter((r) => r.op === "select").map((r) => (r as { db: number }).db);
  assert.deepEqual(selects, [0, 0, 0, 0, 0, 0, 0, 3, 0]);
  const tx = records.filter((r) => r.op === "command").map((r) => (r as { txid: bigint }).txid);
  assert.deepEqual(tx, [0n, 0n, 0n, 0n, 0n, 0n, 3n, 0n, 0n]);
  assert.deepEqual(records[2], { op: "lsn", lsn: 1n });
});

Deno.test("re-encoding flow 1's items gives the primary's exact bytes", () => {
  // 317–331: SELECT 0 + COMMAND DEL str; 332–333: LSN 1; 334–350: SELECT 0 + SET tx2 2 (txid 3).
  const bytes = (b: Uint8Array) => [...b];
  assert.deepEqual(bytes(encodeCommandItem(0, 0, 1, ["DEL", "str"])), bytes(flow1.subarray(317, 332)));
  assert.deepEqual(bytes(encodeLsn(1)), bytes(flow1.subarray(332, 334)));
  assert.deepEqual(bytes(encodeCommandItem(0, 3, 1, ["SET", "tx2", "2"])), bytes(flow1.subarray(334, 351)));
});

Deno.test("every split point of the stream decodes to the same records", () => {
  const stream = flow0.subarray(3388);
  const whole = new JournalDecoder().feed(stream);
  for (let cut = 0; cut <= stream.length; cut += 7) {
    const d = new JournalDecoder();
    const got = [...d.feed(stream.subarray(0, cut)), ...d.feed(stream.subarray(cut))];
    assert.deepEqual(got, whole, `cut at ${cut}`);
    assert.equal(d.pending, 0);
  }
});

Deno.test("packed uints: every width round-trips", () => {
  for (const v of [0n, 63n, 64n, 16383n, 16384n, 0xffffffffn, 0x100000000n, 2n ** 64n - 1n]) {
    const buf = new Uint8Array(9);
    const end = writePackedUint(buf, 0, v);
    assert.deepEqual(readPackedUint(buf, 0, end), [v, end]);
    assert.equal(readPackedUint(buf, 0, end - 1), null);
  }
});

Deno.test("binary-safe arguments and garbage detection", () => {
  const bin = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const item = encodeCommandItem(5, 99n, 1, ["SET", bin, "x".repeat(20000)]);
  const recs = new JournalDecoder().feed(item);
  assert.deepEqual(recs[0], { op: "select", db: 5 });
  assert.deepEqual(recs[1], { op: "command", txid: 99n, shardCount: 1, args: ["SET", bin, "x".repeat(20000)] });
  assert.throws(() => new JournalDecoder().feed(Uint8Array.of(0x42)), JournalFormatError);
  assert.throws(() => decodeRecord(Uint8Array.of(10, 0, 1, 0, 0), 0, 5), JournalFormatError);
});
