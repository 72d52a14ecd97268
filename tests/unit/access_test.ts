/**
 * The LRU/LFU arithmetic of src/store/access.ts against Redis 7.0's (evict.c, object.c): clock
 * wrap-around, idle times, the logarithmic counter's increment probability, decay per
 * lfu-decay-time minutes (across the 16-bit minute wrap), stamps from RDB IDLE/FREQ and RESTORE,
 * and the tracker's stamps for new keys under each policy.
 */
import assert from "node:assert/strict";
import {
  AccessTracker,
  LFU_INIT_VAL,
  lfuDecrAndReturn,
  lfuLogIncr,
  lfuMinutesAt,
  lfuTimeElapsed,
  LRU_CLOCK_MAX,
  lruClockAt,
  lruIdleMs,
  policyTraits,
} from "../../src/store/access.ts";

Deno.test("access: the LRU clock counts seconds and wraps at 24 bits", () => {
  assert.equal(lruClockAt(0), 0);
  assert.equal(lruClockAt(1999), 1);
  assert.equal(lruClockAt((LRU_CLOCK_MAX + 1) * 1000), 0);
  assert.equal(lruClockAt((LRU_CLOCK_MAX + 5) * 1000 + 10), 4);
});

Deno.test("access: idle time, including across the clock wrap (estimateObjectIdleTime)", () => {
  assert.equal(lruIdleMs(100, 100), 0);
  assert.equal(lruIdleMs(100, 103), 3000);
  // Stamped just before the wrap, read just after it: Redis's formula gives clock + MAX - stamp.
  assert.equal(lruIdleMs(LRU_CLOCK_MAX - 1, 2), (2 + 1) * 1000);
});

Deno.test("access: LFU minutes are the low 16 bits of Unix minutes", () => {
  assert.equal(lfuMinutesAt(59_999), 0);
  assert.equal(lfuMinutesAt(60_000), 1);
  assert.equal(lfuMinutesAt(65536 * 60_000 + 120_000), 2);
  assert.equal(lfuTimeElapsed(10, 15), 5);
  assert.equal(lfuTimeElapsed(65530, 4), 65535 - 65530 + 4);
});

Deno.test("access: LFULogIncr increments surely up to LFU_INIT_VAL, then with 1/((c-5)*factor+1)", () => {
  for (let c = 0; c <= LFU_INIT_VAL; c++) assert.equal(lfuLogIncr(c, 10, 0.999999), c + 1);
  // Counter 6, factor 10: p = 1/11.
  assert.equal(lfuLogIncr(6, 10, 1 / 11 - 1e-9), 7);
  assert.equal(lfuLogIncr(6, 10, 1 / 11 + 1e-9), 6);
  // Factor 0: every access counts.
  assert.equal(lfuLogIncr(200, 0, 0.999), 201);
  assert.equal(lfuLogIncr(255, 0, 0), 255);
});

Deno.test("access: LFUDecrAndReturn decays one per lfu-decay-time minutes, never below 0", () => {
  const stamp = (minutes: number, counter: number) => (minutes << 8) | counter;
  assert.equal(lfuDecrAndReturn(stamp(100, 20), 100, 1), 20);
  assert.equal(lfuDecrAndReturn(stamp(100, 20), 107, 1), 13);
  assert.equal(lfuDecrAndReturn(stamp(100, 20), 107, 2), 17);
  assert.equal(lfuDecrAndReturn(stamp(100, 20), 200, 1), 0);
  assert.equal(lfuDecrAndReturn(stamp(100, 20), 10_000, 0), 20);
  // Across the minute wrap: 65535 - 65534 + 3 = 4 minutes.
  assert.equal(lfuDecrAndReturn(stamp(65534, 9), 3, 1), 5);
});

Deno.test("access: the tracker stamps new keys and counts accesses per policy", () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);
  const t = new AccessTracker(now);
  assert.equal(t.freshStamp, lruClockAt(now));
  t.setPolicy("allkeys-lfu");
  assert.deepEqual([t.lfu, t.lru], [true, false]);
  assert.equal(t.freshStamp, (lfuMinutesAt(now) << 8) | LFU_INIT_VAL);
  assert.equal(t.frequency(t.freshStamp), LFU_INIT_VAL);
  // The first access from the initial counter always counts.
  assert.equal(t.frequency(t.lfuTouched(t.freshStamp)), LFU_INIT_VAL + 1);
  // Two minutes later the counter decayed by two, and an access stamps the new minute.
  t.refresh(now + 120_000);
  const touched = t.lfuTouched((lfuMinutesAt(now) << 8) | 10);
  assert.equal(touched >>> 8, lfuMinutesAt(now + 120_000));
  assert.ok((touched & 255) === 8 || (touched & 255) === 9);
  t.setPolicy("volatile-lru");
  assert.deepEqual([t.lfu, t.lru], [false, true]);
  assert.equal(t.freshStamp, lruClockAt(now + 120_000));
  assert.equal(t.idleMs(lruClockAt(now)), 120_000);
  assert.deepEqual(policyTraits("allkeys-random"), { lru: false, lfu: false });
});

Deno.test("access: stamps restored from IDLE/FREQ follow objectSetLRUOrLFU", () => {
  const now = 1_000_000_000;
  const t = new AccessTracker(now);
  const clock = lruClockAt(now);
  assert.equal(t.restoredStamp(30, undefined), clock - 30);
  assert.equal(t.idleMs(t.restoredStamp(30, undefined)), 30_000);
  // FREQ is ignored under a non-LFU policy, IDLE under an LFU one.
  assert.equal(t.restoredStamp(undefined, 7), -1);
  // An idle time beyond the clock gives "half a cycle ago".
  assert.equal(t.restoredStamp(clock + 10, undefined), (clock + (LRU_CLOCK_MAX >> 1)) % LRU_CLOCK_MAX);
  t.setPolicy("allkeys-lfu");
  assert.equal(t.restoredStamp(30, undefined), -1);
  assert.equal(t.frequency(t.restoredStamp(undefined, 0)), 0);
  assert.equal(t.frequency(t.restoredStamp(undefined, 255)), 255);
});
