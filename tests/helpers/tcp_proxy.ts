/**
 * A loopback TCP proxy that tests put between a replica and its primary to cut and heal links.
 *
 * Invariants: every accepted connection is paired with one upstream connection and both are
 * closed together; `cut()` closes every live pair at once (the peers see a reset/EOF) and,
 * while the proxy is `down`, new connections are accepted and closed immediately, like an
 * unreachable network; `close()` stops everything. Bytes are forwarded unchanged.
 */

/** A running proxy. */
export interface TcpProxy {
  /** Port the proxy listens on (point REPLICAOF here). */
  port: number;
  /** Number of connection pairs accepted so far. */
  accepted(): number;
  /** Number of live connection pairs. */
  live(): number;
  /** Closes every live pair; with `stayDown`, refuses new connections until `heal()`. */
  cut(stayDown?: boolean): void;
  /** Accepts and forwards connections again after `cut(true)`. */
  heal(): void;
  /** Pauses forwarding in both directions (bytes queue in the kernel) until `resume()`. */
  pause(): void;
  /** Resumes forwarding after `pause()`. */
  resume(): void;
  /** Stops listening and closes every pair. */
  close(): void;
}

/** Starts a proxy on a free loopback port forwarding to 127.0.0.1:`targetPort`. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const pairs = new Set<[Deno.Conn, Deno.Conn]>();
  let down = false;
  let closed = false;
  let accepted = 0;
  let paused: Promise<void> | null = null;
  let resumePaused: () => void = () => {};

  const closePair = (pair: [Deno.Conn, Deno.Conn]) => {
    if (!pairs.delete(pair)) return;
    for (const c of pair) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  };

  const pump = async (from: Deno.Conn, to: Deno.Conn, pair: [Deno.Conn, Deno.Conn]) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        while (paused !== null) await paused;
        if (!pairs.has(pair)) break;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // a side closed
    }
    closePair(pair);
  };

  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      if (down || closed) {
        conn.close();
        continue;
      }
      let upstream: Deno.Conn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      } catch {
        conn.close();
        continue;
      }
      if (down || closed) {
        conn.close();
        upstream.close();
        continue;
      }
      accepted++;
      const pair: [Deno.Conn, Deno.Conn] = [conn, upstream];
      pairs.add(pair);
      void pump(conn, upstream, pair);
      void pump(upstream, conn, pair);
    }
  })();

  return {
    port,
    accepted: () => accepted,
    live: () => pairs.size,
    cut(stayDown = false) {
      down = stayDown;
      for (const p of [...pairs]) closePair(p);
    },
    heal() {
      down = false;
    },
    pause() {
      if (paused === null) paused = new Promise((r) => resumePaused = r);
    },
    resume() {
      const r = resumePaused;
      paused = null;
      r();
    },
    close() {
      closed = true;
      this.resume();
      try {
        listener.close();
      } catch {
        // already closed
      }
      for (const p of [...pairs]) closePair(p);
    },
  };
}
