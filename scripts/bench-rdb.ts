/**
 * RDB benchmark: damselfly against redis-server on the same data in the same run.
 *
 * Fills damselfly with N keys of mixed types (60% 100-byte strings, a tenth of them with a TTL;
 * 10% each of 5-field hashes, 5-item lists, 5-member sets (half integer sets); 8% 5-member sorted
 * sets; 2% 3-entry streams), then measures:
 * - damselfly SAVE time (the SAVE round trip) and BGSAVE time;
 * - damselfly's peak extra memory during BGSAVE (PSS sampled every 10 ms minus the value before,
 *   both servers' heaps purged first with MEMORY PURGE),
 *   also as a share of the dataset (damselfly's PSS growth from the fill), for the first BGSAVE
 *   and for a second one: the first also pays for V8 flattening the 13-32 byte values the RESP
 *   parser built as cons strings (a one-time cost of reading them, which GET pays as well);
 * - redis-server's load time of damselfly's file (its "DB loaded from disk" log line), then its
 *   SAVE time, its BGSAVE time and peak extra PSS (the forked child included) and
 *   rdb_last_cow_size;
 * - damselfly's load time of redis-server's file and of its own ("DB loaded in" log line);
 * and prints the ratios (damselfly / redis-server time, so lower is better; load speed is the
 * inverse: target ≥ 0.5× Redis's, i.e. a time ratio ≤ 2).
 *
 * Usage: scripts/bench-rdb [--keys N] [--shards N]
 */
import { argValue, Conn, encode, freePort, pssTree, ROOT, stopChild, waitPing } from "./bench_lib.ts";

const KEYS = Number(argValue("keys", "1000000"));
const SHARDS = Number(argValue("shards", "2"));

interface Proc {
  port: number;
  pid: number;
  child: Deno.ChildProcess;
  /** Log text so far (damselfly's stderr, redis-server's logfile). */
  logs(): Promise<string>;
}

async function startDamselfly(dir: string, dbfilename: string): Promise<Proc> {
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
      `--dir=${dir}`,
      `--dbfilename=${dbfilename}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of child.stderr) text += decoder.decode(chunk);
  })();
  await waitPing(port);
  return { port, pid: child.pid, child, logs: () => Promise.resolve(text) };
}

async function startRedis(dir: string, dbfilename: string): Promise<Proc> {
  const port = freePort();
  const logfile = `${dir}/redis-${port}.log`;
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
      "--dbfilename",
      dbfilename,
      "--logfile",
      logfile,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitPing(port);
  return { port, pid: child.pid, child, logs: () => Deno.readTextFile(logfile).catch(() => "") };
}

function stop(p: Proc): Promise<void> {
  return stopChild(p.child);
}

function value(n: number, len: number): string {
  const s = `v${n}:`;
  return s + "x".repeat(Math.max(0, len - s.length));
}

/** The fill commands for keys [from, to). */
function fillCommands(from: number, to: number): string[][] {
  const cmds: string[][] = [];
  for (let i = from; i < to; i++) {
    const kind = i % 50;
    if (kind < 30) {
      const args = ["SET", `str:${i}`, value(i, 100)];
      if (kind % 10 === 0) args.push("PX", "3600000");
      cmds.push(args);
    } else if (kind < 35) {
      const a = ["HSET", `hash:${i}`];
      for (let f = 0; f < 5; f++) a.push(`field${f}`, value(i + f, 20));
      cmds.push(a);
    } else if (kind < 40) {
      const a = ["RPUSH", `list:${i}`];
      for (let f = 0; f < 5; f++) a.push(value(i + f, 20));
      cmds.push(a);
    } else if (kind < 45) {
      const a = ["SADD", `set:${i}`];
      for (let f = 0; f < 5; f++) a.push(kind % 2 === 0 ? String(i * 10 + f) : `member:${i}:${f}`);
      cmds.push(a);
    } else if (kind < 49) {
      const a = ["ZADD", `zset:${i}`];
      for (let f = 0; f < 5; f++) a.push(String(f * 1.5), `m:${i}:${f}`);
      cmds.push(a);
    } else {
      for (let e = 1; e <= 3; e++) cmds.push(["XADD", `stream:${i}`, `${e}-1`, "f", value(i + e, 20)]);
    }
  }
  return cmds;
}

async function fill(port: number): Promise<void> {
  const c = await Conn.open(port);
  try {
    const BATCH = 5000;
    for (let i = 0; i < KEYS; i += BATCH) {
      const cmds = fillCommands(i, Math.min(KEYS, i + BATCH));
      await c.write(encode(cmds));
      for (let j = 0; j < cmds.length; j++) {
        const r = await c.read();
        if (r.startsWith("ERR:")) throw new Error(r);
      }
    }
  } finally {
    c.close();
  }
}

async function infoField(port: number, section: string, field: string): Promise<string> {
  const c = await Conn.open(port);
  try {
    const m = new RegExp(`^${field}:(.*)$`, "m").exec(await c.call("INFO", section));
    return m ? m[1].trim() : "";
  } finally {
    c.close();
  }
}

async function timed(port: number, ...cmd: string[]): Promise<number> {
  const c = await Conn.open(port);
  try {
    const t = performance.now();
    const r = await c.call(...cmd);
    if (r.startsWith("ERR:")) throw new Error(`${cmd.join(" ")}: ${r}`);
    return (performance.now() - t) / 1000;
  } finally {
    c.close();
  }
}

/** Runs BGSAVE after MEMORY PURGE, sampling PSS every 10 ms; returns [seconds, peak extra bytes]. */
async function bgsave(p: Proc): Promise<[number, number]> {
  await timed(p.port, "MEMORY", "PURGE");
  const before = pssTree(p.pid);
  let peak = before;
  const t = performance.now();
  const c = await Conn.open(p.port);
  try {
    const r = await c.call("BGSAVE");
    if (!r.startsWith("Background saving started")) throw new Error(`BGSAVE: ${r}`);
    for (;;) {
      peak = Math.max(peak, pssTree(p.pid));
      const m = /rdb_bgsave_in_progress:(\d)/.exec(await c.call("INFO", "persistence"));
      if (m && m[1] === "0") break;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    c.close();
  }
  return [(performance.now() - t) / 1000, peak - before];
}

/** Load time (s) from the log line of a finished load. */
async function loadSeconds(p: Proc, re: RegExp): Promise<number> {
  const m = re.exec(await p.logs());
  if (!m) throw new Error(`no load time in the logs:\n${(await p.logs()).slice(-2000)}`);
  return Number(m[1]);
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const sec = (s: number) => `${s.toFixed(3)} s`;
const pct = (part: number, whole: number) => `${(100 * part / whole).toFixed(1)}%`;

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench-rdb-" });
  try {
    console.log(`# RDB benchmark: ${KEYS} keys of mixed types, damselfly with ${SHARDS} shards`);
    const d = await startDamselfly(dir, "damselfly.rdb");
    const empty = pssTree(d.pid);
    let t = performance.now();
    await fill(d.port);
    console.log(`fill: ${sec((performance.now() - t) / 1000)}`);
    const dbsize = await timed(d.port, "DBSIZE").then(async () => {
      const c = await Conn.open(d.port);
      try {
        return Number(await c.call("DBSIZE"));
      } finally {
        c.close();
      }
    });
    await timed(d.port, "MEMORY", "PURGE");
    const dataset = pssTree(d.pid) - empty;
    console.log(`damselfly: ${dbsize} keys, dataset ${mb(dataset)} (PSS growth from the fill)`);
    const [dBgTime, dBgExtra] = await bgsave(d);
    const [dBgTime2, dBgExtra2] = await bgsave(d);
    const dSave = await timed(d.port, "SAVE");
    const fileSize = (await Deno.stat(`${dir}/damselfly.rdb`)).size;
    console.log(
      `damselfly: SAVE ${sec(dSave)}, BGSAVE ${sec(dBgTime)} then ${sec(dBgTime2)}; BGSAVE peak extra ${
        mb(dBgExtra)
      } (${pct(dBgExtra, dataset)} of the dataset) then ${mb(dBgExtra2)} (${pct(dBgExtra2, dataset)}); file ${
        mb(fileSize)
      }`,
    );
    await stop(d);

    // redis-server loads damselfly's file (a copy: its SAVE replaces it): the same data.
    await Deno.copyFile(`${dir}/damselfly.rdb`, `${dir}/redis.rdb`);
    t = performance.now();
    const r = await startRedis(dir, "redis.rdb");
    const rLoadWall = (performance.now() - t) / 1000;
    const rLoad = await loadSeconds(r, /DB loaded from disk: ([\d.]+) seconds/);
    const rKeys = Number((/keys=(\d+)/.exec(await infoField(r.port, "keyspace", "db0")) ?? [])[1]);
    const rDataset = Number(await infoField(r.port, "memory", "used_memory"));
    const rSave = await timed(r.port, "SAVE");
    const [rBgTime, rBgExtra] = await bgsave(r);
    const rCow = Number(await infoField(r.port, "persistence", "rdb_last_cow_size"));
    console.log(
      `redis-server: loaded ${rKeys} keys in ${sec(rLoad)} (start-up ${sec(rLoadWall)}), used_memory ${
        mb(rDataset)
      }; SAVE ${sec(rSave)}, BGSAVE ${sec(rBgTime)}, BGSAVE peak extra PSS ${mb(rBgExtra)}, rdb_last_cow_size ${
        mb(rCow)
      }`,
    );
    await stop(r);

    // damselfly loads redis-server's file and its own.
    t = performance.now();
    const d2 = await startDamselfly(dir, "redis.rdb");
    const dLoadWall = (performance.now() - t) / 1000;
    const dLoad = await loadSeconds(d2, /DB loaded in ([\d.]+) seconds/);
    await stop(d2);
    const d3 = await startDamselfly(dir, "damselfly.rdb");
    const dLoadOwn = await loadSeconds(d3, /DB loaded in ([\d.]+) seconds/);
    await stop(d3);
    console.log(
      `damselfly: loaded redis-server's file in ${sec(dLoad)} (start-up ${sec(dLoadWall)}), its own in ${
        sec(dLoadOwn)
      }`,
    );

    console.log("\n| metric | damselfly | redis-server | ratio |");
    console.log("|---|---|---|---|");
    console.log(`| SAVE | ${sec(dSave)} | ${sec(rSave)} | ${(dSave / rSave).toFixed(2)}× the time |`);
    console.log(`| BGSAVE | ${sec(dBgTime)} | ${sec(rBgTime)} | ${(dBgTime / rBgTime).toFixed(2)}× the time |`);
    console.log(
      `| load (same data) | ${sec(dLoad)} | ${sec(rLoad)} | ${
        (rLoad / dLoad).toFixed(2)
      }× Redis's speed (target ≥ 0.5) |`,
    );
    console.log(
      `| BGSAVE peak extra memory | first ${mb(dBgExtra)} (${pct(dBgExtra, dataset)} of ${mb(dataset)}), second ${
        mb(dBgExtra2)
      } (${pct(dBgExtra2, dataset)}) | ${mb(rBgExtra)} PSS, COW ${mb(rCow)} | target ≤ 10% |`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

await main();
