/**
 * Migration benchmark (issue 6): the time damselfly takes to full-sync N keys from a real
 * redis-server primary, against a stock redis-server replica syncing the same primary in the
 * same run. Target: damselfly ≤ 1.5× Redis's time.
 *
 * The primary (Redis 7, diskless sync without delay, as a migration would configure it) is
 * filled once with N keys of mixed types (70% strings, 10% hashes, 10% lists, 5% sets, 5% sorted
 * sets; 100-byte values). Each round starts a fresh damselfly and a fresh redis-server (default
 * settings: disk-based load), and times each one alone, alternating the order, from REPLICAOF
 * until the replica reports a finished sync (damselfly: `slave_repl_offset` appears, i.e. stable
 * sync; Redis: link up and no sync in progress), then checks both hold N keys.
 *
 * Usage: scripts/bench-redis-migration [--keys N] [--rounds R] [--shards N]
 */
import { argValue, Conn, fillMixed, freePort, ROOT, stopChild, waitPing } from "./bench_lib.ts";

const KEYS = Number(argValue("keys", "1000000"));
const ROUNDS = Number(argValue("rounds", "3"));
const SHARDS = Number(argValue("shards", "2"));

interface Proc {
  port: number;
  child: Deno.ChildProcess;
  dir?: string;
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
  return { port, child };
}

async function startRedis(extra: string[]): Promise<Proc> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-migration-" });
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extra],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitPing(port);
  return { port, child, dir };
}

async function stop(p: Proc): Promise<void> {
  await stopChild(p.child);
  if (p.dir) await Deno.remove(p.dir, { recursive: true }).catch(() => {});
}

function infoField(text: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, "m").exec(text);
  return m ? m[1].trim() : undefined;
}

/** REPLICAOF on `replica` and the seconds until its sync finished. */
async function timeSync(kind: "damselfly" | "redis", replica: Proc, primaryPort: number): Promise<number> {
  const ctl = await Conn.open(replica.port);
  try {
    const t0 = performance.now();
    const ok = await ctl.call("REPLICAOF", "127.0.0.1", String(primaryPort));
    if (ok !== "OK") throw new Error(`${kind}: REPLICAOF answered ${ok}`);
    const deadline = t0 + 600_000;
    for (;;) {
      const text = await ctl.call("INFO", "replication");
      const done = kind === "damselfly"
        ? infoField(text, "slave_repl_offset") !== undefined
        : infoField(text, "master_link_status") === "up" && infoField(text, "master_sync_in_progress") === "0";
      if (done) break;
      if (performance.now() > deadline) throw new Error(`${kind}: no finished sync after 600 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - t0) / 1000;
    const size = Number(await ctl.call("DBSIZE"));
    if (size !== KEYS) throw new Error(`${kind}: ${size} keys after the sync, expected ${KEYS}`);
    return seconds;
  } finally {
    ctl.close();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const primary = await startRedis(["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]);
try {
  const t0 = performance.now();
  await fillMixed(primary.port, KEYS);
  console.log(`primary redis-server filled with ${KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const times: Record<"damselfly" | "redis", number[]> = { damselfly: [], redis: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: ("damselfly" | "redis")[] = round % 2 === 0 ? ["redis", "damselfly"] : ["damselfly", "redis"];
    for (const kind of order) {
      const replica = kind === "damselfly" ? await startDamselfly() : await startRedis([]);
      try {
        const s = await timeSync(kind, replica, primary.port);
        times[kind].push(s);
        console.log(`round ${round + 1}: ${kind.padEnd(9)} full sync of ${KEYS} keys in ${s.toFixed(2)} s`);
      } finally {
        await stop(replica);
      }
    }
  }
  const d = median(times.damselfly);
  const r = median(times.redis);
  console.log(
    `median full sync: damselfly ${d.toFixed(2)} s, redis-server ${r.toFixed(2)} s, ratio ${
      (d / r).toFixed(2)
    }× (target ≤ 1.5×)`,
  );
} finally {
  await stop(primary);
}
