/**
 * Application start-up and shutdown: turns parsed flags into a running server with its
 * listeners, and takes it down gracefully (SHUTDOWN, SIGTERM, SIGINT, takeover).
 *
 * Invariants: every listener and background task started here is stopped by `stop()`. A
 * graceful shutdown holds every client command from its first step, so that each write a
 * client saw acknowledged is in what connected replicas acknowledged (waited for up to
 * SHUTDOWN_REPLICA_WAIT_MS) and in the snapshot saved with --dbfilename; replies already
 * produced are flushed before the process exits with status 0.
 */
import type { Config } from "./config/config.ts";
import { Server } from "./server/server.ts";
import { FlagError } from "./config/config.ts";
import { PortListener } from "./net/listener.ts";
import {
  loadTlsMaterial,
  serverTlsOptions,
  stagedFlags,
  TlsConfigError,
  type TlsMaterial,
  validateReplicationTls,
  validateServerTls,
} from "./net/tls.ts";
import { aclOf } from "./server/acl.ts";
import { loadAclFile } from "./commands/acl.ts";
import { configureLogging, log } from "./observability/log.ts";
import { notifySystemdReady } from "./observability/systemd.ts";
import { startReplicaOfFlag } from "./replication/replica.ts";
import { primaryOf } from "./replication/primary.ts";
import { pauseClients, unpauseClients } from "./commands/server_admin.ts";
import { closeHttpConnections } from "./net/http.ts";
import { persistenceOf } from "./rdb/snapshot.ts";
import { loadSnapshotAtStartup } from "./rdb/loader.ts";

/**
 * How long a shutdown waits for replicas in stable sync to acknowledge every write (Redis's
 * `shutdown-timeout` default); a replica that does not answer in time is left behind.
 */
const SHUTDOWN_REPLICA_WAIT_MS = 10_000;
/** How long a shutdown waits for clients to receive replies already produced. */
const SHUTDOWN_FLUSH_WAIT_MS = 2_000;
/** How long client commands are held during a shutdown (longer than the waits above). */
const SHUTDOWN_HOLD_MS = 60_000;

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
  /** Stops accepting, then shuts down gracefully (the signal path; see `handleShutdownSignals`). */
  shutdownOnSignal(): Promise<boolean>;
}

/**
 * Dragonfly's start-up checks of the TLS flags and files; returns the server's TLS material
 * (null without --tls). Throws FlagError (main prints it and exits 1) on any problem.
 */
function checkTlsAtStartup(config: Config): TlsMaterial | null {
  const problem = validateServerTls(config) ?? validateReplicationTls(config);
  if (problem !== null) throw new FlagError(problem);
  try {
    // The replica's client certificate is the same key/cert pair: check it now, not at REPLICAOF.
    if (config.bool("tls_replication") && config.str("tls_key_file") !== "") loadTlsMaterial(config);
    return config.bool("tls") ? loadTlsMaterial(config) : null;
  } catch (e) {
    if (e instanceof TlsConfigError) throw new FlagError(e.message);
    throw e;
  }
}

/**
 * Opens the main and admin listeners (TLS on both with --tls, except the admin port with
 * --no_tls_on_admin_port) and reloads their certificates on CONFIG SET tls / tls_*_file.
 */
function startListeners(
  server: Server,
  material: TlsMaterial | null,
): { listeners: PortListener[]; port: number; adminPort: number } {
  const config = server.config;
  const listeners: PortListener[] = [];
  const adminPlain = () => config.bool("no_tls_on_admin_port");
  const open = (host: string, port: number, origin: "main" | "admin", tlsOn: boolean) => {
    const l = new PortListener(server, host, port, origin, tlsOn && material ? serverTlsOptions(material) : null);
    listeners.push(l);
    const what = origin === "admin" ? "admin port listening" : "listening";
    l.ready.then(
      () => log.info(`${what} on ${host || "0.0.0.0"}:${l.port}${l.tls ? " (TLS)" : ""}`),
      (e) => {
        log.error((e as Error).message);
        Deno.exit(1);
      },
    );
    return l;
  };
  const cfgPort = config.num("port");
  const main = cfgPort !== 0 ? open(config.str("bind"), cfgPort === -1 ? 0 : cfgPort, "main", true) : null;
  const admin = config.num("admin_port") !== 0
    ? open(config.str("admin_bind"), config.num("admin_port"), "admin", !adminPlain())
    : null;

  // CONFIG SET tls true must find usable certificates; file flags alone are stored as given
  // (Dragonfly's flow: set the files, then `tls true`) and reloaded whenever they are consistent.
  config.addValidator("tls", (v, lookup) => {
    if (v !== true) return null;
    const staged = stagedFlags(lookup);
    try {
      return validateServerTls(staged) ?? (loadTlsMaterial(staged), null);
    } catch (e) {
      return (e as Error).message;
    }
  });
  let reloadQueued = false;
  const reload = async () => {
    reloadQueued = false;
    let options = null;
    if (config.bool("tls")) {
      try {
        options = serverTlsOptions(loadTlsMaterial(config));
      } catch (e) {
        log.warn(`TLS certificates not reloaded, new connections keep the previous ones: ${(e as Error).message}`);
        return;
      }
    }
    try {
      await main?.reconfigure(options);
      await admin?.reconfigure(adminPlain() ? null : options);
      log.info(options ? "TLS certificates loaded for new connections" : "TLS disabled for new connections");
    } catch (e) {
      log.error(`TLS reconfiguration failed: ${(e as Error).message}`);
    }
  };
  for (const flag of ["tls", "tls_cert_file", "tls_key_file", "tls_ca_cert_file", "tls_ca_cert_dir"]) {
    config.onChange(flag, () => {
      if (reloadQueued) return;
      reloadQueued = true;
      queueMicrotask(() => void reload());
    });
  }
  return { listeners, port: main?.port ?? 0, adminPort: admin?.port ?? 0 };
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
  const tls = checkTlsAtStartup(config);
  const server = new Server(config);
  server.describe();
  const aclfile = config.str("aclfile");
  if (aclfile !== "") {
    const err = loadAclFile(aclOf(server), aclfile, null);
    if (err !== null) throw new FlagError(`Aborting startup because of ACL errors: ${err}`);
  }
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
  const { listeners, port, adminPort } = startListeners(server, tls);
  server.start();
  startReplicaOfFlag(server);
  Promise.all(listeners.map((l) => l.ready)).then(
    () => notifySystemdReady(`serving on port ${listeners.map((l) => l.port).join(", ")}`),
    () => {},
  );
  const closeListeners = () => {
    for (const l of listeners) l.close();
  };
  const stop = () => {
    closeListeners();
    server.stop();
    persistence.stopCron();
    persistence.cancelBgsave();
    for (const c of [...server.clients.values()]) c.kill();
    closeHttpConnections(server);
  };
  let inProgress: Promise<boolean> | null = null;
  /**
   * Holds client commands, lets replicas acknowledge everything, saves (unless `save` is false,
   * or null without --dbfilename), flushes replies and exits 0. On a failed save the clients
   * are released and false is returned (SHUTDOWN then answers an error, as Redis does).
   */
  const shutdown = (save: boolean | null, why: string): Promise<boolean> => {
    if (inProgress !== null) return inProgress;
    const run = async () => {
      log.info(`shutting down (${why}, save=${save})`);
      server.stop();
      pauseClients(server, Date.now() + SHUTDOWN_HOLD_MS, false);
      await waitForReplicas(server, SHUTDOWN_REPLICA_WAIT_MS);
      if (!(await persistence.shutdownSave(save))) {
        unpauseClients(server);
        server.start();
        return false;
      }
      await flushReplies(server, SHUTDOWN_FLUSH_WAIT_MS);
      stop();
      log.info("shutdown complete; exiting");
      setTimeout(() => Deno.exit(0), 10);
      return true;
    };
    inProgress = run().finally(() => (inProgress = null));
    return inProgress;
  };
  server.shutdown = (save) => shutdown(save, "SHUTDOWN");
  const shutdownOnSignal = () => {
    closeListeners();
    return shutdown(null, "signal");
  };
  return { server, port, adminPort, stop, shutdownOnSignal };
}

/**
 * Waits until every replica in stable sync acknowledged the whole journal, for at most
 * `timeoutMs`. A journal PING makes replicas acknowledge at once instead of at their next
 * ACK interval.
 */
async function waitForReplicas(server: Server, timeoutMs: number): Promise<void> {
  const primary = primaryOf(server);
  const lagging = () => [...primary.sessions.values()].filter((s) => s.state === "stable_sync" && primary.lag(s) > 0);
  if (primary.sessions.size === 0) return;
  server.journal.ping();
  const deadline = Date.now() + timeoutMs;
  while (lagging().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  for (const s of lagging()) {
    log.warn(`shutdown: replica ${s.ip}:${s.port} did not acknowledge ${primary.lag(s)} journal records in time`);
  }
}

/** Waits until every client received the replies already produced, for at most `timeoutMs`. */
async function flushReplies(server: Server, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const drained = Promise.all([...server.clients.values()].map((c) => c.whenDrained(1)));
  await Promise.race([drained, expired]);
  clearTimeout(timer);
}

/**
 * SIGTERM and SIGINT shut `app` down gracefully (stop accepting, then as SHUTDOWN without
 * arguments); a second signal exits at once with status 1, as does a graceful shutdown whose
 * snapshot could not be saved.
 */
export function handleShutdownSignals(app: App): void {
  let signalled = false;
  const onSignal = (name: Deno.Signal) => {
    if (signalled) {
      log.warn(`${name} received again: exiting at once`);
      Deno.exit(1);
    }
    signalled = true;
    log.info(`${name} received: shutting down gracefully (send it again to exit at once)`);
    app.shutdownOnSignal().then((ok) => {
      if (ok) return;
      log.error("graceful shutdown failed: the snapshot could not be saved; exiting with status 1");
      Deno.exit(1);
    });
  };
  for (const name of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(name, () => onSignal(name));
}
