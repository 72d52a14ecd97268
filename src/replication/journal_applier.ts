/**
 * Journal applier: executes a primary's journal on the replica, through the real dispatcher.
 *
 * Owns: one internal master-link Client per flow (so handlers, keyspace hooks, blocking and
 * notifications behave exactly as for a client write), and the session-wide UnitBarrier that
 * applies a multi-shard unit atomically.
 *
 * Invariants:
 * - single-shard items (txid 0, or a Dragonfly primary's txid with shard count 1) run as they
 *   arrive, in flow order;
 * - a damselfly unit (txid ≠ 0, shard count > 1) is collected per flow up to the PING that
 *   closes the flow's part; the flow then waits until every part arrived and the whole unit
 *   ran in one synchronous step (so no reader ever sees half of it, and nothing later on any
 *   involved flow runs before it). Commands that travel whole on several parts (non-split
 *   multi-shard commands, global commands) run exactly once, in the order every part agrees on;
 * - a Dragonfly primary's global command (FLUSHALL/FLUSHDB with txid ≠ 0 on every flow) runs
 *   once, after every flow reached it;
 * - a failed command is logged and counted, never retried, and never stops the stream.
 */
import { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { NullWriter } from "../resp/writer.ts";
import { dispatch } from "../commands/dispatcher.ts";
import type { KeyRouter } from "../journal/journal.ts";
import { commandKeyRouter } from "../journal/key_router.ts";
import { log } from "../observability/log.ts";

/** One replicated command with its database. */
export interface ReplicatedCommand {
  /** Database index. */
  db: number;
  /** Command vector. */
  args: string[];
}

/** Thrown into waiting flows when the session ends. */
export class SessionCancelled extends Error {
  /** Builds the error. */
  constructor(reason: string) {
    super(reason);
    this.name = "SessionCancelled";
  }
}

/** Commands a Dragonfly primary journals on every flow with one txid, to be run once. */
const DF_GLOBAL = new Set(["FLUSHALL", "FLUSHDB"]);

/** Executes replicated commands for one session, reporting failures without stopping. */
export class CommandRunner {
  /** Commands that replied with an error. */
  failures = 0;
  private readonly client: Client;

  /** Runs commands on an internal master-link client; `label` prefixes log lines. */
  constructor(private readonly server: Server, private readonly label: string) {
    this.client = new Client(server, new NullWriter(), "internal");
    this.client.isMasterLink = true;
    this.client.name = "replication";
  }

  /** Runs one command (returns a promise only if the command blocked). */
  run(cmd: ReplicatedCommand): void | Promise<void> {
    const c = this.client;
    if (cmd.db >= this.server.store.dbCount) {
      this.fail(cmd, `database ${cmd.db} does not exist here (dbnum ${this.server.store.dbCount})`);
      return;
    }
    c.db = cmd.db;
    const errors = c.w.errorCount;
    const r = dispatch(c, cmd.args);
    if (r instanceof Promise) return r.then(() => this.check(cmd, errors));
    this.check(cmd, errors);
  }

  /** Counts and logs something of the primary's stream that this node cannot hold. */
  skip(what: string): void {
    this.failures++;
    if (this.failures <= 20 || this.failures % 1000 === 0) {
      log.warn(`${this.label}: skipped ${what} (${this.failures} failures so far)`);
    }
  }

  /** Records a failure when the command replied with an error. */
  private check(cmd: ReplicatedCommand, errorsBefore: number): void {
    if (this.client.w.errorCount !== errorsBefore) this.fail(cmd, this.client.w.lastError ?? "error");
  }

  /** Counts a failed command and logs it (the first 20, then every 1000th). */
  private fail(cmd: ReplicatedCommand, why: string): void {
    this.failures++;
    if (this.failures <= 20 || this.failures % 1000 === 0) {
      log.warn(
        `${this.label}: replicated command ${
          cmd.args[0]
        } (db ${cmd.db}) failed: ${why} (${this.failures} failures so far)`,
      );
    }
  }
}

interface PendingUnit {
  expected: number;
  parts: Map<number, ReplicatedCommand[]>;
  /** Per part: what its flow counts once the unit ran (called in the same step as the unit). */
  onRun: (() => void)[];
  done: PromiseWithResolvers<void>;
}

/** Applies multi-shard units once all their parts arrived (one per session). */
export class UnitBarrier {
  private readonly pending = new Map<bigint, PendingUnit>();
  private readonly router: KeyRouter;
  private cancelled: SessionCancelled | null = null;

  /** `primaryShards` is the primary's flow count: the router reproduces its key routing. */
  constructor(primaryShards: number, private readonly runner: CommandRunner) {
    this.router = commandKeyRouter(primaryShards);
  }

  /**
   * Adds flow `flow`'s part of unit `txid` (of `expected` parts). Resolves once the whole unit
   * ran; rejects with SessionCancelled if the session ends first. `onRun` is called in the very
   * step that runs the unit (not in a later microtask), so that the flow's LSN covers the unit
   * before anything else, such as the end of the session saving LSNs for a partial sync, can
   * look at it: a unit that ran must never be asked for again.
   */
  submit(txid: bigint, expected: number, flow: number, part: ReplicatedCommand[], onRun: () => void): Promise<void> {
    if (this.cancelled) return Promise.reject(this.cancelled);
    let unit = this.pending.get(txid);
    if (unit === undefined) {
      unit = { expected, parts: new Map(), onRun: [], done: Promise.withResolvers<void>() };
      unit.done.promise.catch(() => {});
      this.pending.set(txid, unit);
    }
    unit.parts.set(flow, part);
    unit.onRun.push(onRun);
    if (unit.parts.size >= unit.expected) {
      this.pending.delete(txid);
      try {
        this.runUnit(unit);
        for (const f of unit.onRun) f();
        unit.done.resolve();
      } catch (e) {
        unit.done.reject(e);
      }
    }
    return unit.done.promise;
  }

  /** Rejects every waiting flow (the session ended). */
  cancel(reason: string): void {
    this.cancelled = new SessionCancelled(reason);
    for (const u of this.pending.values()) u.done.reject(this.cancelled);
    this.pending.clear();
  }

  /** Shards of the primary a command is routed to (all of them for a command without keys). */
  private shardsOf(cmd: ReplicatedCommand, all: number[]): Set<number> {
    const keys = this.router.keyShards(cmd.args);
    if (keys === null || keys.length === 0) return new Set(all);
    return new Set(keys.map(([, s]) => s));
  }

  /** Runs a unit: merges its parts so shared commands run once, after everything before them. */
  private runUnit(unit: PendingUnit): void {
    const flows = [...unit.parts.keys()].sort((a, b) => a - b);
    const heads = new Map<number, number>(flows.map((f) => [f, 0]));
    const head = (f: number) => unit.parts.get(f)![heads.get(f)!];
    let left = 0;
    for (const p of unit.parts.values()) left += p.length;
    while (left > 0) {
      let progressed = false;
      for (const f of flows) {
        for (let cmd = head(f); cmd !== undefined; cmd = head(f)) {
          const shards = this.shardsOf(cmd, flows);
          const involved = flows.filter((g) => shards.has(g));
          if (involved.length <= 1) {
            this.runner.run(cmd);
            heads.set(f, heads.get(f)! + 1);
            left--;
            progressed = true;
            continue;
          }
          if (!involved.every((g) => sameCommand(head(g), cmd))) break;
          this.runner.run(cmd);
          for (const g of involved) heads.set(g, heads.get(g)! + 1);
          left -= involved.length;
          progressed = true;
        }
      }
      if (!progressed) {
        // The parts disagree on the order of a shared command; run what is left part by part.
        log.warn(
          `multi-shard unit with parts from flows ${flows.join(",")} could not be merged; applying part by part`,
        );
        for (const f of flows) {
          for (let cmd = head(f); cmd !== undefined; cmd = head(f)) {
            this.runner.run(cmd);
            heads.set(f, heads.get(f)! + 1);
          }
        }
        return;
      }
    }
  }
}

function sameCommand(a: ReplicatedCommand | undefined, b: ReplicatedCommand): boolean {
  if (a === undefined || a.db !== b.db || a.args.length !== b.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i] !== b.args[i]) return false;
  return true;
}

/** A journal item as the applier sees it. */
export interface JournalCommandItem {
  /** Database. */
  db: number;
  /** Transaction id (0 for single-shard writes). */
  txid: bigint;
  /** Shard count of the unit (1 for single-shard writes and Dragonfly primaries). */
  shardCount: number;
  /** Command vector. */
  args: string[];
}

/** Applies one flow's journal items; tracks an open unit part. */
export class FlowApplier {
  /** Journal items (commands and PINGs) applied since the last `takeApplied()`. */
  private applied = 0;
  private open: { txid: bigint; shardCount: number; cmds: ReplicatedCommand[]; items: number } | null = null;

  /**
   * Called as soon as a unit this flow waited for has run, in the same step, so that the flow
   * takes the applied count into its LSN at once (see UnitBarrier.submit).
   */
  onApplied: (() => void) | null = null;

  /** Applier of flow `flow` of `numFlows`; runs commands with `runner`, syncs multi-shard units on `barrier`. */
  constructor(
    private readonly flow: number,
    private readonly numFlows: number,
    private readonly runner: CommandRunner,
    private readonly barrier: UnitBarrier,
  ) {}

  /** Applies a COMMAND item; returns a promise when the flow must wait for other flows. */
  command(item: JournalCommandItem): void | Promise<void> {
    const cmd: ReplicatedCommand = { db: item.db, args: item.args };
    if (item.txid !== 0n && item.shardCount > 1) {
      if (this.open !== null && this.open.txid !== item.txid) {
        log.warn(`flow ${this.flow}: unit ${this.open.txid} was not closed before unit ${item.txid}; applying it`);
        this.flushOpenPart();
      }
      if (this.open === null) this.open = { txid: item.txid, shardCount: item.shardCount, cmds: [], items: 0 };
      this.open.cmds.push(cmd);
      this.open.items++;
      return;
    }
    if (this.open !== null) this.flushOpenPart();
    if (item.txid !== 0n && this.numFlows > 1 && DF_GLOBAL.has(item.args[0].toUpperCase())) {
      return this.barrier.submit(item.txid, this.numFlows, this.flow, [cmd], () => this.counted(1));
    }
    const r = this.runner.run(cmd);
    if (r instanceof Promise) {
      return r.then(() => {
        this.applied++;
      });
    }
    this.applied++;
  }

  /** Applies a PING item: it closes an open unit part (the flow then waits for the unit). */
  ping(): void | Promise<void> {
    const open = this.open;
    if (open === null) {
      this.applied++;
      return;
    }
    this.open = null;
    return this.barrier.submit(open.txid, open.shardCount, this.flow, open.cmds, () => this.counted(open.items + 1));
  }

  /** Counts `n` applied items and tells the flow at once (see UnitBarrier.submit). */
  private counted(n: number): void {
    this.applied += n;
    this.onApplied?.();
  }

  /** Number of items applied since the last call (the caller advances its LSN by it). */
  takeApplied(): number {
    const n = this.applied;
    this.applied = 0;
    return n;
  }

  /** True while a unit part is being collected (its items are not applied yet). */
  get collecting(): boolean {
    return this.open !== null;
  }

  /** Runs a part that was never closed (a malformed stream), without waiting for others. */
  private flushOpenPart(): void {
    const open = this.open!;
    this.open = null;
    for (const cmd of open.cmds) this.runner.run(cmd);
    this.applied += open.items;
  }
}
