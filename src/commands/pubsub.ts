/**
 * The pubsub command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the pubsub family. */
export const pubsubCommands: CommandSpec[] = [];
