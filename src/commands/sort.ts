/**
 * The sort command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the sort family. */
export const sortCommands: CommandSpec[] = [];
