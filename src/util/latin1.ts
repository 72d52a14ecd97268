/**
 * Fast latin1 (byte ↔ char) conversions on Node Buffers.
 *
 * Invariant: the mapping is bijective (byte b ↔ char code b), so binary data survives a
 * round trip. Never use TextDecoder("latin1"): it is windows-1252 and corrupts 0x80–0x9F.
 */
import { Buffer } from "node:buffer";

interface FastLatin1 {
  latin1Slice(start: number, end: number): string;
}

/** Decodes `buf[start, end)` to a latin1 string. */
export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as FastLatin1).latin1Slice(start, end);
}

/**
 * Encodes `s` (latin1) into `buf` at `offset`; returns bytes written. A charCode loop: Deno's
 * Buffer#latin1Write goes through an intermediate JS array and is 2-8 times slower.
 */
export function latin1Write(buf: Uint8Array, s: string, offset: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[offset + i] = s.charCodeAt(i);
  return n;
}

/** Bytes of a latin1 string. */
export function latin1Bytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** A latin1 string of the given bytes. */
export function latin1String(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}
