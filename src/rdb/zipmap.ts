/**
 * Zipmap decoder (spec §D.9.4), RDB type 9: the hash encoding of Redis 2.4 and earlier.
 *
 * Layout: <zmlen 1 byte> { <len> key <len> <free 1 byte> value <free bytes> }* <0xFF>, where a len
 * is one byte below 254, else 0xFE + 4 bytes LE. Invariant: every length is checked against the
 * blob bounds before it is used; nothing follows the 0xFF terminator; an empty zipmap is corrupt
 * (as Redis's integrity check says). No writer exists: no supported target version uses zipmaps.
 */
import { latin1Of } from "./bytes.ts";
import { ContainerError } from "./errors.ts";

const BIGLEN = 254;
const END = 0xff;

/** Decodes the zipmap `b[start, end)`, appending [field, value] pairs to `out`. */
export function decodeZipmap(b: Uint8Array, start: number, end: number, out: [string, string][]): void {
  if (end - start < 2) throw new ContainerError("zipmap is shorter than its header");
  let p = start + 1;
  const start0 = out.length;
  const readLen = (): number => {
    if (p >= end) throw new ContainerError("zipmap length runs past the end");
    const first = b[p];
    if (first < BIGLEN) {
      p += 1;
      return first;
    }
    if (first !== BIGLEN || p + 5 > end) throw new ContainerError("zipmap has an invalid length");
    const len = (b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24)) >>> 0;
    p += 5;
    return len;
  };
  for (;;) {
    if (p >= end) throw new ContainerError("zipmap has no terminator");
    if (b[p] === END) break;
    const klen = readLen();
    if (p + klen > end) throw new ContainerError("zipmap key runs past the end");
    const field = latin1Of(b, p, p + klen);
    p += klen;
    const vlen = readLen();
    if (p >= end) throw new ContainerError("zipmap free byte runs past the end");
    const free = b[p++];
    if (p + vlen + free > end) throw new ContainerError("zipmap value runs past the end");
    out.push([field, latin1Of(b, p, p + vlen)]);
    p += vlen + free;
  }
  if (p !== end - 1) throw new ContainerError("zipmap has bytes after its terminator");
  if (out.length === start0) throw new ContainerError("zipmap is empty");
}
