/**
 * The introspection command family (being written).
 */
import type { CommandSpec } from "./types.ts";

/** Commands of the introspection family. */
export const introspectionCommands: CommandSpec[] = [];
