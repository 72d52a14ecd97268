/**
 * Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...): waiters per (db, key), FIFO.
 *
 * Owns: the queues of blocked clients and the set of keys signalled ready since the last
 * command. Invariants: waiters on a key are tried in arrival order; keys become ready only
 * when the command (or EXEC, or script) that changed them has finished, never in the middle;
 * a waiter is removed from every queue exactly once (served, timed out, unblocked or gone);
 * blocked clients never hold up the event loop.
 */
import type { Client } from "./client.ts";

/** Longest delay a timer accepts (ms, about 24.8 days); longer timeouts are capped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One blocked client. */
interface Waiter {
  client: Client;
  db: number;
  keys: string[];
  /** Tries to serve the client from the ready key; returns true if it replied (and is done). */
  tryServe: (readyKey: string) => boolean;
  done: (how: "served" | "timeout" | "unblocked" | "error" | "gone") => void;
}

/** Options of one blocking wait. */
export interface BlockOptions {
  /** Keys to wait on (in the client's selected db). */
  keys: string[];
  /** Timeout in ms; 0 waits forever. */
  timeoutMs: number;
  /**
   * Tries to serve the client; writes the reply and returns true when it could. Called with
   * the key that was signalled ready (Redis 7.0 serves a waiter from that key).
   */
  tryServe: (readyKey: string) => boolean;
  /** Writes the timeout reply (e.g. a null array). */
  onTimeout: () => void;
}

/** Blocked clients of the whole server. */
export class BlockingRegistry {
  private waiters = new Map<string, Waiter[]>();
  private ready = new Set<string>();

  /** Map key of `key` in database `db`. */
  private static id(db: number, key: string): string {
    return db + "\0" + key;
  }

  /** Number of blocked clients (INFO blocked_clients). */
  get blockedCount(): number {
    const set = new Set<Waiter>();
    for (const q of this.waiters.values()) for (const w of q) set.add(w);
    return set.size;
  }

  /** Number of keys with blocked clients (INFO blocking_keys). */
  get blockingKeys(): number {
    return this.waiters.size;
  }

  /** Whether any client is blocked on `key` of `db`. */
  hasWaiters(db: number, key: string): boolean {
    return this.waiters.has(BlockingRegistry.id(db, key));
  }

  /**
   * Marks a key as possibly serving waiters (LPUSH, ZADD, XADD, ... call it after a change).
   * Waiters are tried after the current command completes (see `serveReady`).
   */
  signal(db: number, key: string): void {
    if (this.waiters.size === 0) return;
    const id = BlockingRegistry.id(db, key);
    if (this.waiters.has(id)) this.ready.add(id);
  }

  /**
   * Blocks `c` until served, timed out or unblocked. The caller has already tried once and
   * failed. Resolves when the client may continue with its next command.
   */
  block(c: Client, opts: BlockOptions): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        client: c,
        db: c.db,
        keys: [...new Set(opts.keys)],
        tryServe: opts.tryServe,
        done: (how) => {
          if (timer !== undefined) clearTimeout(timer);
          for (const k of waiter.keys) {
            const id = BlockingRegistry.id(waiter.db, k);
            const q = this.waiters.get(id);
            if (!q) continue;
            const i = q.indexOf(waiter);
            if (i >= 0) q.splice(i, 1);
            if (q.length === 0) this.waiters.delete(id);
          }
          c.blockedOn = null;
          c.unblock = null;
          if (how === "timeout" || how === "unblocked") opts.onTimeout();
          if (how === "error") c.w.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
          if (how !== "gone") c.flush();
          resolve();
        },
      };
      for (const k of waiter.keys) {
        const id = BlockingRegistry.id(c.db, k);
        let q = this.waiters.get(id);
        if (!q) this.waiters.set(id, q = []);
        q.push(waiter);
      }
      c.blockedOn = waiter.keys.join(",");
      c.unblock = (error) => waiter.done(c.closed ? "gone" : error ? "error" : "unblocked");
      if (opts.timeoutMs > 0) timer = setTimeout(() => waiter.done("timeout"), Math.min(opts.timeoutMs, MAX_TIMER_MS));
    });
  }

  /** Serves waiters of keys that became ready, in FIFO order per key. Call after each command. */
  serveReady(): void {
    let rounds = 0;
    while (this.ready.size > 0 && rounds++ < 1000) {
      const ids = [...this.ready];
      this.ready.clear();
      for (const id of ids) {
        const q = this.waiters.get(id);
        if (!q) continue;
        const key = id.slice(id.indexOf("\0") + 1);
        for (const w of [...q]) {
          if (w.client.closed) {
            w.done("gone");
            continue;
          }
          if (w.tryServe(key)) w.done("served");
          if (!this.waiters.has(id)) break;
        }
      }
    }
  }
}
