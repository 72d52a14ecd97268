/**
 * Transactions family: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0 semantics).
 *
 * The dispatcher queues commands while `c.multi` is set and flags the transaction aborted
 * when it rejects one; EXEC then runs the queue through `execute()` in one synchronous
 * pass, so it is atomic across shards. Invariants: `c.multi` stays set while EXEC runs its
 * queue (blocking commands check it and answer at once instead of blocking) and is null
 * afterwards; the writes of one EXEC reach the journal as one unit (Server.beginTransaction);
 * a WATCHed key aborts EXEC when anyone wrote it (DbSlice pre-write hook), when it expired
 * since WATCH, or when FLUSHDB/FLUSHALL/SWAPDB changed it. As in Redis 7.0, a key already
 * expired at WATCH time does not abort EXEC when it is merely deleted by expiry.
 */
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { execute, resolveCommand } from "./dispatcher.ts";

const EXECABORT = "EXECABORT Transaction discarded because of previous errors.";
const READONLY_ABORT =
  "EXECABORT Transaction discarded because of: READONLY You can't write against a read only replica.";
const TRANSACTION_FLAGS = ["noscript", "loading", "stale", "fast", "allow_busy"] as const;

function multi(c: Client): void {
  if (c.multi !== null) {
    c.w.error("ERR MULTI calls can not be nested");
    return;
  }
  c.multi = { queue: [], aborted: false };
  c.w.simple("OK");
}

/** Leaves MULTI state and forgets every WATCH (Redis's discardTransaction). */
function discardTransaction(c: Client): void {
  c.multi = null;
  c.unwatchAll();
}

function discard(c: Client): void {
  if (c.multi === null) {
    c.w.error("ERR DISCARD without MULTI");
    return;
  }
  discardTransaction(c);
  c.w.simple("OK");
}

/**
 * Watches one key of the client's db. The pre-write hook marks the client dirty; the check
 * kept in `watchedKeys` covers what no hook reports: the key expiring before EXEC.
 */
function watchKey(c: Client, key: string): void {
  const id = c.db + "\0" + key;
  if (c.watchedKeys.has(id)) return;
  const slice = c.slice(key);
  const expiredAtWatch = slice.data.has(key) && slice.isExpired(key, slice.shard.clock());
  // For a key already expired at WATCH, the first write may be its deletion by expiry,
  // which is no logical change; whether it was shows at EXEC (the key is then absent).
  let touchedWhileExpired = false;
  c.unwatchers.push(slice.watch(key, () => {
    if (expiredAtWatch && !touchedWhileExpired) touchedWhileExpired = true;
    else c.watchDirty = true;
  }));
  c.watchedKeys.set(
    id,
    expiredAtWatch ? () => touchedWhileExpired && slice.data.has(key) : () => slice.isExpired(key, slice.shard.clock()),
  );
}

function watch(c: Client, args: string[]): void {
  if (c.multi !== null) {
    c.w.error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  for (let i = 1; i < args.length; i++) watchKey(c, args[i]);
  c.w.simple("OK");
}

function unwatch(c: Client): void {
  c.unwatchAll();
  c.w.simple("OK");
}

/** True when a WATCHed key changed since WATCH (including by expiring). */
function watchBroken(c: Client): boolean {
  if (c.watchDirty) return true;
  for (const changed of c.watchedKeys.values()) if (changed()) return true;
  return false;
}

function exec(c: Client): void | Promise<void> {
  const state = c.multi;
  if (state === null) {
    c.w.error("ERR EXEC without MULTI");
    return;
  }
  if (state.aborted) {
    discardTransaction(c);
    c.w.error(EXECABORT);
    return;
  }
  if (watchBroken(c)) {
    discardTransaction(c);
    c.w.nilArray();
    return;
  }
  c.unwatchAll();
  const server = c.server;
  // Every queued command resolved when it was queued; the table does not change at runtime.
  const specs = state.queue.map((args) => resolveCommand(args)!.spec);
  if (server.replicaOf !== null && !c.isMasterLink && specs.some((s) => s.traits!.write)) {
    discardTransaction(c);
    c.w.error(READONLY_ABORT);
    return;
  }
  c.w.array(specs.length);
  return runQueue(c, specs, state.queue, 0);
}

/**
 * Runs queued commands from index `from` as one journal transaction and leaves MULTI state
 * when done. Blocking commands answer at once inside MULTI; should one still wait, the
 * commands after it run (as a new journal transaction) once it has been served.
 */
function runQueue(c: Client, specs: CommandSpec[], queue: string[][], from: number): void | Promise<void> {
  const server = c.server;
  let r: void | Promise<void> = undefined;
  let i = from;
  server.beginTransaction();
  try {
    for (; i < specs.length && !(r instanceof Promise); i++) r = execute(c, specs[i], queue[i]);
  } catch (e) {
    c.multi = null;
    throw e;
  } finally {
    server.endTransaction();
  }
  if (r instanceof Promise) return r.then(() => runQueue(c, specs, queue, i));
  c.multi = null;
}

/** Commands of the transactions family. */
export const transactionCommands: CommandSpec[] = [
  command("multi", 1, TRANSACTION_FLAGS, [0, 0, 0], "transactions", "Starts a transaction.", "1.2.0", multi),
  command(
    "exec",
    1,
    ["noscript", "loading", "stale", "skip_slowlog"],
    [0, 0, 0],
    "transactions",
    "Executes all commands in a transaction.",
    "1.2.0",
    exec,
  ),
  command("discard", 1, TRANSACTION_FLAGS, [0, 0, 0], "transactions", "Discards a transaction.", "2.0.0", discard),
  command(
    "watch",
    -2,
    TRANSACTION_FLAGS,
    [1, -1, 1],
    "transactions",
    "Monitors changes to keys to determine the execution of a transaction.",
    "2.2.0",
    watch,
  ),
  command(
    "unwatch",
    1,
    TRANSACTION_FLAGS,
    [0, 0, 0],
    "transactions",
    "Forgets about watched keys of a transaction.",
    "2.2.0",
    unwatch,
  ),
];
