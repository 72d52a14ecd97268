/**
 * The streams family: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XREAD, XGROUP, XREADGROUP,
 * XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO and XSETID with Redis 7.0's replies, errors and
 * keyspace events (t_stream.c), on StreamValue (src/store/types/stream.ts).
 *
 * Invariants:
 * - every in-place change to a stream is preceded by `getForWrite` (WATCH, snapshots);
 * - writes are recorded in a deterministic form: XADD with its concrete ID and exact trim
 *   arguments; XREADGROUP, XCLAIM and XAUTOCLAIM as XCLAIM ... TIME RETRYCOUNT FORCE JUSTID
 *   LASTID records plus XGROUP SETID / CREATECONSUMER, so a replica reaches the same PELs;
 * - a blocked XREAD/XREADGROUP is served from blocking.signal() after XADD (or XGROUP
 *   DESTROY), and a served XREADGROUP records its own writes.
 */
import type { Client } from "../server/client.ts";
import type { Config } from "../config/config.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, lookupRead, parseI64 } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import {
  compareIds,
  decrId,
  FLAG_DELETED,
  formatId,
  formatIdKey,
  idFromKey,
  idKey,
  incrId,
  INVALID_ENTRIES_READ,
  isZeroId,
  MAX_ID,
  MIN_ID,
  type NodeLimits,
  nowMsBigInt,
  type StreamConsumer,
  type StreamGroup,
  type StreamID,
  type StreamNack,
  StreamValue,
  type TrimArgs,
  UINT64_MAX,
} from "../store/types/stream.ts";
import type { Value } from "../store/values.ts";

const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";
/** Entries served to a blocked XREAD/XREADGROUP without COUNT. */
const XREAD_BLOCKED_DEFAULT_COUNT = 1000;
/** Largest total size of an entry's fields and values. */
const STREAM_LISTPACK_MAX_SIZE = 2 ** 30;
const INT64_MAX = (1n << 63n) - 1n;

// ---------------------------------------------------------------------------------------------
// Argument parsing.

/** Redis's string2ull: string2ll when possible, else strtoull rules (whitespace, sign). */
function string2ull(s: string): bigint | null {
  const ll = parseI64(s);
  if (ll !== null) return ll < 0n ? null : ll;
  let i = 0;
  while (i < s.length && " \t\n\v\f\r".includes(s[i])) i++;
  let negative = false;
  if (s[i] === "+" || s[i] === "-") {
    negative = s[i] === "-";
    i++;
  }
  const digits = i;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  if (i === digits || i !== s.length) return null;
  const v = BigInt(s.slice(digits));
  if (v > UINT64_MAX) return null;
  return negative ? BigInt.asUintN(64, -v) : v;
}

/** A parsed stream ID argument. */
interface ParsedId {
  id: StreamID;
  /** False for the `<ms>-*` form. */
  seqGiven: boolean;
}

/**
 * streamGenericParseIDOrReply without the reply: `-`/`+` (unless strict), `<ms>`, `<ms>-<seq>`
 * and, when `allowSeqStar`, `<ms>-*`. Null when invalid.
 */
function parseStreamId(arg: string, missingSeq: bigint, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (arg.length > 127) return null;
  const nul = arg.indexOf("\0");
  const s = nul >= 0 ? arg.slice(0, nul) : arg;
  if (s === "-") return strict ? null : { id: MIN_ID, seqGiven: true };
  if (s === "+") return strict ? null : { id: MAX_ID, seqGiven: true };
  const dash = s.indexOf("-");
  const ms = string2ull(dash >= 0 ? s.slice(0, dash) : s);
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const seqPart = s.slice(dash + 1);
  if (allowSeqStar && seqPart === "*") return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = string2ull(seqPart);
  return seq === null ? null : { id: { ms, seq }, seqGiven: true };
}

/** Parses a strict ID (no `-`/`+`) or replies the invalid-ID error. */
function strictIdArg(c: Client, arg: string): StreamID | null {
  const p = parseStreamId(arg, 0n, true);
  if (p === null) c.w.error(INVALID_ID);
  return p?.id ?? null;
}

/** Parses a range bound: `(` makes it exclusive (strict parsing). Replies on error. */
function intervalIdArg(c: Client, arg: string, missingSeq: bigint): { id: StreamID; exclusive: boolean } | null {
  const exclusive = arg.length > 1 && arg[0] === "(";
  const p = exclusive ? parseStreamId(arg.slice(1), missingSeq, true) : parseStreamId(arg, missingSeq, false);
  if (p === null) {
    c.w.error(INVALID_ID);
    return null;
  }
  return { id: p.id, exclusive };
}

/** Parses a start/end pair with `(` support; replies on error. */
function rangeArgs(c: Client, startArg: string, endArg: string): { start: StreamID; end: StreamID } | null {
  const s = intervalIdArg(c, startArg, 0n);
  if (s === null) return null;
  let start: StreamID | null = s.id;
  if (s.exclusive && (start = incrId(start)) === null) {
    c.w.error("ERR invalid start ID for the interval");
    return null;
  }
  const e = intervalIdArg(c, endArg, UINT64_MAX);
  if (e === null) return null;
  let end: StreamID | null = e.id;
  if (e.exclusive && (end = decrId(end)) === null) {
    c.w.error("ERR invalid end ID for the interval");
    return null;
  }
  return { start, end };
}

/** Parses a signed 64-bit integer or replies `error`. */
function i64Arg(c: Client, s: string, error: string = ERR.notInteger): bigint | null {
  const v = parseI64(s);
  if (v === null) c.w.error(error);
  return v;
}

function ieq(a: string, lower: string): boolean {
  return a.length === lower.length && a.toLowerCase() === lower;
}

function subcommandSyntaxError(c: Client, args: string[]): void {
  c.w.error(
    `ERR unknown subcommand or wrong number of arguments for '${args[1].slice(0, 128)}'. Try ${
      args[0].toUpperCase()
    } HELP.`,
  );
}

function nodeLimits(c: Client): NodeLimits {
  const config = c.server.config;
  if (limitsCache === null || limitsCache.config !== config || limitsCache.generation !== config.generation) {
    limitsCache = {
      config,
      generation: config.generation,
      limits: {
        maxBytes: config.num("stream-node-max-bytes"),
        maxEntries: config.num("stream-node-max-entries"),
      },
    };
  }
  return limitsCache.limits;
}

/** The node limits of the last config asked, valid while its generation stays (see `nodeLimits`). */
let limitsCache: { config: Config; generation: number; limits: NodeLimits } | null = null;

/** Returns the stream at `v`, replies WRONGTYPE for another type, undefined when absent. */
function asStream(c: Client, v: Value | undefined): StreamValue | undefined | null {
  if (v === undefined) return undefined;
  if (v instanceof StreamValue) return v;
  c.w.error(ERR.wrongType);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Replies.

/** One entry to reply: ID and field/value pairs (null for a PEL entry whose data is gone). */
type Entry = [string, string[] | null];

function replyEntry(c: Client, e: Entry): void {
  c.w.array(2);
  c.w.bulk(e[0]);
  if (e[1] === null) {
    c.w.nilArray();
    return;
  }
  c.w.array(e[1].length);
  for (const s of e[1]) c.w.bulk(s);
}

function replyEntries(c: Client, entries: Entry[]): void {
  c.w.array(entries.length);
  for (const e of entries) replyEntry(c, e);
}

/** Entries of `s` in [start, end] (reversed when `rev`), at most `count` (0 = all). */
function rangeEntries(s: StreamValue, start: StreamID, end: StreamID, count: number, rev: boolean): Entry[] {
  const out: Entry[] = [];
  const cur = s.cursor(start, end, rev);
  while (cur.next()) {
    out.push([formatId(cur.id()), cur.fields()]);
    if (count && out.length === count) break;
  }
  return out;
}

function replyHelp(c: Client, name: string, lines: string[]): void {
  const all = [
    `${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    "HELP",
    "    Prints this help.",
  ];
  c.w.array(all.length);
  for (const l of all) c.w.simple(l);
}

// ---------------------------------------------------------------------------------------------
// XADD / XTRIM.

/** Parsed XADD/XTRIM options (streamAddTrimArgs). */
interface AddTrimArgs {
  trim: TrimArgs | null;
  /** Index of the MAXLEN/MINID argument, for rewriting. */
  trimArgIdx: number;
  id: StreamID | null;
  seqGiven: boolean;
  noMkstream: boolean;
  /** Index of the ID argument (XADD). */
  idPos: number;
}

function parseAddTrimArgs(c: Client, args: string[], xadd: boolean): AddTrimArgs | null {
  const out: AddTrimArgs = { trim: null, trimArgIdx: 0, id: null, seqGiven: true, noMkstream: false, idPos: 0 };
  let strategy: "maxlen" | "minid" | null = null;
  let approx = false;
  let maxlen = 0;
  let minid: StreamID = MIN_ID;
  let limit = 0;
  let limitGiven = false;
  let i = 2;
  for (; i < args.length; i++) {
    const moreargs = args.length - 1 - i;
    const opt = args[i];
    if (xadd && opt === "*") break;
    const isMaxlen = ieq(opt, "maxlen");
    if ((isMaxlen || ieq(opt, "minid")) && moreargs) {
      if (strategy !== null) {
        c.w.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return null;
      }
      approx = false;
      const next = args[i + 1];
      if (moreargs >= 2 && next === "~") {
        approx = true;
        i++;
      } else if (moreargs >= 2 && next === "=") i++;
      if (isMaxlen) {
        const v = i64Arg(c, args[i + 1]);
        if (v === null) return null;
        if (v < 0n) {
          c.w.error("ERR The MAXLEN argument must be >= 0.");
          return null;
        }
        maxlen = Number(v);
        strategy = "maxlen";
      } else {
        const id = strictIdArg(c, args[i + 1]);
        if (id === null) return null;
        minid = id;
        strategy = "minid";
      }
      i++;
      out.trimArgIdx = i;
    } else if (ieq(opt, "limit") && moreargs) {
      const v = i64Arg(c, args[i + 1]);
      if (v === null) return null;
      if (v < 0n) {
        c.w.error("ERR The LIMIT argument must be >= 0.");
        return null;
      }
      limit = Number(v);
      limitGiven = true;
      i++;
    } else if (xadd && ieq(opt, "nomkstream")) {
      out.noMkstream = true;
    } else if (xadd) {
      const p = parseStreamId(opt, 0n, true, true);
      if (p === null) {
        c.w.error(INVALID_ID);
        return null;
      }
      out.id = p.id;
      out.seqGiven = p.seqGiven;
      break;
    } else {
      c.w.error(ERR.syntax);
      return null;
    }
  }
  out.idPos = i;
  if (limit && strategy === null) {
    c.w.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return null;
  }
  if (!xadd && strategy === null) {
    c.w.error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return null;
  }
  if (c.isMasterLink) {
    limit = 0;
  } else if (limitGiven) {
    if (!approx) {
      c.w.error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return null;
    }
  } else if (approx) {
    limit = 100 * c.server.config.num("stream-node-max-entries");
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
  } else {
    limit = 0;
  }
  if (strategy !== null) out.trim = { strategy, approx, limit, maxlen, minid };
  return out;
}

/** Rewrites `~` trimming into the exact form that reproduces this trim (for replicas). */
function rewriteApproxTrim(rewritten: string[], s: StreamValue, parsed: AddTrimArgs): void {
  rewritten[parsed.trimArgIdx - 1] = "=";
  rewritten[parsed.trimArgIdx] = parsed.trim!.strategy === "maxlen"
    ? String(s.length)
    : formatId(s.edgeId(true, false));
}

/** Whether `trim` would remove at least one entry of `s` (a dry run of StreamValue.trim). */
function wouldTrim(s: StreamValue, args: TrimArgs): boolean {
  // Only nodes without live entries can be removed before the first deletion, so the length
  // and the deleted count stay as they are until the answer is known.
  const length = s.length;
  for (const node of s.nodes) {
    if (args.strategy === "maxlen" && length <= args.maxlen) return false;
    const entries = node.live;
    if (args.limit && entries > args.limit) return false;
    const removeNode = args.strategy === "maxlen"
      ? length - entries >= args.maxlen
      : compareIds(node.idAt(node.count - 1), args.minid) < 0;
    if (removeNode) {
      if (entries > 0) return true;
      continue;
    }
    if (args.approx) return false;
    for (let i = 0; i < node.count; i++) {
      const stop = args.strategy === "maxlen" ? length <= args.maxlen : node.compareAt(i, args.minid) >= 0;
      if (stop) return false;
      if (!(node.flags[i] & FLAG_DELETED)) return true;
    }
    return false;
  }
  return false;
}

function xadd(c: Client, args: string[]): void {
  const parsed = parseAddTrimArgs(c, args, true);
  if (parsed === null) return;
  const fieldPos = parsed.idPos + 1;
  if (args.length - fieldPos < 2 || (args.length - fieldPos) % 2 === 1) {
    c.w.error("ERR wrong number of arguments for 'xadd' command");
    return;
  }
  const given = parsed.id;
  if (given !== null && parsed.seqGiven && isZeroId(given)) {
    c.w.error("ERR The ID specified in XADD must be greater than 0-0");
    return;
  }
  const key = args[1];
  const slice = c.slice(key);
  const existing = asStream(c, slice.get(key));
  if (existing === null) return;
  if (existing === undefined && parsed.noMkstream) {
    c.w.nil();
    return;
  }
  const s = existing ?? new StreamValue();
  if (s.lastId.ms === UINT64_MAX && s.lastId.seq === UINT64_MAX) {
    c.w.error("ERR The stream has exhausted the last possible ID, unable to add more items");
    return;
  }
  let id: StreamID | null;
  if (given !== null) {
    if (parsed.seqGiven) id = given;
    else if (s.lastId.ms === given.ms) {
      id = s.lastId.seq === UINT64_MAX ? null : { ms: given.ms, seq: s.lastId.seq + 1n };
    } else id = given;
  } else {
    const ms = nowMsBigInt();
    id = ms > s.lastId.ms ? { ms, seq: 0n } : incrId(s.lastId);
  }
  if (id === null || compareIds(id, s.lastId) <= 0) {
    c.w.error("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    return;
  }
  let totelelen = 0;
  for (let i = fieldPos; i < args.length; i++) totelelen += args[i].length;
  if (totelelen > STREAM_LISTPACK_MAX_SIZE) {
    c.w.error("ERR Elements are too large to be stored");
    return;
  }
  if (existing === undefined) slice.set(key, s);
  else slice.beforeWrite(key);
  s.append(id, args, nodeLimits(c), fieldPos);
  const idText = formatId(id);
  c.w.bulk(idText);
  c.server.notify("t", "xadd", key, c.db);
  let rewritten: string[] | null = null;
  if (parsed.trim !== null) {
    if (wouldTrim(s, parsed.trim) && s.trim(parsed.trim)) c.server.notify("t", "xtrim", key, c.db);
    if (parsed.trim.approx) {
      rewritten = args.slice();
      rewriteApproxTrim(rewritten, s, parsed);
    }
  }
  if (given === null || !parsed.seqGiven) {
    rewritten ??= args.slice();
    rewritten[parsed.idPos] = idText;
  }
  if (rewritten !== null) propagateAs(rewritten);
  c.server.blocking.signal(c.db, key);
}

function xtrim(c: Client, args: string[]): void {
  const parsed = parseAddTrimArgs(c, args, false);
  if (parsed === null) return;
  const key = args[1];
  const slice = c.slice(key);
  const s = asStream(c, slice.get(key));
  if (s === null) return;
  if (s === undefined || !wouldTrim(s, parsed.trim!)) {
    c.w.int(0);
    return;
  }
  slice.getForWrite(key);
  const deleted = s.trim(parsed.trim!);
  c.server.notify("t", "xtrim", key, c.db);
  if (parsed.trim!.approx) {
    const rewritten = args.slice();
    rewriteApproxTrim(rewritten, s, parsed);
    propagateAs(rewritten);
  }
  c.w.int(deleted);
}

// ---------------------------------------------------------------------------------------------
// Simple readers and XDEL.

function xrangeGeneric(c: Client, args: string[], rev: boolean): void {
  const range = rangeArgs(c, rev ? args[3] : args[2], rev ? args[2] : args[3]);
  if (range === null) return;
  let count = -1;
  for (let j = 4; j < args.length; j++) {
    if (ieq(args[j], "count") && args.length - j - 1 >= 1) {
      const v = i64Arg(c, args[j + 1]);
      if (v === null) return;
      count = v < 0n ? 0 : Number(v);
      j++;
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  const s = asStream(c, lookupRead(c, args[1]));
  if (s === null) return;
  if (s === undefined) {
    c.w.array(0);
    return;
  }
  if (count === 0) {
    c.w.nilArray();
    return;
  }
  replyEntries(c, rangeEntries(s, range.start, range.end, count === -1 ? 0 : count, rev));
}

function xlen(c: Client, args: string[]): void {
  const s = asStream(c, lookupRead(c, args[1]));
  if (s === null) return;
  c.w.int(s === undefined ? 0 : s.length);
}

function xdel(c: Client, args: string[]): void {
  const key = args[1];
  const slice = c.slice(key);
  const s = asStream(c, slice.get(key));
  if (s === null) return;
  if (s === undefined) {
    c.w.int(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 2; j < args.length; j++) {
    const id = strictIdArg(c, args[j]);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  let firstEntry = false;
  for (const id of ids) {
    if (!s.has(id)) continue;
    if (deleted === 0) slice.getForWrite(key);
    s.delete(id);
    if (compareIds(id, s.firstId) === 0) firstEntry = true;
    if (compareIds(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
    deleted++;
  }
  if (deleted) {
    if (s.length === 0) s.firstId = MIN_ID;
    else if (firstEntry) s.firstId = s.edgeId(true, true);
    c.server.notify("t", "xdel", key, c.db);
  }
  c.w.int(deleted);
}

// ---------------------------------------------------------------------------------------------
// Consumer-group plumbing shared by XREADGROUP, XCLAIM and XAUTOCLAIM.

/** XCLAIM record that recreates `nack` on a replica (streamPropagateXCLAIM). */
function xclaimRecord(key: string, group: StreamGroup, idArg: string, nack: StreamNack): string[] {
  return [
    "XCLAIM",
    key,
    group.name,
    nack.consumer!.name,
    "0",
    idArg,
    "TIME",
    String(nack.deliveryTime),
    "RETRYCOUNT",
    String(nack.deliveryCount),
    "FORCE",
    "JUSTID",
    "LASTID",
    formatId(group.lastId),
  ];
}

/** XGROUP SETID record carrying the group's last ID and read counter. */
function setIdRecord(key: string, group: StreamGroup): string[] {
  return ["XGROUP", "SETID", key, group.name, formatId(group.lastId), "ENTRIESREAD", String(group.entriesRead)];
}

/** Finds or creates a consumer, refreshing its seen time; creation is notified and recorded. */
function lookupOrCreateConsumer(
  c: Client,
  key: string,
  group: StreamGroup,
  name: string,
  now: number,
  records: string[][],
): StreamConsumer {
  let consumer = group.consumers.get(name);
  if (consumer === undefined) {
    c.slice(key).getForWrite(key);
    consumer = group.createConsumer(name, now)!;
    c.server.notify("t", "xgroup-createconsumer", key, c.db);
    records.push(["XGROUP", "CREATECONSUMER", key, group.name, name]);
  }
  consumer.seenTime = now;
  return consumer;
}

/**
 * streamReplyWithRange with a group: delivers entries from `start`, advancing the group's
 * last ID and read counter and (unless NOACK) adding them to the PELs; records go to
 * `records`.
 */
function deliverToGroup(
  key: string,
  s: StreamValue,
  group: StreamGroup,
  consumer: StreamConsumer,
  start: StreamID,
  count: number,
  noack: boolean,
  now: number,
  records: string[][],
): Entry[] {
  const out: Entry[] = [];
  let propagateLastId = false;
  const cur = s.cursor(start, MAX_ID, false);
  while (cur.next()) {
    const id = cur.id();
    if (compareIds(id, group.lastId) > 0) {
      if (group.entriesRead !== INVALID_ENTRIES_READ && !s.rangeHasTombstones(id, null)) group.entriesRead++;
      else if (s.entriesAdded) group.entriesRead = s.estimateDistanceFromFirstEverEntry(id);
      group.lastId = id;
      propagateLastId = true;
    }
    const idText = formatId(id);
    out.push([idText, cur.fields()]);
    if (!noack) {
      const k = idKey(id);
      let nack = group.pel.get(k);
      if (nack === undefined) {
        nack = { consumer, deliveryTime: now, deliveryCount: 1 };
        group.pel.set(k, nack);
      } else {
        nack.consumer!.pel.delete(k);
        nack.consumer = consumer;
        nack.deliveryTime = now;
        nack.deliveryCount = 1;
      }
      consumer.pel.set(k, nack);
      consumer.activeTime = now;
      records.push(xclaimRecord(key, group, idText, nack));
    }
    if (count && out.length === count) break;
  }
  if (propagateLastId) records.push(setIdRecord(key, group));
  return out;
}

/**
 * streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries from `start`; each
 * delivery bumps the NACK's time and count (recorded as XCLAIM so replicas match).
 */
function deliverHistory(
  key: string,
  s: StreamValue,
  group: StreamGroup,
  consumer: StreamConsumer,
  start: StreamID,
  count: number,
  now: number,
  records: string[][],
): Entry[] {
  const out: Entry[] = [];
  for (const k of consumer.pel.keysFrom(idKey(start))) {
    if (count && out.length >= count) break;
    const id = idFromKey(k);
    const fields = s.get(id);
    const idText = formatId(id);
    if (fields === null) {
      out.push([idText, null]);
      continue;
    }
    const nack = consumer.pel.get(k)!;
    nack.deliveryTime = now;
    nack.deliveryCount++;
    records.push(xclaimRecord(key, group, idText, nack));
    out.push([idText, fields]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// XREAD / XREADGROUP.

/** True when the client may not block (inside MULTI/EXEC). */
function cannotBlock(c: Client): boolean {
  return c.multi !== null;
}

function writeStreamsReply(c: Client, results: [string, Entry[]][]): void {
  if (c.proto === 2) c.w.array(results.length);
  else c.w.map(results.length);
  for (const [key, entries] of results) {
    if (c.proto === 2) c.w.array(2);
    c.w.bulk(key);
    replyEntries(c, entries);
  }
}

function xreadGeneric(c: Client, args: string[], xreadgroup: boolean): void | Promise<void> {
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let noack = false;
  let groupName: string | null = null;
  let consumerName = "";
  for (let i = 1; i < args.length; i++) {
    const moreargs = args.length - i - 1;
    const o = args[i];
    if (ieq(o, "block") && moreargs) {
      i++;
      const t = i64Arg(c, args[i], "ERR timeout is not an integer or out of range");
      if (t === null) return;
      if (t < 0n) {
        c.w.error("ERR timeout is negative");
        return;
      }
      if (t > INT64_MAX - BigInt(Date.now())) {
        c.w.error("ERR timeout is out of range");
        return;
      }
      timeout = Number(t);
    } else if (ieq(o, "count") && moreargs) {
      i++;
      const v = i64Arg(c, args[i]);
      if (v === null) return;
      count = v < 0n ? 0 : Number(v);
    } else if (ieq(o, "streams") && moreargs) {
      streamsArg = i + 1;
      streamsCount = args.length - streamsArg;
      if (streamsCount % 2 !== 0) {
        c.w.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return;
      }
      streamsCount /= 2;
      break;
    } else if (ieq(o, "group") && moreargs >= 2) {
      if (!xreadgroup) {
        c.w.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return;
      }
      groupName = args[i + 1];
      consumerName = args[i + 2];
      i += 2;
    } else if (ieq(o, "noack")) {
      if (!xreadgroup) {
        c.w.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return;
      }
      noack = true;
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  if (streamsArg === 0) {
    c.w.error(ERR.syntax);
    return;
  }
  if (xreadgroup && groupName === null) {
    c.w.error("ERR Missing GROUP option for XREADGROUP");
    return;
  }
  const keys = args.slice(streamsArg, streamsArg + streamsCount);
  const ids: StreamID[] = [];
  for (let n = 0; n < streamsCount; n++) {
    const key = keys[n];
    const arg = args[streamsArg + streamsCount + n];
    const s = asStream(c, lookupRead(c, key));
    if (s === null) return;
    if (groupName !== null && (s === undefined || s.group(groupName) === undefined)) {
      c.w.error(`NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`);
      return;
    }
    if (arg === "$") {
      if (xreadgroup) {
        c.w.error(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
        return;
      }
      ids.push(s ? s.lastId : MIN_ID);
    } else if (arg === ">") {
      if (!xreadgroup) {
        c.w.error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
        return;
      }
      ids.push(MAX_ID);
    } else {
      const id = strictIdArg(c, arg);
      if (id === null) return;
      ids.push(id);
    }
  }
  const now = Date.now();
  const records: string[][] = [];
  const results: [string, Entry[]][] = [];
  for (let n = 0; n < streamsCount; n++) {
    const key = keys[n];
    const s = c.slice(key).get(key) as StreamValue | undefined;
    if (s === undefined) continue;
    let gt = ids[n];
    let serve = false;
    let history = false;
    if (groupName !== null) {
      const group = s.group(groupName)!;
      if (compareIds(gt, MAX_ID) !== 0) {
        serve = true;
        history = true;
      } else if (s.length) {
        const maxid = s.lastValidId();
        if (maxid !== null && compareIds(maxid, group.lastId) > 0) {
          serve = true;
          gt = group.lastId;
        }
      }
      // Redis 7.0 looks the consumer up (creating it, refreshing its seen time) only when it
      // serves the stream now; a read that finds nothing new, or blocks, leaves the group as is.
      if (serve) {
        const consumer = lookupOrCreateConsumer(c, key, group, consumerName, now, records);
        c.slice(key).getForWrite(key);
        const start = incrId(gt) ?? MIN_ID;
        results.push([
          key,
          history
            ? deliverHistory(key, s, group, consumer, start, count, now, records)
            : deliverToGroup(key, s, group, consumer, start, count, noack, now, records),
        ]);
      }
    } else if (s.length) {
      const maxid = s.lastValidId();
      if (maxid !== null && compareIds(maxid, gt) > 0) {
        results.push([key, rangeEntries(s, incrId(gt) ?? MIN_ID, MAX_ID, count, false)]);
      }
    }
  }
  if (results.length) {
    writeStreamsReply(c, results);
    if (xreadgroup) propagateAs(...records);
    return;
  }
  if (timeout === -1 || cannotBlock(c)) {
    c.w.nilArray();
    if (xreadgroup) propagateAs(...records);
    return;
  }
  // A blocked command records its own writes when it is served.
  const blockCount = count || XREAD_BLOCKED_DEFAULT_COUNT;
  const db = c.db;
  return c.server.blocking.block(c, {
    keys,
    timeoutMs: timeout,
    onTimeout: () => c.w.nilArray(),
    tryServe: () => {
      for (let n = 0; n < keys.length; n++) {
        const key = keys[n];
        const slice = c.server.store.slice(db, key);
        const v = slice.get(key);
        if (!(v instanceof StreamValue)) continue;
        let gt = ids[n];
        let group: StreamGroup | undefined;
        if (groupName !== null) {
          group = v.group(groupName);
          if (group === undefined) {
            c.w.error("NOGROUP the consumer group this client was blocked on no longer exists");
            return true;
          }
          gt = group.lastId;
        }
        if (compareIds(v.lastId, gt) <= 0) continue;
        const start = incrId(gt) ?? MIN_ID;
        let entries: Entry[];
        const served: string[][] = [];
        if (group !== undefined) {
          const when = Date.now();
          const consumer = lookupOrCreateConsumer(c, key, group, consumerName, when, served);
          slice.getForWrite(key);
          entries = deliverToGroup(key, v, group, consumer, start, blockCount, noack, when, served);
        } else {
          entries = rangeEntries(v, start, MAX_ID, blockCount, false);
        }
        writeStreamsReply(c, [[key, entries]]);
        for (const r of served) c.server.recordWrite(db, r);
        return true;
      }
      return false;
    },
  });
}

/** Key positions of XREAD/XREADGROUP: the keys after STREAMS. */
function xreadKeys(args: string[]): number[] {
  let streamsPos = -1;
  for (let i = 1; i < args.length; i++) {
    const a = args[i].toLowerCase();
    if (a === "block" || a === "count") i++;
    else if (a === "group") i += 2;
    else if (a === "noack") continue;
    else if (a === "streams") {
      streamsPos = i;
      break;
    } else break;
  }
  const num = args.length - streamsPos - 1;
  if (streamsPos === -1 || num === 0 || num % 2 !== 0) return [];
  const out: number[] = [];
  for (let i = streamsPos + 1; i <= streamsPos + num / 2; i++) out.push(i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// XGROUP.

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

function xgroup(c: Client, args: string[]): void {
  const opt = args[1].toLowerCase();
  const argc = args.length;
  let s: StreamValue | undefined;
  let group: StreamGroup | undefined;
  let mkstream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  const key = args[2];
  const groupName = args[3];
  if (argc >= 4) {
    const create = opt === "create";
    const setid = opt === "setid";
    for (let i = 5; i < argc;) {
      if (create && ieq(args[i], "mkstream")) {
        mkstream = true;
        i++;
      } else if ((create || setid) && ieq(args[i], "entriesread") && i + 1 < argc) {
        const v = i64Arg(c, args[i + 1]);
        if (v === null) return;
        if (v < 0n && v !== INVALID_ENTRIES_READ) {
          c.w.error("ERR value for ENTRIESREAD must be positive or -1");
          return;
        }
        entriesRead = v;
        i += 2;
      } else {
        subcommandSyntaxError(c, args);
        return;
      }
    }
    const found = asStream(c, c.slice(key).get(key));
    if (found === null) return;
    s = found;
  }
  if (argc >= 4 && !mkstream) {
    if (s === undefined) {
      c.w.error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
      );
      return;
    }
    group = s.group(groupName);
    if (group === undefined && (opt === "setid" || opt === "createconsumer" || opt === "delconsumer")) {
      c.w.error(`NOGROUP No such consumer group '${groupName}' for key name '${key}'`);
      return;
    }
  }
  const slice = argc >= 4 ? c.slice(key) : null;
  if (argc === 2 && opt === "help") {
    replyHelp(c, "XGROUP", XGROUP_HELP);
  } else if (opt === "create" && argc >= 5 && argc <= 8) {
    let id: StreamID;
    if (args[4] === "$") id = s ? s.lastId : MIN_ID;
    else {
      const p = strictIdArg(c, args[4]);
      if (p === null) return;
      id = p;
    }
    if (s === undefined) {
      s = new StreamValue();
      slice!.set(key, s);
    } else if (s.group(groupName) !== undefined) {
      c.w.error("BUSYGROUP Consumer Group name already exists");
      return;
    } else {
      slice!.getForWrite(key);
    }
    s.createGroup(groupName, id, entriesRead);
    c.w.simple("OK");
    c.server.notify("t", "xgroup-create", key, c.db);
  } else if (opt === "setid" && (argc === 5 || argc === 7)) {
    let id: StreamID;
    if (args[4] === "$") id = s!.lastId;
    else {
      const p = parseStreamId(args[4], 0n, false);
      if (p === null) {
        c.w.error(INVALID_ID);
        return;
      }
      id = p.id;
    }
    slice!.getForWrite(key);
    group!.lastId = id;
    group!.entriesRead = entriesRead;
    c.w.simple("OK");
    c.server.notify("t", "xgroup-setid", key, c.db);
  } else if (opt === "destroy" && argc === 4) {
    if (group !== undefined) {
      slice!.getForWrite(key);
      s!.groups!.delete(groupName);
      c.w.int(1);
      c.server.notify("t", "xgroup-destroy", key, c.db);
      c.server.blocking.signal(c.db, key);
    } else {
      c.w.int(0);
    }
  } else if (opt === "createconsumer" && argc === 5) {
    if (group!.consumers.has(args[4])) {
      c.w.int(0);
      return;
    }
    slice!.getForWrite(key);
    group!.createConsumer(args[4], Date.now());
    c.server.notify("t", "xgroup-createconsumer", key, c.db);
    c.w.int(1);
  } else if (opt === "delconsumer" && argc === 5) {
    const consumer = group!.consumers.get(args[4]);
    let pending = 0;
    if (consumer !== undefined) {
      pending = consumer.pel.size;
      slice!.getForWrite(key);
      group!.deleteConsumer(consumer);
      c.server.notify("t", "xgroup-delconsumer", key, c.db);
    }
    c.w.int(pending);
  } else {
    subcommandSyntaxError(c, args);
  }
}

// ---------------------------------------------------------------------------------------------
// XSETID, XACK, XPENDING.

function xsetid(c: Client, args: string[]): void {
  const id = strictIdArg(c, args[2]);
  if (id === null) return;
  let entriesAdded = -1n;
  let maxXdelId = MIN_ID;
  for (let i = 3; i < args.length;) {
    const moreargs = args.length - 1 - i;
    if (ieq(args[i], "entriesadded") && moreargs) {
      const v = i64Arg(c, args[i + 1]);
      if (v === null) return;
      if (v < 0n) {
        c.w.error("ERR entries_added must be positive");
        return;
      }
      entriesAdded = v;
      i += 2;
    } else if (ieq(args[i], "maxdeletedid") && moreargs) {
      const v = strictIdArg(c, args[i + 1]);
      if (v === null) return;
      if (compareIds(id, v) < 0) {
        c.w.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
        return;
      }
      maxXdelId = v;
      i += 2;
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  const key = args[1];
  const slice = c.slice(key);
  const s = asStream(c, slice.get(key));
  if (s === null) return;
  if (s === undefined) {
    c.w.error(ERR.noSuchKey);
    return;
  }
  if (s.length > 0) {
    const maxid = s.lastValidId()!;
    if (compareIds(id, maxid) < 0) {
      c.w.error("ERR The ID specified in XSETID is smaller than the target stream top item");
      return;
    }
    if (entriesAdded !== -1n && BigInt(s.length) > entriesAdded) {
      c.w.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
      return;
    }
  }
  slice.getForWrite(key);
  s.lastId = id;
  if (entriesAdded !== -1n) s.entriesAdded = entriesAdded;
  if (!isZeroId(maxXdelId)) s.maxDeletedId = maxXdelId;
  c.w.simple("OK");
  c.server.notify("t", "xsetid", key, c.db);
}

function xack(c: Client, args: string[]): void {
  const key = args[1];
  const s = asStream(c, lookupRead(c, key));
  if (s === null) return;
  const group = s?.group(args[2]);
  if (s === undefined || group === undefined) {
    c.w.int(0);
    return;
  }
  const keys: string[] = [];
  for (let j = 3; j < args.length; j++) {
    const id = strictIdArg(c, args[j]);
    if (id === null) return;
    keys.push(idKey(id));
  }
  let acknowledged = 0;
  for (const k of keys) {
    if (!group.pel.has(k)) continue;
    if (acknowledged === 0) c.slice(key).getForWrite(key);
    group.removeNack(k);
    acknowledged++;
  }
  c.w.int(acknowledged);
}

function xpending(c: Client, args: string[]): void {
  const argc = args.length;
  const key = args[1];
  const groupName = args[2];
  if (argc !== 3 && (argc < 6 || argc > 9)) {
    c.w.error(ERR.syntax);
    return;
  }
  let start = MIN_ID;
  let end = MAX_ID;
  let count = 0;
  let minidle = 0;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let startidx = 3;
    if (ieq(args[3], "idle")) {
      const v = i64Arg(c, args[4]);
      if (v === null) return;
      minidle = Number(v);
      if (argc < 8) {
        c.w.error(ERR.syntax);
        return;
      }
      startidx += 2;
    }
    const cnt = i64Arg(c, args[startidx + 2]);
    if (cnt === null) return;
    count = cnt < 0n ? 0 : Number(cnt);
    const range = rangeArgs(c, args[startidx], args[startidx + 1]);
    if (range === null) return;
    start = range.start;
    end = range.end;
    if (startidx + 3 < argc) consumerName = args[startidx + 3];
  }
  const s = asStream(c, lookupRead(c, key));
  if (s === null) return;
  const group = s?.group(groupName);
  if (group === undefined) {
    c.w.error(`NOGROUP No such key '${key}' or consumer group '${groupName}'`);
    return;
  }
  if (argc === 3) {
    c.w.array(4);
    c.w.int(group.pel.size);
    if (group.pel.size === 0) {
      c.w.nil();
      c.w.nil();
      c.w.nilArray();
      return;
    }
    c.w.bulk(formatIdKey(group.pel.first()!));
    c.w.bulk(formatIdKey(group.pel.last()!));
    const owners = group.sortedConsumers().filter((cons) => cons.pel.size > 0);
    c.w.array(owners.length);
    for (const cons of owners) {
      c.w.array(2);
      c.w.bulk(cons.name);
      c.w.bulk(String(cons.pel.size));
    }
    return;
  }
  let pel = group.pel;
  if (consumerName !== null) {
    const consumer = group.consumers.get(consumerName);
    if (consumer === undefined) {
      c.w.array(0);
      return;
    }
    pel = consumer.pel;
  }
  const now = Date.now();
  const endKey = idKey(end);
  const rows: [string, StreamNack][] = [];
  for (const k of pel.keysFrom(idKey(start))) {
    if (!count || k > endKey) break;
    const nack = pel.get(k)!;
    if (minidle && now - nack.deliveryTime < minidle) continue;
    rows.push([k, nack]);
    count--;
  }
  c.w.array(rows.length);
  for (const [k, nack] of rows) {
    c.w.array(4);
    c.w.bulk(formatIdKey(k));
    c.w.bulk(nack.consumer!.name);
    c.w.int(Math.max(0, now - nack.deliveryTime));
    c.w.int(nack.deliveryCount);
  }
}

// ---------------------------------------------------------------------------------------------
// XCLAIM / XAUTOCLAIM.

function xclaim(c: Client, args: string[]): void {
  const key = args[1];
  const s = asStream(c, lookupRead(c, key));
  if (s === null) return;
  const group = s?.group(args[2]);
  if (s === undefined || group === undefined) {
    c.w.error(`NOGROUP No such key '${key}' or consumer group '${args[2]}'`);
    return;
  }
  const minidleArg = i64Arg(c, args[4], "ERR Invalid min-idle-time argument for XCLAIM");
  if (minidleArg === null) return;
  const minidle = minidleArg < 0n ? 0 : Number(minidleArg);
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    const p = parseStreamId(args[j], 0n, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const lastIdArg = j - 1;
  const now = Date.now();
  let deliveryTime = -1;
  let retryCount = -1;
  let force = false;
  let justid = false;
  let lastId = MIN_ID;
  for (; j < args.length; j++) {
    const moreargs = args.length - 1 - j;
    const opt = args[j];
    if (ieq(opt, "force")) force = true;
    else if (ieq(opt, "justid")) justid = true;
    else if (ieq(opt, "idle") && moreargs) {
      const v = i64Arg(c, args[++j], "ERR Invalid IDLE option argument for XCLAIM");
      if (v === null) return;
      deliveryTime = now - Number(v);
    } else if (ieq(opt, "time") && moreargs) {
      const v = i64Arg(c, args[++j], "ERR Invalid TIME option argument for XCLAIM");
      if (v === null) return;
      deliveryTime = Number(v);
    } else if (ieq(opt, "retrycount") && moreargs) {
      const v = i64Arg(c, args[++j], "ERR Invalid RETRYCOUNT option argument for XCLAIM");
      if (v === null) return;
      retryCount = Number(v);
    } else if (ieq(opt, "lastid") && moreargs) {
      const v = strictIdArg(c, args[++j]);
      if (v === null) return;
      lastId = v;
    } else {
      c.w.error(`ERR Unrecognized XCLAIM option '${opt}'`);
      return;
    }
  }
  const slice = c.slice(key);
  let touched = false;
  const touch = () => {
    if (!touched) slice.getForWrite(key);
    touched = true;
  };
  const records: string[][] = [];
  let propagateLastId = false;
  if (compareIds(lastId, group.lastId) > 0) {
    touch();
    group.lastId = lastId;
    propagateLastId = true;
  }
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  } else {
    deliveryTime = now;
  }
  // Redis 7.0 looks the consumer up (creating it) only once an entry is about to be claimed.
  let consumer: StreamConsumer | null = null;
  const out: (Entry | string)[] = [];
  for (let n = 5; n <= lastIdArg; n++) {
    const id = ids[n - 5];
    const k = idKey(id);
    let nack = group.pel.get(k);
    if (!s.has(id)) {
      if (nack !== undefined) {
        touch();
        records.push(xclaimRecord(key, group, args[n], nack));
        propagateLastId = false;
        group.removeNack(k);
      }
      continue;
    }
    if (force && nack === undefined) {
      touch();
      nack = { consumer: null, deliveryTime: now, deliveryCount: 1 };
      group.pel.set(k, nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minidle && now - nack.deliveryTime < minidle) continue;
    if (consumer === null) {
      const created = records.length;
      consumer = lookupOrCreateConsumer(c, key, group, args[3], now, records);
      if (records.length !== created) touched = true;
    }
    touch();
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(k);
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justid) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(k, nack);
      nack.consumer = consumer;
    }
    out.push(justid ? formatId(id) : [formatId(id), s.get(id)]);
    consumer.activeTime = now;
    records.push(xclaimRecord(key, group, args[n], nack));
    propagateLastId = false;
  }
  if (propagateLastId) records.push(setIdRecord(key, group));
  c.w.array(out.length);
  for (const e of out) {
    if (typeof e === "string") c.w.bulk(e);
    else replyEntry(c, e);
  }
  propagateAs(...records);
}

function xautoclaim(c: Client, args: string[]): void {
  const key = args[1];
  const minidleArg = i64Arg(c, args[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM");
  if (minidleArg === null) return;
  const minidle = minidleArg < 0n ? 0 : Number(minidleArg);
  const startArg = intervalIdArg(c, args[5], 0n);
  if (startArg === null) return;
  let start: StreamID | null = startArg.id;
  if (startArg.exclusive && (start = incrId(start)) === null) {
    c.w.error("ERR invalid start ID for the interval");
    return;
  }
  let count = 100;
  let justid = false;
  const maxCount = 576460752303423487n;
  for (let j = 6; j < args.length; j++) {
    const moreargs = args.length - 1 - j;
    if (ieq(args[j], "count") && moreargs) {
      const v = parseI64(args[j + 1]);
      if (v === null || v < 1n || v > maxCount) {
        c.w.error("ERR COUNT must be > 0");
        return;
      }
      count = Number(v);
      j++;
    } else if (ieq(args[j], "justid")) {
      justid = true;
    } else {
      c.w.error(ERR.syntax);
      return;
    }
  }
  const s = asStream(c, lookupRead(c, key));
  if (s === null) return;
  const group = s?.group(args[2]);
  if (s === undefined || group === undefined) {
    c.w.error(`NOGROUP No such key '${key}' or consumer group '${args[2]}'`);
    return;
  }
  const slice = c.slice(key);
  const now = Date.now();
  const records: string[][] = [];
  // Redis 7.0 looks the consumer up (creating it) only once an entry is about to be claimed.
  let consumer: StreamConsumer | null = null;
  let touched = false;
  const touch = () => {
    if (!touched) slice.getForWrite(key);
    touched = true;
  };
  let attempts = count * 10;
  const claimed: (Entry | string)[] = [];
  const deletedIds: string[] = [];
  let cur = group.pel.ceiling(idKey(start));
  while (attempts-- > 0 && count > 0 && cur !== undefined) {
    const k = cur;
    cur = group.pel.higher(k);
    const nack = group.pel.get(k)!;
    const id = idFromKey(k);
    const idText = formatId(id);
    if (!s.has(id)) {
      touch();
      records.push(xclaimRecord(key, group, idText, nack));
      group.removeNack(k);
      deletedIds.push(idText);
      count--;
      continue;
    }
    if (minidle && now - nack.deliveryTime < minidle) continue;
    if (consumer === null) {
      const created = records.length;
      consumer = lookupOrCreateConsumer(c, key, group, args[3], now, records);
      if (records.length !== created) touched = true;
    }
    touch();
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(k);
    nack.deliveryTime = now;
    if (!justid) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(k, nack);
      nack.consumer = consumer;
    }
    claimed.push(justid ? idText : [idText, s.get(id)]);
    count--;
    consumer.activeTime = now;
    records.push(xclaimRecord(key, group, idText, nack));
  }
  c.w.array(3);
  c.w.bulk(cur === undefined ? "0-0" : formatIdKey(cur));
  c.w.array(claimed.length);
  for (const e of claimed) {
    if (typeof e === "string") c.w.bulk(e);
    else replyEntry(c, e);
  }
  c.w.array(deletedIds.length);
  for (const d of deletedIds) c.w.bulk(d);
  propagateAs(...records);
}

// ---------------------------------------------------------------------------------------------
// XINFO.

const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

function replyLag(c: Client, s: StreamValue, g: StreamGroup): void {
  const lag = s.groupLag(g);
  if (lag === null) c.w.nil();
  else c.w.int(lag);
}

function replyEntriesRead(c: Client, g: StreamGroup): void {
  if (g.entriesRead === INVALID_ENTRIES_READ) c.w.nil();
  else c.w.int(g.entriesRead);
}

function xinfoStream(c: Client, args: string[], s: StreamValue): void {
  let full = false;
  let count = 10;
  const optc = args.length - 3;
  if (optc !== 0) {
    if ((optc !== 1 && optc !== 3) || !ieq(args[3], "full") || (optc === 3 && !ieq(args[4], "count"))) {
      subcommandSyntaxError(c, args);
      return;
    }
    full = true;
    if (optc === 3) {
      const v = i64Arg(c, args[5]);
      if (v === null) return;
      count = v < 0n ? 10 : Number(v);
    }
  }
  c.w.map(full ? 9 : 10);
  c.w.bulk("length");
  c.w.int(s.length);
  c.w.bulk("radix-tree-keys");
  c.w.int(s.nodes.length);
  c.w.bulk("radix-tree-nodes");
  c.w.int(s.radixTreeNodes());
  c.w.bulk("last-generated-id");
  c.w.bulk(formatId(s.lastId));
  c.w.bulk("max-deleted-entry-id");
  c.w.bulk(formatId(s.maxDeletedId));
  c.w.bulk("entries-added");
  c.w.int(s.entriesAdded);
  c.w.bulk("recorded-first-entry-id");
  c.w.bulk(formatId(s.firstId));
  if (!full) {
    c.w.bulk("groups");
    c.w.int(s.groups?.size ?? 0);
    for (const [label, rev] of [["first-entry", false], ["last-entry", true]] as const) {
      c.w.bulk(label);
      const e = rangeEntries(s, MIN_ID, MAX_ID, 1, rev);
      if (e.length) replyEntry(c, e[0]);
      else c.w.nil();
    }
    return;
  }
  c.w.bulk("entries");
  replyEntries(c, rangeEntries(s, MIN_ID, MAX_ID, count, false));
  c.w.bulk("groups");
  const groups = s.sortedGroups();
  c.w.array(groups.length);
  for (const g of groups) {
    c.w.map(7);
    c.w.bulk("name");
    c.w.bulk(g.name);
    c.w.bulk("last-delivered-id");
    c.w.bulk(formatId(g.lastId));
    c.w.bulk("entries-read");
    replyEntriesRead(c, g);
    c.w.bulk("lag");
    replyLag(c, s, g);
    c.w.bulk("pel-count");
    c.w.int(g.pel.size);
    c.w.bulk("pending");
    const pending: [string, StreamNack][] = [];
    for (const k of g.pel.keysFrom()) {
      if (count && pending.length >= count) break;
      pending.push([k, g.pel.get(k)!]);
    }
    c.w.array(pending.length);
    for (const [k, nack] of pending) {
      c.w.array(4);
      c.w.bulk(formatIdKey(k));
      c.w.bulk(nack.consumer!.name);
      c.w.int(nack.deliveryTime);
      c.w.int(nack.deliveryCount);
    }
    c.w.bulk("consumers");
    const consumers = g.sortedConsumers();
    c.w.array(consumers.length);
    for (const cons of consumers) {
      c.w.map(4);
      c.w.bulk("name");
      c.w.bulk(cons.name);
      c.w.bulk("seen-time");
      c.w.int(cons.seenTime);
      c.w.bulk("pel-count");
      c.w.int(cons.pel.size);
      c.w.bulk("pending");
      const own: [string, StreamNack][] = [];
      for (const k of cons.pel.keysFrom()) {
        if (count && own.length >= count) break;
        own.push([k, cons.pel.get(k)!]);
      }
      c.w.array(own.length);
      for (const [k, nack] of own) {
        c.w.array(3);
        c.w.bulk(formatIdKey(k));
        c.w.int(nack.deliveryTime);
        c.w.int(nack.deliveryCount);
      }
    }
  }
}

function xinfo(c: Client, args: string[]): void {
  const opt = args[1].toLowerCase();
  if (opt === "help") {
    replyHelp(c, "XINFO", XINFO_HELP);
    return;
  }
  const key = args[2];
  const found = asStream(c, lookupRead(c, key));
  if (found === null) return;
  if (found === undefined) {
    c.w.error(ERR.noSuchKey);
    return;
  }
  const s = found;
  if (opt === "consumers" && args.length === 4) {
    const g = s.group(args[3]);
    if (g === undefined) {
      c.w.error(`NOGROUP No such consumer group '${args[3]}' for key name '${key}'`);
      return;
    }
    const now = Date.now();
    const consumers = g.sortedConsumers();
    c.w.array(consumers.length);
    for (const cons of consumers) {
      c.w.map(3);
      c.w.bulk("name");
      c.w.bulk(cons.name);
      c.w.bulk("pending");
      c.w.int(cons.pel.size);
      c.w.bulk("idle");
      c.w.int(Math.max(0, now - cons.seenTime));
    }
  } else if (opt === "groups" && args.length === 3) {
    const groups = s.sortedGroups();
    c.w.array(groups.length);
    for (const g of groups) {
      c.w.map(6);
      c.w.bulk("name");
      c.w.bulk(g.name);
      c.w.bulk("consumers");
      c.w.int(g.consumers.size);
      c.w.bulk("pending");
      c.w.int(g.pel.size);
      c.w.bulk("last-delivered-id");
      c.w.bulk(formatId(g.lastId));
      c.w.bulk("entries-read");
      replyEntriesRead(c, g);
      c.w.bulk("lag");
      replyLag(c, s, g);
    }
  } else if (opt === "stream") {
    xinfoStream(c, args, s);
  } else {
    subcommandSyntaxError(c, args);
  }
}

// ---------------------------------------------------------------------------------------------
// The table.

const XGROUP_SUBCOMMANDS: CommandSpec[] = [
  command("xgroup|create", -5, ["write", "denyoom"], [2, 2, 1], "stream", "Creates a consumer group.", "5.0.0", xgroup),
  command(
    "xgroup|setid",
    -5,
    ["write"],
    [2, 2, 1],
    "stream",
    "Sets the last-delivered ID of a consumer group.",
    "5.0.0",
    xgroup,
  ),
  command("xgroup|destroy", 4, ["write"], [2, 2, 1], "stream", "Destroys a consumer group.", "5.0.0", xgroup),
  command(
    "xgroup|createconsumer",
    5,
    ["write", "denyoom"],
    [2, 2, 1],
    "stream",
    "Creates a consumer in a consumer group.",
    "6.2.0",
    xgroup,
  ),
  command(
    "xgroup|delconsumer",
    5,
    ["write"],
    [2, 2, 1],
    "stream",
    "Deletes a consumer from a consumer group.",
    "5.0.0",
    xgroup,
  ),
  command(
    "xgroup|help",
    2,
    ["loading", "stale"],
    [0, 0, 0],
    "stream",
    "Returns helpful text about the different subcommands.",
    "5.0.0",
    xgroup,
  ),
];

const XINFO_SUBCOMMANDS: CommandSpec[] = [
  command("xinfo|stream", -3, ["readonly"], [2, 2, 1], "stream", "Returns information about a stream.", "5.0.0", xinfo),
  command(
    "xinfo|groups",
    3,
    ["readonly"],
    [2, 2, 1],
    "stream",
    "Returns a list of the consumer groups of a stream.",
    "5.0.0",
    xinfo,
  ),
  command(
    "xinfo|consumers",
    4,
    ["readonly"],
    [2, 2, 1],
    "stream",
    "Returns a list of the consumers in a consumer group.",
    "5.0.0",
    xinfo,
  ),
  command(
    "xinfo|help",
    2,
    ["loading", "stale"],
    [0, 0, 0],
    "stream",
    "Returns helpful text about the different subcommands.",
    "5.0.0",
    xinfo,
  ),
];

/** Commands of the streams family. */
export const streamCommands: CommandSpec[] = [
  command(
    "xadd",
    -5,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "stream",
    "Appends a new message to a stream. Creates the key if it doesn't exist.",
    "5.0.0",
    xadd,
  ),
  command(
    "xlen",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    "stream",
    "Return the number of messages in a stream.",
    "5.0.0",
    xlen,
  ),
  command(
    "xrange",
    -4,
    ["readonly"],
    [1, 1, 1],
    "stream",
    "Returns the messages from a stream within a range of IDs.",
    "5.0.0",
    (c, a) => xrangeGeneric(c, a, false),
  ),
  command(
    "xrevrange",
    -4,
    ["readonly"],
    [1, 1, 1],
    "stream",
    "Returns the messages from a stream within a range of IDs in reverse order.",
    "5.0.0",
    (c, a) => xrangeGeneric(c, a, true),
  ),
  command(
    "xdel",
    -3,
    ["write", "fast"],
    [1, 1, 1],
    "stream",
    "Returns the number of messages after removing them from a stream.",
    "5.0.0",
    xdel,
  ),
  command(
    "xtrim",
    -4,
    ["write"],
    [1, 1, 1],
    "stream",
    "Deletes messages from the beginning of a stream.",
    "5.0.0",
    xtrim,
  ),
  command(
    "xread",
    -4,
    ["readonly", "blocking", "movablekeys"],
    [0, 0, 0],
    "stream",
    "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
    "5.0.0",
    (c, a) => xreadGeneric(c, a, false),
    { getKeys: xreadKeys },
  ),
  command(
    "xreadgroup",
    -7,
    ["write", "blocking", "movablekeys"],
    [0, 0, 0],
    "stream",
    "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
    "5.0.0",
    (c, a) => xreadGeneric(c, a, true),
    { getKeys: xreadKeys },
  ),
  command("xgroup", -2, [], [0, 0, 0], "stream", "A container for consumer groups commands.", "5.0.0", undefined, {
    subcommands: XGROUP_SUBCOMMANDS,
  }),
  command(
    "xack",
    -4,
    ["write", "fast"],
    [1, 1, 1],
    "stream",
    "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
    "5.0.0",
    xack,
  ),
  command(
    "xpending",
    -3,
    ["readonly"],
    [1, 1, 1],
    "stream",
    "Returns the information and entries from a stream consumer group's pending entries list.",
    "5.0.0",
    xpending,
  ),
  command(
    "xclaim",
    -6,
    ["write", "fast"],
    [1, 1, 1],
    "stream",
    "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
    "5.0.0",
    xclaim,
  ),
  command(
    "xautoclaim",
    -6,
    ["write", "fast"],
    [1, 1, 1],
    "stream",
    "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
    "6.2.0",
    xautoclaim,
  ),
  command("xinfo", -2, [], [0, 0, 0], "stream", "A container for stream introspection commands.", "5.0.0", undefined, {
    subcommands: XINFO_SUBCOMMANDS,
  }),
  command(
    "xsetid",
    -3,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "stream",
    "An internal command for replicating stream values.",
    "5.0.0",
    xsetid,
  ),
];
