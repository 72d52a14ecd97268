/**
 * The status page at `GET /`, loaded in headless Chromium (Debian's `chromium`, `--dump-dom`):
 * what a person sees on a primary (role, its replica with state and lag, keys) and on the
 * replica (role, link, sync state), that announced replica addresses are shown escaped, that
 * the page refreshes itself, and Basic auth through the URL's credentials.
 */
import assert from "node:assert/strict";
import { RespClient, startServer, waitFor } from "../helpers/server.ts";
import { explainFailure, waitCaughtUp } from "../helpers/replication.ts";
import { httpGet } from "../helpers/http.ts";

/** Loads `url` in headless Chromium and returns the DOM after the load (serialised HTML). */
async function chromiumDom(url: string): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "damselfly-chromium-" });
  try {
    const out = await new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--timeout=20000",
        "--dump-dom",
        url,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The text content of the element with `id` in a DOM dump (tags stripped), or null. */
function textById(dom: string, id: string): string | null {
  const m = new RegExp(`<(\\w+)[^>]* id="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(dom);
  return m === null ? null : m[2].replace(/<[^>]*>/g, "").trim();
}

Deno.test("status page in headless Chromium: primary with its replica, and the replica", async () => {
  const primary = await startServer(["--num_shards=2"]);
  const replica = await startServer([
    "--num_shards=2",
    `--replicaof=127.0.0.1:${primary.port}`,
    "--replica_announce_ip=<i>127.0.0.1</i>&",
  ]);
  try {
    await explainFailure({ primary, replica }, async () => {
      const c = await RespClient.connect(primary.port);
      try {
        for (let i = 0; i < 25; i++) assert.equal(await c.call("SET", `page:${i}`, i), "OK");
        assert.equal(await c.call("SELECT", 2), "OK");
        assert.equal(await c.call("SET", "other-db", "x", "EX", 1000), "OK");
      } finally {
        c.close();
      }
      await waitCaughtUp(primary.port, [replica.port], 30_000);
      // The primary's lag counts records the replica has not acknowledged yet (ACKs go out
      // every replication_acks_interval): wait for the ACK before looking at the page.
      await waitFor(async () => {
        const c = await RespClient.connect(primary.port);
        try {
          return /,state=stable_sync,lag=0\r\n/.test(String(await c.call("INFO", "replication")));
        } finally {
          c.close();
        }
      }, "the primary to see the replica's ACK (lag 0)");

      const page = await chromiumDom(`http://127.0.0.1:${primary.port}/`);
      assert.equal(textById(page, "role"), "master");
      assert.equal(textById(page, "keys"), "26");
      assert.match(textById(page, "memory") ?? "", /^\d+(\.\d+)?[BKMG].* \(\d+ bytes\)$/);
      assert.match(textById(page, "ops") ?? "", /^\d+$/);
      // The replica's line: announced address (escaped, shown as text), state and lag.
      const line =
        /<tr class="replica"><td class="addr">([^<]*)<\/td><td class="state">([^<]*)<\/td><td class="lag">([^<]*)<\/td><\/tr>/
          .exec(page);
      assert.ok(line !== null, `no replica line in ${page}`);
      assert.deepEqual(line.slice(1), [`&lt;i&gt;127.0.0.1&lt;/i&gt;&amp;:${replica.port}`, "stable_sync", "0"]);
      assert.ok(!page.includes("<i>"), "the announced address was not escaped");
      assert.match(page, /<meta http-equiv="refresh" content="\d+">/);
      assert.match(page, /<td>db2<\/td><td class="keys">1<\/td><td>1<\/td>/);

      const replicaPage = await chromiumDom(`http://127.0.0.1:${replica.port}/`);
      assert.equal(textById(replicaPage, "role"), "replica");
      assert.equal(textById(replicaPage, "master"), `127.0.0.1:${primary.port}`);
      assert.equal(textById(replicaPage, "link"), "up");
      assert.equal(textById(replicaPage, "sync-state"), "stable_sync");
      assert.equal(textById(replicaPage, "keys"), "26");
    });
  } finally {
    await replica.stop();
    await primary.stop();
  }
});

Deno.test("status page with requirepass: Chromium gets it with the URL's credentials only", async () => {
  const srv = await startServer(["--requirepass=pa55"]);
  try {
    assert.equal((await httpGet(srv.port, "/")).status, 401);
    const withoutCredentials = await chromiumDom(`http://127.0.0.1:${srv.port}/`);
    assert.equal(textById(withoutCredentials, "role"), null);
    const page = await chromiumDom(`http://default:pa55@127.0.0.1:${srv.port}/`);
    assert.equal(textById(page, "role"), "master");
    assert.equal(textById(page, "no-replicas"), "no replicas connected");
  } finally {
    await srv.stop();
  }
});
