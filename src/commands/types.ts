/**
 * Command table types shared by the registry, the dispatcher and every family file.
 *
 * Invariant: a command is data (name, arity, flags, key positions, ACL categories) plus one
 * handler; handlers reply through the client's ReplyWriter and never touch sockets.
 */
import type { Client } from "../server/client.ts";

/** Redis command flags, as COMMAND INFO reports them. */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_multi"
  | "allow_busy"
  | "movablekeys";

/** A command handler; a returned promise means the client blocks until it settles. */
export type CommandHandler = (client: Client, args: string[]) => void | Promise<void>;

/** One row of the command table. */
export interface CommandSpec {
  /** Lower-case name; subcommands are `parent|sub`. */
  name: string;
  /** Redis arity: positive = exact argc, negative = at least -arity. */
  arity: number;
  /** Flags (write, readonly, fast, ...). */
  flags: readonly CommandFlag[];
  /** First key argument index (0 = no keys). */
  firstKey: number;
  /** Last key argument index (negative counts from the end). */
  lastKey: number;
  /** Step between keys. */
  step: number;
  /** Command group as COMMAND DOCS reports it (string, generic, server, ...). */
  group: string;
  /** One-line summary for COMMAND DOCS. */
  summary: string;
  /** Redis version that introduced the command. */
  since: string;
  /** Extra ACL categories beyond those implied by flags and group (without @). */
  categories?: readonly string[];
  /** The handler; container commands with subcommands dispatch to them instead. */
  handler?: CommandHandler;
  /** Subcommands of a container command (CONFIG GET, CLIENT LIST, ...). */
  subcommands?: readonly CommandSpec[];
  /** Extracts key positions for commands whose keys are not first/last/step (movablekeys). */
  getKeys?: (args: string[]) => number[];
  /** Flag tests precomputed by the registry for the dispatcher's hot path. */
  traits?: CommandTraits;
}

/** Booleans derived once from a command's flags. */
export interface CommandTraits {
  /** Has the write flag. */
  write: boolean;
  /** Has the fast flag: O(1)/O(log n). */
  fast: boolean;
  /**
   * Timed per read batch instead of per call while the slow log threshold allows it (see the
   * dispatcher): fast commands, and the few in BATCH_TIMED_COMMANDS.
   */
  batchTimed: boolean;
  /** Runs without authentication. */
  noAuth: boolean;
  /** Refused inside MULTI. */
  noMulti: boolean;
  /** Has the admin flag (hidden from MONITOR). */
  admin: boolean;
  /** Has the denyoom flag: refused while used memory is over maxmemory. */
  denyoom: boolean;
  /** Looks keys up without counting an access (Redis's LOOKUP_NOTOUCH callers; see NO_TOUCH_COMMANDS). */
  noTouch: boolean;
  /** A small integer unique to this spec in the process (indexes per-command tables such as stats). */
  id: number;
}

/** Next CommandTraits.id. */
let nextCommandId = 0;

/**
 * Commands whose key lookups leave access stamps (LRU clock, LFU counter) alone, as in Redis
 * 7.0: OBJECT, TYPE, EXISTS and the TTL family pass LOOKUP_NOTOUCH; DEBUG OBJECT and MEMORY
 * USAGE read the dict directly; KEYS, SCAN, RANDOMKEY and WATCH only check expiry.
 */
const NO_TOUCH_COMMANDS: ReadonlySet<string> = new Set([
  "object|encoding",
  "object|freq",
  "object|idletime",
  "object|refcount",
  "type",
  "exists",
  "ttl",
  "pttl",
  "expiretime",
  "pexpiretime",
  "debug",
  "memory|usage",
  "keys",
  "scan",
  "randomkey",
  "watch",
]);

/**
 * Commands Redis does not flag as fast whose handler here still does a bounded amount of work
 * (one key, no walk over stored data: the SET forms; a GET-style reply copy is the same as
 * GET's), so that the dispatcher may time them per batch like fast commands. SET is the most
 * common write: a clock read (~90 ns under Deno) per SET cost about 6% of its throughput.
 */
const BATCH_TIMED_COMMANDS: ReadonlySet<string> = new Set(["set", "setex", "psetex"]);

/** Computes the traits of a command from its flags. */
export function traitsOf(spec: CommandSpec): CommandTraits {
  const f = spec.flags;
  return {
    write: f.includes("write"),
    fast: f.includes("fast"),
    batchTimed: f.includes("fast") || BATCH_TIMED_COMMANDS.has(spec.name),
    noAuth: f.includes("no_auth"),
    noMulti: f.includes("no_multi"),
    admin: f.includes("admin"),
    denyoom: f.includes("denyoom"),
    noTouch: NO_TOUCH_COMMANDS.has(spec.name),
    id: nextCommandId++,
  };
}

/** Shorthand used by family files to declare a command as one line of data. */
export function command(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  keys: readonly [number, number, number],
  group: string,
  summary: string,
  since: string,
  handler: CommandHandler | undefined,
  extra: Partial<CommandSpec> = {},
): CommandSpec {
  return {
    name,
    arity,
    flags,
    firstKey: keys[0],
    lastKey: keys[1],
    step: keys[2],
    group,
    summary,
    since,
    handler,
    ...extra,
  };
}

/** Key positions of a command for `COMMAND GETKEYS` and ACL key checks. */
export function keyPositions(spec: CommandSpec, args: string[]): number[] {
  if (spec.getKeys) return spec.getKeys(args);
  if (spec.firstKey <= 0) return [];
  const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < args.length; i += spec.step || 1) out.push(i);
  return out;
}

/** ACL categories of a command: implied by its flags and group, plus explicit ones. */
export function aclCategories(spec: CommandSpec): string[] {
  const cats = new Set<string>();
  const groupCat: Record<string, string> = {
    string: "string",
    list: "list",
    hash: "hash",
    set: "set",
    sorted_set: "sortedset",
    stream: "stream",
    hyperloglog: "hyperloglog",
    bitmap: "bitmap",
    geo: "geo",
    pubsub: "pubsub",
    generic: "keyspace",
    transactions: "transaction",
    connection: "connection",
    scripting: "scripting",
  };
  if (spec.flags.includes("write")) cats.add("write");
  if (spec.flags.includes("readonly") && spec.group !== "server" && spec.group !== "connection") cats.add("read");
  if (spec.flags.includes("admin")) {
    cats.add("admin");
    cats.add("dangerous");
  }
  if (spec.flags.includes("pubsub")) cats.add("pubsub");
  if (spec.flags.includes("blocking")) cats.add("blocking");
  cats.add(spec.flags.includes("fast") ? "fast" : "slow");
  const g = groupCat[spec.group];
  if (g) cats.add(g);
  for (const c of spec.categories ?? []) cats.add(c);
  return [...cats];
}
