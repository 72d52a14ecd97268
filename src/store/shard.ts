/**
 * Shard: an independent slice of the keyspace across all databases.
 *
 * Owns: one DbSlice per database, the hooks that observe writes (snapshots, journal), and
 * the expiry and eviction reporting of its keys. Invariants: a key lives on exactly one shard (see
 * key_hash.ts); nothing outside the store reaches into another shard's maps directly.
 */
import { DbSlice, type PreWriteHook } from "./db_slice.ts";
import type { AccessTracker } from "./access.ts";

/** Environment a shard needs from the server: role, clock, expiry and eviction reporting. */
export interface ShardHost {
  /** True while this server is a replica (expired keys are hidden, not deleted). */
  isReplica(): boolean;
  /** Called after a key was removed because it expired. */
  onExpired(shard: Shard, db: number, key: string): void;
  /** Called after a key was removed to stay within maxmemory. */
  onEvicted(shard: Shard, db: number, key: string): void;
}

/** One shard: DbSlices for every database plus write observers. */
export class Shard {
  /** DbSlice per database index. */
  readonly dbs: DbSlice[];
  /** Hooks run before any key of this shard changes (snapshot writers add themselves). */
  readonly preWriteHooks: PreWriteHook[] = [];
  /** Shared change counter of the whole store (bumped before every key change). */
  readonly counters: { dirty: number };
  /** Current time in ms; replaceable in tests. */
  clock: () => number = Date.now;
  /** Access-stamp state shared by the whole store (LRU/LFU, touch switch, cached clocks). */
  readonly access: AccessTracker;

  /**
   * Creates shard `index` with `dbCount` empty databases, the store-wide change counter and
   * access tracker.
   */
  constructor(
    readonly index: number,
    dbCount: number,
    private host: ShardHost,
    counters: { dirty: number },
    access: AccessTracker,
  ) {
    this.counters = counters;
    this.access = access;
    this.dbs = [];
    for (let i = 0; i < dbCount; i++) this.dbs.push(new DbSlice(this, i));
  }

  /** Whether expired keys must be kept until the primary deletes them. */
  isReplica(): boolean {
    return this.host.isReplica();
  }

  /** Reports an expired key (journaled as DEL by the host). */
  onExpired(slice: DbSlice, key: string): void {
    this.host.onExpired(this, slice.dbIndex, key);
  }

  /** Reports an evicted key (journaled as DEL by the host). */
  onEvicted(slice: DbSlice, key: string): void {
    this.host.onEvicted(this, slice.dbIndex, key);
  }

  /** Total keys over all databases. */
  keyCount(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }
}
