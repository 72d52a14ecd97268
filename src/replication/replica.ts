/**
 * Replication, replica side: the state machine that follows a primary (design/dragonfly-
 * replication.md §2.1–2.4, §3.2–3.9), mirroring src/replication/primary.ts.
 *
 * Owns: the current Replica of a server (REPLICAOF, --replicaof), its control link and one
 * flow per primary shard, the full-sync load (FLUSHALL, LOADING, snapshot entries, journal
 * blobs), stable-sync application and ACKs, reconnection with partial sync, promotion
 * (REPLICAOF NO ONE, REPLTAKEOVER) and the ROLE/INFO view of a replica.
 *
 * States: connecting → preparation → full_sync → stable_sync (ROLE/INFO names; `online` in
 * Valkey mode). Invariants:
 * - the old dataset is flushed only at the moment every flow answered FULL, never by a
 *   REPLICAOF that fails to connect or greet;
 * - every broken link ends the whole session; the replica reconnects forever, 500 ms apart,
 *   asking for a partial sync with each flow's next LSN when it has them, else a full sync;
 * - each flow's `executed` LSN advances only after an item was applied, so an ACK never
 *   covers a write the replica does not have;
 * - the greeting tells a Dragonfly primary (a DfSession: control link plus flows) from a Redis
 *   one (`REPLCONF capa dragonfly` answered +OK, then a RedisLinkSession runs PSYNC on the same
 *   link, src/replication/redis_link.ts); the Redis primary's replid, offset and stream db are
 *   kept across links (Redis's cached master) so that a reconnect continues with a partial sync;
 * - every connection to the primary authenticates with masterauth/masteruser and uses TLS when
 *   `--tls_replication` is on (replicaTlsOptions).
 */
import { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { NullWriter } from "../resp/writer.ts";
import { log } from "../observability/log.ts";
import { type LastMaster, primaryOf } from "./primary.ts";
import { describeReply, LinkClosedError, type LinkReply, LinkSocket, type LinkTarget } from "./link_socket.ts";
import { CommandRunner, FlowApplier, SessionCancelled, UnitBarrier } from "./journal_applier.ts";
import { type DfFlowEvent, DfFlowReader } from "./df_flow_reader.ts";
import { type EncodingLimits, encodingLimits, fromRdbValue } from "../rdb/store_bridge.ts";
import type { RdbEntry } from "../rdb/records.ts";
import { replicaTlsOptions } from "../net/tls.ts";
import { type RedisCachedMaster, RedisLinkSession } from "./redis_link.ts";
import { redisReplicationOf } from "./redis_primary.ts";

/** Replica states, as ROLE shows them. */
export type ReplicaState = "connecting" | "preparation" | "full_sync" | "stable_sync";

/** DflyVersion this replica announces (REPLCONF CLIENT-VERSION), as Dragonfly 1.40.1. */
const CLIENT_VERSION = 5;
/** Pause between reconnect attempts (Dragonfly's fixed 500 ms). */
const RECONNECT_DELAY_MS = 500;
/** ACK when this many items were applied since the last ACK. */
const ACK_EVERY_ITEMS = 1024;

/** The primary restarted and `break_replication_on_master_restart` is set: stop for good. */
class HaltReplication extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HaltReplication";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One flow of a session: the connection for one primary shard. */
class ReplicaFlow {
  /** FULL or PARTIAL, once the primary answered. */
  mode: "FULL" | "PARTIAL" | null = null;
  /** Next LSN wanted (JOURNAL_OFFSET after a full sync, the requested LSN for a partial one). */
  executed = 0;
  /** Last ACK value sent. */
  lastAcked = -1;
  /** Set by a journal PING: ACK at once. */
  forceAck = false;
  /** True once in stable sync (ACKs are sent). */
  stable = false;
  /** Keys loaded from the snapshot. */
  keysLoaded = 0;
  readonly reply = Promise.withResolvers<void>();
  readonly fullSyncEnd = Promise.withResolvers<void>();
  readonly eof = Promise.withResolvers<void>();
  private readonly reader: DfFlowReader;
  private queue: DfFlowEvent[] = [];
  private acking = false;

  constructor(
    readonly index: number,
    readonly link: LinkSocket,
    private readonly session: DfSession,
    private readonly applier: FlowApplier,
    requestedLsn: number | null,
  ) {
    for (const p of [this.reply, this.fullSyncEnd, this.eof]) p.promise.catch(() => {});
    this.reader = new DfFlowReader((e) => this.queue.push(e), {
      requestedLsn: requestedLsn === null ? undefined : BigInt(requestedLsn),
    });
    if (requestedLsn !== null) this.executed = requestedLsn;
    // A unit this flow waits for may run while another flow is handling its part: count it in
    // the LSN right then, before the session could end and save LSNs for a partial sync.
    applier.onApplied = () => this.advance(this.waitingInFullSync);
  }

  /** Whether the item this flow is waiting on (a unit part) came during the full sync. */
  private waitingInFullSync = false;

  /** Reads and applies the flow until the link breaks; always rejects (with the reason). */
  async run(): Promise<never> {
    try {
      for (;;) {
        const chunk = await this.link.readChunk();
        this.reader.feed(chunk);
        await this.drain();
        if (this.stable) this.maybeAck(false);
      }
    } catch (e) {
      const err = e instanceof LinkClosedError
        ? new LinkClosedError(`flow ${this.index}: ${e.message}`)
        : new Error(`flow ${this.index}: ${(e as Error).message}`);
      for (const p of [this.reply, this.fullSyncEnd, this.eof]) p.reject(err);
      throw err;
    }
  }

  private async drain(): Promise<void> {
    const events = this.queue;
    this.queue = [];
    for (const e of events) {
      const wait = this.handle(e);
      if (wait !== undefined) await wait;
    }
  }

  private handle(e: DfFlowEvent): void | Promise<void> {
    switch (e.kind) {
      case "reply":
        this.mode = e.mode;
        this.reply.resolve();
        return;
      case "entry":
        if (this.session.load(e.entry)) this.keysLoaded++;
        return;
      case "skipped":
        log.v(1, `flow ${this.index}: snapshot key ${JSON.stringify(e.key)} skipped: ${e.reason}`);
        return;
      case "journalItem": {
        this.waitingInFullSync = e.fullSync;
        const r = this.applier.command(e);
        if (r instanceof Promise) return r.then(() => this.advance(e.fullSync));
        this.advance(e.fullSync);
        return;
      }
      case "ping": {
        this.forceAck = !e.fullSync;
        this.waitingInFullSync = e.fullSync;
        const r = this.applier.ping();
        if (r instanceof Promise) return r.then(() => this.advance(e.fullSync));
        this.advance(e.fullSync);
        return;
      }
      case "fullSyncEnd":
        this.fullSyncEnd.resolve();
        return;
      case "eof":
        this.executed = Number(e.journalOffset);
        this.applier.takeApplied();
        this.eof.resolve();
        return;
      case "rdbHeader":
      case "aux":
      case "journalOffset":
      case "lsnRecord":
        return;
    }
  }

  /** Counts applied items: stable items advance the LSN, full-sync blob items do not. */
  private advance(fullSync: boolean): void {
    const n = this.applier.takeApplied();
    if (!fullSync) this.executed += n;
  }

  /** Sends `REPLCONF ACK <executed>` when due (or always, with `force`). */
  maybeAck(force: boolean): void {
    if (this.acking || this.link.isClosed) return;
    if (!force && !this.forceAck && this.executed < this.lastAcked + ACK_EVERY_ITEMS) return;
    this.forceAck = false;
    this.acking = true;
    const value = this.executed;
    this.link.send(`REPLCONF ACK ${value}`).then(
      () => {
        this.lastAcked = value;
        this.acking = false;
        if (this.forceAck || this.executed >= this.lastAcked + ACK_EVERY_ITEMS) this.maybeAck(false);
      },
      () => {
        this.acking = false;
      },
    );
  }
}

/** The wire-level facts of one greeted Dragonfly primary. */
interface DfGreeting {
  replid: string;
  syncId: string;
  numFlows: number;
  version: number;
}

/** One DF sync session (a greeted control link plus its flows). */
class DfSession {
  readonly flows: ReplicaFlow[] = [];
  readonly runner: CommandRunner;
  readonly barrier: UnitBarrier;
  private readonly limits: EncodingLimits;
  private readonly failed = Promise.withResolvers<never>();
  private ended = false;

  constructor(readonly server: Server, readonly greeting: DfGreeting, readonly label: string) {
    this.runner = new CommandRunner(server, label);
    this.barrier = new UnitBarrier(greeting.numFlows, this.runner);
    this.limits = encodingLimits(server.config);
    this.failed.promise.catch(() => {});
  }

  /**
   * Stores one snapshot entry by this node's own hashing (the shard counts may differ),
   * replacing any value (a journal blob may have written the key first). Expired keys are
   * kept: the primary's DEL removes them. Returns false when the key was skipped.
   */
  load(entry: RdbEntry): boolean {
    const store = this.server.store;
    if (entry.db >= store.dbCount) {
      this.runner.skip(`snapshot key in database ${entry.db} (this node has ${store.dbCount})`);
      return false;
    }
    // Dragonfly streams use Redis 7 types (stream listpacks v3: exact group read counters).
    const value = fromRdbValue(entry.value, this.limits, 10);
    const slice = store.slice(entry.db, entry.key);
    slice.loadSet(entry.key, value, entry.expireAtMs);
    if (entry.lruIdleSec !== undefined || entry.lfuFreq !== undefined) {
      slice.restoreAccess(entry.key, entry.lruIdleSec, entry.lfuFreq);
    }
    return true;
  }

  /** Rejects when any flow fails (or the session is closed). */
  get failure(): Promise<never> {
    return this.failed.promise;
  }

  /** Adds a flow and starts reading it. */
  addFlow(flow: ReplicaFlow): void {
    this.flows.push(flow);
    flow.run().catch((e) => this.close(e as Error));
  }

  /** A flow applier for flow `index`. */
  applier(index: number): FlowApplier {
    return new FlowApplier(index, this.greeting.numFlows, this.runner, this.barrier);
  }

  /** Waits for `what` of every flow, or rejects with the first failure. */
  async all(what: (f: ReplicaFlow) => Promise<void>): Promise<void> {
    await Promise.race([Promise.all(this.flows.map(what)), this.failed.promise]);
  }

  /** Ends the session: closes every flow. */
  close(reason: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.barrier.cancel(reason.message);
    for (const f of this.flows) f.link.close();
    this.failed.reject(reason);
  }
}

/** A server's replication from one primary. */
export class Replica {
  /** State as ROLE shows it. */
  state: ReplicaState = "connecting";
  /** Replid of the primary (empty before the first greeting). */
  masterReplid = "";
  /** Replication attempts that asked for a partial sync. */
  psyncAttempts = 0;
  /** Attempts the primary granted as partial syncs. */
  psyncSuccesses = 0;
  /** Reconnect attempts made by the main loop. */
  reconnects = 0;
  /** True once a full sync completed with the current primary. */
  passedFullSync = false;
  /** Per-flow next LSNs of the last stable session (for partial sync), or null. */
  savedLsns: number[] | null = null;
  /**
   * The primary replicated before a REPLICAOF switch, with its LSNs: offered once to the new
   * primary (DFLY FLOW's vector form) in case it is a promoted sibling.
   */
  previous: LastMaster | null = null;
  /**
   * A Redis primary's replid, offset and stream db to continue from (PSYNC), kept across links
   * and across a REPLICAOF switch (the new primary may be a promoted sibling); null for none.
   */
  redisCache: RedisCachedMaster | null = null;
  private redis: RedisLinkSession | null = null;
  private control: LinkSocket | null = null;
  private greeting: DfGreeting | null = null;
  private session: DfSession | null = null;
  private stopped = false;
  private halted = false;
  /** What the last greeting found at the other end. */
  private primaryKind: "dragonfly" | "redis" | null = null;
  private lastIo = Date.now();
  private readonly linkClient: Client;
  private ackTimer: ReturnType<typeof setInterval> | undefined;

  /** A replica of `host`:`port` (not started), with the internal client that applies the stream. */
  constructor(private readonly server: Server, readonly host: string, readonly port: number) {
    this.linkClient = new Client(server, new NullWriter(), "internal");
    this.linkClient.isMasterLink = true;
    this.linkClient.name = "master";
  }

  /** Where to connect: the primary's address, with TLS options when replica TLS is configured. */
  private get target(): LinkTarget {
    const tls = replicaTlsOptions(this.server.config);
    return tls === null ? { host: this.host, port: this.port } : { host: this.host, port: this.port, tls };
  }

  /** `host:port` of the primary, for log lines. */
  private get describe(): string {
    return `${this.host}:${this.port}`;
  }

  /** Moves to state `s`, logging the change and its reason. */
  private setState(s: ReplicaState, why: string): void {
    if (this.state === s) return;
    log.info(`replica of ${this.describe}: ${this.state} → ${s} (${why})`);
    this.state = s;
  }

  /** Next LSN of every flow (the current session's, or the saved ones), or null. */
  executedLsns(): number[] | null {
    if (this.session !== null && this.state === "stable_sync") return this.session.flows.map((f) => f.executed);
    return this.savedLsns;
  }

  /** ROLE reply: [role, host, port, state]. */
  roleReply(): [string, string, string, string] {
    const valkey = this.server.config.bool("info_replication_valkey_compatible");
    const state = this.state === "stable_sync" && valkey ? "online" : this.state;
    return [valkey ? "slave" : "replica", this.host, String(this.port), state];
  }

  /**
   * The link as INFO and /metrics show it: control link up, seconds since the last byte on any
   * link, full sync running, and the offset (sum of the flows' next LSNs), which is shown only
   * in stable sync or when the link is down after a completed full sync (else null).
   */
  linkStatus(): { up: boolean; lastIoSecondsAgo: number; syncInProgress: boolean; offset: number | null } {
    const up = this.control !== null && !this.control.isClosed;
    let io = this.lastIo;
    if (this.control) io = Math.max(io, this.control.lastIo);
    for (const f of this.session?.flows ?? []) io = Math.max(io, f.link.lastIo);
    const shown = this.state === "stable_sync" || (!up && this.passedFullSync);
    let offset: number | null = null;
    if (shown && this.redis !== null && this.redis.stable) offset = this.redis.applied;
    else if (shown && this.redis === null && this.redisCache !== null && this.savedLsns === null) {
      offset = this.redisCache.offset;
    } else if (shown) {
      const lsns = this.executedLsns();
      offset = lsns === null ? null : lsns.reduce((a, b) => a + b, 0);
    }
    return {
      up,
      lastIoSecondsAgo: Math.floor((Date.now() - io) / 1000),
      syncInProgress: this.state === "full_sync",
      offset,
    };
  }

  /** `# Replication` lines of a replica. */
  infoLines(): string[] {
    const valkey = this.server.config.bool("info_replication_valkey_compatible");
    const link = this.linkStatus();
    const out = [
      `role:${valkey ? "slave" : "replica"}`,
      `master_host:${this.host}`,
      `master_port:${this.port}`,
      `master_link_status:${link.up ? "up" : "down"}`,
      `master_last_io_seconds_ago:${link.lastIoSecondsAgo}`,
      `master_sync_in_progress:${link.syncInProgress ? 1 : 0}`,
      `master_replid:${this.masterReplid}`,
    ];
    if (link.offset !== null) out.push(`slave_repl_offset:${link.offset}`);
    out.push(
      `slave_priority:${this.server.config.num("replica_priority")}`,
      `slave_read_only:1`,
      `psync_attempts:${this.psyncAttempts}`,
      `psync_successes:${this.psyncSuccesses}`,
    );
    return out;
  }

  /** Opens a connection to the primary and authenticates (masterauth/masteruser). */
  private async connectLink(timeoutMs: number): Promise<LinkSocket> {
    const link = await LinkSocket.connect(this.target, timeoutMs);
    const pass = this.server.config.str("masterauth");
    if (pass !== "") {
      const user = this.server.config.str("masteruser");
      const r = await link.call(user !== "" ? `AUTH ${user} ${pass}` : `AUTH ${pass}`);
      if (r !== "OK") {
        link.close();
        throw new Error(`AUTH failed: ${describeReply(r)}`);
      }
    }
    return link;
  }

  /**
   * The first connection and greeting of a REPLICAOF, with Dragonfly's error texts; on
   * success the greeted link is kept for the main loop.
   */
  async connectAndGreet(): Promise<void> {
    let link: LinkSocket;
    try {
      link = await this.connectLink(this.server.config.num("master_connect_timeout_ms"));
    } catch (e) {
      throw new Error(`could not connect to master: ${(e as Error).message}`);
    }
    this.control = link;
    try {
      await this.greet();
    } catch (e) {
      link.close();
      this.control = null;
      throw new Error(`could not greet master ${(e as Error).message}`);
    }
  }

  /** The handshake of §3.2 on the control link. */
  private async greet(): Promise<void> {
    const link = this.control!;
    const config = this.server.config;
    const expect = async (cmd: string, want: string) => {
      const r = await link.call(cmd);
      if (r !== want) throw new Error(`${cmd.split(" ").slice(0, 2).join(" ")}: ${describeReply(r)}`);
    };
    await expect("PING", "PONG");
    const port = config.num("announce_port") || config.num("port");
    await expect(`REPLCONF listening-port ${port}`, "OK");
    const ip = config.str("replica_announce_ip");
    if (ip !== "") {
      const r = await link.call(`REPLCONF ip-address ${ip}`);
      if (r !== "OK") log.warn(`primary ${this.describe} refused REPLCONF ip-address: ${describeReply(r)}`);
    }
    await expect("REPLCONF capa eof capa psync2", "OK");
    const capa = await link.call("REPLCONF capa dragonfly");
    if (capa === "OK") {
      this.primaryKind = "redis";
      return;
    }
    this.primaryKind = "dragonfly";
    const greeting = this.parseCapa(capa);
    if (greeting.replid === this.server.runId) throw new Error("Can't connect to myself");
    if (this.masterReplid !== "" && greeting.replid !== this.masterReplid) {
      if (config.bool("break_replication_on_master_restart")) {
        throw new HaltReplication(
          `primary ${this.describe} restarted (replid ${this.masterReplid} → ${greeting.replid}); stopping replication (break_replication_on_master_restart)`,
        );
      }
      log.warn(
        `primary ${this.describe} has a new replid ${greeting.replid} (was ${this.masterReplid}): it restarted; saved LSNs dropped, full sync follows`,
      );
      this.savedLsns = null;
      this.passedFullSync = false;
    }
    this.masterReplid = greeting.replid;
    const idReply = await link.call(`REPLCONF CLIENT-ID ${this.server.runId}`);
    if (idReply !== "OK") log.warn(`primary ${this.describe}: bad REPLCONF CLIENT-ID reply ${describeReply(idReply)}`);
    if (greeting.version > 0) await expect(`REPLCONF CLIENT-VERSION ${CLIENT_VERSION}`, "OK");
    this.greeting = greeting;
  }

  /** Parses the `REPLCONF capa dragonfly` reply (replid, sync id, flow count, version). */
  private parseCapa(r: LinkReply): DfGreeting {
    if (!Array.isArray(r) || r.length < 3) throw new Error(`Bad message: capa dragonfly answered ${describeReply(r)}`);
    const [replid, syncId, flows, version] = r;
    if (typeof replid !== "string" || replid.length !== 40 || typeof syncId !== "string" || !/^SYNC\d+$/.test(syncId)) {
      throw new Error(`Bad message: capa dragonfly answered ${describeReply(r)}`);
    }
    if (typeof flows !== "number" || flows < 1 || flows > 1024) throw new Error(`Bad message: flow count ${flows}`);
    return { replid, syncId, numFlows: flows, version: typeof version === "number" ? version : 0 };
  }

  /** Starts the main loop (the control link may already be greeted by REPLICAOF). */
  start(): void {
    void this.mainLoop();
    this.ackTimer = setInterval(() => {
      if (this.session === null || this.state !== "stable_sync") return;
      for (const f of this.session.flows) f.maybeAck(true);
    }, Math.max(1, this.server.config.num("replication_acks_interval")));
  }

  /** Connects, greets and runs sessions until stopped, reconnecting after a lost link. */
  private async mainLoop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        if (this.control === null) {
          if (attempt++ > 0) await sleep(RECONNECT_DELAY_MS);
          if (this.stopped) break;
          this.reconnects++;
          this.setState("connecting", "connecting to the primary");
          const link = await this.connectLink(this.server.config.num("master_reconnect_timeout_ms"));
          if (this.stopped) {
            link.close();
            break;
          }
          this.control = link;
        }
        this.registerLinkClient();
        this.setState("preparation", "connected");
        if (this.greeting === null && this.primaryKind !== "redis") await this.greet();
        if (this.primaryKind === "redis") await this.runRedisSession();
        else await this.runSession();
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof HaltReplication) {
          log.error(e.message);
          this.halted = true;
          this.stopped = true;
        } else {
          log.warn(`replica of ${this.describe}: replication stopped: ${(e as Error).message}`);
        }
      }
      this.endSession();
      if (!this.stopped) this.setState("connecting", "link lost; reconnecting in 500 ms");
    }
    if (this.halted) this.setState("connecting", "replication halted; run REPLICAOF to resume");
  }

  /** Lists the link client in CLIENT LIST with the control link's addresses. */
  private registerLinkClient(): void {
    const c = this.linkClient;
    c.addr = this.control!.raddr;
    c.laddr = this.control!.laddr;
    this.server.clients.set(c.id, c);
  }

  /** Closes the control link and the session; remembers the LSNs of a stable session. */
  private endSession(): void {
    const redis = this.redis;
    if (redis !== null) {
      this.redisCache = redis.cachedMaster();
      redis.stop();
      this.redis = null;
    }
    const s = this.session;
    if (s !== null) {
      if (this.state === "stable_sync") this.savedLsns = s.flows.map((f) => f.executed);
      s.close(new SessionCancelled("session ended"));
      for (const f of s.flows) this.lastIo = Math.max(this.lastIo, f.link.lastIo);
      this.session = null;
    }
    if (this.control !== null) {
      this.lastIo = Math.max(this.lastIo, this.control.lastIo);
      this.control.close();
      this.control = null;
    }
    this.greeting = null;
    this.primaryKind = null;
    this.server.clients.delete(this.linkClient.id);
    if (this.server.loading && this.state === "full_sync") this.server.loading = false;
  }

  /** Opens the flows, runs a full or partial sync, then stable sync until something breaks. */
  private async runSession(): Promise<void> {
    const g = this.greeting!;
    // A Dragonfly primary replaces the data: a Redis primary's position no longer describes it.
    this.redisCache = null;
    const label = `replica of ${this.describe} (${g.syncId})`;
    const session = new DfSession(this.server, g, label);
    this.session = session;
    const config = this.server.config;
    // What to ask for: partial sync from the saved LSNs of this primary, or from the LSNs of a
    // primary this one may have been promoted from, or nothing (full sync).
    let lsnArg: (i: number) => string = () => "";
    let requested: number[] | null = null;
    let reason = "";
    const previous = this.previous;
    this.previous = null;
    this.savedLsns = this.savedLsns !== null && this.savedLsns.length === g.numFlows ? this.savedLsns : null;
    if (!config.bool("replica_partial_sync")) {
      reason = "replica_partial_sync is off";
    } else if (this.savedLsns !== null && g.version > 1) {
      const lsns = this.savedLsns;
      requested = lsns;
      lsnArg = (i) => ` ${lsns[i]}`;
    } else if (
      previous !== null && previous.replid !== g.replid && previous.lsns.length === g.numFlows && g.version >= 5
    ) {
      requested = previous.lsns;
      lsnArg = () => ` ${previous.replid} ${previous.lsns.join("-")}`;
    } else {
      reason = previous !== null
        ? "the LSNs of the previous primary do not fit this primary"
        : "no LSNs saved from an earlier stable sync";
    }
    this.savedLsns = null;
    if (requested !== null) this.psyncAttempts++;
    const opened = await Promise.allSettled(
      Array.from({ length: g.numFlows }, () => this.connectLink(config.num("master_connect_timeout_ms"))),
    );
    const links: LinkSocket[] = [];
    for (const o of opened) if (o.status === "fulfilled") links.push(o.value);
    const failed = opened.find((o) => o.status === "rejected");
    if (failed !== undefined) {
      for (const l of links) l.close();
      throw new Error(`could not open flows: ${(failed.reason as Error).message}`);
    }
    for (let i = 0; i < g.numFlows; i++) {
      const flow = new ReplicaFlow(i, links[i], session, session.applier(i), requested?.[i] ?? null);
      session.addFlow(flow);
      void links[i].send(`DFLY FLOW ${g.replid} ${g.syncId} ${i}${lsnArg(i)}`).catch(() => {});
    }
    await session.all((f) => f.reply.promise);
    const full = session.flows.filter((f) => f.mode === "FULL").length;
    if (full !== 0 && full !== g.numFlows) {
      throw new Error("Won't do a partial sync: some flows must fully resync");
    }
    if (full === 0) {
      this.psyncSuccesses++;
      this.setState("full_sync", "partial sync granted");
      log.info(`${label}: partial sync from LSNs ${requested!.join("-")}`);
      const r = await this.control!.call(`DFLY STARTSTABLE ${g.syncId}`);
      if (r !== "OK") throw new Error(`DFLY STARTSTABLE: ${describeReply(r)}`);
    } else {
      if (requested !== null) reason = "the primary no longer holds the requested LSNs in its backlog";
      await this.fullSync(session, reason);
    }
    for (const f of session.flows) f.stable = true;
    this.setState("stable_sync", full === 0 ? "partial sync done" : "full sync done");
    for (const f of session.flows) f.maybeAck(true);
    await session.failure;
  }

  /** PSYNC with a Redis primary on the greeted control link, then its stream until the link ends. */
  private async runRedisSession(): Promise<void> {
    const partial = this.server.config.bool("replica_partial_sync");
    const cached = partial ? this.redisCache : null;
    if (cached !== null) this.psyncAttempts++;
    this.savedLsns = null;
    const session: RedisLinkSession = new RedisLinkSession(
      {
        server: this.server,
        client: this.linkClient,
        describe: this.describe,
        setState: (state, why) => {
          if (state === "stable_sync") {
            this.passedFullSync = true;
            this.masterReplid = session.replid;
            if (session.continued) this.psyncSuccesses++;
          }
          this.setState(state, why);
        },
        beforeFullSync: (replid) => {
          if (
            this.passedFullSync && this.masterReplid !== "" && replid !== this.masterReplid &&
            this.server.config.bool("break_replication_on_master_restart")
          ) {
            throw new HaltReplication(
              `primary ${this.describe} restarted (replid ${this.masterReplid} → ${replid}); stopping replication (break_replication_on_master_restart)`,
            );
          }
          this.passedFullSync = false;
          this.masterReplid = replid;
        },
      },
      this.control!,
      cached,
    );
    this.redis = session;
    await session.run();
  }

  /** Full sync: flushes the data, DFLY SYNC, waits for FULLSYNC_END, DFLY STARTSTABLE, then every flow's eof. */
  private async fullSync(session: DfSession, reason: string): Promise<void> {
    const g = session.greeting;
    const started = Date.now();
    this.setState("full_sync", `full sync: ${reason}`);
    log.info(`replica of ${this.describe} (${g.syncId}): full sync, because ${reason}; flushing the old dataset`);
    this.passedFullSync = false;
    this.server.loading = true;
    session.runner.run({ db: 0, args: ["FLUSHALL"] });
    const r = await this.control!.call(`DFLY SYNC ${g.syncId}`);
    if (r !== "OK") throw new Error(`DFLY SYNC: ${describeReply(r)}`);
    await session.all((f) => f.fullSyncEnd.promise);
    const rs = await this.control!.call(`DFLY STARTSTABLE ${g.syncId}`);
    if (rs !== "OK") throw new Error(`DFLY STARTSTABLE: ${describeReply(rs)}`);
    await session.all((f) => f.eof.promise);
    this.server.loading = false;
    this.passedFullSync = true;
    const keys = session.flows.reduce((n, f) => n + f.keysLoaded, 0);
    log.info(
      `replica of ${this.describe} (${g.syncId}): full sync finished in ${
        ((Date.now() - started) / 1000).toFixed(3)
      } s (${keys} keys)`,
    );
  }

  /** Stops replicating (promotion, switch, shutdown); keeps the data. */
  stop(reason: string): void {
    if (this.stopped && this.session === null && this.control === null) return;
    this.stopped = true;
    log.info(`Stopping replication from ${this.describe}: ${reason}`);
    clearInterval(this.ackTimer);
    this.endSession();
  }

  /**
   * REPLTAKEOVER: asks the primary to hand over (it waits for our ACKs, answers +OK and shuts
   * down); on success this node becomes the primary.
   */
  async takeover(timeoutSec: number, save: boolean): Promise<string | null> {
    if (this.state !== "stable_sync" || this.control === null || this.greeting === null) return "Full sync not done";
    const link = this.control;
    const cmd = `DFLY TAKEOVER ${timeoutSec}${save ? " SAVE" : ""} ${this.greeting.syncId}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = await Promise.race([
        link.call(cmd),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out waiting for the primary")), (timeoutSec + 10) * 1000);
        }),
      ]);
      if (reply !== "OK") return describeReply(reply);
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
  }
}

const replicas = new WeakMap<Server, Replica>();

/** The server's current Replica, or null when it is a primary. */
export function currentReplica(server: Server): Replica | null {
  return replicas.get(server) ?? null;
}

/** Makes `server` follow `replica` (after a successful greeting, or at startup). */
function install(server: Server, replica: Replica): void {
  const old = replicas.get(server);
  if (old !== undefined) {
    replica.previous = old.executedLsns() !== null && old.masterReplid !== ""
      ? { replid: old.masterReplid, lsns: old.executedLsns()! }
      : null;
    old.stop(`switching to primary ${replica.host}:${replica.port}`);
    replica.redisCache = old.redisCache;
  } else {
    // A primary offers its own stream position, as Redis caches itself as the master: a former
    // Redis replica of ours that was promoted continues it with a partial resync.
    const self = redisReplicationOf(server).becomeReplica();
    if (self !== null) replica.redisCache = { replid: self.replid, offset: self.offset, db: 0 };
  }
  primaryOf(server).cancelAll("this node became a replica");
  server.journal.enabled = false;
  server.replicaOf = { host: replica.host, port: replica.port };
  replicas.set(server, replica);
  replica.start();
}

/** REPLICAOF host port: connects and greets synchronously; errors leave everything untouched. */
export async function replicaOfCommand(c: Client, host: string, port: number): Promise<void> {
  const server = c.server;
  const candidate = new Replica(server, host, port);
  try {
    await candidate.connectAndGreet();
  } catch (e) {
    return c.w.error(`ERR ${(e as Error).message}`);
  }
  log.info(
    `REPLICAOF ${host} ${port}: greeted the primary (${
      candidate.masterReplid !== "" ? `replid ${candidate.masterReplid}` : "a Redis primary"
    })`,
  );
  install(server, candidate);
  c.w.simple("OK");
}

/**
 * Makes `server` a primary again (REPLICAOF NO ONE, REPLTAKEOVER): keeps the data, and starts
 * the journal at the executed LSNs so that siblings can partial-sync from this node (§3.9).
 */
export function promoteToPrimary(server: Server, why: string): void {
  const r = replicas.get(server);
  if (r === undefined) return;
  const lsns = r.executedLsns();
  r.stop(why);
  replicas.delete(server);
  server.replicaOf = null;
  server.loading = false;
  const redis = r.redisCache;
  if (redis !== null && r.passedFullSync) redisReplicationOf(server).promoted(redis.replid, redis.offset);
  const primary = primaryOf(server);
  if (lsns !== null && r.masterReplid !== "" && server.config.bool("replicaof_no_one_start_journal")) {
    primary.lastMaster = { replid: r.masterReplid, lsns };
    const journal = server.journal;
    for (let i = 0; i < journal.shards.length && i < lsns.length; i++) journal.shards[i].resetAt(lsns[i]);
    journal.enable();
    log.info(`promoted to primary (${why}); journal continues primary ${r.masterReplid}'s LSNs ${lsns.join("-")}`);
  } else {
    log.info(`promoted to primary (${why})`);
  }
}

/** REPLTAKEOVER <timeout> [SAVE] on a replica. */
export async function replTakeover(c: Client, timeoutSec: number, save: boolean): Promise<void> {
  const r = currentReplica(c.server);
  if (r === null) return c.w.simple("OK");
  const error = await r.takeover(timeoutSec, save);
  if (error !== null) return c.w.error(`ERR Couldn't execute takeover: ${error}`);
  if (currentReplica(c.server) === r) promoteToPrimary(c.server, "REPLTAKEOVER");
  c.w.simple("OK");
}

/** Starts replicating from `--replicaof host:port` (never fails; retries until reachable). */
export function startReplicaOfFlag(server: Server): void {
  const spec = server.config.str("replicaof");
  if (spec === "") return;
  const m = /^\[(.+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    log.error(`--replicaof ${spec}: expected host:port or [ipv6]:port`);
    return;
  }
  log.info(`--replicaof: replicating from ${m[1]}:${m[2]}`);
  install(server, new Replica(server, m[1], Number(m[2])));
}
