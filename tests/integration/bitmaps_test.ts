/**
 * Bitmap commands against a real damselfly process: a differential run against real
 * redis-server (RESP2 and RESP3) over every option and error of SETBIT, GETBIT, BITCOUNT,
 * BITPOS, BITOP, BITFIELD and BITFIELD_RO, plus a seeded random sequence of bit operations
 * whose replies and resulting bytes must match; the real clients (redis-cli, ioredis,
 * node-redis). In-process checks cover the recorded forms and the setbit/set/del events.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { redisCli, startServer } from "../helpers/server.ts";
import { startRedis } from "../helpers/redis.ts";
import { assertSameAsRedis, type DiffStep } from "../helpers/differential.ts";
import { InProcessServer } from "../helpers/in_process.ts";

const SETBIT_STEPS: DiffStep[] = [
  ["SETBIT", "b", "7", "1"],
  ["GET", "b"],
  ["SETBIT", "b", "7", "1"],
  ["SETBIT", "b", "7", "0"],
  ["SETBIT", "b", "100", "0"],
  ["STRLEN", "b"],
  ["GET", "b"],
  ["SETBIT", "b", "0", "1"],
  ["GETBIT", "b", "0"],
  ["GETBIT", "b", "1"],
  ["GETBIT", "b", "100000"],
  ["GETBIT", "nokey", "3"],
  ["SETBIT", "b", "-1", "1"],
  ["SETBIT", "b", "abc", "1"],
  ["SETBIT", "b", "4294967296", "1"],
  ["SETBIT", "b", "1", "2"],
  ["SETBIT", "b", "1", "-1"],
  ["SETBIT", "b", "1", "x"],
  ["SETBIT", "b", "x", "x"],
  ["GETBIT", "b", "-1"],
  ["GETBIT", "b", "4294967296"],
  ["GETBIT", "b", "01"],
  ["SET", "str", "foobar"],
  ["SETBIT", "str", "3", "1"],
  ["GET", "str"],
  ["SET", "num", "1234"],
  ["GETBIT", "num", "2"],
  ["SETBIT", "num", "2", "0"],
  ["GET", "num"],
  ["XADD", "stream", "1-1", "f", "v"],
  ["SETBIT", "stream", "1", "1"],
  ["GETBIT", "stream", "1"],
  ["SETBIT", "stream", "-1", "1"],
  ["SETBIT", "b", "1"],
  ["GETBIT", "b"],
];

const COUNT_POS_STEPS: DiffStep[] = [
  ["SET", "s", "foobar"],
  ["BITCOUNT", "s"],
  ["BITCOUNT", "s", "0", "0"],
  ["BITCOUNT", "s", "1", "1"],
  ["BITCOUNT", "s", "1", "-2"],
  ["BITCOUNT", "s", "-3", "-1"],
  ["BITCOUNT", "s", "-1", "-3"],
  ["BITCOUNT", "s", "5", "2"],
  ["BITCOUNT", "s", "-100", "100"],
  ["BITCOUNT", "s", "100", "200"],
  ["BITCOUNT", "s", "5", "30", "BIT"],
  ["BITCOUNT", "s", "5", "30", "bit"],
  ["BITCOUNT", "s", "1", "1", "BYTE"],
  ["BITCOUNT", "s", "0", "-1", "BIT"],
  ["BITCOUNT", "s", "-9", "-2", "BIT"],
  ["BITCOUNT", "s", "3", "3", "BIT"],
  ["BITCOUNT", "s", "9", "14", "BIT"],
  ["BITCOUNT", "s", "1", "1", "NIBBLE"],
  ["BITCOUNT", "s", "1"],
  ["BITCOUNT", "s", "1", "2", "3", "4"],
  ["BITCOUNT", "s", "a", "1"],
  ["BITCOUNT", "s", "1", "b"],
  ["BITCOUNT", "s", "-9223372036854775808", "9223372036854775807", "BIT"],
  ["BITCOUNT", "nokey"],
  ["BITCOUNT", "nokey", "0", "1"],
  ["BITCOUNT", "nokey", "x"],
  ["SET", "z", ""],
  ["BITCOUNT", "z"],
  ["BITCOUNT", "z", "0", "-1"],
  ["SET", "bp", "\xff\xf0\x00"],
  ["BITPOS", "bp", "0"],
  ["BITPOS", "bp", "1"],
  ["BITPOS", "bp", "0", "1"],
  ["BITPOS", "bp", "0", "2"],
  ["BITPOS", "bp", "1", "2"],
  ["BITPOS", "bp", "1", "2", "-1"],
  ["BITPOS", "bp", "0", "0", "0"],
  ["BITPOS", "bp", "0", "0", "-1", "BYTE"],
  ["BITPOS", "bp", "1", "7", "15", "BIT"],
  ["BITPOS", "bp", "0", "7", "15", "BIT"],
  ["BITPOS", "bp", "0", "3", "5", "BIT"],
  ["BITPOS", "bp", "1", "12", "-1", "BIT"],
  ["BITPOS", "bp", "0", "12", "-1", "bit"],
  ["BITPOS", "bp", "0", "-5", "-1", "BIT"],
  ["BITPOS", "bp", "1", "5", "2"],
  ["BITPOS", "bp", "1", "100"],
  ["BITPOS", "bp", "0", "100"],
  ["BITPOS", "bp", "0", "0", "1", "NIBBLE"],
  ["BITPOS", "bp", "2"],
  ["BITPOS", "bp", "-1"],
  ["BITPOS", "bp", "x"],
  ["BITPOS", "bp", "1", "x"],
  ["BITPOS", "bp", "1", "0", "x"],
  ["BITPOS", "bp", "1", "0", "1", "BIT", "extra"],
  ["BITPOS", "nokey", "0"],
  ["BITPOS", "nokey", "1"],
  ["BITPOS", "nokey", "1", "0", "0", "FOO"],
  ["BITPOS", "nokey", "3"],
  ["SET", "ones", "\xff\xff"],
  ["BITPOS", "ones", "0"],
  ["BITPOS", "ones", "0", "0"],
  ["BITPOS", "ones", "0", "0", "-1"],
  ["BITPOS", "ones", "0", "0", "-1", "BIT"],
  ["SET", "zeros", "\x00\x00\x00"],
  ["BITPOS", "zeros", "1"],
  ["BITPOS", "zeros", "0", "1"],
  ["BITPOS", "zeros", "1", "0", "-1", "BIT"],
  ["BITPOS", "z", "0"],
  ["BITPOS", "z", "1"],
  ["XADD", "stream", "1-1", "f", "v"],
  ["BITCOUNT", "stream"],
  ["BITPOS", "stream", "1"],
  ["BITPOS", "stream", "2"],
];

const BITOP_STEPS: DiffStep[] = [
  ["SET", "a", "\xff\x0f\xaa"],
  ["SET", "b", "\x0f\xf0"],
  [
    "SET",
    "c",
    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23",
  ],
  ["BITOP", "AND", "dest", "a", "b"],
  ["GET", "dest"],
  ["BITOP", "or", "dest", "a", "b", "c"],
  ["GET", "dest"],
  ["BITOP", "XOR", "dest", "a", "b", "c", "nokey"],
  ["GET", "dest"],
  ["BITOP", "AND", "dest", "a", "nokey"],
  ["GET", "dest"],
  ["BITOP", "NOT", "dest", "a"],
  ["GET", "dest"],
  ["BITOP", "NOT", "dest", "c"],
  ["GET", "dest"],
  ["BITOP", "NOT", "dest", "a", "b"],
  ["BITOP", "NAND", "dest", "a"],
  ["BITOP", "AND", "dest", "nokey", "nokey2"],
  ["EXISTS", "dest"],
  ["BITOP", "OR", "dest", "nokey"],
  ["PEXPIRE", "a", "100000"],
  ["BITOP", "OR", "a", "a", "b"],
  ["TTL", "a"],
  ["GET", "a"],
  ["XADD", "stream", "1-1", "f", "v"],
  ["BITOP", "AND", "dest", "a", "stream"],
  ["BITOP", "AND", "stream", "a"],
  ["TYPE", "stream"],
  ["BITOP", "AND", "dest"],
];

const BITFIELD_STEPS: DiffStep[] = [
  ["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0"],
  ["BITFIELD", "bf", "INCRBY", "i8", "0", "100", "INCRBY", "i8", "0", "100"],
  ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "INCRBY", "i8", "0", "-1000"],
  ["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1000", "GET", "i8", "0"],
  ["BITFIELD", "bf", "OVERFLOW", "WRAP", "SET", "u8", "8", "300", "GET", "u8", "8"],
  ["BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "8", "300", "SET", "u8", "8", "-5", "GET", "u8", "8"],
  ["BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "8", "256", "SET", "i4", "16", "8", "SET", "i4", "16", "7"],
  ["BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"],
  ["BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"],
  ["BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"],
  ["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1"],
  ["BITFIELD", "bf", "SET", "u8", "#3", "200", "GET", "u8", "#3", "GET", "u8", "24"],
  ["BITFIELD", "bf", "SET", "i64", "64", "-9223372036854775808", "INCRBY", "i64", "64", "-1"],
  ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "64", "-1", "INCRBY", "i64", "64", "9223372036854775807"],
  ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "64", "9223372036854775807", "INCRBY", "i64", "64", "1"],
  ["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i64", "64", "1", "GET", "i64", "64"],
  ["BITFIELD", "bf", "SET", "u63", "128", "9223372036854775807", "GET", "u63", "128", "INCRBY", "u63", "128", "1"],
  ["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u63", "128", "-9223372036854775808", "INCRBY", "u63", "128", "5"],
  ["BITFIELD", "bf", "SET", "i1", "300", "1", "GET", "i1", "300", "GET", "u1", "300", "INCRBY", "i1", "300", "1"],
  ["BITFIELD", "bf", "SET", "i16", "5", "-12345", "GET", "i16", "5", "GET", "u16", "5", "GET", "i3", "7"],
  ["GET", "bf"],
  ["BITFIELD", "bf", "GET", "u8", "1000000", "GET", "i64", "3"],
  ["BITFIELD", "bf"],
  ["BITFIELD", "nokey", "GET", "u8", "0"],
  ["EXISTS", "nokey"],
  ["BITFIELD", "nokey2", "OVERFLOW", "FAIL", "SET", "u8", "0", "999"],
  ["GET", "nokey2"],
  ["BITFIELD", "grow", "SET", "u8", "0", "0"],
  ["GET", "grow"],
  ["BITFIELD", "grow", "SET", "u8", "16", "0"],
  ["GET", "grow"],
  ["BITFIELD", "bf", "GET", "u64", "0"],
  ["BITFIELD", "bf", "GET", "i65", "0"],
  ["BITFIELD", "bf", "GET", "i0", "0"],
  ["BITFIELD", "bf", "GET", "x8", "0"],
  ["BITFIELD", "bf", "GET", "I8", "0"],
  ["BITFIELD", "bf", "GET", "u", "0"],
  ["BITFIELD", "bf", "GET", "i08", "0"],
  ["BITFIELD", "bf", "GET", "u8", "-1"],
  ["BITFIELD", "bf", "GET", "u8", "#-1"],
  ["BITFIELD", "bf", "GET", "u8", "#x"],
  ["BITFIELD", "bf", "GET", "u8", "4294967296"],
  ["BITFIELD", "bf", "GET", "u8", "#536870912"],
  ["BITFIELD", "bf", "SET", "u8", "0", "x"],
  ["BITFIELD", "bf", "SET", "u8", "0"],
  ["BITFIELD", "bf", "GET", "u8"],
  ["BITFIELD", "bf", "INCRBY", "u8", "0"],
  ["BITFIELD", "bf", "OVERFLOW", "BOGUS", "GET", "u8", "0"],
  ["BITFIELD", "bf", "OVERFLOW"],
  ["BITFIELD", "bf", "FOO", "u8", "0"],
  ["BITFIELD", "bf", "GET", "u8", "0", "SET", "u8", "x", "1"],
  ["BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i4", "#1"],
  ["BITFIELD_RO", "bf", "SET", "u8", "0", "1"],
  ["BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"],
  ["BITFIELD_RO", "bf", "OVERFLOW", "SAT", "GET", "u8", "0"],
  ["BITFIELD_RO", "bf", "GET", "u64", "0"],
  ["BITFIELD_RO", "nokey", "GET", "u8", "0"],
  ["BITFIELD_RO", "bf"],
  ["XADD", "stream", "1-1", "f", "v"],
  ["BITFIELD", "stream", "GET", "u8", "0"],
  ["BITFIELD", "stream", "SET", "u8", "0", "1"],
  ["BITFIELD_RO", "stream", "GET", "u8", "0"],
  ["BITFIELD"],
  ["BITFIELD_RO"],
];

/** A seeded pseudo-random generator (LCG) so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** A random mix of bit writes and reads on a few keys, with GET to compare the bytes. */
function randomSteps(seed: number, n: number): DiffStep[] {
  const rand = lcg(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const key = () => `r${int(0, 3)}`;
  const type = () => (rand() < 0.5 ? `i${int(1, 64)}` : `u${int(1, 63)}`);
  const value = () => {
    const forms = [
      String(int(-300, 300)),
      String(int(-2147483648, 2147483647)),
      "9223372036854775807",
      "-9223372036854775808",
    ];
    return forms[int(0, forms.length - 1)];
  };
  const steps: DiffStep[] = [];
  for (let i = 0; i < n; i++) {
    const k = key();
    switch (int(0, 8)) {
      case 0:
        steps.push(["SETBIT", k, String(int(0, 300)), String(int(0, 1))]);
        break;
      case 1:
        steps.push(["BITCOUNT", k, String(int(-40, 40)), String(int(-40, 40)), rand() < 0.5 ? "BIT" : "BYTE"]);
        break;
      case 2:
        steps.push([
          "BITPOS",
          k,
          String(int(0, 1)),
          String(int(-40, 40)),
          String(int(-40, 40)),
          rand() < 0.5 ? "BIT" : "BYTE",
        ]);
        break;
      case 3:
        steps.push(["BITPOS", k, String(int(0, 1)), String(int(-10, 10))]);
        break;
      case 4: {
        const cmd: string[] = ["BITFIELD", k];
        for (let j = int(1, 4); j > 0; j--) {
          if (rand() < 0.3) cmd.push("OVERFLOW", ["WRAP", "SAT", "FAIL"][int(0, 2)]);
          const op = ["GET", "SET", "INCRBY"][int(0, 2)];
          const offset = rand() < 0.2 ? `#${int(0, 10)}` : String(int(0, 200));
          cmd.push(op, type(), offset);
          if (op !== "GET") cmd.push(value());
        }
        steps.push(cmd);
        break;
      }
      case 5:
        steps.push(["BITOP", ["AND", "OR", "XOR"][int(0, 2)], key(), key(), key()]);
        break;
      case 6:
        steps.push(["BITOP", "NOT", key(), key()]);
        break;
      case 7:
        steps.push(["GETBIT", k, String(int(0, 400))]);
        break;
      default:
        steps.push(["GET", k]);
    }
  }
  for (let i = 0; i < 4; i++) steps.push(["GET", `r${i}`]);
  return steps;
}

Deno.test("bitmaps: replies match redis-server exactly (RESP2 and RESP3, 4 shards)", async (t) => {
  const srv = await startServer(["--num_shards=4"]);
  const redis = await startRedis();
  try {
    await t.step("SETBIT and GETBIT", () => assertSameAsRedis(srv.port, redis.port, SETBIT_STEPS));
    await t.step("BITCOUNT and BITPOS (BYTE|BIT)", () => assertSameAsRedis(srv.port, redis.port, COUNT_POS_STEPS));
    await t.step("BITOP", () => assertSameAsRedis(srv.port, redis.port, BITOP_STEPS));
    await t.step("BITFIELD and BITFIELD_RO", () => assertSameAsRedis(srv.port, redis.port, BITFIELD_STEPS));
    for (const seed of [1, 2, 3]) {
      await t.step(
        `random bit operations (seed ${seed})`,
        () => assertSameAsRedis(srv.port, redis.port, randomSteps(seed, 400)),
      );
    }
  } finally {
    await redis.stop();
    await srv.stop();
  }
});

Deno.test("bitmaps: real clients", async (t) => {
  const srv = await startServer();
  try {
    await t.step("redis-cli", async () => {
      assert.equal(await redisCli(srv.port, ["setbit", "cli", "7", "1"]), "(integer) 0");
      assert.equal(await redisCli(srv.port, ["getbit", "cli", "7"]), "(integer) 1");
      assert.equal(await redisCli(srv.port, ["bitcount", "cli"]), "(integer) 1");
      assert.equal(
        await redisCli(srv.port, ["setbit", "cli", "-1", "1"]),
        "(error) ERR bit offset is not an integer or out of range",
      );
      assert.equal(
        await redisCli(srv.port, ["setbit", "cli", "1", "5"]),
        "(error) ERR bit is not an integer or out of range",
      );
      assert.equal(
        await redisCli(srv.port, ["bitfield", "cli", "get", "u64", "0"]),
        "(error) ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
      );
    });
    await t.step("ioredis", async () => {
      const io = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: true });
      await io.connect();
      try {
        assert.equal(await io.setbit("io", 3, 1), 0);
        assert.equal(await io.setbit("io", 3, 0), 1);
        assert.equal(await io.setbit("io", 10, 1), 0);
        assert.equal(await io.bitcount("io"), 1);
        assert.equal(await io.bitpos("io", 1), 10);
        assert.deepEqual(
          await io.call("BITFIELD", "io", "SET", "u4", "0", "15", "GET", "u4", "0", "INCRBY", "i4", "0", "1"),
          [0, 15, 0],
        );
        await io.set("x", "ab");
        await io.set("y", "ba");
        assert.equal(await io.bitop("XOR", "z", "x", "y"), 2);
        assert.equal(await io.getBuffer("z").then((b) => b?.toString("hex")), "0303");
      } finally {
        io.disconnect();
      }
    });
    await t.step("node-redis", async () => {
      const nr = createClient({ socket: { port: srv.port, host: "127.0.0.1" } });
      await nr.connect();
      try {
        assert.equal(await nr.setBit("nr", 0, 1), 0);
        assert.equal(await nr.getBit("nr", 0), 1);
        assert.equal(await nr.bitCount("nr"), 1);
        assert.deepEqual(await nr.sendCommand(["BITFIELD_RO", "nr", "GET", "u8", "0"]), [128]);
      } finally {
        await nr.quit();
      }
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("bitmaps: recorded writes and keyspace events", () => {
  const s = new InProcessServer(["--num_shards=4"]);
  s.server.config.setValue("notify-keyspace-events", "KEA");
  const events = () =>
    s.published.filter(([ch]) => ch.startsWith("__keyevent@0__:")).map(([ch, key]) => `${ch.slice(15)} ${key}`);
  const step = (cmd: string[], reply: string, writes: string[][], evs: string[]) => {
    s.clearRecords();
    assert.equal(s.call(...cmd), reply, cmd.join(" "));
    assert.deepEqual(s.writes.map((w) => w.args), writes, `writes of ${cmd.join(" ")}`);
    assert.deepEqual(events(), evs, `events of ${cmd.join(" ")}`);
  };
  step(["SETBIT", "b", "1", "1"], ":0\r\n", [["SETBIT", "b", "1", "1"]], ["setbit b"]);
  step(["SETBIT", "b", "1", "1"], ":1\r\n", [], []);
  step(["SETBIT", "b", "100", "0"], ":0\r\n", [["SETBIT", "b", "100", "0"]], ["setbit b"]);
  step(["BITFIELD", "b", "SET", "u8", "0", "64"], "*1\r\n:64\r\n", [], []);
  step(["BITFIELD", "b", "SET", "u8", "0", "65"], "*1\r\n:64\r\n", [["BITFIELD", "b", "SET", "u8", "0", "65"]], [
    "setbit b",
  ]);
  step(["BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u8", "0", "999"], "*1\r\n$-1\r\n", [[
    "BITFIELD",
    "new",
    "OVERFLOW",
    "FAIL",
    "SET",
    "u8",
    "0",
    "999",
  ]], []);
  // BITOP is recorded as the stored bytes (or DEL), touching only the destination; a short
  // result is then made raw (APPEND ""), as Redis's BITOP makes it.
  const b = s.client.slice("b").get("b") as string;
  const inverted = Array.from(b, (ch) => String.fromCharCode(~ch.charCodeAt(0) & 0xff)).join("");
  step(["BITOP", "NOT", "dest", "b"], ":13\r\n", [["MULTI"], ["SET", "dest", inverted], ["APPEND", "dest", ""], [
    "EXEC",
  ]], ["set dest"]);
  step(["BITOP", "AND", "dest", "nokey"], ":0\r\n", [["DEL", "dest"]], ["del dest"]);
  step(["BITOP", "AND", "dest", "nokey"], ":0\r\n", [], []);
});
