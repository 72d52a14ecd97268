/**
 * Replication, primary side, Redis protocol (design/redis-replication-rdb.md §B): stock Redis
 * replicas (`redis-server --replicaof`), `redis-cli --rdb` and `redis-cli --replica` following
 * this node with PSYNC/SYNC, next to the damselfly/Dragonfly sessions of primary.ts.
 *
 * Owns: the Redis replication stream (every recorded write as a RESP array, SELECT emitted when
 * the database changes and after every full resync, `ping` every 10 s, `REPLCONF GETACK *` for
 * WAIT), its byte offset (`master_repl_offset`) and replication ids (replid, replid2), the
 * backlog (a ring of the last `repl_backlog_size` stream bytes) that serves `+CONTINUE`, the
 * replicas (their REPLCONF settings, full sync, ACK offsets, lag) and the RDB version choice.
 *
 * Invariants:
 * - the stream is recorded only while a backlog exists (created by the first PSYNC/SYNC, as in
 *   Redis); every byte of it, SELECT/PING/GETACK included, advances the offset, and every
 *   replica and the backlog receive the same bytes in the same order;
 * - a full sync's cut (the point-in-time snapshot of every shard), its `+FULLRESYNC` offset and
 *   the start of the replica's pending stream are taken in one synchronous step: the RDB holds
 *   exactly the writes up to that offset, the pending stream exactly those after it, and each
 *   key appears once in the RDB (a stock replica exits on a duplicate key);
 * - nothing is written to a replica after a diskless RDB's EOF mark until its first
 *   `REPLCONF ACK` (Redis's rule; stock replicas would lose or misread those bytes); `REPLCONF
 *   ACK` is never answered; only RESP arrays follow the RDB on a replica link;
 * - a replica that falls too far behind (pending bytes over replication_stream_output_limit),
 *   makes no write progress for replication_timeout ms, or sends nothing for 60 s is dropped
 *   with a logged reason; it comes back by partial or full resync;
 * - RDB version: 10 (Redis 7.0+) unless this replica (ip and listening port) dropped the link
 *   right after an RDB of that version without acknowledging it, which is how a stock replica
 *   refuses a version it does not know; it then gets 9 (Redis 6.2).
 */
import type { Client } from "../server/client.ts";
import type { Server, WriteObserver } from "../server/server.ts";
import { log } from "../observability/log.ts";
import { ByteWriter, writeLatin1 } from "../rdb/bytes.ts";
import type { RdbWriteVersion } from "../rdb/constants.ts";
import { RdbWriter } from "../rdb/writer.ts";
import { ShardSnapshot, SnapshotCancelled, snapshotOptions, type SnapshotSink } from "../rdb/snapshot.ts";

/** A replication id of forty zeros (replid2 when there is none). */
const NO_REPLID = "0".repeat(40);
/** Redis's repl-ping-replica-period: a `ping` enters the stream this often while replicas exist. */
const PING_PERIOD_MS = 10_000;
/** Redis's repl-timeout: an online replica that sent nothing (no ACK) for this long is dropped. */
const REPLICA_TIMEOUT_MS = 60_000;
/** Pending RDB output (bytes) past which the snapshot walk waits for the socket. */
const RDB_HIGH_WATER = 256 * 1024;
/** Pending output the walk waits for before resuming. */
const RDB_LOW_WATER = 64 * 1024;
/** Stream commands whose end offsets are kept to express a replica's lag in records. */
const LAG_WINDOW = 65_536;
/** RDB version sent unless a replica refused it. */
const DEFAULT_RDB_VERSION: RdbWriteVersion = 10;
/** Lowest RDB version written (Redis 6.2). */
const LOWEST_RDB_VERSION: RdbWriteVersion = 9;

/** Where a Redis replica is in its sync. */
export type RedisReplicaState = "wait_bgsave" | "send_bulk" | "wait_ack" | "online";

/** What a connection told us with REPLCONF before PSYNC/SYNC. */
export interface ReplconfSettings {
  /** REPLCONF listening-port. */
  port: number;
  /** REPLCONF ip-address, or null. */
  ip: string | null;
  /** `capa eof`: takes diskless `$EOF:` payloads. */
  eof: boolean;
  /** `capa psync2`: understands `+CONTINUE <replid>`. */
  psync2: boolean;
  /** REPLCONF rdb-only 1 (redis-cli --rdb): the RDB, then the connection closes. */
  rdbOnly: boolean;
  /** REPLCONF rdb-filter-only ("" or "functions"): an RDB without keys; null when not asked. */
  filter: string | null;
}

/** One Redis-protocol replica. */
export interface RedisReplica {
  /** Its connection. */
  readonly client: Client;
  /** Address shown in INFO/ROLE (REPLCONF ip-address, else the peer address). */
  readonly ip: string;
  /** Its listening port (REPLCONF listening-port; 0 when never sent). */
  readonly port: number;
  /** Settings from REPLCONF. */
  readonly settings: ReplconfSettings;
  /** Reached us with SYNC (no +FULLRESYNC line, no ACKs expected). */
  readonly prePsync: boolean;
  /** Sync progress. */
  state: RedisReplicaState;
  /** Stream bytes held back until the replica is online (copies, in order). */
  pending: Uint8Array[];
  /** Bytes in `pending`. */
  pendingBytes: number;
  /** Last `REPLCONF ACK` offset. */
  ackOffset: number;
  /** RDB version of its last full sync (0 after a partial one). */
  rdbVersion: number;
  /** Snapshots of a running full sync (cancelled when the replica goes away). */
  snapshots: ShardSnapshot[];
  /** bytesOut of the connection at the last progress check. */
  lastBytesOut: number;
  /** Time (ms) the replica last made write progress or had nothing to write. */
  lastProgress: number;
  /** Set once the replica was dropped. */
  dropped: boolean;
}

/** Statistics of the Redis-protocol replication (INFO stats `sync_*`). */
export interface RedisSyncStats {
  /** Full resyncs served (SYNC, or PSYNC answered +FULLRESYNC). */
  full: number;
  /** PSYNCs answered +CONTINUE. */
  partialOk: number;
  /** PSYNCs that named a replid and offset but got a full resync. */
  partialErr: number;
}

/** The cached-master identity a demoted node offers its new primary (Redis's "cache myself"). */
export interface StreamPosition {
  /** This node's replid. */
  replid: string;
  /** Its master_repl_offset. */
  offset: number;
}

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

/** Parses a non-negative decimal integer the way REPLCONF does (null when it is not one). */
function parseCount(text: string): number | null {
  return /^\d{1,15}$/.test(text) ? Number(text) : null;
}

/** The last `size` bytes of the replication stream, in a ring. */
export class ReplBacklog {
  private buf: Uint8Array;
  /** Index of the next byte written. */
  private head = 0;
  /** Bytes held (at most the ring size). */
  histlen = 0;

  /** An empty backlog of `size` bytes. */
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  /** Capacity in bytes. */
  get size(): number {
    return this.buf.length;
  }

  /** Appends stream bytes (only the last `size` bytes survive). */
  append(bytes: Uint8Array): void {
    const size = this.buf.length;
    let src = bytes;
    if (src.length > size) src = src.subarray(src.length - size);
    const first = Math.min(src.length, size - this.head);
    this.buf.set(src.subarray(0, first), this.head);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
    this.head = (this.head + src.length) % size;
    this.histlen = Math.min(size, this.histlen + bytes.length);
  }

  /** A copy of the last `n` bytes (n ≤ histlen). */
  tail(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const size = this.buf.length;
    const start = (this.head - n + size) % size;
    const first = Math.min(n, size - start);
    out.set(this.buf.subarray(start, start + first), 0);
    if (first < n) out.set(this.buf.subarray(0, n - first), first);
    return out;
  }

  /** A ring of `size` bytes holding the newest bytes of this one. */
  resized(size: number): ReplBacklog {
    const next = new ReplBacklog(size);
    next.append(this.tail(Math.min(this.histlen, size)));
    return next;
  }
}

/** The Redis-protocol primary of one server; see the file comment. */
export class RedisReplication implements WriteObserver {
  /** Replication id of the stream (+FULLRESYNC, +CONTINUE, INFO master_replid). */
  replid: string;
  /** Previous replication id (a promoted replica's old primary), or forty zeros. */
  replid2: string = NO_REPLID;
  /** Last offset + 1 that replid2 is valid for, or -1. */
  secondReplidOffset: number = -1;
  /** master_repl_offset: bytes ever appended to the stream. */
  offset = 0;
  /** The backlog, or null before the first replica (nothing is recorded then). */
  backlog: ReplBacklog | null = null;
  /** Replicas, in arrival order. */
  readonly replicas = new Set<RedisReplica>();
  /** sync_full / sync_partial_ok / sync_partial_err. */
  readonly stats: RedisSyncStats = { full: 0, partialOk: 0, partialErr: 0 };
  /** Database the stream last selected (-1: the next command gets a SELECT). */
  private selDb = -1;
  /** Encoded stream bytes not yet handed to the backlog and the replicas. */
  private readonly batch = new ByteWriter(16 * 1024);
  private flushQueued = false;
  private readonly settingsOf = new WeakMap<Client, ReplconfSettings>();
  private readonly replicaOf = new WeakMap<Client, RedisReplica>();
  /** End offsets of the last LAG_WINDOW stream commands (a ring), and how many were written. */
  private readonly commandEnds = new Float64Array(LAG_WINDOW);
  private commands = 0;
  /** Highest RDB version a replica (`ip:port`) dropped the link after. */
  private readonly refusedVersion = new Map<string, number>();
  private cron: ReturnType<typeof setInterval> | undefined;
  private lastPing = 0;

  /** Observes the server's writes and drops replicas whose connection closes; the replid starts as the run id. */
  constructor(private readonly server: Server) {
    this.replid = server.runId;
    server.writeObservers.push(this);
    server.onClientClose.push((c) => {
      const r = this.replicaOf.get(c);
      if (r !== undefined) this.drop(r, `connection ${c.addr} closed`);
    });
  }

  // -------------------------------------------------------------------------------------------
  // The stream

  /** WriteObserver: appends one recorded write (with a SELECT when its database differs). */
  onWrite(db: number, args: string[]): void {
    if (this.backlog === null) return;
    if (db !== this.selDb) {
      this.append(["SELECT", String(db)]);
      this.selDb = db;
    }
    this.append(args);
  }

  /** WriteObserver: PUBLISH enters the stream like a write (Redis propagates it to replicas). */
  onPublish(db: number, channel: string, message: string): void {
    this.onWrite(db, ["PUBLISH", channel, message]);
  }

  /** Encodes one command into the stream. */
  private append(args: readonly string[]): void {
    const w = this.batch;
    let size = 16;
    for (const a of args) size += a.length + 16;
    w.reserve(size);
    const start = w.length;
    w.length += asciiInto(w.buf, w.length, `*${args.length}\r\n`);
    for (const a of args) {
      w.length += asciiInto(w.buf, w.length, `$${a.length}\r\n`);
      writeLatin1(w.buf, a, w.length);
      w.length += a.length;
      w.buf[w.length++] = 13;
      w.buf[w.length++] = 10;
    }
    this.offset += w.length - start;
    this.commandEnds[this.commands % LAG_WINDOW] = this.offset;
    this.commands++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Hands the encoded bytes to the backlog and to every replica (held back for those not online). */
  flush(): void {
    this.flushQueued = false;
    const w = this.batch;
    if (w.length === 0 || this.backlog === null) {
      w.length = 0;
      return;
    }
    const bytes = w.buf.subarray(0, w.length);
    this.refreshBacklogSize();
    this.backlog.append(bytes);
    let held: Uint8Array | null = null;
    const limit = this.server.config.num("replication_stream_output_limit");
    for (const r of this.replicas) {
      if (r.state === "online") {
        r.client.w.raw(bytes);
        r.client.flush();
        if (r.client.pendingOutput() > limit) {
          this.drop(
            r,
            `${r.client.pendingOutput()} bytes of stream buffered, over replication_stream_output_limit (${limit}): the replica is too slow`,
          );
        }
      } else {
        held ??= bytes.slice();
        r.pending.push(held);
        r.pendingBytes += held.length;
        if (r.pendingBytes > limit) {
          this.drop(
            r,
            `${r.pendingBytes} bytes of stream held during its full sync, over replication_stream_output_limit (${limit})`,
          );
        }
      }
    }
    w.length = 0;
    if (w.buf.length > 1024 * 1024) w.reset(16 * 1024);
  }

  /** Applies a changed repl_backlog_size (keeping the newest bytes). */
  private refreshBacklogSize(): void {
    const size = this.server.config.num("repl_backlog_size");
    if (this.backlog !== null && this.backlog.size !== size) this.backlog = this.backlog.resized(size);
  }

  /** First offset the backlog holds (INFO repl_backlog_first_byte_offset). */
  get backlogFirstByte(): number {
    return this.backlog === null ? 0 : this.offset - this.batch.length - this.backlog.histlen + 1;
  }

  /** Creates the backlog (first replica, or promotion); the stream starts at offset + 1. */
  private createBacklog(): void {
    this.backlog = new ReplBacklog(this.server.config.num("repl_backlog_size"));
    log.info(
      `Redis replication backlog created (${this.backlog.size} bytes), replid ${this.replid}, offset ${this.offset}`,
    );
  }

  /** Puts `REPLCONF GETACK *` into the stream so that every replica reports its offset now (WAIT). */
  requestAcks(): void {
    if (this.backlog === null || this.replicas.size === 0) return;
    this.append(["REPLCONF", "GETACK", "*"]);
  }

  /** Replicas (online, with ACKs) that acknowledged at least `offset`. */
  ackedCount(offset: number): number {
    let n = 0;
    for (const r of this.replicas) if (r.state === "online" && !r.prePsync && r.ackOffset >= offset) n++;
    return n;
  }

  /**
   * How many stream commands (SELECT and PING included) a replica has not acknowledged yet;
   * 0 unless it is online. Exact for the last LAG_WINDOW commands, at least that many beyond.
   */
  lagRecords(r: RedisReplica): number {
    if (r.state !== "online") return 0;
    const ack = r.ackOffset;
    const oldest = Math.max(0, this.commands - LAG_WINDOW);
    let lo = oldest;
    let hi = this.commands;
    // First command (index) whose end offset is past the ACK.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.commandEnds[mid % LAG_WINDOW] > ack) hi = mid;
      else lo = mid + 1;
    }
    return this.commands - lo;
  }

  // -------------------------------------------------------------------------------------------
  // Role changes

  /**
   * This node becomes a replica: drops every Redis replica and the backlog. Returns the
   * stream position it may offer the new primary (a promoted former replica of ours accepts it
   * through its replid2), or null when no stream was ever recorded. The replid then changes,
   * so that nobody continues a history this node is about to leave.
   */
  becomeReplica(): StreamPosition | null {
    this.flush();
    this.dropAll("this node became a replica");
    if (this.backlog === null) return null;
    const position = { replid: this.replid, offset: this.offset };
    this.backlog = null;
    this.replid = randomHex(40);
    this.replid2 = NO_REPLID;
    this.secondReplidOffset = -1;
    return position;
  }

  /**
   * A replica of a Redis primary was promoted: the stream continues the old primary's history
   * (its replid becomes replid2, valid up to `offset + 1`) under a new replid, so that sibling
   * replicas that caught up can continue with a partial resync (Redis's shiftReplicationId).
   */
  promoted(oldReplid: string, offset: number): void {
    this.replid2 = oldReplid;
    this.secondReplidOffset = offset + 1;
    this.replid = randomHex(40);
    this.offset = offset;
    this.commands = 0;
    this.selDb = -1;
    this.createBacklog();
    log.info(`Redis replication stream continues ${oldReplid} at offset ${offset + 1} as ${this.replid}`);
  }

  /** Drops every replica. */
  dropAll(reason: string): void {
    for (const r of [...this.replicas]) this.drop(r, reason);
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  /** The REPLCONF settings of a connection (created on first use). */
  private settings(c: Client): ReplconfSettings {
    let s = this.settingsOf.get(c);
    if (s === undefined) {
      s = { port: 0, ip: null, eof: false, psync2: false, rdbOnly: false, filter: null };
      this.settingsOf.set(c, s);
    }
    return s;
  }

  /**
   * Records one REPLCONF pair a Redis replica or redis-cli sends (listening-port, ip-address,
   * capa, rdb-only, rdb-filter-only). Returns an error reply text, or null.
   */
  replconf(c: Client, key: string, value: string): string | null {
    const s = this.settings(c);
    switch (key) {
      case "listening-port": {
        const port = parseCount(value);
        if (port !== null) s.port = port;
        return null;
      }
      case "ip-address":
        if (value.length >= 256) {
          return `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`;
        }
        s.ip = value;
        return null;
      case "capa": {
        const capa = value.toLowerCase();
        if (capa === "eof") s.eof = true;
        else if (capa === "psync2") s.psync2 = true;
        return null;
      }
      case "rdb-only": {
        const n = parseCount(value);
        if (n === null) return "ERR value is not an integer or out of range";
        if (n > 1) return "ERR value is out of range, value must between 0 and 1";
        s.rdbOnly = n === 1;
        return null;
      }
      case "rdb-filter-only": {
        for (const f of value.split(" ")) {
          if (f !== "" && f.toLowerCase() !== "functions") return `ERR Unsupported rdb-filter-only option: ${f}`;
        }
        s.filter = value;
        return null;
      }
    }
    return null;
  }

  /** `REPLCONF ACK <offset>` from a replica (never answered). */
  ack(c: Client, value: string): void {
    const r = this.replicaOf.get(c);
    const offset = parseCount(value);
    if (r === undefined || offset === null) return;
    r.ackOffset = Math.max(r.ackOffset, offset);
    if (r.state === "wait_ack") this.goOnline(r, "first ACK after the diskless RDB");
  }

  /** PSYNC <replid> <offset>. */
  psync(c: Client, args: string[]): void {
    if (this.replicaOf.has(c)) return;
    if (this.server.isReplica) return c.w.error("ERR Replicating a replica is unsupported");
    const wanted = args[1];
    const from = /^-?\d{1,18}$/.test(args[2]) ? Number(args[2]) : NaN;
    this.flush();
    if (wanted !== "?" && this.tryPartial(c, wanted, from)) return;
    if (wanted !== "?") this.stats.partialErr++;
    this.fullSync(c, false);
  }

  /** SYNC (inline from redis-cli, and the PSYNC fallback of old replicas). */
  sync(c: Client): void {
    if (this.replicaOf.has(c)) return;
    if (this.server.isReplica) return c.w.error("ERR Replicating a replica is unsupported");
    this.flush();
    this.fullSync(c, true);
  }

  /** Answers +CONTINUE and sends the missing stream when the backlog has it. */
  private tryPartial(c: Client, wanted: string, from: number): boolean {
    const backlog = this.backlog;
    const sameId = wanted.toLowerCase() === this.replid;
    const oldId = wanted.toLowerCase() === this.replid2 && from <= this.secondReplidOffset;
    const why = backlog === null
      ? "no backlog"
      : !sameId && !oldId
      ? `replid ${wanted} is not ${this.replid}${this.replid2 !== NO_REPLID ? ` nor ${this.replid2}` : ""}`
      : !(from >= this.backlogFirstByte && from <= this.offset + 1)
      ? `offset ${from} is outside the backlog (${this.backlogFirstByte}..${this.offset + 1})`
      : null;
    if (why !== null) {
      log.info(`Partial resynchronization not accepted for ${c.addr}: ${why}; full resync`);
      return false;
    }
    const s = this.settings(c);
    const r = this.register(c, false);
    c.w.simple(s.psync2 ? `CONTINUE ${this.replid}` : "CONTINUE");
    const missing = this.offset - from + 1;
    if (missing > 0) c.w.raw(backlog!.tail(missing));
    r.ackOffset = from - 1;
    r.state = "online";
    c.flush();
    this.stats.partialOk++;
    log.info(
      `Partial resynchronization request from ${r.ip}:${r.port} accepted. Sending ${missing} bytes of backlog starting from offset ${from}.`,
    );
    return true;
  }

  /** Registers connection `c` as a replica. */
  private register(c: Client, prePsync: boolean): RedisReplica {
    const s = this.settings(c);
    const r: RedisReplica = {
      client: c,
      ip: s.ip ?? peerIp(c),
      port: s.port,
      settings: s,
      prePsync,
      state: "wait_bgsave",
      pending: [],
      pendingBytes: 0,
      ackOffset: 0,
      rdbVersion: 0,
      snapshots: [],
      lastBytesOut: c.bytesOut,
      lastProgress: Date.now(),
      dropped: false,
    };
    this.replicas.add(r);
    this.replicaOf.set(c, r);
    c.isReplica = true;
    this.startCron();
    return r;
  }

  /**
   * Full resync: `+FULLRESYNC <replid> <offset>` (not for SYNC), the payload header (diskless)
   * or a temp file, the RDB header and the cut (snapshots of every shard) in one synchronous
   * step; then the walk in the background while the stream after the cut is held back.
   */
  private fullSync(c: Client, prePsync: boolean): void {
    const s = this.settings(c);
    if (s.filter !== null && !s.eof) return c.w.error("ERR Filtered replica requires EOF capability");
    if (this.backlog === null) this.createBacklog();
    const r = this.register(c, prePsync);
    // The first command after the RDB gets a SELECT.
    this.selDb = -1;
    const offset = this.offset;
    const version = this.rdbVersionFor(r);
    r.rdbVersion = version;
    r.ackOffset = offset;
    if (!prePsync) c.w.simple(`FULLRESYNC ${this.replid} ${offset}`);
    let mark = "";
    let file: Deno.FsFile | null = null;
    let path = "";
    let out: (chunk: Uint8Array) => void;
    if (s.eof) {
      mark = randomHex(40);
      c.w.raw(asciiBytes(`$EOF:${mark}\r\n`));
      r.state = "send_bulk";
      out = (chunk) => c.w.raw(chunk);
    } else {
      path = Deno.makeTempFileSync({ prefix: "damselfly-sync-", suffix: ".rdb" });
      const f = file = Deno.openSync(path, { write: true });
      out = (chunk) => {
        let off = 0;
        while (off < chunk.length) off += f.writeSync(chunk.subarray(off));
      };
    }
    const rdb = new FullSyncRdb(
      this.server,
      out,
      version,
      { streamDb: 0, replId: this.replid, offset },
      s.filter === null,
    );
    r.snapshots = rdb.snapshots;
    this.stats.full++;
    log.info(
      `Full resync with replica ${r.ip}:${r.port} (${prePsync ? "SYNC" : "PSYNC"}): RDB version ${version}, ${
        s.eof ? "diskless" : "through a temp file"
      }, offset ${offset}${s.rdbOnly ? ", RDB only" : ""}${s.filter === null ? "" : ", no keys (rdb-filter-only)"}`,
    );
    c.flush();
    const run = s.eof ? this.sendDiskless(r, rdb, mark) : this.sendThroughFile(r, rdb, file!, path);
    run.catch((e) => {
      if (r.dropped) return;
      if (e instanceof SnapshotCancelled) this.drop(r, "full sync cancelled");
      else this.drop(r, `full sync failed: ${(e as Error).message}`);
    });
  }

  /** RDB version for replica `r`: the default, or one lower than a version it refused. */
  private rdbVersionFor(r: RedisReplica): RdbWriteVersion {
    const refused = this.refusedVersion.get(`${r.ip}:${r.port}`);
    if (refused === undefined) return DEFAULT_RDB_VERSION;
    return Math.max(LOWEST_RDB_VERSION, Math.min(DEFAULT_RDB_VERSION, refused - 1)) as RdbWriteVersion;
  }

  /** Diskless transfer: the RDB streamed into the socket, then the mark; then wait for the ACK. */
  private async sendDiskless(r: RedisReplica, rdb: FullSyncRdb, mark: string): Promise<void> {
    const c = r.client;
    const bytes = await rdb.write(() => {
      if (c.closed || r.dropped) throw new SnapshotCancelled();
      c.flush();
      return c.pendingOutput() < RDB_HIGH_WATER ? null : c.whenDrained(RDB_LOW_WATER);
    });
    r.snapshots = [];
    if (r.dropped) return;
    c.w.raw(asciiBytes(mark));
    c.flush();
    log.info(`Streamed an RDB of ${bytes} bytes to replica ${r.ip}:${r.port}`);
    if (r.settings.rdbOnly) return this.finishRdbOnly(r);
    r.state = "wait_ack";
  }

  /** Disk transfer for replicas without `capa eof`: the RDB into a temp file, then `$<len>` and the file. */
  private async sendThroughFile(r: RedisReplica, rdb: FullSyncRdb, file: Deno.FsFile, path: string): Promise<void> {
    const c = r.client;
    try {
      let size: number;
      try {
        size = await rdb.write(() => {
          if (c.closed || r.dropped) throw new SnapshotCancelled();
          return null;
        });
      } finally {
        file.close();
        r.snapshots = [];
      }
      if (r.dropped) return;
      r.state = "send_bulk";
      c.w.raw(asciiBytes(`$${size}\r\n`));
      const input = await Deno.open(path, { read: true });
      try {
        const buf = new Uint8Array(256 * 1024);
        for (;;) {
          const n = await input.read(buf);
          if (n === null) break;
          if (c.closed || r.dropped) return;
          c.w.raw(buf.subarray(0, n));
          c.flush();
          if (c.pendingOutput() >= RDB_HIGH_WATER) await c.whenDrained(RDB_LOW_WATER);
        }
      } finally {
        input.close();
      }
      log.info(`Sent an RDB of ${size} bytes to replica ${r.ip}:${r.port}`);
      if (r.settings.rdbOnly) return this.finishRdbOnly(r);
      this.goOnline(r, "RDB sent");
    } finally {
      await Deno.remove(path).catch(() => {});
    }
  }

  /** redis-cli --rdb: nothing follows the RDB; the connection closes once it is written. */
  private async finishRdbOnly(r: RedisReplica): Promise<void> {
    await r.client.whenDrained(1);
    this.drop(r, "RDB-only transfer done");
  }

  /** Sends the held-back stream and streams from now on. */
  private goOnline(r: RedisReplica, why: string): void {
    if (r.dropped) return;
    r.state = "online";
    const c = r.client;
    for (const chunk of r.pending) c.w.raw(chunk);
    log.info(`Replica ${r.ip}:${r.port} online (${why}); ${r.pendingBytes} bytes of stream held during the sync sent`);
    r.pending = [];
    r.pendingBytes = 0;
    c.flush();
  }

  /** Drops a replica (its connection closes). */
  drop(r: RedisReplica, reason: string): void {
    if (r.dropped) return;
    r.dropped = true;
    this.replicas.delete(r);
    this.replicaOf.delete(r.client);
    for (const s of r.snapshots) s.cancel();
    r.snapshots = [];
    r.pending = [];
    if (r.state === "wait_ack" && !r.settings.rdbOnly && r.client.closed) {
      // A stock replica refuses an RDB version it does not know by dropping the link after it.
      this.refusedVersion.set(`${r.ip}:${r.port}`, r.rdbVersion);
      log.warn(
        `replica ${r.ip}:${r.port} closed the link after an RDB of version ${r.rdbVersion} without acknowledging it; its next full sync gets version ${
          Math.max(LOWEST_RDB_VERSION, r.rdbVersion - 1)
        }`,
      );
    }
    const level = reason === "RDB-only transfer done" ? "info" : "warn";
    log[level](`Redis replica ${r.ip}:${r.port} dropped (was ${r.state}): ${reason}`);
    r.client.kill();
    if (this.replicas.size === 0) this.stopCron();
  }

  // -------------------------------------------------------------------------------------------
  // Periodic work

  /** Starts the once-a-second tick unless running. */
  private startCron(): void {
    if (this.cron !== undefined) return;
    this.lastPing = Date.now();
    this.cron = setInterval(() => this.tick(), 1000);
    Deno.unrefTimer(this.cron);
  }

  /** Stops the once-a-second tick. */
  private stopCron(): void {
    if (this.cron !== undefined) clearInterval(this.cron);
    this.cron = undefined;
  }

  /** Once a second: `ping` every 10 s, keepalive newlines, timeouts and stalled writes. */
  private tick(): void {
    const now = Date.now();
    if (now - this.lastPing >= PING_PERIOD_MS && this.replicas.size > 0) {
      this.lastPing = now;
      this.append(["ping"]);
    }
    const timeout = this.server.config.num("replication_timeout");
    for (const r of [...this.replicas]) {
      const c = r.client;
      if (r.state === "wait_bgsave") {
        c.w.raw(NEWLINE);
        c.flush();
      }
      if (r.state === "online" && !r.prePsync && now - c.lastInteraction > REPLICA_TIMEOUT_MS) {
        this.drop(r, `no ACK for ${Math.round((now - c.lastInteraction) / 1000)} s (timeout)`);
        continue;
      }
      const waiting = c.pendingOutput() > 0;
      if (!waiting || c.bytesOut !== r.lastBytesOut) {
        r.lastBytesOut = c.bytesOut;
        r.lastProgress = now;
      } else if (timeout > 0 && now - r.lastProgress > timeout) {
        this.drop(r, `made no write progress for ${now - r.lastProgress} ms (replication_timeout)`);
      }
    }
  }
}

const NEWLINE = new Uint8Array([10]);

/**
 * The RDB of one full sync: the header is written and the cut taken (the snapshots of every
 * shard started) when it is built; `write()` then walks the databases in order, shard by shard,
 * and ends the file. Keys the pre-write hooks emit while the walk runs go into the same writer
 * (SELECTDB switches as needed; RESIZEDB hints go with a database's first SELECTDB).
 */
class FullSyncRdb {
  /** The running snapshots (empty for an RDB without keys). */
  readonly snapshots: ShardSnapshot[];
  private readonly writer: RdbWriter;

  constructor(
    private readonly server: Server,
    out: (chunk: Uint8Array) => void,
    version: RdbWriteVersion,
    replication: { streamDb: number; replId: string; offset: number },
    withKeys: boolean,
  ) {
    const writer = this.writer = new RdbWriter(out, { version, lendChunks: true });
    const m = Deno.memoryUsage();
    writer.writeHeader({ redisVer: snapshotOptions.redisVer(), usedMem: m.heapUsed + m.external, replication });
    const store = server.store;
    const keysPerDb = new Array<number>(store.dbCount).fill(0);
    const expiresPerDb = new Array<number>(store.dbCount).fill(0);
    const selected = new Array<boolean>(store.dbCount).fill(false);
    let currentDb = -1;
    const sink: SnapshotSink = {
      write(db, entry) {
        if (db !== currentDb) {
          if (selected[db]) writer.selectDb(db);
          else writer.selectDb(db, keysPerDb[db], expiresPerDb[db]);
          selected[db] = true;
          currentDb = db;
        }
        writer.writeEntry(entry);
      },
      backpressure: () => {
        writer.flush();
        return this.backpressure();
      },
    };
    this.snapshots = withKeys ? store.shards.map((shard) => new ShardSnapshot(shard, sink)) : [];
    for (const s of this.snapshots) s.start();
    for (const s of this.snapshots) {
      for (let db = 0; db < store.dbCount; db++) {
        keysPerDb[db] += s.keysAtCut[db];
        expiresPerDb[db] += s.expiresAtCut[db];
      }
    }
  }

  /** Back-pressure of the walk (set by `write`). */
  private backpressure: () => Promise<void> | null = () => null;

  /** Walks every key of the cut and ends the RDB; returns its size in bytes. */
  async write(backpressure: () => Promise<void> | null): Promise<number> {
    this.backpressure = backpressure;
    try {
      for (let db = 0; db < this.server.store.dbCount; db++) {
        for (const s of this.snapshots) await s.walkDb(db);
      }
    } finally {
      for (const s of this.snapshots) s.close();
    }
    this.writer.end();
    return this.writer.bytesWritten;
  }
}

/** Writes ASCII `s` into `buf` at `at`; returns its length. */
function asciiInto(buf: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
  return s.length;
}

function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  asciiInto(out, 0, s);
  return out;
}

const replications = new WeakMap<Server, RedisReplication>();

/** The Redis-protocol primary side of `server` (created on first use). */
export function redisReplicationOf(server: Server): RedisReplication {
  let r = replications.get(server);
  if (r === undefined) replications.set(server, r = new RedisReplication(server));
  return r;
}
