/**
 * Protocol robustness against a real damselfly process: malformed input gets Redis's error
 * text and a close, other clients keep working, pipelines answer in order, and random garbage
 * never takes the server down.
 */
import assert from "node:assert/strict";
import { RespClient, startServer } from "../helpers/server.ts";

Deno.test("protocol errors reply with Redis's text, close only that connection", async () => {
  const srv = await startServer(["--proto_max_bulk_len=1mb"]);
  try {
    const bystander = await RespClient.connect(srv.port);
    const cases: [string, string][] = [
      ["*x\r\n", "ERR Protocol error: invalid multibulk length"],
      ["*1\r\nPING\r\n", "ERR Protocol error: expected '$', got 'P'"],
      ["*1\r\n$2000000\r\n", "ERR Protocol error: invalid bulk length"],
      ["*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"],
      ['ECHO "unbalanced\r\n', "ERR Protocol error: unbalanced quotes in request"],
      ["*2000000\r\n", "ERR Protocol error: invalid multibulk length"],
    ];
    for (const [input, want] of cases) {
      const c = await RespClient.connect(srv.port);
      await c.send(input);
      assert.deepEqual(await c.read(), new Error(want), JSON.stringify(input));
      assert.ok(await c.waitClosed());
      assert.equal(await bystander.call("PING"), "PONG");
    }
    const big = await RespClient.connect(srv.port);
    await big.send("x".repeat(70 * 1024));
    assert.deepEqual(await big.read(), new Error("ERR Protocol error: too big inline request"));
    assert.ok(await big.waitClosed());
    bystander.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("pipelined replies arrive in order, and commands before a protocol error are answered", async () => {
  const srv = await startServer();
  try {
    const c = await RespClient.connect(srv.port);
    let batch = "";
    for (let i = 0; i < 500; i++) batch += `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
    await c.send(batch + "PING\r\n*1\r\n$bad\r\n");
    for (let i = 0; i < 500; i++) assert.equal(await c.read(), String(i));
    assert.equal(await c.read(), "PONG");
    assert.deepEqual(await c.read(), new Error("ERR Protocol error: invalid bulk length"));
    assert.ok(await c.waitClosed());
  } finally {
    await srv.stop();
  }
});

Deno.test("random garbage from many connections never crashes the server", async () => {
  const srv = await startServer();
  try {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = [
      "*",
      "$",
      "\r\n",
      "\n",
      "-1",
      "0",
      "99999999999",
      "PING",
      " ",
      '"',
      "'",
      "\\x",
      "\x00",
      "\xff",
      "3",
      "abc",
    ];
    for (let round = 0; round < 60; round++) {
      const c = await RespClient.connect(srv.port);
      let s = "";
      const n = 1 + Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      await c.send(s).catch(() => {});
      c.close();
    }
    const check = await RespClient.connect(srv.port);
    assert.equal(await check.call("PING"), "PONG");
    check.close();
  } finally {
    const status = await srv.stop("SIGTERM");
    assert.notEqual(status.signal, "SIGSEGV");
  }
});
