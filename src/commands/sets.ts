/**
 * The sets command family: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
 * SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SUNION, SDIFF, SINTERSTORE, SUNIONSTORE, SDIFFSTORE
 * and SSCAN.
 *
 * Invariants: replies, error texts and keyspace events are Redis 7.0's; a set is mutated only
 * after `beforeWrite` on its key and only when something really changes; emptied sets are
 * deleted; encodings follow Redis 7.0 (intset while every member is an integer and there are
 * at most set-max-intset-entries, else hashtable; computed sets start as intsets like
 * Redis's createIntsetObject). SPOP is recorded as SREM of the popped members (DEL when it
 * empties the set), so replicas stay identical despite the random choice. Commands with keys
 * on several shards are recorded per key, as Dragonfly journals them: SMOVE as SREM src m +
 * SADD dst m, the STORE forms as DEL dst + SADD dst in batches of 1024 members.
 */
import { command, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { ERR, lookupRead, parseI64, parseScanCursor, replaceRecords } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { SetValue } from "../store/types/set.ts";
import { globMatch } from "../util/glob.ts";
import {
  outputOverLimit,
  parseRandomCount,
  parseScanOptions,
  randomIndex,
  replyScan,
  sampleDistinct,
} from "./hashes.ts";

const G = "set";
/** SREM records of a large SPOP carry at most this many members each. */
const SPOP_BATCH = 1024;
/** SPOP count rebuilds the set from the survivors when remaining * 5 <= count (Redis's SPOP_MOVE_STRATEGY_MUL). */
const SPOP_MOVE_STRATEGY_MUL = 5;

// ---------------------------------------------------------------------------------------
// Typed access
// ---------------------------------------------------------------------------------------

/** A set for a read command (counting hits and misses): the set, null when missing, false after WRONGTYPE. */
function readSet(c: Client, key: string): SetValue | null | false {
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (v instanceof SetValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

/** A set for a write command: the set, null when missing, false after WRONGTYPE. */
function writeSet(c: Client, key: string): SetValue | null | false {
  const v = c.slice(key).get(key);
  if (v === undefined) return null;
  if (v instanceof SetValue) return v;
  c.w.error(ERR.wrongType);
  return false;
}

function maxIntset(c: Client): number {
  return c.server.config.num("set-max-intset-entries");
}

/** Writes every member as a set reply (`~` in RESP3), in the set's order. */
function replyMembers(c: Client, s: SetValue | null): void {
  const n = s === null ? 0 : s.size();
  c.w.set(n);
  for (let i = 0; i < n; i++) c.w.bulk(s!.at(i));
}

// ---------------------------------------------------------------------------------------
// Single-set commands
// ---------------------------------------------------------------------------------------

function sadd(c: Client, args: string[]): void {
  const key = args[1];
  const found = writeSet(c, key);
  if (found === false) return;
  const slice = c.slice(key);
  const max = maxIntset(c);
  let s: SetValue;
  if (found === null) {
    s = SetValue.forFirstMember(args[2]);
    slice.set(key, s);
  } else {
    s = found;
  }
  let added = 0;
  for (let i = 2; i < args.length; i++) {
    if (s.has(args[i])) continue;
    if (added === 0 && found !== null) slice.beforeWrite(key);
    s.add(args[i], max);
    added++;
  }
  if (added > 0) c.server.notify("s", "sadd", key, c.db);
  c.w.int(added);
}

function srem(c: Client, args: string[]): void {
  const key = args[1];
  const s = writeSet(c, key);
  if (s === false) return;
  if (s === null) return c.w.int(0);
  const slice = c.slice(key);
  let deleted = 0;
  for (let i = 2; i < args.length; i++) {
    if (!s.has(args[i])) continue;
    if (deleted === 0) slice.beforeWrite(key);
    s.delete(args[i]);
    deleted++;
    if (s.size() === 0) break;
  }
  if (deleted > 0) {
    c.server.notify("s", "srem", key, c.db);
    if (s.size() === 0) {
      slice.delete(key);
      c.server.notify("g", "del", key, c.db);
    }
  }
  c.w.int(deleted);
}

function smembers(c: Client, args: string[]): void {
  const s = readSet(c, args[1]);
  if (s === false) return;
  replyMembers(c, s);
}

function sismember(c: Client, args: string[]): void {
  const s = readSet(c, args[1]);
  if (s === false) return;
  c.w.int(s !== null && s.has(args[2]) ? 1 : 0);
}

function smismember(c: Client, args: string[]): void {
  const s = readSet(c, args[1]);
  if (s === false) return;
  c.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) c.w.int(s !== null && s.has(args[i]) ? 1 : 0);
}

function scard(c: Client, args: string[]): void {
  const s = readSet(c, args[1]);
  if (s === false) return;
  c.w.int(s === null ? 0 : s.size());
}

function smove(c: Client, args: string[]): void {
  const [, srcKey, dstKey, member] = args;
  const srcSlice = c.slice(srcKey);
  const dstSlice = c.slice(dstKey);
  const src = srcSlice.get(srcKey);
  const dst = dstSlice.get(dstKey);
  if (src === undefined) return c.w.int(0);
  if (!(src instanceof SetValue) || (dst !== undefined && !(dst instanceof SetValue))) return c.w.error(ERR.wrongType);
  if (src === dst) return c.w.int(src.has(member) ? 1 : 0);
  if (!src.has(member)) return c.w.int(0);
  srcSlice.beforeWrite(srcKey);
  src.delete(member);
  c.server.notify("s", "srem", srcKey, c.db);
  if (src.size() === 0) {
    srcSlice.delete(srcKey);
    c.server.notify("g", "del", srcKey, c.db);
  }
  let target = dst as SetValue | undefined;
  if (target === undefined) {
    target = SetValue.forFirstMember(member);
    dstSlice.set(dstKey, target);
  }
  if (!target.has(member)) {
    dstSlice.beforeWrite(dstKey);
    target.add(member, maxIntset(c));
    c.server.notify("s", "sadd", dstKey, c.db);
  }
  // Per-key records (as Dragonfly journals SMOVE): each lives on its key's shard.
  propagateAs(["SREM", srcKey, member], ["SADD", dstKey, member]);
  c.w.int(1);
}

// ---------------------------------------------------------------------------------------
// Random members
// ---------------------------------------------------------------------------------------

function spop(c: Client, args: string[]): void {
  if (args.length > 3) return c.w.error(ERR.syntax);
  if (args.length === 3) return spopWithCount(c, args);
  const key = args[1];
  const s = writeSet(c, key);
  if (s === false) return;
  if (s === null) return c.w.nil();
  const slice = c.slice(key);
  slice.beforeWrite(key);
  const member = s.removeAt(randomIndex(s.size()));
  c.server.notify("s", "spop", key, c.db);
  propagateAs(["SREM", key, member]);
  c.w.bulk(member);
  if (s.size() === 0) {
    slice.delete(key);
    c.server.notify("g", "del", key, c.db);
  }
}

function spopWithCount(c: Client, args: string[]): void {
  const n = parseI64(args[2]);
  if (n === null || n < 0n) return c.w.error("ERR value is out of range, must be positive");
  const key = args[1];
  const s = writeSet(c, key);
  if (s === false) return;
  if (s === null || n === 0n) return c.w.set(0);
  const slice = c.slice(key);
  const size = s.size();
  slice.beforeWrite(key);
  c.server.notify("s", "spop", key, c.db);
  if (n >= BigInt(size)) {
    // Redis replies through SUNION of the set, i.e. in the order of a fresh set (an intset
    // again when every member is an integer).
    const whole = new SetValue(true);
    const max = maxIntset(c);
    for (let i = 0; i < size; i++) whole.add(s.at(i), max);
    replyMembers(c, whole);
    slice.delete(key);
    c.server.notify("g", "del", key, c.db);
    propagateAs(["DEL", key]);
    return;
  }
  const count = Number(n);
  const remaining = size - count;
  let popped: string[];
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    popped = sampleDistinct(size, count).map((i) => s.at(i));
    for (const m of popped) s.delete(m);
  } else {
    // Redis keeps random survivors in a new set (so a hashtable whose survivors are all
    // integers becomes an intset again) and returns the rest.
    const keep = sampleDistinct(size, remaining).map((i) => s.at(i));
    const survivors = SetValue.forFirstMember(keep[0]);
    const max = maxIntset(c);
    for (const m of keep) {
      survivors.add(m, max);
      s.delete(m);
    }
    popped = [];
    for (let i = 0; i < s.size(); i++) popped.push(s.at(i));
    slice.replaceValue(key, survivors);
  }
  c.w.set(popped.length);
  for (const m of popped) c.w.bulk(m);
  const records: string[][] = [];
  for (let i = 0; i < popped.length; i += SPOP_BATCH) records.push(["SREM", key, ...popped.slice(i, i + SPOP_BATCH)]);
  propagateAs(...records);
}

function srandmember(c: Client, args: string[]): void {
  if (args.length > 3) return c.w.error(ERR.syntax);
  if (args.length === 2) {
    const s = readSet(c, args[1]);
    if (s === false) return;
    return c.w.bulk(s === null ? null : s.at(randomIndex(s.size())));
  }
  const parsed = parseRandomCount(c, args[2]);
  if (parsed === null) return;
  const l = Number(parsed);
  const s = readSet(c, args[1]);
  if (s === false) return;
  if (s === null || l === 0) return c.w.array(0);
  const size = s.size();
  const count = Math.abs(l);
  if (l < 0 || count === 1) {
    c.w.array(count);
    for (let i = 0; i < count; i++) {
      if ((i & 1023) === 1023 && outputOverLimit(c)) return;
      c.w.bulk(s.at(randomIndex(size)));
    }
    return;
  }
  if (count >= size) {
    c.w.array(size);
    for (let i = 0; i < size; i++) c.w.bulk(s.at(i));
    return;
  }
  c.w.array(count);
  for (const i of sampleDistinct(size, count)) c.w.bulk(s.at(i));
}

// ---------------------------------------------------------------------------------------
// Multi-set algebra
// ---------------------------------------------------------------------------------------

/**
 * Looks up every key (Redis checks all types before anything else): the sets, with null for
 * missing keys, or false after WRONGTYPE.
 */
function lookupSets(c: Client, keys: readonly string[], forWrite: boolean): (SetValue | null)[] | false {
  const out: (SetValue | null)[] = [];
  for (const key of keys) {
    const s = forWrite ? writeSet(c, key) : readSet(c, key);
    if (s === false) return false;
    out.push(s);
  }
  return out;
}

/** Stores a computed set at `dst` (replacing any value and TTL), or deletes `dst` when empty; replies the size. */
function storeResult(c: Client, dst: string, result: SetValue, event: string): void {
  const slice = c.slice(dst);
  const size = result.size();
  if (size > 0) {
    slice.set(dst, result);
    c.w.int(size);
    c.server.notify("s", event, dst, c.db);
  } else {
    c.w.int(0);
    if (slice.delete(dst)) c.server.notify("g", "del", dst, c.db);
  }
  const members: string[] = new Array(size);
  for (let i = 0; i < size; i++) members[i] = result.at(i);
  propagateAs(...replaceRecords("SADD", dst, members));
}

/**
 * SINTER, SINTERSTORE (`dst`) and SINTERCARD (`limit` not null; 0 = no limit), as Redis's
 * sinterGenericCommand: iterate the smallest set and probe the others.
 */
function interGeneric(c: Client, keys: readonly string[], dst: string | null, limit: number | null): void {
  const found = lookupSets(c, keys, dst !== null);
  if (found === false) return;
  if (found.some((s) => s === null)) {
    if (dst !== null) {
      c.w.int(0);
      if (c.slice(dst).delete(dst)) c.server.notify("g", "del", dst, c.db);
    } else if (limit !== null) {
      c.w.int(0);
    } else {
      c.w.set(0);
    }
    return;
  }
  const sets = (found as SetValue[]).slice().sort((a, b) => a.size() - b.size());
  const first = sets[0];
  const matches: string[] = [];
  for (let i = 0, n = first.size(); i < n; i++) {
    const m = first.at(i);
    let inAll = true;
    for (let j = 1; j < sets.length && inAll; j++) inAll = sets[j] === first || sets[j].has(m);
    if (!inAll) continue;
    matches.push(m);
    if (limit !== null && limit !== 0 && matches.length >= limit) break;
  }
  if (limit !== null) return c.w.int(matches.length);
  if (dst === null) {
    c.w.set(matches.length);
    for (const m of matches) c.w.bulk(m);
    return;
  }
  const result = new SetValue(true);
  const max = maxIntset(c);
  for (const m of matches) result.add(m, max);
  storeResult(c, dst, result, "sinterstore");
}

/** SUNION, SDIFF and their STORE forms, as Redis's sunionDiffGenericCommand. */
function unionDiffGeneric(c: Client, keys: readonly string[], dst: string | null, op: "union" | "diff"): void {
  const sets = lookupSets(c, keys, dst !== null);
  if (sets === false) return;
  const result = new SetValue(true);
  const max = maxIntset(c);
  if (op === "union") {
    for (const s of sets) {
      if (s === null) continue;
      for (let i = 0, n = s.size(); i < n; i++) result.add(s.at(i), max);
    }
  } else if (sets[0] !== null) {
    const first = sets[0];
    for (let i = 0, n = first.size(); i < n; i++) {
      const m = first.at(i);
      let inOther = false;
      for (let j = 1; j < sets.length && !inOther; j++) {
        const other = sets[j];
        inOther = other === first || (other !== null && other.has(m));
      }
      if (!inOther) result.add(m, max);
    }
  }
  if (dst === null) return replyMembers(c, result);
  storeResult(c, dst, result, op === "union" ? "sunionstore" : "sdiffstore");
}

function sintercard(c: Client, args: string[]): void {
  const numkeys = parseI64(args[1]);
  if (numkeys === null || numkeys < 1n) return c.w.error("ERR numkeys should be greater than 0");
  if (numkeys > BigInt(args.length - 2)) return c.w.error("ERR Number of keys can't be greater than number of args");
  const n = Number(numkeys);
  let limit = 0;
  for (let j = 2 + n; j < args.length; j++) {
    if (args[j].toLowerCase() === "limit" && j < args.length - 1) {
      const l = parseI64(args[++j]);
      if (l === null || l < 0n) return c.w.error("ERR LIMIT can't be negative");
      limit = l > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(l);
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  interGeneric(c, args.slice(2, 2 + n), null, limit);
}

/** Keys of SINTERCARD (`numkeys` at index 1), for COMMAND GETKEYS and ACLs. */
function sintercardKeys(args: string[]): number[] {
  const n = parseI64(args[1] ?? "");
  if (n === null || n < 1n) return [];
  const out: number[] = [];
  for (let i = 2; i < 2 + Number(n) && i < args.length; i++) out.push(i);
  return out;
}

function sscan(c: Client, args: string[]): void {
  const cursor = parseScanCursor(args[2]);
  if (cursor === null) return c.w.error("ERR invalid cursor");
  const s = readSet(c, args[1]);
  if (s === false) return;
  if (s === null) return replyScan(c, 0n, []);
  const opts = parseScanOptions(c, args, 3);
  if (opts === null) return;
  const items: string[] = [];
  const visit = (m: string) => {
    if (opts.pattern === null || globMatch(opts.pattern, m)) items.push(m);
  };
  // An intset is returned whole in one call, as Redis does.
  if (s.isIntset) {
    for (let i = 0, n = s.size(); i < n; i++) visit(s.at(i));
    return replyScan(c, 0n, items);
  }
  replyScan(c, s.scan(cursor, opts.count, visit), items);
}

/** Commands of the sets family. */
export const setCommands: CommandSpec[] = [
  command("sadd", -3, ["write", "denyoom", "fast"], [1, 1, 1], G, "Add one or more members to a set", "1.0.0", sadd),
  command("srem", -3, ["write", "fast"], [1, 1, 1], G, "Remove one or more members from a set", "1.0.0", srem),
  command("smembers", 2, ["readonly"], [1, 1, 1], G, "Get all the members in a set", "1.0.0", smembers),
  command(
    "sismember",
    3,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Determine if a given value is a member of a set",
    "1.0.0",
    sismember,
  ),
  command(
    "smismember",
    -3,
    ["readonly", "fast"],
    [1, 1, 1],
    G,
    "Returns the membership associated with the given elements for a set",
    "6.2.0",
    smismember,
  ),
  command("scard", 2, ["readonly", "fast"], [1, 1, 1], G, "Get the number of members in a set", "1.0.0", scard),
  command(
    "spop",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    G,
    "Remove and return one or multiple random members from a set",
    "1.0.0",
    spop,
  ),
  command(
    "srandmember",
    -2,
    ["readonly"],
    [1, 1, 1],
    G,
    "Get one or multiple random members from a set",
    "1.0.0",
    srandmember,
  ),
  command("smove", 4, ["write", "fast"], [1, 2, 1], G, "Move a member from one set to another", "1.0.0", smove),
  command(
    "sinter",
    -2,
    ["readonly"],
    [1, -1, 1],
    G,
    "Intersect multiple sets",
    "1.0.0",
    (c, a) => interGeneric(c, a.slice(1), null, null),
  ),
  command(
    "sintercard",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    G,
    "Intersect multiple sets and return the cardinality of the result",
    "7.0.0",
    sintercard,
    { getKeys: sintercardKeys },
  ),
  command(
    "sunion",
    -2,
    ["readonly"],
    [1, -1, 1],
    G,
    "Add multiple sets",
    "1.0.0",
    (c, a) => unionDiffGeneric(c, a.slice(1), null, "union"),
  ),
  command(
    "sdiff",
    -2,
    ["readonly"],
    [1, -1, 1],
    G,
    "Subtract multiple sets",
    "1.0.0",
    (c, a) => unionDiffGeneric(c, a.slice(1), null, "diff"),
  ),
  command(
    "sinterstore",
    -3,
    ["write", "denyoom"],
    [1, -1, 1],
    G,
    "Intersect multiple sets and store the resulting set in a key",
    "1.0.0",
    (c, a) => interGeneric(c, a.slice(2), a[1], null),
  ),
  command(
    "sunionstore",
    -3,
    ["write", "denyoom"],
    [1, -1, 1],
    G,
    "Add multiple sets and store the resulting set in a key",
    "1.0.0",
    (c, a) => unionDiffGeneric(c, a.slice(2), a[1], "union"),
  ),
  command(
    "sdiffstore",
    -3,
    ["write", "denyoom"],
    [1, -1, 1],
    G,
    "Subtract multiple sets and store the resulting set in a key",
    "1.0.0",
    (c, a) => unionDiffGeneric(c, a.slice(2), a[1], "diff"),
  ),
  command("sscan", -3, ["readonly"], [1, 1, 1], G, "Incrementally iterate Set elements", "2.8.0", sscan),
];
