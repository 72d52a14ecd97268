/**
 * A raw HTTP/1.1 client for tests of the HTTP console: exact request bytes in, parsed
 * responses out, over plaintext or TLS sockets, with keep-alive.
 *
 * Invariants: every read has a deadline; a response is complete only with its whole
 * Content-Length body (or its head alone after HEAD); `close()` releases the socket.
 */
import { Buffer } from "node:buffer";
import { waitFor } from "./server.ts";

/** One parsed HTTP response. */
export interface HttpReply {
  /** Status code. */
  status: number;
  /** Header values by lower-case name. */
  headers: Map<string, string>;
  /** Body as UTF-8 text. */
  body: string;
}

/** An HTTP connection that sends raw requests and reads responses one at a time. */
export class HttpConnection {
  private buf = Buffer.alloc(0);
  private eof = false;
  private readonly pumping: Promise<void>;

  private constructor(private readonly conn: Deno.Conn) {
    this.pumping = this.pump();
  }

  /** Connects to 127.0.0.1:port, with TLS when `caCert` (PEM text) is given. */
  static async connect(port: number, caCert?: string): Promise<HttpConnection> {
    const conn = caCert === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
    return new HttpConnection(conn);
  }

  private async pump(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        this.buf = Buffer.concat([this.buf, chunk.subarray(0, n)]);
      }
    } catch {
      // closed
    }
    this.eof = true;
  }

  /** Sends raw bytes (latin1 string). */
  async send(raw: string): Promise<void> {
    const bytes = Buffer.from(raw, "latin1");
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Sends a GET-style request with the given headers (Host is added). */
  async request(method: string, path: string, headers: Record<string, string> = {}): Promise<void> {
    let raw = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
    for (const [k, v] of Object.entries(headers)) raw += `${k}: ${v}\r\n`;
    await this.send(raw + "\r\n");
  }

  /** Reads one response; `head` for a response to HEAD (no body follows its head). */
  async read(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<HttpReply> {
    let reply: HttpReply | null = null;
    await waitFor(
      () => {
        const end = this.buf.indexOf("\r\n\r\n");
        if (end < 0) {
          if (this.eof) throw new Error(`connection closed before a response: ${JSON.stringify(this.pending())}`);
          return false;
        }
        const lines = this.buf.toString("latin1", 0, end).split("\r\n");
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
        if (m === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const i = line.indexOf(":");
          headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
        }
        const length = opts.head ? 0 : Number(headers.get("content-length") ?? "NaN");
        if (!Number.isInteger(length)) throw new Error("response without Content-Length");
        if (this.buf.length < end + 4 + length) {
          if (this.eof) throw new Error("connection closed inside a response body");
          return false;
        }
        reply = { status: Number(m[1]), headers, body: this.buf.toString("utf8", end + 4, end + 4 + length) };
        this.buf = this.buf.subarray(end + 4 + length);
        return true;
      },
      "an HTTP response",
      opts.timeoutMs ?? 10_000,
      5,
    );
    return reply!;
  }

  /** Bytes received and not yet read, as latin1. */
  pending(): string {
    return this.buf.toString("latin1");
  }

  /** Resolves once the server closed the connection (within the deadline). */
  async waitClosed(timeoutMs = 5_000): Promise<void> {
    await waitFor(() => this.eof, "the server to close the connection", timeoutMs, 5);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    await this.pumping;
  }
}

/** One request on a fresh connection (closed afterwards). */
export async function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  opts: { method?: string; caCert?: string } = {},
): Promise<HttpReply> {
  const c = await HttpConnection.connect(port, opts.caCert);
  try {
    const method = opts.method ?? "GET";
    await c.request(method, path, headers);
    return await c.read({ head: method === "HEAD" });
  } finally {
    await c.close();
  }
}

/** The `Authorization` header of HTTP Basic auth. */
export function basicAuth(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

/** Parses a Prometheus text exposition into `name{labels}` → value (labels as printed). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Runs `promtool check metrics` on `text`; returns its exit code and output. */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await child.output();
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr) };
}
