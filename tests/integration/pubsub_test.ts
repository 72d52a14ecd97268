/**
 * Pub/Sub against a real damselfly process: a multi-client differential run against real
 * redis-server (SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and their unsubscribes, counts, RESP2
 * subscriber-mode rules, RESP3 pushes, PUBSUB introspection and every error reply), the
 * exact RESP2/RESP3 bytes of confirmations and messages, fan-out to several subscribers
 * with ioredis, node-redis and raw clients, and clean-up on disconnect and RESET.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { canonicalReply } from "../helpers/differential.ts";

type Who = "s1" | "s2" | "p" | "r3";

/**
 * One step: client `c` sends `cmd` (if any) and then reads `n` replies (default 1);
 * `sort` compares the replies (or the elements of a single array reply) as a set.
 */
interface PubSubStep {
  c: Who;
  cmd?: string[];
  n?: number;
  sort?: boolean;
  /** Compare only that a reply arrived (HELLO carries ids and versions). */
  replyOnly?: boolean;
  /**
   * Several unsubscribe confirmations in dict order: compare the set of names and the
   * sequence of counts.
   */
  unsubscribeAll?: boolean;
}

const s = (c: Who, ...cmd: string[]): PubSubStep => ({ c, cmd });
const multi = (c: Who, n: number, ...cmd: string[]): PubSubStep => ({ c, cmd, n });
const unsubscribeAll = (c: Who, n: number, ...cmd: string[]): PubSubStep => ({ c, cmd, n, unsubscribeAll: true });
const read = (c: Who, n = 1): PubSubStep => ({ c, n });

const BIN_CHANNEL = "c\x00\xff\r\n";
const BIN_MESSAGE = "m\r\n\x80\x00";

const STEPS: PubSubStep[] = [
  multi("s1", 3, "SUBSCRIBE", "c1", "c2", "c1"),
  s("s1", "PSUBSCRIBE", "c*"),
  s("s1", "GET", "x"),
  s("s1", "PING"),
  s("s1", "PING", "m"),
  s("s1", "MULTI"),
  s("s1", "PUBLISH", "c1", "x"),
  s("s1", "CONFIG", "GET", "x"),
  multi("s2", 2, "PSUBSCRIBE", "c?", "news.[ab]*"),
  s("p", "PUBSUB", "NUMPAT"),
  s("p", "PUBSUB", "NUMSUB", "c1", "c2", "zz"),
  s("p", "PUBSUB", "NUMSUB"),
  { c: "p", cmd: ["PUBSUB", "CHANNELS"], sort: true },
  s("p", "PUBSUB", "CHANNELS", "*1"),
  { c: "p", cmd: ["PUBSUB", "channels", "c[12]"], sort: true },
  s("p", "PUBLISH", "c1", "hello"),
  read("s1", 2),
  read("s2"),
  s("p", "PUBLISH", "news.alpha", "x"),
  read("s2"),
  s("p", "PUBLISH", "news.c", "x"),
  s("p", "PUBLISH", "nobody", "x"),
  s("p", "PUBLISH", BIN_CHANNEL, BIN_MESSAGE),
  read("s1"),
  s("p", "PUBLISH", "c2", ""),
  read("s1", 2),
  read("s2"),
  s("s1", "UNSUBSCRIBE", "c1"),
  s("s1", "UNSUBSCRIBE"),
  s("s1", "UNSUBSCRIBE"),
  s("s1", "PUNSUBSCRIBE", "nope"),
  s("s1", "PUNSUBSCRIBE"),
  s("s1", "PUNSUBSCRIBE"),
  s("s1", "GET", "x"),
  s("s1", "UNSUBSCRIBE", "ghost"),
  s("s1", "PUNSUBSCRIBE", "ghost*"),
  // Shard channels count separately and also put a RESP2 client in subscriber mode.
  multi("s1", 2, "SSUBSCRIBE", "sh1", "sh2"),
  s("s1", "GET", "x"),
  s("s1", "SUBSCRIBE", "q"),
  s("s1", "SUNSUBSCRIBE", "zz"),
  { c: "p", cmd: ["PUBSUB", "SHARDCHANNELS"], sort: true },
  s("p", "PUBSUB", "SHARDCHANNELS", "*1"),
  s("p", "PUBSUB", "SHARDNUMSUB", "sh1", "zz"),
  s("p", "SPUBLISH", "sh1", "shard-message"),
  read("s1"),
  s("p", "SPUBLISH", "q", "not-a-shard-channel"),
  s("p", "PUBLISH", "sh1", "not-a-channel"),
  s("p", "PUBLISH", "q", "to-q"),
  read("s1"),
  unsubscribeAll("s1", 2, "SUNSUBSCRIBE"),
  s("s1", "GET", "x"),
  s("s1", "UNSUBSCRIBE"),
  s("s1", "SUNSUBSCRIBE"),
  s("s1", "GET", "x"),
  // Errors.
  s("p", "PUBLISH", "x"),
  s("p", "SPUBLISH", "x"),
  s("p", "PUBSUB"),
  s("p", "PUBSUB", "NUMPAT", "x"),
  s("p", "PUBSUB", "CHANNELS", "a", "b"),
  s("p", "PUBSUB", "SHARDCHANNELS", "a", "b"),
  s("p", "PUBSUB", "FOO"),
  s("p", "PUBSUB", "HELP"),
  s("p", "PUBSUB", "HELP", "x"),
  s("p", "SUBSCRIBE"),
  s("p", "PSUBSCRIBE"),
  s("p", "SSUBSCRIBE"),
  // RESP3: pushes, and every command works while subscribed.
  { c: "r3", cmd: ["HELLO", "3"], replyOnly: true },
  s("r3", "SUBSCRIBE", "c1"),
  s("r3", "GET", "x"),
  s("r3", "PING"),
  s("r3", "PUBSUB", "NUMSUB", "c1"),
  s("p", "PUBLISH", "c1", "v"),
  read("r3"),
  read("s2"),
  s("r3", "UNSUBSCRIBE"),
  s("r3", "UNSUBSCRIBE"),
  s("r3", "PSUBSCRIBE", "c*"),
  s("p", "PUBLISH", "c9", "z"),
  read("r3"),
  read("s2"),
  s("r3", "MULTI"),
  s("r3", "PUBLISH", "c9", "self"),
  s("r3", "EXEC"),
  read("s2"),
  s("r3", "PUNSUBSCRIBE"),
];

/** Runs the steps on one server; returns the canonical replies. */
async function runPubSub(port: number): Promise<unknown[]> {
  const clients: Record<Who, RespClient> = {
    s1: await RespClient.connect(port),
    s2: await RespClient.connect(port),
    p: await RespClient.connect(port),
    r3: await RespClient.connect(port),
  };
  const out: unknown[] = [];
  try {
    for (const step of STEPS) {
      const c = clients[step.c];
      if (step.cmd) await c.sendCommand(...step.cmd);
      const replies: Reply[] = [];
      for (let i = 0; i < (step.n ?? 1); i++) replies.push(await c.read(5000));
      if (step.replyOnly) {
        out.push("reply arrived");
        continue;
      }
      let shown: unknown = replies.map(canonicalReply);
      if (step.unsubscribeAll) {
        const confirmations = replies as Reply[][];
        shown = [confirmations.map((r) => r[1]).sort(), confirmations.map((r) => [r[0], r[2]])];
      } else if (step.sort) {
        const items = replies.length === 1 && Array.isArray(replies[0]) ? replies[0] : replies;
        shown = items.map((r) => JSON.stringify(canonicalReply(r))).sort();
      }
      out.push(shown);
    }
  } finally {
    for (const c of Object.values(clients)) c.close();
  }
  return out;
}

Deno.test("pub/sub: multi-client differential against redis-server", async () => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    const got = await runPubSub(srv.port);
    const want = await runPubSub(redis.port);
    const mismatches: string[] = [];
    for (let i = 0; i < STEPS.length; i++) {
      if (JSON.stringify(got[i]) !== JSON.stringify(want[i])) {
        mismatches.push(
          `#${i} ${JSON.stringify(STEPS[i])}\n    damselfly: ${JSON.stringify(got[i])}\n    redis:     ${
            JSON.stringify(want[i])
          }`,
        );
      }
    }
    assert.deepEqual(mismatches, []);
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

/** Reads exactly `want.length` raw bytes and compares them. */
async function expectRaw(c: RespClient, want: string): Promise<void> {
  assert.equal(await c.readRaw(want.length, 5000), want);
}

Deno.test("pub/sub: exact RESP2 and RESP3 bytes", async () => {
  const srv = await startServer();
  try {
    const r2 = await RespClient.connect(srv.port);
    const r3 = await RespClient.connect(srv.port);
    const p = await RespClient.connect(srv.port);
    await r3.call("HELLO", "3");
    await r2.sendCommand("SUBSCRIBE", "ch");
    await expectRaw(r2, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    await r2.sendCommand("PSUBSCRIBE", "c*");
    await expectRaw(r2, "*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n");
    await r3.sendCommand("SUBSCRIBE", "ch");
    await expectRaw(r3, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    await r3.sendCommand("PSUBSCRIBE", "c*");
    await expectRaw(r3, ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n");
    assert.equal(await p.call("PUBLISH", "ch", "hi"), 4);
    await expectRaw(
      r2,
      "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    );
    await expectRaw(
      r3,
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n>4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    );
    await r2.sendCommand("PING");
    await expectRaw(r2, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    await r3.sendCommand("PING");
    await expectRaw(r3, "+PONG\r\n");
    await r2.sendCommand("UNSUBSCRIBE");
    await expectRaw(r2, "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n");
    await r2.sendCommand("UNSUBSCRIBE");
    await expectRaw(r2, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n");
    await r3.sendCommand("UNSUBSCRIBE", "ch");
    await expectRaw(r3, ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n");
    await r3.sendCommand("UNSUBSCRIBE");
    await expectRaw(r3, ">3\r\n$11\r\nunsubscribe\r\n_\r\n:1\r\n");
    // A RESP3 client publishing to itself inside EXEC: the push precedes the integer.
    await r3.send("MULTI\r\nPUBLISH cx self\r\nEXEC\r\n");
    await expectRaw(r3, "+OK\r\n+QUEUED\r\n*1\r\n>4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncx\r\n$4\r\nself\r\n:2\r\n");
    await expectRaw(r2, "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncx\r\n$4\r\nself\r\n");
    for (const c of [r2, r3, p]) c.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("pub/sub: fan-out to ioredis, node-redis and raw subscribers; clean-up", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const opts = { port: srv.port, host: "127.0.0.1", lazyConnect: true };
  const io = new Redis(opts);
  const pub = new Redis(opts);
  const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
  const raw: RespClient[] = [];
  try {
    await io.connect();
    await pub.connect();
    await nr.connect();
    const nrSub = nr.duplicate();
    await nrSub.connect();

    await t.step("every subscriber gets every message, in order", async () => {
      const ioMessages: string[] = [];
      const ioPatterns: string[] = [];
      io.on("message", (channel: string, message: string) => ioMessages.push(`${channel}:${message}`));
      io.on(
        "pmessage",
        (pattern: string, channel: string, message: string) => ioPatterns.push(`${pattern}|${channel}:${message}`),
      );
      assert.equal(await io.subscribe("news"), 1);
      assert.equal(await io.psubscribe("ne*"), 2);
      const nrMessages: string[] = [];
      const nrPatterns: string[] = [];
      await nrSub.subscribe("news", (message, channel) => nrMessages.push(`${channel}:${message}`));
      await nrSub.pSubscribe("n?ws", (message, channel) => nrPatterns.push(`${channel}:${message}`));
      for (let i = 0; i < 5; i++) {
        const c = await RespClient.connect(srv.port);
        await c.call("SUBSCRIBE", "news");
        raw.push(c);
      }
      assert.deepEqual(await pub.pubsub("NUMSUB", "news"), ["news", 7]);
      assert.equal(await pub.pubsub("NUMPAT"), 2);
      const sent: string[] = [];
      for (let i = 0; i < 50; i++) {
        const m = `m${i}`;
        sent.push(`news:${m}`);
        // 5 raw + ioredis + node-redis on the channel, ioredis and node-redis on patterns.
        assert.equal(await pub.publish("news", m), 9);
      }
      await waitFor(
        () =>
          ioMessages.length === 50 && ioPatterns.length === 50 && nrMessages.length === 50 && nrPatterns.length === 50,
        "client libraries to receive 50 messages each",
      );
      assert.deepEqual(ioMessages, sent);
      assert.deepEqual(ioPatterns, sent.map((m) => `ne*|${m}`));
      assert.deepEqual(nrMessages, sent);
      assert.deepEqual(nrPatterns, sent);
      for (const c of raw) {
        for (let i = 0; i < 50; i++) assert.deepEqual(await c.read(5000), ["message", "news", `m${i}`]);
      }
    });

    await t.step("disconnect, UNSUBSCRIBE and RESET drop subscriptions", async () => {
      raw.pop()!.close();
      raw.pop()!.close();
      await waitFor(
        async () => JSON.stringify(await pub.pubsub("NUMSUB", "news")) === '["news",5]',
        "NUMSUB after disconnects",
      );
      await nrSub.unsubscribe("news");
      await nrSub.pUnsubscribe("n?ws");
      assert.deepEqual(await pub.pubsub("NUMSUB", "news"), ["news", 4]);
      assert.equal(await pub.pubsub("NUMPAT"), 1);
      const c = raw[0];
      assert.deepEqual(await c.call("PSUBSCRIBE", "x*"), ["psubscribe", "x*", 2]);
      assert.equal(await c.call("RESET"), "RESET");
      assert.equal(await c.call("GET", "nokey"), null);
      assert.deepEqual(await pub.pubsub("NUMSUB", "news"), ["news", 3]);
      assert.equal(await pub.pubsub("NUMPAT"), 1);
      assert.equal(await pub.publish("news", "after"), 3 + 1);
    });
    await nrSub.quit();
  } finally {
    for (const c of raw) c.close();
    io.disconnect();
    pub.disconnect();
    await nr.quit();
    await srv.stop();
  }
});
