/**
 * Replica-side parser of one Dragonfly replication flow (design/dragonfly-replication.md §3.3–§3.7):
 * the byte stream a primary writes on a flow connection after `DFLY FLOW`.
 *
 *   `*2 +FULL|+PARTIAL +<token>` reply
 *   FULL:  RDB (`REDIS0009`, AUX, SELECTDB, keys with Redis 7 type bytes, Dragonfly opcodes:
 *          JOURNAL_BLOB 210, FULLSYNC_END 200, JOURNAL_OFFSET 211, DF_MASK 220, LZ4 202 / ZSTD 201
 *          blobs of complete records, TAGGED_CHUNK 224 pieces of split keys), EOF + 8-byte checksum
 *          (zero, not verified), the 40-byte eof token (must equal the reply's token)
 *   then:  the raw journal stream (SELECT / COMMAND / PING / LSN records), forever.
 *
 * It is a push parser: `feed(chunk)` takes socket chunks of any size and calls `onEvent` for each
 * event in stream order. Invariants: events are identical however the input is split (down to one
 * byte per feed); chunks are never retained; memory is bounded by one parse unit (an RDB unit, a
 * compressed blob, a tagged chunk, a journal record) plus one chunk; any malformed input raises a
 * DfFlowError naming the absolute offset in the flow stream, after which the reader is dead (every
 * later call rethrows it). An exception thrown by `onEvent` passes through unchanged (and also
 * kills the reader).
 *
 * LSN counting (§3.7): `nextLsn` is JOURNAL_OFFSET after a full sync (or the requested LSN for a
 * partial one); every stable-sync COMMAND or PING item takes the next LSN; an `LSN n` record is
 * verified against the last item (n = nextLsn - 1) and not counted. JOURNAL_BLOB items of the full
 * sync carry no LSN (they precede the JOURNAL_OFFSET cut).
 */
import { DfMaskFlag, DfOpcode, dfTypeName } from "../rdb/constants.ts";
import { RdbError } from "../rdb/errors.ts";
import { type RdbExtension, RdbReader, type RdbUnitInput } from "../rdb/reader.ts";
import type { RdbEntry, RdbRecord } from "../rdb/records.ts";
import { decodeRecord, JournalFormatError, type JournalRecord } from "../journal/journal_codec.ts";
import { CompressionError, lz4FrameDecompress, MAX_BLOB_CONTENT, zstdDecompress } from "./compression.ts";
import { DfHandshakeError, type DfSyncMode, parseFlowReply } from "./df_handshake.ts";
import { latin1Of } from "../rdb/bytes.ts";

/** Malformed or unexpected bytes in a flow stream. */
export class DfFlowError extends Error {
  /** Absolute byte offset in the flow stream (0 = the first byte of the `DFLY FLOW` reply). */
  readonly offset: number;
  /** The problem without the offset. */
  readonly reason: string;
  /** Key being read, when the problem is inside a key of the RDB. */
  readonly key: string | undefined;

  /** Builds the error; the message reads `Dragonfly flow error at offset N (key "k"): reason`. */
  constructor(reason: string, offset: number, key?: string) {
    const where = key === undefined ? "" : ` (key ${JSON.stringify(key)})`;
    super(`Dragonfly flow error at offset ${offset}${where}: ${reason}`);
    this.name = "DfFlowError";
    this.offset = offset;
    this.reason = reason;
    this.key = key;
  }
}

/** One command of the journal. */
export interface DfJournalCommand {
  /** Database the command runs in. */
  db: number;
  /** Primary transaction id (0 for most single-key writes; shared by the parts of one transaction). */
  txid: bigint;
  /** Deprecated shard count field (always 1 from Dragonfly 1.40 on). */
  shardCount: number;
  /** Command name and arguments (latin1). */
  args: string[];
  /** The item's LSN in stable sync; null for JOURNAL_BLOB items of the full sync, or while unknown. */
  lsn: bigint | null;
  /** True when the item came in a JOURNAL_BLOB of the full-sync RDB (written during the snapshot). */
  fullSync: boolean;
}

/** What a flow carries, in stream order. */
export type DfFlowEvent =
  /** The `DFLY FLOW` reply. */
  | { kind: "reply"; mode: DfSyncMode; token: string }
  /** The RDB magic was read (FULL only). */
  | { kind: "rdbHeader"; version: number }
  /** An AUX field (redis-ver, df-ver, ctime, shard-count, table-mem, shard-id, lua, search-*...). */
  | { kind: "aux"; key: string; value: string }
  /** A key of the snapshot, with its DF_MASK flags (sticky, memcached flags) when present. */
  | { kind: "entry"; entry: RdbEntry; sticky: boolean; mcFlags?: number }
  /** A key the snapshot held but that cannot be loaded (an empty collection). */
  | { kind: "skipped"; db: number; key: string; reason: string }
  /** A journal command, from a JOURNAL_BLOB (fullSync) or the stable-sync stream. */
  | ({ kind: "journalItem" } & DfJournalCommand)
  /** A journal PING item (takes an LSN in stable sync; the replica should ACK soon after it). */
  | { kind: "ping"; lsn: bigint | null; fullSync: boolean }
  /** FULLSYNC_END: the snapshot traversal of this shard finished. */
  | { kind: "fullSyncEnd" }
  /** JOURNAL_OFFSET: the shard's next LSN at the full-sync cut-over. */
  | { kind: "journalOffset"; lsn: bigint }
  /** The RDB ended (EOF, checksum and a verified eof token); the journal stream follows. */
  | { kind: "eof"; journalOffset: bigint }
  /** An informational `LSN n` record (verified against the items received). */
  | { kind: "lsnRecord"; lsn: bigint };

/** Where the reader is in the flow stream. */
export type DfFlowPhase = "reply" | "rdb" | "token" | "journal";

/** Options of a DfFlowReader. */
export interface DfFlowReaderOptions {
  /** The LSN this replica asked for in `DFLY FLOW` (the first LSN of a PARTIAL stream). */
  requestedLsn?: bigint;
  /** Reject duplicate members/fields inside a value (default true). */
  checkDuplicates?: boolean;
  /** Largest decompressed blob accepted (default 64 MiB). */
  maxBlobBytes?: number;
  /** Most split keys (tagged streams) open at once (default 1024). */
  maxOpenStreams?: number;
}

const TOKEN_LENGTH = 40;
/** A reply longer than this is not a `DFLY FLOW` reply. */
const MAX_REPLY_BYTES = 4096;
const EMPTY = new Uint8Array(0);

/** The records of a split key being reassembled from TAGGED_CHUNK pieces. */
interface TaggedStream {
  reader: RdbReader;
  parser: DfRecordParser;
  /** Keys completed by this stream so far. */
  entries: number;
  /** The last SELECTDB inside the stream's payload (it switches the db of the whole RDB), or -1. */
  selected: number;
}

/**
 * Dragonfly's opcodes and types, as an RdbReader extension. One instance per RdbReader: it holds
 * the DF_MASK of that reader's next key.
 */
class DfRecordParser implements RdbExtension {
  /** DF_MASK read for the next key, if any. */
  mask: { sticky: boolean; mcFlags?: number } | null = null;
  /** Lengths of the compressed-blob contents being parsed in place (innermost last). */
  private readonly blobLengths: number[] = [];

  constructor(private readonly flow: DfFlowReader) {}

  record(op: number, input: RdbUnitInput): boolean {
    switch (op) {
      case DfOpcode.FULLSYNC_END:
        input.bytes(8);
        this.flow.onFullSyncEnd(input);
        return true;
      case DfOpcode.JOURNAL_OFFSET:
        this.flow.onJournalOffset(input.u64le(), input);
        return true;
      case DfOpcode.JOURNAL_BLOB: {
        const count = input.length();
        const blob = input.stringBytes();
        this.flow.onJournalBlob(count, blob, input);
        return true;
      }
      case DfOpcode.COMPRESSED_LZ4_BLOB_START:
      case DfOpcode.COMPRESSED_ZSTD_BLOB_START:
        return this.compressedBlob(op, input);
      case DfOpcode.COMPRESSED_BLOB_END: {
        const inner = this.blobLengths.length === 0 ? -1 : this.blobLengths[this.blobLengths.length - 1];
        if (inner < 0) throw input.error("COMPRESSED_BLOB_END outside a compressed blob");
        if (input.offset !== inner) throw input.error("COMPRESSED_BLOB_END before the end of its blob");
        return true;
      }
      case DfOpcode.DF_MASK: {
        const flags = input.u32le();
        if ((flags & ~(DfMaskFlag.STICKY | DfMaskFlag.MC_FLAGS)) !== 0) {
          throw input.error(`unknown DF_MASK flags 0x${flags.toString(16)}`);
        }
        const mcFlags = flags & DfMaskFlag.MC_FLAGS ? input.u32le() : undefined;
        this.mask = { sticky: (flags & DfMaskFlag.STICKY) !== 0 };
        if (mcFlags !== undefined) this.mask.mcFlags = mcFlags;
        return true;
      }
      case DfOpcode.TAGGED_CHUNK: {
        const id = input.u32le();
        const len = input.u32le();
        const payload = input.bytes(len);
        if (id === 0) throw input.error("TAGGED_CHUNK with the reserved stream id 0");
        this.flow.onTaggedChunk(id, payload, input);
        return true;
      }
      case DfOpcode.VECTOR_INDEX:
      case DfOpcode.SHARD_DOC_INDEX:
        throw input.error(`unsupported Dragonfly search-index opcode ${op}`);
      default:
        if (op >= 30 && op <= 39) {
          const key = input.string();
          throw input.error(`unsupported Dragonfly type ${op} (${dfTypeName(op)})`, input.recordOffset, key);
        }
        if (op > 25) throw input.error(`unknown opcode ${op}`);
        return false;
    }
  }

  private compressedBlob(op: number, input: RdbUnitInput): boolean {
    const lz4 = op === DfOpcode.COMPRESSED_LZ4_BLOB_START;
    const what = lz4 ? "LZ4 blob" : "ZSTD blob";
    const size = input.length();
    const frame = input.bytes(size);
    let content: Uint8Array;
    try {
      content = lz4 ? lz4FrameDecompress(frame, this.flow.maxBlobBytes) : zstdDecompress(frame, this.flow.maxBlobBytes);
    } catch (e) {
      if (e instanceof CompressionError) throw input.error(`bad ${what}: ${e.message}`);
      throw e;
    }
    this.blobLengths.push(content.length);
    try {
      input.parseRecords(content, `the ${what}`);
    } finally {
      this.blobLengths.pop();
    }
    return true;
  }
}

/** Incremental parser of one flow; see the file comment. */
export class DfFlowReader {
  /** Largest decompressed blob accepted. */
  readonly maxBlobBytes: number;
  private readonly onEvent: (e: DfFlowEvent) => void;
  private readonly checkDuplicates: boolean;
  private readonly maxOpenStreams: number;
  private readonly requestedLsn: bigint | undefined;

  private phaseNow: DfFlowPhase = "reply";
  private failure: unknown = null;
  /** An exception thrown by onEvent (passed through unchanged). */
  private callbackError: unknown = null;

  /** Unconsumed bytes of the reply, token or a journal record: pend[0, pendLen). */
  private pend: Uint8Array = EMPTY;
  private pendLen = 0;

  private modeNow: DfSyncMode | null = null;
  private tokenNow: string | null = null;
  private replyBytes = 0;
  private rdb: RdbReader | null = null;
  private readonly mainParser = new DfRecordParser(this);
  private readonly streams = new Map<number, TaggedStream>();
  private tokenStart = 0;
  private journalStart = 0;
  private journalConsumed = 0;
  /** Database of COMMAND items without their own SELECT, in JOURNAL_BLOBs and in the stream. */
  private blobJournalDb = 0;
  private streamJournalDb = 0;

  private fullSyncEndSeen = false;
  private journalOffsetNow: bigint | null = null;
  private nextLsnNow: bigint | null = null;
  private itemCount = 0;
  private blobItemCount = 0;
  private shardIdNow: number | null = null;
  private shardCountNow: number | null = null;

  /** Creates a reader that reports the flow's events to `onEvent` in stream order. */
  constructor(onEvent: (e: DfFlowEvent) => void, opts: DfFlowReaderOptions = {}) {
    this.onEvent = onEvent;
    this.checkDuplicates = opts.checkDuplicates ?? true;
    this.maxBlobBytes = opts.maxBlobBytes ?? MAX_BLOB_CONTENT;
    this.maxOpenStreams = opts.maxOpenStreams ?? 1024;
    this.requestedLsn = opts.requestedLsn;
  }

  /** The part of the stream being read. */
  get phase(): DfFlowPhase {
    return this.phaseNow;
  }

  /** FULL or PARTIAL once the reply was read. */
  get mode(): DfSyncMode | null {
    return this.modeNow;
  }

  /** The eof token of the reply. */
  get token(): string | null {
    return this.tokenNow;
  }

  /** Bytes of the flow stream consumed by complete units. */
  get offset(): number {
    if (this.phaseNow === "reply") return 0;
    if (this.phaseNow === "rdb") return this.replyBytes + this.rdb!.offset;
    if (this.phaseNow === "token") return this.tokenStart;
    return this.journalStart + this.journalConsumed;
  }

  /** The LSN the next stable-sync item will carry (null until known). */
  get nextLsn(): bigint | null {
    return this.nextLsnNow;
  }

  /** JOURNAL_OFFSET of the full sync (null before it, and for a partial sync). */
  get journalOffset(): bigint | null {
    return this.journalOffsetNow;
  }

  /** True once FULLSYNC_END was read. */
  get fullSyncEnded(): boolean {
    return this.fullSyncEndSeen;
  }

  /** Stable-sync items (COMMAND and PING) received. */
  get itemsReceived(): number {
    return this.itemCount;
  }

  /** Journal items received in JOURNAL_BLOBs during the full sync. */
  get fullSyncItemsReceived(): number {
    return this.blobItemCount;
  }

  /** The `shard-id` AUX field (the primary's shard of this flow), once read. */
  get shardId(): number | null {
    return this.shardIdNow;
  }

  /** The `shard-count` AUX field (flow 0 only), once read. */
  get shardCount(): number | null {
    return this.shardCountNow;
  }

  /** Feeds the next chunk of the flow stream. The chunk is not retained. */
  feed(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.consume(chunk);
    } catch (e) {
      this.failure = this.normalize(e);
      throw this.failure;
    }
  }

  /**
   * Declares the end of the input (the connection closed). Throws a DfFlowError when it ended
   * inside something: the reply, the RDB, the token or a journal record.
   */
  finish(): void {
    if (this.failure !== null) throw this.failure;
    let what = "";
    if (this.phaseNow === "reply") what = "the DFLY FLOW reply";
    else if (this.phaseNow === "rdb") what = "the full-sync RDB";
    else if (this.phaseNow === "token") what = "the eof token";
    else if (this.pendLen > 0) what = "a journal record";
    if (what === "") return;
    this.failure = new DfFlowError(`the stream ended inside ${what} (truncated)`, this.offset);
    throw this.failure;
  }

  // ---------------------------------------------------------------- phases

  /** Feeds a chunk to the current phase, moving through phases as each completes. */
  private consume(chunk: Uint8Array): void {
    let data = chunk;
    while (data.length > 0) {
      switch (this.phaseNow) {
        case "reply":
          data = this.reply(data);
          break;
        case "rdb": {
          const rdb = this.rdb!;
          const used = rdb.feed(data);
          if (!rdb.done) return;
          data = data.subarray(used);
          this.endOfRdb();
          break;
        }
        case "token":
          data = this.eofToken(data);
          break;
        case "journal":
          this.journal(data);
          return;
      }
    }
  }

  /** Reply phase: parses the `DFLY FLOW` reply and picks the RDB or journal phase; returns the bytes after it. */
  private reply(data: Uint8Array): Uint8Array {
    const have = this.pendLen;
    this.append(data);
    const parsed = parseFlowReply(this.pend, 0, this.pendLen);
    if (parsed === null) {
      if (this.pendLen > MAX_REPLY_BYTES) throw new DfFlowError("no DFLY FLOW reply in the first bytes", 0);
      return EMPTY;
    }
    const [reply, next] = parsed;
    this.replyBytes = next;
    this.pendLen = 0;
    this.modeNow = reply.mode;
    this.tokenNow = reply.token;
    if (reply.mode === "FULL") {
      this.phaseNow = "rdb";
      this.rdb = this.newRdbReader(this.mainParser);
    } else {
      this.phaseNow = "journal";
      this.journalStart = next;
      if (this.requestedLsn !== undefined) this.nextLsnNow = this.requestedLsn;
    }
    this.emit({ kind: "reply", mode: reply.mode, token: reply.token });
    return data.subarray(next - have);
  }

  /** An RdbReader whose records go to onRdbRecord, with `parser` handling Dragonfly's opcodes. */
  private newRdbReader(parser: DfRecordParser, recordsOnly?: { version: number; db: number }): RdbReader {
    const handle = (r: RdbRecord) => this.onRdbRecord(r, parser);
    return new RdbReader(handle, {
      verifyChecksum: false,
      checkDuplicates: this.checkDuplicates,
      extension: parser,
      recordsOnly,
    });
  }

  /** Checks the finished RDB (no open split stream, FULLSYNC_END and JOURNAL_OFFSET seen) and awaits the eof token. */
  private endOfRdb(): void {
    this.tokenStart = this.replyBytes + this.rdb!.offset;
    const at = this.tokenStart;
    if (this.streams.size > 0) {
      const [id] = this.streams.keys();
      throw new DfFlowError(`the RDB ended while tagged stream ${id} (a split key) was incomplete`, at);
    }
    if (!this.fullSyncEndSeen) throw new DfFlowError("the RDB ended without FULLSYNC_END", at);
    if (this.journalOffsetNow === null) throw new DfFlowError("the RDB ended without JOURNAL_OFFSET", at);
    this.phaseNow = "token";
  }

  /** Token phase: reads and verifies the eof token, then enters the journal phase; returns the bytes after it. */
  private eofToken(data: Uint8Array): Uint8Array {
    const take = Math.min(TOKEN_LENGTH - this.pendLen, data.length);
    this.append(data.subarray(0, take));
    if (this.pendLen < TOKEN_LENGTH) return EMPTY;
    const got = latin1Of(this.pend, 0, TOKEN_LENGTH);
    this.pendLen = 0;
    if (got !== this.tokenNow) {
      throw new DfFlowError(
        `eof token ${JSON.stringify(got)} does not match the DFLY FLOW token ${JSON.stringify(this.tokenNow)}`,
        this.tokenStart,
      );
    }
    this.phaseNow = "journal";
    this.journalStart = this.tokenStart + TOKEN_LENGTH;
    this.nextLsnNow = this.journalOffsetNow;
    this.emit({ kind: "eof", journalOffset: this.journalOffsetNow! });
    return data.subarray(take);
  }

  /** Journal phase: decodes every complete journal record and keeps a partial one pending. */
  private journal(data: Uint8Array): void {
    let buf: Uint8Array;
    let end: number;
    if (this.pendLen === 0) {
      buf = data;
      end = data.length;
    } else {
      this.append(data);
      buf = this.pend;
      end = this.pendLen;
    }
    let off = 0;
    for (;;) {
      let r: [JournalRecord, number] | null;
      try {
        r = decodeRecord(buf, off, end);
      } catch (e) {
        if (e instanceof JournalFormatError) throw new DfFlowError(e.message, this.journalStart + this.journalConsumed);
        throw e;
      }
      if (r === null) break;
      const at = this.journalStart + this.journalConsumed;
      this.journalConsumed += r[1] - off;
      off = r[1];
      this.streamRecord(r[0], at);
    }
    if (buf === this.pend) {
      this.pend.copyWithin(0, off, end);
      this.pendLen = end - off;
    } else if (off < end) {
      this.pendLen = 0;
      this.append(data.subarray(off));
    }
  }

  /** Appends bytes to the pending buffer (growing it geometrically). */
  private append(bytes: Uint8Array): void {
    const need = this.pendLen + bytes.length;
    if (need > this.pend.length) {
      const next = new Uint8Array(Math.max(need, 2 * this.pend.length, 256));
      next.set(this.pend.subarray(0, this.pendLen));
      this.pend = next;
    }
    this.pend.set(bytes, this.pendLen);
    this.pendLen = need;
  }

  // ---------------------------------------------------------------- events

  /** Passes an event to the callback, remembering an error it throws. */
  private emit(e: DfFlowEvent): void {
    try {
      this.onEvent(e);
    } catch (err) {
      this.callbackError = err;
      throw err;
    }
  }

  /** Maps an error to the DfFlowError to report (a callback error is returned as is). */
  private normalize(e: unknown): unknown {
    if (this.callbackError !== null) return this.callbackError;
    if (e instanceof DfFlowError) return e;
    if (e instanceof RdbError) return new DfFlowError(e.reason, this.replyBytes + e.offset, e.key);
    if (e instanceof DfHandshakeError) return new DfFlowError(e.reason, e.offset);
    return e;
  }

  /** Turns an RDB record into an event (DF_MASK flags attached to entries). */
  private onRdbRecord(r: RdbRecord, parser: DfRecordParser): void {
    switch (r.kind) {
      case "header":
        return this.emit({ kind: "rdbHeader", version: r.version });
      case "aux":
        if (r.key === "shard-id") this.shardIdNow = Number(r.value);
        else if (r.key === "shard-count") this.shardCountNow = Number(r.value);
        return this.emit({ kind: "aux", key: r.key, value: r.value });
      case "entry": {
        const mask = parser.mask;
        parser.mask = null;
        if (mask === null) return this.emit({ kind: "entry", entry: r.entry, sticky: false });
        const ev: DfFlowEvent = { kind: "entry", entry: r.entry, sticky: mask.sticky };
        if (mask.mcFlags !== undefined) ev.mcFlags = mask.mcFlags;
        return this.emit(ev);
      }
      case "skipped":
        parser.mask = null;
        return this.emit({ kind: "skipped", db: r.db, key: r.key, reason: r.reason });
      case "selectdb":
      case "resizedb":
      case "slot_info":
      case "end":
        return;
      case "function":
      case "module_aux":
        throw new RdbError(`unexpected ${r.kind.toUpperCase()} record in a Dragonfly flow`, this.rdb?.offset ?? 0);
    }
  }

  /** FULLSYNC_END (called by the extension after its reads). */
  onFullSyncEnd(input: RdbUnitInput): void {
    if (this.fullSyncEndSeen) throw input.error("a second FULLSYNC_END");
    this.fullSyncEndSeen = true;
    this.emit({ kind: "fullSyncEnd" });
  }

  /** JOURNAL_OFFSET (called by the extension after its reads). */
  onJournalOffset(lsn: bigint, input: RdbUnitInput): void {
    if (this.journalOffsetNow !== null) throw input.error("a second JOURNAL_OFFSET");
    this.journalOffsetNow = lsn;
    this.emit({ kind: "journalOffset", lsn });
  }

  /** A JOURNAL_BLOB: `count` journal items serialized in `blob` (called after its reads). */
  onJournalBlob(count: number, blob: Uint8Array, input: RdbUnitInput): void {
    let off = 0;
    let items = 0;
    const records: JournalRecord[] = [];
    while (off < blob.length) {
      let r: [JournalRecord, number] | null;
      try {
        r = decodeRecord(blob, off, blob.length);
      } catch (e) {
        if (e instanceof JournalFormatError) throw input.error(`JOURNAL_BLOB: ${e.message} at byte ${off}`);
        throw e;
      }
      if (r === null) throw input.error(`JOURNAL_BLOB ends inside a journal record (at byte ${off})`);
      const rec = r[0];
      if (rec.op === "command" || rec.op === "ping") items++;
      else if (rec.op !== "select") throw input.error(`JOURNAL_BLOB holds a journal ${rec.op} record`);
      records.push(rec);
      off = r[1];
    }
    if (items !== count) throw input.error(`JOURNAL_BLOB announces ${count} items but holds ${items}`);
    for (const rec of records) {
      if (rec.op === "select") {
        this.blobJournalDb = rec.db;
      } else if (rec.op === "command") {
        this.blobItemCount++;
        this.emit({
          kind: "journalItem",
          db: this.blobJournalDb,
          txid: rec.txid,
          shardCount: rec.shardCount,
          args: rec.args,
          lsn: null,
          fullSync: true,
        });
      } else {
        this.blobItemCount++;
        this.emit({ kind: "ping", lsn: null, fullSync: true });
      }
    }
  }

  /** A TAGGED_CHUNK piece of stream `id` (called by the extension after its reads). */
  onTaggedChunk(id: number, payload: Uint8Array, input: RdbUnitInput): void {
    let stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.streams.size >= this.maxOpenStreams) {
        throw input.error(`more than ${this.maxOpenStreams} split keys (tagged streams) open at once`);
      }
      const parser = new DfRecordParser(this);
      const s: TaggedStream = { reader: null!, parser, entries: 0, selected: -1 };
      const handle = (r: RdbRecord) => {
        if (r.kind === "entry" || r.kind === "skipped") s.entries++;
        else if (r.kind === "selectdb") s.selected = r.db;
        this.onRdbRecord(r, parser);
      };
      s.reader = new RdbReader(handle, {
        verifyChecksum: false,
        checkDuplicates: this.checkDuplicates,
        extension: parser,
        recordsOnly: { version: input.version, db: input.db },
      });
      stream = s;
      this.streams.set(id, s);
    }
    try {
      stream.reader.feed(payload);
    } catch (e) {
      if (e instanceof RdbError && this.callbackError === null) {
        throw input.error(`in tagged stream ${id}: ${e.reason} (at byte ${e.offset} of the stream)`, undefined, e.key);
      }
      throw e;
    }
    // Dragonfly's loader keeps one current db: a SELECTDB serialized with a split key applies to
    // the records after it too.
    if (stream.selected >= 0) {
      input.selectDb(stream.selected);
      stream.selected = -1;
    }
    if (stream.entries > 0 && stream.reader.atRecordBoundary) this.streams.delete(id);
  }

  /** Handles one record of the stable-sync stream that started at flow offset `at`. */
  private streamRecord(rec: JournalRecord, at: number): void {
    switch (rec.op) {
      case "select":
        this.streamJournalDb = rec.db;
        return;
      case "command": {
        const lsn = this.takeLsn();
        return this.emit({
          kind: "journalItem",
          db: this.streamJournalDb,
          txid: rec.txid,
          shardCount: rec.shardCount,
          args: rec.args,
          lsn,
          fullSync: false,
        });
      }
      case "ping":
        return this.emit({ kind: "ping", lsn: this.takeLsn(), fullSync: false });
      case "lsn": {
        if (this.nextLsnNow === null) {
          this.nextLsnNow = rec.lsn + 1n;
        } else if (rec.lsn !== this.nextLsnNow - 1n) {
          throw new DfFlowError(
            `LSN record says ${rec.lsn} but the last item received was LSN ${this.nextLsnNow - 1n}`,
            at,
          );
        }
        return this.emit({ kind: "lsnRecord", lsn: rec.lsn });
      }
      case "legacy":
        throw new DfFlowError(`unsupported journal opcode ${rec.code} (removed from Dragonfly in 2024)`, at);
    }
  }

  /** Counts a stable-sync item and returns its LSN (null while the LSN is unknown). */
  private takeLsn(): bigint | null {
    this.itemCount++;
    const lsn = this.nextLsnNow;
    if (lsn !== null) this.nextLsnNow = lsn + 1n;
    return lsn;
  }
}
