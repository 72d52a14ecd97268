/**
 * Unit tests of the RESP request parser: split frames, pipelining, inline commands, binary
 * data and every malformed input with Redis's exact error text.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ProtocolError, RespParser, splitInlineArgs } from "../../src/resp/parser.ts";

const MB = 1024 * 1024;

function parser(maxBulkLen = 512 * MB, unauthenticated = false): RespParser {
  return new RespParser({ maxBulkLen, unauthenticated });
}

function feedAll(p: RespParser, s: string | Uint8Array): string[][] {
  p.feed(typeof s === "string" ? Buffer.from(s, "latin1") : s);
  const out: string[][] = [];
  for (let cmd = p.next(); cmd !== null; cmd = p.next()) out.push(cmd);
  return out;
}

function errorOf(input: string, p = parser()): string {
  try {
    feedAll(p, input);
  } catch (e) {
    assert.ok(e instanceof ProtocolError);
    return e.message;
  }
  return "no error";
}

Deno.test("multibulk: one command, pipelined commands", () => {
  assert.deepEqual(feedAll(parser(), "*1\r\n$4\r\nPING\r\n"), [["PING"]]);
  assert.deepEqual(
    feedAll(parser(), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$0\r\n\r\n"),
    [
      ["GET", "k"],
      ["PING"],
      ["SET", "a", ""],
    ],
  );
});

Deno.test("multibulk: every split point of a frame gives the same command", () => {
  const frame = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$10\r\nworld\r\n\x00\xff\x80\r\n";
  const want = [["SET", "hello", "world\r\n\x00\xff\x80"]];
  for (let i = 0; i <= frame.length; i++) {
    const p = parser();
    const got = [...feedAll(p, frame.slice(0, i)), ...feedAll(p, frame.slice(i))];
    assert.deepEqual(got, want, `split at ${i}`);
  }
  // Byte by byte.
  const p = parser();
  const got: string[][] = [];
  for (const ch of frame) got.push(...feedAll(p, ch));
  assert.deepEqual(got, want);
});

Deno.test("multibulk: binary-safe bytes 0x00-0xff survive", () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const head = Buffer.from(`*2\r\n$3\r\nSET\r\n$256\r\n`, "latin1");
  const frame = Buffer.concat([head, bytes, Buffer.from("\r\n")]);
  const [cmd] = feedAll(parser(), frame);
  assert.equal(cmd[1].length, 256);
  for (let i = 0; i < 256; i++) assert.equal(cmd[1].charCodeAt(i), i);
});

Deno.test("multibulk: empty and negative counts are skipped", () => {
  assert.deepEqual(feedAll(parser(), "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"), [["PING"]]);
});

Deno.test("multibulk: large bulk arriving in many chunks", () => {
  const p = parser();
  const size = 3 * MB;
  p.feed(Buffer.from(`*2\r\n$3\r\nSET\r\n$${size}\r\n`, "latin1"));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let sent = 0; sent < size; sent += chunk.length) {
    assert.equal(p.next(), null);
    p.feed(chunk.subarray(0, Math.min(chunk.length, size - sent)));
  }
  p.feed(Buffer.from("\r\n"));
  const cmd = p.next();
  assert.ok(cmd);
  assert.equal(cmd[1].length, size);
});

Deno.test("protocol errors carry Redis's exact text and are sticky", () => {
  assert.equal(errorOf("*x\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(errorOf(`*${1024 * 1024 + 1}\r\n`), "Protocol error: invalid multibulk length");
  assert.equal(errorOf("*1\r\nPING\r\n"), "Protocol error: expected '$', got 'P'");
  assert.equal(errorOf("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*1\r\n$abc\r\n"), "Protocol error: invalid bulk length");
  // Lengths follow Redis's string2ll: no leading zeros, no "-0", no "+".
  assert.equal(errorOf("*1\r\n$04\r\nPING\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*1\r\n$-0\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*1\r\n$+4\r\nPING\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*01\r\n$4\r\nPING\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(errorOf("*-0\r\n"), "Protocol error: invalid multibulk length");
  assert.equal(errorOf("*1\r\n$1025\r\n", parser(1024)), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*1\r\n$99999999999999999999\r\n"), "Protocol error: invalid bulk length");
  assert.equal(errorOf("*" + "1".repeat(70 * 1024)), "Protocol error: too big mbulk count string");
  assert.equal(errorOf("*1\r\n$" + "1".repeat(70 * 1024)), "Protocol error: too big bulk count string");
  assert.equal(errorOf("x".repeat(70 * 1024)), "Protocol error: too big inline request");
  assert.equal(errorOf('SET "abc\r\n'), "Protocol error: unbalanced quotes in request");
  assert.equal(errorOf("*11\r\n", parser(512 * MB, true)), "Protocol error: unauthenticated multibulk length");
  assert.equal(errorOf("*1\r\n$20000\r\n", parser(512 * MB, true)), "Protocol error: unauthenticated bulk length");
  const p = parser();
  errorOf("*x\r\n", p);
  assert.throws(() => p.next(), ProtocolError);
});

Deno.test("inline commands and quoting like sdssplitargs", () => {
  assert.deepEqual(feedAll(parser(), "PING\r\nset a b\n\r\n  \r\nGET a\r\n"), [["PING"], ["set", "a", "b"], [
    "GET",
    "a",
  ]]);
  assert.deepEqual(splitInlineArgs(`set "a b" 'c d'`), ["set", "a b", "c d"]);
  assert.deepEqual(splitInlineArgs(`x "\\x41\\n\\t\\\\" 'it\\'s'`), ["x", "A\n\t\\", "it's"]);
  assert.equal(splitInlineArgs(`x "abc"d`), null);
  assert.equal(splitInlineArgs(`x 'abc`), null);
  assert.deepEqual(splitInlineArgs(""), []);
});

Deno.test("mixed inline and multibulk pipelines, and consumed byte counts", () => {
  const input = "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
  const p = parser();
  assert.deepEqual(feedAll(p, input), [["PING"], ["ECHO", "hi"]]);
  assert.equal(p.consumed, input.length);
});

Deno.test("a million small arguments parse in bounded time", () => {
  const n = 1024 * 1024;
  const parts = [`*${n}\r\n`];
  for (let i = 0; i < n; i++) parts.push("$1\r\nx\r\n");
  const buf = Buffer.from(parts.join(""), "latin1");
  const p = parser();
  const start = performance.now();
  for (let off = 0; off < buf.length; off += 64 * 1024) {
    p.feed(buf.subarray(off, off + 64 * 1024));
    if (off + 64 * 1024 < buf.length) assert.equal(p.next(), null);
  }
  const cmd = p.next();
  assert.ok(cmd);
  assert.equal(cmd.length, n);
  assert.ok(performance.now() - start < 10_000);
});

Deno.test("command names: cached per exact bytes, case preserved, colliding names kept apart", () => {
  const names = ["GET", "get", "Get", "SET", "set", "PING", "x".repeat(24), "y".repeat(25), "", "\x00\xff"];
  const frames = names.map((n) => `*2\r\n$${n.length}\r\n${n}\r\n$1\r\nk\r\n`).join("");
  const p = parser();
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(feedAll(p, frames).map((a) => a[0]), names);
  }
  // Many distinct names (more than the cache holds) still decode exactly.
  const many = Array.from({ length: 2000 }, (_, i) => `cmd${i}`);
  assert.deepEqual(
    feedAll(p, many.map((n) => `*1\r\n$${n.length}\r\n${n}\r\n`).join("")).map((a) => a[0]),
    many,
  );
});

Deno.test("arguments of every length from 0 to 80 bytes decode exactly", () => {
  for (let len = 0; len <= 80; len++) {
    const arg = Array.from({ length: len }, (_, i) => String.fromCharCode((i * 37 + len) & 0xff)).join("");
    const frame = Buffer.from(`*2\r\n$4\r\nECHO\r\n$${len}\r\n${arg}\r\n`, "latin1");
    assert.deepEqual(feedAll(parser(), frame), [["ECHO", arg]], `length ${len}`);
  }
});
