/**
 * The zsets command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the zsets family. */
export const zsetCommands: CommandSpec[] = [];
