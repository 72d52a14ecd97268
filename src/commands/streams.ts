/**
 * The streams command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the streams family. */
export const streamCommands: CommandSpec[] = [];
