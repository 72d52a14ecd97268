/**
 * The lists command family: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE, LINDEX,
 * LSET, LINSERT, LREM, LTRIM, LPOS, RPOPLPUSH, LMOVE, LMPOP and the blocking BLPOP, BRPOP,
 * BRPOPLPUSH, BLMOVE, BLMPOP.
 *
 * Invariants: replies, error texts and keyspace events are Redis 7.0's; a list is mutated
 * only after `beforeWrite` on its key and only when something really changes (so a no-op
 * records nothing and touches no WATCH); emptied lists are deleted; a push that may serve
 * blocked clients signals its key. Blocking commands answer at once inside MULTI/EXEC. A
 * waiter is served from the key that became ready, in FIFO order, and its concrete effect
 * is recorded (BLPOP → LPOP key, BLMOVE → LPOP/RPOP src + LPUSH/RPUSH dst element, BLMPOP →
 * LPOP key n) directly with `recordWrite`, since the dispatcher is not running its command
 * then. Every move (LMOVE, RPOPLPUSH and their blocking forms) is recorded as per-key pop and
 * push records, so each record lives on one shard's journal.
 */
import { command, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { ERR, lookupRead, parseBlockTimeout, parseI64 } from "./helpers.ts";
import { arityError, propagateAs } from "./dispatcher.ts";
import { ListValue } from "../store/types/list.ts";

/** Which end of a list: LEFT is the head, RIGHT the tail. */
type End = "left" | "right";

const G = "list";
const ERR_POSITIVE = "ERR value is out of range, must be positive";
const ERR_NUMKEYS = "ERR numkeys should be greater than 0";
const ERR_COUNT = "ERR count should be greater than 0";

// ---------------------------------------------------------------------------------------
// Parsing and typed access
// ---------------------------------------------------------------------------------------

/** A signed 64-bit integer argument as a JS number (exact up to 2^53); null when invalid. */
function parseLong(s: string): number | null {
  const v = parseI64(s);
  return v === null ? null : Number(v);
}

/** LEFT or RIGHT (any case); null when neither. */
function parseEnd(s: string): End | null {
  const u = s.toLowerCase();
  return u === "left" ? "left" : u === "right" ? "right" : null;
}

/** A list for a read command (counting hits and misses): the list, null when missing, false after WRONGTYPE. */
function readList(c: Client, key: string): ListValue | null | false {
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (v instanceof ListValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

/** A list for a write command: the list, null when missing, false after WRONGTYPE. */
function writeList(c: Client, key: string): ListValue | null | false {
  const v = c.slice(key).get(key);
  if (v === undefined) return null;
  if (v instanceof ListValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

/** Lets clients blocked on `key` (in `db`) try again once the current command completes. */
function signalKey(c: Client, db: number, key: string): void {
  const blocking = c.server.blocking;
  if (blocking.blockingKeys !== 0) blocking.signal(db, key);
}

function pop(list: ListValue, end: End): string {
  return (end === "left" ? list.popHead() : list.popTail()) as string;
}

/** Redis's listElementsRemoved: the pop event, and the key deleted (with `del`) once empty. */
function elementsRemoved(c: Client, db: number, key: string, end: End, list: ListValue): void {
  c.server.notify("l", end === "left" ? "lpop" : "rpop", key, db);
  if (list.length === 0) {
    c.server.store.slice(db, key).delete(key);
    c.server.notify("g", "del", key, db);
  }
}

// ---------------------------------------------------------------------------------------
// Push and pop
// ---------------------------------------------------------------------------------------

function pushGeneric(c: Client, args: string[], end: End, onlyIfExists: boolean): void {
  const key = args[1];
  const slice = c.slice(key);
  let list = writeList(c, key);
  if (list === false) return;
  if (list === null) {
    if (onlyIfExists) return c.w.int(0);
    list = new ListValue(args.length - 2);
    slice.set(key, list);
  } else {
    slice.beforeWrite(key);
  }
  for (let i = 2; i < args.length; i++) {
    if (end === "left") list.pushHead(args[i]);
    else list.pushTail(args[i]);
  }
  c.w.int(list.length);
  c.server.notify("l", end === "left" ? "lpush" : "rpush", key, c.db);
  signalKey(c, c.db, key);
}

function popGeneric(c: Client, args: string[], end: End): void {
  if (args.length > 3) return c.w.error(arityError(args[0].toLowerCase()));
  const hasCount = args.length === 3;
  let count = 0;
  if (hasCount) {
    const n = parseLong(args[2]);
    if (n === null || n < 0) return c.w.error(ERR_POSITIVE);
    count = n;
  }
  const key = args[1];
  const list = writeList(c, key);
  if (list === false) return;
  if (list === null) return hasCount ? c.w.nilArray() : c.w.nil();
  if (hasCount && count === 0) return c.w.array(0);
  c.slice(key).beforeWrite(key);
  if (!hasCount) {
    c.w.bulk(pop(list, end));
  } else {
    const n = Math.min(count, list.length);
    c.w.array(n);
    for (let i = 0; i < n; i++) c.w.bulk(pop(list, end));
  }
  elementsRemoved(c, c.db, key, end, list);
}

/**
 * Pops up to `count` elements of a non-empty list as LMPOP/BLMPOP reply: [key, [elements]].
 * Returns the number popped.
 */
function popRangeWithKey(c: Client, db: number, key: string, list: ListValue, end: End, count: number): number {
  c.server.store.slice(db, key).beforeWrite(key);
  const n = Math.min(count, list.length);
  c.w.array(2);
  c.w.bulk(key);
  c.w.array(n);
  for (let i = 0; i < n; i++) c.w.bulk(pop(list, end));
  elementsRemoved(c, db, key, end, list);
  return n;
}

/** The deterministic record of a pop: `LPOP key` / `RPOP key`, with a count for the *MPOP forms. */
function popVector(key: string, end: End, count: number | null): string[] {
  const name = end === "left" ? "LPOP" : "RPOP";
  return count === null ? [name, key] : [name, key, String(count)];
}

// ---------------------------------------------------------------------------------------
// Reads and in-place edits
// ---------------------------------------------------------------------------------------

function llen(c: Client, args: string[]): void {
  const list = readList(c, args[1]);
  if (list === false) return;
  c.w.int(list === null ? 0 : list.length);
}

function lrange(c: Client, args: string[]): void {
  let start = parseLong(args[2]);
  let stop = parseLong(args[3]);
  if (start === null || stop === null) return c.w.error(ERR.notInteger);
  const list = readList(c, args[1]);
  if (list === false) return;
  if (list === null) return c.w.array(0);
  const n = list.length;
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return c.w.array(0);
  if (stop >= n) stop = n - 1;
  c.w.array(stop - start + 1);
  for (let i = start; i <= stop; i++) c.w.bulk(list.at(i));
}

function lindex(c: Client, args: string[]): void {
  const list = readList(c, args[1]);
  if (list === false) return;
  if (list === null) return c.w.nil();
  let index = parseLong(args[2]);
  if (index === null) return c.w.error(ERR.notInteger);
  if (index < 0) index += list.length;
  if (index < 0 || index >= list.length) return c.w.nil();
  c.w.bulk(list.at(index));
}

function lset(c: Client, args: string[]): void {
  const key = args[1];
  const list = writeList(c, key);
  if (list === false) return;
  if (list === null) return c.w.error(ERR.noSuchKey);
  let index = parseLong(args[2]);
  if (index === null) return c.w.error(ERR.notInteger);
  if (index < 0) index += list.length;
  if (index < 0 || index >= list.length) return c.w.error(ERR.outOfRange);
  c.slice(key).beforeWrite(key);
  list.setAt(index, args[3]);
  c.w.simple("OK");
  c.server.notify("l", "lset", key, c.db);
}

function linsert(c: Client, args: string[]): void {
  const where = args[2].toLowerCase();
  if (where !== "before" && where !== "after") return c.w.error(ERR.syntax);
  const key = args[1];
  const list = writeList(c, key);
  if (list === false) return;
  if (list === null) return c.w.int(0);
  const pivot = args[3];
  const n = list.length;
  let at = -1;
  for (let i = 0; i < n; i++) {
    if (list.at(i) === pivot) {
      at = i;
      break;
    }
  }
  if (at < 0) return c.w.int(-1);
  c.slice(key).beforeWrite(key);
  list.insertAt(where === "before" ? at : at + 1, args[4]);
  c.server.notify("l", "linsert", key, c.db);
  c.w.int(list.length);
}

function lrem(c: Client, args: string[]): void {
  const count = parseLong(args[2]);
  if (count === null) return c.w.error(ERR.notInteger);
  const key = args[1];
  const list = writeList(c, key);
  if (list === false) return;
  if (list === null) return c.w.int(0);
  const value = args[3];
  let found = false;
  for (let i = 0, n = list.length; i < n && !found; i++) found = list.at(i) === value;
  if (!found) return c.w.int(0);
  const slice = c.slice(key);
  slice.beforeWrite(key);
  const removed = list.removeValue(value, count);
  c.server.notify("l", "lrem", key, c.db);
  if (list.length === 0) {
    slice.delete(key);
    c.server.notify("g", "del", key, c.db);
  }
  c.w.int(removed);
}

function ltrim(c: Client, args: string[]): void {
  let start = parseLong(args[2]);
  let stop = parseLong(args[3]);
  if (start === null || stop === null) return c.w.error(ERR.notInteger);
  const key = args[1];
  const list = writeList(c, key);
  if (list === false) return;
  if (list === null) return c.w.simple("OK");
  const n = list.length;
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  let dropHead: number;
  let dropTail: number;
  if (start > stop || start >= n) {
    dropHead = n;
    dropTail = 0;
  } else {
    if (stop >= n) stop = n - 1;
    dropHead = start;
    dropTail = n - stop - 1;
  }
  const slice = c.slice(key);
  // Redis touches the key (WATCH) and sends the event even when nothing is trimmed, but
  // only a real change is propagated.
  slice.beforeWrite(key);
  if (dropHead + dropTail === 0) propagateAs();
  list.dropHead(dropHead);
  list.dropTail(dropTail);
  c.server.notify("l", "ltrim", key, c.db);
  if (list.length === 0) {
    slice.delete(key);
    c.server.notify("g", "del", key, c.db);
  }
  c.w.simple("OK");
}

function lpos(c: Client, args: string[]): void {
  const element = args[2];
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < args.length; j++) {
    const o = args[j].toLowerCase();
    const more = j < args.length - 1;
    if (o === "rank" && more) {
      const r = parseLong(args[++j]);
      if (r === null) return c.w.error(ERR.notInteger);
      if (r === 0) {
        return c.w.error(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      rank = r;
    } else if (o === "count" && more) {
      const n = parseLong(args[++j]);
      if (n === null || n < 0) return c.w.error("ERR COUNT can't be negative");
      count = n;
    } else if (o === "maxlen" && more) {
      const n = parseLong(args[++j]);
      if (n === null || n < 0) return c.w.error("ERR MAXLEN can't be negative");
      maxlen = n;
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  const list = readList(c, args[1]);
  if (list === false) return;
  if (list === null) return count !== -1 ? c.w.array(0) : c.w.nil();
  // A negative rank scans from the tail. (Redis negates LONG_MIN into itself, which then
  // matches from the first hit: the same as rank -1.)
  const fromTail = rank < 0;
  if (fromTail) rank = rank <= -(2 ** 63) ? 1 : -rank;
  const n = list.length;
  const matches: number[] = [];
  let seen = 0;
  for (let k = 0; k < n && (maxlen === 0 || k < maxlen); k++) {
    const i = fromTail ? n - 1 - k : k;
    if (list.at(i) !== element) continue;
    seen++;
    if (seen < rank) continue;
    matches.push(i);
    if (count === -1 || (count !== 0 && matches.length >= count)) break;
  }
  if (count === -1) return matches.length > 0 ? c.w.int(matches[0]) : c.w.nil();
  c.w.array(matches.length);
  for (const m of matches) c.w.int(m);
}

// ---------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------

/**
 * Moves one element from the non-empty list `src` to `dst` (created when missing), replying
 * with it, as Redis's lmoveGenericCommand/lmoveHandlePush. Returns the moved element, or null
 * after replying WRONGTYPE when `dst` holds another type (nothing changed then).
 */
function moveElement(
  c: Client,
  db: number,
  srcKey: string,
  src: ListValue,
  dstKey: string,
  from: End,
  to: End,
): string | null {
  const store = c.server.store;
  const dstSlice = store.slice(db, dstKey);
  const found = dstSlice.get(dstKey);
  if (found !== undefined && !(found instanceof ListValue)) {
    c.w.error(ERR.wrongType);
    return null;
  }
  const existing = found as ListValue | undefined;
  const srcSlice = store.slice(db, srcKey);
  srcSlice.beforeWrite(srcKey);
  const value = pop(src, from);
  let dst = existing;
  if (dst === undefined) {
    dst = new ListValue();
    dstSlice.set(dstKey, dst);
  } else if (dst !== src) {
    dstSlice.beforeWrite(dstKey);
  }
  if (to === "left") dst.pushHead(value);
  else dst.pushTail(value);
  c.server.notify("l", to === "left" ? "lpush" : "rpush", dstKey, db);
  c.w.bulk(value);
  c.server.notify("l", from === "left" ? "lpop" : "rpop", srcKey, db);
  if (src.length === 0) {
    srcSlice.delete(srcKey);
    c.server.notify("g", "del", srcKey, db);
  }
  signalKey(c, db, dstKey);
  return value;
}

/**
 * The deterministic records of a move of `element`, as Dragonfly journals LMOVE and its
 * relatives: a pop from `src`, then a push of the concrete element to `dst` (one key each);
 * a rotation within one list stays one LMOVE.
 */
function moveRecords(src: string, dst: string, from: End, to: End, element: string): string[][] {
  // A rotation within one list is one record: as a pop and a push, a one-element list would
  // be deleted (and lose its TTL) on the replica between the two.
  if (src === dst) return [["LMOVE", src, dst, from.toUpperCase(), to.toUpperCase()]];
  return [[from === "left" ? "LPOP" : "RPOP", src], [to === "left" ? "LPUSH" : "RPUSH", dst, element]];
}

function lmoveGeneric(c: Client, src: string, dst: string, from: End, to: End): void {
  const list = writeList(c, src);
  if (list === false) return;
  if (list === null || list.length === 0) return c.w.nil();
  const moved = moveElement(c, c.db, src, list, dst, from, to);
  if (moved !== null) propagateAs(...moveRecords(src, dst, from, to, moved));
}

function lmove(c: Client, args: string[]): void {
  const from = parseEnd(args[3]);
  const to = parseEnd(args[4]);
  if (from === null || to === null) return c.w.error(ERR.syntax);
  lmoveGeneric(c, args[1], args[2], from, to);
}

// ---------------------------------------------------------------------------------------
// LMPOP and the blocking commands
// ---------------------------------------------------------------------------------------

/** Parsed `numkeys key... LEFT|RIGHT [COUNT n]` of LMPOP/BLMPOP. */
interface MpopArgs {
  keys: string[];
  end: End;
  count: number;
}

function parseMpop(c: Client, args: string[], numkeysIdx: number): MpopArgs | null {
  const numkeys = parseLong(args[numkeysIdx]);
  if (numkeys === null || numkeys < 1) {
    c.w.error(ERR_NUMKEYS);
    return null;
  }
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= args.length) {
    c.w.error(ERR.syntax);
    return null;
  }
  const end = parseEnd(args[whereIdx]);
  if (end === null) {
    c.w.error(ERR.syntax);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < args.length; j++) {
    if (count === -1 && args[j].toLowerCase() === "count" && j < args.length - 1) {
      const n = parseLong(args[++j]);
      if (n === null || n < 1) {
        c.w.error(ERR_COUNT);
        return null;
      }
      count = n;
    } else {
      c.w.error(ERR.syntax);
      return null;
    }
  }
  return { keys: args.slice(numkeysIdx + 1, whereIdx), end, count: count === -1 ? 1 : count };
}

/** The first key holding a non-empty list; null when none; false after WRONGTYPE on the way. */
function firstNonEmpty(c: Client, keys: string[]): [string, ListValue] | null | false {
  for (const key of keys) {
    const list = writeList(c, key);
    if (list === false) return false;
    if (list !== null && list.length > 0) return [key, list];
  }
  return null;
}

/** Keys of LMPOP/BLMPOP (`numkeys` at `numkeysIdx`), for COMMAND GETKEYS and ACLs. */
function mpopKeys(args: string[], numkeysIdx: number): number[] {
  const n = parseLong(args[numkeysIdx] ?? "");
  if (n === null || n < 1) return [];
  const out: number[] = [];
  for (let i = numkeysIdx + 1; i <= numkeysIdx + n && i < args.length; i++) out.push(i);
  return out;
}

function lmpop(c: Client, args: string[]): void {
  const p = parseMpop(c, args, 1);
  if (p === null) return;
  const found = firstNonEmpty(c, p.keys);
  if (found === false) return;
  if (found === null) return c.w.nilArray();
  const n = popRangeWithKey(c, c.db, found[0], found[1], p.end, p.count);
  propagateAs(popVector(found[0], p.end, n));
}

/** True when a blocking command must answer at once instead of blocking (inside MULTI/EXEC). */
function cannotBlock(c: Client): boolean {
  return c.multi !== null;
}

/**
 * Pops for BLPOP/BRPOP (`count` null: reply [key, element]) or BLMPOP (reply [key,
 * [elements]]) from the non-empty `list`, and returns the deterministic record of the pop.
 */
function popForBlocking(c: Client, db: number, key: string, list: ListValue, end: End, count: number | null): string[] {
  if (count !== null) return popVector(key, end, popRangeWithKey(c, db, key, list, end, count));
  c.server.store.slice(db, key).beforeWrite(key);
  c.w.array(2);
  c.w.bulk(key);
  c.w.bulk(pop(list, end));
  elementsRemoved(c, db, key, end, list);
  return popVector(key, end, null);
}

/**
 * BLPOP, BRPOP and BLMPOP: pops at once from the first non-empty key, else blocks until a
 * key becomes ready and serves the client from that key.
 */
function blockingPop(
  c: Client,
  keys: string[],
  end: End,
  timeoutMs: number,
  count: number | null,
): void | Promise<void> {
  const found = firstNonEmpty(c, keys);
  if (found === false) return;
  if (found !== null) {
    propagateAs(popForBlocking(c, c.db, found[0], found[1], end, count));
    return;
  }
  if (cannotBlock(c)) return c.w.nilArray();
  const db = c.db;
  // Served from the key that became ready, as Redis 7.0 does (not the first key listed).
  const serveFrom = (key: string): boolean => {
    const list = c.server.store.slice(db, key).get(key);
    if (!(list instanceof ListValue) || list.length === 0) return false;
    c.server.recordWrite(db, popForBlocking(c, db, key, list, end, count));
    return true;
  };
  return c.server.blocking.block(c, {
    keys,
    timeoutMs,
    tryServe: serveFrom,
    onTimeout: () => c.w.nilArray(),
  });
}

function bpop(c: Client, args: string[], end: End): void | Promise<void> {
  const timeout = parseBlockTimeout(c, args[args.length - 1]);
  if (timeout === null) return;
  return blockingPop(c, args.slice(1, -1), end, timeout, null);
}

function blmpop(c: Client, args: string[]): void | Promise<void> {
  const p = parseMpop(c, args, 2);
  if (p === null) return;
  const timeout = parseBlockTimeout(c, args[1]);
  if (timeout === null) return;
  return blockingPop(c, p.keys, p.end, timeout, p.count);
}

/** BLMOVE and BRPOPLPUSH: moves at once when `src` has elements, else blocks on `src`. */
function blockingMove(
  c: Client,
  src: string,
  dst: string,
  from: End,
  to: End,
  timeoutMs: number,
): void | Promise<void> {
  const list = writeList(c, src);
  if (list === false) return;
  if (list !== null && list.length > 0) {
    const moved = moveElement(c, c.db, src, list, dst, from, to);
    if (moved !== null) propagateAs(...moveRecords(src, dst, from, to, moved));
    return;
  }
  if (cannotBlock(c)) return c.w.nil();
  const db = c.db;
  return c.server.blocking.block(c, {
    keys: [src],
    timeoutMs,
    tryServe: () => {
      const l = c.server.store.slice(db, src).get(src);
      if (!(l instanceof ListValue) || l.length === 0) return false;
      // A destination of the wrong type unblocks the client with WRONGTYPE, as in Redis.
      const moved = moveElement(c, db, src, l, dst, from, to);
      if (moved !== null) { for (const r of moveRecords(src, dst, from, to, moved)) c.server.recordWrite(db, r); }
      return true;
    },
    // Redis answers every timed-out list wait with a null array (at once inside MULTI: nil).
    onTimeout: () => c.w.nilArray(),
  });
}

function blmove(c: Client, args: string[]): void | Promise<void> {
  const from = parseEnd(args[3]);
  const to = parseEnd(args[4]);
  if (from === null || to === null) return c.w.error(ERR.syntax);
  const timeout = parseBlockTimeout(c, args[5]);
  if (timeout === null) return;
  return blockingMove(c, args[1], args[2], from, to, timeout);
}

function brpoplpush(c: Client, args: string[]): void | Promise<void> {
  const timeout = parseBlockTimeout(c, args[3]);
  if (timeout === null) return;
  return blockingMove(c, args[1], args[2], "right", "left", timeout);
}

/** Commands of the lists family. */
export const listCommands: CommandSpec[] = [
  command(
    "lpush",
    -3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Prepend one or multiple elements to a list",
    "1.0.0",
    (c, a) => pushGeneric(c, a, "left", false),
  ),
  command(
    "rpush",
    -3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Append one or multiple elements to a list",
    "1.0.0",
    (c, a) => pushGeneric(c, a, "right", false),
  ),
  command(
    "lpushx",
    -3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Prepend an element to a list, only if the list exists",
    "2.2.0",
    (c, a) => pushGeneric(c, a, "left", true),
  ),
  command(
    "rpushx",
    -3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    G,
    "Append an element to a list, only if the list exists",
    "2.2.0",
    (c, a) => pushGeneric(c, a, "right", true),
  ),
  command(
    "lpop",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    G,
    "Remove and get the first elements in a list",
    "1.0.0",
    (c, a) => popGeneric(c, a, "left"),
  ),
  command(
    "rpop",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    G,
    "Remove and get the last elements in a list",
    "1.0.0",
    (c, a) => popGeneric(c, a, "right"),
  ),
  command("llen", 2, ["readonly", "fast"], [1, 1, 1], G, "Get the length of a list", "1.0.0", llen),
  command("lrange", 4, ["readonly"], [1, 1, 1], G, "Get a range of elements from a list", "1.0.0", lrange),
  command("lindex", 3, ["readonly"], [1, 1, 1], G, "Get an element from a list by its index", "1.0.0", lindex),
  command(
    "lset",
    4,
    ["write", "denyoom"],
    [1, 1, 1],
    G,
    "Set the value of an element in a list by its index",
    "1.0.0",
    lset,
  ),
  command(
    "linsert",
    5,
    ["write", "denyoom"],
    [1, 1, 1],
    G,
    "Insert an element before or after another element in a list",
    "2.2.0",
    linsert,
  ),
  command("lrem", 4, ["write"], [1, 1, 1], G, "Remove elements from a list", "1.0.0", lrem),
  command("ltrim", 4, ["write"], [1, 1, 1], G, "Trim a list to the specified range", "1.0.0", ltrim),
  command("lpos", -3, ["readonly"], [1, 1, 1], G, "Return the index of matching elements on a list", "6.0.6", lpos),
  command(
    "rpoplpush",
    3,
    ["write", "denyoom"],
    [1, 2, 1],
    G,
    "Remove the last element in a list, prepend it to another list and return it",
    "1.2.0",
    (c, a) => lmoveGeneric(c, a[1], a[2], "right", "left"),
  ),
  command(
    "lmove",
    5,
    ["write", "denyoom"],
    [1, 2, 1],
    G,
    "Pop an element from a list, push it to another list and return it",
    "6.2.0",
    lmove,
  ),
  command("lmpop", -4, ["write", "movablekeys"], [0, 0, 0], G, "Pop elements from a list", "7.0.0", lmpop, {
    getKeys: (a) => mpopKeys(a, 1),
  }),
  command(
    "blpop",
    -3,
    ["write", "noscript", "blocking"],
    [1, -2, 1],
    G,
    "Remove and get the first element in a list, or block until one is available",
    "2.0.0",
    (c, a) => bpop(c, a, "left"),
  ),
  command(
    "brpop",
    -3,
    ["write", "noscript", "blocking"],
    [1, -2, 1],
    G,
    "Remove and get the last element in a list, or block until one is available",
    "2.0.0",
    (c, a) => bpop(c, a, "right"),
  ),
  command(
    "brpoplpush",
    4,
    ["write", "denyoom", "noscript", "blocking"],
    [1, 2, 1],
    G,
    "Pop an element from a list, push it to another list and return it; or block until one is available",
    "2.2.0",
    brpoplpush,
  ),
  command(
    "blmove",
    6,
    ["write", "denyoom", "noscript", "blocking"],
    [1, 2, 1],
    G,
    "Pop an element from a list, push it to another list and return it; or block until one is available",
    "6.2.0",
    blmove,
  ),
  command(
    "blmpop",
    -5,
    ["write", "blocking", "movablekeys"],
    [0, 0, 0],
    G,
    "Pop elements from a list, or block until one is available",
    "7.0.0",
    blmpop,
    { getKeys: (a) => mpopKeys(a, 2) },
  ),
];
