/**
 * Connection: the read/parse/dispatch/write loop of one client socket.
 *
 * Owns: the socket, its RespParser and the Client it serves. Invariants: commands of one
 * connection run strictly in order; all replies produced by one read batch go out in one
 * socket write; a protocol error is answered with Redis's text and the connection closes;
 * a client whose pending output exceeds the limit is disconnected; nothing a peer sends
 * can throw out of this loop.
 */
import { ProtocolError, RespParser } from "../resp/parser.ts";
import { RespWriter } from "../resp/writer.ts";
import { Client, type ClientOrigin } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { dispatch } from "../commands/dispatcher.ts";
import { log } from "../observability/log.ts";

const READ_SIZE = 64 * 1024;
/** Pending reply bytes (beyond the write in flight) at which a connection stops reading. */
const BACKPRESSURE_BYTES = 1024 * 1024;

/** Minimal socket surface used by connections (Deno.Conn and TLS adapters provide it). */
export interface ByteStream {
  /** Reads into `buf`; null at EOF. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes some bytes; returns how many were written. */
  write(data: Uint8Array): Promise<number>;
  /** Closes the stream. */
  close(): void;
}

/** Writes all of `data` to `conn`. */
export async function writeAll(conn: ByteStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/** Formats a Deno address as `ip:port`. */
export function formatAddr(a: Deno.Addr): string {
  if (a.transport === "tcp" || a.transport === "udp") {
    return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
  }
  return "unix";
}

/** One client connection. */
export class Connection {
  /** The client state served by this connection. */
  readonly client: Client;
  private readonly writer = new RespWriter();
  private readonly parser: RespParser;
  private flushing: Promise<void> | null = null;
  private flushQueued = false;
  private closed = false;
  /** Producers waiting for pending output to fall below their threshold (see Client.whenDrained). */
  private drainWaiters: { threshold: number; resolve: () => void }[] = [];

  /** Wraps `conn` with a new Client of `origin` (`addr`/`laddr` are the peer and local addresses). */
  constructor(
    private readonly server: Server,
    private readonly conn: ByteStream,
    origin: ClientOrigin,
    addr: string,
    laddr: string,
  ) {
    this.client = new Client(server, this.writer, origin);
    this.client.addr = addr;
    this.client.laddr = laddr;
    this.parser = new RespParser({
      maxBulkLen: server.config.num("proto_max_bulk_len"),
      unauthenticated: this.client.user === null,
    });
    this.client.kill = () => this.close();
    this.client.flush = () => this.scheduleFlush();
    this.client.pendingOutput = () => this.writer.length;
    this.client.whenDrained = (threshold) => this.whenDrained(threshold);
  }

  /**
   * Resolves once the bytes not yet handed to the socket are below `threshold` and no more
   * than one write is in flight, or when the connection closes. Streaming producers
   * (replication flows) await it for back-pressure.
   */
  private whenDrained(threshold: number): Promise<void> {
    if (this.closed || (this.writer.length < threshold && this.flushing === null)) return Promise.resolve();
    this.scheduleFlush();
    return new Promise((resolve) => this.drainWaiters.push({ threshold, resolve }));
  }

  /** Wakes the drain waiters whose threshold the pending output is now below. */
  private wakeDrained(): void {
    if (this.drainWaiters.length === 0) return;
    const pending = this.writer.length;
    const still: { threshold: number; resolve: () => void }[] = [];
    for (const w of this.drainWaiters) {
      if (this.closed || pending < w.threshold) w.resolve();
      else still.push(w);
    }
    this.drainWaiters = still;
  }

  /**
   * Serves the connection until the peer leaves or the connection is killed. `firstBytes`, when
   * given, inspects the first bytes read (protocol sniffing, src/net/listener.ts); the
   * connection closes without a reply when it returns false.
   */
  async serve(initial?: Uint8Array, firstBytes?: (bytes: Uint8Array) => boolean): Promise<void> {
    const server = this.server;
    server.clients.set(this.client.id, this.client);
    server.stats.totalConnections++;
    const buf = new Uint8Array(READ_SIZE);
    try {
      let chunk: Uint8Array | null = initial && initial.length > 0 ? initial : null;
      /** A read started while a command was blocked and still in flight. */
      let inFlight: Promise<number | null> | null = null;
      while (!this.closed) {
        if (chunk === null) {
          let n: number | null;
          try {
            n = await (inFlight ?? this.conn.read(buf));
          } catch {
            break;
          }
          inFlight = null;
          if (n === null || this.closed) break;
          chunk = buf.subarray(0, n);
          if (firstBytes !== undefined) {
            const accepted = firstBytes(chunk);
            firstBytes = undefined;
            if (!accepted) break;
          }
        }
        const blocked = this.onData(chunk);
        chunk = null;
        if (blocked !== null) inFlight = (await this.awaitBlocked(blocked, buf)).read;
        // The write runs while we wait for the next request; only a peer that does not read
        // its replies (a write still in flight plus a large backlog) makes us stop reading.
        const flushed = this.flushNow();
        if (flushed !== undefined && (this.client.closeAfterReply || this.writer.length >= BACKPRESSURE_BYTES)) {
          await flushed;
        }
        if (this.client.closeAfterReply) break;
      }
    } catch (e) {
      log.warn(
        `client ${this.client.addr} id=${this.client.id}: closing after unexpected error: ${(e as Error).stack ?? e}`,
      );
    } finally {
      this.close();
    }
  }

  /**
   * Parses and runs every complete command of a read batch, synchronously. Returns a promise
   * only when a command blocked; the rest of the batch then runs once it is served.
   */
  private onData(data: Uint8Array): Promise<void> | null {
    const c = this.client;
    const stats = this.server.stats;
    c.bytesIn += data.length;
    c.lastInteraction = Date.now();
    stats.netInputBytes += data.length;
    stats.beginBatch();
    this.parser.feed(data);
    const blocked = this.runParsed();
    stats.settleUntimed();
    return blocked;
  }

  /** Runs parsed commands until input runs out; returns the promise of a command that blocked, else null. */
  private runParsed(): Promise<void> | null {
    const c = this.client;
    // Read once per batch: a flag lookup per command would cost more than a fast command.
    const outputLimit = this.server.config.num("client_output_buffer_limit");
    for (;;) {
      let args: string[] | null;
      try {
        this.parser.limits.unauthenticated = c.user === null;
        args = this.parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        log.v(1, `protocol error from ${c.addr}: ${e.message}`);
        this.writer.error("ERR " + e.message);
        this.server.stats.countError("ERR");
        c.closeAfterReply = true;
        return null;
      }
      if (args === null) return null;
      const skip = c.replyMode !== "on";
      const mark = this.writer.length;
      const r = dispatch(c, args);
      if (r instanceof Promise) return this.afterBlock(r, args, skip);
      if (skip) this.dropReply(args, mark);
      if (c.closeAfterReply || this.closed) return null;
      if (this.writer.length > outputLimit) {
        log.warn(`client ${c.addr} id=${c.id} closed: output buffer over client_output_buffer_limit`);
        this.close();
        return null;
      }
    }
  }

  /**
   * Waits for a blocked command while still reading the socket, as Redis does: a peer that
   * leaves while blocked closes the connection (its wait ends as "gone" instead of taking
   * data meant for others), and what it pipelines meanwhile runs once the command is done.
   * Returns a read still in flight when the wait ended, for the serve loop to finish.
   */
  private async awaitBlocked(
    blocked: Promise<void>,
    buf: Uint8Array,
  ): Promise<{ read: Promise<number | null> | null }> {
    let read: Promise<number | null> | null = null;
    let current: Promise<void> | null = blocked;
    while (current !== null && !this.closed) {
      let finished = false;
      const done = current.then(() => {
        finished = true;
      });
      while (!finished) {
        read ??= this.conn.read(buf).catch(() => null);
        const n = await Promise.race([done.then(() => -1), read]);
        if (n === -1) break;
        read = null;
        if (n === null) {
          this.close();
          return { read: null };
        }
        this.client.bytesIn += n;
        this.server.stats.netInputBytes += n;
        this.parser.feed(buf.subarray(0, n));
      }
      await done;
      // Input that arrived after the blocked batch finished still waits in the parser.
      current = !this.closed && this.parser.pending > 0 ? this.onData(new Uint8Array(0)) : null;
    }
    return { read };
  }

  /** Waits for a blocked command, then runs the rest of the batch. */
  private async afterBlock(r: Promise<void>, args: string[], skip: boolean): Promise<void> {
    const flushed = this.flushNow();
    if (flushed !== undefined) await flushed;
    const mark = this.writer.length;
    await r;
    if (skip) this.dropReply(args, mark);
    if (this.client.closeAfterReply || this.closed) return;
    const more = this.runParsed();
    if (more !== null) await more;
  }

  /** CLIENT REPLY OFF/SKIP: discards the reply just written (except CLIENT REPLY's own). */
  private dropReply(args: string[], mark: number): void {
    const c = this.client;
    const isReplyCmd = args[0].toLowerCase() === "client" && args.length > 1 && args[1].toLowerCase() === "reply";
    if (isReplyCmd) return;
    this.writer.length = mark;
    if (c.replyMode === "skip") c.replyMode = "on";
  }

  /** Queues one flush in a microtask; closes the client when its output is over client_output_buffer_limit. */
  private scheduleFlush(): void {
    if (this.closed || this.flushing || this.flushQueued) return;
    if (this.writer.length > this.server.config.num("client_output_buffer_limit")) {
      log.warn(`client ${this.client.addr} id=${this.client.id} closed: output buffer over client_output_buffer_limit`);
      this.close();
      return;
    }
    // One queued flush serves every push made before it runs (a burst of pushes, a stream).
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      void this.flushNow();
    });
  }

  /**
   * Starts writing everything pending. Returns the write in flight (undefined when there is
   * nothing to write); writes never interleave.
   */
  private flushNow(): Promise<void> | undefined {
    if (this.flushing !== null) return this.flushing.then(() => this.flushNow());
    if (this.writer.length === 0 || this.closed) return undefined;
    const data = this.writer.take();
    this.client.bytesOut += data.length;
    this.server.stats.netOutputBytes += data.length;
    this.flushing = this.writeOut(data);
    return this.flushing;
  }

  /** Writes `data` fully (closing on error), wakes drain waiters, then flushes what was added meanwhile. */
  private async writeOut(data: Uint8Array): Promise<void> {
    try {
      let off = await this.conn.write(data);
      while (off < data.length) off += await this.conn.write(data.subarray(off));
    } catch {
      this.close();
    } finally {
      this.flushing = null;
    }
    this.wakeDrained();
    if (this.writer.length > 0 && !this.closed) await this.flushNow();
  }

  /** Closes the socket and forgets the client. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const c = this.client;
    c.closed = true;
    c.unwatchAll();
    c.unblock?.(false);
    this.server.clients.delete(c.id);
    this.server.monitors.delete(c);
    for (const cb of this.server.onClientClose) cb(c);
    this.wakeDrained();
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}
