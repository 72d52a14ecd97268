/**
 * Server-wide counters reported by INFO stats, commandstats, errorstats and metrics.
 *
 * Invariant: counters only grow, except through CONFIG RESETSTAT.
 */
import type { CommandSpec } from "../commands/types.ts";

/** Per-command counters (INFO commandstats). */
export interface CommandStat {
  /** Successful and failed executions. */
  calls: number;
  /** Total microseconds spent. */
  usec: number;
  /** Rejected before execution (arity, auth, READONLY, ...). */
  rejected: number;
  /** Executed but replied with an error. */
  failed: number;
}

/** One SLOWLOG entry. */
export interface SlowlogEntry {
  /** Increasing id. */
  id: number;
  /** Unix time in seconds. */
  time: number;
  /** Duration in microseconds. */
  durationUs: number;
  /** Arguments, truncated as Redis does. */
  args: string[];
  /** Client address. */
  addr: string;
  /** Client name. */
  name: string;
}

/** All resettable counters. */
export class Stats {
  /** Connections accepted since start. */
  totalConnections = 0;
  /** Connections refused (maxclients). */
  rejectedConnections = 0;
  /** Commands processed. */
  totalCommands = 0;
  /** Keys removed by expiry. */
  expiredKeys = 0;
  /** Keys removed by expiry, by db index (/metrics `dragonfly_expired_keys_total{db}`). */
  expiredKeysByDb = new Map<number, number>();
  /** Keys removed by eviction. */
  evictedKeys = 0;
  /** Keys removed by eviction, by db index (/metrics `dragonfly_evicted_keys_total{db}`). */
  evictedKeysByDb = new Map<number, number>();
  /** Successful key lookups. */
  keyspaceHits = 0;
  /** Failed key lookups. */
  keyspaceMisses = 0;
  /** Bytes read from clients. */
  netInputBytes = 0;
  /** Bytes written to clients. */
  netOutputBytes = 0;
  /** Error replies sent. */
  totalErrorReplies = 0;
  /** Per-command counters. */
  commands = new Map<string, CommandStat>();
  /** Error replies by error code (ERR, WRONGTYPE, ...). */
  errors = new Map<string, number>();
  /** `commands` entries by command id (CommandTraits.id), filled on first use. */
  private byId: (CommandStat | undefined)[] = [];
  /**
   * The `slowlog_log_slower_than` flag (µs; negative disables the slow log), mirrored here by
   * the server so that the dispatcher reads a field instead of looking the flag up per command.
   */
  slowlogSlowerThan = 10000;
  /** Fast commands run since the last `settleUntimed()`, whose time is shared out then. */
  private untimed: CommandStat[] = [];
  /** When the current untimed period started (performance.now ms). */
  private untimedSince = 0;
  /** Microseconds of individually timed commands in the current period. */
  timedUs = 0;
  /** Last clock reading (performance.now ms), valid while no untimed command ran since. */
  private lastClock = 0;
  private clockValid = false;
  /** Slow log, newest first. */
  slowlog: SlowlogEntry[] = [];
  /** Next slow log id. */
  slowlogNextId = 0;

  /** Counters of `name`, created on first use. */
  command(name: string): CommandStat {
    let s = this.commands.get(name);
    if (s === undefined) this.commands.set(name, s = { calls: 0, usec: 0, rejected: 0, failed: 0 });
    return s;
  }

  /**
   * Counters of the command `spec` (the same object `command(spec.name)` returns), found by the
   * spec's registry id instead of a Map lookup by name: the dispatcher asks once per command.
   */
  commandOf(spec: CommandSpec): CommandStat {
    const id = spec.traits!.id;
    let s = this.byId[id];
    if (s === undefined) this.byId[id] = s = this.command(spec.name);
    return s;
  }

  /** Starts a batch period: fast commands run until `settleUntimed()` share its time. */
  beginBatch(): void {
    if (this.untimed.length > 0) this.settleUntimed();
    this.untimedSince = performance.now();
    this.timedUs = 0;
    this.lastClock = this.untimedSince;
    this.clockValid = true;
  }

  /**
   * Start time of a timed command: the previous reading when nothing ran in between (one
   * clock read per command in a pipeline of timed commands), else a fresh reading.
   */
  clockForStart(): number {
    return this.clockValid ? this.lastClock : performance.now();
  }

  /** End time of a timed command; it also starts the next one. */
  clockAtEnd(): number {
    this.lastClock = performance.now();
    this.clockValid = true;
    return this.lastClock;
  }

  /** Records a fast command whose time is shared out at the end of the batch. */
  addUntimed(stat: CommandStat): void {
    this.clockValid = false;
    this.untimed.push(stat);
    if (this.untimed.length >= 4096) this.beginBatch();
  }

  /** Shares the batch time not spent in timed commands among the fast commands it ran. */
  settleUntimed(): void {
    const n = this.untimed.length;
    if (n === 0) return;
    const elapsedUs = Math.max(0, (performance.now() - this.untimedSince) * 1000 - this.timedUs);
    const share = elapsedUs / n;
    for (let i = 0; i < n; i++) this.untimed[i].usec += share;
    this.untimed.length = 0;
    this.untimedSince = performance.now();
    this.timedUs = 0;
  }

  /** Counts one error reply with the given code. */
  countError(code: string): void {
    this.totalErrorReplies++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** CONFIG RESETSTAT. */
  reset(): void {
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.totalCommands = 0;
    this.expiredKeys = 0;
    this.expiredKeysByDb.clear();
    this.evictedKeys = 0;
    this.evictedKeysByDb.clear();
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.totalErrorReplies = 0;
    // Zeroed in place: a command running now (CONFIG RESETSTAT itself) holds its counters.
    for (const c of this.commands.values()) {
      c.calls =
        c.usec =
        c.rejected =
        c.failed =
          0;
    }
    this.errors.clear();
  }
}
