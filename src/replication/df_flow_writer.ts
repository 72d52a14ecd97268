/**
 * Primary-side writer of one Dragonfly replication flow: the bytes a Dragonfly 1.40 primary writes
 * on a flow connection (design/dragonfly-replication.md §3.3–§3.6, checked against fixtures/wire).
 *
 *   writeReply        `*2\r\n+FULL|+PARTIAL\r\n+<token>\r\n`
 *   beginRdb          `REDIS0009`, AUX redis-ver 6.2.11, df-ver, redis-bits, ctime, used-mem,
 *                     aof-preamble, [flow 0: lua × N, shard-count, table-mem], shard-id
 *   writeEntry        SELECTDB when the db changes, [EXPIRETIME_MS], [DF_MASK], type, key, value
 *   writeJournalBlob  JOURNAL_BLOB: len 1 + one serialized journal item (writes during the snapshot)
 *   writeFullSyncEnd  FULLSYNC_END + 8 zero bytes
 *   finishRdb         JOURNAL_OFFSET + u64 LE, EOF + 8 zero bytes, the 40-byte token
 *   writeItem / writeCommand / writePing   the raw journal stream, with an `LSN n` record after an
 *                     item when more than 3 s passed since the last one (so after the first item)
 *
 * Value encodings are Dragonfly's: Redis 7 type bytes under the version-9 header (strings 0, sets
 * plain 2, small hashes 16 / zsets 17 as listpacks else 4 / 5, lists 18, streams 21), no LZF, no
 * RESIZEDB, a zero checksum. Nothing is compressed (a Dragonfly replica accepts plain records).
 *
 * Invariants: calls must follow the grammar above (anything else throws); bytes reach the sink in
 * order, RDB bytes in chunks of about `chunkSize` plus whatever `flush` pushes; item bytes given
 * to writeItem are passed to the sink as they are (the sink must not modify any chunk).
 */
import { encodeCommandItem, encodeLsn, encodePing } from "../journal/journal_codec.ts";
import { latin1Bytes } from "../rdb/bytes.ts";
import { DfMaskFlag, DfOpcode, RdbType } from "../rdb/constants.ts";
import type { RdbValue } from "../rdb/records.ts";
import { type RdbWritableEntry, RdbWriter } from "../rdb/writer.ts";
import { VERSION } from "../version.ts";
import { type DfSyncMode, encodeFlowReply } from "./df_handshake.ts";

/** The header fields of one flow's RDB. */
export interface DfRdbHeader {
  /** This flow's shard index (AUX shard-id). */
  shardId: number;
  /** Flow 0 only: the dataset-wide fields (Dragonfly's "summary"). */
  summary?: {
    /** Number of shards = flows (AUX shard-count). */
    shardCount: number;
    /** Memory of the key tables in bytes (AUX table-mem). */
    tableMem: number;
    /** Bodies of the cached Lua scripts (one AUX lua each). */
    luaScripts?: readonly string[];
  };
  /** AUX df-ver (default "damselfly-<version>"; Dragonfly 1.40.1 dev builds write "df-dev"). */
  dfVer?: string;
  /** AUX ctime, unix seconds (default now). */
  ctimeSec?: number;
  /** AUX used-mem in bytes (default 0). */
  usedMem?: number;
}

/** Dragonfly's per-key flags (the DF_MASK opcode). */
export interface DfKeyFlags {
  /** The key is sticky (never evicted). */
  sticky?: boolean;
  /** Memcached flags of the key. */
  mcFlags?: number;
}

/** Options of a DfFlowWriter. */
export interface DfFlowWriterOptions {
  /** The flow's eof token: 40 lowercase hex chars. */
  token: string;
  /** Approximate size of the RDB chunks handed to the sink (default 64 KB). */
  chunkSize?: number;
  /** Clock in unix seconds, for the LSN record cadence (default Date.now). */
  nowSec?: () => number;
  /**
   * RDB chunks are views of the encoder's buffer, valid only until the sink returns (the sink
   * copies them); other chunks stay the sink's. Saves an allocation per chunk (RdbWriter's
   * `lendChunks`).
   */
  lendChunks?: boolean;
}

type Phase = "start" | "replied" | "rdb" | "stable" | "ended";

/** Seconds between two LSN records, as Dragonfly's journal streamer (`now - last > 3`). */
const LSN_RECORD_INTERVAL_SEC = 3;

/** Type bytes as Dragonfly writes them: plain sets; everything else as Redis 7.2 (version 11). */
function dragonflyType(value: RdbValue, chosen: number): number {
  return value.type === "set" ? RdbType.SET : chosen;
}

/** Writes one flow; see the file comment. */
export class DfFlowWriter {
  private readonly token: string;
  private readonly chunkSize: number;
  private readonly nowSec: () => number;
  private readonly lendChunks: boolean;
  private phase: Phase = "start";
  private mode: DfSyncMode | null = null;
  private rdb: RdbWriter | null = null;
  private lastDb = -1;
  private lastLsnTimeSec = 0;
  private fullSyncEnded = false;
  private bytes = 0;

  /** Creates a writer that hands its bytes to `sink` (ownership of each chunk passes to it). */
  constructor(private readonly sink: (chunk: Uint8Array) => void, opts: DfFlowWriterOptions) {
    if (!/^[0-9a-f]{40}$/.test(opts.token)) throw new RangeError("the eof token must be 40 lowercase hex chars");
    this.token = opts.token;
    this.chunkSize = opts.chunkSize ?? 64 * 1024;
    this.nowSec = opts.nowSec ?? (() => Math.floor(Date.now() / 1000));
    this.lendChunks = opts.lendChunks ?? false;
  }

  /** Bytes handed to the sink so far (RDB bytes still buffered are not counted until flushed). */
  get bytesWritten(): number {
    return this.bytes;
  }

  /** Writes the `DFLY FLOW` reply. FULL continues with beginRdb, PARTIAL with journal items. */
  writeReply(mode: DfSyncMode): void {
    this.expect("start", "writeReply");
    this.mode = mode;
    this.out(encodeFlowReply({ mode, token: this.token }));
    this.phase = mode === "FULL" ? "replied" : "stable";
  }

  /** Writes the RDB magic and AUX fields in Dragonfly's order. */
  beginRdb(h: DfRdbHeader): void {
    this.expect("replied", "beginRdb");
    const rdb = new RdbWriter((chunk) => this.out(chunk), {
      version: 9,
      encodingVersion: 11,
      compress: false,
      checksum: false,
      chooseType: dragonflyType,
      chunkSize: this.chunkSize,
      lendChunks: this.lendChunks,
    });
    this.rdb = rdb;
    rdb.writeMagic();
    rdb.writeAux("redis-ver", "6.2.11");
    rdb.writeAux("df-ver", h.dfVer ?? `damselfly-${VERSION}`);
    rdb.writeAux("redis-bits", "64");
    rdb.writeAux("ctime", String(h.ctimeSec ?? Math.floor(Date.now() / 1000)));
    rdb.writeAux("used-mem", String(h.usedMem ?? 0));
    rdb.writeAux("aof-preamble", "0");
    if (h.summary !== undefined) {
      for (const script of h.summary.luaScripts ?? []) rdb.writeAux("lua", script);
      rdb.writeAux("shard-count", String(h.summary.shardCount));
      rdb.writeAux("table-mem", String(h.summary.tableMem));
    }
    rdb.writeAux("shard-id", String(h.shardId));
    this.phase = "rdb";
  }

  /**
   * Writes a key of database `db` (SELECTDB first when the db changed). Empty collections are
   * skipped (returns false), as Dragonfly never holds them.
   */
  writeEntry(db: number, entry: RdbWritableEntry, flags?: DfKeyFlags): boolean {
    this.expect("rdb", "writeEntry");
    const rdb = this.rdb!;
    if (db !== this.lastDb) {
      rdb.selectDb(db);
      this.lastDb = db;
    }
    return rdb.writeEntry(entry, flags === undefined ? undefined : dfMask(flags));
  }

  /** Writes a journal item (SELECT + COMMAND bytes) made during the snapshot as a JOURNAL_BLOB. */
  writeJournalBlob(item: Uint8Array): void {
    this.expect("rdb", "writeJournalBlob");
    const rdb = this.rdb!;
    rdb.writeRaw(Uint8Array.of(DfOpcode.JOURNAL_BLOB));
    rdb.writeLen(1);
    rdb.writeBlob(item);
  }

  /** Writes FULLSYNC_END: the snapshot of this shard is complete. */
  writeFullSyncEnd(): void {
    this.expect("rdb", "writeFullSyncEnd");
    if (this.fullSyncEnded) throw new Error("FULLSYNC_END was already written");
    this.fullSyncEnded = true;
    const b = new Uint8Array(9);
    b[0] = DfOpcode.FULLSYNC_END;
    this.rdb!.writeRaw(b);
  }

  /**
   * Ends the RDB at the stable-sync cut-over: JOURNAL_OFFSET (the shard's next LSN), EOF with a
   * zero checksum, then the eof token. Journal items follow.
   */
  finishRdb(journalOffset: bigint | number): void {
    this.expect("rdb", "finishRdb");
    if (!this.fullSyncEnded) throw new Error("finishRdb before writeFullSyncEnd");
    const rdb = this.rdb!;
    const b = new Uint8Array(9);
    b[0] = DfOpcode.JOURNAL_OFFSET;
    new DataView(b.buffer).setBigUint64(1, BigInt(journalOffset), true);
    rdb.writeRaw(b);
    rdb.end();
    this.out(latin1Bytes(this.token));
    this.phase = "stable";
  }

  /** Hands buffered RDB bytes to the sink now. */
  flush(): void {
    if (this.phase === "rdb") this.rdb!.flush();
  }

  /**
   * Writes one stable-sync journal item (its serialized bytes, e.g. from encodeCommandItem) with
   * LSN `lsn`, followed by an `LSN lsn` record when more than 3 s passed since the last one.
   */
  writeItem(lsn: bigint | number, item: Uint8Array): void {
    this.expect("stable", "writeItem");
    this.out(item);
    const now = this.nowSec();
    if (now - this.lastLsnTimeSec > LSN_RECORD_INTERVAL_SEC) {
      this.lastLsnTimeSec = now;
      this.out(encodeLsn(lsn));
    }
  }

  /** Writes a stable-sync COMMAND item: `SELECT db`, `COMMAND txid 1 args`. */
  writeCommand(lsn: bigint | number, db: number, txid: bigint | number, args: readonly string[]): void {
    this.writeItem(lsn, encodeCommandItem(db, txid, 1, args));
  }

  /** Writes a stable-sync PING item (it takes LSN `lsn`). */
  writePing(lsn: bigint | number): void {
    this.writeItem(lsn, encodePing());
  }

  /** Counts and forwards bytes to the sink. */
  private out(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.sink(chunk);
  }

  /** Throws unless the writer is in `phase` (`call` names the method for the message). */
  private expect(phase: Phase, call: string): void {
    if (this.phase !== phase) {
      throw new Error(`DfFlowWriter.${call} is not valid now (${this.mode ?? "no"} sync, phase ${this.phase})`);
    }
  }
}

/** The DF_MASK record for `flags`, or undefined when there is nothing to mark. */
function dfMask(flags: DfKeyFlags): Uint8Array | undefined {
  let mask = 0;
  if (flags.sticky) mask |= DfMaskFlag.STICKY;
  if (flags.mcFlags !== undefined) mask |= DfMaskFlag.MC_FLAGS;
  if (mask === 0) return undefined;
  const b = new Uint8Array(flags.mcFlags !== undefined ? 9 : 5);
  const view = new DataView(b.buffer);
  b[0] = DfOpcode.DF_MASK;
  view.setUint32(1, mask, true);
  if (flags.mcFlags !== undefined) view.setUint32(5, flags.mcFlags >>> 0, true);
  return b;
}
