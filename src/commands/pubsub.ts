/**
 * Pub/Sub family: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
 * SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB (CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS,
 * SHARDNUMSUB, HELP), with Redis 7.0 reply shapes.
 *
 * Subscription state lives in the server's PubSub registry (src/server/pubsub.ts), which
 * also delivers messages. Invariants: every (un)subscribe confirmation is a 3-element push
 * (a RESP2 array) carrying the client's subscription count afterwards — channels plus
 * patterns for the classic commands, shard channels alone for the S-commands, as Redis 7.0
 * counts them; PUBLISH is not a write and is never journaled (Dragonfly replicas do not get it), but
 * it enters the Redis replication stream, as Redis propagates it to its replicas; RESET and disconnects drop all
 * of a client's subscriptions without replies.
 */
import type { Client } from "../server/client.ts";
import type { SubscriptionKind } from "../server/pubsub.ts";
import { command, type CommandFlag, type CommandSpec } from "./types.ts";
import { resetHooks } from "./connection.ts";
import { replyHelp } from "./server_admin.ts";
import { globMatch } from "../util/glob.ts";

resetHooks.push((c) => c.server.pubsub.removeClient(c));

/** Subscription count reported in confirmations of `kind`. */
function subscriptionCount(c: Client, kind: SubscriptionKind): number {
  return kind === "shard" ? c.shardChannels.size : c.channels.size + c.patterns.size;
}

function confirm(c: Client, verb: string, name: string | null, kind: SubscriptionKind): void {
  c.w.push(3);
  c.w.bulk(verb);
  c.w.bulk(name);
  c.w.int(subscriptionCount(c, kind));
}

function subscribeTo(kind: SubscriptionKind, verb: string) {
  return (c: Client, args: string[]): void => {
    const pubsub = c.server.pubsub;
    for (let i = 1; i < args.length; i++) {
      pubsub.subscribe(c, kind, args[i]);
      confirm(c, verb, args[i], kind);
    }
  };
}

function unsubscribeFrom(kind: SubscriptionKind, verb: string) {
  return (c: Client, args: string[]): void => {
    const pubsub = c.server.pubsub;
    if (args.length > 1) {
      for (let i = 1; i < args.length; i++) {
        pubsub.unsubscribe(c, kind, args[i]);
        confirm(c, verb, args[i], kind);
      }
      return;
    }
    const mine = kind === "channel" ? c.channels : kind === "pattern" ? c.patterns : c.shardChannels;
    if (mine.size === 0) {
      confirm(c, verb, null, kind);
      return;
    }
    for (const name of [...mine]) {
      pubsub.unsubscribe(c, kind, name);
      confirm(c, verb, name, kind);
    }
  };
}

function publish(c: Client, args: string[]): void {
  c.w.int(c.server.pubsub.publish(args[1], args[2]));
  // Redis replicas get PUBLISH in their stream, so their subscribers see it too.
  for (const o of c.server.writeObservers) o.onPublish?.(c.db, args[1], args[2]);
}

function spublish(c: Client, args: string[]): void {
  c.w.int(c.server.pubsub.publishShard(args[1], args[2]));
}

function subcommandSyntaxError(c: Client, sub: string): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try PUBSUB HELP.`);
}

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: active names matching the pattern. */
function listChannels(shard: boolean) {
  return (c: Client, args: string[]): void => {
    if (args.length > 3) return subcommandSyntaxError(c, args[1]);
    const reg = shard ? c.server.pubsub.shardChannels : c.server.pubsub.channels;
    const pattern = args.length === 3 ? args[2] : null;
    const out: string[] = [];
    for (const name of reg.keys()) if (pattern === null || globMatch(pattern, name)) out.push(name);
    c.w.bulkArray(out);
  };
}

/** PUBSUB NUMSUB / SHARDNUMSUB [name ...]: flat name, count pairs. */
function countSubscribers(shard: boolean) {
  return (c: Client, args: string[]): void => {
    const reg = shard ? c.server.pubsub.shardChannels : c.server.pubsub.channels;
    c.w.array((args.length - 2) * 2);
    for (let i = 2; i < args.length; i++) {
      c.w.bulk(args[i]);
      c.w.int(reg.get(args[i])?.size ?? 0);
    }
  };
}

const PUBSUB_HELP = [
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
];

const SUB_FLAGS: readonly CommandFlag[] = ["pubsub", "noscript", "loading", "stale"];
const PUBLISH_FLAGS: readonly CommandFlag[] = ["pubsub", "loading", "stale", "fast", "may_replicate"];
const INTROSPECT_FLAGS: readonly CommandFlag[] = ["pubsub", "loading", "stale"];

/** Commands of the pubsub family. */
export const pubsubCommands: CommandSpec[] = [
  command(
    "subscribe",
    -2,
    SUB_FLAGS,
    [0, 0, 0],
    "pubsub",
    "Listens for messages published to channels.",
    "2.0.0",
    subscribeTo("channel", "subscribe"),
  ),
  command(
    "unsubscribe",
    -1,
    SUB_FLAGS,
    [0, 0, 0],
    "pubsub",
    "Stops listening to messages posted to channels.",
    "2.0.0",
    unsubscribeFrom("channel", "unsubscribe"),
  ),
  command(
    "psubscribe",
    -2,
    SUB_FLAGS,
    [0, 0, 0],
    "pubsub",
    "Listens for messages published to channels that match one or more patterns.",
    "2.0.0",
    subscribeTo("pattern", "psubscribe"),
  ),
  command(
    "punsubscribe",
    -1,
    SUB_FLAGS,
    [0, 0, 0],
    "pubsub",
    "Stops listening to messages published to channels that match one or more patterns.",
    "2.0.0",
    unsubscribeFrom("pattern", "punsubscribe"),
  ),
  command(
    "ssubscribe",
    -2,
    SUB_FLAGS,
    [1, -1, 1],
    "pubsub",
    "Listens for messages published to shard channels.",
    "7.0.0",
    subscribeTo("shard", "ssubscribe"),
  ),
  command(
    "sunsubscribe",
    -1,
    SUB_FLAGS,
    [1, -1, 1],
    "pubsub",
    "Stops listening to messages posted to shard channels.",
    "7.0.0",
    unsubscribeFrom("shard", "sunsubscribe"),
  ),
  command("publish", 3, PUBLISH_FLAGS, [0, 0, 0], "pubsub", "Posts a message to a channel.", "2.0.0", publish),
  command("spublish", 3, PUBLISH_FLAGS, [1, 1, 1], "pubsub", "Post a message to a shard channel", "7.0.0", spublish),
  command("pubsub", -2, [], [0, 0, 0], "pubsub", "A container for Pub/Sub commands.", "2.8.0", undefined, {
    subcommands: [
      command(
        "pubsub|channels",
        -2,
        INTROSPECT_FLAGS,
        [0, 0, 0],
        "pubsub",
        "Returns the active channels.",
        "2.8.0",
        listChannels(false),
      ),
      command(
        "pubsub|numpat",
        2,
        INTROSPECT_FLAGS,
        [0, 0, 0],
        "pubsub",
        "Returns a count of unique pattern subscriptions.",
        "2.8.0",
        (c) => c.w.int(c.server.pubsub.patterns.size),
      ),
      command(
        "pubsub|numsub",
        -2,
        INTROSPECT_FLAGS,
        [0, 0, 0],
        "pubsub",
        "Returns a count of subscribers to channels.",
        "2.8.0",
        countSubscribers(false),
      ),
      command(
        "pubsub|shardchannels",
        -2,
        INTROSPECT_FLAGS,
        [0, 0, 0],
        "pubsub",
        "Returns the active shard channels.",
        "7.0.0",
        listChannels(true),
      ),
      command(
        "pubsub|shardnumsub",
        -2,
        INTROSPECT_FLAGS,
        [0, 0, 0],
        "pubsub",
        "Returns the count of subscribers of shard channels.",
        "7.0.0",
        countSubscribers(true),
      ),
      command(
        "pubsub|help",
        2,
        ["loading", "stale"],
        [0, 0, 0],
        "pubsub",
        "Returns helpful text about the different subcommands.",
        "6.2.0",
        (c) => replyHelp(c, "PUBSUB", PUBSUB_HELP),
      ),
    ],
  }),
];
