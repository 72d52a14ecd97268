/**
 * Dispatcher: runs one command vector for one client.
 *
 * Owns the checks every command passes, in Redis's order: lookup, arity, authentication,
 * ACL permissions and admin-only commands (src/commands/acl.ts), maxmemory (eviction, -OOM;
 * src/server/eviction.ts), pub/sub context, MULTI queueing, READONLY on replicas; then
 * execution (with the command's key-touch mode for LRU/LFU stamps), statistics, the slow log,
 * MONITOR feeds and write recording (journal/replication observers).
 * Invariant: a write is recorded only when it changed data (the store's dirty counter moved)
 * and it replied without error; handlers may replace the recorded form with `propagateAs`.
 */
import type { Client } from "../server/client.ts";
import type { CommandSpec } from "./types.ts";
import type { CommandStat } from "../server/stats.ts";
import { findSubcommand, lookupCommand } from "./registry.ts";
import { pauseHold } from "./server_admin.ts";
import { aclCheck } from "./acl.ts";
import { OOM_ERROR } from "../server/eviction.ts";

/** Commands allowed while a RESP2 client is in subscriber mode. */
const PUBSUB_ALLOWED = new Set([
  "subscribe",
  "unsubscribe",
  "psubscribe",
  "punsubscribe",
  "ssubscribe",
  "sunsubscribe",
  "ping",
  "quit",
  "reset",
]);
/** Commands that run immediately inside MULTI instead of being queued (UNWATCH is queued). */
const MULTI_IMMEDIATE = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);
/** Commands a client in MULTI may still send while over maxmemory (Redis's processCommand). */
const MULTI_OOM_ALLOWED = new Set(["exec", "discard", "quit", "reset"]);

/**
 * Fast commands (O(1)/O(log n)) and a few other bounded ones (CommandTraits.batchTimed) are
 * timed per read batch, because a clock read costs about as much as the command; they are timed
 * one by one when the slow log threshold is below this (µs), so that a low threshold still
 * catches them.
 */
const FAST_TIMING_THRESHOLD_US = 1000;

/** Formats Redis 7's unknown-command error. */
export function unknownCommandError(args: string[]): string {
  let rest = "";
  for (let i = 1; i < args.length && rest.length < 128; i++) {
    rest += `'${args[i].slice(0, 128 - rest.length)}' `;
  }
  return `ERR unknown command '${args[0].slice(0, 128)}', with args beginning with: ${rest}`.replace(/[\r\n]/g, " ");
}

/** The arity error text for a command or `parent|sub`. */
export function arityError(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

function arityOk(spec: CommandSpec, argc: number): boolean {
  return spec.arity > 0 ? argc === spec.arity : argc >= -spec.arity;
}

/** Resolves a command vector to its spec (descending into subcommands). Null if unknown. */
export function resolveCommand(args: string[]): { spec: CommandSpec; error: string | null } | null {
  const spec = lookupCommand(args[0]);
  if (spec === undefined) return null;
  if (spec.subcommands && args.length >= 2) {
    const sub = findSubcommand(spec, args[1]);
    if (!sub) {
      return {
        spec,
        error: `ERR unknown subcommand '${args[1].slice(0, 128)}'. Try ${args[0].toUpperCase()} HELP.`.replace(
          /[\r\n]/g,
          " ",
        ),
      };
    }
    return { spec: sub, error: null };
  }
  return { spec, error: null };
}

/** Per-execution record a handler can adjust: the recorded (journaled) form of a write. */
let propagateOverride: string[][] | null = null;

/**
 * Called by a handler to record its write in a deterministic form instead of its
 * arguments (EXPIRE → PEXPIREAT, SPOP → SREM, ...). Pass several vectors for several
 * records, or none to record nothing.
 */
export function propagateAs(...vectors: string[][]): void {
  propagateOverride = vectors;
}

function errorCodeOf(text: string): string {
  const m = /^-?([A-Z]+)[ ]/.exec(text);
  return m ? m[1] : "ERR";
}

/** Replies with an error outside command execution and counts it. */
function replyError(c: Client, text: string): void {
  c.w.error(text);
  c.server.stats.countError(errorCodeOf(text));
}

function reject(c: Client, spec: CommandSpec | null, text: string): void {
  if (spec) c.server.stats.command(spec.name).rejected++;
  if (spec?.name === "exec") {
    // A rejected EXEC (even outside MULTI) discards the transaction and its watches and
    // quotes the reason, as Redis's execCommandAbort does.
    c.multi = null;
    c.unwatchAll();
    return replyError(
      c,
      `EXECABORT Transaction discarded because of: ${text.startsWith("ERR ") ? text.slice(4) : text}`,
    );
  }
  replyError(c, text);
  if (c.multi) c.multi.aborted = true;
}

/**
 * Executes one command for `client`. Returns a promise only for commands that block.
 */
export function dispatch(c: Client, args: string[]): void | Promise<void> {
  let spec = lookupCommand(args[0]);
  if (spec === undefined) {
    if (c.multi) c.multi.aborted = true;
    replyError(c, unknownCommandError(args));
    return;
  }
  if (spec.subcommands !== undefined) {
    const resolved = resolveCommand(args)!;
    if (resolved.error !== null) return reject(c, resolved.spec, resolved.error);
    spec = resolved.spec;
  }
  c.lastCommand = spec.name;
  if (!arityOk(spec, args.length)) {
    return reject(c, spec, arityError(spec.name));
  }
  if (c.user === null && !spec.traits!.noAuth) {
    return reject(c, spec, "NOAUTH Authentication required.");
  }
  if (c.user !== null && c.origin !== "internal") {
    const denied = aclCheck(c, spec, args);
    if (denied !== null) return reject(c, spec, denied);
  }
  if (c.server.evictor.maxmemory !== 0 && c.server.evictor.perform() === "fail" && refusedOnOom(c, spec)) {
    return reject(c, spec, OOM_ERROR);
  }
  if (c.proto === 2 && c.inPubSubMode && !PUBSUB_ALLOWED.has(spec.name)) {
    return reject(
      c,
      spec,
      `ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
  }
  if (c.server.loading && !c.isMasterLink && !spec.flags.includes("loading")) {
    return reject(c, spec, "LOADING Dragonfly is loading the dataset in memory");
  }
  if (c.server.pause !== null) {
    // CLIENT PAUSE: hold the command (and the client's later ones) until the pause ends.
    const held = pauseHold(c, spec, (a) => resolveCommand(a)?.spec);
    if (held !== null) return held.then(() => (c.closed ? undefined : dispatch(c, args)));
  }
  if (c.multi && !MULTI_IMMEDIATE.has(spec.name.split("|")[0])) {
    if (spec.traits!.noMulti) {
      return reject(c, spec, `ERR Command not allowed inside a transaction`);
    }
    if (spec.traits!.write && c.server.replicaOf !== null && !c.isMasterLink) {
      return reject(c, spec, "READONLY You can't write against a read only replica.");
    }
    c.multi.queue.push(args);
    c.w.simple("QUEUED");
    return;
  }
  const r = execute(c, spec, args);
  // Clients blocked on keys this command changed are served only once it has completed.
  if (r instanceof Promise) return r.then(() => c.server.blocking.serveReady());
  c.server.blocking.serveReady();
}

/**
 * Whether `spec` is refused while used memory is over maxmemory: denyoom commands, EXEC of a
 * transaction that queued one, and anything but EXEC/DISCARD/QUIT/RESET inside MULTI (queueing
 * takes memory too), as in Redis's processCommand.
 */
function refusedOnOom(c: Client, spec: CommandSpec): boolean {
  if (spec.traits!.denyoom) return true;
  if (c.multi === null) return false;
  if (spec.name !== "exec") return !MULTI_OOM_ALLOWED.has(spec.name);
  return c.multi.queue.some((args) => resolveCommand(args)?.spec.traits?.denyoom === true);
}

/**
 * Runs a resolved command with the checks that also apply inside EXEC (READONLY), then
 * records statistics and writes. Used by dispatch and by EXEC.
 */
export function execute(c: Client, spec: CommandSpec, args: string[]): void | Promise<void> {
  const server = c.server;
  const traits = spec.traits!;
  if (traits.write && server.replicaOf !== null && !c.isMasterLink) {
    return reject(c, spec, "READONLY You can't write against a read only replica.");
  }
  const handler = spec.handler;
  if (!handler) {
    return reject(c, spec, `ERR unknown subcommand or wrong number of arguments for '${spec.name}' command`);
  }
  const stats = server.stats;
  const stat = stats.commandOf(spec);
  const errorsBefore = c.w.errorCount;
  const dirtyBefore = server.store.dirty;
  propagateOverride = null;
  server.store.access.beginCommand(!traits.noTouch && (!c.noTouch || spec.name === "touch"));
  // Fast commands are timed per batch (a clock read costs more than the command itself).
  const timed = !traits.batchTimed || stats.slowlogSlowerThan < FAST_TIMING_THRESHOLD_US;
  const start = timed ? stats.clockForStart() : 0;
  let result: void | Promise<void>;
  try {
    result = handler(c, args);
  } catch (e) {
    c.w.error(`ERR ${(e as Error).message}`);
    result = undefined;
  }
  // Like Redis, monitors see a command after it ran (so SELECT shows the new db).
  if (server.monitors.size > 0 && !traits.admin) feedMonitors(c, args);
  if (result instanceof Promise) return finishBlocked(result, c, spec, stat, args, timed, start, errorsBefore);
  finish(c, spec, stat, args, timed, start, errorsBefore, dirtyBefore, true);
}

/**
 * Finishes a command that blocked once it is served. It records its own writes: the store
 * changed meanwhile for other reasons, so the dirty counter says nothing about it. (Kept out of
 * `execute` so that the common path allocates no closure context.)
 */
function finishBlocked(
  result: Promise<void>,
  c: Client,
  spec: CommandSpec,
  stat: CommandStat,
  args: string[],
  timed: boolean,
  start: number,
  errorsBefore: number,
): Promise<void> {
  const done = () => finish(c, spec, stat, args, timed, start, errorsBefore, 0, false);
  return result.then(done, (e) => {
    c.w.error(`ERR ${(e as Error).message}`);
    done();
  });
}

function finish(
  c: Client,
  spec: CommandSpec,
  stat: CommandStat,
  args: string[],
  timed: boolean,
  start: number,
  errorsBefore: number,
  dirtyBefore: number,
  mayRecord: boolean,
): void {
  const server = c.server;
  const stats = server.stats;
  stat.calls++;
  stats.totalCommands++;
  if (!timed) {
    stats.addUntimed(stat);
  } else {
    const us = (stats.clockAtEnd() - start) * 1000;
    stat.usec += us;
    stats.timedUs += us;
    const slower = stats.slowlogSlowerThan;
    if (slower >= 0 && us >= slower) addSlowlog(c, args, Math.round(us));
  }
  const failed = c.w.errorCount !== errorsBefore;
  if (failed) {
    stat.failed++;
    stats.countError(errorCodeOf(c.w.lastError ?? "ERR"));
  }
  if (mayRecord && spec.traits!.write && !failed && server.store.dirty !== dirtyBefore) {
    const vectors = propagateOverride;
    if (vectors === null) {
      server.recordWrite(c.db, args);
    } else if (vectors.length === 1) {
      server.recordWrite(c.db, vectors[0]);
    } else if (vectors.length > 1) {
      // One command recorded as several per-key writes (SMOVE → SREM + SADD, ...) is one
      // transaction: replicas apply it atomically, even when its keys live on different shards.
      server.beginTransaction();
      for (const v of vectors) server.recordWrite(c.db, v);
      server.endTransaction();
    }
  }
  propagateOverride = null;
}

function addSlowlog(c: Client, args: string[], us: number): void {
  const s = c.server.stats;
  const maxArgs = 32;
  const shown = args.slice(0, args.length > maxArgs ? maxArgs - 1 : maxArgs).map((a) =>
    a.length > 128 ? a.slice(0, 128) + `... (${a.length - 128} more bytes)` : a
  );
  if (args.length > maxArgs) shown.push(`... (${args.length - maxArgs + 1} more arguments)`);
  s.slowlog.unshift({
    id: s.slowlogNextId++,
    time: Math.floor(Date.now() / 1000),
    durationUs: us,
    args: shown,
    addr: c.addr,
    name: c.name,
  });
  const max = c.server.config.num("slowlog_max_len");
  if (s.slowlog.length > max) s.slowlog.length = max;
}

function quoteMonitorArg(a: string): string {
  let out = '"';
  for (let i = 0; i < a.length; i++) {
    const ch = a[i];
    const code = a.charCodeAt(i);
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code === 7) out += "\\a";
    else if (code === 8) out += "\\b";
    else if (code < 32 || code > 126) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

function feedMonitors(c: Client, args: string[]): void {
  const now = Date.now();
  const ts = `${Math.floor(now / 1000)}.${String((now % 1000) * 1000).padStart(6, "0")}`;
  const who = c.origin === "internal" ? (c.isMasterLink ? "lua" : "unix") : c.addr;
  const line = `${ts} [${c.db} ${who}] ${args.map(quoteMonitorArg).join(" ")}`;
  for (const m of c.server.monitors) {
    if (m === c || m.closed) continue;
    m.w.simple(line);
    m.flush();
  }
}
