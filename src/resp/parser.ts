/**
 * Incremental, binary-safe RESP request parser (multibulk and inline).
 *
 * Owns: the bytes a connection has received but not yet turned into commands.
 * Invariants: arguments are latin1 strings (one char per byte, bijective), so keys and
 * values are binary safe; a partially received command is resumed where it stopped, never
 * rescanned; a protocol error is sticky (the connection must reply and close).
 */
import { Buffer } from "node:buffer";
import { latin1Slice } from "../util/latin1.ts";

/** Largest inline request or multibulk header line, as in Redis (PROTO_INLINE_MAX_SIZE). */
export const INLINE_MAX_SIZE = 64 * 1024;
/** Most arguments one multibulk command may carry. */
export const MAX_MULTIBULK_COUNT = 1024 * 1024;

/** Raised for malformed input; `message` is Redis's text without the `ERR ` prefix. */
export class ProtocolError extends Error {
  /** Builds an error carrying Redis's wording, e.g. "Protocol error: invalid bulk length". */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Limits the parser enforces; `maxBulkLen` follows `proto_max_bulk_len`. */
export interface ParserLimits {
  /** Largest accepted bulk string length in bytes. */
  maxBulkLen: number;
  /** When true, at most 10 arguments and 16 KB bulks (unauthenticated clients). */
  unauthenticated?: boolean;
}

const CR = 13;
const LF = 10;

/** Incremental RESP request parser; feed bytes, then pull commands. */
export class RespParser {
  private buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  private start = 0; // first unconsumed byte
  private end = 0; // one past last received byte
  // Resumable multibulk state.
  private args: string[] | null = null;
  private argsLeft = 0;
  /** Arguments of the current multibulk stored so far. */
  private argsDone = 0;
  private bulkLen = -1;
  /** Value of the integer line readIntLine last parsed. */
  private intValue = 0;
  /** Sticky protocol error, if any. */
  error: ProtocolError | null = null;
  /** Whether the last parsed command arrived inline (needed by replication links). */
  lastWasInline = false;
  /** Bytes consumed by parsed commands so far (replication offsets count these). */
  consumed = 0;

  /** A parser with an empty buffer; `limits` may be updated between calls. */
  constructor(public limits: ParserLimits) {}

  /** Appends received bytes. */
  feed(data: Uint8Array): void {
    const need = this.end + data.length;
    if (need > this.buf.length) this.makeRoom(data.length);
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** Bytes received and not yet consumed. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Takes up to `n` unparsed raw bytes out of the buffer (used when a link switches to raw mode). */
  takeRaw(n: number): Uint8Array {
    const take = Math.min(n, this.end - this.start);
    const out = this.buf.subarray(this.start, this.start + take);
    this.start += take;
    return out;
  }

  /** Returns the whole unconsumed input and empties the buffer. */
  drainRaw(): Uint8Array {
    const out = Uint8Array.prototype.slice.call(this.buf, this.start, this.end);
    this.start = this.end = 0;
    return out;
  }

  /** Makes space for `extra` more bytes: moves live bytes to the front, or grows the buffer by doubling. */
  private makeRoom(extra: number): void {
    const live = this.end - this.start;
    const need = live + extra;
    if (need <= this.buf.length && this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      let size = this.buf.length;
      while (size < need) size *= 2;
      const nb = Buffer.allocUnsafe(size);
      this.buf.copy(nb, 0, this.start, this.end);
      this.buf = nb;
    }
    this.start = 0;
    this.end = live;
  }

  /**
   * Parses the next complete command. Returns null when more bytes are needed; an empty
   * array is never returned (empty requests are skipped). Throws ProtocolError on bad input.
   */
  next(): string[] | null {
    if (this.error) throw this.error;
    try {
      for (;;) {
        if (this.args === null) {
          if (this.start >= this.end) {
            this.compact();
            return null;
          }
          if (this.buf[this.start] === 0x2a /* * */) {
            const r = this.beginMultibulk();
            if (r === null) return null;
            if (r === false) continue; // empty multibulk
          } else {
            const cmd = this.parseInline();
            if (cmd === null) return null;
            if (cmd.length === 0) continue;
            this.lastWasInline = true;
            return cmd;
          }
        }
        const done = this.continueMultibulk();
        if (done === null) return null;
        this.lastWasInline = false;
        return done;
      }
    } catch (e) {
      if (e instanceof ProtocolError) this.error = e;
      throw e;
    }
  }

  /** Rewinds the buffer when everything was consumed. */
  private compact(): void {
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Index of the CR ending the line at `from`: -1 if incomplete, -2 if over `limit`. */
  private findCRLF(from: number, limit: number): number {
    let idx = this.buf.indexOf(CR, from);
    if (idx >= this.end) idx = -1;
    if (idx === -1) return this.end - from > limit ? -2 : -1;
    if (idx - from > limit) return -2;
    return idx + 1 < this.end ? idx : -1;
  }

  /**
   * Parses the integer line at `from`: returns the index after its CRLF (the value, NaN if
   * malformed, goes to `intValue`), or -1 if the line is incomplete. A short well-formed line
   * is read in one pass; anything else takes the careful path.
   */
  private readIntLine(from: number, tooBig: string): number {
    const buf = this.buf;
    const end = this.end;
    let i = from;
    const neg = i < end && buf[i] === 0x2d;
    if (neg) i++;
    const digits = i;
    let v = 0;
    for (; i < end && i - digits < 15; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    // Like Redis's string2ll: no leading zeros, no "-0".
    if (i > digits && i + 1 < end && buf[i] === CR && (buf[digits] !== 48 || (i - digits === 1 && !neg))) {
      this.intValue = neg ? -v : v;
      return i + 2;
    }
    return this.readIntLineSlow(from, tooBig);
  }

  /** readIntLine for long, malformed or incomplete lines (limits and errors as Redis). */
  private readIntLineSlow(from: number, tooBig: string): number {
    const cr = this.findCRLF(from, INLINE_MAX_SIZE);
    if (cr === -2) throw new ProtocolError(tooBig);
    if (cr === -1) return -1;
    let v = 0;
    let neg = false;
    let i = from;
    let ok = cr > from;
    if (this.buf[i] === 0x2d) {
      neg = true;
      i++;
      ok = cr > i;
    }
    for (; i < cr; i++) {
      const c = this.buf[i] - 48;
      if (c < 0 || c > 9) {
        ok = false;
        break;
      }
      v = v * 10 + c;
      if (v > Number.MAX_SAFE_INTEGER) {
        ok = false;
        break;
      }
    }
    const first = neg ? from + 1 : from;
    if (ok && this.buf[first] === 48 && (cr - first > 1 || neg)) ok = false;
    this.intValue = ok ? (neg ? -v : v) : NaN;
    return cr + 2;
  }

  /** null: need more; false: empty multibulk consumed; true: args started. */
  private beginMultibulk(): boolean | null {
    const next = this.readIntLine(this.start + 1, "Protocol error: too big mbulk count string");
    if (next < 0) return null;
    const n = this.intValue;
    if (Number.isNaN(n) || n > MAX_MULTIBULK_COUNT) {
      throw new ProtocolError("Protocol error: invalid multibulk length");
    }
    if (n > 10 && this.limits.unauthenticated) {
      throw new ProtocolError("Protocol error: unauthenticated multibulk length");
    }
    this.consumed += next - this.start;
    this.start = next;
    if (n <= 0) return false;
    // Sized up front (no growth on the way, no spare capacity) unless the count is large: a
    // header alone must not make the parser allocate much, as in Redis.
    this.args = n <= PREALLOC_ARGS ? new Array<string>(n) : [];
    this.argsDone = 0;
    this.argsLeft = n;
    this.bulkLen = -1;
    return true;
  }

  /** Reads the bulk strings of the current multibulk; returns the arguments when all arrived, else null. */
  private continueMultibulk(): string[] | null {
    const args = this.args!;
    while (this.argsLeft > 0) {
      if (this.bulkLen < 0) {
        if (this.start >= this.end) return this.needMore();
        if (this.buf[this.start] !== 0x24 /* $ */) {
          const got = String.fromCharCode(this.buf[this.start]);
          throw new ProtocolError(`Protocol error: expected '$', got '${got}'`);
        }
        const next = this.readIntLine(this.start + 1, "Protocol error: too big bulk count string");
        if (next < 0) return this.needMore();
        const len = this.intValue;
        if (Number.isNaN(len) || len < 0 || len > this.limits.maxBulkLen) {
          throw new ProtocolError("Protocol error: invalid bulk length");
        }
        if (len > 16384 && this.limits.unauthenticated) {
          throw new ProtocolError("Protocol error: unauthenticated bulk length");
        }
        this.consumed += next - this.start;
        this.start = next;
        this.bulkLen = len;
        if (this.start + len + 2 > this.buf.length) this.makeRoom(len + 2);
      }
      const len = this.bulkLen;
      if (this.end - this.start < len + 2) return this.needMore();
      const done = this.argsDone;
      args[done] = done === 0 && len <= NAME_CACHE_MAX_LEN
        ? commandName(this.buf, this.start, len)
        : len <= SHORT_LATIN1_MAX_LEN
        ? shortLatin1(this.buf, this.start, len)
        : latin1Slice(this.buf, this.start, this.start + len);
      this.argsDone = done + 1;
      this.start += len + 2;
      this.consumed += len + 2;
      this.bulkLen = -1;
      this.argsLeft--;
    }
    this.args = null;
    this.compact();
    return args;
  }

  /** Returns null (more input needed), reclaiming the consumed front when it is over half the buffer. */
  private needMore(): null {
    if (this.start > 0 && this.start > this.buf.length / 2) this.makeRoom(0);
    return null;
  }

  /** Parses an inline command line (split on spaces, quotes honoured), or null when incomplete. */
  private parseInline(): string[] | null {
    const nl = this.buf.indexOf(LF, this.start);
    if (nl === -1 || nl >= this.end) {
      if (this.end - this.start > INLINE_MAX_SIZE) {
        throw new ProtocolError("Protocol error: too big inline request");
      }
      return this.needMore();
    }
    if (nl - this.start > INLINE_MAX_SIZE) {
      throw new ProtocolError("Protocol error: too big inline request");
    }
    let lineEnd = nl;
    if (lineEnd > this.start && this.buf[lineEnd - 1] === CR) lineEnd--;
    const line = latin1Slice(this.buf, this.start, lineEnd);
    this.consumed += nl + 1 - this.start;
    this.start = nl + 1;
    this.compact();
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError("Protocol error: unbalanced quotes in request");
    return args;
  }
}

/** Largest multibulk count whose argument array is allocated at its final size at once. */
const PREALLOC_ARGS = 1024;
/** Longest argument decoded by `shortLatin1` (longer ones take the native latin1 slice). */
const SHORT_LATIN1_MAX_LEN = 24;
/** Longest first argument (command name) kept in the name cache. */
const NAME_CACHE_MAX_LEN = 24;
const NAME_CACHE_SLOTS = 512;
/** Command names seen recently, by a hash of their bytes (exact bytes: case is preserved). */
const nameCache: (string | undefined)[] = new Array(NAME_CACHE_SLOTS).fill(undefined);

/**
 * The first argument of a command as a string, reusing the string made for the same bytes
 * before: a pipeline of one command then makes its name once, and the command table's Map
 * lookup meets an already-internalized string instead of internalizing a new one each time.
 */
function commandName(b: Buffer, i: number, len: number): string {
  let h = len;
  for (let j = 0; j < len; j++) h = Math.imul(h ^ b[i + j], 0x01000193);
  const slot = (h ^ (h >>> 15)) & (NAME_CACHE_SLOTS - 1);
  const cached = nameCache[slot];
  if (cached !== undefined && cached.length === len) {
    let j = 0;
    while (j < len && cached.charCodeAt(j) === b[i + j]) j++;
    if (j === len) return cached;
  }
  const s = len <= SHORT_LATIN1_MAX_LEN ? shortLatin1(b, i, len) : latin1Slice(b, i, i + len);
  nameCache[slot] = s;
  return s;
}

/**
 * Decoders of short latin1 slices, one per length up to SHORT_LATIN1_MAX_LEN: each makes one
 * String.fromCharCode call with that many byte arguments, which is about twice as fast as the
 * native slice call for keys of 16-24 bytes (and as fast as a hand-written switch over the
 * lengths; `apply` over a scratch array is a third slower). One call yields a flat string:
 * pieced-together (cons) strings would cost memory per stored key and a flattening copy on
 * every hash lookup. Generated once at load, from byte-index expressions only.
 */
const SHORT_LATIN1_DECODERS: ((b: Uint8Array, i: number) => string)[] = Array.from(
  { length: SHORT_LATIN1_MAX_LEN + 1 },
  (_, len) => {
    const bytes = Array.from({ length: len }, (_, k) => `b[i + ${k}]`).join(", ");
    return new Function("b", "i", `return String.fromCharCode(${bytes});`) as (b: Uint8Array, i: number) => string;
  },
);

/** Decodes `len` (at most SHORT_LATIN1_MAX_LEN) latin1 bytes of `b` from `i` (see SHORT_LATIN1_DECODERS). */
function shortLatin1(b: Uint8Array, i: number, len: number): string {
  return SHORT_LATIN1_DECODERS[len](b, i);
}

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

/**
 * Splits an inline command line like Redis's sdssplitargs: whitespace separated, with
 * double quotes (C escapes and \xHH) and single quotes (only \'). Returns null on
 * unbalanced quotes or a closing quote not followed by a space.
 */
export function splitInlineArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) => c === " " || c === "\n" || c === "\r" || c === "\t" || c === "\v" || c === "\f";
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let cur = "";
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const c = line[i];
        if (
          c === "\\" && line[i + 1] === "x" && i + 3 < n + 0 && isHex(line[i + 2] ?? "") && isHex(line[i + 3] ?? "")
        ) {
          cur += String.fromCharCode(parseInt(line.substr(i + 2, 2), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : e === "b" ? "\b" : e === "a" ? "\x07" : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          inDq = false;
          i++;
          break;
        } else {
          cur += c;
        }
        i++;
      } else if (inSq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          inSq = false;
          i++;
          break;
        } else {
          cur += c;
        }
        i++;
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else cur += c;
        i++;
      }
    }
    out.push(cur);
  }
}
