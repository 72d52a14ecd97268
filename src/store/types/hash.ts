/**
 * HashValue: the Redis hash type.
 *
 * Layout: `pairs` holds fields and values interleaved (field at 2i, value at 2i+1) and
 * `index` maps a field to its pair number i. That keeps a hash to two strings, two array
 * slots and one Map entry per field, and gives O(1) lookups, O(1) random picks (HRANDFIELD)
 * and position-based cursors (HSCAN).
 *
 * Invariants: `index.get(pairs[2i]) === i` for every pair; no field appears twice. While
 * `compact` (Redis's listpack encoding) pairs stay in insertion order and a deletion shifts
 * the later pairs down, O(n) on a small hash as in Redis; once converted to "hashtable" (too
 * many fields or a field/value too long) a deletion moves the last pair into the hole, O(1),
 * and the hash never converts back, like Redis.
 *
 * Cursor contract (HSCAN on a hashtable hash): positions are visited from the end towards 0,
 * and the cursor is "next position + 1". A swap-delete only moves the last pair, which a
 * descending walk has already visited or will still visit, so every field present for the
 * whole scan is returned at least once; fields added during a scan may be missed.
 */
import type { CollectionValue } from "../values.ts";

/** A Redis hash. */
export class HashValue implements CollectionValue {
  /** The Redis type. */
  readonly kind = "hash" as const;
  private pairs: string[] = [];
  private index = new Map<string, number>();
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
   * order; returns null when a field repeats. One map insertion per field, no lookups.
   */
  static fromDistinctEntries(entries: readonly (readonly [string, string])[], compact: boolean): HashValue | null {
    const h = new HashValue(compact);
    const index = h.index;
    const pairs = h.pairs;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      index.set(e[0], i);
      if (index.size !== i + 1) return null;
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
    h.index = new Map(this.index);
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
    const perEntry = this.compact ? 4 : 80;
    return 48 + Math.round((sampled / sample) * n) + perEntry * n;
  }

  /** Length-prefixed pairs sorted by field, so equal hashes serialize equally. */
  canonical(): string {
    const fields = [...this.index.keys()].sort();
    let out = "hash:" + fields.length + ";";
    for (const f of fields) {
      const v = this.pairs[2 * this.index.get(f)! + 1];
      out += f.length + ":" + f + v.length + ":" + v;
    }
    return out;
  }

  /** Value of `field`, or undefined. */
  get(field: string): string | undefined {
    const i = this.index.get(field);
    return i === undefined ? undefined : this.pairs[2 * i + 1];
  }

  /** Whether `field` exists. */
  has(field: string): boolean {
    return this.index.has(field);
  }

  /** Sets `field` to `value`; returns true when the field is new. */
  set(field: string, value: string): boolean {
    const i = this.index.get(field);
    if (i !== undefined) {
      this.pairs[2 * i + 1] = value;
      return false;
    }
    this.index.set(field, this.pairs.length / 2);
    this.pairs.push(field, value);
    return true;
  }

  /** Removes `field`; returns whether it existed. */
  delete(field: string): boolean {
    const i = this.index.get(field);
    if (i === undefined) return false;
    this.index.delete(field);
    const last = this.pairs.length / 2 - 1;
    if (this.compact) {
      for (let j = i; j < last; j++) {
        const f = this.pairs[2 * j + 2];
        this.pairs[2 * j] = f;
        this.pairs[2 * j + 1] = this.pairs[2 * j + 3];
        this.index.set(f, j);
      }
    } else if (i !== last) {
      const f = this.pairs[2 * last];
      this.pairs[2 * i] = f;
      this.pairs[2 * i + 1] = this.pairs[2 * last + 1];
      this.index.set(f, i);
    }
    this.pairs.length = 2 * last;
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
