/**
 * Replication, primary side: replica sessions, their per-shard flows, and the DFLY/REPLCONF
 * protocol that drives them (design/dragonfly-replication.md §2.5–2.7, §3.2–3.7).
 *
 * Owns: sessions (one per `REPLCONF capa dragonfly`), their flows (one connection per shard,
 * an ordinary client connection whose output becomes the flow stream), full-sync streaming
 * (a point-in-time snapshot of the shard with the shard's journal appended as JOURNAL_BLOBs),
 * the switch to stable sync (JOURNAL_OFFSET, EOF, token, then raw journal), partial sync from
 * the backlog, ACKs and lag, WAIT, takeover, and the promoted node's "last master" identity.
 *
 * Invariants:
 * - per flow, a key's snapshot record precedes every journal item touching it, and the switch
 *   to stable sync happens for all flows of a session in one synchronous step, so there is no
 *   gap and no duplicate between the snapshot+blobs and the stable journal;
 * - nothing here ever blocks a client write: journal items are appended to the flow's output
 *   buffer synchronously; a flow whose buffer passes `replication_stream_output_limit`, or
 *   that makes no write progress for `replication_timeout` ms, ends its whole session (with a
 *   logged reason), and the replica comes back by partial or full sync;
 * - any connection of a session closing cancels the whole session.
 *
 * Stock Redis replicas (PSYNC/SYNC) are served by src/replication/redis_primary.ts; this file
 * routes their REPLCONF pairs there and shows them in ROLE, INFO and WAIT next to the sessions.
 */
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { JournalConsumer } from "../journal/shard_journal.ts";
import type { PreWriteHook } from "../store/db_slice.ts";
import { shardOf } from "../store/key_hash.ts";
import { lookupCommand } from "../commands/registry.ts";
import { keyPositions } from "../commands/types.ts";
import { log } from "../observability/log.ts";
import { DfFlowWriter } from "./df_flow_writer.ts";
import { type RunningShardSnapshot, startShardSnapshot } from "../rdb/snapshot.ts";
import { type RedisReplicaState, redisReplicationOf } from "./redis_primary.ts";

/** Dragonfly protocol version this primary speaks (Dragonfly 1.40.1's DflyVersion). */
export const DFLY_VERSION = 5;
/** Session states, named as Dragonfly's SyncStateName. */
export type SyncState = "preparation" | "full_sync" | "stable_sync" | "cancelled";

/** Identity of the primary a promoted node replicated from (failover partial sync, §3.9). */
export interface LastMaster {
  /** The old primary's replid. */
  replid: string;
  /** Next LSN wanted per flow when replication stopped. */
  lsns: number[];
}

/** One shard's flow of a session. */
export interface Flow {
  /** The flow connection. */
  client: Client;
  /** Shard index (= flow id). */
  shard: number;
  /** LSN a partial sync starts at, or null for a full sync. */
  partialFrom: number | null;
  /** Last `REPLCONF ACK` value (the next LSN the replica wants). */
  lastAcked: number;
  /** Encoder of the flow stream (reply, RDB, journal). */
  writer: DfFlowWriter;
  /** Journal consumer currently attached (full-sync blobs or stable stream). */
  consumer: JournalConsumer | null;
  /** The snapshot of the shard while the full sync streams it. */
  snapshot: RunningShardSnapshot | null;
  /** bytesOut of the connection at the last progress check. */
  lastBytesOut: number;
  /** Time (ms) the flow last made write progress or had nothing to write. */
  lastProgress: number;
}

/** One replica's replication session. */
export interface Session {
  /** Session number; the wire id is `SYNC<id>`. */
  id: number;
  /** The control connection. */
  control: Client;
  /** Replica address shown in ROLE/INFO (REPLCONF ip-address, else the peer address). */
  ip: string;
  /** Replica listening port (REPLCONF listening-port). */
  port: string;
  /** Protocol version the replica announced (REPLCONF CLIENT-VERSION). */
  version: number;
  /** State, as ROLE shows it. */
  state: SyncState;
  /** Flows by shard index. */
  flows: (Flow | undefined)[];
}

/** Per-connection REPLCONF settings gathered before `capa dragonfly`. */
interface ReplconfInfo {
  port: string;
  ip: string | null;
}

/** Pending output (bytes) past which the snapshot walker waits for the socket. */
const SNAPSHOT_HIGH_WATER = 256 * 1024;
/** Pending output (bytes) the snapshot walker waits for before resuming. */
const SNAPSHOT_LOW_WATER = 64 * 1024;
/** Pending flow output (bytes) that is written at once instead of at the next batch flush. */
const STREAM_FLUSH_BYTES = 64 * 1024;
/** Delay (ms) of the batch flush that coalesces small journal writes into one socket write. */
const STREAM_FLUSH_DELAY_MS = 1;

function randomHex(chars: number): string {
  const bytes = new Uint8Array(chars / 2);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function peerIp(c: Client): string {
  const m = /^\[?(.*?)\]?:\d+$/.exec(c.addr);
  return m ? m[1] : c.addr;
}

/** The primary side of replication of one server. */
export class ReplicationPrimary {
  /** Live sessions by id. */
  readonly sessions = new Map<number, Session>();
  /** Set by promotion: the old primary's replid and the LSNs the journal continues from. */
  lastMaster: LastMaster | null = null;
  /** True while a takeover has locked this primary down. */
  takenOver = false;
  /** Flows that asked for a partial sync (DFLY FLOW with an LSN), granted or not (/metrics). */
  psyncRequests = 0;
  private nextSessionId = 1;
  private readonly replconfOf = new WeakMap<Client, ReplconfInfo>();
  private readonly sessionOfClient = new WeakMap<Client, Session>();
  private readonly flowOfClient = new WeakMap<Client, Flow>();
  private watchdog: ReturnType<typeof setInterval> | undefined;
  /** Flow connections with output waiting for the batch flush. */
  private readonly unflushed = new Set<Client>();
  /** Full-sync encoders holding journal blobs for the batch flush. */
  private readonly unflushedRdb = new Set<DfFlowWriter>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  /** Cancels a client's session when its control or flow connection closes. */
  constructor(private readonly server: Server) {
    server.onClientClose.push((c) => {
      const s = this.sessionOfClient.get(c);
      if (s !== undefined && this.sessions.get(s.id) === s) {
        this.cancel(s, `${c === s.control ? "control" : "flow"} connection ${c.addr} closed`);
      }
    });
  }

  /** Name of a state as ROLE and INFO show it (stable_sync is `online` in Valkey mode). */
  stateName(state: SyncState): string {
    if (state === "stable_sync" && this.server.config.bool("info_replication_valkey_compatible")) return "online";
    return state;
  }

  /** Name of a Redis replica's state in these terms (full_sync until it streams). */
  redisStateName(state: RedisReplicaState): string {
    return this.stateName(state === "online" ? "stable_sync" : "full_sync");
  }

  /** `[ip, port, state]` of every session and every Redis replica, for ROLE. */
  roleEntries(): [string, string, string][] {
    const out: [string, string, string][] = [...this.sessions.values()].map((
      s,
    ) => [s.ip, s.port, this.stateName(s.state)]);
    for (const r of redisReplicationOf(this.server).replicas) {
      out.push([r.ip, String(r.port), this.redisStateName(r.state)]);
    }
    return out;
  }

  /**
   * The `# Replication` lines of a primary: Dragonfly's shape, with Redis replicas' lines
   * (which carry `offset=`) after the sessions, and the Redis stream's offset and backlog
   * fields once a Redis replica created the backlog.
   */
  infoLines(): string[] {
    const redis = redisReplicationOf(this.server);
    const out = [`role:master`, `connected_slaves:${this.sessions.size + redis.replicas.size}`];
    let i = 0;
    for (const s of this.sessions.values()) {
      out.push(`slave${i++}:ip=${s.ip},port=${s.port},state=${this.stateName(s.state)},lag=${this.lag(s)}`);
    }
    for (const r of redis.replicas) {
      out.push(
        `slave${i++}:ip=${r.ip},port=${r.port},state=${this.redisStateName(r.state)},offset=${r.ackOffset},lag=${
          redis.lagRecords(r)
        }`,
      );
    }
    const backlog = redis.backlog;
    if (backlog === null) {
      out.push(`master_replid:${this.server.runId}`);
      return out;
    }
    out.push(
      `master_replid:${redis.replid}`,
      `master_replid2:${redis.replid2}`,
      `master_repl_offset:${redis.offset}`,
      `second_repl_offset:${redis.secondReplidOffset}`,
      `repl_backlog_active:1`,
      `repl_backlog_size:${backlog.size}`,
      `repl_backlog_first_byte_offset:${redis.backlogFirstByte}`,
      `repl_backlog_histlen:${backlog.histlen}`,
    );
    return out;
  }

  /** Backlog lines for `# Memory` (psync_buffer_size in entries, psync_buffer_bytes). */
  memoryLines(): string[] {
    const { items, bytes } = this.server.journal.backlogStats();
    let streaming = 0;
    for (const s of this.sessions.values()) {
      for (const f of s.flows) if (f && f.consumer) streaming += f.client.pendingOutput();
    }
    return [
      `psync_buffer_size:${items}`,
      `psync_buffer_bytes:${bytes}`,
      `replication_streaming_buffer_bytes:${streaming}`,
    ];
  }

  /** Lag of a session in journal records: max over flows of (next LSN − acked), 0 unless stable. */
  lag(s: Session): number {
    if (s.state !== "stable_sync") return 0;
    const shards = this.server.journal.shards;
    let lag = 0;
    for (const f of s.flows) {
      if (f) lag = Math.max(lag, shards[f.shard].nextLsn - f.lastAcked);
    }
    return lag;
  }

  /** Per-shard next LSN (0 while the journal has not started), for DFLY REPLICAOFFSET. */
  replicaOffsets(): number[] {
    const j = this.server.journal;
    return j.shards.map((s) => (j.enabled ? s.nextLsn : 0));
  }

  /** DFLY EXPIRE: deletes every key whose TTL passed. */
  expireAll(): void {
    const now = Date.now();
    for (const shard of this.server.store.shards) {
      for (const db of shard.dbs) {
        for (const [key, at] of [...db.expires]) if (at <= now) db.removeExpired(key);
      }
    }
  }

  /**
   * REPLCONF key value ... (Dragonfly's pairs, and those of stock Redis replicas and redis-cli:
   * rdb-only, rdb-filter-only). `ack` and `getack` are never answered: the socket of a replica
   * carries its stream.
   */
  replconf(c: Client, args: string[]): void {
    if ((args.length - 1) % 2 === 0) {
      for (let i = 1; i < args.length; i += 2) {
        const key = args[i].toLowerCase();
        if (key === "getack") return;
        if (key !== "ack") continue;
        const flow = this.flowOfClient.get(c);
        const lsn = Number(args[i + 1]);
        if (flow !== undefined && Number.isSafeInteger(lsn) && lsn >= 0) flow.lastAcked = lsn;
        else redisReplicationOf(this.server).ack(c, args[i + 1]);
        return;
      }
    }
    if (this.server.isReplica) return c.w.error("ERR Replicating a replica is unsupported");
    if ((args.length - 1) % 2 !== 0) return c.w.error("ERR syntax error");
    const only = args.length === 3;
    const redis = redisReplicationOf(this.server);
    for (let i = 1; i < args.length; i += 2) {
      const key = args[i].toLowerCase();
      const value = args[i + 1];
      if (key === "listening-port") {
        const info = this.replconfInfo(c);
        info.port = value;
      } else if (key === "ip-address") {
        this.replconfInfo(c).ip = value;
      } else if (key === "capa") {
        if (only && value.toLowerCase() === "dragonfly") return this.createSession(c);
      } else if (key === "rdb-only" || key === "rdb-filter-only") {
        // Checked below with the Redis settings.
      } else if (key === "client-id" && only) {
        // A cluster node id; nothing to do outside cluster mode.
      } else if (key === "client-version" && only) {
        const s = this.sessionOfClient.get(c);
        const v = Number(value);
        if (s !== undefined && Number.isSafeInteger(v)) s.version = v;
      } else {
        return c.w.error("ERR syntax error");
      }
      const error = redis.replconf(c, key, value);
      if (error !== null) return c.w.error(error);
    }
    c.w.simple("OK");
  }

  /** The REPLCONF settings of a connection (created with defaults). */
  private replconfInfo(c: Client): ReplconfInfo {
    let info = this.replconfOf.get(c);
    if (info === undefined) this.replconfOf.set(c, info = { port: "0", ip: null });
    return info;
  }

  /** `REPLCONF capa dragonfly`: opens a session in PREPARATION. */
  private createSession(c: Client): void {
    const info = this.replconfInfo(c);
    const id = this.nextSessionId++;
    const shards = this.server.store.numShards;
    const session: Session = {
      id,
      control: c,
      ip: info.ip ?? peerIp(c),
      port: info.port,
      version: 0,
      state: "preparation",
      flows: new Array(shards).fill(undefined),
    };
    this.sessions.set(id, session);
    this.sessionOfClient.set(c, session);
    c.isReplica = true;
    c.name = `repl_ctrl_${id}`;
    this.server.journal.enable();
    this.startWatchdog();
    log.info(`replica ${session.ip}:${session.port} opened replication session SYNC${id} (${shards} flows)`);
    c.w.array(5);
    c.w.simple(this.server.runId);
    c.w.simple(`SYNC${id}`);
    c.w.int(shards);
    c.w.int(DFLY_VERSION);
    c.w.simple(this.server.runId);
  }

  /** The session named by `SYNC<id>`, or null after replying with an error. */
  private sessionOrReply(c: Client, syncId: string): Session | null {
    const m = /^SYNC(\d+)$/.exec(syncId);
    if (m === null) {
      c.w.error("ERR bad sync id");
      return null;
    }
    const s = this.sessions.get(Number(m[1]));
    if (s === undefined) {
      c.w.error("ERR syncid not found");
      return null;
    }
    return s;
  }

  /** DFLY FLOW <replid> SYNC<id> <flow> [<lsn> | <last_master_replid> <lsn0-lsn1-...>] */
  flow(c: Client, args: string[]): void {
    if (args[2] !== this.server.runId) return c.w.error("ERR bad master id");
    const shards = this.server.store.numShards;
    const flowId = /^\d+$/.test(args[4]) ? Number(args[4]) : NaN;
    const s = this.sessionOrReply(c, args[3]);
    if (s === null) return;
    if (!(flowId < shards)) return c.w.error("ERR value is not an integer or out of range");
    let requested: number | null = null;
    let vectorForm = false;
    if (args.length === 6) {
      if (!/^\d+$/.test(args[5])) return c.w.error("ERR value is not an integer or out of range");
      requested = Number(args[5]);
    } else if (args.length === 7) {
      const parts = args[6].split("-");
      if (parts.length !== shards || parts.some((p) => !/^\d+$/.test(p))) return c.w.error("ERR syntax error");
      vectorForm = true;
      if (this.lastMaster !== null && args[5] === this.lastMaster.replid) requested = Number(parts[flowId]);
      else {
        log.info(
          `flow ${flowId} of SYNC${s.id}: partial sync requested from primary ${
            args[5]
          }, which this node did not replicate from; full sync`,
        );
      }
    }
    if (s.state !== "preparation") return c.w.error("ERR invalid state");
    const old = s.flows[flowId];
    if (old !== undefined && old.client !== c) {
      this.cancel(s, `flow ${flowId} opened twice`);
      return c.w.error("ERR invalid state");
    }
    const journal = this.server.journal;
    journal.enable();
    const shardJournal = journal.shards[flowId];
    let partialFrom: number | null = null;
    if (requested !== null) {
      this.psyncRequests++;
      if (shardJournal.canServe(requested)) {
        partialFrom = requested;
        log.info(
          `Partial sync requested from LSN=${requested} and is available (flow ${flowId} of SYNC${s.id}, current_lsn=${shardJournal.nextLsn}${
            vectorForm ? ", continuing the old primary's LSNs" : ""
          })`,
        );
      } else {
        log.info(
          `Partial sync requested from stale LSN=${requested} that the replication buffer doesn't contain anymore (flow ${flowId} of SYNC${s.id}, current_lsn=${shardJournal.nextLsn}, oldest=${shardJournal.firstLsn}); full sync`,
        );
      }
    }
    const writer = new DfFlowWriter((bytes) => {
      c.w.raw(bytes);
      this.scheduleFlush(c);
    }, { token: randomHex(40), lendChunks: true });
    const flow: Flow = {
      client: c,
      shard: flowId,
      partialFrom,
      lastAcked: partialFrom ?? 0,
      writer,
      consumer: null,
      snapshot: null,
      lastBytesOut: c.bytesOut,
      lastProgress: Date.now(),
    };
    s.flows[flowId] = flow;
    this.sessionOfClient.set(c, s);
    this.flowOfClient.set(c, flow);
    c.isReplica = true;
    c.name = `repl_flow_${s.id}`;
    writer.writeReply(partialFrom !== null ? "PARTIAL" : "FULL");
  }

  /** DFLY SYNC SYNC<id>: starts the full sync of every flow. */
  sync(c: Client, syncId: string): void {
    const s = this.sessionOrReply(c, syncId);
    if (s === null) return;
    if (s.state !== "preparation" || s.flows.some((f) => f === undefined || f.partialFrom !== null)) {
      return c.w.error("ERR invalid state");
    }
    s.state = "full_sync";
    log.info(`Started full sync with replica ${s.ip}:${s.port} (SYNC${s.id})`);
    for (const f of s.flows) this.startFullSync(s, f!);
    c.w.simple("OK");
  }

  /**
   * Full sync of one flow: the RDB header, then the shard's point-in-time snapshot with the
   * shard's journal appended as JOURNAL_BLOBs from this very moment, then FULLSYNC_END. Blobs
   * keep flowing until STARTSTABLE.
   */
  private startFullSync(s: Session, f: Flow): void {
    const server = this.server;
    const c = f.client;
    const writer = f.writer;
    writer.beginRdb({
      shardId: f.shard,
      summary: f.shard === 0 ? { shardCount: s.flows.length, tableMem: 0 } : undefined,
    });
    const shard = server.store.shards[f.shard];
    // The snapshot's pre-write hook, which emits a key of the cut the walk has not reached yet.
    let emitUnsent: PreWriteHook | null = null;
    const consumer: JournalConsumer = {
      onItem: (item) =>
        this.guard(s, f, () => {
          // A command that read keys the walk has not reached (BITOP, SUNIONSTORE, RENAME, ...)
          // must find them on the replica: send them (unchanged since the cut) before the blob.
          if (emitUnsent !== null && item.args.length > 1) {
            for (const key of this.keysOnShard(item.args, f.shard)) emitUnsent(shard.dbs[item.db], key);
          }
          writer.writeJournalBlob(item.bytes);
          // The RDB encoder buffers; a blob must not wait there for the next snapshot slice
          // (after FULLSYNC_END there is none, and the replica may be waiting for this item).
          this.unflushedRdb.add(writer);
          this.armFlushTimer();
        }),
    };
    // The cut: the snapshot and the journal consumer start in the same synchronous step.
    f.consumer = consumer;
    server.journal.shards[f.shard].consumers.add(consumer);
    const hooksBefore = new Set(shard.preWriteHooks);
    const backpressure = () => {
      if (c.closed || s.state === "cancelled") return undefined;
      writer.flush();
      if (c.pendingOutput() < SNAPSHOT_HIGH_WATER) return undefined;
      return c.whenDrained(SNAPSHOT_LOW_WATER);
    };
    // The replica overwrites keys, so the walk need not remember what it sent (less memory).
    const snapshot = startShardSnapshot(shard, (db, entry) => writer.writeEntry(db, entry), backpressure, true);
    emitUnsent = shard.preWriteHooks.find((h) => !hooksBefore.has(h)) ?? null;
    f.snapshot = snapshot;
    snapshot.done.then(
      () => {
        if (s.state === "cancelled") return;
        writer.writeFullSyncEnd();
        writer.flush();
        log.v(1, `flow ${f.shard} of SYNC${s.id}: snapshot sent (${snapshot.entries} keys)`);
      },
      (e) => {
        if (s.state !== "cancelled") this.cancel(s, `flow ${f.shard} snapshot failed: ${(e as Error).message}`);
      },
    );
  }

  /** Keys of a command vector that live on `shard`. */
  private keysOnShard(args: readonly string[], shard: number): string[] {
    const spec = lookupCommand(args[0]);
    if (spec === undefined) return [];
    const n = this.server.store.numShards;
    return keyPositions(spec, args as string[]).map((i) => args[i]).filter((k) => shardOf(k, n) === shard);
  }

  /** DFLY STARTSTABLE SYNC<id>: switches every flow to the stable journal stream. */
  async startStable(c: Client, syncId: string): Promise<void> {
    const s = this.sessionOrReply(c, syncId);
    if (s === null) return;
    const partial = s.state === "preparation" && s.flows.every((f) => f !== undefined && f.partialFrom !== null);
    if (!(s.state === "full_sync" || partial) || s.flows.some((f) => f === undefined)) {
      return c.w.error("ERR invalid state");
    }
    if (!partial) {
      // A well-behaved replica asks only after every flow's FULLSYNC_END; wait otherwise.
      await Promise.all(s.flows.map((f) => f!.snapshot!.done));
      if (s.state === "cancelled") return c.w.error("ERR invalid state");
    }
    const journal = this.server.journal;
    // Every flow switches in this one synchronous step: no item can fall between the modes.
    for (const f of s.flows as Flow[]) {
      const shard = journal.shards[f.shard];
      if (f.consumer) shard.consumers.delete(f.consumer);
      f.consumer = null;
      if (f.partialFrom !== null) {
        const backlog = shard.readFrom(f.partialFrom);
        if (backlog === null) {
          this.cancel(
            s,
            `Partial sync was unsuccessful because entry #${f.partialFrom} was dropped from the backlog of shard ${f.shard}`,
          );
          return c.w.error("ERR invalid state");
        }
        for (const item of backlog) f.writer.writeItem(item.lsn, item.bytes);
        f.lastAcked = f.partialFrom;
      } else {
        const offset = shard.nextLsn;
        f.writer.finishRdb(offset);
        f.snapshot = null;
        f.lastAcked = offset;
      }
      const consumer: JournalConsumer = {
        onItem: (item) => this.guard(s, f, () => f.writer.writeItem(item.lsn, item.bytes)),
      };
      f.consumer = consumer;
      shard.consumers.add(consumer);
    }
    s.state = "stable_sync";
    log.info(
      `Transitioned into stable sync with replica ${s.ip}:${s.port} (SYNC${s.id}, ${
        partial ? "partial" : "full"
      } sync)`,
    );
    c.w.simple("OK");
  }

  /**
   * Writes a flow's output soon: at once when a good amount is pending, otherwise with every
   * other flow at the next batch flush (a write per journal item would cost a syscall each).
   */
  private scheduleFlush(c: Client): void {
    if (c.pendingOutput() >= STREAM_FLUSH_BYTES) {
      this.unflushed.delete(c);
      c.flush();
      return;
    }
    this.unflushed.add(c);
    this.armFlushTimer();
  }

  /** Starts the batch flush timer unless it is already running. */
  private armFlushTimer(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      // RDB bytes first: handing them over queues their connections for the flush below.
      for (const w of this.unflushedRdb) w.flush();
      this.unflushedRdb.clear();
      for (const c of this.unflushed) c.flush();
      this.unflushed.clear();
    }, STREAM_FLUSH_DELAY_MS);
  }

  /**
   * Runs a journal consumer's work for flow `f`: whatever goes wrong ends this session only
   * (the journal hands the item to every other consumer), and an output buffer over the limit
   * ends it too.
   */
  private guard(s: Session, f: Flow, work: () => void): void {
    if (s.state === "cancelled") return;
    try {
      work();
    } catch (e) {
      log.error(`flow ${f.shard} of SYNC${s.id}: ${(e as Error).stack ?? e}`);
      queueMicrotask(() => this.cancel(s, `flow ${f.shard} failed: ${(e as Error).message}`));
      return;
    }
    this.checkOutputLimit(s, f);
  }

  /** Ends the session of a flow whose buffered output passed the limit. */
  private checkOutputLimit(s: Session, f: Flow): void {
    const limit = this.server.config.num("replication_stream_output_limit");
    const pending = f.client.pendingOutput();
    if (pending <= limit || s.state === "cancelled") return;
    queueMicrotask(() =>
      this.cancel(
        s,
        `flow ${f.shard} buffered ${pending} bytes, over replication_stream_output_limit (${limit}): the replica is too slow`,
      )
    );
  }

  /** Ends a session: every connection closes, consumers and snapshots stop. */
  cancel(s: Session, reason: string): void {
    if (this.sessions.get(s.id) !== s) return;
    this.sessions.delete(s.id);
    const prev = s.state;
    s.state = "cancelled";
    log.warn(`Replication session SYNC${s.id} with replica ${s.ip}:${s.port} dropped (was ${prev}): ${reason}`);
    const journal = this.server.journal;
    for (const f of s.flows) {
      if (!f) continue;
      if (f.consumer) journal.shards[f.shard].consumers.delete(f.consumer);
      f.consumer = null;
      f.snapshot?.cancel();
      f.snapshot = null;
      f.client.kill();
    }
    s.control.kill();
    if (this.sessions.size === 0) this.stopWatchdog();
  }

  /** Ends every session and drops every Redis replica (this node becomes a replica or shuts down). */
  cancelAll(reason: string): void {
    for (const s of [...this.sessions.values()]) this.cancel(s, reason);
    redisReplicationOf(this.server).dropAll(reason);
  }

  /** Starts the stall watchdog (every 1000/hz ms, at least 100 ms) unless running. */
  private startWatchdog(): void {
    if (this.watchdog !== undefined) return;
    const hz = this.server.config.num("hz");
    const period = Math.max(100, hz > 0 ? Math.floor(1000 / hz) : 100);
    this.watchdog = setInterval(() => this.checkStalls(), period);
    Deno.unrefTimer(this.watchdog);
  }

  /** Stops the stall watchdog. */
  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** Drops sessions whose flows have output waiting but made no write progress for `replication_timeout`. */
  private checkStalls(): void {
    const timeout = this.server.config.num("replication_timeout");
    const now = Date.now();
    for (const s of [...this.sessions.values()]) {
      for (const f of s.flows) {
        if (!f) continue;
        const c = f.client;
        const waiting = c.pendingOutput() > 0 || (f.snapshot !== null && f.snapshot.waiting);
        if (!waiting || c.bytesOut !== f.lastBytesOut) {
          f.lastBytesOut = c.bytesOut;
          f.lastProgress = now;
        } else if (timeout > 0 && now - f.lastProgress > timeout) {
          this.cancel(s, `flow ${f.shard} made no write progress for ${now - f.lastProgress} ms (replication_timeout)`);
          break;
        }
      }
    }
  }

  /** Number of stable sessions whose every flow acknowledged at least `target[shard]`. */
  private ackedCount(target: number[]): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (s.state !== "stable_sync") continue;
      if (s.flows.every((f) => f !== undefined && f.lastAcked >= target[f.shard])) n++;
    }
    return n;
  }

  /**
   * WAIT numreplicas timeout: replicas that acknowledged every write made so far (sessions by
   * their flows' LSNs, Redis replicas by their stream offset).
   */
  async wait(c: Client, numReplicas: number, timeoutMs: number): Promise<void> {
    const journal = this.server.journal;
    const redis = redisReplicationOf(this.server);
    const target = journal.lsnVector();
    const redisTarget = redis.offset;
    const acked = () => this.ackedCount(target) + redis.ackedCount(redisTarget);
    let count = acked();
    if (count >= numReplicas || c.multi !== null) {
      return c.w.int(count);
    }
    journal.ping();
    redis.requestAcks();
    const deadline = Date.now() + (timeoutMs === 0 ? 600_000 : timeoutMs);
    while (!c.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      count = acked();
      if (count >= numReplicas || this.server.isReplica) break;
    }
    c.w.int(this.server.isReplica ? 0 : acked());
  }

  /** DFLY TAKEOVER <timeout> [SAVE] SYNC<id>: hands the primary role to this session's replica. */
  async takeover(c: Client, args: string[]): Promise<void> {
    const timeoutSec = Number(args[2]);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(args[2])) return c.w.error("ERR value is not an integer or out of range");
    if (timeoutSec < 0) return c.w.error("ERR timeout is negative");
    const save = args.length === 5;
    if (save && args[3].toUpperCase() !== "SAVE") return c.w.error("ERR syntax error");
    const s = this.sessionOrReply(c, args[args.length - 1]);
    if (s === null) return;
    if (s.state !== "stable_sync" || s.flows.some((f) => f === undefined)) return c.w.error("ERR invalid state");
    if (this.takenOver || this.server.loading) return c.w.error("ERR Takeover failed!");
    log.info(`Takeover by replica ${s.ip}:${s.port} initiated, locking down the database.`);
    const server = this.server;
    this.takenOver = true;
    server.loading = true;
    for (const other of server.clients.values()) {
      if (other.blockedOn !== null) other.unblock?.(false);
    }
    const journal = server.journal;
    journal.ping();
    const deadline = Date.now() + timeoutSec * 1000;
    const caughtUp = (session: Session) =>
      session.flows.every((f) => f !== undefined && f.lastAcked >= journal.shards[f.shard].nextLsn);
    while (!caughtUp(s)) {
      if ((s.state as SyncState) === "cancelled" || Date.now() > deadline) {
        log.warn(`Couldn't synchronize with replica ${s.ip}:${s.port} for takeover in time; takeover failed`);
        this.takenOver = false;
        server.loading = false;
        return c.w.error("ERR Takeover failed!");
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    // The new primary has everything up to here; nothing more may be journaled, or the other
    // replicas would get items the new primary never saw (and could not partial-sync from it).
    journal.enabled = false;
    c.w.simple("OK");
    await c.whenDrained(1);
    // Best effort: give the other replicas until the deadline to catch up too.
    while (Date.now() < deadline && [...this.sessions.values()].some((o) => o !== s && !caughtUp(o))) {
      await new Promise((r) => setTimeout(r, 1));
    }
    log.info(`Takeover accepted, shutting down${save ? " after saving a snapshot" : ""}.`);
    await server.shutdown(save);
  }
}

const primaries = new WeakMap<Server, ReplicationPrimary>();

/** The primary side of `server` (created on first use). */
export function primaryOf(server: Server): ReplicationPrimary {
  let p = primaries.get(server);
  if (p === undefined) primaries.set(server, p = new ReplicationPrimary(server));
  return p;
}
