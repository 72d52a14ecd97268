/**
 * The floor below Deno's socket ops: the PING-only server of socket_floor_server.ts, but with
 * its client sockets served the way Redis serves them, through one epoll set and libc's
 * recv/send called over FFI, with no runtime op, promise or event-loop turn per request.
 * scripts/bench-socket-floor.ts runs it next to redis-server to show how close any JavaScript
 * server under Deno can come to Redis's CPU per request at `-P 1`.
 *
 * Usage: deno run -A scripts/socket_floor_epoll_server.ts PORT   (Linux x86-64/arm64, glibc)
 *
 * How it runs: accepted sockets leave the runtime's reactor (its epoll set, found through
 * /proc/self/fdinfo) and join ours, level-triggered. One macrotask at a time serves them: it
 * loops on epoll_wait (≤ 1 ms per wait) for at most 1 ms, answering every ready socket with
 * one recv and one send, then yields to the runtime with setImmediate. After 50 empty waits it
 * parks in an epoll_wait on a runtime worker thread until a client is ready again.
 * Invariants: one reply per command, in order; a socket whose send cannot take the whole reply
 * (never the case for redis-benchmark's PING) or that fails is closed; every loop is bounded.
 */
import { setImmediate } from "node:timers";
import { answer, PONG, UNKNOWN } from "./socket_floor_server.ts";

const LIBC_SYMBOLS = {
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_parked: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const;
const EPOLLIN = 0x1;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CLOEXEC = 0x80000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MAX_EVENTS = 256;
/** `struct epoll_event` is packed (12 bytes) on x86-64 and 16 bytes elsewhere. */
const EVENT_WORDS = Deno.build.arch === "x86_64" ? 3 : 4;
const DATA_WORD = Deno.build.arch === "x86_64" ? 1 : 2;
const IDLE_WAITS_BEFORE_PARK = 50;

const libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS).symbols;
const epfd = libc.epoll_create1(EPOLL_CLOEXEC);
const events = new Uint32Array(MAX_EVENTS * EVENT_WORDS);
const ctl = new Uint32Array(EVENT_WORDS);

/** A `size_t` argument as a plain number (the runtime accepts one; a BigInt per call would cost more). */
function size(n: number): bigint {
  return n as unknown as bigint;
}

/** One adopted client: its runtime handle (kept open until the end) and its input buffer. */
interface Client {
  conn: Deno.Conn;
  buf: Uint8Array;
  have: number;
}
const clients = new Map<number, Client>();
/** The replies of one read batch (the replies to 64 KB of PINGs fit). */
const out = new Uint8Array(256 * 1024);

/** The OS descriptor of an accepted connection (a hidden property of the runtime's object). */
function fdOf(conn: Deno.Conn): number {
  const sym = Object.getOwnPropertySymbols(conn).find((s) => s.description === "Deno.internal.fd");
  const fd = sym === undefined ? undefined : (conn as unknown as Record<symbol, unknown>)[sym];
  if (typeof fd !== "number") throw new Error("this runtime does not expose socket descriptors");
  return fd;
}

/** The runtime reactor's epoll set: the one /proc/self/fdinfo shows watching `fd`. */
function reactorWatching(fd: number): number {
  const watched = new RegExp(`^tfd:\\s+${fd}\\s`, "m");
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const candidate = Number(entry.name);
    try {
      if (!Deno.readLinkSync(`/proc/self/fd/${candidate}`).includes("eventpoll")) continue;
      if (watched.test(Deno.readTextFileSync(`/proc/self/fdinfo/${candidate}`))) return candidate;
    } catch {
      // gone meanwhile
    }
  }
  throw new Error("the runtime's reactor was not found");
}

/** Closes a client and forgets it. */
function drop(fd: number): void {
  const c = clients.get(fd);
  if (c === undefined) return;
  clients.delete(fd);
  libc.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, ctl);
  c.conn.close();
}

const kinds: number[] = [];

/** Serves one ready socket: one recv, then one send with the replies of its complete commands. */
function serveReady(fd: number): void {
  const c = clients.get(fd);
  if (c === undefined) return;
  const room = c.buf.length - c.have;
  const n = libc.recv(fd, c.have === 0 ? c.buf : c.buf.subarray(c.have), size(room), MSG_DONTWAIT);
  if (n <= 0) {
    if (n === 0 || room === 0) drop(fd); // EOF, error or an over-long command; EAGAIN otherwise
    return;
  }
  c.have += n;
  kinds.length = 0;
  const used = answer(c.buf, c.have, kinds);
  c.buf.copyWithin(0, used, c.have);
  c.have -= used;
  if (kinds.length === 0) return;
  let at = 0;
  for (const k of kinds) {
    const reply = k ? PONG : UNKNOWN;
    if (at + reply.length > out.length) return drop(fd); // more than one read's worth of replies
    out.set(reply, at);
    at += reply.length;
  }
  if (libc.send(fd, out, size(at), MSG_DONTWAIT | MSG_NOSIGNAL) !== at) drop(fd);
}

/** Serves the first `n` collected events; returns n. */
function serveEvents(n: number): number {
  for (let i = 0; i < n; i++) serveReady(events[i * EVENT_WORDS + DATA_WORD]);
  return n;
}

let pumping = false;

/** The serving loop (see the file comment); runs while there are clients. */
async function pump(): Promise<void> {
  pumping = true;
  let idle = 0;
  while (clients.size > 0) {
    const started = performance.now();
    for (let turns = 0; turns < 10_000 && performance.now() - started < 1; turns++) {
      if (serveEvents(libc.epoll_wait(epfd, events, MAX_EVENTS, 1)) > 0) idle = 0;
      else if (++idle >= IDLE_WAITS_BEFORE_PARK) break;
      await null; // promise continuations run between turns
    }
    if (idle >= IDLE_WAITS_BEFORE_PARK) {
      let n = 0;
      while (n <= 0 && clients.size > 0) n = await libc.epoll_wait_parked(epfd, events, MAX_EVENTS, 1000);
      if (n > 0) serveEvents(n);
      idle = 0;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  pumping = false;
}

const port = Number(Deno.args[0]);
let reactor = -1;
for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) {
  (conn as Deno.TcpConn).setNoDelay(true);
  const fd = fdOf(conn);
  if (reactor < 0) reactor = reactorWatching(fd);
  libc.epoll_ctl(reactor, EPOLL_CTL_DEL, fd, ctl);
  clients.set(fd, { conn, buf: new Uint8Array(64 * 1024), have: 0 });
  ctl.fill(0);
  ctl[0] = EPOLLIN;
  ctl[DATA_WORD] = fd;
  libc.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ctl);
  if (!pumping) void pump();
}
