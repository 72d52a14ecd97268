/**
 * RESP2/RESP3 reply writer into one growable byte buffer.
 *
 * Owns: the encoded replies of one connection until they are flushed in a single socket
 * write. Invariants: strings are latin1 (one byte per char); RESP3-only shapes degrade to
 * their RESP2 forms when `proto` is 2, exactly as Redis does.
 */
import { Buffer } from "node:buffer";
import { latin1Write } from "../util/latin1.ts";

/** A reply sink; handlers write replies through it and never touch sockets. */
export interface ReplyWriter {
  /** Protocol version of the peer: 2 or 3. */
  proto: 2 | 3;
  /** Error replies written so far (the dispatcher diffs it to count failures). */
  errorCount: number;
  /** Text of the last error reply. */
  lastError: string | null;
  /** `+text`. */
  simple(text: string): void;
  /** `-text`; a message without an upper-case code gets the `ERR ` prefix. */
  error(text: string): void;
  /** `:n`. */
  int(n: number | bigint): void;
  /** `$len bytes` for a latin1 string, or the null bulk for null. */
  bulk(s: string | null): void;
  /** `$len bytes` straight from bytes. */
  bulkBytes(b: Uint8Array): void;
  /** Null bulk in RESP2, `_` in RESP3. */
  nil(): void;
  /** Null array in RESP2 (`*-1`), `_` in RESP3. */
  nilArray(): void;
  /** `*n` array header; the caller writes n elements. */
  array(n: number): void;
  /** `%n` map header (RESP2: `*2n`); the caller writes 2n elements. */
  map(n: number): void;
  /** `~n` set header (RESP2: `*n`). */
  set(n: number): void;
  /** `>n` push header (RESP2: `*n`). */
  push(n: number): void;
  /** `,d` double (RESP2: bulk string with Redis's formatting). */
  double(d: number): void;
  /** `#t`/`#f` (RESP2: `:1`/`:0`). */
  bool(b: boolean): void;
  /** `=len txt:...` verbatim string (RESP2: bulk). */
  verbatim(text: string, format?: string): void;
  /** `(n` big number (RESP2: bulk). */
  bigNumber(digits: string): void;
  /** Writes an array of bulk strings. */
  bulkArray(items: readonly (string | null)[]): void;
  /** Pre-encoded RESP bytes (used for shared constant replies). */
  raw(bytes: Uint8Array): void;
}

/** Formats a double as Redis does in replies (%.17g, with inf/-inf/nan spelled out). */
export function formatDouble(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  // Below 2^53 an integer prints exactly; above, JS prints the shortest round-trip digits where %.17g prints 17.
  if (Number.isInteger(d) && Math.abs(d) <= Number.MAX_SAFE_INTEGER) return d === 0 && 1 / d < 0 ? "-0" : String(d);
  return formatG17(d);
}

/** C's `%.17g` formatting of a finite double (glibc rounding: exact value, ties to even). */
export function formatG17(d: number): string {
  if (d === 0) return 1 / d < 0 ? "-0" : "0";
  const neg = d < 0;
  const a = neg ? -d : d;
  // toExponential rounds an exact tie away from zero; C rounds it to even.
  let e = a.toExponential(16);
  const e18 = a.toExponential(17);
  if (e18.charCodeAt(18) === 53 && (e18.charCodeAt(17) & 1) === 0 && isExactly(a, e18)) {
    e = e18.slice(0, 18) + e18.slice(19);
  }
  const cut = e.indexOf("e");
  const digits = e[0] + e.slice(2, cut);
  const exp = parseInt(e.slice(cut + 1), 10);
  let out: string;
  if (exp < -4 || exp >= 17) {
    const frac = digits.slice(1).replace(/0+$/, "");
    const abs = Math.abs(exp);
    out = digits[0] + (frac ? "." + frac : "") + "e" + (exp < 0 ? "-" : "+") + (abs < 10 ? "0" + abs : abs);
  } else if (exp >= 0) {
    const frac = digits.slice(exp + 1).replace(/0+$/, "");
    out = digits.slice(0, exp + 1) + (frac ? "." + frac : "");
  } else {
    out = "0." + "0".repeat(-exp - 1) + digits.replace(/0+$/, "");
  }
  return neg ? "-" + out : out;
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** True when the positive double `a` equals the decimal in exponential notation `text` exactly. */
function isExactly(a: number, text: string): boolean {
  F64[0] = a;
  const hi = U32[1];
  const lo = U32[0];
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2 = bexp - 1075;
  if (bexp === 0) e2 = -1074;
  else m |= 1n << 52n;
  const cut = text.indexOf("e");
  const n = BigInt(text[0] + text.slice(2, cut));
  const e10 = parseInt(text.slice(cut + 1), 10) - (cut - 2);
  const lhs = m * (e2 > 0 ? 1n << BigInt(e2) : 1n) * (e10 < 0 ? 10n ** BigInt(-e10) : 1n);
  const rhs = n * (e10 > 0 ? 10n ** BigInt(e10) : 1n) * (e2 < 0 ? 1n << BigInt(-e2) : 1n);
  return lhs === rhs;
}

const CRLF = "\r\n";

/** Replies encoded into a growable buffer, flushed by the connection in one write. */
export class RespWriter implements ReplyWriter {
  /** Protocol version of the peer. */
  proto: 2 | 3 = 2;
  /** Error replies written so far. */
  errorCount = 0;
  /** Text of the last error reply. */
  lastError: string | null = null;
  private buf: Buffer;
  private spare: Buffer;
  /** Number of bytes written since the last `take()`. */
  length = 0;

  /** A writer with two buffers of `initial` bytes (output and the one swapped in by `take()`). */
  constructor(initial = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
    this.spare = Buffer.allocUnsafe(initial);
  }

  /** Grows the buffer (doubling) so that `n` more bytes fit. */
  private ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.length);
    this.buf = nb;
  }

  /** Appends a latin1 string; short strings are copied by hand (the native call costs ~350 ns). */
  private ascii(s: string): void {
    const len = s.length;
    this.ensure(len);
    if (len < 128) {
      const buf = this.buf;
      let p = this.length;
      for (let i = 0; i < len; i++) buf[p++] = s.charCodeAt(i);
      this.length = p;
    } else {
      this.length += latin1Write(this.buf, s, this.length);
    }
  }

  /** Appends the decimal digits of a non-negative safe integer followed by CRLF. */
  private digitsCRLF(n: number): void {
    const buf = this.buf;
    let p = this.length;
    if (n < 10) {
      buf[p++] = 48 + n;
    } else {
      const start = p;
      while (n > 0) {
        buf[p++] = 48 + (n % 10);
        n = Math.floor(n / 10);
      }
      for (let i = start, j = p - 1; i < j; i++, j--) {
        const t = buf[i];
        buf[i] = buf[j];
        buf[j] = t;
      }
    }
    buf[p++] = 13;
    buf[p++] = 10;
    this.length = p;
  }

  /**
   * Returns the pending bytes and switches to the spare buffer, so replies written while the
   * returned bytes are still being sent do not overwrite them. The view stays valid until the
   * next `take()`.
   */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    const b = this.buf;
    this.buf = this.spare.length > 1024 * 1024 ? Buffer.allocUnsafe(16 * 1024) : this.spare;
    this.spare = b;
    this.length = 0;
    return out;
  }

  simple(text: string): void {
    this.ascii("+" + text + CRLF);
  }

  error(text: string): void {
    this.errorCount++;
    this.lastError = text;
    const clean = text.replace(/[\r\n]/g, " ");
    this.ascii((/^[A-Z]+ /.test(clean) || clean.startsWith("-") ? "-" : "-ERR ") + clean.replace(/^-/, "") + CRLF);
  }

  int(n: number | bigint): void {
    if (typeof n === "number" && n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
      this.ensure(24);
      this.buf[this.length++] = 58; // :
      this.digitsCRLF(n);
    } else {
      this.ascii(":" + n + CRLF);
    }
  }

  bulk(s: string | null): void {
    if (s === null) return this.nil();
    const len = s.length;
    this.ensure(len + 32);
    this.buf[this.length++] = 36; // $
    this.digitsCRLF(len);
    const buf = this.buf;
    let p = this.length;
    if (len < 128) {
      for (let i = 0; i < len; i++) buf[p + i] = s.charCodeAt(i);
      p += len;
    } else {
      p += latin1Write(buf, s, p);
    }
    buf[p++] = 13;
    buf[p++] = 10;
    this.length = p;
  }

  bulkBytes(b: Uint8Array): void {
    this.ensure(b.length + 32);
    this.buf[this.length++] = 36; // $
    this.digitsCRLF(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    this.buf[this.length++] = 13;
    this.buf[this.length++] = 10;
  }

  nil(): void {
    this.ascii(this.proto === 3 ? "_\r\n" : "$-1\r\n");
  }

  nilArray(): void {
    this.ascii(this.proto === 3 ? "_\r\n" : "*-1\r\n");
  }

  array(n: number): void {
    this.ensure(24);
    this.buf[this.length++] = 42; // *
    this.digitsCRLF(n);
  }

  map(n: number): void {
    this.ascii(this.proto === 3 ? "%" + n + CRLF : "*" + 2 * n + CRLF);
  }

  set(n: number): void {
    this.ascii((this.proto === 3 ? "~" : "*") + n + CRLF);
  }

  push(n: number): void {
    this.ascii((this.proto === 3 ? ">" : "*") + n + CRLF);
  }

  double(d: number): void {
    if (this.proto === 3) this.ascii("," + formatDouble(d) + CRLF);
    else this.bulk(formatDouble(d));
  }

  bool(b: boolean): void {
    if (this.proto === 3) this.ascii(b ? "#t\r\n" : "#f\r\n");
    else this.ascii(b ? ":1\r\n" : ":0\r\n");
  }

  verbatim(text: string, format = "txt"): void {
    if (this.proto === 3) {
      this.ascii("=" + (text.length + 4) + CRLF + format + ":");
      this.ensure(text.length + 2);
      this.length += latin1Write(this.buf, text, this.length);
      this.ascii(CRLF);
    } else {
      this.bulk(text);
    }
  }

  bigNumber(digits: string): void {
    if (this.proto === 3) this.ascii("(" + digits + CRLF);
    else this.bulk(digits);
  }

  bulkArray(items: readonly (string | null)[]): void {
    this.array(items.length);
    for (const it of items) this.bulk(it);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
}

/** A writer that records nothing; used when replies are discarded (replication apply). */
export class NullWriter implements ReplyWriter {
  /** Protocol version (irrelevant for a discarding writer). */
  proto: 2 | 3 = 2;
  /** Error replies written so far. */
  errorCount = 0;
  /** Last error written, so appliers can log failures. */
  lastError: string | null = null;
  simple(): void {}
  error(text: string): void {
    this.errorCount++;
    this.lastError = text;
  }
  int(): void {}
  bulk(): void {}
  bulkBytes(): void {}
  nil(): void {}
  nilArray(): void {}
  array(): void {}
  map(): void {}
  set(): void {}
  push(): void {}
  double(): void {}
  bool(): void {}
  verbatim(): void {}
  bigNumber(): void {}
  bulkArray(): void {}
  raw(): void {}
}
