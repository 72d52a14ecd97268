/**
 * Connection commands against a real damselfly process: PING, ECHO, HELLO, AUTH, SELECT,
 * QUIT, RESET, unknown commands and arity errors, with redis-cli, ioredis and node-redis.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, RespClient, startServer } from "../helpers/server.ts";

Deno.test("connection commands", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli ping, echo, unknown command text", async () => {
      assert.equal(await redisCli(srv.port, ["ping"]), "PONG");
      assert.equal(await redisCli(srv.port, ["echo", "hello world"]), '"hello world"');
      assert.equal(
        await redisCli(srv.port, ["foo", "a", "b"]),
        "(error) ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
      );
    });
    await t.step("arity errors", async () => {
      const c = await RespClient.connect(srv.port);
      assert.deepEqual(await c.call("ECHO"), new Error("ERR wrong number of arguments for 'echo' command"));
      assert.deepEqual(
        await c.call("SELECT", "1", "2"),
        new Error("ERR wrong number of arguments for 'select' command"),
      );
      c.close();
    });
    await t.step("HELLO 3 switches to RESP3 and reports the server", async () => {
      const c = await RespClient.connect(srv.port);
      const r = await c.call("HELLO", "3");
      assert.ok(r instanceof Map);
      assert.equal(r.get("server"), "redis");
      assert.equal(r.get("proto"), 3);
      assert.equal(r.get("role"), "master");
      assert.deepEqual(await c.call("HELLO", "4"), new Error("NOPROTO unsupported protocol version"));
      assert.deepEqual(await c.call("HELLO", "x"), new Error("ERR Protocol version is not an integer or out of range"));
      c.close();
    });
    await t.step("SELECT range", async () => {
      const c = await RespClient.connect(srv.port);
      assert.equal(await c.call("SELECT", "15"), "OK");
      assert.deepEqual(await c.call("SELECT", "16"), new Error("ERR DB index is out of range"));
      assert.deepEqual(await c.call("SELECT", "x"), new Error("ERR value is not an integer or out of range"));
      c.close();
    });
    await t.step("QUIT closes after +OK", async () => {
      const c = await RespClient.connect(srv.port);
      assert.equal(await c.call("QUIT"), "OK");
      assert.ok(await c.waitClosed());
    });
    await t.step("ioredis and node-redis (RESP3) ping", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      assert.equal(await io.ping(), "PONG");
      io.disconnect();
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      assert.equal(await nr.ping(), "PONG");
      await nr.quit();
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("requirepass: NOAUTH, AUTH, WRONGPASS, HELLO AUTH", async () => {
  const srv = await startServer(["--requirepass=s3cret"]);
  try {
    const c = await RespClient.connect(srv.port);
    assert.deepEqual(await c.call("PING"), new Error("NOAUTH Authentication required."));
    assert.deepEqual(
      await c.call("AUTH", "nope"),
      new Error("WRONGPASS invalid username-password pair or user is disabled."),
    );
    assert.equal(await c.call("AUTH", "s3cret"), "OK");
    assert.equal(await c.call("PING"), "PONG");
    const d = await RespClient.connect(srv.port);
    const r = await d.call("HELLO", "3", "AUTH", "default", "s3cret");
    assert.ok(r instanceof Map);
    c.close();
    d.close();
  } finally {
    await srv.stop();
  }
});
