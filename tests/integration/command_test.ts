/**
 * The command table as COMMAND serves it, against a real damselfly and a real
 * redis-server: every entry has a handler, COMMAND INFO's shape (RESP3 types included),
 * arity and key positions equal to Redis's for every command both know, exact entries for
 * the admin families, COMMAND DOCS/LIST/GETKEYS/GETKEYSANDFLAGS/COUNT/HELP, and arity
 * errors naming `parent|sub`.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Reply, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { type DiffStep, runDifferential } from "../helpers/differential.ts";
import { COMMANDS } from "../../src/commands/registry.ts";

/** One decoded COMMAND INFO entry. */
type Entry = [string, number, string[], number, number, number, string[], string[], Reply[], Entry[]];

function assertNoMismatch(mismatches: string[]): void {
  assert.deepEqual(mismatches, [], "replies differ from redis-server:\n" + mismatches.join("\n"));
}

/** Every entry of a COMMAND reply, subcommands included, by name. */
function flatten(entries: Entry[], out = new Map<string, Entry>()): Map<string, Entry> {
  for (const e of entries) {
    out.set(e[0], e);
    flatten(e[9], out);
  }
  return out;
}

/** The RESP type bytes of a raw reply, in order (`*`, `~`, `%`, `$`, `+`, `:`), values dropped. */
function skeleton(raw: string): string {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const t = raw[i];
    const nl = raw.indexOf("\r\n", i);
    const head = raw.slice(i + 1, nl);
    i = nl + 2;
    if (t === "$" || t === "=") {
      i += Number(head) + 2;
      out += t;
    } else if ("*~%>".includes(t)) {
      out += t + head;
    } else {
      out += t;
    }
  }
  return out;
}

/** Sends one command in RESP3 and returns its raw reply bytes (a PING after it marks the end). */
async function rawResp3(port: number, ...args: string[]): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    assert.ok((await c.call("HELLO", "3")) instanceof Map);
    await c.sendCommand(...args);
    await c.sendCommand("PING");
    await waitFor(() => c.pending().endsWith("+PONG\r\n"), `the reply to ${args.join(" ")}`);
    return c.pending().slice(0, -"+PONG\r\n".length);
  } finally {
    c.close();
  }
}

Deno.test("the command table: every entry runs something", () => {
  for (const [name, spec] of COMMANDS) {
    assert.equal(name, spec.name);
    assert.equal(name, name.toLowerCase(), `${name} is lower-case`);
    assert.ok(spec.arity !== 0, `${name} has an arity`);
    assert.ok(spec.handler || spec.subcommands, `${name} has a handler or subcommands`);
    for (const sub of spec.subcommands ?? []) {
      assert.ok(sub.name.startsWith(name + "|"), `${sub.name} is named ${name}|...`);
      assert.ok(sub.handler, `${sub.name} has a handler`);
      assert.ok(sub.arity !== 0, `${sub.name} has an arity`);
    }
  }
});

Deno.test("COMMAND serves the table in Redis 7's shape", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  const d = await RespClient.connect(srv.port);
  const r = await RespClient.connect(redis.port);
  try {
    const ours = flatten(await d.call("COMMAND") as Entry[]);
    const theirs = flatten(await r.call("COMMAND") as Entry[]);
    await t.step("COMMAND, COMMAND COUNT and COMMAND LIST agree with the registry", async () => {
      const top = await d.call("COMMAND") as Entry[];
      assert.equal(top.length, COMMANDS.size);
      assert.equal(await d.call("COMMAND", "COUNT"), COMMANDS.size);
      const list = await d.call("COMMAND", "LIST") as string[];
      assert.deepEqual(new Set(list), new Set(ours.keys()));
      for (const [name, spec] of COMMANDS) {
        assert.ok(list.includes(name));
        for (const sub of spec.subcommands ?? []) assert.ok(list.includes(sub.name));
      }
    });
    await t.step("every entry has ten well-typed elements", () => {
      for (const [name, e] of ours) {
        assert.equal(e.length, 10, name);
        assert.equal(typeof e[1], "number");
        assert.ok(e[2].every((f) => typeof f === "string"), `${name} flags`);
        assert.ok([e[3], e[4], e[5]].every((n) => typeof n === "number"), `${name} key positions`);
        assert.ok(e[6].length > 0 && e[6].every((c) => c.startsWith("@")), `${name} categories`);
        assert.ok(Array.isArray(e[7]) && Array.isArray(e[8]) && Array.isArray(e[9]), `${name} tips/specs/subs`);
        if (e[3] > 0) assert.ok(e[8].length > 0, `${name} has a key spec`);
      }
    });
    await t.step("arity and key positions equal Redis's for every command both know", () => {
      // Redis 7.2 gave ZRANK and ZREVRANK a WITHSCORE option (arity 3 → -3); redis-server here is 7.0.
      const changedSince70: Record<string, number> = { zrank: -3, zrevrank: -3 };
      const wrong: string[] = [];
      for (const [name, e] of ours) {
        const want = theirs.get(name);
        if (!want) continue;
        const arity = changedSince70[name] ?? want[1];
        const got = JSON.stringify([e[1], e[3], e[4], e[5]]);
        const exp = JSON.stringify([arity, want[3], want[4], want[5]]);
        if (got !== exp) wrong.push(`${name}: damselfly [arity, first, last, step] ${got}, redis ${exp}`);
      }
      assert.deepEqual(wrong, []);
    });
    await t.step("the admin families' entries equal Redis's (flags, categories, tips)", () => {
      const wrong: string[] = [];
      for (const [name, e] of ours) {
        const base = name.split("|")[0];
        if (
          !["info", "time", "lastsave", "shutdown", "monitor", "debug", "slowlog", "config", "command"].includes(base)
        ) {
          if (!name.startsWith("client|")) continue;
        }
        const want = theirs.get(name);
        if (!want) continue;
        const got = JSON.stringify([e[1], e[2], e[6], e[7]]);
        const exp = JSON.stringify([want[1], want[2], want[6], want[7]]);
        if (got !== exp) wrong.push(`${name}:\n  damselfly ${got}\n  redis     ${exp}`);
      }
      assert.deepEqual(wrong, []);
    });
    await t.step("RESP3 types of COMMAND INFO entries are Redis's", async () => {
      for (const name of ["get", "time", "mset", "slowlog|get", "slowlog|len", "config|set", "client|list"]) {
        assert.equal(
          skeleton(await rawResp3(srv.port, "COMMAND", "INFO", name)),
          skeleton(await rawResp3(redis.port, "COMMAND", "INFO", name)),
          `COMMAND INFO ${name}`,
        );
      }
    });
    await t.step("COMMAND INFO and DOCS lookups", async () => {
      const [get, none, cfg] = await d.call("COMMAND", "INFO", "GET", "nosuchcommand", "config|get") as Entry[];
      assert.equal(get[0], "get");
      assert.equal(none, null);
      assert.equal(cfg[0], "config|get");
      assert.deepEqual(get[8], theirs.get("get")![8], "GET's key spec is Redis's");
      const docs = await d.call("COMMAND", "DOCS", "get", "nosuch", "config") as Reply[];
      assert.equal(docs.length, 4);
      assert.equal(docs[0], "get");
      const getDoc = docs[1] as Reply[];
      assert.deepEqual(getDoc.slice(0, 6), ["summary", getDoc[1], "since", "1.0.0", "group", "string"]);
      assert.equal(docs[2], "config");
      const cfgDoc = docs[3] as Reply[];
      const subs = cfgDoc[cfgDoc.indexOf("subcommands") + 1] as Reply[];
      assert.ok(subs.includes("config|get") && subs.includes("config|set"));
      const redisDocs = await r.call("COMMAND", "DOCS", "get") as Reply[];
      const redisKeys = (redisDocs[1] as Reply[]).filter((_, i) => i % 2 === 0);
      for (const k of getDoc.filter((_, i) => i % 2 === 0)) assert.ok(redisKeys.includes(k), `DOCS field ${k}`);
      const all = await d.call("COMMAND", "DOCS") as Reply[];
      assert.equal(all.length, 2 * COMMANDS.size);
      assert.equal((await rawResp3(srv.port, "COMMAND", "DOCS", "get"))[0], "%");
    });
    await t.step("COMMAND LIST FILTERBY", async () => {
      assert.deepEqual(
        (await d.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*") as string[]).sort(),
        ["config", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set"],
      );
      const admin = await d.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "admin") as string[];
      assert.ok(admin.includes("config|set") && admin.includes("shutdown") && !admin.includes("get"));
      const steps: DiffStep[] = [
        ["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"],
        ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
        ["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        ["COMMAND", "LIST", "FILTERBY", "FOO", "bar"],
        ["COMMAND", "LIST", "FOO"],
        { cmd: ["COMMAND", "LIST", "FILTERBY", "PATTERN", "slowlog*"], norm: (x) => Array.isArray(x) ? x.sort() : x },
      ];
      assertNoMismatch(await runDifferential(d, r, steps));
    });
    await t.step("COMMAND GETKEYS and GETKEYSANDFLAGS", async () => {
      const steps: DiffStep[] = [
        ["COMMAND", "GETKEYS", "GET", "a"],
        ["COMMAND", "GETKEYS", "set", "a", "b"],
        ["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        ["COMMAND", "GETKEYS", "MSET", "a", "1", "b"],
        ["COMMAND", "GETKEYS", "MGET", "a", "b", "c"],
        ["COMMAND", "GETKEYS", "DEL", "a", "b"],
        ["COMMAND", "GETKEYS", "RENAME", "a", "b"],
        ["COMMAND", "GETKEYS", "SET", "a"],
        ["COMMAND", "GETKEYS", "PING", "x"],
        ["COMMAND", "GETKEYS", "CONFIG", "GET", "x"],
        ["COMMAND", "GETKEYS", "CONFIG", "NOSUCH", "x"],
        ["COMMAND", "GETKEYS", "NOSUCH", "x"],
        ["COMMAND", "GETKEYS", "GET"],
        ["COMMAND", "GETKEYS"],
        ["COMMAND", "GETKEYSANDFLAGS", "GET", "k"],
        ["COMMAND", "GETKEYSANDFLAGS", "DEL", "a", "b"],
        ["COMMAND", "GETKEYSANDFLAGS", "MSET", "a", "1", "b", "2"],
        ["COMMAND", "GETKEYSANDFLAGS", "NOSUCH", "x"],
      ];
      assertNoMismatch(await runDifferential(d, r, steps));
      const withFlags = await d.call("COMMAND", "GETKEYSANDFLAGS", "MSET", "a", "1", "b", "2") as Reply[];
      assert.deepEqual(withFlags.map((e) => (e as Reply[])[0]), ["a", "b"]);
      assert.ok(withFlags.every((e) => Array.isArray((e as Reply[])[1])));
    });
    await t.step("HELP, arity errors naming parent|sub, unknown subcommands", async () => {
      const steps: DiffStep[] = [
        ["COMMAND", "HELP"],
        ["COMMAND", "COUNT", "x"],
        ["COMMAND", "NOSUCH"],
        ["COMMAND", "INFO", "nosuch"],
        ["COMMAND", "DOCS", "nosuch"],
        ["CONFIG", "SET", "x"],
        ["CLIENT", "ID", "x"],
        ["SLOWLOG", "LEN", "x"],
        ["CONFIG"],
        ["CLIENT"],
      ];
      assertNoMismatch(await runDifferential(d, r, steps));
    });
    await t.step("ioredis reads the table", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      try {
        await io.connect();
        assert.equal(await io.call("COMMAND", "COUNT"), COMMANDS.size);
        const [entry] = await io.call("COMMAND", "INFO", "set") as Entry[];
        assert.equal(entry[0], "set");
        assert.deepEqual(await io.call("COMMAND", "GETKEYS", "SET", "k", "v"), ["k"]);
      } finally {
        io.disconnect();
      }
    });
  } finally {
    d.close();
    r.close();
    await srv.stop();
    await redis.stop();
  }
});
