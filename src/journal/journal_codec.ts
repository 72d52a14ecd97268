/**
 * Dragonfly journal wire format: encoding and incremental decoding of journal records.
 *
 * A journal *item* (one LSN) is `SELECT db` followed by `COMMAND txid shard_cnt nstrings
 * total_bytes (len bytes)*`, or a `PING`. `LSN n` records are informational and do not
 * advance the counter. Integers are "packed uints" (the RDB length encoding: 6-bit, 14-bit
 * big-endian, 0x80 + u32 BE, 0x81 + u64 BE).
 *
 * Invariants: encode(decode(bytes)) is byte-identical for everything a Dragonfly 1.40 primary
 * sends; the decoder consumes only complete records and reports exactly how many bytes it
 * used, so the bytes that follow (or a partial record) are left for the next feed.
 */
import { Buffer } from "node:buffer";
import { latin1Slice } from "../util/latin1.ts";

/** Journal opcodes (src/server/journal/types.h). */
export const JournalOp = {
  NOOP: 0,
  SELECT: 6,
  EXPIRED: 9,
  COMMAND: 10,
  MULTI_COMMAND: 11,
  EXEC: 12,
  PING: 13,
  FIN: 14,
  LSN: 15,
} as const;

/** A decoded journal record. */
export type JournalRecord =
  | { op: "select"; db: number }
  | { op: "command"; txid: bigint; shardCount: number; args: string[] }
  | { op: "ping" }
  | { op: "lsn"; lsn: bigint }
  | { op: "legacy"; code: number };

/** Raised for bytes that are not a valid journal stream. */
export class JournalFormatError extends Error {
  /** Creates an error naming what was wrong and at which stream offset. */
  constructor(message: string) {
    super(message);
    this.name = "JournalFormatError";
  }
}

/** Bytes needed to encode `v` as a packed uint. */
export function packedUintSize(v: number | bigint): number {
  const n = typeof v === "bigint" ? v : BigInt(v);
  if (n < 64n) return 1;
  if (n < 16384n) return 2;
  if (n <= 0xffffffffn) return 5;
  return 9;
}

/** Writes a packed uint into `buf` at `off`; returns the new offset. */
export function writePackedUint(buf: Uint8Array, off: number, v: number | bigint): number {
  if (typeof v === "number" && v < 16384) {
    if (v < 64) {
      buf[off] = v;
      return off + 1;
    }
    buf[off] = 0x40 | (v >> 8);
    buf[off + 1] = v & 0xff;
    return off + 2;
  }
  const n = typeof v === "bigint" ? v : BigInt(v);
  if (n < 0n) throw new RangeError("packed uints are unsigned");
  if (n < 64n) {
    buf[off] = Number(n);
    return off + 1;
  }
  if (n < 16384n) {
    buf[off] = 0x40 | Number(n >> 8n);
    buf[off + 1] = Number(n & 0xffn);
    return off + 2;
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (n <= 0xffffffffn) {
    buf[off] = 0x80;
    view.setUint32(off + 1, Number(n), false);
    return off + 5;
  }
  buf[off] = 0x81;
  view.setBigUint64(off + 1, n, false);
  return off + 9;
}

/** Reads a packed uint at `off`; returns [value, next offset] or null when incomplete. */
export function readPackedUint(buf: Uint8Array, off: number, end: number): [bigint, number] | null {
  if (off >= end) return null;
  const b = buf[off];
  const kind = b >> 6;
  if (kind === 0) return [BigInt(b & 0x3f), off + 1];
  if (kind === 1) {
    if (off + 2 > end) return null;
    return [BigInt(((b & 0x3f) << 8) | buf[off + 1]), off + 2];
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b === 0x80) {
    if (off + 5 > end) return null;
    return [BigInt(view.getUint32(off + 1, false)), off + 5];
  }
  if (b === 0x81) {
    if (off + 9 > end) return null;
    return [view.getBigUint64(off + 1, false), off + 9];
  }
  throw new JournalFormatError(`invalid packed integer prefix 0x${b.toString(16)}`);
}

/**
 * Encodes one journal item: `SELECT db` then `COMMAND txid shardCount args`, as Dragonfly
 * writes it (every item starts with SELECT).
 */
export function encodeCommandItem(
  db: number,
  txid: bigint | number,
  shardCount: number,
  args: readonly string[],
): Uint8Array {
  let total = 0;
  let size = 2 + packedUintSize(db) + packedUintSize(txid) + packedUintSize(shardCount) + packedUintSize(args.length);
  for (const a of args) {
    total += a.length;
    size += packedUintSize(a.length) + a.length;
  }
  size += packedUintSize(total);
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  buf[off++] = JournalOp.SELECT;
  off = writePackedUint(buf, off, db);
  buf[off++] = JournalOp.COMMAND;
  off = writePackedUint(buf, off, txid);
  off = writePackedUint(buf, off, shardCount);
  off = writePackedUint(buf, off, args.length);
  off = writePackedUint(buf, off, total);
  for (const a of args) {
    off = writePackedUint(buf, off, a.length);
    // A charCode loop beats Buffer#latin1Write, which Deno's node:buffer implements in JS with
    // an intermediate array per string.
    for (let i = 0; i < a.length; i++) buf[off++] = a.charCodeAt(i);
  }
  return buf;
}

/** Encodes a journal PING item. */
export function encodePing(): Uint8Array {
  return Uint8Array.of(JournalOp.PING);
}

/** Encodes an informational `LSN n` record. */
export function encodeLsn(lsn: bigint | number): Uint8Array {
  const buf = new Uint8Array(1 + packedUintSize(lsn));
  buf[0] = JournalOp.LSN;
  writePackedUint(buf, 1, lsn);
  return buf;
}

/**
 * Decodes one record at `off`. Returns [record, next offset], or null when the record is not
 * complete yet. Throws JournalFormatError on invalid bytes.
 */
export function decodeRecord(buf: Uint8Array, off: number, end: number): [JournalRecord, number] | null {
  if (off >= end) return null;
  const op = buf[off];
  let p = off + 1;
  switch (op) {
    case JournalOp.SELECT: {
      const r = readPackedUint(buf, p, end);
      if (r === null) return null;
      return [{ op: "select", db: Number(r[0]) }, r[1]];
    }
    case JournalOp.COMMAND:
    case JournalOp.EXPIRED: {
      const tx = readPackedUint(buf, p, end);
      if (tx === null) return null;
      const sc = readPackedUint(buf, tx[1], end);
      if (sc === null) return null;
      const ns = readPackedUint(buf, sc[1], end);
      if (ns === null) return null;
      const tb = readPackedUint(buf, ns[1], end);
      if (tb === null) return null;
      const count = Number(ns[0]);
      if (count < 1 || count > 1024 * 1024) throw new JournalFormatError(`journal command with ${count} strings`);
      p = tb[1];
      if (end - p < Number(tb[0])) return null;
      const args: string[] = [];
      for (let i = 0; i < count; i++) {
        const len = readPackedUint(buf, p, end);
        if (len === null) return null;
        const n = Number(len[0]);
        if (len[1] + n > end) return null;
        args.push(latin1Slice(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), len[1], len[1] + n));
        p = len[1] + n;
      }
      return [{ op: "command", txid: tx[0], shardCount: Number(sc[0]), args }, p];
    }
    case JournalOp.PING:
      return [{ op: "ping" }, p];
    case JournalOp.LSN: {
      const r = readPackedUint(buf, p, end);
      if (r === null) return null;
      return [{ op: "lsn", lsn: r[0] }, r[1]];
    }
    case JournalOp.NOOP:
    case JournalOp.MULTI_COMMAND:
    case JournalOp.EXEC:
    case JournalOp.FIN:
      return [{ op: "legacy", code: op }, p];
    default:
      throw new JournalFormatError(`unknown journal opcode ${op}`);
  }
}

/** Incremental journal stream decoder: feed bytes, get complete records. */
export class JournalDecoder {
  private buf: Buffer = Buffer.allocUnsafe(0);
  /** Total bytes consumed by complete records. */
  consumed = 0;

  /** Appends bytes and returns every record now complete. */
  feed(chunk: Uint8Array): JournalRecord[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: JournalRecord[] = [];
    let off = 0;
    for (;;) {
      let r: [JournalRecord, number] | null;
      try {
        r = decodeRecord(this.buf, off, this.buf.length);
      } catch (e) {
        if (e instanceof JournalFormatError) {
          throw new JournalFormatError(`${e.message} at journal stream offset ${this.consumed + off}`);
        }
        throw e;
      }
      if (r === null) break;
      out.push(r[0]);
      off = r[1];
    }
    this.consumed += off;
    this.buf = off === this.buf.length ? Buffer.allocUnsafe(0) : this.buf.subarray(off);
    return out;
  }

  /** Bytes held that do not yet form a complete record. */
  get pending(): number {
    return this.buf.length;
  }
}
