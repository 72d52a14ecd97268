/**
 * Seeded random commands for differential tests, and the reply normalization they need.
 *
 * Owns: a generator of deterministic data commands with edge-case arguments (negative and
 * out-of-range indexes, infinite and exclusive scores, lex bounds, bad numbers, option
 * combinations, keys of the wrong type) and `comparableReply`, which sorts replies whose order
 * Redis leaves unspecified. Invariants: the same draws give the same commands; no command's
 * reply depends on time, randomness or the moment an active expiry cycle runs (no SPOP,
 * SRANDMEMBER, `*` stream IDs, TTL reads or DBSIZE); lex-range commands run only on `lex`,
 * whose scores are all 0, and on `lexmix`, a listpack with differing scores (for a skiplist
 * with differing scores Redis's answer depends on its random levels).
 */
import { canonicalReply, sorted } from "./differential.ts";
import type { Reply } from "./server.ts";

const KEYS = ["k1", "k2", "k3", "k4"];
const MEMBERS = ["a", "b", "c", "m1", "m2", "m3", "1", "2", "10", "-3"];
const INDEXES = [0, 1, 2, -1, -2, -5, 3, 7, 100, -100];
const SCORES = ["0", "1", "2", "-1", "1.5", "-inf", "+inf", "(1", "(2", "1e3", "abc", "(-inf"];
/** The sorted set of the lex-range commands: every score is 0. */
const LEX_KEY = "lex";
/** A small sorted set of short members with differing scores (always a listpack). */
const MIXED_LEX_KEY = "lexmix";
const LEX_KEYS = [LEX_KEY, MIXED_LEX_KEY];
const LEX = ["-", "+", "[a", "(a", "[m2", "(m", "[1", "c"];
const ORDER_FREE = new Set(["SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "KEYS"]);
const PAIRS_ORDER_FREE = new Set(["HGETALL"]);

/** The seeded choices a command maker draws from. */
export interface Draw {
  pick<T>(a: T[]): T;
  num(n: number): number;
}

/**
 * One random data command: strings, lists, hashes, sets, sorted sets, streams (explicit IDs),
 * bitmaps, HyperLogLog, geo, SORT and generic key commands, on the keys k1-k4 (and `lex`).
 */
export function randomDataCommand({ pick, num }: Draw): (string | number)[] {
  const k = pick(KEYS);
  const k2 = pick(KEYS);
  const m = pick(MEMBERS);
  const i = pick(INDEXES);
  const j = pick(INDEXES);
  const s = pick(SCORES);
  const s2 = pick(SCORES);
  const long = "x".repeat(70);
  const makers: (() => (string | number)[])[] = [
    // strings
    () => ["SET", k, pick(["1", "abc", "-7", "3.5", long]), ...pick([[], ["NX"], ["XX"], ["GET"], ["XX", "GET"]])],
    () => ["GET", k],
    () => ["APPEND", k, pick(["", "z", "12"])],
    () => ["STRLEN", k],
    () => ["GETRANGE", k, i, j],
    () => ["SETRANGE", k, pick([0, 2, 5, -1]), pick(["", "q", "99"])],
    () => ["INCRBY", k, pick(["1", "-2", "9223372036854775807", "x", "1.5"])],
    () => ["DECR", k],
    () => ["INCRBYFLOAT", k, pick(["1.5", "-0.5", "abc", "1e308", "inf"])],
    () => ["MSETNX", k, "v", k2, "w"],
    () => ["LCS", k, k2, ...pick([[], ["LEN"], ["IDX"], ["IDX", "MINMATCHLEN", "1", "WITHMATCHLEN"]])],
    () => ["GETDEL", k],
    () => ["SETNX", k, pick(["1", "v"])],
    () => [pick(["SETEX", "PSETEX"]), k, pick(["100000", "0", "-1", "x"]), "v"],
    () => ["GETSET", k, pick(["5", "abc"])],
    () => ["SUBSTR", k, i, j],
    () => [pick(["UNLINK", "TOUCH"]), k, k2],
    () => ["RPOPLPUSH", k, k2],
    () => [pick(["BLPOP", "BRPOP"]), k, k2, "0.01"],
    () => ["SPOP", k, "0"],
    () => ["SRANDMEMBER", k, "0"],
    () => ["HRANDFIELD", k, "0"],
    () => ["ZRANDMEMBER", k, "0"],
    // lists
    () => [pick(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k, m, ...pick([[], [pick(MEMBERS)], [long]])],
    () => [pick(["LPOP", "RPOP"]), k, ...pick([[], [pick(["0", "1", "3", "-1", "x"])]])],
    () => ["LRANGE", k, i, j],
    () => ["LINDEX", k, i],
    () => ["LSET", k, i, m],
    () => ["LINSERT", k, pick(["BEFORE", "AFTER", "MIDDLE"]), m, pick(MEMBERS)],
    () => ["LREM", k, pick([0, 1, -1, 2, -2]), m],
    () => ["LTRIM", k, i, j],
    () => [
      "LPOS",
      k,
      m,
      ...pick([[], ["RANK", pick(["1", "-1", "2", "0"])], ["COUNT", pick(["0", "2"])], ["MAXLEN", "2"]]),
    ],
    () => ["LMOVE", k, k2, pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])],
    () => ["LMPOP", 2, k, k2, pick(["LEFT", "RIGHT"]), ...pick([[], ["COUNT", pick(["1", "3", "0"])]])],
    () => ["LLEN", k],
    // hashes
    () => ["HSET", k, m, pick(["v", "5", long]), ...pick([[], [pick(MEMBERS), "w"]])],
    () => ["HSETNX", k, m, "v"],
    () => ["HGET", k, m],
    () => ["HMGET", k, m, pick(MEMBERS)],
    () => ["HDEL", k, m, pick(MEMBERS)],
    () => ["HLEN", k],
    () => ["HSTRLEN", k, m],
    () => ["HEXISTS", k, m],
    () => ["HINCRBY", k, m, pick(["1", "-3", "x", "9223372036854775807"])],
    () => ["HINCRBYFLOAT", k, m, pick(["0.5", "-2", "abc"])],
    () => [pick(["HKEYS", "HVALS", "HGETALL"]), k],
    // sets
    () => ["SADD", k, m, ...pick([[], [pick(MEMBERS)], [long]])],
    () => ["SREM", k, m],
    () => ["SISMEMBER", k, m],
    () => ["SMISMEMBER", k, m, pick(MEMBERS)],
    () => ["SCARD", k],
    () => ["SMOVE", k, k2, m],
    () => [pick(["SINTER", "SUNION", "SDIFF", "SMEMBERS"]), k, ...pick([[], [k2]])],
    () => [pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k, k2, pick(KEYS)],
    () => ["SINTERCARD", 2, k, k2, ...pick([[], ["LIMIT", pick(["0", "1", "-1"])]])],
    // sorted sets
    () => [
      "ZADD",
      k,
      ...pick([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["INCR"], ["GT", "CH"], ["NX", "GT"]]),
      s,
      m,
    ],
    () => ["ZADD", k, num(5), m, num(5), pick(MEMBERS)],
    () => ["ZADD", k, ...Array.from({ length: 130 }, (_, n) => [String(n % 7), `bulk${n}`]).flat()],
    () => ["ZINCRBY", k, pick(["1", "-2.5", "+inf", "x"]), m],
    () => ["ZREM", k, m, pick(MEMBERS)],
    () => ["ZSCORE", k, m],
    () => ["ZMSCORE", k, m, pick(MEMBERS)],
    () => ["ZCARD", k],
    () => ["ZCOUNT", k, s, s2],
    // Lex ranges are only specified for members of one score (Redis's own answer otherwise
    // depends on its skiplist's random levels): they run on LEX_KEY, whose scores are all 0,
    // and on MIXED_LEX_KEY.
    () => ["ZADD", LEX_KEY, "0", m, ...pick([[], ["0", long], ["0", pick(MEMBERS)]])],
    () => ["ZADD", LEX_KEY, ...Array.from({ length: 130 }, (_, n) => ["0", `bulk${n}`]).flat()],
    () => ["ZREM", LEX_KEY, m],
    () => ["ZLEXCOUNT", pick(LEX_KEYS), pick(LEX), pick(LEX)],
    // Mixed scores: defined (and matched) for listpack sets, which this one always is.
    () => ["ZADD", MIXED_LEX_KEY, num(4), m],
    () => ["ZREM", MIXED_LEX_KEY, m],
    () => ["ZRANGE", k, i, j, ...pick([[], ["WITHSCORES"], ["REV"], ["REV", "WITHSCORES"]])],
    () => ["ZRANGE", k, s, s2, "BYSCORE", ...pick([[], ["REV"], ["LIMIT", "1", "2"], ["WITHSCORES"]])],
    () => [
      "ZRANGE",
      pick(LEX_KEYS),
      pick(LEX),
      pick(LEX),
      "BYLEX",
      ...pick([[], ["REV"], ["LIMIT", "0", "-1"], ["WITHSCORES"]]),
    ],
    () => ["ZRANGESTORE", k2, k, i, j],
    () => [pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k, s, s2, ...pick([[], ["WITHSCORES"], ["LIMIT", "0", "1"]])],
    () => [
      pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]),
      pick(LEX_KEYS),
      pick(LEX),
      pick(LEX),
      ...pick([[], ["LIMIT", "1", "3"], ["LIMIT", "4", "2"]]),
    ],
    () => [pick(["ZRANK", "ZREVRANK"]), k, m],
    () => ["ZREMRANGEBYRANK", k, i, j],
    () => ["ZREMRANGEBYSCORE", k, s, s2],
    () => ["ZREMRANGEBYLEX", pick(LEX_KEYS), pick(LEX), pick(LEX)],
    () => [pick(["ZPOPMIN", "ZPOPMAX"]), k, ...pick([[], [pick(["0", "1", "3", "-1"])]])],
    () => ["ZMPOP", 2, k, k2, pick(["MIN", "MAX"]), ...pick([[], ["COUNT", pick(["1", "5"])]])],
    () => [pick(["ZUNION", "ZINTER", "ZDIFF"]), 2, k, k2, ...pick([[], ["WITHSCORES"]])],
    () => [
      pick(["ZUNIONSTORE", "ZINTERSTORE"]),
      k,
      2,
      k2,
      pick(KEYS),
      ...pick([[], ["WEIGHTS", "2", "-1"], [
        "AGGREGATE",
        pick(["MIN", "MAX", "SUM"]),
      ]]),
    ],
    () => ["ZDIFFSTORE", k, 2, k2, pick(KEYS)],
    () => ["ZINTERCARD", 2, k, k2, ...pick([[], ["LIMIT", "1"]])],
    // streams (explicit IDs only)
    () => [
      "XADD",
      k,
      ...pick([[], ["NOMKSTREAM"], ["MAXLEN", "3"], ["MAXLEN", "~", "2"], ["MINID", "2"]]),
      `${num(6)}-${num(3)}`,
      "f",
      m,
    ],
    () => ["XLEN", k],
    () => [
      pick(["XRANGE", "XREVRANGE"]),
      k,
      pick(["-", "+", "2", "(1-1", "3-0"]),
      pick(["-", "+", "4", "2-2"]),
      ...pick([[], ["COUNT", "2"]]),
    ],
    () => ["XDEL", k, `${num(6)}-${num(3)}`],
    () => ["XTRIM", k, pick(["MAXLEN", "MINID"]), pick(["0", "2", "3-0"])],
    () => ["XGROUP", "CREATE", k, pick(["g1", "g2"]), pick(["0", "$", "2-0"]), ...pick([[], ["MKSTREAM"]])],
    () => [
      "XREADGROUP",
      "GROUP",
      pick(["g1", "g2"]),
      pick(["alice", "bob"]),
      "COUNT",
      "2",
      "STREAMS",
      k,
      pick([">", "0"]),
    ],
    () => ["XACK", k, pick(["g1", "g2"]), `${num(6)}-${num(3)}`],
    () => ["XPENDING", k, pick(["g1", "g2"])],
    () => ["XINFO", "GROUPS", k],
    () => ["XGROUP", pick(["DESTROY", "CREATECONSUMER"]), k, pick(["g1", "g2"]), ...pick([[], ["carol"]])],
    // bitmaps, HyperLogLog, geo, SORT
    () => ["SETBIT", k, pick(["0", "7", "100", "-1", "4294967296"]), pick(["0", "1", "2"])],
    () => ["GETBIT", k, pick(["0", "7", "100"])],
    () => ["BITCOUNT", k, ...pick([[], [String(i), String(j)], [String(i), String(j), "BIT"], ["0"]])],
    () => ["BITPOS", k, pick(["0", "1"]), ...pick([[], [String(i)], [String(i), String(j), pick(["BYTE", "BIT"])]])],
    () => ["BITOP", pick(["AND", "OR", "XOR", "NOT"]), k, k2, ...pick([[], [pick(KEYS)]])],
    () => [
      "BITFIELD",
      k,
      ...pick([["GET", "u8", "0"], ["SET", "i5", "3", "-7"], ["INCRBY", "u4", "#1", "9"], [
        "OVERFLOW",
        pick(["SAT", "FAIL", "WRAP"]),
        "INCRBY",
        "i8",
        "0",
        "200",
      ]]),
    ],
    () => ["PFADD", k, m, pick(MEMBERS)],
    () => ["PFCOUNT", k, ...pick([[], [k2]])],
    () => ["PFMERGE", k, k2],
    () => [
      "GEOADD",
      k,
      ...pick([[], ["NX"], ["CH"]]),
      pick(["13.361389", "200", "-73.9"]),
      pick(["38.115556", "40.7", "86"]),
      m,
    ],
    () => ["GEODIST", k, m, pick(MEMBERS), pick(["m", "km", "mi", "ft", "xx"])],
    () => ["GEOPOS", k, m, pick(MEMBERS)],
    () => ["GEOHASH", k, m],
    () => [
      "GEOSEARCH",
      k,
      "FROMLONLAT",
      "13",
      "38",
      "BYRADIUS",
      pick(["100", "5000"]),
      "km",
      "ASC",
      ...pick([
        [],
        [
          "WITHDIST",
        ],
        ["COUNT", "2"],
        ["WITHCOORD", "WITHHASH"],
      ]),
    ],
    () => ["SORT", k, ...pick([[], ["ALPHA"], ["DESC"], ["LIMIT", "1", "2"], ["ALPHA", "DESC", "LIMIT", "0", "3"]])],
    () => ["SET", k, "v", pick(["EX", "PX", "EXAT"]), pick(["0", "-5", "x", "100000"])],
    () => ["GETEX", k, ...pick([[], ["PERSIST"], ["EX", "0"], ["PX", "x"]])],
    // generic
    () => ["DEL", k, ...pick([[], [k2]])],
    () => ["EXISTS", k, k2, k],
    () => ["TYPE", k],
    () => ["RENAME", k, k2],
    () => ["RENAMENX", k, k2],
    () => ["COPY", k, k2, ...pick([[], ["REPLACE"]])],
    () => ["OBJECT", "ENCODING", k],
    () => ["EXPIRE", k, pick(["100", "0", "-1", "x"]), ...pick([[], ["NX"], ["XX"], ["GT"], ["LT"]])],
    () => ["PERSIST", k],
    () => ["KEYS", "*"],
  ];
  return pick(makers)();
}

/** A reply in a comparable form, with unspecified orders sorted. */
export function comparableReply(cmd: (string | number)[], r: Reply): string {
  const name = String(cmd[0]).toUpperCase();
  let v: unknown = r;
  if (ORDER_FREE.has(name)) v = sorted(r);
  else if (PAIRS_ORDER_FREE.has(name)) {
    if (Array.isArray(r)) {
      const pairs: string[] = [];
      for (let n = 0; n + 1 < r.length; n += 2) pairs.push(JSON.stringify([r[n], r[n + 1]]));
      v = pairs.sort();
    } else if (r instanceof Map) v = [...r.entries()].map((e) => JSON.stringify(e)).sort();
  }
  return JSON.stringify(canonicalReply(v), (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}
