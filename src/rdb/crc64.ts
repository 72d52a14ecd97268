/**
 * CRC-64/Jones as Redis uses it for RDB files and DUMP payloads (spec §D.14): reflected polynomial
 * 0x95ac9329ac4bc9b5, initial value 0, no final XOR; check value crc64("123456789") =
 * 0xe9c6d914c4b8d9ca.
 *
 * Invariant: the running value is kept as two uint32 halves and updated slice-by-8, so hashing a
 * multi-GB file never allocates and runs at memory speed; `value()` is the only BigInt step.
 */

const POLY_REFLECTED = 0x95ac9329ac4bc9b5n;

/** Slice-by-8 tables: low and high 32-bit halves of table k at [k * 256 + byte]. */
const TABLE_LO = new Uint32Array(8 * 256);
const TABLE_HI = new Uint32Array(8 * 256);

function buildTables(): void {
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ POLY_REFLECTED : crc >> 1n;
    TABLE_LO[i] = Number(crc & 0xffffffffn);
    TABLE_HI[i] = Number(crc >> 32n);
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const prevLo = TABLE_LO[(k - 1) * 256 + i];
      const prevHi = TABLE_HI[(k - 1) * 256 + i];
      const idx = prevLo & 0xff;
      TABLE_LO[k * 256 + i] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[idx]) >>> 0;
      TABLE_HI[k * 256 + i] = ((prevHi >>> 8) ^ TABLE_HI[idx]) >>> 0;
    }
  }
}
buildTables();

/** An incremental CRC-64 computation. */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  /** Feeds `bytes[start, end)`. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): void {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const tl = TABLE_LO;
    const th = TABLE_HI;
    for (; i + 8 <= end; i += 8) {
      const xl = lo ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      const xh = hi ^ (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24));
      lo = tl[1792 + (xl & 0xff)] ^ tl[1536 + ((xl >>> 8) & 0xff)] ^ tl[1280 + ((xl >>> 16) & 0xff)] ^
        tl[1024 + (xl >>> 24)] ^ tl[768 + (xh & 0xff)] ^ tl[512 + ((xh >>> 8) & 0xff)] ^
        tl[256 + ((xh >>> 16) & 0xff)] ^ tl[xh >>> 24];
      hi = th[1792 + (xl & 0xff)] ^ th[1536 + ((xl >>> 8) & 0xff)] ^ th[1280 + ((xl >>> 16) & 0xff)] ^
        th[1024 + (xl >>> 24)] ^ th[768 + (xh & 0xff)] ^ th[512 + ((xh >>> 8) & 0xff)] ^
        th[256 + ((xh >>> 16) & 0xff)] ^ th[xh >>> 24];
    }
    for (; i < end; i++) {
      const idx = (lo ^ bytes[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tl[idx];
      hi = (hi >>> 8) ^ th[idx];
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** The CRC of everything fed so far. */
  value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Writes the CRC as 8 little-endian bytes at `out[offset]` (the on-disk form). */
  writeLE(out: Uint8Array, offset: number): void {
    const lo = this.lo;
    const hi = this.hi;
    out[offset] = lo & 0xff;
    out[offset + 1] = (lo >>> 8) & 0xff;
    out[offset + 2] = (lo >>> 16) & 0xff;
    out[offset + 3] = lo >>> 24;
    out[offset + 4] = hi & 0xff;
    out[offset + 5] = (hi >>> 8) & 0xff;
    out[offset + 6] = (hi >>> 16) & 0xff;
    out[offset + 7] = hi >>> 24;
  }
}

/** CRC-64 of `bytes[start, end)`. */
export function crc64(bytes: Uint8Array, start = 0, end = bytes.length): bigint {
  const c = new Crc64();
  c.update(bytes, start, end);
  return c.value();
}

/** Reads an 8-byte little-endian unsigned integer (a stored CRC). */
export function readU64LE(bytes: Uint8Array, offset: number): bigint {
  const lo = (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
  const hi = (bytes[offset + 4] | (bytes[offset + 5] << 8) | (bytes[offset + 6] << 16) | (bytes[offset + 7] << 24)) >>>
    0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
