/**
 * RDB round trips with Debian's real redis-server 7.0: data of every type SAVEd by damselfly
 * (RDB 10 by a running process; RDB 9 and 11 written from an in-process server that loaded it)
 * loads into redis-server (or back into damselfly for 11, which Redis 7.0 cannot read), and a
 * real Redis SAVE loads into damselfly. Datasets are compared with a full logical dump through
 * ioredis; redis-check-rdb must accept every file we write.
 */
import assert from "node:assert/strict";
import { RespClient, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { dumpDataset, everyTypeCommands, runPipelined } from "../helpers/dataset_dump.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { loadRdbFileSync } from "../../src/rdb/loader.ts";
import { saveFileSync } from "../../src/rdb/snapshot.ts";

async function redisCheckRdb(path: string): Promise<string> {
  const out = await new Deno.Command("redis-check-rdb", { args: [path], stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success && text.includes("RDB looks OK"), `redis-check-rdb rejected ${path}:\n${text}`);
  return text;
}

Deno.test("damselfly SAVE → redis-server 7.0 load: same dataset (RDB 10, and 9 / 11 from the same data)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-rt-" });
  const srv = await startServer(["--dir", dir, "--dbfilename", "dump.rdb", "--num_shards", "3"]);
  try {
    const c = await RespClient.connect(srv.port);
    await runPipelined(c, everyTypeCommands());
    assert.equal(await c.call("SAVE"), "OK");
    c.close();
    const ours = await dumpDataset(srv.port);
    assert.ok(ours.length > 30, `dataset has ${ours.length} keys`);
    await redisCheckRdb(`${dir}/dump.rdb`);

    const redis = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
    try {
      assert.deepStrictEqual(await dumpDataset(redis.port), ours);
    } finally {
      await redis.stop();
    }

    // The same data written as RDB 9 (Redis 6.2+) and RDB 11 (7.2+) by an in-process server.
    const inproc = new InProcessServer();
    loadRdbFileSync(inproc.server, `${dir}/dump.rdb`);
    saveFileSync(inproc.server, `${dir}/v9.rdb`, 9);
    saveFileSync(inproc.server, `${dir}/v11.rdb`, 11);
    await redisCheckRdb(`${dir}/v9.rdb`);
    const redis9 = await startRedis(["--dir", dir, "--dbfilename", "v9.rdb"]);
    const ours9 = await startServer(["--dir", dir, "--dbfilename", "v9.rdb"]);
    try {
      const theirs = await dumpDataset(redis9.port);
      // RDB 9 has no 7.x stream counters: Redis derives them (entries_added = length, no
      // max-deleted ID, estimated group read counters), so compare the rest of the streams...
      assert.deepStrictEqual(withoutStreamCounters(theirs), withoutStreamCounters(ours));
      // ...and damselfly derives them exactly as Redis does when it loads the same file.
      assert.deepStrictEqual(await dumpDataset(ours9.port), theirs);
    } finally {
      await redis9.stop();
      await ours9.stop();
    }
    const back = await startServer(["--dir", dir, "--dbfilename", "v11.rdb"]);
    try {
      assert.deepStrictEqual(await dumpDataset(back.port), ours);
    } finally {
      await back.stop();
    }
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Drops the stream counters RDB 9 cannot carry. */
function withoutStreamCounters(keys: Awaited<ReturnType<typeof dumpDataset>>): unknown {
  return keys.map((k) => {
    if (k.type !== "stream") return k;
    const { maxDeletedEntryId: _m, entriesAdded: _e, recordedFirstEntryId: _r, ...rest } = k.value as Record<
      string,
      unknown
    >;
    const groups = (rest.groups as Record<string, unknown>[]).map(({ entriesRead: _er, lag: _l, ...g }) => g);
    return { ...k, value: { ...rest, groups } };
  });
}

Deno.test("redis-server 7.0 SAVE → damselfly load: same dataset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-rt-" });
  const redis = await startRedis(["--dir", dir, "--dbfilename", "redis.rdb"]);
  try {
    const c = await RespClient.connect(redis.port);
    await runPipelined(c, everyTypeCommands());
    assert.equal(await c.call("SAVE"), "OK");
    c.close();
    const theirs = await dumpDataset(redis.port);
    const srv = await startServer(["--dir", dir, "--dbfilename", "redis.rdb"]);
    try {
      assert.deepStrictEqual(await dumpDataset(srv.port), theirs);
      // And back: damselfly saves what it loaded; Redis reads it to the same dataset.
      const c2 = await RespClient.connect(srv.port);
      assert.equal(await c2.call("CONFIG", "SET", "dbfilename", "again.rdb"), "OK");
      assert.equal(await c2.call("SAVE"), "OK");
      c2.close();
    } finally {
      await srv.stop();
    }
    await redisCheckRdb(`${dir}/again.rdb`);
    const redis2 = await startRedis(["--dir", dir, "--dbfilename", "again.rdb"]);
    try {
      assert.deepStrictEqual(await dumpDataset(redis2.port), theirs);
    } finally {
      await redis2.stop();
    }
  } finally {
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
