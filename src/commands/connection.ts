/**
 * Connection family: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT.
 *
 * Invariant: authentication state only changes here (credentials are checked against the ACL
 * users of src/server/acl.ts) and in the ACL commands; HELLO switches the protocol of the
 * client's writer, so every later reply uses the new shapes.
 */
import type { Client } from "../server/client.ts";
import { command, type CommandSpec } from "./types.ts";
import { ERR, parseIntArg } from "./helpers.ts";
import { aclOf, startsAuthenticated } from "../server/acl.ts";

/** Redis version damselfly reports to clients (HELLO, INFO redis_version). */
export const REDIS_COMPAT_VERSION = "7.4.0";

const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

function ping(c: Client, args: string[]): void {
  if (args.length > 2) {
    c.w.error("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (c.proto === 2 && c.inPubSubMode) {
    c.w.array(2);
    c.w.bulk("pong");
    c.w.bulk(args.length === 2 ? args[1] : "");
    return;
  }
  if (args.length === 2) c.w.bulk(args[1]);
  else c.w.simple("PONG");
}

function auth(c: Client, args: string[]): void {
  if (args.length > 3) {
    c.w.error(ERR.syntax);
    return;
  }
  const user = args.length === 3 ? args[1] : "default";
  const pass = args[args.length - 1];
  if (args.length === 2 && aclOf(c.server).defaultUser.nopass) {
    c.w.error(
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
    return;
  }
  if (!aclOf(c.server).authenticate(c, args[0], user, pass)) {
    c.w.error(WRONGPASS);
    return;
  }
  c.w.simple("OK");
}

function hello(c: Client, args: string[]): void {
  let proto: 2 | 3 = c.proto;
  let i = 1;
  if (args.length >= 2) {
    const v = parseIntArg(args[1]);
    if (v === null) {
      c.w.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (v !== 2 && v !== 3) {
      c.w.error("NOPROTO unsupported protocol version");
      return;
    }
    proto = v;
    i = 2;
  }
  let authUser: string | null = null;
  let authPass = "";
  let setName: string | null = null;
  for (; i < args.length; i++) {
    const o = args[i].toUpperCase();
    const more = args.length - i - 1;
    if (o === "AUTH" && more >= 2) {
      authUser = args[i + 1];
      authPass = args[i + 2];
      i += 2;
    } else if (o === "SETNAME" && more >= 1) {
      setName = args[i + 1];
      i += 1;
    } else {
      c.w.error(`ERR Syntax error in HELLO option '${args[i]}'`);
      return;
    }
  }
  if (authUser !== null) {
    if (!aclOf(c.server).authenticate(c, args[0], authUser, authPass)) {
      c.w.error(WRONGPASS);
      return;
    }
  }
  if (c.user === null) {
    c.w.error(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
    return;
  }
  if (setName !== null) {
    if (!validClientName(setName)) {
      c.w.error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    c.name = setName;
  }
  c.w.proto = proto;
  c.w.map(7);
  c.w.bulk("server");
  c.w.bulk("redis");
  c.w.bulk("version");
  c.w.bulk(REDIS_COMPAT_VERSION);
  c.w.bulk("proto");
  c.w.int(proto);
  c.w.bulk("id");
  c.w.int(c.id);
  c.w.bulk("mode");
  c.w.bulk("standalone");
  c.w.bulk("role");
  c.w.bulk(c.server.roleName);
  c.w.bulk("modules");
  c.w.array(0);
}

/** True when a client name has no spaces, newlines or special characters. */
export function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function select(c: Client, args: string[]): void {
  const db = parseIntArg(args[1]);
  if (db === null) {
    c.w.error(ERR.notInteger);
    return;
  }
  if (db < 0 || db >= c.server.store.dbCount) {
    c.w.error(ERR.dbIndex);
    return;
  }
  c.db = db;
  c.w.simple("OK");
}

/** Hooks other families register to clear their per-client state on RESET. */
export const resetHooks: ((c: Client) => void)[] = [];

function reset(c: Client): void {
  c.multi = null;
  c.unwatchAll();
  for (const h of resetHooks) h(c);
  c.db = 0;
  c.w.proto = 2;
  c.replyMode = "on";
  c.name = "";
  c.noEvict = false;
  c.noTouch = false;
  if (c.monitor) {
    c.monitor = false;
    c.server.monitors.delete(c);
  }
  c.user = startsAuthenticated(c.server, c.origin) ? "default" : null;
  c.w.simple("RESET");
}

/** Commands of the connection family. */
export const connectionCommands: CommandSpec[] = [
  command("ping", -1, ["fast"], [0, 0, 0], "connection", "Returns the server's liveliness response.", "1.0.0", ping),
  command("echo", 2, ["fast"], [0, 0, 0], "connection", "Returns the given string.", "1.0.0", (c, a) => c.w.bulk(a[1])),
  command(
    "quit",
    -1,
    ["no_auth", "fast", "allow_busy"],
    [0, 0, 0],
    "connection",
    "Closes the connection.",
    "1.0.0",
    (c) => {
      c.w.simple("OK");
      c.closeAfterReply = true;
    },
  ),
  command(
    "reset",
    1,
    ["no_auth", "fast", "allow_busy"],
    [0, 0, 0],
    "connection",
    "Resets the connection.",
    "6.2.0",
    reset,
  ),
  command(
    "hello",
    -1,
    ["no_auth", "fast", "allow_busy"],
    [0, 0, 0],
    "connection",
    "Handshakes with the Redis server.",
    "6.0.0",
    hello,
  ),
  command(
    "auth",
    -2,
    ["no_auth", "fast", "allow_busy"],
    [0, 0, 0],
    "connection",
    "Authenticates the connection.",
    "1.0.0",
    auth,
  ),
  command(
    "select",
    2,
    ["loading", "stale", "fast"],
    [0, 0, 0],
    "connection",
    "Changes the selected database.",
    "1.0.0",
    select,
  ),
];
