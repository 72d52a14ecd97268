/**
 * ACL users: passwords, command/key/channel permissions, the ACL log and the ACL file format,
 * modelled on Redis 7.0's acl.c.
 *
 * Owns: the user registry of one server (`aclOf(server)`), each user's flags, SHA-256 password
 * hashes and selectors (the root selector plus `(...)` selectors), and the ACL log.
 * Invariants: a user always has its root selector first; passwords are stored only as lowercase
 * SHA-256 hex; a rule list is applied to a staging copy and committed only when every rule is
 * valid (ACL SETUSER, ACL LOAD are all-or-nothing); the `default` user always exists, and its
 * password follows `requirepass` (CONFIG SET included). Command permissions are a bit per
 * command and subcommand id; the last bit stands for "commands added later" (+@all), which is
 * how Redis tells `+@all -x` from `-@all +y` when it describes a user.
 */
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Server } from "./server.ts";
import type { Client, ClientOrigin } from "./client.ts";
import { aclCategories, type CommandSpec, keyPositions } from "../commands/types.ts";
import { globMatch } from "../util/glob.ts";
import { log } from "../observability/log.ts";

/** ACL categories, in Redis 7.0's order (ACL CAT and the describe heuristic use it). */
export const ACL_CATEGORIES: readonly string[] = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

/** Why a command was refused (Redis's ACL_DENIED_* values; a higher value wins across selectors). */
export enum AclDenied {
  /** Allowed. */
  None = 0,
  /** The command (or subcommand) is not allowed. */
  Command = 1,
  /** A key argument matches no allowed pattern. */
  Key = 2,
  /** Authentication failed (ACL LOG only). */
  Auth = 3,
  /** A channel argument matches no allowed pattern. */
  Channel = 4,
}

/** Result of a permission check: the reason and the argument index it concerns. */
export interface AclVerdict {
  /** Why the command is refused (None when allowed). */
  denied: AclDenied;
  /** Index in `args` of the refused key or channel. */
  pos: number;
}

const USER_ENABLED = 1;
const USER_DISABLED = 2;
const USER_NOPASS = 4;
const USER_SKIP_SANITIZE = 8;
const USER_SANITIZE = 16;
/** User flags in the order ACL GETUSER and ACL LIST print them. */
const USER_FLAG_NAMES: readonly [number, string][] = [
  [USER_ENABLED, "on"],
  [USER_DISABLED, "off"],
  [USER_NOPASS, "nopass"],
  [USER_SKIP_SANITIZE, "skip-sanitize-payload"],
  [USER_SANITIZE, "sanitize-payload"],
];

const KEY_READ = 1;
const KEY_WRITE = 2;
const KEY_ALL = KEY_READ | KEY_WRITE;

/** A rule error, mapped to Redis's ACLSetUserStringError texts. */
export type RuleError = "EINVAL" | "ENOENT" | "EEXIST" | "EISDIR" | "ENODEV" | "EBADMSG" | "ECHILD";

const RULE_ERRORS: Record<RuleError, string> = {
  ENOENT: "Unknown command or category name in ACL",
  EINVAL: "Syntax error",
  EEXIST:
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  EISDIR:
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  ENODEV: "The password you are trying to remove from the user does not exist",
  EBADMSG: "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
  ECHILD: "Allowing first-arg of a subcommand is not supported",
};

// ---------------------------------------------------------------------------------------
// The command table as ACLs see it: one id per command and subcommand, category masks.
// ---------------------------------------------------------------------------------------

/** The command table indexed for ACL bitmaps. */
interface CommandIndex {
  /** Top-level commands in table order. */
  top: readonly CommandSpec[];
  /** Id of every command and subcommand. */
  id: Map<CommandSpec, number>;
  /** Category bit mask (bit i = ACL_CATEGORIES[i]) by id. */
  cats: Uint32Array;
  /** Lower-case full names (`get`, `config|get`) → spec. */
  byName: Map<string, CommandSpec>;
  /** Number of ids; id `size` is the "future commands" bit. */
  size: number;
}

let tableProvider: (() => ReadonlyMap<string, CommandSpec>) | null = null;
let clientInfo: (c: Client, argv?: readonly string[]) => string = (c) => `id=${c.id} addr=${c.addr}`;

/** Installs the CLIENT INFO formatter ACL LOG entries use (called once by the ACL command family). */
export function provideClientInfo(format: (c: Client, argv?: readonly string[]) => string): void {
  clientInfo = format;
}
let index: CommandIndex | null = null;

/** Installs the function that returns the command table (called once by the ACL command family). */
export function provideCommandTable(provider: () => ReadonlyMap<string, CommandSpec>): void {
  tableProvider = provider;
  index = null;
}

function commandIndex(): CommandIndex {
  if (index !== null) return index;
  if (tableProvider === null) throw new Error("ACL: no command table installed");
  const top = [...tableProvider().values()];
  const id = new Map<CommandSpec, number>();
  const byName = new Map<string, CommandSpec>();
  const catList: number[] = [];
  const add = (spec: CommandSpec) => {
    id.set(spec, catList.length);
    byName.set(spec.name, spec);
    let mask = 0;
    for (const c of aclCategories(spec)) {
      const i = ACL_CATEGORIES.indexOf(c);
      if (i >= 0) mask |= 1 << i;
    }
    catList.push(mask);
  };
  for (const spec of top) {
    add(spec);
    for (const sub of spec.subcommands ?? []) add(sub);
  }
  index = { top, id, cats: Uint32Array.from(catList), byName, size: catList.length };
  return index;
}

/** Finds a command or `parent|sub` by name as ACL rules spell it (any case). */
function lookupAclCommand(name: string): CommandSpec | undefined {
  const parts = name.toLowerCase().split("|");
  if (parts.length > 2) return undefined;
  return commandIndex().byName.get(parts.join("|"));
}

/** Parent of a subcommand spec, or undefined. */
function parentOf(spec: CommandSpec): CommandSpec | undefined {
  const bar = spec.name.indexOf("|");
  return bar === -1 ? undefined : commandIndex().byName.get(spec.name.slice(0, bar));
}

/** All commands (and subcommands) of a category, in table order, for ACL CAT. */
export function commandsInCategory(category: string): string[] | null {
  const bit = ACL_CATEGORIES.indexOf(category.toLowerCase());
  if (bit === -1) return null;
  const idx = commandIndex();
  const out: string[] = [];
  const visit = (spec: CommandSpec) => {
    if (idx.cats[idx.id.get(spec)!] & (1 << bit)) out.push(spec.name);
    for (const sub of spec.subcommands ?? []) visit(sub);
  };
  for (const spec of idx.top) visit(spec);
  return out;
}

// ---------------------------------------------------------------------------------------
// Key permissions a command needs: Redis derives them from key specs; damselfly from flags
// plus the commands whose key specs differ from "readonly reads, write writes".
// ---------------------------------------------------------------------------------------

/** Write commands that also read (key spec RW ACCESS): they need %R as well as %W. */
const WRITE_AND_READ = new Set([
  "incr",
  "incrby",
  "incrbyfloat",
  "decr",
  "decrby",
  "getset",
  "getdel",
  "getex",
  "lpop",
  "rpop",
  "blpop",
  "brpop",
  "lmpop",
  "blmpop",
  "spop",
  "zpopmin",
  "zpopmax",
  "bzpopmin",
  "bzpopmax",
  "zmpop",
  "bzmpop",
  "hincrby",
  "hincrbyfloat",
  "zincrby",
  "setbit",
  "bitfield",
  "xautoclaim",
  "xclaim",
  "xreadgroup",
]);
/** Commands whose first key is written and whose other keys are only read (`*STORE`, BITOP, ...). */
const DEST_THEN_SOURCES = new Set([
  "sunionstore",
  "sinterstore",
  "sdiffstore",
  "zunionstore",
  "zinterstore",
  "zdiffstore",
  "zrangestore",
  "bitop",
  "pfmerge",
  "georadius",
  "georadiusbymember",
  "geosearchstore",
]);
/** Commands that move data from a first key (read and removed) to a second key (written). */
const SOURCE_THEN_DEST = new Set(["rpoplpush", "brpoplpush", "lmove", "blmove", "smove", "rename", "renamenx"]);

function keyNeeds(spec: CommandSpec, nth: number): number {
  const name = spec.name;
  if (DEST_THEN_SOURCES.has(name)) return nth === 0 ? KEY_WRITE : KEY_READ;
  if (SOURCE_THEN_DEST.has(name)) return nth === 0 ? KEY_ALL : KEY_WRITE;
  if (name === "copy") return nth === 0 ? KEY_READ : KEY_WRITE;
  if (spec.traits?.write ?? spec.flags.includes("write")) return WRITE_AND_READ.has(name) ? KEY_ALL : KEY_WRITE;
  return KEY_READ;
}

// ---------------------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------------------

/** A key pattern with its permissions (R, W or both). */
export interface KeyPattern {
  /** Glob pattern matched against key names. */
  pattern: string;
  /** KEY_READ and/or KEY_WRITE bits. */
  flags: number;
}

/** True for the bytes C's isspace() accepts, and NUL. */
function hasSpaces(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13) || c === 0) return true;
  }
  return false;
}

/** One set of permissions (Redis's aclSelector). A command is allowed when any selector allows it. */
export class Selector {
  /** `allkeys` / `~*`: every key, read and write. */
  allKeys = false;
  /** `allchannels` / `&*`: every Pub/Sub channel. */
  allChannels = false;
  /** Set by `allcommands` / `+@all`; cleared when any command is refused. */
  allCommands = false;
  /** Bit per command id (1 = allowed); index `size` is the "future commands" bit. */
  bits: Uint8Array;
  /** Allowed first arguments of otherwise refused commands (`+select|0`), by command id. */
  firstArgs: Map<number, string[]> | null = null;
  /** Key patterns (`~p`, `%R~p`, `%W~p`), when not allKeys. */
  keys: KeyPattern[] = [];
  /** Channel patterns (`&p`), when not allChannels. */
  channels: string[] = [];

  /** A selector that allows nothing; `root` marks the user's root selector (not a `(...)` one). */
  constructor(readonly root: boolean) {
    this.bits = new Uint8Array(commandIndex().size + 1);
  }

  /** A deep copy. */
  clone(): Selector {
    const s = new Selector(this.root);
    s.allKeys = this.allKeys;
    s.allChannels = this.allChannels;
    s.allCommands = this.allCommands;
    s.bits.set(this.bits);
    if (this.firstArgs) s.firstArgs = new Map([...this.firstArgs].map(([k, v]) => [k, [...v]]));
    s.keys = this.keys.map((k) => ({ ...k }));
    s.channels = [...this.channels];
    return s;
  }

  /** Allows or refuses command id `id`; refusing clears allCommands. */
  private setBit(id: number, allow: boolean): void {
    this.bits[id] = allow ? 1 : 0;
    if (!allow) this.allCommands = false;
  }

  /** Allows or refuses a command and all its subcommands (ACLChangeSelectorPerm). */
  changePerm(spec: CommandSpec, allow: boolean): void {
    const idx = commandIndex();
    const id = idx.id.get(spec)!;
    this.setBit(id, allow);
    this.firstArgs?.delete(id);
    for (const sub of spec.subcommands ?? []) this.setBit(idx.id.get(sub)!, allow);
  }

  /** Applies `+@cat`/`-@cat` the way Redis walks its command table. */
  changeCategory(bit: number, allow: boolean): void {
    const idx = commandIndex();
    const mask = 1 << bit;
    const visit = (specs: readonly CommandSpec[]) => {
      for (const spec of specs) {
        if (idx.cats[idx.id.get(spec)!] & mask) this.changePerm(spec, allow);
        if (spec.subcommands) visit(spec.subcommands);
      }
    };
    visit(idx.top);
  }

  /** Applies one selector rule (ACLSetSelector); returns the error or null. */
  apply(op: string): RuleError | null {
    const lower = op.toLowerCase();
    if (lower === "allkeys" || op === "~*") {
      this.allKeys = true;
      this.keys = [];
    } else if (lower === "resetkeys") {
      this.allKeys = false;
      this.keys = [];
    } else if (lower === "allchannels" || op === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.bits.fill(1);
      this.allCommands = true;
      this.firstArgs = null;
    } else if (lower === "nocommands" || lower === "-@all") {
      this.bits.fill(0);
      this.allCommands = false;
      this.firstArgs = null;
    } else if (op[0] === "~" || op[0] === "%") {
      if (this.allKeys) return "EEXIST";
      let flags = 0;
      let offset = 1;
      if (op[0] === "%") {
        for (; offset < op.length; offset++) {
          const ch = op[offset].toUpperCase();
          if (ch === "R" && !(flags & KEY_READ)) flags |= KEY_READ;
          else if (ch === "W" && !(flags & KEY_WRITE)) flags |= KEY_WRITE;
          else if (op[offset] === "~") {
            offset++;
            break;
          } else return "EINVAL";
        }
      } else {
        flags = KEY_ALL;
      }
      const pattern = op.slice(offset);
      if (hasSpaces(pattern)) return "EINVAL";
      const existing = this.keys.find((k) => k.pattern === pattern);
      if (existing) existing.flags |= flags;
      else this.keys.push({ pattern, flags });
      this.allKeys = false;
    } else if (op[0] === "&") {
      if (this.allChannels) return "EISDIR";
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return "EINVAL";
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === "+" && op[1] !== "@") {
      const bar = op.lastIndexOf("|");
      if (bar === -1) {
        const spec = lookupAclCommand(op.slice(1));
        if (!spec) return "ENOENT";
        this.changePerm(spec, true);
      } else {
        const base = lookupAclCommand(op.slice(1, bar));
        const sub = op.slice(bar + 1);
        if (!base) return "ENOENT";
        if (parentOf(base)) return "ECHILD";
        if (sub === "") return "EINVAL";
        if (base.subcommands) {
          const spec = lookupAclCommand(op.slice(1));
          if (!spec) return "ENOENT";
          this.changePerm(spec, true);
        } else {
          log.warn(
            `Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: ${
              op.slice(1)
            })`,
          );
          const id = commandIndex().id.get(base)!;
          this.firstArgs ??= new Map();
          const list = this.firstArgs.get(id) ?? [];
          if (!list.some((a) => a.toLowerCase() === sub.toLowerCase())) list.push(sub);
          this.firstArgs.set(id, list);
        }
      }
    } else if (op[0] === "-" && op[1] !== "@") {
      const spec = lookupAclCommand(op.slice(1));
      if (!spec) return "ENOENT";
      this.changePerm(spec, false);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const bit = ACL_CATEGORIES.indexOf(op.slice(2).toLowerCase());
      if (bit === -1) return "ENOENT";
      this.changeCategory(bit, op[0] === "+");
    } else {
      return "EINVAL";
    }
    return null;
  }

  /** Counts the commands of a category this selector allows and refuses. */
  private countCategory(bit: number): [number, number] {
    const idx = commandIndex();
    const mask = 1 << bit;
    let on = 0;
    let off = 0;
    for (let id = 0; id < idx.size; id++) {
      if (idx.cats[id] & mask) {
        if (this.bits[id]) on++;
        else off++;
      }
    }
    return [on, off];
  }

  /** The command rules that rebuild this selector's bitmap (ACLDescribeSelectorCommandRules). */
  describeCommands(): string {
    const idx = commandIndex();
    const additive = this.bits[idx.size] === 0;
    const rules: string[] = [additive ? "-@all" : "+@all"];
    const fake = new Selector(false);
    fake.apply(rules[0]);
    const temp = new Selector(false);
    temp.bits.set(this.bits);
    const applied = new Set<number>();
    for (;;) {
      let best = -1;
      let mindiff = Number.MAX_SAFE_INTEGER;
      let maxsame = 0;
      for (let j = 0; j < ACL_CATEGORIES.length; j++) {
        if (applied.has(j)) continue;
        const [on, off] = temp.countCategory(j);
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < mindiff || (diff === mindiff && same > maxsame))) {
          best = j;
          mindiff = diff;
          maxsame = same;
        }
      }
      if (best === -1) break;
      fake.changeCategory(best, additive);
      temp.changeCategory(best, !additive);
      rules.push(`${additive ? "+" : "-"}@${ACL_CATEGORIES[best]}`);
      applied.add(best);
    }
    const single = (specs: readonly CommandSpec[]) => {
      for (const spec of specs) {
        const id = idx.id.get(spec)!;
        const userBit = this.bits[id] === 1;
        if (userBit !== (fake.bits[id] === 1)) {
          rules.push((userBit ? "+" : "-") + spec.name);
          fake.changePerm(spec, userBit);
        }
        if (spec.subcommands) single(spec.subcommands);
        const first = this.firstArgs?.get(id);
        if (!userBit && first) { for (const a of first) rules.push(`+${spec.name}|${a}`); }
      }
    };
    single(idx.top);
    return rules.join(" ");
  }

  /** Keys as ACL GETUSER shows them. */
  describeKeys(): string {
    return this.allKeys ? "~*" : this.keys.map(patternString).join(" ");
  }

  /** Channels as ACL GETUSER shows them. */
  describeChannels(): string {
    return this.allChannels ? "&*" : this.channels.map((c) => "&" + c).join(" ");
  }

  /** The selector in ACL LIST / ACL file syntax (ACLDescribeSelector). */
  describe(): string {
    let out = "";
    if (this.allKeys) out += "~* ";
    else for (const k of this.keys) out += patternString(k) + " ";
    if (this.allChannels) out += "&* ";
    else {
      out += "resetchannels ";
      for (const c of this.channels) out += "&" + c + " ";
    }
    return out + this.describeCommands();
  }

  /** Checks one command against this selector (ACLSelectorCheckCmd). */
  check(spec: CommandSpec, args: string[]): AclVerdict {
    const idx = commandIndex();
    if (!this.allCommands && !spec.traits?.noAuth) {
      const id = idx.id.get(spec);
      if (id === undefined || this.bits[id] === 0) {
        const first = id === undefined ? undefined : this.firstArgs?.get(id);
        const argIdx = parentOf(spec) ? 2 : 1;
        if (!first || args.length <= argIdx) return { denied: AclDenied.Command, pos: 0 };
        const given = args[argIdx].toLowerCase();
        if (!first.some((a) => a.toLowerCase() === given)) return { denied: AclDenied.Command, pos: 0 };
      }
    }
    if (!this.allKeys && (spec.firstKey > 0 || spec.getKeys)) {
      const positions = keyPositions(spec, args);
      for (let n = 0; n < positions.length; n++) {
        const pos = positions[n];
        if (!this.keyAllowed(args[pos], keyNeeds(spec, n))) return { denied: AclDenied.Key, pos };
      }
    }
    if (!this.allChannels) {
      const name = spec.name;
      if (name === "publish" || name === "spublish") {
        if (!this.channelAllowed(args[1], false)) return { denied: AclDenied.Channel, pos: 1 };
      } else if (name === "subscribe" || name === "ssubscribe" || name === "psubscribe") {
        const literal = name === "psubscribe";
        for (let i = 1; i < args.length; i++) {
          if (!this.channelAllowed(args[i], literal)) return { denied: AclDenied.Channel, pos: i };
        }
      }
    }
    return { denied: AclDenied.None, pos: 0 };
  }

  /** True when `key` matches a pattern granting all of `needs` (R/W bits). */
  keyAllowed(key: string, needs: number): boolean {
    if (this.allKeys) return true;
    for (const p of this.keys) {
      if ((p.flags & needs) !== needs) continue;
      if (globMatch(p.pattern, key)) return true;
    }
    return false;
  }

  /** True when `channel` is allowed; `literal` compares patterns as plain strings (PSUBSCRIBE). */
  channelAllowed(channel: string, literal: boolean): boolean {
    if (this.allChannels) return true;
    for (const p of this.channels) {
      if (literal ? p === channel : globMatch(p, channel)) return true;
    }
    return false;
  }
}

function patternString(k: KeyPattern): string {
  return (k.flags === KEY_ALL ? "~" : k.flags === KEY_READ ? "%R~" : "%W~") + k.pattern;
}

// ---------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------

/** SHA-256 hex of a password given as a latin1 (byte) string, as Redis stores it. */
export function hashPassword(pass: string): string {
  return createHash("sha256").update(Buffer.from(pass, "latin1")).digest("hex");
}

function validHash(h: string): boolean {
  return /^[0-9a-f]{64}$/.test(h);
}

/** One ACL user. */
export class AclUser {
  /** User flags (USER_* bits). */
  flags: number = USER_DISABLED;
  /** Password hashes (SHA-256 hex), in the order they were added. */
  passwords: string[] = [];
  /** Root selector first, then `(...)` selectors. */
  selectors: Selector[] = [new Selector(true)];
  /** Set once the user was deleted or replaced (ACL DELUSER, ACL LOAD). */
  removed = false;
  /**
   * False when every command is allowed without looking (allcommands, allkeys, allchannels on
   * one selector, and no restricted commands): the dispatcher's fast path.
   */
  guarded = true;

  /** A new user, disabled with no permissions; `acl` is the owning registry (null for a stand-in user). */
  constructor(readonly name: string, readonly acl: Acl | null) {}

  /** True when the user is enabled. */
  get enabled(): boolean {
    return (this.flags & USER_ENABLED) !== 0;
  }

  /** True when any password works. */
  get nopass(): boolean {
    return (this.flags & USER_NOPASS) !== 0;
  }

  /** Recomputes `guarded`. */
  refresh(): void {
    const full = this.selectors.some((s) => s.allCommands && s.allKeys && s.allChannels);
    this.guarded = !full || (this.acl !== null && this.acl.restricted.size > 0);
  }

  /** Copies the rules of `src` (ACLCopyUser). */
  copyFrom(src: AclUser): void {
    this.flags = src.flags;
    this.passwords = [...src.passwords];
    this.selectors = src.selectors.map((s) => s.clone());
    this.refresh();
  }

  /** Applies one user rule (ACLSetUser); returns the error or null. */
  apply(op: string): RuleError | null {
    if (op.length === 0) return null;
    const lower = op.toLowerCase();
    if (lower === "on") {
      this.flags = (this.flags | USER_ENABLED) & ~USER_DISABLED;
    } else if (lower === "off") {
      this.flags = (this.flags | USER_DISABLED) & ~USER_ENABLED;
    } else if (lower === "skip-sanitize-payload") {
      this.flags = (this.flags | USER_SKIP_SANITIZE) & ~USER_SANITIZE;
    } else if (lower === "sanitize-payload") {
      this.flags = (this.flags | USER_SANITIZE) & ~USER_SKIP_SANITIZE;
    } else if (lower === "nopass") {
      this.flags |= USER_NOPASS;
      this.passwords = [];
    } else if (lower === "resetpass") {
      this.flags &= ~USER_NOPASS;
      this.passwords = [];
    } else if (op[0] === ">" || op[0] === "#") {
      let hash: string;
      if (op[0] === ">") hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!validHash(hash)) return "EBADMSG";
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.flags &= ~USER_NOPASS;
    } else if (op[0] === "<" || op[0] === "!") {
      let hash: string;
      if (op[0] === "<") hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!validHash(hash)) return "EBADMSG";
      }
      const at = this.passwords.indexOf(hash);
      if (at === -1) return "ENODEV";
      this.passwords.splice(at, 1);
    } else if (op[0] === "(" && op[op.length - 1] === ")") {
      const s = new Selector(false);
      const inner = op.slice(1, -1).split(/\s+/).filter((t) => t !== "");
      for (const t of inner) {
        const err = s.apply(t);
        if (err) return err;
      }
      this.selectors.push(s);
    } else if (lower === "clearselectors") {
      this.selectors.length = 1;
    } else if (lower === "reset") {
      this.apply("resetpass");
      this.apply("resetkeys");
      this.apply("resetchannels");
      this.apply("off");
      this.apply("sanitize-payload");
      this.apply("clearselectors");
      this.apply("-@all");
    } else {
      const err = this.selectors[0].apply(op);
      if (err) return err;
    }
    this.refresh();
    return null;
  }

  /** The user in ACL LIST / ACL file syntax, without `user <name> ` (ACLDescribeUser). */
  describe(): string {
    let out = "";
    for (const [bit, name] of USER_FLAG_NAMES) if (this.flags & bit) out += name + " ";
    for (const p of this.passwords) out += "#" + p + " ";
    for (const s of this.selectors) out += s.root ? s.describe() : ` (${s.describe()})`;
    return out;
  }

  /** Flag names for ACL GETUSER. */
  flagNames(): string[] {
    return USER_FLAG_NAMES.filter(([bit]) => this.flags & bit).map(([, name]) => name);
  }

  /** The root selector. */
  get rootSelector(): Selector {
    return this.selectors[0];
  }

  /** Checks a command against every selector (ACLCheckAllUserCommandPerm). */
  check(spec: CommandSpec, args: string[]): AclVerdict {
    let relevant = AclDenied.Command;
    let lastPos = 0;
    for (const s of this.selectors) {
      const v = s.check(spec, args);
      if (v.denied === AclDenied.None) return v;
      if (v.denied > relevant || (v.denied === relevant && v.pos > lastPos)) {
        relevant = v.denied;
        lastPos = v.pos;
      }
    }
    return { denied: relevant, pos: lastPos };
  }

  /** True when any selector allows the channel (kept subscriptions after a rule change). */
  channelAllowed(channel: string, literal: boolean): boolean {
    return this.selectors.some((s) => s.channelAllowed(channel, literal));
  }
}

/** Describes one selector for ACL GETUSER: commands, keys, channels. */
export interface SelectorDescription {
  /** Command rules (`-@all +get`). */
  commands: string;
  /** Key patterns (`~a %R~b`). */
  keys: string;
  /** Channel patterns (`&a`). */
  channels: string;
}

/** Selector descriptions of a user: the root first. */
export function describeSelectors(u: AclUser): SelectorDescription[] {
  return u.selectors.map((s) => ({
    commands: s.describeCommands(),
    keys: s.describeKeys(),
    channels: s.describeChannels(),
  }));
}

/**
 * Merges a `(` ... `)` selector spread over several arguments into one (ACLMergeSelectorArguments).
 * Returns the merged rules, or the index of an unmatched opening argument.
 */
export function mergeSelectorArgs(rules: string[]): string[] | { unmatched: number } {
  const out: string[] = [];
  let open = -1;
  let selector = "";
  for (let j = 0; j < rules.length; j++) {
    const op = rules[j];
    if (op[0] === "(" && op[op.length - 1] !== ")") {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += " " + op;
      if (op[op.length - 1] === ")") {
        open = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return open !== -1 ? { unmatched: open } : out;
}

// ---------------------------------------------------------------------------------------
// The registry of one server
// ---------------------------------------------------------------------------------------

/** One ACL LOG entry (Redis's ACLLogEntry). */
export interface AclLogEntry {
  /** Times this happened within the grouping window. */
  count: number;
  /** Why. */
  reason: AclDenied;
  /** `toplevel`, `multi`, `lua`. */
  context: string;
  /** Command, key, channel or the AUTH command name. */
  object: string;
  /** User name. */
  username: string;
  /** Time of the last occurrence (ms). */
  ctime: number;
  /** CLIENT INFO line of the last client. */
  cinfo: string;
}

const LOG_GROUPING_MS = 60_000;

/** A rule-list error for ACL SETUSER: the offending rule and Redis's reason. */
export interface RuleFailure {
  /** The rule as given. */
  rule: string;
  /** Redis's description of the error. */
  reason: string;
}

/** The users of one server. */
export class Acl {
  /** Users by name. */
  users = new Map<string, AclUser>();
  /** The default user (never deleted; ACL LOAD copies rules into it). */
  readonly defaultUser: AclUser;
  /** ACL LOG, newest first. */
  log: AclLogEntry[] = [];
  /** Top-level command names allowed only on the admin port (`--restricted_commands`). */
  restricted = new Set<string>();

  /** Creates the default user (all permissions, nopass or requirepass) and reads restricted_commands. */
  constructor(private readonly server: Server) {
    this.defaultUser = new AclUser("default", this);
    for (const r of ["+@all", "~*", "&*", "on", "nopass"]) this.defaultUser.apply(r);
    this.users.set("default", this.defaultUser);
    const config = server.config;
    this.setDefaultPassword(config.str("requirepass"));
    config.onChange("requirepass", (v) => this.setDefaultPassword(v as string));
    for (const name of config.list("restricted_commands")) this.restricted.add(name.toLowerCase());
    this.defaultUser.refresh();
  }

  /** requirepass: the default user's only password, or nopass when empty (ACLUpdateDefaultUserPassword). */
  setDefaultPassword(pass: string): void {
    this.defaultUser.apply("resetpass");
    this.defaultUser.apply(pass !== "" ? ">" + pass : "nopass");
  }

  /** Checks a username/password pair (ACLCheckUserCredentials). */
  checkCredentials(name: string, pass: string): boolean {
    const u = this.users.get(name);
    if (!u || !u.enabled) return false;
    if (u.nopass) return true;
    return u.passwords.includes(hashPassword(pass));
  }

  /** Users sorted by name (byte order), as ACL LIST and ACL USERS show them. */
  sortedUsers(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * ACL SETUSER: applies `rules` to a copy of the user (or a new one) and commits only when
   * all are valid. Returns the failure, or null.
   */
  setUser(name: string, rules: string[]): RuleFailure | null {
    const existing = this.users.get(name);
    const staged = new AclUser(name, this);
    if (existing) staged.copyFrom(existing);
    for (const rule of rules) {
      const err = staged.apply(rule);
      if (err) return { rule, reason: RULE_ERRORS[err] };
    }
    if (existing) {
      this.killPubsubClientsIfNeeded(existing, staged);
      existing.copyFrom(staged);
    } else {
      staged.refresh();
      this.users.set(name, staged);
    }
    return null;
  }

  /** Kills pub/sub clients of `user` whose subscriptions the new rules no longer allow. */
  private killPubsubClientsIfNeeded(user: AclUser, next: AclUser): void {
    if (next.selectors.some((s) => s.allChannels)) return;
    const upcoming = new Set(next.selectors.flatMap((s) => s.channels));
    const old = user.selectors.flatMap((s) => s.channels);
    const wasAll = user.selectors.some((s) => s.allChannels);
    if (!wasAll && old.every((c) => upcoming.has(c))) return;
    const allowed = (ch: string, literal: boolean) =>
      [...upcoming].some((p) => (literal ? p === ch : globMatch(p, ch)));
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== user.name || !c.inPubSubMode) continue;
      let kill = false;
      for (const p of c.patterns) if (!allowed(p, true)) kill = true;
      for (const ch of c.channels) if (!allowed(ch, false)) kill = true;
      for (const ch of c.shardChannels) if (!allowed(ch, false)) kill = true;
      if (kill) c.kill();
    }
  }

  /** Removes a user and disconnects its clients (ACLFreeUserAndKillClients). */
  private dropUser(u: AclUser, current: Client | null): void {
    u.removed = true;
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== u.name || c.origin === "internal") continue;
      c.user = null;
      if (c === current) c.closeAfterReply = true;
      else c.kill();
    }
  }

  /** ACL DELUSER: deletes the named users; returns how many existed. */
  deleteUsers(names: string[], current: Client | null): number {
    let deleted = 0;
    for (const name of names) {
      const u = this.users.get(name);
      if (!u) continue;
      this.users.delete(name);
      this.dropUser(u, current);
      deleted++;
    }
    return deleted;
  }

  /** The ACL file text of every user (ACL SAVE). */
  serialize(): string {
    return this.sortedUsers().map((u) => `user ${u.name} ${u.describe()}\n`).join("");
  }

  /**
   * Replaces every user with the ones in an ACL file's text (ACLLoadFromFile). Returns null
   * on success or Redis's one-line error description; on error nothing changes. Clients of
   * replaced users (other than `default`) are disconnected.
   */
  loadText(text: string, filename: string, current: Client | null): string | null {
    const fresh = new Map<string, AclUser>();
    let errors = "";
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const linenum = i + 1;
      const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      if (line === "") continue;
      const argv = line.split(" ");
      if (argv[0] !== "user" || argv.length < 2) {
        errors += `${filename}:${linenum} should start with user keyword followed by the username. `;
        continue;
      }
      if (hasSpaces(argv[1])) {
        errors += `'${filename}:${linenum}: username '${argv[1]}' contains invalid characters. `;
        continue;
      }
      if (fresh.has(argv[1])) {
        errors += `WARNING: Duplicate user '${argv[1]}' found on line ${linenum}. `;
        continue;
      }
      const u = new AclUser(argv[1], this);
      fresh.set(argv[1], u);
      const merged = mergeSelectorArgs(argv.slice(2));
      if (!Array.isArray(merged)) {
        errors += `${filename}:${linenum}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      for (const raw of merged) {
        const rule = raw.replace(/^[\t\r\n]+|[\t\r\n]+$/g, "");
        const err = u.apply(rule);
        if (err) errors += `${filename}:${linenum}: Error in applying operation '${rule}': ${RULE_ERRORS[err]}. `;
      }
    }
    if (errors !== "") {
      return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
    }
    const newDefault = fresh.get("default");
    if (newDefault) this.defaultUser.copyFrom(newDefault);
    else {
      const d = new AclUser("default", this);
      for (const r of ["+@all", "~*", "&*", "on", "nopass"]) d.apply(r);
      this.defaultUser.copyFrom(d);
    }
    fresh.set("default", this.defaultUser);
    const old = this.users;
    this.users = fresh;
    for (const [name, u] of old) if (name !== "default") this.dropUser(u, current);
    for (const u of fresh.values()) u.refresh();
    return null;
  }

  /**
   * AUTH / HELLO AUTH: authenticates `c` as `user`. On failure logs an `auth` entry whose
   * object is the command name as sent (ACLAuthenticateUser) and returns false.
   */
  authenticate(c: Client, commandName: string, user: string, pass: string): boolean {
    if (this.checkCredentials(user, pass)) {
      c.user = user;
      return true;
    }
    this.addLog({
      reason: AclDenied.Auth,
      context: c.multi !== null ? "multi" : "toplevel",
      object: commandName,
      username: user,
      cinfo: clientInfo(c),
    });
    return false;
  }

  /** Adds an ACL LOG entry for a refused command, with the client's CLIENT INFO line. */
  logDenied(c: Client, reason: AclDenied, object: string, username: string, argv: readonly string[]): void {
    this.addLog({
      reason,
      context: c.multi !== null ? "multi" : "toplevel",
      object,
      username,
      cinfo: clientInfo(c, argv),
    });
  }

  /** Adds an ACL LOG entry, merging it with a similar recent one (addACLLogEntry). */
  addLog(entry: Omit<AclLogEntry, "count" | "ctime">): void {
    const now = Date.now();
    const scan = Math.min(10, this.log.length);
    for (let i = 0; i < scan; i++) {
      const e = this.log[i];
      if (
        e.reason === entry.reason && e.context === entry.context && Math.abs(e.ctime - now) <= LOG_GROUPING_MS &&
        e.object === entry.object && e.username === entry.username
      ) {
        this.log.splice(i, 1);
        e.count++;
        e.ctime = now;
        e.cinfo = entry.cinfo;
        this.log.unshift(e);
        return;
      }
    }
    this.log.unshift({ ...entry, count: 1, ctime: now });
    const max = this.server.config.num("acllog_max_len");
    if (this.log.length > max) this.log.length = max;
  }
}

const registries = new WeakMap<Server, Acl>();

/** The ACL registry of a server (created on first use from `requirepass`). */
export function aclOf(server: Server): Acl {
  let acl = registries.get(server);
  if (acl === undefined) {
    acl = new Acl(server);
    registries.set(server, acl);
  }
  return acl;
}

/**
 * True when a new connection from `origin` starts authenticated as `default`: internal links
 * always, the admin port with `--admin_nopass`, and otherwise when the default user is enabled
 * and has `nopass` (no `requirepass`).
 */
export function startsAuthenticated(server: Server, origin: ClientOrigin): boolean {
  if (origin === "internal") return true;
  if (origin === "admin" && server.config.bool("admin_nopass")) return true;
  const d = aclOf(server).defaultUser;
  return d.enabled && d.nopass;
}

/** The ACL user of an authenticated client (cached on the client while its name stays the same). */
export function aclUserOf(c: Client): AclUser {
  const cached = c.aclUser;
  if (cached !== null && cached.name === c.user && !cached.removed) return cached;
  const u = aclOf(c.server).users.get(c.user ?? "default") ?? deniedUser(c.user ?? "");
  c.aclUser = u;
  return u;
}

/** A user that may run nothing (a client whose user vanished between kill and close). */
function deniedUser(name: string): AclUser {
  const u = new AclUser(name, null);
  u.removed = true;
  return u;
}
