/**
 * Store: the whole keyspace, split into shards.
 *
 * Owns: the shards, key → shard routing, cross-shard operations (FLUSHALL, SWAPDB, SCAN
 * cursors, active expiry scheduling). Invariants: `slice(db, key)` is the only way to find
 * where a key lives; cross-shard commands run to completion on the single event loop, so
 * they are atomic with respect to every client.
 */
import { shardOf } from "./key_hash.ts";
import { Shard, type ShardHost } from "./shard.ts";
import type { DbSlice } from "./db_slice.ts";
import { AccessTracker } from "./access.ts";
import type { StringMap } from "./string_map.ts";
import type { Value } from "./values.ts";
import type { StringMapKeyIterator } from "./string_map.ts";

/** Per-database key/expire counts for INFO keyspace. */
export interface KeyspaceStats {
  /** Keys in the database. */
  keys: number;
  /** Keys with a TTL. */
  expires: number;
}

interface ScanState {
  shard: number;
  it: StringMapKeyIterator;
  db: number;
}

const MAX_SCAN_CURSORS = 16 * 1024;

/** A keyspace's keys, values and access stamps, in order (for SWAPDB). */
interface StampedEntries {
  keys: string[];
  values: Value[];
  stamps: number[];
}

function stampedEntries(map: StringMap<Value>): StampedEntries {
  const out: StampedEntries = { keys: [], values: [], stamps: [] };
  for (const key of map.keys()) {
    const e = map.entryOf(key);
    out.keys.push(key);
    out.values.push(map.valueAt(e));
    out.stamps.push(map.stampAt(e));
  }
  return out;
}

function refill(map: StringMap<Value>, entries: StampedEntries): void {
  for (let i = 0; i < entries.keys.length; i++) {
    map.setStampAt(map.put(entries.keys[i], entries.values[i]), entries.stamps[i]);
  }
}

/** All shards and the routing between keys and shards. */
export class Store {
  /** The shards, indexed by shard id. */
  readonly shards: Shard[];
  /** Change counter shared by all shards: bumped before every key change. */
  private readonly counters = { dirty: 0 };
  /** Access stamps (LRU clock / LFU counters) of every key: policy, clocks, touch switch. */
  readonly access = new AccessTracker();
  private scans = new Map<number, ScanState>();
  private nextScanId = 1;

  /** Creates `numShards` shards, each with `dbCount` databases, sharing one change counter. */
  constructor(readonly numShards: number, readonly dbCount: number, host: ShardHost) {
    this.shards = [];
    for (let i = 0; i < numShards; i++) this.shards.push(new Shard(i, dbCount, host, this.counters, this.access));
  }

  /** Number of key changes since start (Redis's `server.dirty`). */
  get dirty(): number {
    return this.counters.dirty;
  }

  /** The DbSlice holding `key` in database `db`. */
  slice(db: number, key: string): DbSlice {
    return this.shards[shardOf(key, this.numShards)].dbs[db];
  }

  /** Every shard's slice of database `db`. */
  slices(db: number): DbSlice[] {
    return this.shards.map((s) => s.dbs[db]);
  }

  /** Keys in database `db` over all shards. */
  dbSize(db: number): number {
    let n = 0;
    for (const s of this.shards) n += s.dbs[db].size;
    return n;
  }

  /** Keys and expires per non-empty database. */
  keyspace(): Map<number, KeyspaceStats> {
    const out = new Map<number, KeyspaceStats>();
    for (let db = 0; db < this.dbCount; db++) {
      let keys = 0;
      let expires = 0;
      for (const s of this.shards) {
        keys += s.dbs[db].size;
        expires += s.dbs[db].expires.size;
      }
      if (keys > 0) out.set(db, { keys, expires });
    }
    return out;
  }

  /** Empties database `db`. */
  flushDb(db: number): void {
    for (const s of this.shards) s.dbs[db].flush();
  }

  /** Empties every database. */
  flushAll(): void {
    for (let db = 0; db < this.dbCount; db++) this.flushDb(db);
    this.scans.clear();
  }

  /**
   * Swaps the contents of two databases on every shard. Watchers and hooks of both see a
   * write on every key involved.
   */
  swapDb(a: number, b: number): void {
    if (a === b) return;
    for (const s of this.shards) {
      const x = s.dbs[a];
      const y = s.dbs[b];
      for (const k of x.data.keys()) x.beforeWrite(k);
      for (const k of y.data.keys()) y.beforeWrite(k);
      // Snapshot hooks see the keys arriving from the other side as created (absent before).
      for (const hook of s.preWriteHooks) {
        for (const k of y.data.keys()) if (!x.data.has(k)) hook(x, k);
        for (const k of x.data.keys()) if (!y.data.has(k)) hook(y, k);
      }
      // A watched key changes when it exists on either side (Redis's touchAllWatchedKeysInDb).
      if (x.watched) {
        for (const k of x.watched.keys()) if (!x.data.has(k) && y.data.has(k)) x.beforeWrite(k);
      }
      if (y.watched) {
        for (const k of y.watched.keys()) if (!y.data.has(k) && x.data.has(k)) y.beforeWrite(k);
      }
      // Values move with their access stamps (Redis swaps the dicts, objects and all).
      const xd = stampedEntries(x.data);
      const yd = stampedEntries(y.data);
      const xe = [...x.expires];
      x.data.clear();
      x.expires.clear();
      refill(x.data, yd);
      for (const [k, v] of y.expires) x.expires.set(k, v);
      y.data.clear();
      y.expires.clear();
      refill(y.data, xd);
      for (const [k, v] of xe) y.expires.set(k, v);
      x.expireCursor = null;
      y.expireCursor = null;
    }
  }

  /**
   * One SCAN step over database `db`: returns up to about `count` candidate keys and the
   * next cursor ("0" when done). Cursors are server-side iterators over live maps, so a key
   * present for the whole scan is returned; unknown cursors restart at their shard.
   */
  scan(
    db: number,
    cursor: number,
    count: number,
    accept: (key: string, slice: DbSlice) => boolean,
  ): [number, string[]] {
    let state: ScanState | undefined;
    let id = cursor;
    if (cursor !== 0) {
      state = this.scans.get(cursor);
      this.scans.delete(cursor);
    }
    if (state === undefined || state.db !== db) {
      const shard = cursor === 0 ? 0 : Math.abs(cursor) % this.numShards;
      state = { shard, it: this.shards[shard].dbs[db].data.keys(), db };
    }
    const out: string[] = [];
    let visited = 0;
    while (visited < count) {
      const key = state.it.nextKey();
      if (key === undefined) {
        state.shard++;
        if (state.shard >= this.numShards) return [0, out];
        state.it = this.shards[state.shard].dbs[db].data.keys();
        continue;
      }
      visited++;
      const slice = this.shards[state.shard].dbs[db];
      if (accept(key, slice)) out.push(key);
    }
    if (this.scans.size >= MAX_SCAN_CURSORS) {
      const oldest = this.scans.keys().next().value!;
      this.scans.delete(oldest);
    }
    id = this.nextScanId++ * this.numShards + state.shard;
    if (id > Number.MAX_SAFE_INTEGER / 2) this.nextScanId = 1;
    this.scans.set(id, state);
    return [id, out];
  }
}
