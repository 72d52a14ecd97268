/**
 * The server_admin command family (being written).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the server_admin family. */
export const serverCommands: CommandSpec[] = [];
