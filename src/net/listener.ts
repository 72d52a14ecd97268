/**
 * Listeners: accept loops for the main and admin ports.
 *
 * Owns: the listening sockets and the set of live connections. Invariants: a refused
 * client (maxclients) gets Redis's error before the close; accept errors never stop the
 * loop; closing a listener closes its connections.
 */
import type { Server } from "../server/server.ts";
import type { ClientOrigin } from "../server/client.ts";
import { Connection, formatAddr, writeAll } from "./connection.ts";
import { log } from "../observability/log.ts";

/** A running listener. */
export interface RunningListener {
  /** Port actually bound (useful with port 0 / -1). */
  port: number;
  /** Stops accepting and closes the socket. */
  close(): void;
}

const encoder = new TextEncoder();

/** Starts a plaintext TCP listener serving RESP on `hostname:port`. */
export function listenTcp(server: Server, hostname: string, port: number, origin: ClientOrigin): RunningListener {
  const listener = Deno.listen({ hostname: hostname || "0.0.0.0", port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  let open = true;
  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (!open) return;
        log.warn(`accept failed on port ${addr.port}: ${(e as Error).message}`);
        continue;
      }
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
        (conn as Deno.TcpConn).setKeepAlive(true);
      } catch {
        // not fatal
      }
      if (server.clients.size >= server.config.num("maxclients")) {
        server.stats.rejectedConnections++;
        writeAll(conn, encoder.encode("-ERR max number of clients reached\r\n")).catch(() => {}).finally(() =>
          conn.close()
        );
        continue;
      }
      const c = new Connection(server, conn, origin, formatAddr(conn.remoteAddr), formatAddr(conn.localAddr));
      void c.serve();
    }
  })();
  return {
    port: addr.port,
    close() {
      open = false;
      try {
        listener.close();
      } catch {
        // already closed
      }
    },
  };
}
