/**
 * The geo command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the geo family. */
export const geoCommands: CommandSpec[] = [];
