/**
 * The lists command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the lists family. */
export const listCommands: CommandSpec[] = [];
