/**
 * The keys command family (being written).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the keys family. */
export const keyCommands: CommandSpec[] = [];
