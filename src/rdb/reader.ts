/**
 * Streaming RDB reader (spec §D): RDB versions 1–12, every opcode and every value type except
 * modules and 7.4 hash field TTLs (rejected with a clear error).
 *
 * It is a push parser: `feed(chunk)` takes bytes from a file or a socket and calls `onRecord` for
 * each record in file order. Memory stays bounded by one parse unit (one string, one container
 * blob, one collection element) plus one chunk, so a multi-GB RDB never needs to be in memory;
 * only the key being built is held.
 *
 * Invariants:
 * - A unit is parsed atomically: if the input ends inside it, the position rewinds to its start
 *   and it is retried once enough bytes have arrived (the exact count is known after the first
 *   attempt). Units mutate state and emit records only after their last read.
 * - Chunks are never retained: unconsumed bytes are copied, so a caller may reuse its buffer.
 * - `feed` reports how many bytes of the chunk belonged to the RDB, so the end of the RDB is exact
 *   and whatever follows (a replication stream, an AOF tail) is left to the caller.
 * - Any problem is an RdbError naming the absolute offset and the key; after one the reader is
 *   dead (every later call rethrows it).
 * - Extensions (Dragonfly's opcodes) plug in through `RdbExtension`: the reader offers a byte in
 *   record position that is not a standard opcode to the extension first; the extension reads its
 *   record through `RdbUnitInput` under the same atomic-unit rule, and may have complete records
 *   (a decompressed blob) parsed in place with the reader's db, key metadata and extension.
 */
import { latin1Of } from "./bytes.ts";
import { Opcode, QuicklistContainer, RDB_MAX_READ_VERSION, RdbType, rdbTypeName, StreamFlag } from "./constants.ts";
import { StringMap } from "../store/string_map.ts";
import { Crc64, readU64LE } from "./crc64.ts";
import { ContainerError, RdbError } from "./errors.ts";
import { decodeIntset } from "./intset.ts";
import { decodeListpack, type ListpackItem } from "./listpack.ts";
import { lzfDecompress, lzfDecompressLatin1, lzfDecompressShared } from "./lzf.ts";
import { parseScore } from "./numbers.ts";
import type {
  RdbEntry,
  RdbRecord,
  RdbStreamConsumer,
  RdbStreamEntry,
  RdbStreamGroup,
  RdbStreamId,
  RdbStreamValue,
  RdbValue,
} from "./records.ts";
import { decodeZiplist, readIntLE } from "./ziplist.ts";
import { decodeZipmap } from "./zipmap.ts";

/** Options of an RdbReader. */
export interface RdbReaderOptions {
  /** Reject duplicate members/fields inside a value, as Redis does (default true). */
  checkDuplicates?: boolean;
  /** Verify the trailing CRC64 when it is not zero (default true). */
  verifyChecksum?: boolean;
  /**
   * Decode one DUMP-style value (type byte + value, no magic, no EOF) written with this RDB
   * version, instead of a file. Used by dump_payload.ts.
   */
  valueOnlyVersion?: number;
  /** Parser of a producer's extra opcodes and types (Dragonfly's); see RdbExtension. */
  extension?: RdbExtension;
  /**
   * Parse a headerless sequence of records (no magic) written with RDB version `version`, starting
   * in database `db`: the continuation of a stream that was split elsewhere.
   */
  recordsOnly?: { version: number; db: number };
}

/**
 * The reads an RdbExtension may make while it parses one record. Every read throws a private
 * signal when the input is short: let it propagate (never catch it), the reader rewinds to the
 * record's opcode and calls the extension again once more bytes arrived.
 */
export interface RdbUnitInput {
  /** Absolute offset of the next byte (inside a parsed-in-place blob: offset in the blob). */
  readonly offset: number;
  /** Offset of the opcode of the record being parsed. */
  readonly recordOffset: number;
  /** RDB version from the magic (or `recordsOnly`). */
  readonly version: number;
  /** The current database (last SELECTDB). */
  readonly db: number;
  /** Reads one byte. */
  u8(): number;
  /** Reads an unsigned 32-bit little-endian integer. */
  u32le(): number;
  /** Reads an unsigned 64-bit little-endian integer. */
  u64le(): bigint;
  /** Reads `n` raw bytes; the view is valid until the extension returns. */
  bytes(n: number): Uint8Array;
  /** Reads an RDB length. */
  length(): number;
  /** Reads an RDB string (raw, integer-encoded or LZF) as bytes; valid until the extension returns. */
  stringBytes(): Uint8Array;
  /** Reads an RDB string as latin1 text. */
  string(): string;
  /**
   * Parses `bytes` (all of them, which must be complete records) in place of the current record,
   * with the reader's db, pending key metadata and extension: the content of a compressed blob.
   * Errors inside are reported at the current record's offset, naming `what`.
   */
  parseRecords(bytes: Uint8Array, what: string): void;
  /** Switches the current database (a SELECTDB the extension found inside its record). */
  selectDb(db: number): void;
  /** Builds an RdbError at `offset` (default: the record's opcode), optionally naming a key. */
  error(reason: string, offset?: number, key?: string): RdbError;
}

/** Parses extra record types of a producer that extends the RDB format (Dragonfly). */
export interface RdbExtension {
  /**
   * Called for each byte `op` in record position that is not a standard opcode (0xF4–0xFF), before
   * it is taken as a value type. Returns true when it parsed the record (its body read through
   * `input`), false to let the reader read a key of value type `op`. All reads must come before any
   * side effect (see RdbUnitInput).
   */
  record(op: number, input: RdbUnitInput): boolean;
}

/** Thrown (never escapes) when a unit needs bytes that have not arrived yet. */
const NEED_MORE: unique symbol = Symbol("need more input");

const enum State {
  Magic,
  ValueType,
  Record,
  Elements,
  StreamNodes,
  StreamMeta,
  StreamGroup,
  StreamPel,
  StreamConsumerCount,
  StreamConsumer,
  StreamConsumerPel,
  Done,
}

const U64_MAX = 2n ** 64n - 1n;
/** Largest single string or container blob accepted (V8 strings cannot be longer anyway). */
const MAX_UNIT_BYTES = 0x1fffffe8;
/** LZF cannot expand data more than this (a 3-byte back reference yields at most 264 bytes). */
const LZF_MAX_RATIO = 88;
/** Collections of up to this many elements are checked for duplicates by a scan, not a Set. */
const SMALL_DUPLICATE_SCAN = 16;
const MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Streaming RDB parser; see the file comment. */
export class RdbReader {
  private readonly onRecord: (r: RdbRecord) => void;
  /** Set when onRecord threw: its error is passed through unchanged. */
  private callbackFailed = false;
  private readonly checkDuplicates: boolean;
  private readonly verifyChecksum: boolean;
  private readonly valueOnly: boolean;
  private readonly extension: RdbExtension | undefined;
  /** The reads offered to the extension (bound to this reader). */
  private readonly unitInput: RdbUnitInput;
  /** Offset in buf of the opcode of the record being parsed. */
  private recordAt = 0;

  // Input window: bytes [pos, end) of buf are unconsumed; buf[0] is absolute offset `base`.
  private buf: Uint8Array = new Uint8Array(0);
  private own: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private base = 0;
  /** Bytes the current unit needs from its start before a retry makes sense. */
  private need = 0;
  /** Index in buf a failed read needed to reach. */
  private wanted = 0;
  private readonly crc = new Crc64();
  private crcPos = 0;
  private failure: unknown = null;

  private state: State;
  private rdbVersion: number;
  private db = 0;
  // Per-key metadata set by opcodes and consumed by the next key.
  private expireAtMs: number | undefined;
  private lruIdleSec: number | undefined;
  private lfuFreq: number | undefined;

  // The value being built.
  private key: string | undefined;
  private keyOffset = 0;
  private vtype = 0;
  private remaining = 0;
  private items: string[] = [];
  private pairs: [string, string][] = [];
  private scored: [string, number][] = [];
  private seen: Set<string> | null = null;
  /** Check duplicates by scanning the elements read so far (small collections, no `seen`). */
  private scanDuplicates = false;
  private stream: RdbStreamValue | null = null;
  private groupsLeft = 0;
  private group: RdbStreamGroup | null = null;
  private groupPel: Set<string> | null = null;
  private consumer: RdbStreamConsumer | null = null;
  private consumerPelLeft = 0;

  // Last blob read: bytes str[strStart, strEnd) (a view of the input, or a decoded copy).
  private str: Uint8Array = this.buf;
  private strStart = 0;
  private strEnd = 0;
  /** Offset (in buf) where the current string or blob started, for error messages. */
  private blobAt = 0;
  /** Special string encoding of the last length read (0-2 integer, 3 LZF), or -1. */
  private encoding = -1;

  private readonly scratch = new DataView(new ArrayBuffer(8));
  /** Compressed bytes buf[lzfStart, lzfEnd) and decompressed size of the last LZF header read. */
  private lzfStart = 0;
  private lzfEnd = 0;
  private lzfOutLen = 0;

  /** Creates a reader that reports records to `onRecord` in file order. */
  constructor(onRecord: (r: RdbRecord) => void, opts: RdbReaderOptions = {}) {
    this.onRecord = onRecord;
    this.checkDuplicates = opts.checkDuplicates ?? true;
    this.verifyChecksum = opts.verifyChecksum ?? true;
    this.valueOnly = opts.valueOnlyVersion !== undefined;
    this.extension = opts.extension;
    this.unitInput = this.makeUnitInput();
    if (opts.valueOnlyVersion !== undefined) {
      this.rdbVersion = opts.valueOnlyVersion;
      this.state = State.ValueType;
    } else if (opts.recordsOnly !== undefined) {
      this.rdbVersion = opts.recordsOnly.version;
      this.db = opts.recordsOnly.db;
      this.state = State.Record;
    } else {
      this.rdbVersion = 0;
      this.state = State.Magic;
    }
  }

  /** True once the EOF opcode (and checksum) or the single value was read. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** RDB version from the magic (0 before it was read). */
  get version(): number {
    return this.rdbVersion;
  }

  /** Bytes of input storage the reader holds (bounded by the largest unit plus one chunk). */
  get bufferCapacity(): number {
    return this.own.length;
  }

  /** Absolute number of input bytes consumed by complete units. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** True between records: no value is being built and no input is pending. */
  get atRecordBoundary(): boolean {
    return this.state === State.Record && this.pos === this.end && this.key === undefined &&
      this.expireAtMs === undefined && this.lruIdleSec === undefined && this.lfuFreq === undefined;
  }

  /**
   * Feeds the next chunk of input and parses as far as possible. Returns how many bytes of
   * `chunk` belong to the RDB: all of them, unless the RDB ended inside this chunk (then `done`
   * is true and `chunk.subarray(returned)` is what follows the RDB). The chunk is not retained.
   */
  feed(chunk: Uint8Array): number {
    if (this.failure !== null) throw this.failure;
    if (this.state === State.Done) return 0;
    const n = chunk.length;
    if (this.pos === this.end) {
      // Nothing pending: parse straight from the caller's chunk, keep only the leftover.
      this.syncCrc();
      this.base += this.end;
      this.buf = chunk;
      this.pos = 0;
      this.end = n;
      this.crcPos = 0;
      this.run();
      if (this.done) return this.pos;
      if (this.pos < this.end) this.keepLeftover();
      else this.detach();
      return n;
    }
    this.append(chunk);
    if (this.end - this.pos >= this.need) this.run();
    if (this.done) return n - (this.end - this.pos);
    return n;
  }

  /** Declares the end of the input; throws an RdbError if the RDB is incomplete (truncated). */
  finish(): void {
    if (this.failure !== null) throw this.failure;
    if (this.state === State.Done) return;
    const what = this.state === State.Magic ? "the header" : this.key !== undefined ? "a value" : "a record";
    this.failure = new RdbError(
      `unexpected end of input while reading ${what} (truncated RDB, ${this.base + this.end} bytes read)`,
      this.base + this.pos,
      this.key,
    );
    throw this.failure;
  }

  // ---------------------------------------------------------------- buffer management

  /** Feeds the bytes consumed since the last sync into the running CRC (when verifying). */
  private syncCrc(): void {
    if (this.verifyChecksum && this.pos > this.crcPos) this.crc.update(this.buf, this.crcPos, this.pos);
    this.crcPos = this.pos;
  }

  /** Drops the reference to a fully consumed caller chunk. */
  private detach(): void {
    this.syncCrc();
    this.base += this.pos;
    this.buf = this.own;
    this.pos = 0;
    this.end = 0;
    this.crcPos = 0;
  }

  /** Copies the unconsumed tail of the caller's chunk into owned storage. */
  private keepLeftover(): void {
    this.syncCrc();
    const left = this.end - this.pos;
    if (this.own.length < left) this.own = new Uint8Array(Math.max(left, 64 * 1024));
    this.own.set(this.buf.subarray(this.pos, this.end), 0);
    this.base += this.pos;
    this.buf = this.own;
    this.pos = 0;
    this.end = left;
    this.crcPos = 0;
  }

  /** Appends a chunk to owned storage (which holds the pending bytes), compacting or growing it. */
  private append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (this.end + n > this.own.length) {
      this.syncCrc();
      const left = this.end - this.pos;
      const want = left + n;
      if (want > this.own.length || this.own.length > 4 * want + 1024 * 1024) {
        // Grow geometrically with the data actually received (a corrupt length never sizes it).
        const next = new Uint8Array(Math.max(want, Math.min(2 * this.own.length, want + 64 * 1024 * 1024), 64 * 1024));
        next.set(this.own.subarray(this.pos, this.end), 0);
        this.own = next;
      } else {
        this.own.copyWithin(0, this.pos, this.end);
      }
      this.base += this.pos;
      this.buf = this.own;
      this.pos = 0;
      this.end = left;
      this.crcPos = 0;
    }
    this.own.set(chunk, this.end);
    this.end += n;
  }

  /** Steps through units while enough bytes are buffered; on a short read rewinds to the unit start and records how many bytes it needs. */
  private run(): void {
    while (this.state !== State.Done) {
      if (this.end - this.pos < this.need) return;
      const mark = this.pos;
      try {
        this.step();
        this.need = 0;
      } catch (e) {
        if (e === NEED_MORE) {
          this.need = this.wanted - mark;
          this.pos = mark;
          return;
        }
        this.failure = this.callbackFailed ? e : this.toRdbError(e);
        throw this.failure;
      }
    }
  }

  /** Wraps a non-RdbError failure as an RdbError carrying the offset and key. */
  private toRdbError(e: unknown): RdbError {
    if (e instanceof RdbError) return e;
    if (e instanceof ContainerError) {
      return new RdbError(
        `${rdbTypeName(this.vtype)} value is corrupt: ${e.message}`,
        this.base + this.blobAt,
        this.key,
      );
    }
    // Anything else (e.g. a RangeError from an absurd size) is still a decoding failure.
    return new RdbError(`cannot decode: ${e instanceof Error ? e.message : String(e)}`, this.base + this.pos, this.key);
  }

  /** Passes a record to the callback, marking a callback exception so it is rethrown unwrapped. */
  private emitRecord(r: RdbRecord): void {
    try {
      this.onRecord(r);
    } catch (e) {
      this.callbackFailed = true;
      throw e;
    }
  }

  /** Builds an RdbError at buffer position `at` (absolute offset) for the current key. */
  private corrupt(reason: string, at = this.pos): RdbError {
    return new RdbError(reason, this.base + at, this.key);
  }

  // ---------------------------------------------------------------- primitive reads

  /** Consumes `n` bytes and returns the index of the first one. */
  private take(n: number): number {
    const p = this.pos;
    if (n > MAX_UNIT_BYTES) throw this.corrupt(`a length of ${n} bytes is beyond the supported maximum`);
    if (p + n > this.end) {
      this.wanted = p + n;
      throw NEED_MORE;
    }
    this.pos = p + n;
    return p;
  }

  /** Reads one byte. */
  private u8(): number {
    const p = this.pos;
    if (p >= this.end) {
      this.wanted = p + 1;
      throw NEED_MORE;
    }
    this.pos = p + 1;
    return this.buf[p];
  }

  /** Reads a length; sets `encoding` to the special string encoding id (or -1 for a plain length). */
  private lenOrEncoding(): number {
    const at = this.pos;
    const b = this.u8();
    switch (b >> 6) {
      case 0:
        this.encoding = -1;
        return b & 0x3f;
      case 1:
        this.encoding = -1;
        return ((b & 0x3f) << 8) | this.u8();
      case 2: {
        this.encoding = -1;
        if (b === 0x80) {
          const p = this.take(4);
          const v = this.buf;
          return ((v[p] << 24) | (v[p + 1] << 16) | (v[p + 2] << 8) | v[p + 3]) >>> 0;
        }
        if (b === 0x81) {
          const big = this.u64be(this.take(8));
          if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw this.corrupt(`length ${big} is too large`, at);
          return Number(big);
        }
        throw this.corrupt(`unknown length encoding 0x${b.toString(16)}`, at);
      }
      default:
        this.encoding = b & 0x3f;
        return 0;
    }
  }

  /** Reads an unsigned 64-bit big-endian integer at buffer index `p` (without consuming). */
  private u64be(p: number): bigint {
    const v = this.buf;
    const hi = ((v[p] << 24) | (v[p + 1] << 16) | (v[p + 2] << 8) | v[p + 3]) >>> 0;
    const lo = ((v[p + 4] << 24) | (v[p + 5] << 16) | (v[p + 6] << 8) | v[p + 7]) >>> 0;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads a plain length (a count or size) as a number. */
  private len(): number {
    const at = this.pos;
    const b = this.pos < this.end ? this.buf[this.pos] : -1;
    if (b >= 0 && b < 0x40) {
      this.pos++;
      return b;
    }
    const v = this.lenOrEncoding();
    if (this.encoding !== -1) throw this.corrupt("a string encoding where a length was expected", at);
    return v;
  }

  /** Reads a plain length as an exact unsigned 64-bit bigint (stream IDs and counters). */
  private lenBig(): bigint {
    const at = this.pos;
    const b = this.u8();
    if (b === 0x81) return this.u64be(this.take(8));
    this.pos = at;
    return BigInt(this.len());
  }

  /** Reads a string (any encoding) as latin1 text. */
  private string(): string {
    const p = this.pos;
    if (p < this.end) {
      const b = this.buf[p];
      if (b < 0x40) {
        const e = p + 1 + b;
        if (e <= this.end) {
          this.pos = e;
          return b === 0 ? "" : latin1Of(this.buf, p + 1, e);
        }
      }
    }
    this.blobAt = p;
    const n = this.lenOrEncoding();
    if (this.encoding === -1) {
      const s = this.take(n);
      return latin1Of(this.buf, s, s + n);
    }
    if (this.encoding <= 2) return String(this.intEncoded());
    this.lzfHeader();
    try {
      return lzfDecompressLatin1(this.buf, this.lzfStart, this.lzfEnd, this.lzfOutLen);
    } catch (e) {
      if (e instanceof ContainerError) throw this.corrupt(`bad LZF string: ${e.message}`, this.blobAt);
      throw e;
    }
  }

  /**
   * Reads a string as bytes into str[strStart, strEnd), valid until the next read. With `shared`
   * an LZF string is decoded into the LZF module's scratch buffer: the caller must be done with
   * the bytes (decoded them to strings or numbers) before the next blob or string read.
   */
  private blob(shared = true): void {
    this.blobAt = this.pos;
    const n = this.lenOrEncoding();
    if (this.encoding === -1) {
      const s = this.take(n);
      this.str = this.buf;
      this.strStart = s;
      this.strEnd = s + n;
    } else if (this.encoding <= 2) {
      const text = String(this.intEncoded());
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      this.str = bytes;
      this.strStart = 0;
      this.strEnd = bytes.length;
    } else {
      this.lzf(shared);
    }
  }

  /** Reads a little-endian integer string of the width given by `encoding` (0: 1, 1: 2, 2: 4 bytes). */
  private intEncoded(): number {
    const width = this.encoding === 0 ? 1 : this.encoding === 1 ? 2 : 4;
    return readIntLE(this.buf, this.take(width), width) as number;
  }

  /** Reads the header of an LZF string and takes its compressed bytes (sets the lzf* fields). */
  private lzfHeader(): void {
    if (this.encoding !== 3) throw this.corrupt(`unknown string encoding ${this.encoding}`, this.blobAt);
    const clen = this.len();
    const ulen = this.len();
    const p = this.take(clen);
    if (ulen > clen * LZF_MAX_RATIO + 64 || ulen > MAX_UNIT_BYTES) {
      throw this.corrupt(`LZF string claims ${ulen} bytes from ${clen} compressed bytes`, this.blobAt);
    }
    this.lzfStart = p;
    this.lzfEnd = p + clen;
    this.lzfOutLen = ulen;
  }

  /** Reads an LZF string into `str` (into the shared scratch buffer when `shared`). */
  private lzf(shared: boolean): void {
    this.lzfHeader();
    const ulen = this.lzfOutLen;
    try {
      this.str = shared
        ? lzfDecompressShared(this.buf, this.lzfStart, this.lzfEnd, ulen)
        : lzfDecompress(this.buf, this.lzfStart, this.lzfEnd, ulen);
    } catch (e) {
      if (e instanceof ContainerError) throw this.corrupt(`bad LZF string: ${e.message}`, this.blobAt);
      throw e;
    }
    this.strStart = 0;
    this.strEnd = ulen;
  }

  /** Reads a signed 64-bit little-endian integer as a number. */
  private i64le(): number {
    return Number(readIntLE(this.buf, this.take(8), 8));
  }

  /** Reads a little-endian IEEE 754 double. */
  private f64le(): number {
    const p = this.take(8);
    const d = this.scratch;
    for (let i = 0; i < 8; i++) d.setUint8(i, this.buf[p + i]);
    return d.getFloat64(0, true);
  }

  /** Type-3 zset score: 1 length byte (253 NaN, 254 +inf, 255 -inf), then ASCII. */
  private textDouble(): number {
    const at = this.pos;
    const n = this.u8();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    const p = this.take(n);
    const v = parseScore(latin1Of(this.buf, p, p + n));
    if (Number.isNaN(v)) throw this.corrupt("unparsable zset score", at);
    return v;
  }

  /** A 16-byte stream ID: ms and seq as big-endian u64. */
  private rawStreamId(): RdbStreamId {
    const p = this.take(16);
    return { ms: this.u64be(p), seq: this.u64be(p + 8) };
  }

  // ---------------------------------------------------------------- units

  /** Parses the unit the current state expects. */
  private step(): void {
    switch (this.state) {
      case State.Magic:
        return this.magic();
      case State.ValueType: {
        const at = this.pos;
        const type = this.u8();
        this.key = "";
        this.keyOffset = this.base + at;
        return this.beginValue(type);
      }
      case State.Record:
        return this.record();
      case State.Elements:
        return this.element();
      case State.StreamNodes:
        return this.streamNode();
      case State.StreamMeta:
        return this.streamMeta();
      case State.StreamGroup:
        return this.streamGroup();
      case State.StreamPel:
        return this.streamPel();
      case State.StreamConsumerCount:
        return this.streamConsumerCount();
      case State.StreamConsumer:
        return this.streamConsumer();
      case State.StreamConsumerPel:
        return this.streamConsumerPel();
    }
  }

  /** Checks the `REDIS` magic and 4-digit version, then moves on to records. */
  private magic(): void {
    const p = this.take(9);
    const b = this.buf;
    const magic = latin1Of(b, p, p + 5);
    const digits = latin1Of(b, p + 5, p + 9);
    if (magic !== "REDIS") throw this.corrupt("not an RDB file (bad magic)", p);
    if (!/^[0-9]{4}$/.test(digits)) throw this.corrupt(`bad RDB version "${digits}"`, p + 5);
    const version = Number(digits);
    if (version < 1 || version > RDB_MAX_READ_VERSION) {
      throw this.corrupt(`can't handle RDB format version ${version}`, p + 5);
    }
    this.rdbVersion = version;
    this.state = State.Record;
    this.emitRecord({ kind: "header", version });
  }

  /** Reads one opcode and its payload (aux, resizedb, db selection, expiry, LRU/LFU, functions, ...) or starts a value. */
  private record(): void {
    const at = this.pos;
    this.recordAt = at;
    const op = this.u8();
    switch (op) {
      case Opcode.AUX: {
        const key = this.string();
        const value = this.string();
        return this.emitRecord({ kind: "aux", key, value });
      }
      case Opcode.RESIZEDB: {
        const dbSize = this.len();
        const expiresSize = this.len();
        return this.emitRecord({ kind: "resizedb", dbSize, expiresSize });
      }
      case Opcode.EXPIRETIME_MS:
        this.expireAtMs = this.i64le();
        return;
      case Opcode.EXPIRETIME:
        this.expireAtMs = (readIntLE(this.buf, this.take(4), 4) as number) * 1000;
        return;
      case Opcode.SELECTDB: {
        const db = this.len();
        this.db = db;
        return this.emitRecord({ kind: "selectdb", db });
      }
      case Opcode.IDLE:
        this.lruIdleSec = this.len();
        return;
      case Opcode.FREQ:
        this.lfuFreq = this.u8();
        return;
      case Opcode.MODULE_AUX:
        return this.moduleAux(at);
      case Opcode.FUNCTION_PRE_GA: {
        const name = this.string();
        const engine = this.string();
        const hasDesc = this.len();
        if (hasDesc) this.string();
        const code = this.string();
        return this.emitRecord({ kind: "function", code: `#!${engine} name=${name}\n${code}`, preGa: true });
      }
      case Opcode.FUNCTION2: {
        const code = this.string();
        return this.emitRecord({ kind: "function", code, preGa: false });
      }
      case Opcode.SLOT_INFO: {
        const slot = this.len();
        const slotSize = this.len();
        const expiresSlotSize = this.len();
        return this.emitRecord({ kind: "slot_info", slot, slotSize, expiresSlotSize });
      }
      case Opcode.EOF:
        return this.eof(at);
      default: {
        if (this.extension !== undefined && this.extension.record(op, this.unitInput)) return;
        this.keyOffset = this.base + at;
        this.key = undefined;
        const key = this.string();
        this.key = key;
        return this.beginValue(op);
      }
    }
  }

  /** Reads (and if asked, verifies) the trailing CRC64, then emits the end record. */
  private eof(at: number): void {
    let stored = 0n;
    let verified = false;
    if (this.rdbVersion >= 5) {
      const p = this.take(8);
      stored = readU64LE(this.buf, p);
      if (this.verifyChecksum && stored !== 0n) {
        this.crc.update(this.buf, this.crcPos, at + 1);
        this.crcPos = at + 1;
        const actual = this.crc.value();
        if (actual !== stored) {
          throw this.corrupt(
            `wrong RDB checksum: file says ${hex64(stored)}, computed ${hex64(actual)}`,
            p,
          );
        }
        verified = true;
      }
    }
    this.state = State.Done;
    this.emitRecord({ kind: "end", checksum: stored, checksumVerified: verified });
  }

  // ---------------------------------------------------------------- extensions

  /** Builds the primitive-read interface handed to RDB extensions, bound to this reader. */
  private makeUnitInput(): RdbUnitInput {
    const reads = {
      u8: () => this.u8(),
      u32le: () => Number(readIntLE(this.buf, this.take(4), 4)) >>> 0,
      u64le: () => readU64LE(this.buf, this.take(8)),
      bytes: (n: number) => {
        const p = this.take(n);
        return this.buf.subarray(p, p + n);
      },
      length: () => this.len(),
      stringBytes: () => {
        // Not shared: an extension may hold several results at once.
        this.blob(false);
        return this.str.subarray(this.strStart, this.strEnd);
      },
      string: () => this.string(),
      parseRecords: (bytes: Uint8Array, what: string) => this.parseInPlace(bytes, what),
      selectDb: (db: number) => {
        this.db = db;
      },
      error: (reason: string, offset?: number, key?: string) =>
        new RdbError(reason, offset ?? this.base + this.recordAt, key),
    };
    return Object.defineProperties(reads, {
      offset: { get: () => this.base + this.pos },
      recordOffset: { get: () => this.base + this.recordAt },
      version: { get: () => this.rdbVersion },
      db: { get: () => this.db },
    }) as RdbUnitInput;
  }

  /**
   * Parses `bytes` as complete records in place of the current record (which must be at a record
   * boundary): the window moves to `bytes` and back, so db, key metadata and extension are shared.
   */
  private parseInPlace(bytes: Uint8Array, what: string): void {
    const outerAt = this.base + this.recordAt;
    const saved = { buf: this.buf, pos: this.pos, end: this.end, base: this.base, crcPos: this.crcPos };
    const savedRecordAt = this.recordAt;
    this.buf = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.base = 0;
    this.crcPos = 0;
    try {
      while (this.pos < this.end) {
        this.step();
        if (this.state === State.Done) throw this.corrupt(`EOF inside ${what}`);
      }
      if (this.state !== State.Record || this.key !== undefined) {
        throw this.corrupt(`${what} ends inside a value`);
      }
    } catch (e) {
      if (this.callbackFailed) throw e;
      const inner = e === NEED_MORE
        ? new RdbError(`${what} ends inside a record`, this.end, this.key)
        : this.toRdbError(e);
      throw new RdbError(`in ${what}: ${inner.reason} (at byte ${inner.offset} of its content)`, outerAt, inner.key);
    } finally {
      this.buf = saved.buf;
      this.pos = saved.pos;
      this.end = saved.end;
      this.base = saved.base;
      this.crcPos = saved.crcPos;
      this.recordAt = savedRecordAt;
    }
  }

  /** Reads a MODULE_AUX record, skipping its payload, and emits its module name and version. */
  private moduleAux(at: number): void {
    const id = this.lenBig();
    const whenOpcode = this.len();
    if (whenOpcode !== 2) throw this.corrupt(`MODULE_AUX with a bad 'when' opcode ${whenOpcode}`, at);
    const when = this.len();
    this.skipModuleOpcodes();
    const { name, encVersion } = moduleIdParts(id);
    this.emitRecord({ kind: "module_aux", moduleName: name, encVersion, when, offset: this.base + at });
  }

  /** Skips a module opcode stream up to its `len 0` terminator. */
  private skipModuleOpcodes(): void {
    for (;;) {
      const at = this.pos;
      const op = this.len();
      switch (op) {
        case 0:
          return;
        case 1:
        case 2:
          this.lenBig();
          break;
        case 3:
          this.take(4);
          break;
        case 4:
          this.take(8);
          break;
        case 5:
          this.blob();
          break;
        default:
          throw this.corrupt(`unknown module opcode ${op}`, at);
      }
    }
  }

  // ---------------------------------------------------------------- values

  /** Starts the value of type `type` for `this.key`: single-blob values finish here. */
  private beginValue(type: number): void {
    this.vtype = type;
    switch (type) {
      case RdbType.STRING: {
        const value = this.string();
        return this.emit({ type: "string", value });
      }
      case RdbType.LIST:
      case RdbType.SET:
      case RdbType.ZSET:
      case RdbType.HASH:
      case RdbType.ZSET_2:
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2: {
        const count = this.len();
        this.startElements(type, count);
        if (count === 0) this.finishElements();
        return;
      }
      case RdbType.HASH_ZIPMAP: {
        this.blob();
        const pairs: [string, string][] = [];
        decodeZipmap(this.str, this.strStart, this.strEnd, pairs);
        if (this.checkDuplicates && hasDuplicate(pairs.map((p) => p[0]), 1)) {
          throw new ContainerError("duplicate fields");
        }
        return this.emitCollection({ type: "hash", fields: pairs }, pairs.length);
      }
      case RdbType.LIST_ZIPLIST: {
        this.blob();
        const items: string[] = [];
        decodeZiplist(this.str, this.strStart, this.strEnd, items);
        return this.emitCollection({ type: "list", items }, items.length);
      }
      case RdbType.SET_INTSET: {
        this.blob();
        const members: string[] = [];
        decodeIntset(this.str, this.strStart, this.strEnd, members);
        return this.emitCollection({ type: "set", members }, members.length);
      }
      case RdbType.SET_LISTPACK: {
        this.blob();
        const members: string[] = [];
        decodeListpack(this.str, this.strStart, this.strEnd, members, true);
        if (this.checkDuplicates) this.checkUnique(members);
        return this.emitCollection({ type: "set", members }, members.length);
      }
      case RdbType.ZSET_ZIPLIST:
      case RdbType.ZSET_LISTPACK: {
        this.blob();
        const flat: string[] = [];
        if (type === RdbType.ZSET_ZIPLIST) decodeZiplist(this.str, this.strStart, this.strEnd, flat);
        else decodeListpack(this.str, this.strStart, this.strEnd, flat, true);
        const entries = this.zsetFromFlat(flat);
        return this.emitCollection({ type: "zset", entries }, entries.length);
      }
      case RdbType.HASH_ZIPLIST:
      case RdbType.HASH_LISTPACK: {
        this.blob();
        const flat: string[] = [];
        if (type === RdbType.HASH_ZIPLIST) decodeZiplist(this.str, this.strStart, this.strEnd, flat);
        else decodeListpack(this.str, this.strStart, this.strEnd, flat, true);
        if (flat.length % 2 !== 0) throw new ContainerError(`odd number of elements (${flat.length}) in a hash`);
        if (this.checkDuplicates && hasDuplicate(flat, 2)) throw new ContainerError("duplicate fields");
        const fields: [string, string][] = new Array(flat.length / 2);
        for (let i = 0; i < flat.length; i += 2) fields[i / 2] = [flat[i], flat[i + 1]];
        return this.emitCollection({ type: "hash", fields }, fields.length);
      }
      case RdbType.STREAM_LISTPACKS:
      case RdbType.STREAM_LISTPACKS_2:
      case RdbType.STREAM_LISTPACKS_3: {
        const nodes = this.len();
        this.stream = {
          type: "stream",
          entries: [],
          lastId: { ms: 0n, seq: 0n },
          firstId: { ms: 0n, seq: 0n },
          maxDeletedId: { ms: 0n, seq: 0n },
          entriesAdded: 0n,
          groups: [],
        };
        this.remaining = nodes;
        this.state = nodes > 0 ? State.StreamNodes : State.StreamMeta;
        return;
      }
      case RdbType.MODULE_2:
      case RdbType.MODULE_PRE_GA: {
        const id = this.lenBig();
        const { name } = moduleIdParts(id);
        throw new RdbError(
          `module value (RDB type ${type}) of module "${name}" is not supported`,
          this.keyOffset,
          this.key,
        );
      }
      case RdbType.HASH_METADATA_PRE_GA:
      case RdbType.HASH_LISTPACK_EX_PRE_GA:
      case RdbType.HASH_METADATA:
      case RdbType.HASH_LISTPACK_EX:
        throw new RdbError(
          `hash with field TTLs (RDB type ${type}, Redis 7.4+) is not supported`,
          this.keyOffset,
          this.key,
        );
      default:
        throw new RdbError(`unknown RDB value type ${type}`, this.keyOffset, this.key);
    }
  }

  /** Sets up reading `count` elements of a collection of RDB `type`, choosing the duplicate check. */
  private startElements(type: number, count: number): void {
    this.remaining = count;
    this.state = State.Elements;
    // Duplicates: a Set for big collections, a scan of the elements read so far for small ones.
    const useSet = this.checkDuplicates && count > SMALL_DUPLICATE_SCAN;
    this.seen = null;
    this.scanDuplicates = this.checkDuplicates && !useSet;
    switch (type) {
      case RdbType.LIST:
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2:
        this.items = [];
        this.scanDuplicates = false;
        break;
      case RdbType.SET:
        this.items = [];
        if (useSet) this.seen = new Set();
        break;
      case RdbType.HASH:
        this.pairs = [];
        if (useSet) this.seen = new Set();
        break;
      default:
        this.scored = [];
        if (useSet) this.seen = new Set();
    }
  }

  /** One element of a counted collection (a string, a pair, or a quicklist node). */
  private element(): void {
    switch (this.vtype) {
      case RdbType.LIST:
        this.items.push(this.string());
        break;
      case RdbType.SET: {
        const m = this.string();
        if (this.seen !== null) this.addUnique(this.seen, m, "set member");
        else if (this.scanDuplicates && this.items.includes(m)) throw this.duplicate(m, "set member");
        this.items.push(m);
        break;
      }
      case RdbType.HASH: {
        const f = this.string();
        const v = this.string();
        if (this.seen !== null) this.addUnique(this.seen, f, "hash field");
        else if (this.scanDuplicates) {
          const pairs = this.pairs;
          for (let i = 0; i < pairs.length; i++) if (pairs[i][0] === f) throw this.duplicate(f, "hash field");
        }
        this.pairs.push([f, v]);
        break;
      }
      case RdbType.ZSET:
      case RdbType.ZSET_2: {
        const at = this.pos;
        const m = this.string();
        const score = this.vtype === RdbType.ZSET ? this.textDouble() : this.f64le();
        if (Number.isNaN(score)) throw this.corrupt("zset score is NaN", at);
        if (this.seen !== null) this.addUnique(this.seen, m, "zset member");
        else if (this.scanDuplicates) {
          const scored = this.scored;
          for (let i = 0; i < scored.length; i++) if (scored[i][0] === m) throw this.duplicate(m, "zset member");
        }
        this.scored.push([m, score]);
        break;
      }
      case RdbType.LIST_QUICKLIST:
        this.blob();
        decodeZiplist(this.str, this.strStart, this.strEnd, this.items);
        break;
      case RdbType.LIST_QUICKLIST_2: {
        const at = this.pos;
        const container = this.len();
        this.blob();
        if (container === QuicklistContainer.PLAIN) {
          this.items.push(latin1Of(this.str, this.strStart, this.strEnd));
        } else if (container === QuicklistContainer.PACKED) {
          decodeListpack(this.str, this.strStart, this.strEnd, this.items, true);
        } else {
          throw this.corrupt(`unknown quicklist container ${container}`, at);
        }
        break;
      }
    }
    if (--this.remaining === 0) this.finishElements();
  }

  /** Builds the collection from the elements read and emits it. */
  private finishElements(): void {
    switch (this.vtype) {
      case RdbType.LIST:
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2: {
        const items = this.items;
        this.items = [];
        return this.emitCollection({ type: "list", items }, items.length);
      }
      case RdbType.SET: {
        const members = this.items;
        this.items = [];
        return this.emitCollection({ type: "set", members }, members.length);
      }
      case RdbType.HASH: {
        const fields = this.pairs;
        this.pairs = [];
        return this.emitCollection({ type: "hash", fields }, fields.length);
      }
      default: {
        const entries = this.scored;
        this.scored = [];
        return this.emitCollection({ type: "zset", entries }, entries.length);
      }
    }
  }

  /** Adds `s` to `seen`, throwing if it was already there. */
  private addUnique(seen: Set<string>, s: string, what: string): void {
    const before = seen.size;
    seen.add(s);
    if (seen.size === before) throw this.duplicate(s, what);
  }

  /** Builds the error for a duplicate `what` (member, field, ...). */
  private duplicate(s: string, what: string): RdbError {
    return this.corrupt(`duplicate ${what} ${JSON.stringify(s)}`);
  }

  /** Throws a ContainerError when `members` holds a duplicate. */
  private checkUnique(members: string[]): void {
    if (hasDuplicate(members, 1)) throw new ContainerError("duplicate members");
  }

  /** Turns a flat member/score list into entries, checking pairing, duplicates and scores. */
  private zsetFromFlat(flat: string[]): [string, number][] {
    if (flat.length % 2 !== 0) throw new ContainerError(`odd number of elements (${flat.length}) in a zset`);
    if (this.checkDuplicates && hasDuplicate(flat, 2)) throw new ContainerError("duplicate members");
    const entries: [string, number][] = new Array(flat.length / 2);
    for (let i = 0; i < flat.length; i += 2) {
      const score = parseScore(flat[i + 1]);
      if (Number.isNaN(score)) throw new ContainerError(`unparsable score ${JSON.stringify(flat[i + 1])}`);
      entries[i / 2] = [flat[i], score];
    }
    return entries;
  }

  /** Emits a collection, or a `skipped` notice when it is empty (as Redis does). */
  private emitCollection(value: RdbValue, size: number): void {
    if (size > 0) return this.emit(value);
    const key = this.key ?? "";
    this.resetKeyState();
    this.emitRecord({ kind: "skipped", db: this.db, key, reason: "empty key", offset: this.keyOffset });
  }

  /** Emits the current key's entry with its expiry and LRU/LFU metadata, then resets key state. */
  private emit(value: RdbValue): void {
    const entry: RdbEntry = { db: this.db, key: this.key ?? "", value };
    if (this.expireAtMs !== undefined) entry.expireAtMs = this.expireAtMs;
    if (this.lruIdleSec !== undefined) entry.lruIdleSec = this.lruIdleSec;
    if (this.lfuFreq !== undefined) entry.lfuFreq = this.lfuFreq;
    this.resetKeyState();
    this.emitRecord({ kind: "entry", entry });
  }

  /** Clears the per-key metadata and stream state and returns to record (or done) state. */
  private resetKeyState(): void {
    this.expireAtMs = undefined;
    this.lruIdleSec = undefined;
    this.lfuFreq = undefined;
    this.key = undefined;
    this.seen = null;
    this.scanDuplicates = false;
    this.stream = null;
    this.group = null;
    this.groupPel = null;
    this.consumer = null;
    this.state = this.valueOnly ? State.Done : State.Record;
  }

  // ---------------------------------------------------------------- streams

  /** Reads one stream listpack node (master ID key, then listpack) into the stream's entries. */
  private streamNode(): void {
    this.blob();
    if (this.strEnd - this.strStart !== 16) {
      throw new ContainerError(`stream node key of ${this.strEnd - this.strStart} bytes, expected 16`);
    }
    const k = this.str;
    const s = this.strStart;
    const masterMs = bytesToU64BE(k, s);
    const masterSeq = bytesToU64BE(k, s + 8);
    this.blob();
    const items: ListpackItem[] = [];
    decodeListpack(this.str, this.strStart, this.strEnd, items, false);
    if (items.length === 0) throw new ContainerError("empty listpack inside a stream");
    decodeStreamNode(items, masterMs, masterSeq, this.stream!.entries);
    if (--this.remaining === 0) this.state = State.StreamMeta;
  }

  /** Reads stream metadata (length, last/first/max-deleted IDs, entries added, group count). */
  private streamMeta(): void {
    const st = this.stream!;
    const length = this.len();
    const lastMs = this.lenBig();
    const lastSeq = this.lenBig();
    let firstId: RdbStreamId | null = null;
    let maxDeletedId: RdbStreamId = { ms: 0n, seq: 0n };
    let entriesAdded = BigInt(length);
    if (this.vtype !== RdbType.STREAM_LISTPACKS) {
      firstId = { ms: this.lenBig(), seq: this.lenBig() };
      maxDeletedId = { ms: this.lenBig(), seq: this.lenBig() };
      entriesAdded = this.lenBig();
    }
    const groups = this.len();
    if (length !== st.entries.length) {
      throw this.corrupt(`stream length ${length} but ${st.entries.length} live entries`);
    }
    st.lastId = { ms: lastMs, seq: lastSeq };
    // A v1 stream does not store its first ID; Redis derives it from the first entry, or the
    // maximal ID when there is none.
    st.firstId = firstId ?? (st.entries.length > 0 ? st.entries[0].id : { ms: U64_MAX, seq: U64_MAX });
    st.maxDeletedId = maxDeletedId;
    st.entriesAdded = entriesAdded;
    this.groupsLeft = groups;
    if (groups === 0) return this.finishStream();
    this.state = State.StreamGroup;
  }

  /** Reads a consumer group header and starts its PEL. */
  private streamGroup(): void {
    const name = this.string();
    const lastMs = this.lenBig();
    const lastSeq = this.lenBig();
    let entriesRead = -1n;
    if (this.vtype !== RdbType.STREAM_LISTPACKS) {
      const v = this.lenBig();
      entriesRead = v === U64_MAX ? -1n : v;
    }
    const pel = this.len();
    const group: RdbStreamGroup = {
      name,
      lastId: { ms: lastMs, seq: lastSeq },
      entriesRead,
      pending: [],
      consumers: [],
    };
    this.stream!.groups.push(group);
    this.group = group;
    this.groupPel = new Set();
    this.remaining = pel;
    this.state = pel > 0 ? State.StreamPel : State.StreamConsumerCount;
  }

  /** Reads one group PEL entry (ID, delivery time and count), rejecting duplicates. */
  private streamPel(): void {
    const at = this.pos;
    const id = this.rawStreamId();
    const deliveryTimeMs = this.i64le();
    const deliveryCount = this.len();
    const idKey = `${id.ms}-${id.seq}`;
    if (this.groupPel!.has(idKey)) throw this.corrupt(`duplicate PEL entry ${idKey}`, at);
    this.groupPel!.add(idKey);
    this.group!.pending.push({ id, deliveryTimeMs, deliveryCount });
    if (--this.remaining === 0) this.state = State.StreamConsumerCount;
  }

  /** Reads a group's consumer count, moving to the next group when there are none. */
  private streamConsumerCount(): void {
    const n = this.len();
    this.remaining = n;
    if (n > 0) {
      this.state = State.StreamConsumer;
      return;
    }
    this.nextGroup();
  }

  /** Reads a consumer (name, seen/active times) and starts its PEL. */
  private streamConsumer(): void {
    const name = this.string();
    const seenTimeMs = this.i64le();
    const activeTimeMs = this.vtype === RdbType.STREAM_LISTPACKS_3 ? this.i64le() : seenTimeMs;
    const pel = this.len();
    const consumer: RdbStreamConsumer = { name, seenTimeMs, activeTimeMs, pending: [] };
    this.group!.consumers.push(consumer);
    this.consumer = consumer;
    if (pel > 0) {
      this.consumerPelLeft = pel;
      this.state = State.StreamConsumerPel;
      return;
    }
    this.nextConsumer();
  }

  /** Reads one consumer PEL ID, which must be an unowned entry of the group PEL. */
  private streamConsumerPel(): void {
    const at = this.pos;
    const id = this.rawStreamId();
    const idKey = `${id.ms}-${id.seq}`;
    if (!this.groupPel!.delete(idKey)) {
      throw this.corrupt(`consumer PEL entry ${idKey} is not in the group PEL (or is owned twice)`, at);
    }
    this.consumer!.pending.push(id);
    if (--this.consumerPelLeft === 0) this.nextConsumer();
  }

  /** Moves to the next consumer, or to the next group after the last one. */
  private nextConsumer(): void {
    if (--this.remaining > 0) {
      this.state = State.StreamConsumer;
      return;
    }
    this.nextGroup();
  }

  /** Moves to the next group, or finishes the stream after the last one. */
  private nextGroup(): void {
    if (--this.groupsLeft > 0) {
      this.state = State.StreamGroup;
      return;
    }
    this.finishStream();
  }

  /** Emits the completed stream. */
  private finishStream(): void {
    const st = this.stream!;
    this.emit(st);
  }
}

/**
 * True when two of items[0], items[stride], items[2 * stride], ... are equal. Small collections
 * (the common compact encodings) are compared pairwise, which beats building a Set.
 */
function hasDuplicate(items: string[], stride: number): boolean {
  const n = Math.ceil(items.length / stride);
  if (n <= 16) {
    for (let i = 0; i < items.length; i += stride) {
      const a = items[i];
      for (let k = i + stride; k < items.length; k += stride) if (items[k] === a) return true;
    }
    return false;
  }
  // A StringMap, not a Set: a Set would internalize every member (a string-table insert each).
  const seen = new StringMap<true>();
  for (let i = 0; i < items.length; i += stride) seen.set(items[i], true);
  return seen.size !== n;
}

/** Decodes the entries of one stream node listpack, appending the live ones to `out`. */
function decodeStreamNode(items: ListpackItem[], masterMs: bigint, masterSeq: bigint, out: RdbStreamEntry[]): void {
  let i = 0;
  const next = (): ListpackItem => {
    if (i >= items.length) throw new ContainerError("stream node listpack ends inside an entry");
    return items[i++];
  };
  const int = (): number => {
    const v = next();
    if (typeof v !== "number") {
      throw new ContainerError(`stream node has ${JSON.stringify(v)} where a count is expected`);
    }
    return v;
  };
  const big = (): bigint => {
    const v = next();
    if (typeof v === "number") return BigInt(v);
    if (!/^-?[0-9]+$/.test(v)) throw new ContainerError(`stream node has ${JSON.stringify(v)} where an ID is expected`);
    return BigInt(v);
  };
  const text = (): string => {
    const v = next();
    return typeof v === "number" ? String(v) : v;
  };
  const live = int();
  const deleted = int();
  const masterFieldCount = int();
  if (live < 0 || deleted < 0 || masterFieldCount < 0) throw new ContainerError("negative count in stream node");
  if (masterFieldCount > items.length || live + deleted > items.length) {
    throw new ContainerError("stream node counts exceed its listpack");
  }
  const masterFields: string[] = new Array(masterFieldCount);
  for (let k = 0; k < masterFieldCount; k++) masterFields[k] = text();
  if (int() !== 0) throw new ContainerError("stream master entry is not terminated by 0");
  let seenLive = 0;
  const total = live + deleted;
  let prev = out.length > 0 ? out[out.length - 1].id : null;
  for (let e = 0; e < total; e++) {
    const flags = int();
    // Deltas are stored as int64 and wrap like the uint64 arithmetic that wrote them.
    const ms = BigInt.asUintN(64, masterMs + big());
    const seq = BigInt.asUintN(64, masterSeq + big());
    let fields: string[];
    let expectedLpCount: number;
    if (flags & StreamFlag.SAMEFIELDS) {
      fields = new Array(masterFieldCount * 2);
      for (let k = 0; k < masterFieldCount; k++) {
        fields[2 * k] = masterFields[k];
        fields[2 * k + 1] = text();
      }
      expectedLpCount = masterFieldCount + 3;
    } else {
      const n = int();
      if (n < 0 || 2 * n > items.length) throw new ContainerError("bad field count in stream entry");
      fields = new Array(n * 2);
      for (let k = 0; k < 2 * n; k++) fields[k] = text();
      expectedLpCount = 2 * n + 4;
    }
    const lpCount = int();
    if (lpCount !== expectedLpCount) {
      throw new ContainerError(`stream entry lp-count ${lpCount}, expected ${expectedLpCount}`);
    }
    if (flags & StreamFlag.DELETED) continue;
    const id = { ms, seq };
    if (prev !== null && !(ms > prev.ms || (ms === prev.ms && seq > prev.seq))) {
      throw new ContainerError(`stream entry ${ms}-${seq} is not after ${prev.ms}-${prev.seq}`);
    }
    prev = id;
    out.push({ id, fields });
    seenLive++;
  }
  if (i !== items.length) throw new ContainerError("stream node listpack has data after its last entry");
  if (seenLive !== live) throw new ContainerError(`stream node says ${live} live entries, has ${seenLive}`);
}

function bytesToU64BE(b: Uint8Array, p: number): bigint {
  const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function hex64(v: bigint): string {
  return "0x" + v.toString(16).padStart(16, "0");
}

/** Splits a module type id into its 9-character name and 10-bit encoding version. */
export function moduleIdParts(id: bigint): { name: string; encVersion: number } {
  let name = "";
  for (let i = 0; i < 9; i++) {
    name += MODULE_CHARSET[Number((id >> BigInt(10 + 6 * (8 - i))) & 63n)];
  }
  return { name, encVersion: Number(id & 1023n) };
}

/**
 * Reads an RDB from an async source of chunks (a socket reader, a file stream). Resolves when the
 * EOF opcode was read, with the bytes that followed the RDB in the last chunk; rejects with an
 * RdbError on corrupt or truncated input.
 */
export async function readRdb(
  source: AsyncIterable<Uint8Array>,
  onRecord: (r: RdbRecord) => void,
  opts: RdbReaderOptions = {},
): Promise<{ version: number; bytes: number; trailing: Uint8Array }> {
  const reader = new RdbReader(onRecord, opts);
  for await (const chunk of source) {
    const used = reader.feed(chunk);
    if (reader.done) return { version: reader.version, bytes: reader.offset, trailing: chunk.slice(used) };
  }
  reader.finish();
  return { version: reader.version, bytes: reader.offset, trailing: new Uint8Array(0) };
}

/** Reads an RDB file in 1 MB chunks (see `readRdb`). */
export async function readRdbFile(
  path: string,
  onRecord: (r: RdbRecord) => void,
  opts: RdbReaderOptions = {},
): Promise<{ version: number; bytes: number; trailing: Uint8Array }> {
  const file = await Deno.open(path, { read: true });
  try {
    return await readRdb(fileChunks(file), onRecord, opts);
  } finally {
    file.close();
  }
}

async function* fileChunks(file: Deno.FsFile, chunkSize = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(chunkSize);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) return;
    yield buf.subarray(0, n);
  }
}
