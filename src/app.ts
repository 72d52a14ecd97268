/**
 * Application start-up: turns parsed flags into a running server with its listeners.
 *
 * Invariant: every listener and background task started here is stopped by `stop()`.
 */
import type { Config } from "./config/config.ts";
import { Server } from "./server/server.ts";
import { listenTcp, type RunningListener } from "./net/listener.ts";
import { configureLogging, log } from "./observability/log.ts";
import { startReplicaOfFlag } from "./replication/replica.ts";
import { persistenceOf } from "./rdb/snapshot.ts";
import { loadSnapshotAtStartup } from "./rdb/loader.ts";

/** A started damselfly instance. */
export interface App {
  /** The server state. */
  server: Server;
  /** Main port actually bound, or 0 when disabled. */
  port: number;
  /** Admin port actually bound, or 0 when disabled. */
  adminPort: number;
  /** Stops listeners and background tasks. */
  stop(): void;
}

/** Starts damselfly with the given configuration. */
export function startApp(config: Config): App {
  configureLogging({
    minLevel: config.num("minloglevel"),
    verbosity: config.num("v"),
    toStderr: config.bool("logtostderr") || config.bool("alsologtostderr") || config.str("log_dir") === "",
    dir: config.str("log_dir"),
  });
  config.onChange("v", (v) => configureLogging({ verbosity: v as number }));
  config.onChange("minloglevel", (v) => configureLogging({ minLevel: v as number }));
  const server = new Server(config);
  server.describe();
  // Snapshots: a bad --snapshot_cron or a bad snapshot file stops start-up (main exits 1).
  const persistence = persistenceOf(server);
  persistence.startCron();
  config.onChange("snapshot_cron", () => {
    try {
      persistence.startCron();
    } catch (e) {
      log.error(`snapshot_cron not changed: ${(e as Error).message}`);
    }
  });
  loadSnapshotAtStartup(server);
  const listeners: RunningListener[] = [];
  let port = 0;
  let adminPort = 0;
  const cfgPort = config.num("port");
  if (cfgPort !== 0) {
    const l = listenTcp(server, config.str("bind"), cfgPort === -1 ? 0 : cfgPort, "main");
    listeners.push(l);
    port = l.port;
    log.info(`listening on ${config.str("bind") || "0.0.0.0"}:${port}`);
  }
  if (config.num("admin_port") !== 0) {
    const l = listenTcp(server, config.str("admin_bind"), config.num("admin_port"), "admin");
    listeners.push(l);
    adminPort = l.port;
    log.info(`admin port listening on ${config.str("admin_bind") || "0.0.0.0"}:${adminPort}`);
  }
  server.start();
  startReplicaOfFlag(server);
  const stop = () => {
    for (const l of listeners) l.close();
    server.stop();
    persistence.stopCron();
    persistence.cancelBgsave();
    for (const c of [...server.clients.values()]) c.kill();
  };
  server.shutdown = async (save) => {
    log.info(`shutting down (save=${save})`);
    if (!(await persistence.shutdownSave(save))) return false;
    stop();
    setTimeout(() => Deno.exit(0), 10);
    return true;
  };
  return { server, port, adminPort, stop };
}
