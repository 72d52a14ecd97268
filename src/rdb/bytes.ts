/**
 * Byte-level helpers shared by the RDB codec: latin1 conversion and a growable output buffer.
 *
 * Invariant: latin1 is the bijective byte ↔ char mapping (never windows-1252), so binary data
 * survives decode → encode unchanged.
 */
import { Buffer } from "node:buffer";

interface Latin1Methods {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
}
const methods = Buffer.prototype as unknown as Latin1Methods;

/** Decodes `b[start, end)` (any Uint8Array) to a latin1 string. */
export function latin1Of(b: Uint8Array, start: number, end: number): string {
  return methods.latin1Slice.call(b, start, end);
}

/**
 * Writes the bytes of latin1 `s` into `dst` at `offset` (which must have room). A charCode loop:
 * Deno's Buffer#latin1Write goes through an intermediate JS array and is 2-8 times slower.
 */
export function writeLatin1(dst: Uint8Array, s: string, offset: number): void {
  for (let i = 0, n = s.length; i < n; i++) dst[offset + i] = s.charCodeAt(i);
}

/** Bytes of a latin1 string, as a new array. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeLatin1(out, s, 0);
  return out;
}

/** A growable byte buffer with little/big-endian writers. */
export class ByteWriter {
  /** Backing storage; valid bytes are [0, length). */
  buf: Uint8Array;
  /** Bytes written. */
  length = 0;
  private view: DataView;

  /** Starts with `capacity` bytes of room. */
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Replaces the storage with an empty buffer of `capacity` bytes. */
  reset(capacity: number): void {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.length = 0;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Appends one byte. */
  u8(v: number): void {
    if (this.length >= this.buf.length) this.reserve(1);
    this.buf[this.length++] = v;
  }

  /** Appends a 16-bit little-endian integer. */
  u16le(v: number): void {
    this.reserve(2);
    const b = this.buf;
    const p = this.length;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    this.length = p + 2;
  }

  /** Appends a 32-bit little-endian integer (the low 32 bits of `v`). */
  u32le(v: number): void {
    this.reserve(4);
    const b = this.buf;
    const p = this.length;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.length = p + 4;
  }

  /** Appends a 32-bit big-endian integer. */
  u32be(v: number): void {
    this.reserve(4);
    const b = this.buf;
    const p = this.length;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.length = p + 4;
  }

  /** Appends a 64-bit little-endian signed integer. */
  i64le(v: bigint | number): void {
    this.reserve(8);
    if (typeof v === "number" && Number.isSafeInteger(v)) {
      this.view.setUint32(this.length, v >>> 0, true);
      this.view.setInt32(this.length + 4, Math.floor(v / 4294967296), true);
    } else {
      this.view.setBigInt64(this.length, BigInt(v), true);
    }
    this.length += 8;
  }

  /** Appends a 64-bit big-endian unsigned integer. */
  u64be(v: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, v, false);
    this.length += 8;
  }

  /** Appends an IEEE-754 double, little-endian. */
  f64le(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** Appends bytes. */
  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  /** Appends a latin1 string's bytes. */
  latin1(s: string): void {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.length = p;
  }

  /** A copy of the written bytes. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** Forgets the contents (keeps the storage). */
  clear(): void {
    this.length = 0;
  }
}
