/**
 * DUMP / RESTORE payloads (spec §D.16): <type byte> <value as in an RDB> <RDB version u16 LE>
 * <CRC64 u64 LE of everything before it>.
 *
 * Invariants: created payloads use the encodings of the chosen RDB version, so a stock Redis of
 * that version (or newer) RESTOREs them; parsing checks version and checksum before decoding and
 * reports Redis's exact error texts; a payload is decoded completely or rejected (trailing bytes
 * are an error).
 */
import { ByteWriter, latin1Bytes } from "./bytes.ts";
import { RDB_MAX_READ_VERSION, type RdbWriteVersion } from "./constants.ts";
import { Crc64, crc64, readU64LE } from "./crc64.ts";
import { RdbEncoder } from "./encoder.ts";
import { RdbReader } from "./reader.ts";
import type { RdbValue } from "./records.ts";

/** RESTORE's reply when the footer's version or checksum is wrong. */
export const DUMP_PAYLOAD_WRONG = "ERR DUMP payload version or checksum are wrong";
/** RESTORE's reply when the value cannot be decoded. */
export const DUMP_BAD_DATA_FORMAT = "ERR Bad data format";

/** A rejected payload; `message` is the full Redis error reply text (with the ERR prefix). */
export class DumpPayloadError extends Error {
  /** Builds the error; `cause` keeps the decoder's detailed reason, for logs. */
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "DumpPayloadError";
  }
}

/** Serializes a value as a DUMP payload for the given RDB version (10 = what Redis 7.0 produces). */
export function createDumpPayload(value: RdbValue, version: RdbWriteVersion = 10, compress = true): Uint8Array {
  const out = new ByteWriter(256);
  const enc = new RdbEncoder(out, version, compress);
  const type = enc.typeOf(value);
  out.u8(type);
  enc.writeValue(type, value);
  out.u16le(version);
  const crc = new Crc64();
  crc.update(out.buf, 0, out.length);
  out.reserve(8);
  crc.writeLE(out.buf, out.length);
  out.length += 8;
  return out.toBytes();
}

/** Options of parseDumpPayload. */
export interface ParseDumpOptions {
  /** Highest accepted payload RDB version (default: the newest this codec reads, 12). */
  maxVersion?: number;
  /** Skip the CRC check (Redis's skip-checksum-validation). */
  skipChecksum?: boolean;
}

/** Verifies and decodes a payload (bytes, or a latin1 string as RESTORE receives it). */
export function parseDumpPayload(
  payload: Uint8Array | string,
  opts: ParseDumpOptions = {},
): { value: RdbValue; version: number } {
  const bytes = typeof payload === "string" ? latin1Bytes(payload) : payload;
  const n = bytes.length;
  if (n < 10) throw new DumpPayloadError(DUMP_PAYLOAD_WRONG);
  const version = bytes[n - 10] | (bytes[n - 9] << 8);
  if (version > (opts.maxVersion ?? RDB_MAX_READ_VERSION)) throw new DumpPayloadError(DUMP_PAYLOAD_WRONG);
  if (!opts.skipChecksum && crc64(bytes, 0, n - 8) !== readU64LE(bytes, n - 8)) {
    throw new DumpPayloadError(DUMP_PAYLOAD_WRONG);
  }
  let value: RdbValue | null = null;
  let problem: unknown = null;
  const reader = new RdbReader((r) => {
    if (r.kind === "entry") value = r.entry.value;
    else if (r.kind === "skipped") problem = new Error(`payload holds an ${r.reason}`);
  }, { valueOnlyVersion: version });
  try {
    const body = bytes.subarray(0, n - 10);
    const used = reader.feed(body);
    reader.finish();
    if (used !== body.length) problem = new Error(`${body.length - used} bytes after the value`);
  } catch (e) {
    problem = e;
  }
  if (problem !== null || value === null) throw new DumpPayloadError(DUMP_BAD_DATA_FORMAT, problem);
  return { value, version };
}
