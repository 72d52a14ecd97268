/**
 * Flags and CONFIG against real processes: `main.ts --help`, `--version` and a bad flag;
 * CONFIG GET/SET of Redis's parameters with Redis's value syntax (differential against a
 * real redis-server), atomic multi-pair SET, RESETSTAT, REWRITE of a --flagfile (and its
 * error without one), and the npm clients' config helpers.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, type Reply, RespClient, ROOT, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { type DiffStep, runDifferential } from "../helpers/differential.ts";
import { FLAG_TABLE } from "../../src/config/flag_table.ts";
import { VERSION } from "../../src/version.ts";

/** Runs main.ts with `args`; returns exit code, stdout and stderr. */
async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}main.ts`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** CONFIG GET's flat [name, value, ...] reply as sorted pairs (Redis's order is its dict's). */
function sortedPairs(r: Reply): unknown {
  if (!Array.isArray(r)) return r;
  const pairs: string[] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push(`${r[i]}=${r[i + 1]}`);
  return pairs.sort();
}

function assertNoMismatch(mismatches: string[]): void {
  assert.deepEqual(mismatches, [], "replies differ from redis-server:\n" + mismatches.join("\n"));
}

Deno.test("main.ts --help, --version and bad flags", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0);
  for (const f of FLAG_TABLE) {
    const line = help.stdout.split("\n").find((l) => l.startsWith(`  --${f.name} (`));
    assert.ok(line, `--help lists --${f.name}`);
    assert.match(line, new RegExp(`; type: ${f.type}; default: .+;$`));
  }
  assert.match(help.stdout, /--port \(.+\); type: int; default: 6379;/);
  assert.match(help.stdout, /--maxmemory \(.+\); type: bytes; default: 0;/);
  const version = await runMain(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `damselfly ${VERSION}`);
  for (
    const [args, message] of [
      [["--bogus_flag=1"], "ERROR: Unknown command line flag 'bogus_flag'"],
      [
        ["--port=http"],
        "ERROR: Illegal value 'http' specified for flag 'port': argument couldn't be parsed into an integer",
      ],
      [
        ["--maxmemory", "lots"],
        "ERROR: Illegal value 'lots' specified for flag 'maxmemory': argument must be a memory value",
      ],
    ] as const
  ) {
    const r = await runMain([...args]);
    assert.equal(r.code, 1, `exit code for ${args.join(" ")}`);
    assert.equal(r.stderr, message + "\n", `stderr is one line for ${args.join(" ")}`);
  }
});

Deno.test("CONFIG GET/SET of Redis parameters match redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  const d = await RespClient.connect(srv.port);
  const r = await RespClient.connect(redis.port);
  try {
    await t.step("SET replies and the values GET reports afterwards", async () => {
      // [name, value, reason to skip the GET comparison afterwards]
      const pairs: [string, string, string?][] = [
        ["maxmemory-policy", "allkeys-lru"],
        ["maxmemory-policy", "ALLKEYS-LFU"],
        ["maxmemory-policy", "lru"],
        ["save", "100 10 60 1000"],
        ["save", "  900   1 "],
        ["save", "100"],
        ["save", "a b"],
        ["save", "100 -1"],
        ["save", ""],
        ["appendonly", "yes"],
        ["appendonly", "maybe"],
        ["appendonly", "no"],
        ["notify-keyspace-events", "KEA"],
        ["notify-keyspace-events", "Ex"],
        ["notify-keyspace-events", "Kmn"],
        ["notify-keyspace-events", "Elg"],
        ["notify-keyspace-events", "Q"],
        ["notify-keyspace-events", ""],
        ["hash-max-listpack-entries", "256"],
        ["hash-max-listpack-entries", "-1"],
        ["hash-max-ziplist-entries", "300"],
        ["hash-max-listpack-value", "1k"],
        ["hash-max-listpack-value", "1kb"],
        ["hash-max-listpack-value", "big"],
        ["list-max-listpack-size", "-3"],
        ["list-max-ziplist-size", "8"],
        ["list-max-listpack-size", "x"],
        ["set-max-intset-entries", "1000"],
        ["zset-max-listpack-entries", "64"],
        ["zset-max-listpack-value", "32"],
        ["stream-node-max-bytes", "4kb"],
        ["stream-node-max-entries", "50"],
        ["maxmemory", "10kb"],
        ["maxmemory", "-1"],
        ["maxmemory", "0"],
        ["timeout", "-1"],
        ["timeout", "30"],
        ["maxclients", "x", "defaults differ"],
        ["slowlog-log-slower-than", "5000"],
        ["slowlog-max-len", "64"],
        ["appendfsync", "always"],
        ["appendfsync", "sometimes"],
        ["maxmemory-samples", "10"],
        ["lfu-log-factor", "20"],
        ["lazyfree-lazy-user-del", "yes"],
        ["no-such-parameter", "1"],
      ];
      const steps: DiffStep[] = [];
      for (const [name, value, skipGet] of pairs) {
        steps.push(["CONFIG", "SET", name, value]);
        if (!skipGet) steps.push(["CONFIG", "GET", name]);
      }
      assertNoMismatch(await runDifferential(d, r, steps));
    });
    await t.step("several pairs are set atomically; argument errors", async () => {
      const steps: DiffStep[] = [
        ["CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "volatile-ttl"],
        { cmd: ["CONFIG", "GET", "maxmemory", "maxmemory-policy"], norm: sortedPairs },
        ["CONFIG", "SET", "maxmemory", "2mb", "maxmemory-policy", "bogus"],
        ["CONFIG", "GET", "maxmemory"],
        ["CONFIG", "SET", "maxmemory", "2mb", "maxmemory", "3mb"],
        ["CONFIG", "SET", "maxmemory", "2mb", "maxmemory-policy"],
        ["CONFIG", "SET", "maxmemory"],
        ["CONFIG", "GET"],
        ["CONFIG", "GET", "no-such-*"],
        ["CONFIG", "GET", "databases"],
        ["CONFIG", "RESETSTAT", "x"],
        ["CONFIG", "NOPE"],
        ["CONFIG"],
        ["CONFIG", "HELP"],
        ["CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction"],
      ];
      assertNoMismatch(await runDifferential(d, r, steps));
    });
    await t.step("CONFIG GET matches globs over names and Redis aliases; RESP3 map", async () => {
      const got = await d.call("CONFIG", "GET", "hash-max-*", "maxmemory") as string[];
      const names = got.filter((_, i) => i % 2 === 0).sort();
      assert.deepEqual(names, [
        "hash-max-listpack-entries",
        "hash-max-listpack-value",
        "hash-max-ziplist-entries",
        "hash-max-ziplist-value",
        "maxmemory",
      ]);
      const all = await d.call("CONFIG", "GET", "*") as string[];
      for (const f of FLAG_TABLE) assert.ok(all.includes(f.name), `CONFIG GET * includes ${f.name}`);
      assert.deepEqual(await d.call("CONFIG", "GET", "num_shards"), ["num_shards", "0"]);
      assert.deepEqual(await d.call("CONFIG", "GET", "replica_partial_sync"), ["replica_partial_sync", "true"]);
      const c3 = await RespClient.connect(srv.port);
      assert.ok((await c3.call("HELLO", "3")) instanceof Map);
      const m = await c3.call("CONFIG", "GET", "maxmemory");
      assert.ok(m instanceof Map && m.get("maxmemory") === "0");
      c3.close();
    });
    await t.step("CONFIG SET changes behaviour: slowlog threshold and requirepass", async () => {
      assert.equal(await d.call("CONFIG", "SET", "slowlog-log-slower-than", "0"), "OK");
      assert.equal(await d.call("SLOWLOG", "RESET"), "OK");
      assert.equal(await d.call("SET", "k", "v"), "OK");
      assert.ok((await d.call("SLOWLOG", "LEN") as number) >= 2);
      assert.equal(await d.call("CONFIG", "SET", "slowlog-log-slower-than", "10000"), "OK");
      assert.equal(await d.call("CONFIG", "SET", "requirepass", "pw"), "OK");
      const fresh = await RespClient.connect(srv.port);
      assert.deepEqual(await fresh.call("GET", "k"), new Error("NOAUTH Authentication required."));
      assert.equal(await fresh.call("AUTH", "pw"), "OK");
      assert.equal(await fresh.call("GET", "k"), "v");
      fresh.close();
      assert.equal(await d.call("CONFIG", "SET", "requirepass", ""), "OK");
    });
    await t.step("CONFIG RESETSTAT clears the same counters as Redis", async () => {
      for (const c of [d, r]) {
        await c.call("SET", "a", "1");
        await c.call("NOSUCHCOMMAND");
        assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
      }
      const stats = async (c: RespClient) => {
        const text = await c.call("INFO", "commandstats", "errorstats", "stats") as string;
        return text.split("\r\n").filter((l) =>
          /^(cmdstat_|errorstat_|total_error_replies|total_commands_processed|keyspace_)/.test(l)
        ).map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+/, "usec=N"));
      };
      assert.deepEqual(await stats(d), await stats(r));
    });
    await t.step("CONFIG REWRITE without a flagfile fails as in Redis", async () => {
      assertNoMismatch(await runDifferential(d, r, [["CONFIG", "REWRITE"]]));
    });
    await t.step("ioredis, node-redis and redis-cli speak CONFIG", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      try {
        await io.connect();
        assert.equal(await io.config("SET", "maxmemory-policy", "allkeys-random"), "OK");
        assert.deepEqual(await io.config("GET", "maxmemory-policy"), ["maxmemory-policy", "allkeys-random"]);
      } finally {
        io.disconnect();
      }
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.configSet({ "maxmemory": "5mb", "maxmemory-policy": "noeviction" }), "OK");
        assert.deepEqual({ ...await nr.configGet("maxmemory*") }, {
          "maxmemory": String(5 * 1024 * 1024),
          "maxmemory-eviction-tenacity": "10",
          "maxmemory-policy": "noeviction",
          "maxmemory-samples": "10",
        });
      } finally {
        await nr.quit();
      }
      assert.equal(await redisCli(srv.port, ["config", "get", "maxmemory"]), '1) "maxmemory"\n2) "5242880"');
    });
  } finally {
    d.close();
    r.close();
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("CONFIG REWRITE updates the --flagfile, keeping its comments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-config-" });
  const file = `${dir}/damselfly.flags`;
  await Deno.writeTextFile(
    file,
    "# damselfly test flags\n--maxclients=100\n\n# eviction\n--maxmemory-policy=noeviction\n",
  );
  const srv = await startServer([`--flagfile=${file}`]);
  try {
    const c = await RespClient.connect(srv.port);
    const info = await c.call("INFO", "server") as string;
    assert.ok(info.includes(`\r\nconfig_file:${await Deno.realPath(file)}\r\n`));
    assert.equal(await c.call("CONFIG", "SET", "maxclients", "200", "maxmemory-policy", "allkeys-lru"), "OK");
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "KEA"), "OK");
    assert.equal(await c.call("CONFIG", "REWRITE"), "OK");
    const text = await Deno.readTextFile(file);
    const lines = text.split("\n");
    assert.deepEqual(lines.slice(0, 5), [
      "# damselfly test flags",
      "--maxclients=200",
      "",
      "# eviction",
      "--maxmemory-policy=allkeys-lru",
    ]);
    assert.ok(lines.includes("--notify-keyspace-events=AKE"));
    assert.ok(lines.includes(`--port=${srv.port}`), "command-line flags are written too");
    assert.equal(lines.filter((l) => l.startsWith("--maxclients=")).length, 1);
    c.close();
    await srv.stop();
    // The rewritten file starts a server with the same settings.
    const again = await startServer([`--flagfile=${file}`, `--port=${srv.port}`]);
    try {
      const c2 = await RespClient.connect(again.port);
      assert.deepEqual(await c2.call("CONFIG", "GET", "maxclients"), ["maxclients", "200"]);
      assert.deepEqual(await c2.call("CONFIG", "GET", "maxmemory-policy"), ["maxmemory-policy", "allkeys-lru"]);
      assert.deepEqual(await c2.call("CONFIG", "GET", "notify-keyspace-events"), ["notify-keyspace-events", "AKE"]);
      c2.close();
    } finally {
      await again.stop();
    }
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
