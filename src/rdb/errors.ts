/**
 * The error raised for any unreadable RDB input: truncated data, corrupt containers, unsupported
 * types, bad checksums.
 *
 * Invariant: the message always names the absolute byte offset and, when one was being read, the
 * key, so a failed load can be diagnosed from the log line alone.
 */

/** A corrupt, truncated or unsupported RDB (or DUMP payload). */
export class RdbError extends Error {
  /** Absolute byte offset (from the start of the RDB input) where the problem was found. */
  readonly offset: number;
  /** Key being read when it happened (latin1), if any. */
  readonly key: string | undefined;
  /** The problem without offset and key. */
  readonly reason: string;

  /** Builds the error; the message reads `RDB error at offset N (key "k"): reason`. */
  constructor(reason: string, offset: number, key?: string) {
    const where = key === undefined ? "" : ` (key ${JSON.stringify(key)})`;
    super(`RDB error at offset ${offset}${where}: ${reason}`);
    this.name = "RdbError";
    this.offset = offset;
    this.key = key;
    this.reason = reason;
  }
}

/**
 * A problem inside one container blob (ziplist, listpack, intset, zipmap, LZF data). Container
 * decoders throw it; the reader turns it into an RdbError with the key and offset.
 */
export class ContainerError extends Error {
  /** Builds the error with a description of the corruption. */
  constructor(message: string) {
    super(message);
    this.name = "ContainerError";
  }
}
