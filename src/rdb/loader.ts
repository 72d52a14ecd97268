/**
 * Loads an RDB into the keyspace: at startup (`--dir`/`--dbfilename`), for DEBUG RELOAD, and for
 * any other producer of RDB bytes (a replication full sync) through the push API of `RdbLoader`.
 *
 * Invariants:
 * - Streaming: input is fed in chunks to an RdbReader; memory is bounded by one chunk plus the key
 *   being built, whatever the file size.
 * - Every key goes through DbSlice.loadSet (DbSlice.set's effect, hooks and watchers included when
 *   any are registered, minus a TTL-map lookup for new keys), in the database the file names; a
 *   SELECTDB beyond the configured databases is an error, as is a key already present (unless duplicates are allowed,
 *   DEBUG RELOAD MERGE).
 * - A primary skips keys whose TTL already passed (Redis's rule); a replica keeps them.
 * - IDLE/FREQ opcodes set the loaded key's access stamp when the maxmemory policy uses that kind
 *   (Redis's objectSetLRUOrLFU); without them a key starts as new.
 * - Empty keys, function libraries and the `lua` AUX field are skipped with a log line (no
 *   scripting yet); module data is an error.
 * - Any problem is an RdbError naming the byte offset and, when there is one, the key. A failed
 *   load at startup stops the server before it listens; the file is only ever read.
 */
import type { Server } from "../server/server.ts";
import { log } from "../observability/log.ts";
import { RdbError } from "./errors.ts";
import { RdbReader } from "./reader.ts";
import type { RdbEntry, RdbRecord } from "./records.ts";
import { type EncodingLimits, encodingLimits, fromRdbValue } from "./store_bridge.ts";
import { persistenceOf } from "./snapshot.ts";

/** Options of a load. */
export interface LoadOptions {
  /** Replace keys that already exist instead of failing (DEBUG RELOAD MERGE). */
  allowDuplicates?: boolean;
  /** Size of the input when known (INFO loading progress). */
  totalBytes?: number;
  /** What is being loaded, for log lines (a path, "replication stream"). */
  source?: string;
}

/** What a load did. */
export interface LoadStats {
  /** RDB version of the input. */
  version: number;
  /** Bytes of the RDB consumed. */
  bytes: number;
  /** Keys stored. */
  keysLoaded: number;
  /** Keys skipped because their TTL had passed. */
  keysExpired: number;
  /** Empty collections skipped. */
  emptyKeysSkipped: number;
  /** Function libraries skipped (no scripting yet). */
  functionsSkipped: number;
}

/** Printable form of a key for log lines (binary keys JSON-quoted). */
function printable(key: string): string {
  return /^[\x21-\x7e]*$/.test(key) ? key : JSON.stringify(key);
}

/** Push loader: feed it RDB chunks, then call finish(). See the file comment. */
export class RdbLoader {
  private readonly reader: RdbReader;
  private readonly limits: EncodingLimits;
  private readonly stats: LoadStats = {
    version: 0,
    bytes: 0,
    keysLoaded: 0,
    keysExpired: 0,
    emptyKeysSkipped: 0,
    functionsSkipped: 0,
  };
  private readonly startedAt = performance.now();
  private readonly now = Date.now();
  private finished = false;
  /** The database the RDB selected last (RESIZEDB follows SELECTDB). */
  private currentDb = 0;

  /** Starts a load into `server`'s store (INFO shows `loading:1` until finish or abort). */
  constructor(private readonly server: Server, private readonly opts: LoadOptions = {}) {
    this.limits = encodingLimits(server.config);
    this.reader = new RdbReader((r) => this.onRecord(r));
    persistenceOf(server).loading = { startMs: Date.now(), totalBytes: opts.totalBytes ?? 0, loadedBytes: 0 };
  }

  /** True once the RDB's EOF was read. */
  get done(): boolean {
    return this.reader.done;
  }

  /**
   * Feeds the next chunk; returns how many of its bytes belonged to the RDB (fewer only in the
   * chunk where the RDB ends). Throws an RdbError on bad input (the loader is then dead).
   */
  feed(chunk: Uint8Array): number {
    try {
      const used = this.reader.feed(chunk);
      const loading = persistenceOf(this.server).loading;
      if (loading !== null) loading.loadedBytes = this.reader.offset;
      return used;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Declares the end of input; returns the statistics or throws an RdbError (truncated input). */
  finish(): LoadStats {
    try {
      this.reader.finish();
    } catch (e) {
      this.abort();
      throw e;
    }
    this.end();
    this.stats.bytes = this.reader.offset;
    const s = this.stats;
    const p = persistenceOf(this.server);
    p.lastLoadKeysLoaded = s.keysLoaded;
    p.lastLoadKeysExpired = s.keysExpired;
    log.info(
      `Done loading RDB${
        this.opts.source ? ` ${this.opts.source}` : ""
      }, keys loaded: ${s.keysLoaded}, keys expired: ${s.keysExpired}, empty keys skipped: ${s.emptyKeysSkipped}.`,
    );
    log.info(`DB loaded in ${((performance.now() - this.startedAt) / 1000).toFixed(3)} seconds`);
    return s;
  }

  /** Ends a failed load (the keys loaded so far stay; callers decide what to do with them). */
  abort(): void {
    this.end();
  }

  /** Marks the load finished (once) and clears the server's loading state. */
  private end(): void {
    if (this.finished) return;
    this.finished = true;
    persistenceOf(this.server).loading = null;
  }

  /** Handles one parsed record: notes the version, logs aux/functions, rejects module AUX and out-of-range dbs, stores entries. */
  private onRecord(r: RdbRecord): void {
    switch (r.kind) {
      case "header":
        this.stats.version = r.version;
        return;
      case "aux":
        if (r.key === "lua") log.warn("skipping a Lua script stored in the RDB (`lua` AUX field): no scripting yet");
        else if (r.key === "redis-ver") log.info(`Loading RDB produced by version ${r.value}`);
        return;
      case "function": {
        const name = /name=(\S+)/.exec(r.code.slice(0, r.code.indexOf("\n") >>> 0))?.[1] ?? "?";
        log.warn(`skipping function library ${printable(name)} stored in the RDB: no scripting yet`);
        this.stats.functionsSkipped++;
        return;
      }
      case "module_aux":
        throw new RdbError(
          `the RDB contains AUX data of module ${r.moduleName}, which is not loaded (damselfly has no modules)`,
          r.offset,
        );
      case "selectdb":
        this.currentDb = r.db;
        if (r.db >= this.server.store.dbCount) {
          throw new RdbError(
            `SELECTDB ${r.db} is out of range: this server has ${this.server.store.dbCount} databases (--dbnum)`,
            this.reader.offset,
          );
        }
        return;
      case "skipped":
        log.info(`skipping empty key: ${printable(r.key)} (${r.reason})`);
        this.stats.emptyKeysSkipped++;
        return;
      case "entry":
        this.store(r.entry);
        return;
      case "resizedb": {
        // Size the key tables once instead of growing them step by step.
        const shards = this.server.store.shards;
        if (this.currentDb < this.server.store.dbCount) {
          for (const shard of shards) {
            shard.dbs[this.currentDb].reserve(
              Math.ceil(r.dbSize / shards.length),
              Math.ceil(r.expiresSize / shards.length),
            );
          }
        }
        return;
      }
      case "slot_info":
      case "end":
        return;
    }
  }

  /** Stores a loaded key in its db (skipping keys already expired on a primary), checking the db index. */
  private store(e: RdbEntry): void {
    if (e.db >= this.server.store.dbCount) {
      throw new RdbError(
        `database ${e.db} is out of range: this server has ${this.server.store.dbCount} databases (--dbnum)`,
        this.reader.offset,
        e.key,
      );
    }
    if (e.expireAtMs !== undefined && e.expireAtMs < this.now && !this.server.isReplica) {
      this.stats.keysExpired++;
      return;
    }
    let value;
    try {
      value = fromRdbValue(e.value, this.limits, this.stats.version);
    } catch (err) {
      throw new RdbError((err as Error).message, this.reader.offset, e.key);
    }
    // A key that did not add an entry was there already (the load fails unless merging).
    const slice = this.server.store.slice(e.db, e.key);
    if (!slice.loadSet(e.key, value, e.expireAtMs) && !this.opts.allowDuplicates) {
      throw new RdbError(`duplicate key in database ${e.db}`, this.reader.offset, e.key);
    }
    if (e.lruIdleSec !== undefined || e.lfuFreq !== undefined) slice.restoreAccess(e.key, e.lruIdleSec, e.lfuFreq);
    this.stats.keysLoaded++;
  }
}

/** Loads the RDB file at `path` synchronously in 1 MB chunks. Throws an RdbError on bad input. */
export function loadRdbFileSync(server: Server, path: string, opts: LoadOptions = {}): LoadStats {
  const file = Deno.openSync(path, { read: true });
  try {
    const size = file.statSync().size;
    const loader = new RdbLoader(server, { source: path, totalBytes: size, ...opts });
    const buf = new Uint8Array(1024 * 1024);
    for (;;) {
      const n = file.readSync(buf);
      if (n === null) break;
      loader.feed(buf.subarray(0, n));
      if (loader.done) break;
    }
    return loader.finish();
  } finally {
    file.close();
  }
}

/** Loads RDB bytes held in memory (chunks in order), e.g. an in-memory DEBUG RELOAD. */
export function loadRdbChunks(server: Server, chunks: Iterable<Uint8Array>, opts: LoadOptions = {}): LoadStats {
  const loader = new RdbLoader(server, opts);
  for (const c of chunks) {
    loader.feed(c);
    if (loader.done) break;
  }
  return loader.finish();
}

/**
 * Startup load: when a dbfilename is configured and its file exists, loads it; returns null when
 * there is nothing to load. A bad file throws an Error whose message names the file, the offset
 * and the key; the caller stops the server.
 */
export function loadSnapshotAtStartup(server: Server): LoadStats | null {
  const path = persistenceOf(server).snapshotPath();
  if (path === null) return null;
  try {
    Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      log.info(`no snapshot file ${path} to load`);
      return null;
    }
    throw e;
  }
  log.info(`loading snapshot ${path}`);
  let stats: LoadStats;
  try {
    stats = loadRdbFileSync(server, path);
  } catch (e) {
    const msg = `failed loading snapshot ${path}: ${(e as Error).message}`;
    log.error(msg);
    log.error("Terminating server after rdb file reading failure.");
    throw new Error(msg);
  }
  server.dirtyAtLastSave = server.store.dirty;
  return stats;
}
