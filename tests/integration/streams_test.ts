/**
 * Stream commands against a real damselfly process: differential runs against real
 * redis-server (RESP2 and RESP3) with explicit IDs over every option and error of XADD,
 * XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD, XGROUP, XREADGROUP, XACK, XPENDING,
 * XCLAIM, XAUTOCLAIM and XINFO (times masked where they are the clock); node layout and
 * approximate trimming (`~`, LIMIT, node limits) compared through XINFO; blocking XREAD and
 * XREADGROUP woken by XADD from another client, timeouts, NOGROUP after XGROUP DESTROY and
 * FIFO order; the real clients (redis-cli, ioredis, node-redis). In-process checks cover the
 * recorded forms — applied to a second server they rebuild the same stream, groups and PELs —
 * and the keyspace events.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameAsRedis, type DiffStep } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { Client } from "../../src/server/client.ts";
import { RespWriter } from "../../src/resp/writer.ts";
import { dispatch } from "../../src/commands/dispatcher.ts";
import type { StreamValue } from "../../src/store/types/stream.ts";

/** Replaces clock readings (ms timestamps after 2017) with a marker. */
function maskTimes(r: unknown): unknown {
  if (typeof r === "number" && r > 1.5e12) return "<time>";
  if (Array.isArray(r)) return r.map(maskTimes);
  if (r instanceof Map) return new Map([...r.entries()].map(([k, v]) => [k, maskTimes(v)]));
  return r;
}

/** Replaces the value of every `field` (in RESP2 flat arrays and RESP3 maps) with a marker. */
function maskField(field: string): (r: unknown) => unknown {
  const walk = (r: unknown): unknown => {
    if (r instanceof Map) return new Map([...r.entries()].map(([k, v]) => [k, k === field ? `<${field}>` : walk(v)]));
    if (Array.isArray(r)) {
      return r.map((x, i) => (i > 0 && r[i - 1] === field && typeof x === "number" ? `<${field}>` : walk(x)));
    }
    return r;
  };
  return walk;
}

/** XPENDING extended rows: the idle column is the clock. */
function maskIdle(r: unknown): unknown {
  return Array.isArray(r)
    ? r.map((row) => (Array.isArray(row) && row.length === 4 ? [row[0], row[1], "<idle>", row[3]] : row))
    : r;
}

const masked = (cmd: (string | number)[], ...fns: ((r: unknown) => unknown)[]): DiffStep => ({
  cmd,
  norm: (r: Reply) => fns.reduce((acc: unknown, f) => f(acc), r) as Reply,
});

const ADD_RANGE_STEPS: DiffStep[] = [
  ["XADD", "s", "1-1", "f1", "v1"],
  ["XADD", "s", "1-2", "f1", "v2", "f2", "x"],
  ["XADD", "s", "1-*", "f1", "v3"],
  ["XADD", "s", "2", "f1", "v4"],
  ["XADD", "s", "2-*", "f1", "v5"],
  ["XADD", "s", "1-9", "f1", "v"],
  ["XADD", "s", "2-1", "f1", "v"],
  ["XADD", "s", "0-0", "f", "v"],
  ["XADD", "s", "0-*", "f", "v"],
  ["XADD", "new0", "0-*", "f", "v"],
  ["XADD", "new1", "0-0", "f", "v"],
  ["EXISTS", "new1"],
  ["XADD", "s", "3-1", "f1"],
  ["XADD", "s", "3-1"],
  ["XADD", "s", "3-1", "a", "b", "c"],
  ["XADD", "s", "abc", "f", "v"],
  ["XADD", "s", "3-x", "f", "v"],
  ["XADD", "s", "-", "f", "v"],
  ["XADD", "s", "+", "f", "v"],
  ["XADD", "s", "-1", "f", "v"],
  ["XADD", "s", "3--1", "f", "v"],
  ["XADD", "s", "+5", "f", "v"],
  ["XADD", "s", "18446744073709551616", "f", "v"],
  ["XADD", "s", "3-18446744073709551616", "f", "v"],
  ["XADD", "s", "00004-1", "f", "padded"],
  ["XADD", "s", " 5-1", "f", "space"],
  ["XADD", "s", "NOMKSTREAM", "6-1", "f", "v"],
  ["XADD", "nostream", "NOMKSTREAM", "1-1", "f", "v"],
  ["EXISTS", "nostream"],
  ["XADD", "s", "nomkstream", "nomkstream", "7-1", "f", "v"],
  ["XADD", "big", "18446744073709551615-18446744073709551614", "f", "v"],
  ["XADD", "big", "18446744073709551615-*", "f", "v"],
  ["XADD", "big", "18446744073709551615-*", "f", "v"],
  ["XADD", "big", "*", "f", "v"],
  ["XLEN", "big"],
  ["XLEN", "s"],
  ["XLEN", "nokey"],
  ["XRANGE", "s", "-", "+"],
  ["XRANGE", "s", "1", "1"],
  ["XRANGE", "s", "1-2", "2"],
  ["XRANGE", "s", "(1-2", "+"],
  ["XRANGE", "s", "-", "(2-0"],
  ["XRANGE", "s", "(1", "(2"],
  ["XRANGE", "s", "-", "+", "COUNT", "2"],
  ["XRANGE", "s", "-", "+", "count", "0"],
  ["XRANGE", "s", "-", "+", "COUNT", "-1"],
  ["XRANGE", "s", "-", "+", "COUNT", "2", "COUNT", "3"],
  ["XRANGE", "s", "-", "+", "COUNT"],
  ["XRANGE", "s", "-", "+", "COUNT", "x"],
  ["XRANGE", "s", "-", "+", "LIMIT", "1"],
  ["XRANGE", "s", "(-", "+"],
  ["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"],
  ["XRANGE", "s", "-", "(0-0"],
  ["XRANGE", "s", "(", "+"],
  ["XRANGE", "s", "5", "1"],
  ["XRANGE", "s", "x", "+"],
  ["XRANGE", "nokey", "-", "+"],
  ["XRANGE", "nokey", "-", "+", "COUNT", "0"],
  ["XREVRANGE", "s", "+", "-"],
  ["XREVRANGE", "s", "+", "-", "COUNT", "3"],
  ["XREVRANGE", "s", "(2-1", "(1-1"],
  ["XREVRANGE", "s", "2", "1"],
  ["XREVRANGE", "s", "-", "+"],
  ["XREVRANGE", "nokey", "+", "-"],
  ["XADD", "bin", "1-1", "\x00\xff", "a\r\nb", "", ""],
  ["XRANGE", "bin", "-", "+"],
  ["SET", "str", "v"],
  ["XADD", "str", "1-1", "f", "v"],
  ["XLEN", "str"],
  ["XRANGE", "str", "-", "+"],
  ["XREVRANGE", "str", "+", "-"],
  ["XDEL", "str", "1-1"],
  ["XTRIM", "str", "MAXLEN", "1"],
  ["XADD"],
  ["XRANGE", "s", "-"],
];

const DEL_TRIM_STEPS: DiffStep[] = [
  ["XADD", "s", "1-1", "a", "1"],
  ["XADD", "s", "2-1", "a", "2"],
  ["XADD", "s", "3-1", "b", "3"],
  ["XADD", "s", "4-1", "a", "4"],
  ["XADD", "s", "5-1", "a", "5"],
  ["XDEL", "s", "2-1", "2-1", "9-9"],
  ["XDEL", "s", "3-1", "x"],
  ["XDEL", "s", "1-1"],
  ["XINFO", "STREAM", "s"],
  ["XDEL", "nokey", "1-1"],
  ["XDEL", "s", "-"],
  ["XRANGE", "s", "-", "+"],
  ["XTRIM", "s", "MAXLEN", "2"],
  ["XINFO", "STREAM", "s"],
  ["XTRIM", "s", "MAXLEN", "=", "5"],
  ["XTRIM", "s", "MINID", "5"],
  ["XTRIM", "s", "MINID", "=", "5-1"],
  ["XTRIM", "s", "MAXLEN", "0"],
  ["XINFO", "STREAM", "s"],
  ["XLEN", "s"],
  ["EXISTS", "s"],
  ["XTRIM", "nokey", "MAXLEN", "0"],
  ["XTRIM", "s"],
  ["XTRIM", "s", "MAXLEN"],
  ["XTRIM", "s", "MAXLEN", "-1"],
  ["XTRIM", "s", "MAXLEN", "x"],
  ["XTRIM", "s", "MAXLEN", "1", "MINID", "1"],
  ["XTRIM", "s", "MINID", "1", "MAXLEN", "1"],
  ["XTRIM", "s", "MINID", "x"],
  ["XTRIM", "s", "MINID", "-"],
  ["XTRIM", "s", "LIMIT", "10"],
  ["XTRIM", "s", "LIMIT", "0", "MAXLEN", "1"],
  ["XTRIM", "s", "MAXLEN", "1", "LIMIT", "10"],
  ["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1"],
  ["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "x"],
  ["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "10"],
  ["XTRIM", "s", "MAXLEN", "~", "1", "FOO"],
  ["XTRIM", "s", "NOMKSTREAM", "MAXLEN", "1"],
  ["XADD", "s", "MAXLEN", "1", "MINID", "1", "9-1", "a", "1"],
  ["XADD", "s", "LIMIT", "5", "9-1", "a", "1"],
  ["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "9-1", "a", "1"],
  ["XADD", "s", "MAXLEN", "-5", "9-1", "a", "1"],
  ["XADD", "s", "MAXLEN", "2", "10-1", "a", "1"],
  ["XADD", "s", "MAXLEN", "2", "11-1", "a", "1"],
  ["XADD", "s", "MAXLEN", "2", "12-1", "a", "1"],
  ["XRANGE", "s", "-", "+"],
  ["XADD", "s", "MINID", "12", "13-1", "a", "1"],
  ["XRANGE", "s", "-", "+"],
  ["XADD", "s", "MAXLEN", "=", "1", "14-1", "a", "1"],
  ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "0", "15-1", "a", "1"],
  ["XADD", "s", "maxlen", "~", "1", "15-2", "a", "1"],
  ["XINFO", "STREAM", "s"],
  ["XSETID", "s", "100-1"],
  ["XSETID", "s", "1-1"],
  ["XSETID", "s", "100-1", "ENTRIESADDED", "1"],
  ["XSETID", "s", "100-1", "ENTRIESADDED", "-1"],
  ["XSETID", "s", "100-1", "ENTRIESADDED", "x"],
  ["XSETID", "s", "100-1", "MAXDELETEDID", "200-1"],
  ["XSETID", "s", "100-1", "MAXDELETEDID", "x"],
  ["XSETID", "s", "100-1", "FOO", "1"],
  ["XSETID", "s", "100-1", "ENTRIESADDED"],
  ["XSETID", "s", "200-5", "ENTRIESADDED", "1000", "MAXDELETEDID", "150-0"],
  ["XINFO", "STREAM", "s"],
  ["XADD", "s", "200-5", "a", "1"],
  ["XADD", "s", "200-*", "a", "1"],
  ["XSETID", "s", "-"],
  ["XSETID", "s", "+"],
  ["XSETID", "nokey", "1-1"],
  ["XSETID", "str", "1-1"],
  ["XADD", "empty", "1-1", "a", "1"],
  ["XDEL", "empty", "1-1"],
  ["XSETID", "empty", "0-1"],
  ["XINFO", "STREAM", "empty"],
  ["XSETID", "empty", "18446744073709551615-18446744073709551615"],
  ["XADD", "empty", "*", "a", "1"],
  ["SET", "str", "v"],
  ["XSETID", "str", "1-1"],
];

const GROUP_STEPS: DiffStep[] = [
  ["XGROUP", "CREATE", "s", "g1", "$"],
  ["XGROUP", "CREATE", "s", "g1", "$", "MKSTREAM"],
  ["XINFO", "STREAM", "s"],
  ["XGROUP", "CREATE", "s", "g1", "$", "MKSTREAM"],
  ["XADD", "s", "1-1", "a", "1"],
  ["XADD", "s", "2-1", "b", "2"],
  ["XADD", "s", "3-1", "c", "3"],
  ["XADD", "s", "4-1", "d", "4"],
  ["XGROUP", "CREATE", "s", "g2", "0"],
  ["XGROUP", "CREATE", "s", "g3", "2-1", "ENTRIESREAD", "2"],
  ["XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "-2"],
  ["XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "x"],
  ["XGROUP", "CREATE", "s", "g4", "x"],
  ["XGROUP", "CREATE", "s", "g4", "-"],
  ["XGROUP", "CREATE", "s", "g4", "0", "FOO"],
  ["XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD"],
  ["XGROUP", "CREATE", "nokey", "g", "0"],
  ["XGROUP", "CREATE", "str", "g", "0", "MKSTREAM"],
  ["XGROUP", "CREATE", "s"],
  ["XINFO", "GROUPS", "s"],
  ["XREADGROUP", "GROUP", "g2", "alice", "COUNT", "2", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g2", "bob", "COUNT", "1", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g3", "carol", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g2", "alice", "STREAMS", "s", "0"],
  ["XREADGROUP", "GROUP", "g2", "alice", "STREAMS", "s", "1-1"],
  ["XREADGROUP", "GROUP", "g2", "alice", "COUNT", "1", "STREAMS", "s", "0"],
  ["XREADGROUP", "GROUP", "g2", "nobody", "STREAMS", "s", "0"],
  ["XREADGROUP", "GROUP", "g1", "dave", "NOACK", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g1", "dave", "STREAMS", "s", ">"],
  ["XINFO", "GROUPS", "s"],
  masked(["XINFO", "CONSUMERS", "s", "g2"], maskField("idle")),
  // A read that serves nothing new creates no consumer (Redis 7.0); one with history does.
  ["XGROUP", "CREATE", "empty", "ge", "$", "MKSTREAM"],
  ["XREADGROUP", "GROUP", "ge", "erin", "COUNT", "2", "STREAMS", "empty", ">"],
  ["XREADGROUP", "GROUP", "g1", "erin", "STREAMS", "s", ">"],
  masked(["XINFO", "CONSUMERS", "empty", "ge"], maskField("idle")),
  masked(["XINFO", "CONSUMERS", "s", "g1"], maskField("idle")),
  ["XREADGROUP", "GROUP", "ge", "frank", "STREAMS", "empty", "0"],
  masked(["XINFO", "CONSUMERS", "empty", "ge"], maskField("idle")),
  ["XPENDING", "s", "g2"],
  ["XPENDING", "s", "g1"],
  masked(["XPENDING", "s", "g2", "-", "+", "10"], maskIdle),
  masked(["XPENDING", "s", "g2", "-", "+", "10", "alice"], maskIdle),
  masked(["XPENDING", "s", "g2", "(1-1", "+", "1"], maskIdle),
  ["XPENDING", "s", "g2", "-", "+", "10", "nobody"],
  ["XPENDING", "s", "g2", "-", "+", "0"],
  ["XPENDING", "s", "g2", "-", "+", "-3"],
  ["XPENDING", "s", "g2", "IDLE", "100000000", "-", "+", "10"],
  ["XPENDING", "s", "g2", "IDLE", "x", "-", "+", "10"],
  ["XPENDING", "s", "g2", "IDLE", "10", "-", "+"],
  ["XPENDING", "s", "g2", "-", "+"],
  ["XPENDING", "s", "g2", "-", "+", "x"],
  ["XPENDING", "s", "g2", "x", "+", "1"],
  ["XPENDING", "s", "g2", "(18446744073709551615-18446744073709551615", "+", "1"],
  ["XPENDING", "s", "nog"],
  ["XPENDING", "nokey", "g"],
  ["XPENDING", "str", "g"],
  ["XCLAIM", "s", "g2", "bob", "0", "1-1", "TIME", "1500000000000"],
  ["XCLAIM", "s", "g2", "bob", "0", "2-1", "3-1", "JUSTID", "RETRYCOUNT", "7", "TIME", "1500000000001"],
  ["XCLAIM", "s", "g2", "carl", "100000000", "1-1", "JUSTID"],
  ["XCLAIM", "s", "g2", "carl", "3600000", "2-1", "JUSTID", "IDLE", "0"],
  ["XCLAIM", "s", "g2", "carl", "0", "4-1", "JUSTID", "TIME", "1500000000002"],
  ["XCLAIM", "s", "g2", "carl", "0", "4-1", "FORCE", "JUSTID", "TIME", "1500000000002"],
  ["XCLAIM", "s", "g2", "carl", "0", "9-1", "FORCE", "JUSTID"],
  ["XCLAIM", "s", "g2", "carl", "0", "3-1", "LASTID", "10-0", "TIME", "1500000000003", "RETRYCOUNT", "2"],
  ["XCLAIM", "s", "g2", "carl", "0", "3-1", "BOGUS"],
  ["XCLAIM", "s", "g2", "carl", "x", "3-1"],
  ["XCLAIM", "s", "g2", "carl", "0", "3-1", "IDLE", "x"],
  ["XCLAIM", "s", "g2", "carl", "0", "3-1", "TIME", "x"],
  ["XCLAIM", "s", "g2", "carl", "0", "3-1", "RETRYCOUNT", "x"],
  ["XCLAIM", "s", "g2", "carl", "0", "3-1", "LASTID", "x"],
  ["XCLAIM", "s", "nog", "carl", "0", "3-1"],
  ["XCLAIM", "nokey", "g", "carl", "0", "3-1"],
  masked(["XINFO", "STREAM", "s", "FULL"], maskTimes),
  masked(["XINFO", "STREAM", "s", "FULL", "COUNT", "1"], maskTimes),
  masked(["XINFO", "STREAM", "s", "FULL", "COUNT", "0"], maskTimes),
  masked(["XINFO", "STREAM", "s", "FULL", "COUNT", "-5"], maskTimes),
  masked(["XPENDING", "s", "g2", "IDLE", "100000000", "-", "+", "10"], maskIdle),
  ["XDEL", "s", "2-1"],
  ["XINFO", "GROUPS", "s"],
  ["XREADGROUP", "GROUP", "g2", "carl", "STREAMS", "s", "0"],
  ["XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "s", "0"],
  ["XAUTOCLAIM", "s", "g2", "erin", "100000000", "0", "COUNT", "1", "JUSTID"],
  ["XAUTOCLAIM", "s", "g2", "erin", "100000000", "(1-1", "JUSTID"],
  ["XAUTOCLAIM", "s", "g2", "erin", "100000000", "0-0", "JUSTID"],
  masked(["XAUTOCLAIM", "s", "g2", "frank", "0", "-", "COUNT", "2"], maskTimes),
  masked(["XAUTOCLAIM", "s", "g2", "frank", "0", "-"], maskTimes),
  ["XAUTOCLAIM", "s", "g2", "frank", "0", "-", "COUNT", "0"],
  ["XAUTOCLAIM", "s", "g2", "frank", "0", "-", "COUNT", "x"],
  ["XAUTOCLAIM", "s", "g2", "frank", "x", "-"],
  ["XAUTOCLAIM", "s", "g2", "frank", "0", "x"],
  ["XAUTOCLAIM", "s", "g2", "frank", "0", "-", "BOGUS"],
  ["XAUTOCLAIM", "s", "nog", "frank", "0", "-"],
  ["XAUTOCLAIM", "nokey", "g", "frank", "0", "-"],
  ["XACK", "s", "g2", "1-1", "3-1", "4-1", "9-9"],
  ["XACK", "s", "g2", "1-1"],
  ["XACK", "s", "g2", "x"],
  ["XACK", "s", "nog", "x"],
  ["XACK", "nokey", "g", "1-1"],
  ["XACK", "str", "g", "1-1"],
  ["XPENDING", "s", "g2"],
  ["XGROUP", "SETID", "s", "g2", "0"],
  ["XGROUP", "SETID", "s", "g2", "$", "ENTRIESREAD", "3"],
  ["XGROUP", "SETID", "s", "g2", "-"],
  ["XGROUP", "SETID", "s", "g2", "x"],
  ["XGROUP", "SETID", "s", "g2", "1", "MKSTREAM"],
  ["XGROUP", "SETID", "s", "g2", "1", "ENTRIESREAD", "-3"],
  ["XGROUP", "SETID", "s", "nog", "0"],
  ["XGROUP", "SETID", "nokey", "g", "0"],
  ["XINFO", "GROUPS", "s"],
  ["XGROUP", "CREATECONSUMER", "s", "g2", "zed"],
  ["XGROUP", "CREATECONSUMER", "s", "g2", "zed"],
  ["XGROUP", "CREATECONSUMER", "s", "nog", "zed"],
  ["XGROUP", "DELCONSUMER", "s", "g2", "zed"],
  ["XGROUP", "DELCONSUMER", "s", "g2", "frank"],
  ["XGROUP", "DELCONSUMER", "s", "g2", "nobody"],
  ["XGROUP", "DELCONSUMER", "s", "nog", "x"],
  ["XGROUP", "DESTROY", "s", "g3"],
  ["XGROUP", "DESTROY", "s", "g3"],
  ["XGROUP", "DESTROY", "s", "g3", "extra"],
  ["XGROUP", "DESTROY", "nokey", "g3"],
  ["XGROUP", "HELP"],
  ["XGROUP", "help"],
  ["XGROUP", "FOO"],
  ["XGROUP", "FOO", "s", "g", "x"],
  ["XGROUP"],
  ["XINFO", "HELP"],
  ["XINFO", "FOO", "s"],
  ["XINFO", "STREAM", "nokey"],
  ["XINFO", "STREAM", "str"],
  ["XINFO", "STREAM", "s", "FULL", "COUNT"],
  ["XINFO", "STREAM", "s", "FULL", "COUNT", "x"],
  ["XINFO", "STREAM", "s", "PARTIAL"],
  ["XINFO", "STREAM", "s", "FULL", "LIMIT", "1"],
  ["XINFO", "GROUPS", "nokey"],
  ["XINFO", "GROUPS", "s", "extra"],
  ["XINFO", "CONSUMERS", "s", "nog"],
  ["XINFO", "CONSUMERS", "s"],
  ["XINFO", "GROUPS", "s"],
  ["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "nokey", ">"],
  ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", "$"],
  ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", "x"],
  ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s"],
  ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", "s", ">"],
  ["XREADGROUP", "STREAMS", "s", ">", "x", "y"],
  ["XREADGROUP", "GROUP", "g2", "c", "COUNT", "x", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g2", "c", "BLOCK", "-1", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g2", "c", "FOO", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g2", "c", "STREAMS", "str", ">"],
  ["XADD", "d", "1-1", "a", "1"],
  ["XADD", "d", "2-1", "a", "1"],
  ["XADD", "d", "3-1", "a", "1"],
  ["XADD", "d", "4-1", "a", "1"],
  ["XADD", "d", "5-1", "a", "1"],
  ["XGROUP", "CREATE", "d", "g", "0"],
  ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "d", ">"],
  ["XDEL", "d", "1-1", "2-1", "3-1"],
  ["XAUTOCLAIM", "d", "g", "c2", "0", "0", "COUNT", "1", "JUSTID"],
  ["XAUTOCLAIM", "d", "g", "c2", "0", "0", "COUNT", "1", "JUSTID"],
  ["XAUTOCLAIM", "d", "g", "c2", "0", "0", "COUNT", "5", "JUSTID"],
  ["XPENDING", "d", "g"],
  ["XDEL", "d", "4-1"],
  ["XCLAIM", "d", "g", "c3", "0", "4-1", "5-1", "JUSTID"],
  ["XPENDING", "d", "g"],
  ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "d", "0"],
  ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "d", "d", "0", ">"],
];

const XREAD_STEPS: DiffStep[] = [
  ["XADD", "a", "1-1", "f", "1"],
  ["XADD", "a", "2-1", "f", "2"],
  ["XADD", "b", "5-1", "g", "5"],
  ["XREAD", "STREAMS", "a", "0"],
  ["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"],
  ["XREAD", "STREAMS", "a", "b", "1-1", "5-1"],
  ["XREAD", "STREAMS", "a", "b", "2-1", "0"],
  ["XREAD", "STREAMS", "a", "$"],
  ["XREAD", "STREAMS", "nokey", "$"],
  ["XREAD", "STREAMS", "nokey", "0"],
  ["XREAD", "COUNT", "0", "STREAMS", "a", "0"],
  ["XREAD", "COUNT", "-1", "STREAMS", "a", "0"],
  ["XREAD", "STREAMS", "a", "1"],
  ["XREAD", "STREAMS", "a", "18446744073709551615-18446744073709551615"],
  ["XREAD", "STREAMS", "a", ">"],
  ["XREAD", "STREAMS", "a", "+"],
  ["XREAD", "STREAMS", "a", "-"],
  ["XREAD", "STREAMS", "a", "x"],
  ["XREAD", "STREAMS", "a"],
  ["XREAD", "STREAMS", "a", "b", "0"],
  ["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"],
  ["XREAD", "NOACK", "STREAMS", "a", "0"],
  ["XREAD", "COUNT", "x", "STREAMS", "a", "0"],
  ["XREAD", "BLOCK", "x", "STREAMS", "a", "0"],
  ["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"],
  ["XREAD", "BLOCK", "0", "STREAMS", "a", "0"],
  ["XREAD", "COUNT", "1"],
  ["XREAD", "FOO", "STREAMS", "a", "0"],
  ["XREAD", "STREAMS"],
  ["SET", "str", "v"],
  ["XREAD", "STREAMS", "str", "0"],
  ["XREAD", "STREAMS", "a", "str", "0", "0"],
  ["XDEL", "a", "2-1"],
  ["XREAD", "STREAMS", "a", "1-1"],
  ["XREAD", "STREAMS", "a", "0"],
];

/** Stream steps that split nodes (byte and entry limits) and trim with `~` and LIMIT. */
function nodeSteps(maxEntries: number, maxBytes: number, seed: number): DiffStep[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const steps: DiffStep[] = [
    ["CONFIG", "SET", "stream-node-max-entries", String(maxEntries)],
    ["CONFIG", "SET", "stream-node-max-bytes", String(maxBytes)],
  ];
  let ms = 1;
  const info = () => steps.push(["XINFO", "STREAM", "n"], ["XLEN", "n"]);
  for (let i = 0; i < 600; i++) {
    ms += Math.floor(rand() * 3);
    const fields = rand() < 0.7 ? ["name", "value", "count"] : ["other", "x"];
    const cmd: string[] = ["XADD", "n", `${ms}-*`];
    for (const f of fields) {
      const kind = rand();
      const v = kind < 0.3
        ? String(Math.floor(rand() * 100000) - 50000)
        : kind < 0.6
        ? "v".repeat(Math.floor(rand() * 80))
        : "z".repeat(Math.floor(rand() * 300));
      cmd.push(f, v);
    }
    steps.push(cmd);
    if (i % 97 === 0) info();
  }
  info();
  for (let i = 0; i < 40; i++) steps.push(["XDEL", "n", `${1 + Math.floor(rand() * ms)}-0`]);
  info();
  steps.push(
    ["XTRIM", "n", "MAXLEN", "~", "550"],
    ["XTRIM", "n", "MAXLEN", "~", "500", "LIMIT", "30"],
    ["XTRIM", "n", "MAXLEN", "~", "500", "LIMIT", "0"],
  );
  info();
  steps.push(["XTRIM", "n", "MINID", "~", String(Math.floor(ms / 3))]);
  info();
  steps.push(["XTRIM", "n", "MINID", String(Math.floor(ms / 2))]);
  info();
  steps.push(["XADD", "n", "MAXLEN", "~", "100", `${ms + 1}-1`, "name", "last"]);
  info();
  steps.push(["XADD", "n", "MINID", "~", String(ms), "LIMIT", "1000", `${ms + 1}-2`, "name", "last"]);
  info();
  steps.push(["XRANGE", "n", "-", "+", "COUNT", "5"], ["XREVRANGE", "n", "+", "-", "COUNT", "5"]);
  steps.push(["XTRIM", "n", "MAXLEN", "3"]);
  info();
  steps.push(["XRANGE", "n", "-", "+"]);
  return steps;
}

/** Group read counters and lag through tombstones and trims. */
const LAG_STEPS: DiffStep[] = [
  ["XADD", "l", "1-1", "a", "1"],
  ["XADD", "l", "2-1", "a", "1"],
  ["XADD", "l", "3-1", "a", "1"],
  ["XADD", "l", "4-1", "a", "1"],
  ["XADD", "l", "5-1", "a", "1"],
  ["XGROUP", "CREATE", "l", "g", "0"],
  ["XGROUP", "CREATE", "l", "mid", "3-1"],
  ["XGROUP", "CREATE", "l", "end", "$"],
  ["XGROUP", "CREATE", "l", "future", "9-1"],
  ["XINFO", "GROUPS", "l"],
  ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "l", ">"],
  ["XINFO", "GROUPS", "l"],
  ["XDEL", "l", "3-1"],
  ["XINFO", "GROUPS", "l"],
  ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "l", ">"],
  ["XINFO", "GROUPS", "l"],
  ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "l", ">"],
  ["XINFO", "GROUPS", "l"],
  ["XREADGROUP", "GROUP", "mid", "c", "STREAMS", "l", ">"],
  ["XINFO", "GROUPS", "l"],
  ["XADD", "l", "6-1", "a", "1"],
  ["XINFO", "GROUPS", "l"],
  ["XTRIM", "l", "MAXLEN", "1"],
  ["XINFO", "GROUPS", "l"],
  ["XINFO", "STREAM", "l"],
  ["XDEL", "l", "6-1"],
  ["XINFO", "GROUPS", "l"],
  ["XINFO", "STREAM", "l"],
  ["XADD", "l", "7-1", "a", "1"],
  ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "l", ">"],
  ["XINFO", "GROUPS", "l"],
  ["XGROUP", "SETID", "l", "g", "0", "ENTRIESREAD", "0"],
  ["XINFO", "GROUPS", "l"],
  ["XGROUP", "SETID", "l", "g", "2-1"],
  ["XINFO", "GROUPS", "l"],
];

Deno.test("streams: replies match redis-server exactly (RESP2 and RESP3, 4 shards)", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    await t.step("XADD, XLEN, XRANGE, XREVRANGE", () => assertSameAsRedis(srv.port, redis.port, ADD_RANGE_STEPS));
    await t.step("XDEL, XTRIM, XADD trimming, XSETID", () => assertSameAsRedis(srv.port, redis.port, DEL_TRIM_STEPS));
    await t.step(
      "XGROUP, XREADGROUP, XPENDING, XCLAIM, XAUTOCLAIM, XACK, XINFO",
      () => assertSameAsRedis(srv.port, redis.port, GROUP_STEPS),
    );
    await t.step("XREAD without blocking", () => assertSameAsRedis(srv.port, redis.port, XREAD_STEPS));
    await t.step("group read counters and lag", () => assertSameAsRedis(srv.port, redis.port, LAG_STEPS));
    for (const [entries, bytes, seed] of [[100, 4096, 1], [10, 4096, 2], [0, 512, 3], [7, 0, 4]] as const) {
      await t.step(
        `node layout and ~ trimming (node-max-entries ${entries}, node-max-bytes ${bytes})`,
        () => assertSameAsRedis(srv.port, redis.port, nodeSteps(entries, bytes, seed), [2]),
      );
    }
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

/** Waits until damselfly reports `n` blocked clients. */
async function blockedClients(c: RespClient, n: number): Promise<void> {
  await waitFor(
    async () => {
      const info = String(await c.call("INFO", "clients"));
      return new RegExp(`blocked_clients:${n}\\r\\n`).test(info);
    },
    `${n} blocked clients`,
    5000,
  );
}

Deno.test("streams: blocking XREAD and XREADGROUP", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const admin = await RespClient.connect(srv.port);
  const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
  await io.connect();
  try {
    await t.step("XREAD BLOCK 0 with $ is woken by XADD from another client", async () => {
      const c = await RespClient.connect(srv.port);
      await io.xadd("bs", "1-1", "old", "x");
      await c.sendCommand("XREAD", "BLOCK", "0", "STREAMS", "bs", "$");
      await blockedClients(admin, 1);
      assert.equal(await io.xadd("bs", "2-1", "new", "y"), "2-1");
      assert.deepEqual(await c.read(5000), [["bs", [["2-1", ["new", "y"]]]]]);
      await blockedClients(admin, 0);
      c.close();
    });
    await t.step("XREAD BLOCK on a missing key, several keys, COUNT, RESP3 map reply", async () => {
      const c = await RespClient.connect(srv.port);
      assert.ok((await c.call("HELLO", "3")) instanceof Map);
      await c.sendCommand("XREAD", "COUNT", "1", "BLOCK", "10000", "STREAMS", "other", "later", "$", "0");
      await blockedClients(admin, 1);
      await io.xadd("later", "5-1", "a", "1");
      const reply = await c.read(5000);
      assert.ok(reply instanceof Map);
      assert.deepEqual([...reply.entries()], [["later", [["5-1", ["a", "1"]]]]]);
      c.close();
    });
    await t.step("XREAD BLOCK times out with a null reply after about the timeout", async () => {
      const c = await RespClient.connect(srv.port);
      const start = Date.now();
      assert.equal(await c.call("XREAD", "BLOCK", "150", "STREAMS", "bs", "$"), null);
      const took = Date.now() - start;
      assert.ok(took >= 140 && took < 3000, `took ${took} ms`);
      c.close();
    });
    await t.step("XREADGROUP BLOCK > is woken by XADD and creates the PEL entry", async () => {
      await io.xgroup("CREATE", "gs", "grp", "$", "MKSTREAM");
      const c = await RespClient.connect(srv.port);
      await c.sendCommand("XREADGROUP", "GROUP", "grp", "alice", "BLOCK", "0", "STREAMS", "gs", ">");
      await blockedClients(admin, 1);
      await io.xadd("gs", "7-1", "job", "1");
      assert.deepEqual(await c.read(5000), [["gs", [["7-1", ["job", "1"]]]]]);
      const pending = (await io.xpending("gs", "grp")) as unknown[];
      assert.deepEqual(pending, [1, "7-1", "7-1", [["alice", "1"]]]);
      c.close();
    });
    await t.step("waiters on one group are served in FIFO order, one entry each", async () => {
      const first = await RespClient.connect(srv.port);
      const second = await RespClient.connect(srv.port);
      await first.sendCommand("XREADGROUP", "GROUP", "grp", "w1", "COUNT", "1", "BLOCK", "0", "STREAMS", "gs", ">");
      await blockedClients(admin, 1);
      await second.sendCommand("XREADGROUP", "GROUP", "grp", "w2", "COUNT", "1", "BLOCK", "0", "STREAMS", "gs", ">");
      await blockedClients(admin, 2);
      await io.xadd("gs", "8-1", "job", "2");
      assert.deepEqual(await first.read(5000), [["gs", [["8-1", ["job", "2"]]]]]);
      await blockedClients(admin, 1);
      await io.xadd("gs", "9-1", "job", "3");
      assert.deepEqual(await second.read(5000), [["gs", [["9-1", ["job", "3"]]]]]);
      first.close();
      second.close();
    });
    await t.step("XGROUP DESTROY wakes XREADGROUP waiters with NOGROUP", async () => {
      const c = await RespClient.connect(srv.port);
      await c.sendCommand("XREADGROUP", "GROUP", "grp", "bob", "BLOCK", "0", "STREAMS", "gs", ">");
      await blockedClients(admin, 1);
      assert.equal(await io.xgroup("DESTROY", "gs", "grp"), 1);
      assert.deepEqual(
        await c.read(5000),
        new Error("NOGROUP the consumer group this client was blocked on no longer exists"),
      );
      c.close();
    });
    await t.step("ioredis xread with BLOCK", async () => {
      const reader = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await reader.connect();
      try {
        const pending = reader.xread("BLOCK", 0, "STREAMS", "ios", "$");
        await blockedClients(admin, 1);
        await io.xadd("ios", "3-3", "k", "v");
        assert.deepEqual(await pending, [["ios", [["3-3", ["k", "v"]]]]]);
      } finally {
        reader.disconnect();
      }
    });
    await t.step("XREAD BLOCK inside MULTI does not block", async () => {
      const c = await RespClient.connect(srv.port);
      assert.equal(await c.call("MULTI"), "OK");
      assert.equal(await c.call("XREAD", "BLOCK", "0", "STREAMS", "nothing", "$"), "QUEUED");
      assert.deepEqual(await c.call("EXEC"), [null]);
      c.close();
    });
  } finally {
    io.disconnect();
    admin.close();
    await srv.stop();
  }
});

Deno.test("streams: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["xadd", "cli", "1-1", "f", "v"]), '"1-1"');
      assert.equal(await redisCli(srv.port, ["xlen", "cli"]), "(integer) 1");
      assert.equal(await redisCli(srv.port, ["xrange", "cli", "-", "+"]), '1) 1) "1-1"\n   2) 1) "f"\n      2) "v"');
      assert.equal(
        await redisCli(srv.port, ["xadd", "cli", "1-1", "f", "v"]),
        "(error) ERR The ID specified in XADD is equal or smaller than the target stream top item",
      );
      assert.equal(
        await redisCli(srv.port, ["xadd", "cli", "bad", "f", "v"]),
        "(error) ERR Invalid stream ID specified as stream command argument",
      );
    });
    await t.step("ioredis: XADD *, consumer group round trip", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        const before = Date.now();
        const id = await io.xadd("ev", "*", "type", "click");
        assert.ok(id !== null);
        const [ms, seq] = id.split("-").map(Number);
        assert.ok(ms >= before && ms <= Date.now() && seq === 0, id);
        const id2 = await io.xadd("ev", "*", "type", "view");
        assert.ok(id2 !== null && id2 > id || id2!.split("-")[0] === String(ms), `${id2} after ${id}`);
        assert.equal(await io.xgroup("CREATE", "ev", "workers", "0"), "OK");
        const read = await io.xreadgroup("GROUP", "workers", "w", "COUNT", "10", "STREAMS", "ev", ">");
        assert.deepEqual(read, [["ev", [[id, ["type", "click"]], [id2, ["type", "view"]]]]]);
        assert.equal(await io.xack("ev", "workers", id), 1);
        assert.deepEqual(await io.xpending("ev", "workers"), [1, id2, id2, [["w", "1"]]]);
        const claimed = await io.xautoclaim("ev", "workers", "w2", 0, "0", "JUSTID");
        assert.deepEqual(claimed, ["0-0", [id2], []]);
        assert.equal(await io.xtrim("ev", "MAXLEN", 0), 2);
        assert.equal(await io.xlen("ev"), 0);
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis: xAdd, xRange, xInfoStream", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.xAdd("nr", "1-1", { a: "1", b: "2" }), "1-1");
        assert.equal(await nr.xAdd("nr", "2-0", { a: "3" }), "2-0");
        assert.deepEqual(JSON.parse(JSON.stringify(await nr.xRange("nr", "-", "+"))), [
          { id: "1-1", message: { a: "1", b: "2" } },
          { id: "2-0", message: { a: "3" } },
        ]);
        const info = await nr.xInfoStream("nr");
        assert.equal(info.length, 2);
        assert.equal(info.lastGeneratedId, "2-0");
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});

/** The stream stored under `key` in an in-process server. */
function streamOf(s: InProcessServer, key: string): StreamValue {
  return s.server.store.slice(0, key).get(key) as StreamValue;
}

Deno.test("streams: recorded writes rebuild the same stream, groups and PELs on a replica", async () => {
  const primary = new InProcessServer(["--num_shards=4"]);
  primary.server.config.setValue("notify-keyspace-events", "KEA");
  const events = () =>
    primary.published.filter(([ch]) => ch.startsWith("__keyevent@0__:")).map(([ch, key]) => `${ch.slice(15)} ${key}`);
  const run = (...cmd: string[]) => primary.call(...cmd);

  primary.clearRecords();
  const reply = run("XADD", "s", "*", "f", "1");
  const id = reply.split("\r\n")[1];
  assert.deepEqual(primary.writes.map((w) => w.args), [["XADD", "s", id, "f", "1"]], "XADD * records the concrete ID");
  assert.deepEqual(events(), ["xadd s"]);
  run("XADD", "s", `${BigInt(id.split("-")[0]) + 1n}-*`, "f", "2");
  assert.match(primary.writes[1].args[2], /^\d+-0$/, "XADD ms-* records the concrete ID");
  for (let i = 0; i < 250; i++) run("XADD", "s", `${10n ** 13n + BigInt(i)}-1`, "f", String(i));

  primary.clearRecords();
  run("XADD", "s", "MAXLEN", "~", "120", "99999999999999-1", "f", "x");
  assert.deepEqual(primary.writes[0].args.slice(0, 4), ["XADD", "s", "MAXLEN", "="]);
  assert.equal(primary.writes[0].args[4], String(streamOf(primary, "s").length), "~ becomes = <resulting length>");
  assert.deepEqual(events(), ["xadd s", "xtrim s"]);

  primary.clearRecords();
  run("XTRIM", "s", "MINID", "~", "10000000000300", "LIMIT", "500");
  assert.deepEqual(primary.writes.map((w) => w.args.slice(0, 4)), [["XTRIM", "s", "MINID", "="]]);
  primary.clearRecords();
  assert.equal(run("XTRIM", "s", "MAXLEN", "~", "100000"), ":0\r\n");
  assert.equal(primary.writes.length, 0, "a trim that removes nothing records nothing");

  run("XGROUP", "CREATE", "s", "g", "0");
  run("XGROUP", "CREATE", "s", "g2", "$");
  primary.clearRecords();
  run("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">");
  const recorded = primary.commands();
  const kinds = recorded.map((a) => `${a[0]} ${a[1]}`);
  assert.deepEqual(kinds, ["XGROUP CREATECONSUMER", "XCLAIM s", "XCLAIM s", "XCLAIM s", "XGROUP SETID"]);
  assert.deepEqual(recorded[1].slice(3, 5), ["alice", "0"]);
  assert.deepEqual(recorded[1].slice(6), [
    "TIME",
    recorded[1][7],
    "RETRYCOUNT",
    "1",
    "FORCE",
    "JUSTID",
    "LASTID",
    recorded[1][5],
  ]);
  primary.clearRecords();
  run("XREAD", "STREAMS", "s", "0");
  assert.equal(primary.writes.length, 0, "XREAD records nothing");
  run("XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "2", "STREAMS", "s", ">");
  run("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0");
  run("XCLAIM", "s", "g", "carol", "0", primary.writes[1]?.args[5] ?? "0-1", "TIME", "1500000000000");
  run("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "1");
  run("XACK", "s", "g", streamOf(primary, "s").group("g")!.pel.size ? "0-1" : "0-2");
  run("XDEL", "s", "99999999999999-1");
  run("XGROUP", "CREATECONSUMER", "s", "g2", "erin");
  run("XGROUP", "SETID", "s", "g2", "0", "ENTRIESREAD", "0");
  run("XREADGROUP", "GROUP", "g2", "erin", "COUNT", "4", "STREAMS", "s", ">");
  run("XGROUP", "DELCONSUMER", "s", "g2", "erin");
  run("XSETID", "s", "99999999999999-5");
  run("XGROUP", "SETID", "s", "g2", "$");

  // A blocked XREADGROUP served by another client's XADD records its own delivery; as in
  // Redis 7.0 its consumer is created when it is served, not when it blocks.
  const waiter = new Client(primary.server, new RespWriter(), "internal");
  primary.clearRecords();
  const blocked = dispatch(waiter, ["XREADGROUP", "GROUP", "g2", "frank", "BLOCK", "0", "STREAMS", "s", ">"]);
  assert.ok(blocked instanceof Promise);
  assert.equal(primary.writes.length, 0, "blocking records nothing");
  assert.equal(streamOf(primary, "s").group("g2")!.consumers.has("frank"), false);
  run("XADD", "s", "99999999999999-9", "f", "late");
  await blocked;
  assert.deepEqual(primary.writes.map((w) => `${w.args[0]} ${w.args[1]}`), [
    "XADD s",
    "XGROUP CREATECONSUMER",
    "XCLAIM s",
    "XGROUP SETID",
  ]);

  // A second primary's complete record, replayed on a replica through its master link,
  // rebuilds the same entries, counters, groups, PELs and consumers.
  const replica = new InProcessServer(["--num_shards=2"]);
  replica.client.isMasterLink = true;
  const log: string[][] = [];
  const p2 = new InProcessServer(["--num_shards=4"]);
  p2.server.writeObservers.push({ onWrite: (_db, args) => log.push([...args]) });
  p2.call("XADD", "r", "1-1", "a", "1");
  for (let i = 2; i < 300; i++) p2.call("XADD", "r", `${i}-*`, "a", String(i), ...(i % 3 ? [] : ["b", "x"]));
  p2.call("XGROUP", "CREATE", "r", "g", "0");
  p2.call("XGROUP", "CREATE", "r", "h", "$", "ENTRIESREAD", "5");
  p2.call("XREADGROUP", "GROUP", "g", "c1", "COUNT", "50", "STREAMS", "r", ">");
  p2.call("XREADGROUP", "GROUP", "g", "c2", "NOACK", "COUNT", "20", "STREAMS", "r", ">");
  p2.call("XREADGROUP", "GROUP", "g", "c1", "COUNT", "5", "STREAMS", "r", "0");
  p2.call("XCLAIM", "r", "g", "c3", "0", "3-0", "4-0", "TIME", "1500000000000", "RETRYCOUNT", "9");
  p2.call("XDEL", "r", "5-0", "6-0");
  p2.call("XAUTOCLAIM", "r", "g", "c4", "0", "0", "COUNT", "10");
  p2.call("XACK", "r", "g", "7-0", "8-0");
  p2.call("XADD", "r", "MAXLEN", "~", "200", "400-1", "a", "b");
  p2.call("XTRIM", "r", "MINID", "~", "150", "LIMIT", "100");
  p2.call("XGROUP", "SETID", "r", "h", "250-0");
  p2.call("XREADGROUP", "GROUP", "h", "c5", "COUNT", "3", "STREAMS", "r", ">");
  p2.call("XGROUP", "DELCONSUMER", "r", "g", "c2");
  for (const args of log) replica.call(...args);
  const want = streamOf(p2, "r").canonical();
  const got = streamOf(replica, "r").canonical();
  assert.equal(got, want);
});

Deno.test("streams: consumer-group changes abort the EXEC of a client watching the stream (unlike Redis 7.0)", async () => {
  const srv = await startServer(["--num_shards=2"]);
  const watcher = await RespClient.connect(srv.port);
  const other = await RespClient.connect(srv.port);
  try {
    await other.call("XADD", "ws", "1-1", "f", "v");
    await other.call("XGROUP", "CREATE", "ws", "g", "0");
    const changes: (string | number)[][] = [
      ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "ws", ">"],
      ["XCLAIM", "ws", "g", "carol", "0", "1-1"],
      ["XACK", "ws", "g", "1-1"],
      ["XGROUP", "CREATECONSUMER", "ws", "g", "dan"],
      ["XGROUP", "SETID", "ws", "g", "0"],
      ["XSETID", "ws", "5-0"],
    ];
    for (const change of changes) {
      assert.equal(await watcher.call("WATCH", "ws"), "OK");
      await other.call(...change);
      assert.equal(await watcher.call("MULTI"), "OK");
      assert.equal(await watcher.call("PING"), "QUEUED");
      assert.equal(await watcher.call("EXEC"), null, `${change.join(" ")} aborts the EXEC`);
    }
    // A read of the stream does not.
    assert.equal(await watcher.call("WATCH", "ws"), "OK");
    await other.call("XRANGE", "ws", "-", "+");
    await other.call("XPENDING", "ws", "g");
    assert.equal(await watcher.call("MULTI"), "OK");
    assert.equal(await watcher.call("PING"), "QUEUED");
    assert.deepEqual(await watcher.call("EXEC"), ["PONG"]);
  } finally {
    watcher.close();
    other.close();
    await srv.stop();
  }
});
