/**
 * The flag table: every command-line flag and CONFIG parameter, as data.
 *
 * Invariant: adding a flag is adding one line here. Names use Dragonfly's spelling
 * (underscores); Redis's CONFIG parameters keep Redis's spelling (hyphens). `mutable` flags
 * can be changed with CONFIG SET. The table keeps one flag per line, so deno fmt leaves this file alone.
 */
// deno-fmt-ignore-file

/** Value kinds a flag can take, with abseil-compatible parsing. */
export type FlagType = "bool" | "int" | "uint" | "double" | "string" | "bytes" | "list";

/** A flag's current value. */
export type FlagValue = boolean | number | string | string[];

/** One row of the flag table. */
export interface FlagSpec {
  /** Canonical name (Dragonfly spelling). */
  name: string;
  /** Value kind. */
  type: FlagType;
  /** Default value. */
  default: FlagValue;
  /** One line of help for --help. */
  help: string;
  /** Changeable at runtime with CONFIG SET. */
  mutable?: boolean;
  /** Allowed values for enum-like strings. */
  choices?: string[];
  /** Smallest accepted number. */
  min?: number;
  /** Largest accepted number. */
  max?: number;
  /**
   * Parses a value in Redis's syntax for this parameter (validation and normalization,
   * e.g. `save` pairs or `notify-keyspace-events` classes); replaces the type's parser.
   */
  parse?: (text: string) => FlagValue | { error: string };
}

/** Redis's memtoull: digits with an optional b, k, kb, m, mb, g or gb unit (k = 1000, kb = 1024). */
export function parseRedisMemory(text: string): FlagValue | { error: string } {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text);
  const mult: Record<string, number> = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = m ? Number(m[1]) * mult[(m[2] ?? "b").toLowerCase()] : NaN;
  return Number.isSafeInteger(v) ? v : { error: "argument must be a memory value" };
}

/** Validates Redis `save` points: `<seconds> <changes>` pairs separated by single spaces, or empty. */
function parseSavePoints(text: string): FlagValue | { error: string } {
  if (text === "") return "";
  const parts = text.split(" ");
  if (parts.length % 2 !== 0 || parts.some((p) => !/^\d+$/.test(p))) return { error: "Invalid save parameters" };
  return text;
}

/** Class letters of `notify-keyspace-events` that `A` stands for, in Redis's output order. */
const NOTIFY_ALL = "g$lshzxetd";

/** Validates `notify-keyspace-events` and returns Redis's canonical spelling (`AKE`, `xE`, `nKm`). */
function parseNotifyClasses(text: string): FlagValue | { error: string } {
  const valid = "Ag$lshzxeKEtmdn";
  for (const ch of text) {
    if (!valid.includes(ch)) return { error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
  }
  const has = (ch: string) => text.includes(ch) || (text.includes("A") && NOTIFY_ALL.includes(ch));
  let out = "";
  if ([...NOTIFY_ALL].every(has)) out = "A";
  else for (const ch of NOTIFY_ALL) if (has(ch)) out += ch;
  if (text.includes("n")) out += "n";
  if (text.includes("K")) out += "K";
  if (text.includes("E")) out += "E";
  if (text.includes("m")) out += "m";
  return out;
}

const MB = 1024 * 1024;

/** Every flag damselfly knows. */
export const FLAG_TABLE: readonly FlagSpec[] = [
  // Listeners and auth
  { name: "port", type: "int", default: 6379, min: -1, max: 65535, help: "main RESP port; 0 disables the TCP listener" },
  { name: "bind", type: "string", default: "", help: "address the main listener binds to; empty means all interfaces" },
  { name: "announce_port", type: "uint", default: 0, max: 65535, help: "port a replica announces to its primary; 0 uses --port" },
  { name: "replica_announce_ip", type: "string", default: "", mutable: true, help: "IP a replica announces to its primary" },
  { name: "admin_port", type: "uint", default: 0, max: 65535, help: "privileged listener speaking RESP and HTTP; 0 disables it" },
  { name: "admin_bind", type: "string", default: "", help: "address the admin listener binds to" },
  { name: "admin_nopass", type: "bool", default: false, help: "the admin port needs no authentication" },
  { name: "no_tls_on_admin_port", type: "bool", default: false, help: "keep the admin port plaintext even with --tls" },
  { name: "primary_port_http_enabled", type: "bool", default: true, help: "serve HTTP on the main port too" },
  { name: "requirepass", type: "string", default: "", mutable: true, help: "password of the default user (also env DFLY_PASSWORD)" },
  { name: "masterauth", type: "string", default: "", mutable: true, help: "password a replica uses on every replication connection" },
  { name: "masteruser", type: "string", default: "", mutable: true, help: "user a replica authenticates as on replication connections" },
  { name: "maxclients", type: "uint", default: 64000, mutable: true, help: "most simultaneous client connections" },
  { name: "restricted_commands", type: "list", default: [], help: "commands allowed only on the admin port" },
  { name: "tcp_keepalive", type: "uint", default: 300, mutable: true, help: "TCP keepalive idle seconds of client sockets" },
  { name: "aclfile", type: "string", default: "", help: "file ACL SAVE and ACL LOAD use" },
  { name: "acllog_max_len", type: "uint", default: 32, mutable: true, help: "entries kept in the ACL LOG" },
  // TLS
  { name: "tls", type: "bool", default: false, mutable: true, help: "enable TLS on the main (and admin) listeners" },
  { name: "tls_cert_file", type: "string", default: "", mutable: true, help: "PEM certificate chain of the server (and replica client)" },
  { name: "tls_key_file", type: "string", default: "", mutable: true, help: "PEM private key of the server (and replica client)" },
  { name: "tls_ca_cert_file", type: "string", default: "", mutable: true, help: "CA bundle; when set, clients must present a certificate it signed" },
  { name: "tls_ca_cert_dir", type: "string", default: "", mutable: true, help: "directory of CA certificates" },
  { name: "tls_replication", type: "bool", default: false, mutable: true, help: "use TLS on every replication connection" },
  // Keyspace and limits
  { name: "dbnum", type: "uint", default: 16, min: 1, max: 1024, help: "number of logical databases" },
  { name: "num_shards", type: "uint", default: 0, max: 1024, help: "number of data shards; 0 means one per CPU" },
  { name: "proactor_threads", type: "uint", default: 0, max: 1024, help: "I/O threads; 0 means one per CPU (one event loop serves them)" },
  { name: "maxmemory", type: "bytes", default: 0, mutable: true, help: "memory limit in bytes (accepts 512mb, 1gb, ...); 0 means no limit" },
  { name: "hz", type: "int", default: 100, min: 0, max: 500, mutable: true, help: "frequency of background tasks such as active expiry" },
  { name: "proto_max_bulk_len", type: "bytes", default: 512 * MB, min: 1, mutable: true, help: "largest bulk string a client may send" },
  { name: "client_output_buffer_limit", type: "bytes", default: 256 * MB, mutable: true, help: "pending reply bytes at which a client is disconnected" },
  { name: "slowlog_log_slower_than", type: "int", default: 10000, mutable: true, help: "microseconds after which a command enters the slow log" },
  { name: "slowlog_max_len", type: "uint", default: 20, mutable: true, help: "entries kept in the slow log" },
  // Persistence
  { name: "dir", type: "string", default: "", mutable: true, help: "working directory for snapshots" },
  { name: "dbfilename", type: "string", default: "", mutable: true, help: "snapshot file name; empty disables loading and saving it" },
  { name: "snapshot_cron", type: "string", default: "", mutable: true, help: "cron expression for periodic snapshots" },
  // Logging
  { name: "v", type: "int", default: 0, mutable: true, help: "verbose log level" },
  { name: "minloglevel", type: "int", default: 0, min: 0, max: 3, mutable: true, help: "least severe level logged: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL" },
  { name: "logtostderr", type: "bool", default: true, help: "log to stderr instead of files" },
  { name: "alsologtostderr", type: "bool", default: false, help: "log to stderr as well as to files" },
  { name: "log_dir", type: "string", default: "", help: "directory for log files" },
  // Replication (replica side)
  { name: "replicaof", type: "string", default: "", help: "start as a replica of host:port" },
  { name: "master_connect_timeout_ms", type: "uint", default: 20000, mutable: true, help: "connect timeout to the primary" },
  { name: "master_reconnect_timeout_ms", type: "uint", default: 1000, mutable: true, help: "connect timeout of reconnect attempts" },
  { name: "replication_acks_interval", type: "uint", default: 1000, mutable: true, help: "most milliseconds between replica ACKs" },
  { name: "replica_partial_sync", type: "bool", default: true, mutable: true, help: "try partial sync on reconnect" },
  { name: "break_replication_on_master_restart", type: "bool", default: false, mutable: true, help: "stop replicating when the primary restarted" },
  { name: "replica_priority", type: "int", default: 100, mutable: true, help: "priority reported to Sentinel" },
  { name: "replicaof_no_one_start_journal", type: "bool", default: true, mutable: true, help: "on REPLICAOF NO ONE, continue the journal at the replica's LSNs (siblings can then partial-sync)" },
  { name: "info_replication_valkey_compatible", type: "bool", default: false, mutable: true, help: "use slave/online names in ROLE and INFO" },
  // Replication (primary side)
  { name: "replication_timeout", type: "uint", default: 30000, mutable: true, help: "ms a replica may stall before it is dropped" },
  { name: "replication_stream_output_limit", type: "bytes", default: 64 * MB, mutable: true, help: "per-replica buffered bytes before it is dropped" },
  { name: "shard_repl_backlog_len", type: "uint", default: 8192, mutable: true, help: "journal entries kept per shard for partial sync" },
  { name: "shard_repl_backlog_max_bytes", type: "bytes", default: 64 * MB, mutable: true, help: "journal bytes kept per shard for partial sync" },
  { name: "repl_backlog_size", type: "bytes", default: 1 * MB, min: 16 * 1024, mutable: true, help: "bytes of the Redis-protocol replication stream kept for partial resync of Redis replicas" },
  { name: "shard_repl_backlog_time_ms", type: "uint", default: 0, mutable: true, help: "ms journal entries are kept for partial sync; 0 means no age limit" },
  // Redis CONFIG compatibility parameters
  { name: "maxmemory-policy", type: "string", default: "noeviction", mutable: true, help: "eviction policy", choices: ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"] },
  { name: "save", type: "string", default: "", mutable: true, help: "Redis save points (stored and reported)", parse: parseSavePoints },
  { name: "appendonly", type: "bool", default: false, mutable: true, help: "Redis AOF switch (reported only)" },
  { name: "notify-keyspace-events", type: "string", default: "", mutable: true, help: "keyspace notification classes", parse: parseNotifyClasses },
  { name: "hash-max-listpack-entries", type: "uint", default: 512, mutable: true, help: "hashes up to this many fields are listpacks" },
  { name: "hash-max-listpack-value", type: "uint", default: 64, mutable: true, help: "hashes with values up to this size are listpacks", parse: parseRedisMemory },
  { name: "list-max-listpack-size", type: "int", default: -2, mutable: true, help: "quicklist node size (negative: KB class)" },
  { name: "list-compress-depth", type: "uint", default: 0, mutable: true, help: "quicklist compression depth (reported only)" },
  { name: "set-max-intset-entries", type: "uint", default: 512, mutable: true, help: "integer sets up to this size are intsets" },
  { name: "zset-max-listpack-entries", type: "uint", default: 128, mutable: true, help: "sorted sets up to this size are listpacks" },
  { name: "zset-max-listpack-value", type: "uint", default: 64, mutable: true, help: "sorted sets with members up to this size are listpacks", parse: parseRedisMemory },
  { name: "stream-node-max-bytes", type: "bytes", default: 4096, mutable: true, help: "stream node size limit", parse: parseRedisMemory },
  { name: "stream-node-max-entries", type: "uint", default: 100, mutable: true, help: "stream node entry limit" },
  { name: "lua-time-limit", type: "uint", default: 5000, mutable: true, help: "script time limit (ms)" },
  { name: "timeout", type: "uint", default: 0, max: 2147483647, mutable: true, help: "close idle clients after this many seconds; 0 disables" },
  { name: "appendfsync", type: "string", default: "everysec", mutable: true, help: "Redis AOF fsync policy (reported only)", choices: ["everysec", "always", "no"] },
  { name: "maxmemory-samples", type: "uint", default: 5, min: 1, max: 64, mutable: true, help: "keys sampled per eviction" },
  { name: "maxmemory-eviction-tenacity", type: "uint", default: 10, max: 100, mutable: true, help: "eviction time budget per command: 0-10 linear up to 500 us, then +15% per step, 100 unlimited" },
  { name: "lfu-log-factor", type: "uint", default: 10, mutable: true, help: "LFU counter logarithm factor" },
  { name: "lfu-decay-time", type: "uint", default: 1, mutable: true, help: "LFU counter decay period in minutes" },
  { name: "lazyfree-lazy-user-del", type: "bool", default: false, mutable: true, help: "DEL behaves like UNLINK (reported only)" },
  { name: "lazyfree-lazy-user-flush", type: "bool", default: false, mutable: true, help: "FLUSH* default to ASYNC (reported only)" },
];

/** Redis parameter names that are aliases of another entry (Redis 7 keeps both spellings). */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
  "hash-max-ziplist-entries": "hash-max-listpack-entries",
  "hash-max-ziplist-value": "hash-max-listpack-value",
  "list-max-ziplist-size": "list-max-listpack-size",
  "zset-max-ziplist-entries": "zset-max-listpack-entries",
  "zset-max-ziplist-value": "zset-max-listpack-value",
  "slave-priority": "replica_priority",
  "replica-priority": "replica_priority",
  "proto-max-bulk-len": "proto_max_bulk_len",
  "slowlog-log-slower-than": "slowlog_log_slower_than",
  "slowlog-max-len": "slowlog_max_len",
  "replica-announce-ip": "replica_announce_ip",
  "repl-backlog-size": "repl_backlog_size",
  databases: "dbnum",
  "acllog-max-len": "acllog_max_len",
};
