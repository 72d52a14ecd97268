/**
 * COMMAND family: COMMAND, COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP.
 *
 * Serves the command table (src/commands/registry.ts) in Redis 7's reply shapes: COMMAND
 * INFO entries are [name, arity, flags, first, last, step, ACL categories, tips, key specs,
 * subcommands], flags and categories in Redis's order. Invariant: everything reported is
 * derived from the table itself (plus Redis's command tips), so a command added to a family
 * file shows up here without further work.
 */
import type { Client } from "../server/client.ts";
import { aclCategories, command, type CommandFlag, type CommandSpec, keyPositions } from "./types.ts";
import { ERR } from "./helpers.ts";
import { COMMANDS, findSubcommand } from "./registry.ts";
import { globMatch } from "../util/glob.ts";
import { replyHelp } from "./server_admin.ts";

/** Flags in the order Redis reports them; `may_replicate` is hidden, as in Redis. */
const FLAG_ORDER: readonly CommandFlag[] = [
  "write",
  "readonly",
  "denyoom",
  "admin",
  "pubsub",
  "noscript",
  "blocking",
  "loading",
  "stale",
  "skip_monitor",
  "skip_slowlog",
  "fast",
  "no_auth",
  "no_multi",
  "movablekeys",
  "allow_busy",
];

/** ACL categories in the order Redis reports them. */
const CATEGORY_ORDER = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

const NONDET = "nondeterministic_output";
const NONDET_ORDER = "nondeterministic_output_order";

/** Redis 7's command tips (COMMAND INFO element 8), by full command name. */
const TIPS: Readonly<Record<string, readonly string[]>> = {
  "client|info": [NONDET],
  "client|list": [NONDET],
  dump: [NONDET],
  hrandfield: [NONDET],
  hscan: [NONDET],
  lastsave: [NONDET],
  "object|encoding": [NONDET],
  "object|freq": [NONDET],
  "object|idletime": [NONDET],
  "object|refcount": [NONDET],
  pttl: [NONDET],
  spop: [NONDET],
  srandmember: [NONDET],
  sscan: [NONDET],
  time: [NONDET],
  ttl: [NONDET],
  xadd: [NONDET],
  xautoclaim: [NONDET],
  xclaim: [NONDET],
  "xinfo|consumers": [NONDET],
  xpending: [NONDET],
  xtrim: [NONDET],
  zrandmember: [NONDET],
  zscan: [NONDET],
  command: [NONDET_ORDER],
  "command|docs": [NONDET_ORDER],
  "command|info": [NONDET_ORDER],
  "command|list": [NONDET_ORDER],
  "function|list": [NONDET_ORDER],
  hgetall: [NONDET_ORDER],
  hkeys: [NONDET_ORDER],
  hvals: [NONDET_ORDER],
  sdiff: [NONDET_ORDER],
  sinter: [NONDET_ORDER],
  smembers: [NONDET_ORDER],
  sunion: [NONDET_ORDER],
  dbsize: ["request_policy:all_shards", "response_policy:agg_sum"],
  "config|set": ["request_policy:all_nodes", "response_policy:all_succeeded"],
  "script|flush": ["request_policy:all_nodes", "response_policy:all_succeeded"],
  "script|load": ["request_policy:all_nodes", "response_policy:all_succeeded"],
  "slowlog|reset": ["request_policy:all_nodes", "response_policy:all_succeeded"],
  "script|exists": ["request_policy:all_shards", "response_policy:agg_logical_and"],
  "function|kill": ["request_policy:all_shards", "response_policy:one_succeeded"],
  "script|kill": ["request_policy:all_shards", "response_policy:one_succeeded"],
  msetnx: ["request_policy:multi_shard", "response_policy:agg_min"],
  del: ["request_policy:multi_shard", "response_policy:agg_sum"],
  exists: ["request_policy:multi_shard", "response_policy:agg_sum"],
  touch: ["request_policy:multi_shard", "response_policy:agg_sum"],
  unlink: ["request_policy:multi_shard", "response_policy:agg_sum"],
  wait: ["request_policy:all_shards", "response_policy:agg_min"],
  mset: ["request_policy:multi_shard", "response_policy:all_succeeded"],
  flushall: ["request_policy:all_shards", "response_policy:all_succeeded"],
  flushdb: ["request_policy:all_shards", "response_policy:all_succeeded"],
  "function|delete": ["request_policy:all_shards", "response_policy:all_succeeded"],
  "function|flush": ["request_policy:all_shards", "response_policy:all_succeeded"],
  "function|load": ["request_policy:all_shards", "response_policy:all_succeeded"],
  "function|restore": ["request_policy:all_shards", "response_policy:all_succeeded"],
  "memory|purge": ["request_policy:all_shards", "response_policy:all_succeeded"],
  ping: ["request_policy:all_shards", "response_policy:all_succeeded"],
  "function|stats": [NONDET, "request_policy:all_shards", "response_policy:special"],
  info: [NONDET, "request_policy:all_shards", "response_policy:special"],
  "memory|doctor": [NONDET, "request_policy:all_shards", "response_policy:special"],
  "memory|malloc-stats": [NONDET, "request_policy:all_shards", "response_policy:special"],
  "memory|stats": [NONDET, "request_policy:all_shards", "response_policy:special"],
  scan: [NONDET, "request_policy:special"],
  keys: ["request_policy:all_shards", NONDET_ORDER],
  randomkey: ["request_policy:all_shards", NONDET],
  "slowlog|get": ["request_policy:all_nodes", NONDET],
  "slowlog|len": ["request_policy:all_nodes", "response_policy:agg_sum", NONDET],
  mget: ["request_policy:multi_shard"],
};

/** Flags of a command as COMMAND reports them (Redis's order; movablekeys when keys move). */
export function reportedFlags(spec: CommandSpec): string[] {
  const out: string[] = [];
  for (const f of FLAG_ORDER) {
    if (spec.flags.includes(f) || (f === "movablekeys" && spec.getKeys !== undefined)) out.push(f);
  }
  return out;
}

/** ACL categories with their `@` prefix, in Redis's order. */
export function reportedCategories(spec: CommandSpec): string[] {
  const cats = aclCategories(spec);
  const rank = (c: string) => {
    const i = CATEGORY_ORDER.indexOf(c);
    return i === -1 ? CATEGORY_ORDER.length : i;
  };
  return cats.sort((a, b) => rank(a) - rank(b)).map((c) => "@" + c);
}

/** Redis 7's access flags of each command's first key spec (COMMAND INFO key specs, GETKEYSANDFLAGS). */
const KEY_SPEC_FLAGS: ReadonlyMap<string, readonly string[]> = (() => {
  const table: Record<string, string> = {
    "RO access":
      "bitcount bitfield_ro bitpos copy dump eval_ro evalsha_ro expiretime fcall_ro geodist geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro geosearch get getbit getrange hget hgetall hkeys hmget hrandfield hscan hvals lcs lindex lpos lrange mget pexpiretime pttl sdiff sinter sintercard smembers smismember sort sort_ro srandmember sscan substr sunion ttl xinfo|consumers xinfo|groups xinfo|stream xpending xrange xread xreadgroup xrevrange zcount zdiff zinter zintercard zlexcount zmscore zrandmember zrange zrangebylex zrangebyscore zrank zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion",
    "RO":
      "exists hexists hlen hstrlen llen memory|usage object|encoding object|freq object|idletime object|refcount scard sismember strlen touch type watch xlen zcard",
    "RW update":
      "expire expireat geoadd hmset hset lset persist pexpire pexpireat setrange sinterstore xack xadd xclaim xgroup|setid xsetid zadd",
    "RW access update":
      "decr decrby eval evalsha fcall getex getset hincrby hincrbyfloat incr incrby incrbyfloat move setbit zincrby",
    "RW access delete":
      "blmove blmpop blpop brpop brpoplpush bzmpop bzpopmax bzpopmin getdel lmove lmpop lpop migrate rename renamenx rpop rpoplpush smove spop zmpop zpopmax zpopmin",
    "RW delete":
      "hdel lrem ltrim srem xautoclaim xdel xgroup|delconsumer xgroup|destroy xtrim zrem zremrangebylex zremrangebyrank zremrangebyscore",
    "RW insert": "append hsetnx linsert lpush lpushx pfadd rpush rpushx sadd xgroup|create xgroup|createconsumer",
    "OW update":
      "bitop geosearchstore mset psetex restore restore-asking sdiffstore setex sunionstore zdiffstore zinterstore zrangestore zunionstore",
    "not_key": "spublish ssubscribe sunsubscribe",
    "RW access": "pfcount pfdebug",
    "OW insert": "msetnx setnx",
    "RM delete": "del unlink",
    "RW access update variable_flags": "bitfield set",
    "RW access insert": "pfmerge",
  };
  const out = new Map<string, readonly string[]>();
  for (const [flags, names] of Object.entries(table)) {
    for (const name of names.split(" ")) out.set(name, flags.split(" "));
  }
  return out;
})();

/** Key-spec access flags: Redis's for the commands it has, else derived from the command flags. */
function keyFlags(spec: CommandSpec): readonly string[] {
  const known = KEY_SPEC_FLAGS.get(spec.name);
  if (known) return known;
  return spec.flags.includes("write") ? ["RW", "update"] : ["RO", "access"];
}

function writeKeySpecs(c: Client, spec: CommandSpec): void {
  const ranged = spec.firstKey > 0;
  const movable = spec.getKeys !== undefined;
  c.w.set((ranged ? 1 : 0) + (movable ? 1 : 0));
  const flags = keyFlags(spec);
  if (ranged) {
    c.w.map(3);
    c.w.bulk("flags");
    c.w.set(flags.length);
    for (const f of flags) c.w.simple(f);
    c.w.bulk("begin_search");
    c.w.map(2);
    c.w.bulk("type");
    c.w.bulk("index");
    c.w.bulk("spec");
    c.w.map(1);
    c.w.bulk("index");
    c.w.int(spec.firstKey);
    c.w.bulk("find_keys");
    c.w.map(2);
    c.w.bulk("type");
    c.w.bulk("range");
    c.w.bulk("spec");
    c.w.map(3);
    c.w.bulk("lastkey");
    c.w.int(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey);
    c.w.bulk("keystep");
    c.w.int(spec.step);
    c.w.bulk("limit");
    c.w.int(0);
  }
  if (movable) {
    c.w.map(3);
    c.w.bulk("flags");
    c.w.set(flags.length);
    for (const f of flags) c.w.simple(f);
    for (const part of ["begin_search", "find_keys"]) {
      c.w.bulk(part);
      c.w.map(2);
      c.w.bulk("type");
      c.w.bulk("unknown");
      c.w.bulk("spec");
      c.w.map(0);
    }
  }
}

/** Writes one COMMAND INFO entry (10 elements, subcommands nested). */
function writeCommandInfo(c: Client, spec: CommandSpec): void {
  c.w.array(10);
  c.w.bulk(spec.name);
  c.w.int(spec.arity);
  const flags = reportedFlags(spec);
  c.w.set(flags.length);
  for (const f of flags) c.w.simple(f);
  c.w.int(spec.firstKey);
  c.w.int(spec.lastKey);
  c.w.int(spec.step);
  const cats = reportedCategories(spec);
  c.w.set(cats.length);
  for (const cat of cats) c.w.simple(cat);
  const tips = TIPS[spec.name] ?? [];
  c.w.set(tips.length);
  for (const t of tips) c.w.bulk(t);
  writeKeySpecs(c, spec);
  if (spec.subcommands) {
    c.w.array(spec.subcommands.length);
    for (const s of spec.subcommands) writeCommandInfo(c, s);
  } else {
    c.w.set(0);
  }
}

/** Writes one COMMAND DOCS value: summary, since, group and nested subcommand docs. */
function writeCommandDocs(c: Client, spec: CommandSpec): void {
  c.w.map(spec.subcommands ? 4 : 3);
  c.w.bulk("summary");
  c.w.bulk(spec.summary);
  c.w.bulk("since");
  c.w.bulk(spec.since);
  c.w.bulk("group");
  c.w.bulk(spec.group);
  if (spec.subcommands) {
    c.w.bulk("subcommands");
    c.w.map(spec.subcommands.length);
    for (const s of spec.subcommands) {
      c.w.bulk(s.name);
      writeCommandDocs(c, s);
    }
  }
}

/** Looks a command up by its full name (`get`, `config|get`), case-insensitively. */
function lookupFullName(name: string): CommandSpec | undefined {
  const lower = name.toLowerCase();
  const bar = lower.indexOf("|");
  if (bar === -1) return COMMANDS.get(lower);
  const parent = COMMANDS.get(lower.slice(0, bar));
  return parent ? findSubcommand(parent, lower.slice(bar + 1)) : undefined;
}

function commandAll(c: Client): void {
  c.w.array(COMMANDS.size);
  for (const spec of COMMANDS.values()) writeCommandInfo(c, spec);
}

function commandInfo(c: Client, args: string[]): void {
  if (args.length === 2) return commandAll(c);
  c.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const spec = lookupFullName(args[i]);
    if (spec) writeCommandInfo(c, spec);
    else c.w.nilArray();
  }
}

function commandDocs(c: Client, args: string[]): void {
  const specs: CommandSpec[] = [];
  if (args.length === 2) specs.push(...COMMANDS.values());
  else {
    for (let i = 2; i < args.length; i++) {
      const spec = lookupFullName(args[i]);
      if (spec) specs.push(spec);
    }
  }
  c.w.map(specs.length);
  for (const spec of specs) {
    c.w.bulk(spec.name);
    writeCommandDocs(c, spec);
  }
}

function commandList(c: Client, args: string[]): void {
  let filter: (spec: CommandSpec) => boolean = () => true;
  if (args.length === 5 && args[2].toLowerCase() === "filterby") {
    const kind = args[3].toLowerCase();
    const value = args[4];
    if (kind === "module") filter = () => false;
    else if (kind === "aclcat") {
      const cat = value.toLowerCase().replace(/^@/, "");
      filter = (spec) => aclCategories(spec).includes(cat);
    } else if (kind === "pattern") filter = (spec) => globMatch(value, spec.name, true);
    else return c.w.error(ERR.syntax);
  } else if (args.length !== 2) {
    return c.w.error(ERR.syntax);
  }
  const names: string[] = [];
  const walk = (specs: Iterable<CommandSpec>) => {
    for (const spec of specs) {
      if (filter(spec)) names.push(spec.name);
      if (spec.subcommands) walk(spec.subcommands);
    }
  };
  walk(COMMANDS.values());
  c.w.bulkArray(names);
}

/** Resolves the command named by `args` (descending into subcommands) for GETKEYS. */
function getKeysOf(c: Client, args: string[]): { spec: CommandSpec; keys: number[] } | null {
  const base = COMMANDS.get(args[0].toLowerCase());
  let spec = base;
  if (base?.subcommands && args.length >= 2) spec = findSubcommand(base, args[1]);
  if (!spec) {
    c.w.error("ERR Invalid command specified");
    return null;
  }
  if (spec.firstKey <= 0 && !spec.getKeys) {
    c.w.error("ERR The command has no key arguments");
    return null;
  }
  if ((spec.arity > 0 && spec.arity !== args.length) || args.length < -spec.arity) {
    c.w.error("ERR Invalid number of arguments specified for command");
    return null;
  }
  let keys: number[];
  try {
    keys = keyPositions(spec, args);
  } catch {
    keys = [-1];
  }
  if (keys.some((k) => k < 1 || k >= args.length) || (keys.length === 0 && !spec.getKeys)) {
    c.w.error("ERR Invalid arguments specified for command");
    return null;
  }
  return { spec, keys };
}

function commandGetkeys(c: Client, args: string[]): void {
  const target = args.slice(2);
  const r = getKeysOf(c, target);
  if (r === null) return;
  c.w.bulkArray(r.keys.map((k) => target[k]));
}

function commandGetkeysAndFlags(c: Client, args: string[]): void {
  const target = args.slice(2);
  const r = getKeysOf(c, target);
  if (r === null) return;
  const flags = keyFlags(r.spec);
  c.w.array(r.keys.length);
  for (const k of r.keys) {
    c.w.array(2);
    c.w.bulk(target[k]);
    c.w.set(flags.length);
    for (const f of flags) c.w.simple(f);
  }
}

const COMMAND_HELP = [
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
];

const META = ["loading", "stale"] as const;
const CONNECTION = ["connection"];

function sub(
  name: string,
  arity: number,
  summary: string,
  since: string,
  handler: CommandSpec["handler"],
): CommandSpec {
  return command(name, arity, META, [0, 0, 0], "server", summary, since, handler, { categories: CONNECTION });
}

/** Commands of the introspection family. */
export const introspectionCommands: CommandSpec[] = [
  command(
    "command",
    -1,
    META,
    [0, 0, 0],
    "server",
    "Returns detailed information about all commands.",
    "2.8.13",
    commandAll,
    {
      categories: CONNECTION,
      subcommands: [
        sub("command|count", 2, "Returns a count of commands.", "2.8.13", (c) => c.w.int(COMMANDS.size)),
        sub("command|info", -2, "Returns information about one, multiple or all commands.", "2.8.13", commandInfo),
        sub(
          "command|docs",
          -2,
          "Returns documentary information about one, multiple or all commands.",
          "7.0.0",
          commandDocs,
        ),
        sub("command|list", -2, "Returns a list of command names.", "7.0.0", commandList),
        sub("command|getkeys", -4, "Extracts the key names from an arbitrary command.", "2.8.13", commandGetkeys),
        sub(
          "command|getkeysandflags",
          -4,
          "Extracts the key names and access flags for an arbitrary command.",
          "7.0.0",
          commandGetkeysAndFlags,
        ),
        sub(
          "command|help",
          2,
          "Returns helpful text about the different subcommands.",
          "5.0.0",
          (c) => replyHelp(c, "COMMAND", COMMAND_HELP),
        ),
      ],
    },
  ),
];
