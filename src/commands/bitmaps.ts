/**
 * The bitmaps command family (not yet implemented; see issue 3).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the bitmaps family. */
export const bitmapCommands: CommandSpec[] = [];
