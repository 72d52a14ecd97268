/**
 * Shared helpers for the df_flow_* tests: the Dragonfly 1.40 wire fixtures (tests/fixtures/wire),
 * feeding a DfFlowReader in chunks, and the dataset that fixtures' index.json describes.
 *
 * Invariant: the expected dataset is computed from index.json alone (a tiny interpreter of the
 * commands it lists), never from the bytes under test.
 */
import assert from "node:assert/strict";
import { type DfFlowEvent, DfFlowReader, type DfFlowReaderOptions } from "../../src/replication/df_flow_reader.ts";
import type { RdbValue } from "../../src/rdb/records.ts";

/** The two Dragonfly sessions of the fixtures. */
export const SESSIONS = ["dragonfly-1.40-nocompression", "dragonfly-1.40"] as const;

/** Bytes of a fixture file of a session. */
export function fixture(session: string, file: string): Uint8Array {
  return Deno.readFileSync(new URL(`../fixtures/wire/${session}/${file}`, import.meta.url));
}

/** The index.json of a session. */
export function index(session: string): { writes_on_primary: { phase: string; command: string[] }[] } {
  return JSON.parse(new TextDecoder().decode(fixture(session, "index.json")));
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Bytes of a latin1 string. */
export function bytesOf(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Feeds `bytes` in chunks of `chunk` bytes (all at once by default), then finish(); returns the events. */
export function readFlow(
  bytes: Uint8Array,
  chunk = bytes.length || 1,
  opts: DfFlowReaderOptions = {},
): { events: DfFlowEvent[]; reader: DfFlowReader } {
  const events: DfFlowEvent[] = [];
  const reader = new DfFlowReader((e) => events.push(e), opts);
  for (let off = 0; off < bytes.length; off += chunk) reader.feed(bytes.subarray(off, off + chunk));
  reader.finish();
  return { events, reader };
}

/** Asserts that `fn` throws an instance of `cls` whose message includes `includes`; returns it. */
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

/** A key of the dataset as index.json describes it. */
export interface ExpectedKey {
  db: number;
  key: string;
  value: RdbValue;
  /** Relative TTL in ms given by the command (PX), if any. */
  pxMs?: number;
}

/** The keys written before REPLICAOF, by running index.json's commands on an empty keyspace. */
export function snapshotDataset(session: string): ExpectedKey[] {
  let db = 0;
  const keys = new Map<string, ExpectedKey>();
  for (const w of index(session).writes_on_primary) {
    if (!w.phase.startsWith("before")) continue;
    const [cmd, ...a] = w.command;
    const put = (key: string, value: RdbValue, pxMs?: number) => {
      const k: ExpectedKey = { db, key, value };
      if (pxMs !== undefined) k.pxMs = pxMs;
      keys.set(`${db}/${key}`, k);
    };
    switch (cmd) {
      case "SELECT":
        db = Number(a[0]);
        break;
      case "SET":
        put(a[0], { type: "string", value: a[1] }, a[2] === "PX" ? Number(a[3]) : undefined);
        break;
      case "RPUSH":
        put(a[0], { type: "list", items: a.slice(1) });
        break;
      case "HSET": {
        const fields: [string, string][] = [];
        for (let i = 1; i < a.length; i += 2) fields.push([a[i], a[i + 1]]);
        put(a[0], { type: "hash", fields });
        break;
      }
      case "SADD":
        put(a[0], { type: "set", members: a.slice(1) });
        break;
      case "ZADD": {
        const entries: [string, number][] = [];
        for (let i = 1; i < a.length; i += 2) entries.push([a[i + 1], Number(a[i])]);
        put(a[0], { type: "zset", entries });
        break;
      }
      case "XADD": {
        const [ms, seq] = a[1].split("-").map(BigInt);
        const id = { ms, seq };
        put(a[0], {
          type: "stream",
          entries: [{ id, fields: a.slice(2) }],
          lastId: id,
          firstId: id,
          maxDeletedId: { ms: 0n, seq: 0n },
          entriesAdded: 1n,
          groups: [],
        });
        break;
      }
      default:
        throw new Error(`the test interpreter does not know ${cmd}`);
    }
  }
  return [...keys.values()];
}

/** The writes made after the sync, with the db they ran in (MULTI/EXEC/SELECT resolved). */
export function postSyncWrites(session: string): { db: number; command: string[]; inMulti: boolean }[] {
  let db = 0;
  let inMulti = false;
  const out: { db: number; command: string[]; inMulti: boolean }[] = [];
  for (const w of index(session).writes_on_primary) {
    if (!w.phase.startsWith("after")) continue;
    const [cmd] = w.command;
    if (cmd === "SELECT") db = Number(w.command[1]);
    else if (cmd === "MULTI") inMulti = true;
    else if (cmd === "EXEC") inMulti = false;
    else out.push({ db, command: w.command, inMulti });
  }
  return out;
}
