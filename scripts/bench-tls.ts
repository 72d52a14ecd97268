/**
 * TLS benchmark: damselfly with --tls (mTLS: the CA is set, redis-benchmark presents a client
 * certificate) against Debian's redis-server with TLS (`--tls-port --tls-cert-file
 * --tls-key-file --tls-ca-cert-file --tls-auth-clients no`), started side by side in the same
 * run with certificates made fresh by certs/gen-certs.sh.
 *
 * Runs `redis-benchmark --tls --cacert --cert --key` (Debian's redis-benchmark 7.0 supports TLS)
 * for each test at -P 1 and -P 32, measures each server's CPU time per request from /proc, and
 * prints rps and CPU as ratios to Redis. Targets: ≥ 0.7× Redis at -P 1, ≥ 0.5× at -P 32.
 *
 * Usage: deno run -A scripts/bench-tls.ts [--requests N] [--clients N] [--tests ping,set,get]
 */
import { argValue, cpuTicks, freePort, redisBenchmarkRps, ROOT } from "./bench_lib.ts";

interface Target {
  name: string;
  port: number;
  pid: number;
  child: Deno.ChildProcess;
}

const REQUESTS = Number(argValue("requests", "200000"));
const CLIENTS = Number(argValue("clients", "50"));
const TESTS = argValue("tests", "ping,set,get,incr,lpush,hset").split(",");
const CLK_TCK = 100;

const certDir = await Deno.makeTempDir({ prefix: "damselfly-bench-tls-" });
const gen = await new Deno.Command("sh", {
  args: [`${ROOT}certs/gen-certs.sh`, certDir],
  env: { KEY_BITS: "2048" },
  stdout: "null",
  stderr: "inherit",
}).output();
if (!gen.success) throw new Error("certs/gen-certs.sh failed");
const CA = `${certDir}/ca-cert.pem`;
const tlsClientArgs = [
  "--tls",
  "--cacert",
  CA,
  "--cert",
  `${certDir}/client-cert.pem`,
  "--key",
  `${certDir}/client-key.pem`,
];

async function waitPing(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = await new Deno.Command("redis-cli", {
      args: ["-p", String(port), ...tlsClientArgs, "ping"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (new TextDecoder().decode(out.stdout).trim() === "PONG") return;
    if (Date.now() > deadline) throw new Error(`server on ${port} did not answer PING over TLS`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startDamselfly(): Promise<Target> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${ROOT}main.ts`,
      `--port=${port}`,
      "--bind=127.0.0.1",
      "--logtostderr=false",
      "--minloglevel=1",
      "--tls",
      `--tls_cert_file=${certDir}/server-cert.pem`,
      `--tls_key_file=${certDir}/server-key.pem`,
      `--tls_ca_cert_file=${CA}`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitPing(port);
  return { name: "damselfly", port, pid: child.pid, child };
}

async function startRedis(): Promise<Target> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      `${certDir}/server-cert.pem`,
      "--tls-key-file",
      `${certDir}/server-key.pem`,
      "--tls-ca-cert-file",
      CA,
      "--tls-auth-clients",
      "no",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitPing(port);
  return { name: "redis", port, pid: child.pid, child };
}

function redisBenchmark(port: number, test: string, pipeline: number): Promise<number> {
  return redisBenchmarkRps([
    "-p",
    String(port),
    ...tlsClientArgs,
    "-c",
    String(CLIENTS),
    "-n",
    String(REQUESTS),
    "-P",
    String(pipeline),
    "-t",
    test,
    "-r",
    "100000",
  ]);
}

async function flush(port: number): Promise<void> {
  await new Deno.Command("redis-cli", { args: ["-p", String(port), ...tlsClientArgs, "flushall"], stdout: "null" })
    .output();
}

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

const damselfly = await startDamselfly();
const redis = await startRedis();
const ratios: Record<number, number[]> = { 1: [], 32: [] };
console.log(`# damselfly vs redis-server over TLS (mTLS client certificates) — ${new Date().toISOString()}`);
console.log(`# redis-benchmark --tls -c ${CLIENTS} -n ${REQUESTS} -r 100000, per test at -P 1 and -P 32`);
console.log(
  "| test | P | damselfly rps | redis rps | rps ratio | damselfly CPU µs/req | redis CPU µs/req | CPU ratio |",
);
console.log("|---|---|---|---|---|---|---|---|");
try {
  for (const test of TESTS) {
    for (const p of [1, 32]) {
      const res: Record<string, { rps: number; cpuUs: number }> = {};
      for (const t of [damselfly, redis]) {
        await flush(t.port);
        const before = cpuTicks(t.pid);
        const rps = await redisBenchmark(t.port, test, p);
        const ticks = cpuTicks(t.pid) - before;
        const reqs = test === "ping" ? REQUESTS * 2 : REQUESTS;
        res[t.name] = { rps, cpuUs: (ticks / CLK_TCK) * 1e6 / reqs };
      }
      const d = res.damselfly;
      const r = res.redis;
      ratios[p].push(d.rps / r.rps);
      console.log(
        `| ${test} | ${p} | ${fmt(d.rps)} | ${fmt(r.rps)} | ${(d.rps / r.rps).toFixed(2)} | ${d.cpuUs.toFixed(2)} | ${
          r.cpuUs.toFixed(2)
        } | ${(d.cpuUs / r.cpuUs).toFixed(2)} |`,
      );
    }
  }
  const geo = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
  console.log("");
  console.log(
    `geometric mean rps ratio: -P 1 ${geo(ratios[1]).toFixed(2)} (target ≥ 0.70), -P 32 ${
      geo(ratios[32]).toFixed(2)
    } (target ≥ 0.50)`,
  );
} finally {
  for (const t of [damselfly, redis]) {
    try {
      t.child.kill("SIGKILL");
    } catch {
      // gone
    }
    await t.child.status;
  }
  await Deno.remove(certDir, { recursive: true }).catch(() => {});
}
