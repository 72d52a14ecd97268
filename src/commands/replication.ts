/**
 * Replication commands: REPLICAOF/SLAVEOF, ROLE, REPLCONF, DFLY (FLOW, SYNC, STARTSTABLE,
 * TAKEOVER, REPLICAOFFSET, THREAD, EXPIRE, HELP), REPLTAKEOVER, WAIT, and Redis's PSYNC and
 * SYNC, plus the `# Replication` INFO section and the `sync_*` fields of `# Stats`.
 *
 * Owns only argument parsing and reply shapes; the primary side (src/replication/primary.ts,
 * src/replication/redis_primary.ts) and the replica side (src/replication/replica.ts) own all
 * state. Invariants: error texts are
 * Dragonfly's where Dragonfly defines the command (REPLCONF, DFLY, REPLTAKEOVER, REPLICAOF's
 * connection errors) and Redis's elsewhere (WAIT, arity); nothing here blocks the event loop.
 */
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, parseI64 } from "./helpers.ts";
import { infoSection, setInfoSection } from "../observability/info.ts";
import { primaryOf } from "../replication/primary.ts";
import { redisReplicationOf } from "../replication/redis_primary.ts";
import { currentReplica, promoteToPrimary, replicaOfCommand, replTakeover } from "../replication/replica.ts";

/** REPLICAOF host port | REPLICAOF NO ONE (SLAVEOF is the same command). */
function replicaof(c: Client, args: string[]): void | Promise<void> {
  const host = args[1];
  const portText = args[2];
  if (host.toLowerCase() === "no") {
    if (portText.toLowerCase() !== "one") return c.w.error(ERR.syntax);
    promoteToPrimary(c.server, "REPLICAOF NO ONE");
    return c.w.simple("OK");
  }
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port > 0 && port <= 65535)) return c.w.error("ERR port is out of range");
  return replicaOfCommand(c, host.replace(/^\[(.*)\]$/, "$1"), port);
}

/** ROLE: the primary's replica list or the replica's link. */
function role(c: Client): void {
  const replica = currentReplica(c.server);
  if (replica !== null) {
    const r = replica.roleReply();
    c.w.array(4);
    c.w.bulk(r[0]);
    c.w.bulk(r[1]);
    c.w.bulk(r[2]);
    c.w.bulk(r[3]);
    return;
  }
  const replicas = primaryOf(c.server).roleEntries();
  c.w.array(2);
  c.w.bulk("master");
  c.w.array(replicas.length);
  for (const [ip, port, state] of replicas) {
    c.w.array(3);
    c.w.bulk(ip);
    c.w.bulk(port);
    c.w.bulk(state);
  }
}

/** WAIT numreplicas timeout. */
function wait(c: Client, args: string[]): void | Promise<void> {
  if (c.server.isReplica) return c.w.error("ERR WAIT cannot be used with replica instances.");
  const num = parseI64(args[1]);
  if (num === null) return c.w.error(ERR.notInteger);
  const timeout = parseI64(args[2]);
  if (timeout === null) return c.w.error("ERR timeout is not an integer or out of range");
  if (timeout < 0n) return c.w.error("ERR timeout is negative");
  return primaryOf(c.server).wait(c, Number(num), Number(timeout));
}

const DFLY_HELP = [
  "DFLY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "FLOW <master_replid> SYNC<id> <flow> [<lsn> | <last_master_replid> <lsn0-lsn1-...>]",
  "    Opens the replication flow of one shard.",
  "SYNC SYNC<id>",
  "    Starts the full sync of every flow of the session.",
  "STARTSTABLE SYNC<id>",
  "    Switches every flow of the session to stable sync.",
  "TAKEOVER <timeout> [SAVE] SYNC<id>",
  "    Hands the primary role to the replica of the session.",
  "REPLICAOFFSET",
  "    Returns the next journal LSN of every shard.",
  "THREAD [<thread>]",
  "    Returns the connection's thread and the thread count.",
  "EXPIRE",
  "    Deletes every key whose TTL passed.",
  "HELP",
  "    Prints this help.",
];

/** DFLY subcommand ... (the Dragonfly replication protocol and helpers). */
function dfly(c: Client, args: string[]): void | Promise<void> {
  const sub = args[1].toUpperCase();
  const primary = primaryOf(c.server);
  switch (sub) {
    case "FLOW":
      if (args.length >= 5 && args.length <= 7) return primary.flow(c, args);
      break;
    case "SYNC":
      if (args.length === 3) return primary.sync(c, args[2]);
      break;
    case "STARTSTABLE":
      if (args.length === 3) return primary.startStable(c, args[2]);
      break;
    case "TAKEOVER":
      if (args.length === 4 || args.length === 5) return primary.takeover(c, args);
      break;
    case "REPLICAOFFSET":
      if (args.length === 2) {
        const lsns = primary.replicaOffsets();
        c.w.array(lsns.length);
        for (const l of lsns) c.w.int(l);
        return;
      }
      break;
    case "THREAD":
      if (args.length === 2) {
        c.w.array(2);
        c.w.int(0);
        c.w.int(1);
        return;
      }
      if (args.length === 3) {
        const t = parseI64(args[2]);
        if (t === null) return c.w.error(ERR.syntax);
        return t === 0n ? c.w.simple("OK") : c.w.error(ERR.notInteger);
      }
      break;
    case "EXPIRE":
      if (args.length === 2) {
        primary.expireAll();
        return c.w.simple("OK");
      }
      break;
    case "HELP":
      if (args.length === 2) {
        c.w.array(DFLY_HELP.length);
        for (const line of DFLY_HELP) c.w.simple(line);
        return;
      }
      break;
  }
  c.w.error(ERR.syntax);
}

/** REPLTAKEOVER <timeout_sec> [SAVE] (run on a replica). */
function repltakeover(c: Client, args: string[]): void | Promise<void> {
  const timeout = Number(args[1]);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(args[1]) || !Number.isFinite(timeout)) {
    return c.w.error(ERR.notInteger);
  }
  let save = false;
  for (let i = 2; i < args.length; i++) {
    if (args[i].toUpperCase() === "SAVE") save = true;
    else return c.w.error(`ERR Unsupported option:${args[i]}`);
  }
  if (timeout < 0) return c.w.error("ERR timeout is negative");
  return replTakeover(c, timeout, save);
}

/** The `# Replication` section: the replica's link or the primary's replicas. */
function replicationInfo(server: Client["server"]): string[] {
  const replica = currentReplica(server);
  return replica !== null ? replica.infoLines() : primaryOf(server).infoLines();
}

setInfoSection("replication", replicationInfo);
{
  // Full and partial resyncs served to Redis replicas, where Redis reports them.
  const stats = infoSection("stats");
  if (stats) {
    setInfoSection("stats", (server) => {
      const s = redisReplicationOf(server).stats;
      const values: Record<string, number> = {
        sync_full: s.full,
        sync_partial_ok: s.partialOk,
        sync_partial_err: s.partialErr,
      };
      return stats(server).map((line) => {
        const key = line.slice(0, line.indexOf(":"));
        return key in values ? `${key}:${values[key]}` : line;
      });
    });
  }
}
{
  // The backlog's size goes in `# Memory`, as Dragonfly reports it.
  const memory = infoSection("memory");
  if (memory) {
    setInfoSection("memory", (server) => [...memory(server), ...primaryOf(server).memoryLines()]);
  }
}

const ADMIN = ["admin", "noscript", "loading", "stale"] as const;

/** Commands of the replication family. */
export const replicationCommands: CommandSpec[] = [
  command(
    "replicaof",
    3,
    ["admin", "noscript", "stale", "loading"],
    [0, 0, 0],
    "server",
    "Configures a server as replica of another, or promotes it to a master.",
    "5.0.0",
    replicaof,
  ),
  command(
    "slaveof",
    3,
    ["admin", "noscript", "stale", "loading"],
    [0, 0, 0],
    "server",
    "Sets a Redis server as a replica of another, or promotes it to being a master.",
    "1.0.0",
    replicaof,
  ),
  command(
    "role",
    1,
    ["noscript", "loading", "stale", "fast"],
    [0, 0, 0],
    "server",
    "Returns the replication role.",
    "2.8.12",
    role,
    { categories: ["admin", "dangerous"] },
  ),
  command(
    "replconf",
    -1,
    [...ADMIN, "allow_busy"],
    [0, 0, 0],
    "server",
    "An internal command for configuring the replication stream.",
    "3.0.0",
    (c, args) => primaryOf(c.server).replconf(c, args),
  ),
  command(
    "psync",
    -3,
    ["admin", "noscript", "no_multi"],
    [0, 0, 0],
    "server",
    "An internal command used in replication.",
    "2.8.0",
    (c, args) => redisReplicationOf(c.server).psync(c, args),
  ),
  command(
    "sync",
    1,
    ["admin", "noscript", "no_multi"],
    [0, 0, 0],
    "server",
    "An internal command used in replication.",
    "1.0.0",
    (c) => redisReplicationOf(c.server).sync(c),
  ),
  command(
    "dfly",
    -2,
    ADMIN,
    [0, 0, 0],
    "server",
    "Dragonfly's replication protocol and helpers.",
    "6.2.0",
    dfly,
  ),
  command(
    "repltakeover",
    -2,
    ADMIN,
    [0, 0, 0],
    "server",
    "Makes this replica the primary once it caught up, shutting the old primary down.",
    "6.2.0",
    repltakeover,
  ),
  command(
    "wait",
    3,
    ["noscript"],
    [0, 0, 0],
    "generic",
    "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
    "3.0.0",
    wait,
    { categories: ["connection"] },
  ),
];
