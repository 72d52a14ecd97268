/**
 * Shared pieces of the benchmark scripts: argument parsing, free ports, a minimal pipelining
 * RESP client, waiting for PING, stopping processes, and /proc readings (CPU ticks, RSS, PSS).
 *
 * Invariant: every wait has a deadline; readings come from /proc of the measured process.
 */
import { Buffer } from "node:buffer";

/** Repository root. */
export const ROOT = new URL("../", import.meta.url).pathname;

/** Value of `--name <value>` on the command line, or `def`. */
export function argValue(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : def;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** Encodes commands as RESP multibulk requests. */
export function encode(cmds: string[][]): Uint8Array {
  let s = "";
  for (const args of cmds) {
    s += `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  }
  return Buffer.from(s, "latin1");
}

/** Parses one reply at `pos` as text (arrays joined with spaces, errors as `ERR:<text>`). */
export function parseReply(buf: Buffer, pos: number): [string, number] | null {
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
      const r = parseReply(buf, p);
      if (r === null) return null;
      parts.push(r[0]);
      p = r[1];
    }
    return [parts.join(" "), p];
  }
  return [type === "-" ? `ERR:${line}` : line, nl + 2];
}

/** A minimal pipelining RESP client: write many commands, read replies as text. */
export class Conn {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private closed = false;
  private constructor(private readonly conn: Deno.Conn) {
    void this.pump();
  }

  /** Connects to 127.0.0.1:port, retrying for up to `timeoutMs`. */
  static async open(port: number, timeoutMs = 60_000): Promise<Conn> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return new Conn(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch (e) {
        if (Date.now() > deadline) throw e;
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

  /** Writes raw bytes. */
  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.conn.write(data.subarray(off));
  }

  /** Reads one reply as text. */
  async read(): Promise<string> {
    for (;;) {
      const r = parseReply(this.buf, 0);
      if (r !== null) {
        this.buf = this.buf.subarray(r[1]);
        return r[0];
      }
      if (this.closed) throw new Error("connection closed");
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }

  /** Sends one command and reads its reply. */
  async call(...args: string[]): Promise<string> {
    await this.write(encode([args]));
    return await this.read();
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed
    }
  }
}

/** Waits until a server on `port` answers PING. */
export async function waitPing(port: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Conn.open(port, 1000);
      try {
        if ((await c.call("PING")) === "PONG") return;
      } finally {
        c.close();
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`server on ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills a child process and waits for it. */
export async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // gone
  }
  await child.status;
}

/** User + system CPU clock ticks (100 per second) of a process. */
export function cpuTicks(pid: number): number {
  const { user, system } = cpuTicksSplit(pid);
  return user + system;
}

/** User and system CPU time (clock ticks) a process has used so far, from /proc. */
export function cpuTicksSplit(pid: number): { user: number; system: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]), system: Number(fields[12]) };
}

/** Resident set size (bytes) of a process. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Proportional set size (bytes) of a process and all its descendants. */
export function pssTree(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${p}/smaps_rollup`));
      if (m) total += Number(m[1]) * 1024;
      for (const t of Deno.readDirSync(`/proc/${p}/task`)) {
        const kids = Deno.readTextFileSync(`/proc/${p}/task/${t.name}/children`).trim();
        for (const k of kids ? kids.split(" ") : []) visit(Number(k));
      }
    } catch {
      // the process (or a child) ended meanwhile
    }
  };
  visit(pid);
  return total;
}

/**
 * Fills `port` with `keys` keys of mixed types (70% strings, 10% hashes, 10% lists, 5% sets,
 * 5% sorted sets; 100-byte values), pipelined.
 */
export async function fillMixed(port: number, keys: number): Promise<void> {
  const c = await Conn.open(port);
  const value = "v".repeat(100);
  const field = "f".repeat(20);
  try {
    const batch = 2000;
    let inFlight = 0;
    for (let i = 0; i < keys; i += batch) {
      const parts: Uint8Array[] = [];
      for (let j = i; j < Math.min(keys, i + batch); j++) {
        const kind = j % 20;
        const key = `key:${j}`;
        if (kind < 14) parts.push(encode([["SET", key, value]]));
        else if (kind < 16) parts.push(encode([["HSET", key, `${field}1`, value, `${field}2`, value]]));
        else if (kind < 18) parts.push(encode([["RPUSH", key, value, value, value]]));
        else if (kind < 19) parts.push(encode([["SADD", key, `a${value}`, `b${value}`, `c${value}`]]));
        else parts.push(encode([["ZADD", key, "1", `a${value}`, "2", `b${value}`]]));
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

/**
 * Runs redis-benchmark with `args` (connection, test and pipeline options) in CSV mode and
 * returns the mean requests per second over the tests it reports (0 when none ran).
 */
export async function redisBenchmarkRps(args: string[]): Promise<number> {
  const out = await new Deno.Command("redis-benchmark", { args: ["--csv", ...args], stdout: "piped", stderr: "null" })
    .output();
  let rps = 0;
  let count = 0;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^"([^"]+)","([\d.]+)"/.exec(line);
    if (m) {
      rps += Number(m[2]);
      count++;
    }
  }
  return count ? rps / count : 0;
}
