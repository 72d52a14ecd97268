/**
 * Intset codec (spec §D.9.1), RDB type 11: a sorted array of 16-, 32- or 64-bit integers.
 *
 * Layout: <encoding u32 LE = 2|4|8> <length u32 LE> <length × int LE>. Invariants: decoding demands
 * the exact blob size, a non-empty set and strictly ascending values; encoding uses the narrowest
 * width that fits every member, as Redis does.
 */
import { ContainerError } from "./errors.ts";
import { readIntLE, writeIntLE } from "./ziplist.ts";

/** Decodes the intset `b[start, end)`, appending members as decimal strings to `out`. */
export function decodeIntset(b: Uint8Array, start: number, end: number, out: string[]): void {
  const size = end - start;
  if (size < 8) throw new ContainerError(`intset of ${size} bytes is shorter than its header`);
  const width = (b[start] | (b[start + 1] << 8) | (b[start + 2] << 16) | (b[start + 3] << 24)) >>> 0;
  if (width !== 2 && width !== 4 && width !== 8) throw new ContainerError(`intset has invalid encoding ${width}`);
  const length = (b[start + 4] | (b[start + 5] << 8) | (b[start + 6] << 16) | (b[start + 7] << 24)) >>> 0;
  if (8 + length * width !== size) {
    throw new ContainerError(`intset of ${length} × ${width} bytes does not fit a ${size}-byte blob`);
  }
  if (length === 0) throw new ContainerError("intset is empty");
  let prev: number | bigint | null = null;
  for (let i = 0, p = start + 8; i < length; i++, p += width) {
    const v = readIntLE(b, p, width);
    if (prev !== null && !(prev < v)) throw new ContainerError("intset values are not strictly ascending");
    prev = v;
    out.push(String(v));
  }
}

/** Encodes ascending, distinct int64 values as an intset blob. */
export function encodeIntset(values: readonly (number | bigint)[]): Uint8Array {
  let width = 2;
  for (const v of values) {
    if (typeof v === "bigint" || v < -2147483648 || v > 2147483647) {
      width = 8;
      break;
    }
    if (v < -32768 || v > 32767) width = 4;
  }
  const b = new Uint8Array(8 + values.length * width);
  writeIntLE(b, 0, 4, width);
  writeIntLE(b, 4, 4, values.length);
  for (let i = 0, p = 8; i < values.length; i++, p += width) writeIntLE(b, p, width, values[i]);
  return b;
}
