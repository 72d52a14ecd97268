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
import { RespClient, startServer } from "../helpers/server.ts";
import { comparableReply, type Draw, randomDataCommand } from "../helpers/random_commands.ts";
import { rng } from "../helpers/rng.ts";

const SEEDS = Number(Deno.env.get("DIFF_SEEDS") ?? 4);
const COMMANDS_PER_SEED = 500;

Deno.test("random commands: damselfly replies exactly as redis-server", async () => {
  const damselfly = await startServer(["--num_shards=3"]);
  const redis = await startRedis();
  try {
    for (let round = 0; round < SEEDS; round++) {
      const seed = 4242 + round;
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
        for (let n = 0; n < COMMANDS_PER_SEED; n++) {
          const cmd = randomDataCommand(draw);
          history.push(JSON.stringify(cmd));
          const got = comparableReply(cmd, await d.call(...cmd));
          const want = comparableReply(cmd, await r.call(...cmd));
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
