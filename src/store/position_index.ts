/**
 * PositionIndex: a lean hash index from strings to their positions in an array its owner keeps
 * (a hash's field/value pairs, a set's members).
 *
 * Why not V8's Map: Map internalizes every string key that is not already internalized (a
 * runtime call plus a probe of the isolate-wide string table per access), and network strings
 * never are; a Map also costs ~28 bytes per entry plus a string-table entry per stored key. The
 * strings already live in the owner's array, so this index keeps only two 32-bit ints per slot,
 * the key's hash (`hashString`) and its position + 1, and compares `array[position * stride]`
 * with `===` only when the hashes match.
 *
 * Contract with the owner: the indexed keys are exactly those at positions 0..size-1 of the
 * owner's array (the key of position p at `array[p * stride]`); a new key always gets position
 * `size`; after `delete` the owner fills the hole either by moving its last entry there (and
 * calling `move`) or by shifting the later entries down (and calling `closeGap`). Lookups take
 * the owner's current array.
 *
 * Invariants: up to LINEAR_MAX entries there are no slots and lookups scan the array (cheaper
 * than any table for a few keys); above, open addressing with linear probing over a
 * power-of-two number of slots, where a slot whose position field is 0 is empty. The load
 * (entries / slots) stays at most 3/4 (grown on insert); a delete that leaves it under 1/8
 * shrinks the table, and one that leaves fewer than LINEAR_MAX / 2 entries drops it. Deletion
 * shifts later entries of the probe run back (no tombstones), so every entry is reachable from
 * its home slot `hash & mask` without crossing an empty slot.
 */
import { hashString } from "./string_map.ts";

/** Most entries kept without a table (lookups scan the owner's array). */
const LINEAR_MAX = 8;
/** Fewest slots a table has. */
const MIN_SLOTS = 16;
/** Approximate V8 cost of one typed array: the view, its ArrayBuffer and backing-store record. */
const TYPED_ARRAY_OVERHEAD = 200;

/** Smallest power-of-two slot count (at least MIN_SLOTS) that holds `entries` at load ≤ 3/4. */
function slotsFor(entries: number): number {
  let slots = MIN_SLOTS;
  while (entries * 4 > slots * 3) slots *= 2;
  return slots;
}

/** Hash index from the strings of an owner's array to their positions (see the file comment). */
export class PositionIndex {
  /** Two ints per slot: the key's hash, and its position + 1 (0 marks an empty slot); null while linear. */
  private slots: Int32Array | null = null;
  /** Slot count - 1. */
  private mask = 0;
  private count = 0;

  /** Creates an empty index for keys at `array[position * stride]`. */
  constructor(private readonly stride: number) {}

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Position of `key` in `array`, or -1 when the index does not hold it. */
  find(key: string, array: readonly string[]): number {
    const slots = this.slots;
    if (slots === null) return this.scan(key, array);
    const s = this.slotOf(key, array, slots);
    return s < 0 ? -1 : slots[2 * s + 1] - 1;
  }

  /** Position of `key` found by scanning the first `count` keys of `array` (no table yet), or -1. */
  private scan(key: string, array: readonly string[]): number {
    const n = this.count;
    const stride = this.stride;
    for (let p = 0; p < n; p++) if (array[p * stride] === key) return p;
    return -1;
  }

  /** The table slot holding `key`, or -1. */
  private slotOf(key: string, array: readonly string[], slots: Int32Array): number {
    const h = hashString(key);
    const mask = this.mask;
    const stride = this.stride;
    for (let s = h & mask;; s = (s + 1) & mask) {
      const p = slots[2 * s + 1];
      if (p === 0) return -1;
      if (slots[2 * s] === h && array[(p - 1) * stride] === key) return s;
    }
  }

  /**
   * Returns the position of `key` when the index holds it; otherwise records `key` at position
   * `size` (where the owner then stores it) and returns -1. One hash and one probe run either way.
   */
  findOrAdd(key: string, array: readonly string[]): number {
    const stride = this.stride;
    let slots = this.slots;
    if (slots === null) {
      const found = this.scan(key, array);
      if (found >= 0) return found;
      const n = this.count;
      if (n < LINEAR_MAX) {
        this.count++;
        return -1;
      }
      this.resize(slotsFor(n + 1), array);
      slots = this.slots!;
    }
    const h = hashString(key);
    const mask = this.mask;
    let s = h & mask;
    for (;; s = (s + 1) & mask) {
      const p = slots[2 * s + 1];
      if (p === 0) break;
      if (slots[2 * s] === h && array[(p - 1) * stride] === key) return p - 1;
    }
    const position = this.count++;
    if (this.count * 4 > (mask + 1) * 3) {
      this.resize(2 * (mask + 1), array);
      this.place(h, position);
    } else {
      slots[2 * s] = h;
      slots[2 * s + 1] = position + 1;
    }
    return -1;
  }

  /**
   * Removes `key`; returns the position it had, or -1 when the index did not hold it. The owner
   * then fills that position (see the file comment).
   */
  delete(key: string, array: readonly string[]): number {
    const slots = this.slots;
    if (slots === null) {
      const p = this.scan(key, array);
      if (p >= 0) this.count--;
      return p;
    }
    const s = this.slotOf(key, array, slots);
    if (s < 0) return -1;
    const p = slots[2 * s + 1] - 1;
    this.removeSlot(slots, s);
    return p;
  }

  /** Records that `key`, held at position `from`, now lives at position `to`. */
  move(key: string, from: number, to: number): void {
    const slots = this.slots;
    if (slots === null) return;
    const h = hashString(key);
    const mask = this.mask;
    for (let s = h & mask;; s = (s + 1) & mask) {
      const p = slots[2 * s + 1];
      if (p === 0) throw new Error("PositionIndex.move: key not indexed at that position");
      if (p === from + 1 && slots[2 * s] === h) {
        slots[2 * s + 1] = to + 1;
        return;
      }
    }
  }

  /**
   * Records that every entry after `position` moved down by one (the owner removed the entry
   * at `position`, already deleted from the index, by shifting the rest). O(slots).
   */
  closeGap(position: number): void {
    const slots = this.slots;
    if (slots === null) return;
    for (let s = 1; s < slots.length; s += 2) if (slots[s] > position + 1) slots[s]--;
  }

  /** An independent copy, for a copy of the owner's array with the same positions. */
  clone(): PositionIndex {
    const copy = new PositionIndex(this.stride);
    copy.slots = this.slots === null ? null : this.slots.slice();
    copy.mask = this.mask;
    copy.count = this.count;
    return copy;
  }

  /** Approximate bytes the index holds. */
  byteSize(): number {
    return 48 + (this.slots === null ? 0 : this.slots.byteLength + TYPED_ARRAY_OVERHEAD);
  }

  /**
   * Checks every invariant against the owner's `array` (see the file comment); throws on the
   * first violation (tests use it).
   */
  verify(array: readonly string[]): void {
    const n = this.count;
    for (let p = 0; p < n; p++) {
      const found = this.find(array[p * this.stride], array);
      if (found !== p) throw new Error(`position ${p} found at ${found}`);
    }
    const slots = this.slots;
    if (slots === null) {
      if (n > LINEAR_MAX) throw new Error(`${n} entries without a table`);
      return;
    }
    const slotCount = this.mask + 1;
    if (slots.length !== 2 * slotCount || (slotCount & this.mask) !== 0 || slotCount < MIN_SLOTS) {
      throw new Error(`bad slot count ${slotCount}`);
    }
    if (n * 4 > slotCount * 3) throw new Error(`load ${n}/${slotCount} over 3/4`);
    if (n < LINEAR_MAX / 2) throw new Error(`table kept for ${n} entries`);
    let used = 0;
    for (let s = 0; s < slotCount; s++) {
      const p = slots[2 * s + 1];
      if (p === 0) continue;
      used++;
      if (p < 1 || p > n) throw new Error(`slot ${s} holds position ${p - 1} of ${n}`);
      if (slots[2 * s] !== hashString(array[(p - 1) * this.stride])) throw new Error(`slot ${s} has a stale hash`);
    }
    if (used !== n) throw new Error(`${used} used slots for ${n} entries`);
  }

  /** Writes (h, position) into the first free slot of h's probe run. */
  private place(h: number, position: number): void {
    const slots = this.slots!;
    const mask = this.mask;
    let s = h & mask;
    while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
    slots[2 * s] = h;
    slots[2 * s + 1] = position + 1;
  }

  /** Empties slot `s`, shifting later entries of its probe run back, and shrinks when sparse. */
  private removeSlot(slots: Int32Array, s: number): void {
    const mask = this.mask;
    let hole = s;
    for (let j = (s + 1) & mask;; j = (j + 1) & mask) {
      const p = slots[2 * j + 1];
      if (p === 0) break;
      const h = slots[2 * j];
      // The entry at j may fill the hole when the hole lies on its probe path (home..j).
      if (((j - (h & mask)) & mask) >= ((j - hole) & mask)) {
        slots[2 * hole] = h;
        slots[2 * hole + 1] = p;
        hole = j;
      }
    }
    slots[2 * hole] = 0;
    slots[2 * hole + 1] = 0;
    const n = --this.count;
    if (n < LINEAR_MAX / 2) this.slots = null;
    else if (mask + 1 > MIN_SLOTS && n * 8 < mask + 1) this.resize(slotsFor(2 * n), null);
  }

  /**
   * Rebuilds the table with `slotCount` slots (a power of two): from the stored hashes, or
   * from the keys of `array` when the index is still linear.
   */
  private resize(slotCount: number, array: readonly string[] | null): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * slotCount);
    this.mask = slotCount - 1;
    if (old !== null) {
      for (let s = 0; s < old.length; s += 2) if (old[s + 1] !== 0) this.place(old[s], old[s + 1] - 1);
    } else {
      const n = this.count;
      const stride = this.stride;
      for (let p = 0; p < n; p++) this.place(hashString(array![p * stride]), p);
    }
  }
}
