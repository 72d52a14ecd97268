/**
 * Seeded random differential of command semantics: the same random commands (strings, lists,
 * hashes, sets, sorted sets, streams and generic key commands, with edge-case arguments:
 * negative and out-of-range indexes, infinite and exclusive scores, lex bounds, bad numbers,
 * option combinations, keys of the wrong type) go to damselfly and to redis-server, one by one,
 * and every reply must be identical, error texts included. Replies whose order Redis leaves
 * unspecified (set members, hash fields, KEYS) are compared sorted.
 *
 * Only deterministic commands are drawn: no SPOP, SRANDMEMBER, `*` stream IDs or TTL reads, and
 * no DBSIZE (it counts keys whose time has passed until an active expiry cycle reclaims them,
 * and the two servers' cycles run at different moments).
 * Bounded: SEEDS rounds of COMMANDS_PER_SEED commands; DIFF_SEEDS in the environment runs more
 * rounds (for local soak runs). The seed and the commands before a mismatch are in the failure.
 */
import assert from "node:assert/strict";
import { startRedis } from "../helpers/redis.ts";
import { type Reply, RespClient, startServer } from "../helpers/server.ts";
import { comparableReply, type Draw, randomDataCommand } from "../helpers/random_commands.ts";
import { keyEvents } from "../helpers/differential.ts";
import { rng } from "../helpers/rng.ts";

const SEEDS = Number(Deno.env.get("DIFF_SEEDS") ?? 4);
const COMMANDS_PER_SEED = 500;
/** Seed of the first round; DIFF_SEED in the environment explores others. */
const SEED_BASE = Number(Deno.env.get("DIFF_SEED") ?? 4242);
/** A file to append every command sent to (DIFF_LOG in the environment), for replaying a failure. */
const COMMAND_LOG = Deno.env.get("DIFF_LOG");

/**
 * Transactions woven into a random command stream: now and then a MULTI, a few commands
 * queued, then EXEC or DISCARD. EXEC's reply is compared command by command (each as
 * `comparableReply` would). No WATCH here: Redis 7.0's consumer-group commands (XREADGROUP,
 * XACK, XCLAIM, XGROUP ..., XSETID) change a stream without touching its watchers, which
 * damselfly does on purpose (a watcher of a stream sees its groups change), so a random WATCH
 * on a stream would differ by design; transactions_test.ts covers WATCH.
 */
class Transactions {
  private queued: (string | number)[][] | null = null;
  private left = 0;

  /** The next transaction command, or null for a data command. */
  next({ pick, num }: Draw): (string | number)[] | null {
    if (this.queued === null) {
      if (num(100) >= 3) return null;
      this.left = 1 + num(5);
      return ["MULTI"];
    }
    if (this.left-- > 0) return null;
    return [pick(["EXEC", "EXEC", "EXEC", "DISCARD"])];
  }

  /** Tracks the state after `cmd` got Redis's reply `reply`. */
  after(cmd: (string | number)[], reply: Reply): void {
    const name = String(cmd[0]).toUpperCase();
    if (name === "MULTI" && reply === "OK") this.queued = [];
    else if (name === "EXEC" || name === "DISCARD") this.queued = null;
    else if (this.queued !== null && reply === "QUEUED") this.queued.push(cmd);
  }

  /** A reply in a comparable form; EXEC's element by element. */
  comparable(cmd: (string | number)[], reply: Reply): string {
    if (String(cmd[0]).toUpperCase() === "EXEC" && Array.isArray(reply) && this.queued !== null) {
      const queued = this.queued;
      if (reply.length === queued.length) return `[${reply.map((x, i) => comparableReply(queued[i], x)).join(",")}]`;
    }
    return comparableReply(cmd, reply);
  }
}

Deno.test("random commands: damselfly replies exactly as redis-server", async () => {
  const damselfly = await startServer(["--num_shards=3"]);
  const redis = await startRedis();
  try {
    for (let round = 0; round < SEEDS; round++) {
      const seed = SEED_BASE + round;
      const rand = rng(seed);
      const draw: Draw = {
        pick: <T>(a: T[]): T => a[Math.floor(rand() * a.length)],
        num: (n: number) => Math.floor(rand() * n),
      };
      const proto = round % 2 === 0 ? 2 : 3;
      const d = await RespClient.connect(damselfly.port);
      const r = await RespClient.connect(redis.port);
      try {
        if (proto === 3) {
          await d.call("HELLO", "3");
          await r.call("HELLO", "3");
        }
        assert.equal(await d.call("FLUSHALL"), "OK");
        assert.equal(await r.call("FLUSHALL"), "OK");
        const history: string[] = [];
        const tx = new Transactions();
        for (let n = 0; n < COMMANDS_PER_SEED; n++) {
          const cmd = tx.next(draw) ?? randomDataCommand(draw);
          history.push(JSON.stringify(cmd));
          if (COMMAND_LOG !== undefined) {
            Deno.writeTextFileSync(COMMAND_LOG, `${seed} ${JSON.stringify(cmd)}\n`, { append: true });
          }
          const [dr, rr] = [await d.call(...cmd), await r.call(...cmd)];
          const got = tx.comparable(cmd, dr);
          const want = tx.comparable(cmd, rr);
          tx.after(cmd, rr);
          if (got !== want) {
            assert.fail(
              `seed ${seed} (RESP${proto}), command ${n}: ${
                JSON.stringify(cmd)
              }\n  damselfly: ${got}\n  redis:     ${want}\n` +
                `  the last commands before it:\n    ${history.slice(-15, -1).join("\n    ")}`,
            );
          }
        }
      } finally {
        d.close();
        r.close();
      }
    }
  } finally {
    await damselfly.stop();
    await redis.stop();
  }
});

/**
 * Keyevent notifications of a command list, with `expired` events taken out of the order and
 * compared as a sorted list: an expired key is reported once, but when depends on the moment
 * an active expiry cycle reaches it.
 */
async function eventsOf(
  port: number,
  commands: (string | number)[][],
): Promise<{ ordered: string[]; expired: string[] }> {
  await RespClient.connect(port).then(async (c) => {
    await c.call("FLUSHALL");
    c.close();
  });
  const events = await keyEvents(port, commands);
  return {
    ordered: events.filter((e) => !e.includes(":expired ")),
    expired: events.filter((e) => e.includes(":expired ")).sort(),
  };
}

Deno.test("random commands: damselfly publishes the same keyspace events as redis-server", async () => {
  const damselfly = await startServer(["--num_shards=3"]);
  const redis = await startRedis();
  try {
    for (let round = 0; round < Math.max(1, SEEDS / 2); round++) {
      const seed = SEED_BASE + 1_000_000 + round;
      const rand = rng(seed);
      const draw: Draw = {
        pick: <T>(a: T[]): T => a[Math.floor(rand() * a.length)],
        num: (n: number) => Math.floor(rand() * n),
      };
      const commands = Array.from({ length: COMMANDS_PER_SEED }, () => randomDataCommand(draw));
      const got = await eventsOf(damselfly.port, commands);
      const want = await eventsOf(redis.port, commands);
      assert.ok(want.ordered.length >= 10, `seed ${seed}: only ${want.ordered.length} events`);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        const at = got.ordered.findIndex((e, n) => e !== want.ordered[n]);
        assert.fail(
          `seed ${seed}: events differ from event ${at}\n  damselfly: ${got.ordered.slice(at, at + 8).join(", ")}\n` +
            `  redis:     ${
              want.ordered.slice(at, at + 8).join(", ")
            }\n  expired: ${got.expired.length} vs ${want.expired.length}`,
        );
      }
    }
  } finally {
    await damselfly.stop();
    await redis.stop();
  }
});
