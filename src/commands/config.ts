/**
 * CONFIG family: GET, SET, RESETSTAT, REWRITE, HELP.
 *
 * Invariants: values come from and go to Config (src/config/config.ts), which owns parsing
 * and validation; CONFIG SET of several pairs changes all of them or none; replies and
 * errors are Redis 7's.
 */
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR } from "./helpers.ts";
import { replyHelp } from "./server_admin.ts";
import { resetInfoStats } from "../observability/info.ts";
import { log } from "../observability/log.ts";

function configGet(c: Client, args: string[]): void {
  const pairs = c.server.config.getMatching(args.slice(2));
  c.w.map(pairs.length);
  for (const [name, value] of pairs) {
    c.w.bulk(name);
    c.w.bulk(value);
  }
}

function configSet(c: Client, args: string[]): void {
  if ((args.length - 2) % 2 !== 0) return c.w.error(ERR.syntax);
  const pairs: [string, string][] = [];
  for (let i = 2; i < args.length; i += 2) pairs.push([args[i], args[i + 1]]);
  const err = c.server.config.setPairs(pairs);
  if (err !== null) return c.w.error(err);
  c.w.simple("OK");
}

function configResetstat(c: Client): void {
  c.server.stats.reset();
  resetInfoStats(c.server);
  c.w.simple("OK");
}

function configRewrite(c: Client): void {
  const config = c.server.config;
  if (config.flagfile === null) return c.w.error("ERR The server is running without a config file");
  const err = config.rewriteFlagfile();
  if (err !== null) {
    log.warn(`CONFIG REWRITE failed: ${err}`);
    return c.w.error(`ERR Rewriting config file: ${err}`);
  }
  log.info(`CONFIG REWRITE executed with success (${config.flagfile})`);
  c.w.simple("OK");
}

const CONFIG_HELP = [
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
];

const ADMIN = ["admin", "noscript", "loading", "stale"] as const;

/** Commands of the config family. */
export const configCommands: CommandSpec[] = [
  command("config", -2, [], [0, 0, 0], "server", "A container for server configuration commands.", "2.0.0", undefined, {
    subcommands: [
      command(
        "config|get",
        -3,
        ADMIN,
        [0, 0, 0],
        "server",
        "Returns the effective values of configuration parameters.",
        "2.0.0",
        configGet,
      ),
      command(
        "config|set",
        -4,
        ADMIN,
        [0, 0, 0],
        "server",
        "Sets configuration parameters in-flight.",
        "2.0.0",
        configSet,
      ),
      command(
        "config|resetstat",
        2,
        ADMIN,
        [0, 0, 0],
        "server",
        "Resets the server's statistics.",
        "2.0.0",
        configResetstat,
      ),
      command(
        "config|rewrite",
        2,
        ADMIN,
        [0, 0, 0],
        "server",
        "Persists the effective configuration to file.",
        "2.8.0",
        configRewrite,
      ),
      command(
        "config|help",
        2,
        ["loading", "stale"],
        [0, 0, 0],
        "server",
        "Returns helpful text about the different subcommands.",
        "5.0.0",
        (c) => {
          replyHelp(c, "CONFIG", CONFIG_HELP);
        },
      ),
    ],
  }),
];
