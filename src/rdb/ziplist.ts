/**
 * Ziplist codec (spec §D.7): the compact container of RDB types 10, 12, 13 and of quicklist (14)
 * nodes.
 *
 * Layout: <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> entries <0xFF>, each entry being
 * <prevlen 1|5 bytes> <encoding> [data]. Invariants: decoding validates every header field, every
 * prevlen and every length against the blob bounds (a corrupt blob raises ContainerError, never
 * reads out of range); encoding produces the same layout Redis does, integers included.
 */
import { latin1Of } from "./bytes.ts";
import { ContainerError } from "./errors.ts";
import { canonicalInt64 } from "./numbers.ts";

const HEADER = 10;
const END = 0xff;
const BIG_PREVLEN = 0xfe;

/** Decodes the ziplist `b[start, end)`, appending every entry as a string to `out`. */
export function decodeZiplist(b: Uint8Array, start: number, end: number, out: string[]): void {
  const size = end - start;
  if (size < HEADER + 1) throw new ContainerError(`ziplist of ${size} bytes is shorter than its header`);
  const zlbytes = (b[start] | (b[start + 1] << 8) | (b[start + 2] << 16) | (b[start + 3] << 24)) >>> 0;
  if (zlbytes !== size) throw new ContainerError(`ziplist header says ${zlbytes} bytes, blob has ${size}`);
  const zltail = (b[start + 4] | (b[start + 5] << 8) | (b[start + 6] << 16) | (b[start + 7] << 24)) >>> 0;
  const zllen = b[start + 8] | (b[start + 9] << 8);
  if (b[end - 1] !== END) throw new ContainerError("ziplist does not end with 0xFF");
  const last = end - 1;
  let p = start + HEADER;
  let prevSize = 0;
  let lastEntry = -1;
  let count = 0;
  while (p < last) {
    const entryStart = p;
    let prevlen: number;
    if (b[p] < BIG_PREVLEN) {
      prevlen = b[p];
      p += 1;
    } else if (b[p] === BIG_PREVLEN) {
      if (p + 5 > last) throw new ContainerError("ziplist prevlen runs past the end");
      prevlen = (b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24)) >>> 0;
      p += 5;
    } else {
      throw new ContainerError("ziplist entry with an invalid prevlen byte 0xFF");
    }
    if (prevlen !== prevSize) {
      throw new ContainerError(`ziplist entry at +${entryStart - start} has prevlen ${prevlen}, expected ${prevSize}`);
    }
    if (p >= last) throw new ContainerError("ziplist entry encoding runs past the end");
    const enc = b[p];
    const kind = enc >> 6;
    if (kind < 3) {
      let len: number;
      if (kind === 0) {
        len = enc & 0x3f;
        p += 1;
      } else if (kind === 1) {
        if (p + 2 > last) throw new ContainerError("ziplist string header runs past the end");
        len = ((enc & 0x3f) << 8) | b[p + 1];
        p += 2;
      } else {
        if (p + 5 > last) throw new ContainerError("ziplist string header runs past the end");
        len = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        p += 5;
      }
      if (p + len > last) throw new ContainerError(`ziplist string of ${len} bytes runs past the end`);
      out.push(latin1Of(b, p, p + len));
      p += len;
    } else {
      p += 1;
      let value: number | bigint;
      if (enc >= 0xf1 && enc <= 0xfd) {
        value = enc - 0xf1;
      } else {
        let width: number;
        switch (enc) {
          case 0xfe:
            width = 1;
            break;
          case 0xc0:
            width = 2;
            break;
          case 0xf0:
            width = 3;
            break;
          case 0xd0:
            width = 4;
            break;
          case 0xe0:
            width = 8;
            break;
          default:
            throw new ContainerError(`ziplist entry has an invalid encoding byte 0x${enc.toString(16)}`);
        }
        if (p + width > last) throw new ContainerError("ziplist integer runs past the end");
        value = readIntLE(b, p, width);
        p += width;
      }
      out.push(String(value));
    }
    prevSize = p - entryStart;
    lastEntry = entryStart;
    count++;
  }
  if (p !== last) throw new ContainerError("ziplist entries overrun the terminator");
  const expectedTail = lastEntry < 0 ? HEADER : lastEntry - start;
  if (zltail !== expectedTail) throw new ContainerError(`ziplist tail offset ${zltail}, expected ${expectedTail}`);
  if (zllen !== 0xffff && zllen !== count) throw new ContainerError(`ziplist says ${zllen} entries, has ${count}`);
}

/** Reads a little-endian two's-complement integer of 1, 2, 3, 4 or 8 bytes. */
export function readIntLE(b: Uint8Array, p: number, width: number): number | bigint {
  switch (width) {
    case 1:
      return (b[p] << 24) >> 24;
    case 2:
      return ((b[p] | (b[p + 1] << 8)) << 16) >> 16;
    case 3:
      return ((b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) << 8) >> 8;
    case 4:
      return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    default: {
      const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
      const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
      if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
  }
}

/** Writes `v` as a little-endian two's-complement integer of `width` bytes at `b[p]`. */
export function writeIntLE(b: Uint8Array, p: number, width: number, v: number | bigint): void {
  if (width === 8) {
    new DataView(b.buffer, b.byteOffset).setBigInt64(p, BigInt(v), true);
    return;
  }
  const n = Number(v);
  for (let i = 0; i < width; i++) b[p + i] = (n >> (8 * i)) & 0xff;
}

/** Integer encoding byte and payload width for a value, as ziplists choose them. */
function ziplistIntEncoding(v: number | bigint): [enc: number, width: number] {
  if (typeof v === "number") {
    if (v >= 0 && v <= 12) return [0xf1 + v, 0];
    if (v >= -128 && v <= 127) return [0xfe, 1];
    if (v >= -32768 && v <= 32767) return [0xc0, 2];
    if (v >= -8388608 && v <= 8388607) return [0xf0, 3];
    if (v >= -2147483648 && v <= 2147483647) return [0xd0, 4];
  }
  return [0xe0, 8];
}

/** Reused output of `encodeZiplist(..., reuse = true)`. */
let scratch = new Uint8Array(16 * 1024);

/**
 * Encodes `items[from, to)` as a ziplist blob. With `reuse`, the result is a view of a shared
 * buffer, valid until the next such call.
 */
export function encodeZiplist(items: readonly string[], from = 0, to = items.length, reuse = false): Uint8Array {
  // First pass: sizes, so the blob is allocated once.
  let total = HEADER + 1;
  let prevSize = 0;
  const ints: (number | bigint | null)[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const s = items[i];
    const v = s.length < 32 ? canonicalInt64(s) : null;
    ints[i - from] = v;
    const body = v !== null ? 1 + ziplistIntEncoding(v)[1] : stringHeaderSize(s.length) + s.length;
    const size = (prevSize < BIG_PREVLEN ? 1 : 5) + body;
    total += size;
    prevSize = size;
  }
  if (reuse && scratch.length < total) scratch = new Uint8Array(Math.max(total, 2 * scratch.length));
  const b = reuse ? scratch.subarray(0, total) : new Uint8Array(total);
  let p = HEADER;
  prevSize = 0;
  let tail = HEADER;
  for (let i = from; i < to; i++) {
    const entryStart = p;
    tail = entryStart;
    if (prevSize < BIG_PREVLEN) {
      b[p++] = prevSize;
    } else {
      b[p++] = BIG_PREVLEN;
      writeIntLE(b, p, 4, prevSize);
      p += 4;
    }
    const v = ints[i - from];
    if (v !== null) {
      const [enc, width] = ziplistIntEncoding(v);
      b[p++] = enc;
      if (width > 0) writeIntLE(b, p, width, v);
      p += width;
    } else {
      const s = items[i];
      const len = s.length;
      if (len < 64) {
        b[p++] = len;
      } else if (len < 16384) {
        b[p++] = 0x40 | (len >> 8);
        b[p++] = len & 0xff;
      } else {
        b[p++] = 0x80;
        b[p++] = (len >>> 24) & 0xff;
        b[p++] = (len >>> 16) & 0xff;
        b[p++] = (len >>> 8) & 0xff;
        b[p++] = len & 0xff;
      }
      for (let k = 0; k < len; k++) b[p++] = s.charCodeAt(k);
    }
    prevSize = p - entryStart;
  }
  b[p] = END;
  writeIntLE(b, 0, 4, total);
  writeIntLE(b, 4, 4, tail);
  const count = to - from;
  writeIntLE(b, 8, 2, count < 0xffff ? count : 0xffff);
  return b;
}

function stringHeaderSize(len: number): number {
  return len < 64 ? 1 : len < 16384 ? 2 : 5;
}
