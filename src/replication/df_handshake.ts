/**
 * Encoding and parsing of the Dragonfly replication handshake (design/dragonfly-replication.md
 * §3.1–§3.3): the inline commands a Dragonfly replica sends, the RESP replies of the primary (the
 * `REPLCONF capa dragonfly` array, the `DFLY FLOW` reply), and the `DFLY FLOW` argument forms.
 *
 * Invariants: every encoder produces exactly the bytes a Dragonfly 1.40 node writes, and every
 * parser accepts exactly what the matching encoder writes, so parse → encode is byte-identical;
 * parsers are incremental (null = need more bytes) and never read past `end`; malformed input
 * raises DfHandshakeError naming the byte offset. Strings are latin1.
 */
import { latin1Bytes, latin1Of } from "../rdb/bytes.ts";

/** A malformed handshake message, or one with values out of range. */
export class DfHandshakeError extends Error {
  /** Byte offset of the problem in the parsed input (0 for argument lists). */
  readonly offset: number;
  /** The problem without the offset (for argument errors: the text to reply after `-ERR `). */
  readonly reason: string;

  /** Builds the error; the message reads `<reason> at offset N`. */
  constructor(reason: string, offset = 0) {
    super(`${reason} at offset ${offset}`);
    this.name = "DfHandshakeError";
    this.reason = reason;
    this.offset = offset;
  }
}

/** A RESP reply, as the replica side of the handshake reads it. */
export type RespReply =
  | { type: "simple"; value: string }
  | { type: "error"; value: string }
  | { type: "int"; value: bigint }
  | { type: "bulk"; value: string | null }
  | { type: "array"; value: RespReply[] | null };

/** Longest reply line accepted (a simple string, an error, a header). */
const MAX_LINE = 64 * 1024;
/** Largest bulk string accepted in a handshake reply. */
const MAX_BULK = 512 * 1024 * 1024;
/** Deepest array nesting accepted. */
const MAX_DEPTH = 8;
const CR = 13;
const LF = 10;

/** Index of the CR of the CRLF ending the line at `off`, or -1 when the line is not complete. */
function lineEnd(buf: Uint8Array, off: number, end: number): number {
  const limit = Math.min(end, off + MAX_LINE + 2);
  for (let p = off; p + 1 < limit; p++) {
    if (buf[p] === CR) {
      if (buf[p + 1] !== LF) throw new DfHandshakeError("CR not followed by LF in a reply", p);
      return p;
    }
  }
  if (end - off > MAX_LINE) throw new DfHandshakeError(`reply line longer than ${MAX_LINE} bytes`, off);
  return -1;
}

function parseInteger(buf: Uint8Array, start: number, end: number): bigint {
  const text = latin1Of(buf, start, end);
  if (!/^-?[0-9]{1,20}$/.test(text)) throw new DfHandshakeError(`bad integer ${JSON.stringify(text)}`, start);
  return BigInt(text);
}

/**
 * Parses one RESP reply at `buf[off, end)`. Returns the reply and the offset after it, or null
 * when the reply is not complete yet.
 */
export function parseReply(buf: Uint8Array, off: number, end: number, depth = 0): [RespReply, number] | null {
  if (off >= end) return null;
  const kind = buf[off];
  if (kind !== 0x2b && kind !== 0x2d && kind !== 0x3a && kind !== 0x24 && kind !== 0x2a) {
    throw new DfHandshakeError(`unexpected reply type byte 0x${kind.toString(16).padStart(2, "0")}`, off);
  }
  const le = lineEnd(buf, off, end);
  if (le < 0) return null;
  const next = le + 2;
  switch (kind) {
    case 0x2b: // +
      return [{ type: "simple", value: latin1Of(buf, off + 1, le) }, next];
    case 0x2d: // -
      return [{ type: "error", value: latin1Of(buf, off + 1, le) }, next];
    case 0x3a: // :
      return [{ type: "int", value: parseInteger(buf, off + 1, le) }, next];
    case 0x24: { // $
      const n = parseInteger(buf, off + 1, le);
      if (n === -1n) return [{ type: "bulk", value: null }, next];
      if (n < 0n || n > BigInt(MAX_BULK)) throw new DfHandshakeError(`bad bulk length ${n}`, off + 1);
      const len = Number(n);
      if (next + len + 2 > end) return null;
      if (buf[next + len] !== CR || buf[next + len + 1] !== LF) {
        throw new DfHandshakeError("bulk string not terminated by CRLF", next + len);
      }
      return [{ type: "bulk", value: latin1Of(buf, next, next + len) }, next + len + 2];
    }
    default: { // * (the type byte was checked above)
      const n = parseInteger(buf, off + 1, le);
      if (n === -1n) return [{ type: "array", value: null }, next];
      if (n < 0n || n > 1024n * 1024n) throw new DfHandshakeError(`bad array length ${n}`, off + 1);
      if (depth >= MAX_DEPTH) throw new DfHandshakeError("reply arrays nested too deeply", off);
      const items: RespReply[] = [];
      let p = next;
      for (let i = 0; i < Number(n); i++) {
        const r = parseReply(buf, p, end, depth + 1);
        if (r === null) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [{ type: "array", value: items }, p];
    }
  }
}

/** Encodes a RESP reply (the inverse of parseReply). */
export function encodeReply(r: RespReply): Uint8Array {
  return latin1Bytes(replyText(r));
}

function replyText(r: RespReply): string {
  switch (r.type) {
    case "simple":
      return `+${r.value}\r\n`;
    case "error":
      return `-${r.value}\r\n`;
    case "int":
      return `:${r.value}\r\n`;
    case "bulk":
      return r.value === null ? "$-1\r\n" : `$${r.value.length}\r\n${r.value}\r\n`;
    case "array":
      return r.value === null ? "*-1\r\n" : `*${r.value.length}\r\n${r.value.map(replyText).join("")}`;
  }
}

// ------------------------------------------------------------------ inline commands

/**
 * Encodes a command the way a Dragonfly replica sends it: the arguments joined by spaces, then
 * CRLF (an inline command). Arguments that an inline command cannot carry (empty, or containing
 * whitespace, control bytes or quotes) are rejected with a RangeError.
 */
export function encodeInlineCommand(args: readonly string[]): Uint8Array {
  if (args.length === 0) throw new RangeError("an inline command needs at least one argument");
  for (const a of args) {
    if (!inlineSafe(a)) throw new RangeError(`argument ${JSON.stringify(a)} cannot be sent in an inline command`);
  }
  return latin1Bytes(args.join(" ") + "\r\n");
}

/** True when `a` is non-empty and free of whitespace, control bytes and quotes. */
function inlineSafe(a: string): boolean {
  if (a.length === 0) return false;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x27) return false;
  }
  return true;
}

/**
 * Splits complete inline commands (lines ending in CRLF, arguments separated by spaces) from the
 * start of `buf`. Returns the commands and the bytes they used; a partial last line is left.
 */
export function parseInlineCommands(buf: Uint8Array): { commands: string[][]; consumed: number } {
  const commands: string[][] = [];
  let off = 0;
  for (;;) {
    const le = lineEnd(buf, off, buf.length);
    if (le < 0) break;
    const line = latin1Of(buf, off, le);
    commands.push(line.split(" ").filter((a) => a.length > 0));
    off = le + 2;
  }
  return { commands, consumed: off };
}

// ------------------------------------------------------------------ REPLCONF capa dragonfly

/** The primary's answer to `REPLCONF capa dragonfly`. */
export interface DfCapaReply {
  /** The primary's replication id (40 hex chars). */
  replid: string;
  /** The sync session id, `SYNC<n>`. */
  syncId: string;
  /** Number of flows to open (= the primary's shard count), 1..1024. */
  flowCount: number;
  /** The primary's DflyVersion (5 for Dragonfly 1.40.1). */
  version: number;
  /** Lineage id (the replid on a root primary); absent in the 4-element reply of versions ≤ 1.37. */
  lineage?: string;
}

/** Encodes the capa reply: `*5 +<replid> +SYNC<n> :<flows> :<version> +<lineage>` (`*4` without lineage). */
export function encodeCapaReply(c: DfCapaReply): Uint8Array {
  const items: RespReply[] = [
    { type: "simple", value: c.replid },
    { type: "simple", value: c.syncId },
    { type: "int", value: BigInt(c.flowCount) },
    { type: "int", value: BigInt(c.version) },
  ];
  if (c.lineage !== undefined) items.push({ type: "simple", value: c.lineage });
  return encodeReply({ type: "array", value: items });
}

/**
 * Reads a parsed capa reply and validates it as Dragonfly's replica does: replid of 40 chars,
 * `SYNC<n>` session id, 1..1024 flows. Throws DfHandshakeError otherwise.
 */
export function capaReplyOf(r: RespReply): DfCapaReply {
  if (r.type === "error") throw new DfHandshakeError(`primary refused capa dragonfly: ${r.value}`);
  if (r.type !== "array" || r.value === null || (r.value.length !== 4 && r.value.length !== 5)) {
    throw new DfHandshakeError("capa dragonfly reply is not an array of 4 or 5 elements");
  }
  const [replid, syncId, flows, version, lineage] = r.value;
  if (replid.type !== "simple" || replid.value.length !== 40) {
    throw new DfHandshakeError("capa dragonfly reply: bad master replid");
  }
  if (syncId.type !== "simple" || parseSyncId(syncId.value) === null) {
    throw new DfHandshakeError("capa dragonfly reply: bad sync id");
  }
  if (flows.type !== "int" || flows.value < 1n || flows.value > 1024n) {
    throw new DfHandshakeError("capa dragonfly reply: bad flow count");
  }
  if (version.type !== "int" || version.value < 0n || version.value > 1000n) {
    throw new DfHandshakeError("capa dragonfly reply: bad version");
  }
  const out: DfCapaReply = {
    replid: replid.value,
    syncId: syncId.value,
    flowCount: Number(flows.value),
    version: Number(version.value),
  };
  if (lineage !== undefined) {
    if (lineage.type !== "simple") throw new DfHandshakeError("capa dragonfly reply: bad lineage id");
    out.lineage = lineage.value;
  }
  return out;
}

/** The number of a `SYNC<n>` session id (n ≥ 1), or null when it is not of that form. */
export function parseSyncId(id: string): number | null {
  const m = /^SYNC([1-9][0-9]{0,15})$/.exec(id);
  return m === null ? null : Number(m[1]);
}

// ------------------------------------------------------------------ DFLY FLOW

/** The decision in a `DFLY FLOW` reply. */
export type DfSyncMode = "FULL" | "PARTIAL";

/** The primary's reply to `DFLY FLOW`: `*2 +FULL|+PARTIAL +<40-hex eof token>`. */
export interface DfFlowReply {
  /** Full or partial sync of this flow. */
  mode: DfSyncMode;
  /** 40 lowercase hex chars; the full-sync RDB ends with the same bytes. */
  token: string;
}

/** Encodes a `DFLY FLOW` reply. */
export function encodeFlowReply(r: DfFlowReply): Uint8Array {
  return latin1Bytes(`*2\r\n+${r.mode}\r\n+${r.token}\r\n`);
}

/**
 * Parses the `DFLY FLOW` reply at `buf[off, end)`: returns it and the offset after it, null when
 * incomplete. An error reply or any other shape raises DfHandshakeError.
 */
export function parseFlowReply(buf: Uint8Array, off: number, end: number): [DfFlowReply, number] | null {
  const r = parseReply(buf, off, end);
  if (r === null) return null;
  const reply = r[0];
  if (reply.type === "error") throw new DfHandshakeError(`primary refused the flow: -${reply.value}`, off);
  if (reply.type !== "array" || reply.value === null || reply.value.length !== 2) {
    throw new DfHandshakeError("DFLY FLOW reply is not an array of 2 elements", off);
  }
  const [mode, token] = reply.value;
  if (mode.type !== "simple" || (mode.value !== "FULL" && mode.value !== "PARTIAL")) {
    throw new DfHandshakeError("DFLY FLOW reply: the first element is not FULL or PARTIAL", off);
  }
  if (token.type !== "simple" || !/^[0-9a-f]{40}$/.test(token.value)) {
    throw new DfHandshakeError("DFLY FLOW reply: the eof token is not 40 hex chars", off);
  }
  return [{ mode: mode.value, token: token.value }, r[1]];
}

/** What a replica asks for in `DFLY FLOW`. */
export interface DfFlowRequest {
  /** The primary's replid, from the capa reply. */
  masterReplid: string;
  /** The session id, `SYNC<n>`. */
  syncId: string;
  /** The flow (= the primary's shard) index. */
  flowId: number;
  /** Partial sync from this LSN of the same primary (form with 4 arguments). */
  lsn?: bigint;
  /** Partial sync after a primary switch: the previous primary's replid and per-flow LSNs. */
  previous?: { replid: string; lsns: bigint[] };
}

const U64_MAX = 2n ** 64n - 1n;

/** The full argument list of a `DFLY FLOW` command (starting with "DFLY", "FLOW"). */
export function flowCommandArgs(req: DfFlowRequest): string[] {
  const args = ["DFLY", "FLOW", req.masterReplid, req.syncId, String(req.flowId)];
  if (req.previous !== undefined) {
    args.push(req.previous.replid, req.previous.lsns.join("-"));
  } else if (req.lsn !== undefined) {
    args.push(String(req.lsn));
  }
  return args;
}

function parseU64(s: string): bigint | null {
  if (!/^[0-9]{1,20}$/.test(s)) return null;
  const v = BigInt(s);
  return v <= U64_MAX ? v : null;
}

/**
 * Parses the arguments of `DFLY FLOW` (the whole list, starting with "DFLY", "FLOW"): 5 to 7
 * arguments. Errors carry Dragonfly's reply text as `reason` (`wrong number of arguments for
 * 'dfly' command`, `value is not an integer or out of range`, `syntax error`). The replid and the
 * sync id are returned as given: checking them against the session is the caller's job.
 */
export function parseFlowArgs(args: readonly string[]): DfFlowRequest {
  if (args.length < 5 || args.length > 7) {
    throw new DfHandshakeError("wrong number of arguments for 'dfly' command");
  }
  const flowId = parseU64(args[4]);
  if (flowId === null || flowId > 0xffffffffn) throw new DfHandshakeError("value is not an integer or out of range");
  const req: DfFlowRequest = { masterReplid: args[2], syncId: args[3], flowId: Number(flowId) };
  if (args.length === 6) {
    const lsn = parseU64(args[5]);
    if (lsn === null) throw new DfHandshakeError("value is not an integer or out of range");
    req.lsn = lsn;
  } else if (args.length === 7) {
    const lsns: bigint[] = [];
    for (const part of args[6].split("-")) {
      const v = parseU64(part);
      if (v === null) throw new DfHandshakeError("syntax error");
      lsns.push(v);
    }
    req.previous = { replid: args[5], lsns };
  }
  return req;
}

/** The arguments of a flow's acknowledgement: `REPLCONF ACK <next LSN wanted>`. */
export function ackCommandArgs(lsn: bigint | number): string[] {
  return ["REPLCONF", "ACK", String(lsn)];
}
