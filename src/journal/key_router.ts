/**
 * Key router: finds the shard of every key a command vector touches, from the command
 * table's key positions.
 *
 * Invariant: uses exactly the routing the store uses (shardOf), so a journal item lands on
 * the shard that owns its keys.
 */
import { lookupCommand } from "../commands/registry.ts";
import { keyPositions } from "../commands/types.ts";
import { shardOf } from "../store/key_hash.ts";
import type { KeyRouter } from "./journal.ts";

/** A KeyRouter for a store with `numShards` shards. */
export function commandKeyRouter(numShards: number): KeyRouter {
  return {
    keyShards(args) {
      const spec = lookupCommand(args[0]);
      if (!spec) return null;
      const positions = keyPositions(spec, args as string[]);
      if (positions.length === 0) return null;
      return positions.map((i) => [i, shardOf(args[i], numShards)]);
    },
  };
}
