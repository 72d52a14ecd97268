/**
 * Listeners: the accept loops of the main and admin ports, plaintext or TLS.
 *
 * Owns: the listening sockets, which of them speak TLS, and the sniffing of a connection's
 * first bytes. Plaintext ports use `Deno.listen` (the fastest path); TLS ports accept raw
 * sockets with node:net, look at the first bytes, and hand real TLS ClientHellos to a node:tls
 * server (mTLS capable, see src/net/tls.ts). Every accepted client, TLS or not, runs the same
 * Connection loop.
 * HTTP is served on the admin port, and on the main port with --primary_port_http_enabled: such
 * a port's connections (after the TLS handshake on a TLS port) run through src/net/http.ts's
 * sniffing stream.
 * Invariants: a refused client (maxclients) gets Redis's error before the close; a plaintext
 * client on a TLS port gets Dragonfly's "Bad TLS header" error and a close; a TLS client on a
 * plaintext port is closed; each of those, and every failed handshake, leaves one log line;
 * accept errors never stop the loop; switching TLS on or off or rotating certificates never
 * touches established connections.
 */
import net from "node:net";
import tls from "node:tls";
import type { Server } from "../server/server.ts";
import type { ClientOrigin } from "../server/client.ts";
import { type ByteStream, Connection, formatAddr, writeAll } from "./connection.ts";
import { SocketByteStream } from "./tls.ts";
import { httpAware } from "./http.ts";
import { log } from "../observability/log.ts";

/** A running listener. */
export interface RunningListener {
  /** Port actually bound (useful with port 0 / -1); 0 until a TLS listener is bound. */
  port: number;
  /** Stops accepting and closes the socket. */
  close(): void;
}

const encoder = new TextEncoder();
const MAX_CLIENTS = encoder.encode("-ERR max number of clients reached\r\n");
/** Dragonfly's answer to a plaintext client on a TLS port. */
export const BAD_TLS_HEADER = "-ERR Bad TLS header, double check if you enabled TLS for your client.\r\n";

/** What the first bytes of a connection look like. */
export type FirstBytesKind = "tls" | "resp";

/**
 * Classifies the first bytes a client sent. A TLS record header is 0x16 0x03 0x01..0x03
 * (Dragonfly checks exactly that); anything else is treated as RESP (inline or multibulk).
 * HTTP (`GET /metrics HTTP/1.1`) is recognised afterwards, from the whole first line, by the
 * stream wrapper of src/net/http.ts.
 */
export function sniffFirstBytes(bytes: Uint8Array): FirstBytesKind {
  if (bytes.length === 0 || bytes[0] !== 0x16) return "resp";
  if (bytes.length >= 2 && bytes[1] !== 0x03) return "resp";
  if (bytes.length >= 3 && (bytes[2] < 0x01 || bytes[2] > 0x03)) return "resp";
  return "tls";
}

function nodeAddr(address: string | undefined, port: number | undefined): string {
  const a = (address ?? "").replace(/^::ffff:/, "");
  return a.includes(":") ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}

/**
 * One port (main or admin), served in plaintext or TLS. `reconfigure` switches between the two
 * or installs new certificates; established connections are not affected.
 */
export class PortListener implements RunningListener {
  /** Port actually bound. */
  port: number;
  private plain: Deno.Listener | null = null;
  private raw: net.Server | null = null;
  private tlsServer: tls.Server | null = null;
  private open = true;
  private readonly name: string;

  /**
   * Resolves once the port is bound; rejects with the bind error. A plaintext port binds (or
   * throws) in the constructor; a TLS port binds asynchronously.
   */
  ready: Promise<void>;

  /** Binds `hostname:port` for clients of `origin`; `tlsOptions` null means plaintext. */
  constructor(
    private readonly server: Server,
    private readonly hostname: string,
    port: number,
    private readonly origin: ClientOrigin,
    tlsOptions: tls.TlsOptions | null,
  ) {
    this.port = port;
    this.name = origin === "admin" ? "admin port" : "port";
    if (tlsOptions === null) {
      this.listenPlain();
      this.ready = Promise.resolve();
    } else {
      this.ready = this.listenTls(tlsOptions);
    }
  }

  /** True while this port speaks TLS. */
  get tls(): boolean {
    return this.tlsServer !== null;
  }

  /** Binds the plaintext TCP port (learning the real port when 0) and starts accepting. */
  private listenPlain(): void {
    const listener = Deno.listen({ hostname: this.hostname || "0.0.0.0", port: this.port, transport: "tcp" });
    this.plain = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    void this.acceptPlain(listener);
  }

  /** Accept loop of a plaintext listener (refuses clients over maxclients); ends once it is replaced or closed. */
  private async acceptPlain(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (!this.open || this.plain !== listener) return;
        log.warn(`accept failed on ${this.name} ${this.port}: ${(e as Error).message}`);
        continue;
      }
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
        (conn as Deno.TcpConn).setKeepAlive(true);
      } catch {
        // not fatal
      }
      if (this.refuseOverLimit()) {
        writeAll(conn, MAX_CLIENTS).catch(() => {}).finally(() => conn.close());
        continue;
      }
      const addr = formatAddr(conn.remoteAddr);
      const c = new Connection(this.server, this.withHttp(conn), this.origin, addr, formatAddr(conn.localAddr));
      void c.serve(undefined, (bytes) => this.plaintextFirstBytes(bytes, addr));
    }
  }

  /** Sniffs a plaintext port's first bytes: a TLS ClientHello is logged and closed. */
  private plaintextFirstBytes(bytes: Uint8Array, addr: string): boolean {
    if (sniffFirstBytes(bytes) !== "tls") return true;
    log.warn(`${addr} sent a TLS handshake to plaintext ${this.name} ${this.port}; closing (is TLS enabled here?)`);
    return false;
  }

  /** Counts and reports a connection refused because `maxclients` clients are connected. */
  private refuseOverLimit(): boolean {
    if (this.server.clients.size < this.server.config.num("maxclients")) return false;
    this.server.stats.rejectedConnections++;
    return true;
  }

  /** Binds the raw TCP server behind TLS; resolves once listening (learning the real port when 0). */
  private listenTls(options: tls.TlsOptions): Promise<void> {
    this.tlsServer = this.makeTlsServer(options);
    const raw = net.createServer({ noDelay: true }, (sock) => this.onRawSocket(sock));
    this.raw = raw;
    return new Promise((resolve, reject) => {
      raw.once("error", (e: Error) => reject(new Error(`cannot listen on ${this.name} ${this.port}: ${e.message}`)));
      raw.once("listening", () => {
        raw.on("error", (e: Error) => log.warn(`${this.name} ${this.port}: ${e.message}`));
        const a = raw.address();
        if (a !== null && typeof a === "object") this.port = a.port;
        resolve();
      });
      raw.listen(this.port, this.hostname || "0.0.0.0");
    });
  }

  /** A TLS server with `options` that serves secured sockets and logs handshake failures. */
  private makeTlsServer(options: tls.TlsOptions): tls.Server {
    const s = tls.createServer(options);
    s.on("secureConnection", (sock: tls.TLSSocket) => this.serveSocket(sock));
    s.on("tlsClientError", (err: Error & { code?: string }, sock: tls.TLSSocket) => {
      // A client certificate that did not verify (other CA, expired) is reported here; a missing
      // one or a protocol failure comes as the error itself.
      const certError: unknown = sock?.authorizationError;
      const reason = certError
        ? `client certificate rejected: ${certError}`
        : err.code
        ? `${err.message} (${err.code})`
        : err.message;
      // The TLS socket has no address of its own before the handshake: its TCP socket has.
      const tcp = (sock as unknown as { _parent?: net.Socket })?._parent ?? sock;
      log.warn(
        `TLS handshake with ${
          nodeAddr(tcp?.remoteAddress, tcp?.remotePort)
        } on ${this.name} ${this.port} failed: ${reason}`,
      );
      // Node destroys a failed handshake's socket; Deno leaves a timed-out one open.
      sock?.destroy();
      tcp?.destroy();
    });
    return s;
  }

  /** A raw TCP client on a TLS port: check that it starts a TLS handshake, then hand it over. */
  private onRawSocket(sock: net.Socket): void {
    const addr = nodeAddr(sock.remoteAddress, sock.remotePort);
    sock.on("error", () => {});
    try {
      sock.setNoDelay(true);
      sock.setKeepAlive(true, this.server.config.num("tcp_keepalive") * 1000);
    } catch {
      // not fatal
    }
    if (this.refuseOverLimit()) {
      sock.end(MAX_CLIENTS);
      return;
    }
    sock.once("data", (first: Uint8Array) => {
      sock.pause();
      const tlsServer = this.tlsServer;
      if (tlsServer === null) {
        // TLS was switched off while this client connected: serve it in plaintext.
        sock.unshift(first);
        this.serveSocket(sock);
        sock.resume();
        return;
      }
      if (sniffFirstBytes(first) !== "tls") {
        log.warn(`${addr} sent plaintext to TLS ${this.name} ${this.port}; answered Bad TLS header and closed`);
        sock.end(BAD_TLS_HEADER);
        return;
      }
      sock.unshift(first);
      tlsServer.emit("connection", sock);
    });
  }

  /** The stream a Connection reads: HTTP-aware on ports that serve HTTP. */
  private withHttp(stream: ByteStream): ByteStream {
    const http = this.origin === "admin" || this.server.config.bool("primary_port_http_enabled");
    return http ? httpAware(this.server, stream, this.origin) : stream;
  }

  /** Serves a node socket (TLS) as a Connection. */
  private serveSocket(sock: net.Socket): void {
    const stream = this.withHttp(new SocketByteStream(sock));
    const addr = nodeAddr(sock.remoteAddress, sock.remotePort);
    const laddr = nodeAddr(sock.localAddress, sock.localPort);
    void new Connection(this.server, stream, this.origin, addr, laddr).serve();
  }

  /**
   * Serves new connections with `tlsOptions` (null = plaintext). TLS to TLS swaps the context
   * without rebinding; a switch between TLS and plaintext rebinds the port (new clients may
   * be refused for that instant). Established connections keep their socket.
   */
  async reconfigure(tlsOptions: tls.TlsOptions | null): Promise<void> {
    if (!this.open) return;
    if (tlsOptions !== null && this.raw !== null) {
      this.tlsServer = this.makeTlsServer(tlsOptions);
      return;
    }
    if (tlsOptions === null && this.plain !== null) return;
    if (tlsOptions !== null) {
      this.closePlain();
      // The plaintext socket is released asynchronously: retry the bind for a moment.
      for (let attempt = 0;; attempt++) {
        this.ready = this.listenTls(tlsOptions);
        try {
          await this.ready;
          return;
        } catch (e) {
          this.raw = null;
          if (!/EADDRINUSE|in use/i.test((e as Error).message) || attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    } else {
      this.closeRaw();
      this.tlsServer = null;
      await this.rebindPlain();
    }
  }

  /** Closes the plaintext listener, if any. */
  private closePlain(): void {
    const p = this.plain;
    this.plain = null;
    try {
      p?.close();
    } catch {
      // already closed
    }
  }

  /** Stops the TLS port accepting (its 'close' event waits for its connections: not awaited). */
  private closeRaw(): void {
    const raw = this.raw;
    this.raw = null;
    raw?.close();
  }

  /** Binds the plaintext listener on the port the TLS listener just released. */
  private async rebindPlain(): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        this.listenPlain();
        return;
      } catch (e) {
        if (!(e instanceof Deno.errors.AddrInUse) || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Stops accepting (established connections are closed by their owner). */
  close(): void {
    this.open = false;
    this.closePlain();
    this.closeRaw();
    this.tlsServer = null;
  }
}
