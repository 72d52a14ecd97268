/**
 * Server administration against a real damselfly process, with a real redis-server as the
 * oracle for field names, reply shapes and error texts: INFO (every section, RESP3
 * verbatim, ioredis's ready check), TIME, LASTSAVE, SHUTDOWN, MONITOR, SLOWLOG, DEBUG
 * (SLEEP without blocking others, DIGEST independent of key order and shard count) and
 * CLIENT (INFO/LIST field order, KILL filters, REPLY modes, PAUSE WRITE/ALL, UNPAUSE).
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { type DiffStep, runDifferential } from "../helpers/differential.ts";
import { VERSION } from "../../src/version.ts";

/** INFO text → section title → ordered [field, value] pairs. */
function parseInfo(text: string): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  let cur: [string, string][] | null = null;
  for (const line of text.split("\r\n")) {
    if (line.startsWith("# ")) out.set(line.slice(2), cur = []);
    else if (line !== "" && cur) {
      const i = line.indexOf(":");
      cur.push([line.slice(0, i), line.slice(i + 1)]);
    }
  }
  return out;
}

/** The value of `field` in an INFO text. */
function infoField(text: string, field: string): string | undefined {
  for (const fields of parseInfo(text).values()) {
    for (const [k, v] of fields) if (k === field) return v;
  }
  return undefined;
}

async function info(c: RespClient, ...sections: string[]): Promise<string> {
  const r = await c.call("INFO", ...sections);
  assert.equal(typeof r, "string");
  return r as string;
}

/** Milliseconds `fn` takes. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

/** Reads the first byte of the reply to `args` in RESP3 (`=` for verbatim strings). */
async function resp3FirstByte(port: number, ...args: string[]): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    assert.ok((await c.call("HELLO", "3")) instanceof Map);
    await c.sendCommand(...args);
    return await c.readRaw(1);
  } finally {
    c.close();
  }
}

function assertNoMismatch(mismatches: string[]): void {
  assert.deepEqual(mismatches, [], "replies differ from redis-server:\n" + mismatches.join("\n"));
}

Deno.test("INFO: sections, Redis 7 field names, values, RESP3 and clients", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  const d = await RespClient.connect(srv.port);
  const r = await RespClient.connect(redis.port);
  try {
    await t.step("every Redis field is present, in Redis's order", async () => {
      // The replication section follows Dragonfly's shape instead (see replication_commands_test.ts).
      for (const section of ["server", "clients", "memory", "persistence", "stats", "cpu", "cluster"]) {
        const ours = [...parseInfo(await info(d, section)).values()][0].map(([k]) => k);
        const theirs = [...parseInfo(await info(r, section)).values()][0].map(([k]) => k);
        const missing = theirs.filter((k) => !ours.includes(k));
        assert.deepEqual(missing, [], `INFO ${section} lacks Redis fields`);
        const common = ours.filter((k) => theirs.includes(k));
        assert.deepEqual(common, theirs, `INFO ${section} keeps Redis's field order`);
      }
    });
    await t.step("section headers of INFO, default, all and everything match Redis", async () => {
      for (const arg of [[], ["default"], ["all"], ["everything"], ["ALL"]]) {
        const ours = [...parseInfo(await info(d, ...arg)).keys()];
        const theirs = [...parseInfo(await info(r, ...arg)).keys()].filter((s) => s !== "Latencystats");
        assert.deepEqual(ours, theirs, `INFO ${arg.join(" ")}`);
      }
      assert.deepEqual([...parseInfo(await info(d, "SERVER")).keys()], ["Server"]);
      assert.deepEqual([...parseInfo(await info(d, "server", "Keyspace")).keys()], ["Server", "Keyspace"]);
      assert.equal(await info(d, "nosuchsection"), await info(r, "nosuchsection"));
      assert.equal(await info(d, "keyspace"), "# Keyspace\r\n");
      assert.ok((await info(d)).endsWith("\r\n") && !(await info(d)).endsWith("\r\n\r\n"));
    });
    await t.step("server, replication and persistence values", async () => {
      const text = await info(d, "everything");
      assert.equal(infoField(text, "redis_version"), "7.4.0");
      assert.equal(infoField(text, "damselfly_version"), VERSION);
      assert.equal(infoField(text, "process_id"), String(srv.child.pid));
      assert.equal(infoField(text, "tcp_port"), String(srv.port));
      assert.match(infoField(text, "run_id")!, /^[0-9a-f]{40}$/);
      assert.ok(infoField(text, "executable")!.length > 0);
      assert.equal(infoField(text, "config_file"), "");
      assert.equal(infoField(text, "role"), "master");
      assert.equal(infoField(text, "connected_slaves"), "0");
      assert.equal(infoField(text, "master_replid"), infoField(text, "run_id"));
      assert.equal(infoField(text, "master_repl_offset"), undefined); // Dragonfly's INFO has none
      assert.equal(infoField(text, "loading"), "0");
      assert.equal(infoField(text, "rdb_bgsave_in_progress"), "0");
      assert.equal(infoField(text, "rdb_last_bgsave_status"), "ok");
      assert.ok(Math.abs(Number(infoField(text, "rdb_last_save_time")) - Date.now() / 1000) < 120);
      assert.ok(Number(infoField(text, "used_memory")) > 0);
      assert.ok(Number(infoField(text, "used_memory_rss")) > 0);
      assert.match(infoField(text, "used_memory_human")!, /^\d+\.\d\d[KMG]$/);
      assert.equal(infoField(text, "maxmemory"), "0");
      assert.equal(infoField(text, "maxmemory_policy"), "noeviction");
      assert.match(infoField(text, "used_cpu_user")!, /^\d+\.\d{6}$/);
      assert.match(infoField(text, "used_cpu_sys_main_thread")!, /^\d+\.\d{6}$/);
      assert.equal(infoField(text, "cluster_enabled"), "0");
    });
    await t.step("RESP3 INFO is a verbatim string, as in Redis", async () => {
      assert.equal(await resp3FirstByte(srv.port, "INFO", "server"), "=");
      assert.equal(await resp3FirstByte(redis.port, "INFO", "server"), "=");
    });
    await t.step("keyspace, hits and misses, dirty counter, expired keys", async () => {
      const before = Number(infoField(await info(d, "persistence"), "rdb_changes_since_last_save"));
      assert.equal(await d.call("SET", "info:k1", "v"), "OK");
      assert.equal(await d.call("SET", "info:k2", "v", "PX", "100000"), "OK");
      assert.equal(await d.call("SELECT", "3"), "OK");
      assert.equal(await d.call("SET", "info:k3", "v"), "OK");
      assert.equal(await d.call("SELECT", "0"), "OK");
      const ks = await info(d, "keyspace");
      assert.match(infoField(ks, "db0")!, /^keys=2,expires=1,avg_ttl=\d+$/);
      const avg = Number(infoField(ks, "db0")!.split("avg_ttl=")[1]);
      assert.ok(avg > 90_000 && avg <= 100_000, `avg_ttl ${avg}`);
      assert.equal(infoField(ks, "db3"), "keys=1,expires=0,avg_ttl=0");
      const after = Number(infoField(await info(d, "persistence"), "rdb_changes_since_last_save"));
      assert.ok(after >= before + 3);
      const stats0 = await info(d, "stats");
      assert.equal(await d.call("GET", "info:k1"), "v");
      assert.equal(await d.call("GET", "info:nokey"), null);
      const stats1 = await info(d, "stats");
      assert.equal(Number(infoField(stats1, "keyspace_hits")), Number(infoField(stats0, "keyspace_hits")) + 1);
      assert.equal(Number(infoField(stats1, "keyspace_misses")), Number(infoField(stats0, "keyspace_misses")) + 1);
      assert.ok(
        Number(infoField(stats1, "total_commands_processed")) > Number(infoField(stats0, "total_commands_processed")),
      );
      assert.equal(await d.call("SET", "info:short", "v", "PX", "20"), "OK");
      await waitFor(
        async () => Number(infoField(await info(d, "stats"), "expired_keys")) >= 1,
        "expired_keys to count",
      );
    });
    await t.step("commandstats and errorstats: same counters as Redis for the same commands", async () => {
      for (const c of [d, r]) {
        assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
        await c.call("SET", "cs", "1");
        await c.call("SET", "cs", "2");
        await c.call("GET");
        await c.call("CONFIG", "GET", "maxmemory");
        await c.call("CONFIG", "SET", "nosuchparam", "1");
        await c.call("NOSUCHCOMMAND");
      }
      const norm = (text: string) =>
        text.split("\r\n").filter((l) => l.startsWith("cmdstat_") || l.startsWith("errorstat_")).map((l) =>
          l.replace(/usec=\d+,usec_per_call=[\d.]+/, "usec=N")
        ).sort();
      const ours = norm(await info(d, "commandstats", "errorstats"));
      assert.deepEqual(ours, norm(await info(r, "commandstats", "errorstats")));
      assert.ok(ours.includes("cmdstat_set:calls=2,usec=N,rejected_calls=0,failed_calls=0"));
      assert.ok(ours.includes("cmdstat_config|set:calls=1,usec=N,rejected_calls=0,failed_calls=1"));
      assert.ok(ours.includes("cmdstat_get:calls=0,usec=N,rejected_calls=1,failed_calls=0"));
      assert.ok(ours.includes("errorstat_ERR:count=3"));
      assert.match(await info(d, "commandstats"), /cmdstat_set:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,/);
      assert.equal(infoField(await info(d, "stats"), "total_error_replies"), "3");
    });
    await t.step("instantaneous_ops_per_sec follows load; CPU time grows", async () => {
      const cpu0 = Number(infoField(await info(d, "cpu"), "used_cpu_user"));
      await info(d, "stats");
      const load = await RespClient.connect(srv.port);
      try {
        const batch = "PING\r\n".repeat(2000);
        await waitFor(async () => {
          await load.send(batch);
          await load.readRaw(2000 * 7);
          return Number(infoField(await info(d, "stats"), "instantaneous_ops_per_sec")) > 100;
        }, "instantaneous_ops_per_sec > 100 under load");
      } finally {
        load.close();
      }
      const cpu1 = Number(infoField(await info(d, "cpu"), "used_cpu_user"));
      assert.ok(cpu1 > cpu0, `used_cpu_user ${cpu0} → ${cpu1}`);
    });
    await t.step("connected_clients counts connections", async () => {
      const n0 = Number(infoField(await info(d, "clients"), "connected_clients"));
      const extra = [await RespClient.connect(srv.port), await RespClient.connect(srv.port)];
      for (const e of extra) assert.equal(await e.call("PING"), "PONG");
      assert.equal(Number(infoField(await info(d, "clients"), "connected_clients")), n0 + 2);
      for (const e of extra) e.close();
      await waitFor(
        async () => Number(infoField(await info(d, "clients"), "connected_clients")) === n0,
        "closed clients to leave",
      );
    });
    await t.step("ioredis passes its INFO ready check; node-redis and redis-cli read INFO", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true, enableReadyCheck: true });
      try {
        await io.connect();
        assert.equal(io.status, "ready");
        assert.match(await io.info("server"), /redis_version:7\.4\.0/);
      } finally {
        io.disconnect();
      }
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.match(await nr.info("keyspace"), /^# Keyspace\r\ndb0:keys=/);
      } finally {
        await nr.quit();
      }
      assert.match(await redisCli(srv.port, ["info", "replication"], { raw: false }), /role:master/);
    });
  } finally {
    d.close();
    r.close();
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("TIME, LASTSAVE, SHUTDOWN", async () => {
  const srv = await startServer();
  try {
    const c = await RespClient.connect(srv.port);
    const t = await c.call("TIME") as string[];
    assert.equal(t.length, 2);
    assert.match(t[0], /^\d+$/);
    assert.match(t[1], /^\d{1,6}$/);
    assert.ok(Math.abs(Number(t[0]) + Number(t[1]) / 1e6 - Date.now() / 1000) < 2);
    const lastsave = await c.call("LASTSAVE") as number;
    assert.ok(Math.abs(lastsave - Date.now() / 1000) < 60);
    assert.deepEqual(await c.call("TIME", "x"), new Error("ERR wrong number of arguments for 'time' command"));
    assert.deepEqual(await c.call("SHUTDOWN", "ABORT"), new Error("ERR No shutdown in progress."));
    assert.deepEqual(await c.call("SHUTDOWN", "NOSAVE", "SAVE"), new Error("ERR syntax error"));
    assert.deepEqual(await c.call("SHUTDOWN", "ABORT", "NOW"), new Error("ERR syntax error"));
    assert.deepEqual(await c.call("SHUTDOWN", "PLEASE"), new Error("ERR syntax error"));
    await c.sendCommand("SHUTDOWN", "NOSAVE");
    assert.ok(await c.waitClosed(10_000));
    assert.equal(c.pending(), "", "a successful SHUTDOWN sends no reply");
    const status = await Promise.race([
      srv.child.status,
      new Promise<null>((res) => setTimeout(() => res(null), 10_000)),
    ]);
    assert.ok(status !== null, "the process exits after SHUTDOWN");
    assert.equal(status.code, 0);
    c.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("MONITOR and SLOWLOG match Redis", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    await t.step("MONITOR lines have Redis's format; admin commands are not shown", async () => {
      // SELECT is left out while monitoring: Redis shows it with the db selected after it ran.
      const lines: string[] = [];
      for (const port of [srv.port, redis.port]) {
        const m = await RespClient.connect(port);
        const w = await RespClient.connect(port);
        assert.equal(await w.call("SELECT", "2"), "OK");
        assert.equal(await m.call("MONITOR"), "OK");
        assert.equal(await w.call("CONFIG", "GET", "maxmemory") instanceof Array, true);
        await w.call("SET", 'we"ird key', "a\x01\n\\b");
        await w.call("PING");
        const first = await m.read() as string;
        const second = await m.read() as string;
        const addr = (await w.call("CLIENT", "INFO") as string).split(" ")[1].slice(5);
        for (const l of [first, second]) {
          assert.match(l, /^\d+\.\d{6} \[\d+ [0-9.:]+\] /);
          lines.push(l.replace(/^\d+\.\d{6} /, "T ").replace(addr, "ADDR"));
        }
        m.close();
        w.close();
      }
      assert.deepEqual(lines.slice(0, 2), lines.slice(2));
      assert.equal(lines[0], 'T [2 ADDR] "SET" "we\\"ird key" "a\\x01\\n\\\\b"');
      assert.equal(lines[1], 'T [2 ADDR] "PING"');
    });
    await t.step("SLOWLOG GET, LEN, RESET, argument truncation and errors", async () => {
      const d = await RespClient.connect(srv.port);
      const r = await RespClient.connect(redis.port);
      const long = "x".repeat(200);
      const many = Array.from({ length: 40 }, (_, i) => `a${i}`);
      const entryNorm = (rep: Reply) =>
        Array.isArray(rep)
          ? rep.map((e) => {
            const [id, time, dur, args, addr, name] = e as [number, number, number, string[], string, string];
            assert.equal(typeof id, "number");
            assert.ok(Math.abs(time - Date.now() / 1000) < 60);
            assert.ok(typeof dur === "number" && dur >= 0);
            assert.match(addr, /^127\.0\.0\.1:\d+$/);
            return [args, name];
          })
          : rep;
      const steps: DiffStep[] = [
        ["CONFIG", "SET", "slowlog-log-slower-than", "0"],
        ["CLIENT", "SETNAME", "slowpoke"],
        ["SLOWLOG", "RESET"],
        ["SET", "slow", long],
        ["MSET", ...many.flatMap((a) => [a, a])],
        ["GETRANGE", "slow", "0", "3"],
        { cmd: ["SLOWLOG", "GET", "3"], norm: entryNorm },
        { cmd: ["SLOWLOG", "GET"], norm: entryNorm },
        ["SLOWLOG", "LEN"],
        ["SLOWLOG", "GET", "0"],
        ["SLOWLOG", "GET", "-2"],
        ["SLOWLOG", "GET", "x"],
        ["SLOWLOG", "GET", "1", "2"],
        ["SLOWLOG", "LEN", "x"],
        ["SLOWLOG", "NOPE"],
        ["SLOWLOG", "HELP"],
        ["SLOWLOG"],
        ["SLOWLOG", "RESET"],
        ["CONFIG", "SET", "slowlog-log-slower-than", "10000"],
        ["SLOWLOG", "LEN"],
        { cmd: ["SLOWLOG", "GET", "-1"], norm: entryNorm },
      ];
      assertNoMismatch(await runDifferential(d, r, steps));
      d.close();
      r.close();
    });
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("DEBUG: SLEEP does not block others; DIGEST is order- and shard-independent", async (t) => {
  const one = await startServer(["--num_shards=1"]);
  const four = await startServer(["--num_shards=4"]);
  const redis = await startRedis(["--enable-debug-command", "yes"]);
  try {
    const a = await RespClient.connect(one.port);
    const b = await RespClient.connect(four.port);
    await t.step("DEBUG SLEEP waits without stopping other clients", async () => {
      const other = await RespClient.connect(one.port);
      const [sleepReply, sleepMs] = await timed(async () => {
        const p = a.call("DEBUG", "SLEEP", "0.5");
        const [pong, pingMs] = await timed(() => other.call("PING"));
        assert.equal(pong, "PONG");
        assert.ok(pingMs < 250, `PING took ${pingMs} ms during DEBUG SLEEP`);
        return await p;
      });
      assert.equal(sleepReply, "OK");
      assert.ok(sleepMs >= 450, `DEBUG SLEEP 0.5 took ${sleepMs} ms`);
      assert.equal(await a.call("DEBUG", "SLEEP", "0"), "OK");
      other.close();
    });
    await t.step("equal datasets give equal digests whatever the order and shard count", async () => {
      const zero = "0".repeat(40);
      assert.equal(await a.call("DEBUG", "DIGEST"), zero);
      assert.equal(await b.call("DEBUG", "DIGEST"), zero);
      const keys = Array.from({ length: 300 }, (_, i) => `key:${i}:{${i % 7}}`);
      const pxat = String(Date.now() + 3_600_000);
      for (const k of keys) assert.equal(await a.call("SET", k, `value-${k}`), "OK");
      for (const k of [...keys].reverse()) assert.equal(await b.call("SET", k, `value-${k}`), "OK");
      assert.equal(await a.call("ZADD", "zset", "1", "a", "2", "b", "3", "c"), 3);
      assert.equal(await b.call("ZADD", "zset", "3", "c", "1", "a"), 2);
      assert.equal(await b.call("ZADD", "zset", "2", "b"), 1);
      for (const c of [a, b]) {
        assert.equal(await c.call("SET", "with-ttl", "v", "PXAT", pxat), "OK");
        assert.equal(await c.call("SELECT", "5"), "OK");
        assert.equal(await c.call("SET", "key:0:{0}", "in db 5"), "OK");
        assert.equal(await c.call("SELECT", "0"), "OK");
      }
      const da = await a.call("DEBUG", "DIGEST") as string;
      assert.match(da, /^[0-9a-f]{40}$/);
      assert.notEqual(da, zero);
      assert.equal(await b.call("DEBUG", "DIGEST"), da);
      // A different value, a different expiry or a different db changes the digest.
      assert.equal(await b.call("SET", "key:1:{1}", "other"), "OK");
      assert.notEqual(await b.call("DEBUG", "DIGEST"), da);
      assert.equal(await b.call("SET", "key:1:{1}", "value-key:1:{1}"), "OK");
      assert.equal(await b.call("DEBUG", "DIGEST"), da);
      assert.equal(await b.call("SET", "with-ttl", "v", "PXAT", String(Number(pxat) + 1)), "OK");
      assert.notEqual(await b.call("DEBUG", "DIGEST"), da);
      assert.equal(await b.call("SET", "with-ttl", "v", "PXAT", pxat), "OK");
      assert.equal(await b.call("DEBUG", "DIGEST"), da);
      assert.equal(await b.call("ZADD", "zset", "2.5", "b"), 0);
      assert.notEqual(await b.call("DEBUG", "DIGEST"), da);
      assert.equal(await b.call("ZADD", "zset", "2", "b"), 0);
      assert.equal(await b.call("DEBUG", "DIGEST"), da);
      const va = await a.call("DEBUG", "DIGEST-VALUE", "key:3:{3}", "nokey", "with-ttl", "zset") as string[];
      assert.deepEqual(await b.call("DEBUG", "DIGEST-VALUE", "key:3:{3}", "nokey", "with-ttl", "zset"), va);
      assert.match(va[0], /^[0-9a-f]{40}$/);
      assert.equal(va[1], zero);
      assert.notEqual(va[0], va[2]);
    });
    await t.step("DEBUG replies and errors as Redis words them", async () => {
      const r = await RespClient.connect(redis.port);
      const steps: DiffStep[] = [
        ["SET", "dbg", "hello"],
        ["DEBUG", "DIGEST-VALUE"],
        ["DEBUG", "OBJECT", "nokey"],
        { cmd: ["DEBUG", "OBJECT", "dbg"], norm: (x) => typeof x === "string" && /encoding:embstr /.test(x) },
        ["DEBUG", "NOSUCH"],
        ["DEBUG", "SLEEP"],
        ["DEBUG", "OBJECT"],
        ["DEBUG"],
        ["DEBUG", "ERROR", "ERR custom failure"],
        { cmd: ["DEBUG", "HELP"], norm: (x) => Array.isArray(x) ? x[0] : x },
      ];
      assertNoMismatch(await runDifferential(a, r, steps));
      r.close();
    });
    a.close();
    b.close();
  } finally {
    await one.stop();
    await four.stop();
    await redis.stop();
  }
});

/** CLIENT INFO line → ordered [field, value] pairs. */
function clientFields(line: string): [string, string][] {
  return line.trim().split(" ").map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

Deno.test("CLIENT: INFO/LIST fields, names, KILL, REPLY, errors", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  try {
    const d = await RespClient.connect(srv.port);
    const r = await RespClient.connect(redis.port);
    await t.step("CLIENT INFO and LIST use Redis 7.2's field order", async () => {
      const ours = clientFields(await d.call("CLIENT", "INFO") as string);
      const theirs = clientFields(await r.call("CLIENT", "INFO") as string);
      // redis-server here is 7.0; 7.2 appended lib-name and lib-ver.
      assert.deepEqual(ours.map(([k]) => k), [...theirs.map(([k]) => k), "lib-name", "lib-ver"]);
      const f = Object.fromEntries(ours);
      assert.equal(f.id, String(await d.call("CLIENT", "ID")));
      const local = d.conn.localAddr as Deno.NetAddr;
      assert.equal(f.addr, `${local.hostname}:${local.port}`);
      assert.equal(f.laddr, `127.0.0.1:${srv.port}`);
      assert.equal(f.flags, "N");
      assert.equal(f.cmd, "client|info");
      assert.equal(f.user, "default");
      assert.equal(f.resp, "2");
      assert.equal(f.multi, "-1");
      assert.equal(f.events, "r");
      assert.ok((await d.call("CLIENT", "INFO") as string).endsWith("\n"));
      const list = await d.call("CLIENT", "LIST") as string;
      assert.ok(list.endsWith("\n"));
      const lines = list.split("\n").filter((l) => l !== "");
      assert.ok(lines.some((l) => l.startsWith(`id=${f.id} `) && l.includes(" cmd=client|list ")));
      for (const l of lines) assert.deepEqual(clientFields(l).map(([k]) => k), ours.map(([k]) => k));
      assert.equal(
        await resp3FirstByte(srv.port, "CLIENT", "LIST"),
        await resp3FirstByte(redis.port, "CLIENT", "LIST"),
      );
      assert.equal(await resp3FirstByte(srv.port, "CLIENT", "INFO"), "=");
    });
    await t.step("names, SETINFO, NO-EVICT and NO-TOUCH show in CLIENT INFO", async () => {
      assert.equal(await d.call("CLIENT", "GETNAME"), null);
      assert.equal(await d.call("CLIENT", "SETNAME", "worker-1"), "OK");
      assert.equal(await d.call("CLIENT", "GETNAME"), "worker-1");
      assert.deepEqual(
        await d.call("CLIENT", "SETNAME", "bad name"),
        new Error("ERR Client names cannot contain spaces, newlines or special characters."),
      );
      assert.equal(await d.call("CLIENT", "SETINFO", "LIB-NAME", "mylib"), "OK");
      assert.equal(await d.call("CLIENT", "SETINFO", "lib-ver", "1.2.3"), "OK");
      assert.deepEqual(
        await d.call("CLIENT", "SETINFO", "lib-foo", "x"),
        new Error("ERR Unrecognized option 'lib-foo'"),
      );
      assert.deepEqual(
        await d.call("CLIENT", "SETINFO", "lib-name", "a b"),
        new Error("ERR lib-name cannot contain spaces, newlines or special characters."),
      );
      assert.equal(await d.call("CLIENT", "NO-EVICT", "on"), "OK");
      assert.equal(await d.call("CLIENT", "NO-TOUCH", "ON"), "OK");
      const f = Object.fromEntries(clientFields(await d.call("CLIENT", "INFO") as string));
      assert.equal(f.name, "worker-1");
      assert.equal(f["lib-name"], "mylib");
      assert.equal(f["lib-ver"], "1.2.3");
      assert.equal(f.flags, "eT");
      assert.equal(await d.call("CLIENT", "NO-EVICT", "off"), "OK");
      assert.equal(await d.call("CLIENT", "NO-TOUCH", "off"), "OK");
      assert.equal(await d.call("CLIENT", "SETNAME", ""), "OK");
      assert.equal(await d.call("CLIENT", "GETNAME"), null);
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true, connectionName: "from-ioredis" });
      try {
        await io.connect();
        assert.equal(await io.client("GETNAME"), "from-ioredis");
        const id = await io.client("ID");
        assert.match(await io.client("LIST", "ID", String(id)) as string, /name=from-ioredis /);
      } finally {
        io.disconnect();
      }
    });
    await t.step("CLIENT LIST TYPE and ID filters", async () => {
      const other = await RespClient.connect(srv.port);
      const otherId = await other.call("CLIENT", "ID") as number;
      const myId = await d.call("CLIENT", "ID") as number;
      const ids = (text: string) => text.split("\n").filter((l) => l).map((l) => Number(l.split(" ")[0].slice(3)));
      assert.deepEqual(ids(await d.call("CLIENT", "LIST", "ID", String(otherId), String(myId), "99999") as string), [
        otherId,
        myId,
      ]);
      const normal = ids(await d.call("CLIENT", "LIST", "TYPE", "normal") as string);
      assert.ok(normal.includes(otherId) && normal.includes(myId));
      assert.equal(await d.call("CLIENT", "LIST", "TYPE", "replica"), "");
      assert.equal(await d.call("CLIENT", "LIST", "TYPE", "master"), "");
      other.close();
    });
    await t.step("CLIENT KILL: legacy address form and every filter", async () => {
      const victims = await Promise.all([1, 2, 3, 4].map(() => RespClient.connect(srv.port)));
      const addrOf = async (c: RespClient) => (await c.call("CLIENT", "INFO") as string).split(" ")[1].slice(5);
      const idOf = async (c: RespClient) => await c.call("CLIENT", "ID") as number;
      assert.equal(await d.call("CLIENT", "KILL", await addrOf(victims[0])), "OK");
      assert.ok(await victims[0].waitClosed());
      assert.deepEqual(await d.call("CLIENT", "KILL", "10.9.9.9:1"), new Error("ERR No such client"));
      assert.equal(await d.call("CLIENT", "KILL", "ID", String(await idOf(victims[1]))), 1);
      assert.ok(await victims[1].waitClosed());
      assert.equal(await d.call("CLIENT", "KILL", "ADDR", await addrOf(victims[2]), "SKIPME", "yes"), 1);
      assert.ok(await victims[2].waitClosed());
      assert.equal(await d.call("CLIENT", "KILL", "MAXAGE", "100000"), 0);
      assert.equal(await d.call("CLIENT", "KILL", "USER", "default", "ID", String(await idOf(victims[3]))), 1);
      assert.ok(await victims[3].waitClosed());
      assert.equal(await d.call("CLIENT", "KILL", "ID", "99999"), 0);
      assert.equal(await d.call("CLIENT", "KILL", "LADDR", "10.9.9.9:1"), 0);
      // TYPE normal with SKIPME no kills the caller too, after its reply.
      const self = await RespClient.connect(srv.port);
      const n = await self.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") as number;
      assert.ok(n >= 2, `killed ${n}`);
      assert.ok(await self.waitClosed());
      assert.ok(await d.waitClosed());
      for (const v of victims) v.close();
      self.close();
    });
    d.close();
    await t.step("CLIENT REPLY OFF, SKIP and ON give exactly Redis's byte stream", async () => {
      const pipeline = "CLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY SKIP\r\nPING\r\nCLIENT REPLY ON\r\nPING a\r\n" +
        "CLIENT REPLY SKIP\r\nPING b\r\nPING c\r\nCLIENT REPLY MAYBE\r\nPING\r\n";
      const streams: string[] = [];
      for (const port of [srv.port, redis.port]) {
        const c = await RespClient.connect(port);
        await c.send(pipeline);
        await waitFor(() => c.pending().endsWith("+PONG\r\n"), "the final PONG");
        streams.push(c.pending());
        c.close();
      }
      assert.equal(streams[0], streams[1]);
      assert.equal(streams[0], "+OK\r\n$1\r\na\r\n$1\r\nc\r\n-ERR syntax error\r\n+PONG\r\n");
    });
    await t.step("CLIENT UNBLOCK wakes a blocked client with TIMEOUT or ERROR, as Redis does", async () => {
      const seen: Reply[][] = [];
      for (const port of [srv.port, redis.port]) {
        const admin = await RespClient.connect(port);
        const blocked = await RespClient.connect(port);
        const id = await blocked.call("CLIENT", "ID") as number;
        const replies: Reply[] = [];
        for (const reason of ["TIMEOUT", "ERROR"]) {
          await blocked.sendCommand("BZPOPMIN", "unblock:nokey", "0");
          await waitFor(async () => {
            const text = await admin.call("INFO", "clients") as string;
            return text.includes("\r\nblocked_clients:1\r\n");
          }, "the client to block");
          const line = await admin.call("CLIENT", "LIST", "ID", String(id)) as string;
          assert.match(line, / flags=b /);
          replies.push(await admin.call("CLIENT", "UNBLOCK", String(id), reason));
          replies.push(await blocked.read());
          replies.push(await admin.call("CLIENT", "UNBLOCK", String(id)));
        }
        seen.push(replies);
        admin.close();
        blocked.close();
      }
      assert.deepEqual(seen[0], seen[1]);
      assert.deepEqual(seen[0], [1, null, 0, 1, new Error("UNBLOCKED client unblocked via CLIENT UNBLOCK"), 0]);
    });
    await t.step("CLIENT errors are Redis's, byte for byte", async () => {
      const c = await RespClient.connect(srv.port);
      const steps: DiffStep[] = [
        ["CLIENT", "NOSUCH"],
        ["CLIENT"],
        ["CLIENT", "ID", "x"],
        ["CLIENT", "SETNAME"],
        ["CLIENT", "SETNAME", "a\nb"],
        ["CLIENT", "KILL"],
        ["CLIENT", "KILL", "ID", "x"],
        ["CLIENT", "KILL", "ID", "0"],
        ["CLIENT", "KILL", "TYPE", "foo"],
        ["CLIENT", "KILL", "SKIPME", "maybe"],
        ["CLIENT", "KILL", "FOO", "bar"],
        ["CLIENT", "KILL", "ID", "1", "TYPE"],
        ["CLIENT", "KILL", "USER", "nobody"],
        ["CLIENT", "KILL", "ADDR"],
        ["CLIENT", "LIST", "TYPE", "foo"],
        ["CLIENT", "LIST", "TYPE"],
        ["CLIENT", "LIST", "ID", "x"],
        ["CLIENT", "LIST", "ID", "0"],
        ["CLIENT", "LIST", "ID", "99999"],
        ["CLIENT", "LIST", "FOO"],
        ["CLIENT", "LIST", "TYPE", "normal", "x"],
        ["CLIENT", "PAUSE"],
        ["CLIENT", "PAUSE", "x"],
        ["CLIENT", "PAUSE", "-1"],
        ["CLIENT", "PAUSE", "10", "FOO"],
        ["CLIENT", "UNPAUSE"],
        ["CLIENT", "REPLY"],
        ["CLIENT", "NO-EVICT", "maybe"],
        ["CLIENT", "NO-EVICT"],
        ["CLIENT", "UNBLOCK", "x"],
        ["CLIENT", "UNBLOCK", "99999"],
        ["CLIENT", "UNBLOCK", "99999", "FOO"],
        ["CLIENT", "UNBLOCK", "99999", "ERROR"],
        ["CLIENT", "GETNAME", "x"],
      ];
      assertNoMismatch(await runDifferential(c, r, steps));
      const help = await c.call("CLIENT", "HELP") as string[];
      assert.equal(help[0], "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
      assert.deepEqual(help.slice(-2), ["HELP", "    Prints this help."]);
      c.close();
    });
    r.close();
  } finally {
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("CLIENT PAUSE WRITE and ALL hold commands without blocking the server", async (t) => {
  const srv = await startServer();
  try {
    const admin = await RespClient.connect(srv.port);
    const writer = await RespClient.connect(srv.port);
    const reader = await RespClient.connect(srv.port);
    assert.equal(await writer.call("SET", "p", "0"), "OK");
    await t.step("WRITE: reads pass, writes wait for the end of the pause, in order", async () => {
      assert.equal(await admin.call("CLIENT", "PAUSE", "600", "WRITE"), "OK");
      const t0 = performance.now();
      await writer.send("*3\r\n$3\r\nSET\r\n$1\r\np\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\np\r\n");
      const [v, readMs] = await timed(() => reader.call("GET", "p"));
      assert.equal(v, "0", "the held SET has not run yet");
      assert.ok(readMs < 250, `GET took ${readMs} ms during a WRITE pause`);
      assert.equal(await writer.read(), "OK");
      assert.equal(await writer.read(), "1", "the GET pipelined after the held SET runs after it");
      const waited = performance.now() - t0;
      assert.ok(waited >= 450, `SET waited ${waited} ms`);
    });
    await t.step("UNPAUSE releases held writes at once", async () => {
      const writerId = await writer.call("CLIENT", "ID");
      assert.equal(await admin.call("CLIENT", "PAUSE", "20000", "WRITE"), "OK");
      const [reply, ms] = await timed(async () => {
        const p = writer.call("SET", "p", "2");
        await waitFor(
          async () => ((await admin.call("CLIENT", "LIST", "ID", String(writerId))) as string).includes(" cmd=set "),
          "the SET to arrive and be held",
        );
        assert.equal(await reader.call("GET", "p"), "1");
        assert.equal(await admin.call("CLIENT", "UNPAUSE"), "OK");
        return await p;
      });
      assert.equal(reply, "OK");
      assert.ok(ms < 5000, `held SET released after ${ms} ms`);
      assert.equal(await reader.call("GET", "p"), "2");
    });
    await t.step("ALL: every client waits, including CLIENT UNPAUSE, as in Redis", async () => {
      assert.equal(await admin.call("CLIENT", "PAUSE", "500", "ALL"), "OK");
      const [pong, pingMs] = await timed(() => reader.call("PING"));
      assert.equal(pong, "PONG");
      assert.ok(pingMs >= 350, `PING waited ${pingMs} ms`);
      assert.equal(await admin.call("CLIENT", "PAUSE", "400"), "OK");
      const [ok, unpauseMs] = await timed(() => writer.call("CLIENT", "UNPAUSE"));
      assert.equal(ok, "OK");
      assert.ok(unpauseMs >= 250, `CLIENT UNPAUSE waited ${unpauseMs} ms`);
    });
    admin.close();
    writer.close();
    reader.close();
  } finally {
    await srv.stop();
  }
});
