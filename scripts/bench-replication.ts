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
import { Buffer } from "node:buffer";

const ROOT = new URL("../", import.meta.url).pathname;
const argv = Deno.args;
function argValue(name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
}
const KEYS = Number(argValue("keys", "1000000"));
const LAG_SECONDS = Number(argValue("lag-seconds", "10"));
const SHARDS = Number(argValue("shards", "2"));
const SKIP_REDIS = argv.includes("--skip-redis");

interface Proc {
  port: number;
  pid: number;
  child: Deno.ChildProcess;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** A minimal pipelining RESP client for the fill, the probes and INFO. */
class Conn {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private closed = false;
  private constructor(private readonly conn: Deno.Conn) {
    void this.pump();
  }
  static async open(port: number): Promise<Conn> {
    for (let i = 0;; i++) {
      try {
        return new Conn(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch (e) {
        if (i > 300) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  private async pump(): Promise<void> {
    const chunk = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        this.buf = this.buf.length === 0
          ? Buffer.from(chunk.subarray(0, n))
          : Buffer.concat([this.buf, chunk.subarray(0, n)]);
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    } catch {
      // closed
    }
    this.closed = true;
    for (const f of this.waiters) f();
  }
  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.conn.write(data.subarray(off));
  }
  /** Reads one reply; returns it as text (arrays are flattened with spaces). */
  async read(): Promise<string> {
    for (;;) {
      const r = parse(this.buf, 0);
      if (r !== null) {
        this.buf = this.buf.subarray(r[1]);
        return r[0];
      }
      if (this.closed) throw new Error("connection closed");
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }
  async call(...args: string[]): Promise<string> {
    await this.write(encode(args));
    return await this.read();
  }
  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed
    }
  }
}

function encode(args: string[]): Uint8Array {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return Buffer.from(s, "latin1");
}

function parse(buf: Buffer, pos: number): [string, number] | null {
  const nl = buf.indexOf("\r\n", pos, "latin1");
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString("latin1", pos + 1, nl);
  if (type === "$") {
    const len = Number(line);
    if (len < 0) return ["", nl + 2];
    if (buf.length < nl + 2 + len + 2) return null;
    return [buf.toString("latin1", nl + 2, nl + 2 + len), nl + 4 + len];
  }
  if (type === "*") {
    let p = nl + 2;
    const parts: string[] = [];
    for (let i = 0; i < Number(line); i++) {
      const r = parse(buf, p);
      if (r === null) return null;
      parts.push(r[0]);
      p = r[1];
    }
    return [parts.join(" "), p];
  }
  return [type === "-" ? `ERR:${line}` : line, nl + 2];
}

async function waitPing(port: number): Promise<void> {
  const c = await Conn.open(port);
  try {
    for (let i = 0; i < 300; i++) {
      if ((await c.call("PING")) === "PONG") return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server on ${port} did not answer PING`);
  } finally {
    c.close();
  }
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

async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGKILL");
  } catch {
    // gone
  }
  await p.child.status;
}

/** Proportional set size of a process and its children (kB → bytes), from smaps_rollup. */
function pssTree(pid: number): number {
  let total = 0;
  const pids = [pid];
  try {
    const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
    if (kids) pids.push(...kids.split(/\s+/).map(Number));
  } catch {
    // no children file
  }
  for (const p of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${p}/smaps_rollup`));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited
    }
  }
  return total;
}

/** Fills `port` with KEYS keys: 70% strings, 10% hashes, 10% lists, 5% sets, 5% sorted sets. */
async function fill(port: number): Promise<void> {
  const c = await Conn.open(port);
  const value = "v".repeat(100);
  const field = "f".repeat(20);
  try {
    const batch = 2000;
    let inFlight = 0;
    for (let i = 0; i < KEYS; i += batch) {
      const parts: Uint8Array[] = [];
      for (let j = i; j < Math.min(KEYS, i + batch); j++) {
        const kind = j % 20;
        const key = `key:${j}`;
        if (kind < 14) parts.push(encode(["SET", key, value]));
        else if (kind < 16) parts.push(encode(["HSET", key, `${field}1`, value, `${field}2`, value]));
        else if (kind < 18) parts.push(encode(["RPUSH", key, value, value, value]));
        else if (kind < 19) parts.push(encode(["SADD", key, `a${value}`, `b${value}`, `c${value}`]));
        else parts.push(encode(["ZADD", key, "1", `a${value}`, "2", `b${value}`]));
      }
      await c.write(Buffer.concat(parts));
      inFlight += parts.length;
      if (inFlight >= 20_000) {
        for (; inFlight > 0; inFlight--) await c.read();
      }
    }
    for (; inFlight > 0; inFlight--) await c.read();
  } finally {
    c.close();
  }
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
    await fill(primary.port);
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
