/**
 * Decompression of the compressed blobs in a Dragonfly full-sync stream (opcodes 201 ZSTD and
 * 202 LZ4), and an LZ4 frame compressor that writes the frame layout Dragonfly writes.
 *
 * LZ4 is the standard frame format (magic 04 22 4D 18, FLG/BD descriptor, optional content size,
 * xxHash32 header/block/content checksums, 0-terminated block list) over the LZ4 block format;
 * both are implemented here. ZSTD decoding uses the runtime's native zstd (node:zlib).
 *
 * Invariants: every length and back-reference is checked against the input and output bounds, so
 * corrupt input raises CompressionError (naming the byte offset in the compressed data), never an
 * out-of-range access; output never exceeds `maxOutput` (a frame claiming more is rejected before
 * anything is allocated); a frame must use all of its input (trailing bytes are an error).
 */
import { Buffer } from "node:buffer";
import * as zlib from "node:zlib";

/** The zstd functions of node:zlib (in the runtime, newer than the bundled Node typings). */
interface ZstdApi {
  zstdDecompressSync(data: Uint8Array, opts: { maxOutputLength: number }): Buffer;
}
const { zstdDecompressSync } = zlib as unknown as ZstdApi;

/** Largest decompressed blob accepted by default (Dragonfly compresses blobs of at most 1 MiB). */
export const MAX_BLOB_CONTENT = 64 * 1024 * 1024;

/** Corrupt, truncated or unsupported compressed data. */
export class CompressionError extends Error {
  /** Byte offset in the compressed input where the problem was found. */
  readonly offset: number;

  /** Builds the error; the message names the offset. */
  constructor(reason: string, offset: number) {
    super(`${reason} (at byte ${offset} of the compressed data)`);
    this.name = "CompressionError";
    this.offset = offset;
  }
}

const LZ4_MAGIC = 0x184d2204;
const ZSTD_MAGIC = 0xfd2fb528;
/** Block maximum sizes by BD code 4..7. */
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function u32le(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** xxHash32 of `b[start, end)` with seed 0 (the checksum of LZ4 frames). */
export function xxh32(b: Uint8Array, start = 0, end = b.length): number {
  const len = end - start;
  let p = start;
  let h: number;
  if (len >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2 | 0;
    let v3 = 0;
    let v4 = -P1 | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(u32le(b, p), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(u32le(b, p + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(u32le(b, p + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(u32le(b, p + 12), P2)) | 0, 13), P1);
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5 | 0;
  }
  h = (h + len) | 0;
  while (p + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(u32le(b, p), P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(b[p], P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Growable output of a decoder, bounded by a maximum. */
class Output {
  buf: Uint8Array;
  length = 0;

  constructor(initial: number, readonly max: number, readonly exact: boolean) {
    this.buf = new Uint8Array(initial);
  }

  /** Makes room for `n` more bytes, or fails with the input offset `at`. */
  reserve(n: number, at: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    if (this.exact) throw new CompressionError(`content exceeds the declared size of ${this.buf.length} bytes`, at);
    if (need > this.max) throw new CompressionError(`content exceeds ${this.max} bytes`, at);
    const next = new Uint8Array(Math.min(this.max, Math.max(need, 2 * this.buf.length, 4096)));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/**
 * Decodes one LZ4 block `src[start, end)` onto `out`. Back-references may reach into output of
 * earlier blocks of the frame (linked blocks), never before the start of the frame's content.
 */
function decodeLz4Block(src: Uint8Array, start: number, end: number, out: Output): void {
  let ip = start;
  for (;;) {
    if (ip >= end) throw new CompressionError("LZ4 block ends before its last sequence", ip);
    const token = src[ip++];
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw new CompressionError("LZ4 literal length runs past the block", ip);
        b = src[ip++];
        litLen += b;
      } while (b === 255);
    }
    if (ip + litLen > end) throw new CompressionError(`LZ4 literals (${litLen} bytes) run past the block`, ip);
    out.reserve(litLen, ip);
    out.buf.set(src.subarray(ip, ip + litLen), out.length);
    out.length += litLen;
    ip += litLen;
    if (ip === end) return; // the last sequence has literals only
    if (ip + 2 > end) throw new CompressionError("LZ4 match offset runs past the block", ip);
    const offset = src[ip] | (src[ip + 1] << 8);
    if (offset === 0 || offset > out.length) {
      throw new CompressionError(`LZ4 match offset ${offset} is outside the ${out.length} bytes decoded`, ip);
    }
    ip += 2;
    let matchLen = token & 15;
    if (matchLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw new CompressionError("LZ4 match length runs past the block", ip);
        b = src[ip++];
        matchLen += b;
      } while (b === 255);
    }
    matchLen += 4;
    out.reserve(matchLen, ip);
    const buf = out.buf;
    let op = out.length;
    const from = op - offset;
    if (offset >= matchLen) {
      buf.copyWithin(op, from, from + matchLen);
      op += matchLen;
    } else {
      for (let i = 0; i < matchLen; i++, op++) buf[op] = buf[from + i];
    }
    out.length = op;
  }
}

/**
 * Decompresses one complete LZ4 frame (the payload of Dragonfly's opcode 202). Checksums present
 * in the frame are verified; dictionaries are not supported.
 */
export function lz4FrameDecompress(frame: Uint8Array, maxOutput = MAX_BLOB_CONTENT): Uint8Array {
  const end = frame.length;
  if (end < 7) throw new CompressionError(`LZ4 frame of ${end} bytes is shorter than its header`, 0);
  if (u32le(frame, 0) !== LZ4_MAGIC) {
    throw new CompressionError(`not an LZ4 frame (magic 0x${u32le(frame, 0).toString(16).padStart(8, "0")})`, 0);
  }
  const flg = frame[4];
  const bd = frame[5];
  if (flg >>> 6 !== 1) throw new CompressionError(`unsupported LZ4 frame version ${flg >>> 6}`, 4);
  if (flg & 0x02 || bd & 0x8f) throw new CompressionError("reserved bits set in the LZ4 frame descriptor", 4);
  if (flg & 0x01) throw new CompressionError("LZ4 frames with a dictionary are not supported", 4);
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMax = LZ4_BLOCK_MAX[(bd >>> 4) & 7];
  if (blockMax === 0) throw new CompressionError(`invalid LZ4 block maximum size code ${(bd >>> 4) & 7}`, 5);
  let p = 6;
  let contentSize = -1;
  if (hasContentSize) {
    if (end < p + 9) throw new CompressionError("LZ4 frame header is truncated", p);
    const lo = u32le(frame, p);
    const hi = u32le(frame, p + 4);
    if (hi !== 0 || lo > maxOutput) {
      throw new CompressionError(`LZ4 frame declares ${hi * 4294967296 + lo} bytes, over ${maxOutput}`, p);
    }
    contentSize = lo;
    p += 8;
  }
  const expectedHc = (xxh32(frame, 4, p) >>> 8) & 0xff;
  if (frame[p] !== expectedHc) {
    throw new CompressionError(
      `LZ4 header checksum 0x${frame[p].toString(16)} should be 0x${expectedHc.toString(16)}`,
      p,
    );
  }
  p++;
  const out = contentSize >= 0
    ? new Output(contentSize, contentSize, true)
    : new Output(Math.min(maxOutput, 64 * 1024), maxOutput, false);
  for (;;) {
    if (p + 4 > end) throw new CompressionError("LZ4 frame is truncated (no end mark)", p);
    const word = u32le(frame, p);
    p += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) {
      throw new CompressionError(`LZ4 block of ${size} bytes exceeds the ${blockMax} maximum`, p - 4);
    }
    if (p + size + (blockChecksum ? 4 : 0) > end) throw new CompressionError("LZ4 block is truncated", p);
    if (blockChecksum && xxh32(frame, p, p + size) !== u32le(frame, p + size)) {
      throw new CompressionError("LZ4 block checksum mismatch", p + size);
    }
    if (word & 0x80000000) {
      out.reserve(size, p);
      out.buf.set(frame.subarray(p, p + size), out.length);
      out.length += size;
    } else {
      decodeLz4Block(frame, p, p + size, out);
    }
    p += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (p + 4 > end) throw new CompressionError("LZ4 content checksum is truncated", p);
    if (xxh32(out.buf, 0, out.length) !== u32le(frame, p)) {
      throw new CompressionError("LZ4 content checksum mismatch", p);
    }
    p += 4;
  }
  if (contentSize >= 0 && out.length !== contentSize) {
    throw new CompressionError(`LZ4 frame declares ${contentSize} bytes but holds ${out.length}`, p);
  }
  if (p !== end) throw new CompressionError(`${end - p} bytes after the end of the LZ4 frame`, p);
  return out.length === out.buf.length ? out.buf : out.buf.slice(0, out.length);
}

/** Hash of 4 bytes for the compressor's match table (16 bits). */
function hash4(v: number): number {
  return Math.imul(v, 2654435761) >>> 16;
}

/** Compresses `src[start, end)` as one LZ4 block; returns its size in `dst` at `at`, or -1 if it does not fit. */
function encodeLz4Block(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number, table: Int32Array) {
  table.fill(-1);
  const limit = dst.length;
  let op = at;
  let anchor = start;
  let ip = start;
  const matchStartLimit = end - 12; // the last match starts at least 12 bytes before the end
  const matchEndLimit = end - 5; // the last 5 bytes are literals
  const emit = (litEnd: number, offset: number, matchLen: number): boolean => {
    const litLen = litEnd - anchor;
    // token + literal length bytes + literals + offset + match length bytes
    if (op + 1 + litLen + ((litLen / 255) | 0) + 2 + ((matchLen / 255) | 0) + 1 > limit) return false;
    const tokenAt = op++;
    let token = (litLen >= 15 ? 15 : litLen) << 4;
    if (litLen >= 15) {
      let rest = litLen - 15;
      while (rest >= 255) {
        dst[op++] = 255;
        rest -= 255;
      }
      dst[op++] = rest;
    }
    dst.set(src.subarray(anchor, litEnd), op);
    op += litLen;
    if (matchLen > 0) {
      dst[op++] = offset & 0xff;
      dst[op++] = offset >>> 8;
      const m = matchLen - 4;
      token |= m >= 15 ? 15 : m;
      if (m >= 15) {
        let rest = m - 15;
        while (rest >= 255) {
          dst[op++] = 255;
          rest -= 255;
        }
        dst[op++] = rest;
      }
    }
    dst[tokenAt] = token;
    return true;
  };
  while (ip < matchStartLimit) {
    const seq = u32le(src, ip);
    const h = hash4(seq);
    const ref = table[h];
    table[h] = ip;
    if (ref >= start && ip - ref <= 65535 && u32le(src, ref) === seq) {
      let len = 4;
      while (ip + len < matchEndLimit && src[ref + len] === src[ip + len]) len++;
      if (!emit(ip, ip - ref, len)) return -1;
      ip += len;
      anchor = ip;
    } else {
      ip++;
    }
  }
  if (!emit(end, 0, 0)) return -1;
  return op - at;
}

/**
 * Compresses `data` into one LZ4 frame laid out as Dragonfly writes it: FLG 0x68 (independent
 * blocks, content size, no checksums), BD 0x40 (64 KB blocks), a block stored raw when
 * compression does not shrink it, and the 0 end mark.
 */
export function lz4FrameCompress(data: Uint8Array): Uint8Array {
  const blockMax = 64 * 1024;
  const blocks = Math.max(1, Math.ceil(data.length / blockMax));
  const out = new Uint8Array(15 + blocks * (4 + blockMax) + 4);
  out.set([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40], 0);
  const view = new DataView(out.buffer);
  view.setBigUint64(6, BigInt(data.length), true);
  out[14] = (xxh32(out, 4, 14) >>> 8) & 0xff;
  let p = 15;
  const table = new Int32Array(65536);
  for (let start = 0; start < data.length; start += blockMax) {
    const end = Math.min(data.length, start + blockMax);
    const raw = end - start;
    const size = encodeLz4Block(data, start, end, out.subarray(0, p + 4 + raw - 1), p + 4, table);
    if (size < 0) {
      view.setUint32(p, (raw | 0x80000000) >>> 0, true);
      out.set(data.subarray(start, end), p + 4);
      p += 4 + raw;
    } else {
      view.setUint32(p, size, true);
      p += 4 + size;
    }
  }
  view.setUint32(p, 0, true);
  return out.slice(0, p + 4);
}

/**
 * Walks the structure of the single ZSTD frame `frame` (header, block headers, checksum) without
 * decoding it. Returns the declared content size (-1 when absent). The frame must end exactly at
 * the end of the input: the native decoder tolerates truncation and trailing bytes, this does not.
 */
function zstdFrameShape(frame: Uint8Array): number {
  const end = frame.length;
  if (end < 4 || u32le(frame, 0) !== ZSTD_MAGIC) throw new CompressionError("not a ZSTD frame (bad magic)", 0);
  if (end < 5) throw new CompressionError("ZSTD frame header is truncated", 4);
  const fhd = frame[4];
  if (fhd & 0x08) throw new CompressionError("reserved bit set in the ZSTD frame header", 4);
  const singleSegment = (fhd & 0x20) !== 0;
  const fcsCode = fhd >>> 6;
  const fcsSize = fcsCode === 0 ? (singleSegment ? 1 : 0) : 1 << fcsCode;
  const dictSize = [0, 1, 2, 4][fhd & 3];
  let p = 5 + (singleSegment ? 0 : 1) + dictSize;
  if (p + fcsSize > end) throw new CompressionError("ZSTD frame header is truncated", 4);
  let contentSize = -1;
  if (fcsSize > 0) {
    contentSize = 0;
    for (let i = fcsSize - 1; i >= 0; i--) contentSize = contentSize * 256 + frame[p + i];
    if (fcsSize === 2) contentSize += 256;
  }
  p += fcsSize;
  for (;;) {
    if (p + 3 > end) throw new CompressionError("ZSTD frame is truncated (block header)", p);
    const header = frame[p] | (frame[p + 1] << 8) | (frame[p + 2] << 16);
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new CompressionError("reserved ZSTD block type", p);
    if (size > 128 * 1024) throw new CompressionError(`ZSTD block of ${size} bytes exceeds 128 KB`, p);
    p += 3 + (type === 1 ? 1 : size);
    if (p > end) throw new CompressionError("ZSTD frame is truncated (block)", end);
    if (header & 1) break;
  }
  if (fhd & 0x04) p += 4;
  if (p > end) throw new CompressionError("ZSTD frame is truncated (checksum)", end);
  if (p !== end) throw new CompressionError(`${end - p} bytes after the end of the ZSTD frame`, p);
  return contentSize;
}

/** Decompresses one ZSTD frame (the payload of Dragonfly's opcode 201). */
export function zstdDecompress(frame: Uint8Array, maxOutput = MAX_BLOB_CONTENT): Uint8Array {
  const declared = zstdFrameShape(frame);
  if (declared > maxOutput) throw new CompressionError(`ZSTD frame declares ${declared} bytes, over ${maxOutput}`, 5);
  let out: Uint8Array;
  try {
    const b = zstdDecompressSync(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), {
      maxOutputLength: maxOutput,
    });
    out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new CompressionError(`bad ZSTD data: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
  if (declared >= 0 && out.length !== declared) {
    throw new CompressionError(`ZSTD frame declares ${declared} bytes but holds ${out.length}`, 5);
  }
  return out;
}
