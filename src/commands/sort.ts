/**
 * The sort command family: SORT and SORT_RO over lists, sets and sorted sets (BY patterns
 * including `nosort`-style constants and `->field` hash lookups, GET patterns, LIMIT,
 * ASC/DESC, ALPHA, STORE), plus Redis's partial quicksort, which GEO searches share.
 *
 * Invariants: element loading, comparisons, the choice between a full stable sort (glibc's
 * merge sort) and the partial pqsort, and every reply follow Redis 7.0's sort.c, so results
 * (ties included, where Redis is deterministic) are identical; pattern lookups read keys on
 * whichever shard owns them; STORE writes a list and emits `sortstore` (or `del`), and is
 * recorded as `DEL dst` + batched `RPUSH dst ...` (touching only the destination).
 */
import { command, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { ERR, leaveCompactRecords, lookupRead, replaceRecords } from "./helpers.ts";
import { encodingLimits } from "../rdb/store_bridge.ts";
import { propagateAs } from "./dispatcher.ts";
import { parseLong, strtod } from "./zsets.ts";
import { ZSetValue } from "../store/types/zset.ts";
import { SetValue } from "../store/types/set.ts";
import { ListValue } from "../store/types/list.ts";
import { HashValue } from "../store/types/hash.ts";

/**
 * Redis 7.0's pqsort (NetBSD qsort made partial, without the later "no swaps: switch to
 * insertion sort" shortcut): sorts so that positions [lrange, rrange] hold what a full sort
 * would put there. Ported step for step, so ties land where Redis puts them.
 */
export function pqsort<T>(a: T[], cmp: (x: T, y: T) => number, lrange: number, rrange: number): void {
  const swap = (i: number, j: number) => {
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  };
  const vecswap = (i: number, j: number, n: number) => {
    for (let k = 0; k < n; k++) swap(i + k, j + k);
  };
  const med3 = (i: number, j: number, k: number) =>
    cmp(a[i], a[j]) < 0
      ? (cmp(a[j], a[k]) < 0 ? j : (cmp(a[i], a[k]) < 0 ? k : i))
      : (cmp(a[j], a[k]) > 0 ? j : (cmp(a[i], a[k]) < 0 ? i : k));
  const insertion = (base: number, n: number) => {
    for (let pm = base + 1; pm < base + n; pm++) {
      for (let pl = pm; pl > base && cmp(a[pl - 1], a[pl]) > 0; pl--) swap(pl, pl - 1);
    }
  };
  const sortPart = (base: number, n: number): void => {
    for (;;) {
      if (n < 7) return insertion(base, n);
      let pm = base + (n >> 1);
      if (n > 7) {
        let pl = base;
        let pn = base + n - 1;
        if (n > 40) {
          const d = n >> 3;
          pl = med3(pl, pl + d, pl + 2 * d);
          pm = med3(pm - d, pm, pm + d);
          pn = med3(pn - 2 * d, pn - d, pn);
        }
        pm = med3(pl, pm, pn);
      }
      swap(base, pm);
      let pa = base + 1, pb = base + 1;
      let pc = base + n - 1, pd = base + n - 1;
      for (;;) {
        let r: number;
        while (pb <= pc && (r = cmp(a[pb], a[base])) <= 0) {
          if (r === 0) {
            swap(pa, pb);
            pa++;
          }
          pb++;
        }
        while (pb <= pc && (r = cmp(a[pc], a[base])) >= 0) {
          if (r === 0) {
            swap(pc, pd);
            pd--;
          }
          pc--;
        }
        if (pb > pc) break;
        swap(pb, pc);
        pb++;
        pc--;
      }
      const pn = base + n;
      let r = Math.min(pa - base, pb - pa);
      vecswap(base, pb - r, r);
      r = Math.min(pd - pc, pn - pd - 1);
      vecswap(pb, pn - r, r);
      r = pb - pa;
      if (r > 1) {
        const l = base, rr = base + r - 1;
        if (!((lrange < l && rrange < l) || (lrange > rr && rrange > rr))) sortPart(base, r);
      }
      r = pd - pc;
      if (r > 1) {
        base = pn - r;
        n = r;
        const l = base, rr = base + r - 1;
        if (!((lrange < l && rrange < l) || (lrange > rr && rrange > rr))) continue;
      }
      return;
    }
  };
  sortPart(0, a.length);
}

/** The part of a C string before its first NUL (strchr/strstr/strcoll stop there). */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/**
 * lookupKeyByPattern: `#` is the element itself; otherwise the first `*` of the pattern is
 * replaced by the element and the key read as a string, or as a hash field after `->`.
 */
function lookupByPattern(c: Client, pattern: string, element: string): string | null {
  if (pattern[0] === "#" && (pattern.length === 1 || pattern[1] === "\0")) return element;
  const head = cString(pattern);
  const star = head.indexOf("*");
  if (star < 0) return null;
  const arrow = head.indexOf("->", star + 1);
  let field: string | null = null;
  let postfixEnd = pattern.length;
  if (arrow >= 0 && arrow + 2 < head.length) {
    field = pattern.slice(arrow + 2);
    postfixEnd = arrow;
  }
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, postfixEnd);
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (field !== null) return v instanceof HashValue ? v.get(field) ?? null : null;
  return typeof v === "string" ? v : null;
}

/** One element to sort, with its numeric score or comparison string. */
interface SortItem {
  element: string;
  score: number;
  cmp: string | null;
}

/** Byte order (memcmp, then length) of latin1 strings. */
function binaryCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** strcoll in the C/C.UTF-8 locale: byte order of the strings up to their first NUL. */
function collate(a: string, b: string): number {
  return binaryCompare(cString(a), cString(b));
}

function sortGeneric(c: Client, args: string[], readonly: boolean): void {
  let desc = false, alpha = false;
  let limitStart = 0, limitCount = -1;
  let storeKey: string | null = null;
  let sortBy: string | null = null;
  let dontSort = false;
  const gets: string[] = [];
  for (let j = 2; j < args.length; j++) {
    const left = args.length - j - 1;
    const o = args[j].toLowerCase();
    if (o === "asc") desc = false;
    else if (o === "desc") desc = true;
    else if (o === "alpha") alpha = true;
    else if (o === "limit" && left >= 2) {
      const s = parseLong(args[j + 1]);
      const n = s === null ? null : parseLong(args[j + 2]);
      if (s === null || n === null) return c.w.error(ERR.notInteger);
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && o === "store" && left >= 1) {
      storeKey = args[++j];
    } else if (o === "by" && left >= 1) {
      sortBy = args[++j];
      dontSort = !cString(sortBy).includes("*");
    } else if (o === "get" && left >= 1) {
      gets.push(args[++j]);
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  const source = lookupRead(c, args[1]);
  if (
    source !== undefined &&
    !(source instanceof ListValue || source instanceof SetValue || source instanceof ZSetValue)
  ) {
    return c.w.error(ERR.wrongType);
  }
  // A set has no order of its own: stored results are sorted ALPHA so replicas agree.
  if (dontSort && source instanceof SetValue && storeKey !== null) {
    dontSort = false;
    alpha = true;
    sortBy = null;
  }
  // Redis converts a listpack sorted set to a skiplist before sorting it (even for SORT_RO);
  // without STORE nothing is propagated and replicas keep their listpack.
  const convertedSource = source instanceof ZSetValue && source.listpackOnReplicas;
  if (source instanceof ZSetValue) {
    if (storeKey !== null) source.listpack = false;
    else source.convertHereOnly();
  }
  const length = source === undefined ? 0 : source.size();
  let start = limitStart < 0 ? 0 : limitStart;
  let end = limitCount < 0 ? length - 1 : start + limitCount - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;
  const items: SortItem[] = [];
  const push = (element: string) => items.push({ element, score: 0, cmp: null });
  if (dontSort && (source instanceof ListValue || source instanceof ZSetValue)) {
    // Native order, ranged directly; DESC walks from the other end.
    if (end >= start) {
      const n = end - start + 1;
      if (source instanceof ListValue) {
        for (let i = 0; i < n; i++) push(source.at(desc ? length - 1 - start - i : start + i));
      } else {
        source.walk(desc ? length - 1 - start : start, n, desc, (m) => push(m));
      }
      end -= start;
      start = 0;
    }
  } else if (source instanceof ListValue) {
    for (let i = 0; i < length; i++) push(source.at(i));
  } else if (source instanceof SetValue) {
    for (let i = 0; i < length; i++) push(source.at(i));
  } else if (source instanceof ZSetValue) {
    source.forEach((m) => push(m));
  }
  let conversionError = false;
  if (!dontSort) {
    for (const item of items) {
      let by: string | null = item.element;
      if (sortBy !== null) {
        by = lookupByPattern(c, sortBy, item.element);
        if (by === null) continue;
      }
      if (alpha) {
        if (sortBy !== null) item.cmp = by;
      } else {
        const text = cString(by);
        const r = strtod(text);
        item.score = r.value;
        if (r.end !== text.length || r.erange || Number.isNaN(r.value)) conversionError = true;
      }
    }
    const byPattern = sortBy !== null;
    const store = storeKey !== null;
    const compare = (a: SortItem, b: SortItem): number => {
      let r: number;
      if (!alpha) {
        r = a.score > b.score ? 1 : a.score < b.score ? -1 : binaryCompare(a.element, b.element);
      } else if (byPattern) {
        if (a.cmp === null || b.cmp === null) r = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        else r = store ? binaryCompare(a.cmp, b.cmp) : collate(a.cmp, b.cmp);
      } else {
        r = store ? binaryCompare(a.element, b.element) : collate(a.element, b.element);
      }
      return desc ? -r : r;
    };
    // glibc's qsort is a stable merge sort, as Array.prototype.sort is; Redis uses its partial
    // quicksort only for BY with a LIMIT that narrows the range.
    if (byPattern && (start !== 0 || end !== items.length - 1)) pqsort(items, compare, start, end);
    else items.sort(compare);
  }
  const count = end - start + 1;
  const outputLen = gets.length > 0 ? gets.length * count : count;
  if (conversionError) return c.w.error("ERR One or more scores can't be converted into double");
  if (storeKey === null) {
    c.w.array(outputLen);
    for (let j = start; j <= end; j++) {
      const element = items[j].element;
      if (gets.length === 0) c.w.bulk(element);
      for (const g of gets) {
        const v = lookupByPattern(c, g, element);
        if (v === null) c.w.nil();
        else c.w.bulk(v);
      }
    }
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    const element = items[j].element;
    if (gets.length === 0) out.push(element);
    for (const g of gets) out.push(lookupByPattern(c, g, element) ?? "");
  }
  const slice = c.slice(storeKey);
  if (outputLen > 0) {
    slice.set(storeKey, ListValue.from(out));
    c.server.notify("l", "sortstore", storeKey, c.db);
    c.server.blocking.signal(c.db, storeKey);
  } else if (slice.delete(storeKey)) {
    c.server.notify("g", "del", storeKey, c.db);
  }
  const records = replaceRecords("RPUSH", storeKey, outputLen > 0 ? out : []);
  // Redis's replicas run SORT ... STORE itself, which converts their copy of the source too.
  if (convertedSource && args[1] !== storeKey) {
    records.push(...leaveCompactRecords("zset", args[1], encodingLimits(c.server.config).zsetMaxListpackValue));
  }
  propagateAs(...records);
  c.w.int(outputLen);
}

/** Keys of SORT: the source, plus the STORE destination. */
function sortKeys(args: string[]): number[] {
  const keys = [1];
  for (let i = 2; i < args.length; i++) {
    const o = args[i].toLowerCase();
    if (o === "limit") i += 2;
    else if (o === "by" || o === "get") i++;
    else if (o === "store" && i + 1 < args.length) keys.push(++i);
  }
  return keys;
}

const CATEGORIES = ["set", "sortedset", "list"];

/** Commands of the sort family. */
export const sortCommands: CommandSpec[] = [
  command(
    "sort",
    -2,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    "generic",
    "Sort a list, set or sorted set",
    "1.0.0",
    (c, a) => sortGeneric(c, a, false),
    { getKeys: sortKeys, categories: [...CATEGORIES, "dangerous"] },
  ),
  command(
    "sort_ro",
    -2,
    ["readonly", "movablekeys"],
    [1, 1, 1],
    "generic",
    "Sort a list, set or sorted set (read-only)",
    "7.0.0",
    (c, a) => sortGeneric(c, a, true),
    { getKeys: (args) => [1].filter((i) => i < args.length), categories: CATEGORIES },
  ),
];
