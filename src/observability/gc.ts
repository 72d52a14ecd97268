/**
 * Full garbage collection on demand (MEMORY PURGE), the V8 counterpart of Redis asking
 * jemalloc to release dirty pages.
 *
 * Invariant: enabling `gc` through node:v8 flags once at start-up costs nothing until it is
 * called; if the runtime refuses, purging is a no-op rather than an error.
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | null | undefined;

/** Runs a full, synchronous garbage collection; returns false when unavailable. */
export function fullGc(): boolean {
  if (!prepareFullGc()) return false;
  collect!();
  return true;
}

/**
 * Enables `fullGc` (a one-time cost: a V8 flag and a new context) without collecting; returns
 * false when the runtime refuses. Callers that time collections call it first.
 */
export function prepareFullGc(): boolean {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      const fn = vm.runInNewContext("gc");
      collect = typeof fn === "function" ? fn as () => void : null;
    } catch {
      collect = null;
    }
  }
  return collect !== null;
}
