/**
 * Value encoding for RDB files and DUMP payloads: lengths, strings (raw, integer, LZF) and every
 * value type, choosing per target RDB version (9, 10, 11) the encodings the stock Redis of that
 * version writes itself, so it loads them.
 *
 * Choices: strings as Redis's rdbSaveRawString (integer form for canonical int32 text, LZF when
 * enabled and it saves space); lists as quicklists of ziplists (v9) or of listpacks (v10+), nodes
 * of about 8 KB; small sets of integers as intsets, small sets as listpacks (v11) else plain sets;
 * small hashes/zsets as ziplists (v9) or listpacks (v10+) else plain HASH / ZSET_2; streams as
 * STREAM_LISTPACKS 15/19/21. "Small" uses Redis's default thresholds (128 entries, 64 bytes, 512
 * intset members). Invariant: the output only depends on the value and the options, and every
 * container is complete and self-consistent (headers, counts, backlens) before it is written.
 */
import { ByteWriter, writeLatin1 } from "./bytes.ts";
import { QuicklistContainer, RdbType, type RdbWriteVersion, StreamFlag } from "./constants.ts";
import { encodeIntset } from "./intset.ts";
import { encodeListpack, type ListpackInput } from "./listpack.ts";
import { lzfCompress } from "./lzf.ts";
import { canonicalInt64, formatScore } from "./numbers.ts";
import type { RdbStreamId, RdbStreamValue, RdbValue } from "./records.ts";
import { encodeZiplist } from "./ziplist.ts";

/** Redis defaults that decide between compact and plain encodings. */
const MAX_COMPACT_ENTRIES = 128;
const MAX_COMPACT_VALUE = 64;
const MAX_INTSET_ENTRIES = 512;
/** Target size of one quicklist node (list-max-listpack-size -2). */
const LIST_NODE_BYTES = 8 * 1024;
/** Elements this large go into PLAIN quicklist-2 nodes (Redis's packed_threshold). */
const PLAIN_ELEMENT_BYTES = 1 << 30;
/** Stream node limits (stream-node-max-entries / -bytes). */
const STREAM_NODE_ENTRIES = 100;
const STREAM_NODE_BYTES = 4096;
/** LZF is tried only on strings longer than this (as Redis). */
const LZF_MIN_LENGTH = 20;

const U64_MAX = 2n ** 64n - 1n;

/** Reused buffer for the bytes of a string that LZF is tried on. */
let textScratch = new Uint8Array(64 * 1024);

/** Encodes RDB lengths, strings and values into a ByteWriter. */
export class RdbEncoder {
  /**
   * Creates an encoder that appends to `out` in the given RDB version.
   * @param out destination buffer
   * @param version target RDB version
   * @param compress LZF-compress strings longer than 20 bytes when that saves space
   * @param onProgress called between elements of large values, so a writer can flush
   */
  constructor(
    readonly out: ByteWriter,
    readonly version: RdbWriteVersion,
    readonly compress: boolean,
    private readonly onProgress: () => void = () => {},
  ) {}

  /** Writes a length in the smallest form (6, 14, 32 or 64 bits). */
  writeLen(len: number | bigint): void {
    const o = this.out;
    const n = typeof len === "bigint" && len <= 0xffffffffn ? Number(len) : len;
    if (typeof n === "number" && n < 64) {
      o.u8(n);
    } else if (typeof n === "number" && n < 16384) {
      o.u8(0x40 | (n >> 8));
      o.u8(n & 0xff);
    } else if (Number(n) <= 0xffffffff) {
      o.u8(0x80);
      o.u32be(Number(n));
    } else {
      o.u8(0x81);
      o.u64be(BigInt(n));
    }
  }

  /** Writes a string: integer-encoded, LZF or raw, as Redis's rdbSaveRawString chooses. */
  writeString(s: string): void {
    const n = s.length;
    if (n <= 11 && n > 0) {
      const v = canonicalInt64(s);
      if (v !== null && typeof v === "number" && v >= -2147483648 && v <= 2147483647) {
        const o = this.out;
        if (v >= -128 && v <= 127) {
          o.u8(0xc0);
          o.u8(v & 0xff);
        } else if (v >= -32768 && v <= 32767) {
          o.u8(0xc1);
          o.u16le(v);
        } else {
          o.u8(0xc2);
          o.u32le(v);
        }
        return;
      }
    }
    if (this.compress && n > LZF_MIN_LENGTH) {
      if (textScratch.length < n) textScratch = new Uint8Array(Math.max(n, 2 * textScratch.length));
      writeLatin1(textScratch, s, 0);
      const bytes = textScratch.subarray(0, n);
      if (this.writeCompressed(bytes)) return;
      this.writeLen(n);
      this.out.bytes(bytes);
      return;
    }
    this.writeLen(n);
    this.out.latin1(s);
  }

  /** Writes bytes as a string (LZF when enabled and worthwhile, else raw). */
  writeBlob(bytes: Uint8Array): void {
    if (this.compress && bytes.length > LZF_MIN_LENGTH && this.writeCompressed(bytes)) return;
    this.writeLen(bytes.length);
    this.out.bytes(bytes);
  }

  /** Writes `bytes` as an LZF string (0xc3, lengths, payload); false when compression does not shrink them. */
  private writeCompressed(bytes: Uint8Array): boolean {
    const packed = lzfCompress(bytes);
    if (packed === null) return false;
    this.out.u8(0xc3);
    this.writeLen(packed.length);
    this.writeLen(bytes.length);
    this.out.bytes(packed);
    return true;
  }

  /** The on-disk type this encoder uses for `v`. */
  typeOf(v: RdbValue): number {
    const v9 = this.version === 9;
    switch (v.type) {
      case "string":
        return RdbType.STRING;
      case "list":
        return v9 ? RdbType.LIST_QUICKLIST : RdbType.LIST_QUICKLIST_2;
      case "set":
        if (v.members.length <= MAX_INTSET_ENTRIES && intsetValues(v.members) !== null) return RdbType.SET_INTSET;
        if (this.version >= 11 && isSmall(v.members)) return RdbType.SET_LISTPACK;
        return RdbType.SET;
      case "zset":
        if (v.entries.length <= MAX_COMPACT_ENTRIES && v.entries.every((e) => e[0].length <= MAX_COMPACT_VALUE)) {
          return v9 ? RdbType.ZSET_ZIPLIST : RdbType.ZSET_LISTPACK;
        }
        return RdbType.ZSET_2;
      case "hash":
        if (
          v.fields.length <= MAX_COMPACT_ENTRIES &&
          v.fields.every((f) => f[0].length <= MAX_COMPACT_VALUE && f[1].length <= MAX_COMPACT_VALUE)
        ) {
          return v9 ? RdbType.HASH_ZIPLIST : RdbType.HASH_LISTPACK;
        }
        return RdbType.HASH;
      case "stream":
        return v9
          ? RdbType.STREAM_LISTPACKS
          : this.version === 10
          ? RdbType.STREAM_LISTPACKS_2
          : RdbType.STREAM_LISTPACKS_3;
    }
  }

  /** Writes the body of `v` encoded as `type` (from `typeOf`). */
  writeValue(type: number, v: RdbValue): void {
    switch (v.type) {
      case "string":
        return this.writeString(v.value);
      case "list":
        return this.writeList(v.items);
      case "set":
        return this.writeSet(type, v.members);
      case "zset":
        return this.writeZset(type, v.entries);
      case "hash":
        return this.writeHash(type, v.fields);
      case "stream":
        return this.writeStream(v);
    }
  }

  /** Writes a list as quicklist nodes of about LIST_NODE_BYTES: ziplists for RDB 9, else listpacks or a plain big element. */
  private writeList(items: string[]): void {
    // Partition into nodes of about LIST_NODE_BYTES (at least one element each).
    const bounds: number[] = [];
    let size = 0;
    for (let i = 0; i < items.length; i++) {
      const len = items[i].length + 11;
      if (i > 0 && (size + len > LIST_NODE_BYTES || items[i].length >= PLAIN_ELEMENT_BYTES)) {
        bounds.push(i);
        size = 0;
      }
      size += len;
    }
    bounds.push(items.length);
    this.writeLen(bounds.length);
    let from = 0;
    for (const to of bounds) {
      if (this.version === 9) {
        this.writeBlob(encodeZiplist(items, from, to, true));
      } else if (to - from === 1 && items[from].length >= PLAIN_ELEMENT_BYTES) {
        this.writeLen(QuicklistContainer.PLAIN);
        this.writeString(items[from]);
      } else {
        this.writeLen(QuicklistContainer.PACKED);
        this.writeBlob(encodeListpack(items, from, to, true));
      }
      from = to;
      this.onProgress();
    }
  }

  /** Writes a set as an intset, a listpack, or a length-prefixed member list, as `type` says. */
  private writeSet(type: number, members: string[]): void {
    if (type === RdbType.SET_INTSET) {
      const values = intsetValues(members)!;
      values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return this.writeBlob(encodeIntset(values));
    }
    if (type === RdbType.SET_LISTPACK) return this.writeBlob(encodeListpack(members, 0, members.length, true));
    this.writeLen(members.length);
    for (let i = 0; i < members.length; i++) {
      this.writeString(members[i]);
      if ((i & 1023) === 1023) this.onProgress();
    }
  }

  /** Writes a zset as ZSET_2 (members with binary scores) or as one ziplist/listpack, as `type` says. */
  private writeZset(type: number, entries: [string, number][]): void {
    if (type === RdbType.ZSET_2) {
      this.writeLen(entries.length);
      // Redis writes from the highest score down; loaders accept any order.
      for (let i = 0; i < entries.length; i++) {
        this.writeString(entries[i][0]);
        this.out.f64le(entries[i][1]);
        if ((i & 1023) === 1023) this.onProgress();
      }
      return;
    }
    const sorted = [...entries].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const flat: string[] = new Array(sorted.length * 2);
    for (let i = 0; i < sorted.length; i++) {
      flat[2 * i] = sorted[i][0];
      flat[2 * i + 1] = formatScore(sorted[i][1]);
    }
    this.writeBlob(
      type === RdbType.ZSET_ZIPLIST
        ? encodeZiplist(flat, 0, flat.length, true)
        : encodeListpack(flat, 0, flat.length, true),
    );
  }

  /** Writes a hash as field/value strings or as one ziplist/listpack, as `type` says. */
  private writeHash(type: number, fields: [string, string][]): void {
    if (type === RdbType.HASH) {
      this.writeLen(fields.length);
      for (let i = 0; i < fields.length; i++) {
        this.writeString(fields[i][0]);
        this.writeString(fields[i][1]);
        if ((i & 1023) === 1023) this.onProgress();
      }
      return;
    }
    const flat: string[] = new Array(fields.length * 2);
    for (let i = 0; i < fields.length; i++) {
      flat[2 * i] = fields[i][0];
      flat[2 * i + 1] = fields[i][1];
    }
    this.writeBlob(
      type === RdbType.HASH_ZIPLIST
        ? encodeZiplist(flat, 0, flat.length, true)
        : encodeListpack(flat, 0, flat.length, true),
    );
  }

  /** Writes a stream ID as two lengths (ms, seq). */
  private writeStreamId(id: RdbStreamId): void {
    this.writeLen(id.ms);
    this.writeLen(id.seq);
  }

  /** Writes a stream ID as two 64-bit big-endian integers (ms, seq). */
  private writeRawStreamId(id: RdbStreamId): void {
    this.out.u64be(id.ms);
    this.out.u64be(id.seq);
  }

  /** Writes a stream: its listpack nodes, metadata, then consumer groups with their PELs and consumers. */
  private writeStream(s: RdbStreamValue): void {
    const nodes = streamNodes(s);
    this.writeLen(nodes.length);
    for (const node of nodes) {
      const key = new ByteWriter(16);
      key.u64be(node.master.ms);
      key.u64be(node.master.seq);
      this.writeBlob(key.toBytes());
      this.writeBlob(encodeListpack(node.items, 0, node.items.length, true));
      this.onProgress();
    }
    this.writeLen(s.entries.length);
    this.writeStreamId(s.lastId);
    if (this.version >= 10) {
      this.writeStreamId(s.firstId);
      this.writeStreamId(s.maxDeletedId);
      this.writeLen(s.entriesAdded);
    }
    this.writeLen(s.groups.length);
    for (const g of s.groups) {
      this.writeString(g.name);
      this.writeStreamId(g.lastId);
      if (this.version >= 10) this.writeLen(g.entriesRead < 0n ? U64_MAX : g.entriesRead);
      this.writeLen(g.pending.length);
      for (const p of g.pending) {
        this.writeRawStreamId(p.id);
        this.out.i64le(p.deliveryTimeMs);
        this.writeLen(p.deliveryCount);
      }
      this.writeLen(g.consumers.length);
      for (const c of g.consumers) {
        this.writeString(c.name);
        this.out.i64le(c.seenTimeMs);
        if (this.version >= 11) this.out.i64le(c.activeTimeMs);
        this.writeLen(c.pending.length);
        for (const id of c.pending) this.writeRawStreamId(id);
      }
      this.onProgress();
    }
  }
}

/** Members as int64 values when every one is canonical integer text, else null. */
function intsetValues(members: string[]): (number | bigint)[] | null {
  const out: (number | bigint)[] = new Array(members.length);
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    const v = m.length <= 20 ? canonicalInt64(m) : null;
    if (v === null) return null;
    out[i] = v;
  }
  return out.length > 0 ? out : null;
}

/** True when a set fits a listpack under Redis's default limits. */
function isSmall(items: string[]): boolean {
  if (items.length > MAX_COMPACT_ENTRIES) return false;
  for (const s of items) if (s.length > MAX_COMPACT_VALUE) return false;
  return true;
}

/** One stream node: master ID and listpack items. */
interface StreamNode {
  master: RdbStreamId;
  items: ListpackInput[];
}

/** Splits stream entries into node listpacks the way streamAppendItem lays them out. */
function streamNodes(s: RdbStreamValue): StreamNode[] {
  const nodes: StreamNode[] = [];
  let node: StreamNode | null = null;
  let masterFields: string[] = [];
  let count = 0;
  let bytes = 0;
  const finish = () => {
    if (node !== null) node.items[0] = count;
  };
  for (const e of s.entries) {
    let size = 0;
    for (const f of e.fields) size += f.length + 2;
    if (node === null || count >= STREAM_NODE_ENTRIES || bytes + size > STREAM_NODE_BYTES) {
      finish();
      masterFields = [];
      for (let k = 0; k < e.fields.length; k += 2) masterFields.push(e.fields[k]);
      node = { master: e.id, items: [0, 0, masterFields.length, ...masterFields, 0] };
      nodes.push(node);
      count = 0;
      bytes = 0;
    }
    const msDelta = BigInt.asIntN(64, e.id.ms - node.master.ms);
    const seqDelta = BigInt.asIntN(64, e.id.seq - node.master.seq);
    const nf = e.fields.length / 2;
    let same = nf === masterFields.length;
    for (let k = 0; same && k < nf; k++) same = e.fields[2 * k] === masterFields[k];
    const items = node.items;
    if (same) {
      items.push(StreamFlag.SAMEFIELDS, smallInt(msDelta), smallInt(seqDelta));
      for (let k = 1; k < e.fields.length; k += 2) items.push(e.fields[k]);
      items.push(nf + 3);
    } else {
      items.push(0, smallInt(msDelta), smallInt(seqDelta), nf);
      for (const f of e.fields) items.push(f);
      items.push(2 * nf + 4);
    }
    count++;
    bytes += size + 8;
  }
  finish();
  return nodes;
}

function smallInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}
