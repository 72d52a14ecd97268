/**
 * HyperLogLog in Redis's exact string format (hyperloglog.c), so that PFADD/PFCOUNT/PFMERGE
 * give Redis's numbers and the stored string round-trips through DUMP/RESTORE and RDB.
 *
 * Layout: a 16-byte header ("HYLL", encoding byte, 3 unused bytes, 8-byte little-endian
 * cached cardinality whose top bit marks the cache invalid) followed by the registers, either
 * dense (16384 six-bit registers packed little-endian, 12288 bytes) or sparse (ZERO, XZERO and
 * VAL opcodes). Elements are hashed with MurmurHash64A, seed 0xadc83b19.
 *
 * Invariants: a sparse HLL never grows past `sparseMaxBytes` (it is promoted to dense
 * instead), and sparse VAL opcodes hold values 1..32; every function here works on bytes and
 * never throws on corrupt input (it reports corruption through its return value).
 */
import { Buffer } from "node:buffer";
import { latin1Slice, latin1Write } from "../util/latin1.ts";

/** Register index bits. */
const HLL_P = 14;
/** Hash bits used for the run length. */
const HLL_Q = 64 - HLL_P;
/** Number of registers. */
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
const HLL_BITS = 6;
const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
/** Header size in bytes. */
export const HLL_HDR_SIZE = 16;
/** Total size of a dense HLL string. */
export const HLL_DENSE_SIZE: number = HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) >> 3);
/** Encoding byte of a dense HLL. */
export const HLL_DENSE = 0;
/** Encoding byte of a sparse HLL. */
export const HLL_SPARSE = 1;
/** Redis's default `hll-sparse-max-bytes`. */
export const HLL_SPARSE_MAX_BYTES_DEFAULT = 3000;
const HLL_ALPHA_INF = 0.721347520444481703680;
const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;

// ---------------------------------------------------------------------------------------------
// MurmurHash64A on (hi, lo) 32-bit halves; results land in these scratch variables.

let rHi = 0;
let rLo = 0;

/** Low 64 bits of a·b, into rHi/rLo (Long.js-style 16-bit limbs). */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16, a32 = ah & 0xffff, a16 = al >>> 16, a00 = al & 0xffff;
  const b48 = bh >>> 16, b32 = bh & 0xffff, b16 = bl >>> 16, b00 = bl & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  rHi = ((c48 << 16) | c32) >>> 0;
  rLo = ((c16 << 16) | c00) >>> 0;
}

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;

/**
 * MurmurHash64A of the latin1 string `s` (one byte per char) with a 32-bit seed, as Redis's
 * hyperloglog.c computes it on a little-endian machine. Returns [hi, lo] 32-bit halves.
 */
export function murmurHash64A(s: string, seed: number): [number, number] {
  hash64(s, seed);
  return [rHi, rLo];
}

function hash64(s: string, seed: number): void {
  const len = s.length;
  mul64(0, len >>> 0, M_HI, M_LO);
  let hHi = rHi;
  let hLo = (rLo ^ seed) >>> 0;
  const end = len - (len & 7);
  let i = 0;
  for (; i < end; i += 8) {
    const kLo =
      (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    const kHi =
      (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>>
      0;
    mul64(kHi, kLo, M_HI, M_LO);
    // k ^= k >> 47
    mul64(rHi, (rLo ^ (rHi >>> 15)) >>> 0, M_HI, M_LO);
    hHi = (hHi ^ rHi) >>> 0;
    hLo = (hLo ^ rLo) >>> 0;
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = rHi;
    hLo = rLo;
  }
  const rest = len & 7;
  if (rest > 0) {
    if (rest >= 7) hHi ^= s.charCodeAt(i + 6) << 16;
    if (rest >= 6) hHi ^= s.charCodeAt(i + 5) << 8;
    if (rest >= 5) hHi ^= s.charCodeAt(i + 4);
    if (rest >= 4) hLo ^= s.charCodeAt(i + 3) << 24;
    if (rest >= 3) hLo ^= s.charCodeAt(i + 2) << 16;
    if (rest >= 2) hLo ^= s.charCodeAt(i + 1) << 8;
    hLo ^= s.charCodeAt(i);
    mul64(hHi >>> 0, hLo >>> 0, M_HI, M_LO);
    hHi = rHi;
    hLo = rLo;
  }
  // h ^= h >> 47; h *= m; h ^= h >> 47
  mul64(hHi, (hLo ^ (hHi >>> 15)) >>> 0, M_HI, M_LO);
  rLo = (rLo ^ (rHi >>> 15)) >>> 0;
}

/** Register index of the last `patLen` call. */
let patIndex = 0;

/** Hashes `ele` and returns the run length "000..1" + 1; the register index goes to patIndex. */
function patLen(ele: string): number {
  hash64(ele, 0xadc83b19);
  patIndex = rLo & HLL_P_MASK;
  // hash >>= P; hash |= 1 << Q; count trailing zeros + 1.
  const lo = ((rLo >>> HLL_P) | (rHi << (32 - HLL_P))) >>> 0;
  const hi = (rHi >>> HLL_P) | (1 << (HLL_Q - 32));
  if (lo !== 0) return 32 - Math.clz32(lo & -lo);
  return 33 + 31 - Math.clz32(hi & -hi);
}

/** The register index and run length Redis derives from an element (PFDEBUG, tests). */
export function hllPatLen(ele: string): { index: number; count: number } {
  const count = patLen(ele);
  return { index: patIndex, count };
}

// ---------------------------------------------------------------------------------------------
// Dense registers (offset `base` into the byte array).

function denseGet(p: Uint8Array, base: number, reg: number): number {
  const byte = base + ((reg * HLL_BITS) >> 3);
  const fb = (reg * HLL_BITS) & 7;
  const b0 = p[byte];
  const b1 = byte + 1 < p.length ? p[byte + 1] : 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX;
}

function denseSet(p: Uint8Array, base: number, reg: number, val: number): void {
  const byte = base + ((reg * HLL_BITS) >> 3);
  const fb = (reg * HLL_BITS) & 7;
  const fb8 = 8 - fb;
  p[byte] = (p[byte] & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  if (byte + 1 < p.length) p[byte + 1] = (p[byte + 1] & ~(HLL_REGISTER_MAX >> fb8)) | (val >> fb8);
}

// ---------------------------------------------------------------------------------------------
// Validation and the cardinality cache, straight on stored strings.

/** True when `s` passes Redis's isHLLObjectOrReply checks (magic, encoding, dense size). */
export function isHllString(s: string): boolean {
  if (s.length < HLL_HDR_SIZE) return false;
  if (s.charCodeAt(0) !== 72 || s.charCodeAt(1) !== 89 || s.charCodeAt(2) !== 76 || s.charCodeAt(3) !== 76) {
    return false;
  }
  const enc = s.charCodeAt(4);
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || s.length === HLL_DENSE_SIZE;
}

/** The cached cardinality of a valid HLL string, or null when the cache is invalid. */
export function cachedCardinality(s: string): number | null {
  if (s.charCodeAt(15) & 0x80) return null;
  let v = 0;
  for (let i = 7; i >= 0; i--) v = v * 256 + s.charCodeAt(8 + i);
  return v;
}

/** Returns `s` with its cached cardinality set to `card` (and marked valid). */
export function withCachedCardinality(s: string, card: number): string {
  let bytes = "";
  let v = card;
  for (let i = 0; i < 8; i++) {
    bytes += String.fromCharCode(v % 256);
    v = Math.floor(v / 256);
  }
  return s.slice(0, 8) + bytes + s.slice(HLL_HDR_SIZE);
}

/**
 * True when adding `elements[from..]` to the dense HLL string `s` would raise a register
 * (read straight from the string, so the common no-change PFADD copies nothing).
 */
export function denseAddWouldChange(s: string, elements: readonly string[], from: number): boolean {
  for (let j = from; j < elements.length; j++) {
    const count = patLen(elements[j]);
    const reg = patIndex;
    const byte = HLL_HDR_SIZE + ((reg * HLL_BITS) >> 3);
    const fb = (reg * HLL_BITS) & 7;
    const b1 = byte + 1 < s.length ? s.charCodeAt(byte + 1) : 0;
    if (count > (((s.charCodeAt(byte) >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Estimation (Ertl's improved estimator, as in Redis 5+).

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

/** Cardinality estimate from a register histogram (reghisto[v] = registers holding v). */
export function estimateFromHistogram(reghisto: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - reghisto[HLL_Q + 1]) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += reghisto[j];
    z *= 0.5;
  }
  z += m * sigma(reghisto[0] / m);
  return Math.round((HLL_ALPHA_INF * m * m) / z);
}

/**
 * Register histogram of a valid HLL string. Returns null when a sparse representation does
 * not cover exactly HLL_REGISTERS registers (corrupt).
 */
export function histogramOfString(s: string): Int32Array | null {
  const reghisto = new Int32Array(64);
  if (s.charCodeAt(4) === HLL_DENSE) {
    for (let reg = 0; reg < HLL_REGISTERS; reg++) {
      const byte = HLL_HDR_SIZE + ((reg * HLL_BITS) >> 3);
      const fb = (reg * HLL_BITS) & 7;
      const b1 = byte + 1 < s.length ? s.charCodeAt(byte + 1) : 0;
      reghisto[((s.charCodeAt(byte) >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX]++;
    }
    return reghisto;
  }
  let idx = 0;
  for (let p = HLL_HDR_SIZE; p < s.length;) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      const runlen = (op & 0x3f) + 1;
      idx += runlen;
      reghisto[0] += runlen;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const runlen = (((op & 0x3f) << 8) | (p + 1 < s.length ? s.charCodeAt(p + 1) : 0)) + 1;
      idx += runlen;
      reghisto[0] += runlen;
      p += 2;
    } else {
      const runlen = (op & 3) + 1;
      idx += runlen;
      reghisto[((op >> 2) & 0x1f) + 1] += runlen;
      p++;
    }
  }
  return idx === HLL_REGISTERS ? reghisto : null;
}

/** Histogram of a raw register array (one byte per register), used for multi-key PFCOUNT. */
export function histogramOfRegisters(max: Uint8Array): Int32Array {
  const reghisto = new Int32Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) reghisto[max[i]]++;
  return reghisto;
}

/**
 * Merges a valid HLL string into `max` (max[i] = MAX(max[i], reg[i])). Returns false when a
 * sparse representation is corrupt.
 */
export function mergeInto(max: Uint8Array, s: string): boolean {
  if (s.charCodeAt(4) === HLL_DENSE) {
    for (let reg = 0; reg < HLL_REGISTERS; reg++) {
      const byte = HLL_HDR_SIZE + ((reg * HLL_BITS) >> 3);
      const fb = (reg * HLL_BITS) & 7;
      const b1 = byte + 1 < s.length ? s.charCodeAt(byte + 1) : 0;
      const val = ((s.charCodeAt(byte) >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX;
      if (val > max[reg]) max[reg] = val;
    }
    return true;
  }
  let i = 0;
  for (let p = HLL_HDR_SIZE; p < s.length;) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      i += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      i += (((op & 0x3f) << 8) | (p + 1 < s.length ? s.charCodeAt(p + 1) : 0)) + 1;
      p += 2;
    } else {
      let runlen = (op & 3) + 1;
      const regval = ((op >> 2) & 0x1f) + 1;
      if (runlen + i > HLL_REGISTERS) return false; // registers past the last one: corrupt
      while (runlen--) {
        if (regval > max[i]) max[i] = regval;
        i++;
      }
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

// ---------------------------------------------------------------------------------------------
// A mutable HLL being modified by one command.

/** One HLL value being modified: a growable byte buffer that converts back to a string. */
export class HyperLogLog {
  /** Bytes of the representation; only [0, length) is meaningful. */
  bytes: Uint8Array;
  /** Used length in bytes. */
  length: number;

  private constructor(bytes: Uint8Array, length: number, readonly sparseMaxBytes: number) {
    this.bytes = bytes;
    this.length = length;
  }

  /** A new empty HLL: sparse, XZERO opcodes covering every register, cache zero. */
  static create(sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): HyperLogLog {
    const n = Math.ceil(HLL_REGISTERS / SPARSE_XZERO_MAX_LEN);
    const bytes = new Uint8Array(Math.max(HLL_HDR_SIZE + n * 2, 64));
    bytes.set([72, 89, 76, 76, HLL_SPARSE]);
    let p = HLL_HDR_SIZE;
    for (let left = HLL_REGISTERS; left > 0;) {
      const run = Math.min(SPARSE_XZERO_MAX_LEN, left) - 1;
      bytes[p++] = (run >> 8) | 0x40;
      bytes[p++] = run & 0xff;
      left -= run + 1;
    }
    return new HyperLogLog(bytes, HLL_HDR_SIZE + n * 2, sparseMaxBytes);
  }

  /** Copies a stored (already validated) HLL string into a mutable HLL. */
  static fromString(s: string, sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): HyperLogLog {
    const bytes = new Uint8Array(s.length + (s.charCodeAt(4) === HLL_SPARSE ? 64 : 0));
    latin1Write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), s, 0);
    return new HyperLogLog(bytes, s.length, sparseMaxBytes);
  }

  /** The stored string form. */
  toString(): string {
    return latin1Slice(Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength), 0, this.length);
  }

  /** HLL_DENSE or HLL_SPARSE. */
  get encoding(): number {
    return this.bytes[4];
  }

  /** Sets the top bit of the cached cardinality (the cache is stale). */
  invalidateCache(): void {
    this.bytes[15] |= 0x80;
  }

  /** Adds one element. Returns 1 if a register changed, 0 if not, -1 if the HLL is corrupt. */
  add(ele: string): number {
    const count = patLen(ele);
    const index = patIndex;
    if (this.bytes[4] === HLL_DENSE) return this.denseSetIfGreater(index, count);
    return this.sparseSet(index, count);
  }

  /** Sets register `index` to `count` if greater (dense). Returns 1 on change. */
  private denseSetIfGreater(index: number, count: number): number {
    const old = denseGet(this.bytes, HLL_HDR_SIZE, index);
    if (count > old) {
      denseSet(this.bytes, HLL_HDR_SIZE, index, count);
      return 1;
    }
    return 0;
  }

  /** Sets register `index` to `count` if greater, in either encoding (PFMERGE). -1 if corrupt. */
  setIfGreater(index: number, count: number): number {
    if (this.bytes[4] === HLL_DENSE) return this.denseSetIfGreater(index, count);
    return this.sparseSet(index, count);
  }

  /** Converts a sparse HLL to dense in place. Returns false when the sparse data is corrupt. */
  toDense(): boolean {
    if (this.bytes[4] === HLL_DENSE) return true;
    const dense = new Uint8Array(HLL_DENSE_SIZE);
    dense.set(this.bytes.subarray(0, HLL_HDR_SIZE));
    dense[4] = HLL_DENSE;
    const p = this.bytes;
    const end = this.length;
    let idx = 0;
    for (let i = HLL_HDR_SIZE; i < end;) {
      const op = p[i];
      if ((op & 0xc0) === 0) {
        idx += (op & 0x3f) + 1;
        i++;
      } else if ((op & 0xc0) === 0x40) {
        idx += (((op & 0x3f) << 8) | (i + 1 < end ? p[i + 1] : 0)) + 1;
        i += 2;
      } else {
        let runlen = (op & 3) + 1;
        const regval = ((op >> 2) & 0x1f) + 1;
        if (runlen + idx > HLL_REGISTERS) break;
        while (runlen--) denseSet(dense, HLL_HDR_SIZE, idx++, regval);
        i++;
      }
    }
    if (idx !== HLL_REGISTERS) return false;
    this.bytes = dense;
    this.length = HLL_DENSE_SIZE;
    return true;
  }

  /** Register values (dense or sparse), or null when corrupt (PFDEBUG GETREG after TODENSE). */
  registers(): number[] | null {
    if (this.bytes[4] !== HLL_DENSE && !this.toDense()) return null;
    const out = new Array<number>(HLL_REGISTERS);
    for (let i = 0; i < HLL_REGISTERS; i++) out[i] = denseGet(this.bytes, HLL_HDR_SIZE, i);
    return out;
  }

  /** Redis's hllSparseSet, byte for byte. */
  private sparseSet(index: number, count: number): number {
    if (count > SPARSE_VAL_MAX_VALUE) return this.promote(index, count);
    // Make room for the worst case (XZERO split into XZERO-VAL-XZERO: 3 more bytes).
    if (this.bytes.length < this.length + 3) {
      const grown = new Uint8Array(Math.max(this.length * 2, this.length + 64));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    const sparse = HLL_HDR_SIZE;
    let end = this.length;
    const buf = this.bytes;
    let p = sparse;
    let first = 0;
    let prev = -1;
    let span = 0;
    while (p < end) {
      let oplen = 1;
      const op = buf[p];
      if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
      else if (op & 0x80) span = (op & 3) + 1;
      else {
        span = (((op & 0x3f) << 8) | buf[p + 1]) + 1;
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += oplen;
      first += span;
    }
    if (span === 0 || p >= end) return -1;
    const opAt = buf[p];
    const isZero = (opAt & 0xc0) === 0;
    const isXZero = (opAt & 0xc0) === 0x40;
    const isVal = (opAt & 0x80) !== 0;
    const next = isXZero ? p + 2 : p + 1;
    const runlen = isZero ? (opAt & 0x3f) + 1 : isXZero ? (((opAt & 0x3f) << 8) | buf[p + 1]) + 1 : (opAt & 3) + 1;
    let updatedInPlace = false;
    if (isVal) {
      const oldcount = ((opAt >> 2) & 0x1f) + 1;
      if (oldcount >= count) return 0;
      if (runlen === 1) {
        buf[p] = valOp(count, 1);
        updatedInPlace = true;
      }
    }
    if (!updatedInPlace && isZero && runlen === 1) {
      buf[p] = valOp(count, 1);
      updatedInPlace = true;
    }
    if (!updatedInPlace) {
      const seq: number[] = [];
      const last = first + span - 1;
      if (isZero || isXZero) {
        if (index !== first) pushZeros(seq, index - first);
        seq.push(valOp(count, 1));
        if (index !== last) pushZeros(seq, last - index);
      } else {
        const curval = ((opAt >> 2) & 0x1f) + 1;
        if (index !== first) seq.push(valOp(curval, index - first));
        seq.push(valOp(count, 1));
        if (index !== last) seq.push(valOp(curval, last - index));
      }
      const oldlen = isXZero ? 2 : 1;
      const deltalen = seq.length - oldlen;
      if (deltalen > 0 && this.length + deltalen > this.sparseMaxBytes) return this.promote(index, count);
      if (deltalen !== 0 && next < end) buf.copyWithin(next + deltalen, next, end);
      for (let i = 0; i < seq.length; i++) buf[p + i] = seq[i];
      this.length += deltalen;
      end += deltalen;
    }
    // Merge adjacent VAL opcodes with the same value, scanning up to 5 opcodes from prev.
    p = prev >= 0 ? prev : sparse;
    let scanlen = 5;
    while (p < end && scanlen--) {
      const op = buf[p];
      if ((op & 0xc0) === 0x40) {
        p += 2;
        continue;
      } else if ((op & 0xc0) === 0) {
        p++;
        continue;
      }
      if (p + 1 < end && buf[p + 1] & 0x80) {
        const v1 = ((op >> 2) & 0x1f) + 1;
        const v2 = ((buf[p + 1] >> 2) & 0x1f) + 1;
        if (v1 === v2) {
          const len = (op & 3) + 1 + (buf[p + 1] & 3) + 1;
          if (len <= SPARSE_VAL_MAX_LEN) {
            buf[p + 1] = valOp(v1, len);
            buf.copyWithin(p, p + 1, end);
            this.length--;
            end--;
            continue;
          }
        }
      }
      p++;
    }
    this.invalidateCache();
    return 1;
  }

  /** Promotes to dense and sets the register; Redis asserts this always reports a change. */
  private promote(index: number, count: number): number {
    if (!this.toDense()) return -1;
    return this.denseSetIfGreater(index, count);
  }
}

function valOp(value: number, len: number): number {
  return 0x80 | ((value - 1) << 2) | (len - 1);
}

function pushZeros(seq: number[], len: number): void {
  if (len > SPARSE_ZERO_MAX_LEN) {
    seq.push(((len - 1) >> 8) | 0x40, (len - 1) & 0xff);
  } else {
    seq.push(len - 1);
  }
}

/**
 * PFDEBUG DECODE text of a sparse HLL string: "z:len", "Z:len" and "v:value,len" opcodes
 * separated by spaces.
 */
export function decodeSparse(s: string): string {
  const parts: string[] = [];
  for (let p = HLL_HDR_SIZE; p < s.length;) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      parts.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if ((op & 0xc0) === 0x40) {
      parts.push(`Z:${(((op & 0x3f) << 8) | (p + 1 < s.length ? s.charCodeAt(p + 1) : 0)) + 1}`);
      p += 2;
    } else {
      parts.push(`v:${((op >> 2) & 0x1f) + 1},${(op & 3) + 1}`);
      p++;
    }
  }
  return parts.join(" ");
}
