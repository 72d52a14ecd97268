/**
 * Bridge between keyspace values (src/store) and the RDB codec's neutral records (records.ts):
 * `toRdbValue` for the writer (SAVE, BGSAVE, DUMP, full sync), `fromRdbValue` for the loader and
 * RESTORE.
 *
 * Invariants:
 * - Logical contents survive both ways: list order, hash insertion order, set and sorted-set
 *   members and scores (±inf, -0), stream entries, counters (last/first/max-deleted IDs, entries
 *   added), consumer groups with their PELs (owner, delivery time and count) and consumers (seen
 *   and active times).
 * - Encodings on load are the ones Redis 7.0 picks when it loads a value: a hash is a listpack,
 *   a sorted set a listpack and a set an intset exactly when the value fits the configured
 *   thresholds; lists are quicklists; stream nodes split where XADD would split them.
 * - `toRdbValue` may share arrays with the live value (a stream entry's field list): a consumer
 *   must encode the record before the value can change, i.e. synchronously.
 * - A stream read from an RDB older than 10 has no `entries_read` per group: it is estimated
 *   from the loaded stream exactly as Redis's rdbLoadObject does.
 */
import type { Config } from "../config/config.ts";
import { HashValue } from "../store/types/hash.ts";
import { ListValue } from "../store/types/list.ts";
import { SetValue } from "../store/types/set.ts";
import {
  FLAG_DELETED,
  idFromKey,
  idKey,
  type NodeLimits,
  type StreamNack,
  StreamValue,
} from "../store/types/stream.ts";
import { compareEntries, ZSetValue } from "../store/types/zset.ts";
import { isCanonicalInt64, type Value } from "../store/values.ts";
import type { RdbStreamEntry, RdbStreamGroup, RdbStreamValue, RdbValue } from "./records.ts";

/** The encoding thresholds that decide how a loaded value is represented (Redis's config). */
export interface EncodingLimits {
  /** hash-max-listpack-entries. */
  hashMaxListpackEntries: number;
  /** hash-max-listpack-value. */
  hashMaxListpackValue: number;
  /** set-max-intset-entries. */
  setMaxIntsetEntries: number;
  /** zset-max-listpack-entries. */
  zsetMaxListpackEntries: number;
  /** zset-max-listpack-value. */
  zsetMaxListpackValue: number;
  /** stream-node-max-bytes / stream-node-max-entries. */
  streamNode: NodeLimits;
}

/** Reads the current thresholds from the configuration. */
export function encodingLimits(config: Config): EncodingLimits {
  return {
    hashMaxListpackEntries: config.num("hash-max-listpack-entries"),
    hashMaxListpackValue: config.num("hash-max-listpack-value"),
    setMaxIntsetEntries: config.num("set-max-intset-entries"),
    zsetMaxListpackEntries: config.num("zset-max-listpack-entries"),
    zsetMaxListpackValue: config.num("zset-max-listpack-value"),
    streamNode: {
      maxBytes: config.num("stream-node-max-bytes"),
      maxEntries: config.num("stream-node-max-entries"),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Store → RDB

/** The logical contents of a stored value as an RDB record (see the sharing note above). */
export function toRdbValue(v: Value): RdbValue {
  if (typeof v === "string") return { type: "string", value: v };
  switch (v.kind) {
    case "list":
      return { type: "list", items: (v as ListValue).toArray() };
    case "hash": {
      const h = v as HashValue;
      const n = h.size();
      const fields = new Array<[string, string]>(n);
      for (let i = 0; i < n; i++) fields[i] = [h.fieldAt(i), h.valueAt(i)];
      return { type: "hash", fields };
    }
    case "set": {
      const s = v as SetValue;
      const n = s.size();
      const members = new Array<string>(n);
      for (let i = 0; i < n; i++) members[i] = s.at(i);
      return { type: "set", members };
    }
    case "zset": {
      const entries: [string, number][] = [];
      (v as ZSetValue).forEach((m, score) => entries.push([m, score]));
      return { type: "zset", entries };
    }
    case "stream":
      return streamToRdb(v as StreamValue);
  }
}

function streamToRdb(s: StreamValue): RdbStreamValue {
  const entries: RdbStreamEntry[] = [];
  for (const node of s.nodes) {
    for (let i = 0; i < node.count; i++) {
      if (node.flags[i] & FLAG_DELETED) continue;
      entries.push({ id: node.idAt(i), fields: node.fieldsAt(i) });
    }
  }
  const groups: RdbStreamGroup[] = [];
  for (const g of s.sortedGroups()) {
    const pending = [];
    for (const [k, nack] of g.pel.entries()) {
      pending.push({ id: idFromKey(k), deliveryTimeMs: nack.deliveryTime, deliveryCount: nack.deliveryCount });
    }
    const consumers = g.sortedConsumers().map((c) => ({
      name: c.name,
      seenTimeMs: c.seenTime,
      activeTimeMs: c.activeTime,
      pending: [...c.pel.keysFrom()].map(idFromKey),
    }));
    groups.push({ name: g.name, lastId: g.lastId, entriesRead: g.entriesRead, pending, consumers });
  }
  return {
    type: "stream",
    entries,
    lastId: s.lastId,
    firstId: s.firstId,
    maxDeletedId: s.maxDeletedId,
    entriesAdded: s.entriesAdded,
    groups,
  };
}

// ---------------------------------------------------------------------------------------------
// RDB → store

/** A record that cannot become a valid value (inconsistent stream groups, duplicates). */
export class RdbValueError extends Error {
  /** Builds the error with the reason. */
  constructor(message: string) {
    super(message);
    this.name = "RdbValueError";
  }
}

/**
 * Builds a keyspace value from a record. `rdbVersion` is the version of the file or payload it
 * came from (streams of versions before 10 get estimated group read counters).
 */
export function fromRdbValue(v: RdbValue, limits: EncodingLimits, rdbVersion: number): Value {
  switch (v.type) {
    case "string":
      return v.value;
    case "list":
      return ListValue.from(v.items);
    case "hash": {
      const fields = v.fields;
      let compact = fields.length <= limits.hashMaxListpackEntries;
      for (let i = 0; compact && i < fields.length; i++) {
        const [f, val] = fields[i];
        if (f.length > limits.hashMaxListpackValue || val.length > limits.hashMaxListpackValue) compact = false;
      }
      const h = HashValue.fromDistinctEntries(fields, compact);
      if (h === null) throw new RdbValueError(`duplicate hash field`);
      return h;
    }
    case "set": {
      const members = v.members;
      let intset = members.length <= limits.setMaxIntsetEntries;
      for (let i = 0; intset && i < members.length; i++) intset = isCanonicalInt64(members[i]);
      const s = SetValue.fromDistinctMembers(members, intset);
      if (s === null) throw new RdbValueError(`duplicate set member`);
      return s;
    }
    case "zset":
      return zsetFromRdb(v.entries, limits);
    case "stream":
      return streamFromRdb(v, limits, rdbVersion);
  }
}

function zsetFromRdb(entries: [string, number][], limits: EncodingLimits): ZSetValue {
  const n = entries.length;
  let ascending = true;
  let descending = true;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    if (entries[i][0].length > longest) longest = entries[i][0].length;
    if (i === 0) continue;
    const c = compareEntries(entries[i - 1][1], entries[i - 1][0], entries[i][1], entries[i][0]);
    if (c >= 0) ascending = false;
    if (c <= 0) descending = false;
  }
  let ordered = entries;
  if (!ascending) {
    // Redis writes skiplist-encoded sets from the tail: a descending run is reversed, anything
    // else is sorted.
    ordered = entries.slice();
    if (descending) ordered.reverse();
    else ordered.sort((a, b) => compareEntries(a[1], a[0], b[1], b[0]));
  }
  const members = new Array<string>(n);
  const scores = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    members[i] = ordered[i][0];
    scores[i] = ordered[i][1];
  }
  const z = ZSetValue.fromSorted(members, scores);
  z.listpack = n <= limits.zsetMaxListpackEntries && longest <= limits.zsetMaxListpackValue;
  return z;
}

function streamFromRdb(v: RdbStreamValue, limits: EncodingLimits, rdbVersion: number): StreamValue {
  const s = new StreamValue();
  for (const e of v.entries) s.append(e.id, e.fields, limits.streamNode);
  s.lastId = v.lastId;
  s.firstId = v.firstId;
  s.maxDeletedId = v.maxDeletedId;
  s.entriesAdded = v.entriesAdded;
  for (const g of v.groups) {
    const entriesRead = rdbVersion < 10 ? s.estimateDistanceFromFirstEverEntry(g.lastId) : g.entriesRead;
    const group = s.createGroup(g.name, g.lastId, entriesRead);
    if (group === null) throw new RdbValueError(`duplicate consumer group ${JSON.stringify(g.name)}`);
    for (const p of g.pending) {
      const nack: StreamNack = { consumer: null, deliveryTime: p.deliveryTimeMs, deliveryCount: p.deliveryCount };
      if (!group.pel.set(idKey(p.id), nack)) throw new RdbValueError(`duplicate group PEL entry`);
    }
    for (const c of g.consumers) {
      const consumer = group.createConsumer(c.name, c.seenTimeMs);
      if (consumer === null) throw new RdbValueError(`duplicate consumer ${JSON.stringify(c.name)}`);
      consumer.activeTime = c.activeTimeMs;
      for (const id of c.pending) {
        const k = idKey(id);
        const nack = group.pel.get(k);
        if (nack === undefined || nack.consumer !== null) {
          throw new RdbValueError(`consumer PEL entry not pending in the group (or owned twice)`);
        }
        nack.consumer = consumer;
        consumer.pel.set(k, nack);
      }
    }
    for (const [, nack] of group.pel.entries()) {
      if (nack.consumer === null) throw new RdbValueError(`group PEL entry without a consumer`);
    }
  }
  return s;
}
