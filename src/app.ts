/**
 * Application start-up: turns parsed flags into a running server with its listeners.
 *
 * Invariant: every listener and background task started here is stopped by `stop()`.
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
