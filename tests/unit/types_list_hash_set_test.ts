/**
 * Unit tests of the list, hash and set value types: each is driven by a seeded random
 * workload and compared with a plain JS model after every step; the encodings follow Redis
 * 7.0's rules; and the scan cursors keep their guarantee (every element present for the
 * whole scan is returned) while the collection changes under them.
 */
import assert from "node:assert/strict";
import { ListValue } from "../../src/store/types/list.ts";
import { HashValue } from "../../src/store/types/hash.ts";
import { SetValue } from "../../src/store/types/set.ts";
import { rng } from "../helpers/rng.ts";

Deno.test("ListValue matches an array model under random pushes, pops, inserts, removals and trims", () => {
  const r = rng(7);
  const list = new ListValue();
  let model: string[] = [];
  for (let step = 0; step < 20000; step++) {
    const op = Math.floor(r() * 9);
    const v = String(Math.floor(r() * 5));
    if (op === 0) {
      list.pushHead(v);
      model.unshift(v);
    } else if (op === 1) {
      list.pushTail(v);
      model.push(v);
    } else if (op === 2) {
      assert.equal(list.popHead(), model.shift());
    } else if (op === 3) {
      assert.equal(list.popTail(), model.pop());
    } else if (op === 4) {
      const i = Math.floor(r() * (model.length + 1));
      list.insertAt(i, v);
      model.splice(i, 0, v);
    } else if (op === 5 && model.length > 0) {
      const count = Math.floor(r() * 5) - 2;
      const removed = list.removeValue(v, count);
      let expected = 0;
      if (count >= 0) {
        model = model.filter((x) => !(x === v && (count === 0 || expected < count) && ++expected));
      } else {
        const rev = [...model].reverse().filter((x) => !(x === v && expected < -count && ++expected));
        model = rev.reverse();
      }
      assert.equal(removed, expected);
    } else if (op === 6 && model.length > 0) {
      const h = Math.floor(r() * Math.min(3, model.length + 1));
      const t = Math.floor(r() * Math.min(3, model.length - h + 1));
      list.dropHead(h);
      list.dropTail(t);
      model = model.slice(h, model.length - t);
    } else if (op === 7 && model.length > 0) {
      const i = Math.floor(r() * model.length);
      list.setAt(i, v + "x");
      model[i] = v + "x";
    } else if (op === 8 && r() < 0.01) {
      // Occasionally grow large and shrink back, exercising resizes in both directions.
      for (let i = 0; i < 300; i++) {
        list.pushTail("g" + i);
        model.push("g" + i);
      }
    }
    assert.equal(list.length, model.length);
    if (step % 97 === 0) assert.deepEqual(list.toArray(), model);
  }
  assert.deepEqual(list.toArray(), model);
  assert.equal(list.encoding(), "quicklist");
});

Deno.test("ListValue: clone is deep, canonical is ordered, ranges and indexes", () => {
  const l = ListValue.from(["a", "b", "c", "d"]);
  const copy = l.clone();
  copy.pushTail("e");
  assert.deepEqual(l.toArray(), ["a", "b", "c", "d"]);
  assert.deepEqual(copy.range(1, 3), ["b", "c", "d"]);
  assert.equal(l.at(3), "d");
  assert.notEqual(l.canonical(), ListValue.from(["d", "c", "b", "a"]).canonical());
  assert.equal(l.canonical(), ListValue.from(["a", "b", "c", "d"]).canonical());
  assert.ok(l.memoryUsage() > 0);
  assert.equal(new ListValue().popHead(), undefined);
  assert.equal(new ListValue().popTail(), undefined);
});

Deno.test("HashValue matches a Map model; listpack keeps insertion order, hashtable swaps", () => {
  const r = rng(11);
  for (const compact of [true, false]) {
    const h = new HashValue(compact);
    const model = new Map<string, string>();
    for (let step = 0; step < 5000; step++) {
      const f = "f" + Math.floor(r() * 60);
      if (r() < 0.6) {
        const v = "v" + step;
        assert.equal(h.set(f, v), !model.has(f));
        model.set(f, v);
      } else {
        assert.equal(h.delete(f), model.delete(f));
      }
      assert.equal(h.size(), model.size);
      assert.equal(h.get(f), model.get(f));
    }
    const pairs: [string, string][] = [];
    for (let i = 0; i < h.size(); i++) pairs.push([h.fieldAt(i), h.valueAt(i)]);
    if (compact) assert.deepEqual(pairs, [...model]);
    else assert.deepEqual(pairs.sort(), [...model].sort());
  }
});

Deno.test("HashValue: encoding, clone, canonical ignores order", () => {
  const a = HashValue.fromPairs(["x", "1", "y", "2"], true);
  const b = HashValue.fromPairs(["y", "2", "x", "1"], false);
  assert.equal(a.encoding(), "listpack");
  assert.equal(b.encoding(), "hashtable");
  assert.equal(a.canonical(), b.canonical());
  const c = a.clone();
  c.set("z", "3");
  c.convertToHashtable();
  assert.equal(a.size(), 2);
  assert.equal(a.encoding(), "listpack");
  assert.equal(c.encoding(), "hashtable");
  assert.ok(c.memoryUsage() > a.memoryUsage());
});

Deno.test("HashValue and SetValue scans return every element present for the whole scan", () => {
  const r = rng(23);
  for (let round = 0; round < 30; round++) {
    const h = new HashValue(false);
    const s = new SetValue(false);
    for (let i = 0; i < 500; i++) {
      h.set("k" + i, "v");
      s.add("m" + i, 512);
    }
    const stableH = new Set<string>();
    const stableS = new Set<string>();
    for (let i = 0; i < 500; i++) {
      stableH.add("k" + i);
      stableS.add("m" + i);
    }
    const seenH = new Set<string>();
    const seenS = new Set<string>();
    let ch = 0n;
    let cs = 0n;
    let hashDone = false;
    let setDone = false;
    let fresh = 1000;
    while (!hashDone || !setDone) {
      if (!hashDone) {
        ch = h.scan(ch, 1 + Math.floor(r() * 20), (f) => seenH.add(f));
        hashDone = ch === 0n;
      }
      if (!setDone) {
        cs = s.scan(cs, 1 + Math.floor(r() * 20), (m) => seenS.add(m));
        setDone = cs === 0n;
      }
      // Mutate between calls: delete some, add some; deleted ones leave the stable sets.
      for (let j = 0; j < 5; j++) {
        const victim = Math.floor(r() * 1000);
        if (h.delete("k" + victim)) stableH.delete("k" + victim);
        if (s.delete("m" + victim)) stableS.delete("m" + victim);
        h.set("k" + fresh, "v");
        s.add("m" + fresh, 512);
        fresh++;
      }
    }
    for (const f of stableH) assert.ok(seenH.has(f), `hash scan missed ${f}`);
    for (const m of stableS) assert.ok(seenS.has(m), `set scan missed ${m}`);
  }
});

Deno.test("SetValue: intset stays numerically sorted and converts like Redis 7.0", () => {
  const s = SetValue.forFirstMember("5");
  assert.equal(s.encoding(), "intset");
  for (const m of ["5", "3", "-10", "100", "-9223372036854775808", "9223372036854775807", "0", "3"]) s.add(m, 512);
  const members: string[] = [];
  for (let i = 0; i < s.size(); i++) members.push(s.at(i));
  assert.deepEqual(members, ["-9223372036854775808", "-10", "0", "3", "5", "100", "9223372036854775807"]);
  assert.ok(s.has("-10"));
  assert.ok(!s.has("010"));
  assert.ok(!s.delete("03"));
  assert.ok(s.delete("0"));
  // Non-canonical integers are strings: "01" converts to hashtable.
  s.add("01", 512);
  assert.equal(s.encoding(), "hashtable");
  assert.ok(s.has("01") && s.has("100") && !s.has("1"));
  // Size limit.
  const t = new SetValue(true);
  for (let i = 0; i < 3; i++) t.add(String(i), 3);
  assert.equal(t.encoding(), "intset");
  t.add("3", 3);
  assert.equal(t.encoding(), "hashtable");
  assert.equal(SetValue.forFirstMember("x").encoding(), "hashtable");
  assert.equal(SetValue.forFirstMember("9223372036854775808").encoding(), "hashtable");
});

Deno.test("SetValue matches a Set model; clone, canonical and removeAt", () => {
  const r = rng(5);
  const s = new SetValue(true);
  const model = new Set<string>();
  for (let step = 0; step < 5000; step++) {
    const m = r() < 0.9 ? String(Math.floor(r() * 300) - 150) : "s" + Math.floor(r() * 20);
    if (r() < 0.6) assert.equal(s.add(m, 64), !model.has(m) && model.add(m) !== undefined);
    else assert.equal(s.delete(m), model.delete(m));
    assert.equal(s.size(), model.size);
    assert.equal(s.has(m), model.has(m));
  }
  const copy = s.clone();
  const removed = copy.removeAt(0);
  assert.ok(s.has(removed) && !copy.has(removed));
  const other = new SetValue(false);
  for (const m of model) other.add(m, 0);
  assert.equal(s.canonical(), other.canonical());
  assert.ok(s.memoryUsage() > 0);
});
