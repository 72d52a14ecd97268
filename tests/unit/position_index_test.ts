/**
 * PositionIndex against V8's Map as the reference: an owner array (stride 1 like a set's
 * members, stride 2 like a hash's pairs) changed by random adds, swap-deletes and
 * shift-deletes, with lookups of present and absent keys, clones, and growth from a few keys
 * (linear scan) to tens of thousands and back; after every step the index must agree with the
 * Map, and `verify` checks its table invariants at intervals. DenseStringMap, built on it, is
 * checked against Map the same way.
 */
import assert from "node:assert/strict";
import { PositionIndex } from "../../src/store/position_index.ts";
import { DenseStringMap } from "../../src/store/dense_string_map.ts";
import { rng } from "../helpers/rng.ts";

/**
 * A fresh, non-internalized copy of `s` (as strings parsed off the network are), so that
 * lookups compare contents, not identities.
 */
function copyOf(s: string): string {
  return (" " + s).slice(1);
}

/** An owner of the index: keys at array[p * stride], as HashValue and SetValue keep them. */
class Owner {
  readonly index: PositionIndex;
  array: string[] = [];
  readonly model = new Map<string, number>();

  constructor(readonly stride: number) {
    this.index = new PositionIndex(stride);
  }

  get size(): number {
    return this.array.length / this.stride;
  }

  add(key: string): boolean {
    const found = this.index.findOrAdd(key, this.array);
    const expected = this.model.get(key);
    assert.equal(found, expected ?? -1, `findOrAdd(${key})`);
    if (found >= 0) return false;
    this.model.set(key, this.size);
    this.array.push(key);
    if (this.stride === 2) this.array.push("value of " + key);
    return true;
  }

  /** Removes `key`, filling the hole with the last entry (hashtable) or by shifting (listpack). */
  remove(key: string, shift: boolean): boolean {
    const i = this.index.delete(key, this.array);
    assert.equal(i, this.model.get(key) ?? -1, `delete(${key})`);
    if (i < 0) return false;
    this.model.delete(key);
    const stride = this.stride;
    const last = this.size - 1;
    if (shift) {
      this.array.splice(i * stride, stride);
      this.index.closeGap(i);
      for (const [k, p] of this.model) if (p > i) this.model.set(k, p - 1);
    } else {
      if (i !== last) {
        const moved = this.array[last * stride];
        for (let j = 0; j < stride; j++) this.array[i * stride + j] = this.array[last * stride + j];
        this.index.move(moved, last, i);
        this.model.set(moved, i);
      }
      this.array.length = last * stride;
    }
    return true;
  }

  check(keys: readonly string[]): void {
    assert.equal(this.index.size, this.model.size);
    assert.equal(this.size, this.model.size);
    for (const k of keys) assert.equal(this.index.find(copyOf(k), this.array), this.model.get(k) ?? -1, `find(${k})`);
  }
}

for (const stride of [1, 2]) {
  Deno.test(`PositionIndex (stride ${stride}) matches a Map under random adds, swap- and shift-deletes`, () => {
    const r = rng(1000 + stride);
    const owner = new Owner(stride);
    // Key spaces of varying size keep the index moving between linear mode and tables of many sizes.
    let universe = 4;
    for (let step = 0; step < 60000; step++) {
      if (step % 5000 === 0) universe = [4, 12, 40, 300, 3000][Math.floor(r() * 5)];
      const key = "k:" + Math.floor(r() * universe);
      const op = r();
      if (op < 0.5) owner.add(copyOf(key));
      else if (op < 0.9) owner.remove(copyOf(key), false);
      else if (op < 0.95 && owner.size <= 128) owner.remove(copyOf(key), true);
      else assert.equal(owner.index.find(copyOf(key), owner.array), owner.model.get(key) ?? -1);
      if (step % 500 === 0) {
        owner.index.verify(owner.array);
        owner.check([key, "absent", "k:-1", ""]);
      }
    }
    owner.index.verify(owner.array);
    owner.check([...owner.model.keys(), "absent"]);
  });
}

Deno.test("PositionIndex grows to many keys, drains back to linear, and clones independently", () => {
  const owner = new Owner(1);
  const n = 50000;
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push("member:" + i);
  for (const k of keys) assert.equal(owner.add(k), true);
  for (const k of keys) assert.equal(owner.add(copyOf(k)), false);
  owner.index.verify(owner.array);
  owner.check(keys);
  const small = owner.index.byteSize();

  const copy = owner.index.clone();
  const copyArray = owner.array.slice();
  const r = rng(5);
  // Drain in random order with swap-deletes: the table shrinks step by step, then goes linear.
  const order = keys.slice().sort(() => r() - 0.5);
  for (let i = 0; i < order.length; i++) {
    assert.equal(owner.remove(order[i], false), true);
    assert.equal(owner.remove(order[i], false), false);
    if (i % 4999 === 0 || order.length - i < 20) owner.index.verify(owner.array);
  }
  assert.equal(owner.index.size, 0);
  assert.ok(owner.index.byteSize() < small);

  // The clone still answers for the untouched copy of the array.
  copy.verify(copyArray);
  for (let i = 0; i < copyArray.length; i++) assert.equal(copy.find(copyOf(copyArray[i]), copyArray), i);
  assert.equal(copy.find("member:-1", copyArray), -1);
});

Deno.test("PositionIndex: empty, empty-string and binary keys, closeGap and move in linear mode", () => {
  const owner = new Owner(2);
  assert.equal(owner.index.find("x", owner.array), -1);
  assert.equal(owner.index.delete("x", owner.array), -1);
  const keys = ["", "\x00", "\xff\x00", "a", "a\x00", "é", "\r\n", "long".repeat(100)];
  for (const k of keys) owner.add(k);
  owner.check(keys);
  owner.remove("a", true);
  owner.remove("", false);
  owner.index.verify(owner.array);
  owner.check(keys);
  // Crossing into a table and back keeps the positions.
  for (let i = 0; i < 20; i++) owner.add("x" + i);
  owner.index.verify(owner.array);
  for (let i = 0; i < 20; i++) owner.remove("x" + i, i % 2 === 0);
  owner.index.verify(owner.array);
  owner.check([...keys, "x0", "x19"]);
});

Deno.test("DenseStringMap matches a Map under random sets, overwrites and deletes", () => {
  const r = rng(77);
  const map = new DenseStringMap<number>();
  const model = new Map<string, number>();
  let universe = 6;
  for (let step = 0; step < 60000; step++) {
    if (step % 4000 === 0) universe = [6, 50, 2000, 20000][Math.floor(r() * 4)];
    const key = copyOf("m:" + Math.floor(r() * universe));
    const op = r();
    if (op < 0.5) {
      // Scores of every kind: integers, fractions, -0 and infinities.
      const v = [Math.floor(r() * 100), r() * 1e6, -0, Infinity, -Infinity][Math.floor(r() * 5)];
      map.set(key, v);
      model.set(key, v);
    } else if (op < 0.85) {
      assert.equal(map.delete(key), model.delete(key));
    } else {
      assert.equal(map.has(key), model.has(key));
    }
    assert.ok(Object.is(map.get(key), model.get(key)), `get(${key})`);
    assert.equal(map.size, model.size);
  }
  for (const [k, v] of model) assert.ok(Object.is(map.get(copyOf(k)), v));
  assert.equal(map.get("absent"), undefined);
  assert.ok(map.byteSize() > 0);
});
