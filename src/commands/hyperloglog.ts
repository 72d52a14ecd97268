/**
 * The hyperloglog command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the hyperloglog family. */
export const hyperloglogCommands: CommandSpec[] = [];
