/**
 * glog-style logging of real processes: the line format (level, mmdd time with microseconds,
 * pid, source file:line, message), `--v` (and CONFIG SET v), `--minloglevel` (and CONFIG SET
 * minloglevel), `--log_dir` with `--logtostderr` / `--alsologtostderr`, and the reasons logged
 * for replication state changes, sync decisions and refused TLS handshakes.
 */
import assert from "node:assert/strict";
import { RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { call, explainFailure, waitCaughtUp } from "../helpers/replication.ts";

const GLOG_LINE = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) (\d+) ([\w.-]+\.ts):(\d+)\] (.*)$/;

/** Sends a malformed multibulk (a protocol error, logged at --v=1) and waits for the close. */
async function protocolError(port: number): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    await c.send("*1\r\n$x\r\n");
    await c.waitClosed();
  } finally {
    c.close();
  }
}

/** Sends a TLS ClientHello header to a plaintext port (a warning) and waits for the close. */
async function tlsHelloOnPlaintext(port: number): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    await c.send(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]));
    await c.waitClosed();
  } finally {
    c.close();
  }
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

Deno.test("log lines are glog's: level, time, pid, source, message", async () => {
  const srv = await startServer([]);
  try {
    const lines = srv.logs().trimEnd().split("\n");
    assert.ok(lines.length >= 2, srv.logs());
    for (const line of lines) {
      const m = GLOG_LINE.exec(line);
      assert.ok(m !== null, `not a glog line: ${JSON.stringify(line)}`);
      assert.equal(Number(m[8]), srv.child.pid);
      assert.ok(Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= 31, line);
    }
    assert.match(srv.logs(), /^I\d{4} [\d:.]+ \d+ server\.ts:\d+\] damselfly \S+ starting: /m);
    assert.match(srv.logs(), /^I\d{4} [\d:.]+ \d+ app\.ts:\d+\] listening on 127\.0\.0\.1:\d+$/m);
  } finally {
    await srv.stop();
  }
});

Deno.test("--v shows verbose lines, also after CONFIG SET v", async () => {
  const verbose = await startServer(["--v=1"]);
  const quiet = await startServer([]);
  try {
    await protocolError(verbose.port);
    await waitFor(() => verbose.logs().includes("protocol error from"), "the verbose line");
    await protocolError(quiet.port);
    assert.equal(await call(quiet.port, "CONFIG", "SET", "v", "1"), "OK");
    await protocolError(quiet.port);
    await waitFor(() => quiet.logs().includes("protocol error from"), "the verbose line after CONFIG SET v 1");
    assert.equal(count(quiet.logs(), "protocol error from"), 1);
  } finally {
    await verbose.stop();
    await quiet.stop();
  }
});

Deno.test("--minloglevel drops less severe lines, also after CONFIG SET minloglevel", async () => {
  const warnings = await startServer(["--minloglevel=1"]);
  const errors = await startServer(["--minloglevel=2"]);
  try {
    await tlsHelloOnPlaintext(warnings.port);
    await waitFor(() => warnings.logs().includes("sent a TLS handshake to plaintext port"), "the warning");
    assert.ok(!/^I/m.test(warnings.logs()), warnings.logs());
    assert.match(warnings.logs(), /^W\d{4} .*listener\.ts:\d+\] .*sent a TLS handshake to plaintext port/m);

    await tlsHelloOnPlaintext(errors.port);
    assert.equal(await call(errors.port, "CONFIG", "SET", "minloglevel", "1"), "OK");
    await tlsHelloOnPlaintext(errors.port);
    await waitFor(() => errors.logs().includes("sent a TLS handshake"), "the warning after CONFIG SET minloglevel 1");
    assert.equal(count(errors.logs(), "sent a TLS handshake"), 1);
    assert.ok(!/^I/m.test(errors.logs()), errors.logs());
  } finally {
    await warnings.stop();
    await errors.stop();
  }
});

Deno.test("--log_dir writes damselfly.INFO; --logtostderr=false keeps stderr quiet unless --alsologtostderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-logs-" });
  const started: ServerProcess[] = [];
  const start = async (flags: string[]) => {
    const s = await startServer(flags);
    started.push(s);
    return s;
  };
  const fileText = async (d: string) => await Deno.readTextFile(`${d}/damselfly.INFO`).catch(() => "");
  try {
    const both = await start([`--log_dir=${dir}/both`]);
    await waitFor(async () => (await fileText(`${dir}/both`)).includes(`${both.port}`), "the log file");
    assert.match(both.logs(), /listening on 127\.0\.0\.1:\d+/);
    for (const line of (await fileText(`${dir}/both`)).trimEnd().split("\n")) assert.match(line, GLOG_LINE);

    const fileOnly = await start([`--log_dir=${dir}/file`, "--logtostderr=false"]);
    await waitFor(async () => (await fileText(`${dir}/file`)).includes(`${fileOnly.port}`), "the log file");
    await tlsHelloOnPlaintext(fileOnly.port);
    await waitFor(
      async () => (await fileText(`${dir}/file`)).includes("sent a TLS handshake"),
      "the warning in the file",
    );
    assert.equal(fileOnly.logs(), "");

    const also = await start([`--log_dir=${dir}/also`, "--logtostderr=false", "--alsologtostderr"]);
    await waitFor(async () => (await fileText(`${dir}/also`)).includes(`${also.port}`), "the log file");
    assert.match(also.logs(), new RegExp(`listening on 127\\.0\\.0\\.1:${also.port}`));
  } finally {
    for (const s of started) await s.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("replication state changes and sync decisions are logged with their reasons", async () => {
  const primary = await startServer(["--num_shards=2"]);
  const replica = await startServer(["--num_shards=2"]);
  try {
    await explainFailure({ primary, replica }, async () => {
      assert.equal(await call(replica.port, "REPLICAOF", "127.0.0.1", primary.port), "OK");
      await waitCaughtUp(primary.port, [replica.port], 30_000);
      const r = replica.logs();
      assert.match(r, /replica of 127\.0\.0\.1:\d+: connecting → preparation \(connected\)/);
      assert.match(r, /preparation → full_sync \(full sync: no LSNs saved from an earlier stable sync\)/);
      assert.match(r, /full_sync → stable_sync \(full sync done\)/);
      assert.match(primary.logs(), /Started full sync with replica 127\.0\.0\.1:\d+ \(SYNC\d+\)/);
      assert.equal(await call(replica.port, "REPLICAOF", "NO", "ONE"), "OK");
      await waitFor(() => replica.logs().includes("promoted to primary"), "the promotion line");
      await waitFor(() => /connection .* closed/.test(primary.logs()), "the dropped replica's line on the primary");
    });
  } finally {
    await replica.stop();
    await primary.stop();
  }
});
