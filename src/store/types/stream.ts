/**
 * Stream value: Redis's stream data model (t_stream.c) — entries in nodes that mirror Redis's
 * listpack nodes, plus consumer groups with their pending entries lists.
 *
 * Owns: the entries of one stream, its counters (last id, first id, max deleted id, entries
 * added) and its consumer groups.
 * Invariants:
 * - `nodes` are ordered by id and every id in node i is smaller than every id in node i+1;
 *   inside a node ids are strictly increasing; a node's `masterId` is the id of its first
 *   entry when it was created (Redis's rax key) and never changes;
 * - deleted entries stay in their node as tombstones (flag DELETED) until the node is removed;
 *   a node with no live entry is removed; `length` counts live entries;
 * - nodes split exactly where Redis's listpack nodes split (stream-node-max-bytes /
 *   stream-node-max-entries, with the listpack byte size modelled exactly), so approximate
 *   trimming (`~`) removes the same entries as Redis and RDB can write the same listpacks;
 * - every pending entry (NACK) is in its group PEL and in exactly one consumer PEL (the one it
 *   points to); PELs are ordered by id.
 * RDB: a node maps to one listpack (master ID = rax key, master fields, entries with their
 * flags and deltas from the master ID); a loader rebuilds nodes with `new StreamNode` and
 * `appendEntry` (tombstones included) and then sets the stream counters and groups.
 */
import type { CollectionValue } from "../values.ts";
import { StringMap } from "../string_map.ts";
import { DenseStringMap } from "../dense_string_map.ts";

/** A stream entry ID: 64-bit unsigned milliseconds and sequence. */
export interface StreamID {
  /** Milliseconds part. */
  ms: bigint;
  /** Sequence part. */
  seq: bigint;
}

/** Largest 64-bit unsigned value. */
export const UINT64_MAX = (1n << 64n) - 1n;
/** The smallest ID, 0-0. */
export const MIN_ID: StreamID = Object.freeze({ ms: 0n, seq: 0n });
/** The largest ID. */
export const MAX_ID: StreamID = Object.freeze({ ms: UINT64_MAX, seq: UINT64_MAX });

/** Entry flag: the entry is a tombstone. */
export const FLAG_DELETED = 1;
/** Entry flag: the entry has the node's master fields (only values are stored). */
export const FLAG_SAMEFIELDS = 2;

/** Compares two IDs: negative, zero or positive. */
export function compareIds(a: StreamID, b: StreamID): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** The last `<ms>-` prefix formatted: consecutive IDs mostly share their milliseconds. */
let formattedMs = -1n;
let formattedMsPrefix = "";

/** `<ms>-<seq>` form of an ID. */
export function formatId(id: StreamID): string {
  if (id.ms !== formattedMs) {
    formattedMs = id.ms;
    formattedMsPrefix = `${id.ms}-`;
  }
  // A small BigInt prints faster as a Number.
  return formattedMsPrefix + (id.seq <= MAX_SAFE ? String(Number(id.seq)) : String(id.seq));
}

let nowMs = -1;
let nowMsBig = 0n;
/** Date.now() as a BigInt, converted once per millisecond (XADD's `*` IDs). */
export function nowMsBigInt(): bigint {
  const now = Date.now();
  if (now !== nowMs) {
    nowMs = now;
    nowMsBig = BigInt(now);
  }
  return nowMsBig;
}

/** True for 0-0. */
export function isZeroId(id: StreamID): boolean {
  return id.ms === 0n && id.seq === 0n;
}

/** The successor of `id`, or null when `id` is the largest ID. */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq === UINT64_MAX) return id.ms === UINT64_MAX ? null : { ms: id.ms + 1n, seq: 0n };
  return { ms: id.ms, seq: id.seq + 1n };
}

/** The predecessor of `id`, or null when `id` is 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq === 0n) return id.ms === 0n ? null : { ms: id.ms - 1n, seq: UINT64_MAX };
  return { ms: id.ms, seq: id.seq - 1n };
}

/** 16-byte big-endian key of an ID (Redis's rax key): string order equals ID order. */
export function idKey(id: StreamID): string {
  return u64Key(id.ms) + u64Key(id.seq);
}

function u64Key(v: bigint): string {
  const hi = Number(v >> 32n);
  const lo = Number(v & 0xffffffffn);
  return String.fromCharCode(
    hi >>> 24,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  );
}

/** The ID of a 16-byte key made by `idKey`. */
export function idFromKey(k: string): StreamID {
  return { ms: keyU64(k, 0), seq: keyU64(k, 8) };
}

function keyU64(k: string, at: number): bigint {
  const hi =
    ((k.charCodeAt(at) << 24) | (k.charCodeAt(at + 1) << 16) | (k.charCodeAt(at + 2) << 8) | k.charCodeAt(at + 3)) >>>
    0;
  const lo = ((k.charCodeAt(at + 4) << 24) | (k.charCodeAt(at + 5) << 16) | (k.charCodeAt(at + 6) << 8) |
    k.charCodeAt(at + 7)) >>>
    0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** `<ms>-<seq>` form of a 16-byte ID key. */
export function formatIdKey(k: string): string {
  return formatId(idFromKey(k));
}

// ---------------------------------------------------------------------------------------------
// Listpack size model (listpack.c encodings), used to split nodes where Redis does.

/** Bytes of a listpack entry holding the integer `v`. */
function lpIntEntrySize(v: bigint): number {
  if (v >= 0n && v <= 127n) return 2;
  if (v >= -4096n && v <= 4095n) return 3;
  if (v >= -32768n && v <= 32767n) return 4;
  if (v >= -8388608n && v <= 8388607n) return 5;
  if (v >= -2147483648n && v <= 2147483647n) return 6;
  return 10;
}

/** Bytes of a listpack entry holding a small non-negative integer. */
function lpSmallIntEntrySize(v: number): number {
  return v <= 127 ? 2 : v <= 4095 ? 3 : v <= 32767 ? 4 : v <= 8388607 ? 5 : v <= 2147483647 ? 6 : 10;
}

/** Bytes of a listpack entry holding the string `s` (integers are stored as integers). */
export function lpEntrySize(s: string): number {
  const len = s.length;
  if (len > 0 && len < 21) {
    const c0 = s.charCodeAt(0);
    if ((c0 >= 48 && c0 <= 57) || c0 === 45) {
      const v = parseStrictInt64(s);
      if (v !== null) return lpIntEntrySize(v);
    }
  }
  const enclen = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  const backlen = enclen <= 127 ? 1 : enclen < 16383 ? 2 : enclen < 2097151 ? 3 : enclen < 268435455 ? 4 : 5;
  return enclen + backlen;
}

/** Most entries a new node is sized for up front (see `StreamValue.append`). */
const MAX_NODE_PRESIZE = 128;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** string2ll / lpStringToInt64: canonical decimal int64 or null. */
function parseStrictInt64(s: string): bigint | null {
  if (s === "0") return 0n;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (s.length === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return null;
  for (let j = i + 1; j < s.length; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 48 || ch > 57) return null;
  }
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

// ---------------------------------------------------------------------------------------------
// Nodes.

/** One node: Redis's listpack of entries sharing a master entry. */
export class StreamNode {
  /** ID of the first entry added to the node (the rax key); deltas are relative to it. */
  readonly masterId: StreamID;
  /** Field names of the master entry. */
  readonly masterFields: string[];
  /** ms,seq pairs of every entry (live and deleted), ascending. */
  ids: BigUint64Array;
  /** Flags of every entry (FLAG_DELETED, FLAG_SAMEFIELDS). */
  flags: Uint8Array;
  /**
   * The strings of every entry, back to back: per entry its values when FLAG_SAMEFIELDS, else
   * its field,value pairs (one flat array, so an entry costs no array of its own).
   */
  strings: string[] = [];
  /** Where entry i's strings start in `strings`; entry i ends where i + 1 starts (`count` + 1 used). */
  starts: Int32Array;
  /** Entries stored (live and deleted). */
  count = 0;
  /** Live entries (the master entry's count field). */
  live = 0;
  /** Deleted entries (the master entry's deleted field). */
  deleted = 0;
  /** Listpack bytes of everything but the header, end byte, count and deleted fields. */
  bodyBytes: number;

  /** Creates a node holding only its master entry, with room for `capacity` entries. */
  constructor(masterId: StreamID, masterFields: string[], capacity = 8) {
    this.masterId = masterId;
    this.masterFields = masterFields;
    this.ids = new BigUint64Array(capacity * 2);
    this.flags = new Uint8Array(capacity);
    this.starts = new Int32Array(capacity + 1);
    let body = lpSmallIntEntrySize(masterFields.length) + 2;
    for (const f of masterFields) body += lpEntrySize(f);
    this.bodyBytes = body;
  }

  /** Total listpack bytes (lpBytes) of the node as Redis would hold it. */
  get lpBytes(): number {
    return 7 + lpSmallIntEntrySize(this.live) + lpSmallIntEntrySize(this.deleted) + this.bodyBytes;
  }

  /** ID of entry `i`. */
  idAt(i: number): StreamID {
    return { ms: this.ids[2 * i], seq: this.ids[2 * i + 1] };
  }

  /** Compares entry `i` with (ms, seq). */
  compareAt(i: number, id: StreamID): number {
    const ms = this.ids[2 * i];
    if (ms !== id.ms) return ms < id.ms ? -1 : 1;
    const seq = this.ids[2 * i + 1];
    if (seq !== id.seq) return seq < id.seq ? -1 : 1;
    return 0;
  }

  /** First index whose ID is >= `id` (count when none). */
  lowerBound(id: StreamID): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(mid, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Field/value pairs of entry `i`, interleaved. */
  fieldsAt(i: number): string[] {
    const from = this.starts[i];
    const to = this.starts[i + 1];
    if (!(this.flags[i] & FLAG_SAMEFIELDS)) return this.strings.slice(from, to);
    const out = new Array<string>((to - from) * 2);
    for (let j = 0; j < to - from; j++) {
      out[2 * j] = this.masterFields[j];
      out[2 * j + 1] = this.strings[from + j];
    }
    return out;
  }

  /** Number of field/value pairs of entry `i`. */
  numFieldsAt(i: number): number {
    const n = this.starts[i + 1] - this.starts[i];
    return this.flags[i] & FLAG_SAMEFIELDS ? n : n >> 1;
  }

  /**
   * Appends an entry with interleaved `fieldsValues` (IDs ascending; the caller checked
   * ordering and node limits). The entry is stored without field names when they equal the
   * master fields, as Redis flags it SAMEFIELDS; `deleted` adds it as a tombstone (RDB loading).
   * The pairs start at `fieldsValues[from]` (XADD passes its argument vector).
   */
  appendEntry(id: StreamID, fieldsValues: string[], deleted = false, from = 0): void {
    const numFields = (fieldsValues.length - from) >> 1;
    let flags = 0;
    if (numFields === this.masterFields.length) {
      let same = true;
      for (let i = 0; i < numFields && same; i++) same = fieldsValues[from + 2 * i] === this.masterFields[i];
      if (same) flags = FLAG_SAMEFIELDS;
    }
    let bytes = 2 + lpIntEntrySize(BigInt.asIntN(64, id.ms - this.masterId.ms)) +
      lpIntEntrySize(BigInt.asIntN(64, id.seq - this.masterId.seq));
    const strings = this.strings;
    let lpCount = numFields + 3;
    if (flags & FLAG_SAMEFIELDS) {
      for (let i = 0; i < numFields; i++) {
        const v = fieldsValues[from + 2 * i + 1];
        strings.push(v);
        bytes += lpEntrySize(v);
      }
    } else {
      bytes += lpSmallIntEntrySize(numFields);
      for (let i = from; i < fieldsValues.length; i++) {
        const s = fieldsValues[i];
        strings.push(s);
        bytes += lpEntrySize(s);
      }
      lpCount += numFields + 1;
    }
    bytes += lpSmallIntEntrySize(lpCount);
    if (this.count === this.flags.length) {
      const cap = this.count * 2;
      const ids = new BigUint64Array(cap * 2);
      ids.set(this.ids);
      this.ids = ids;
      const fl = new Uint8Array(cap);
      fl.set(this.flags);
      this.flags = fl;
      const st = new Int32Array(cap + 1);
      st.set(this.starts);
      this.starts = st;
    }
    this.ids[2 * this.count] = id.ms;
    this.ids[2 * this.count + 1] = id.seq;
    this.flags[this.count] = deleted ? flags | FLAG_DELETED : flags;
    this.count++;
    this.starts[this.count] = strings.length;
    if (deleted) this.deleted++;
    else this.live++;
    this.bodyBytes += bytes;
  }

  /** Deep copy. */
  clone(): StreamNode {
    const n = new StreamNode(this.masterId, this.masterFields.slice(), 1);
    n.ids = this.ids.slice();
    n.flags = this.flags.slice();
    n.starts = this.starts.slice();
    n.strings = this.strings.slice();
    n.count = this.count;
    n.live = this.live;
    n.deleted = this.deleted;
    n.bodyBytes = this.bodyBytes;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Ordered ID index (PELs).

const CHUNK_MAX = 256;

/**
 * Map from 16-byte ID keys to values, ordered by key: a hash map for lookups (a DenseStringMap:
 * the keys are built strings, which V8's Map would internalize on every access) plus sorted
 * chunks of keys for ordered walks (O(log n) seeks, O(√n)-ish updates, O(1) appends).
 */
export class IdIndex<V> {
  private readonly map = new DenseStringMap<V>();
  private chunks: string[][] = [];

  /** Number of keys. */
  get size(): number {
    return this.map.size;
  }

  /** Value of `key`. */
  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Inserts or replaces; returns true when the key is new. */
  set(key: string, value: V): boolean {
    const isNew = !this.map.has(key);
    this.map.set(key, value);
    if (!isNew) return false;
    const chunks = this.chunks;
    const last = chunks[chunks.length - 1];
    if (last === undefined) {
      chunks.push([key]);
      return true;
    }
    if (key > last[last.length - 1]) {
      if (last.length < CHUNK_MAX) last.push(key);
      else chunks.push([key]);
      return true;
    }
    const ci = this.chunkFor(key);
    const chunk = chunks[ci];
    chunk.splice(lowerBoundStr(chunk, key), 0, key);
    if (chunk.length > CHUNK_MAX) chunks.splice(ci + 1, 0, chunk.splice(chunk.length >> 1));
    return true;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    if (!this.map.delete(key)) return false;
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci];
    chunk.splice(lowerBoundStr(chunk, key), 1);
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /** Smallest key, if any. */
  first(): string | undefined {
    return this.chunks.length ? this.chunks[0][0] : undefined;
  }

  /** Largest key, if any. */
  last(): string | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c ? c[c.length - 1] : undefined;
  }

  /** Smallest key >= `key`, if any. */
  ceiling(key: string): string | undefined {
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci];
    if (chunk === undefined) return undefined;
    const i = lowerBoundStr(chunk, key);
    if (i < chunk.length) return chunk[i];
    return this.chunks[ci + 1]?.[0];
  }

  /** Smallest key > `key`, if any. */
  higher(key: string): string | undefined {
    const k = this.ceiling(key);
    if (k !== key) return k;
    return this.ceiling(key + "\0");
  }

  /** Keys >= `from` in ascending order (the index must not change during the walk). */
  *keysFrom(from = ""): Generator<string> {
    let ci = from === "" ? 0 : this.chunkFor(from);
    let i = from === "" || this.chunks[ci] === undefined ? 0 : lowerBoundStr(this.chunks[ci], from);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci];
      for (; i < chunk.length; i++) yield chunk[i];
    }
  }

  /** [key, value] pairs in ascending key order. */
  *entries(): Generator<[string, V]> {
    for (const k of this.keysFrom()) yield [k, this.map.get(k)!];
  }

  /** Index of the chunk that holds (or would hold) `key`. */
  private chunkFor(key: string): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid];
      if (c[c.length - 1] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function lowerBoundStr(a: string[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Consumer groups.

/** A pending entry: delivered to a consumer, not acknowledged yet. */
export interface StreamNack {
  /** Owner; null only transiently while XCLAIM FORCE creates the entry. */
  consumer: StreamConsumer | null;
  /** Last delivery time (ms since the epoch). */
  deliveryTime: number;
  /** Number of deliveries. */
  deliveryCount: number;
}

/** A consumer of a group. */
export class StreamConsumer {
  /** Last time the consumer was seen (ms). */
  seenTime: number;
  /** Last time the consumer read or claimed successfully (ms), -1 if never (Redis 7.2). */
  activeTime: number = -1;
  /** Pending entries owned by the consumer (same NACK objects as the group PEL). */
  readonly pel = new IdIndex<StreamNack>();

  /** Creates a consumer, first seen at `now`, that has never been active. */
  constructor(readonly name: string, now: number) {
    this.seenTime = now;
  }
}

/** Marker of an unknown `entries_read` counter (SCG_INVALID_ENTRIES_READ). */
export const INVALID_ENTRIES_READ: bigint = -1n;

/** A consumer group. */
export class StreamGroup {
  /** Pending entries of the whole group. */
  readonly pel = new IdIndex<StreamNack>();
  /** Consumers by name. */
  readonly consumers = new StringMap<StreamConsumer>();

  /** Creates a group with its last delivered ID and `entries_read` counter, and no consumers or PEL. */
  constructor(readonly name: string, public lastId: StreamID, public entriesRead: bigint) {}

  /** Consumers in name (byte) order, as Redis's rax walks them. */
  sortedConsumers(): StreamConsumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Creates a consumer; returns null if it exists. */
  createConsumer(name: string, now: number): StreamConsumer | null {
    if (this.consumers.has(name)) return null;
    const consumer = new StreamConsumer(name, now);
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** Deletes a consumer and its pending entries (from the group PEL too). */
  deleteConsumer(consumer: StreamConsumer): void {
    for (const k of consumer.pel.keysFrom()) this.pel.delete(k);
    this.consumers.delete(consumer.name);
  }

  /** Removes the pending entry `key` from the group and its consumer. */
  removeNack(key: string): void {
    const nack = this.pel.get(key);
    if (nack === undefined) return;
    this.pel.delete(key);
    nack.consumer?.pel.delete(key);
  }
}

// ---------------------------------------------------------------------------------------------
// The stream.

/** Node limits taken from stream-node-max-bytes / stream-node-max-entries. */
export interface NodeLimits {
  /** Byte limit (0 = no limit). */
  maxBytes: number;
  /** Entry limit (0 = no limit). */
  maxEntries: number;
}

/** Largest listpack Redis lets a stream node grow to. */
const LISTPACK_MAX_SIZE = 1 << 30;

/** Trim strategy parameters (XADD / XTRIM). */
export interface TrimArgs {
  /** MAXLEN or MINID. */
  strategy: "maxlen" | "minid";
  /** `~`: remove whole nodes only. */
  approx: boolean;
  /** Max entries to remove (0 = no limit). */
  limit: number;
  /** MAXLEN argument. */
  maxlen: number;
  /** MINID argument. */
  minid: StreamID;
}

/** A stream value. */
export class StreamValue implements CollectionValue {
  /** Redis type. */
  readonly kind = "stream" as const;
  /** Nodes in ID order. */
  nodes: StreamNode[] = [];
  /** Live entries. */
  length = 0;
  /** Largest ID ever added (or set by XSETID). */
  lastId: StreamID = MIN_ID;
  /** ID of the first live entry (0-0 when empty). */
  firstId: StreamID = MIN_ID;
  /** Largest ID ever deleted. */
  maxDeletedId: StreamID = MIN_ID;
  /** Entries ever added while that fits a safe integer (see `entriesAdded`). */
  private added = 0;
  /** Entries ever added once that no longer fits `added` (XSETID can set any 64-bit count). */
  private addedBig: bigint | null = null;

  /** Entries ever added. (Counted as a number: a BigInt increment per XADD allocates.) */
  get entriesAdded(): bigint {
    return this.addedBig ?? BigInt(this.added);
  }

  /** Sets the count of entries ever added (XSETID ENTRIESADDED, RDB loading, copies). */
  set entriesAdded(v: bigint) {
    if (v >= 0n && v <= MAX_SAFE) {
      this.added = Number(v);
      this.addedBig = null;
    } else {
      this.addedBig = v;
    }
  }
  /** Consumer groups by name (null until the first group is created, like Redis). */
  groups: StringMap<StreamGroup> | null = null;

  /** OBJECT ENCODING name. */
  encoding(): string {
    return "stream";
  }

  /** Live entries. */
  size(): number {
    return this.length;
  }

  /**
   * Appends an entry with interleaved `fieldsValues` under `id` (> lastId, checked by the
   * caller), opening a new node where Redis would. The pairs start at `fieldsValues[from]`.
   */
  append(id: StreamID, fieldsValues: string[], limits: NodeLimits, from = 0): void {
    const numFields = (fieldsValues.length - from) >> 1;
    let totelelen = 0;
    for (let i = from; i < fieldsValues.length; i++) totelelen += fieldsValues[i].length;
    let node: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    if (node !== undefined) {
      let maxBytes = limits.maxBytes;
      if (maxBytes === 0 || maxBytes > LISTPACK_MAX_SIZE) maxBytes = LISTPACK_MAX_SIZE;
      if (node.lpBytes + totelelen >= maxBytes) node = undefined;
      else if (limits.maxEntries && node.live + node.deleted >= limits.maxEntries) node = undefined;
    }
    if (node === undefined) {
      const fields = new Array<string>(numFields);
      for (let i = 0; i < numFields; i++) fields[i] = fieldsValues[from + 2 * i];
      // A node that follows a full one will most likely fill up the same way: sizing it like
      // that one at once saves growing its arrays (each growth allocates and copies three).
      const full = this.nodes[this.nodes.length - 1];
      const capacity = full === undefined ? 8 : Math.min(Math.max(full.count, 8), MAX_NODE_PRESIZE);
      node = new StreamNode(id, fields, capacity);
      this.nodes.push(node);
    }
    node.appendEntry(id, fieldsValues, false, from);
    this.length++;
    if (this.addedBig === null && this.added < Number.MAX_SAFE_INTEGER) this.added++;
    else this.entriesAdded = this.entriesAdded + 1n;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  /** Index of the last node whose master ID is <= `id` (-1 when none). */
  private nodeAtOrBefore(id: StreamID): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.nodes[mid].masterId, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Locates the entry `id` (live or tombstone): [node index, entry index] or null. */
  locate(id: StreamID): [number, number] | null {
    const ni = this.nodeAtOrBefore(id);
    if (ni < 0) return null;
    const node = this.nodes[ni];
    const i = node.lowerBound(id);
    if (i < node.count && node.compareAt(i, id) === 0) return [ni, i];
    return null;
  }

  /** True when `id` is a live entry. */
  has(id: StreamID): boolean {
    const at = this.locate(id);
    return at !== null && !(this.nodes[at[0]].flags[at[1]] & FLAG_DELETED);
  }

  /** Field/value pairs of the live entry `id`, or null. */
  get(id: StreamID): string[] | null {
    const at = this.locate(id);
    if (at === null) return null;
    const node = this.nodes[at[0]];
    return node.flags[at[1]] & FLAG_DELETED ? null : node.fieldsAt(at[1]);
  }

  /** A cursor over entries in [start, end], forward or reversed. */
  cursor(start: StreamID, end: StreamID, rev: boolean, skipTombstones = true): StreamCursor {
    return new StreamCursor(this, start, end, rev, skipTombstones);
  }

  /** ID of the last live entry (lastValidId), or null when empty. */
  lastValidId(): StreamID | null {
    const cur = this.cursor(MIN_ID, MAX_ID, true);
    return cur.next() ? cur.id() : null;
  }

  /**
   * streamGetEdgeID: first or last entry ID (tombstones included unless skipped); when none,
   * MAX_ID for the first edge and MIN_ID for the last.
   */
  edgeId(first: boolean, skipTombstones: boolean): StreamID {
    const cur = this.cursor(MIN_ID, MAX_ID, !first, skipTombstones);
    if (cur.next()) return cur.id();
    return first ? MAX_ID : MIN_ID;
  }

  /** Marks the live entry `id` deleted (XDEL). Returns whether it existed. */
  delete(id: StreamID): boolean {
    const at = this.locate(id);
    if (at === null) return false;
    const [ni, i] = at;
    const node = this.nodes[ni];
    if (node.flags[i] & FLAG_DELETED) return false;
    node.flags[i] |= FLAG_DELETED;
    if (node.live === 1) this.nodes.splice(ni, 1);
    else {
      node.live--;
      node.deleted++;
    }
    this.length--;
    return true;
  }

  /** Redis's streamTrim: removes old entries per `args`; returns how many were removed. */
  trim(args: TrimArgs): number {
    let deleted = 0;
    let removeNodes = 0;
    for (let ni = 0; ni < this.nodes.length; ni++) {
      if (args.strategy === "maxlen" && this.length <= args.maxlen) break;
      const node = this.nodes[ni];
      const entries = node.live;
      if (args.limit && deleted + entries > args.limit) break;
      let removeNode: boolean;
      if (args.strategy === "maxlen") {
        removeNode = this.length - entries >= args.maxlen;
      } else {
        removeNode = compareIds(node.idAt(node.count - 1), args.minid) < 0;
      }
      if (removeNode) {
        removeNodes++;
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (args.approx) break;
      let deletedFromNode = 0;
      for (let i = 0; i < node.count; i++) {
        const stop = args.strategy === "maxlen" ? this.length <= args.maxlen : node.compareAt(i, args.minid) >= 0;
        if (stop) break;
        if (!(node.flags[i] & FLAG_DELETED)) {
          node.flags[i] |= FLAG_DELETED;
          deletedFromNode++;
          this.length--;
        }
      }
      deleted += deletedFromNode;
      node.live -= deletedFromNode;
      node.deleted += deletedFromNode;
      break;
    }
    if (removeNodes) this.nodes.splice(0, removeNodes);
    if (this.length === 0) this.firstId = MIN_ID;
    else if (deleted) this.firstId = this.edgeId(true, true);
    return deleted;
  }

  /** True when a tombstone may lie in [start, end] (streamRangeHasTombstones). */
  rangeHasTombstones(start: StreamID | null, end: StreamID | null): boolean {
    if (!this.length || isZeroId(this.maxDeletedId)) return false;
    if (compareIds(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? MIN_ID;
    const e = end ?? MAX_ID;
    return compareIds(s, this.maxDeletedId) <= 0 && compareIds(this.maxDeletedId, e) <= 0;
  }

  /**
   * streamEstimateDistanceFromFirstEverEntry: the logical read counter of `id`, or
   * INVALID_ENTRIES_READ when it cannot be known.
   */
  estimateDistanceFromFirstEverEntry(id: StreamID): bigint {
    if (!this.entriesAdded) return 0n;
    if (!this.length && compareIds(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = compareIds(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return INVALID_ENTRIES_READ;
    const cmpIdFirst = compareIds(id, this.firstId);
    const cmpXdelFirst = compareIds(this.maxDeletedId, this.firstId);
    if (isZeroId(this.maxDeletedId) || cmpXdelFirst < 0) {
      if (cmpIdFirst < 0) return this.entriesAdded - BigInt(this.length);
      if (cmpIdFirst === 0) return this.entriesAdded - BigInt(this.length) + 1n;
    }
    return INVALID_ENTRIES_READ;
  }

  /** The lag of a group (entries not yet delivered), or null when it cannot be known. */
  groupLag(group: StreamGroup): bigint | null {
    if (!this.entriesAdded) return 0n;
    if (group.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(group.lastId, null)) {
      return this.entriesAdded - group.entriesRead;
    }
    const entriesRead = this.estimateDistanceFromFirstEverEntry(group.lastId);
    return entriesRead !== INVALID_ENTRIES_READ ? this.entriesAdded - entriesRead : null;
  }

  /** Looks up a group. */
  group(name: string): StreamGroup | undefined {
    return this.groups?.get(name);
  }

  /** Creates a group; returns null if one with that name exists. */
  createGroup(name: string, lastId: StreamID, entriesRead: bigint): StreamGroup | null {
    if (this.groups === null) this.groups = new StringMap();
    if (this.groups.has(name)) return null;
    const g = new StreamGroup(name, lastId, entriesRead);
    this.groups.set(name, g);
    return g;
  }

  /** Groups in name (byte) order, as Redis's rax walks them. */
  sortedGroups(): StreamGroup[] {
    if (this.groups === null) return [];
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Number of rax nodes Redis would hold for the node keys (XINFO radix-tree-nodes). */
  radixTreeNodes(): number {
    const keys = this.nodes.map((n) => idKey(n.masterId));
    return raxNodeCount(keys, 0, keys.length, 0, 0, true);
  }

  /** Deep copy (COPY, snapshots). */
  clone(): StreamValue {
    const s = new StreamValue();
    s.nodes = this.nodes.map((n) => n.clone());
    s.length = this.length;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    if (this.groups !== null) {
      s.groups = new StringMap();
      for (const g of this.groups.values()) {
        const ng = new StreamGroup(g.name, g.lastId, g.entriesRead);
        const copies = new Map<StreamNack, StreamNack>();
        for (const [k, nack] of g.pel.entries()) {
          const copy: StreamNack = {
            consumer: null,
            deliveryTime: nack.deliveryTime,
            deliveryCount: nack.deliveryCount,
          };
          copies.set(nack, copy);
          ng.pel.set(k, copy);
        }
        for (const c of g.consumers.values()) {
          const nc = new StreamConsumer(c.name, c.seenTime);
          nc.activeTime = c.activeTime;
          for (const [k, nack] of c.pel.entries()) {
            const copy = copies.get(nack)!;
            copy.consumer = nc;
            nc.pel.set(k, copy);
          }
          ng.consumers.set(c.name, nc);
        }
        s.groups.set(g.name, ng);
      }
    }
    return s;
  }

  /** Rough bytes held (MEMORY USAGE). */
  memoryUsage(): number {
    let bytes = 64;
    for (const n of this.nodes) bytes += n.lpBytes + 48 + n.count * 24;
    if (this.groups !== null) {
      for (const g of this.groups.values()) {
        bytes += 96 + g.name.length + g.pel.size * 80;
        for (const c of g.consumers.values()) bytes += 64 + c.name.length;
      }
    }
    return bytes;
  }

  /**
   * Canonical serialization: live entries in order, the counters, and each group (by name)
   * with its last ID, read counter, PEL (id, owner, delivery time and count) and consumers (by
   * name). Consumer seen/active times are left out: they are not replicated.
   */
  canonical(): string {
    const parts: string[] = [];
    const cur = this.cursor(MIN_ID, MAX_ID, false);
    while (cur.next()) {
      const f = cur.fields();
      parts.push(`${formatId(cur.id())}:${f.length}`);
      for (const s of f) parts.push(`${s.length}:${s}`);
    }
    parts.push(
      `last:${formatId(this.lastId)}`,
      `first:${formatId(this.firstId)}`,
      `maxdel:${formatId(this.maxDeletedId)}`,
      `added:${this.entriesAdded}`,
    );
    for (const g of this.sortedGroups()) {
      parts.push(`group:${g.name.length}:${g.name}:${formatId(g.lastId)}:${g.entriesRead}`);
      for (const [k, nack] of g.pel.entries()) {
        parts.push(`pel:${formatIdKey(k)}:${nack.consumer?.name ?? ""}:${nack.deliveryTime}:${nack.deliveryCount}`);
      }
      for (const c of g.sortedConsumers()) parts.push(`consumer:${c.name.length}:${c.name}:${c.pel.size}`);
    }
    return parts.join("\n");
  }
}

/**
 * Rax node count of the canonical compressed radix tree over sorted 16-byte `keys[lo, hi)`
 * sharing their first `depth` bytes: a vertex is a node when it is the root, a child of a
 * branching vertex, or not a single-child vertex itself (a branch or a key).
 */
function raxNodeCount(
  keys: string[],
  lo: number,
  hi: number,
  depth: number,
  parentDegree: number,
  isRoot: boolean,
): number {
  if (hi - lo === 0) return 1;
  if (depth === 16) return 1;
  let degree = 0;
  for (let i = lo; i < hi;) {
    const ch = keys[i].charCodeAt(depth);
    let j = i + 1;
    while (j < hi && keys[j].charCodeAt(depth) === ch) j++;
    degree++;
    i = j;
  }
  let n = isRoot || parentDegree >= 2 || degree !== 1 ? 1 : 0;
  for (let i = lo; i < hi;) {
    const ch = keys[i].charCodeAt(depth);
    let j = i + 1;
    while (j < hi && keys[j].charCodeAt(depth) === ch) j++;
    n += raxNodeCount(keys, i, j, depth + 1, degree, false);
    i = j;
  }
  return n;
}

/** Walks entries of a stream in [start, end]; `next()` then `id()` / `fields()`. */
export class StreamCursor {
  private ni: number;
  private i: number;
  private started = false;
  private node: StreamNode | null = null;

  /** Positions the cursor before the first entry of [start, end] (the last one when `rev`). */
  constructor(
    private readonly stream: StreamValue,
    private readonly start: StreamID,
    private readonly end: StreamID,
    private readonly rev: boolean,
    private readonly skipTombstones: boolean,
  ) {
    const nodes = stream.nodes;
    if (!rev) {
      let ni = 0;
      if (!isZeroId(start)) {
        let lo = 0;
        let hi = nodes.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareIds(nodes[mid].masterId, start) <= 0) lo = mid + 1;
          else hi = mid;
        }
        ni = Math.max(0, lo - 1);
      }
      this.ni = ni;
      this.i = ni < nodes.length ? nodes[ni].lowerBound(start) - 1 : 0;
    } else {
      let lo = 0;
      let hi = nodes.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareIds(nodes[mid].masterId, end) <= 0) lo = mid + 1;
        else hi = mid;
      }
      this.ni = lo - 1;
      if (this.ni >= 0) {
        const n = nodes[this.ni];
        let j = n.lowerBound(end);
        if (j < n.count && n.compareAt(j, end) === 0) j++;
        this.i = j;
      } else this.i = 0;
    }
  }

  /** Advances to the next entry in range; false at the end. */
  next(): boolean {
    const nodes = this.stream.nodes;
    if (!this.rev) {
      this.i++;
      for (; this.ni < nodes.length; this.ni++, this.i = 0) {
        const n = nodes[this.ni];
        for (; this.i < n.count; this.i++) {
          if (this.skipTombstones && n.flags[this.i] & FLAG_DELETED) continue;
          if (!this.started && n.compareAt(this.i, this.start) < 0) continue;
          if (n.compareAt(this.i, this.end) > 0) {
            this.ni = nodes.length;
            return false;
          }
          this.started = true;
          this.node = n;
          return true;
        }
      }
      return false;
    }
    this.i--;
    for (; this.ni >= 0; this.ni--, this.i = this.ni >= 0 ? nodes[this.ni].count - 1 : 0) {
      const n = nodes[this.ni];
      for (; this.i >= 0; this.i--) {
        if (this.skipTombstones && n.flags[this.i] & FLAG_DELETED) continue;
        if (n.compareAt(this.i, this.start) < 0) {
          this.ni = -1;
          return false;
        }
        this.node = n;
        return true;
      }
    }
    return false;
  }

  /** ID of the current entry. */
  id(): StreamID {
    return this.node!.idAt(this.i);
  }

  /** Field/value pairs of the current entry, interleaved. */
  fields(): string[] {
    return this.node!.fieldsAt(this.i);
  }
}
