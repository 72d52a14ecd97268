/**
 * RDB opcodes, value type ids and format limits (spec: design/redis-replication-rdb.md §D.5, §D.6).
 *
 * Invariant: these numbers are the on-disk values; reader and writer share them so they can never
 * disagree.
 */

/** Opcode bytes that may appear where a value type byte is expected. */
export const Opcode = {
  /** Cluster slot sizes (7.4+, cluster mode only). */
  SLOT_INFO: 0xf4,
  /** A function library (7.0+): one string with the whole source. */
  FUNCTION2: 0xf5,
  /** Pre-GA function format (7.0 release candidates only). */
  FUNCTION_PRE_GA: 0xf6,
  /** Module auxiliary data. */
  MODULE_AUX: 0xf7,
  /** LRU idle time in seconds of the next key. */
  IDLE: 0xf8,
  /** LFU counter of the next key. */
  FREQ: 0xf9,
  /** Auxiliary field: two strings. */
  AUX: 0xfa,
  /** Hash table size hints of the current db. */
  RESIZEDB: 0xfb,
  /** Absolute expire time in ms of the next key. */
  EXPIRETIME_MS: 0xfc,
  /** Absolute expire time in seconds of the next key (legacy). */
  EXPIRETIME: 0xfd,
  /** Switches the current db. */
  SELECTDB: 0xfe,
  /** End of file; followed by the CRC64 from version 5 on. */
  EOF: 0xff,
} as const;

/** Value type bytes. */
export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

/** Quicklist-2 node containers. */
export const QuicklistContainer = {
  /** The node string is one raw element. */
  PLAIN: 1,
  /** The node string is a listpack. */
  PACKED: 2,
} as const;

/** Newest RDB version this codec reads (Redis 7.4). */
export const RDB_MAX_READ_VERSION = 12;

/** RDB versions the writer can produce: 9 (Redis 6.2+), 10 (7.0+), 11 (7.2+). */
export type RdbWriteVersion = 9 | 10 | 11;

/** Stream entry flags inside a node listpack. */
export const StreamFlag = {
  DELETED: 1,
  SAMEFIELDS: 2,
} as const;

/** On-disk name of each value type, for error messages. */
export function rdbTypeName(type: number): string {
  for (const [name, id] of Object.entries(RdbType)) if (id === type) return name;
  return `unknown(${type})`;
}

/**
 * Dragonfly's extra opcodes (src/server/rdb_extensions.h). They appear where a standard opcode or
 * a value type is expected, only in streams written by Dragonfly (replication flows, .dfs files).
 */
export const DfOpcode = {
  /** Snapshot traversal of the shard finished; 8 zero bytes follow. */
  FULLSYNC_END: 200,
  /** RDB length + a ZSTD frame whose content is complete RDB records. */
  COMPRESSED_ZSTD_BLOB_START: 201,
  /** RDB length + an LZ4 frame whose content is complete RDB records. */
  COMPRESSED_LZ4_BLOB_START: 202,
  /** Old masters: ends the records of a compressed blob (inside its content). */
  COMPRESSED_BLOB_END: 203,
  /** RDB length (entry count) + one RDB string holding serialized journal entries. */
  JOURNAL_BLOB: 210,
  /** u64 LE: the shard's next journal LSN at the full-sync cut-over. */
  JOURNAL_OFFSET: 211,
  /** u32 LE key flags (sticky 1, memcached flags 2 then a u32 LE flags value) for the next key. */
  DF_MASK: 220,
  /** HNSW vector index node (search module). */
  VECTOR_INDEX: 222,
  /** Search index key-to-doc-id mapping. */
  SHARD_DOC_INDEX: 223,
  /** [u32 LE stream id ≠ 0][u32 LE payload length][payload]: one piece of a key split across flushes. */
  TAGGED_CHUNK: 224,
} as const;

/** DF_MASK flag bits. */
export const DfMaskFlag = {
  STICKY: 1,
  MC_FLAGS: 2,
} as const;

/** Dragonfly's own value types (30–39), which have no Redis equivalent. */
export const DfType = {
  JSON: 30,
  HASH_WITH_EXPIRY: 31,
  SET_WITH_EXPIRY: 32,
  SBF: 33,
  SBF2: 34,
  CMS: 35,
  TOPK: 36,
  CUCKOO: 37,
} as const;

/** Name of a Dragonfly value type, for error messages. */
export function dfTypeName(type: number): string {
  for (const [name, id] of Object.entries(DfType)) if (id === type) return name;
  return `unknown(${type})`;
}
