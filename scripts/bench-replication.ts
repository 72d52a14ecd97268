/**
 * Replication benchmark: damselfly → damselfly against redis-server → redis-server (diskless),
 * both measured in the same run on the same data.
 *
 * For each pair it fills the primary with N keys of mixed types (strings, hashes, lists, sets,
 * sorted sets; 100-byte values), then measures:
 * - full-sync time: from REPLICAOF until the replica reports a finished sync;
 * - the primary's peak extra memory during the sync (PSS of the primary and any child it forks,
 *   sampled every 20 ms, minus the value before REPLICAOF), also as a share of the dataset
 *   (the primary's memory growth from the fill);
 * - replication lag while `redis-benchmark -P 16` writes to the primary: the primary's `lag`
 *   (journal records, damselfly only) sampled every 10 ms, and the time a probe key written
 *   on the primary takes to appear on the replica (ms), as p50/p99.
 *
 * Usage: scripts/bench-replication [--keys N] [--lag-seconds S] [--shards N] [--skip-redis]
 */
import { argValue, Conn, fillMixed, freePort, pssTree, ROOT, stopChild, waitPing } from "./bench_lib.ts";

const KEYS = Number(argValue("keys", "1000000"));
const LAG_SECONDS = Number(argValue("lag-seconds", "10"));
const SHARDS = Number(argValue("shards", "2"));
const SKIP_REDIS = Deno.args.includes("--skip-redis");

interface Proc {
  port: number;
  pid: number;
  child: Deno.ChildProcess;
}

async function startDamselfly(): Promise<Proc> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--max-old-space-size=8192",
      `${ROOT}main.ts`,
      `--port=${port}`,
      "--bind=127.0.0.1",
      `--num_shards=${SHARDS}`,
      "--minloglevel=1",
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitPing(port);
  return { port, pid: child.pid, child };
}

async function startRedis(): Promise<Proc> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-repl-" });
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--repl-diskless-sync",
      "yes",
      "--repl-diskless-sync-delay",
      "0",
      "--repl-diskless-load",
      "on-empty-db",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitPing(port);
  return { port, pid: child.pid, child };
}

function stop(p: Proc): Promise<void> {
  return stopChild(p.child);
}

function infoField(text: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, "m").exec(text);
  return m ? m[1].trim() : undefined;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface SyncResult {
  seconds: number;
  datasetBytes: number;
  peakExtraBytes: number;
  lagRecords: number[];
  lagMs: number[];
  benchRps: number;
}

async function measure(kind: "damselfly" | "redis"): Promise<SyncResult> {
  const start = kind === "damselfly" ? startDamselfly : startRedis;
  const primary = await start();
  const replica = await start();
  try {
    const base = pssTree(primary.pid);
    const t0 = performance.now();
    await fillMixed(primary.port, KEYS);
    console.log(`${kind}: filled ${KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const before = pssTree(primary.pid);
    const datasetBytes = before - base;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, pssTree(primary.pid));
    }, 20);
    const ctl = await Conn.open(replica.port);
    const syncStart = performance.now();
    const ok = await ctl.call("REPLICAOF", "127.0.0.1", String(primary.port));
    if (ok !== "OK") throw new Error(`REPLICAOF: ${ok}`);
    for (;;) {
      const text = await ctl.call("INFO", "replication");
      const done = kind === "damselfly"
        ? infoField(text, "slave_repl_offset") !== undefined
        : infoField(text, "master_link_status") === "up" && infoField(text, "master_sync_in_progress") === "0";
      if (done) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - syncStart) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, pssTree(primary.pid));
    const dbsize = await ctl.call("DBSIZE");
    console.log(`${kind}: full sync of ${dbsize} keys in ${seconds.toFixed(2)} s`);

    // Lag under redis-benchmark -P 16.
    const lagRecords: number[] = [];
    const lagMs: number[] = [];
    const pconn = await Conn.open(primary.port);
    const probeConn = await Conn.open(primary.port);
    const rconn = await Conn.open(replica.port);
    const bench = new Deno.Command("redis-benchmark", {
      args: [
        "-p",
        String(primary.port),
        "-P",
        "16",
        "-c",
        "20",
        "-t",
        "set",
        "-d",
        "100",
        "-r",
        "1000000",
        "-n",
        "100000000",
        "--csv",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const benchStart = performance.now();
    const benchCmdsBefore = Number(infoField(await pconn.call("INFO", "stats"), "total_commands_processed"));
    const deadline = performance.now() + LAG_SECONDS * 1000;
    const recordsSampler = kind === "damselfly"
      ? (async () => {
        while (performance.now() < deadline) {
          const text = await pconn.call("INFO", "replication");
          const m = /lag=(\d+)/.exec(text);
          if (m) lagRecords.push(Number(m[1]));
          await new Promise((r) => setTimeout(r, 10));
        }
      })()
      : Promise.resolve();
    let seq = 0;
    while (performance.now() < deadline) {
      const key = `probe:${seq++}`;
      const t = performance.now();
      await probeConn.call("SET", key, "1");
      for (;;) {
        if ((await rconn.call("EXISTS", key)) === "1") break;
        if (performance.now() - t > 30_000) throw new Error("a probe never reached the replica");
        await new Promise((r) => setTimeout(r, 1));
      }
      lagMs.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    await recordsSampler;
    const benchCmds = Number(infoField(await pconn.call("INFO", "stats"), "total_commands_processed")) -
      benchCmdsBefore;
    const benchRps = benchCmds / ((performance.now() - benchStart) / 1000);
    try {
      bench.kill("SIGKILL");
    } catch {
      // done
    }
    await bench.status;
    pconn.close();
    probeConn.close();
    rconn.close();
    ctl.close();
    return { seconds, datasetBytes, peakExtraBytes: peak - before, lagRecords, lagMs, benchRps };
  } finally {
    await stop(primary);
    await stop(replica);
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

function report(name: string, r: SyncResult): void {
  console.log(`\n${name}`);
  console.log(`  full sync:              ${r.seconds.toFixed(2)} s`);
  console.log(`  dataset (primary PSS):  ${mb(r.datasetBytes)}`);
  console.log(
    `  peak extra during sync: ${mb(r.peakExtraBytes)} (${
      ((r.peakExtraBytes / r.datasetBytes) * 100).toFixed(1)
    }% of the dataset)`,
  );
  console.log(`  writes during lag test: ${Math.round(r.benchRps)} commands/s on the primary`);
  if (r.lagRecords.length > 0) {
    console.log(
      `  lag (records):          p50 ${percentile(r.lagRecords, 50)}, p99 ${percentile(r.lagRecords, 99)}, max ${
        Math.max(...r.lagRecords)
      } (${r.lagRecords.length} samples)`,
    );
  }
  console.log(
    `  lag (ms, probe):        p50 ${percentile(r.lagMs, 50).toFixed(1)}, p99 ${
      percentile(r.lagMs, 99).toFixed(1)
    }, max ${Math.max(...r.lagMs).toFixed(1)} (${r.lagMs.length} probes)`,
  );
}

const ours = await measure("damselfly");
const theirs = SKIP_REDIS ? null : await measure("redis");
report(`damselfly → damselfly (${SHARDS} shards, ${KEYS} keys)`, ours);
if (theirs) {
  report(`redis-server → redis-server, diskless (${KEYS} keys)`, theirs);
  console.log(`\nfull-sync time ratio damselfly/redis: ${(ours.seconds / theirs.seconds).toFixed(2)} (target ≤ 1.5)`);
}
console.log(
  `damselfly extra memory during sync: ${((ours.peakExtraBytes / ours.datasetBytes) * 100).toFixed(1)}% (target ≤ 10%)`,
);
console.log(`damselfly p99 lag: ${percentile(ours.lagMs, 99).toFixed(1)} ms (target < 100 ms)`);
