/**
 * DenseStringMap: an unordered map from strings to values kept in two dense arrays, for indexes
 * whose owner needs no iteration order (a sorted set's member → score, a stream PEL's ID →
 * entry).
 *
 * Why not V8's Map or StringMap: Map internalizes every network string it is given (a runtime
 * call and a string-table probe per access, plus a string-table entry per stored key);
 * StringMap avoids that but keeps insertion order, tombstones and a per-entry access stamp the
 * keyspace needs. Here an entry is one key slot, one value slot and its PositionIndex slot:
 * the smallest JS-hashed layout (a number value is stored unboxed while every value is one).
 *
 * Invariants: `keys` and `values` have the same length, `size`; `index` holds exactly the keys
 * of `keys` at their positions; a deletion moves the last entry into the hole, so both arrays
 * stay dense.
 */
import { PositionIndex } from "./position_index.ts";

/** Unordered string-keyed map over dense arrays (see the file comment). */
export class DenseStringMap<V> {
  private keys: string[] = [];
  private values: V[] = [];
  private index = new PositionIndex(1);

  /** Number of entries. */
  get size(): number {
    return this.keys.length;
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    const p = this.index.find(key, this.keys);
    return p < 0 ? undefined : this.values[p];
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.index.find(key, this.keys) >= 0;
  }

  /** Sets `key` to `value`. */
  set(key: string, value: V): void {
    const p = this.index.findOrAdd(key, this.keys);
    if (p >= 0) {
      this.values[p] = value;
      return;
    }
    this.keys.push(key);
    this.values.push(value);
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    const keys = this.keys;
    const values = this.values;
    const p = this.index.delete(key, keys);
    if (p < 0) return false;
    const last = keys.length - 1;
    if (p !== last) {
      const moved = keys[last];
      keys[p] = moved;
      values[p] = values[last];
      this.index.move(moved, last, p);
    }
    keys.length = last;
    values.length = last;
    return true;
  }

  /** Approximate bytes held, the keys' own strings excluded. */
  byteSize(): number {
    return 96 + 16 * this.keys.length + this.index.byteSize();
  }
}
