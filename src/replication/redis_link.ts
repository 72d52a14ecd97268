/**
 * Replication from a Redis primary (design/redis-replication-rdb.md §A): the PSYNC session that
 * runs on a greeted control link once `REPLCONF capa dragonfly` was answered +OK.
 *
 * Owns: the PSYNC request (`PSYNC <cached replid> <offset+1>` or `PSYNC ? -1`) and its reply
 * (+FULLRESYNC, +CONTINUE with or without a new replid, the SYNC fallback for primaries without
 * PSYNC), the RDB payload in both forms (`$<len>` and diskless `$EOF:<mark>`, keepalive newlines
 * before it) loaded in a streaming fashion, then the command stream applied through the
 * dispatcher as the master link, with Redis's byte-exact offsets and `REPLCONF ACK`s.
 *
 * Invariants:
 * - the dataset is flushed only when the payload header arrives (a sync really starts); a
 *   failed handshake or a refused PSYNC leaves the old data in place;
 * - `applied` sits on a command boundary outside MULTI: it advances after each executed command
 *   (a transaction advances it once, at EXEC), never before the command ran, so an ACK never
 *   covers a write this node does not hold; GETACK is answered with the offset before it;
 * - a transaction from the stream is collected whole and run as MULTI…EXEC in one synchronous
 *   step; a link that drops inside one discards it (as Redis's cached master does);
 * - a command this node cannot run is logged loudly with its name and offset and skipped; the
 *   link stays up (an inline command is a desync, as in Redis, and ends the link);
 * - nothing is ever written to the primary but PSYNC/SYNC, `REPLCONF ACK` and loading newlines.
 */
import type { Server } from "../server/server.ts";
import type { Client } from "../server/client.ts";
import { dispatch, resolveCommand } from "../commands/dispatcher.ts";
import { ProtocolError, RespParser } from "../resp/parser.ts";
import { RdbLoader } from "../rdb/loader.ts";
import { log } from "../observability/log.ts";
import { LinkClosedError, LinkProtocolError, type LinkSocket } from "./link_socket.ts";

/** What a replica keeps of a Redis primary to continue with PSYNC (Redis's cached master). */
export interface RedisCachedMaster {
  /** The primary's replication id. */
  replid: string;
  /** Offset of the last byte applied. */
  offset: number;
  /** Database the stream had selected. */
  db: number;
}

/** Replica states this link reports (the Replica's ROLE names). */
export type RedisLinkState = "preparation" | "full_sync" | "stable_sync";

/** What the Replica state machine lends a Redis session. */
export interface RedisLinkHost {
  /** The server being fed. */
  readonly server: Server;
  /** The master-link client the stream runs on (NullWriter, isMasterLink). */
  readonly client: Client;
  /** `host:port` of the primary, for log lines. */
  readonly describe: string;
  /** Moves the replica's state (ROLE/INFO). */
  setState(state: RedisLinkState, why: string): void;
  /**
   * Called with the primary's replid of a +FULLRESYNC before anything is flushed; may throw to
   * refuse the sync (break_replication_on_master_restart).
   */
  beforeFullSync(replid: string): void;
}

/** Length of replication ids and EOF marks. */
const ID_LENGTH = 40;
/** Redis's repl-timeout: a link silent this long is dropped (the primary PINGs every 10 s). */
const REPL_TIMEOUT_MS = 60_000;
/** A loading replica sends the primary a newline at most this often (Redis: once per second). */
const LOADING_NEWLINE_MS = 1000;
/** Unsupported or failing stream commands logged one by one before logging only every 1000th. */
const LOGGED_FAILURES = 20;
/** Largest bulk the primary may send (no limit for the master client in Redis). */
const MAX_STREAM_BULK = 0x1fffffe8;

/** One PSYNC session with a Redis primary on a greeted link. */
export class RedisLinkSession {
  /** The primary's replid (from +FULLRESYNC / +CONTINUE). */
  replid = "";
  /** Offset of the last applied byte (on a command boundary outside MULTI). */
  applied = 0;
  /** True once the command stream flows (after the load, or at once after +CONTINUE). */
  stable = false;
  /** True when this session was a partial resync (+CONTINUE). */
  continued = false;
  /** True when the primary was reached with SYNC (no PSYNC): no ACKs, no later partial resync. */
  prePsync = false;
  /** Keys loaded by the full sync. */
  keysLoaded = 0;
  /** Stream commands that failed or were skipped. */
  failures = 0;
  private parser: RespParser | null = null;
  /** Offset of the byte just before the first stream byte the parser holds. */
  private streamBase = 0;
  /** A transaction being collected (MULTI seen, EXEC not yet): its commands (SELECT included, as 7.2 sends it). */
  private tx: { cmds: string[][] } | null = null;
  private lastAck = 0;
  private lastNewline = 0;
  private loading = false;
  /** Set once the full sync flushed the old dataset. */
  private flushed = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closedReason: string | null = null;

  /** A session over `link`; `cached` is the state kept from the previous attempt (for PSYNC), or null. */
  constructor(
    private readonly host: RedisLinkHost,
    private readonly link: LinkSocket,
    private readonly cached: RedisCachedMaster | null,
  ) {}

  /**
   * The state to keep for the next attempt: the stream's position once it flowed; the previous
   * one when this session never touched the data; null after a flush that did not complete (or
   * with a primary reached through SYNC).
   */
  cachedMaster(): RedisCachedMaster | null {
    if (this.stable) {
      return this.prePsync ? null : { replid: this.replid, offset: this.applied, db: this.host.client.db };
    }
    return this.flushed ? null : this.cached;
  }

  /** Runs the session until the link ends; always rejects with the reason. */
  async run(): Promise<never> {
    const ackEvery = Math.max(1, this.host.server.config.num("replication_acks_interval"));
    this.timer = setInterval(() => this.tick(ackEvery), Math.min(ackEvery, LOADING_NEWLINE_MS));
    try {
      await this.handshake();
      for (;;) await this.applyStream(await this.link.readChunk());
    } catch (e) {
      if (this.closedReason !== null && e instanceof LinkClosedError) throw new LinkClosedError(this.closedReason);
      if (e instanceof ProtocolError) throw new LinkProtocolError(`bad command stream: ${e.message}`);
      throw e;
    } finally {
      clearInterval(this.timer);
      this.stop();
    }
  }

  /** Ends the session (the pending read fails); a half-received transaction is discarded. */
  stop(): void {
    this.tx = null;
    const c = this.host.client;
    c.multi = null;
    this.link.close();
  }

  /** PSYNC (or SYNC) and its reply; then the full sync, or the start of a partial one. */
  private async handshake(): Promise<void> {
    const cached = this.cached;
    const psync = cached !== null ? ["PSYNC", cached.replid, String(cached.offset + 1)] : ["PSYNC", "?", "-1"];
    await this.link.sendCommand(psync);
    const reply = await this.readNonEmptyLine("the PSYNC reply");
    if (reply.startsWith("+FULLRESYNC")) {
      const parts = reply.split(" ");
      const offset = Number(parts[2]);
      if (parts.length < 3 || !Number.isSafeInteger(offset)) throw new LinkProtocolError(`bad reply ${quote(reply)}`);
      // Redis keeps a replid of the wrong length only as "no replid" (later PSYNCs then fail).
      this.replid = parts[1].length === ID_LENGTH ? parts[1] : "";
      log.info(
        `replica of ${this.host.describe}: full resync from primary ${parts[1]}:${offset}${
          cached !== null ? ` (asked to continue ${cached.replid}:${cached.offset + 1})` : ""
        }`,
      );
      this.host.beforeFullSync(this.replid);
      await this.fullSync(offset);
      return;
    }
    if (reply.startsWith("+CONTINUE")) {
      if (cached === null) throw new LinkProtocolError(`+CONTINUE to PSYNC ? -1`);
      const id = reply.slice("+CONTINUE".length).trim();
      this.replid = id.length === ID_LENGTH ? id : cached.replid;
      if (this.replid !== cached.replid) {
        log.info(`replica of ${this.host.describe}: the primary's replid changed from ${cached.replid} to ${id}`);
      }
      this.continued = true;
      this.host.client.db = cached.db;
      this.startStream(cached.offset);
      this.host.setState("stable_sync", `partial resync from offset ${cached.offset + 1} accepted`);
      log.info(`replica of ${this.host.describe}: partial resync accepted, continuing at offset ${cached.offset + 1}`);
      return;
    }
    if (reply.startsWith("-NOMASTERLINK") || reply.startsWith("-LOADING")) {
      throw new Error(`the primary cannot sync now (${reply.slice(1)}); retrying later`);
    }
    if (reply.startsWith("-")) {
      log.warn(`replica of ${this.host.describe}: PSYNC refused (${reply.slice(1)}); falling back to SYNC`);
      this.prePsync = true;
      await this.link.send("SYNC");
      await this.fullSync(-1);
      return;
    }
    throw new LinkProtocolError(`unexpected PSYNC reply ${quote(reply)}`);
  }

  /** Reads lines until a non-empty one (empty lines are the primary's keepalives). */
  private async readNonEmptyLine(what: string): Promise<string> {
    for (;;) {
      const line = await this.link.readLine();
      if (line !== "") return line;
      log.v(2, `replica of ${this.host.describe}: keepalive newline while waiting for ${what}`);
    }
  }

  /** Reads the payload header, flushes, loads the RDB, then starts the stream at `offset`. */
  private async fullSync(offset: number): Promise<void> {
    const header = await this.readNonEmptyLine("the RDB payload");
    if (header.startsWith("-")) throw new Error(`the primary aborted the full sync: ${header.slice(1)}`);
    let mark: string | null = null;
    let length = -1;
    if (header.startsWith("$EOF:") && header.length >= 5 + ID_LENGTH) {
      mark = header.slice(5, 5 + ID_LENGTH);
    } else if (/^\$\d{1,15}$/.test(header)) {
      length = Number(header.slice(1));
    } else {
      throw new LinkProtocolError(
        `bad payload header ${quote(header)} after the PSYNC reply (are you sure the host and port are right?)`,
      );
    }
    const started = performance.now();
    const host = this.host;
    const server = host.server;
    host.setState("full_sync", `receiving the RDB (${mark !== null ? "diskless, EOF mark" : `${length} bytes`})`);
    log.info(`replica of ${host.describe}: full sync starting; flushing the old dataset`);
    server.loading = true;
    this.loading = true;
    const c = host.client;
    c.multi = null;
    c.db = 0;
    this.flushed = true;
    dispatch(c, ["FLUSHALL"]);
    const loader = new RdbLoader(server, {
      source: `from primary ${host.describe}`,
      totalBytes: length >= 0 ? length : undefined,
    });
    let rest: Uint8Array = new Uint8Array(0);
    let received = 0;
    try {
      while (length >= 0 ? received < length : !loader.done) {
        let chunk: Uint8Array;
        try {
          chunk = await this.link.readChunk();
        } catch (e) {
          if (e instanceof LinkClosedError) {
            throw new LinkClosedError(`connection lost during the full sync, after ${received} bytes of the RDB`);
          }
          throw e;
        }
        if (length >= 0) {
          const part = chunk.subarray(0, Math.min(chunk.length, length - received));
          if (!loader.done) loader.feed(part);
          received += part.length;
          rest = chunk.subarray(part.length);
        } else {
          const used = loader.feed(chunk);
          received += used;
          rest = chunk.subarray(used);
        }
      }
      const stats = loader.finish();
      this.keysLoaded = stats.keysLoaded;
      if (length >= 0 && stats.bytes < length) {
        log.warn(`replica of ${host.describe}: ${length - stats.bytes} bytes after the RDB's EOF were ignored`);
      }
    } catch (e) {
      loader.abort();
      throw e;
    }
    if (mark !== null) rest = await this.readMark(rest, mark);
    server.loading = false;
    this.loading = false;
    log.info(
      `replica of ${host.describe}: full sync finished in ${
        ((performance.now() - started) / 1000).toFixed(3)
      } s (${this.keysLoaded} keys); stream starts at offset ${offset + 1}`,
    );
    c.db = 0;
    this.startStream(offset);
    host.setState("stable_sync", "full sync done");
    // After a diskless transfer the primary waits for this first ACK before it streams.
    if (!this.prePsync) this.sendAck();
    if (rest.length > 0) await this.applyStream(rest);
  }

  /** Reads the 40-byte EOF mark that follows a diskless RDB; returns the bytes after it. */
  private async readMark(after: Uint8Array, mark: string): Promise<Uint8Array> {
    let got = after;
    while (got.length < ID_LENGTH) {
      const more = await this.link.readChunk();
      const joined = new Uint8Array(got.length + more.length);
      joined.set(got);
      joined.set(more, got.length);
      got = joined;
    }
    let seen = "";
    for (let i = 0; i < ID_LENGTH; i++) seen += String.fromCharCode(got[i]);
    if (seen !== mark) throw new LinkProtocolError(`the RDB is not followed by its EOF mark (got ${quote(seen)})`);
    return got.subarray(ID_LENGTH);
  }

  /** Starts applying the command stream whose first byte has offset `offset + 1`. */
  private startStream(offset: number): void {
    this.parser = new RespParser({ maxBulkLen: MAX_STREAM_BULK });
    this.streamBase = offset;
    this.applied = offset;
    this.tx = null;
    this.stable = true;
  }

  /** Feeds stream bytes and applies every complete command (awaiting one that blocks). */
  private async applyStream(chunk: Uint8Array): Promise<void> {
    const parser = this.parser!;
    parser.feed(chunk);
    for (;;) {
      const args = parser.next();
      if (args === null) return;
      if (parser.lastWasInline) {
        throw new LinkProtocolError(`Master using the inline protocol. Desync? (${quote(args.join(" "))})`);
      }
      const r = this.apply(args);
      if (r !== undefined) await r;
      if (this.tx === null) this.applied = this.streamBase + parser.consumed;
    }
  }

  /** Applies one stream command (collecting transactions). */
  private apply(args: string[]): void | Promise<void> {
    const name = args[0].toLowerCase();
    if (name === "replconf") {
      if (args.length >= 2 && args[1].toLowerCase() === "getack") {
        // Answered with the offset before this command (Redis adds its bytes afterwards).
        if (!this.prePsync) this.sendAck();
      } else {
        log.v(1, `replica of ${this.host.describe}: ignored ${quote(args.join(" "))} from the primary`);
      }
      return;
    }
    if (name === "multi") {
      if (this.tx !== null) this.report(args, "nested MULTI in the stream");
      else this.tx = { cmds: [] };
      return;
    }
    if (this.tx !== null) {
      if (name === "exec") {
        const tx = this.tx;
        this.tx = null;
        return this.runTransaction(tx.cmds);
      }
      if (name === "discard") {
        this.tx = null;
        return;
      }
      if (this.supported(args)) this.tx.cmds.push(args);
      return;
    }
    if (name === "exec" || name === "discard") return this.report(args, `${name.toUpperCase()} without MULTI`);
    if (!this.supported(args)) return;
    return this.runCommand(args);
  }

  /** Runs one command on the master link, reporting an error reply. */
  private runCommand(args: string[]): void | Promise<void> {
    const c = this.host.client;
    const errors = c.w.errorCount;
    const r = dispatch(c, args);
    if (r instanceof Promise) {
      return r.then(() => {
        if (c.w.errorCount !== errors) this.report(args, c.w.lastError ?? "error");
      });
    }
    if (c.w.errorCount !== errors) this.report(args, c.w.lastError ?? "error");
  }

  /** Runs a collected transaction as MULTI … EXEC in one synchronous step. */
  private runTransaction(cmds: string[][]): void | Promise<void> {
    if (cmds.length === 0) return;
    const c = this.host.client;
    const errors = c.w.errorCount;
    dispatch(c, ["MULTI"]);
    for (const cmd of cmds) dispatch(c, cmd);
    const r = dispatch(c, ["EXEC"]);
    const check = () => {
      if (c.w.errorCount !== errors) {
        this.report(
          ["EXEC"],
          `${c.w.errorCount - errors} error(s) in a transaction of ${cmds.length} commands: ${
            c.w.lastError ?? "error"
          }`,
        );
      }
    };
    if (r instanceof Promise) return r.then(check);
    check();
  }

  /** False (after logging loudly) for a command this node does not know or that has a bad arity. */
  private supported(args: string[]): boolean {
    const resolved = resolveCommand(args);
    let why: string | null = null;
    if (resolved === null) why = "damselfly does not support this command";
    else if (resolved.error !== null) why = resolved.error;
    else {
      const arity = resolved.spec.arity;
      if (arity > 0 ? args.length !== arity : args.length < -arity) why = "wrong number of arguments";
    }
    if (why === null) return true;
    this.failures++;
    if (this.failures <= LOGGED_FAILURES || this.failures % 1000 === 0) {
      log.error(
        `replica of ${this.host.describe}: UNSUPPORTED command ${
          quote(args[0])
        } in the replication stream at offset ${this.commandOffset()} (${why}); skipped, so this replica may diverge from its primary (${this.failures} failures so far)`,
      );
    }
    return false;
  }

  /** Logs a stream command that failed (with its offset). */
  private report(args: string[], why: string): void {
    this.failures++;
    if (this.failures <= LOGGED_FAILURES || this.failures % 1000 === 0) {
      log.warn(
        `replica of ${this.host.describe}: replicated command ${
          quote(args[0])
        } at offset ${this.commandOffset()} failed: ${why} (${this.failures} failures so far)`,
      );
    }
  }

  /** Offset of the first byte of the command being applied. */
  private commandOffset(): number {
    return this.applied + 1;
  }

  /** Sends `REPLCONF ACK <applied>`. */
  private sendAck(): void {
    this.lastAck = Date.now();
    this.link.sendCommand(["REPLCONF", "ACK", String(this.applied)]).catch(() => {});
  }

  /** Periodic work: ACKs in stable sync, newlines while loading, the silence timeout. */
  private tick(ackEvery: number): void {
    const now = Date.now();
    if (this.link.isClosed) return;
    if (now - this.link.lastRead > REPL_TIMEOUT_MS) {
      this.closedReason = `no data from the primary for ${Math.round((now - this.link.lastRead) / 1000)} s (timeout)`;
      this.link.close();
      return;
    }
    if (this.loading) {
      if (now - this.lastNewline >= LOADING_NEWLINE_MS) {
        this.lastNewline = now;
        this.link.write(NEWLINE).catch(() => {});
      }
      return;
    }
    if (this.stable && !this.prePsync && now - this.lastAck >= ackEvery - 5) this.sendAck();
  }
}

const NEWLINE = new Uint8Array([10]);

/** A line for log and error texts (binary-safe, at most 128 chars). */
function quote(s: string): string {
  return JSON.stringify(s.length > 128 ? s.slice(0, 128) + "…" : s);
}
