/**
 * The command registry: every family's command table merged into one lookup map.
 *
 * Invariant: the registry is built once from data; adding a family means adding it to
 * FAMILIES. Names are unique (a duplicate is a programming error caught at startup).
 */
import { type CommandSpec, traitsOf } from "./types.ts";
import { connectionCommands } from "./connection.ts";
import { serverCommands } from "./server_admin.ts";
import { configCommands } from "./config.ts";
import { introspectionCommands } from "./introspection.ts";
import { stringCommands } from "./strings.ts";
import { keyCommands } from "./keys.ts";
import { listCommands } from "./lists.ts";
import { hashCommands } from "./hashes.ts";
import { setCommands } from "./sets.ts";
import { zsetCommands } from "./zsets.ts";
import { streamCommands } from "./streams.ts";
import { hyperloglogCommands } from "./hyperloglog.ts";
import { bitmapCommands } from "./bitmaps.ts";
import { geoCommands } from "./geo.ts";
import { sortCommands } from "./sort.ts";
import { transactionCommands } from "./transactions.ts";
import { pubsubCommands } from "./pubsub.ts";
import { persistenceCommands } from "./persistence.ts";
import { replicationCommands } from "./replication.ts";
import { aclCommands } from "./acl.ts";

/** Every command family's table, in registration order. */
const FAMILIES: readonly (readonly CommandSpec[])[] = [
  connectionCommands,
  serverCommands,
  configCommands,
  introspectionCommands,
  stringCommands,
  keyCommands,
  listCommands,
  hashCommands,
  setCommands,
  zsetCommands,
  streamCommands,
  hyperloglogCommands,
  bitmapCommands,
  geoCommands,
  sortCommands,
  transactionCommands,
  pubsubCommands,
  persistenceCommands,
  replicationCommands,
  aclCommands,
];

/** Lower-case command name → spec. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = (() => {
  const map = new Map<string, CommandSpec>();
  for (const family of FAMILIES) {
    for (const spec of family) {
      if (map.has(spec.name)) throw new Error(`duplicate command ${spec.name}`);
      spec.traits = traitsOf(spec);
      for (const sub of spec.subcommands ?? []) sub.traits = traitsOf(sub);
      map.set(spec.name, spec);
    }
  }
  return map;
})();

/** Upper-case names too: clients usually send them, and an exact hit avoids lower-casing. */
const LOOKUP: ReadonlyMap<string, CommandSpec> = new Map([
  ...COMMANDS,
  ...[...COMMANDS].map(([name, spec]) => [name.toUpperCase(), spec] as [string, CommandSpec]),
]);

/** The name `lookupCommand` resolved last, and its spec. */
let lastLookupName = "";
let lastLookupSpec: CommandSpec | undefined = undefined;

/** Finds a command by its name as sent (any case). */
export function lookupCommand(name: string): CommandSpec | undefined {
  // One-entry memo: the parser hands out the same string object for a command name it has seen
  // recently, so in a pipeline of one command this is a pointer check (the table never changes).
  if (name === lastLookupName) return lastLookupSpec;
  const spec = LOOKUP.get(name) ?? COMMANDS.get(name.toLowerCase());
  lastLookupName = name;
  lastLookupSpec = spec;
  return spec;
}

/** Finds the subcommand spec of a container command, if any. */
export function findSubcommand(parent: CommandSpec, sub: string): CommandSpec | undefined {
  const name = parent.name + "|" + sub.toLowerCase();
  return parent.subcommands?.find((s) => s.name === name);
}
