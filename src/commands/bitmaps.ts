/**
 * The bitmaps family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO, on
 * Redis strings (latin1 JS strings, one char per byte; bit 0 is the MSB of the first byte).
 *
 * Invariants: argument errors are reported in Redis 7.0's order and with its texts; a write
 * replaces the whole string value (JS strings are immutable) and keeps the key's TTL, except
 * BITOP which stores a fresh value like SET (and is recorded as `SET target bytes` or
 * `DEL target`, touching one key only, plus `APPEND target ""` for a short result); a string
 * created or grown by a bit command counts as changed even when no bit flipped, as in Redis
 * 7.0. Every bit write (even one that changes nothing) and BITOP leave a raw string, as
 * Redis's unshared objects (STRING_MADE_RAW, for OBJECT ENCODING).
 */
import { Buffer } from "node:buffer";
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, lookupRead, parseI64, rawStringRecords } from "./helpers.ts";
import { STRING_MADE_RAW } from "../store/values.ts";
import { propagateAs } from "./dispatcher.ts";
import { latin1Slice, latin1Write } from "../util/latin1.ts";

const BIT_OFFSET_ERR = "ERR bit offset is not an integer or out of range";
const BIT_VALUE_ERR = "ERR bit is not an integer or out of range";
const BITFIELD_TYPE_ERR =
  "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const TOO_BIG_ERR = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/** Longest string V8 can hold (String::kMaxLength on 64-bit). */
const MAX_STRING_LENGTH = 2 ** 29 - 24;

/** Set bits per byte value. */
const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1];
  return t;
})();

/**
 * Parses a bit offset like Redis's getBitOffsetFromArgument: `#n` (when `bits` > 0) means
 * n·bits; negative offsets and offsets past proto-max-bulk-len bytes are rejected (except for
 * the replication link). Replies with the error and returns null when invalid.
 */
function bitOffsetArg(c: Client, s: string, bits: number): number | null {
  const useHash = bits > 0 && s.charCodeAt(0) === 35;
  let v = parseI64(useHash ? s.slice(1) : s);
  if (v === null) {
    c.w.error(BIT_OFFSET_ERR);
    return null;
  }
  if (useHash) v = BigInt.asIntN(64, v * BigInt(bits));
  if (v < 0n || (!c.isMasterLink && v >> 3n >= BigInt(c.server.config.num("proto_max_bulk_len")))) {
    c.w.error(BIT_OFFSET_ERR);
    return null;
  }
  return Number(v);
}

/** Parses a signed 64-bit integer argument or replies `error`. */
function i64Arg(c: Client, s: string, error: string = ERR.notInteger): bigint | null {
  const v = parseI64(s);
  if (v === null) c.w.error(error);
  return v;
}

/**
 * Looks up `key` for a bit write that reaches `maxBit`: replies WRONGTYPE (and returns null)
 * for a non-string; otherwise returns the bytes zero-padded to cover `maxBit`, whether the key
 * was created, and whether it grew.
 */
function stringForBitWrite(
  c: Client,
  key: string,
  maxBit: number,
): { bytes: Buffer; created: boolean; grown: boolean } | null {
  const v = c.slice(key).get(key);
  if (v !== undefined && typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return null;
  }
  const need = Math.floor(maxBit / 8) + 1;
  const old = v ?? "";
  const len = Math.max(old.length, need);
  if (len > MAX_STRING_LENGTH) {
    c.w.error(TOO_BIG_ERR);
    return null;
  }
  const bytes = Buffer.alloc(len);
  if (old.length > 0) latin1Write(bytes, old, 0);
  return { bytes, created: v === undefined, grown: v !== undefined && need > old.length };
}

/** Stores bit-command output under `key`, keeping any TTL (a raw string, as Redis's unshared object). */
function storeBits(c: Client, key: string, bytes: Buffer, created: boolean): void {
  const s = latin1Slice(bytes, 0, bytes.length);
  const slice = c.slice(key);
  if (created) {
    slice.set(key, s);
    slice.setStringMade(key, STRING_MADE_RAW);
  } else slice.replaceValue(key, s, STRING_MADE_RAW);
}

function setbit(c: Client, args: string[]): void {
  const key = args[1];
  const offset = bitOffsetArg(c, args[2], 0);
  if (offset === null) return;
  const on = i64Arg(c, args[3], BIT_VALUE_ERR);
  if (on === null) return;
  if (on !== 0n && on !== 1n) {
    c.w.error(BIT_VALUE_ERR);
    return;
  }
  const v = c.slice(key).get(key);
  if (v !== undefined && typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  const byte = Math.floor(offset / 8);
  const bit = 7 - (offset % 8);
  const old = v ?? "";
  const byteval = byte < old.length ? old.charCodeAt(byte) : 0;
  const bitval = (byteval >> bit) & 1;
  const grows = byte >= old.length;
  if (v === undefined || grows || bitval !== Number(on)) {
    if (byte + 1 > MAX_STRING_LENGTH) {
      c.w.error(TOO_BIG_ERR);
      return;
    }
    const newByte = String.fromCharCode(on ? byteval | (1 << bit) : byteval & ~(1 << bit));
    const updated = grows
      ? old + "\0".repeat(byte - old.length) + newByte
      : old.slice(0, byte) + newByte + old.slice(byte + 1);
    if (v === undefined) {
      c.slice(key).set(key, updated);
      c.slice(key).setStringMade(key, STRING_MADE_RAW);
    } else c.slice(key).replaceValue(key, updated, STRING_MADE_RAW);
    c.server.notify("$", "setbit", key, c.db);
  } else {
    // Redis unshares the string (dbUnshareStringValue) before looking: raw even when unchanged,
    // but only here (nothing is propagated).
    c.slice(key).unshareUnchanged(key);
  }
  c.w.int(bitval);
}

function getbit(c: Client, args: string[]): void {
  const offset = bitOffsetArg(c, args[2], 0);
  if (offset === null) return;
  const v = lookupRead(c, args[1]);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  const byte = Math.floor(offset / 8);
  c.w.int(byte < v.length ? (v.charCodeAt(byte) >> (7 - (offset % 8))) & 1 : 0);
}

function popcount(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += POPCOUNT[s.charCodeAt(i)];
  return n;
}

/** A byte range [start, end] with edge masks, after Redis's BYTE|BIT index conversion. */
interface BitRange {
  start: number;
  end: number;
  firstNegMask: number;
  lastNegMask: number;
}

/**
 * Converts start/end (bytes, or bits when `isBit`) the way BITCOUNT and BITPOS do: negative
 * indexes count from the end, both are clamped, and bit ranges become byte ranges with masks
 * for the bits outside the range in the first and last byte.
 */
function toByteRange(strlen: number, startArg: bigint, endArg: bigint, isBit: boolean): BitRange {
  const totlen = BigInt(isBit ? strlen * 8 : strlen);
  let start = startArg;
  let end = endArg;
  if (start < 0n) start = totlen + start;
  if (end < 0n) end = totlen + end;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= totlen) end = totlen - 1n;
  let s = Number(start > totlen ? totlen : start);
  let e = Number(end);
  let firstNegMask = 0;
  let lastNegMask = 0;
  if (isBit && s <= e) {
    firstNegMask = ~((1 << (8 - (s & 7))) - 1) & 0xff;
    lastNegMask = (1 << (7 - (e & 7))) - 1;
    s = Math.floor(s / 8);
    e = Math.floor(e / 8);
  }
  return { start: s, end: e, firstNegMask, lastNegMask };
}

function bitcount(c: Client, args: string[]): void {
  const v = lookupRead(c, args[1]);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  let range: BitRange;
  if (args.length === 4 || args.length === 5) {
    const start = i64Arg(c, args[2]);
    if (start === null) return;
    const end = i64Arg(c, args[3]);
    if (end === null) return;
    if (start < 0n && end < 0n && start > end) {
      c.w.int(0);
      return;
    }
    let isBit = false;
    if (args.length === 5) {
      const unit = args[4].toLowerCase();
      if (unit === "bit") isBit = true;
      else if (unit !== "byte") {
        c.w.error(ERR.syntax);
        return;
      }
    }
    range = toByteRange(v.length, start, end, isBit);
  } else if (args.length === 2) {
    range = { start: 0, end: v.length - 1, firstNegMask: 0, lastNegMask: 0 };
  } else {
    c.w.error(ERR.syntax);
    return;
  }
  if (range.start > range.end) {
    c.w.int(0);
    return;
  }
  let count = popcount(v, range.start, range.end);
  if (range.firstNegMask !== 0) count -= POPCOUNT[v.charCodeAt(range.start) & range.firstNegMask];
  if (range.lastNegMask !== 0) count -= POPCOUNT[v.charCodeAt(range.end) & range.lastNegMask];
  c.w.int(count);
}

/**
 * Redis's redisBitpos over `count` bytes of `s` from `from`: the first bit equal to `bit`,
 * count·8 when looking for 0 in all-ones bytes, -1 when looking for 1 in all-zero bytes.
 */
function bitposBytes(s: string, from: number, count: number, bit: number): number {
  const skip = bit ? 0 : 0xff;
  let i = 0;
  while (i < count && s.charCodeAt(from + i) === skip) i++;
  if (i === count) return bit ? -1 : count * 8;
  return i * 8 + bitposInByte(s.charCodeAt(from + i), bit);
}

/** Position (0..7, from the MSB) of the first bit equal to `bit` in `b`; 8 or -1 if none. */
function bitposInByte(b: number, bit: number): number {
  for (let k = 0; k < 8; k++) if (((b >> (7 - k)) & 1) === bit) return k;
  return bit ? -1 : 8;
}

function bitpos(c: Client, args: string[]): void {
  const bitArg = i64Arg(c, args[2]);
  if (bitArg === null) return;
  if (bitArg !== 0n && bitArg !== 1n) {
    c.w.error("ERR The bit argument must be 1 or 0.");
    return;
  }
  const bit = Number(bitArg);
  const v = lookupRead(c, args[1]);
  if (v === undefined) {
    c.w.int(bit ? -1 : 0);
    return;
  }
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return;
  }
  let range: BitRange;
  let endGiven = false;
  if (args.length >= 4 && args.length <= 6) {
    const start = i64Arg(c, args[3]);
    if (start === null) return;
    let isBit = false;
    if (args.length === 6) {
      const unit = args[5].toLowerCase();
      if (unit === "bit") isBit = true;
      else if (unit !== "byte") {
        c.w.error(ERR.syntax);
        return;
      }
    }
    let end: bigint;
    if (args.length >= 5) {
      const e = i64Arg(c, args[4]);
      if (e === null) return;
      end = e;
      endGiven = true;
    } else {
      end = isBit ? BigInt(v.length) * 8n + 7n : BigInt(v.length) - 1n;
    }
    range = toByteRange(v.length, start, end, isBit);
  } else if (args.length === 3) {
    range = { start: 0, end: v.length - 1, firstNegMask: 0, lastNegMask: 0 };
  } else {
    c.w.error(ERR.syntax);
    return;
  }
  if (range.start > range.end) {
    c.w.int(-1);
    return;
  }
  let { start, end } = range;
  const { firstNegMask, lastNegMask } = range;
  let bytes = end - start + 1;
  let pos = -1;
  let done = false;
  if (firstNegMask) {
    let tmp = bit ? v.charCodeAt(start) & ~firstNegMask & 0xff : v.charCodeAt(start) | firstNegMask;
    if (lastNegMask && bytes === 1) tmp = bit ? tmp & ~lastNegMask & 0xff : tmp | lastNegMask;
    pos = bitposInByte(tmp, bit);
    if (bytes === 1 || (pos !== -1 && pos !== 8)) done = true;
    else {
      start++;
      bytes--;
    }
  }
  if (!done) {
    const curbytes = bytes - (lastNegMask ? 1 : 0);
    if (curbytes > 0) {
      pos = bitposBytes(v, start, curbytes, bit);
      if (bytes === curbytes || (pos !== -1 && pos !== curbytes * 8)) done = true;
      else {
        start += curbytes;
        bytes -= curbytes;
      }
    }
  }
  if (!done) {
    end = range.end;
    const tmp = bit ? v.charCodeAt(end) & ~lastNegMask & 0xff : v.charCodeAt(end) | lastNegMask;
    pos = bitposInByte(tmp, bit);
  }
  if (endGiven && bit === 0 && pos === bytes * 8) {
    c.w.int(-1);
    return;
  }
  if (pos !== -1) pos += start * 8;
  c.w.int(pos);
}

function bitop(c: Client, args: string[]): void {
  const op = args[1].toLowerCase();
  if (op !== "and" && op !== "or" && op !== "xor" && op !== "not") {
    c.w.error(ERR.syntax);
    return;
  }
  if (op === "not" && args.length !== 4) {
    c.w.error("ERR BITOP NOT must be called with a single source key.");
    return;
  }
  const target = args[2];
  const sources: string[] = [];
  let maxlen = 0;
  for (let j = 3; j < args.length; j++) {
    const v = lookupRead(c, args[j]);
    if (v === undefined) {
      sources.push("");
      continue;
    }
    if (typeof v !== "string") {
      c.w.error(ERR.wrongType);
      return;
    }
    sources.push(v);
    if (v.length > maxlen) maxlen = v.length;
  }
  const slice = c.slice(target);
  if (maxlen === 0) {
    if (slice.delete(target)) c.server.notify("g", "del", target, c.db);
    propagateAs(["DEL", target]);
    c.w.int(0);
    return;
  }
  const res = Buffer.alloc(maxlen);
  const first = sources[0];
  for (let i = 0; i < first.length; i++) res[i] = first.charCodeAt(i);
  if (op === "not") {
    for (let i = 0; i < maxlen; i++) res[i] = ~res[i] & 0xff;
  } else {
    for (let k = 1; k < sources.length; k++) {
      const src = sources[k];
      const n = src.length;
      if (op === "and") {
        for (let i = 0; i < maxlen; i++) res[i] &= i < n ? src.charCodeAt(i) : 0;
      } else if (op === "or") {
        for (let i = 0; i < n; i++) res[i] |= src.charCodeAt(i);
      } else {
        for (let i = 0; i < n; i++) res[i] ^= src.charCodeAt(i);
      }
    }
  }
  const result = latin1Slice(res, 0, maxlen);
  slice.set(target, result);
  slice.setStringMade(target, STRING_MADE_RAW);
  // Recorded as the stored bytes (as Dragonfly journals BITOP): it touches only `target`. A
  // replica makes that string raw too (Redis's BITOP creates a raw object).
  propagateAs(...rawStringRecords(target, result, false));
  c.server.notify("$", "set", target, c.db);
  c.w.int(maxlen);
}

const enum Overflow {
  Wrap,
  Sat,
  Fail,
}

/** One parsed BITFIELD operation. */
interface BitfieldOp {
  kind: "get" | "set" | "incrby";
  offset: number;
  value: bigint;
  overflow: Overflow;
  bits: number;
  signed: boolean;
}

function bitfieldTypeArg(c: Client, s: string): { signed: boolean; bits: number } | null {
  const sign = s.charCodeAt(0);
  if (sign !== 105 && sign !== 117) {
    c.w.error(BITFIELD_TYPE_ERR);
    return null;
  }
  const signed = sign === 105;
  const nul = s.indexOf("\0");
  const bits = parseI64(s.slice(1, nul < 0 ? s.length : nul));
  if (bits === null || bits < 1n || (signed && bits > 64n) || (!signed && bits > 63n)) {
    c.w.error(BITFIELD_TYPE_ERR);
    return null;
  }
  return { signed, bits: Number(bits) };
}

/** Reads `bits` bits at `offset` as an unsigned integer; bytes past `len` read as zero. */
function getUnsigned(byteAt: (i: number) => number, len: number, offset: number, bits: number): bigint {
  let value = 0n;
  for (let j = 0; j < bits; j++, offset++) {
    const byte = Math.floor(offset / 8);
    const b = byte < len ? byteAt(byte) : 0;
    value = (value << 1n) | BigInt((b >> (7 - (offset % 8))) & 1);
  }
  return value;
}

function toSigned(u: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, u);
}

function setBits(buf: Buffer, offset: number, bits: number, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  for (let j = 0; j < bits; j++, offset++) {
    const bitval = Number((v >> BigInt(bits - 1 - j)) & 1n);
    const byte = Math.floor(offset / 8);
    const bit = 7 - (offset % 8);
    buf[byte] = (buf[byte] & ~(1 << bit)) | (bitval << bit);
  }
}

/**
 * Redis's checkUnsignedBitfieldOverflow: 0 when value+incr fits `bits`, else 1 (overflow) or
 * -1 (underflow) with the WRAP/SAT result in `limit` (undefined for FAIL).
 */
function unsignedOverflow(value: bigint, incr: bigint, bits: number, ow: Overflow): { dir: number; limit?: bigint } {
  const max = (1n << BigInt(bits)) - 1n;
  const wrap = () => BigInt.asUintN(64, value + incr) & max;
  if (value > max || (incr > 0n && incr > max - value)) {
    return { dir: 1, limit: ow === Overflow.Wrap ? wrap() : ow === Overflow.Sat ? max : undefined };
  }
  if (incr < 0n && incr < -value) {
    return { dir: -1, limit: ow === Overflow.Wrap ? wrap() : ow === Overflow.Sat ? 0n : undefined };
  }
  return { dir: 0 };
}

/** Redis's checkSignedBitfieldOverflow (two's complement int64 arithmetic). */
function signedOverflow(value: bigint, incr: bigint, bits: number, ow: Overflow): { dir: number; limit?: bigint } {
  const max = bits === 64 ? (1n << 63n) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, min - value);
  const wrap = () => {
    let r = BigInt.asUintN(64, value + incr);
    if (bits < 64) {
      const mask = BigInt.asUintN(64, -1n << BigInt(bits));
      r = r & (1n << BigInt(bits - 1)) ? r | mask : r & ~mask;
    }
    return BigInt.asIntN(64, r);
  };
  if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) {
    return { dir: 1, limit: ow === Overflow.Wrap ? wrap() : ow === Overflow.Sat ? max : undefined };
  }
  if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) {
    return { dir: -1, limit: ow === Overflow.Wrap ? wrap() : ow === Overflow.Sat ? min : undefined };
  }
  return { dir: 0 };
}

function bitfieldGeneric(c: Client, args: string[], readonlyCommand: boolean): void {
  const ops: BitfieldOp[] = [];
  let overflow = Overflow.Wrap;
  let readonly = true;
  let highestWrite = 0;
  for (let j = 2; j < args.length; j++) {
    const remargs = args.length - j - 1;
    const sub = args[j].toLowerCase();
    let kind: BitfieldOp["kind"];
    if (sub === "get" && remargs >= 2) kind = "get";
    else if (sub === "set" && remargs >= 3) kind = "set";
    else if (sub === "incrby" && remargs >= 3) kind = "incrby";
    else if (sub === "overflow" && remargs >= 1) {
      const t = args[++j].toLowerCase();
      if (t === "wrap") overflow = Overflow.Wrap;
      else if (t === "sat") overflow = Overflow.Sat;
      else if (t === "fail") overflow = Overflow.Fail;
      else {
        c.w.error("ERR Invalid OVERFLOW type specified");
        return;
      }
      continue;
    } else {
      c.w.error(ERR.syntax);
      return;
    }
    const type = bitfieldTypeArg(c, args[j + 1]);
    if (type === null) return;
    const offset = bitOffsetArg(c, args[j + 2], type.bits);
    if (offset === null) return;
    let value = 0n;
    if (kind !== "get") {
      readonly = false;
      if (highestWrite < offset + type.bits - 1) highestWrite = offset + type.bits - 1;
      const v = i64Arg(c, args[j + 3]);
      if (v === null) return;
      value = v;
    }
    ops.push({ kind, offset, value, overflow, bits: type.bits, signed: type.signed });
    j += kind === "get" ? 2 : 3;
  }
  const key = args[1];
  if (readonly) {
    const v = lookupRead(c, key);
    if (v !== undefined && typeof v !== "string") {
      c.w.error(ERR.wrongType);
      return;
    }
    const s = v ?? "";
    const byteAt = (i: number) => s.charCodeAt(i);
    c.w.array(ops.length);
    for (const op of ops) {
      const u = getUnsigned(byteAt, s.length, op.offset, op.bits);
      c.w.int(op.signed ? toSigned(u, op.bits) : u);
    }
    return;
  }
  if (readonlyCommand) {
    c.w.error("ERR BITFIELD_RO only supports the GET subcommand");
    return;
  }
  const target = stringForBitWrite(c, key, highestWrite);
  if (target === null) return;
  const { bytes, created, grown } = target;
  const byteAt = (i: number) => bytes[i];
  const dirty = created || grown;
  let changes = 0;
  c.w.array(ops.length);
  for (const op of ops) {
    const oldU = getUnsigned(byteAt, bytes.length, op.offset, op.bits);
    if (op.kind === "get") {
      c.w.int(op.signed ? toSigned(oldU, op.bits) : oldU);
      continue;
    }
    let oldval: bigint, newval: bigint, retval: bigint;
    let check: { dir: number; limit?: bigint };
    if (op.signed) {
      oldval = toSigned(oldU, op.bits);
      if (op.kind === "incrby") {
        check = signedOverflow(oldval, op.value, op.bits, op.overflow);
        newval = check.dir ? check.limit ?? 0n : oldval + op.value;
        retval = newval;
      } else {
        newval = op.value;
        check = signedOverflow(newval, 0n, op.bits, op.overflow);
        if (check.dir) newval = check.limit ?? newval;
        retval = oldval;
      }
    } else {
      oldval = oldU;
      if (op.kind === "incrby") {
        check = unsignedOverflow(oldval, op.value, op.bits, op.overflow);
        newval = check.dir ? check.limit ?? 0n : BigInt.asUintN(64, oldval + op.value);
        retval = newval;
      } else {
        newval = BigInt.asUintN(64, op.value);
        check = unsignedOverflow(newval, 0n, op.bits, op.overflow);
        if (check.dir) newval = check.limit ?? newval;
        retval = oldval;
      }
    }
    if (check.dir && op.overflow === Overflow.Fail) {
      c.w.nil();
      continue;
    }
    c.w.int(retval);
    setBits(bytes, op.offset, op.bits, newval);
    if (dirty || oldval !== newval) changes++;
  }
  if (dirty || changes) storeBits(c, key, bytes, created);
  else c.slice(key).unshareUnchanged(key); // unshared by Redis's lookup even when unchanged (here only)
  if (changes) c.server.notify("$", "setbit", key, c.db);
}

/** Commands of the bitmaps family. */
export const bitmapCommands: CommandSpec[] = [
  command(
    "setbit",
    4,
    ["write", "denyoom"],
    [1, 1, 1],
    "bitmap",
    "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
    "2.2.0",
    setbit,
  ),
  command("getbit", 3, ["readonly", "fast"], [1, 1, 1], "bitmap", "Returns a bit value by offset.", "2.2.0", getbit),
  command(
    "bitcount",
    -2,
    ["readonly"],
    [1, 1, 1],
    "bitmap",
    "Counts the number of set bits (population counting) in a string.",
    "2.6.0",
    bitcount,
  ),
  command(
    "bitpos",
    -3,
    ["readonly"],
    [1, 1, 1],
    "bitmap",
    "Finds the first set (1) or clear (0) bit in a string.",
    "2.8.7",
    bitpos,
  ),
  command(
    "bitop",
    -4,
    ["write", "denyoom"],
    [2, -1, 1],
    "bitmap",
    "Performs bitwise operations on multiple strings, and stores the result.",
    "2.6.0",
    bitop,
  ),
  command(
    "bitfield",
    -2,
    ["write", "denyoom"],
    [1, 1, 1],
    "bitmap",
    "Performs arbitrary bitfield integer operations on strings.",
    "3.2.0",
    (c, a) => bitfieldGeneric(c, a, false),
  ),
  command(
    "bitfield_ro",
    -2,
    ["readonly", "fast"],
    [1, 1, 1],
    "bitmap",
    "Performs arbitrary read-only bitfield integer operations on strings.",
    "6.0.0",
    (c, a) => bitfieldGeneric(c, a, true),
  ),
];
