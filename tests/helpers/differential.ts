/**
 * Differential testing: the same command list goes to damselfly and to a real redis-server,
 * and the replies must be identical (after an optional per-step normalization for replies
 * that legitimately differ, such as a TTL that ticked or the order of KEYS).
 *
 * Invariant: steps run strictly one after another on both servers, so every step sees the
 * same prior state on both sides.
 */
import assert from "node:assert/strict";
import { type Reply, RespClient } from "./server.ts";

/** One command of a differential run, optionally with a reply normalizer. */
export type DiffStep = (string | number)[] | { cmd: (string | number)[]; norm: (r: Reply) => unknown };

/** Renders a reply as a canonical, comparable value (errors, maps and bigints included). */
export function canonicalReply(r: unknown): unknown {
  if (r instanceof Error) return { error: r.message };
  if (typeof r === "bigint") return { int: r.toString() };
  if (typeof r === "number") return { int: String(r) };
  if (r instanceof Map) return { map: [...r.entries()].map(([k, v]) => [canonicalReply(k), canonicalReply(v)]) };
  if (Array.isArray(r)) return r.map(canonicalReply);
  return r;
}

/** Sorts an array reply (for KEYS, SMEMBERS-like order-free replies). */
export function sorted(r: Reply): unknown {
  return Array.isArray(r) ? [...r].map((x) => JSON.stringify(canonicalReply(x))).sort() : r;
}

/** A normalizer accepting an integer in [lo, hi] (TTLs that may tick between servers). */
export function within(lo: number, hi: number): (r: Reply) => unknown {
  return (r) => (typeof r === "number" && r >= lo && r <= hi ? `int in [${lo}, ${hi}]` : r);
}

/** Escapes a latin1 string for readable mismatch messages. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

/**
 * Runs `steps` on both clients; returns one description per mismatching step (empty when
 * every reply matched).
 */
export async function runDifferential(damselfly: RespClient, redis: RespClient, steps: DiffStep[]): Promise<string[]> {
  const mismatches: string[] = [];
  for (const step of steps) {
    const cmd = Array.isArray(step) ? step : step.cmd;
    const norm = Array.isArray(step) ? (r: Reply) => r : step.norm;
    const got = canonicalReply(norm(await damselfly.call(...cmd)));
    const want = canonicalReply(norm(await redis.call(...cmd)));
    if (show(got) !== show(want)) {
      mismatches.push(`${show(cmd)}\n    damselfly: ${show(got)}\n    redis:     ${show(want)}`);
    }
  }
  return mismatches;
}

/**
 * Runs `steps` on damselfly (`port`) and redis-server (`redisPort`) after a FLUSHALL on both,
 * once per protocol in `protos` (RESP2 and RESP3 by default), and asserts identical replies.
 */
export async function assertSameAsRedis(
  port: number,
  redisPort: number,
  steps: DiffStep[],
  protos: number[] = [2, 3],
): Promise<void> {
  for (const proto of protos) {
    const d = await RespClient.connect(port);
    const r = await RespClient.connect(redisPort);
    try {
      if (proto === 3) {
        assert.ok((await d.call("HELLO", "3")) instanceof Map);
        assert.ok((await r.call("HELLO", "3")) instanceof Map);
      }
      assert.equal(await d.call("FLUSHALL"), "OK");
      assert.equal(await r.call("FLUSHALL"), "OK");
      const mismatches = await runDifferential(d, r, steps);
      assert.deepEqual(mismatches, [], `RESP${proto} mismatches:\n${mismatches.join("\n")}`);
    } finally {
      d.close();
      r.close();
    }
  }
}

/** Key whose SET ends a keyEvents run (its own event is not reported). */
const EVENTS_DONE_KEY = "keyevents:done";

/**
 * The keyevent notifications (`<event> <key>`) that `commands` publish on the server at `port`
 * with every class on (`KEA`), in order. Bounded: at most 10,000 messages, each awaited with
 * the client's read deadline.
 */
export async function keyEvents(port: number, commands: (string | number)[][]): Promise<string[]> {
  const admin = await RespClient.connect(port);
  const sub = await RespClient.connect(port);
  try {
    await admin.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
    await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
    for (const cmd of commands) await admin.call(...cmd);
    await admin.call("SET", EVENTS_DONE_KEY, "1");
    const got: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const m = await sub.read() as string[];
      if (m[3] === EVENTS_DONE_KEY) return got;
      got.push(`${m[2]} ${m[3]}`);
    }
    throw new Error("the end marker's notification never came");
  } finally {
    admin.close();
    sub.close();
  }
}

/** Asserts that `commands` publish the same keyevent notifications on damselfly and redis-server. */
export async function assertSameKeyEvents(
  port: number,
  redisPort: number,
  commands: (string | number)[][],
): Promise<void> {
  assert.deepEqual(await keyEvents(port, commands), await keyEvents(redisPort, commands));
}
