/**
 * ListValue: the Redis list type, a growable ring buffer of latin1 strings.
 *
 * Invariants: elements live in `buf` at physical positions `(head + i) & mask` for logical
 * indexes `0 <= i < len`; every other slot is `undefined` (so popped strings can be
 * collected); the capacity is a power of two, at least MIN_CAPACITY. Push and pop at both
 * ends are O(1) amortized, access by index is O(1), and whole-list edits (LINSERT, LREM) are
 * O(n) like Redis's. Redis 7.0 encodes every list as a quicklist, so `encoding()` always
 * says "quicklist".
 */
import type { CollectionValue } from "../values.ts";

const MIN_CAPACITY = 4;

/** A Redis list. */
export class ListValue implements CollectionValue {
  /** The Redis type. */
  readonly kind = "list" as const;
  private buf: (string | undefined)[];
  private head = 0;
  private len = 0;
  private mask: number;

  /** Creates an empty list with room for `capacity` elements (rounded up to a power of two). */
  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.buf = new Array(cap);
    this.mask = cap - 1;
  }

  /** Builds a list holding `items` in order. */
  static from(items: readonly string[]): ListValue {
    const l = new ListValue(items.length);
    for (let i = 0; i < items.length; i++) l.buf[i] = items[i];
    l.len = items.length;
    return l;
  }

  /** Number of elements. */
  get length(): number {
    return this.len;
  }

  /** Redis's OBJECT ENCODING name: Redis 7.0 stores every list as a quicklist. */
  encoding(): string {
    return "quicklist";
  }

  /** Number of elements. */
  size(): number {
    return this.len;
  }

  /** Deep copy. */
  clone(): ListValue {
    return ListValue.from(this.toArray());
  }

  /** Rough bytes held: a slot and a string header per element, plus the bytes. */
  memoryUsage(): number {
    let bytes = 40 + this.buf.length * 8;
    const n = this.len;
    const sample = Math.min(n, 16);
    let sampled = 0;
    for (let i = 0; i < sample; i++) sampled += this.at(Math.floor((i * n) / sample)).length;
    if (sample > 0) bytes += Math.round((sampled / sample) * n) + 24 * n;
    return bytes;
  }

  /** Length-prefixed elements in order. */
  canonical(): string {
    let out = "list:" + this.len + ";";
    for (let i = 0; i < this.len; i++) {
      const s = this.at(i);
      out += s.length + ":" + s;
    }
    return out;
  }

  /** The element at logical index `i` (0 <= i < length). */
  at(i: number): string {
    return this.buf[(this.head + i) & this.mask] as string;
  }

  /** Replaces the element at logical index `i` (0 <= i < length). */
  setAt(i: number, value: string): void {
    this.buf[(this.head + i) & this.mask] = value;
  }

  /** Adds `value` before the first element. */
  pushHead(value: string): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = value;
    this.len++;
  }

  /** Adds `value` after the last element. */
  pushTail(value: string): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.len) & this.mask] = value;
    this.len++;
  }

  /** Removes and returns the first element, or undefined when empty. */
  popHead(): string | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return v;
  }

  /** Removes and returns the last element, or undefined when empty. */
  popTail(): string | undefined {
    if (this.len === 0) return undefined;
    const p = (this.head + this.len - 1) & this.mask;
    const v = this.buf[p];
    this.buf[p] = undefined;
    this.len--;
    this.maybeShrink();
    return v;
  }

  /** Elements from logical index `start` to `stop` inclusive (already clamped to the list). */
  range(start: number, stop: number): string[] {
    const out: string[] = [];
    for (let i = start; i <= stop; i++) out.push(this.at(i));
    return out;
  }

  /** All elements in order. */
  toArray(): string[] {
    return this.len === 0 ? [] : this.range(0, this.len - 1);
  }

  /** Inserts `value` so that it ends up at logical index `i` (0 <= i <= length). */
  insertAt(i: number, value: string): void {
    if (i === 0) return this.pushHead(value);
    if (i === this.len) return this.pushTail(value);
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    if (i < this.len / 2) {
      // Shift the front part one slot towards the head.
      this.head = (this.head - 1) & this.mask;
      this.len++;
      for (let j = 0; j < i; j++) this.setAt(j, this.at(j + 1));
    } else {
      this.len++;
      for (let j = this.len - 1; j > i; j--) this.setAt(j, this.at(j - 1));
    }
    this.setAt(i, value);
  }

  /**
   * Removes elements equal to `value`: the first `count` from the head when count > 0, the
   * last `-count` from the tail when count < 0, all when count is 0. Returns how many.
   */
  removeValue(value: string, count: number): number {
    const n = this.len;
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    if (count >= 0) {
      let w = 0;
      for (let r = 0; r < n; r++) {
        const el = this.at(r);
        if (removed < limit && el === value) removed++;
        else {
          if (w !== r) this.setAt(w, el);
          w++;
        }
      }
      this.dropTail(n - w);
    } else {
      let w = n - 1;
      for (let r = n - 1; r >= 0; r--) {
        const el = this.at(r);
        if (removed < limit && el === value) removed++;
        else {
          if (w !== r) this.setAt(w, el);
          w--;
        }
      }
      this.dropHead(w + 1);
    }
    return removed;
  }

  /** Removes `n` elements from the head (n <= length). */
  dropHead(n: number): void {
    for (let i = 0; i < n; i++) {
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
    }
    this.len -= n;
    this.maybeShrink();
  }

  /** Removes `n` elements from the tail (n <= length). */
  dropTail(n: number): void {
    for (let i = 0; i < n; i++) {
      this.len--;
      this.buf[(this.head + this.len) & this.mask] = undefined;
    }
    this.maybeShrink();
  }

  /** Halves the ring buffer (down to 64 slots) while it is less than a quarter full. */
  private maybeShrink(): void {
    const cap = this.buf.length;
    if (cap > 64 && this.len < cap / 4) {
      let next = cap / 2;
      while (next > 64 && this.len < next / 4) next /= 2;
      this.resize(next);
    }
  }

  /** Copies the elements into a new ring buffer of `cap` slots, starting at index 0. */
  private resize(cap: number): void {
    const nb: (string | undefined)[] = new Array(cap);
    for (let i = 0; i < this.len; i++) nb[i] = this.at(i);
    this.buf = nb;
    this.head = 0;
    this.mask = cap - 1;
  }
}
