/**
 * TLS and mTLS listeners, the admin port and start-up validation, against real damselfly
 * processes with certificates made fresh by certs/gen-certs.sh: redis-cli, ioredis and
 * node-redis over TLS; refused handshakes (no client certificate, another CA); plaintext on a
 * TLS port and TLS on a plaintext port; certificate rotation with CONFIG SET while a
 * connection stays up; --admin_port with and without --no_tls_on_admin_port, --admin_nopass,
 * --restricted_commands; Dragonfly's start-up errors (exit code 1).
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { freePort, redisCli, RespClient, ROOT, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { type CertSet, redisCliTlsArgs, sharedTestCerts, tlsServerFlags } from "../helpers/certs.ts";

const BAD_TLS_HEADER = "-ERR Bad TLS header, double check if you enabled TLS for your client.\r\n";

/** A line-oriented RESP client over node:tls (simple replies), exposing the server certificate. */
class TlsLineClient {
  private buf = "";
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on("close", end);
    socket.on("error", end);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Connects to 127.0.0.1:port trusting `ca`, presenting `cert`/`key` when given. */
  static connect(port: number, opts: { ca: string; cert?: string; key?: string }): Promise<TlsLineClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        ca: Deno.readTextFileSync(opts.ca),
        cert: opts.cert ? Deno.readTextFileSync(opts.cert) : undefined,
        key: opts.key ? Deno.readTextFileSync(opts.key) : undefined,
      });
      socket.once("secureConnect", () => resolve(new TlsLineClient(socket)));
      socket.once("error", reject);
    });
  }

  /** SHA-256 fingerprint of the certificate the server presented. */
  serverFingerprint(): string {
    return this.socket.getPeerCertificate().fingerprint256;
  }

  /** Sends an inline command and returns the first reply line (null if the server closed). */
  async call(line: string, timeoutMs = 5_000): Promise<string | null> {
    this.socket.write(line + "\r\n");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.buf.indexOf("\r\n");
      if (nl !== -1) {
        const out = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 2);
        return out;
      }
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply to ${line}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}

/** The reply to PING over TLS presenting `client` (or no certificate); null when refused. */
async function tlsPingReply(port: number, ca: string, client?: { cert: string; key: string }): Promise<string | null> {
  let c: TlsLineClient;
  try {
    c = await TlsLineClient.connect(port, { ca, ...client });
  } catch {
    return null;
  }
  try {
    return await c.call("PING");
  } catch {
    return null;
  } finally {
    c.close();
  }
}

/** True when a TLS client presenting `client` (or no certificate) gets PONG. */
async function tlsPing(port: number, ca: string, client?: { cert: string; key: string }): Promise<boolean> {
  return (await tlsPingReply(port, ca, client)) === "+PONG";
}

function clientOf(set: CertSet): { cert: string; key: string } {
  return { cert: set.clientCert, key: set.clientKey };
}

/** Starts damselfly with TLS on its main port and waits until a TLS client gets PONG. */
async function startTlsServer(flags: string[], set: CertSet, opts: { env?: Record<string, string> } = {}) {
  const srv = await startServer(flags, { waitReady: false, env: opts.env });
  try {
    await waitFor(
      async () => /^(\+PONG|-NOAUTH)/.test(await tlsPingReply(srv.port, set.ca, clientOf(set)) ?? ""),
      `TLS PONG on ${srv.port}`,
      20_000,
      50,
    );
  } catch (e) {
    await srv.stop();
    throw new Error(`${(e as Error).message}\n${srv.logs()}`);
  }
  return srv;
}

/** Waits until the process log contains `text`. */
function waitLog(srv: ServerProcess, text: string): Promise<boolean> {
  return waitFor(() => srv.logs().includes(text), `log line containing ${JSON.stringify(text)}`, 5_000);
}

/** Runs damselfly with `flags` expecting it to refuse to start; returns exit code and stderr. */
async function startupFailure(flags: string[]): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}main.ts`, `--port=${freePort()}`, "--bind=127.0.0.1", ...flags],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(timer);
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

function fingerprintOf(certFile: string): string {
  return new X509Certificate(Deno.readTextFileSync(certFile)).fingerprint256;
}

Deno.test("TLS: certs/gen-certs.sh makes a CA, server, replica and client certificates", async () => {
  const certs = await sharedTestCerts();
  for (const set of [certs.main, certs.other]) {
    for (
      const f of [set.ca, set.serverCert, set.serverKey, set.replicaCert, set.replicaKey, set.clientCert, set.clientKey]
    ) {
      assert.ok(Deno.statSync(f).isFile, f);
    }
    const ca = new X509Certificate(Deno.readTextFileSync(set.ca));
    for (const f of [set.serverCert, set.replicaCert, set.clientCert]) {
      const cert = new X509Certificate(Deno.readTextFileSync(f));
      assert.ok(cert.checkIssued(ca), `${f} is signed by ${set.ca}`);
      assert.match(cert.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
    }
  }
  assert.notEqual(fingerprintOf(certs.main.ca), fingerprintOf(certs.other.ca));
});

Deno.test("TLS: mTLS listener with redis-cli, ioredis and node-redis; refused handshakes", async (t) => {
  const { main, other } = await sharedTestCerts();
  const srv = await startTlsServer(tlsServerFlags(main), main);
  try {
    await t.step("redis-cli --tls --cert --key --cacert", async () => {
      const args = redisCliTlsArgs(main);
      assert.equal(await redisCli(srv.port, [...args, "SET", "k", "over tls"]), "OK");
      assert.equal(await redisCli(srv.port, [...args, "GET", "k"]), '"over tls"');
    });
    await t.step("ioredis with the tls option", async () => {
      const io = new Redis({
        host: "127.0.0.1",
        port: srv.port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        tls: {
          ca: Deno.readTextFileSync(main.ca),
          cert: Deno.readTextFileSync(main.clientCert),
          key: Deno.readTextFileSync(main.clientKey),
        },
      });
      await io.connect();
      assert.equal(await io.get("k"), "over tls");
      const big = "x".repeat(1 << 20);
      await io.set("big", big);
      assert.equal(await io.get("big"), big);
      const pipe = io.pipeline();
      for (let i = 0; i < 1000; i++) pipe.incr("counter");
      const results = await pipe.exec();
      assert.deepEqual(results?.at(-1), [null, 1000]);
      io.disconnect();
    });
    await t.step("node-redis with socket.tls", async () => {
      const nr = createClient({
        socket: {
          host: "127.0.0.1",
          port: srv.port,
          tls: true,
          ca: Deno.readTextFileSync(main.ca),
          cert: Deno.readTextFileSync(main.clientCert),
          key: Deno.readTextFileSync(main.clientKey),
          reconnectStrategy: false,
        },
      });
      await nr.connect();
      assert.equal(await nr.get("k"), "over tls");
      assert.equal(await nr.incr("counter"), 1001);
      await nr.quit();
    });
    await t.step("no client certificate: handshake refused and logged", async () => {
      assert.equal(await tlsPing(srv.port, main.ca), false);
      await waitLog(srv, "peer sent no certificates");
      const out = await redisCli(srv.port, redisCliTlsArgs(main, false).concat(["PING"]));
      assert.notEqual(out, "PONG");
    });
    await t.step("certificate from another CA: refused and logged", async () => {
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(other)), false);
      await waitLog(srv, "client certificate rejected");
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), true);
    });
    await t.step("TLS 1.2 is accepted, TLS 1.1 refused", async () => {
      const sClient = async (version: string) =>
        await new Deno.Command("openssl", {
          args: [
            "s_client",
            version,
            "-connect",
            `127.0.0.1:${srv.port}`,
            "-CAfile",
            main.ca,
            "-cert",
            main.clientCert,
            "-key",
            main.clientKey,
            "-quiet",
          ],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      const tls12 = await sClient("-tls1_2");
      const w = tls12.stdin.getWriter();
      await w.write(new TextEncoder().encode("PING\r\nQUIT\r\n"));
      await w.close();
      const out12 = await tls12.output();
      assert.match(new TextDecoder().decode(out12.stdout), /^\+PONG\r\n/);
      const tls11 = await sClient("-tls1_1");
      await tls11.stdin.close();
      const out11 = await tls11.output();
      assert.equal(out11.success, false);
      assert.doesNotMatch(new TextDecoder().decode(out11.stdout), /PONG/);
    });
    await t.step("plaintext client on the TLS port: exact error, then close", async () => {
      const c = await RespClient.connect(srv.port);
      await c.send("PING\r\n");
      assert.equal(await c.readRaw(BAD_TLS_HEADER.length), BAD_TLS_HEADER);
      assert.ok(await c.waitClosed());
      c.close();
      assert.equal(
        await redisCli(srv.port, ["PING"]),
        "(error) ERR Bad TLS header, double check if you enabled TLS for your client.",
      );
      await waitLog(srv, "sent plaintext to TLS port");
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), true);
    });
    await t.step("garbage after a TLS record header, half handshakes and resets never hurt the server", async () => {
      const stalled = await RespClient.connect(srv.port);
      await stalled.send(new Uint8Array([0x16, 0x03, 0x01]));
      for (let i = 0; i < 20; i++) {
        const c = await RespClient.connect(srv.port);
        const junk = new Uint8Array(5 + i * 37);
        crypto.getRandomValues(junk);
        junk.set([0x16, 0x03, 0x01, (junk.length - 5) >> 8, (junk.length - 5) & 0xff], 0);
        const whole = i % 2 === 0;
        await c.send(whole ? junk : junk.subarray(0, 3));
        // A whole record that is not a ClientHello makes the server close; a half header waits.
        if (whole && i % 4 === 0) assert.ok(await c.waitClosed());
        c.close();
      }
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), true);
      assert.equal(await redisCli(srv.port, [...redisCliTlsArgs(main), "PING"]), "PONG");
      assert.ok(await stalled.waitClosed(20_000), "a stalled handshake is dropped after the handshake timeout");
      stalled.close();
      await waitLog(srv, "TLS handshake timeout");
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("TLS: a TLS client on a plaintext port is closed and logged", async () => {
  const { main } = await sharedTestCerts();
  const srv = await startServer();
  try {
    assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), false);
    await waitLog(srv, "sent a TLS handshake to plaintext port");
    assert.equal(await redisCli(srv.port, ["PING"]), "PONG");
  } finally {
    await srv.stop();
  }
});

Deno.test("TLS: password authentication over TLS without a CA", async () => {
  const { main } = await sharedTestCerts();
  const srv = await startTlsServer([...tlsServerFlags(main, false), "--requirepass=s3cret"], main);
  try {
    const args = redisCliTlsArgs(main, false);
    assert.equal(await redisCli(srv.port, [...args, "GET", "x"]), "(error) NOAUTH Authentication required.");
    assert.equal(await redisCli(srv.port, [...args, "--no-auth-warning", "-a", "s3cret", "PING"]), "PONG");
  } finally {
    await srv.stop();
  }
});

Deno.test("TLS: CONFIG SET rotates certificates; existing connections stay up", async (t) => {
  const { main, other } = await sharedTestCerts();
  const srv = await startTlsServer(tlsServerFlags(main), main);
  try {
    const before = await TlsLineClient.connect(srv.port, { ca: main.ca, ...clientOf(main) });
    assert.equal(before.serverFingerprint(), fingerprintOf(main.serverCert));
    assert.equal(await before.call("SET k v1"), "+OK");

    await t.step("one CONFIG SET switches cert, key and CA", async () => {
      const reply = await before.call(
        `CONFIG SET tls_cert_file ${other.serverCert} tls_key_file ${other.serverKey} tls_ca_cert_file ${other.ca}`,
      );
      assert.equal(reply, "+OK");
      await waitFor(() => tlsPing(srv.port, other.ca, clientOf(other)), "handshake with the new certificates");
      const after = await TlsLineClient.connect(srv.port, { ca: other.ca, ...clientOf(other) });
      assert.equal(after.serverFingerprint(), fingerprintOf(other.serverCert));
      assert.equal(await after.call("GET k"), "$2");
      after.close();
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), false, "old CA no longer accepted");
      assert.equal(await before.call("PING"), "+PONG", "connection made before the rotation is still up");
    });
    await t.step("Dragonfly's flow: set the files, then CONFIG SET tls true", async () => {
      assert.equal(await before.call(`CONFIG SET tls_cert_file ${main.serverCert}`), "+OK");
      assert.equal(await before.call(`CONFIG SET tls_key_file ${main.serverKey}`), "+OK");
      assert.equal(await before.call(`CONFIG SET tls_ca_cert_file ${main.ca}`), "+OK");
      assert.equal(await before.call("CONFIG SET tls true"), "+OK");
      await waitFor(() => tlsPing(srv.port, main.ca, clientOf(main)), "handshake with the original certificates");
      const c = await TlsLineClient.connect(srv.port, { ca: main.ca, ...clientOf(main) });
      assert.equal(c.serverFingerprint(), fingerprintOf(main.serverCert));
      c.close();
    });
    await t.step("CONFIG SET tls true with a missing key file is refused and changes nothing", async () => {
      assert.equal(await before.call("CONFIG SET tls_key_file /nonexistent/key.pem"), "+OK");
      await waitLog(srv, "TLS certificates not reloaded");
      assert.equal(
        await before.call("CONFIG SET tls true"),
        "-ERR CONFIG SET failed (possibly related to argument 'tls') - Failed to load TLS key from '/nonexistent/key.pem': no such file",
      );
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), true);
      assert.equal(await before.call(`CONFIG SET tls_key_file ${main.serverKey}`), "+OK");
    });
    await t.step("CONFIG SET tls false serves plaintext on the same port; TLS connections stay", async () => {
      assert.equal(await before.call("CONFIG SET tls false"), "+OK");
      await waitFor(async () => (await redisCli(srv.port, ["PING"])) === "PONG", "plaintext PONG after tls false");
      assert.equal(await before.call("PING"), "+PONG");
      assert.equal(await before.call("CONFIG SET tls true"), "+OK");
      await waitFor(() => tlsPing(srv.port, main.ca, clientOf(main)), "TLS again after tls true");
      assert.match(await redisCli(srv.port, ["PING"]), /Bad TLS header/);
    });
    before.close();
  } finally {
    await srv.stop();
  }
});

Deno.test("TLS: admin port", async (t) => {
  const { main } = await sharedTestCerts();
  await t.step("--no_tls_on_admin_port: admin plaintext while the main port requires TLS", async () => {
    const adminPort = freePort();
    const srv = await startTlsServer([
      ...tlsServerFlags(main),
      `--admin_port=${adminPort}`,
      "--admin_bind=127.0.0.1",
      "--no_tls_on_admin_port=true",
    ], main);
    try {
      assert.equal(await redisCli(adminPort, ["PING"]), "PONG");
      assert.match(await redisCli(srv.port, ["PING"]), /Bad TLS header/);
      assert.equal(await redisCli(srv.port, [...redisCliTlsArgs(main), "PING"]), "PONG");
    } finally {
      await srv.stop();
    }
  });
  await t.step("without it, the admin port keeps TLS (plaintext gets Bad TLS header)", async () => {
    const adminPort = freePort();
    const srv = await startTlsServer([...tlsServerFlags(main), `--admin_port=${adminPort}`], main);
    try {
      await waitFor(() => tlsPing(adminPort, main.ca, clientOf(main)), "TLS PONG on the admin port");
      assert.equal(
        await redisCli(adminPort, ["PING"]),
        "(error) ERR Bad TLS header, double check if you enabled TLS for your client.",
      );
      assert.equal(await redisCli(adminPort, [...redisCliTlsArgs(main), "PING"]), "PONG");
    } finally {
      await srv.stop();
    }
  });
  await t.step("--admin_nopass and --restricted_commands", async () => {
    const adminPort = freePort();
    const srv = await startServer([
      "--requirepass=pw",
      `--admin_port=${adminPort}`,
      "--admin_bind=127.0.0.1",
      "--admin_nopass",
      "--restricted_commands=flushall,debug,config",
    ]);
    try {
      const main = await RespClient.connect(srv.port);
      assert.deepEqual(await main.call("SET", "a", "1"), new Error("NOAUTH Authentication required."));
      assert.equal(await main.call("AUTH", "pw"), "OK");
      assert.deepEqual(
        await main.call("FLUSHALL"),
        new Error("ERR Cannot execute restricted command (admin only)"),
      );
      assert.deepEqual(
        await main.call("CONFIG", "GET", "port"),
        new Error("ERR Cannot execute restricted command (admin only)"),
      );
      assert.equal(await main.call("SET", "a", "1"), "OK");
      const admin = await RespClient.connect(adminPort);
      assert.equal(await admin.call("GET", "a"), "1", "admin_nopass: no AUTH needed");
      assert.equal(await admin.call("FLUSHALL"), "OK");
      assert.deepEqual(await admin.call("CONFIG", "GET", "requirepass"), ["requirepass", "pw"]);
      assert.equal(await main.call("DBSIZE"), 0);
      main.close();
      admin.close();
    } finally {
      await srv.stop();
    }
  });
  await t.step("the admin port asks for the password without --admin_nopass", async () => {
    const adminPort = freePort();
    const srv = await startServer(["--requirepass=pw", `--admin_port=${adminPort}`, "--admin_bind=127.0.0.1"]);
    try {
      assert.equal(await redisCli(adminPort, ["GET", "a"]), "(error) NOAUTH Authentication required.");
      assert.equal(await redisCli(adminPort, ["--no-auth-warning", "-a", "pw", "PING"]), "PONG");
    } finally {
      await srv.stop();
    }
  });
});

Deno.test("TLS: start-up validation (Dragonfly's messages, exit code 1)", async (t) => {
  const { main, other } = await sharedTestCerts();
  const cases: [string, string[], string][] = [
    ["TLS without password or CA", tlsServerFlags(main, false), "TLS configured but no authentication method is used!"],
    [
      "TLS without a key file",
      ["--tls", `--tls_cert_file=${main.serverCert}`, `--tls_ca_cert_file=${main.ca}`],
      "To use TLS, a server certificate must be provided with the --tls_key_file flag!",
    ],
    [
      "missing key file",
      ["--tls", "--tls_key_file=/nonexistent/k.pem", `--tls_cert_file=${main.serverCert}`, "--requirepass=x"],
      "Failed to load TLS key from '/nonexistent/k.pem': no such file",
    ],
    [
      "missing certificate file",
      ["--tls", `--tls_key_file=${main.serverKey}`, "--tls_cert_file=/nonexistent/c.pem", "--requirepass=x"],
      "Failed to load TLS certificate from '/nonexistent/c.pem': no such file",
    ],
    [
      "a key that is not a key",
      ["--tls", `--tls_key_file=${main.serverCert}`, `--tls_cert_file=${main.serverCert}`, "--requirepass=x"],
      `Failed to load TLS key from '${main.serverCert}'`,
    ],
    [
      "a certificate that does not match the key",
      ["--tls", `--tls_key_file=${main.serverKey}`, `--tls_cert_file=${other.serverCert}`, "--requirepass=x"],
      `Failed to load TLS certificate from '${other.serverCert}': it does not match the private key`,
    ],
    [
      "a CA file without certificates",
      [...tlsServerFlags(main, false), `--tls_ca_cert_file=${main.serverKey}`],
      `Failed to load TLS CA certificate from '${main.serverKey}': no PEM certificate in it`,
    ],
    ["tls_replication without key, cert or masterauth", ["--tls_replication"], "No authentication method configured!"],
    [
      "tls_replication with a key but no certificate",
      ["--tls_replication", `--tls_key_file=${main.replicaKey}`],
      "tls_cert_file flag should be set",
    ],
  ];
  for (const [name, flags, message] of cases) {
    await t.step(name, async () => {
      const { code, stderr } = await startupFailure(flags);
      assert.equal(code, 1, stderr);
      assert.ok(stderr.includes(message), `expected ${JSON.stringify(message)} in:\n${stderr}`);
    });
  }
  await t.step("tls_replication with masterauth only, or with key and certificate, starts", async () => {
    for (
      const flags of [
        ["--tls_replication", "--masterauth=x"],
        ["--tls_replication", `--tls_key_file=${main.replicaKey}`, `--tls_cert_file=${main.replicaCert}`],
      ]
    ) {
      const srv = await startServer(flags);
      assert.equal(await redisCli(srv.port, ["PING"]), "PONG");
      await srv.stop();
    }
  });
  await t.step("a CA directory (tls_ca_cert_dir) enables mTLS", async () => {
    const srv = await startTlsServer([
      "--tls",
      `--tls_cert_file=${main.serverCert}`,
      `--tls_key_file=${main.serverKey}`,
      `--tls_ca_cert_dir=${main.dir}`,
    ], main);
    try {
      assert.equal(await tlsPing(srv.port, main.ca), false);
      assert.equal(await tlsPing(srv.port, main.ca, clientOf(main)), true);
    } finally {
      await srv.stop();
    }
  });
});
