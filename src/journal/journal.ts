/**
 * Journal: turns the server's recorded writes into per-shard journal items.
 *
 * Owns: the ShardJournals, transaction ids and the routing of a write to the shards whose
 * keys it touches. Invariants (what a replica relies on):
 * - every key's history is on exactly one shard's journal (the shard owning the key), so a
 *   replica applying flows independently never reorders writes to one key;
 * - a write whose keys span shards, a global command (FLUSHALL, FLUSHDB, SWAPDB) and a
 *   MULTI/EXEC of several writes form one *unit*: every part carries the same non-zero txid
 *   and the unit's shard count, and each involved shard ends its part with a PING item, so a
 *   damselfly replica can apply the whole unit atomically once every part arrived. Splittable
 *   commands (MSET, DEL, ...) are split per shard as Dragonfly does; other multi-shard commands
 *   travel whole on every involved shard and are applied once;
 * - single-shard, single-command writes carry txid 0 and shard count 1, exactly like a
 *   Dragonfly 1.40 primary writes them.
 */
import { encodeCommandItem, encodePing } from "./journal_codec.ts";
import { type BacklogLimits, type JournalItem, ShardJournal } from "./shard_journal.ts";
import type { WriteObserver } from "../server/server.ts";

/** Maps a command vector to the shards its keys live on. */
export interface KeyRouter {
  /**
   * Shard of every key argument, as [argument index, shard] pairs; null for a command with
   * no keys (a global command).
   */
  keyShards(args: readonly string[]): [number, number][] | null;
}

/** Commands that are split per shard: their keys (with the arguments that follow each key) form independent groups. */
const SPLITTABLE: Readonly<Record<string, number>> = { MSET: 2, MSETNX: 2, DEL: 1, UNLINK: 1 };

interface OpenUnit {
  txid: number;
  writes: [number, string[]][];
}

/** The journals of all shards. */
export class Journal implements WriteObserver {
  /** One journal per shard. */
  readonly shards: ShardJournal[];
  /** Whether writes are being journaled (on once a replica needed it). */
  enabled = false;
  private nextTxid = 1;
  private unit: OpenUnit | null = null;

  /** Creates `numShards` shard journals; `router` splits writes by shard, `limits` bounds each backlog. */
  constructor(numShards: number, private router: KeyRouter, limits: () => BacklogLimits) {
    this.shards = [];
    for (let i = 0; i < numShards; i++) this.shards.push(new ShardJournal(i, limits));
  }

  /** Starts journaling (idempotent). */
  enable(): void {
    this.enabled = true;
  }

  /** Next LSN of every shard. */
  lsnVector(): number[] {
    return this.shards.map((s) => s.nextLsn);
  }

  /** Total items and bytes held in all backlogs. */
  backlogStats(): { items: number; bytes: number } {
    let items = 0;
    let bytes = 0;
    for (const s of this.shards) {
      items += s.backlogLength;
      bytes += s.backlogBytes;
    }
    return { items, bytes };
  }

  /** WriteObserver: records one write (MULTI/EXEC vectors delimit a transaction). */
  onWrite(db: number, args: string[]): void {
    if (!this.enabled) return;
    const name = args[0].toUpperCase();
    if (name === "MULTI") {
      this.unit = { txid: this.nextTxid++, writes: [] };
      return;
    }
    if (name === "EXEC") {
      const unit = this.unit;
      this.unit = null;
      if (unit) this.writeUnit(unit.txid, unit.writes);
      return;
    }
    if (this.unit) {
      this.unit.writes.push([db, args]);
      return;
    }
    const routed = this.route(args);
    if (routed.length === 1 && routed[0][1] === null) {
      const shard = routed[0][0];
      this.append(shard, 0, 1, db, args);
      return;
    }
    this.writeUnit(this.nextTxid++, [[db, args]]);
  }

  /** Journals a PING item on every shard (a heartbeat replicas count and acknowledge). */
  ping(): void {
    if (!this.enabled) return;
    for (const s of this.shards) s.append(0, 1, 0, [], encodePing());
  }

  /**
   * Writes a unit: each write goes to its shards with the unit's txid; every involved shard
   * gets a closing PING.
   */
  private writeUnit(txid: number, writes: [number, string[]][]): void {
    const perShard = new Map<number, [number, readonly string[]][]>();
    for (const [db, args] of writes) {
      for (const [shard, part] of this.route(args)) {
        let list = perShard.get(shard);
        if (!list) perShard.set(shard, list = []);
        list.push([db, part ?? args]);
      }
    }
    const count = perShard.size;
    if (count === 1 && writes.length === 1) {
      const [[shard, [[db, args]]]] = [...perShard];
      this.append(shard, 0, 1, db, args);
      return;
    }
    for (const [shard, list] of perShard) {
      for (const [db, args] of list) this.append(shard, txid, count, db, args);
      this.shards[shard].append(txid, count, 0, [], encodePing());
    }
  }

  /** Encodes a COMMAND item and appends it to `shard`'s journal. */
  private append(shard: number, txid: number, shardCount: number, db: number, args: readonly string[]): JournalItem {
    return this.shards[shard].append(txid, shardCount, db, args, encodeCommandItem(db, txid, shardCount, args));
  }

  /**
   * The shards a write goes to: [shard, its own part (split commands) or null (the whole
   * command)]. Global commands go to every shard.
   */
  private route(args: readonly string[]): [number, readonly string[] | null][] {
    const keys = this.router.keyShards(args);
    if (keys === null || keys.length === 0) return this.shards.map((s) => [s.shard, null]);
    const first = keys[0][1];
    if (keys.every(([, s]) => s === first)) return [[first, null]];
    const group = SPLITTABLE[args[0].toUpperCase()];
    if (group === undefined) {
      return [...new Set(keys.map(([, s]) => s))].map((s) => [s, null]);
    }
    const parts = new Map<number, string[]>();
    for (const [index, shard] of keys) {
      let part = parts.get(shard);
      if (!part) parts.set(shard, part = [args[0]]);
      for (let i = 0; i < group; i++) part.push(args[index + i]);
    }
    return [...parts];
  }
}
