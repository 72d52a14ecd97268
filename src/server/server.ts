/**
 * Server: the composition root that ties config, store, clients and statistics together.
 *
 * Owns: the set of connected clients, the keyspace (through Store), counters, maxmemory
 * enforcement (through Evictor), and the background cycles (active expiry, the cached clocks of
 * LRU/LFU access stamps). Invariants: one Server per process; everything a handler needs is
 * reachable from here; no socket code lives here.
 */
import { Config } from "../config/config.ts";
import { Store } from "../store/store.ts";
import type { Shard } from "../store/shard.ts";
import { Stats } from "./stats.ts";
import type { Client, ClientOrigin } from "./client.ts";
import { log } from "../observability/log.ts";
import { BlockingRegistry } from "./blocking.ts";
import { Journal } from "../journal/journal.ts";
import { commandKeyRouter } from "../journal/key_router.ts";
import { PubSub } from "./pubsub.ts";
import { VERSION } from "../version.ts";
import { Evictor } from "./eviction.ts";

/** Receives every applied write, for the journal and replication (issue 5 plugs in here). */
export interface WriteObserver {
  /** A command changed data in database `db`; `args` is its deterministic form. */
  onWrite(db: number, args: string[]): void;
  /**
   * A client (or the primary's stream) ran PUBLISH in database `db`. Only streams that carry
   * Pub/Sub (Redis's replication stream does; Dragonfly's journal does not) implement it.
   */
  onPublish?(db: number, channel: string, message: string): void;
}

/** The running server. */
export class Server {
  /** Flag values. */
  readonly config: Config;
  /** Keyspace. */
  readonly store: Store;
  /** Counters. */
  readonly stats = new Stats();
  /** Connected clients by id. */
  readonly clients = new Map<number, Client>();
  /** Next client id. */
  nextClientId = 1;
  /** Start time (ms). */
  readonly startTime: number = Date.now();
  /** Random 40-hex run id. */
  readonly runId: string;
  /** Version string reported by INFO and HELLO. */
  readonly version: string = VERSION;
  /** Write observers (journal, replication, keyspace events). */
  readonly writeObservers: WriteObserver[] = [];
  /** Set when the server is a replica of another server (replication module). */
  replicaOf: { host: string; port: number } | null = null;
  /** Pause state from CLIENT PAUSE: until (ms) and whether only writes pause. */
  pause: { until: number; writesOnly: boolean } | null = null;
  /**
   * True while a replica loads a full sync or a primary is being taken over: commands without
   * the `loading` flag answer -LOADING (replication links excepted).
   */
  loading = false;
  /** Unix time (s) of the last successful save. */
  lastSave: number = Math.floor(Date.now() / 1000);
  /** Value of `store.dirty` at the last successful save. */
  dirtyAtLastSave = 0;
  /** Per-shard journals (replication between damselfly/Dragonfly nodes). */
  readonly journal: Journal;
  /** Clients blocked on keys (BLPOP and friends). */
  readonly blocking = new BlockingRegistry();
  /** maxmemory enforcement (eviction, -OOM). */
  readonly evictor: Evictor;
  /**
   * Publishes a message to a channel; the pub/sub family installs the real implementation.
   * Returns the number of receivers.
   */
  publish: (channel: string, message: string) => number = () => 0;
  /** Pub/Sub subscriptions and keyspace-notification settings (installs `publish`). */
  readonly pubsub: PubSub;
  /** Callbacks run when any client disconnects (pub/sub, blocking, replication clean-up). */
  readonly onClientClose: ((c: Client) => void)[] = [];
  /** Clients in MONITOR mode. */
  readonly monitors = new Set<Client>();
  /** Requests a shutdown; installed by main/net. */
  shutdown: (save: boolean | null) => Promise<boolean> = () => Promise.resolve(false);
  /** Writes of the open transaction (EXEC), recorded together when it closes; else null. */
  private txWrites: [number, string[]][] | null = null;
  /** Nesting depth of open transactions (a script inside EXEC, EXEC inside a script). */
  private txDepth = 0;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  /** Builds the store, pub/sub and journal from `config`, and draws the run id. */
  constructor(config: Config) {
    this.config = config;
    const cpus = navigator.hardwareConcurrency || 1;
    const shards = config.num("num_shards") || config.num("proactor_threads") || cpus;
    this.store = new Store(shards, config.num("dbnum"), {
      isReplica: () => this.replicaOf !== null,
      onExpired: (shard, db, key) => this.onExpired(shard, db, key),
      onEvicted: (shard, db, key) => this.onEvicted(shard, db, key),
    });
    const access = this.store.access;
    access.setPolicy(config.str("maxmemory-policy"));
    access.lfuLogFactor = config.num("lfu-log-factor");
    access.lfuDecayTime = config.num("lfu-decay-time");
    config.onChange("maxmemory-policy", (v) => access.setPolicy(v as string));
    config.onChange("lfu-log-factor", (v) => access.lfuLogFactor = v as number);
    config.onChange("lfu-decay-time", (v) => access.lfuDecayTime = v as number);
    this.stats.slowlogSlowerThan = config.num("slowlog_log_slower_than");
    config.onChange("slowlog_log_slower_than", (v) => this.stats.slowlogSlowerThan = v as number);
    this.evictor = new Evictor(this);
    this.pubsub = new PubSub(this);
    this.journal = new Journal(this.store.numShards, commandKeyRouter(this.store.numShards), () => ({
      maxEntries: config.num("shard_repl_backlog_len"),
      maxBytes: config.num("shard_repl_backlog_max_bytes"),
      maxAgeMs: config.num("shard_repl_backlog_time_ms"),
    }));
    this.writeObservers.push(this.journal);
    const bytes = new Uint8Array(20);
    crypto.getRandomValues(bytes);
    this.runId = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Whether clients on `origin` must authenticate before running commands. */
  authRequired(origin: ClientOrigin): boolean {
    if (origin === "internal") return false;
    if (origin === "admin" && this.config.bool("admin_nopass")) return false;
    return this.config.str("requirepass") !== "";
  }

  /** True while this server replicates from a primary. */
  get isReplica(): boolean {
    return this.replicaOf !== null;
  }

  /** Role name for INFO and HELLO. */
  get roleName(): "master" | "replica" {
    return this.replicaOf ? "replica" : "master";
  }

  /** Records an applied write (journal, replicas, dirty counter). */
  recordWrite(db: number, args: string[]): void {
    if (this.txWrites !== null) {
      this.txWrites.push([db, args]);
      return;
    }
    for (const o of this.writeObservers) o.onWrite(db, args);
  }

  /**
   * Opens a transaction for the write observers: until the matching `endTransaction`, writes
   * are buffered. Transactions nest; only the outermost one records.
   */
  beginTransaction(): void {
    if (this.txDepth++ === 0) this.txWrites = [];
  }

  /**
   * Closes a transaction and records its writes so that replicas apply them atomically:
   * two or more as `MULTI`, the writes, `EXEC` (in the dbs of the first and last write); a
   * single write bare, as Redis propagates it.
   */
  endTransaction(): void {
    if (--this.txDepth !== 0) return;
    const writes = this.txWrites!;
    this.txWrites = null;
    if (writes.length === 0) return;
    const wrap = writes.length > 1;
    if (wrap) this.recordWrite(writes[0][0], ["MULTI"]);
    for (const [db, args] of writes) this.recordWrite(db, args);
    if (wrap) this.recordWrite(writes[writes.length - 1][0], ["EXEC"]);
  }

  /** Counts an expired key, journals it as DEL and emits the `expired` notification. */
  private onExpired(_shard: Shard, db: number, key: string): void {
    this.stats.expiredKeys++;
    this.stats.expiredKeysByDb.set(db, (this.stats.expiredKeysByDb.get(db) ?? 0) + 1);
    this.recordWrite(db, ["DEL", key]);
    this.notify("x", "expired", key, db);
  }

  /** Counts an evicted key, journals it as DEL and emits the `evicted` notification. */
  private onEvicted(_shard: Shard, db: number, key: string): void {
    this.stats.evictedKeys++;
    this.stats.evictedKeysByDb.set(db, (this.stats.evictedKeysByDb.get(db) ?? 0) + 1);
    this.recordWrite(db, ["DEL", key]);
    this.notify("e", "evicted", key, db);
  }

  /**
   * Emits a keyspace notification if `notify-keyspace-events` enables class `cls`
   * (one of Redis's letters: g $ l s h z x e t m d n) and K and/or E.
   */
  notify(cls: string, event: string, key: string, db: number): void {
    if (this.pubsub.notifyMask !== 0) this.pubsub.notifyKeyspaceEvent(cls, event, key, db);
  }

  /** Starts background cycles (access clocks and active expiry at `hz`). */
  start(): void {
    const schedule = () => {
      const hz = this.config.num("hz");
      this.expiryTimer = setTimeout(() => {
        this.store.access.refresh(Date.now());
        this.activeExpireCycle();
        schedule();
      }, hz > 0 ? Math.max(1, Math.floor(1000 / hz)) : 1000);
    };
    schedule();
  }

  /** Stops background cycles. */
  stop(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.evictor.stop();
  }

  /**
   * One active-expiry cycle like Redis's: sample 20 keys with a TTL per db per shard, repeat
   * while more than 25% of the sample expired, within a time budget of 25% of the tick.
   */
  activeExpireCycle(): void {
    if (this.isReplica) return;
    const hz = this.config.num("hz") || 10;
    const budgetMs = Math.max(1, 250 / hz);
    const start = performance.now();
    const now = Date.now();
    for (const shard of this.store.shards) {
      for (const db of shard.dbs) {
        if (db.expires.size === 0) continue;
        for (let round = 0; round < 16; round++) {
          const [sampled, expired] = db.activeExpire(20, now);
          if (sampled === 0 || expired * 4 <= sampled) break;
          if (performance.now() - start > budgetMs) return;
        }
      }
    }
  }

  /** Logs at startup what was configured. */
  describe(): void {
    log.info(
      `damselfly ${this.version} starting: ${this.store.numShards} shards, ${this.store.dbCount} dbs, run id ${this.runId}`,
    );
  }
}
