/**
 * The hashes command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the hashes family. */
export const hashCommands: CommandSpec[] = [];
