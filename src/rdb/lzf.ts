/**
 * LZF, the compression RDB uses for strings (spec §D.3, §D.15).
 *
 * Format: a control byte < 32 starts a literal run of ctrl+1 bytes; otherwise the top 3 bits are a
 * match length (7 = one extra length byte follows) and the low 5 bits plus the next byte a
 * distance back into the output. Invariants: decompression never reads or writes out of bounds and
 * demands the exact declared size; the shared decoders' scratch buffer (at most 1 MB, kept for the
 * process) is only valid until their next call, and what outlives that is a copy (a string);
 * compression returns null unless it saves at least 4 bytes.
 */
import { latin1Of } from "./bytes.ts";
import { ContainerError } from "./errors.ts";

/** Outputs up to this size go through the shared scratch buffer; larger ones get their own. */
const SCRATCH_MAX = 1024 * 1024;
/** Reused output buffer of the shared decoders (grown on demand up to SCRATCH_MAX). */
let decompressScratch = new Uint8Array(64 * 1024);

/**
 * Decompresses `src[start, end)` (exactly `outLen` bytes) into a buffer that may be shared: the
 * result is valid only until the next call of this function or `lzfDecompressLatin1`, so decode
 * it (or copy it) right away. Bytes [0, outLen) of the result are the output.
 */
export function lzfDecompressShared(src: Uint8Array, start: number, end: number, outLen: number): Uint8Array {
  if (outLen > SCRATCH_MAX) return lzfDecompress(src, start, end, outLen);
  if (decompressScratch.length < outLen) {
    decompressScratch = new Uint8Array(Math.max(outLen, Math.min(SCRATCH_MAX, 2 * decompressScratch.length)));
  }
  lzfDecompressInto(src, start, end, decompressScratch, outLen);
  return decompressScratch;
}

/**
 * Decompresses `src[start, end)` (exactly `outLen` bytes) straight to a latin1 string, through the
 * shared scratch buffer: no per-call allocation besides the string itself.
 */
export function lzfDecompressLatin1(src: Uint8Array, start: number, end: number, outLen: number): string {
  return latin1Of(lzfDecompressShared(src, start, end, outLen), 0, outLen);
}

/** Decompresses `src[start, end)` into a new buffer of exactly `outLen` bytes. */
export function lzfDecompress(src: Uint8Array, start: number, end: number, outLen: number): Uint8Array {
  const out = new Uint8Array(outLen);
  lzfDecompressInto(src, start, end, out, outLen);
  return out;
}

/** Decompresses `src[start, end)` into `out[0, outLen)` (`out` may be longer). */
function lzfDecompressInto(src: Uint8Array, start: number, end: number, out: Uint8Array, outLen: number): void {
  let ip = start;
  let op = 0;
  while (ip < end) {
    const ctrl = src[ip++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > end) throw new ContainerError("LZF literal run past the end of the input");
      if (op + run > outLen) throw new ContainerError("LZF output larger than the declared length");
      for (let k = 0; k < run; k++) out[op + k] = src[ip + k];
      ip += run;
      op += run;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= end) throw new ContainerError("LZF input truncated in a match length");
      len += src[ip++];
    }
    if (ip >= end) throw new ContainerError("LZF input truncated in a match distance");
    let ref = op - (((ctrl & 0x1f) << 8) + src[ip++] + 1);
    len += 2;
    if (ref < 0) throw new ContainerError("LZF back reference before the start of the output");
    if (op + len > outLen) throw new ContainerError("LZF output larger than the declared length");
    // Byte by byte: source and destination may overlap (run-length behaviour).
    for (let k = 0; k < len; k++) out[op++] = out[ref++];
  }
  if (op !== outLen) throw new ContainerError(`LZF output is ${op} bytes, ${outLen} declared`);
}

const HASH_BITS = 14;
const HASH_SIZE = 1 << HASH_BITS;
const MAX_LITERAL = 32;
const MAX_DISTANCE = 8192;
const MAX_MATCH = 264;
/**
 * Reused hash table of candidate positions. It is never cleared: a stale entry from an earlier
 * input is harmless because a candidate is only used when it lies before the current position and
 * its bytes really match.
 */
const hashTable = new Int32Array(HASH_SIZE);
/** Reused output buffer; a successful result is copied out of it. */
let scratch = new Uint8Array(64 * 1024);

function hash3(b: Uint8Array, i: number): number {
  const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
  return (Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS)) & (HASH_SIZE - 1);
}

/**
 * Compresses `src`; returns the LZF bytes, or null when the result would not be at least 4 bytes
 * smaller than the input (Redis's rule for storing a string compressed). The result is a view of
 * a reused buffer: valid until the next call, so copy it out right away.
 */
export function lzfCompress(src: Uint8Array): Uint8Array | null {
  const n = src.length;
  const cap = n - 4;
  if (cap <= 0) return null;
  if (scratch.length < cap) scratch = new Uint8Array(Math.max(cap, 2 * scratch.length));
  const out = scratch;
  let op = 0;
  let litStart = 0;
  let ip = 0;
  const flushLiterals = (upTo: number): boolean => {
    while (litStart < upTo) {
      const run = Math.min(MAX_LITERAL, upTo - litStart);
      if (op + 1 + run > cap) return false;
      out[op++] = run - 1;
      out.set(src.subarray(litStart, litStart + run), op);
      op += run;
      litStart += run;
    }
    return true;
  };
  while (ip + 2 < n) {
    const h = hash3(src, ip);
    const ref = hashTable[h];
    hashTable[h] = ip;
    const dist = ip - ref;
    if (
      ref >= 0 && dist > 0 && dist <= MAX_DISTANCE && src[ref] === src[ip] && src[ref + 1] === src[ip + 1] &&
      src[ref + 2] === src[ip + 2]
    ) {
      let len = 3;
      const maxLen = Math.min(MAX_MATCH, n - ip);
      while (len < maxLen && src[ref + len] === src[ip + len]) len++;
      if (!flushLiterals(ip)) return null;
      const off = dist - 1;
      const code = len - 2;
      if (code < 7) {
        if (op + 2 > cap) return null;
        out[op++] = (code << 5) | (off >> 8);
      } else {
        if (op + 3 > cap) return null;
        out[op++] = (7 << 5) | (off >> 8);
        out[op++] = code - 7;
      }
      out[op++] = off & 0xff;
      ip += len;
      litStart = ip;
      if (ip + 2 < n) hashTable[hash3(src, ip - 1)] = ip - 1;
    } else {
      ip++;
    }
  }
  if (!flushLiterals(n)) return null;
  return out.subarray(0, op);
}
