/**
 * The strings command family (being written).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the strings family. */
export const stringCommands: CommandSpec[] = [];
