/**
 * INFO: the section builders behind the INFO command (and the metrics that reuse them).
 *
 * Owns: the list of sections in Redis 7's order, which of them `default`, `all` and
 * `everything` include, the field names (Redis 7's, byte for byte), and the 100 ms sampler
 * behind `instantaneous_*` and the memory peak. Invariants: builders only read state that
 * other modules own (Server, Stats, Store, clients); a section is a function that other
 * modules may replace or wrap with `setInfoSection` (replication fills its own section);
 * the sampler starts on the first INFO and never keeps the process alive.
 */
import process from "node:process";
import type { Server } from "../server/server.ts";
import { REDIS_COMPAT_VERSION } from "../commands/connection.ts";
import { persistenceOf } from "../rdb/snapshot.ts";
import { notCountedForEvict } from "../server/eviction.ts";

/** Builds the `field:value` lines of one section (without its `# Title` header). */
export type InfoSectionBuilder = (server: Server) => string[];

/** One INFO section. */
interface InfoSection {
  /** Lower-case name used to select it (`INFO replication`). */
  name: string;
  /** Header shown as `# Title`. */
  title: string;
  /** Included when INFO is called without arguments or with `default`. */
  inDefault: boolean;
  /** Included by `all` (everything but module-generated sections). */
  inAll: boolean;
  /** The builder. */
  build: InfoSectionBuilder;
}

const ZERO_ID = "0".repeat(40);

/** Formats a byte count as Redis's bytesToHuman does (`894.89K`, `6.39M`, `0B`). */
export function bytesToHuman(n: number): string {
  const units = ["K", "M", "G", "T", "P", "E"];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

/** Bytes the process holds in its JS heap and external buffers (INFO used_memory). */
export function usedMemory(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** used_memory measured when this module was loaded, i.e. at server start-up. */
const STARTUP_MEMORY = usedMemory();

/** Rolling samples behind the `instantaneous_*` fields and the memory peak of one server. */
export class Sampler {
  private static readonly SAMPLES = 16;
  private readonly ops: number[] = [];
  private readonly inKbps: number[] = [];
  private readonly outKbps: number[] = [];
  private last = { at: 0, commands: 0, inBytes: 0, outBytes: 0 };
  /** Highest used_memory seen (INFO used_memory_peak); reset by CONFIG RESETSTAT. */
  peakMemory = 0;

  /** Starts sampling `server`'s counters every 100 ms (the timer does not keep the process alive). */
  constructor(private readonly server: Server) {
    this.takeBaseline();
    const timer = setInterval(() => this.sample(), 100);
    Deno.unrefTimer(timer);
    this.observeMemory(usedMemory());
  }

  /** Records the current counters as the start of the next sample. */
  private takeBaseline(): void {
    const s = this.server.stats;
    this.last = {
      at: performance.now(),
      commands: s.totalCommands,
      inBytes: s.netInputBytes,
      outBytes: s.netOutputBytes,
    };
  }

  /** Adds one rate sample per counter (keeping the last 16) and observes memory. */
  private sample(): void {
    const s = this.server.stats;
    const now = performance.now();
    const dt = (now - this.last.at) / 1000;
    if (dt <= 0) return;
    const push = (arr: number[], v: number) => {
      arr.push(Math.max(0, v));
      if (arr.length > Sampler.SAMPLES) arr.shift();
    };
    push(this.ops, (s.totalCommands - this.last.commands) / dt);
    push(this.inKbps, (s.netInputBytes - this.last.inBytes) / dt / 1024);
    push(this.outKbps, (s.netOutputBytes - this.last.outBytes) / dt / 1024);
    this.last = { at: now, commands: s.totalCommands, inBytes: s.netInputBytes, outBytes: s.netOutputBytes };
    this.observeMemory(usedMemory());
  }

  /** Raises the memory peak if `bytes` is above it. */
  observeMemory(bytes: number): void {
    if (bytes > this.peakMemory) this.peakMemory = bytes;
  }

  /** Average of `arr` (0 when empty). */
  private static mean(arr: number[]): number {
    if (arr.length === 0) return 0;
    let sum = 0;
    for (const v of arr) sum += v;
    return sum / arr.length;
  }

  /** Commands per second over the last 1.6 s. */
  get opsPerSec(): number {
    return Math.round(Sampler.mean(this.ops));
  }

  /** Input KB/s over the last 1.6 s. */
  get inputKbps(): number {
    return Sampler.mean(this.inKbps);
  }

  /** Output KB/s over the last 1.6 s. */
  get outputKbps(): number {
    return Sampler.mean(this.outKbps);
  }

  /** CONFIG RESETSTAT: forgets the memory peak. */
  reset(): void {
    this.peakMemory = 0;
    this.observeMemory(usedMemory());
  }
}

const samplers = new WeakMap<Server, Sampler>();

/** The sampler of `server`, started on first use. */
export function infoSampler(server: Server): Sampler {
  let s = samplers.get(server);
  if (s === undefined) samplers.set(server, s = new Sampler(server));
  return s;
}

/** Process CPU time in seconds: total (user, sys) and of the main thread. */
function cpuTimes(): { user: number; sys: number; mainUser: number; mainSys: number } {
  const total = process.cpuUsage();
  const user = total.user / 1e6;
  const sys = total.system / 1e6;
  let mainUser = user;
  let mainSys = sys;
  try {
    // Fields 14 and 15 of /proc/<pid>/task/<pid>/stat (after the parenthesised name) are
    // utime and stime of the main thread in clock ticks (USER_HZ, 100 on Linux).
    const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    mainUser = Number(fields[11]) / 100;
    mainSys = Number(fields[12]) / 100;
  } catch {
    // Not Linux: report the process totals for the main thread too.
  }
  return { user, sys, mainUser, mainSys };
}

/** The port clients reach the main listener on (the configured one, or the bound one). */
function tcpPort(server: Server): number {
  const port = server.config.num("port");
  if (port > 0) return port;
  if (port === 0) return 0;
  for (const c of server.clients.values()) {
    if (c.origin === "main") return Number(c.laddr.slice(c.laddr.lastIndexOf(":") + 1));
  }
  return 0;
}

function serverSection(server: Server): string[] {
  const now = Date.now();
  const uptime = Math.floor((now - server.startTime) / 1000);
  const flagfile = server.config.flagfile;
  let configFile = "";
  if (flagfile) {
    try {
      configFile = Deno.realPathSync(flagfile);
    } catch {
      configFile = flagfile;
    }
  }
  const bind = server.config.str("bind") || "*";
  const port = tcpPort(server);
  return [
    `redis_version:${REDIS_COMPAT_VERSION}`,
    `damselfly_version:${server.version}`,
    "redis_git_sha1:00000000",
    "redis_git_dirty:0",
    `redis_build_id:${server.runId.slice(0, 16)}`,
    "redis_mode:standalone",
    `os:${Deno.build.os === "linux" ? "Linux" : Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    "arch_bits:64",
    "monotonic_clock:POSIX clock_gettime",
    "multiplexing_api:epoll",
    "atomicvar_api:c11-builtin",
    "gcc_version:0.0.0",
    `process_id:${Deno.pid}`,
    "process_supervised:no",
    `run_id:${server.runId}`,
    `tcp_port:${port}`,
    `server_time_usec:${Math.floor((performance.timeOrigin + performance.now()) * 1000)}`,
    `uptime_in_seconds:${uptime}`,
    `uptime_in_days:${Math.floor(uptime / 86400)}`,
    `hz:${server.config.num("hz")}`,
    `configured_hz:${server.config.num("hz")}`,
    `lru_clock:${Math.floor(now / 1000) & 0xffffff}`,
    `executable:${Deno.execPath()}`,
    `config_file:${configFile}`,
    "io_threads_active:0",
    `listener0:name=tcp,bind=${bind},port=${port}`,
  ];
}

function clientsSection(server: Server): string[] {
  let connected = 0;
  let pubsub = 0;
  let watching = 0;
  let maxOutput = 0;
  for (const c of server.clients.values()) {
    if (c.isReplica) continue;
    connected++;
    if (c.inPubSubMode) pubsub++;
    if (c.unwatchers.length > 0) watching++;
    const out = c.pendingOutput();
    if (out > maxOutput) maxOutput = out;
  }
  let watchedKeys = 0;
  for (const shard of server.store.shards) {
    for (const db of shard.dbs) watchedKeys += db.watched?.size ?? 0;
  }
  const blocked = server.blocking.blockedCount;
  return [
    `connected_clients:${connected}`,
    "cluster_connections:0",
    `maxclients:${server.config.num("maxclients")}`,
    "client_recent_max_input_buffer:0",
    `client_recent_max_output_buffer:${maxOutput}`,
    `blocked_clients:${blocked}`,
    "tracking_clients:0",
    `pubsub_clients:${pubsub}`,
    `watching_clients:${watching}`,
    `clients_in_timeout_table:${blocked}`,
    `total_watched_keys:${watchedKeys}`,
    `total_blocking_keys:${server.blocking.blockingKeys}`,
    "total_blocking_keys_on_nokey:0",
  ];
}

function ratio(a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(2) : "0.00";
}

function memorySection(server: Server): string[] {
  const m = Deno.memoryUsage();
  const used = m.heapUsed + m.external;
  const sampler = infoSampler(server);
  sampler.observeMemory(used);
  const peak = sampler.peakMemory;
  const active = m.heapTotal + m.external;
  const startup = Math.min(STARTUP_MEMORY, used);
  const dataset = used - startup;
  let clientsMem = 0;
  for (const c of server.clients.values()) clientsMem += c.pendingOutput();
  let systemMemory = 0;
  try {
    systemMemory = Deno.systemMemoryInfo().total;
  } catch {
    // unavailable in this sandbox
  }
  const maxmemory = server.config.num("maxmemory");
  return [
    `used_memory:${used}`,
    `used_memory_human:${bytesToHuman(used)}`,
    `used_memory_rss:${m.rss}`,
    `used_memory_rss_human:${bytesToHuman(m.rss)}`,
    `used_memory_peak:${peak}`,
    `used_memory_peak_human:${bytesToHuman(peak)}`,
    `used_memory_peak_perc:${peak > 0 ? ((used / peak) * 100).toFixed(2) : "0.00"}%`,
    `used_memory_overhead:${startup + clientsMem}`,
    `used_memory_startup:${startup}`,
    `used_memory_dataset:${dataset}`,
    `used_memory_dataset_perc:${used > 0 ? ((dataset / used) * 100).toFixed(2) : "0.00"}%`,
    `allocator_allocated:${used}`,
    `allocator_active:${active}`,
    `allocator_resident:${m.rss}`,
    `total_system_memory:${systemMemory}`,
    `total_system_memory_human:${bytesToHuman(systemMemory)}`,
    "used_memory_lua:0",
    "used_memory_vm_eval:0",
    "used_memory_lua_human:0B",
    "used_memory_scripts_eval:0",
    "number_of_cached_scripts:0",
    "number_of_functions:0",
    "number_of_libraries:0",
    "used_memory_vm_functions:0",
    "used_memory_vm_total:0",
    "used_memory_vm_total_human:0B",
    "used_memory_functions:0",
    "used_memory_scripts:0",
    "used_memory_scripts_human:0B",
    `maxmemory:${maxmemory}`,
    `maxmemory_human:${bytesToHuman(maxmemory)}`,
    `maxmemory_policy:${server.config.str("maxmemory-policy")}`,
    `allocator_frag_ratio:${ratio(active, used)}`,
    `allocator_frag_bytes:${active - used}`,
    `allocator_rss_ratio:${ratio(m.rss, active)}`,
    `allocator_rss_bytes:${m.rss - active}`,
    "rss_overhead_ratio:1.00",
    "rss_overhead_bytes:0",
    `mem_fragmentation_ratio:${ratio(m.rss, used)}`,
    `mem_fragmentation_bytes:${m.rss - used}`,
    `mem_not_counted_for_evict:${notCountedForEvict(server)}`,
    "mem_replication_backlog:0",
    "mem_total_replication_buffers:0",
    "mem_clients_slaves:0",
    `mem_clients_normal:${clientsMem}`,
    "mem_cluster_links:0",
    "mem_aof_buffer:0",
    "mem_allocator:v8",
    "active_defrag_running:0",
    "lazyfree_pending_objects:0",
    "lazyfreed_objects:0",
  ];
}

function persistenceSection(server: Server): string[] {
  return [
    ...persistenceOf(server).infoFields(),
    "aof_enabled:0",
    "aof_rewrite_in_progress:0",
    "aof_rewrite_scheduled:0",
    "aof_last_rewrite_time_sec:-1",
    "aof_current_rewrite_time_sec:-1",
    "aof_last_bgrewrite_status:ok",
    "aof_rewrites:0",
    "aof_rewrites_consecutive_failures:0",
    "aof_last_write_status:ok",
    "aof_last_cow_size:0",
    "module_fork_in_progress:0",
    "module_fork_last_cow_size:0",
  ];
}

function statsSection(server: Server): string[] {
  const s = server.stats;
  const sampler = infoSampler(server);
  const { channels, patterns } = server.pubsub;
  return [
    `total_connections_received:${s.totalConnections}`,
    `total_commands_processed:${s.totalCommands}`,
    `instantaneous_ops_per_sec:${sampler.opsPerSec}`,
    `total_net_input_bytes:${s.netInputBytes}`,
    `total_net_output_bytes:${s.netOutputBytes}`,
    "total_net_repl_input_bytes:0",
    "total_net_repl_output_bytes:0",
    `instantaneous_input_kbps:${sampler.inputKbps.toFixed(2)}`,
    `instantaneous_output_kbps:${sampler.outputKbps.toFixed(2)}`,
    "instantaneous_input_repl_kbps:0.00",
    "instantaneous_output_repl_kbps:0.00",
    `rejected_connections:${s.rejectedConnections}`,
    "sync_full:0",
    "sync_partial_ok:0",
    "sync_partial_err:0",
    `expired_keys:${s.expiredKeys}`,
    "expired_stale_perc:0.00",
    "expired_time_cap_reached_count:0",
    "expire_cycle_cpu_milliseconds:0",
    `evicted_keys:${s.evictedKeys}`,
    "evicted_clients:0",
    "total_eviction_exceeded_time:0",
    "current_eviction_exceeded_time:0",
    `keyspace_hits:${s.keyspaceHits}`,
    `keyspace_misses:${s.keyspaceMisses}`,
    `pubsub_channels:${channels.size}`,
    `pubsub_patterns:${patterns.size}`,
    `pubsubshard_channels:${server.pubsub.shardChannels.size}`,
    "latest_fork_usec:0",
    "total_forks:0",
    "migrate_cached_sockets:0",
    "slave_expires_tracked_keys:0",
    "active_defrag_hits:0",
    "active_defrag_misses:0",
    "active_defrag_key_hits:0",
    "active_defrag_key_misses:0",
    "total_active_defrag_time:0",
    "current_active_defrag_time:0",
    "tracking_total_keys:0",
    "tracking_total_items:0",
    "tracking_total_prefixes:0",
    "unexpected_error_replies:0",
    `total_error_replies:${s.totalErrorReplies}`,
    "dump_payload_sanitizations:0",
    `total_reads_processed:${s.totalCommands}`,
    `total_writes_processed:${s.totalCommands}`,
    "io_threaded_reads_processed:0",
    "io_threaded_writes_processed:0",
    "client_query_buffer_limit_disconnections:0",
    "client_output_buffer_limit_disconnections:0",
    "reply_buffer_shrinks:0",
    "reply_buffer_expands:0",
    "acl_access_denied_auth:0",
    "acl_access_denied_cmd:0",
    "acl_access_denied_key:0",
    "acl_access_denied_channel:0",
  ];
}

function replicationSection(server: Server): string[] {
  return [
    `role:${server.roleName}`,
    "connected_slaves:0",
    "master_failover_state:no-failover",
    `master_replid:${server.runId}`,
    `master_replid2:${ZERO_ID}`,
    "master_repl_offset:0",
    "second_repl_offset:-1",
    "repl_backlog_active:0",
    "repl_backlog_size:1048576",
    "repl_backlog_first_byte_offset:0",
    "repl_backlog_histlen:0",
  ];
}

function cpuSection(): string[] {
  const t = cpuTimes();
  return [
    `used_cpu_sys:${t.sys.toFixed(6)}`,
    `used_cpu_user:${t.user.toFixed(6)}`,
    "used_cpu_sys_children:0.000000",
    "used_cpu_user_children:0.000000",
    `used_cpu_sys_main_thread:${t.mainSys.toFixed(6)}`,
    `used_cpu_user_main_thread:${t.mainUser.toFixed(6)}`,
  ];
}

function commandstatsSection(server: Server): string[] {
  // Fast commands are timed per read batch: share out the time of the batch so far.
  server.stats.settleUntimed();
  const out: string[] = [];
  for (const [name, st] of server.stats.commands) {
    if (st.calls === 0 && st.rejected === 0 && st.failed === 0) continue;
    const perCall = st.calls > 0 ? st.usec / st.calls : 0;
    out.push(
      `cmdstat_${name}:calls=${st.calls},usec=${Math.round(st.usec)},usec_per_call=${
        perCall.toFixed(2)
      },rejected_calls=${st.rejected},failed_calls=${st.failed}`,
    );
  }
  return out;
}

function errorstatsSection(server: Server): string[] {
  const out: string[] = [];
  for (const [code, count] of server.stats.errors) out.push(`errorstat_${code}:count=${count}`);
  return out;
}

/** Average remaining TTL (ms) of up to `limit` keys per slice with a TTL, as Redis estimates avg_ttl. */
function averageTtl(server: Server, db: number, now: number, limit = 256): number {
  let sum = 0;
  let n = 0;
  for (const slice of server.store.slices(db)) {
    let seen = 0;
    for (const at of slice.expires.values()) {
      if (seen++ >= limit) break;
      if (at > now) {
        sum += at - now;
        n++;
      }
    }
  }
  return n > 0 ? Math.round(sum / n) : 0;
}

function keyspaceSection(server: Server): string[] {
  const out: string[] = [];
  const now = Date.now();
  for (const [db, st] of server.store.keyspace()) {
    out.push(
      `db${db}:keys=${st.keys},expires=${st.expires},avg_ttl=${st.expires > 0 ? averageTtl(server, db, now) : 0}`,
    );
  }
  return out;
}

/** Every section in Redis 7's order. */
const SECTIONS: InfoSection[] = [
  { name: "server", title: "Server", inDefault: true, inAll: true, build: serverSection },
  { name: "clients", title: "Clients", inDefault: true, inAll: true, build: clientsSection },
  { name: "memory", title: "Memory", inDefault: true, inAll: true, build: memorySection },
  { name: "persistence", title: "Persistence", inDefault: true, inAll: true, build: persistenceSection },
  { name: "stats", title: "Stats", inDefault: true, inAll: true, build: statsSection },
  { name: "replication", title: "Replication", inDefault: true, inAll: true, build: replicationSection },
  { name: "cpu", title: "CPU", inDefault: true, inAll: true, build: cpuSection },
  { name: "modules", title: "Modules", inDefault: true, inAll: true, build: () => [] },
  { name: "commandstats", title: "Commandstats", inDefault: false, inAll: true, build: commandstatsSection },
  { name: "errorstats", title: "Errorstats", inDefault: true, inAll: true, build: errorstatsSection },
  { name: "cluster", title: "Cluster", inDefault: true, inAll: true, build: () => ["cluster_enabled:0"] },
  { name: "keyspace", title: "Keyspace", inDefault: true, inAll: true, build: keyspaceSection },
];

/** The builder currently serving section `name` (to wrap it), or undefined. */
export function infoSection(name: string): InfoSectionBuilder | undefined {
  return SECTIONS.find((s) => s.name === name)?.build;
}

/**
 * Replaces the builder of section `name`, or appends a new section (shown by `all` and by
 * name; by `default` too when `inDefault`). Replication uses it for `# Replication`.
 */
export function setInfoSection(name: string, build: InfoSectionBuilder, title?: string, inDefault = false): void {
  const existing = SECTIONS.find((s) => s.name === name);
  if (existing) {
    existing.build = build;
    if (title !== undefined) existing.title = title;
    return;
  }
  SECTIONS.push({ name, title: title ?? name[0].toUpperCase() + name.slice(1), inDefault, inAll: true, build });
}

/**
 * The INFO text for the requested section names (case-insensitive; none means `default`;
 * `all`, `everything` and `default` select groups). Unknown names select nothing.
 */
export function buildInfo(server: Server, requested: string[]): string {
  const wanted = new Set<string>();
  const names = requested.length === 0 ? ["default"] : requested.map((s) => s.toLowerCase());
  for (const n of names) {
    if (n === "all" || n === "everything") {
      for (const s of SECTIONS) if (s.inAll) wanted.add(s.name);
    } else if (n === "default") {
      for (const s of SECTIONS) if (s.inDefault) wanted.add(s.name);
    } else {
      wanted.add(n);
    }
  }
  let out = "";
  for (const s of SECTIONS) {
    if (!wanted.has(s.name)) continue;
    if (out !== "") out += "\r\n";
    out += `# ${s.title}\r\n`;
    for (const line of s.build(server)) out += line + "\r\n";
  }
  return out;
}

/** CONFIG RESETSTAT's part of INFO state: the memory peak. */
export function resetInfoStats(server: Server): void {
  infoSampler(server).reset();
}
