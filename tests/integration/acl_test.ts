/**
 * Authentication and ACL users against real damselfly processes, differential with Debian's
 * redis-server 7.0 wherever the reply formats must match: AUTH/HELLO AUTH/NOAUTH/WRONGPASS
 * texts, ACL SETUSER rules and their errors, GETUSER/LIST/USERS/WHOAMI/CAT/DRYRUN/LOG replies,
 * -NOPERM texts for commands, keys (%R~/%W~ too) and channels, selectors, first-args, DELUSER
 * disconnecting clients, requirepass and DFLY_PASSWORD, ACL SAVE/LOAD with --aclfile, and a
 * replication user limited to what replication needs (revoking it breaks the link).
 *
 * Command rules are compared as sets after the leading +@all/-@all: Redis 7.0 lists single
 * commands in its command dict's hash order, which changes from one redis-server run to the
 * next.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { freePort, type Reply, RespClient, ROOT, startServer, waitFor } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { canonicalReply, type DiffStep, runDifferential } from "../helpers/differential.ts";
import { info } from "../helpers/replication.ts";

/**
 * Sorts each run of single-command rules (`+get -set`) in a rule string, keeping everything
 * else (categories, keys, channels, selector parentheses) in place.
 */
function normRules(rules: string): string {
  const tokens = rules.replaceAll("(", "( ").replaceAll(")", " )").split(" ");
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    out.push(...run.sort());
    run = [];
  };
  for (const t of tokens) {
    if (/^[+-][^@]/.test(t)) run.push(t);
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out.join(" ").replaceAll("( ", "(").replaceAll(" )", ")");
}

/** ACL LIST lines with their command rules normalized. */
function normList(r: Reply): unknown {
  return Array.isArray(r) ? r.map((line) => (typeof line === "string" ? normRules(line) : line)) : r;
}

/** ACL GETUSER with the command rules of every selector normalized. */
function normGetuser(r: Reply): unknown {
  const fix = (v: Reply): Reply => {
    if (!Array.isArray(v)) return v;
    const out = [...v];
    for (let i = 0; i + 1 < out.length; i += 2) {
      if (out[i] === "commands" && typeof out[i + 1] === "string") out[i + 1] = normRules(out[i + 1] as string);
      if (out[i] === "selectors" && Array.isArray(out[i + 1])) out[i + 1] = (out[i + 1] as Reply[]).map(fix);
    }
    return out;
  };
  return fix(r);
}

/** ACL LOG entries without the fields that differ by nature (age, client details). */
function normLog(r: Reply): unknown {
  if (!Array.isArray(r)) return r;
  return r.map((e) => {
    if (!Array.isArray(e)) return e;
    const out: Reply[] = [];
    for (let i = 0; i + 1 < e.length; i += 2) {
      if (e[i] === "age-seconds" || e[i] === "client-info") out.push(e[i], "*");
      else out.push(e[i], e[i + 1]);
    }
    return out;
  });
}

/** Runs steps on both servers and fails with every mismatch listed. */
async function expectSame(d: RespClient, r: RespClient, steps: DiffStep[]): Promise<void> {
  const mismatches = await runDifferential(d, r, steps);
  assert.deepEqual(mismatches, [], mismatches.join("\n"));
}

/** A connection to each server (damselfly first). */
async function pair(dPort: number, rPort: number): Promise<[RespClient, RespClient]> {
  return [await RespClient.connect(dPort), await RespClient.connect(rPort)];
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

Deno.test("ACL: differential with redis-server", async (t) => {
  const srv = await startServer();
  const redis = await startRedis();
  const [d, r] = await pair(srv.port, redis.port);
  try {
    await t.step("AUTH without a configured password, unknown users", async () => {
      await expectSame(d, r, [
        ["AUTH", "x"],
        ["AUTH", "nosuch", "x"],
        ["AUTH", "a", "b", "c"],
        ["AUTH", "default", "anything"],
        ["ACL", "WHOAMI"],
      ]);
    });
    await t.step("SETUSER rule errors", async () => {
      await expectSame(d, r, [
        ["ACL", "SETUSER", "a b"],
        ["ACL", "SETUSER", "x", "foo"],
        ["ACL", "SETUSER", "x", "+nosuchcommand"],
        ["ACL", "SETUSER", "x", "+@nosuchcategory"],
        ["ACL", "SETUSER", "x", "~*", "~a"],
        ["ACL", "SETUSER", "x", "&*", "&a"],
        ["ACL", "SETUSER", "x", "<nopw"],
        ["ACL", "SETUSER", "x", "#abc"],
        ["ACL", "SETUSER", "x", "!" + "A".repeat(64)],
        ["ACL", "SETUSER", "x", "+config|get|x"],
        ["ACL", "SETUSER", "x", "+get|"],
        ["ACL", "SETUSER", "x", "-select|0"],
        ["ACL", "SETUSER", "x", "%X~a"],
        ["ACL", "SETUSER", "x", "(~a +get"],
        ["ACL", "SETUSER", "x", "on", "+get", "bogus"],
        ["ACL", "GETUSER", "x"],
        ["ACL", "USERS"],
      ]);
    });
    await t.step("users, passwords and describe formats", async () => {
      await expectSame(d, r, [
        ["ACL", "SETUSER", "u1", "on", ">p1", "~foo*", "&ch*", "+get", "+set", "+subscribe", "+publish"],
        { cmd: ["ACL", "GETUSER", "u1"], norm: normGetuser },
        ["ACL", "SETUSER", "u2", "on", "nopass", "%R~r*", "%W~w*", "%RW~rw*", "+get", "+set", "resetchannels"],
        { cmd: ["ACL", "GETUSER", "u2"], norm: normGetuser },
        ["ACL", "SETUSER", "u3", "on", ">p3", "-@all", "+get", "~a*", "(+set ~b*)", "(+del", "~c*", "&x)"],
        { cmd: ["ACL", "GETUSER", "u3"], norm: normGetuser },
        ["ACL", "SETUSER", "u4", "on", "nopass", "allkeys", "allchannels", "allcommands", "-flushall", "-debug"],
        { cmd: ["ACL", "GETUSER", "u4"], norm: normGetuser },
        ["ACL", "SETUSER", "u5", "on", "nopass", "nocommands", "+select|0", "+select|2"],
        { cmd: ["ACL", "GETUSER", "u5"], norm: normGetuser },
        ["ACL", "SETUSER", "u6", ">a", ">b", ">a", "#" + sha256("c")],
        ["ACL", "SETUSER", "u6", "<b", "!" + sha256("c")],
        { cmd: ["ACL", "GETUSER", "u6"], norm: normGetuser },
        ["ACL", "SETUSER", "u6", "nopass", "skip-sanitize-payload"],
        { cmd: ["ACL", "GETUSER", "u6"], norm: normGetuser },
        ["ACL", "SETUSER", "u6", "reset"],
        { cmd: ["ACL", "GETUSER", "u6"], norm: normGetuser },
        ["ACL", "SETUSER", "u7", "on", "nopass", "+config|get", "+client", "-client|kill", "~*"],
        { cmd: ["ACL", "GETUSER", "u7"], norm: normGetuser },
        ["ACL", "SETUSER", "u8", "on", "nopass", "+@all", "-@dangerous", "+@all"],
        { cmd: ["ACL", "GETUSER", "u8"], norm: normGetuser },
        ["ACL", "SETUSER", "u9", "on", "nopass", "+@hyperloglog", "-pfmerge", "%R~h*"],
        { cmd: ["ACL", "GETUSER", "u9"], norm: normGetuser },
        ["ACL", "SETUSER", "u10", "on", "nopass", "-@all", "+@read", "-@read"],
        { cmd: ["ACL", "GETUSER", "u10"], norm: normGetuser },
        { cmd: ["ACL", "LIST"], norm: normList },
        ["ACL", "USERS"],
        ["ACL", "GETUSER", "nosuch"],
        ["ACL", "DELUSER", "default", "u1"],
        ["ACL", "DELUSER", "nosuch", "u10"],
        ["ACL", "USERS"],
      ]);
    });
    await t.step("CAT, HELP, GENPASS, subcommand errors", async () => {
      await expectSame(d, r, [
        ["ACL", "CAT"],
        ["ACL", "CAT", "nosuch"],
        ["ACL", "CAT", "a", "b"],
        ["ACL", "HELP"],
        ["ACL", "GENPASS", "0"],
        ["ACL", "GENPASS", "4097"],
        ["ACL", "GENPASS", "x"],
        ["ACL", "FOO"],
        ["ACL"],
        ["ACL", "LOAD"],
        ["ACL", "SAVE"],
        ["ACL", "WHOAMI", "x"],
      ]);
      for (const [bits, len] of [["", 64], ["1", 1], ["5", 2], ["128", 32]] as const) {
        const pass = await d.call("ACL", "GENPASS", ...(bits ? [bits] : []));
        assert.match(String(pass), new RegExp(`^[0-9a-f]{${len}}$`));
      }
      const hll = await d.call("ACL", "CAT", "hyperloglog");
      assert.ok(Array.isArray(hll) && ["pfadd", "pfcount", "pfmerge"].every((c) => hll.includes(c)), String(hll));
      const admin = await d.call("ACL", "CAT", "admin") as string[];
      assert.ok(admin.includes("acl|setuser") && admin.includes("config|set") && !admin.includes("acl|whoami"));
    });
    await t.step("DRYRUN", async () => {
      await expectSame(d, r, [
        ["ACL", "DRYRUN", "nosuch", "get", "a"],
        ["ACL", "DRYRUN", "u3", "get", "a1"],
        ["ACL", "DRYRUN", "u3", "get", "b1"],
        ["ACL", "DRYRUN", "u3", "set", "b1", "v"],
        ["ACL", "DRYRUN", "u3", "set", "a1", "v"],
        ["ACL", "DRYRUN", "u3", "del", "c1"],
        ["ACL", "DRYRUN", "u3", "hset", "a1", "f", "v"],
        ["ACL", "DRYRUN", "u3", "nosuchcmd"],
        ["ACL", "DRYRUN", "u3", "get"],
        ["ACL", "DRYRUN", "u7", "config", "get", "x"],
        ["ACL", "DRYRUN", "u7", "config", "set", "x", "y"],
        ["ACL", "DRYRUN", "u7", "config", "nosuch"],
        ["ACL", "DRYRUN", "u7", "config"],
        ["ACL", "DRYRUN", "u7", "client", "kill", "id", "1"],
        ["ACL", "DRYRUN", "u5", "select", "0"],
        ["ACL", "DRYRUN", "u5", "select", "1"],
        ["ACL", "DRYRUN", "u1", "publish", "ch1", "m"],
        ["ACL", "DRYRUN", "u1", "publish", "x", "m"],
      ]);
    });
    await t.step("NOPERM texts for commands, keys, channels; ACL LOG entries", async () => {
      await expectSame(d, r, [["ACL", "LOG", "RESET"], [
        "ACL",
        "SETUSER",
        "u1",
        "on",
        ">p1",
        "~foo*",
        "&ch*",
        "+get",
        "+set",
        "+subscribe",
        "+publish",
        "+multi",
        "+exec",
      ]]);
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [
        ["AUTH", "u1", "wrong"],
        ["AUTH", "u1", "p1"],
        ["ACL", "WHOAMI"],
        ["GET", "bar"],
        ["GET", "foox"],
        ["SET", "foo1", "v"],
        ["DEL", "foo1"],
        ["PUBLISH", "x", "m"],
        ["PUBLISH", "ch1", "m"],
        ["MULTI"],
        ["GET", "bar"],
        ["GET", "foo1"],
        ["EXEC"],
        ["MULTI"],
        ["GET", "foo1"],
        ["EXEC"],
      ]);
      du.close();
      ru.close();
      await expectSame(d, r, [
        { cmd: ["ACL", "LOG"], norm: normLog },
        { cmd: ["ACL", "LOG", "2"], norm: normLog },
        ["ACL", "LOG", "-1"],
        ["ACL", "LOG", "x"],
        ["ACL", "LOG", "RESET"],
        ["ACL", "LOG"],
      ]);
    });
    await t.step("ACL LOG counts repeated refusals and keeps the client's details", async () => {
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [["AUTH", "u1", "p1"], ["DEL", "foo1"], ["DEL", "foo1"], ["GET", "zzz"]]);
      await expectSame(d, r, [{ cmd: ["ACL", "LOG"], norm: normLog }]);
      const entries = await d.call("ACL", "LOG") as Reply[][];
      const del = entries.find((e) => e[7] === "del")!;
      assert.equal(del[1], 2);
      assert.match(String(del[13]), /cmd=del user=u1/);
      du.close();
      ru.close();
    });
    await t.step("%R~ and %W~ key permissions", async () => {
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [
        ["AUTH", "u2", "x"],
        ["GET", "r1"],
        ["SET", "r1", "v"],
        ["SET", "w1", "v"],
        ["GET", "w1"],
        ["SET", "rw1", "v"],
        ["GET", "rw1"],
      ]);
      du.close();
      ru.close();
    });
    await t.step("selectors and first-args", async () => {
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [
        ["AUTH", "u3", "p3"],
        ["GET", "a1"],
        ["SET", "b1", "v"],
        ["GET", "b1"],
        ["SET", "a1", "v"],
        ["DEL", "c1"],
        ["DEL", "a1"],
        ["PUBLISH", "x", "m"],
      ]);
      du.close();
      ru.close();
      const [d5, r5] = await pair(srv.port, redis.port);
      await expectSame(d5, r5, [["AUTH", "u5", "x"], ["SELECT", "0"], ["SELECT", "2"], ["SELECT", "1"], ["PING"]]);
      d5.close();
      r5.close();
    });
    await t.step("HELLO AUTH", async () => {
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [
        ["HELLO", "2", "AUTH", "u1", "wrong"],
        { cmd: ["HELLO", "2", "AUTH", "u1", "p1"], norm: (x) => Array.isArray(x) ? x.length : x },
        ["ACL", "WHOAMI"],
        ["ACL", "SETUSER", "u1", "off"],
        ["AUTH", "u1", "p1"],
        ["ACL", "SETUSER", "u1", "on"],
      ]);
      du.close();
      ru.close();
    });
    await t.step("DELUSER disconnects the user's clients; ACL SETUSER off does not", async () => {
      const du = await RespClient.connect(srv.port);
      assert.equal(await du.call("AUTH", "u1", "p1"), "OK");
      const dOther = await RespClient.connect(srv.port);
      await expectSame(d, r, [["ACL", "SETUSER", "u1", "off"]]);
      assert.equal(await du.call("GET", "foo"), null, "a disabled user's connections keep working");
      await expectSame(d, r, [["ACL", "DELUSER", "u1"]]);
      assert.ok(await du.waitClosed());
      assert.equal(await dOther.call("PING"), "PONG");
      dOther.close();
      du.close();
      const self = await RespClient.connect(srv.port);
      assert.equal(await self.call("ACL", "SETUSER", "me", "on", "nopass", "+acl", "+ping"), "OK");
      assert.equal(await self.call("AUTH", "me", "x"), "OK");
      assert.equal(await self.call("ACL", "DELUSER", "me"), 1, "the reply still reaches the deleting client");
      assert.ok(await self.waitClosed());
      self.close();
    });
    await t.step("revoked channels disconnect subscribers", async () => {
      assert.equal(await d.call("ACL", "SETUSER", "sub", "on", "nopass", "+subscribe", "&news*"), "OK");
      const s = await RespClient.connect(srv.port);
      assert.equal(await s.call("AUTH", "sub", "x"), "OK");
      assert.deepEqual(await s.call("SUBSCRIBE", "news1"), ["subscribe", "news1", 1]);
      assert.deepEqual(
        await s.call("SUBSCRIBE", "other"),
        new Error(
          "NOPERM this user has no permissions to access one of the channels used as arguments",
        ),
      );
      assert.equal(await d.call("ACL", "SETUSER", "sub", "&more"), "OK");
      assert.equal(await d.call("PUBLISH", "news1", "still here"), 1);
      assert.equal(await d.call("ACL", "SETUSER", "sub", "resetchannels", "&other"), "OK");
      assert.ok(await s.waitClosed());
      s.close();
      assert.equal(await d.call("ACL", "DELUSER", "sub"), 1);
    });
    await t.step("RESP3 shapes of GETUSER and LOG", async () => {
      const [d3, r3] = await pair(srv.port, redis.port);
      const resp3Log = (x: Reply) =>
        Array.isArray(x) ? x.map((e) => e instanceof Map ? [...e.keys()].map((k) => [k, typeof e.get(k)]) : e) : x;
      await expectSame(d3, r3, [
        { cmd: ["HELLO", "3"], norm: () => "hello" },
        { cmd: ["ACL", "GETUSER", "u3"], norm: (x) => x instanceof Map ? [...x.keys()] : x },
        ["ACL", "GETUSER", "nosuch"],
        ["ACL", "DELUSER", "nosuch"],
        { cmd: ["ACL", "LOG", "1"], norm: resp3Log },
      ]);
      const user = await d3.call("ACL", "GETUSER", "u3") as Map<Reply, Reply>;
      assert.deepEqual(user.get("flags"), ["on"]);
      d3.close();
      r3.close();
    });
    await t.step("requirepass is the default user's password", async () => {
      await expectSame(d, r, [
        ["CONFIG", "SET", "requirepass", "pw"],
        { cmd: ["ACL", "GETUSER", "default"], norm: normGetuser },
        { cmd: ["ACL", "LIST"], norm: normList },
      ]);
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [
        ["GET", "x"],
        ["ACL", "WHOAMI"],
        ["AUTH", "wrong"],
        ["AUTH", "pw"],
        ["ACL", "WHOAMI"],
      ]);
      du.close();
      ru.close();
      await expectSame(d, r, [["CONFIG", "SET", "requirepass", ""], {
        cmd: ["ACL", "GETUSER", "default"],
        norm: normGetuser,
      }]);
    });
  } finally {
    d.close();
    r.close();
    await srv.stop();
    await redis.stop();
  }
});

Deno.test("ACL: NOAUTH/WRONGPASS with requirepass, DFLY_PASSWORD, ioredis and node-redis users", async () => {
  const srv = await startServer([], { env: { DFLY_PASSWORD: "envpass" } });
  try {
    const c = await RespClient.connect(srv.port);
    assert.deepEqual(await c.call("GET", "a"), new Error("NOAUTH Authentication required."));
    assert.deepEqual(
      await c.call("AUTH", "bad"),
      new Error("WRONGPASS invalid username-password pair or user is disabled."),
    );
    assert.equal(await c.call("AUTH", "envpass"), "OK");
    assert.equal(await c.call("ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@all", "-@dangerous"), "OK");
    c.close();
    const io = new Redis({ port: srv.port, host: "127.0.0.1", username: "app", password: "apppw", lazyConnect: true });
    await io.connect();
    assert.equal(await io.set("app:1", "v"), "OK");
    await assert.rejects(io.set("other", "v"), /NOPERM this user has no permissions to access one of the keys/);
    await assert.rejects(io.flushall(), /NOPERM this user has no permissions to run the 'flushall' command/);
    io.disconnect();
    const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" }, username: "app", password: "apppw" });
    await nr.connect();
    assert.equal(await nr.get("app:1"), "v");
    assert.equal(await nr.sendCommand(["ACL", "WHOAMI"]), "app");
    await nr.quit();
  } finally {
    await srv.stop();
  }
});

Deno.test("ACL: SAVE and LOAD with --aclfile, differential; bad files", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-acl-" });
  const dFile = `${dir}/d.acl`;
  const rFile = `${dir}/r.acl`;
  const initial = "user default on nopass ~* &* +@all\nuser alice on #" + sha256("wonderland") +
    " ~cache:* resetchannels -@all +get +set\n";
  Deno.writeTextFileSync(dFile, initial);
  Deno.writeTextFileSync(rFile, initial);
  const srv = await startServer([`--aclfile=${dFile}`]);
  const redis = await startRedis(["--aclfile", rFile]);
  const [d, r] = await pair(srv.port, redis.port);
  const sameFiles = () => {
    const norm = (text: string) => normList(text.trim().split("\n") as Reply) as string[];
    assert.deepEqual(norm(Deno.readTextFileSync(dFile)), norm(Deno.readTextFileSync(rFile)));
  };
  try {
    await t.step("users from the file at start-up", async () => {
      await expectSame(d, r, [["ACL", "USERS"], { cmd: ["ACL", "LIST"], norm: normList }]);
      const [du, ru] = await pair(srv.port, redis.port);
      await expectSame(du, ru, [["AUTH", "alice", "wonderland"], ["SET", "cache:1", "x"], ["DEL", "cache:1"]]);
      du.close();
      ru.close();
    });
    await t.step("SAVE writes the same file as Redis", async () => {
      await expectSame(d, r, [
        ["ACL", "SETUSER", "bob", "on", ">builder", "%R~r*", "&chan", "+@read", "-keys"],
        ["ACL", "SETUSER", "carol", "off", "nopass", "(+get ~x*)"],
        ["ACL", "SAVE"],
      ]);
      sameFiles();
    });
    await t.step("LOAD replaces users and disconnects clients of replaced users", async () => {
      const bob = await RespClient.connect(srv.port);
      assert.equal(await bob.call("AUTH", "bob", "builder"), "OK");
      const text = "user default on nopass ~* &* +@all\nuser dave on nopass ~* -@all +ping\n";
      Deno.writeTextFileSync(dFile, text);
      Deno.writeTextFileSync(rFile, text);
      await expectSame(d, r, [["ACL", "LOAD"], ["ACL", "USERS"], { cmd: ["ACL", "LIST"], norm: normList }]);
      assert.ok(await bob.waitClosed());
      bob.close();
    });
    await t.step("LOAD of a bad file changes nothing and explains why", async () => {
      const bad = "user default on nopass ~* &* +@all\nuser eve on +nosuchcmd\nnotauser\nuser dave on\nuser dave off\n";
      Deno.writeTextFileSync(dFile, bad);
      Deno.writeTextFileSync(rFile, bad);
      const norm = (x: Reply) => {
        const v = canonicalReply(x);
        return JSON.parse(JSON.stringify(v).replaceAll(dFile, "FILE").replaceAll(rFile, "FILE"));
      };
      await expectSame(d, r, [{ cmd: ["ACL", "LOAD"], norm }, ["ACL", "USERS"]]);
      Deno.removeSync(dFile);
      Deno.removeSync(rFile);
      await expectSame(d, r, [{ cmd: ["ACL", "LOAD"], norm }]);
    });
    await t.step("a bad ACL file stops start-up (exit 1)", async () => {
      Deno.writeTextFileSync(dFile, "user x on +nosuchcmd\n");
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}main.ts`, `--port=${freePort()}`, `--aclfile=${dFile}`],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 1);
      assert.match(new TextDecoder().decode(out.stderr), /Aborting startup because of ACL errors: .*Unknown command/);
    });
  } finally {
    d.close();
    r.close();
    await srv.stop();
    await redis.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("ACL: a replication user limited to what replication needs; revoking it breaks the link", async () => {
  const primary = await startServer();
  const replica = await startServer(["--masteruser=repl", "--masterauth=replpw"]);
  try {
    const p = await RespClient.connect(primary.port);
    const rules = ["on", ">replpw", "-@all", "+ping", "+dfly", "+replconf", "resetchannels"];
    const hasPsync = !((await p.call("COMMAND", "INFO", "psync")) as Reply[]).includes(null);
    if (hasPsync) rules.push("+psync");
    assert.equal(await p.call("ACL", "SETUSER", "repl", ...rules), "OK");
    assert.equal(await p.call("SET", "k1", "v1"), "OK");
    const rc = await RespClient.connect(replica.port);
    assert.equal(await rc.call("REPLICAOF", "127.0.0.1", primary.port), "OK");
    await waitFor(async () => (await info(replica.port)).master_link_status === "up", "replication link up", 30_000);
    await waitFor(async () => (await rc.call("GET", "k1")) === "v1", "k1 on the replica");
    assert.equal(await p.call("SET", "k2", "v2"), "OK");
    await waitFor(async () => (await rc.call("GET", "k2")) === "v2", "k2 on the replica");

    // Revoke REPLCONF: the replica's ACKs are refused and the link goes down until restored.
    assert.equal(await p.call("ACL", "SETUSER", "repl", "-replconf"), "OK");
    await waitFor(async () => (await info(replica.port)).master_link_status === "down", "link down", 30_000);
    const log = await p.call("ACL", "LOG") as Reply[][];
    assert.ok(log.some((e) => e[7] === "replconf" && e[9] === "repl"), JSON.stringify(canonicalReply(log)));
    assert.equal(await p.call("ACL", "SETUSER", "repl", "+replconf"), "OK");
    await waitFor(async () => (await info(replica.port)).master_link_status === "up", "link up again", 30_000);
    assert.equal(await p.call("SET", "k3", "v3"), "OK");
    await waitFor(async () => (await rc.call("GET", "k3")) === "v3", "k3 on the replica");
    p.close();
    rc.close();
  } finally {
    await replica.stop();
    await primary.stop();
  }
});
