/**
 * Dragonfly handshake messages against the real control and flow connections of
 * tests/fixtures/wire: inline commands, the replies of the primary (capa array, FLOW reply), the
 * `DFLY FLOW` argument forms and ACKs; every message parses and re-encodes byte-identically.
 */
import assert from "node:assert/strict";
import {
  ackCommandArgs,
  capaReplyOf,
  DfHandshakeError,
  encodeCapaReply,
  encodeFlowReply,
  encodeInlineCommand,
  encodeReply,
  flowCommandArgs,
  parseFlowArgs,
  parseFlowReply,
  parseInlineCommands,
  parseReply,
  parseSyncId,
  type RespReply,
} from "../../src/replication/df_handshake.ts";
import { assertThrows, bytesOf, concat, fixture, SESSIONS } from "./df_flow_testlib.ts";

/** Every reply in `bytes`, and the offset after each. */
function replies(bytes: Uint8Array): { reply: RespReply; end: number }[] {
  const out: { reply: RespReply; end: number }[] = [];
  let off = 0;
  while (off < bytes.length) {
    const r = parseReply(bytes, off, bytes.length);
    assert(r !== null, `incomplete reply at ${off}`);
    out.push({ reply: r[0], end: r[1] });
    off = r[1];
  }
  return out;
}

const REPLIDS: Record<string, string> = {
  "dragonfly-1.40-nocompression": "eb8f20ccd1cc31b36c7626cd780272728fc78ecb",
  "dragonfly-1.40": "a68a86d899119822acb90548e547750b609513fb",
};

for (const session of SESSIONS) {
  const replid = REPLIDS[session];

  Deno.test(`${session}: the replica's control commands are inline and re-encode identically`, () => {
    const bytes = fixture(session, "conn1.replica-to-primary.bin");
    const { commands, consumed } = parseInlineCommands(bytes);
    assert.equal(consumed, bytes.length);
    assert.deepEqual(commands.map((c) => c.slice(0, 3).join(" ")), [
      "PING",
      "REPLCONF listening-port " + commands[1][2],
      "REPLCONF capa eof",
      "REPLCONF capa dragonfly",
      "REPLCONF CLIENT-ID " + commands[4][2],
      "REPLCONF CLIENT-VERSION 5",
      "DFLY SYNC SYNC1",
      "DFLY STARTSTABLE SYNC1",
    ]);
    assert.match(commands[4][2], /^[0-9a-f]{40}$/);
    assert.deepEqual(concat(...commands.map(encodeInlineCommand)), bytes);
  });

  Deno.test(`${session}: the primary's control replies parse and re-encode identically`, () => {
    const bytes = fixture(session, "conn1.primary-to-replica.bin");
    const all = replies(bytes);
    assert.deepEqual(all.map((r) => r.reply.type), [
      "simple",
      "simple",
      "simple",
      "array",
      "simple",
      "simple",
      "simple",
      "simple",
    ]);
    assert.deepEqual(concat(...all.map((r) => encodeReply(r.reply))), bytes);
    const capa = capaReplyOf(all[3].reply);
    assert.deepEqual(capa, { replid, syncId: "SYNC1", flowCount: 2, version: 5, lineage: replid });
    assert.deepEqual(encodeCapaReply(capa), bytes.subarray(17, 123));
    assert.equal(parseSyncId(capa.syncId), 1);
    // Every proper prefix of the capa reply is incomplete, never an error.
    for (let end = 17; end < 123; end++) assert.equal(parseReply(bytes, 17, end), null, `prefix to ${end}`);
  });

  for (const [conn, flowId, acks] of [["conn2", 0, [1, 1, 10, 10, 10]], ["conn3", 1, [1, 1, 3, 3, 3]]] as const) {
    Deno.test(`${session} ${conn}: DFLY FLOW, its reply and the ACKs re-encode identically`, () => {
      const out = fixture(session, `${conn}.replica-to-primary.bin`);
      const { commands, consumed } = parseInlineCommands(out);
      assert.equal(consumed, out.length);
      const req = parseFlowArgs(commands[0]);
      assert.deepEqual(req, { masterReplid: replid, syncId: "SYNC1", flowId });
      const rebuilt = [flowCommandArgs(req), ...acks.map((a) => ackCommandArgs(a))];
      assert.deepEqual(concat(...rebuilt.map(encodeInlineCommand)), out);

      const back = fixture(session, `${conn}.primary-to-replica.bin`);
      const parsed = parseFlowReply(back, 0, back.length);
      assert(parsed !== null);
      const [reply, next] = parsed;
      assert.equal(next, 54);
      assert.equal(reply.mode, "FULL");
      assert.deepEqual(encodeFlowReply(reply), back.subarray(0, 54));
      for (let end = 0; end < 54; end++) assert.equal(parseFlowReply(back, 0, end), null);
    });
  }
}

Deno.test("DFLY FLOW argument forms: fresh, with an LSN, with a previous primary's LSN vector", () => {
  const replid = "a".repeat(40);
  const forms = [
    { masterReplid: replid, syncId: "SYNC12", flowId: 3 },
    { masterReplid: replid, syncId: "SYNC12", flowId: 3, lsn: 18446744073709551615n },
    { masterReplid: replid, syncId: "SYNC12", flowId: 0, previous: { replid: "b".repeat(40), lsns: [5n, 0n, 123n] } },
  ];
  for (const f of forms) assert.deepEqual(parseFlowArgs(flowCommandArgs(f)), f);
  assert.deepEqual(flowCommandArgs(forms[2]).slice(5), ["b".repeat(40), "5-0-123"]);
  const base = ["DFLY", "FLOW", replid, "SYNC1"];
  assertThrows(() => parseFlowArgs(base), DfHandshakeError, "wrong number of arguments");
  assertThrows(() => parseFlowArgs([...base, "x"]), DfHandshakeError, "value is not an integer or out of range");
  assertThrows(() => parseFlowArgs([...base, "0", "-1"]), DfHandshakeError, "value is not an integer or out of range");
  assertThrows(() => parseFlowArgs([...base, "0", "18446744073709551616"]), DfHandshakeError, "not an integer");
  assertThrows(() => parseFlowArgs([...base, "0", replid, "1--2"]), DfHandshakeError, "syntax error");
  assertThrows(() => parseFlowArgs([...base, "0", "1", "2", "3"]), DfHandshakeError, "wrong number of arguments");
  assert.equal(parseSyncId("SYNC0"), null);
  assert.equal(parseSyncId("sync1"), null);
  assert.equal(parseSyncId("SYNC01"), null);
});

Deno.test("replies: errors, bulk strings, nulls, nesting; malformed input names its offset", () => {
  const samples: RespReply[] = [
    { type: "error", value: "ERR syncid not found" },
    { type: "bulk", value: "a\r\nb" },
    { type: "bulk", value: null },
    { type: "array", value: null },
    { type: "int", value: -42n },
    { type: "array", value: [{ type: "array", value: [{ type: "int", value: 1n }] }, { type: "bulk", value: "" }] },
  ];
  const bytes = concat(...samples.map(encodeReply));
  assert.deepEqual(replies(bytes).map((r) => r.reply), samples);
  const bad = (s: string, what: string, offset: number) => {
    const e = assertThrows(() => parseReply(bytesOf(s), 0, s.length), DfHandshakeError, what);
    assert.equal(e.offset, offset);
  };
  bad("?x\r\n", "unexpected reply type byte 0x3f", 0);
  bad("+OK\rX", "CR not followed by LF", 3);
  bad(":12a\r\n", "bad integer", 1);
  bad("$3\r\nabcXY", "not terminated by CRLF", 7);
  bad("*1\r\n!", "unexpected reply type byte 0x21", 4);
  assertThrows(() => capaReplyOf({ type: "simple", value: "OK" }), DfHandshakeError, "not an array");
  assertThrows(
    () => capaReplyOf({ type: "error", value: "ERR Replicating a replica is unsupported" }),
    DfHandshakeError,
    "refused",
  );
  const capa = { replid: "c".repeat(40), syncId: "SYNC7", flowCount: 8, version: 4 };
  assert.deepEqual(capaReplyOf(parseReply(encodeCapaReply(capa), 0, 200)![0]), capa);
  assertThrows(
    () => capaReplyOf(parseReply(encodeCapaReply({ ...capa, flowCount: 0 }), 0, 200)![0]),
    DfHandshakeError,
    "flow count",
  );
  assertThrows(
    () => capaReplyOf(parseReply(encodeCapaReply({ ...capa, replid: "short" }), 0, 200)![0]),
    DfHandshakeError,
    "replid",
  );
  assertThrows(() => parseFlowReply(bytesOf("-ERR bad master id\r\n"), 0, 20), DfHandshakeError, "bad master id");
  assertThrows(() => parseFlowReply(bytesOf("*2\r\n+HALF\r\n+x\r\n"), 0, 15), DfHandshakeError, "FULL or PARTIAL");
});

Deno.test("inline commands: what an inline command cannot carry is refused; partial lines wait", () => {
  for (const arg of ["", "two words", "tab\there", 'quote"d', "it's", "cr\rlf"]) {
    assert.throws(() => encodeInlineCommand(["AUTH", arg]), RangeError, JSON.stringify(arg));
  }
  assert.throws(() => encodeInlineCommand([]), RangeError);
  const { commands, consumed } = parseInlineCommands(bytesOf("REPLCONF ACK 5\r\nREPLCONF AC"));
  assert.deepEqual(commands, [["REPLCONF", "ACK", "5"]]);
  assert.equal(consumed, 16);
});
