/**
 * The member indexes of the collection types at sizes where they hold real tables: hashes and
 * sets built from loaded (distinct) entries detect repeats past the linear-scan size, clones
 * keep working after the original changes, and a large sorted set keeps its member → score
 * index exact through score updates that move members across leaves (`verify` checks it).
 */
import assert from "node:assert/strict";
import { HashValue } from "../../src/store/types/hash.ts";
import { SetValue } from "../../src/store/types/set.ts";
import { ZSetValue } from "../../src/store/types/zset.ts";
import { rng } from "../helpers/rng.ts";

Deno.test("HashValue.fromDistinctEntries and SetValue.fromDistinctMembers find repeats at any size", () => {
  for (const n of [1, 5, 8, 9, 40, 1000]) {
    const entries: [string, string][] = [];
    for (let i = 0; i < n; i++) entries.push(["f" + i, "v" + i]);
    for (const compact of [true, false]) {
      const h = HashValue.fromDistinctEntries(entries, compact)!;
      assert.equal(h.size(), n);
      for (let i = 0; i < n; i++) assert.equal(h.get("f" + i), "v" + i);
      assert.equal(HashValue.fromDistinctEntries([...entries, ["f" + (n - 1), "x"]], compact), null);
    }
    const members = entries.map((e) => e[0]);
    const s = SetValue.fromDistinctMembers(members, false)!;
    assert.equal(s.size(), n);
    for (const m of members) assert.ok(s.has(m));
    assert.equal(SetValue.fromDistinctMembers([...members, members[n >> 1]], false), null);
  }
});

Deno.test("HashValue and SetValue clones stay independent through swap- and shift-deletes", () => {
  for (const compact of [true, false]) {
    const h = new HashValue(compact);
    const s = new SetValue(false);
    for (let i = 0; i < 300; i++) {
      h.set("f" + i, "v" + i);
      s.add("m" + i, 512);
    }
    const hc = h.clone();
    const sc = s.clone();
    for (let i = 0; i < 300; i += 2) {
      assert.ok(h.delete("f" + i));
      assert.ok(s.delete("m" + i));
    }
    for (let i = 0; i < 300; i++) {
      assert.equal(h.get("f" + i), i % 2 === 0 ? undefined : "v" + i);
      assert.equal(s.has("m" + i), i % 2 === 1);
      assert.equal(hc.get("f" + i), "v" + i);
      assert.ok(sc.has("m" + i));
    }
    // Positions stay consistent: every field at position p is found with its value.
    for (let p = 0; p < h.size(); p++) assert.equal(h.get(h.fieldAt(p)), h.valueAt(p));
    for (let p = 0; p < s.size(); p++) assert.ok(s.has(s.at(p)));
  }
});

Deno.test("ZSetValue: random score updates of a large set keep the member index exact", () => {
  const r = rng(17);
  const z = new ZSetValue();
  const model = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    z.insert("m" + i, i);
    model.set("m" + i, i);
  }
  for (let step = 0; step < 20000; step++) {
    const m = "m" + Math.floor(r() * 3200);
    const score = Math.floor(r() * 5000) / 4;
    const old = z.score(m);
    assert.equal(old, model.get(m));
    if (r() < 0.1) {
      assert.equal(z.remove(m), model.delete(m));
    } else {
      if (old === undefined) z.insert(m, score);
      else z.update(m, old, score);
      model.set(m, score);
    }
    if (step % 1000 === 0) z.verify();
  }
  z.verify();
  assert.equal(z.size(), model.size);
  for (const [m, s] of model) assert.equal(z.score(m), s);
});
