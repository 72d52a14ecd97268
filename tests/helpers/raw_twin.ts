/**
 * Raw differential harness: the same commands to damselfly and to a real redis-server over
 * two raw connections, replies compared as exact bytes (or order-free for unordered types).
 *
 * Invariant: every read has a deadline; replies are kept as latin1 strings so binary data and
 * RESP3 types compare byte for byte.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";

/** A command argument. */
export type Arg = string | number;

/** Index just past the RESP reply starting at `pos`, or -1 when incomplete. */
export function replyEnd(buf: string, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf("\r\n", pos);
  if (nl < 0) return -1;
  const type = buf[pos];
  const n = Number(buf.slice(pos + 1, nl));
  let p = nl + 2;
  if (type === "$" || type === "=" || type === "!") return n < 0 ? p : buf.length >= p + n + 2 ? p + n + 2 : -1;
  if (type === "*" || type === "~" || type === ">" || type === "%") {
    const items = n < 0 ? 0 : type === "%" ? 2 * n : n;
    for (let i = 0; i < items && p >= 0; i++) p = replyEnd(buf, p);
    return p;
  }
  return p;
}

/** The top-level elements of an aggregate raw reply, each as its raw bytes. */
export function rawElements(reply: string): string[] {
  const nl = reply.indexOf("\r\n");
  const out: string[] = [];
  let p = nl + 2;
  while (p < reply.length) {
    const e = replyEnd(reply, p);
    out.push(reply.slice(p, e));
    p = e;
  }
  return out;
}

/**
 * An order-free form of an aggregate reply: its header and its elements (grouped `width` at
 * a time, e.g. 2 for field/value pairs) sorted.
 */
export function unordered(reply: string, width = 1): string {
  if (!"*~%".includes(reply[0]) || reply.startsWith("*-1")) return reply;
  const els = rawElements(reply);
  const groups: string[] = [];
  for (let i = 0; i < els.length; i += width) groups.push(els.slice(i, i + width).join(""));
  return reply.slice(0, reply.indexOf("\r\n") + 2) + groups.sort().join("");
}

/** A connection whose replies come back as their exact bytes (latin1). */
export class RawClient {
  private buf = "";
  private readonly chunk = new Uint8Array(64 * 1024);
  private constructor(private readonly conn: Deno.Conn) {}

  /** Connects to 127.0.0.1:port. */
  static async open(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends a command without waiting for its reply. */
  async send(...args: Arg[]): Promise<void> {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(String(a), "latin1")}\r\n${a}\r\n`;
    const bytes = Buffer.from(s, "latin1");
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads one reply (deadline 10 s). */
  async read(): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const end = replyEnd(this.buf, 0);
      if (end >= 0) {
        const r = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return r;
      }
      if (Date.now() > deadline) throw new Error("timed out reading a reply");
      const n = await this.conn.read(this.chunk);
      if (n === null) throw new Error("connection closed");
      this.buf += Buffer.from(this.chunk.subarray(0, n)).toString("latin1");
    }
  }

  /** Sends a command and returns its raw reply. */
  async call(...args: Arg[]): Promise<string> {
    await this.send(...args);
    return await this.read();
  }

  /** Closes the connection. */
  close(): void {
    this.conn.close();
  }
}

/** A step of a script: a command, or a command whose reply is compared order-free. */
export type Step = Arg[] | { unordered: Arg[]; width?: number };

/** A pair of raw connections, one to damselfly and one to redis-server, fed the same commands. */
export class Twin {
  private constructor(readonly ours: RawClient, readonly theirs: RawClient) {}

  /** Opens both connections, switching both to RESP3 when asked. */
  static async open(ourPort: number, redisPort: number, proto: 2 | 3 = 2): Promise<Twin> {
    const t = new Twin(await RawClient.open(ourPort), await RawClient.open(redisPort));
    if (proto === 3) {
      await t.ours.call("HELLO", "3");
      await t.theirs.call("HELLO", "3");
    }
    return t;
  }

  /** Runs a step on both and asserts identical replies (order-free when asked). */
  async run(step: Step): Promise<string> {
    const cmd = Array.isArray(step) ? step : step.unordered;
    let ours = await this.ours.call(...cmd);
    let theirs = await this.theirs.call(...cmd);
    if (!Array.isArray(step)) {
      ours = unordered(ours, step.width);
      theirs = unordered(theirs, step.width);
    }
    assert.equal(JSON.stringify(ours), JSON.stringify(theirs), `reply to ${JSON.stringify(cmd)}`);
    return ours;
  }

  /** Runs a command on both and asserts byte-identical replies; returns the reply. */
  same(...cmd: Arg[]): Promise<string> {
    return this.run(cmd);
  }

  /** Closes both connections. */
  close(): void {
    this.ours.close();
    this.theirs.close();
  }
}
