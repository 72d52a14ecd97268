/**
 * The transactions command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the transactions family. */
export const transactionCommands: CommandSpec[] = [];
