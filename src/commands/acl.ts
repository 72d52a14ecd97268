/**
 * ACL family: ACL SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, LOG, SAVE, LOAD,
 * GENPASS, DRYRUN, HELP; plus the permission check the dispatcher runs before every command
 * and the ACL LOG entries of refused commands and failed AUTH/HELLO.
 *
 * Invariants: the user model lives in src/server/acl.ts and is changed only here (and by
 * `requirepass`); replies and error texts are Redis 7.0.15's; a refused command is logged with
 * Redis's reason, context and object, and answered with Redis's exact -NOPERM text.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "../server/client.ts";
import {
  ACL_CATEGORIES,
  AclDenied,
  aclOf,
  aclUserOf,
  commandsInCategory,
  describeSelectors,
  mergeSelectorArgs,
  provideClientInfo,
  provideCommandTable,
} from "../server/acl.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, parseIntArg } from "./helpers.ts";
import { clientInfoLine, replyHelp } from "./server_admin.ts";
import { COMMANDS } from "./registry.ts";
import { arityError, resolveCommand } from "./dispatcher.ts";
import { log } from "../observability/log.ts";

provideCommandTable(() => COMMANDS);
provideClientInfo((c, argv) => clientInfoLine(c, Date.now(), argv));

const RESTRICTED = "ERR Cannot execute restricted command (admin only)";

/** Redis's addReplySubcommandSyntaxError text for a subcommand given too many arguments. */
function subcommandSyntax(args: string[]): string {
  return `ERR unknown subcommand or wrong number of arguments for '${args[1].slice(0, 128)}'. Try ${
    args[0].toUpperCase()
  } HELP.`;
}

/**
 * Checks a resolved command against the client's user and the admin-only commands. Returns
 * the error reply (after logging the refusal in ACL LOG) or null when the command may run.
 * Internal clients (replication links) are never checked.
 */
export function aclCheck(c: Client, spec: CommandSpec, args: string[]): string | null {
  const u = aclUserOf(c);
  if (!u.guarded) return null;
  const acl = aclOf(c.server);
  if (acl.restricted.size > 0 && c.origin !== "admin") {
    const bar = spec.name.indexOf("|");
    if (acl.restricted.has(bar === -1 ? spec.name : spec.name.slice(0, bar))) return RESTRICTED;
  }
  const v = u.check(spec, args);
  if (v.denied === AclDenied.None) return null;
  acl.logDenied(c, v.denied, v.denied === AclDenied.Command ? spec.name : args[v.pos], u.name, args);
  switch (v.denied) {
    case AclDenied.Command:
      return `NOPERM this user has no permissions to run the '${spec.name}' command`;
    case AclDenied.Key:
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    default:
      return "NOPERM this user has no permissions to access one of the channels used as arguments";
  }
}

function aclSetuser(c: Client, args: string[]): void {
  const name = args[2];
  if (/[\s\0]/.test(name)) return c.w.error("ERR Usernames can't contain spaces or null characters");
  const merged = mergeSelectorArgs(args.slice(3));
  if (!Array.isArray(merged)) {
    return c.w.error(`ERR Unmatched parenthesis in acl selector starting at '${args[3 + merged.unmatched]}'.`);
  }
  const failure = aclOf(c.server).setUser(name, merged);
  if (failure) return c.w.error(`ERR Error in ACL SETUSER modifier '${failure.rule}': ${failure.reason}`);
  c.w.simple("OK");
}

function aclGetuser(c: Client, args: string[]): void {
  const u = aclOf(c.server).users.get(args[2]);
  if (!u) return c.w.nil();
  const [root, ...others] = describeSelectors(u);
  const w = c.w;
  w.map(6);
  w.bulk("flags");
  const flags = u.flagNames();
  w.set(flags.length);
  for (const f of flags) w.bulk(f);
  w.bulk("passwords");
  w.bulkArray(u.passwords);
  const selector = (s: typeof root) => {
    w.bulk("commands");
    w.bulk(s.commands);
    w.bulk("keys");
    w.bulk(s.keys);
    w.bulk("channels");
    w.bulk(s.channels);
  };
  selector(root);
  w.bulk("selectors");
  w.array(others.length);
  for (const s of others) {
    w.map(3);
    selector(s);
  }
}

function aclDeluser(c: Client, args: string[]): void {
  const names = args.slice(2);
  if (names.includes("default")) return c.w.error("ERR The 'default' user cannot be removed");
  c.w.int(aclOf(c.server).deleteUsers(names, c));
}

function aclList(c: Client): void {
  const users = aclOf(c.server).sortedUsers();
  c.w.array(users.length);
  for (const u of users) c.w.bulk(`user ${u.name} ${u.describe()}`);
}

function aclUsers(c: Client): void {
  c.w.bulkArray(aclOf(c.server).sortedUsers().map((u) => u.name));
}

function aclWhoami(c: Client): void {
  c.w.bulk(c.user ?? "default");
}

const NO_ACL_FILE =
  "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/** Loads `--aclfile` into the registry of `c.server`; returns null or the error text (ACL LOAD). */
export function loadAclFile(acl: ReturnType<typeof aclOf>, filename: string, current: Client | null): string | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(filename);
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound ? "No such file or directory" : (e as Error).message;
    return `Error loading ACLs, opening file '${filename}': ${reason}`;
  }
  return acl.loadText(text, filename, current);
}

function aclLoad(c: Client): void {
  const filename = c.server.config.str("aclfile");
  if (filename === "") return c.w.error(NO_ACL_FILE);
  const err = loadAclFile(aclOf(c.server), filename, c);
  if (err !== null) return c.w.error("ERR " + err);
  c.w.simple("OK");
}

function aclSave(c: Client): void {
  const filename = c.server.config.str("aclfile");
  if (filename === "") return c.w.error(NO_ACL_FILE);
  const tmp = `${filename}.tmp-${Deno.pid}-${Date.now()}`;
  try {
    Deno.writeTextFileSync(tmp, aclOf(c.server).serialize(), { mode: 0o644 });
    Deno.renameSync(tmp, filename);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // nothing to clean up
    }
    log.warn(`ACL SAVE to ${filename} failed: ${(e as Error).message}`);
    return c.w.error(
      "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
    );
  }
  c.w.simple("OK");
}

function aclCat(c: Client, args: string[]): void {
  if (args.length === 2) return c.w.bulkArray(ACL_CATEGORIES);
  if (args.length > 3) return c.w.error(subcommandSyntax(args));
  const names = commandsInCategory(args[2]);
  if (names === null) return c.w.error(`ERR Unknown category '${args[2].slice(0, 128)}'`);
  c.w.bulkArray(names);
}

function aclLog(c: Client, args: string[]): void {
  if (args.length > 3) return c.w.error(subcommandSyntax(args));
  const acl = aclOf(c.server);
  let count = 10;
  if (args.length === 3) {
    if (args[2].toLowerCase() === "reset") {
      acl.log = [];
      return c.w.simple("OK");
    }
    const n = parseIntArg(args[2]);
    if (n === null) return c.w.error(ERR.notInteger);
    count = Math.max(0, n);
  }
  const entries = acl.log.slice(0, count);
  const now = Date.now();
  const reasons: Record<number, string> = {
    [AclDenied.Command]: "command",
    [AclDenied.Key]: "key",
    [AclDenied.Channel]: "channel",
    [AclDenied.Auth]: "auth",
  };
  c.w.array(entries.length);
  for (const e of entries) {
    c.w.map(7);
    c.w.bulk("count");
    c.w.int(e.count);
    c.w.bulk("reason");
    c.w.bulk(reasons[e.reason] ?? "unknown");
    c.w.bulk("context");
    c.w.bulk(e.context);
    c.w.bulk("object");
    c.w.bulk(e.object);
    c.w.bulk("username");
    c.w.bulk(e.username);
    c.w.bulk("age-seconds");
    c.w.double((now - e.ctime) / 1000);
    c.w.bulk("client-info");
    c.w.bulk(e.cinfo);
  }
}

function aclGenpass(c: Client, args: string[]): void {
  let bits = 256;
  if (args.length > 3) {
    return c.w.error(subcommandSyntax(args));
  }
  if (args.length === 3) {
    const n = parseIntArg(args[2]);
    if (n === null) return c.w.error(ERR.notInteger);
    bits = n;
  }
  if (bits <= 0 || bits > 4096) {
    return c.w.error(
      "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
    );
  }
  const chars = Math.floor((bits + 3) / 4);
  c.w.bulk(randomBytes(Math.ceil(chars / 2)).toString("hex").slice(0, chars));
}

function aclDryrun(c: Client, args: string[]): void {
  const u = aclOf(c.server).users.get(args[2]);
  if (!u) return c.w.error(`ERR User '${args[2]}' not found`);
  const cmdArgs = args.slice(3);
  const resolved = resolveCommand(cmdArgs);
  if (resolved === null || resolved.error !== null) return c.w.error(`ERR Command '${args[3]}' not found`);
  const spec = resolved.spec;
  if (spec.arity > 0 ? cmdArgs.length !== spec.arity : cmdArgs.length < -spec.arity) {
    return c.w.error(arityError(spec.name));
  }
  const v = u.check(spec, cmdArgs);
  switch (v.denied) {
    case AclDenied.None:
      return c.w.simple("OK");
    case AclDenied.Command:
      return c.w.bulk(`This user has no permissions to run the '${spec.name}' command`);
    case AclDenied.Key:
      return c.w.bulk(`This user has no permissions to access the '${cmdArgs[v.pos]}' key`);
    default:
      return c.w.bulk(`This user has no permissions to access the '${cmdArgs[v.pos]}' channel`);
  }
}

const ACL_HELP = [
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
];

const ADMIN = ["admin", "noscript", "loading", "stale"] as const;
const PLAIN = ["noscript", "loading", "stale"] as const;

/** Commands of the ACL family. */
export const aclCommands: CommandSpec[] = [
  command("acl", -2, [], [0, 0, 0], "server", "A container for Access List Control commands", "6.0.0", undefined, {
    subcommands: [
      command(
        "acl|cat",
        -2,
        PLAIN,
        [0, 0, 0],
        "server",
        "List the ACL categories or the commands inside a category",
        "6.0.0",
        aclCat,
      ),
      command(
        "acl|deluser",
        -3,
        ADMIN,
        [0, 0, 0],
        "server",
        "Remove the specified ACL users and the associated rules",
        "6.0.0",
        aclDeluser,
      ),
      command(
        "acl|dryrun",
        -4,
        ADMIN,
        [0, 0, 0],
        "server",
        "Returns whether the user can execute the given command without executing the command.",
        "7.0.0",
        aclDryrun,
      ),
      command(
        "acl|genpass",
        -2,
        PLAIN,
        [0, 0, 0],
        "server",
        "Generate a pseudorandom secure password to use for ACL users",
        "6.0.0",
        aclGenpass,
      ),
      command(
        "acl|getuser",
        3,
        ADMIN,
        [0, 0, 0],
        "server",
        "Get the rules for a specific ACL user",
        "6.0.0",
        aclGetuser,
      ),
      command(
        "acl|help",
        2,
        ["loading", "stale"],
        [0, 0, 0],
        "server",
        "Show helpful text about the different subcommands",
        "6.0.0",
        (c) => replyHelp(c, "ACL", ACL_HELP),
      ),
      command(
        "acl|list",
        2,
        ADMIN,
        [0, 0, 0],
        "server",
        "List the current ACL rules in ACL config file format",
        "6.0.0",
        aclList,
      ),
      command(
        "acl|load",
        2,
        ADMIN,
        [0, 0, 0],
        "server",
        "Reload the ACLs from the configured ACL file",
        "6.0.0",
        aclLoad,
      ),
      command(
        "acl|log",
        -2,
        ADMIN,
        [0, 0, 0],
        "server",
        "List latest events denied because of ACLs in place",
        "6.0.0",
        aclLog,
      ),
      command(
        "acl|save",
        2,
        ADMIN,
        [0, 0, 0],
        "server",
        "Save the current ACL rules in the configured ACL file",
        "6.0.0",
        aclSave,
      ),
      command(
        "acl|setuser",
        -3,
        ADMIN,
        [0, 0, 0],
        "server",
        "Modify or create the rules for a specific ACL user",
        "6.0.0",
        aclSetuser,
      ),
      command(
        "acl|users",
        2,
        ADMIN,
        [0, 0, 0],
        "server",
        "List the username of all the configured ACL rules",
        "6.0.0",
        aclUsers,
      ),
      command(
        "acl|whoami",
        2,
        PLAIN,
        [0, 0, 0],
        "server",
        "Return the name of the user associated to the current connection",
        "6.0.0",
        aclWhoami,
      ),
    ],
  }),
];
