/**
 * The floor of Deno's socket layer: a server that answers every PING with PONG and does
 * nothing else, served exactly as damselfly serves a plaintext client (Deno.listen, one
 * `conn.read` and one `conn.write` per read batch). scripts/bench-socket-floor.ts measures its
 * CPU per request next to redis-server's and damselfly's.
 *
 * Usage: deno run -A scripts/socket_floor_server.ts PORT
 * Invariant: one reply per multibulk command, in order (PONG for PING, an error otherwise).
 */
const encoder = new TextEncoder();
/** The reply to PING. */
export const PONG = encoder.encode("+PONG\r\n");
/** The reply to any other command. */
export const UNKNOWN = encoder.encode("-ERR unknown command\r\n");

/**
 * Finds the complete multibulk commands in `buf[0..n)` and appends one reply per command to
 * `out`: PONG for PING, an error for anything else (redis-benchmark's CONFIG GET at start).
 * Returns the number of bytes consumed; an incomplete command stays for the next read.
 */
export function answer(buf: Uint8Array, n: number, out: number[]): number {
  let pos = 0;
  for (;;) {
    const start = pos;
    if (pos >= n || buf[pos] !== 0x2a) return start; // '*'
    let i = pos + 1;
    let argc = 0;
    while (i < n && buf[i] !== 0x0d) argc = argc * 10 + buf[i++] - 0x30;
    i += 2;
    let isPing = false;
    for (let a = 0; a < argc; a++) {
      if (i >= n) return start;
      let len = 0;
      i++; // '$'
      while (i < n && buf[i] !== 0x0d) len = len * 10 + buf[i++] - 0x30;
      i += 2;
      if (a === 0) isPing = len === 4 && (buf[i] | 0x20) === 0x70 && (buf[i + 1] | 0x20) === 0x69;
      i += len + 2;
    }
    if (i > n) return start;
    out.push(isPing ? 1 : 0);
    pos = i;
  }
}

/** Serves one client until it leaves. */
async function serve(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let have = 0;
  const kinds: number[] = [];
  try {
    for (;;) {
      const n = await conn.read(have === 0 ? buf : buf.subarray(have));
      if (n === null) break;
      have += n;
      kinds.length = 0;
      const used = answer(buf, have, kinds);
      buf.copyWithin(0, used, have);
      have -= used;
      if (kinds.length === 0) continue;
      const reply = replyFor(kinds);
      let off = 0;
      while (off < reply.length) off += await conn.write(reply.subarray(off));
    }
  } catch {
    // peer gone
  } finally {
    try {
      conn.close();
    } catch {
      // closed
    }
  }
}

/** The reply bytes for the command kinds `answer` found (PONG for 1, an error for 0). */
export function replyFor(kinds: number[]): Uint8Array {
  const reply = new Uint8Array(kinds.reduce((sum, k) => sum + (k ? PONG.length : UNKNOWN.length), 0));
  let at = 0;
  for (const k of kinds) {
    reply.set(k ? PONG : UNKNOWN, at);
    at += k ? PONG.length : UNKNOWN.length;
  }
  return reply;
}

if (import.meta.main) {
  const port = Number(Deno.args[0]);
  for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) {
    (conn as Deno.TcpConn).setNoDelay(true);
    void serve(conn);
  }
}
