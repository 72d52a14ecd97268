/**
 * The sets command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the sets family. */
export const setCommands: CommandSpec[] = [];
