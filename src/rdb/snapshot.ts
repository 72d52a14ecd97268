/**
 * Point-in-time snapshots without fork (ARCHITECTURE.md), and the RDB file writer built on them:
 * SAVE, BGSAVE, the save on SHUTDOWN and `--snapshot_cron`, plus the persistence state behind
 * INFO persistence and LASTSAVE.
 *
 * The walker (`ShardSnapshot`) is independent of files: it emits one record per key into a
 * `SnapshotSink` and waits while the sink applies back-pressure, so a replication full sync can
 * stream the same walk into a socket.
 *
 * Invariants of a walk:
 * - The cut is `start()`. Every key present in the shard at the cut is emitted exactly once, with
 *   its value and TTL at the cut; a key created after the cut is never emitted.
 * - How: a pre-write hook runs before any key changes. If the walk has not settled that key yet,
 *   the hook emits it (when it exists, it is a key of the cut with its cut value) and marks it
 *   settled; a key absent at hook time was created after the cut and is marked settled too. The
 *   walk goes over each DbSlice in Map order (which also visits keys added later) and emits only
 *   keys it has not settled, settling them.
 * - Bounded state: the keys of a slice are split into passes by a hash of the key (at most
 *   `passKeys`, 128 K, per pass), and the walk goes over the slice once per pass, emitting only
 *   that pass's keys. A key of an earlier pass is settled by definition, so the walk remembers
 *   only the keys it emitted in the current pass (in a table allocated once at the cut), plus the
 *   keys the hook settled (the writes since the cut). A finished slice's hook does nothing.
 * - The walk yields between slices: to the sink's back-pressure promise when it has one (a file
 *   sink returns its in-flight write, so the walk resumes on I/O completion), else to a timer.
 * - A walk that may emit a key twice (`forgetWalked`: a replication stream, whose receiver
 *   overwrites keys) does not even remember the current pass's keys; a key written after the walk
 *   emitted it in the current pass is emitted once more by the hook, with the same value
 *   (unchanged since the cut until that write).
 * - The walk never copies the dataset and runs in slices of about `sliceMs`, giving the event loop
 *   a macrotask between slices; a sink's back-pressure pauses it.
 * - A sink must encode an entry before `write` returns: records may share arrays with live values.
 * - Under an LRU or LFU maxmemory policy a record carries the key's idle seconds or LFU counter
 *   (RDB IDLE/FREQ), as Redis's rdbSaveKeyValuePair writes them.
 *
 * Invariants of a file save: the RDB goes to `<dir>/<dbfilename>.tmp-<pid>`, is fsynced, then
 * renamed over the target (and the directory fsynced), so a crash never damages the previous
 * snapshot; a failed or cancelled save removes its temp file.
 */
import type { Server } from "../server/server.ts";
import type { Shard } from "../store/shard.ts";
import type { DbSlice, PreWriteHook } from "../store/db_slice.ts";
import type { Value } from "../store/values.ts";
import { StringMap } from "../store/string_map.ts";
import { log } from "../observability/log.ts";
import type { RdbWriteVersion } from "./constants.ts";
import { type RdbWritableEntry, RdbWriter } from "./writer.ts";
import { toRdbValue } from "./store_bridge.ts";

// ---------------------------------------------------------------------------------------------
// Module options

/** Module-wide snapshot options. */
export const snapshotOptions: {
  /** RDB version written by SAVE/BGSAVE/DEBUG RELOAD: 10 loads in Redis 7.0+, 9 in 6.2+, 11 in 7.2+. */
  rdbVersion: RdbWriteVersion;
  /** Work per walk slice before yielding to the event loop (ms). */
  sliceMs: number;
  /** Keys per walk pass: the walk remembers at most about this many emitted keys at a time. */
  passKeys: number;
  /**
   * `redis-ver` AUX value of our files: the Redis version INFO reports. The persistence command
   * family installs it (rdb/ does not import commands/).
   */
  redisVer: () => string;
} = { rdbVersion: 10, sliceMs: 2, passKeys: 128 * 1024, redisVer: () => "" };

// ---------------------------------------------------------------------------------------------
// The walker

/** Receives the keys of a snapshot. */
export interface SnapshotSink {
  /** One key of database `db` as it was at the cut; must be consumed before returning. */
  write(db: number, entry: RdbWritableEntry): void;
  /** Asked between slices: a promise makes the walk wait for it (a rejection fails the walk). */
  backpressure(): Promise<void> | null | undefined;
}

/** The record of `key` as currently stored in `slice` (value `v`). */
export function entryOf(slice: DbSlice, key: string, v: Value): RdbWritableEntry {
  const at = slice.expires.size === 0 ? undefined : slice.expires.get(key);
  const e: RdbWritableEntry = { key, value: toRdbValue(v), expireAtMs: at };
  setAccessMeta(e, slice, key);
  return e;
}

/**
 * Sets the IDLE (seconds idle) or FREQ (LFU counter) metadata of `key`, which Redis writes when
 * the maxmemory policy is an LRU or LFU one (rdbSaveKeyValuePair); clears both otherwise.
 */
function setAccessMeta(e: RdbWritableEntry, slice: DbSlice, key: string): void {
  e.lruIdleSec = undefined;
  e.lfuFreq = undefined;
  const access = slice.access;
  if (!access.lru && !access.lfu) return;
  const stamp = slice.accessStamp(key);
  if (stamp < 0) return;
  if (access.lfu) e.lfuFreq = access.frequency(stamp);
  else e.lruIdleSec = Math.floor(access.idleMs(stamp) / 1000);
}

/** Resolves after a macrotask, so sockets and timers run (setTimeout(0) polls I/O; setImmediate does not). */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Most passes over one slice (bounds the extra iteration work on huge slices). */
const MAX_PASSES = 64;

/**
 * Pass of `key` among `passes`: a cheap hash of its length and last 8 chars. Only the balance of
 * the passes depends on its quality, never the correctness of the walk.
 */
function passOf(key: string, passes: number): number {
  if (passes === 1) return 0;
  let h = 0x811c9dc5 ^ key.length;
  for (let i = Math.max(0, key.length - 8); i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return ((h ^ (h >>> 15)) >>> 0) % passes;
}

/** 32-bit FNV-1a of a whole key. */
function keyHash(key: string): number {
  let h = 0x811c9dc5 | 0; // as an int32, so that the loop stays in integer arithmetic
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Slots per PassKeys segment: V8 allocates `new Array(n)` up to 100 000 elements as a fast array. */
const SEGMENT_SLOTS = 65536;

/** A fast array of SEGMENT_SLOTS empty slots, allocated once at its final size. */
function emptySegment(): (string | undefined)[] {
  const a = new Array<string | undefined>(SEGMENT_SLOTS);
  for (let i = 0; i < SEGMENT_SLOTS; i++) a[i] = undefined;
  return a;
}

/**
 * The keys one pass emitted: an open-addressing string set in preallocated fixed-size segments,
 * cleared between passes without reallocating, so walking a big slice leaves no garbage tables
 * behind (a JS Set regrown for every pass would, in V8's large-object space, until the next full
 * GC).
 */
class PassKeys {
  private segments: (string | undefined)[][] = [];
  private mask = 0;
  private size = 0;

  /** Makes room for about `keys` keys per pass (the table keeps a load factor of at most 1/2). */
  reserve(keys: number): void {
    let slots = SEGMENT_SLOTS;
    while (slots < 2 * keys) slots *= 2;
    if (slots - 1 > this.mask) this.resize(slots);
  }

  /** Whether `key` was added since the last clear. */
  has(key: string): boolean {
    if (this.size === 0) return false;
    const segs = this.segments;
    for (let i = keyHash(key) & this.mask;; i = (i + 1) & this.mask) {
      const k = segs[i >>> 16][i & 0xffff];
      if (k === undefined) return false;
      if (k === key) return true;
    }
  }

  /** Adds a key that is not in the set. */
  add(key: string): void {
    if (2 * (this.size + 1) > this.mask + 1) this.resize(Math.max(SEGMENT_SLOTS, 2 * (this.mask + 1)));
    const segs = this.segments;
    let i = keyHash(key) & this.mask;
    while (segs[i >>> 16][i & 0xffff] !== undefined) i = (i + 1) & this.mask;
    segs[i >>> 16][i & 0xffff] = key;
    this.size++;
  }

  /** Forgets every key, keeping the storage (a loop: Array#fill reallocates it in V8). */
  clear(): void {
    if (this.size === 0) return;
    for (const seg of this.segments) for (let i = 0; i < SEGMENT_SLOTS; i++) seg[i] = undefined;
    this.size = 0;
  }

  /** Grows to `slots` (a power of two, at least one segment), re-adding the keys it holds. */
  private resize(slots: number): void {
    const old = this.segments;
    const had = this.size;
    this.segments = [];
    for (let n = 0; n < slots; n += SEGMENT_SLOTS) this.segments.push(emptySegment());
    this.mask = slots - 1;
    this.size = 0;
    if (had === 0) return;
    for (const seg of old) for (const k of seg) if (k !== undefined) this.add(k);
  }
}

/** Per-slice walk state; `done` once every key of the cut was emitted. */
interface SliceWalk {
  /** Number of passes over the slice (from its size at the cut). */
  passes: number;
  /** The pass being walked (0 before the walk reaches the slice): earlier passes are settled. */
  pass: number;
  /** Keys of the current and later passes the hook settled (emitted, or created after the cut). */
  hooked: StringMap<true>;
  /** True once the slice is finished (its hook does nothing). */
  done: boolean;
}

/** Thrown out of a walk that was cancelled. */
export class SnapshotCancelled extends Error {
  /** Builds the error. */
  constructor() {
    super("snapshot cancelled");
    this.name = "SnapshotCancelled";
  }
}

/** A point-in-time walk of one shard; see the file comment. */
export class ShardSnapshot {
  /** Keys emitted so far. */
  entries = 0;
  /** True while the walk waits for the sink to drain. */
  waiting = false;
  /** Keys per database at the cut. */
  readonly keysAtCut: number[];
  /** Keys with a TTL per database at the cut. */
  readonly expiresAtCut: number[];
  private readonly walks: SliceWalk[];
  /** Keys the walk emitted in the current pass of the slice being walked (`walking`). */
  private readonly walked: PassKeys;
  /** Database whose slice is being walked, or -1. */
  private walking = -1;
  /** snapshotOptions.passKeys when the walk was created. */
  private readonly passKeys: number;
  /** The record handed to the sink, refilled for every key. */
  private readonly entry: RdbWritableEntry = { key: "", value: { type: "string", value: "" } };
  /** The value record of string keys, refilled for every string. */
  private readonly stringValue = { type: "string" as const, value: "" };
  private hook: PreWriteHook | null = null;
  private cancelled = false;

  /**
   * Prepares a walk of `shard` into `sink`; nothing happens before `start()`. With
   * `forgetWalked` the walk does not remember emitted keys (see the file comment).
   */
  constructor(
    readonly shard: Shard,
    private readonly sink: SnapshotSink,
    private readonly sliceMs = snapshotOptions.sliceMs,
    private readonly forgetWalked = false,
  ) {
    this.walks = shard.dbs.map(() => ({ passes: 1, pass: 0, hooked: new StringMap<true>(), done: false }));
    this.passKeys = snapshotOptions.passKeys;
    this.walked = new PassKeys();
    this.keysAtCut = shard.dbs.map(() => 0);
    this.expiresAtCut = shard.dbs.map(() => 0);
  }

  /** Takes the cut: from now on a write to a key the walk has not settled emits it first. */
  start(): void {
    if (this.hook !== null) throw new Error("snapshot already started");
    const dbs = this.shard.dbs;
    for (let i = 0; i < dbs.length; i++) {
      const size = dbs[i].data.size;
      this.keysAtCut[i] = size;
      this.expiresAtCut[i] = dbs[i].expires.size;
      const w = this.walks[i];
      w.passes = Math.min(MAX_PASSES, Math.max(1, Math.ceil(size / this.passKeys)));
      w.done = size === 0;
      if (size > 0 && !this.forgetWalked) this.walked.reserve(Math.ceil(size / w.passes));
    }
    this.hook = (slice, key) => {
      const w = this.walks[slice.dbIndex];
      if (w.done) return;
      const pass = passOf(key, w.passes);
      if (pass < w.pass || w.hooked.has(key)) return;
      if (pass === w.pass && slice.dbIndex === this.walking && this.walked.has(key)) return;
      w.hooked.set(key, true);
      const v = slice.data.get(key);
      if (v !== undefined) this.emit(slice, key, v);
    };
    this.shard.preWriteHooks.push(this.hook);
  }

  /**
   * Walks database `db` of the shard to its end, in slices, yielding between them and waiting on
   * the sink's back-pressure. Rejects with SnapshotCancelled after `cancel()`.
   */
  async walkDb(db: number): Promise<void> {
    if (this.hook === null) throw new Error("snapshot not started");
    const w = this.walks[db];
    if (w.done) return;
    const slice = this.shard.dbs[db];
    this.walked.clear();
    this.walking = db;
    let it = slice.data.keys();
    for (;;) {
      if (this.cancelled) throw new SnapshotCancelled();
      const deadline = performance.now() + this.sliceMs;
      for (let n = 1;; n++) {
        const key = it.nextKey();
        if (key === undefined) {
          // End of a pass: its keys are all settled; forget them and start the next pass.
          const finished = w.pass;
          this.walked.clear();
          for (const k of w.hooked.keys()) if (passOf(k, w.passes) === finished) w.hooked.delete(k);
          w.pass++;
          if (w.pass === w.passes) {
            w.done = true;
            w.hooked.clear();
            this.walking = -1;
            return;
          }
          it = slice.data.keys();
          break;
        }
        if (passOf(key, w.passes) !== w.pass || w.hooked.has(key)) continue;
        if (!this.forgetWalked) {
          // A key deleted and re-created after the walk emitted it comes round again in Map order.
          if (this.walked.has(key)) continue;
          this.walked.add(key);
        }
        this.emit(slice, key, slice.data.get(key)!);
        if ((n & 31) === 0 && performance.now() >= deadline) break;
      }
      const wait = this.sink.backpressure();
      if (wait) {
        this.waiting = true;
        try {
          await wait;
        } finally {
          this.waiting = false;
        }
      } else {
        await macrotask();
      }
    }
  }

  /** Walks every database in order, then closes the snapshot (also on failure). */
  async run(): Promise<void> {
    try {
      for (let db = 0; db < this.walks.length; db++) await this.walkDb(db);
    } finally {
      this.close();
    }
  }

  /** Stops the walk: a running `walkDb` rejects with SnapshotCancelled at its next slice. */
  cancel(): void {
    this.cancelled = true;
    this.close();
  }

  /** Removes the hook and drops all per-key state. */
  close(): void {
    if (this.hook !== null) {
      const hooks = this.shard.preWriteHooks;
      const i = hooks.indexOf(this.hook);
      if (i >= 0) hooks.splice(i, 1);
    }
    for (const w of this.walks) {
      w.done = true;
      w.hooked.clear();
    }
    this.walked.clear();
    this.walking = -1;
  }

  /**
   * Emits the record of `key`. The record objects are reused from key to key (the sink consumes
   * each before `write` returns), which keeps a walk of a million strings from allocating two
   * million short-lived objects.
   */
  private emit(slice: DbSlice, key: string, v: Value): void {
    const e = this.entry;
    e.key = key;
    e.expireAtMs = slice.expires.size === 0 ? undefined : slice.expires.get(key);
    setAccessMeta(e, slice, key);
    if (typeof v === "string") {
      this.stringValue.value = v;
      e.value = this.stringValue;
    } else {
      e.value = toRdbValue(v);
    }
    this.sink.write(slice.dbIndex, e);
    this.entries++;
  }
}

/** A running snapshot of one shard, as `startShardSnapshot` returns it. */
export interface RunningShardSnapshot {
  /** Settles when every key of the cut was emitted (rejects on failure or cancel). */
  readonly done: Promise<void>;
  /** Keys emitted so far. */
  readonly entries: number;
  /** True while the walk waits for the sink to drain. */
  readonly waiting: boolean;
  /** Stops the walk (done then rejects with SnapshotCancelled). */
  cancel(): void;
}

/**
 * Takes the cut of `shard` now and walks all its databases in the background: `emit` receives
 * every key of the cut (db, entry); `backpressure` is asked between slices and may return a
 * promise to wait for. The shape a replication full sync uses; `forgetWalked` as in ShardSnapshot.
 */
export function startShardSnapshot(
  shard: Shard,
  emit: (db: number, entry: RdbWritableEntry) => void,
  backpressure: () => Promise<void> | null | undefined,
  forgetWalked = false,
): RunningShardSnapshot {
  const snap = new ShardSnapshot(shard, { write: emit, backpressure }, snapshotOptions.sliceMs, forgetWalked);
  snap.start();
  const done = snap.run();
  return {
    done,
    get entries() {
      return snap.entries;
    },
    get waiting() {
      return snap.waiting;
    },
    cancel: () => snap.cancel(),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing files

/** The AUX header of our snapshots. */
function header(): { redisVer: string; ctimeSec: number; usedMem: number } {
  const m = Deno.memoryUsage();
  return {
    redisVer: snapshotOptions.redisVer(),
    ctimeSec: Math.floor(Date.now() / 1000),
    usedMem: m.heapUsed + m.external,
  };
}

function writeAllSync(file: Deno.FsFile, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += file.writeSync(chunk.subarray(off));
}

/** Fsyncs a directory so that a rename in it is durable (best effort: not every platform allows it). */
function fsyncDirSync(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // Directories cannot be opened or synced everywhere; the rename itself already happened.
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** Temp file of a save into `path`. */
function tempPathOf(path: string): string {
  return `${path}.tmp-${Deno.pid}`;
}

/**
 * Serializes the whole dataset synchronously into `sink` as one RDB (SAVE, DEBUG RELOAD, the save
 * on SHUTDOWN). Returns the number of keys written.
 */
export function writeDatasetSync(server: Server, sink: (chunk: Uint8Array) => void, version: RdbWriteVersion): number {
  const store = server.store;
  const writer = new RdbWriter(sink, { version });
  writer.writeHeader(header());
  let keys = 0;
  for (let db = 0; db < store.dbCount; db++) {
    let size = 0;
    let expires = 0;
    for (const shard of store.shards) {
      size += shard.dbs[db].data.size;
      expires += shard.dbs[db].expires.size;
    }
    if (size === 0) continue;
    writer.selectDb(db, size, expires);
    for (const shard of store.shards) {
      const slice = shard.dbs[db];
      for (const [key, v] of slice.data) if (writer.writeEntry(entryOf(slice, key, v))) keys++;
    }
  }
  writer.end();
  return keys;
}

/** Writes the dataset to `path` synchronously through a temp file (fsync + rename). */
export function saveFileSync(server: Server, path: string, version: RdbWriteVersion): number {
  const tmp = tempPathOf(path);
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  let ok = false;
  try {
    const keys = writeDatasetSync(server, (chunk) => writeAllSync(file, chunk), version);
    file.syncSync();
    file.close();
    Deno.renameSync(tmp, path);
    ok = true;
    fsyncDirSync(dirOf(path));
    return keys;
  } finally {
    if (!ok) {
      try {
        file.close();
      } catch {
        // already closed
      }
      try {
        Deno.removeSync(tmp);
      } catch {
        // nothing to remove
      }
    }
  }
}

/** Bytes queued for the file before the walk pauses, and the level at which it resumes. */
const QUEUE_HIGH = 4 * 1024 * 1024;
const QUEUE_LOW = 1024 * 1024;

/** Asynchronous, ordered file writer with back-pressure (the sink of a background save). */
class FileChunkQueue {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private pumping: Promise<void> | null = null;
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];

  constructor(private readonly file: Deno.FsFile) {}

  /** Bytes waiting to be written. */
  get pendingBytes(): number {
    return this.queued;
  }

  /** Queues a chunk (dropped once a write failed: the save is failing anyway). */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.pumping === null) this.pumping = this.pump();
  }

  /**
   * What the walk waits for between slices: a long queue drains to QUEUE_LOW first; writes in
   * flight are awaited (a yield through I/O completion, which lets sockets run without a timer's
   * delay); null when idle. Rejects once a write failed.
   */
  backpressure(): Promise<void> | null {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.queued >= QUEUE_HIGH) {
      return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.check());
    }
    return this.pumping === null ? null : this.pumping.then(() => this.check());
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for every queued chunk, fsyncs and closes the file. */
  async finish(): Promise<void> {
    while (this.pumping !== null) await this.pumping;
    if (this.failure !== null) throw this.failure;
    await this.file.sync();
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const chunk = this.queue.shift()!;
        let off = 0;
        while (off < chunk.length) off += await this.file.write(chunk.subarray(off));
        this.queued -= chunk.length;
        if (this.queued <= QUEUE_LOW) this.wake();
      }
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.queue.length = 0;
      this.queued = 0;
      this.wake();
    } finally {
      this.pumping = null;
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}

/** A background save in progress. */
export class BackgroundSave {
  /** Unix ms when it started (the cut). */
  readonly startedAt: number = Date.now();
  /** Keys in the dataset at the cut. */
  readonly keysTotal: number;
  /** `store.dirty` at the cut. */
  readonly dirtyAtCut: number;
  /** Settles with true on success, false on failure or cancel (never rejects). */
  readonly done: Promise<boolean>;
  private readonly snaps: ShardSnapshot[];
  private readonly queue: FileChunkQueue;
  private readonly writer: RdbWriter;

  /** Opens the temp file, writes the header and takes the cut of every shard at once. */
  constructor(private readonly server: Server, readonly path: string, version: RdbWriteVersion) {
    const store = server.store;
    const tmp = tempPathOf(path);
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    this.queue = new FileChunkQueue(file);
    this.writer = new RdbWriter((chunk) => this.queue.push(chunk), { version });
    this.writer.writeHeader(header());
    const keysPerDb = new Array<number>(store.dbCount).fill(0);
    const expiresPerDb = new Array<number>(store.dbCount).fill(0);
    const selected = new Array<boolean>(store.dbCount).fill(false);
    let currentDb = -1;
    const writer = this.writer;
    const sink: SnapshotSink = {
      write(db, entry) {
        if (db !== currentDb) {
          // RESIZEDB hints go with a database's first SELECTDB only.
          if (selected[db]) writer.selectDb(db);
          else writer.selectDb(db, keysPerDb[db], expiresPerDb[db]);
          selected[db] = true;
          currentDb = db;
        }
        writer.writeEntry(entry);
      },
      backpressure: () => this.queue.backpressure(),
    };
    this.snaps = store.shards.map((shard) => new ShardSnapshot(shard, sink));
    for (const s of this.snaps) s.start();
    this.dirtyAtCut = store.dirty;
    let total = 0;
    for (const s of this.snaps) {
      for (let db = 0; db < store.dbCount; db++) {
        keysPerDb[db] += s.keysAtCut[db];
        expiresPerDb[db] += s.expiresAtCut[db];
        total += s.keysAtCut[db];
      }
    }
    this.keysTotal = total;
    this.done = this.run(file, tmp);
  }

  /** Keys written so far. */
  get keysProcessed(): number {
    let n = 0;
    for (const s of this.snaps) n += s.entries;
    return n;
  }

  /** Stops the save; `done` then resolves false and the temp file is removed. */
  cancel(): void {
    for (const s of this.snaps) s.cancel();
  }

  /** Writes every db of every shard to the temp file, renames it over the target; false (temp file removed) on failure or cancel. */
  private async run(file: Deno.FsFile, tmp: string): Promise<boolean> {
    let ok = false;
    try {
      for (let db = 0; db < this.server.store.dbCount; db++) {
        for (const s of this.snaps) await s.walkDb(db);
      }
      for (const s of this.snaps) s.close();
      this.writer.end();
      await this.queue.finish();
      file.close();
      await Deno.rename(tmp, this.path);
      ok = true;
      fsyncDirSync(dirOf(this.path));
      return true;
    } catch (e) {
      if (e instanceof SnapshotCancelled) log.warn(`background saving cancelled`);
      else log.error(`background saving failed: ${(e as Error).message}`);
      return false;
    } finally {
      for (const s of this.snaps) s.close();
      if (!ok) {
        try {
          file.close();
        } catch {
          // already closed
        }
        await Deno.remove(tmp).catch(() => {});
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Persistence state of a server

/** Progress of an RDB load (INFO `loading_*` fields). */
export interface LoadProgress {
  /** Unix ms when loading started. */
  startMs: number;
  /** Size of the input when known, else 0. */
  totalBytes: number;
  /** Bytes consumed so far. */
  loadedBytes: number;
}

/** Errors of the persistence commands, with Redis's texts where Redis has one. */
export class PersistenceError extends Error {
  /** Builds the error; `message` is the full reply text (with its code). */
  constructor(message: string) {
    super(message);
    this.name = "PersistenceError";
  }
}

/** Reply when a background save is already running. */
export const BGSAVE_IN_PROGRESS = "ERR Background save already in progress";
/** Redis's bare `-ERR` reply of a failed SAVE (the leading `-` keeps the writer from adding text). */
export const SAVE_FAILED = "-ERR";
/** Reply when saving is asked for but no dbfilename is configured. */
export const NO_SNAPSHOT_FILE = "ERR no snapshot file configured: set dbfilename (--dbfilename or CONFIG SET)";

/** Persistence state of one server: saves, background saves, loads, the cron schedule. */
export class Persistence {
  /** The running background save, if any. */
  bgsave: BackgroundSave | null = null;
  /** Outcome of the last background save. */
  lastBgsaveOk = true;
  /** Duration of the last background save in seconds, -1 before the first. */
  lastBgsaveSeconds: number = -1;
  /** Saves started (SAVE, BGSAVE, the cron, SHUTDOWN), as Redis's `rdb_saves`. */
  saves = 0;
  /** A BGSAVE requested while it could not start (inside EXEC), run as soon as possible. */
  scheduled = false;
  /** The load in progress, if any. */
  loading: LoadProgress | null = null;
  /** Keys loaded by the last load. */
  lastLoadKeysLoaded = 0;
  /** Keys skipped as expired by the last load. */
  lastLoadKeysExpired = 0;
  private cronTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates the persistence state of `server`. */
  constructor(readonly server: Server) {}

  /** `<dir>/<dbfilename>`, or null when no dbfilename is configured (no load, no save). */
  snapshotPath(): string | null {
    const name = this.server.config.str("dbfilename");
    if (name === "") return null;
    if (name.startsWith("/")) return name;
    const dir = this.server.config.str("dir");
    return dir === "" ? name : `${dir.replace(/\/+$/, "")}/${name}`;
  }

  /** The path to save to, or a PersistenceError when saving is not configured. */
  private requirePath(): string {
    const path = this.snapshotPath();
    if (path === null) {
      throw new PersistenceError(NO_SNAPSHOT_FILE);
    }
    return path;
  }

  /** SAVE: writes the snapshot file synchronously; throws a PersistenceError on failure. */
  saveSync(): void {
    if (this.bgsave !== null) throw new PersistenceError(BGSAVE_IN_PROGRESS);
    const path = this.requirePath();
    this.saves++;
    const started = performance.now();
    const dirty = this.server.store.dirty;
    let keys: number;
    try {
      keys = saveFileSync(this.server, path, snapshotOptions.rdbVersion);
    } catch (e) {
      log.error(`failed saving the DB to ${path}: ${(e as Error).message}`);
      throw new PersistenceError(SAVE_FAILED);
    }
    this.server.dirtyAtLastSave = dirty;
    this.server.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveOk = true;
    log.info(`DB saved on disk: ${keys} keys in ${(performance.now() - started).toFixed(1)} ms (${path})`);
  }

  /**
   * BGSAVE: starts a background save. Throws a PersistenceError when one runs or no file is
   * configured. A save that fails at once (temp file not writable) returns null with the failure
   * recorded (log, `rdb_last_bgsave_status:err`), as Redis reports a failing child.
   */
  startBgsave(): BackgroundSave | null {
    if (this.bgsave !== null) throw new PersistenceError(BGSAVE_IN_PROGRESS);
    const path = this.requirePath();
    this.saves++;
    let job: BackgroundSave;
    try {
      job = new BackgroundSave(this.server, path, snapshotOptions.rdbVersion);
    } catch (e) {
      log.error(`background saving to ${path} failed: ${(e as Error).message}`);
      this.lastBgsaveOk = false;
      this.lastBgsaveSeconds = 0;
      return null;
    }
    this.bgsave = job;
    log.info(`background saving started (${job.keysTotal} keys, ${path})`);
    job.done.then((ok) => {
      this.bgsave = null;
      this.lastBgsaveOk = ok;
      this.lastBgsaveSeconds = Math.round((Date.now() - job.startedAt) / 1000);
      if (ok) {
        this.server.dirtyAtLastSave = job.dirtyAtCut;
        this.server.lastSave = Math.floor(Date.now() / 1000);
        log.info(`background saving terminated with success (${job.keysProcessed} keys)`);
      }
      if (this.scheduled) {
        this.scheduled = false;
        this.startScheduled();
      }
    });
    return job;
  }

  /** Runs a scheduled BGSAVE on the next macrotask (after the EXEC that asked for it). */
  schedule(): void {
    this.scheduled = true;
    setTimeout(() => {
      if (this.scheduled && this.bgsave === null) {
        this.scheduled = false;
        this.startScheduled();
      }
    }, 0);
  }

  /** Starts a scheduled background save, logging instead of throwing if it cannot start. */
  private startScheduled(): void {
    try {
      this.startBgsave();
    } catch (e) {
      log.warn(`scheduled background saving did not start: ${(e as Error).message}`);
    }
  }

  /** Cancels a running background save and waits until its temp file is gone. */
  async cancelBgsave(): Promise<void> {
    const job = this.bgsave;
    if (job === null) return;
    job.cancel();
    await job.done;
  }

  /**
   * The save of SHUTDOWN: `save` true forces one, false skips it, null saves when a dbfilename is
   * configured. A running background save is cancelled first. Returns false when a save failed.
   */
  async shutdownSave(save: boolean | null): Promise<boolean> {
    this.scheduled = false;
    await this.cancelBgsave();
    if (save === false || (save === null && this.snapshotPath() === null)) return true;
    try {
      this.saveSync();
      return true;
    } catch (e) {
      log.error(`error trying to save the DB before shutting down: ${(e as Error).message}`);
      return false;
    }
  }

  /** Starts the `--snapshot_cron` schedule (none when empty); throws on an invalid expression. */
  startCron(): void {
    this.stopCron();
    const text = this.server.config.str("snapshot_cron").trim();
    if (text === "") return;
    let cron: CronSchedule;
    try {
      cron = parseCron(text);
    } catch (e) {
      throw new CronError(`invalid snapshot_cron "${text}": ${(e as Error).message}`);
    }
    const arm = () => {
      const next = cron.next(new Date());
      // Timers cannot wait longer than 2^31-1 ms; re-arm until the real time comes.
      const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
      this.cronTimer = setTimeout(() => {
        if (Date.now() + 5 >= next.getTime()) this.cronFire();
        arm();
      }, Math.max(0, delay));
    };
    arm();
    log.info(`snapshot schedule: ${text}`);
  }

  /** Stops the cron schedule. */
  stopCron(): void {
    if (this.cronTimer !== undefined) clearTimeout(this.cronTimer);
    this.cronTimer = undefined;
  }

  /** Runs a cron-triggered background save unless one is already running. */
  private cronFire(): void {
    if (this.bgsave !== null) {
      log.warn("snapshot_cron: a background save is still running, skipping this one");
      return;
    }
    try {
      this.startBgsave();
    } catch (e) {
      log.error(`snapshot_cron: ${(e as Error).message}`);
    }
  }

  /** The `rdb_*`, `loading` and save-progress fields of INFO persistence, in Redis's order. */
  infoFields(): string[] {
    const now = Date.now();
    const job = this.bgsave;
    const out = [`loading:${this.loading === null ? 0 : 1}`, "async_loading:0"];
    if (this.loading !== null) {
      const l = this.loading;
      const elapsedSec = Math.max(0.001, (now - l.startMs) / 1000);
      const perc = l.totalBytes > 0 ? (l.loadedBytes / l.totalBytes) * 100 : 0;
      const eta = l.loadedBytes > 0 && l.totalBytes > 0
        ? Math.round(((l.totalBytes - l.loadedBytes) / l.loadedBytes) * elapsedSec)
        : 1;
      out.push(
        `loading_start_time:${Math.floor(l.startMs / 1000)}`,
        `loading_total_bytes:${l.totalBytes}`,
        "loading_rdb_used_mem:0",
        `loading_loaded_bytes:${l.loadedBytes}`,
        `loading_loaded_perc:${perc.toFixed(2)}`,
        `loading_eta_seconds:${eta}`,
      );
    }
    out.push(
      "current_cow_peak:0",
      "current_cow_size:0",
      "current_cow_size_age:0",
      "current_fork_perc:0.00",
      `current_save_keys_processed:${job === null ? 0 : job.keysProcessed}`,
      `current_save_keys_total:${job === null ? 0 : job.keysTotal}`,
      `rdb_changes_since_last_save:${this.server.store.dirty - this.server.dirtyAtLastSave}`,
      `rdb_bgsave_in_progress:${job === null ? 0 : 1}`,
      `rdb_last_save_time:${this.server.lastSave}`,
      `rdb_last_bgsave_status:${this.lastBgsaveOk ? "ok" : "err"}`,
      `rdb_last_bgsave_time_sec:${this.lastBgsaveSeconds}`,
      `rdb_current_bgsave_time_sec:${job === null ? -1 : Math.round((now - job.startedAt) / 1000)}`,
      `rdb_saves:${this.saves}`,
      "rdb_last_cow_size:0",
      `rdb_last_load_keys_expired:${this.lastLoadKeysExpired}`,
      `rdb_last_load_keys_loaded:${this.lastLoadKeysLoaded}`,
    );
    return out;
  }
}

const STATES = new WeakMap<Server, Persistence>();

/** The persistence state of `server` (created on first use). */
export function persistenceOf(server: Server): Persistence {
  let p = STATES.get(server);
  if (p === undefined) STATES.set(server, p = new Persistence(server));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Cron expressions

/** A parsed 5-field cron expression (minute hour day-of-month month day-of-week, local time). */
export interface CronSchedule {
  /** The first matching minute strictly after `after`. */
  next(after: Date): Date;
}

const CRON_FIELDS: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** Error for an invalid `--snapshot_cron` expression. */
export class CronError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "CronError";
  }
}

function cronValue(text: string, field: (typeof CRON_FIELDS)[number]): number {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) throw new CronError(`invalid ${field.name} value "${text}"`);
  const v = Number(text);
  if (v < field.min || v > field.max) {
    throw new CronError(`${field.name} value ${v} out of range ${field.min}-${field.max}`);
  }
  return v;
}

/** Parses one field into the set of allowed values; `star` reports a bare `*` (or `*\/n`). */
function parseCronField(text: string, field: (typeof CRON_FIELDS)[number]): { values: boolean[]; star: boolean } {
  const values = new Array<boolean>(field.max + 1).fill(false);
  let star = false;
  for (const part of text.split(",")) {
    if (part === "") throw new CronError(`empty list item in ${field.name} field "${text}"`);
    const [range, stepText, extra] = part.split("/");
    if (extra !== undefined) throw new CronError(`invalid step in ${field.name} field "${part}"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronError(`invalid step "${stepText}"`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = field.min;
      hi = field.name === "day of week" ? 6 : field.max;
      star = true;
    } else if (range.includes("-")) {
      const [a, b, more] = range.split("-");
      if (more !== undefined) throw new CronError(`invalid range "${range}"`);
      lo = cronValue(a, field);
      hi = cronValue(b, field);
      if (lo > hi) throw new CronError(`invalid range "${range}" in ${field.name} field`);
    } else {
      lo = cronValue(range, field);
      hi = stepText !== undefined ? (field.name === "day of week" ? 6 : field.max) : lo;
    }
    for (let v = lo; v <= hi; v += step) values[v] = true;
  }
  if (field.name === "day of week" && values[7]) values[0] = true;
  return { values, star };
}

/** Parses a 5-field cron expression; throws a CronError naming the problem. */
export function parseCron(text: string): CronSchedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronError(`snapshot_cron needs 5 fields (minute hour day-of-month month day-of-week), got "${text}"`);
  }
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseCronField(p, CRON_FIELDS[i]));
  if (!month.values.some((v, m) => v && m >= 1)) throw new CronError(`no month matches "${text}"`);
  const dayMatches = (d: Date) => {
    const domOk = dom.values[d.getDate()];
    const dowOk = dow.values[d.getDay()];
    // Classic cron: when both day fields are restricted, either may match.
    if (!dom.star && !dow.star) return domOk || dowOk;
    return domOk && dowOk;
  };
  return {
    next(after: Date): Date {
      const d = new Date(after.getTime());
      d.setSeconds(0, 0);
      d.setMinutes(d.getMinutes() + 1);
      // Bounded search: any satisfiable expression matches within 8 years (Feb 29 on a Monday...).
      const limit = after.getTime() + 8 * 366 * 24 * 3600 * 1000;
      while (d.getTime() <= limit) {
        if (!month.values[d.getMonth() + 1]) {
          d.setMonth(d.getMonth() + 1, 1);
          d.setHours(0, 0);
          continue;
        }
        if (!dayMatches(d)) {
          d.setDate(d.getDate() + 1);
          d.setHours(0, 0);
          continue;
        }
        if (!hour.values[d.getHours()]) {
          d.setHours(d.getHours() + 1, 0);
          continue;
        }
        if (!minute.values[d.getMinutes()]) {
          d.setMinutes(d.getMinutes() + 1);
          continue;
        }
        return d;
      }
      throw new CronError(`cron expression "${text}" never matches`);
    },
  };
}
