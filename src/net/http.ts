/**
 * HTTP on the RESP ports: protocol sniffing, a minimal HTTP/1.1 server over a ByteStream, and
 * the console's routes (`/metrics`, `/healthz`, `/`), as Dragonfly serves them
 * (design/dragonfly-replication.md §6).
 *
 * Owns: the decision, from a connection's first line, between RESP and HTTP
 * (`HttpSniffingStream`), the HTTP/1.1 request loop (keep-alive, Content-Length framing,
 * idle timeout) and the console's auth (Basic, user `default`, the requirepass password).
 * Invariants:
 * - a connection is HTTP only when its first line (CRLF or LF terminated, within the first
 *   1024 bytes) is `<METHOD> <target> HTTP/1.0|1.1`; every other first byte sequence reaches the
 *   RESP parser unchanged, and RESP connections pay one extra call per read and write;
 * - an HTTP connection leaves the client table before its first request is answered, so
 *   scrapes never count as connected clients;
 * - `/metrics` and `/healthz` need no auth; every other path needs Basic auth as `default`
 *   unless the connection would start authenticated (no requirepass, or `--admin_nopass` on the
 *   admin port);
 * - a malformed request is answered 400 (or 413/431/501/505) and the connection closes;
 *   nothing a peer sends can throw out of the loop; responses always carry Content-Length.
 */
import { Buffer } from "node:buffer";
import type { Server } from "../server/server.ts";
import type { ClientOrigin } from "../server/client.ts";
import { aclOf, startsAuthenticated } from "../server/acl.ts";
import { type ByteStream, writeAll } from "./connection.ts";
import { renderMetrics } from "../observability/metrics.ts";
import { renderStatusPage } from "../observability/status_page.ts";
import { log } from "../observability/log.ts";

/** Request methods that mark a first line as HTTP (others are left to RESP). */
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
/** Bytes within which the first line must end for the connection to be HTTP. */
const SNIFF_LIMIT = 1024;
/** Largest request head (request line and headers) accepted. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Largest request body read (and discarded) to keep a connection alive. */
const MAX_BODY_BYTES = 64 * 1024;
/** A connection with no complete request for this long is closed. */
const IDLE_TIMEOUT_MS = 60_000;

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** What the bytes a connection sent so far look like. */
export type SniffResult = "http" | "resp" | "undecided";

const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Classifies the first bytes of a connection: `http` once a complete first line is an HTTP/1.x
 * request line, `resp` as soon as it cannot be one, `undecided` while it still may be.
 */
export function sniffHttp(bytes: Uint8Array): SniffResult {
  const n = Math.min(bytes.length, SNIFF_LIMIT);
  // The method: upper-case letters up to the first space, one of METHODS.
  let i = 0;
  while (i < n && bytes[i] >= 0x41 && bytes[i] <= 0x5a) i++;
  const token = String.fromCharCode(...bytes.subarray(0, i));
  if (i === n) {
    if (n >= SNIFF_LIMIT) return "resp";
    return METHODS.some((m) => m.startsWith(token)) ? "undecided" : "resp";
  }
  if (bytes[i] !== SPACE || !METHODS.includes(token)) return "resp";
  const nl = bytes.subarray(0, n).indexOf(LF);
  if (nl < 0) return n >= SNIFF_LIMIT ? "resp" : "undecided";
  const end = nl > 0 && bytes[nl - 1] === CR ? nl - 1 : nl;
  const line = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString("latin1");
  return /^[A-Z]+ [^ ]+ HTTP\/1\.[01]$/.test(line) ? "http" : "resp";
}

/**
 * A ByteStream that looks at a connection's first line before the RESP Connection sees it.
 * RESP bytes are passed through unchanged. When the first line is an HTTP request line, the
 * first read reports EOF, so the Connection closes and forgets its client; its `close()` then
 * hands the socket and the bytes read so far to `onHttp` instead of closing it.
 */
export class HttpSniffingStream implements ByteStream {
  private mode: "sniffing" | "resp" | "http" = "sniffing";
  private held: Uint8Array | null = null;
  private handedOver = false;

  /** Wraps `inner`; `onHttp` takes over HTTP connections. */
  constructor(
    private readonly inner: ByteStream,
    private readonly onHttp: (stream: ByteStream, initial: Uint8Array) => void,
  ) {}

  /** Reads like the wrapped stream; while sniffing, reads until the first line decides. */
  read(buf: Uint8Array): Promise<number | null> {
    return this.mode === "resp" ? this.inner.read(buf) : this.sniff(buf);
  }

  /** Reads until the first bytes tell HTTP from RESP; HTTP input is held back (returns null) for the HTTP handler. */
  private async sniff(buf: Uint8Array): Promise<number | null> {
    if (this.mode === "http") return null;
    let total = 0;
    for (;;) {
      const n = await this.inner.read(total === 0 ? buf : buf.subarray(total));
      if (n === null) {
        this.mode = "resp";
        return total === 0 ? null : total;
      }
      total += n;
      const kind = sniffHttp(buf.subarray(0, total));
      if (kind === "undecided" && total < buf.length) continue;
      if (kind === "http") {
        this.mode = "http";
        this.held = buf.slice(0, total);
        return null;
      }
      this.mode = "resp";
      return total;
    }
  }

  /** Writes to the wrapped stream. */
  write(data: Uint8Array): Promise<number> {
    return this.inner.write(data);
  }

  /** Closes the wrapped stream, or, for an HTTP connection, hands it over. */
  close(): void {
    if (this.mode === "http" && this.held !== null && !this.handedOver) {
      this.handedOver = true;
      this.onHttp(this.inner, this.held);
      return;
    }
    this.inner.close();
  }
}

/** One parsed HTTP request. */
export interface HttpRequest {
  /** Method, upper case as sent. */
  method: string;
  /** Path of the request target, without the query. */
  path: string;
  /** Query string (without `?`), or "". */
  query: string;
  /** Header values by lower-case name (repeated headers joined with ", "). */
  headers: Map<string, string>;
}

/** One HTTP response. */
export interface HttpResponse {
  /** Status code. */
  status: number;
  /** Extra headers (Content-Length and Connection are added). */
  headers?: Record<string, string>;
  /** Body, UTF-8 encoded when a string. */
  body: string | Uint8Array;
}

/** Answers requests. */
export type HttpHandler = (req: HttpRequest) => HttpResponse;

const encoder = new TextEncoder();

function plain(status: number, text: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...headers }, body: text };
}

/** Serialises a response; `head` omits the body (HEAD) but keeps its Content-Length. */
function encodeResponse(res: HttpResponse, keepAlive: boolean, head: boolean): Uint8Array {
  const body = typeof res.body === "string" ? encoder.encode(res.body) : res.body;
  let text = `HTTP/1.1 ${res.status} ${STATUS_TEXT[res.status] ?? "Unknown"}\r\n`;
  for (const [k, v] of Object.entries(res.headers ?? {})) text += `${k}: ${v}\r\n`;
  text += `Content-Length: ${body.length}\r\nConnection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
  const headBytes = encoder.encode(text);
  if (head || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}

/** Index just past the empty line that ends a request head, or -1. */
function headEnd(buf: Uint8Array): number {
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) {
    if (buf[i + 1] === LF) return i + 2;
    if (buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** A request head that could not be parsed: answered with `status`, then the connection closes. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "BadRequest";
  }
}

interface ParsedHead {
  request: HttpRequest;
  version: "1.0" | "1.1";
  bodyLength: number;
}

function parseHead(text: string): ParsedHead {
  const lines = text.split(/\r?\n/);
  const m = /^([A-Z]+) ([^ ]+) HTTP\/(\d)\.(\d)$/.exec(lines[0]);
  if (m === null) throw new BadRequest(400, "malformed request line");
  if (m[3] !== "1" || (m[4] !== "0" && m[4] !== "1")) throw new BadRequest(505, "unsupported HTTP version");
  const target = m[2];
  let pathAndQuery: string;
  if (target.startsWith("/")) pathAndQuery = target;
  else if (/^https?:\/\/[^/]+/i.test(target)) pathAndQuery = target.replace(/^https?:\/\/[^/]+/i, "") || "/";
  else throw new BadRequest(400, "unsupported request target");
  const q = pathAndQuery.indexOf("?");
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) throw new BadRequest(400, "malformed header line");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    if (prev !== undefined && name === "content-length" && prev !== value) {
      throw new BadRequest(400, "conflicting Content-Length headers");
    }
    headers.set(name, prev === undefined || name === "content-length" ? value : `${prev}, ${value}`);
  }
  if (headers.has("transfer-encoding")) throw new BadRequest(501, "request bodies with Transfer-Encoding");
  const cl = headers.get("content-length");
  if (cl !== undefined && !/^\d{1,15}$/.test(cl)) throw new BadRequest(400, "malformed Content-Length");
  const bodyLength = cl === undefined ? 0 : Number(cl);
  if (bodyLength > MAX_BODY_BYTES) throw new BadRequest(413, "request body too large");
  return {
    request: {
      method: m[1],
      path: q < 0 ? pathAndQuery : pathAndQuery.slice(0, q),
      query: q < 0 ? "" : pathAndQuery.slice(q + 1),
      headers,
    },
    version: m[4] === "0" ? "1.0" : "1.1",
    bodyLength,
  };
}

function wantsKeepAlive(head: ParsedHead): boolean {
  const tokens = (head.request.headers.get("connection") ?? "").toLowerCase().split(",").map((t) => t.trim());
  return head.version === "1.1" ? !tokens.includes("close") : tokens.includes("keep-alive");
}

/** Reads from `stream` into `buf`; closes the stream when nothing arrives before `deadline`. */
async function readBefore(stream: ByteStream, buf: Uint8Array, deadline: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([stream.read(buf), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves HTTP/1.1 requests on `stream` (whose first bytes, already read, are `initial`) until
 * the peer leaves, asks to close, idles for IDLE_TIMEOUT_MS, or sends something malformed.
 */
export async function serveHttp(stream: ByteStream, initial: Uint8Array, handler: HttpHandler): Promise<void> {
  let pending: Uint8Array = initial;
  const chunk = new Uint8Array(16 * 1024);
  const append = (n: number) => {
    const next = new Uint8Array(pending.length + n);
    next.set(pending);
    next.set(chunk.subarray(0, n), pending.length);
    pending = next;
  };
  try {
    for (;;) {
      const deadline = Date.now() + IDLE_TIMEOUT_MS;
      let end = headEnd(pending);
      while (end < 0) {
        if (pending.length > MAX_HEAD_BYTES) {
          await writeAll(stream, encodeResponse(plain(431, "request head too large\n"), false, false));
          return;
        }
        const n = await readBefore(stream, chunk, deadline);
        if (n === null) return;
        append(n);
        end = headEnd(pending);
      }
      if (end > MAX_HEAD_BYTES) {
        await writeAll(stream, encodeResponse(plain(431, "request head too large\n"), false, false));
        return;
      }
      let head: ParsedHead;
      try {
        head = parseHead(Buffer.from(pending.buffer, pending.byteOffset, end).toString("latin1"));
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        log.v(1, `HTTP: ${e.message}; answered ${e.status}`);
        await writeAll(stream, encodeResponse(plain(e.status, `${e.message}\n`), false, false));
        return;
      }
      while (pending.length < end + head.bodyLength) {
        const n = await readBefore(stream, chunk, deadline);
        if (n === null) return;
        append(n);
      }
      pending = pending.slice(end + head.bodyLength);
      let res: HttpResponse;
      try {
        res = handler(head.request);
      } catch (e) {
        log.error(`HTTP ${head.request.method} ${head.request.path} failed: ${(e as Error).stack ?? e}`);
        res = plain(500, "internal error\n");
      }
      const keepAlive = wantsKeepAlive(head) && res.status < 500;
      await writeAll(stream, encodeResponse(res, keepAlive, head.request.method === "HEAD"));
      if (!keepAlive) return;
    }
  } catch {
    // The peer went away mid-request or mid-response.
  } finally {
    try {
      stream.close();
    } catch {
      // already closed
    }
  }
}

/** The HTTP console of one server: its routes and its open connections. */
class HttpConsole {
  private readonly open = new Set<ByteStream>();

  constructor(private readonly server: Server) {}

  /** Serves an HTTP connection that arrived on a port of `origin`. */
  serve(stream: ByteStream, initial: Uint8Array, origin: ClientOrigin): void {
    this.open.add(stream);
    void serveHttp(stream, initial, (req) => this.route(req, origin)).finally(() => this.open.delete(stream));
  }

  /** Closes every open HTTP connection. */
  closeAll(): void {
    for (const s of this.open) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.open.clear();
  }

  private route(req: HttpRequest, origin: ClientOrigin): HttpResponse {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(405, "Method Not Allowed\n", { Allow: "GET, HEAD" });
    }
    const server = this.server;
    if (req.path === "/metrics") {
      return {
        status: 200,
        headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
        body: renderMetrics(server),
      };
    }
    if (req.path === "/healthz") return server.loading ? plain(503, "Service Unavailable\n") : plain(200, "OK\n");
    if (!this.authorized(req, origin)) {
      return plain(401, "Unauthorized\n", { "WWW-Authenticate": 'Basic realm="damselfly", charset="UTF-8"' });
    }
    if (req.path === "/") {
      return {
        status: 200,
        headers: {
          "Content-Type": "text/html; charset=utf-8",
          "Cache-Control": "no-store",
          "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
        body: renderStatusPage(server),
      };
    }
    return plain(404, "Not Found\n");
  }

  /** True when the request may see protected paths (Basic auth as `default` when required). */
  private authorized(req: HttpRequest, origin: ClientOrigin): boolean {
    if (startsAuthenticated(this.server, origin)) return true;
    const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(req.headers.get("authorization") ?? "");
    if (m === null) return false;
    const decoded = Buffer.from(m[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0 || decoded.slice(0, colon) !== "default") return false;
    return aclOf(this.server).checkCredentials("default", decoded.slice(colon + 1));
  }
}

const consoles = new WeakMap<Server, HttpConsole>();

function consoleOf(server: Server): HttpConsole {
  let c = consoles.get(server);
  if (c === undefined) consoles.set(server, c = new HttpConsole(server));
  return c;
}

/**
 * Wraps a new connection's stream so that HTTP requests on it reach the console of `server`
 * (the listener decides whether the port serves HTTP at all).
 */
export function httpAware(server: Server, stream: ByteStream, origin: ClientOrigin): ByteStream {
  return new HttpSniffingStream(stream, (inner, initial) => consoleOf(server).serve(inner, initial, origin));
}

/** Closes every HTTP connection of `server` (shutdown). */
export function closeHttpConnections(server: Server): void {
  consoles.get(server)?.closeAll();
}
