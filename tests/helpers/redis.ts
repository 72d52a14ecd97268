/**
 * Starts Debian's real redis-server on a free loopback port, as an oracle for differential
 * tests and as an interop peer.
 *
 * Invariant: every started server runs in its own temp dir and is killed by `stop()`.
 */
import { freePort, redisCli, RespClient, waitFor } from "./server.ts";
import { type CertSet, redisCliTlsArgs } from "./certs.ts";

/** A running redis-server. */
export interface RedisProcess {
  /** Port it listens on. */
  port: number;
  /** Its working directory. */
  dir: string;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` with extra arguments (e.g. ["--requirepass", "x"]); `port` and `dir`
 * restart a server where an earlier one ran (the directory is then the caller's to remove).
 * With `tls`, the server listens with TLS only (mTLS with the set's CA and server certificate,
 * `tls-replication yes`) and readiness is checked with `redis-cli --tls`.
 */
export async function startRedis(
  extra: string[] = [],
  opts: { port?: number; dir?: string; tls?: CertSet } = {},
): Promise<RedisProcess> {
  const port = opts.port ?? freePort();
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "damselfly-redis-" });
  const t = opts.tls;
  const listen = t === undefined ? ["--port", String(port)] : [
    "--port",
    "0",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    t.serverCert,
    "--tls-key-file",
    t.serverKey,
    "--tls-ca-cert-file",
    t.ca,
    "--tls-replication",
    "yes",
  ];
  const child = new Deno.Command("redis-server", {
    args: [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extra],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const status = child.status;
  await waitFor(async () => {
    if (t !== undefined) return /PONG|NOAUTH/.test(await redisCli(port, [...redisCliTlsArgs(t), "PING"]));
    const c = await RespClient.connect(port);
    try {
      const r = await c.call("PING");
      return r === "PONG" || r instanceof Error;
    } finally {
      c.close();
    }
  }, `redis-server on ${port}`);
  return {
    port,
    dir,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await status;
      if (opts.dir === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
