/**
 * HTTP on the RESP ports, with real processes: protocol detection from the first line (RESP
 * untouched, split first lines, HTTP/2 lines left to RESP), HTTP/1.1 keep-alive, HEAD,
 * Content-Length, 404/405/400/431/501, Basic auth (401 vs 200, `--admin_nopass`),
 * `--primary_port_http_enabled=false`, HTTPS on a TLS port, and `/metrics` content on a
 * primary and its replica checked by `promtool check metrics`.
 */
import assert from "node:assert/strict";
import { freePort, RespClient, startServer, waitFor } from "../helpers/server.ts";
import { basicAuth, HttpConnection, httpGet, parseMetrics, promtoolCheck } from "../helpers/http.ts";
import { call, explainFailure, primaryOffset, waitCaughtUp } from "../helpers/replication.ts";
import { sharedTestCerts, tlsServerFlags } from "../helpers/certs.ts";

Deno.test("HTTP on the main port: keep-alive, HEAD, errors, and RESP untouched", async (t) => {
  const adminPort = freePort();
  const srv = await startServer([`--admin_port=${adminPort}`, "--admin_bind=127.0.0.1"]);
  try {
    await t.step("one keep-alive connection serves several requests", async () => {
      const c = await HttpConnection.connect(srv.port);
      try {
        await c.request("GET", "/metrics");
        const m = await c.read();
        assert.equal(m.status, 200);
        assert.equal(m.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
        assert.equal(m.headers.get("connection"), "keep-alive");
        assert.equal(Number(m.headers.get("content-length")), new TextEncoder().encode(m.body).length);
        assert.match(m.body, /^dragonfly_master 1$/m);

        await c.request("HEAD", "/metrics");
        const h = await c.read({ head: true });
        assert.equal(h.status, 200);
        assert.ok(Number(h.headers.get("content-length")) > 1000);

        await c.request("GET", "/healthz");
        assert.deepEqual([(await c.read()).body], ["OK\n"]);

        await c.request("GET", "/nope");
        assert.equal((await c.read()).status, 404);

        await c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        const post = await c.read();
        assert.equal(post.status, 405);
        assert.equal(post.headers.get("allow"), "GET, HEAD");

        await c.request("GET", "/healthz", { Connection: "close" });
        const last = await c.read();
        assert.equal(last.headers.get("connection"), "close");
        await c.waitClosed();
      } finally {
        await c.close();
      }
    });

    await t.step("a first line that arrives in pieces is still HTTP", async () => {
      const c = await HttpConnection.connect(srv.port);
      try {
        await c.send("GE");
        // Either way the request must be served; the pause only makes a split read likely.
        await new Promise((r) => setTimeout(r, 50));
        await c.send("T /healthz HT");
        await new Promise((r) => setTimeout(r, 50));
        await c.send("TP/1.1\r\n\r\n");
        assert.equal((await c.read()).body, "OK\n");
      } finally {
        await c.close();
      }
    });

    await t.step("HTTP/1.0 closes after the response unless it asks for keep-alive", async () => {
      const c = await HttpConnection.connect(srv.port);
      try {
        await c.send("GET /healthz HTTP/1.0\r\n\r\n");
        assert.equal((await c.read()).headers.get("connection"), "close");
        await c.waitClosed();
      } finally {
        await c.close();
      }
      const k = await HttpConnection.connect(srv.port);
      try {
        await k.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert.equal((await k.read()).headers.get("connection"), "keep-alive");
        await k.send("GET /healthz HTTP/1.0\r\n\r\n");
        assert.equal((await k.read()).status, 200);
      } finally {
        await k.close();
      }
    });

    await t.step("malformed requests are refused and the connection closes", async () => {
      const cases: [string, number][] = [
        ["GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
        ["GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400],
        ["GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400],
        ["GET nope HTTP/1.1\r\n\r\n", 400],
        ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501],
        ["POST / HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n", 413],
        [`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
      ];
      for (const [raw, status] of cases) {
        const c = await HttpConnection.connect(srv.port);
        try {
          await c.send(raw);
          assert.equal((await c.read()).status, status, JSON.stringify(raw.slice(0, 60)));
          await c.waitClosed();
        } finally {
          await c.close();
        }
      }
    });

    await t.step("random bytes after an HTTP request line never take the server down", async () => {
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let round = 0; round < 40; round++) {
        const junk = Array.from({ length: 1 + Math.floor(random() * 300) }, () => String.fromCharCode(random() * 256))
          .join("");
        const c = await HttpConnection.connect(srv.port);
        try {
          await c.send(`GET /metrics HTTP/1.1\r\n${junk}`);
          await c.send(round % 2 === 0 ? "\r\n\r\n" : "");
        } catch {
          // the server may already have answered and closed
        } finally {
          await c.close();
        }
      }
      assert.equal(await call(srv.port, "PING"), "PONG");
      assert.equal((await httpGet(srv.port, "/healthz")).body, "OK\n");
    });

    await t.step("lines that are not HTTP/1.x requests reach the RESP parser", async () => {
      const r = await RespClient.connect(srv.port);
      try {
        await r.send("GET missing-key\r\n");
        assert.equal(await r.read(), null);
        await r.send("GET / HTTP/2.0\r\n");
        assert.deepEqual(await r.read(), new Error("ERR wrong number of arguments for 'get' command"));
        await r.send("get / HTTP/1.1\r\n");
        assert.deepEqual(await r.read(), new Error("ERR wrong number of arguments for 'get' command"));
        assert.equal(await r.call("SET", "GET / HTTP/1.1", "v"), "OK");
        assert.equal(await r.call("GET", "GET / HTTP/1.1"), "v");
      } finally {
        r.close();
      }
    });

    await t.step("HTTP scrapes are not counted as connected clients", async () => {
      const main = await RespClient.connect(srv.port);
      const admin = await RespClient.connect(adminPort);
      try {
        assert.equal(await main.call("PING"), "PONG");
        assert.equal(await admin.call("PING"), "PONG");
        const m = parseMetrics((await httpGet(srv.port, "/metrics")).body);
        assert.equal(m.get('dragonfly_connected_clients{listener="main"}'), 1);
        assert.equal(m.get('dragonfly_connected_clients{listener="other"}'), 1);
      } finally {
        main.close();
        admin.close();
      }
    });

    await t.step("the admin port serves HTTP too, and the server survived everything", async () => {
      assert.equal((await httpGet(adminPort, "/healthz")).body, "OK\n");
      assert.equal(await call(srv.port, "PING"), "PONG");
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("HTTP auth: /metrics and /healthz are open, other paths need Basic auth as default", async () => {
  const adminPort = freePort();
  const srv = await startServer(["--requirepass=s3cret", `--admin_port=${adminPort}`, "--admin_bind=127.0.0.1"]);
  const nopassAdmin = freePort();
  const open = await startServer([
    "--requirepass=s3cret",
    `--admin_port=${nopassAdmin}`,
    "--admin_bind=127.0.0.1",
    "--admin_nopass",
  ]);
  try {
    for (const port of [srv.port, adminPort]) {
      assert.equal((await httpGet(port, "/metrics")).status, 200);
      assert.equal((await httpGet(port, "/healthz")).status, 200);
      const denied = await httpGet(port, "/");
      assert.equal(denied.status, 401);
      assert.match(denied.headers.get("www-authenticate") ?? "", /^Basic realm="damselfly"/);
      assert.equal((await httpGet(port, "/", basicAuth("default", "wrong"))).status, 401);
      assert.equal((await httpGet(port, "/", basicAuth("alice", "s3cret"))).status, 401);
      assert.equal((await httpGet(port, "/", { Authorization: "Basic !!!" })).status, 401);
      assert.equal((await httpGet(port, "/nope")).status, 401);
      const ok = await httpGet(port, "/", basicAuth("default", "s3cret"));
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get("content-type") ?? "", /^text\/html/);
      assert.equal((await httpGet(port, "/nope", basicAuth("default", "s3cret"))).status, 404);
    }
    assert.equal((await httpGet(open.port, "/")).status, 401);
    assert.equal((await httpGet(nopassAdmin, "/")).status, 200);
  } finally {
    await srv.stop();
    await open.stop();
  }
});

Deno.test("--primary_port_http_enabled=false leaves the main port to RESP; the admin port keeps HTTP", async () => {
  const adminPort = freePort();
  const srv = await startServer([
    "--primary_port_http_enabled=false",
    `--admin_port=${adminPort}`,
    "--admin_bind=127.0.0.1",
  ]);
  try {
    const r = await RespClient.connect(srv.port);
    try {
      await r.send("GET /metrics HTTP/1.1\r\n");
      assert.deepEqual(await r.read(), new Error("ERR wrong number of arguments for 'get' command"));
    } finally {
      r.close();
    }
    assert.equal((await httpGet(adminPort, "/metrics")).status, 200);
  } finally {
    await srv.stop();
  }
});

Deno.test("HTTPS on a TLS port, plaintext HTTP on a --no_tls_on_admin_port admin port", async () => {
  const { main } = await sharedTestCerts();
  const ca = await Deno.readTextFile(main.ca);
  const adminPort = freePort();
  const srv = await startServer([
    ...tlsServerFlags(main, false),
    "--requirepass=pw",
    `--admin_port=${adminPort}`,
    "--admin_bind=127.0.0.1",
    "--no_tls_on_admin_port",
  ], { waitReady: false });
  try {
    const m = await waitFor(
      () => httpGet(srv.port, "/metrics", {}, { caCert: ca }),
      "HTTPS /metrics on the TLS port",
      20_000,
      50,
    );
    assert.equal(m.status, 200);
    assert.match(m.body, /^dragonfly_master 1$/m);
    assert.equal((await httpGet(adminPort, "/healthz")).body, "OK\n");
    assert.equal((await httpGet(srv.port, "/", basicAuth("default", "pw"), { caCert: ca })).status, 200);
  } finally {
    await srv.stop();
  }
});

Deno.test("/metrics on a primary and its replica: Dragonfly's names, values, and promtool check metrics", async () => {
  const primary = await startServer(["--num_shards=2", "--replication_acks_interval=100"]);
  const replica = await startServer(["--num_shards=2", `--replicaof=127.0.0.1:${primary.port}`]);
  try {
    await explainFailure({ primary, replica }, async () => {
      await waitCaughtUp(primary.port, [replica.port], 30_000);
      const c = await RespClient.connect(primary.port);
      try {
        for (let i = 0; i < 20; i++) assert.equal(await c.call("SET", `k${i}`, "v"), "OK");
        assert.equal(await c.call("GET", "absent"), null);
        assert.ok(await c.call("NOSUCHCOMMAND") instanceof Error);
        assert.equal(await c.call("SELECT", 3), "OK");
        assert.equal(await c.call("SET", "short", "v", "PX", 1), "OK");
        await waitFor(async () => (await c.call("EXISTS", "short")) === 0, "the key to expire");
      } finally {
        c.close();
      }
      await waitCaughtUp(primary.port, [replica.port], 30_000);

      const primaryText = (await httpGet(primary.port, "/metrics")).body;
      const p = parseMetrics(primaryText);
      const lagKey =
        `dragonfly_connected_replica_lag_records{replica_ip="127.0.0.1", replica_port="${replica.port}", replica_state="stable_sync"}`;
      await waitFor(
        async () => parseMetrics((await httpGet(primary.port, "/metrics")).body).get(lagKey) === 0,
        "lag 0 in /metrics",
      );
      assert.equal(p.get("dragonfly_master"), 1);
      assert.equal(p.get('dragonfly_commands_total{cmd="set"}'), 21);
      assert.ok((p.get('dragonfly_commands_duration_seconds{cmd="set"}') ?? 0) > 0);
      assert.equal(p.get('dragonfly_db_keys{db="db0"}'), 20);
      assert.equal(p.get('dragonfly_db_keys{db="db3"}'), 0);
      assert.equal(p.get('dragonfly_db_keys{db="db15"}'), 0);
      assert.equal(p.get('dragonfly_expired_keys_total{db="db3"}'), 1);
      assert.equal(p.get('dragonfly_errors_total{err="ERR"}'), 1);
      assert.equal(p.get("dragonfly_error_replies_total"), 1);
      assert.ok(p.get("dragonfly_keyspace_misses_total")! >= 1);
      assert.equal(p.get("dragonfly_master_repl_offset"), await primaryOffset(primary.port));
      assert.equal(p.get("dragonfly_replication_psync_count"), 0);
      for (
        const name of [
          "dragonfly_uptime_in_seconds",
          "dragonfly_memory_used_bytes",
          "dragonfly_used_memory_rss_bytes",
          "dragonfly_net_input_bytes_total",
          "dragonfly_net_output_bytes_total",
          "dragonfly_commands_processed_total",
          "dragonfly_connections_received_total",
        ]
      ) {
        assert.ok(p.has(name), `${name} missing`);
      }
      assert.ok(p.get("dragonfly_memory_used_bytes")! > 0 && p.get("dragonfly_used_memory_rss_bytes")! > 0);
      assert.match(primaryText, /^# TYPE dragonfly_connected_replica_lag_records gauge$/m);

      const replicaText = (await httpGet(replica.port, "/metrics")).body;
      const r = parseMetrics(replicaText);
      assert.equal(r.get("dragonfly_master"), 0);
      assert.equal(r.get("dragonfly_master_link_status"), 1);
      assert.equal(r.get("dragonfly_master_sync_in_progress"), 0);
      assert.equal(r.get('dragonfly_replica_sync_state{state="stable_sync"}'), 1);
      assert.equal(r.get('dragonfly_replica_sync_state{state="full_sync"}'), 0);
      assert.equal(r.get("dragonfly_replica_reconnect_count"), 1);
      assert.equal(r.get("dragonfly_psync_attempts_total"), 0);
      assert.equal(r.get("dragonfly_slave_repl_offset"), await primaryOffset(primary.port));
      assert.equal(r.get('dragonfly_db_keys{db="db0"}'), 20);
      assert.ok(!r.has(lagKey));

      for (const [who, text] of [["primary", primaryText], ["replica", replicaText]]) {
        const check = await promtoolCheck(text);
        assert.equal(check.code, 0, `promtool check metrics on the ${who}'s output: ${check.output}`);
      }
    });
  } finally {
    await replica.stop();
    await primary.stop();
  }
});
