/**
 * Key → shard mapping.
 *
 * Invariant: a key's shard depends only on its bytes (or on the bytes inside its first
 * non-empty `{hashtag}`), so keys sharing a hashtag always live on the same shard.
 */
import { finishHash, HASH_BASIS, primeHash } from "./string_map.ts";

/** The part of a key that is hashed: the first non-empty `{...}` section, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.substring(open + 1, close);
}

/**
 * FNV-1a's offset basis as a signed 32-bit integer (the same bits as 0x811c9dc5): started from
 * the unsigned constant, which is not a small integer, the JIT kept the hash as a double and
 * converted it to and from int32 on every character.
 */
const FNV_BASIS = 0x811c9dc5 | 0;

/** 32-bit FNV-1a over the latin1 bytes of a string. */
export function fnv1a(s: string): number {
  let h = FNV_BASIS;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard index that owns `key` among `numShards` shards. */
export function shardOf(key: string, numShards: number): number {
  if (numShards === 1) return 0;
  // One pass: hash the whole key, unless it turns out to contain a `{` (then hash the tag). The
  // same pass computes the key's keyspace-map hash, which the lookup that follows will need.
  let h = FNV_BASIS;
  let m = HASH_BASIS;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x7b) return fnv1a(hashTagOf(key)) % numShards;
    h = Math.imul(h ^ c, 0x01000193);
    m = Math.imul(m ^ c, 0x01000193);
  }
  primeHash(key, finishHash(m));
  // (h >>> 0) % numShards in int32 arithmetic: an unsigned 32-bit value does not fit a small
  // integer, and the JIT would take a floating-point modulo for it.
  return (((h >>> 1) % numShards) * 2 + (h & 1)) % numShards;
}
