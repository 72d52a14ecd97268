/**
 * StringMap: an insertion-ordered hash map from strings to values, for keyspaces and big collections.
 *
 * Why not V8's Map: Map.get/set/has/delete internalize every string key that is not already
 * internalized (a runtime call and a probe of the isolate-wide string table, with a cache miss
 * per probe step). Keys parsed off the network never are, so every keyspace access paid that,
 * and every stored key also grew the string table. This map hashes in JavaScript, keeps the
 * hashes inline in its index, and compares keys with `===` only when the hashes match.
 *
 * The index also keeps each slot's key in `slotKeys`, next to (not behind) the entry number: a
 * lookup in a large map then waits for two cache misses in a row (the slot, then the key's
 * characters) instead of three (the slot, the entry, the key), since the CPU loads the slot's
 * hash and key at once. That costs 8 bytes per slot. A map reserved empty for many keys (an
 * RDB load) skips them until its first lookup, which rebuilds them in one pass.
 *
 * Each entry also carries an access stamp, a small integer its owner may use (the keyspace keeps
 * Redis's LRU clock or LFU counter there, for OBJECT IDLETIME/FREQ and eviction); it sits next
 * to the value, so keeping it up to date costs no extra cache miss.
 *
 * Invariants: entries live in insertion order in `kv` (key, value, stamp triples; a deleted
 * entry holds `undefined` as its key); the open-addressing index has twice as many slots as the entry
 * capacity, so its load (live slots plus tombstones) never exceeds one half; iteration follows
 * Map's contract: entries added during an iteration are visited, deleted ones are not, and a
 * live iterator keeps its place across rehashes and `clear()`.
 */

const EMPTY = 0;
const DELETED = -1;
const MIN_CAPACITY = 4;
/** Slots per entry in `kv`: key, value, access stamp. */
const STRIDE = 3;
/** Most entries `reserve` prepares for at once (an index of 32 MB). */
const MAX_RESERVE = 1 << 22;

/** Reserved size from which an empty map is treated as bulk-loaded (see `reserve`). */
const BULK_LOAD_MIN = 1 << 12;

/** Random per-process seed, so that colliding key sets cannot be precomputed. */
const SEED = (Math.random() * 0x100000000) | 0;

/** Initial state of `hashString`'s FNV-1a loop (the seed folded into the offset basis). */
export const HASH_BASIS: number = SEED ^ 0x811c9dc5;

/** `hashString`'s final mix of its FNV-1a state `h`. */
export function finishHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** The last key hashed ahead of time by `primeHash`, and its hash. */
let primedKey: string | null = null;
let primedHash = 0;

/**
 * Records that `hashString(s)` is `h`, computed by a caller that walked `s` anyway: the key router
 * (src/store/key_hash.ts) hashes a key for its shard and for its keyspace map in one loop, and
 * the keyspace lookup that follows then finds the hash here instead of walking the key again.
 */
export function primeHash(s: string, h: number): void {
  primedKey = s;
  primedHash = h;
}

/** The 32-bit hash StringMap uses for `s` (FNV-1a over UTF-16 code units, with a final mix). */
export function hashString(s: string): number {
  if (s === primedKey) return primedHash;
  let h = HASH_BASIS;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return finishHash(h);
}

/** An index's key array of `slots` empty slots (packed, so that reads need no hole checks). */
function newSlotKeys(slots: number): (string | undefined)[] {
  return new Array<string | undefined>(slots).fill(undefined);
}

const enum IterKind {
  Keys,
  Values,
  Entries,
}

/** A key iterator of a StringMap that can also step without allocating a result object. */
export interface StringMapKeyIterator extends IterableIterator<string> {
  /** The next key, or undefined at the end. */
  nextKey(): string | undefined;
}

/** A live iterator over a StringMap (keys, values or entries), robust to concurrent changes. */
class StringMapIterator<V, T> implements IterableIterator<T> {
  /** Next entry position to look at. */
  pos = 0;
  private finished = false;
  /** The registry handle, dropped when the iteration ends. */
  ref: WeakRef<StringMapIterator<V, T>> | null = null;

  constructor(private readonly map: StringMap<V>, private readonly kind: IterKind) {}

  /** Advances to the next live entry. */
  next(): IteratorResult<T> {
    const e = this.advance();
    if (e < 0) return { value: undefined, done: true };
    const kv = this.map.kvArray();
    const k = kv[STRIDE * e];
    const value = this.kind === IterKind.Keys
      ? k
      : this.kind === IterKind.Values
      ? kv[STRIDE * e + 1]
      : [k, kv[STRIDE * e + 1]];
    return { value: value as T, done: false };
  }

  /**
   * The next key, or undefined at the end: `next()` without a result object, for walks over
   * millions of keys (snapshots, SCAN) that should not leave one object of garbage per key.
   */
  nextKey(): string | undefined {
    const e = this.advance();
    return e < 0 ? undefined : this.map.kvArray()[STRIDE * e] as string;
  }

  /** Moves past the next live entry and returns its number, or -1 (and ends) at the end. */
  private advance(): number {
    if (this.finished) return -1;
    const kv = this.map.kvArray();
    const used = kv.length / STRIDE;
    while (this.pos < used) {
      const e = this.pos++;
      if (kv[STRIDE * e] !== undefined) return e;
    }
    this.end();
    return -1;
  }

  /** Ends the iteration early (for-of `break`). */
  return(): IteratorResult<T> {
    this.end();
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    this.map.unregister(this);
  }
}

/** Insertion-ordered string-keyed map with Map's API and iteration semantics (see the file comment). */
export class StringMap<V> implements Iterable<[string, V]> {
  /** Two ints per slot: the key's hash and its entry number + 1 (0 empty, -1 deleted). */
  private index: Int32Array;
  /**
   * The key of each live slot (undefined for empty and deleted slots); null while a bulk load
   * fills the map (see `reserve`), until the first lookup rebuilds it.
   */
  private slotKeys: (string | undefined)[] | null;
  private mask: number;
  /** Entries the index is sized for; `kv` is rehashed when it holds this many (live or deleted). */
  private capacity: number;
  /** key0, value0, stamp0, key1, value1, stamp1, …; a deleted entry has an undefined key. */
  private kv: unknown[] = [];
  private live = 0;
  /** Iterators that may still be advanced (weakly held: an abandoned cursor costs nothing). */
  private iterators: Set<WeakRef<StringMapIterator<V, unknown>>> | null = null;

  /** Creates an empty map, optionally filled from `entries`. */
  constructor(entries?: Iterable<readonly [string, V]>) {
    this.capacity = MIN_CAPACITY;
    this.mask = 2 * MIN_CAPACITY - 1;
    this.index = new Int32Array(4 * MIN_CAPACITY);
    this.slotKeys = newSlotKeys(2 * MIN_CAPACITY);
    if (entries !== undefined) { for (const [k, v] of entries) this.set(k, v); }
  }

  /** Number of entries. */
  get size(): number {
    return this.live;
  }

  /** Slot of `key` in the index, or -1. */
  private find(key: string, h: number): number {
    const index = this.index;
    const mask = this.mask;
    const slotKeys = this.slotKeys ?? this.restoreSlotKeys();
    for (let s = h & mask;; s = (s + 1) & mask) {
      const e = index[2 * s + 1];
      if (e === EMPTY) return -1;
      if (e > 0 && index[2 * s] === h && slotKeys[s] === key) return s;
    }
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    const s = this.find(key, hashString(key));
    return s < 0 ? undefined : this.kv[STRIDE * (this.index[2 * s + 1] - 1) + 1] as V;
  }

  /**
   * The entry number of `key`, or -1. Entry numbers are valid until the next insertion or
   * deletion (either may rehash); use them at once with valueAt/stampAt/setStampAt.
   */
  entryOf(key: string): number {
    const s = this.find(key, hashString(key));
    return s < 0 ? -1 : this.index[2 * s + 1] - 1;
  }

  /** The value of entry `e` (from entryOf or put). */
  valueAt(e: number): V {
    return this.kv[STRIDE * e + 1] as V;
  }

  /** Replaces the value of live entry `e` (from entryOf or put), keeping its key, place and stamp. */
  setValueAt(e: number, value: V): void {
    this.kv[STRIDE * e + 1] = value;
  }

  /** The access stamp of entry `e`: a small integer the owner keeps with the key (0 when new). */
  stampAt(e: number): number {
    return this.kv[STRIDE * e + 2] as number;
  }

  /** Sets the access stamp of entry `e` (a small non-negative integer). */
  setStampAt(e: number, stamp: number): void {
    this.kv[STRIDE * e + 2] = stamp;
  }

  /** The key of live entry `e` (undefined for a deleted entry). */
  keyAt(e: number): string | undefined {
    return this.kv[STRIDE * e] as string | undefined;
  }

  /**
   * A random live entry, or -1 when the map is empty: a uniform position in the entry array,
   * moved forward to the next live entry (wrapping). Live entries fill at least 1/8 of the array
   * (deleted ones are compacted away before that), so the walk is short. Used for eviction
   * sampling; entries right after a run of deleted ones are somewhat more likely.
   */
  randomEntry(): number {
    if (this.live === 0) return -1;
    const kv = this.kv;
    const used = kv.length / STRIDE;
    let e = Math.floor(Math.random() * used);
    while (kv[STRIDE * e] === undefined) if (++e === used) e = 0;
    return e;
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.find(key, hashString(key)) >= 0;
  }

  /** Sets `key` to `value` (a new key goes to the end of the iteration order). */
  set(key: string, value: V): this {
    this.put(key, value);
    return this;
  }

  /**
   * Sets `key` to `value` and returns its entry number. A replaced value keeps the entry and its
   * stamp; a new key gets stamp 0 and goes to the end of the iteration order.
   */
  put(key: string, value: V): number {
    const h = hashString(key);
    let index = this.index;
    let mask = this.mask;
    const slotKeys = this.slotKeys;
    // One probe finds the key or the first reusable slot.
    let free = -1;
    let s = h & mask;
    for (;; s = (s + 1) & mask) {
      const e = index[2 * s + 1];
      if (e === EMPTY) break;
      if (e > 0) {
        if (index[2 * s] === h && (slotKeys !== null ? slotKeys[s] : this.kv[STRIDE * (e - 1)]) === key) {
          this.kv[STRIDE * (e - 1) + 1] = value;
          return e - 1;
        }
      } else if (free < 0) free = s;
    }
    if (free < 0) free = s;
    if (this.kv.length >= STRIDE * this.capacity) {
      // Full: grow if over half the entries are live, else just drop the deleted ones.
      this.rehash(this.live >= this.capacity >> 1 ? this.capacity * 2 : this.capacity);
      index = this.index;
      mask = this.mask;
      for (free = h & mask; index[2 * free + 1] !== EMPTY;) free = (free + 1) & mask;
    }
    const e = this.kv.length / STRIDE;
    this.kv.push(key, value, 0);
    index[2 * free] = h;
    index[2 * free + 1] = e + 1;
    if (this.slotKeys !== null) this.slotKeys[free] = key;
    this.live++;
    return e;
  }

  /**
   * Makes room for `n` entries in all (a hint from a loader that knows the count; capped so a
   * corrupt count cannot allocate much).
   */
  reserve(n: number): void {
    const want = Math.min(n, MAX_RESERVE);
    if (want <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < want) capacity *= 2;
    this.rehash(capacity);
    // An empty map reserved for many keys is being bulk-loaded: storing each new key in
    // `slotKeys` too would double the young-to-old pointer stores (a garbage collector cost) of
    // the load, so the slot keys are rebuilt once, by the first lookup, when the keys are old.
    if (this.live === 0 && want >= BULK_LOAD_MIN) this.slotKeys = null;
  }

  /** Rebuilds `slotKeys` from the index and the entries (after a bulk load); returns it. */
  private restoreSlotKeys(): (string | undefined)[] {
    const index = this.index;
    const kv = this.kv;
    const slotKeys = newSlotKeys(index.length / 2);
    for (let s = 0; s < slotKeys.length; s++) {
      const e = index[2 * s + 1];
      if (e > 0) slotKeys[s] = kv[STRIDE * (e - 1)] as string;
    }
    this.slotKeys = slotKeys;
    return slotKeys;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    const s = this.find(key, hashString(key));
    if (s < 0) return false;
    const e = this.index[2 * s + 1] - 1;
    this.index[2 * s + 1] = DELETED;
    this.slotKeys![s] = undefined;
    this.kv[STRIDE * e] = undefined;
    this.kv[STRIDE * e + 1] = undefined;
    this.live--;
    if (this.live * 8 < this.capacity && this.capacity > MIN_CAPACITY) {
      this.rehash(Math.max(MIN_CAPACITY, this.capacity >> 2));
    }
    return true;
  }

  /** Removes every entry; live iterators continue with whatever is added later. */
  clear(): void {
    this.kv = [];
    this.live = 0;
    this.capacity = MIN_CAPACITY;
    this.mask = 2 * MIN_CAPACITY - 1;
    this.index = new Int32Array(4 * MIN_CAPACITY);
    this.slotKeys = newSlotKeys(2 * MIN_CAPACITY);
    this.forEachIterator((it) => it.pos = 0);
  }

  /**
   * Rebuilds the index with room for `capacity` entries (a power of two, at least twice the live
   * count). Deleted entries, if any, are dropped from the entries first, moving every live
   * iterator to the same logical place; without any, the entries stay as they are (a map that
   * only grew keeps its entry array). The new index is filled from the old one, whose slots hold
   * each key's hash and key: no key is hashed, and no key string is read, again.
   */
  private rehash(capacity: number): void {
    const old = this.kv;
    const oldUsed = old.length / STRIDE;
    let remap: Int32Array | null = null;
    if (this.live !== oldUsed) {
      const cursors: StringMapIterator<V, unknown>[] = [];
      this.forEachIterator((it) => cursors.push(it));
      cursors.sort((a, b) => a.pos - b.pos);
      remap = new Int32Array(oldUsed);
      const kv: unknown[] = [];
      let c = 0;
      let w = 0;
      for (let e = 0; e < oldUsed; e++) {
        while (c < cursors.length && cursors[c].pos <= e) cursors[c++].pos = w;
        const k = old[STRIDE * e] as string | undefined;
        if (k === undefined) continue;
        kv.push(k, old[STRIDE * e + 1], old[STRIDE * e + 2]);
        remap[e] = w++;
      }
      while (c < cursors.length) cursors[c++].pos = w;
      this.kv = kv;
    }
    const oldIndex = this.index;
    const oldKeys = this.slotKeys;
    const oldSlots = oldIndex.length / 2;
    const mask = 2 * capacity - 1;
    const index = new Int32Array(4 * capacity);
    const slotKeys = oldKeys === null ? null : newSlotKeys(2 * capacity);
    for (let s = 0; s < oldSlots; s++) {
      const e = oldIndex[2 * s + 1];
      if (e <= 0) continue;
      const h = oldIndex[2 * s];
      let t = h & mask;
      while (index[2 * t + 1] !== EMPTY) t = (t + 1) & mask;
      index[2 * t] = h;
      index[2 * t + 1] = remap === null ? e : remap[e - 1] + 1;
      if (slotKeys !== null) slotKeys[t] = oldKeys![s];
    }
    this.index = index;
    this.slotKeys = slotKeys;
    this.mask = mask;
    this.capacity = capacity;
  }

  /** Calls `fn` for every iterator still alive, forgetting the collected ones. */
  private forEachIterator(fn: (it: StringMapIterator<V, unknown>) => void): void {
    if (this.iterators === null) return;
    for (const ref of this.iterators) {
      const it = ref.deref();
      if (it === undefined) this.iterators.delete(ref);
      else fn(it);
    }
    if (this.iterators.size === 0) this.iterators = null;
  }

  /** @internal The entry array, for iterators. */
  kvArray(): unknown[] {
    return this.kv;
  }

  /** @internal Forgets a finished iterator. */
  unregister(it: StringMapIterator<V, unknown>): void {
    if (it.ref === null || this.iterators === null) return;
    this.iterators.delete(it.ref);
    it.ref = null;
    if (this.iterators.size === 0) this.iterators = null;
  }

  /** A new registered iterator of `kind`. */
  private iterate<T>(kind: IterKind): StringMapIterator<V, T> {
    const it = new StringMapIterator<V, T>(this, kind);
    const ref = new WeakRef(it as StringMapIterator<V, unknown>);
    it.ref = ref as WeakRef<StringMapIterator<V, T>>;
    (this.iterators ??= new Set()).add(ref);
    return it;
  }

  /** Keys in insertion order (the iterator also offers the allocation-free `nextKey()`). */
  keys(): StringMapKeyIterator {
    return this.iterate<string>(IterKind.Keys);
  }

  /** Values in insertion order. */
  values(): IterableIterator<V> {
    return this.iterate<V>(IterKind.Values);
  }

  /** [key, value] pairs in insertion order. */
  entries(): IterableIterator<[string, V]> {
    return this.iterate<[string, V]>(IterKind.Entries);
  }

  /** Same as `entries()`. */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Calls `fn(value, key)` for each entry in insertion order. */
  forEach(fn: (value: V, key: string) => void): void {
    for (const [k, v] of this.entries()) fn(v, k);
  }
}
