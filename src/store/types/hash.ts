/**
 * HashValue: the Redis hash type.
 *
 * Layout: `pairs` holds fields and values interleaved (field at 2i, value at 2i+1) and
 * `index` (a PositionIndex over `pairs`, stride 2) maps a field to its pair number i. That
 * keeps a hash to two strings, two array slots and 11 to 22 bytes of index (8-byte slots,
 * 3/8 to 3/4 full as it grows) per field, and gives O(1) lookups, O(1) random picks
 * (HRANDFIELD) and position-based cursors (HSCAN).
 *
 * Invariants: `index.find(pairs[2i], pairs) === i` for every pair and `index.size` is the
 * number of pairs; no field appears twice. While `compact` (Redis's listpack encoding) pairs
 * stay in insertion order and a deletion shifts the later pairs down (`index.closeGap`), O(n)
 * on a small hash as in Redis; once converted to "hashtable" (too many fields or a field/value
 * too long) a deletion moves the last pair into the hole (`index.move`), O(1), and the hash
 * never converts back, like Redis.
 *
 * Cursor contract (HSCAN on a hashtable hash): positions are visited from the end towards 0,
 * and the cursor is "next position + 1". A swap-delete only moves the last pair, which a
 * descending walk has already visited or will still visit, so every field present for the
 * whole scan is returned at least once; fields added during a scan may be missed.
 */
import type { CollectionValue } from "../values.ts";
import { PositionIndex } from "../position_index.ts";

/** A Redis hash. */
export class HashValue implements CollectionValue {
  /** The Redis type. */
  readonly kind = "hash" as const;
  private pairs: string[] = [];
  private index = new PositionIndex(2);
  /** True while Redis would store this hash as a listpack. */
  compact: boolean;

  /** Creates an empty hash, compact (listpack) unless told otherwise. */
  constructor(compact = true) {
    this.compact = compact;
  }

  /** Builds a hash from [field, value, field, value, ...]; later duplicates win. */
  static fromPairs(flat: readonly string[], compact: boolean): HashValue {
    const h = new HashValue(compact);
    for (let i = 0; i + 1 < flat.length; i += 2) h.set(flat[i], flat[i + 1]);
    return h;
  }

  /**
   * Builds a hash from [field, value] entries that should all be distinct (a loaded RDB value), in
   * order; returns null when a field repeats. One index probe per field.
   */
  static fromDistinctEntries(entries: readonly (readonly [string, string])[], compact: boolean): HashValue | null {
    const h = new HashValue(compact);
    const index = h.index;
    const pairs = h.pairs;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (index.findOrAdd(e[0], pairs) >= 0) return null;
      pairs.push(e[0], e[1]);
    }
    return h;
  }

  /** Redis's OBJECT ENCODING name. */
  encoding(): string {
    return this.compact ? "listpack" : "hashtable";
  }

  /** Number of fields. */
  size(): number {
    return this.index.size;
  }

  /** Deep copy (same encoding). */
  clone(): HashValue {
    const h = new HashValue(this.compact);
    h.pairs = this.pairs.slice();
    h.index = this.index.clone();
    return h;
  }

  /** Rough bytes held, estimated from up to 16 sampled pairs. */
  memoryUsage(): number {
    const n = this.index.size;
    if (n === 0) return 48;
    const sample = Math.min(n, 16);
    let sampled = 0;
    for (let i = 0; i < sample; i++) {
      const p = Math.floor((i * n) / sample) * 2;
      sampled += this.pairs[p].length + this.pairs[p + 1].length;
    }
    // Compact: Redis's listpack overhead; hashtable: two string headers and two array slots per
    // pair, plus the index.
    const overhead = this.compact ? 4 * n : 56 * n + this.index.byteSize();
    return 48 + Math.round((sampled / sample) * n) + overhead;
  }

  /** Length-prefixed pairs sorted by field, so equal hashes serialize equally. */
  canonical(): string {
    const order: number[] = [];
    for (let i = 0; i < this.index.size; i++) order.push(i);
    const pairs = this.pairs;
    order.sort((a, b) => (pairs[2 * a] < pairs[2 * b] ? -1 : 1));
    let out = "hash:" + order.length + ";";
    for (const i of order) {
      const f = pairs[2 * i];
      const v = pairs[2 * i + 1];
      out += f.length + ":" + f + v.length + ":" + v;
    }
    return out;
  }

  /** Value of `field`, or undefined. */
  get(field: string): string | undefined {
    const i = this.index.find(field, this.pairs);
    return i < 0 ? undefined : this.pairs[2 * i + 1];
  }

  /** Whether `field` exists. */
  has(field: string): boolean {
    return this.index.find(field, this.pairs) >= 0;
  }

  /** Sets `field` to `value`; returns true when the field is new. */
  set(field: string, value: string): boolean {
    const i = this.index.findOrAdd(field, this.pairs);
    if (i >= 0) {
      this.pairs[2 * i + 1] = value;
      return false;
    }
    this.pairs.push(field, value);
    return true;
  }

  /** Removes `field`; returns whether it existed. */
  delete(field: string): boolean {
    const pairs = this.pairs;
    const i = this.index.delete(field, pairs);
    if (i < 0) return false;
    const last = pairs.length / 2 - 1;
    if (this.compact) {
      pairs.copyWithin(2 * i, 2 * i + 2);
      this.index.closeGap(i);
    } else if (i !== last) {
      const f = pairs[2 * last];
      pairs[2 * i] = f;
      pairs[2 * i + 1] = pairs[2 * last + 1];
      this.index.move(f, last, i);
    }
    pairs.length = 2 * last;
    return true;
  }

  /** Switches to the hashtable encoding (one way, as in Redis). */
  convertToHashtable(): void {
    this.compact = false;
  }

  /** Field at position `i` (0 <= i < size()). */
  fieldAt(i: number): string {
    return this.pairs[2 * i];
  }

  /** Value at position `i` (0 <= i < size()). */
  valueAt(i: number): string {
    return this.pairs[2 * i + 1];
  }

  /**
   * One HSCAN step over a hashtable hash: visits up to `count` positions downwards from the
   * position encoded in `cursor` (0 = start), calling `visit(field, value)`. Returns the next
   * cursor, 0 when done. See the cursor contract in the file comment.
   */
  scan(cursor: bigint, count: number, visit: (field: string, value: string) => void): bigint {
    const n = this.index.size;
    if (n === 0) return 0n;
    let pos = cursor === 0n || cursor > BigInt(n) ? n - 1 : Number(cursor) - 1;
    for (let steps = 0; steps < count && pos >= 0; steps++, pos--) {
      visit(this.pairs[2 * pos], this.pairs[2 * pos + 1]);
    }
    return pos < 0 ? 0n : BigInt(pos + 1);
  }
}
