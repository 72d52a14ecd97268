/**
 * Server administration family: INFO, TIME, LASTSAVE, SHUTDOWN, MONITOR, SLOWLOG, DEBUG and
 * CLIENT (ID, SETNAME, GETNAME, SETINFO, INFO, LIST, KILL, PAUSE, UNPAUSE, REPLY, NO-EVICT,
 * NO-TOUCH, UNBLOCK, HELP), plus the CLIENT PAUSE gate the dispatcher consults.
 *
 * Invariants: replies and error texts are Redis 7's; nothing here blocks the event loop
 * (DEBUG SLEEP and paused commands wait on promises); a paused client's commands run later
 * in their original order, re-checked from the start; DEBUG DIGEST depends only on the
 * logical dataset (databases, keys, types, values, expiry), never on key order or sharding.
 */
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, parseI64, parseIntArg } from "./helpers.ts";
import { validClientName } from "./connection.ts";
import { buildInfo } from "../observability/info.ts";
import { stringEncoding, typeOf, type Value } from "../store/values.ts";
import { STAMP_ACCESS_MASK } from "../store/access.ts";
import { log } from "../observability/log.ts";
import { debugReload } from "./persistence.ts";

/** Replies with Redis's help layout: a header, the given lines, and the HELP entry. */
export function replyHelp(c: Client, commandName: string, lines: readonly string[]): void {
  c.w.array(lines.length + 3);
  c.w.simple(`${commandName} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.w.simple(l);
  c.w.simple("HELP");
  c.w.simple("    Prints this help.");
}

/** Redis's reply to a DEBUG (or other hand-dispatched) subcommand it does not know. */
function subcommandSyntaxError(c: Client, parent: string, sub: string): void {
  c.w.error(`ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try ${parent} HELP.`);
}

// ---------------------------------------------------------------------------------------
// INFO, TIME, LASTSAVE, SHUTDOWN, MONITOR

function info(c: Client, args: string[]): void {
  c.w.verbatim(buildInfo(c.server, args.slice(1)));
}

function time(c: Client): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.w.array(2);
  c.w.bulk(String(Math.floor(us / 1_000_000)));
  c.w.bulk(String(us % 1_000_000));
}

function shutdown(c: Client, args: string[]): void | Promise<void> {
  let save: boolean | null = null;
  let abort = false;
  let other = false;
  for (let i = 1; i < args.length; i++) {
    const o = args[i].toLowerCase();
    if (o === "nosave") {
      if (save === true) return c.w.error(ERR.syntax);
      save = false;
    } else if (o === "save") {
      if (save === false) return c.w.error(ERR.syntax);
      save = true;
    } else if (o === "now" || o === "force") other = true;
    else if (o === "abort") abort = true;
    else return c.w.error(ERR.syntax);
  }
  if (abort) {
    if (save !== null || other) return c.w.error(ERR.syntax);
    return c.w.error("ERR No shutdown in progress.");
  }
  log.info(`SHUTDOWN requested by client ${c.addr} id=${c.id}`);
  return c.server.shutdown(save).then((ok) => {
    if (!ok) c.w.error("ERR Errors trying to SHUTDOWN. Check logs.");
  });
}

function monitor(c: Client): void {
  if (c.monitor || c.isReplica) return;
  c.monitor = true;
  c.server.monitors.add(c);
  c.w.simple("OK");
}

// ---------------------------------------------------------------------------------------
// SLOWLOG

function slowlogGet(c: Client, args: string[]): void {
  const log = c.server.stats.slowlog;
  let count = 10;
  if (args.length === 3) {
    const n = parseIntArg(args[2]);
    if (n === null || n < -1) return c.w.error("ERR count should be greater than or equal to -1");
    count = n === -1 ? log.length : n;
  } else if (args.length > 3) {
    return subcommandSyntaxError(c, "SLOWLOG", args[1]);
  }
  const n = Math.min(count, log.length);
  c.w.array(n);
  for (let i = 0; i < n; i++) {
    const e = log[i];
    c.w.array(6);
    c.w.int(e.id);
    c.w.int(e.time);
    c.w.int(e.durationUs);
    c.w.bulkArray(e.args);
    c.w.bulk(e.addr);
    c.w.bulk(e.name);
  }
}

const SLOWLOG_HELP = [
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
];

// ---------------------------------------------------------------------------------------
// DEBUG

const ZERO_DIGEST = "0".repeat(40);

/**
 * A 160-bit hash of a sequence of latin1 strings: five Murmur3-style 32-bit lanes with
 * different rotations and multipliers, each string length-prefixed so the sequence is
 * unambiguous. Not cryptographic: DEBUG DIGEST compares datasets, it does not resist forgery,
 * and this runs about 20 times faster than SHA1 through node:crypto (0.6 µs per short key).
 */
class Hash160 {
  /** The five lanes. */
  readonly h = new Uint32Array(5);

  /** Starts a new hash. */
  reset(): this {
    const h = this.h;
    h[0] = 0x9747b28c;
    h[1] = 0x85ebca6b;
    h[2] = 0xc2b2ae35;
    h[3] = 0x27d4eb2f;
    h[4] = 0x165667b1;
    return this;
  }

  private mix(k: number): void {
    const h = this.h;
    k = Math.imul(k, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    let x = h[0] ^ k;
    h[0] = Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64;
    x = h[1] ^ k;
    h[1] = Math.imul((x << 17) | (x >>> 15), 9) + 0x85ebca6b;
    x = h[2] ^ k;
    h[2] = Math.imul((x << 11) | (x >>> 21), 3) + 0xc2b2ae35;
    x = h[3] ^ k;
    h[3] = Math.imul((x << 19) | (x >>> 13), 7) + 0x27d4eb2f;
    x = h[4] ^ k;
    h[4] = Math.imul((x << 7) | (x >>> 25), 11) + 0x165667b1;
  }

  /** Feeds one string (its length first). */
  update(s: string): this {
    const n = s.length;
    this.mix(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      this.mix(
        s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24),
      );
    }
    if (i < n) {
      let k = 0;
      for (let shift = 0; i < n; i++, shift += 8) k |= s.charCodeAt(i) << shift;
      this.mix(k);
    }
    return this;
  }

  /** Finalizes the lanes (Murmur3's fmix32, then a cross-lane pass) and XORs them into `acc`. */
  xorInto(acc: Uint32Array): void {
    const h = this.h;
    for (let j = 0; j < 5; j++) {
      let x = h[j] ^ h[(j + 1) % 5];
      x ^= x >>> 16;
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      x ^= x >>> 16;
      acc[j] ^= x;
    }
  }
}

function digestHex(acc: Uint32Array): string {
  let out = "";
  for (const x of acc) out += (x >>> 0).toString(16).padStart(8, "0");
  return out;
}

const hasher = new Hash160();

/** Hashes one value (type and canonical contents) into the running hash. */
function hashValue(h: Hash160, value: Value): void {
  h.update(typeOf(value)).update(typeof value === "string" ? value : value.canonical());
}

/**
 * DEBUG DIGEST: XOR over every live key of hash(db, key, type, canonical value, expiry);
 * forty zeros for an empty dataset. Independent of key order and shard count.
 */
export function datasetDigest(server: Server): string {
  const acc = new Uint32Array(5);
  let any = false;
  const now = Date.now();
  for (const shard of server.store.shards) {
    for (const slice of shard.dbs) {
      if (slice.size === 0) continue;
      const db = String(slice.dbIndex);
      for (const [key, value] of slice.data) {
        const at = slice.expires.size === 0 ? undefined : slice.expires.get(key);
        if (at !== undefined && at <= now) continue;
        hasher.reset().update(db).update(key);
        hashValue(hasher, value);
        hasher.update(at === undefined ? "" : String(at)).xorInto(acc);
        any = true;
      }
    }
  }
  return any ? digestHex(acc) : ZERO_DIGEST;
}

/** DEBUG DIGEST-VALUE of one value: hash(type, canonical value). */
function valueDigest(value: Value): string {
  const acc = new Uint32Array(5);
  hashValue(hasher.reset(), value);
  hasher.xorInto(acc);
  return digestHex(acc);
}

function debugObject(c: Client, key: string): void {
  const slice = c.slice(key);
  const v = slice.get(key);
  if (v === undefined) return c.w.error(ERR.noSuchKey);
  const encoding = typeof v === "string" ? stringEncoding(v, slice.stringMade(key)) : v.encoding();
  const serialized = typeof v === "string" ? v.length : v.canonical().length;
  // Like Redis: the raw access stamp, and its LRU reading even under an LFU policy.
  const lru = slice.accessStamp(key) & STAMP_ACCESS_MASK;
  const idle = Math.floor(slice.access.idleMs(lru) / 1000);
  c.w.simple(
    `Value at:0x0 refcount:1 encoding:${encoding} serializedlength:${serialized} lru:${lru} lru_seconds_idle:${idle}`,
  );
}

const DEBUG_HELP = [
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from RDB.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will generate an exception and kill the server.",
  "    * NOSAVE: the database will be loaded from an existing RDB file.",
  "    Examples:",
  "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
  "      the database.",
  "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
  "      existing RDB file.",
  "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
  "      file to the database.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
];

function debug(c: Client, args: string[]): void | Promise<void> {
  const sub = args[1].toLowerCase();
  const argc = args.length;
  if (sub === "help" && argc === 2) return replyHelp(c, "DEBUG", DEBUG_HELP);
  if (sub === "sleep" && argc === 3) {
    const seconds = Number.parseFloat(args[2]);
    const ms = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
    return new Promise<void>((resolve) => {
      setTimeout(() => {
        c.w.simple("OK");
        resolve();
      }, ms);
    });
  }
  if (sub === "digest" && argc === 2) return c.w.simple(datasetDigest(c.server));
  if (sub === "digest-value" && argc >= 2) {
    c.w.array(argc - 2);
    for (let i = 2; i < argc; i++) {
      const v = c.slice(args[i]).get(args[i]);
      c.w.simple(v === undefined ? ZERO_DIGEST : valueDigest(v));
    }
    return;
  }
  if (sub === "object" && argc === 3) return debugObject(c, args[2]);
  if (sub === "log" && argc === 3) {
    log.warn(`DEBUG LOG: ${args[2]}`);
    return c.w.simple("OK");
  }
  if (sub === "error" && argc === 3) return c.w.error(args[2]);
  if (sub === "reload") return debugReload(c, args);
  subcommandSyntaxError(c, "DEBUG", args[1]);
}

// ---------------------------------------------------------------------------------------
// CLIENT

/** Client types accepted by CLIENT LIST TYPE and CLIENT KILL TYPE. */
type ClientType = "normal" | "master" | "replica" | "pubsub";

function clientTypeByName(name: string): ClientType | null {
  const n = name.toLowerCase();
  if (n === "normal" || n === "master" || n === "pubsub") return n;
  if (n === "replica" || n === "slave") return "replica";
  return null;
}

function clientType(c: Client): ClientType {
  if (c.isMasterLink) return "master";
  if (c.isReplica && !c.monitor) return "replica";
  if (c.inPubSubMode) return "pubsub";
  return "normal";
}

/**
 * One CLIENT LIST / CLIENT INFO line (without the newline), in Redis 7.2's field order.
 * `argv` is the command the client is executing right now, if any (for `argv-mem`).
 */
export function clientInfoLine(c: Client, now = Date.now(), argv: readonly string[] = []): string {
  let argvMem = 0;
  for (const a of argv) argvMem += a.length;
  let multiMem = 0;
  if (c.multi) { for (const q of c.multi.queue) for (const a of q) multiMem += a.length; }
  const obl = c.pendingOutput();
  const rbs = Math.max(1024, obl);
  const fd = c.origin === "internal" && !c.isMasterLink ? -1 : c.id;
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${fd} name=${c.name} age=${
    Math.floor((now - c.createdAt) / 1000)
  } idle=${
    Math.floor((now - c.lastInteraction) / 1000)
  } flags=${c.flagString()} db=${c.db} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size} multi=${
    c.multi ? c.multi.queue.length : -1
  } qbuf=0 qbuf-free=0 argv-mem=${argvMem} multi-mem=${multiMem} rbs=${rbs} rbp=${obl} obl=${obl} oll=0 omem=0 tot-mem=${
    rbs + argvMem + multiMem
  } events=${obl > 0 ? "rw" : "r"} cmd=${c.lastCommand} user=${
    c.user ?? "default"
  } redir=-1 resp=${c.proto} lib-name=${c.libName} lib-ver=${c.libVer}`;
}

function clientList(c: Client, args: string[]): void {
  const server = c.server;
  let selected: Client[];
  if (args.length === 4 && args[2].toLowerCase() === "type") {
    const type = clientTypeByName(args[3]);
    if (type === null) return c.w.error(`ERR Unknown client type '${args[3]}'`);
    selected = [...server.clients.values()].filter((x) => clientType(x) === type);
  } else if (args.length > 3 && args[2].toLowerCase() === "id") {
    selected = [];
    for (let i = 3; i < args.length; i++) {
      const id = parseI64(args[i]);
      if (id === null) return c.w.error("ERR Invalid client ID");
      const found = server.clients.get(Number(id));
      if (found) selected.push(found);
    }
  } else if (args.length !== 2) {
    return c.w.error(ERR.syntax);
  } else {
    selected = [...server.clients.values()];
  }
  const now = Date.now();
  let out = "";
  for (const x of selected) out += clientInfoLine(x, now, x === c ? args : undefined) + "\n";
  c.w.verbatim(out);
}

function clientKill(c: Client, args: string[]): void {
  const server = c.server;
  if (args.length === 3) {
    for (const x of server.clients.values()) {
      if (x.addr !== args[2]) continue;
      c.w.simple("OK");
      killClient(c, x);
      return;
    }
    return c.w.error("ERR No such client");
  }
  if (args.length % 2 !== 0) return c.w.error(ERR.syntax);
  let id: number | null = null;
  let type: ClientType | null = null;
  let addr: string | null = null;
  let laddr: string | null = null;
  let user: string | null = null;
  let maxAge: number | null = null;
  let skipMe = true;
  for (let i = 2; i < args.length; i += 2) {
    const opt = args[i].toLowerCase();
    const val = args[i + 1];
    if (opt === "id") {
      const n = parseIntArg(val);
      if (n === null || n < 1) return c.w.error("ERR client-id should be greater than 0");
      id = n;
    } else if (opt === "type") {
      type = clientTypeByName(val);
      if (type === null) return c.w.error(`ERR Unknown client type '${val}'`);
    } else if (opt === "addr") {
      addr = val;
    } else if (opt === "laddr") {
      laddr = val;
    } else if (opt === "user") {
      if (!userExists(server, val)) return c.w.error(`ERR No such user '${val}'`);
      user = val;
    } else if (opt === "skipme") {
      const v = val.toLowerCase();
      if (v === "yes") skipMe = true;
      else if (v === "no") skipMe = false;
      else return c.w.error(ERR.syntax);
    } else if (opt === "maxage") {
      const n = parseI64(val);
      if (n === null) return c.w.error(ERR.notInteger);
      maxAge = Number(n);
    } else {
      return c.w.error(ERR.syntax);
    }
  }
  const now = Date.now();
  const victims: Client[] = [];
  for (const x of server.clients.values()) {
    if (id !== null && x.id !== id) continue;
    if (type !== null && clientType(x) !== type) continue;
    if (addr !== null && x.addr !== addr) continue;
    if (laddr !== null && x.laddr !== laddr) continue;
    if (user !== null && (x.user ?? "default") !== user) continue;
    if (maxAge !== null && (now - x.createdAt) / 1000 <= maxAge) continue;
    if (skipMe && x === c) continue;
    victims.push(x);
  }
  c.w.int(victims.length);
  for (const x of victims) killClient(c, x);
}

/** Users CLIENT KILL USER accepts: `default` and any user a client is logged in as. */
function userExists(server: Server, name: string): boolean {
  if (name === "default") return true;
  for (const x of server.clients.values()) if (x.user === name) return true;
  return false;
}

/** Kills `victim`; the caller itself is closed only after its reply is written. */
function killClient(caller: Client, victim: Client): void {
  if (victim === caller) caller.closeAfterReply = true;
  else victim.kill();
}

function clientPause(c: Client, args: string[]): void {
  const t = parseI64(args[2]);
  if (t === null) return c.w.error("ERR timeout is not an integer or out of range");
  if (t < 0n) return c.w.error("ERR timeout is negative");
  let writesOnly = false;
  if (args.length === 4) {
    const m = args[3].toLowerCase();
    if (m === "write") writesOnly = true;
    else if (m !== "all") return c.w.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
  } else if (args.length > 4) {
    return c.w.error(ERR.syntax);
  }
  const ms = t > 10n ** 15n ? 1e15 : Number(t);
  pauseClients(c.server, Date.now() + ms, writesOnly);
  c.w.simple("OK");
}

function clientReply(c: Client, args: string[]): void {
  const mode = args[2].toLowerCase();
  if (mode === "on") {
    c.replyMode = "on";
    c.w.simple("OK");
  } else if (mode === "off") {
    c.replyMode = "off";
  } else if (mode === "skip") {
    if (c.replyMode !== "off") c.replyMode = "skip";
  } else {
    c.w.error(ERR.syntax);
  }
}

function onOff(c: Client, value: string, set: (on: boolean) => void): void {
  const v = value.toLowerCase();
  if (v === "on") set(true);
  else if (v === "off") set(false);
  else return c.w.error(ERR.syntax);
  c.w.simple("OK");
}

function clientUnblock(c: Client, args: string[]): void {
  const id = parseI64(args[2]);
  if (id === null) return c.w.error(ERR.notInteger);
  let error = false;
  if (args.length === 4) {
    const r = args[3].toLowerCase();
    if (r === "error") error = true;
    else if (r !== "timeout") return c.w.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  } else if (args.length > 4) {
    return c.w.error(ERR.syntax);
  }
  const target = c.server.clients.get(Number(id));
  if (target && target.unblock) {
    target.unblock(error);
    c.w.int(1);
  } else {
    c.w.int(0);
  }
}

function clientSetinfo(c: Client, args: string[]): void {
  const attr = args[2];
  const a = attr.toLowerCase();
  if (a !== "lib-name" && a !== "lib-ver") return c.w.error(`ERR Unrecognized option '${attr}'`);
  if (!validClientName(args[3])) return c.w.error(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
  if (a === "lib-name") c.libName = args[3];
  else c.libVer = args[3];
  c.w.simple("OK");
}

const CLIENT_HELP = [
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "    * ID <client-id>",
  "      Kill connections by client id.",
  "    * MAXAGE <maxage>",
  "      Kill connections older than the specified age.",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "SETINFO <option> <value>",
  "    Set client meta attr. Options are:",
  "    * LIB-NAME: the client lib name.",
  "    * LIB-VER: the client lib version.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "NO-TOUCH (ON|OFF)",
  "    Will not touch LRU/LFU stats when this mode is on.",
];

// ---------------------------------------------------------------------------------------
// CLIENT PAUSE gate (consulted by the dispatcher)

/** Paused commands waiting for the pause to end, per server, in arrival order. */
const pauseWaiters = new WeakMap<
  Server,
  { release: (() => void)[]; timer: ReturnType<typeof setTimeout> | undefined }
>();

function pauseState(server: Server) {
  let st = pauseWaiters.get(server);
  if (st === undefined) pauseWaiters.set(server, st = { release: [], timer: undefined });
  return st;
}

/**
 * Starts or extends a pause: the later end time and the more restrictive mode win, as in
 * Redis. Paused commands resume when it ends or on CLIENT UNPAUSE.
 */
export function pauseClients(server: Server, until: number, writesOnly: boolean): void {
  const cur = server.pause;
  server.pause = {
    until: cur ? Math.max(cur.until, until) : until,
    writesOnly: cur ? cur.writesOnly && writesOnly : writesOnly,
  };
  const st = pauseState(server);
  if (st.timer !== undefined) clearTimeout(st.timer);
  const wait = Math.max(0, server.pause.until - Date.now());
  st.timer = setTimeout(() => {
    st.timer = undefined;
    if (server.pause && Date.now() >= server.pause.until) unpauseClients(server);
    else if (server.pause) pauseClients(server, server.pause.until, server.pause.writesOnly);
  }, wait);
}

/** Ends the pause and resumes every held command in arrival order. */
export function unpauseClients(server: Server): void {
  server.pause = null;
  const st = pauseState(server);
  if (st.timer !== undefined) clearTimeout(st.timer);
  st.timer = undefined;
  const waiting = st.release;
  st.release = [];
  for (const r of waiting) r();
}

function mayReplicate(spec: CommandSpec | undefined): boolean {
  return spec !== undefined && (spec.flags.includes("write") || spec.flags.includes("may_replicate"));
}

/**
 * The dispatcher's CLIENT PAUSE check: null when `c` may run `spec` now, otherwise a
 * promise that settles when the pause ends (the dispatcher then dispatches the command
 * again). Replicas and replication links are never paused; in WRITE mode only commands
 * that may write (and EXEC of a transaction holding one) wait. `lookup` resolves the
 * queued commands of a transaction.
 */
export function pauseHold(
  c: Client,
  spec: CommandSpec,
  lookup: (args: string[]) => CommandSpec | undefined,
): Promise<void> | null {
  const p = c.server.pause;
  if (p === null || c.isReplica || c.isMasterLink || c.origin === "internal") return null;
  if (Date.now() >= p.until) {
    unpauseClients(c.server);
    return null;
  }
  if (p.writesOnly) {
    const writes = mayReplicate(spec) ||
      (spec.name === "exec" && c.multi !== null && c.multi.queue.some((q) => mayReplicate(lookup(q))));
    if (!writes) return null;
  }
  const st = pauseState(c.server);
  return new Promise<void>((resolve) => st.release.push(resolve));
}

// ---------------------------------------------------------------------------------------
// The table

const ADMIN = ["admin", "noscript", "loading", "stale"] as const;
const CONN = ["noscript", "loading", "stale"] as const;

function sub(
  name: string,
  arity: number,
  flags: CommandSpec["flags"],
  summary: string,
  since: string,
  handler: CommandSpec["handler"],
): CommandSpec {
  const group = name.startsWith("client|") ? "connection" : "server";
  return command(name, arity, flags, [0, 0, 0], group, summary, since, handler);
}

/** Commands of the server_admin family. */
export const serverCommands: CommandSpec[] = [
  command(
    "info",
    -1,
    ["loading", "stale"],
    [0, 0, 0],
    "server",
    "Returns information and statistics about the server.",
    "1.0.0",
    info,
    {
      categories: ["dangerous"],
    },
  ),
  command("time", 1, ["loading", "stale", "fast"], [0, 0, 0], "server", "Returns the server time.", "2.6.0", time),
  command(
    "lastsave",
    1,
    ["loading", "stale", "fast"],
    [0, 0, 0],
    "server",
    "Returns the Unix timestamp of the last successful save to disk.",
    "1.0.0",
    (c) => {
      c.w.int(c.server.lastSave);
    },
    { categories: ["admin", "dangerous"] },
  ),
  command(
    "shutdown",
    -1,
    [...ADMIN, "no_multi", "allow_busy"],
    [0, 0, 0],
    "server",
    "Synchronously saves the database(s) to disk and shuts down the Redis server.",
    "1.0.0",
    shutdown,
  ),
  command(
    "monitor",
    1,
    ADMIN,
    [0, 0, 0],
    "server",
    "Listens for all requests received by the server in real-time.",
    "1.0.0",
    monitor,
  ),
  command("debug", -2, ADMIN, [0, 0, 0], "server", "A container for debugging commands.", "1.0.0", debug),
  command("slowlog", -2, [], [0, 0, 0], "server", "A container for slow log commands.", "2.2.12", undefined, {
    subcommands: [
      sub(
        "slowlog|help",
        2,
        ["loading", "stale"],
        "Show helpful text about the different subcommands",
        "6.2.0",
        (c) => {
          replyHelp(c, "SLOWLOG", SLOWLOG_HELP);
        },
      ),
      sub("slowlog|get", -2, ["admin", "loading", "stale"], "Returns the slow log's entries.", "2.2.12", slowlogGet),
      sub("slowlog|reset", 2, ["admin", "loading", "stale"], "Clears all entries from the slow log.", "2.2.12", (c) => {
        c.server.stats.slowlog.length = 0;
        c.w.simple("OK");
      }),
      sub(
        "slowlog|len",
        2,
        ["admin", "loading", "stale"],
        "Returns the number of entries in the slow log.",
        "2.2.12",
        (c) => {
          c.w.int(c.server.stats.slowlog.length);
        },
      ),
    ],
  }),
  command(
    "client",
    -2,
    [],
    [0, 0, 0],
    "connection",
    "A container for client connection commands.",
    "2.4.0",
    undefined,
    {
      subcommands: [
        sub("client|id", 2, CONN, "Returns the unique client ID of the connection.", "5.0.0", (c) => c.w.int(c.id)),
        sub("client|setname", 3, CONN, "Sets the connection name.", "2.6.9", (c, args) => {
          if (!validClientName(args[2])) {
            return c.w.error("ERR Client names cannot contain spaces, newlines or special characters.");
          }
          c.name = args[2];
          c.w.simple("OK");
        }),
        sub(
          "client|getname",
          2,
          CONN,
          "Returns the name of the connection.",
          "2.6.9",
          (c) => c.w.bulk(c.name === "" ? null : c.name),
        ),
        sub(
          "client|setinfo",
          4,
          CONN,
          "Sets information specific to the client or connection.",
          "7.2.0",
          clientSetinfo,
        ),
        sub(
          "client|info",
          2,
          CONN,
          "Returns information about the connection.",
          "6.2.0",
          (c, args) => c.w.verbatim(clientInfoLine(c, Date.now(), args) + "\n"),
        ),
        sub("client|list", -2, ADMIN, "Lists open connections.", "2.4.0", clientList),
        sub("client|kill", -3, ADMIN, "Terminates open connections.", "2.4.0", clientKill),
        sub("client|pause", -3, ADMIN, "Suspends commands processing.", "3.0.0", clientPause),
        sub("client|unpause", 2, ADMIN, "Resumes processing commands from paused clients.", "6.2.0", (c) => {
          unpauseClients(c.server);
          c.w.simple("OK");
        }),
        sub("client|reply", 3, CONN, "Instructs the server whether to reply to commands.", "3.2.0", clientReply),
        sub(
          "client|no-evict",
          3,
          ADMIN,
          "Sets the client eviction mode of the connection.",
          "7.0.0",
          (c, args) => onOff(c, args[2], (on) => c.noEvict = on),
        ),
        sub(
          "client|no-touch",
          3,
          CONN,
          "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
          "7.2.0",
          (c, args) => onOff(c, args[2], (on) => c.noTouch = on),
        ),
        sub(
          "client|unblock",
          -3,
          ADMIN,
          "Unblocks a client blocked by a blocking command from a different connection.",
          "5.0.0",
          clientUnblock,
        ),
        sub(
          "client|help",
          2,
          ["loading", "stale"],
          "Show helpful text about the different subcommands.",
          "5.0.0",
          (c) => replyHelp(c, "CLIENT", CLIENT_HELP),
        ),
      ],
    },
  ),
];
