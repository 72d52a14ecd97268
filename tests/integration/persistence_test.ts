/**
 * Snapshots against real damselfly processes: every loadable fixture of tests/fixtures/rdb loads
 * at start-up and equals its JSON (and what redis-server 7.0 loads from the same file); bad files
 * stop the server with the key and offset named and stay untouched; SAVE, BGSAVE [SCHEDULE],
 * LASTSAVE, INFO persistence, SHUTDOWN's save, DEBUG RELOAD (digest unchanged), --snapshot_cron;
 * and BGSAVE under a concurrent write load writes exactly the dataset of the moment it started.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import {
  dumpDataset,
  type DumpedKey,
  everyTypeCommands,
  FAR_EXPIRY,
  fixtureKey,
  likeFixture,
  pseudoRandomBytes,
  runPipelined,
} from "../helpers/dataset_dump.ts";
import { entryOf, parseCron, ShardSnapshot, snapshotOptions } from "../../src/rdb/snapshot.ts";
import { type RdbWritableEntry, RdbWriter } from "../../src/rdb/writer.ts";
import { InProcessServer } from "../helpers/in_process.ts";
import { rng as prng } from "../helpers/rng.ts";

const FIXTURES = new URL("../fixtures/rdb/", import.meta.url).pathname;

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "damselfly-persist-" });
}

/** Copies a fixture into `dir` (writable copy); returns its file name there. */
async function copyFixture(name: string, dir: string): Promise<string> {
  const base = name.split("/").pop()!;
  await Deno.writeFile(`${dir}/${base}`, await Deno.readFile(`${FIXTURES}${name}`));
  return base;
}

async function info(port: number, field: string): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    const text = String(await c.call("INFO", "persistence"));
    const m = new RegExp(`^${field}:(.*)$`, "m").exec(text);
    if (!m) throw new Error(`no ${field} in INFO persistence`);
    return m[1].trim();
  } finally {
    c.close();
  }
}

async function call(port: number, ...args: string[]): Promise<unknown> {
  const c = await RespClient.connect(port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

/** Waits for the process to exit; returns its status. */
async function exited(p: ServerProcess, timeoutMs = 20_000): Promise<Deno.CommandStatus> {
  const status = p.child.status;
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
    status.finally(() => clearTimeout(t));
  });
  await Promise.race([status, timer]);
  return await p.stop();
}

function byKey(keys: DumpedKey[]): Map<string, DumpedKey> {
  return new Map(keys.map((k) => [`${k.db}/${k.key}`, k]));
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Loadable fixtures: file, JSON (or null: no keys), RDB version, Redis 7.0 can load it. */
const LOADABLE: { file: string; json: string | null; redis70: boolean; logs?: RegExp[] }[] = [
  { file: "redis-6.2-alltypes.rdb", json: "redis-6.2-alltypes.json", redis70: true },
  {
    file: "redis-7.0-alltypes.rdb",
    json: "redis-7.0-alltypes.json",
    redis70: true,
    logs: [/function library fixturelib/],
  },
  { file: "redis-7.2-alltypes.rdb", json: "redis-7.2-alltypes.json", redis70: false },
  { file: "upstream/encodings.rdb", json: "upstream/encodings.json", redis70: true },
  { file: "upstream/hash-zipmap.rdb", json: "upstream/hash-zipmap.json", redis70: true },
  { file: "upstream/hash-ziplist.rdb", json: "upstream/hash-ziplist.json", redis70: true },
  { file: "upstream/zset-ziplist.rdb", json: "upstream/zset-ziplist.json", redis70: true },
  { file: "upstream/list-quicklist.rdb", json: "upstream/list-quicklist.json", redis70: true },
  { file: "upstream/scriptbackup.rdb", json: "upstream/scriptbackup.json", redis70: true, logs: [/lua/] },
  {
    file: "upstream/corrupt_empty_keys.rdb",
    json: "upstream/corrupt_empty_keys.json",
    redis70: true,
    logs: [/skipping empty key: list_quicklist_empty_ziplist/, /empty keys skipped: 9\./],
  },
  {
    file: "upstream/corrupt_empty_keys-6.2.rdb",
    json: null,
    redis70: true,
    logs: [/skipping empty key: zset_ziplist/, /empty keys skipped: 8\./],
  },
];

Deno.test("every loadable fixture loads at start-up and equals its JSON and redis-server's load", async (t) => {
  for (const fx of LOADABLE) {
    await t.step(fx.file, async () => {
      const dir = await tempDir();
      try {
        const name = await copyFixture(fx.file, dir);
        const before = await Deno.readFile(`${dir}/${name}`);
        const srv = await startServer(["--dir", dir, "--dbfilename", name]);
        let ours: DumpedKey[];
        try {
          ours = await dumpDataset(srv.port);
          for (const re of fx.logs ?? []) assert.match(srv.logs(), re);
          assert.equal(await info(srv.port, "rdb_last_load_keys_loaded"), String(ours.length));
          assert.equal(await info(srv.port, "rdb_changes_since_last_save"), "0");
        } finally {
          await srv.stop();
        }
        assert.deepStrictEqual(await Deno.readFile(`${dir}/${name}`), before, "the loaded file must not change");
        if (fx.json === null) {
          assert.equal(ours.length, 0);
        } else {
          const json = JSON.parse(await Deno.readTextFile(`${FIXTURES}${fx.json}`));
          const want = (json.keys as unknown[]).map(fixtureKey);
          assert.equal(ours.length, want.length, "key count");
          const got = byKey(ours);
          for (const w of want) {
            const g = got.get(`${w.db}/${w.key}`);
            assert.ok(g, `missing key ${JSON.stringify(w.key)} in db ${w.db}`);
            assert.deepStrictEqual(likeFixture(g, w), w, `key ${JSON.stringify(w.key)} in db ${w.db}`);
          }
        }
        if (fx.redis70) {
          // Everything the JSON cannot show (derived stream counters, lag) must match Redis too.
          const redis = await startRedis(["--dir", dir, "--dbfilename", name]);
          try {
            assert.deepStrictEqual(ours, await dumpDataset(redis.port));
          } finally {
            await redis.stop();
          }
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("keys already expired at load time are skipped (counted in INFO), like redis-server", async () => {
  const dir = await tempDir();
  try {
    const chunks: Uint8Array[] = [];
    const w = new RdbWriter((c) => chunks.push(c), { version: 10 });
    w.writeHeader({ redisVer: "7.0.15" });
    w.selectDb(0, 3, 2);
    w.writeEntry({ key: "live", value: { type: "string", value: "v" } });
    w.writeEntry({ key: "gone", value: { type: "list", items: ["a"] }, expireAtMs: 1000 });
    w.writeEntry({ key: "future", value: { type: "string", value: "f" }, expireAtMs: FAR_EXPIRY });
    w.end();
    await Deno.writeFile(`${dir}/exp.rdb`, new Uint8Array(chunks.flatMap((c) => [...c])));
    const srv = await startServer(["--dir", dir, "--dbfilename", "exp.rdb"]);
    const redis = await startRedis(["--dir", dir, "--dbfilename", "exp.rdb"]);
    try {
      assert.equal(await info(srv.port, "rdb_last_load_keys_loaded"), "2");
      assert.equal(await info(srv.port, "rdb_last_load_keys_expired"), "1");
      assert.match(srv.logs(), /keys loaded: 2, keys expired: 1, empty keys skipped: 0\./);
      assert.deepStrictEqual(await dumpDataset(srv.port), await dumpDataset(redis.port));
      assert.equal(await call(srv.port, "EXISTS", "gone"), 0);
    } finally {
      await redis.stop();
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fixture values through redis-cli and node-redis", async () => {
  const dir = await tempDir();
  const name = await copyFixture("redis-7.0-alltypes.rdb", dir);
  const srv = await startServer(["--dir", dir, "--dbfilename", name]);
  const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
  try {
    assert.equal(await redisCli(srv.port, ["get", "s:short"]), '"hello world"');
    assert.equal(await redisCli(srv.port, ["-n", "1", "get", "s:short"]), '"db1 has its own s:short"');
    assert.equal(await redisCli(srv.port, ["pexpiretime", "e:str"]), "(integer) 4102444800123");
    assert.equal(await redisCli(srv.port, ["object", "encoding", "h:small"]), '"listpack"');
    assert.equal(await redisCli(srv.port, ["object", "encoding", "set:intset"]), '"intset"');
    await nr.connect();
    assert.equal(await nr.hLen("h:large"), 1000);
    assert.equal(await nr.lLen("l:large"), 2050);
    assert.equal(await nr.xLen("st:events"), 249);
    const groups = await nr.xInfoGroups("st:events");
    assert.deepStrictEqual(groups.map((g) => [g.name, g.pending]), [["g1", 6], ["g2", 0]]);
  } finally {
    await nr.quit().catch(() => {});
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Bad files

Deno.test("bad snapshot files stop start-up (exit 1) naming key and offset; the file stays untouched", async (t) => {
  const alltypes = await Deno.readFile(`${FIXTURES}redis-7.0-alltypes.rdb`);
  const badCrc = alltypes.slice();
  badCrc[badCrc.length - 1] ^= 0xff;
  const cases: { name: string; bytes: Uint8Array; flags?: string[]; expect: RegExp[] }[] = [
    {
      name: "corrupt_ziplist.rdb",
      bytes: await Deno.readFile(`${FIXTURES}upstream/corrupt_ziplist.rdb`),
      expect: [/offset \d+/, /key "key:000000000091"/, /ziplist/i],
    },
    {
      name: "truncated.rdb",
      bytes: alltypes.subarray(0, 30_000),
      expect: [/offset \d+/, /key "[^"]+"/, /truncated/],
    },
    { name: "badcrc.rdb", bytes: badCrc, expect: [/offset \d+/, /checksum|CRC/i] },
    {
      name: "dbnum.rdb",
      bytes: alltypes,
      flags: ["--dbnum", "4"],
      expect: [/offset \d+/, /SELECTDB 15 is out of range/],
    },
    { name: "garbage.rdb", bytes: new TextEncoder().encode("not an rdb file at all"), expect: [/offset 0/] },
  ];
  for (const cs of cases) {
    await t.step(cs.name, async () => {
      const dir = await tempDir();
      try {
        const path = `${dir}/${cs.name}`;
        await Deno.writeFile(path, cs.bytes);
        const statBefore = await Deno.stat(path);
        const srv = await startServer(["--dir", dir, "--dbfilename", cs.name, ...(cs.flags ?? [])], {
          waitReady: false,
        });
        const status = await exited(srv);
        assert.equal(status.code, 1, srv.logs());
        const errLine = srv.logs().split("\n").find((l) => l.includes("failed loading snapshot")) ?? "";
        for (const re of cs.expect) assert.match(errLine, re, srv.logs());
        assert.deepStrictEqual(await Deno.readFile(path), cs.bytes);
        assert.equal((await Deno.stat(path)).mtime?.getTime(), statBefore.mtime?.getTime());
        const names = [];
        for await (const e of Deno.readDir(dir)) names.push(e.name);
        assert.deepStrictEqual(names, [cs.name], "no other file appears");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
  await t.step("invalid --snapshot_cron", async () => {
    const srv = await startServer(["--snapshot_cron", "61 * * * *"], { waitReady: false });
    const status = await exited(srv);
    assert.equal(status.code, 1);
    assert.match(srv.logs(), /invalid snapshot_cron "61 \* \* \* \*": minute value 61 out of range 0-59/);
  });
});

Deno.test("snapshot_cron: 5-field expressions and their next times", () => {
  const at = (s: string) => new Date(s);
  const next = (expr: string, from: string) => {
    const d = parseCron(expr).next(at(from));
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  };
  assert.equal(next("* * * * *", "2030-01-01T10:00:30"), "2030-01-01 10:01");
  assert.equal(next("*/15 * * * *", "2030-01-01T10:01:00"), "2030-01-01 10:15");
  assert.equal(next("0 */6 * * *", "2030-01-01T10:01:00"), "2030-01-01 12:00");
  assert.equal(next("30 2 * * *", "2030-01-01T10:00:00"), "2030-01-02 02:30");
  assert.equal(next("0 0 1 * *", "2030-01-15T00:00:00"), "2030-02-01 00:00");
  assert.equal(next("0 0 * * sun", "2030-01-01T00:00:00"), "2030-01-06 00:00"); // 2030-01-01 is a Tuesday
  assert.equal(next("0 0 * * 7", "2030-01-01T00:00:00"), "2030-01-06 00:00");
  assert.equal(next("0 12 1-7 * mon", "2030-01-01T13:00:00"), "2030-01-02 12:00"); // dom OR dow
  assert.equal(next("5,10 8-9 * jan-feb *", "2030-01-31T09:10:00"), "2030-02-01 08:05");
  assert.equal(next("0 0 29 2 *", "2030-01-01T00:00:00"), "2032-02-29 00:00");
  for (const bad of ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *", "a * * * *"]) {
    assert.throws(() => parseCron(bad), /./, bad);
  }
  assert.throws(() => parseCron("0 0 31 2 *").next(new Date()), /never matches/);
});

Deno.test("--snapshot_cron runs a background save at the scheduled minute", async () => {
  const dir = await tempDir();
  // Every minute: the first save comes within 60 s; the test waits for it (bounded).
  const srv = await startServer(["--dir", dir, "--dbfilename", "cron.rdb", "--snapshot_cron", "* * * * *"]);
  try {
    assert.match(srv.logs(), /snapshot schedule: \* \* \* \* \*/);
    await call(srv.port, "SET", "k", "v");
    await waitFor(
      async () => {
        try {
          return (await Deno.stat(`${dir}/cron.rdb`)).isFile;
        } catch {
          return false;
        }
      },
      "the cron save",
      65_000,
      200,
    );
    await waitFor(async () => (await info(srv.port, "rdb_bgsave_in_progress")) === "0", "save end");
    assert.equal(await info(srv.port, "rdb_last_bgsave_status"), "ok");
    assert.equal(await info(srv.port, "rdb_saves"), "1");
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// SAVE, BGSAVE, LASTSAVE, INFO, SHUTDOWN

Deno.test("SAVE, BGSAVE [SCHEDULE], LASTSAVE and INFO persistence", async (t) => {
  const dir = await tempDir();
  const srv = await startServer(["--dir", dir, "--dbfilename", "dump.rdb", "--num_shards", "4"]);
  const c = await RespClient.connect(srv.port);
  try {
    await t.step("errors and replies", async () => {
      assert.deepStrictEqual(await c.call("BGSAVE", "x"), new Error("ERR syntax error"));
      assert.deepStrictEqual(await c.call("BGSAVE", "SCHEDULE", "x"), new Error("ERR syntax error"));
      assert.deepStrictEqual(
        await c.call("SAVE", "x"),
        new Error("ERR wrong number of arguments for 'save' command"),
      );
      assert.equal(await c.call("MULTI"), "OK");
      assert.deepStrictEqual(
        await c.call("SAVE"),
        new Error("ERR Command not allowed inside a transaction"),
      );
      assert.equal(await c.call("DISCARD"), "OK");
    });
    await t.step("SAVE writes the file, updates LASTSAVE and resets the change counter", async () => {
      await runPipelined(c, everyTypeCommands());
      assert.notEqual(await info(srv.port, "rdb_changes_since_last_save"), "0");
      const saves = Number(await info(srv.port, "rdb_saves"));
      assert.equal(await c.call("SAVE"), "OK");
      assert.equal(await info(srv.port, "rdb_changes_since_last_save"), "0");
      assert.equal(await info(srv.port, "rdb_saves"), String(saves + 1));
      const lastsave = await c.call("LASTSAVE");
      assert.equal(lastsave, Number(await info(srv.port, "rdb_last_save_time")));
      assert.ok(Math.abs((lastsave as number) - Date.now() / 1000) < 5);
      assert.ok((await Deno.stat(`${dir}/dump.rdb`)).size > 10_000);
      await c.call("SET", "after", "save");
      assert.equal(await info(srv.port, "rdb_changes_since_last_save"), "1");
    });
    await t.step("BGSAVE: started, in progress, refused while running, ok afterwards", async () => {
      // Enough keys that the walk spans many event-loop turns.
      const cmds: string[][] = [];
      for (let i = 0; i < 200; i++) {
        const args = ["MSET"];
        for (let j = 0; j < 500; j++) args.push(`bulk:${i}:${j}`, pseudoRandomBytes(64, i * 500 + j + 1));
        cmds.push(args);
      }
      await runPipelined(c, cmds, 20);
      await c.sendCommand("BGSAVE");
      await c.sendCommand("BGSAVE");
      await c.sendCommand("BGSAVE", "SCHEDULE");
      await c.sendCommand("INFO", "persistence");
      assert.equal(await c.read(), "Background saving started");
      assert.deepStrictEqual(await c.read(), new Error("ERR Background save already in progress"));
      assert.deepStrictEqual(await c.read(), new Error("ERR Background save already in progress"));
      const during = String(await c.read());
      assert.match(during, /rdb_bgsave_in_progress:1/);
      assert.match(during, /current_save_keys_total:100\d\d/);
      assert.match(during, /rdb_current_bgsave_time_sec:0/);
      await waitFor(async () => (await info(srv.port, "rdb_bgsave_in_progress")) === "0", "BGSAVE to finish", 60_000);
      assert.equal(await info(srv.port, "rdb_last_bgsave_status"), "ok");
      assert.notEqual(await info(srv.port, "rdb_last_bgsave_time_sec"), "-1");
      assert.equal(await info(srv.port, "rdb_changes_since_last_save"), "0");
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      assert.deepStrictEqual(names, ["dump.rdb"], "the temp file was renamed");
    });
    await t.step("BGSAVE inside MULTI is scheduled and runs after EXEC", async () => {
      await Deno.remove(`${dir}/dump.rdb`);
      assert.equal(await c.call("MULTI"), "OK");
      assert.equal(await c.call("BGSAVE"), "QUEUED");
      assert.deepStrictEqual(await c.call("EXEC"), ["Background saving scheduled"]);
      await waitFor(
        async () => {
          try {
            return (await Deno.stat(`${dir}/dump.rdb`)).isFile &&
              (await info(srv.port, "rdb_bgsave_in_progress")) === "0";
          } catch {
            return false;
          }
        },
        "the scheduled BGSAVE",
        60_000,
      );
      assert.equal(await c.call("BGSAVE", "SCHEDULE"), "Background saving started");
      await waitFor(async () => (await info(srv.port, "rdb_bgsave_in_progress")) === "0", "BGSAVE SCHEDULE");
    });
    await t.step("a save that cannot write its file fails visibly", async () => {
      assert.equal(await c.call("CONFIG", "SET", "dir", `${dir}/missing/sub`), "OK");
      assert.deepStrictEqual(await c.call("SAVE"), new Error("ERR"));
      assert.equal(await c.call("BGSAVE"), "Background saving started");
      assert.equal(await info(srv.port, "rdb_last_bgsave_status"), "err");
      assert.match(srv.logs(), /background saving to .*missing\/sub\/dump\.rdb failed/);
      assert.equal(await c.call("CONFIG", "SET", "dir", dir), "OK");
      assert.equal(await c.call("BGSAVE"), "Background saving started");
      await waitFor(async () => (await info(srv.port, "rdb_bgsave_in_progress")) === "0", "BGSAVE");
      assert.equal(await info(srv.port, "rdb_last_bgsave_status"), "ok");
    });
    await t.step("no dbfilename: nothing to save to", async () => {
      assert.equal(await c.call("CONFIG", "SET", "dbfilename", ""), "OK");
      const err = /^ERR no snapshot file configured/;
      assert.match(((await c.call("SAVE")) as Error).message, err);
      assert.match(((await c.call("BGSAVE")) as Error).message, err);
    });
  } finally {
    c.close();
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SHUTDOWN saves when a dbfilename is set (not with NOSAVE) and the next start loads it", async () => {
  const dir = await tempDir();
  try {
    let srv = await startServer(["--dir", dir, "--dbfilename", "dump.rdb"]);
    const c = await RespClient.connect(srv.port);
    await runPipelined(c, everyTypeCommands());
    const want = await dumpDataset(srv.port);
    await c.sendCommand("SHUTDOWN");
    await c.waitClosed(10_000);
    c.close();
    assert.equal((await exited(srv)).code, 0);
    srv = await startServer(["--dir", dir, "--dbfilename", "dump.rdb"]);
    try {
      assert.deepStrictEqual(await dumpDataset(srv.port), want);
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
      io.on("error", () => {});
      await io.connect();
      await io.set("new", "key");
      await io.call("SHUTDOWN", "NOSAVE").catch(() => {});
      io.disconnect();
      assert.equal((await exited(srv)).code, 0);
    } finally {
      await srv.stop();
    }
    srv = await startServer(["--dir", dir, "--dbfilename", "dump.rdb"]);
    try {
      assert.deepStrictEqual(await dumpDataset(srv.port), want, "NOSAVE kept the old snapshot");
    } finally {
      await srv.stop();
    }
    // Without a dbfilename SHUTDOWN does not save; SHUTDOWN SAVE cannot, and refuses.
    srv = await startServer([]);
    try {
      assert.deepStrictEqual(
        await call(srv.port, "SHUTDOWN", "SAVE"),
        new Error("ERR Errors trying to SHUTDOWN. Check logs."),
      );
      const c2 = await RespClient.connect(srv.port);
      await c2.sendCommand("SHUTDOWN");
      await c2.waitClosed(10_000);
      c2.close();
      assert.equal((await exited(srv)).code, 0);
    } finally {
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// DEBUG RELOAD

Deno.test("DEBUG RELOAD keeps DEBUG DIGEST and encodings (file and in-memory), and its options", async (t) => {
  const dir = await tempDir();
  for (const withFile of [true, false]) {
    await t.step(withFile ? "with --dbfilename" : "without a dbfilename (in memory)", async () => {
      const srv = await startServer(withFile ? ["--dir", dir, "--dbfilename", "reload.rdb"] : []);
      const c = await RespClient.connect(srv.port);
      try {
        await runPipelined(c, everyTypeCommands());
        const digest = await c.call("DEBUG", "DIGEST");
        const encodings = [];
        for (
          const k of ["s:int8", "s:short", "s:compressible", "l:large", "set:intset", "set:large", "h:small", "h:large"]
        ) {
          encodings.push(await c.call("OBJECT", "ENCODING", k));
        }
        const dump = await dumpDataset(srv.port);
        assert.equal(await c.call("DEBUG", "RELOAD"), "OK");
        assert.equal(await c.call("DEBUG", "DIGEST"), digest);
        for (
          const [i, k] of [
            "s:int8",
            "s:short",
            "s:compressible",
            "l:large",
            "set:intset",
            "set:large",
            "h:small",
            "h:large",
          ].entries()
        ) {
          assert.equal(await c.call("OBJECT", "ENCODING", k), encodings[i], k);
        }
        assert.deepStrictEqual(await dumpDataset(srv.port), dump);
        assert.match(srv.logs(), /DB reloaded by DEBUG RELOAD/);
        assert.deepStrictEqual(
          await c.call("DEBUG", "RELOAD", "bogus"),
          new Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."),
        );
        if (withFile) {
          // NOSAVE: back to the file's contents; NOFLUSH MERGE: file keys win, others stay.
          await c.call("SET", "s:short", "changed");
          await c.call("SET", "extra", "1");
          assert.equal(await c.call("DEBUG", "RELOAD", "NOSAVE"), "OK");
          assert.equal(await c.call("DEBUG", "DIGEST"), digest);
          await c.call("SET", "s:short", "changed");
          await c.call("SET", "extra", "1");
          assert.equal(await c.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"), "OK");
          assert.equal(await c.call("GET", "s:short"), "hello");
          assert.equal(await c.call("GET", "extra"), "1");
          assert.deepStrictEqual(
            await c.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"),
            new Error("ERR Error trying to load the RDB dump, check server logs."),
          );
        } else {
          assert.deepStrictEqual(
            await c.call("DEBUG", "RELOAD", "NOSAVE"),
            new Error("ERR Error trying to load the RDB dump, check server logs."),
          );
          assert.equal(await c.call("DEBUG", "DIGEST"), digest);
        }
      } finally {
        c.close();
        await srv.stop();
      }
    });
  }
  await Deno.remove(dir, { recursive: true });
});

// ---------------------------------------------------------------------------------------------
// BGSAVE under a concurrent write load

/** Phase A: a deterministic dataset of every type over dbs 0-3 (`n` groups of 6 keys). */
function phaseA(n: number): string[][] {
  const cmds: string[][] = [];
  for (let db = 0; db < 4; db++) {
    cmds.push(["SELECT", String(db)]);
    for (let i = 0; i < n; i++) {
      const k = `${db}:${i}`;
      cmds.push(["SET", `str:${k}`, `value-${k}-${"x".repeat(i % 50)}`]);
      cmds.push(["RPUSH", `list:${k}`, "a", String(i), `e-${k}`]);
      cmds.push(["HSET", `hash:${k}`, "f1", String(i), "f2", `v-${k}`]);
      cmds.push(["SADD", `set:${k}`, String(i), String(i + 1), `m-${k}`]);
      cmds.push(["ZADD", `zset:${k}`, String(i / 3), "a", "-1", `b-${k}`]);
      if (i % 10 === 0) {
        cmds.push(["XADD", `stream:${k}`, "1-1", "f", "v"]);
        cmds.push(["XADD", `stream:${k}`, "2-1", "f", String(i)]);
        cmds.push(["XGROUP", "CREATE", `stream:${k}`, "g", "0"]);
        cmds.push(["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", `stream:${k}`, ">"]);
      }
      if (i % 7 === 0) cmds.push(["PEXPIREAT", `str:${k}`, String(4102444800000 + i)]);
    }
  }
  // A few heavy values, serialized by the walk over many slices.
  cmds.push(["SELECT", "0"]);
  for (let b = 0; b < 20; b++) {
    const args = ["RPUSH", "big:list"];
    for (let j = 0; j < 1000; j++) args.push(`item-${b * 1000 + j}`);
    cmds.push(args);
    const h = ["HSET", "big:hash"];
    for (let j = 0; j < 500; j++) h.push(`f-${b * 500 + j}`, `v-${j}`);
    cmds.push(h);
  }
  return cmds;
}

/** Phase B: overwrites, deletes, expiries, in-place edits and new keys touching phase-A keys. */
function phaseB(n: number, round: number): string[][] {
  const cmds: string[][] = [];
  for (let db = 0; db < 4; db++) {
    cmds.push(["SELECT", String(db)]);
    for (let i = round; i < n; i += 9) {
      const k = `${db}:${i}`;
      switch ((i + round) % 9) {
        case 0:
          cmds.push(["SET", `str:${k}`, `B${round}`]);
          break;
        case 1:
          cmds.push(["DEL", `list:${k}`, `hash:${k}`]);
          break;
        case 2:
          cmds.push(["RPUSH", `list:${k}`, `B${round}`]);
          cmds.push(["HSET", `hash:${k}`, "f1", `B${round}`]);
          break;
        case 3:
          cmds.push(["SREM", `set:${k}`, String(i)]);
          cmds.push(["ZINCRBY", `zset:${k}`, "5", "a"]);
          break;
        case 4:
          cmds.push(["PEXPIREAT", `set:${k}`, "4102444900000"]);
          cmds.push(["PERSIST", `str:${k}`]);
          break;
        case 5:
          cmds.push(["RENAME", `zset:${k}`, `renamed:${k}:${round}`]);
          break;
        case 6:
          cmds.push(["SET", `new:${k}:${round}`, "created after the cut"]);
          cmds.push(["LPUSH", `newlist:${k}:${round}`, "x"]);
          break;
        case 7:
          if (i % 10 === 0) {
            cmds.push(["XADD", `stream:${k}`, "*", "f", "new"]);
            cmds.push(["XACK", `stream:${k}`, "g", "1-1"]);
          } else cmds.push(["APPEND", `str:${k}`, "-appended"]);
          break;
        default:
          cmds.push(["DEL", `str:${k}`]);
          cmds.push(["SET", `str:${k}`, "recreated"]);
      }
    }
  }
  cmds.push(["SELECT", "0"]);
  cmds.push(["RPUSH", "big:list", `B${round}`]);
  cmds.push(["HDEL", "big:hash", `f-${round}`]);
  return cmds;
}

Deno.test("BGSAVE under concurrent writes saves exactly the dataset of the moment it started", async () => {
  const dir = await tempDir();
  const N = 2500; // 4 dbs x 2500 x ~5.1 keys ≈ 51 000 keys
  const srv = await startServer(["--dir", dir, "--dbfilename", "pit.rdb", "--num_shards", "4"]);
  try {
    const writer = await RespClient.connect(srv.port);
    await runPipelined(writer, phaseA(N), 512);
    const expected = await dumpDataset(srv.port);
    assert.ok(expected.length > 50_000, `${expected.length} keys`);
    // The cut and the first phase-B writes travel in one batch: they run right after BGSAVE, long
    // before the walk reaches most keys; later rounds interleave with the walk.
    const first = [["BGSAVE"], ...phaseB(N, 0), ["INFO", "persistence"]];
    for (const cmd of first) await writer.sendCommand(...cmd);
    const replies = [];
    for (let i = 0; i < first.length; i++) replies.push(await writer.read(30_000));
    assert.equal(replies[0], "Background saving started");
    assert.match(String(replies[replies.length - 1]), /rdb_bgsave_in_progress:1/, "writes overlapped the walk");
    let rounds = 1;
    let overlapped = 1;
    for (; rounds < 9; rounds++) {
      const inProgress = (await info(srv.port, "rdb_bgsave_in_progress")) === "1";
      if (inProgress) overlapped++;
      await runPipelined(writer, phaseB(N, rounds), 512);
    }
    // A flush and a swap of other dbs while (maybe) still walking, then a final round.
    await runPipelined(writer, [["SELECT", "3"], ["FLUSHDB"], ["SWAPDB", "1", "2"], ["SELECT", "0"]]);
    await waitFor(async () => (await info(srv.port, "rdb_bgsave_in_progress")) === "0", "BGSAVE", 120_000);
    assert.equal(await info(srv.port, "rdb_last_bgsave_status"), "ok");
    writer.close();
    assert.ok(overlapped >= 1);

    const copy = await Deno.makeTempDir({ prefix: "damselfly-pit-" });
    try {
      await Deno.copyFile(`${dir}/pit.rdb`, `${copy}/pit.rdb`);
      const fresh = await startServer(["--dir", copy, "--dbfilename", "pit.rdb"]);
      try {
        const got = await dumpDataset(fresh.port);
        assert.equal(got.length, expected.length, "key count at the cut");
        assert.deepStrictEqual(got, expected);
      } finally {
        await fresh.stop();
      }
    } finally {
      await Deno.remove(copy, { recursive: true });
    }
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The walk itself, in-process: many passes, writes between every two slices

/** A record as comparable text (made at once: the walk reuses its record objects). */
function recordText(e: RdbWritableEntry): string {
  return JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
}

const TYPES = ["str", "list", "hash", "set", "zset", "stream"] as const;

/** One random write (or read) on a key of the pool; the key's name fixes its type. */
function randomWrite(s: InProcessServer, rnd: () => number, pool: number): void {
  const pick = (n: number) => Math.floor(rnd() * n);
  s.call("SELECT", String(pick(3)));
  const i = pick(pool);
  const type = TYPES[i % TYPES.length];
  const key = `${type}:${i}`;
  const v = `w${pick(1000)}`;
  switch (pick(14)) {
    case 0:
      s.call("DEL", key);
      if (pick(2) === 0) return;
      break; // re-created below: the key comes round again in Map order

    case 1:
      s.call("PEXPIREAT", key, String(4102444800000 + pick(1000)));
      return;
    case 2:
      s.call("PERSIST", key);
      return;
    case 3:
      s.call("RENAME", key, `${type}:${i + pool}`);
      return;
    case 4:
      s.call("MOVE", key, String(pick(3)));
      return;
    case 5:
      s.call("COPY", key, `${type}:${pick(pool)}`, "DB", String(pick(3)), "REPLACE");
      return;
    case 6:
      if (pick(40) === 0) s.call("SWAPDB", "1", "2");
      else if (pick(80) === 0) s.call("FLUSHDB");
      else s.call("GET", key);
      return;
  }
  switch (type) {
    case "str":
      s.call(pick(2) ? "SET" : "APPEND", key, v);
      return;
    case "list":
      if (pick(3) === 0) s.call("LPOP", key);
      else s.call("RPUSH", key, v);
      return;
    case "hash":
      if (pick(3) === 0) s.call("HDEL", key, "f0");
      else s.call("HSET", key, `f${pick(4)}`, v);
      return;
    case "set":
      if (pick(3) === 0) s.call("SREM", key, "0");
      else s.call("SADD", key, String(pick(20)));
      return;
    case "zset":
      if (pick(3) === 0) s.call("ZREM", key, "m0");
      else s.call("ZADD", key, String(pick(100)), `m${pick(4)}`);
      return;
    case "stream":
      s.call("XADD", key, "*", "f", v);
      return;
  }
}

Deno.test("the walk (in-process, many passes, writes between slices) emits each key of the cut once", async () => {
  const saved = { ...snapshotOptions };
  snapshotOptions.passKeys = 40;
  snapshotOptions.sliceMs = 0.02;
  try {
    for (const seed of [1, 2, 3, 4]) {
      const s = new InProcessServer(["--num_shards=3"]);
      const rnd = prng(seed);
      const POOL = 6000;
      for (let i = 0; i < POOL; i++) {
        s.call("SELECT", String(i % 3));
        const type = TYPES[i % TYPES.length];
        const key = `${type}:${i}`;
        if (type === "str") s.call("SET", key, `v${i}`);
        else if (type === "list") s.call("RPUSH", key, "a", `v${i}`);
        else if (type === "hash") s.call("HSET", key, "f0", `v${i}`, "f1", "x");
        else if (type === "set") s.call("SADD", key, "0", String(i));
        else if (type === "zset") s.call("ZADD", key, "1", "m0", String(i), "m1");
        else s.call("XADD", key, "1-1", "f", `v${i}`);
        if (i % 7 === 0) s.call("PEXPIREAT", key, String(4102444800000 + i));
      }
      const cut = new Map<string, string>();
      for (const shard of s.server.store.shards) {
        for (const slice of shard.dbs) {
          for (const [k, v] of slice.data) cut.set(`${slice.dbIndex}/${k}`, recordText(entryOf(slice, k, v)));
        }
      }
      const got = new Map<string, string>();
      const duplicates: string[] = [];
      const sink = {
        write(db: number, e: RdbWritableEntry) {
          const id = `${db}/${e.key}`;
          if (got.has(id)) duplicates.push(id);
          got.set(id, recordText(e));
        },
        backpressure: () => null,
      };
      const snaps = s.server.store.shards.map((shard) => new ShardSnapshot(shard, sink));
      for (const snap of snaps) snap.start();
      let walking = true;
      const walk = (async () => {
        for (let db = 0; db < 16; db++) for (const snap of snaps) await snap.walkDb(db);
        walking = false;
      })();
      let rounds = 0;
      while (walking) {
        for (let n = 0; n < 10; n++) randomWrite(s, rnd, POOL);
        await new Promise((r) => setTimeout(r, 0));
        rounds++;
      }
      await walk;
      for (const snap of snaps) snap.close();
      assert.ok(rounds > 20, `only ${rounds} rounds of writes overlapped the walk (${cut.size} keys at the cut)`);
      assert.deepStrictEqual(duplicates, [], `seed ${seed}`);
      const sortedMap = (m: Map<string, string>) => new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      assert.deepStrictEqual(sortedMap(got), sortedMap(cut), `seed ${seed}`);
      assert.equal(s.server.store.shards.every((sh) => sh.preWriteHooks.length === 0), true);
    }
  } finally {
    Object.assign(snapshotOptions, saved);
  }
});
