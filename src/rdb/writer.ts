/**
 * Incremental RDB file writer: magic + AUX fields, functions, SELECTDB/RESIZEDB, keys with
 * EXPIRETIME_MS (and IDLE/FREQ when given), EOF + CRC64, for RDB version 9 (Redis 6.2+), 10 (7.0+)
 * or 11 (7.2+). Value encodings are chosen by RdbEncoder.
 *
 * Invariants: output goes to the sink in chunks of about `chunkSize` bytes, each a fresh array the
 * writer never touches again (the sink may queue it); memory stays bounded by one chunk plus the
 * largest single container blob; the CRC covers every byte from the magic through the EOF opcode.
 * Calls must follow the file grammar: writeHeader (or writeMagic and writeAux) first, end() last.
 *
 * Extension hooks (for Dragonfly's format): `encodingVersion` and `chooseType` pick the value
 * encodings independently of the header version; writeRaw, writeLen and writeBlob append an
 * extension's records; writeEntry takes per-key opcode bytes; `checksum: false` writes the zero
 * checksum of producers that do not compute one.
 */
import { ByteWriter } from "./bytes.ts";
import { Opcode, type RdbWriteVersion } from "./constants.ts";
import { Crc64 } from "./crc64.ts";
import { RdbEncoder } from "./encoder.ts";
import type { RdbEntry, RdbValue } from "./records.ts";

/** Options of an RdbWriter. */
export interface RdbWriterOptions {
  /** Target RDB version: 9 (Redis 6.2+), 10 (7.0+) or 11 (7.2+). */
  version: RdbWriteVersion;
  /** LZF-compress strings longer than 20 bytes when it saves space (Redis's rdbcompression; default true). */
  compress?: boolean;
  /** Approximate size of the chunks handed to the sink (default 64 KB). */
  chunkSize?: number;
  /** Value encodings as the stock Redis of this version writes them (default: `version`). */
  encodingVersion?: RdbWriteVersion;
  /**
   * Overrides the value type chosen for a value (`chosen`); the result must be a type the encoder
   * writes for that kind of value (e.g. plain SET instead of an intset).
   */
  chooseType?: (value: RdbValue, chosen: number) => number;
  /** Compute the CRC64 (default true); false writes 8 zero bytes, as Dragonfly does. */
  checksum?: boolean;
  /**
   * Hand the sink a view of the writer's own buffer, valid only until the sink returns (the sink
   * copies what it keeps), instead of a fresh array per chunk: no allocation per chunk.
   */
  lendChunks?: boolean;
}

/** The standard AUX fields a Redis server writes after the magic. */
export interface RdbAuxInfo {
  /** Value of `redis-ver` (the Redis version we claim, e.g. "7.0.15"). */
  redisVer: string;
  /** `redis-bits` (default 64). */
  redisBits?: number;
  /** `ctime`: unix seconds of the save (default now). */
  ctimeSec?: number;
  /** `used-mem` in bytes (default 0). */
  usedMem?: number;
  /** For replication snapshots: `repl-stream-db`, `repl-id` (40 hex chars), `repl-offset`. */
  replication?: { streamDb: number; replId: string; offset: number | bigint };
  /** `aof-base` (v10+) / `aof-preamble` (v9): 1 when the RDB is an AOF base (default false). */
  aofBase?: boolean;
}

/** The part of an RdbEntry the writer needs (the db comes from `selectDb`). */
export type RdbWritableEntry = Omit<RdbEntry, "db">;

/** Writes an RDB file incrementally into a sink; see the file comment. */
export class RdbWriter {
  private readonly out = new ByteWriter(64 * 1024);
  private readonly encoder: RdbEncoder;
  private readonly crc = new Crc64();
  private readonly chunkSize: number;
  private written = 0;
  private ended = false;
  private readonly checksum: boolean;

  /** Creates a writer; `sink` receives each output chunk (ownership passes to it). */
  constructor(private readonly sink: (chunk: Uint8Array) => void, readonly opts: RdbWriterOptions) {
    if (opts.version !== 9 && opts.version !== 10 && opts.version !== 11) {
      throw new Error(`RDB writer supports versions 9, 10 and 11, not ${opts.version}`);
    }
    this.chunkSize = opts.chunkSize ?? 64 * 1024;
    this.checksum = opts.checksum ?? true;
    this.encoder = new RdbEncoder(
      this.out,
      opts.encodingVersion ?? opts.version,
      opts.compress ?? true,
      () => this.maybeFlush(),
    );
  }

  /** Bytes handed to the sink or pending. */
  get bytesWritten(): number {
    return this.written + this.out.length;
  }

  /** Writes only the magic (`REDIS00vv`); AUX fields follow with writeAux. */
  writeMagic(): void {
    this.out.latin1(`REDIS${String(this.opts.version).padStart(4, "0")}`);
  }

  /** Writes the magic (`REDIS00vv`) and the standard AUX fields in Redis's order. */
  writeHeader(aux: RdbAuxInfo): void {
    this.writeMagic();
    this.writeAux("redis-ver", aux.redisVer);
    this.writeAux("redis-bits", String(aux.redisBits ?? 64));
    this.writeAux("ctime", String(aux.ctimeSec ?? Math.floor(Date.now() / 1000)));
    this.writeAux("used-mem", String(aux.usedMem ?? 0));
    if (aux.replication) {
      this.writeAux("repl-stream-db", String(aux.replication.streamDb));
      this.writeAux("repl-id", aux.replication.replId);
      this.writeAux("repl-offset", String(aux.replication.offset));
    }
    this.writeAux(this.opts.version >= 10 ? "aof-base" : "aof-preamble", aux.aofBase ? "1" : "0");
    this.maybeFlush();
  }

  /** Writes one AUX field (latin1 key and value). */
  writeAux(key: string, value: string): void {
    this.out.u8(Opcode.AUX);
    this.encoder.writeString(key);
    this.encoder.writeString(value);
  }

  /** Writes a function library (FUNCTION2, RDB 10+): the full source with its `#!` line. */
  writeFunction(code: string): void {
    if (this.opts.version < 10) throw new Error("functions need RDB version 10 or later");
    this.out.u8(Opcode.FUNCTION2);
    this.encoder.writeString(code);
    this.maybeFlush();
  }

  /**
   * Starts a database: SELECTDB, then RESIZEDB with the key and expire counts (hints) when they
   * are given.
   */
  selectDb(db: number, dbSize?: number, expiresSize?: number): void {
    this.out.u8(Opcode.SELECTDB);
    this.encoder.writeLen(db);
    if (dbSize === undefined) return;
    this.out.u8(Opcode.RESIZEDB);
    this.encoder.writeLen(dbSize);
    this.encoder.writeLen(expiresSize ?? 0);
  }

  /** Appends bytes verbatim (an extension's opcode and fixed-size fields). */
  writeRaw(bytes: Uint8Array): void {
    this.out.bytes(bytes);
    this.maybeFlush();
  }

  /** Appends an RDB length. */
  writeLen(len: number | bigint): void {
    this.encoder.writeLen(len);
  }

  /** Appends bytes as an RDB string (LZF when the writer compresses and it pays off). */
  writeBlob(bytes: Uint8Array): void {
    this.encoder.writeBlob(bytes);
    this.maybeFlush();
  }

  /**
   * Writes a key of the current db. Empty collections are not valid RDB keys and are skipped
   * (returns false), as Redis never holds them. `keyOpcodes` (an extension's per-key records, e.g.
   * Dragonfly's DF_MASK) go after the expiry, IDLE and FREQ opcodes, just before the type byte.
   */
  writeEntry(e: RdbWritableEntry, keyOpcodes?: Uint8Array): boolean {
    const v = e.value;
    const size = v.type === "list"
      ? v.items.length
      : v.type === "set"
      ? v.members.length
      : v.type === "zset"
      ? v.entries.length
      : v.type === "hash"
      ? v.fields.length
      : 1;
    if (size === 0) return false;
    const o = this.out;
    if (e.expireAtMs !== undefined) {
      o.u8(Opcode.EXPIRETIME_MS);
      o.i64le(e.expireAtMs);
    }
    if (e.lruIdleSec !== undefined) {
      o.u8(Opcode.IDLE);
      this.encoder.writeLen(e.lruIdleSec);
    }
    if (e.lfuFreq !== undefined) {
      o.u8(Opcode.FREQ);
      o.u8(e.lfuFreq);
    }
    if (keyOpcodes !== undefined) o.bytes(keyOpcodes);
    const chosen = this.encoder.typeOf(v);
    const type = this.opts.chooseType === undefined ? chosen : this.opts.chooseType(v, chosen);
    o.u8(type);
    this.encoder.writeString(e.key);
    this.encoder.writeValue(type, v);
    this.maybeFlush();
    return true;
  }

  /** Writes EOF and the CRC64 (or 8 zero bytes) and flushes everything to the sink. */
  end(): void {
    if (this.ended) throw new Error("RDB writer already ended");
    this.ended = true;
    this.out.u8(Opcode.EOF);
    this.out.reserve(8);
    if (this.checksum) {
      this.crc.update(this.out.buf, 0, this.out.length);
      this.crc.writeLE(this.out.buf, this.out.length);
    } else {
      this.out.buf.fill(0, this.out.length, this.out.length + 8);
    }
    this.out.length += 8;
    this.emit();
  }

  /** Hands the bytes written so far to the sink now (a replication stream must not wait). */
  flush(): void {
    if (this.checksum) this.crc.update(this.out.buf, 0, this.out.length);
    this.emit();
  }

  /** Flushes once the buffer reaches the chunk size. */
  private maybeFlush(): void {
    if (this.out.length >= this.chunkSize) this.flush();
  }

  /** Hands the buffered bytes to the sink (lent or copied) and empties the buffer, shrinking it after a huge value. */
  private emit(): void {
    if (this.out.length === 0) return;
    const lend = this.opts.lendChunks === true;
    const chunk = lend ? this.out.buf.subarray(0, this.out.length) : this.out.toBytes();
    this.written += chunk.length;
    if (lend) this.sink(chunk);
    this.out.clear();
    // Give back the room a huge value needed.
    if (this.out.buf.length > 16 * this.chunkSize) this.out.reset(this.chunkSize * 2);
    if (!lend) this.sink(chunk);
  }
}
