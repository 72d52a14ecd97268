/**
 * Client: the per-connection state a command handler sees.
 *
 * Owns: the selected db, protocol version, auth state, name, MULTI queue, watches, pub/sub
 * subscriptions and the reply writer of one connection (or of an internal caller such as a
 * replication link). Invariant: handlers reach sockets only through `w` and `flush()`; the
 * connection layer (net/) owns the socket itself.
 */
import type { Server } from "./server.ts";
import type { DbSlice } from "../store/db_slice.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { type AclUser, startsAuthenticated } from "./acl.ts";

/** Commands queued between MULTI and EXEC. */
export interface MultiState {
  /** Queued commands, each with its argument vector. */
  queue: string[][];
  /** Set when a queued command was rejected (EXEC then answers EXECABORT). */
  aborted: boolean;
}

/** Where a client connected: main port, admin port, or an internal link. */
export type ClientOrigin = "main" | "admin" | "internal";

/** One client's state. */
export class Client {
  /** Unique, increasing client id. */
  readonly id: number;
  /** Selected database. */
  db = 0;
  /** CLIENT SETNAME name. */
  name = "";
  /** CLIENT SETINFO lib-name. */
  libName = "";
  /** CLIENT SETINFO lib-ver. */
  libVer = "";
  /** Authenticated user, or null while authentication is still required. */
  user: string | null;
  /** The ACL user object of `user`, cached by src/server/acl.ts (aclUserOf). */
  aclUser: AclUser | null = null;
  /** Connection creation time (ms). */
  readonly createdAt: number = Date.now();
  /** Last command time (ms). */
  lastInteraction: number = Date.now();
  /** Last command name, for CLIENT LIST `cmd=`. */
  lastCommand = "NULL";
  /** Peer address `ip:port`. */
  addr = "";
  /** Local address `ip:port`. */
  laddr = "";
  /** MULTI state, null outside a transaction. */
  multi: MultiState | null = null;
  /** Set when a watched key was touched since WATCH. */
  watchDirty = false;
  /** Functions that remove this client's watches. */
  unwatchers: (() => void)[] = [];
  /**
   * WATCHed keys (`<db>\0<key>`) → a check that is true at EXEC time when the key changed in
   * a way no write hook reports (it expired since WATCH). Filled by the transactions family.
   */
  watchedKeys: Map<string, () => boolean> = new Map();
  /** Subscribed channels (pub/sub family). */
  channels: Set<string> = new Set();
  /** Subscribed patterns (pub/sub family). */
  patterns: Set<string> = new Set();
  /** Subscribed shard channels (SSUBSCRIBE, pub/sub family). */
  shardChannels: Set<string> = new Set();
  /** CLIENT REPLY mode. */
  replyMode: "on" | "off" | "skip" = "on";
  /** Close the connection once pending replies are written (QUIT, protocol errors). */
  closeAfterReply = false;
  /** CLIENT NO-EVICT. */
  noEvict = false;
  /** CLIENT NO-TOUCH. */
  noTouch = false;
  /** Receives MONITOR output. */
  monitor = false;
  /** The client is a replication link applying a primary's stream (writes allowed on a replica). */
  isMasterLink = false;
  /** The client is a replica connected to us (set by PSYNC/DFLY). */
  isReplica = false;
  /** Human-readable reason of a pending block (CLIENT LIST `flags=b`). */
  blockedOn: string | null = null;
  /** Cancels the current blocking wait (CLIENT UNBLOCK, disconnect). */
  unblock: ((error: boolean) => void) | null = null;
  /** Set once the connection is gone. */
  closed = false;
  /** Kills the connection; installed by the connection layer. */
  kill: () => void = () => {};
  /** Writes pending output soon; installed by the connection layer for async pushes. */
  flush: () => void = () => {};
  /** Bytes waiting in the reply buffer; installed by the connection layer. */
  pendingOutput: () => number = () => 0;
  /**
   * Resolves once pending output is below `threshold` bytes (at most one write in flight) or
   * the connection closed; installed by the connection layer. Streaming producers await it.
   */
  whenDrained: (threshold: number) => Promise<void> = () => Promise.resolve();
  /** Total bytes read from this client. */
  bytesIn = 0;
  /** Total bytes written to this client. */
  bytesOut = 0;

  /** A new client of `server` replying through `w`; authenticated at once when `startsAuthenticated` allows it. */
  constructor(readonly server: Server, readonly w: ReplyWriter, readonly origin: ClientOrigin) {
    this.id = server.nextClientId++;
    this.user = startsAuthenticated(server, origin) ? "default" : null;
  }

  /** Protocol version of this client (2 or 3). */
  get proto(): 2 | 3 {
    return this.w.proto;
  }

  /** The DbSlice holding `key` in the selected database. */
  slice(key: string): DbSlice {
    return this.server.store.slice(this.db, key);
  }

  /** True while the client is in RESP2 subscriber mode. */
  get inPubSubMode(): boolean {
    return this.channels.size + this.patterns.size + this.shardChannels.size > 0;
  }

  /** Drops every WATCH of this client. */
  unwatchAll(): void {
    for (const u of this.unwatchers) u();
    this.unwatchers = [];
    this.watchedKeys.clear();
    this.watchDirty = false;
  }

  /** CLIENT LIST / CLIENT INFO flag letters. */
  flagString(): string {
    let f = "";
    if (this.isMasterLink) f += "M";
    if (this.isReplica) f += "S";
    if (this.monitor) f += "O";
    if (this.inPubSubMode) f += "P";
    if (this.multi) f += "x";
    if (this.blockedOn) f += "b";
    if (this.closeAfterReply) f += "c";
    if (this.noEvict) f += "e";
    if (this.noTouch) f += "T";
    return f || "N";
  }
}
