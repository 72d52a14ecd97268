/**
 * Value representations held by the keyspace.
 *
 * Invariant: a Redis string is stored as a latin1 JS string (one char per byte), which is
 * the cheapest layout V8 offers; every other type is an object whose `kind` names its Redis
 * type. `typeOf` is therefore one `typeof` check on the hot path. How a string was made (which
 * decides its OBJECT ENCODING, as Redis answers from the object and not from the content) is
 * not kept in the value but in two spare bits of the key's access stamp (src/store/access.ts):
 * STRING_MADE_BY_VALUE (the default, what every SET-like store gives) costs nothing.
 */

/** Redis type names as TYPE reports them. */
export type RedisType = "string" | "list" | "set" | "zset" | "hash" | "stream";

/** A non-string value: lists, hashes, sets, sorted sets and streams implement this. */
export interface CollectionValue {
  /** The Redis type of the value. */
  readonly kind: Exclude<RedisType, "string">;
  /** Redis's OBJECT ENCODING name for the current representation. */
  encoding(): string;
  /** Number of elements (used for emptiness checks and MEMORY USAGE). */
  size(): number;
  /** Deep copy (COPY, snapshots of values that are about to change). */
  clone(): CollectionValue;
  /** Rough bytes held, for MEMORY USAGE. */
  memoryUsage(): number;
  /**
   * Canonical latin1 serialization of the logical contents (order-independent where the
   * type is unordered), used by DEBUG DIGEST so equal data gives equal digests.
   */
  canonical(): string;
}

/** Anything stored under a key. */
export type Value = string | CollectionValue;

/** The Redis type of a stored value. */
export function typeOf(v: Value): RedisType {
  return typeof v === "string" ? "string" : v.kind;
}

/** Largest string that Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
export const EMBSTR_MAX = 44;

/**
 * A string stored through Redis's tryObjectEncoding (SET and its variants, MSET, GETSET,
 * APPEND to a missing key, INCR and friends, RESTORE, RDB load): `int` when the content is a
 * canonical 64-bit integer, else `embstr` up to 44 bytes, else `raw`.
 */
export const STRING_MADE_BY_VALUE = 0;
/** A string made by createStringObject without tryObjectEncoding (INCRBYFLOAT): never `int`. */
export const STRING_MADE_AS_STRING = 1;
/**
 * A raw or unshared string object (APPEND and SETRANGE on an existing key, SETRANGE to a
 * missing key, SETBIT, BITFIELD writes, BITOP, PFADD, PFMERGE, PFDEBUG): `raw` at any length.
 */
export const STRING_MADE_RAW = 2;
/**
 * A string only this node unshared: a write that changed nothing (SETBIT of a bit already so,
 * BITFIELD without a change, PFADD adding nothing, PFCOUNT answered from the cache) still makes
 * Redis's object raw, but is not propagated, so replicas keep the string as it was made. `raw`
 * here; a copy or rename of it reaches replicas as a string made by value (as the replica's own
 * COPY or RENAME of its unchanged object would give).
 */
export const STRING_MADE_RAW_UNREPLICATED = 3;

/**
 * How a string is made after a write that changed nothing but unshared it (see
 * STRING_MADE_RAW_UNREPLICATED): a raw string stays raw, any other becomes raw here only.
 */
export function unsharedWithoutChange(made: number): number {
  return made === STRING_MADE_RAW ? STRING_MADE_RAW : STRING_MADE_RAW_UNREPLICATED;
}

/**
 * OBJECT ENCODING of a stored string: int, embstr or raw, as Redis reports it for a string with
 * content `s` made as `made` (a STRING_MADE_* value).
 */
export function stringEncoding(s: string, made: number = STRING_MADE_BY_VALUE): string {
  if (made >= STRING_MADE_RAW) return "raw";
  if (made === STRING_MADE_BY_VALUE && s.length <= 20 && isCanonicalInt64(s)) return "int";
  return s.length <= EMBSTR_MAX ? "embstr" : "raw";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** True when `s` is the canonical decimal form of a signed 64-bit integer (no +, no leading 0). */
export function isCanonicalInt64(s: string): boolean {
  if (s.length === 0 || s.length > 20) return false;
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return false;
  if (s.length < 19) return true;
  const b = BigInt(s);
  return b >= INT64_MIN && b <= INT64_MAX;
}

/** Rough per-value bytes, for MEMORY USAGE. */
export function valueMemoryUsage(key: string, v: Value): number {
  const base = 56 + key.length;
  return typeof v === "string" ? base + 16 + v.length : base + v.memoryUsage();
}
