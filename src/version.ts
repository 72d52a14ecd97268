/**
 * The version string embedded in the binary; scripts/build may rewrite it.
 */

/** damselfly's version, reported by --version, INFO and HELLO. */
export const VERSION = "0.1.0";
