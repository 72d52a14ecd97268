/**
 * Pub/Sub registry: who listens to which channel, pattern and shard channel, message
 * delivery, and keyspace notifications (`notify-keyspace-events`).
 *
 * Owns: channel → subscribers, pattern → subscribers and shard channel → subscribers maps
 * (the mirror sets live on each Client), and the parsed keyspace-event class mask.
 * Invariants: a client appears in a registry set exactly when the name is in its own set;
 * empty registry sets are deleted; a message is encoded once and then copied into every
 * receiver's writer (as a RESP2 array or a RESP3 push), and every receiver is flushed at
 * once; a closed client is removed from every map (onClientClose).
 */
import { Buffer } from "node:buffer";
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { globMatch } from "../util/glob.ts";

/** Keyspace-event class bits, with Redis's NOTIFY_* values. */
export const NOTIFY: Readonly<Record<string, number>> = {
  K: 1 << 0,
  E: 1 << 1,
  g: 1 << 2,
  $: 1 << 3,
  l: 1 << 4,
  s: 1 << 5,
  h: 1 << 6,
  z: 1 << 7,
  x: 1 << 8,
  e: 1 << 9,
  t: 1 << 10,
  m: 1 << 11,
  d: 1 << 13,
  n: 1 << 14,
};

/** The `A` alias: every class except key-miss (m) and new-key (n) events. */
const NOTIFY_ALL = NOTIFY.g | NOTIFY.$ | NOTIFY.l | NOTIFY.s | NOTIFY.h | NOTIFY.z | NOTIFY.x | NOTIFY.e | NOTIFY.t |
  NOTIFY.d;

/** Parses a `notify-keyspace-events` string into a class mask; null on an unknown letter. */
export function parseKeyspaceEvents(text: string): number | null {
  let mask = 0;
  for (const ch of text) {
    if (ch === "A") mask |= NOTIFY_ALL;
    else if (Object.hasOwn(NOTIFY, ch)) mask |= NOTIFY[ch];
    else return null;
  }
  return mask;
}

/** The three subscription namespaces, each with its own registry map and client set. */
export type SubscriptionKind = "channel" | "pattern" | "shard";

/** A message encoded once, then copied into each receiver as a RESP2 array or RESP3 push. */
class EncodedMessage {
  private body: Buffer | null = null;

  constructor(private readonly parts: string[]) {}

  /** Writes the message into `c`'s writer. */
  writeTo(c: Client): void {
    if (this.body === null) {
      let s = "";
      for (const p of this.parts) s += "$" + p.length + "\r\n" + p + "\r\n";
      this.body = Buffer.from(s, "latin1");
    }
    if (c.proto === 3) c.w.push(this.parts.length);
    else c.w.array(this.parts.length);
    c.w.raw(this.body);
  }
}

/** Every subscription of the server, plus keyspace-event settings. */
export class PubSub {
  /** Channel → subscribed clients. */
  readonly channels = new Map<string, Set<Client>>();
  /** Pattern → subscribed clients. */
  readonly patterns = new Map<string, Set<Client>>();
  /** Shard channel (SSUBSCRIBE) → subscribed clients. */
  readonly shardChannels = new Map<string, Set<Client>>();
  /** Parsed `notify-keyspace-events` class mask (0 = notifications off). */
  notifyMask = 0;

  /** Installs itself as the server's publisher and follows `notify-keyspace-events`. */
  constructor(server: Server) {
    server.publish = (channel, message) => this.publish(channel, message);
    server.onClientClose.push((c) => this.removeClient(c));
    // The config layer validates the value and stores Redis's canonical spelling.
    const setting = "notify-keyspace-events";
    this.notifyMask = parseKeyspaceEvents(server.config.str(setting)) ?? 0;
    server.config.onChange(setting, (v) => this.notifyMask = parseKeyspaceEvents(String(v)) ?? 0);
  }

  /** The channel-to-subscribers map of `kind`. */
  private registry(kind: SubscriptionKind): Map<string, Set<Client>> {
    return kind === "channel" ? this.channels : kind === "pattern" ? this.patterns : this.shardChannels;
  }

  /** The names `c` is subscribed to in `kind`. */
  private own(c: Client, kind: SubscriptionKind): Set<string> {
    return kind === "channel" ? c.channels : kind === "pattern" ? c.patterns : c.shardChannels;
  }

  /** Adds a subscription; returns false when `c` already had it. */
  subscribe(c: Client, kind: SubscriptionKind, name: string): boolean {
    const mine = this.own(c, kind);
    if (mine.has(name)) return false;
    mine.add(name);
    const reg = this.registry(kind);
    let set = reg.get(name);
    if (set === undefined) reg.set(name, set = new Set());
    set.add(c);
    return true;
  }

  /** Removes a subscription; returns false when `c` did not have it. */
  unsubscribe(c: Client, kind: SubscriptionKind, name: string): boolean {
    const mine = this.own(c, kind);
    if (!mine.delete(name)) return false;
    const reg = this.registry(kind);
    const set = reg.get(name);
    if (set !== undefined) {
      set.delete(c);
      if (set.size === 0) reg.delete(name);
    }
    return true;
  }

  /** Drops every subscription of `c` without replying (disconnect, RESET). */
  removeClient(c: Client): void {
    for (const kind of ["channel", "pattern", "shard"] as const) {
      for (const name of [...this.own(c, kind)]) this.unsubscribe(c, kind, name);
    }
  }

  /** Writes an encoded message to `c` and flushes (skipped once the client closed). */
  private deliver(c: Client, msg: EncodedMessage): void {
    if (c.closed) return;
    msg.writeTo(c);
    c.flush();
  }

  /**
   * Sends `message` to subscribers of `channel` and of every matching pattern; returns the
   * number of deliveries (a client matching twice counts twice, as in Redis).
   */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const subs = this.channels.get(channel);
    if (subs !== undefined) {
      const msg = new EncodedMessage(["message", channel, message]);
      for (const c of subs) {
        this.deliver(c, msg);
        receivers++;
      }
    }
    if (this.patterns.size !== 0) {
      for (const [pattern, clients] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        const msg = new EncodedMessage(["pmessage", pattern, channel, message]);
        for (const c of clients) {
          this.deliver(c, msg);
          receivers++;
        }
      }
    }
    return receivers;
  }

  /** SPUBLISH: sends `message` to subscribers of shard channel `channel`. */
  publishShard(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (subs === undefined) return 0;
    const msg = new EncodedMessage(["smessage", channel, message]);
    for (const c of subs) this.deliver(c, msg);
    return subs.size;
  }

  /**
   * Emits a keyspace notification when class `cls` (one of g $ l s h z x e t m d n) is
   * enabled, on `__keyspace@<db>__:<key>` (K) and/or `__keyevent@<db>__:<event>` (E).
   */
  notifyKeyspaceEvent(cls: string, event: string, key: string, db: number): void {
    const mask = this.notifyMask;
    if (mask === 0 || (mask & NOTIFY[cls]) === 0) return;
    if (mask & NOTIFY.K) this.publish(`__keyspace@${db}__:${key}`, event);
    if (mask & NOTIFY.E) this.publish(`__keyevent@${db}__:${event}`, key);
  }
}
