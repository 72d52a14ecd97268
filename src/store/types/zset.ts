/**
 * Sorted set value: an order-statistic B+tree of (score, member) entries plus a member → score
 * index, the structure behind ZADD, ZRANGE, GEO* and friends.
 *
 * Owns: the entries of one sorted set and the `listpack` flag that OBJECT ENCODING reports.
 * Invariants:
 * - entries are ordered by score, then by member bytewise (latin1 string comparison); members
 *   are unique;
 * - leaves hold parallel `members`/`scores` arrays and are linked both ways in entry order;
 *   inner nodes hold their children's entry counts, so rank queries are O(log n);
 * - in an inner node, separator i (i ≥ 1) is ≤ the smallest entry of child i and > the largest
 *   entry of child i-1 (separator 0 is unused);
 * - a leaf that loses entries below LEAF_MIN borrows from or merges with a sibling, and an inner
 *   node below INNER_MIN children likewise (the root excepted); a leaf split by an append at
 *   either end of the set keeps the full half, so ordered loads fill leaves completely;
 * - while the whole set fits in one leaf there is no member index (lookups scan the leaf, as
 *   Redis scans a listpack); once the root is an inner node, `index` (a DenseStringMap, which
 *   hashes in JavaScript instead of internalizing every member as V8's Map does) maps every
 *   member to its score;
 * - the set is never empty while stored under a key (callers delete emptied keys).
 */
import type { CollectionValue } from "../values.ts";
import { DenseStringMap } from "../dense_string_map.ts";
import { formatDouble } from "../../resp/writer.ts";

/** Most entries a leaf holds before it splits. */
const LEAF_MAX = 64;
/** Fewest entries a non-root leaf holds before it borrows or merges. */
const LEAF_MIN = 16;
/** Most children an inner node holds before it splits. */
const INNER_MAX = 64;
/** Fewest children a non-root inner node holds before it borrows or merges. */
const INNER_MIN = 16;

/** A leaf: a sorted run of entries. */
class Leaf {
  /** Always true; distinguishes leaves from inner nodes without instanceof. */
  readonly isLeaf = true;
  /** Previous leaf in entry order. */
  prev: Leaf | null = null;
  /** Next leaf in entry order. */
  next: Leaf | null = null;
  constructor(public members: string[], public scores: number[]) {}
}

/** An inner node: children with their entry counts and separators. */
class Inner {
  /** Always false; distinguishes inner nodes from leaves. */
  readonly isLeaf = false;
  constructor(
    public children: TreeNode[],
    public counts: number[],
    public sepScores: number[],
    public sepMembers: string[],
  ) {}
}

type TreeNode = Leaf | Inner;

/** How a descent decides that an entry is at or past the wanted position. */
const enum Seek {
  /** Entry > (score, member): the insertion point after a key. */
  KeyAfter,
  /** Entry score ≥ score. */
  ScoreGte,
  /** Entry score > score. */
  ScoreGt,
  /** Entry member ≥ member. */
  LexGte,
  /** Entry member > member. */
  LexGt,
}

/** True when the entry (es, em) satisfies the monotone predicate `mode` for (s, m). */
function past(mode: Seek, s: number, m: string, es: number, em: string): boolean {
  switch (mode) {
    case Seek.KeyAfter:
      return es > s || (es === s && em > m);
    case Seek.ScoreGte:
      return es >= s;
    case Seek.ScoreGt:
      return es > s;
    case Seek.LexGte:
      return em >= m;
    default:
      return em > m;
  }
}

/** Orders two entries: by score, then by member bytes. */
export function compareEntries(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

// Insertion into and removal from a leaf's arrays, by hand: Array#splice is a builtin call that
// also allocates the array of removed elements and runs the write barrier over every element it
// moves, which made it the largest single cost of ZADD. (Two copies of each, so that each
// stays monomorphic: members are strings, scores unboxed doubles.)

/** Inserts `m` at index `i` of `a`. */
function insertMember(a: string[], i: number, m: string): void {
  let j = a.length;
  a.push(m);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = m;
}

/** Inserts `s` at index `i` of `a`. */
function insertScore(a: number[], i: number, s: number): void {
  let j = a.length;
  a.push(s);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = s;
}

/** Removes the `k` elements from index `i` of `a` (i + k ≤ a.length). */
function removeMembers(a: string[], i: number, k: number): void {
  const n = a.length;
  for (let j = i + k; j < n; j++) a[j - k] = a[j];
  for (let j = 0; j < k; j++) a.pop();
}

/** Removes the `k` elements from index `i` of `a` (i + k ≤ a.length). */
function removeScores(a: number[], i: number, k: number): void {
  const n = a.length;
  for (let j = i + k; j < n; j++) a[j - k] = a[j];
  for (let j = 0; j < k; j++) a.pop();
}

// Scratch path of the last descent (inner nodes and the child index taken in each). Reused to
// keep descents allocation-free; every public operation finishes with it before returning.
const pathNodes: Inner[] = [];
const pathIdx: number[] = [];
let pathLen = 0;
let foundLeaf: Leaf = new Leaf([], []);
let foundIdx = 0;

/** One sorted set. */
export class ZSetValue implements CollectionValue {
  /** Redis type name. */
  readonly kind = "zset" as const;
  /** See `listpack`. */
  private compact = true;
  /** See `listpackOnReplicas`. */
  private compactOnReplicas = true;

  /**
   * True while Redis would keep this set as a listpack. Commands clear it when the set grows
   * past zset-max-listpack-entries or gets a member longer than zset-max-listpack-value (Redis
   * never converts back, except for sets built whole, which callers set directly). Setting it
   * sets `listpackOnReplicas` too.
   */
  get listpack(): boolean {
    return this.compact;
  }

  set listpack(compact: boolean) {
    this.compact = compact;
    this.compactOnReplicas = compact;
  }

  /**
   * True while Redis's replicas would hold this set as a listpack: as `listpack`, except after
   * a conversion by a command that is not propagated (SORT without STORE converts its source).
   */
  get listpackOnReplicas(): boolean {
    return this.compactOnReplicas;
  }

  /** Converts to a skiplist here only (see `listpackOnReplicas`). */
  convertHereOnly(): void {
    this.compact = false;
  }
  private root: TreeNode = new Leaf([], []);
  private length = 0;
  private index: DenseStringMap<number> | null = null;

  /** Builds a set from entries already in (score, member) order with unique members. */
  static fromSorted(members: string[], scores: number[]): ZSetValue {
    const z = new ZSetValue();
    z.build(members, scores);
    return z;
  }

  /** OBJECT ENCODING name. */
  encoding(): string {
    return this.compact ? "listpack" : "skiplist";
  }

  /** The OBJECT ENCODING Redis's replicas would report (see `listpackOnReplicas`). */
  encodingOnReplicas(): string {
    return this.compactOnReplicas ? "listpack" : "skiplist";
  }

  /** Number of entries. */
  size(): number {
    return this.length;
  }

  /** Deep copy (same entries, same encoding flags). */
  clone(): ZSetValue {
    const members: string[] = [];
    const scores: number[] = [];
    this.collect(members, scores);
    const z = ZSetValue.fromSorted(members, scores);
    z.compact = this.compact;
    z.compactOnReplicas = this.compactOnReplicas;
    return z;
  }

  /** Rough bytes held. */
  memoryUsage(): number {
    let bytes = 64;
    for (let leaf: Leaf | null = this.firstLeaf(); leaf !== null; leaf = leaf.next) {
      bytes += 48;
      for (const m of leaf.members) bytes += 24 + ((m.length + 7) & ~7) + 16;
    }
    if (this.index !== null) bytes += this.index.byteSize();
    return bytes;
  }

  /** Entries in order, each as `len:member:score\n` with the score in %.17g form. */
  canonical(): string {
    const parts: string[] = [];
    this.forEach((m, s) => parts.push(`${m.length}:${m}:${formatDouble(s)}\n`));
    return parts.join("");
  }

  /** The score of `member`, or undefined when absent. */
  score(member: string): number | undefined {
    if (this.index !== null) return this.index.get(member);
    const leaf = this.root as Leaf;
    const i = leaf.members.indexOf(member);
    return i < 0 ? undefined : leaf.scores[i];
  }

  /** True when `member` is in the set. */
  has(member: string): boolean {
    return this.score(member) !== undefined;
  }

  /** Adds a member that is not in the set yet. */
  insert(member: string, score: number): void {
    this.insertEntry(member, score);
    if (this.index !== null) this.index.set(member, score);
  }

  /** Changes the score of a member known to be in the set with score `oldScore`. */
  update(member: string, oldScore: number, newScore: number): void {
    if (Object.is(oldScore, newScore)) return;
    this.seek(Seek.KeyAfter, oldScore, member, false);
    const leaf = foundLeaf;
    const i = foundIdx - 1;
    // Stays in place when it keeps its order with both neighbours in the same leaf (the
    // first and last entries of a leaf are bounded by separators, so they move).
    if (
      i > 0 && i + 1 < leaf.members.length &&
      compareEntries(leaf.scores[i - 1], leaf.members[i - 1], newScore, member) < 0 &&
      compareEntries(newScore, member, leaf.scores[i + 1], leaf.members[i + 1]) < 0
    ) {
      leaf.scores[i] = newScore;
      if (this.index !== null) this.index.set(member, newScore);
      return;
    }
    // The member moves in the tree; the index keeps its entry and only takes the new score.
    this.removeFound(i, 1, false);
    this.insertEntry(member, newScore);
    if (this.index !== null) this.index.set(member, newScore);
  }

  /** Removes `member`; returns whether it was present. */
  remove(member: string): boolean {
    const score = this.score(member);
    if (score === undefined) return false;
    this.seek(Seek.KeyAfter, score, member, false);
    this.removeFound(foundIdx - 1, 1);
    return true;
  }

  /** 0-based rank of `member` in ascending order, or -1 when absent. */
  rank(member: string): number {
    const score = this.score(member);
    if (score === undefined) return -1;
    return this.seek(Seek.KeyAfter, score, member) - 1;
  }

  /** Rank of the first entry with score ≥ min (> min when exclusive); `size()` when none. */
  firstRankByScore(min: number, exclusive: boolean): number {
    return this.seek(exclusive ? Seek.ScoreGt : Seek.ScoreGte, min, "");
  }

  /** Rank of the last entry with score ≤ max (< max when exclusive); -1 when none. */
  lastRankByScore(max: number, exclusive: boolean): number {
    return this.seek(exclusive ? Seek.ScoreGte : Seek.ScoreGt, max, "") - 1;
  }

  /** Rank of the first entry with member ≥ min (> min when exclusive). Meaningful when all scores are equal. */
  firstRankByLex(min: string, exclusive: boolean): number {
    return this.seek(exclusive ? Seek.LexGt : Seek.LexGte, 0, min);
  }

  /** Rank of the last entry with member ≤ max (< max when exclusive); -1 when none. */
  lastRankByLex(max: string, exclusive: boolean): number {
    return this.seek(exclusive ? Seek.LexGte : Seek.LexGt, 0, max) - 1;
  }

  /** Member at `rank` (0 ≤ rank < size()). */
  memberAt(rank: number): string {
    this.seekRank(rank);
    return foundLeaf.members[foundIdx];
  }

  /** Score at `rank` (0 ≤ rank < size()). */
  scoreAt(rank: number): number {
    this.seekRank(rank);
    return foundLeaf.scores[foundIdx];
  }

  /**
   * Calls `fn` for `count` entries starting at rank `start` (0 ≤ start < size()), walking
   * towards higher ranks, or towards lower ranks when `reverse`. O(log n + count).
   */
  walk(start: number, count: number, reverse: boolean, fn: (member: string, score: number) => void): void {
    if (count <= 0) return;
    this.seekRank(start);
    let leaf: Leaf | null = foundLeaf;
    let i = foundIdx;
    while (count > 0 && leaf !== null) {
      fn(leaf.members[i], leaf.scores[i]);
      count--;
      if (reverse) {
        if (--i < 0) {
          leaf = leaf.prev;
          if (leaf !== null) i = leaf.members.length - 1;
        }
      } else if (++i >= leaf.members.length) {
        leaf = leaf.next;
        i = 0;
      }
    }
  }

  /** Calls `fn` for every entry in ascending order. */
  forEach(fn: (member: string, score: number) => void): void {
    for (let leaf: Leaf | null = this.firstLeaf(); leaf !== null; leaf = leaf.next) {
      const ms = leaf.members;
      const ss = leaf.scores;
      for (let i = 0; i < ms.length; i++) fn(ms[i], ss[i]);
    }
  }

  /** Appends every entry, in order, to `members` and `scores`. */
  collect(members: string[], scores: number[]): void {
    for (let leaf: Leaf | null = this.firstLeaf(); leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.members.length; i++) {
        members.push(leaf.members[i]);
        scores.push(leaf.scores[i]);
      }
    }
  }

  /**
   * Removes `count` entries starting at rank `start` (a valid range of ranks). O(log n +
   * count): whole runs of a leaf go in one splice.
   */
  removeRange(start: number, count: number): void {
    if (count <= 0) return;
    if (start === 0 && count === this.length) {
      this.build([], []);
      return;
    }
    this.removeAt(start, count);
  }

  /** Checks every structural invariant; throws on the first violation (tests use it). */
  verify(): void {
    let total = 0;
    let prevLeaf: Leaf | null = null;
    let prevScore = -Infinity;
    let prevMember: string | null = null;
    const check = (node: TreeNode, isRoot: boolean): number => {
      if (node.isLeaf) {
        const n = node.members.length;
        if (n !== node.scores.length) throw new Error("leaf arrays differ in length");
        if (!isRoot && n === 0) throw new Error("empty leaf");
        if (n > LEAF_MAX) throw new Error(`leaf overflow: ${n}`);
        if (node.prev !== prevLeaf) throw new Error("broken prev link");
        if (prevLeaf !== null && prevLeaf.next !== node) throw new Error("broken next link");
        prevLeaf = node;
        for (let i = 0; i < n; i++) {
          const s = node.scores[i];
          const m = node.members[i];
          if (prevMember !== null && compareEntries(prevScore, prevMember, s, m) >= 0) {
            throw new Error(`order violated at ${JSON.stringify(m)}`);
          }
          prevScore = s;
          prevMember = m;
          if (this.index !== null && !Object.is(this.index.get(m), s)) throw new Error(`index mismatch for ${m}`);
        }
        total += n;
        return n;
      }
      const k = node.children.length;
      if (k !== node.counts.length || k !== node.sepScores.length || k !== node.sepMembers.length) {
        throw new Error("inner arrays differ in length");
      }
      if (!isRoot && k < INNER_MIN) throw new Error(`inner underflow: ${k}`);
      if (isRoot && k < 2) throw new Error("root inner node with one child");
      if (k > INNER_MAX) throw new Error(`inner overflow: ${k}`);
      let sum = 0;
      for (let i = 0; i < k; i++) {
        if (i > 0) {
          const lastScore = prevScore;
          const lastMember = prevMember!;
          if (compareEntries(node.sepScores[i], node.sepMembers[i], lastScore, lastMember) <= 0) {
            throw new Error("separator not above the previous child");
          }
        }
        const before = total;
        const n = check(node.children[i], false);
        if (n !== node.counts[i]) throw new Error(`count mismatch: ${n} vs ${node.counts[i]}`);
        if (i > 0) {
          const firstLeaf = leftmostLeaf(node.children[i]);
          if (compareEntries(node.sepScores[i], node.sepMembers[i], firstLeaf.scores[0], firstLeaf.members[0]) > 0) {
            throw new Error("separator above the child's first entry");
          }
        }
        sum += total - before;
      }
      return sum;
    };
    check(this.root, true);
    if (prevLeaf !== null && (prevLeaf as Leaf).next !== null) throw new Error("last leaf has a next link");
    if (total !== this.length) throw new Error(`length ${this.length} but ${total} entries`);
    if (this.root.isLeaf && this.index !== null) throw new Error("index kept for a single leaf");
    if (!this.root.isLeaf && (this.index === null || this.index.size !== total)) {
      throw new Error("index missing or wrong size");
    }
  }

  // ---- internals ----

  /** Returns the leftmost leaf of the tree. */
  private firstLeaf(): Leaf {
    return leftmostLeaf(this.root);
  }

  /**
   * Descends to the first entry satisfying `mode` for (s, m), recording the path. Leaves the
   * position in foundLeaf/foundIdx (foundIdx may equal the leaf's length: the position is
   * then the start of the next leaf) and returns its rank (entries before it), or 0 when
   * `withRank` is false (summing the counts left of the path is then skipped).
   */
  private seek(mode: Seek, s: number, m: string, withRank = true): number {
    let node = this.root;
    let rank = 0;
    pathLen = 0;
    while (!node.isLeaf) {
      // Child j: the last one whose separator does not satisfy the predicate.
      const ss = node.sepScores;
      const sm = node.sepMembers;
      let lo = 1;
      let hi = node.children.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (past(mode, s, m, ss[mid], sm[mid])) hi = mid;
        else lo = mid + 1;
      }
      const j = lo - 1;
      if (withRank) {
        const counts = node.counts;
        for (let i = 0; i < j; i++) rank += counts[i];
      }
      pathNodes[pathLen] = node;
      pathIdx[pathLen] = j;
      pathLen++;
      node = node.children[j];
    }
    const ss = node.scores;
    const sm = node.members;
    let lo = 0;
    let hi = sm.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (past(mode, s, m, ss[mid], sm[mid])) hi = mid;
      else lo = mid + 1;
    }
    foundLeaf = node;
    foundIdx = lo;
    return rank + lo;
  }

  /** Descends to the entry at `rank` (0 ≤ rank < length), recording the path. */
  private seekRank(rank: number): void {
    let node = this.root;
    pathLen = 0;
    while (!node.isLeaf) {
      const counts = node.counts;
      let j = 0;
      while (j < counts.length - 1 && rank >= counts[j]) rank -= counts[j++];
      pathNodes[pathLen] = node;
      pathIdx[pathLen] = j;
      pathLen++;
      node = node.children[j];
    }
    foundLeaf = node;
    foundIdx = rank;
  }

  /**
   * Puts (member, score) into the tree at its place, splitting as needed; the index is left to
   * the caller unless a root split creates it.
   */
  private insertEntry(member: string, score: number): void {
    this.seek(Seek.KeyAfter, score, member, false);
    const leaf = foundLeaf;
    insertMember(leaf.members, foundIdx, member);
    insertScore(leaf.scores, foundIdx, score);
    for (let d = 0; d < pathLen; d++) pathNodes[d].counts[pathIdx[d]]++;
    this.length++;
    if (leaf.members.length > LEAF_MAX) this.splitLeaf(leaf);
  }

  /** Removes `count` entries from rank `start`, a leaf run at a time, rebalancing as it goes. */
  private removeAt(start: number, count: number): void {
    while (count > 0) {
      this.seekRank(start);
      count -= this.removeFound(foundIdx, count);
    }
  }

  /**
   * Removes up to `count` entries of foundLeaf from index `i` (path of the last descent
   * recorded), then restores the leaf's fill; the removed members leave the index too unless
   * `unindex` is false. Returns how many were removed.
   */
  private removeFound(i: number, count: number, unindex = true): number {
    const leaf = foundLeaf;
    const k = Math.min(leaf.members.length - i, count);
    if (unindex && this.index !== null) { for (let j = i; j < i + k; j++) this.index.delete(leaf.members[j]); }
    removeMembers(leaf.members, i, k);
    removeScores(leaf.scores, i, k);
    for (let d = 0; d < pathLen; d++) pathNodes[d].counts[pathIdx[d]] -= k;
    this.length -= k;
    if (pathLen > 0 && leaf.members.length < LEAF_MIN) this.fixLeaf();
    return k;
  }

  /** Splits an overfull leaf found by the last seek (path still recorded). */
  private splitLeaf(leaf: Leaf): void {
    const n = leaf.members.length;
    // Appending at either end of the set keeps the old leaf full instead of half empty.
    let cut = n >>> 1;
    if (leaf.next === null && foundIdx === n - 1) cut = n - 1;
    else if (leaf.prev === null && foundIdx === 0) cut = 1;
    const right = new Leaf(leaf.members.splice(cut), leaf.scores.splice(cut));
    right.next = leaf.next;
    if (right.next !== null) right.next.prev = right;
    right.prev = leaf;
    leaf.next = right;
    this.attachSplit(leaf, right, leaf.members.length, right.members.length, right.scores[0], right.members[0]);
  }

  /**
   * Inserts `right`, split off `left`, into left's parent (the deepest node of the recorded
   * path), splitting ancestors as needed; grows a new root when the root split.
   */
  private attachSplit(
    left: TreeNode,
    right: TreeNode,
    leftCount: number,
    rightCount: number,
    sepScore: number,
    sepMember: string,
  ): void {
    for (let d = pathLen - 1;; d--) {
      if (d < 0) {
        this.root = new Inner([left, right], [leftCount, rightCount], [-Infinity, sepScore], ["", sepMember]);
        if (this.index === null) this.buildIndex();
        return;
      }
      const parent = pathNodes[d];
      const ci = pathIdx[d];
      parent.children.splice(ci + 1, 0, right);
      parent.counts[ci] = leftCount;
      parent.counts.splice(ci + 1, 0, rightCount);
      parent.sepScores.splice(ci + 1, 0, sepScore);
      parent.sepMembers.splice(ci + 1, 0, sepMember);
      if (parent.children.length <= INNER_MAX) return;
      const cut = parent.children.length >>> 1;
      const sibling = new Inner(
        parent.children.splice(cut),
        parent.counts.splice(cut),
        parent.sepScores.splice(cut),
        parent.sepMembers.splice(cut),
      );
      left = parent;
      right = sibling;
      leftCount = sum(parent.counts);
      rightCount = sum(sibling.counts);
      sepScore = sibling.sepScores[0];
      sepMember = sibling.sepMembers[0];
    }
  }

  /** Restores the minimum fill of a leaf below LEAF_MIN (path of the last descent recorded). */
  private fixLeaf(): void {
    const parent = pathNodes[pathLen - 1];
    const ci = pathIdx[pathLen - 1];
    const li = ci > 0 ? ci - 1 : ci;
    const left = parent.children[li] as Leaf;
    const right = parent.children[li + 1] as Leaf;
    const total = left.members.length + right.members.length;
    if (total <= LEAF_MAX) {
      for (let i = 0; i < right.members.length; i++) {
        left.members.push(right.members[i]);
        left.scores.push(right.scores[i]);
      }
      left.next = right.next;
      if (left.next !== null) left.next.prev = left;
      parent.counts[li] = total;
      removeChild(parent, li + 1);
      this.fixInner(pathLen - 1);
      return;
    }
    const half = total >>> 1;
    if (left.members.length > half) {
      const k = left.members.length - half;
      right.members.unshift(...left.members.splice(half, k));
      right.scores.unshift(...left.scores.splice(half, k));
    } else {
      const k = half - left.members.length;
      for (const m of right.members.splice(0, k)) left.members.push(m);
      for (const s of right.scores.splice(0, k)) left.scores.push(s);
    }
    parent.counts[li] = left.members.length;
    parent.counts[li + 1] = right.members.length;
    parent.sepScores[li + 1] = right.scores[0];
    parent.sepMembers[li + 1] = right.members[0];
  }

  /** Restores the fill of the inner node at path depth `d` after it lost a child. */
  private fixInner(d: number): void {
    const node = pathNodes[d];
    if (d === 0) {
      if (node.children.length === 1) {
        this.root = node.children[0];
        if (this.root.isLeaf) this.index = null;
      }
      return;
    }
    if (node.children.length >= INNER_MIN) return;
    const parent = pathNodes[d - 1];
    const ci = pathIdx[d - 1];
    const li = ci > 0 ? ci - 1 : ci;
    const left = parent.children[li] as Inner;
    const right = parent.children[li + 1] as Inner;
    // Right's separator 0 is unused; the parent's separator for right bounds its first child.
    right.sepScores[0] = parent.sepScores[li + 1];
    right.sepMembers[0] = parent.sepMembers[li + 1];
    const total = left.children.length + right.children.length;
    if (total <= INNER_MAX) {
      for (let i = 0; i < right.children.length; i++) {
        left.children.push(right.children[i]);
        left.counts.push(right.counts[i]);
        left.sepScores.push(right.sepScores[i]);
        left.sepMembers.push(right.sepMembers[i]);
      }
      parent.counts[li] += parent.counts[li + 1];
      removeChild(parent, li + 1);
      this.fixInner(d - 1);
      return;
    }
    const half = total >>> 1;
    if (left.children.length > half) {
      const k = left.children.length - half;
      right.children.unshift(...left.children.splice(half, k));
      right.counts.unshift(...left.counts.splice(half, k));
      right.sepScores.unshift(...left.sepScores.splice(half, k));
      right.sepMembers.unshift(...left.sepMembers.splice(half, k));
    } else {
      const k = half - left.children.length;
      for (const x of right.children.splice(0, k)) left.children.push(x);
      for (const x of right.counts.splice(0, k)) left.counts.push(x);
      for (const x of right.sepScores.splice(0, k)) left.sepScores.push(x);
      for (const x of right.sepMembers.splice(0, k)) left.sepMembers.push(x);
    }
    parent.counts[li] = sum(left.counts);
    parent.counts[li + 1] = sum(right.counts);
    parent.sepScores[li + 1] = right.sepScores[0];
    parent.sepMembers[li + 1] = right.sepMembers[0];
  }

  /** Replaces the contents with sorted entries, packing leaves and inner nodes evenly. */
  private build(members: string[], scores: number[]): void {
    const n = members.length;
    this.length = n;
    this.index = null;
    if (n <= LEAF_MAX) {
      this.root = new Leaf(members.slice(), scores.slice());
      return;
    }
    let level: TreeNode[] = [];
    let counts: number[] = [];
    let firstScores: number[] = [];
    let firstMembers: string[] = [];
    const leaves = Math.ceil(n / LEAF_MAX);
    let prev: Leaf | null = null;
    for (let i = 0; i < leaves; i++) {
      const from = Math.floor((i * n) / leaves);
      const to = Math.floor(((i + 1) * n) / leaves);
      const leaf = new Leaf(members.slice(from, to), scores.slice(from, to));
      leaf.prev = prev;
      if (prev !== null) prev.next = leaf;
      prev = leaf;
      level.push(leaf);
      counts.push(to - from);
      firstScores.push(scores[from]);
      firstMembers.push(members[from]);
    }
    while (level.length > 1) {
      const groups = Math.ceil(level.length / INNER_MAX);
      const next: TreeNode[] = [];
      const nextCounts: number[] = [];
      const nextScores: number[] = [];
      const nextMembers: string[] = [];
      for (let g = 0; g < groups; g++) {
        const from = Math.floor((g * level.length) / groups);
        const to = Math.floor(((g + 1) * level.length) / groups);
        const c = counts.slice(from, to);
        next.push(new Inner(level.slice(from, to), c, firstScores.slice(from, to), firstMembers.slice(from, to)));
        nextCounts.push(sum(c));
        nextScores.push(firstScores[from]);
        nextMembers.push(firstMembers[from]);
      }
      level = next;
      counts = nextCounts;
      firstScores = nextScores;
      firstMembers = nextMembers;
    }
    this.root = level[0];
    this.buildIndex();
  }

  /** Builds the member → score map from the leaves. */
  private buildIndex(): void {
    const index = new DenseStringMap<number>();
    for (let leaf: Leaf | null = this.firstLeaf(); leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.members.length; i++) index.set(leaf.members[i], leaf.scores[i]);
    }
    this.index = index;
  }
}

function leftmostLeaf(node: TreeNode): Leaf {
  while (!node.isLeaf) node = node.children[0];
  return node;
}

function removeChild(parent: Inner, i: number): void {
  parent.children.splice(i, 1);
  parent.counts.splice(i, 1);
  parent.sepScores.splice(i, 1);
  parent.sepMembers.splice(i, 1);
}

function sum(xs: number[]): number {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[i];
  return t;
}
