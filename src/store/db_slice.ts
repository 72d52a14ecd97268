/**
 * DbSlice: one logical database's keys on one shard.
 *
 * Owns: the key → value map and the key → absolute-expiry (ms) map of that db on that shard,
 * and each key's access stamp (LRU clock or LFU counter, src/store/access.ts).
 * Invariants: every mutation goes through this class, and `beforeWrite` runs before a key's
 * value is changed, replaced or removed (WATCH invalidation and point-in-time snapshots hang
 * off it); an expired key is never returned; on a replica, expired keys are hidden but only
 * deleted when the primary's journal says so. Stamps follow Redis's lookupKey and object
 * creation: a lookup (`get` and everything built on it) is an access unless the running
 * command does not touch keys; a new key gets "now" (LRU) or LFU_INIT_VAL (LFU); an overwrite
 * gets "now" under LRU and keeps its counter under LFU (Redis's dbSetValue), counting one access.
 * The stamp's two high bits say how a string value was made (OBJECT ENCODING): `set` and
 * `loadSet` clear them, accesses keep them, `replaceValue` and `setStringMade` set them.
 */
import type { Shard } from "./shard.ts";
import { STRING_MADE_BY_VALUE, unsharedWithoutChange, type Value } from "./values.ts";
import { StringMap } from "./string_map.ts";
import { type AccessTracker, STAMP_ACCESS_MASK, STAMP_MADE_SHIFT } from "./access.ts";

/** Callback run before a key is modified; receives the slice and the key. */
export type PreWriteHook = (slice: DbSlice, key: string) => void;

/** One database's portion of one shard. */
export class DbSlice {
  /** Key → value. */
  readonly data = new StringMap<Value>();
  /** Key → absolute expiry time in ms since the epoch (only keys with a TTL). */
  readonly expires = new StringMap<number>();
  /** Keys watched by MULTI clients → callbacks that mark them dirty. */
  watched: Map<string, Set<() => void>> | null = null;
  /** Round-robin position of the active expiry cycle. */
  expireCursor: Iterator<[string, number]> | null = null;
  /** The store's access-stamp state (policy, cached clocks, touch switch). */
  readonly access: AccessTracker;
  /**
   * Entry number in `data` of the key `get` found last (-1 after a miss): `replaceValue` right
   * after a `get` of the same key (INCR, APPEND, ...) reuses it instead of hashing and probing
   * again. It is only a hint, checked against the entry's key before use.
   */
  private lastEntry = -1;

  /** Creates the empty database `dbIndex` of `shard`. */
  constructor(readonly shard: Shard, readonly dbIndex: number) {
    this.access = shard.access;
  }

  /** Number of keys (including logically expired ones not yet removed). */
  get size(): number {
    return this.data.size;
  }

  /** Prepares for about `keys` keys, `withTtl` of them with a TTL (a loader's size hint). */
  reserve(keys: number, withTtl: number): void {
    this.data.reserve(keys);
    if (withTtl > 0) this.expires.reserve(withTtl);
  }

  /** Runs the pre-write hooks for `key`. Call before mutating a value in place. */
  beforeWrite(key: string): void {
    this.shard.counters.dirty++;
    this.runWriteHooks(key);
  }

  /** Runs the pre-write hooks and the watchers of `key`, without counting a write. */
  private runWriteHooks(key: string): void {
    const hooks = this.shard.preWriteHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](this, key);
    if (this.watched !== null) {
      const w = this.watched.get(key);
      if (w !== undefined) {
        for (const cb of w) cb();
      }
    }
  }

  /** True when `key` has a TTL in the past. */
  isExpired(key: string, now = Date.now()): boolean {
    if (this.expires.size === 0) return false;
    const at = this.expires.get(key);
    return at !== undefined && at <= now;
  }

  /**
   * Handles an expired key found on access: a primary deletes it (and journals a DEL via the
   * shard); a replica leaves it for the primary's DEL. Returns true if `key` is expired.
   */
  private expireIfNeeded(key: string): boolean {
    const at = this.expires.get(key);
    if (at === undefined || at > this.shard.clock()) return false;
    if (!this.shard.isReplica()) this.removeExpired(key);
    return true;
  }

  /**
   * Deletes an expired key and reports it (journal DEL, stats, notifications). Hooks and
   * watchers run as for any write, but the dirty counter does not move (as in Redis): the
   * command that found the key expired has not written, and is not propagated for it.
   */
  removeExpired(key: string): void {
    this.runWriteHooks(key);
    this.data.delete(key);
    this.expires.delete(key);
    this.shard.onExpired(this, key);
  }

  /** Deletes a key to stay within maxmemory and reports it (journal DEL, stats, notifications). */
  evict(key: string): void {
    this.beforeWrite(key);
    this.data.delete(key);
    if (this.expires.size !== 0) this.expires.delete(key);
    this.shard.onEvicted(this, key);
  }

  /** Reads a value (an access: it updates the key's stamp); expired keys read as absent. */
  get(key: string): Value | undefined {
    const data = this.data;
    const e = data.entryOf(key);
    this.lastEntry = e;
    if (e < 0) return undefined;
    // A live key is not removed here, so `e` stays valid.
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    const a = this.access;
    if (a.touch) {
      // An access replaces the access part of the stamp and keeps the string-made bits.
      const stamp = data.stampAt(e);
      if (a.lfu) {
        data.setStampAt(e, (stamp & ~STAMP_ACCESS_MASK) | a.lfuTouched(stamp));
        a.touchedKey = key;
      } else {
        data.setStampAt(e, (stamp & ~STAMP_ACCESS_MASK) | a.lruClock);
      }
    }
    return data.valueAt(e);
  }

  /** True when the key exists and is not expired. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Reads a value that the caller is about to mutate in place; runs the pre-write hooks. */
  getForWrite(key: string): Value | undefined {
    const v = this.get(key);
    if (v !== undefined) this.beforeWrite(key);
    return v;
  }

  /**
   * Stores a value. `expireAt` undefined clears any TTL; null keeps the existing TTL
   * (KEEPTTL); a number sets an absolute ms expiry.
   */
  set(key: string, value: Value, expireAt: number | null | undefined = undefined): void {
    // An expired key is expired (reported and journaled) before it is overwritten, as Redis's
    // setKey looks the key up first.
    if (this.expires.size !== 0) this.expireIfNeeded(key);
    this.beforeWrite(key);
    if (expireAt === null) {
      if (this.expires.size !== 0 && this.isExpired(key)) this.expires.delete(key);
    } else if (expireAt === undefined) {
      if (this.expires.size !== 0) this.expires.delete(key);
    } else {
      this.expires.set(key, expireAt);
    }
    const data = this.data;
    const before = data.size;
    const e = data.put(key, value);
    this.stampStored(key, e, data.size !== before);
  }

  /**
   * Stamps entry `e` of `key` after a store: a new key gets "now", an overwrite Redis's rule.
   * The new value is a string made by value (or not a string): the string-made bits are cleared.
   */
  private stampStored(key: string, e: number, added: boolean): void {
    const a = this.access;
    const data = this.data;
    if (added || !a.lfu) data.setStampAt(e, a.freshStamp);
    else {
      const stamp = data.stampAt(e) & STAMP_ACCESS_MASK;
      data.setStampAt(e, a.touch && a.touchedKey !== key ? a.lfuTouched(stamp) : stamp);
    }
  }

  /**
   * Stores a loaded key (RDB load, full sync): the same effect as `set(key, value, expireAt)`, but
   * returns false when the key already existed, and skips the TTL-map lookup for a new key without
   * a TTL (the common case of a load, where the extra miss in `expires` is a large share of the
   * cost). Hooks and watchers still run, but only when some are registered.
   */
  loadSet(key: string, value: Value, expireAt: number | undefined): boolean {
    if (this.shard.preWriteHooks.length !== 0 || this.watched !== null) this.beforeWrite(key);
    else this.shard.counters.dirty++;
    const data = this.data;
    const before = data.size;
    const e = data.put(key, value);
    const added = data.size !== before;
    this.stampStored(key, e, added);
    if (expireAt !== undefined) this.expires.set(key, expireAt);
    else if (!added && this.expires.size !== 0) this.expires.delete(key);
    return added;
  }

  /**
   * Sets the access stamp of a stored key from RDB IDLE/FREQ metadata or RESTORE's IDLETIME/FREQ
   * (seconds idle, LFU counter); the one the policy does not use is ignored, as in Redis.
   */
  restoreAccess(key: string, idleSec: number | undefined, freq: number | undefined): void {
    const e = this.data.entryOf(key);
    if (e < 0) return;
    const stamp = this.access.restoredStamp(idleSec, freq);
    if (stamp >= 0) this.data.setStampAt(e, (this.data.stampAt(e) & ~STAMP_ACCESS_MASK) | stamp);
  }

  /**
   * The whole stamp of `key`, string-made bits included (expired or not; no access is counted),
   * or -1 when absent. AccessTracker's readers mask the access part themselves.
   */
  accessStamp(key: string): number {
    const e = this.data.entryOf(key);
    return e < 0 ? -1 : this.data.stampAt(e);
  }

  /** Sets the access stamp of a stored key (a value moved here by RENAME or MOVE keeps its own). */
  setAccessStamp(key: string, stamp: number): void {
    const e = this.data.entryOf(key);
    if (e >= 0) this.data.setStampAt(e, stamp);
  }

  /**
   * Replaces the value of an existing key after an in-place-incompatible change, keeping its TTL
   * and access stamp; a string value is recorded as made `made` (a STRING_MADE_* value).
   */
  replaceValue(key: string, value: Value, made: number = STRING_MADE_BY_VALUE): void {
    this.beforeWrite(key);
    const data = this.data;
    let e = this.lastEntry;
    // Keys are unique, so an entry holding `key` is the entry of `key`.
    if (e >= 0 && data.keyAt(e) === key) data.setValueAt(e, value);
    else e = data.put(key, value);
    data.setStampAt(e, (data.stampAt(e) & STAMP_ACCESS_MASK) | (made << STAMP_MADE_SHIFT));
  }

  /**
   * How the string stored under `key` was made (a STRING_MADE_* value, from the stamp's spare
   * bits; STRING_MADE_BY_VALUE for an absent key). No access is counted.
   */
  stringMade(key: string): number {
    const e = this.data.entryOf(key);
    return e < 0 ? STRING_MADE_BY_VALUE : this.data.stampAt(e) >>> STAMP_MADE_SHIFT;
  }

  /**
   * Records how the string stored under `key` was made (after `set`, which records
   * STRING_MADE_BY_VALUE, or for Redis's dbUnshareStringValue without a change). Not a write:
   * the value and what a snapshot or replica sees of it stay the same.
   */
  setStringMade(key: string, made: number): void {
    const data = this.data;
    const e = data.entryOf(key);
    if (e >= 0) data.setStampAt(e, (data.stampAt(e) & STAMP_ACCESS_MASK) | (made << STAMP_MADE_SHIFT));
  }

  /**
   * Redis's dbUnshareStringValue for a write that then changed nothing and is not propagated:
   * the string under `key` is raw here from now on, while replicas keep it as it was made
   * (STRING_MADE_RAW_UNREPLICATED).
   */
  unshareUnchanged(key: string): void {
    this.setStringMade(key, unsharedWithoutChange(this.stringMade(key)));
  }

  /**
   * Removes a key; returns whether a live key was removed. On a replica an expired key stays
   * until the primary's DEL, which removes it here.
   */
  delete(key: string): boolean {
    if (this.get(key) === undefined) {
      if (this.data.has(key) && this.shard.isReplica()) {
        this.beforeWrite(key);
        this.data.delete(key);
        this.expires.delete(key);
      }
      return false;
    }
    this.beforeWrite(key);
    this.data.delete(key);
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  /** Absolute expiry in ms, or undefined when the key has no TTL. */
  getExpire(key: string): number | undefined {
    return this.expires.size === 0 ? undefined : this.expires.get(key);
  }

  /** Sets or clears (undefined) the absolute expiry of an existing key. */
  setExpire(key: string, at: number | undefined): void {
    this.beforeWrite(key);
    if (at === undefined) this.expires.delete(key);
    else this.expires.set(key, at);
  }

  /** Removes every key; runs the hooks of every existing key first (absent keys do not change). */
  flush(): void {
    this.shard.counters.dirty += this.data.size + 1;
    if (this.shard.preWriteHooks.length !== 0) {
      for (const k of this.data.keys()) this.beforeWrite(k);
    } else if (this.watched !== null) {
      for (const k of this.watched.keys()) if (this.data.has(k)) this.beforeWrite(k);
    }
    this.data.clear();
    this.expires.clear();
    this.expireCursor = null;
  }

  /** Registers a watch callback for `key`; returns a function that removes it. */
  watch(key: string, onTouch: () => void): () => void {
    if (this.watched === null) this.watched = new Map();
    let set = this.watched.get(key);
    if (set === undefined) this.watched.set(key, set = new Set());
    set.add(onTouch);
    return () => {
      const s = this.watched?.get(key);
      if (s === undefined) return;
      s.delete(onTouch);
      if (s.size === 0) this.watched!.delete(key);
      if (this.watched!.size === 0) this.watched = null;
    };
  }

  /**
   * Samples keys with a TTL and removes the expired ones, like Redis's active expiry.
   * Returns [sampled, expired].
   */
  activeExpire(maxSamples: number, now: number): [number, number] {
    if (this.expires.size === 0) return [0, 0];
    let sampled = 0;
    let expired = 0;
    if (this.expireCursor === null) this.expireCursor = this.expires.entries();
    while (sampled < maxSamples) {
      const r = this.expireCursor.next();
      if (r.done) {
        this.expireCursor = this.expires.entries();
        break;
      }
      sampled++;
      const [key, at] = r.value;
      if (at <= now) {
        this.removeExpired(key);
        expired++;
      }
    }
    return [sampled, expired];
  }
}
