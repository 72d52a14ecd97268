/**
 * SetValue: the Redis set type, with Redis 7.0's two encodings (intset, hashtable).
 *
 * Layout: `members` is an array of the members; `index` (a PositionIndex over `members`,
 * hashtable encoding only) maps a member to its position. Random picks (SPOP, SRANDMEMBER)
 * are one random position, and SSCAN cursors are positions, walked from the end towards 0
 * (see HashValue for why a swap-delete cannot make a descending walk miss a member).
 *
 * Invariants:
 * - intset: every member is a canonical int64 string, `members` is sorted numerically (so
 *   SMEMBERS answers in Redis's intset order), `index` is null and lookups binary-search;
 *   inserts and deletes shift, O(n) on a set of at most set-max-intset-entries, as Redis's.
 * - hashtable: `index.find(members[i], members) === i` and `index.size === members.length`;
 *   a deletion moves the last member into the hole (`index.move`), O(1). A set never
 *   converts back to intset, like Redis.
 */
import { isCanonicalInt64 } from "../values.ts";
import type { CollectionValue } from "../values.ts";
import { PositionIndex } from "../position_index.ts";

/** Numeric order of two canonical int64 strings. */
function compareInts(a: string, b: string): number {
  const aNeg = a.charCodeAt(0) === 45;
  const bNeg = b.charCodeAt(0) === 45;
  if (aNeg !== bNeg) return aNeg ? -1 : 1;
  if (a.length !== b.length) return (a.length < b.length) !== aNeg ? -1 : 1;
  if (a === b) return 0;
  return (a < b) !== aNeg ? -1 : 1;
}

/** A Redis set. */
export class SetValue implements CollectionValue {
  /** The Redis type. */
  readonly kind = "set" as const;
  private members: string[] = [];
  private index: PositionIndex | null;

  /** Creates an empty set, as an intset (Redis's createIntsetObject) or a hashtable. */
  constructor(intset: boolean) {
    this.index = intset ? null : new PositionIndex(1);
  }

  /**
   * Builds a set from members that should all be distinct (a loaded RDB value); returns null when
   * one repeats. `intset` must only be true when every member is a canonical int64 and they fit
   * the intset limit. Members already in ascending order (as an intset is stored) are taken in
   * one pass; others are inserted one by one.
   */
  static fromDistinctMembers(members: readonly string[], intset: boolean): SetValue | null {
    const s = new SetValue(intset);
    const n = members.length;
    if (s.index !== null) {
      const index = s.index;
      const copy = members.slice();
      for (let i = 0; i < n; i++) if (index.findOrAdd(copy[i], copy) >= 0) return null;
      s.members = copy;
      return s;
    }
    let ascending = true;
    for (let i = 1; ascending && i < n; i++) ascending = compareInts(members[i - 1], members[i]) < 0;
    if (ascending) {
      s.members = members.slice();
      return s;
    }
    for (let i = 0; i < n; i++) if (!s.add(members[i], n)) return null;
    return s;
  }

  /** Redis's setTypeCreate: an intset when the first member will be an integer. */
  static forFirstMember(member: string): SetValue {
    return new SetValue(isCanonicalInt64(member));
  }

  /** True while the set uses the intset encoding. */
  get isIntset(): boolean {
    return this.index === null;
  }

  /** Redis's OBJECT ENCODING name. */
  encoding(): string {
    return this.index === null ? "intset" : "hashtable";
  }

  /** Number of members. */
  size(): number {
    return this.members.length;
  }

  /** Deep copy (same encoding). */
  clone(): SetValue {
    const s = new SetValue(this.index === null);
    s.members = this.members.slice();
    if (this.index !== null) s.index = this.index.clone();
    return s;
  }

  /** Rough bytes held, estimated from up to 16 sampled members. */
  memoryUsage(): number {
    const n = this.members.length;
    if (n === 0) return 48;
    if (this.index === null) return 48 + 8 * n;
    const sample = Math.min(n, 16);
    let sampled = 0;
    for (let i = 0; i < sample; i++) sampled += this.members[Math.floor((i * n) / sample)].length;
    // A string header and an array slot per member, plus the index.
    return 48 + Math.round((sampled / sample) * n) + 32 * n + this.index.byteSize();
  }

  /** Length-prefixed members sorted, so equal sets serialize equally. */
  canonical(): string {
    const sorted = this.members.slice().sort();
    let out = "set:" + sorted.length + ";";
    for (const m of sorted) out += m.length + ":" + m;
    return out;
  }

  /** Member at position `i` (0 <= i < size()); intset positions are in numeric order. */
  at(i: number): string {
    return this.members[i];
  }

  /** Whether `member` is in the set. */
  has(member: string): boolean {
    if (this.index !== null) return this.index.find(member, this.members) >= 0;
    return isCanonicalInt64(member) && this.intsetSearch(member) >= 0;
  }

  /**
   * Adds `member`; returns true when it was new. Converts to hashtable when the member is
   * not an integer or the intset would exceed `maxIntsetEntries` (set-max-intset-entries).
   */
  add(member: string, maxIntsetEntries: number): boolean {
    if (this.index !== null) {
      if (this.index.findOrAdd(member, this.members) >= 0) return false;
      this.members.push(member);
      return true;
    }
    if (!isCanonicalInt64(member)) {
      this.convertToHashtable();
      return this.add(member, maxIntsetEntries);
    }
    const at = this.intsetSearch(member);
    if (at >= 0) return false;
    this.members.splice(-at - 1, 0, member);
    if (this.members.length > maxIntsetEntries) this.convertToHashtable();
    return true;
  }

  /** Removes `member`; returns whether it was present. */
  delete(member: string): boolean {
    if (this.index === null) {
      if (!isCanonicalInt64(member)) return false;
      const at = this.intsetSearch(member);
      if (at < 0) return false;
      this.members.splice(at, 1);
      return true;
    }
    const i = this.index.delete(member, this.members);
    if (i < 0) return false;
    this.fillHole(i);
    return true;
  }

  /** Removes and returns the member at position `i`. */
  removeAt(i: number): string {
    const m = this.members[i];
    if (this.index === null) {
      this.members.splice(i, 1);
      return m;
    }
    this.index.delete(m, this.members);
    this.fillHole(i);
    return m;
  }

  /** Moves the last member into position `i`, just deleted from the index (hashtable only). */
  private fillHole(i: number): void {
    const members = this.members;
    const last = members.length - 1;
    if (i !== last) {
      const moved = members[last];
      members[i] = moved;
      this.index!.move(moved, last, i);
    }
    members.length = last;
  }

  /** Switches to the hashtable encoding (one way, as in Redis). */
  convertToHashtable(): void {
    if (this.index !== null) return;
    const index = new PositionIndex(1);
    for (let i = 0; i < this.members.length; i++) index.findOrAdd(this.members[i], this.members);
    this.index = index;
  }

  /**
   * One SSCAN step over a hashtable set: visits up to `count` positions downwards from the
   * position encoded in `cursor` (0 = start). Returns the next cursor, 0 when done.
   */
  scan(cursor: bigint, count: number, visit: (member: string) => void): bigint {
    const n = this.members.length;
    if (n === 0) return 0n;
    let pos = cursor === 0n || cursor > BigInt(n) ? n - 1 : Number(cursor) - 1;
    for (let steps = 0; steps < count && pos >= 0; steps++, pos--) visit(this.members[pos]);
    return pos < 0 ? 0n : BigInt(pos + 1);
  }

  /** Binary search of an intset: the position, or -(insertion point) - 1. */
  private intsetSearch(member: string): number {
    let lo = 0;
    let hi = this.members.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareInts(this.members[mid], member);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }
}
