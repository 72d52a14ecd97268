/**
 * Listpack codec (spec §D.8): the compact container of RDB types 16, 17, 20, quicklist-2 (18)
 * nodes and stream nodes.
 *
 * Layout: <total_bytes u32 LE> <num_elements u16 LE> elements <0xFF>, each element being
 * <encoding+data> <backlen>. Invariants: decoding validates the header, every element length and
 * every backlen against the blob bounds (corruption raises ContainerError, never an out-of-range
 * read); encoding picks the smallest form exactly as Redis does, integers for canonical int64 text.
 */
import { latin1Of } from "./bytes.ts";
import { ContainerError } from "./errors.ts";
import { canonicalInt64 } from "./numbers.ts";
import { readIntLE, writeIntLE } from "./ziplist.ts";

const HEADER = 6;
const END = 0xff;

/** A listpack element as decoded for streams: safe integers as numbers, everything else as text. */
export type ListpackItem = string | number;

/** Size in bytes of the backlen that follows an element of `len` bytes. */
function backlenSize(len: number): number {
  return len <= 127 ? 1 : len < 16383 ? 2 : len < 2097151 ? 3 : len < 268435455 ? 4 : 5;
}

/**
 * Decodes the listpack `b[start, end)`, appending each element to `out`. With `intsAsText`, integer
 * elements are appended as decimal strings (lists, sets, hashes, zsets); otherwise safe integers
 * stay numbers and larger ones become decimal strings (stream nodes).
 */
export function decodeListpack(
  b: Uint8Array,
  start: number,
  end: number,
  out: ListpackItem[],
  intsAsText: boolean,
): void {
  const size = end - start;
  if (size < HEADER + 1) throw new ContainerError(`listpack of ${size} bytes is shorter than its header`);
  const total = (b[start] | (b[start + 1] << 8) | (b[start + 2] << 16) | (b[start + 3] << 24)) >>> 0;
  if (total !== size) throw new ContainerError(`listpack header says ${total} bytes, blob has ${size}`);
  const declared = b[start + 4] | (b[start + 5] << 8);
  const last = end - 1;
  if (b[last] !== END) throw new ContainerError("listpack does not end with 0xFF");
  let p = start + HEADER;
  let count = 0;
  while (p < last) {
    const e = b[p];
    let encLen: number;
    let item: ListpackItem;
    if ((e & 0x80) === 0) {
      encLen = 1;
      item = intsAsText ? String(e) : e;
    } else if ((e & 0xc0) === 0x80) {
      const len = e & 0x3f;
      encLen = 1 + len;
      if (p + encLen > last) throw new ContainerError(`listpack string of ${len} bytes runs past the end`);
      item = latin1Of(b, p + 1, p + encLen);
    } else if ((e & 0xe0) === 0xc0) {
      encLen = 2;
      if (p + 2 > last) throw new ContainerError("listpack integer runs past the end");
      let v = ((e & 0x1f) << 8) | b[p + 1];
      if (v >= 4096) v -= 8192;
      item = intsAsText ? String(v) : v;
    } else if ((e & 0xf0) === 0xe0) {
      if (p + 2 > last) throw new ContainerError("listpack string header runs past the end");
      const len = ((e & 0x0f) << 8) | b[p + 1];
      encLen = 2 + len;
      if (p + encLen > last) throw new ContainerError(`listpack string of ${len} bytes runs past the end`);
      item = latin1Of(b, p + 2, p + encLen);
    } else if (e === 0xf0) {
      if (p + 5 > last) throw new ContainerError("listpack string header runs past the end");
      const len = (b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24)) >>> 0;
      encLen = 5 + len;
      if (p + encLen > last) throw new ContainerError(`listpack string of ${len} bytes runs past the end`);
      item = latin1Of(b, p + 5, p + encLen);
    } else {
      const width = e === 0xf1 ? 2 : e === 0xf2 ? 3 : e === 0xf3 ? 4 : e === 0xf4 ? 8 : 0;
      if (width === 0) throw new ContainerError(`listpack element has an invalid encoding byte 0x${e.toString(16)}`);
      encLen = 1 + width;
      if (p + encLen > last) throw new ContainerError("listpack integer runs past the end");
      const v = readIntLE(b, p + 1, width);
      item = intsAsText || typeof v === "bigint" ? String(v) : v;
    }
    const bl = backlenSize(encLen);
    const q = p + encLen;
    if (q + bl > last) throw new ContainerError("listpack backlen runs past the end");
    if (!backlenMatches(b, q, bl, encLen)) {
      throw new ContainerError(`listpack element at +${p - start} has a wrong backlen`);
    }
    out.push(item);
    p = q + bl;
    count++;
  }
  if (p !== last) throw new ContainerError("listpack elements overrun the terminator");
  if (declared !== 65535 && declared !== count) {
    throw new ContainerError(`listpack says ${declared} elements, has ${count}`);
  }
}

function backlenMatches(b: Uint8Array, q: number, bl: number, len: number): boolean {
  for (let i = bl - 1; i >= 0; i--) {
    const expected = ((len >>> (7 * (bl - 1 - i))) & 0x7f) | (i > 0 ? 0x80 : 0);
    if (b[q + i] !== expected) return false;
  }
  return true;
}

/** Encoding size (without backlen) of an integer element. */
function intEncLen(v: number | bigint): number {
  if (typeof v === "number") {
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= -32768 && v <= 32767) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= -2147483648 && v <= 2147483647) return 5;
  }
  return 9;
}

/** Encoding size (without backlen) of a string element of `len` bytes. */
function strEncLen(len: number): number {
  return len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
}

/** Something a listpack can hold: text (stored as an integer when canonical) or an integer. */
export type ListpackInput = string | number | bigint;

/** Reused output of `encodeListpack(..., reuse = true)`. */
let scratch = new Uint8Array(16 * 1024);

/**
 * Encodes `items[from, to)` as a listpack blob. Strings that are canonical int64 text become
 * integer elements, as in Redis; numbers and bigints are integer elements (they must be int64).
 * With `reuse`, the result is a view of a shared buffer, valid until the next such call.
 */
export function encodeListpack(
  items: readonly ListpackInput[],
  from = 0,
  to = items.length,
  reuse = false,
): Uint8Array {
  const ints: (number | bigint | null)[] = new Array(to - from);
  let total = HEADER + 1;
  for (let i = from; i < to; i++) {
    const it = items[i];
    const v = typeof it === "string" ? (it.length <= 20 ? canonicalInt64(it) : null) : it;
    ints[i - from] = v;
    const encLen = v !== null ? intEncLen(v) : strEncLen((it as string).length);
    total += encLen + backlenSize(encLen);
  }
  if (reuse && scratch.length < total) scratch = new Uint8Array(Math.max(total, 2 * scratch.length));
  const b = reuse ? scratch.subarray(0, total) : new Uint8Array(total);
  let p = HEADER;
  for (let i = from; i < to; i++) {
    const v = ints[i - from];
    const start = p;
    if (v !== null) {
      const encLen = intEncLen(v);
      const n = Number(v);
      switch (encLen) {
        case 1:
          b[p++] = n;
          break;
        case 2: {
          const u = n < 0 ? n + 8192 : n;
          b[p++] = 0xc0 | (u >> 8);
          b[p++] = u & 0xff;
          break;
        }
        default:
          b[p++] = encLen === 3 ? 0xf1 : encLen === 4 ? 0xf2 : encLen === 5 ? 0xf3 : 0xf4;
          writeIntLE(b, p, encLen - 1, v);
          p += encLen - 1;
      }
    } else {
      const s = items[i] as string;
      const len = s.length;
      if (len < 64) {
        b[p++] = 0x80 | len;
      } else if (len < 4096) {
        b[p++] = 0xe0 | (len >> 8);
        b[p++] = len & 0xff;
      } else {
        b[p++] = 0xf0;
        writeIntLE(b, p, 4, len);
        p += 4;
      }
      for (let k = 0; k < len; k++) b[p++] = s.charCodeAt(k);
    }
    const encLen = p - start;
    const bl = backlenSize(encLen);
    for (let k = 0; k < bl; k++) {
      b[p + k] = ((encLen >>> (7 * (bl - 1 - k))) & 0x7f) | (k > 0 ? 0x80 : 0);
    }
    p += bl;
  }
  b[p] = END;
  writeIntLE(b, 0, 4, total);
  const count = to - from;
  writeIntLE(b, 4, 2, count < 65535 ? count : 65535);
  return b;
}
