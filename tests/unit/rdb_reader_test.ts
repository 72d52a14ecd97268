/**
 * RDB reader against the real-Redis fixtures (tests/fixtures/rdb): every loadable file decodes to
 * exactly its JSON, in one piece, one byte at a time and in odd chunk sizes; corrupt and truncated
 * input is rejected with an RdbError naming key and offset; empty keys are skipped with a notice.
 */
import assert from "node:assert/strict";
import { RdbError } from "../../src/rdb/errors.ts";
import { readRdbFile } from "../../src/rdb/reader.ts";
import type { RdbRecord } from "../../src/rdb/records.ts";
import {
  assertEquals,
  assertThrows,
  canonEntry,
  canonFixtureKey,
  entriesOf,
  FIXTURES,
  fixtureString,
  readAll,
} from "./rdb_testlib.ts";

const LOADABLE = [
  "redis-6.2-alltypes",
  "redis-7.0-alltypes",
  "redis-7.2-alltypes",
  "upstream/encodings",
  "upstream/hash-ziplist",
  "upstream/hash-zipmap",
  "upstream/list-quicklist",
  "upstream/scriptbackup",
  "upstream/zset-ziplist",
  "upstream/corrupt_empty_keys",
];

function load(name: string): { bytes: Uint8Array; json: Record<string, unknown> & { keys: unknown[] } } {
  return {
    bytes: Deno.readFileSync(`${FIXTURES}${name}.rdb`),
    json: JSON.parse(Deno.readTextFileSync(`${FIXTURES}${name}.json`)),
  };
}

function compareWithJson(name: string, records: RdbRecord[]): void {
  const { json } = load(name);
  const ours = new Map<string, unknown>();
  for (const e of entriesOf(records)) {
    const id = `${e.db}\u0000${e.key}`;
    assert(!ours.has(id), `${name}: duplicate key ${e.key}`);
    ours.set(id, canonEntry(e));
  }
  assertEquals(ours.size, json.key_count, `${name}: key count`);
  for (const k of json.keys as { db: number; key: unknown }[]) {
    const id = `${k.db}\u0000${fixtureString(k.key)}`;
    assert(ours.has(id), `${name}: missing key ${JSON.stringify(k.key)} in db ${k.db}`);
    assertEquals(ours.get(id), canonFixtureKey(k, ours.get(id)), `${name}: key ${JSON.stringify(k.key)}`);
  }
  const header = records[0];
  assert(header.kind === "header" && header.version === json.rdb_version, `${name}: version`);
  const functions = records.filter((r) => r.kind === "function").map((r) => (r as { code: string }).code);
  assertEquals(functions, ((json.functions ?? []) as { code: string }[]).map((f) => f.code), `${name}: functions`);
  const end = records[records.length - 1];
  assert(end.kind === "end", `${name}: ends with an end record`);
}

for (const name of LOADABLE) {
  Deno.test(`rdb reader: ${name} equals its JSON`, () => {
    const { bytes } = load(name);
    const { records, consumed } = readAll(bytes);
    assertEquals(consumed, bytes.length);
    compareWithJson(name, records);
  });
}

Deno.test("rdb reader: one byte at a time and odd chunk sizes give identical records", () => {
  for (const name of LOADABLE) {
    const { bytes } = load(name);
    const whole = readAll(bytes).records;
    for (const chunk of [1, 2, 3, 7, 64, 1000, 4093]) {
      const parts = readAll(bytes, chunk).records;
      assertEquals(parts, whole, `${name} fed in ${chunk}-byte chunks`);
    }
  }
});

Deno.test("rdb reader: readRdbFile streams a file", async () => {
  const records: RdbRecord[] = [];
  const r = await readRdbFile(`${FIXTURES}redis-7.2-alltypes.rdb`, (rec) => records.push(rec));
  assertEquals(r.version, 11);
  assertEquals(r.trailing.length, 0);
  compareWithJson("redis-7.2-alltypes", records);
});

Deno.test("rdb reader: the end of the RDB is exact (AOF preamble keeps its tail)", async () => {
  const bytes = Deno.readFileSync(`${FIXTURES}upstream/rdb-preamble.aof`);
  for (const chunk of [1, 5, 50, bytes.length]) {
    const { consumed, reader } = readAll(bytes, chunk);
    assert(reader.done);
    assertEquals(consumed, 117, `chunk ${chunk}`);
  }
  const records: RdbRecord[] = [];
  const r = await readRdbFile(`${FIXTURES}upstream/rdb-preamble.aof`, (rec) => records.push(rec));
  assertEquals(
    new TextDecoder().decode(r.trailing),
    "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$2\r\nk3\r\n$2\r\nv3\r\n",
  );
  const pairs = entriesOf(records).map((e) => [e.key, (e.value as { value: string }).value]);
  assertEquals(pairs.sort(), [["k1", "v1"], ["k2", "v2"]]);
  assert(records.some((x) => x.kind === "aux" && x.key === "aof-preamble" && x.value === "1"));
});

Deno.test("rdb reader: empty keys are skipped with a notice (7.x: 9, 6.2: 8)", () => {
  for (const [name, count] of [["upstream/corrupt_empty_keys", 9], ["upstream/corrupt_empty_keys-6.2", 8]] as const) {
    const { records } = readAll(Deno.readFileSync(`${FIXTURES}${name}.rdb`));
    assertEquals(entriesOf(records).length, 0);
    const skipped = records.filter((r) => r.kind === "skipped");
    assertEquals(skipped.length, count, name);
    for (const s of skipped) assert(s.kind === "skipped" && s.reason === "empty key");
  }
});

Deno.test("rdb reader: lua AUX of scriptbackup.rdb is surfaced as a record", () => {
  const { records } = readAll(Deno.readFileSync(`${FIXTURES}upstream/scriptbackup.rdb`));
  const lua = records.find((r) => r.kind === "aux" && r.key === "lua");
  assert(lua !== undefined && lua.kind === "aux");
  assertEquals(lua.value, "return redis.call('set', 'foo', 'bar')");
});

Deno.test("rdb reader: corrupt_ziplist.rdb is rejected naming the key and offset", () => {
  const bytes = Deno.readFileSync(`${FIXTURES}upstream/corrupt_ziplist.rdb`);
  for (const chunk of [bytes.length, 1, 13]) {
    const err = assertThrows(() => readAll(bytes, chunk), RdbError);
    assertEquals(err.key, "key:000000000091");
    assert(err.offset >= 480 && err.offset <= 494, `offset ${err.offset}`);
    assert(/ziplist/.test(err.message), err.message);
    assert(err.message.includes("key:000000000091") && err.message.includes(String(err.offset)), err.message);
  }
});

Deno.test("rdb reader: every truncation of every fixture is an RdbError, never a crash or a silent load", () => {
  for (const name of [...LOADABLE, "upstream/corrupt_empty_keys-6.2"]) {
    const bytes = Deno.readFileSync(`${FIXTURES}${name}.rdb`);
    const step = Math.max(1, Math.floor(bytes.length / 300));
    for (let cut = 0; cut < bytes.length; cut += step) {
      const err = assertThrows(() => readAll(bytes.subarray(0, cut)), RdbError);
      assert(/truncated|end of input/.test(err.message), err.message);
    }
  }
});

Deno.test("rdb reader: a wrong CRC is rejected; a zero CRC is accepted unchecked", () => {
  const bytes = Deno.readFileSync(`${FIXTURES}redis-7.0-alltypes.rdb`).slice();
  bytes[bytes.length - 3] ^= 0x40;
  const err = assertThrows(() => readAll(bytes), RdbError);
  assert(/checksum/.test(err.message), err.message);
  // Corrupting a data byte (a string's content) is caught by the CRC too.
  const data = Deno.readFileSync(`${FIXTURES}redis-7.0-alltypes.rdb`).slice();
  const at = findBytes(data, "value with spaces");
  data[at] = "V".charCodeAt(0);
  assertThrows(() => readAll(data), RdbError, "checksum");
  assertEquals(entriesOf(readAll(data, data.length, { verifyChecksum: false }).records).length, 48);
  const zeroed = data.slice();
  zeroed.fill(0, zeroed.length - 8);
  const { records } = readAll(zeroed);
  const end = records[records.length - 1];
  assert(end.kind === "end" && !end.checksumVerified && end.checksum === 0n);
});

Deno.test("rdb reader: bytes flipped inside containers give an RdbError or a CRC error, never a crash", () => {
  const base = Deno.readFileSync(`${FIXTURES}redis-7.2-alltypes.rdb`);
  let rdbErrors = 0;
  for (let i = 9; i < base.length - 9; i += 97) {
    const bytes = base.slice();
    bytes[i] ^= 0xa5;
    try {
      readAll(bytes, bytes.length, { verifyChecksum: false });
    } catch (e) {
      assert(e instanceof RdbError, `flip at ${i}: ${e}`);
      rdbErrors++;
    }
  }
  assert(rdbErrors > 0);
});

function findBytes(hay: Uint8Array, needle: string): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle.charCodeAt(k)) continue outer;
    return i;
  }
  throw new Error(`${needle} not found`);
}
