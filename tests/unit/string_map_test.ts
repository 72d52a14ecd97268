/**
 * StringMap against V8's Map as the reference: random operation sequences (set, delete, clear,
 * lookups) with iterators advanced in between, so that growth, compaction and shrinking happen
 * while cursors are live, must give the same contents, order and iteration results as Map.
 */
import assert from "node:assert/strict";
import { StringMap } from "../../src/store/string_map.ts";
import { rng } from "../helpers/rng.ts";

Deno.test("StringMap: basic Map API", () => {
  const m = new StringMap<number>([["a", 1], ["b", 2]]);
  assert.equal(m.size, 2);
  assert.equal(m.get("a"), 1);
  assert.equal(m.has("b"), true);
  assert.equal(m.has("c"), false);
  assert.equal(m.set("a", 3), m);
  assert.deepEqual([...m], [["a", 3], ["b", 2]]);
  assert.equal(m.delete("a"), true);
  assert.equal(m.delete("a"), false);
  assert.deepEqual([...m.keys()], ["b"]);
  m.set("", 0);
  assert.equal(m.get(""), 0);
  const seen: string[] = [];
  m.forEach((v, k) => seen.push(`${k}=${v}`));
  assert.deepEqual(seen, ["b=2", "=0"]);
  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual([...m.values()], []);
});

Deno.test("StringMap: binary and colliding-prefix keys", () => {
  const m = new StringMap<string>();
  const keys = ["\x00", "\x00\x00", "\xff\xfe", "key:1", "key:10", "key:100", "\u0100"];
  keys.forEach((k, i) => m.set(k, String(i)));
  keys.forEach((k, i) => assert.equal(m.get(k), String(i)));
  assert.equal(m.get("key:1000"), undefined);
});

Deno.test("StringMap: random operations and live iterators match Map", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = rng(seed);
    const ref = new Map<string, number>();
    const sm = new StringMap<number>();
    const space = 1 + Math.floor(rand() * 300);
    const cursors: { ref: Iterator<[string, number]>; sm: Iterator<[string, number]> }[] = [];
    for (let step = 0; step < 3000; step++) {
      const r = rand();
      const key = "k" + Math.floor(rand() * space);
      if (r < 0.45) {
        ref.set(key, step);
        sm.set(key, step);
      } else if (r < 0.8) {
        assert.equal(sm.delete(key), ref.delete(key), `seed ${seed} step ${step} delete`);
      } else if (r < 0.802) {
        ref.clear();
        sm.clear();
      } else if (r < 0.85) {
        assert.equal(sm.get(key), ref.get(key));
        assert.equal(sm.has(key), ref.has(key));
      } else if (r < 0.87 && cursors.length < 8) {
        cursors.push({ ref: ref.entries(), sm: sm.entries() });
      } else if (cursors.length > 0) {
        const i = Math.floor(rand() * cursors.length);
        const a = cursors[i].ref.next();
        const b = cursors[i].sm.next();
        assert.deepEqual(b, a, `seed ${seed} step ${step} iterator`);
        if (a.done) cursors.splice(i, 1);
      }
      assert.equal(sm.size, ref.size);
    }
    assert.deepEqual([...sm], [...ref], `seed ${seed} final contents`);
    for (const c of cursors) {
      for (;;) {
        const a = c.ref.next();
        assert.deepEqual(c.sm.next(), a);
        if (a.done) break;
      }
    }
  }
});

Deno.test("StringMap: deleting every key while iterating visits each once", () => {
  const m = new StringMap<number>();
  for (let i = 0; i < 10000; i++) m.set("key:" + i, i);
  let n = 0;
  for (const k of m.keys()) {
    assert.equal(m.delete(k), true);
    n++;
  }
  assert.equal(n, 10000);
  assert.equal(m.size, 0);
});

Deno.test("StringMap: an iterator that breaks early does not pin the map", () => {
  const m = new StringMap<number>();
  for (let i = 0; i < 100; i++) m.set("k" + i, i);
  for (let round = 0; round < 1000; round++) {
    for (const _ of m.keys()) break;
  }
  // Growth after many abandoned iterations still works and keeps the order.
  for (let i = 100; i < 5000; i++) m.set("k" + i, i);
  assert.deepEqual([...m.keys()].slice(0, 3), ["k0", "k1", "k2"]);
  assert.equal(m.size, 5000);
});

Deno.test("StringMap: entry numbers and stamps survive replacement and rehashing", () => {
  const m = new StringMap<string>();
  const e = m.put("a", "1");
  assert.equal(m.stampAt(e), 0);
  m.setStampAt(e, 42);
  assert.equal(m.put("a", "2"), e);
  assert.equal(m.stampAt(m.entryOf("a")), 42);
  assert.equal(m.valueAt(m.entryOf("a")), "2");
  assert.equal(m.entryOf("missing"), -1);
  for (let i = 0; i < 5000; i++) m.setStampAt(m.put("k" + i, "v"), i + 1);
  for (let i = 0; i < 5000; i += 2) m.delete("k" + i);
  for (let i = 1; i < 5000; i += 2) assert.equal(m.stampAt(m.entryOf("k" + i)), i + 1);
  assert.equal(m.stampAt(m.entryOf("a")), 42);
});

Deno.test("StringMap: nextKey walks like next() without result objects", () => {
  const m = new StringMap<number>();
  for (let i = 0; i < 100; i++) m.set("k" + i, i);
  const it = m.keys();
  const seen: string[] = [];
  for (let k = it.nextKey(); k !== undefined; k = it.nextKey()) {
    seen.push(k);
    if (k === "k10") { for (let i = 0; i < 50; i++) m.delete("k" + i); }
    if (k === "k60") m.set("late", 1);
  }
  assert.deepEqual(seen, [
    ...Array.from({ length: 11 }, (_, i) => "k" + i),
    ...Array.from({ length: 50 }, (_, i) => "k" + (i + 50)),
    "late",
  ]);
  assert.equal(it.nextKey(), undefined);
});

Deno.test("StringMap: randomEntry returns live entries only, and every one eventually", () => {
  const m = new StringMap<number>();
  assert.equal(m.randomEntry(), -1);
  for (let i = 0; i < 64; i++) m.set(`k${i}`, i);
  // Delete most entries (not enough to shrink): the walk must skip the holes.
  for (let i = 0; i < 56; i++) m.delete(`k${i}`);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const e = m.randomEntry();
    const key = m.keyAt(e)!;
    assert.equal(m.valueAt(e), Number(key.slice(1)));
    assert.ok(Number(key.slice(1)) >= 56);
    seen.add(key);
  }
  assert.equal(seen.size, 8);
});

Deno.test("StringMap: a bulk load after reserve (slot keys rebuilt by the first lookup) matches Map", () => {
  const rand = rng(7);
  const m = new StringMap<number>();
  const ref = new Map<string, number>();
  m.reserve(20_000);
  // Loads with duplicates and a growth past the reserved size, before any lookup.
  for (let i = 0; i < 40_000; i++) {
    const k = `k${Math.floor(rand() * 30_000)}`;
    const e = m.put(k, i);
    ref.set(k, i);
    assert.equal(m.valueAt(e), i);
  }
  assert.equal(m.size, ref.size);
  for (const [k, v] of ref) assert.equal(m.get(k), v);
  assert.equal(m.get("absent"), undefined);
  // After the rebuild, writes, deletions and iteration behave as usual.
  for (let i = 0; i < 10_000; i++) {
    const k = `k${Math.floor(rand() * 40_000)}`;
    if (rand() < 0.5) {
      assert.equal(m.delete(k), ref.delete(k));
    } else {
      m.set(k, -i);
      ref.set(k, -i);
    }
  }
  assert.deepEqual([...m], [...ref]);
});
