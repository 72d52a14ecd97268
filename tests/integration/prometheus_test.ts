/**
 * A real Prometheus server (Debian's `prometheus` package) scrapes a primary and its replica
 * every second; the test reads `dragonfly_connected_replica_lag_records` back through
 * Prometheus's HTTP API (/api/v1/query) while the replica lags (its process stopped with
 * SIGSTOP while the primary takes writes) and after it catches up (lag back to 0).
 */
import assert from "node:assert/strict";
import { freePort, RespClient, type ServerProcess, startServer, waitFor } from "../helpers/server.ts";
import { explainFailure, waitCaughtUp } from "../helpers/replication.ts";

/** One sample of an instant vector, as /api/v1/query returns it. */
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A Prometheus server process with its storage in a temp directory. */
interface PrometheusProcess {
  /** Base URL of its HTTP API. */
  url: string;
  /** Collected output (for failure reports). */
  logs(): string;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

async function startPrometheus(targets: number[]): Promise<PrometheusProcess> {
  const dir = await Deno.makeTempDir({ prefix: "damselfly-prometheus-" });
  const port = freePort();
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "scrape_configs:",
    "  - job_name: damselfly",
    "    static_configs:",
    `      - targets: [${targets.map((t) => `"127.0.0.1:${t}"`).join(", ")}]`,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  const child = new Deno.Command("prometheus", {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) output += decoder.decode(chunk);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const url = `http://127.0.0.1:${port}`;
  const proc: PrometheusProcess = {
    url,
    logs: () => output,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await pumps;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  try {
    await waitFor(
      async () => {
        const r = await fetch(`${url}/-/ready`);
        await r.body?.cancel();
        return r.ok;
      },
      "Prometheus to be ready",
      30_000,
      100,
    );
  } catch (e) {
    await proc.stop();
    throw new Error(`${(e as Error).message}\n${output}`);
  }
  return proc;
}

/** Runs an instant query and returns its vector. */
async function query(prom: PrometheusProcess, promql: string): Promise<Sample[]> {
  const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await r.json();
  if (body.status !== "success") throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
  return body.data.result as Sample[];
}

/** The replica's lag as Prometheus last scraped it from the primary, or null. */
async function scrapedLag(prom: PrometheusProcess, replica: ServerProcess): Promise<Sample | null> {
  const v = await query(prom, `dragonfly_connected_replica_lag_records{replica_port="${replica.port}"}`);
  return v.length === 1 ? v[0] : null;
}

Deno.test("Prometheus scrapes the replica lag while a replica lags and after it catches up", async () => {
  const primary = await startServer(["--num_shards=2", "--replication_timeout=120000"]);
  const replica = await startServer([
    "--num_shards=2",
    `--replicaof=127.0.0.1:${primary.port}`,
    "--replication_acks_interval=100",
  ]);
  let prom: PrometheusProcess | null = null;
  let stopped = false;
  try {
    await explainFailure({ primary, replica }, async () => {
      await waitCaughtUp(primary.port, [replica.port], 30_000);
      prom = await startPrometheus([primary.port, replica.port]);
      const p = prom;
      try {
        const synced = await waitFor(
          async () => {
            const s = await scrapedLag(p, replica);
            return s !== null && s.value[1] === "0" ? s : null;
          },
          "Prometheus to scrape lag 0",
          30_000,
          200,
        );
        assert.deepEqual(
          { ip: synced!.metric.replica_ip, state: synced!.metric.replica_state },
          { ip: "127.0.0.1", state: "stable_sync" },
        );
        const link = await waitFor(
          async () => (await query(p, `dragonfly_master_link_status{instance="127.0.0.1:${replica.port}"}`))[0],
          "the replica's link status in Prometheus",
          30_000,
          200,
        );
        assert.equal(link.value[1], "1");

        // Stop the replica: it neither reads nor acknowledges while the primary takes writes.
        Deno.kill(replica.child.pid, "SIGSTOP");
        stopped = true;
        const writer = await RespClient.connect(primary.port);
        let lagged: Sample | null = null;
        try {
          const deadline = Date.now() + 30_000;
          for (let batch = 0; lagged === null && Date.now() < deadline; batch++) {
            for (let i = 0; i < 50; i++) await writer.sendCommand("SET", `lag:${batch}:${i}`, "v");
            for (let i = 0; i < 50; i++) assert.equal(await writer.read(), "OK");
            const s = await scrapedLag(p, replica);
            if (s !== null && Number(s.value[1]) > 0) lagged = s;
            else await new Promise((r) => setTimeout(r, 100));
          }
        } finally {
          writer.close();
        }
        assert.ok(lagged !== null, "Prometheus never saw the replica lag");
        assert.equal(lagged.metric.replica_state, "stable_sync");

        Deno.kill(replica.child.pid, "SIGCONT");
        stopped = false;
        await waitFor(
          async () => (await scrapedLag(p, replica))?.value[1] === "0",
          "Prometheus to scrape lag 0 again",
          30_000,
          200,
        );
        await waitCaughtUp(primary.port, [replica.port], 30_000);
      } catch (e) {
        console.error(`----- Prometheus output -----\n${p.logs().split("\n").slice(-20).join("\n")}`);
        throw e;
      }
    });
  } finally {
    if (stopped) Deno.kill(replica.child.pid, "SIGCONT");
    await (prom as PrometheusProcess | null)?.stop();
    await replica.stop();
    await primary.stop();
  }
});
