/**
 * LinkSocket: the replica's end of one replication connection (control link or flow).
 *
 * Owns: the TCP (or TLS) connection, a read buffer, and the helpers the handshake needs:
 * inline or RESP-array commands out, RESP replies and raw lines in. After the handshake the rest of the stream is read raw
 * with `readChunk()`, starting with whatever the handshake read ahead. Invariants: writes never
 * interleave (each command goes out whole); every read updates `lastIo`; a closed socket makes
 * every pending and later read fail with LinkClosedError; nothing here throws anything else
 * for bad bytes than LinkProtocolError.
 */
import { Buffer } from "node:buffer";
import nodeTls from "node:tls";
import type tls from "node:tls";
import type { ByteStream } from "../net/connection.ts";
import { SocketByteStream } from "../net/tls.ts";

/** The peer closed the link, or it was closed locally. */
export class LinkClosedError extends Error {
  /** Builds the error. */
  constructor(message = "connection closed by primary") {
    super(message);
    this.name = "LinkClosedError";
  }
}

/** The peer sent something that is not the expected RESP shape. */
export class LinkProtocolError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "LinkProtocolError";
  }
}

/** A decoded RESP reply (errors are values, not exceptions). */
export type LinkReply = string | number | null | { error: string } | LinkReply[];

/** How to reach the primary. */
export interface LinkTarget {
  /** Host name or address. */
  host: string;
  /** Port. */
  port: number;
  /** TLS settings when `tls_replication` is on. */
  tls?: { caCerts?: string[]; cert?: string; key?: string };
}

const READ_SIZE = 256 * 1024;
const MAX_LINE = 64 * 1024;

/** One replication connection, replica side. */
export class LinkSocket {
  /** Time (ms) of the last byte read or written. */
  lastIo: number = Date.now();
  /** Time (ms) of the last byte read (a silent peer's link still writes ACKs). */
  lastRead: number = Date.now();
  /** Local address `ip:port`. */
  readonly laddr: string;
  /** Peer address `ip:port`. */
  readonly raddr: string;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private closed = false;
  private writing: Promise<void> = Promise.resolve();
  private readonly readBuf = new Uint8Array(READ_SIZE);

  private constructor(private readonly conn: ByteStream, laddr: string, raddr: string) {
    this.laddr = laddr;
    this.raddr = raddr;
  }

  /** Wraps a connected Deno socket (plain TCP, or TLS after its handshake). */
  static fromDenoConn(conn: Deno.Conn): LinkSocket {
    const fmt = (a: Deno.Addr) => a.transport === "tcp" ? `${a.hostname}:${a.port}` : "unix";
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
      (conn as Deno.TcpConn).setKeepAlive?.(true);
    } catch {
      // not fatal
    }
    return new LinkSocket(conn, fmt(conn.localAddr), fmt(conn.remoteAddr));
  }

  /** Wraps a connected node:tls socket. */
  static fromNodeSocket(socket: tls.TLSSocket): LinkSocket {
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    const addr = (ip: string | undefined, port: number | undefined) => `${ip ?? "?"}:${port ?? 0}`;
    return new LinkSocket(
      new SocketByteStream(socket),
      addr(socket.localAddress, socket.localPort),
      addr(socket.remoteAddress, socket.remotePort),
    );
  }

  /**
   * Connects within `timeoutMs` (the TLS handshake included); rejects with the OS or TLS error
   * text (e.g. "Connection refused", "invalid peer certificate: UnknownIssuer").
   */
  static async connect(target: LinkTarget, timeoutMs: number): Promise<LinkSocket> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = connectStream(target);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Connection timed out")), timeoutMs);
    });
    try {
      return await Promise.race([attempt, timeout]);
    } catch (e) {
      attempt.then((l) => l.close(), () => {});
      throw new Error(connectErrorText(e as Error));
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once closed (by either side). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one inline command (`text` + CRLF). Writes are queued, never interleaved. */
  send(text: string): Promise<void> {
    return this.write(Buffer.from(text + "\r\n", "latin1"));
  }

  /** Sends one command as a RESP array of bulk strings (latin1), as a stock Redis replica does. */
  sendCommand(args: readonly string[]): Promise<void> {
    let text = `*${args.length}\r\n`;
    for (const a of args) text += `$${a.length}\r\n${a}\r\n`;
    return this.write(Buffer.from(text, "latin1"));
  }

  /** Writes `bytes` whole, after every earlier write. */
  write(bytes: Uint8Array): Promise<void> {
    const w = this.writing.then(async () => {
      if (this.closed) throw new LinkClosedError();
      let off = 0;
      try {
        while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      } catch (e) {
        this.close();
        throw new LinkClosedError(`write failed: ${(e as Error).message}`);
      }
      this.lastIo = Date.now();
    });
    this.writing = w.catch(() => {});
    return w;
  }

  /** Sends a command and reads its reply. */
  async call(text: string): Promise<LinkReply> {
    await this.send(text);
    return await this.readReply();
  }

  /** Reads more bytes into the buffer; throws LinkClosedError at end of stream or on a read error. */
  private async fill(): Promise<void> {
    if (this.closed) throw new LinkClosedError();
    let n: number | null;
    try {
      n = await this.conn.read(this.readBuf);
    } catch (e) {
      this.close();
      throw new LinkClosedError(`read failed: ${(e as Error).message}`);
    }
    if (n === null) {
      this.close();
      throw new LinkClosedError();
    }
    this.lastIo = this.lastRead = Date.now();
    const rest = this.buf.length - this.pos;
    const next = new Uint8Array(rest + n);
    next.set(this.buf.subarray(this.pos), 0);
    next.set(this.readBuf.subarray(0, n), rest);
    this.buf = next;
    this.pos = 0;
  }

  /** Reads one line (up to LF; a CR before it is dropped), as latin1 text. */
  async readLine(): Promise<string> {
    for (;;) {
      const end = this.buf.indexOf(10, this.pos);
      if (end !== -1) {
        const lineEnd = end > this.pos && this.buf[end - 1] === 13 ? end - 1 : end;
        const line = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, lineEnd - this.pos).toString(
          "latin1",
        );
        this.pos = end + 1;
        return line;
      }
      if (this.buf.length - this.pos > MAX_LINE) throw new LinkProtocolError("reply line too long");
      await this.fill();
    }
  }

  /** Reads exactly `n` bytes (a view into the buffer). */
  private async readExact(n: number): Promise<Uint8Array> {
    while (this.buf.length - this.pos < n) await this.fill();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads one RESP2/RESP3 reply; leading empty keep-alive lines are skipped. */
  async readReply(): Promise<LinkReply> {
    let line = await this.readLine();
    while (line === "") line = await this.readLine();
    const body = line.slice(1);
    switch (line[0]) {
      case "+":
        return body;
      case "-":
        return { error: body };
      case ":": {
        const n = Number(body);
        if (!Number.isSafeInteger(n)) throw new LinkProtocolError(`bad integer reply ${JSON.stringify(line)}`);
        return n;
      }
      case "_":
        return null;
      case "$": {
        const len = Number(body);
        if (len < 0) return null;
        if (!Number.isSafeInteger(len) || len > 512 * 1024 * 1024) {
          throw new LinkProtocolError(`bad bulk length ${JSON.stringify(line)}`);
        }
        const bytes = await this.readExact(len + 2);
        return Buffer.from(bytes.buffer, bytes.byteOffset, len).toString("latin1");
      }
      case "*": {
        const n = Number(body);
        if (n < 0) return null;
        if (!Number.isSafeInteger(n) || n > 1024 * 1024) throw new LinkProtocolError(`bad array length ${line}`);
        const out: LinkReply[] = [];
        for (let i = 0; i < n; i++) out.push(await this.readReply());
        return out;
      }
      default:
        throw new LinkProtocolError(`unexpected reply ${JSON.stringify(line.slice(0, 64))}`);
    }
  }

  /** Returns the bytes already buffered, or the next bytes read from the socket. */
  async readChunk(): Promise<Uint8Array> {
    if (this.pos < this.buf.length) {
      const out = this.buf.subarray(this.pos);
      this.buf = new Uint8Array(0);
      this.pos = 0;
      return out;
    }
    if (this.closed) throw new LinkClosedError();
    let n: number | null;
    try {
      n = await this.conn.read(this.readBuf);
    } catch (e) {
      this.close();
      throw new LinkClosedError(`read failed: ${(e as Error).message}`);
    }
    if (n === null) {
      this.close();
      throw new LinkClosedError();
    }
    this.lastIo = this.lastRead = Date.now();
    return this.readBuf.slice(0, n);
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Opens the connection `target` describes. TLS with a CA: Deno.connectTls verifies the primary's
 * certificate chain (and its name) and presents the replica's certificate. TLS without a CA:
 * encryption only, no verification of the primary (Dragonfly's SSL_VERIFY_NONE), through
 * node:tls, as Deno.connectTls always verifies.
 */
async function connectStream(target: LinkTarget): Promise<LinkSocket> {
  const t = target.tls;
  if (t === undefined) return LinkSocket.fromDenoConn(await Deno.connect({ hostname: target.host, port: target.port }));
  if (t.caCerts !== undefined) {
    const conn = await Deno.connectTls({ hostname: target.host, port: target.port, ...t });
    try {
      await conn.handshake();
    } catch (e) {
      conn.close();
      throw e;
    }
    return LinkSocket.fromDenoConn(conn);
  }
  const socket = nodeTls.connect({
    host: target.host,
    port: target.port,
    cert: t.cert,
    key: t.key,
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", (e) => {
      socket.destroy();
      reject(e);
    });
  });
  return LinkSocket.fromNodeSocket(socket);
}

/** Text of a connect error the way Dragonfly words it (strerror: "Connection refused", ...). */
function connectErrorText(e: Error): string {
  const code = (e as { code?: unknown }).code;
  if (e instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") return "Connection refused";
  if (e instanceof Deno.errors.TimedOut) return "Connection timed out";
  if (e instanceof Deno.errors.NotFound) return `could not resolve host: ${e.message}`;
  return e.message.replace(/\s*\(os error \d+\)$/, "");
}

/** Formats a reply for log lines and error texts. */
export function describeReply(r: LinkReply): string {
  if (r === null) return "(nil)";
  if (typeof r === "object" && !Array.isArray(r)) return r.error;
  return JSON.stringify(r);
}
