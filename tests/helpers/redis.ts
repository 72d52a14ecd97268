/**
 * Starts Debian's real redis-server on a free loopback port, as an oracle for differential
 * tests and as an interop peer.
 *
 * Invariant: every started server runs in its own temp dir and is killed by `stop()`.
 */
import { freePort, RespClient, waitFor } from "./server.ts";

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
 */
export async function startRedis(
  extra: string[] = [],
  opts: { port?: number; dir?: string } = {},
): Promise<RedisProcess> {
  const port = opts.port ?? freePort();
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "damselfly-redis-" });
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extra],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const status = child.status;
  await waitFor(async () => {
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
