/**
 * Full-sync glue between the store and the flow codec: a point-in-time walk of one shard that
 * emits RDB entries (primary side), and loading of received entries into the store (replica
 * side).
 *
 * Invariants: the walk's cut is the moment `startShardSnapshot` returns: a key changed later is
 * emitted with its value at the cut before the change happens (pre-write hook), a key created
 * later is never emitted (the journal carries it); every key present at the cut is emitted
 * exactly once; the walk yields to the event loop between batches and waits while the sink's
 * back-pressure callback says so.
 */
import type { Shard } from "../store/shard.ts";
import type { DbSlice } from "../store/db_slice.ts";
import type { Server } from "../server/server.ts";
import type { RdbEntry } from "../rdb/records.ts";
import type { RdbWritableEntry } from "../rdb/writer.ts";

/** A running snapshot of one shard. */
export interface ShardSnapshot {
  /** Settles when every key of the cut was emitted (rejects on failure). */
  readonly done: Promise<void>;
  /** Keys emitted so far. */
  readonly entries: number;
  /** True while the walk waits for the sink to drain. */
  readonly waiting: boolean;
  /** Stops the walk (done then settles). */
  cancel(): void;
}

const BATCH = 512;

/**
 * Starts a point-in-time walk of `shard`: `emit` receives every key present now (db, entry);
 * `backpressure` is asked after each batch and may return a promise to wait for.
 */
export function startShardSnapshot(
  shard: Shard,
  emit: (db: number, entry: RdbWritableEntry) => void,
  backpressure: () => Promise<void> | undefined,
): ShardSnapshot {
  const pending: Set<string>[] = shard.dbs.map((db) => new Set(db.data.keys()));
  let entries = 0;
  let waiting = false;
  let cancelled = false;
  const emitKey = (slice: DbSlice, key: string) => {
    const v = slice.data.get(key);
    if (v === undefined || typeof v !== "string") return;
    const at = slice.expires.get(key);
    emit(slice.dbIndex, { key, value: { type: "string", value: v }, expireAtMs: at });
    entries++;
  };
  const hook = (slice: DbSlice, key: string) => {
    const set = pending[slice.dbIndex];
    if (set.delete(key)) emitKey(slice, key);
  };
  shard.preWriteHooks.push(hook);
  const removeHook = () => {
    const i = shard.preWriteHooks.indexOf(hook);
    if (i >= 0) shard.preWriteHooks.splice(i, 1);
  };
  const walk = async () => {
    try {
      for (let db = 0; db < pending.length; db++) {
        const set = pending[db];
        const slice = shard.dbs[db];
        while (set.size > 0 && !cancelled) {
          let n = 0;
          for (const key of set) {
            set.delete(key);
            emitKey(slice, key);
            if (++n >= BATCH) break;
          }
          const wait = backpressure();
          if (wait !== undefined) {
            waiting = true;
            await wait;
            waiting = false;
          } else {
            await new Promise((r) => setTimeout(r, 0));
          }
        }
      }
    } finally {
      removeHook();
    }
  };
  const done = walk();
  return {
    done,
    get entries() {
      return entries;
    },
    get waiting() {
      return waiting;
    },
    cancel() {
      cancelled = true;
    },
  };
}

/** Loads one received snapshot entry into the replica's store (by its own hashing); false if skipped. */
export function loadReplicatedEntry(server: Server, entry: RdbEntry): boolean {
  if (entry.db >= server.store.dbCount || entry.value.type !== "string") return false;
  server.store.slice(entry.db, entry.key).set(entry.key, entry.value.value, entry.expireAtMs);
  return true;
}
