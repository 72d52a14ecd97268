/**
 * The HyperLogLog family: PFADD, PFCOUNT, PFMERGE and PFDEBUG, on Redis strings holding
 * Redis's exact HLL encoding (src/store/hll.ts).
 *
 * Invariants: a value is only treated as an HLL after Redis's isHLLObjectOrReply checks;
 * a stored HLL is replaced as a whole (strings are immutable), keeping its TTL; PFCOUNT of one
 * key caches the cardinality in the header like Redis and, on a primary, journals itself so
 * replicas hold the same bytes; PFMERGE is recorded as `SET dst <hll> KEEPTTL` (one key), plus
 * `APPEND dst ""` for a short result. PFADD, single-key PFCOUNT, PFMERGE's destination and
 * PFDEBUG leave a raw string even when nothing changed, as Redis unshares the object first
 * (STRING_MADE_RAW, for OBJECT ENCODING).
 */
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, lookupRead, rawStringRecords } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { FLAG_TABLE } from "../config/flag_table.ts";
import {
  cachedCardinality,
  decodeSparse,
  denseAddWouldChange,
  estimateFromHistogram,
  histogramOfRegisters,
  histogramOfString,
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE_MAX_BYTES_DEFAULT,
  HyperLogLog,
  isHllString,
  mergeInto,
  withCachedCardinality,
} from "../store/hll.ts";
import { STRING_MADE_RAW, type Value } from "../store/values.ts";

const NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT = "INVALIDOBJ Corrupted HLL object detected";

/** Whether the flag table offers Redis's `hll-sparse-max-bytes` parameter. */
const HAS_SPARSE_MAX_FLAG = FLAG_TABLE.some((f) => f.name === "hll-sparse-max-bytes");

function sparseMaxBytes(c: Client): number {
  return HAS_SPARSE_MAX_FLAG ? c.server.config.num("hll-sparse-max-bytes") : HLL_SPARSE_MAX_BYTES_DEFAULT;
}

/** Replies with the right error and returns false unless `v` is a valid HLL string. */
function checkHll(c: Client, v: Value): v is string {
  if (typeof v !== "string") {
    c.w.error(ERR.wrongType);
    return false;
  }
  if (!isHllString(v)) {
    c.w.error(NOT_HLL);
    return false;
  }
  return true;
}

function pfadd(c: Client, args: string[]): void {
  const key = args[1];
  const slice = c.slice(key);
  const current = slice.get(key);
  let hll: HyperLogLog;
  let updated = 0;
  if (current === undefined) {
    hll = HyperLogLog.create(sparseMaxBytes(c));
    updated++;
  } else {
    if (!checkHll(c, current)) return;
    // Redis unshares the string before adding (dbUnshareStringValue): raw even when unchanged
    // (here only, unless something is added and propagated).
    slice.unshareUnchanged(key);
    if (current.charCodeAt(4) === HLL_DENSE && !denseAddWouldChange(current, args, 2)) {
      c.w.int(0);
      return;
    }
    hll = HyperLogLog.fromString(current, sparseMaxBytes(c));
  }
  for (let j = 2; j < args.length; j++) {
    const r = hll.add(args[j]);
    if (r === 1) updated++;
    else if (r === -1) {
      c.w.error(CORRUPT);
      return;
    }
  }
  if (updated) {
    hll.invalidateCache();
    if (current === undefined) {
      slice.set(key, hll.toString());
      slice.setStringMade(key, STRING_MADE_RAW);
    } else slice.replaceValue(key, hll.toString(), STRING_MADE_RAW);
    c.server.notify("$", "pfadd", key, c.db);
  }
  c.w.int(updated ? 1 : 0);
}

function pfcount(c: Client, args: string[]): void {
  if (args.length > 2) {
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < args.length; j++) {
      const v = lookupRead(c, args[j]);
      if (v === undefined) continue;
      if (!checkHll(c, v)) return;
      if (!mergeInto(max, v)) {
        c.w.error(CORRUPT);
        return;
      }
    }
    c.w.int(estimateFromHistogram(histogramOfRegisters(max)));
    return;
  }
  const key = args[1];
  const v = lookupRead(c, key);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  if (!checkHll(c, v)) return;
  // Redis unshares a single PFCOUNT key (it may write the cache): raw from now on, on replicas
  // too only when the cache is written (and PFCOUNT propagated).
  c.slice(key).unshareUnchanged(key);
  const cached = cachedCardinality(v);
  if (cached !== null) {
    c.w.int(cached);
    return;
  }
  const histogram = histogramOfString(v);
  if (histogram === null) {
    c.w.error(CORRUPT);
    return;
  }
  const card = estimateFromHistogram(histogram);
  // Caching the result modifies the string; Redis propagates PFCOUNT itself for that.
  c.slice(key).replaceValue(key, withCachedCardinality(v, card), STRING_MADE_RAW);
  if (!c.server.isReplica || c.isMasterLink) c.server.recordWrite(c.db, ["PFCOUNT", key]);
  c.w.int(card);
}

function pfmerge(c: Client, args: string[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < args.length; j++) {
    const v = lookupRead(c, args[j]);
    if (v === undefined) continue;
    if (!checkHll(c, v)) return;
    if (v.charCodeAt(4) === HLL_DENSE) useDense = true;
    if (!mergeInto(max, v)) {
      c.w.error(CORRUPT);
      return;
    }
  }
  const key = args[1];
  const slice = c.slice(key);
  const current = slice.get(key) as string | undefined;
  const hll = current === undefined
    ? HyperLogLog.create(sparseMaxBytes(c))
    : HyperLogLog.fromString(current, sparseMaxBytes(c));
  if (useDense && !hll.toDense()) {
    c.w.error(CORRUPT);
    return;
  }
  for (let j = 0; j < HLL_REGISTERS; j++) {
    if (max[j] !== 0) hll.setIfGreater(j, max[j]);
  }
  hll.invalidateCache();
  const merged = hll.toString();
  if (current === undefined) {
    slice.set(key, merged);
    slice.setStringMade(key, STRING_MADE_RAW);
  } else slice.replaceValue(key, merged, STRING_MADE_RAW);
  // Recorded as the merged bytes (as Dragonfly journals PFMERGE), keeping the TTL: it touches
  // only the destination. A replica makes that string raw too, as Redis's PFMERGE does.
  propagateAs(...rawStringRecords(key, merged, true));
  c.server.notify("$", "pfadd", key, c.db);
  c.w.simple("OK");
}

function pfdebug(c: Client, args: string[]): void {
  const sub = args[1].toLowerCase();
  const key = args[2];
  const slice = c.slice(key);
  const v = slice.get(key);
  if (v === undefined) {
    c.w.error("ERR The specified key does not exist");
    return;
  }
  if (!checkHll(c, v)) return;
  // Redis unshares the string before any subcommand: raw from now on (here only, unless the
  // subcommand writes).
  slice.unshareUnchanged(key);
  const sparse = v.charCodeAt(4) !== HLL_DENSE;
  switch (sub) {
    case "getreg": {
      const hll = HyperLogLog.fromString(v, sparseMaxBytes(c));
      const regs = hll.registers();
      if (regs === null) {
        c.w.error(CORRUPT);
        return;
      }
      if (sparse) slice.replaceValue(key, hll.toString(), STRING_MADE_RAW);
      c.w.array(regs.length);
      for (const r of regs) c.w.int(r);
      return;
    }
    case "decode":
      if (!sparse) {
        c.w.error("ERR HLL encoding is not sparse");
        return;
      }
      c.w.bulk(decodeSparse(v));
      return;
    case "encoding":
      c.w.simple(sparse ? "sparse" : "dense");
      return;
    case "todense": {
      if (!sparse) {
        c.w.int(0);
        return;
      }
      const hll = HyperLogLog.fromString(v, sparseMaxBytes(c));
      if (!hll.toDense()) {
        c.w.error(CORRUPT);
        return;
      }
      slice.replaceValue(key, hll.toString(), STRING_MADE_RAW);
      c.w.int(1);
      return;
    }
    default:
      c.w.error(`ERR Unknown PFDEBUG subcommand '${args[1]}'`);
  }
}

/** Commands of the hyperloglog family. */
export const hyperloglogCommands: CommandSpec[] = [
  command(
    "pfadd",
    -2,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    "hyperloglog",
    "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
    "2.8.9",
    pfadd,
  ),
  command(
    "pfcount",
    -2,
    ["readonly", "may_replicate"],
    [1, -1, 1],
    "hyperloglog",
    "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).",
    "2.8.9",
    pfcount,
  ),
  command(
    "pfmerge",
    -2,
    ["write", "denyoom"],
    [1, -1, 1],
    "hyperloglog",
    "Merges one or more HyperLogLog values into a single key.",
    "2.8.9",
    pfmerge,
  ),
  command(
    "pfdebug",
    3,
    ["write", "denyoom", "admin"],
    [2, 2, 1],
    "hyperloglog",
    "Internal commands for debugging HyperLogLog values.",
    "2.8.9",
    pfdebug,
  ),
];
