/**
 * ShardJournal: the ordered log of one shard's writes, with its own LSN counter and a bounded
 * backlog for partial sync.
 *
 * Owns: the shard's next LSN, the backlog of recent items (encoded once, in Dragonfly's wire
 * format) and the consumers streaming it live. Invariants: LSNs are consecutive, starting
 * at 1 (or where promotion set them); the backlog holds a contiguous LSN range ending at
 * `nextLsn - 1`, bounded by entry count, bytes and age; appending never blocks — a consumer
 * that cannot keep up must drop itself, never slow the writer.
 */

/** One journaled write (or PING) on one shard. */
export interface JournalItem {
  /** Log sequence number within the shard. */
  lsn: number;
  /** Transaction id shared by the parts of one multi-shard unit; 0 for single-shard writes. */
  txid: number;
  /** Number of shards taking part in the unit (1 for single-shard writes). */
  shardCount: number;
  /** Database of the command. */
  db: number;
  /** Command vector; empty for a PING item. */
  args: readonly string[];
  /** Dragonfly wire encoding of the item (SELECT + COMMAND, or PING). */
  bytes: Uint8Array;
  /** Time appended (ms). */
  time: number;
}

/** Receives items as they are appended. */
export interface JournalConsumer {
  /** Called synchronously for every appended item, in LSN order. */
  onItem(item: JournalItem): void;
}

/** Backlog bounds. */
export interface BacklogLimits {
  /** Most items kept. */
  maxEntries: number;
  /** Most encoded bytes kept. */
  maxBytes: number;
  /** Oldest item age kept in ms; 0 means no age limit. */
  maxAgeMs: number;
}

/** The journal of one shard. */
export class ShardJournal {
  /** LSN the next appended item gets. */
  nextLsn = 1;
  /** Encoded bytes held in the backlog. */
  backlogBytes = 0;
  /** Live consumers (replica flows in stable sync, snapshot streams). */
  readonly consumers = new Set<JournalConsumer>();
  private items: JournalItem[] = [];
  private head = 0;

  /** An empty journal for `shard`; `limits` is read on every trim. */
  constructor(readonly shard: number, private limits: () => BacklogLimits) {}

  /** Number of items in the backlog. */
  get backlogLength(): number {
    return this.items.length - this.head;
  }

  /** LSN of the oldest item still in the backlog (nextLsn when empty). */
  get firstLsn(): number {
    return this.backlogLength === 0 ? this.nextLsn : this.items[this.head].lsn;
  }

  /** Appends an item, assigning the next LSN, and hands it to every consumer. */
  append(txid: number, shardCount: number, db: number, args: readonly string[], bytes: Uint8Array): JournalItem {
    const item: JournalItem = { lsn: this.nextLsn++, txid, shardCount, db, args, bytes, time: Date.now() };
    this.items.push(item);
    this.backlogBytes += bytes.length;
    this.trim(item.time);
    for (const c of this.consumers) c.onItem(item);
    return item;
  }

  /**
   * Items with LSN ≥ `from`, for partial sync. Null when `from` is older than the backlog
   * or newer than the next LSN (the consumer must then do a full sync).
   */
  readFrom(from: number): JournalItem[] | null {
    if (from > this.nextLsn || from < this.firstLsn) return null;
    return this.items.slice(this.head + (from - this.firstLsn));
  }

  /** Whether `lsn` can be served by a partial sync. */
  canServe(lsn: number): boolean {
    return lsn <= this.nextLsn && lsn >= this.firstLsn;
  }

  /** Restarts numbering at `lsn` with an empty backlog (promotion continues the old primary's LSNs). */
  resetAt(lsn: number): void {
    this.items = [];
    this.head = 0;
    this.backlogBytes = 0;
    this.nextLsn = lsn;
  }

  /** Drops the oldest items while the backlog is over its entry, byte or age limit; compacts the array now and then. */
  private trim(now: number): void {
    const { maxEntries, maxBytes, maxAgeMs } = this.limits();
    while (
      this.backlogLength > 0 &&
      (this.backlogLength > maxEntries || this.backlogBytes > maxBytes ||
        (maxAgeMs > 0 && now - this.items[this.head].time > maxAgeMs))
    ) {
      this.backlogBytes -= this.items[this.head].bytes.length;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
