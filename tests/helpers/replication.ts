/**
 * Replication test helpers: INFO/ROLE access, "caught up" waits, dataset comparison (DEBUG
 * DIGEST plus a per-key dump) and a seeded concurrent write load over every data type.
 *
 * Invariants: every wait has a deadline; the load is reproducible from its seed and stops when
 * asked; a comparison failure names the first differing keys.
 */
import { type Reply, RespClient, type ServerProcess, waitFor } from "./server.ts";
import { rng } from "./rng.ts";

/** Sends one command on a fresh connection and returns the reply. */
export async function call(port: number, ...args: (string | number)[]): Promise<Reply> {
  const c = await RespClient.connect(port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

/** The `field:value` lines of an INFO section as a record. */
export async function info(port: number, section = "replication"): Promise<Record<string, string>> {
  const text = await call(port, "INFO", section);
  if (typeof text !== "string") throw new Error(`INFO ${section} answered ${String(text)}`);
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** ROLE as an array. */
export async function role(port: number): Promise<Reply[]> {
  return await call(port, "ROLE") as Reply[];
}

/** Waits until the replica's ROLE state is `state`. */
export async function waitState(port: number, state: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await role(port))[3] === state, `replica ${port} in state ${state}`, timeoutMs, 10);
}

/** Sum of the primary's per-shard next LSNs (DFLY REPLICAOFFSET). */
export async function primaryOffset(port: number): Promise<number> {
  const r = await call(port, "DFLY", "REPLICAOFFSET") as number[];
  return r.reduce((a, b) => a + b, 0);
}

/**
 * True when the replica is in stable sync and applied everything the primary journaled
 * (its slave_repl_offset equals the sum of the primary's LSNs).
 */
export async function caughtUp(primaryPort: number, replicaPort: number): Promise<boolean> {
  const [p, r] = await Promise.all([primaryOffset(primaryPort), info(replicaPort)]);
  return r.master_link_status === "up" && r.slave_repl_offset !== undefined && Number(r.slave_repl_offset) === p;
}

/** Waits until every replica caught up with the primary. */
export async function waitCaughtUp(primaryPort: number, replicaPorts: number[], timeoutMs = 60_000): Promise<void> {
  for (const r of replicaPorts) {
    try {
      await waitFor(() => caughtUp(primaryPort, r), `replica ${r} to catch up with ${primaryPort}`, timeoutMs, 20);
    } catch (e) {
      const state = await Promise.all([call(primaryPort, "DFLY", "REPLICAOFFSET"), info(r)]).catch((x) => x);
      throw new Error(`${(e as Error).message}; primary LSNs and replica INFO: ${JSON.stringify(state)}`);
    }
  }
}

/** Keys and their DEBUG DIGEST-VALUE + PEXPIRETIME, as `db/key` → `digest ttl`. */
export async function dump(port: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const c = await RespClient.connect(port);
  try {
    const ks = await info(port, "keyspace");
    for (const name of Object.keys(ks)) {
      const db = Number(name.slice(2));
      await c.call("SELECT", db);
      let cursor = "0";
      do {
        const [next, keys] = await c.call("SCAN", cursor, "COUNT", 1000) as [string, string[]];
        cursor = next;
        for (const k of keys) {
          await c.sendCommand("DEBUG", "DIGEST-VALUE", k);
          await c.sendCommand("PEXPIRETIME", k);
        }
        for (const k of keys) {
          const d = await c.read();
          const t = await c.read();
          out.set(`${db}/${k}`, `${d} ${t}`);
        }
      } while (cursor !== "0");
    }
  } finally {
    c.close();
  }
  return out;
}

/** Asserts that two servers hold the same dataset (DEBUG DIGEST, then a per-key dump). */
export async function assertSameData(primaryPort: number, replicaPort: number): Promise<void> {
  const [a, b] = await Promise.all([call(primaryPort, "DEBUG", "DIGEST"), call(replicaPort, "DEBUG", "DIGEST")]);
  const [da, db] = await Promise.all([dump(primaryPort), dump(replicaPort)]);
  const diffs: string[] = [];
  for (const [k, v] of da) if (db.get(k) !== v) diffs.push(`${k}: primary ${v}, replica ${db.get(k) ?? "(missing)"}`);
  for (const k of db.keys()) if (!da.has(k)) diffs.push(`${k}: only on the replica`);
  if (diffs.length > 0 || a !== b) {
    throw new Error(
      `datasets differ (digest ${a} vs ${b}, ${da.size} vs ${db.size} keys):\n  ${diffs.slice(0, 20).join("\n  ")}`,
    );
  }
}

/** Options of a write load. */
export interface LoadOptions {
  /** PRNG seed. */
  seed?: number;
  /** Parallel connections. */
  connections?: number;
  /** Commands pipelined per round trip. */
  pipeline?: number;
  /** Distinct keys per type. */
  keys?: number;
  /** Include short TTLs (keys expire on the primary while the load runs). */
  shortTtls?: boolean;
  /** Databases used (0..dbs-1). */
  dbs?: number;
}

/** A running write load. */
export interface WriteLoad {
  /** Commands sent so far. */
  sent(): number;
  /** Stops the load and waits for the last replies. */
  stop(): Promise<number>;
}

/** One random write (or a short MULTI/EXEC) over every data type. */
function randomCommands(r: () => number, keys: number, shortTtls: boolean, dbs: number): (string | number)[][] {
  const n = (m: number) => Math.floor(r() * m);
  const k = (t: string) => `${t}:${n(keys)}`;
  const v = () => `v${n(1_000_000)}-${"x".repeat(n(40))}`;
  const pick = n(40);
  switch (pick) {
    case 0:
      return [["SET", k("s"), v()]];
    case 1:
      return [["INCR", k("n")]];
    case 2:
      return [["APPEND", k("s"), v()]];
    case 3:
      return [["SET", k("s"), v(), "EX", 1000 + n(1000)]];
    case 4:
      return [["SETRANGE", k("s"), n(20), v()]];
    case 5:
      return [["INCRBYFLOAT", k("f"), (r() * 10).toFixed(3)]];
    case 6:
      return [["MSET", k("s"), v(), k("s"), v(), k("s"), v()]];
    case 7:
      return [["DEL", k("s"), k("l"), k("h")]];
    case 8:
      return [["RPUSH", k("l"), v(), v()]];
    case 9:
      return [["LPUSH", k("l"), v()]];
    case 10:
      return [["LPOP", k("l")]];
    case 11:
      return [["RPOPLPUSH", k("l"), k("l")]];
    case 12:
      return [["LTRIM", k("l"), 0, 20]];
    case 13:
      return [["HSET", k("h"), `f${n(30)}`, v(), `f${n(30)}`, v()]];
    case 14:
      return [["HDEL", k("h"), `f${n(30)}`]];
    case 15:
      return [["HINCRBY", k("h"), `c${n(5)}`, n(100)]];
    case 16:
      return [["SADD", k("set"), `m${n(50)}`, `m${n(50)}`, n(1000)]];
    case 17:
      return [["SREM", k("set"), `m${n(50)}`]];
    case 18:
      return [["SPOP", k("set")]];
    case 19:
      return [["SMOVE", k("set"), k("set"), `m${n(50)}`]];
    case 20:
      return [["SUNIONSTORE", k("set"), k("set"), k("set")]];
    case 21:
      return [["ZADD", k("z"), (r() * 100).toFixed(2), `m${n(50)}`, n(100), `m${n(50)}`]];
    case 22:
      return [["ZINCRBY", k("z"), (r() * 5).toFixed(4), `m${n(50)}`]];
    case 23:
      return [["ZPOPMIN", k("z")]];
    case 24:
      return [["ZUNIONSTORE", k("z"), 2, k("z"), k("z")]];
    case 25:
      return [["XADD", k("x"), "*", "f", v(), "g", n(10)]];
    case 26:
      return [["XTRIM", k("x"), "MAXLEN", 50]];
    case 27:
      return [["PFADD", k("hll"), v(), v(), v()]];
    case 28:
      return [["SETBIT", k("b"), n(2000), n(2)]];
    case 29:
      return [["BITOP", "OR", k("b"), k("b"), k("b")]];
    case 30:
      return [["GEOADD", k("g"), (r() * 360 - 180).toFixed(5), (r() * 170 - 85).toFixed(5), `p${n(30)}`]];
    case 31:
      return [["EXPIRE", k("s"), 500 + n(500)]];
    case 32:
      return [["PERSIST", k("s")]];
    case 33:
      return [["RENAME", k("n"), k("n")]];
    case 34:
      return shortTtls ? [["SET", k("t"), v(), "PX", 20 + n(200)]] : [["SET", k("t"), v()]];
    case 35:
      return [["MULTI"], ["INCR", k("n")], ["LPUSH", k("l"), v()], ["HSET", k("h"), "m", v()], ["EXEC"]];
    case 36:
      return [["SELECT", n(dbs)]];
    case 37:
      return [["XADD", k("x"), "MAXLEN", "~", 30, "*", "f", v()]];
    case 38:
      return [["HINCRBYFLOAT", k("h"), "fl", (r() * 3).toFixed(2)]];
    default:
      return [["GETSET", k("s"), v()]];
  }
}

/** Starts a concurrent write load on `port`. */
export function startWriteLoad(port: number, opts: LoadOptions = {}): WriteLoad {
  const seed = opts.seed ?? 1;
  const conns = opts.connections ?? 3;
  const pipeline = opts.pipeline ?? 32;
  const keys = opts.keys ?? 300;
  const dbs = opts.dbs ?? 2;
  let stopped = false;
  let sent = 0;
  const workers: Promise<void>[] = [];
  for (let w = 0; w < conns; w++) {
    const r = rng(seed * 1000 + w);
    workers.push((async () => {
      const c = await RespClient.connect(port);
      try {
        while (!stopped) {
          let replies = 0;
          for (let i = 0; i < pipeline; i++) {
            for (const cmd of randomCommands(r, keys, opts.shortTtls ?? false, dbs)) {
              await c.sendCommand(...cmd);
              replies++;
            }
          }
          for (let i = 0; i < replies; i++) await c.read(30_000);
          sent += replies;
        }
      } finally {
        c.close();
      }
    })());
  }
  return {
    sent: () => sent,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return sent;
    },
  };
}

/** Writes `n` string keys of `size` bytes with pipelined MSETs (prefix `fill:`). */
export async function fillStrings(port: number, n: number, size: number, prefix = "fill"): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    const value = "v".repeat(size);
    const batch = 500;
    let pending = 0;
    for (let i = 0; i < n; i += batch) {
      const args: string[] = ["MSET"];
      for (let j = i; j < Math.min(n, i + batch); j++) args.push(`${prefix}:${j}`, value);
      await c.sendCommand(...args);
      if (++pending >= 16) {
        for (; pending > 0; pending--) await c.read(60_000);
      }
    }
    for (; pending > 0; pending--) await c.read(60_000);
  } finally {
    c.close();
  }
}

/** Writes `n` keys with one pipelined SET each (one journal item per key, unlike fillStrings). */
export async function setMany(port: number, n: number, prefix: string): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    for (let i = 0; i < n; i += 100) {
      const end = Math.min(n, i + 100);
      for (let j = i; j < end; j++) await c.sendCommand("SET", `${prefix}:${j}`, j);
      for (let j = i; j < end; j++) await c.read();
    }
  } finally {
    c.close();
  }
}

/**
 * Runs `fn`; if it throws, prints the last lines of every server's log first (a replication
 * failure is explained by both sides' logged state changes and decisions).
 */
export async function explainFailure<T>(servers: Record<string, ServerProcess>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    for (const [name, s] of Object.entries(servers)) {
      const lines = s.logs().trimEnd().split("\n");
      console.error(`----- last log lines of ${name} (port ${s.port}) -----\n${lines.slice(-40).join("\n")}`);
    }
    throw e;
  }
}
