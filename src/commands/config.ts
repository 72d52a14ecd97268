/**
 * The config command family (being written).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the config family. */
export const configCommands: CommandSpec[] = [];
