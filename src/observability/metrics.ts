/**
 * Prometheus metrics: the text exposition served at `GET /metrics`
 * (design/dragonfly-replication.md §6; Dragonfly's src/server/metrics.cc).
 *
 * Owns: metric names, types, help texts and labels. Invariants:
 * - every sample name and label set is Dragonfly's (dashboards and alerts written for Dragonfly
 *   work unchanged); labels render as `{a="x", b="y"}`; every family has HELP and TYPE lines,
 *   and families that may be empty (`dragonfly_connected_replica_lag_records` without replicas)
 *   still print them;
 * - the output passes `promtool check metrics`: where Dragonfly declares a counter whose name
 *   the Prometheus conventions reserve (no `_total` suffix, or a `_count` suffix:
 *   `uptime_in_seconds`, `commands_duration_seconds`, `replica_reconnect_count`,
 *   `replication_psync_count`) the family is declared `untyped`, keeping the sample name;
 * - where Dragonfly has no metric for something damselfly reports (error replies by kind,
 *   replica sync state and psync attempts, the primary's offset) the names follow
 *   redis_exporter's, with the `dragonfly_` prefix;
 * - rendering only reads state that other modules own.
 */
import type { Server } from "../server/server.ts";
import { infoSampler, usedMemory } from "./info.ts";
import { primaryOf } from "../replication/primary.ts";
import { currentReplica } from "../replication/replica.ts";
import { redisReplicationOf } from "../replication/redis_primary.ts";

/** Prometheus metric types used here. */
type MetricType = "counter" | "gauge" | "untyped";

/** Label name → value pairs of one sample, in output order. */
type Labels = [string, string][];

/** Escapes a label value (backslash, double quote, newline), as the text format requires. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Formats a sample value the way Prometheus parses it. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Accumulates families into the exposition text. */
class Exposition {
  private out = "";

  /** Starts a family: its HELP and TYPE lines. */
  header(name: string, help: string, type: MetricType): void {
    this.out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  }

  /** One sample of the current family. */
  sample(name: string, value: number, labels?: Labels): void {
    let line = name;
    if (labels !== undefined && labels.length > 0) {
      line += "{" + labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(", ") + "}";
    }
    this.out += `${line} ${formatValue(value)}\n`;
  }

  /** A family with one unlabelled sample. */
  single(name: string, help: string, type: MetricType, value: number): void {
    this.header(name, help, type);
    this.sample(name, value);
  }

  /** The text so far. */
  text(): string {
    return this.out;
  }
}

/** VmSwap of this process in bytes (0 where /proc is unavailable). */
function swapBytes(): number {
  try {
    const m = /^VmSwap:\s+(\d+)\s+kB$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function serverMetrics(server: Server, e: Exposition): void {
  e.header("dragonfly_version", "Server version", "gauge");
  e.sample("dragonfly_version", 1, [["version", server.version]]);
  e.single("dragonfly_master", "1 if master 0 if replica", "gauge", server.isReplica ? 0 : 1);
  e.single(
    "dragonfly_uptime_in_seconds",
    "Seconds since the server started",
    "untyped",
    Math.floor((Date.now() - server.startTime) / 1000),
  );
}

function clientMetrics(server: Server, e: Exposition): void {
  let main = 0;
  let other = 0;
  for (const c of server.clients.values()) {
    if (c.isReplica || c.origin === "internal") continue;
    if (c.origin === "main") main++;
    else other++;
  }
  e.single("dragonfly_max_clients", "Maximal number of clients", "gauge", server.config.num("maxclients"));
  e.header("dragonfly_connected_clients", "Connected clients by listener (main port, other ports)", "gauge");
  e.sample("dragonfly_connected_clients", main, [["listener", "main"]]);
  e.sample("dragonfly_connected_clients", other, [["listener", "other"]]);
  e.single("dragonfly_blocked_clients", "Clients blocked on keys", "gauge", server.blocking.blockedCount);
}

function memoryMetrics(server: Server, e: Exposition): void {
  const used = usedMemory();
  const sampler = infoSampler(server);
  sampler.observeMemory(used);
  e.single("dragonfly_memory_used_bytes", "Memory used by the dataset and the server", "gauge", used);
  e.single("dragonfly_memory_used_peak_bytes", "Peak of dragonfly_memory_used_bytes", "gauge", sampler.peakMemory);
  e.single(
    "dragonfly_memory_max_bytes",
    "Configured maxmemory (0: unlimited)",
    "gauge",
    server.config.num("maxmemory"),
  );
  e.single("dragonfly_used_memory_rss_bytes", "Resident set size of the process", "gauge", Deno.memoryUsage().rss);
  e.single("dragonfly_swap_memory_bytes", "Swapped-out memory of the process", "gauge", swapBytes());
}

function statsMetrics(server: Server, e: Exposition): void {
  const s = server.stats;
  e.single("dragonfly_connections_received_total", "Connections accepted", "counter", s.totalConnections);
  e.single("dragonfly_commands_processed_total", "Commands processed", "counter", s.totalCommands);
  e.single("dragonfly_keyspace_hits_total", "Successful key lookups", "counter", s.keyspaceHits);
  e.single("dragonfly_keyspace_misses_total", "Failed key lookups", "counter", s.keyspaceMisses);
  e.single("dragonfly_keyspace_mutations_total", "Key changes", "counter", server.store.dirty);
  e.single("dragonfly_net_input_bytes_total", "Bytes read from clients", "counter", s.netInputBytes);
  e.single("dragonfly_net_output_bytes_total", "Bytes written to clients", "counter", s.netOutputBytes);
  e.header("dragonfly_listener_accept_error_total", "Listener accept errors", "counter");
  e.sample("dragonfly_listener_accept_error_total", s.rejectedConnections, [["reason", "limit_reached"]]);
  e.header("dragonfly_expired_keys_total", "Keys removed because their TTL passed, by db", "counter");
  for (const [db, n] of [...s.expiredKeysByDb].sort((a, b) => a[0] - b[0])) {
    if (n > 0) e.sample("dragonfly_expired_keys_total", n, [["db", `db${db}`]]);
  }
  e.header("dragonfly_evicted_keys_total", "Keys evicted to stay within maxmemory, by db", "counter");
  for (const [db, n] of [...s.evictedKeysByDb].sort((a, b) => a[0] - b[0])) {
    if (n > 0) e.sample("dragonfly_evicted_keys_total", n, [["db", `db${db}`]]);
  }
  e.single("dragonfly_error_replies_total", "Error replies sent", "counter", s.totalErrorReplies);
  e.header("dragonfly_errors_total", "Error replies sent, by error prefix", "counter");
  for (const [code, n] of s.errors) e.sample("dragonfly_errors_total", n, [["err", code]]);
}

function commandMetrics(server: Server, e: Exposition): void {
  // Fast commands are timed per read batch: share out the time of the batch so far.
  server.stats.settleUntimed();
  const ran = [...server.stats.commands].filter(([, st]) => st.calls > 0);
  if (ran.length === 0) return;
  e.header("dragonfly_commands_total", "Total number of commands executed", "counter");
  for (const [name, st] of ran) e.sample("dragonfly_commands_total", st.calls, [["cmd", name]]);
  e.header("dragonfly_commands_duration_seconds", "Duration of commands in seconds", "untyped");
  for (const [name, st] of ran) e.sample("dragonfly_commands_duration_seconds", st.usec / 1e6, [["cmd", name]]);
}

/** Replication families; returns the replication classes of `dragonfly_memory_by_class_bytes`. */
function replicationMetrics(server: Server, e: Exposition): [string, number][] {
  const replica = currentReplica(server);
  if (replica !== null) {
    const link = replica.linkStatus();
    e.single("dragonfly_replica_reconnect_count", "Number of replica reconnects", "untyped", replica.reconnects);
    e.header("dragonfly_replica_sync_state", "1 for the replica's current state of sync with its primary", "gauge");
    for (const state of ["connecting", "preparation", "full_sync", "stable_sync"]) {
      e.sample("dragonfly_replica_sync_state", replica.state === state ? 1 : 0, [["state", state]]);
    }
    e.single("dragonfly_master_link_status", "1 if the link to the primary is up", "gauge", link.up ? 1 : 0);
    e.single(
      "dragonfly_master_last_io_seconds_ago",
      "Seconds since the last byte from the primary",
      "gauge",
      link.lastIoSecondsAgo,
    );
    e.single("dragonfly_master_sync_in_progress", "1 during a full sync", "gauge", link.syncInProgress ? 1 : 0);
    if (link.offset !== null) {
      e.single("dragonfly_slave_repl_offset", "Journal records applied (sum over flows)", "gauge", link.offset);
    }
    e.single(
      "dragonfly_psync_attempts_total",
      "Replication attempts that asked for a partial sync",
      "counter",
      replica.psyncAttempts,
    );
    e.single(
      "dragonfly_psync_successes_total",
      "Partial syncs the primary granted",
      "counter",
      replica.psyncSuccesses,
    );
    return [];
  }
  const primary = primaryOf(server);
  let streaming = 0;
  let fullSync = 0;
  for (const s of primary.sessions.values()) {
    for (const f of s.flows) {
      if (f === undefined) continue;
      if (s.state === "stable_sync") streaming += f.client.pendingOutput();
      else fullSync += f.client.pendingOutput();
    }
  }
  e.single(
    "dragonfly_replication_psync_count",
    "Partial sync requests (flows that asked to continue from an LSN, Redis replicas' PSYNCs with an offset)",
    "untyped",
    primary.psyncRequests + redisReplicationOf(server).stats.partialOk + redisReplicationOf(server).stats.partialErr,
  );
  const offsets = primary.replicaOffsets();
  e.single(
    "dragonfly_master_repl_offset",
    "Journal records written (sum of the shards' next LSNs)",
    "gauge",
    offsets.reduce((a, b) => a + b, 0),
  );
  e.header("dragonfly_connected_replica_lag_records", "Lag in records of a connected replica.", "gauge");
  for (const s of primary.sessions.values()) {
    e.sample("dragonfly_connected_replica_lag_records", primary.lag(s), [
      ["replica_ip", s.ip],
      ["replica_port", s.port],
      ["replica_state", primary.stateName(s.state)],
    ]);
  }
  // Stock Redis replicas: lag in stream commands (SELECT and PING included) past their ACK.
  const redis = redisReplicationOf(server);
  for (const r of redis.replicas) {
    e.sample("dragonfly_connected_replica_lag_records", redis.lagRecords(r), [
      ["replica_ip", r.ip],
      ["replica_port", String(r.port)],
      ["replica_state", primary.redisStateName(r.state)],
    ]);
    if (r.state === "online") streaming += r.client.pendingOutput();
    else fullSync += r.client.pendingOutput() + r.pendingBytes;
  }
  return [["replication_streaming", streaming], ["replication_full_sync", fullSync]];
}

/** Keys per db, for every db (an emptied db reads 0 instead of vanishing from the series). */
function keyspaceMetrics(server: Server, e: Exposition): void {
  const stats = server.store.keyspace();
  const dbs = Array.from({ length: server.store.dbCount }, (_, db) => stats.get(db) ?? { keys: 0, expires: 0 });
  e.header("dragonfly_db_keys", "Total number of keys by DB", "gauge");
  dbs.forEach((st, db) => e.sample("dragonfly_db_keys", st.keys, [["db", `db${db}`]]));
  e.header("dragonfly_db_keys_expiring", "Total number of expiring keys by DB", "gauge");
  dbs.forEach((st, db) => e.sample("dragonfly_db_keys_expiring", st.expires, [["db", `db${db}`]]));
}

/** The Prometheus text exposition of `server`'s metrics. */
export function renderMetrics(server: Server): string {
  const e = new Exposition();
  serverMetrics(server, e);
  clientMetrics(server, e);
  memoryMetrics(server, e);
  statsMetrics(server, e);
  commandMetrics(server, e);
  const replicationMemory = replicationMetrics(server, e);
  keyspaceMetrics(server, e);
  e.header("dragonfly_memory_by_class_bytes", "Memory metrics", "gauge");
  e.sample("dragonfly_memory_by_class_bytes", server.journal.backlogStats().bytes, [["class", "repl_backlog_buffer"]]);
  for (const [cls, bytes] of replicationMemory) e.sample("dragonfly_memory_by_class_bytes", bytes, [["class", cls]]);
  return e.text();
}
