/**
 * Persistence family: SAVE, BGSAVE [SCHEDULE], DUMP, RESTORE, and DEBUG RELOAD (dispatched from
 * server_admin.ts's DEBUG). LASTSAVE and SHUTDOWN live in server_admin.ts and read the state kept
 * by src/rdb/snapshot.ts.
 *
 * Invariants: replies and error texts are Redis 7.0's; DUMP payloads are RDB 10 (what Redis 7.0
 * produces and accepts); RESTORE accepts payloads up to the newest version the reader knows and
 * propagates a relative TTL as an absolute one (… ABSTTL), an already expired restore that
 * replaced a key as DEL, as Redis does. IDLETIME and FREQ set the restored key's access stamp
 * when the maxmemory policy uses that kind (Redis's objectSetLRUOrLFU).
 */
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, lookupRead, parseI64 } from "./helpers.ts";
import { propagateAs } from "./dispatcher.ts";
import { log } from "../observability/log.ts";
import { latin1Of } from "../rdb/bytes.ts";
import { createDumpPayload, DUMP_BAD_DATA_FORMAT, DumpPayloadError, parseDumpPayload } from "../rdb/dump_payload.ts";
import { encodingLimits, fromRdbValue, toRdbValue } from "../rdb/store_bridge.ts";
import {
  BGSAVE_IN_PROGRESS,
  NO_SNAPSHOT_FILE,
  PersistenceError,
  persistenceOf,
  SAVE_FAILED,
  snapshotOptions,
  writeDatasetSync,
} from "../rdb/snapshot.ts";
import { loadRdbChunks, loadRdbFileSync } from "../rdb/loader.ts";
import type { Value } from "../store/values.ts";
import { REDIS_COMPAT_VERSION } from "./connection.ts";

// A closure: the binding is read at save time (this module sits in an import cycle).
snapshotOptions.redisVer = () => REDIS_COMPAT_VERSION;

/** RDB version of DUMP payloads (Redis 7.0 refuses newer ones). */
const DUMP_VERSION = 10;

function save(c: Client): void {
  try {
    persistenceOf(c.server).saveSync();
  } catch (e) {
    if (e instanceof PersistenceError) return c.w.error(e.message);
    throw e;
  }
  c.w.simple("OK");
}

function bgsave(c: Client, args: string[]): void {
  if (args.length > 1 && (args.length !== 2 || args[1].toLowerCase() !== "schedule")) {
    return c.w.error(ERR.syntax);
  }
  const p = persistenceOf(c.server);
  if (p.bgsave !== null) return c.w.error(BGSAVE_IN_PROGRESS);
  if (c.multi !== null) {
    // Inside EXEC: Redis defers the save until the transaction is over.
    if (p.snapshotPath() === null) return c.w.error(NO_SNAPSHOT_FILE);
    p.schedule();
    return c.w.simple("Background saving scheduled");
  }
  try {
    p.startBgsave();
  } catch (e) {
    if (e instanceof PersistenceError) return c.w.error(e.message);
    throw e;
  }
  c.w.simple("Background saving started");
}

function dump(c: Client, args: string[]): void {
  const v = lookupRead(c, args[1]);
  if (v === undefined) return c.w.nil();
  const payload = createDumpPayload(toRdbValue(v), DUMP_VERSION);
  c.w.bulk(latin1Of(payload, 0, payload.length));
}

function restore(c: Client, args: string[]): void {
  let replace = false;
  let absttl = false;
  let idle: number | undefined;
  let freq: number | undefined;
  for (let j = 4; j < args.length; j++) {
    const opt = args[j].toLowerCase();
    const additional = args.length - j - 1;
    if (opt === "replace") replace = true;
    else if (opt === "absttl") absttl = true;
    else if (opt === "idletime" && additional >= 1 && freq === undefined) {
      const n = parseI64(args[++j]);
      if (n === null) return c.w.error(ERR.notInteger);
      if (n < 0n) return c.w.error("ERR Invalid IDLETIME value, must be >= 0");
      idle = Number(n);
    } else if (opt === "freq" && additional >= 1 && idle === undefined) {
      const n = parseI64(args[++j]);
      if (n === null) return c.w.error(ERR.notInteger);
      if (n < 0n || n > 255n) return c.w.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = Number(n);
    } else return c.w.error(ERR.syntax);
  }
  const key = args[1];
  const slice = c.slice(key);
  if (!replace && slice.get(key) !== undefined) return c.w.error("BUSYKEY Target key name already exists.");
  const ttlArg = parseI64(args[2]);
  if (ttlArg === null) return c.w.error(ERR.notInteger);
  if (ttlArg < 0n) return c.w.error("ERR Invalid TTL value, must be >= 0");
  let value: Value;
  try {
    const { value: record, version } = parseDumpPayload(args[3]);
    value = fromRdbValue(record, encodingLimits(c.server.config), version);
  } catch (e) {
    if (e instanceof DumpPayloadError) return c.w.error(e.message);
    log.v(1, `RESTORE of ${JSON.stringify(key)} rejected: ${(e as Error).message}`);
    return c.w.error(DUMP_BAD_DATA_FORMAT);
  }
  const db = c.db;
  const deleted = replace && slice.delete(key);
  let ttl = Number(ttlArg);
  if (ttl !== 0 && !absttl) ttl += Date.now();
  if (ttl !== 0 && ttl <= Date.now() && !c.server.isReplica) {
    if (deleted) {
      propagateAs(["DEL", key]);
      c.server.notify("g", "del", key, db);
    } else propagateAs();
    return c.w.simple("OK");
  }
  slice.set(key, value, ttl !== 0 ? ttl : undefined);
  if (idle !== undefined || freq !== undefined) slice.restoreAccess(key, idle, freq);
  if (ttl !== 0 && !absttl) {
    const rewritten = args.slice();
    rewritten[2] = String(ttl);
    rewritten.push("ABSTTL");
    propagateAs(rewritten);
  }
  c.server.notify("g", "restore", key, db);
  if (typeof value !== "string") c.server.blocking.signal(db, key);
  c.w.simple("OK");
}

/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the dataset, flushes it and loads it back. With
 * no dbfilename configured the round trip goes through memory instead of a file.
 */
export function debugReload(c: Client, args: string[]): void {
  let flush = true;
  let doSave = true;
  let merge = false;
  for (let j = 2; j < args.length; j++) {
    const opt = args[j].toLowerCase();
    if (opt === "merge") merge = true;
    else if (opt === "noflush") flush = false;
    else if (opt === "nosave") doSave = false;
    else return c.w.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
  }
  const server = c.server;
  const p = persistenceOf(server);
  const path = p.snapshotPath();
  const store = server.store;
  try {
    if (path === null) {
      if (!doSave) {
        log.error("DEBUG RELOAD NOSAVE: no snapshot file configured (dbfilename is empty)");
        return c.w.error("ERR Error trying to load the RDB dump, check server logs.");
      }
      const changesBefore = store.dirty - server.dirtyAtLastSave;
      const chunks: Uint8Array[] = [];
      writeDatasetSync(server, (chunk) => chunks.push(chunk), snapshotOptions.rdbVersion);
      if (flush) store.flushAll();
      loadRdbChunks(server, chunks, { allowDuplicates: merge, source: "(in memory, DEBUG RELOAD)" });
      server.dirtyAtLastSave = store.dirty - changesBefore;
    } else {
      if (doSave) {
        try {
          p.saveSync();
        } catch (e) {
          if (e instanceof PersistenceError) {
            return c.w.error(e.message === BGSAVE_IN_PROGRESS ? SAVE_FAILED : e.message);
          }
          throw e;
        }
      }
      if (flush) store.flushAll();
      loadRdbFileSync(server, path, { allowDuplicates: merge });
      server.dirtyAtLastSave = store.dirty;
    }
  } catch (e) {
    log.error(`DEBUG RELOAD failed: ${(e as Error).message}`);
    return c.w.error("ERR Error trying to load the RDB dump, check server logs.");
  }
  log.warn("DB reloaded by DEBUG RELOAD");
  c.w.simple("OK");
}

const ADMIN_SAVE = ["admin", "noscript"] as const;

/** Commands of the persistence family. */
export const persistenceCommands: CommandSpec[] = [
  command(
    "save",
    1,
    [...ADMIN_SAVE, "no_multi"],
    [0, 0, 0],
    "server",
    "Synchronously saves the database(s) to disk.",
    "1.0.0",
    save,
  ),
  command(
    "bgsave",
    -1,
    ADMIN_SAVE,
    [0, 0, 0],
    "server",
    "Asynchronously saves the database(s) to disk.",
    "1.0.0",
    bgsave,
  ),
  command(
    "dump",
    2,
    ["readonly"],
    [1, 1, 1],
    "generic",
    "Returns a serialized representation of the value stored at a key.",
    "2.6.0",
    dump,
  ),
  command(
    "restore",
    -4,
    ["write", "denyoom"],
    [1, 1, 1],
    "generic",
    "Creates a key from the serialized representation of a value.",
    "2.6.0",
    restore,
    { categories: ["dangerous"] },
  ),
];
