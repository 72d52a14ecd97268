/**
 * Replication over TLS (issue 7, "Replication over TLS"), with certificates made fresh by
 * certs/gen-certs.sh: the seed's two scenarios end to end (an mTLS primary followed by a replica
 * with --tls_replication=true; a TLS primary followed in plaintext through its admin port with
 * --no_tls_on_admin_port), a link drop over TLS that ends in a partial sync, masterauth on every
 * replication connection (also set with CONFIG SET), Redis-protocol replication over TLS in
 * both directions with a real redis-server, and the refusals: a primary certificate from
 * another CA, a replica certificate from another CA, a wrong masterauth.
 *
 * Every wait is bounded; clients are redis-cli with --tls.
 */
import assert from "node:assert/strict";
import { freePort, redisCli, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { type CertSet, redisCliTlsArgs, sharedTestCerts, tlsServerFlags } from "../helpers/certs.ts";
import { explainFailure, info } from "../helpers/replication.ts";
import { startRedis } from "../helpers/redis.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";

/** redis-cli over TLS with `set`'s client certificate; returns stdout. */
function tlsCli(port: number, set: CertSet, args: string[]): Promise<string> {
  return redisCli(port, [...redisCliTlsArgs(set), ...args]);
}

/** Starts damselfly with TLS on its main port; waits until a TLS client gets PONG (or NOAUTH). */
async function startTlsServer(flags: string[], set: CertSet, readyPort?: number): Promise<ServerProcess> {
  const srv = await startServer(flags, { waitReady: false });
  try {
    await waitFor(
      async () => /^(PONG|\(error\) NOAUTH)/.test(await tlsCli(readyPort ?? srv.port, set, ["PING"])),
      `TLS PONG on ${readyPort ?? srv.port}`,
      20_000,
      50,
    );
  } catch (e) {
    await srv.stop();
    throw new Error(`${(e as Error).message}\n${srv.logs()}`);
  }
  return srv;
}

/** The replica's INFO replication fields, read over TLS. */
async function tlsInfo(port: number, set: CertSet): Promise<Record<string, string>> {
  const text = await tlsCli(port, set, ["INFO", "replication"]);
  return Object.fromEntries(
    text.split(/\r?\n/).filter((l) => l.includes(":")).map((
      l,
    ) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]),
  );
}

/** The flags of a replica that replicates over TLS presenting its own certificate. */
function tlsReplicationFlags(set: CertSet, ca = set.ca): string[] {
  return [
    "--tls_replication=true",
    `--tls_cert_file=${set.replicaCert}`,
    `--tls_key_file=${set.replicaKey}`,
    `--tls_ca_cert_file=${ca}`,
  ];
}

Deno.test({
  name: "replication over TLS: the seed's scenarios, link drops, masterauth, refusals",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { main, other } = await sharedTestCerts();

    await t.step("scenario 1: mTLS primary, replica with --tls_replication=true; data over TLS both ends", async () => {
      const primary = await startTlsServer([...tlsServerFlags(main), "--num_shards=2"], main);
      const replica = await startTlsServer(["--tls", ...tlsReplicationFlags(main)], main);
      try {
        await explainFailure({ primary, replica }, async () => {
          assert.equal(await tlsCli(primary.port, main, ["SET", "before", "sync"]), "OK");
          assert.equal(await tlsCli(replica.port, main, ["REPLICAOF", "127.0.0.1", String(primary.port)]), "OK");
          await waitFor(async () => (await tlsInfo(replica.port, main)).slave_repl_offset !== undefined, "stable sync");
          assert.equal(await tlsCli(primary.port, main, ["SET", "written", "over TLS"]), "OK");
          await waitFor(
            async () => (await tlsCli(replica.port, main, ["GET", "written"])) === '"over TLS"',
            "the write on the replica",
          );
          assert.equal(await tlsCli(replica.port, main, ["GET", "before"]), '"sync"');
          assert.match(primary.logs(), /Transitioned into stable sync/);
        });
      } finally {
        await replica.stop();
        await primary.stop();
      }
    });

    await t.step("scenario 2: plaintext replication through the primary's admin port", async () => {
      const primaryAdmin = freePort();
      const replicaAdmin = freePort();
      const primary = await startTlsServer(
        [
          ...tlsServerFlags(main),
          `--admin_port=${primaryAdmin}`,
          "--admin_bind=127.0.0.1",
          "--no_tls_on_admin_port=true",
        ],
        main,
      );
      const replica = await startTlsServer(
        [...tlsServerFlags(main), `--admin_port=${replicaAdmin}`, "--admin_bind=127.0.0.1"],
        main,
      );
      try {
        await explainFailure({ primary, replica }, async () => {
          // The replica's admin port keeps TLS: a plaintext client gets Dragonfly's helpful error.
          assert.equal(
            await redisCli(replicaAdmin, ["REPLICAOF", "127.0.0.1", String(primaryAdmin)]),
            "(error) ERR Bad TLS header, double check if you enabled TLS for your client.",
          );
          assert.equal(await tlsCli(primary.port, main, ["SET", "k", "v"]), "OK");
          assert.equal(await tlsCli(replicaAdmin, main, ["REPLICAOF", "127.0.0.1", String(primaryAdmin)]), "OK");
          await waitFor(async () => (await tlsCli(replica.port, main, ["GET", "k"])) === '"v"', "the full sync");
          assert.equal(await redisCli(primaryAdmin, ["SET", "k2", "plain admin"]), "OK");
          await waitFor(
            async () => (await tlsCli(replica.port, main, ["GET", "k2"])) === '"plain admin"',
            "stable sync",
          );
          // The primary's main port still requires TLS.
          assert.equal(
            await redisCli(primary.port, ["PING"]),
            "(error) ERR Bad TLS header, double check if you enabled TLS for your client.",
          );
        });
      } finally {
        await replica.stop();
        await primary.stop();
      }
    });

    await t.step("scenario 2 with --no_tls_on_admin_port on the replica too: a plaintext REPLICAOF", async () => {
      const primaryAdmin = freePort();
      const replicaAdmin = freePort();
      const adminFlags = (
        port: number,
      ) => [`--admin_port=${port}`, "--admin_bind=127.0.0.1", "--no_tls_on_admin_port=true"];
      const primary = await startTlsServer([...tlsServerFlags(main), ...adminFlags(primaryAdmin)], main);
      const replica = await startTlsServer([...tlsServerFlags(main), ...adminFlags(replicaAdmin)], main);
      try {
        assert.equal(await redisCli(primaryAdmin, ["SET", "k", "v"]), "OK");
        assert.equal(await redisCli(replicaAdmin, ["REPLICAOF", "127.0.0.1", String(primaryAdmin)]), "OK");
        await waitFor(async () => (await redisCli(replicaAdmin, ["GET", "k"])) === '"v"', "the full sync");
      } finally {
        await replica.stop();
        await primary.stop();
      }
    });

    await t.step("a link drop over TLS ends in a partial sync", async () => {
      const primary = await startTlsServer(tlsServerFlags(main), main);
      const proxy = startTcpProxy(primary.port);
      const replica = await startServer(tlsReplicationFlags(main));
      try {
        await explainFailure({ primary, replica }, async () => {
          assert.equal(await tlsCli(primary.port, main, ["SET", "a", "1"]), "OK");
          assert.equal(await redisCli(replica.port, ["REPLICAOF", "127.0.0.1", String(proxy.port)]), "OK");
          await waitFor(async () => (await info(replica.port)).slave_repl_offset !== undefined, "stable sync");
          proxy.cut(true);
          await waitFor(async () => (await info(replica.port)).master_link_status === "down", "the link down");
          assert.equal(await tlsCli(primary.port, main, ["SET", "b", "2"]), "OK");
          proxy.heal();
          await waitFor(async () => (await redisCli(replica.port, ["GET", "b"])) === '"2"', "the write after the drop");
          const r = await info(replica.port);
          assert.equal(r.psync_attempts, "1");
          assert.equal(r.psync_successes, "1");
        });
      } finally {
        proxy.close();
        await replica.stop();
        await primary.stop();
      }
    });

    await t.step("masterauth on every replication connection, settable with CONFIG SET", async () => {
      const primary = await startTlsServer([...tlsServerFlags(main), "--requirepass=pw", "--num_shards=3"], main);
      const replica = await startServer([...tlsReplicationFlags(main), "--masterauth=wrong"]);
      try {
        await explainFailure({ primary, replica }, async () => {
          const refused = await redisCli(replica.port, ["REPLICAOF", "127.0.0.1", String(primary.port)]);
          assert.match(refused, /could not connect to master: AUTH failed: WRONGPASS/);
          assert.equal(await redisCli(replica.port, ["ROLE"]), '1) "master"\n2) (empty array)');
          assert.equal(await redisCli(replica.port, ["CONFIG", "SET", "masterauth", "pw"]), "OK");
          assert.equal(await redisCli(replica.port, ["REPLICAOF", "127.0.0.1", String(primary.port)]), "OK");
          await waitFor(async () => (await info(replica.port)).slave_repl_offset !== undefined, "stable sync");
          const r = await tlsCli(primary.port, main, ["--no-auth-warning", "-a", "pw", "INFO", "replication"]);
          assert.match(r, /slave0:ip=127\.0\.0\.1,port=\d+,state=stable_sync/);
        });
      } finally {
        await replica.stop();
        await primary.stop();
      }
    });

    await t.step("refused: a primary certificate from another CA, a replica certificate from another CA", async () => {
      const primary = await startTlsServer(tlsServerFlags(main), main);
      const wrongCa = await startServer(tlsReplicationFlags(main, other.ca));
      const wrongCert = await startServer(tlsReplicationFlags(other, main.ca));
      try {
        const r1 = await redisCli(wrongCa.port, ["REPLICAOF", "127.0.0.1", String(primary.port)]);
        assert.match(r1, /could not connect to master: .*(UnknownIssuer|certificate)/i);
        const r2 = await redisCli(wrongCert.port, ["REPLICAOF", "127.0.0.1", String(primary.port)]);
        assert.match(r2, /^\(error\) ERR could not (connect to|greet) master/);
        for (const s of [wrongCa, wrongCert]) assert.equal((await info(s.port)).role, "master", "nothing changed");
      } finally {
        await wrongCert.stop();
        await wrongCa.stop();
        await primary.stop();
      }
    });
  },
});

Deno.test({
  name: "Redis-protocol replication over TLS with a real redis-server, both directions",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { main } = await sharedTestCerts();
    const fastSync = ["--repl-diskless-sync-delay", "0"];

    await t.step("damselfly follows an mTLS Redis primary", async () => {
      const redis = await startRedis(fastSync, { tls: main });
      const port = redis.port;
      const replica = await startServer(tlsReplicationFlags(main));
      try {
        await explainFailure({ replica }, async () => {
          assert.equal(await tlsCli(port, main, ["SET", "from", "redis"]), "OK");
          assert.equal(await redisCli(replica.port, ["REPLICAOF", "127.0.0.1", String(port)]), "OK");
          await waitFor(async () => (await redisCli(replica.port, ["GET", "from"])) === '"redis"', "the full sync");
          assert.equal(await tlsCli(port, main, ["SET", "stream", "too"]), "OK");
          await waitFor(async () => (await redisCli(replica.port, ["GET", "stream"])) === '"too"', "the stream");
        });
      } finally {
        await replica.stop();
        await redis.stop();
      }
    });

    await t.step("a TLS redis-server replica follows an mTLS damselfly primary", async () => {
      const primary = await startTlsServer(tlsServerFlags(main), main);
      const redis = await startRedis([...fastSync, "--replicaof", "127.0.0.1", String(primary.port)], { tls: main });
      const port = redis.port;
      try {
        await explainFailure({ primary }, async () => {
          assert.equal(await tlsCli(primary.port, main, ["SET", "from", "damselfly"]), "OK");
          await waitFor(
            async () => (await tlsCli(port, main, ["GET", "from"])) === '"damselfly"',
            "the replica's copy",
          );
        });
      } finally {
        await redis.stop();
        await primary.stop();
      }
    });
  },
});
