/**
 * Access stamps: Redis's per-key LRU clock and LFU counter (src/evict.c, src/object.c), kept in
 * the keyspace StringMap's per-entry stamp.
 *
 * Owns: the cached clocks, the policy's view of a stamp (LRU or LFU), the LFU math and the
 * "may this command touch keys" switch. Invariants: a stamp is a 26-bit non-negative integer
 * (a V8 small integer, stored without allocation). Its low 24 bits are the access part: under a
 * non-LFU policy the LRU clock (seconds, wrapping at LRU_CLOCK_MAX) of the last access; under an
 * `*-lfu` policy `minutes << 8 | counter` (16-bit minutes of the last decrement, 8-bit
 * logarithmic counter). Bits 24-25 say how a string value was made (src/store/values.ts,
 * STRING_MADE_*), which OBJECT ENCODING reports; they live here because every key already has
 * a stamp, so the fact costs no memory. Access updates keep them; storing a new value clears
 * them. Everything that reads the access part masks with STAMP_ACCESS_MASK.
 * Switching policies reinterprets the stamps without converting them, as Redis does. Clocks are
 * read from fields the server cron refreshes (`refresh`), never per access.
 */

/** Bits of the LRU clock (Redis's LRU_BITS). */
export const LRU_BITS = 24;
/** Largest LRU clock value; the clock wraps after it (Redis's LRU_CLOCK_MAX). */
export const LRU_CLOCK_MAX = (1 << LRU_BITS) - 1;
/** Milliseconds per LRU clock tick (Redis's LRU_CLOCK_RESOLUTION). */
export const LRU_CLOCK_RESOLUTION = 1000;
/** The access part of a stamp (LRU clock or LFU minutes and counter). */
export const STAMP_ACCESS_MASK: number = (1 << LRU_BITS) - 1;
/** Shift of the two "how the string was made" bits above the access part. */
export const STAMP_MADE_SHIFT: number = LRU_BITS;

/** LFU counter of a new key (Redis's LFU_INIT_VAL). */
export const LFU_INIT_VAL = 5;

/** The LRU clock at `nowMs` (Redis's getLRUClock). */
export function lruClockAt(nowMs: number): number {
  return Math.floor(nowMs / LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX;
}

/** LFU minutes at `nowMs`: the low 16 bits of Unix minutes (Redis's LFUGetTimeInMinutes). */
export function lfuMinutesAt(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 65535;
}

/** Milliseconds since the access stamped `stamp`, at LRU clock `clock` (Redis's estimateObjectIdleTime). */
export function lruIdleMs(stamp: number, clock: number): number {
  stamp &= STAMP_ACCESS_MASK;
  return (clock >= stamp ? clock - stamp : clock + (LRU_CLOCK_MAX - stamp)) * LRU_CLOCK_RESOLUTION;
}

/** Minutes elapsed since `ldt` at `nowMinutes`, across the 16-bit wrap (Redis's LFUTimeElapsed). */
export function lfuTimeElapsed(ldt: number, nowMinutes: number): number {
  return nowMinutes >= ldt ? nowMinutes - ldt : 65535 - ldt + nowMinutes;
}

/**
 * The LFU counter of `stamp` after decay: one per `decayTime` minutes since its last decrement
 * (Redis's LFUDecrAndReturn; decay time 0 never decays).
 */
export function lfuDecrAndReturn(stamp: number, nowMinutes: number, decayTime: number): number {
  const counter = stamp & 255;
  const periods = decayTime > 0 ? Math.floor(lfuTimeElapsed((stamp >>> 8) & 65535, nowMinutes) / decayTime) : 0;
  return periods === 0 ? counter : periods > counter ? 0 : counter - periods;
}

/**
 * The counter after one access: incremented with probability 1 / ((counter - LFU_INIT_VAL) *
 * logFactor + 1), so it grows logarithmically and saturates at 255 (Redis's LFULogIncr).
 * `random` is a uniform draw in [0, 1).
 */
export function lfuLogIncr(counter: number, logFactor: number, random: number): number {
  if (counter === 255) return 255;
  const base = counter - LFU_INIT_VAL;
  const p = 1 / ((base < 0 ? 0 : base) * logFactor + 1);
  return random < p ? counter + 1 : counter;
}

/** Policy flags, as Redis's MAXMEMORY_FLAG_* bits would give them. */
export interface PolicyTraits {
  /** `volatile-lru` or `allkeys-lru`: RDB files carry IDLE opcodes. */
  lru: boolean;
  /** `volatile-lfu` or `allkeys-lfu`: stamps are LFU counters and RDB files carry FREQ opcodes. */
  lfu: boolean;
}

/** The traits of a maxmemory-policy name. */
export function policyTraits(policy: string): PolicyTraits {
  return { lru: policy.endsWith("-lru"), lfu: policy.endsWith("-lfu") };
}

/**
 * The access-stamp state of one store: policy, cached clocks and the touch switch. DbSlice
 * reads it on every lookup, so its fields are plain numbers and booleans.
 */
export class AccessTracker {
  /** Stamps are LFU counters (an `*-lfu` policy). */
  lfu = false;
  /** The policy is `*-lru` (RDB files carry IDLE opcodes). */
  lru = false;
  /**
   * Lookups of the running command update stamps: false for Redis's LOOKUP_NOTOUCH commands
   * (OBJECT, TYPE, EXISTS, TTL, ...) and for clients in CLIENT NO-TOUCH mode.
   */
  touch = true;
  /**
   * The key the running command last touched under LFU (or null): an overwrite of that key does
   * not count a second access, as Redis's setKey after its own lookupKeyWrite.
   */
  touchedKey: string | null = null;
  /** Cached LRU clock (Redis's server.lruclock). */
  lruClock = 0;
  /** Cached LFU minutes. */
  lfuMinutes = 0;
  /** The stamp of a new key under the current policy (the LRU clock, or minutes + LFU_INIT_VAL). */
  freshStamp = 0;
  /** lfu-log-factor. */
  lfuLogFactor = 10;
  /** lfu-decay-time (minutes per counter decrement; 0 never decays). */
  lfuDecayTime = 1;

  /** Starts with the clocks at `nowMs`. */
  constructor(nowMs: number = Date.now()) {
    this.refresh(nowMs);
  }

  /** Updates the cached clocks (the server cron calls this at `hz`). */
  refresh(nowMs: number): void {
    this.lruClock = lruClockAt(nowMs);
    this.lfuMinutes = lfuMinutesAt(nowMs);
    this.freshStamp = this.lfu ? (this.lfuMinutes << 8) | LFU_INIT_VAL : this.lruClock;
  }

  /** Applies a maxmemory-policy (stamps already stored are reinterpreted, not converted). */
  setPolicy(policy: string): void {
    const t = policyTraits(policy);
    this.lfu = t.lfu;
    this.lru = t.lru;
    this.freshStamp = this.lfu ? (this.lfuMinutes << 8) | LFU_INIT_VAL : this.lruClock;
  }

  /** Starts a command: whether its lookups touch keys. */
  beginCommand(touch: boolean): void {
    this.touch = touch;
    this.touchedKey = null;
  }

  /** The access part of the stamp after one access to a key stamped `stamp` under LFU (Redis's updateLFU). */
  lfuTouched(stamp: number): number {
    const counter = lfuDecrAndReturn(stamp, this.lfuMinutes, this.lfuDecayTime);
    return (this.lfuMinutes << 8) | lfuLogIncr(counter, this.lfuLogFactor, Math.random());
  }

  /** The decayed LFU counter of `stamp` (OBJECT FREQ, eviction, RDB FREQ). */
  frequency(stamp: number): number {
    return lfuDecrAndReturn(stamp, this.lfuMinutes, this.lfuDecayTime);
  }

  /** Milliseconds since the access stamped `stamp` (OBJECT IDLETIME, eviction, RDB IDLE). */
  idleMs(stamp: number): number {
    return lruIdleMs(stamp, this.lruClock);
  }

  /**
   * The stamp given by an RDB IDLE/FREQ opcode or RESTORE's IDLETIME/FREQ, or -1 when the
   * current policy does not use the one given (Redis's objectSetLRUOrLFU with seconds).
   */
  restoredStamp(idleSec: number | undefined, freq: number | undefined): number {
    if (this.lfu) return freq === undefined ? -1 : (this.lfuMinutes << 8) | Math.min(255, freq);
    if (idleSec === undefined) return -1;
    const clock = this.lruClock;
    const abs = clock - idleSec;
    // A wrapped result gets an access time half a clock cycle ago, which reads as very idle.
    return abs >= 0 ? abs : (clock + (LRU_CLOCK_MAX >> 1)) % LRU_CLOCK_MAX;
  }
}
