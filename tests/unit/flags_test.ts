/**
 * Unit tests of the flag parser (src/config/config.ts): every abseil syntax, --flagfile,
 * DFLY_* environment variables, byte sizes, Redis-syntax CONFIG values, errors, --help.
 */
import assert from "node:assert/strict";
import { Config, FlagError, helpText, parseBytes, parseFlagValue } from "../../src/config/config.ts";
import { FLAG_TABLE } from "../../src/config/flag_table.ts";

function parse(argv: string[], env: Record<string, string> = {}): Config {
  const c = new Config();
  c.parseArgs(argv, env);
  return c;
}

function parseError(argv: string[], env: Record<string, string> = {}): string {
  try {
    new Config().parseArgs(argv, env);
  } catch (e) {
    assert.ok(e instanceof FlagError, `expected a FlagError, got ${e}`);
    return e.message;
  }
  throw new Error(`no error for ${JSON.stringify(argv)}`);
}

Deno.test("flags: defaults", () => {
  const c = new Config();
  assert.equal(c.num("port"), 6379);
  assert.equal(c.num("dbnum"), 16);
  assert.equal(c.str("requirepass"), "");
  assert.equal(c.num("maxmemory"), 0);
  assert.equal(c.bool("replica_partial_sync"), true);
  assert.equal(c.explicit.size, 0);
});

Deno.test("flags: --name=value, --name value, -name=value, -name value", () => {
  assert.equal(parse(["--port=7000"]).num("port"), 7000);
  assert.equal(parse(["--port", "7001"]).num("port"), 7001);
  assert.equal(parse(["-port=7002"]).num("port"), 7002);
  assert.equal(parse(["-port", "7003"]).num("port"), 7003);
  const c = parse(["--bind", "127.0.0.1", "-dbnum=4", "--requirepass=a=b"]);
  assert.equal(c.str("bind"), "127.0.0.1");
  assert.equal(c.num("dbnum"), 4);
  assert.equal(c.str("requirepass"), "a=b", "only the first = separates name and value");
  assert.ok(c.explicit.has("bind") && c.explicit.has("dbnum") && !c.explicit.has("port"));
});

Deno.test("flags: booleans: --name, --name=true|false, --noname, -noname", () => {
  assert.equal(parse(["--admin_nopass"]).bool("admin_nopass"), true);
  assert.equal(parse(["-admin_nopass"]).bool("admin_nopass"), true);
  assert.equal(parse(["--admin_nopass=true"]).bool("admin_nopass"), true);
  assert.equal(parse(["--admin_nopass=false"]).bool("admin_nopass"), false);
  assert.equal(parse(["--replica_partial_sync=false"]).bool("replica_partial_sync"), false);
  assert.equal(parse(["--noreplica_partial_sync"]).bool("replica_partial_sync"), false);
  assert.equal(parse(["-noreplica_partial_sync"]).bool("replica_partial_sync"), false);
  // A flag whose own name starts with "no" is not mistaken for a negation.
  assert.equal(parse(["--no_tls_on_admin_port"]).bool("no_tls_on_admin_port"), true);
  assert.equal(parse(["--nono_tls_on_admin_port"]).bool("no_tls_on_admin_port"), false);
  // A boolean never consumes the next argument.
  assert.match(parseError(["--admin_nopass", "false"]), /positional argument 'false'/);
});

Deno.test("flags: byte sizes", () => {
  assert.equal(parse(["--maxmemory=512mb"]).num("maxmemory"), 512 * 1024 * 1024);
  assert.equal(parse(["--maxmemory=1gb"]).num("maxmemory"), 1024 ** 3);
  assert.equal(parse(["--maxmemory", "1G"]).num("maxmemory"), 1024 ** 3);
  assert.equal(parse(["--maxmemory=100k"]).num("maxmemory"), 102400);
  assert.equal(parse(["--maxmemory=4096"]).num("maxmemory"), 4096);
  assert.equal(parse(["--maxmemory=1.5gb"]).num("maxmemory"), 1.5 * 1024 ** 3);
  assert.equal(parseBytes("2GiB"), 2 * 1024 ** 3);
  assert.equal(parseBytes("10b"), 10);
  assert.equal(parseBytes("ten"), null);
  assert.equal(parseBytes("5x"), null);
  assert.match(parseError(["--maxmemory=lots"]), /^ERROR: Illegal value 'lots' specified for flag 'maxmemory'/);
});

Deno.test("flags: --flagfile with # comments, blank lines and both dash styles", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/damselfly.flags`;
    Deno.writeTextFileSync(
      file,
      "# damselfly flags\n\n--port=7100\n  # indented comment\n-dbnum=8\n--noreplica_partial_sync\n--maxmemory=2gb\n--save=3600 1 300 100\n",
    );
    const c = new Config();
    const r = c.parseArgs([`--flagfile=${file}`]);
    assert.equal(r.flagfile, file);
    assert.equal(c.flagfile, file);
    assert.equal(c.num("port"), 7100);
    assert.equal(c.num("dbnum"), 8);
    assert.equal(c.bool("replica_partial_sync"), false);
    assert.equal(c.num("maxmemory"), 2 * 1024 ** 3);
    assert.equal(c.str("save"), "3600 1 300 100");
    // The flagfile may also be given as `--flagfile FILE`; later flags override it.
    const d = new Config();
    d.parseArgs(["--flagfile", file, "--port=7200"]);
    assert.equal(d.num("port"), 7200);
    Deno.writeTextFileSync(file, "--port=7100\n--bogus=1\n");
    assert.equal(parseError([`--flagfile=${file}`]), `ERROR: Unknown command line flag 'bogus' in flagfile ${file}`);
    assert.match(parseError([`--flagfile=${dir}/missing`]), /^ERROR: cannot read flagfile/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("flags: DFLY_<name> environment variables and DFLY_PASSWORD", () => {
  const c = parse([], { DFLY_port: "7300", DFLY_MAXMEMORY: "1gb", DFLY_PASSWORD: "s3cret", HOME: "/root" });
  assert.equal(c.num("port"), 7300);
  assert.equal(c.num("maxmemory"), 1024 ** 3);
  assert.equal(c.str("requirepass"), "s3cret");
  // The command line wins over the environment.
  const d = parse(["--port=7400", "--requirepass=cli"], { DFLY_port: "7300", DFLY_PASSWORD: "env" });
  assert.equal(d.num("port"), 7400);
  assert.equal(d.str("requirepass"), "cli");
  assert.equal(parse([], { DFLY_requirepass: "x" }).str("requirepass"), "x");
  assert.equal(
    parseError([], { DFLY_port: "http" }),
    "ERROR: Illegal value 'http' specified for flag 'port' (from DFLY_port): argument couldn't be parsed into an integer",
  );
});

Deno.test("flags: unknown flags and bad values give one clear line", () => {
  assert.equal(parseError(["--bogus=1"]), "ERROR: Unknown command line flag 'bogus'");
  assert.equal(parseError(["--nobogus"]), "ERROR: Unknown command line flag 'nobogus'");
  assert.equal(parseError(["--noport"]), "ERROR: Unknown command line flag 'noport'");
  assert.equal(parseError(["stray"]), "ERROR: unexpected positional argument 'stray'");
  assert.equal(parseError(["--port"]), "ERROR: Missing the value for the flag 'port'");
  assert.equal(
    parseError(["--port=abc"]),
    "ERROR: Illegal value 'abc' specified for flag 'port': argument couldn't be parsed into an integer",
  );
  assert.equal(
    parseError(["--port=70000"]),
    "ERROR: Illegal value '70000' specified for flag 'port': argument must be between -1 and 65535 inclusive",
  );
  assert.equal(
    parseError(["--admin_nopass=maybe"]),
    "ERROR: Illegal value 'maybe' specified for flag 'admin_nopass': argument must be 'yes' or 'no'",
  );
  assert.match(parseError(["--maxmemory-policy=lru"]), /must be one of the following: volatile-lru, /);
  for (const argv of [["--bogus=1"], ["--port=abc"], ["x"]]) assert.ok(!parseError(argv).includes("\n"));
});

Deno.test("flags: Redis value syntax of CONFIG parameters", () => {
  const spec = (name: string) => FLAG_TABLE.find((f) => f.name === name)!;
  assert.equal(parseFlagValue(spec("save"), "900 1 300 10"), "900 1 300 10");
  assert.deepEqual(parseFlagValue(spec("save"), " 900 1"), { error: "Invalid save parameters" });
  assert.equal(parseFlagValue(spec("save"), ""), "");
  assert.deepEqual(parseFlagValue(spec("save"), "900"), { error: "Invalid save parameters" });
  assert.deepEqual(parseFlagValue(spec("save"), "a b"), { error: "Invalid save parameters" });
  assert.equal(parseFlagValue(spec("notify-keyspace-events"), "KEA"), "AKE");
  assert.equal(parseFlagValue(spec("notify-keyspace-events"), "Ex"), "xE");
  assert.equal(parseFlagValue(spec("notify-keyspace-events"), "Kmn"), "nKm");
  assert.equal(parseFlagValue(spec("notify-keyspace-events"), "g$lshzxetdK"), "AK");
  assert.deepEqual(parseFlagValue(spec("notify-keyspace-events"), "Q"), {
    error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
  });
  assert.equal(parseFlagValue(spec("hash-max-listpack-value"), "1k"), 1000);
  assert.equal(parseFlagValue(spec("hash-max-listpack-value"), "1kb"), 1024);
  assert.equal(parseFlagValue(spec("stream-node-max-bytes"), "4kb"), 4096);
  assert.deepEqual(parseFlagValue(spec("stream-node-max-bytes"), "1.5kb"), {
    error: "argument must be a memory value",
  });
  assert.deepEqual(parseFlagValue(spec("hash-max-listpack-entries"), "-1"), {
    error: "argument must be between 0 and 9223372036854775807 inclusive",
  });
  assert.deepEqual(parseFlagValue(spec("timeout"), "-1"), {
    error: "argument must be between 0 and 2147483647 inclusive",
  });
  assert.equal(parseFlagValue(spec("appendonly"), "yes"), true);
  assert.equal(parseFlagValue(spec("maxmemory-policy"), "ALLKEYS-LRU"), "allkeys-lru");
});

Deno.test("flags: CONFIG SET pairs are atomic and CONFIG GET matches globs and aliases", () => {
  const c = new Config();
  assert.equal(c.setPairs([["maxmemory", "10mb"], ["maxmemory-policy", "allkeys-lru"]]), null);
  assert.equal(c.num("maxmemory"), 10 * 1024 * 1024);
  assert.equal(
    c.setPairs([["maxmemory", "20mb"], ["maxmemory-policy", "bogus"]])?.startsWith(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of",
    ),
    true,
  );
  assert.equal(c.num("maxmemory"), 10 * 1024 * 1024, "nothing changes when one pair fails");
  assert.equal(c.setPairs([["bogus", "1"]]), "ERR Unknown option or number of arguments for CONFIG SET - 'bogus'");
  assert.equal(
    c.setPairs([["port", "1"]]),
    "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config",
  );
  assert.equal(
    c.setPairs([["maxmemory", "1"], ["maxmemory", "2"]]),
    "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter",
  );
  assert.deepEqual(c.getMatching(["maxmemory"]), [["maxmemory", String(10 * 1024 * 1024)]]);
  assert.deepEqual(c.getMatching(["databases"]), [["databases", "16"]]);
  const names = c.getMatching(["hash-max-*"]).map(([n]) => n).sort();
  assert.deepEqual(names, [
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
  ]);
  assert.deepEqual(c.getMatching(["nothing-matches-*"]), []);
});

Deno.test("flags: --help lists every flag with type and default; --version", () => {
  const text = helpText("9.9.9");
  for (const f of FLAG_TABLE) {
    const line = text.split("\n").find((l) => l.startsWith(`  --${f.name} (`));
    assert.ok(line, `--help lists ${f.name}`);
    assert.ok(line.includes(`type: ${f.type};`), `type of ${f.name}`);
    assert.ok(line.includes("default: "), `default of ${f.name}`);
  }
  assert.ok(new Config().parseArgs(["--help"]).help);
  assert.ok(new Config().parseArgs(["--version"]).version);
});
