/**
 * Eviction: maxmemory enforcement with Redis 7.0's approximated eviction (src/evict.c), and the
 * memory estimate it works from.
 *
 * Owns: the memory gauge, the eviction pool, the eviction time budget and its continuation.
 * Invariants: nothing happens while maxmemory is 0; a replica never evicts (Redis's default
 * replica-ignore-maxmemory yes: its primary's DELs keep it an exact copy), nor does a loading or
 * paused server; every eviction goes through DbSlice.evict, which journals a DEL, counts
 * evicted_keys and emits the `evicted` keyspace event.
 *
 * How used memory is estimated. Redis's zmalloc counts live allocations exactly; V8 only knows
 * its heap, which holds garbage until a garbage collection finds it, and a full collection of
 * the old generation may come only after the heap has grown to several times its live size.
 * So:
 * - The gauge reads INFO's used_memory (V8 used heap + external memory) through
 *   v8.getHeapStatistics (about 0.5 µs; Deno.memoryUsage also reads the RSS and costs ~20 µs),
 *   at most once per synchronous run (a read batch, a cron tick): the reading is cached and a
 *   microtask marks it stale. Nothing is read while maxmemory is 0.
 * - Keys evicted since the last major collection are still in the heap as garbage: their
 *   estimated size (valueMemoryUsage, as MEMORY USAGE reports it) is subtracted from readings
 *   until a major collection has run. A major collection is detected with a sentinel object in
 *   the old generation registered in a FinalizationRegistry: its finalizer runs after the first
 *   collection that reclaimed the evictions made before the sentinel was dropped.
 * - Output buffered for replicas is not counted, as in Redis (mem_not_counted_for_evict).
 * - Other garbage (overwritten and deleted values, request and reply buffers, including the
 *   young generation's, which swings by up to its size of about 16 MB between scavenges) is not
 *   tracked one by one. When the estimate is over the limit and the reading grew by more than a
 *   tenth of maxmemory since the last major collection, or before answering -OOM,
 *   the gauge forces a full collection, so that evictions and OOM errors are decided on live
 *   data. Forced collections are rate-limited to about a tenth of the time (a collection that
 *   took T ms is not repeated within 10 T ms, nor within 100 ms), or a third when the
 *   alternative is an -OOM reply, or evicting more than a tenth of maxmemory since the last
 *   collection (live keys evicted for garbage). Between them the estimate
 *   may be high (untracked garbage: more keys evicted than Redis would; with a heavy write load
 *   and little room, much more) or low (V8 collected on its own unseen, yet evictions are still
 *   subtracted): the limit holds approximately, erring towards evicting. INFO used_memory is
 *   the raw reading, garbage included; MEMORY PURGE shows the live size.
 */
import v8 from "node:v8";
import type { Server } from "./server.ts";
import type { DbSlice } from "../store/db_slice.ts";
import { valueMemoryUsage } from "../store/values.ts";
import { fullGc, prepareFullGc } from "../observability/gc.ts";

/** Redis's reply to a denyoom command while used memory is over maxmemory (shared.oomerr). */
export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/** Outcome of an eviction pass (Redis's EVICT_OK, EVICT_RUNNING, EVICT_FAIL). */
export type EvictResult = "ok" | "running" | "fail";

/** Entries of the eviction pool (Redis's EVPOOL_SIZE). */
const EVPOOL_SIZE = 16;
/** Bytes a key's TTL entry costs besides the key and value (an expires-map entry). */
const TTL_ENTRY_BYTES = 32;
/**
 * Bytes allocated after its creation that make the GC sentinel surely old: more than twice the
 * largest young generation, so it has survived the two scavenges that promote an object.
 */
const SENTINEL_PROMOTION_BYTES = 64 * 1024 * 1024;
/** Heap growth since the last major collection, as a share of maxmemory, that is worth a forced one. */
const GC_GROWTH_FRACTION = 0.1;
/** A forced collection that took T ms is not repeated within this many times T... */
const GC_DUTY_FACTOR = 10;
/** ...or this many times T when the alternative is an -OOM error or evicting much more. */
const GC_URGENT_DUTY_FACTOR = 2;
/** Minimum ms between forced collections. */
const GC_MIN_INTERVAL_MS = 100;

/**
 * Bytes that eviction does not count (Redis's freeMemoryGetNotCountedMemory): output waiting for
 * replicas. Evicting keys cannot shrink it (each eviction even adds a DEL to it), so counting it
 * would evict the whole dataset whenever a replica falls behind.
 */
export function notCountedForEvict(server: Server): number {
  let bytes = 0;
  for (const c of server.clients.values()) if (c.isReplica) bytes += c.pendingOutput();
  return bytes;
}

/** The maxmemory policies (Redis's maxmemory-policy values). */
type Policy =
  | "volatile-lru"
  | "volatile-lfu"
  | "volatile-random"
  | "volatile-ttl"
  | "allkeys-lru"
  | "allkeys-lfu"
  | "allkeys-random"
  | "noeviction";

/** One candidate of the eviction pool: a higher `idle` is a better victim. */
interface PoolEntry {
  idle: number;
  key: string;
  slice: DbSlice;
}

/** Heap statistics with the field older type definitions lack. */
type HeapStats = ReturnType<typeof v8.getHeapStatistics> & { total_allocated_bytes?: number };

/** The used-memory estimate (see the file comment). */
export class MemoryGauge {
  /** Heap used + external memory read in the current synchronous run, or -1 when stale. */
  private total = -1;
  /** Bytes allocated since start at the last reading (V8's total_allocated_bytes), when known. */
  private allocated = 0;
  private readonly markStale = () => {
    this.total = -1;
  };
  /** Estimated bytes of keys evicted since the last major collection (still garbage in the heap). */
  private freedSinceGc = 0;
  /** The part of `freedSinceGc` evicted before the armed sentinel was dropped. */
  private freedBeforeArm = 0;
  /** A sentinel is registered and not yet collected. */
  private armed = false;
  /** The next sentinel, and the allocation count / time when it was made. */
  private spare: object = {};
  private spareBornBytes = 0;
  private spareBornMs = performance.now();
  private readonly registry = new FinalizationRegistry<null>(() => this.onMajorGc());
  /** The reading right after the last major collection seen (0 before the first). */
  private afterGc = 0;
  /** performance.now() of the last forced collection, and how long it took. */
  private lastForcedAt = -Infinity;
  private lastForcedMs = 0;

  /** Estimated used memory in bytes: the reading (INFO used_memory) minus evicted bytes not collected yet. */
  used(): number {
    if (this.total < 0) this.read();
    const used = this.total - this.freedSinceGc;
    return used > 0 ? used : 0;
  }

  /**
   * Growth of the reading (garbage included) since the last major collection seen: about what
   * a collection could reclaim at most, whatever the eviction bookkeeping says.
   */
  growthSinceGc(): number {
    if (this.total < 0) this.read();
    return this.total - this.afterGc;
  }

  /** Estimated bytes evicted since the last major collection seen. */
  evictedSinceGc(): number {
    return this.freedSinceGc;
  }

  /** Records `bytes` freed by an eviction (garbage until the next major collection). */
  freed(bytes: number): void {
    this.freedSinceGc += bytes;
    if (!this.armed) this.arm();
  }

  /**
   * Runs a full garbage collection unless one ran too recently (see the file comment; `urgent`
   * allows more); returns whether it ran. The next reading is then exact up to what was
   * allocated since.
   */
  forceGc(urgent: boolean): boolean {
    const duty = urgent ? GC_URGENT_DUTY_FACTOR : GC_DUTY_FACTOR;
    if (performance.now() - this.lastForcedAt < Math.max(GC_MIN_INTERVAL_MS, duty * this.lastForcedMs)) return false;
    if (!prepareFullGc()) return false;
    const start = performance.now();
    fullGc();
    const end = performance.now();
    this.lastForcedAt = end;
    this.lastForcedMs = end - start;
    this.freedSinceGc = 0;
    this.freedBeforeArm = 0;
    this.read();
    this.afterGc = this.total;
    return true;
  }

  /** Takes a fresh reading of the heap statistics. */
  private read(): void {
    const h = v8.getHeapStatistics() as HeapStats;
    if (this.total < 0) queueMicrotask(this.markStale);
    this.total = h.used_heap_size + h.external_memory;
    this.allocated = h.total_allocated_bytes ?? 0;
  }

  /** Drops the spare sentinel into the registry once it is surely in the old generation. */
  private arm(): void {
    const old = this.allocated > 0
      ? this.allocated - this.spareBornBytes >= SENTINEL_PROMOTION_BYTES
      : performance.now() - this.spareBornMs >= 1000;
    if (!old) return;
    this.registry.register(this.spare, null);
    this.spare = {};
    this.spareBornBytes = this.allocated;
    this.spareBornMs = performance.now();
    this.armed = true;
    this.freedBeforeArm = this.freedSinceGc;
  }

  /** The sentinel was collected: evictions made before it was dropped are reclaimed. */
  private onMajorGc(): void {
    this.armed = false;
    this.freedSinceGc = Math.max(0, this.freedSinceGc - this.freedBeforeArm);
    this.freedBeforeArm = 0;
    this.read();
    this.afterGc = this.total;
  }
}

/** maxmemory enforcement for one server (Redis's performEvictions and its pool). */
export class Evictor {
  /** The memory estimate. */
  readonly gauge = new MemoryGauge();
  /** maxmemory in bytes (0: no limit), cached from the config for the dispatcher's hot path. */
  maxmemory: number;
  private policy: Policy;
  private samples: number;
  private tenacity: number;
  /** Candidates ordered by ascending idle score; survives across passes, as in Redis. */
  private pool: PoolEntry[] = [];
  /** Next database of the random policies' round robin. */
  private nextDb = 0;
  /** notCountedForEvict of the current synchronous run, or -1. */
  private notCountedBytes = -1;
  private readonly forgetNotCounted = () => {
    this.notCountedBytes = -1;
  };
  /** Continuation of a pass that ran out of time (Redis's eviction time proc). */
  private continuation: ReturnType<typeof setTimeout> | undefined;

  /** Reads the maxmemory settings of `server` and follows their changes. */
  constructor(private readonly server: Server) {
    const config = server.config;
    this.maxmemory = config.num("maxmemory");
    this.policy = config.str("maxmemory-policy") as Policy;
    this.samples = config.num("maxmemory-samples");
    this.tenacity = config.num("maxmemory-eviction-tenacity");
    config.onChange("maxmemory", (v) => {
      this.maxmemory = v as number;
      // Like Redis's CONFIG SET maxmemory: evict at once down to the new limit.
      if (this.maxmemory > 0) this.perform();
    });
    config.onChange("maxmemory-policy", (v) => {
      this.policy = v as Policy;
      this.pool = [];
    });
    config.onChange("maxmemory-samples", (v) => this.samples = v as number);
    config.onChange("maxmemory-eviction-tenacity", (v) => this.tenacity = v as number);
  }

  /**
   * Brings used memory under maxmemory by evicting keys as the policy says (Redis's
   * performEvictions): "ok" when under the limit (or nothing needs doing), "running" when the
   * time budget ran out and a continuation will go on, "fail" when over the limit with nothing
   * the policy may evict.
   */
  perform(): EvictResult {
    const server = this.server;
    const max = this.maxmemory;
    if (max === 0 || server.isReplica || server.loading) return "ok";
    if (server.pause !== null && server.pause.until > Date.now()) return "ok";
    const gauge = this.gauge;
    let used = gauge.used();
    if (used <= max) return "ok";
    used -= this.notCounted();
    if (used <= max) return "ok";
    // Collect first when the garbage may matter: urgently before an -OOM or when much was evicted
    // already without a collection (evicting live keys for garbage), else when the heap grew.
    const slack = max * GC_GROWTH_FRACTION;
    const urgent = this.policy === "noeviction" || gauge.evictedSinceGc() > slack || !this.anyEvictable();
    if ((urgent || gauge.growthSinceGc() > slack) && gauge.forceGc(urgent)) {
      used = gauge.used() - this.notCounted();
      if (used <= max) return "ok";
    }
    if (this.policy === "noeviction") return "fail";
    let toFree = used - max;
    const deadline = performance.now() + this.timeLimitUs() / 1000;
    let freed = 0;
    let evicted = 0;
    while (freed < toFree) {
      const victim = this.policy.endsWith("-random") ? this.randomVictim() : this.poolVictim();
      if (victim === null) {
        // Nothing left to evict: the rest may be garbage.
        return gauge.forceGc(true) && gauge.used() - this.notCounted() <= max ? "ok" : "fail";
      }
      const { slice, key } = victim;
      const value = slice.data.get(key)!;
      const bytes = valueMemoryUsage(key, value) + (slice.expires.has(key) ? TTL_ENTRY_BYTES : 0);
      slice.evict(key);
      gauge.freed(bytes);
      freed += bytes;
      evicted++;
      if (evicted % 16 === 0) {
        if (gauge.evictedSinceGc() > slack && gauge.forceGc(true)) {
          // An exact reading again: free what it says is still over.
          toFree = gauge.used() - this.notCounted() - max;
          freed = 0;
        }
        if (performance.now() > deadline) {
          this.scheduleContinuation();
          return "running";
        }
      }
    }
    return "ok";
  }

  /** notCountedForEvict, computed at most once per synchronous run (it walks the clients). */
  private notCounted(): number {
    if (this.notCountedBytes < 0) {
      this.notCountedBytes = notCountedForEvict(this.server);
      queueMicrotask(this.forgetNotCounted);
    }
    return this.notCountedBytes;
  }

  /** Redis's evictionTimeLimitUs: how long one pass may run (maxmemory-eviction-tenacity). */
  private timeLimitUs(): number {
    const t = this.tenacity;
    if (t <= 10) return 50 * t;
    if (t < 100) return 500 * Math.pow(1.15, t - 10);
    return Infinity;
  }

  /** Schedules one more eviction round on the event loop (when a round ran out of its time budget). */
  private scheduleContinuation(): void {
    if (this.continuation !== undefined) return;
    this.continuation = setTimeout(() => {
      this.continuation = undefined;
      this.perform();
    }, 0);
  }

  /** Stops a pending continuation (server shutdown). */
  stop(): void {
    if (this.continuation !== undefined) clearTimeout(this.continuation);
    this.continuation = undefined;
  }

  /** True when the policy has keys to choose from. */
  private anyEvictable(): boolean {
    if (this.policy === "noeviction") return false;
    const allKeys = this.policy.startsWith("allkeys");
    for (const shard of this.server.store.shards) {
      for (const db of shard.dbs) if ((allKeys ? db.data.size : db.expires.size) !== 0) return true;
    }
    return false;
  }

  /** Keys the policy samples in database `db` over all shards. */
  private sampledCount(db: number, allKeys: boolean): number {
    let n = 0;
    for (const shard of this.server.store.shards) {
      const slice = shard.dbs[db];
      n += allKeys ? slice.data.size : slice.expires.size;
    }
    return n;
  }

  /** A slice of database `db` picked with probability proportional to its sampled keys (`total` > 0). */
  private weightedSlice(db: number, allKeys: boolean, total: number): DbSlice {
    let r = Math.floor(Math.random() * total);
    const shards = this.server.store.shards;
    for (const shard of shards) {
      const slice = shard.dbs[db];
      const n = allKeys ? slice.data.size : slice.expires.size;
      if (r < n) return slice;
      r -= n;
    }
    return shards[shards.length - 1].dbs[db];
  }

  /** allkeys-random / volatile-random: a random key of the next non-empty database in turn. */
  private randomVictim(): { slice: DbSlice; key: string } | null {
    const allKeys = this.policy === "allkeys-random";
    const dbCount = this.server.store.dbCount;
    for (let i = 0; i < dbCount; i++) {
      const db = (++this.nextDb) % dbCount;
      const total = this.sampledCount(db, allKeys);
      if (total === 0) continue;
      const slice = this.weightedSlice(db, allKeys, total);
      const map = allKeys ? slice.data : slice.expires;
      const e = map.randomEntry();
      if (e >= 0) return { slice, key: map.keyAt(e)! };
    }
    return null;
  }

  /**
   * LRU, LFU and volatile-ttl: fill the pool with samples of every database, then take the best
   * candidate that still exists (Redis's loop over evictionPoolPopulate and the pool).
   */
  private poolVictim(): PoolEntry | null {
    const allKeys = this.policy.startsWith("allkeys");
    const dbCount = this.server.store.dbCount;
    for (;;) {
      let total = 0;
      for (let db = 0; db < dbCount; db++) {
        const n = this.sampledCount(db, allKeys);
        if (n === 0) continue;
        this.populate(db, allKeys, n);
        total += n;
      }
      if (total === 0) return null;
      const pool = this.pool;
      while (pool.length > 0) {
        const best = pool.pop()!;
        // A candidate deleted since it was sampled is a ghost: try the next one.
        const map = allKeys ? best.slice.data : best.slice.expires;
        if (map.has(best.key)) return best;
      }
    }
  }

  /** Samples `maxmemory-samples` keys of database `db` into the pool (Redis's evictionPoolPopulate). */
  private populate(db: number, allKeys: boolean, total: number): void {
    const access = this.server.store.access;
    const policy = this.policy;
    const lru = policy.endsWith("-lru");
    const lfu = policy.endsWith("-lfu");
    for (let i = 0; i < this.samples; i++) {
      const slice = this.weightedSlice(db, allKeys, total);
      const map = allKeys ? slice.data : slice.expires;
      const e = map.randomEntry();
      if (e < 0) continue;
      const key = map.keyAt(e)!;
      let idle: number;
      if (lru || lfu) {
        const stamp = allKeys ? slice.data.stampAt(e) : slice.accessStamp(key);
        if (stamp < 0) continue;
        idle = lru ? access.idleMs(stamp) : 255 - access.frequency(stamp);
      } else {
        // volatile-ttl: the sooner the expiry, the better the candidate.
        idle = Number.MAX_SAFE_INTEGER - slice.expires.valueAt(e);
      }
      this.insert(idle, key, slice);
    }
  }

  /** Inserts a candidate in the ascending pool; when full, the worst candidate makes room. */
  private insert(idle: number, key: string, slice: DbSlice): void {
    const pool = this.pool;
    let k = 0;
    while (k < pool.length && pool[k].idle < idle) k++;
    // Not better than the worst candidate of a full pool.
    if (k === 0 && pool.length === EVPOOL_SIZE) return;
    pool.splice(k, 0, { idle, key, slice });
    if (pool.length > EVPOOL_SIZE) pool.shift();
  }
}
