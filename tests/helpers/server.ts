/**
 * Test harness: starts real damselfly processes on free loopback ports and talks to them.
 *
 * Invariants: every wait has a deadline; every started process is killed by `stop()`;
 * nothing here sleeps and hopes.
 */
import { Buffer } from "node:buffer";

/** Repository root (where main.ts lives). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `cond` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A running damselfly process. */
export interface ServerProcess {
  /** Main port. */
  port: number;
  /** The child process. */
  child: Deno.ChildProcess;
  /** Collected stderr (logs). */
  logs(): string;
  /** Kills the process (SIGKILL by default) and waits for it. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts damselfly with `flags` on a free port (unless --port is given) and waits until it answers PING. */
export async function startServer(
  flags: string[] = [],
  opts: { env?: Record<string, string>; waitReady?: boolean } = {},
): Promise<ServerProcess> {
  const hasPort = flags.some((f) => /^--?port(=|$)/.test(f));
  const port = hasPort
    ? Number(flags.find((f) => /^--?port=/.test(f))?.split("=")[1] ?? flags[flags.indexOf("--port") + 1])
    : freePort();
  const args = [
    "run",
    "--allow-all",
    `${ROOT}main.ts`,
    ...(hasPort ? [] : [`--port=${port}`]),
    "--bind=127.0.0.1",
    ...flags,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let logText = "";
  const decoder = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) logText += decoder.decode(chunk);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited: Deno.CommandStatus | null = null;
  const status = child.status.then((s) => (exited = s));
  const proc: ServerProcess = {
    port,
    child,
    logs: () => logText,
    async stop(signal: Deno.Signal = "SIGKILL") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
      const s = await status;
      await pumps;
      return s;
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`server exited with ${exited.code}: ${logText}`);
          const c = await RespClient.connect(port);
          try {
            const r = await c.call("PING");
            return r === "PONG" || (r instanceof Error && r.message.startsWith("NOAUTH"));
          } finally {
            c.close();
          }
        },
        `damselfly on port ${port} to answer PING`,
        20_000,
      );
    } catch (e) {
      await proc.stop();
      throw e;
    }
  }
  return proc;
}

/** A RESP reply as decoded by RespClient. */
export type Reply = string | number | bigint | null | Error | Reply[] | Map<Reply, Reply> | boolean;

/**
 * A tiny raw RESP2/RESP3 client for tests that need exact bytes or malformed input. Prefer
 * the real clients (redis-cli, ioredis, node-redis) for behaviour tests.
 */
export class RespClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private eof = false;

  private constructor(readonly conn: Deno.Conn) {
    this.pump();
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<RespClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new RespClient(conn);
  }

  private async pump(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        this.buf = Buffer.concat([this.buf, chunk.subarray(0, n)]);
        this.wake();
      }
    } catch {
      // closed
    }
    this.eof = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Sends raw bytes or a latin1 string. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Encodes and sends a command as a multibulk. */
  async sendCommand(...args: (string | number)[]): Promise<void> {
    let s = `*${args.length}\r\n`;
    for (const a of args) {
      const v = String(a);
      s += `$${Buffer.byteLength(v, "latin1")}\r\n${v}\r\n`;
    }
    await this.send(s);
  }

  /** Sends a command and reads its reply. */
  async call(...args: (string | number)[]): Promise<Reply> {
    await this.sendCommand(...args);
    return await this.read();
  }

  /** Reads one reply (with a deadline). */
  async read(timeoutMs = 10_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = parseReply(this.buf, 0);
      if (r) {
        this.buf = this.buf.subarray(r[1]);
        return r[0];
      }
      if (this.eof) throw new Error("connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out reading a reply");
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Reads raw bytes until `n` are available or EOF; returns them as latin1. */
  async readRaw(n: number, timeoutMs = 10_000): Promise<string> {
    await waitFor(() => this.buf.length >= n || this.eof, `${n} raw bytes`, timeoutMs, 5);
    const out = this.buf.subarray(0, n).toString("latin1");
    this.buf = this.buf.subarray(Math.min(n, this.buf.length));
    return out;
  }

  /** Resolves true once the server closed the connection (within the deadline). */
  async waitClosed(timeoutMs = 5_000): Promise<boolean> {
    await waitFor(() => this.eof, "connection close", timeoutMs, 5);
    return true;
  }

  /** Everything received and not yet read, as latin1. */
  pending(): string {
    return this.buf.toString("latin1");
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

function parseReply(buf: Buffer, pos: number): [Reply, number] | null {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf("\r\n", pos, "latin1");
  if (nl === -1) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString("latin1", pos + 1, nl);
  const next = nl + 2;
  switch (type) {
    case "+":
      return [line, next];
    case "-":
      return [new Error(line), next];
    case ":":
      return [Number.isSafeInteger(Number(line)) ? Number(line) : BigInt(line), next];
    case "_":
      return [null, next];
    case "#":
      return [line === "t", next];
    case ",":
      return [line, next];
    case "(":
      return [BigInt(line), next];
    case "$":
    case "=":
    case "!": {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return null;
      const s = buf.toString("latin1", next, next + len);
      return [type === "!" ? new Error(s) : s, next + len + 2];
    }
    case "*":
    case "~":
    case ">":
    case "%": {
      const n = Number(line);
      if (n < 0) return [null, next];
      const count = type === "%" ? 2 * n : n;
      const items: Reply[] = [];
      let p = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(buf, p);
        if (!r) return null;
        items.push(r[0]);
        p = r[1];
      }
      if (type === "%") {
        const m = new Map<Reply, Reply>();
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        return [m, p];
      }
      return [items, p];
    }
    default:
      return [new Error(`unparseable reply type ${JSON.stringify(type)}`), next];
  }
}

/** Runs redis-cli with the given arguments against `port`; returns stdout (trailing newline removed). */
export async function redisCli(
  port: number,
  args: string[],
  opts: { stdin?: string; raw?: boolean } = {},
): Promise<string> {
  const cmd = new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", "-p", String(port), ...(opts.raw === false ? [] : ["--no-raw"]), ...args],
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).replace(/\n$/, "");
}
