/**
 * Benchmark: damselfly against Debian's redis-server, started side by side in the same run.
 *
 * Runs redis-benchmark for each command at -P 1 and -P 32, measures each server's CPU time
 * per request from /proc, loads 1,000,000 distinct keys with 100-byte values to measure
 * memory per key, and prints every figure as a ratio to Redis. Before each measured run, both
 * servers serve a shorter run of the same test (`--warmup` requests, then FLUSHALL), so that the
 * figures are steady-state ones: a fresh damselfly process spends its first second or so
 * compiling the command path, which a long-running server has long done (`--warmup 0` measures
 * cold processes).
 *
 * Usage: scripts/bench [--requests N] [--warmup N] [--keys N] [--tests ping,set,get,incr,mset] [--skip-memory]
 */
import { Buffer } from "node:buffer";
import { argValue, cpuTicks, freePort, redisBenchmarkRps, ROOT, rssBytes, waitPing } from "./bench_lib.ts";

interface Target {
  name: string;
  port: number;
  pid: number;
  child: Deno.ChildProcess;
}

const REQUESTS = Number(argValue("requests", "200000"));
const KEYS = Number(argValue("keys", "1000000"));
const WARMUP = Number(argValue("warmup", "50000"));
const TESTS = argValue("tests", "ping,set,get,incr,mset,lpush,lpop,sadd,hset,zadd,zrange_100,lrange_100,xadd")
  .split(",");
const SKIP_MEMORY = Deno.args.includes("--skip-memory");
const CLK_TCK = 100;
/** Tests redis-benchmark lacks, given as explicit commands (`__rand_int__` is replaced per request). */
const CUSTOM_TESTS: Record<string, string[]> = {
  xadd: ["XADD", "mystream", "*", "field", "value:__rand_int__"],
  zrange_100: ["ZRANGE", "myzset", "0", "99", "WITHSCORES"],
};
/** Data some custom tests read, loaded before they run. */
const SETUP: Record<string, (i: number) => string[]> = {
  zrange_100: (i) => ["ZADD", "myzset", String(i), `member:${i}`],
};

async function startDamselfly(): Promise<Target> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${ROOT}main.ts`,
      `--port=${port}`,
      "--bind=127.0.0.1",
      "--logtostderr=false",
      "--minloglevel=1",
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitPing(port);
  return { name: "damselfly", port, pid: child.pid, child };
}

async function startRedis(): Promise<Target> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitPing(port);
  return { name: "redis", port, pid: child.pid, child };
}

function redisBenchmark(port: number, test: string, pipeline: number, requests = REQUESTS): Promise<number> {
  // redis-benchmark 7.0 has no built-in XADD or ZRANGE test: those run as custom commands.
  const what = CUSTOM_TESTS[test] ?? ["-t", test];
  return redisBenchmarkRps([
    "-p",
    String(port),
    "-c",
    "50",
    "-n",
    String(requests),
    "-P",
    String(pipeline),
    "-r",
    "100000",
    ...what,
  ]);
}

async function flush(port: number): Promise<void> {
  await new Deno.Command("redis-cli", { args: ["-p", String(port), "flushall"], stdout: "null" }).output();
}

/** Sends `n` commands built by `make(i)` through one pipelined connection and drains the replies. */
async function pipeline(port: number, n: number, make: (i: number) => string[]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = (async () => {
    // Every reply here is one short line (+OK or :n); count CRLFs.
    let lines = 0;
    const buf = new Uint8Array(1 << 16);
    while (lines < n) {
      const r = await conn.read(buf);
      if (r === null) throw new Error("connection closed while loading");
      for (let i = 0; i < r; i++) if (buf[i] === 10) lines++;
    }
  })();
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    let s = "";
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const args = make(j);
      s += `*${args.length}\r\n`;
      for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
    }
    const bytes = Buffer.from(s, "latin1");
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }
  await reader;
  conn.close();
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const damselfly = await startDamselfly();
const redis = await startRedis();
const rows: string[] = [];
console.log(`# damselfly vs redis-server — ${new Date().toISOString()}`);
console.log(
  `# redis-benchmark -c 50 -n ${REQUESTS} -r 100000, per test at -P 1 and -P 32, after ${WARMUP} warm-up requests`,
);
console.log(
  "| test | P | damselfly rps | redis rps | rps ratio | damselfly CPU µs/req | redis CPU µs/req | CPU ratio |",
);
console.log("|---|---|---|---|---|---|---|---|");
try {
  for (const test of TESTS) {
    for (const p of [1, 32]) {
      const res: Record<string, { rps: number; cpuUs: number }> = {};
      for (const t of [damselfly, redis]) {
        if (WARMUP > 0) {
          await flush(t.port);
          if (SETUP[test]) await pipeline(t.port, 1000, SETUP[test]);
          await redisBenchmark(t.port, test, p, WARMUP);
        }
        await flush(t.port);
        if (SETUP[test]) await pipeline(t.port, 1000, SETUP[test]);
        const before = cpuTicks(t.pid);
        const rps = await redisBenchmark(t.port, test, p);
        const ticks = cpuTicks(t.pid) - before;
        const reqs = test === "ping" ? REQUESTS * 2 : REQUESTS;
        res[t.name] = { rps, cpuUs: (ticks / CLK_TCK) * 1e6 / reqs };
      }
      const d = res.damselfly;
      const r = res.redis;
      const line = `| ${test} | ${p} | ${fmt(d.rps)} | ${fmt(r.rps)} | ${(d.rps / r.rps).toFixed(2)} | ${
        d.cpuUs.toFixed(2)
      } | ${r.cpuUs.toFixed(2)} | ${(d.cpuUs / r.cpuUs).toFixed(2)} |`;
      rows.push(line);
      console.log(line);
    }
  }
} finally {
  await stop(damselfly);
  await stop(redis);
}

if (!SKIP_MEMORY) {
  console.log("");
  console.log(
    `| memory (${fmt(KEYS)} elements, each in fresh servers) | damselfly B/element | redis B/element | ratio |`,
  );
  console.log("|---|---|---|---|");
  const value = "v".repeat(90);
  const cases: [string, (i: number) => string[]][] = [
    [
      "strings: SET key:i <100-byte value>",
      (i) => ["SET", `key:${String(i).padStart(12, "0")}`, value + String(i).padStart(10, "0")],
    ],
    ["hash: HSET bighash field:i value:i", (i) => ["HSET", "bighash", `field:${i}`, `value:${i}`]],
    ["set: SADD bigset member:i", (i) => ["SADD", "bigset", `member:${i}`]],
    ["sorted set: ZADD bigzset i member:i", (i) => ["ZADD", "bigzset", String(i), `member:${i}`]],
  ];
  for (const [label, make] of cases) {
    const per: Record<string, number> = {};
    for (const start of [startDamselfly, startRedis]) {
      const t = await start();
      try {
        // MEMORY PURGE: jemalloc releases dirty pages on Redis, a full GC runs on damselfly.
        await purge(t.port);
        const before = rssBytes(t.pid);
        await pipeline(t.port, KEYS, make);
        await purge(t.port);
        per[t.name] = (rssBytes(t.pid) - before) / KEYS;
      } finally {
        await stop(t);
      }
    }
    console.log(
      `| ${label} | ${fmt(per.damselfly, 1)} | ${fmt(per.redis, 1)} | ${(per.damselfly / per.redis).toFixed(2)} |`,
    );
  }
}

async function purge(port: number): Promise<void> {
  await new Deno.Command("redis-cli", { args: ["-p", String(port), "memory", "purge"], stdout: "null" }).output();
  await new Promise((r) => setTimeout(r, 500));
}

async function stop(t: Target): Promise<void> {
  try {
    t.child.kill("SIGKILL");
  } catch {
    // gone
  }
  await t.child.status;
}
