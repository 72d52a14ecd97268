/**
 * Neutral, typed records that the RDB reader emits and the writer consumes.
 *
 * Invariants: every string (key, element, field, AUX text) is latin1, one char per byte, so binary
 * data survives; records carry logical contents only (no on-disk encoding), so anything the reader
 * produces can be written back with any supported version; stream IDs are exact (bigint).
 */

/** A stream entry ID. */
export interface RdbStreamId {
  /** Milliseconds part (unsigned 64-bit). */
  ms: bigint;
  /** Sequence part (unsigned 64-bit). */
  seq: bigint;
}

/** One live stream entry. */
export interface RdbStreamEntry {
  /** Entry ID; entries of a stream are strictly ascending. */
  id: RdbStreamId;
  /** Flat field/value list: [field1, value1, field2, value2, ...] (duplicate fields allowed). */
  fields: string[];
}

/** One entry of a consumer group's pending entries list (PEL). */
export interface RdbStreamPending {
  /** ID of the delivered entry. */
  id: RdbStreamId;
  /** Unix ms of the last delivery. */
  deliveryTimeMs: number;
  /** Number of deliveries. */
  deliveryCount: number;
}

/** A consumer of a group. */
export interface RdbStreamConsumer {
  /** Consumer name. */
  name: string;
  /** Unix ms the consumer was last seen (any interaction). */
  seenTimeMs: number;
  /** Unix ms of the last successful read/claim (7.2+; older files: equal to seenTimeMs). */
  activeTimeMs: number;
  /** IDs this consumer owns; each is also in the group PEL. */
  pending: RdbStreamId[];
}

/** A consumer group. */
export interface RdbStreamGroup {
  /** Group name. */
  name: string;
  /** Last delivered ID. */
  lastId: RdbStreamId;
  /** Logical read counter (7.0+); -1n when unknown (invalid, or not stored by a v1 stream). */
  entriesRead: bigint;
  /** The group PEL, ascending by ID. */
  pending: RdbStreamPending[];
  /** Consumers in file order. */
  consumers: RdbStreamConsumer[];
}

/** A whole stream value. */
export interface RdbStreamValue {
  /** Discriminant. */
  type: "stream";
  /** Live entries, ascending by ID. */
  entries: RdbStreamEntry[];
  /** Last generated ID (XADD's high-water mark). */
  lastId: RdbStreamId;
  /**
   * First entry ID as recorded (7.0+). For older files it is derived as Redis does: the first
   * entry's ID, or the maximal ID (2^64-1)-(2^64-1) when there are no entries.
   */
  firstId: RdbStreamId;
  /** Largest ID ever deleted (7.0+; 0-0 for older files). */
  maxDeletedId: RdbStreamId;
  /** Count of entries ever added (7.0+; the live length for older files). */
  entriesAdded: bigint;
  /** Consumer groups in file order. */
  groups: RdbStreamGroup[];
}

/** The logical value of a key. */
export type RdbValue =
  | { type: "string"; value: string }
  | { type: "list"; items: string[] }
  | { type: "set"; members: string[] }
  | { type: "zset"; entries: [member: string, score: number][] }
  | { type: "hash"; fields: [field: string, value: string][] }
  | RdbStreamValue;

/** A key with its value and per-key metadata. */
export interface RdbEntry {
  /** Database index the key belongs to. */
  db: number;
  /** Key name (latin1). */
  key: string;
  /** Absolute unix expire time in ms, when the key has a TTL. */
  expireAtMs?: number;
  /** LRU idle time in seconds (IDLE opcode), when present. */
  lruIdleSec?: number;
  /** LFU counter (FREQ opcode), when present. */
  lfuFreq?: number;
  /** The value. */
  value: RdbValue;
}

/** Everything the reader reports, in file order. */
export type RdbRecord =
  /** The magic was read. */
  | { kind: "header"; version: number }
  /** An AUX field (redis-ver, ctime, repl-id, lua, ...). */
  | { kind: "aux"; key: string; value: string }
  /** SELECTDB: following keys belong to `db`. */
  | { kind: "selectdb"; db: number }
  /** RESIZEDB hints for the current db. */
  | { kind: "resizedb"; dbSize: number; expiresSize: number }
  /** A key. */
  | { kind: "entry"; entry: RdbEntry }
  /**
   * A function library. `code` is the full source with its `#!<engine> name=<lib>` line (for the
   * pre-GA 0xF6 format the reader builds that line from the stored name and engine).
   */
  | { kind: "function"; code: string; preGa: boolean }
  /** MODULE_AUX data (already skipped); a stock Redis refuses files whose module it lacks. */
  | { kind: "module_aux"; moduleName: string; encVersion: number; when: number; offset: number }
  /** SLOT_INFO (cluster mode) hints. */
  | { kind: "slot_info"; slot: number; slotSize: number; expiresSlotSize: number }
  /** A key that was not loaded (e.g. an empty collection); log it and go on. */
  | { kind: "skipped"; db: number; key: string; reason: string; offset: number }
  /** EOF opcode (and checksum) read; nothing follows. */
  | { kind: "end"; checksum: bigint; checksumVerified: boolean };
