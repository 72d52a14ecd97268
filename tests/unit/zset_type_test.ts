/**
 * Unit tests of the sorted-set B+tree (src/store/types/zset.ts): random operations against a
 * naive sorted-array model, checking order, ranks, range bounds and structural invariants.
 */
import assert from "node:assert/strict";
import { compareEntries, ZSetValue } from "../../src/store/types/zset.ts";
import { rng } from "../helpers/rng.ts";

/** The naive model: an array of [member, score] kept sorted. */
class Model {
  entries: [string, number][] = [];
  private find(m: string): number {
    return this.entries.findIndex((e) => e[0] === m);
  }
  score(m: string): number | undefined {
    const i = this.find(m);
    return i < 0 ? undefined : this.entries[i][1];
  }
  set(m: string, s: number): void {
    const i = this.find(m);
    if (i >= 0) this.entries.splice(i, 1);
    this.entries.push([m, s]);
    this.entries.sort((a, b) => compareEntries(a[1], a[0], b[1], b[0]));
  }
  remove(m: string): boolean {
    const i = this.find(m);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }
  rank(m: string): number {
    return this.find(m);
  }
}

function contents(z: ZSetValue): [string, number][] {
  const out: [string, number][] = [];
  z.forEach((m, s) => out.push([m, s]));
  return out;
}

function checkSame(z: ZSetValue, model: Model): void {
  z.verify();
  assert.equal(z.size(), model.entries.length);
  assert.deepEqual(contents(z), model.entries);
}

function runRandom(seed: number, ops: number, keySpace: number, scoreSpace: number): void {
  const r = rng(seed);
  const z = new ZSetValue();
  const model = new Model();
  const member = () => "m" + Math.floor(r() * keySpace).toString(36);
  const score = () => Math.floor(r() * scoreSpace) - scoreSpace / 2 + (r() < 0.3 ? 0.5 : 0);
  for (let op = 0; op < ops; op++) {
    const p = r();
    const m = member();
    if (p < 0.45) {
      const s = score();
      const old = z.score(m);
      assert.equal(old, model.score(m));
      if (old === undefined) z.insert(m, s);
      else z.update(m, old, s);
      model.set(m, s);
    } else if (p < 0.7) {
      assert.equal(z.remove(m), model.remove(m));
    } else if (p < 0.8) {
      assert.equal(z.rank(m), model.rank(m));
    } else if (p < 0.85 && model.entries.length > 0) {
      const start = Math.floor(r() * model.entries.length);
      const count = Math.min(model.entries.length - start, 1 + Math.floor(r() * 300));
      z.removeRange(start, count);
      model.entries.splice(start, count);
    } else if (p < 0.95 && model.entries.length > 0) {
      const lo = score();
      const ex = r() < 0.5;
      const first = model.entries.findIndex((e) => ex ? e[1] > lo : e[1] >= lo);
      assert.equal(z.firstRankByScore(lo, ex), first < 0 ? model.entries.length : first);
      let last = -1;
      model.entries.forEach((e, i) => {
        if (ex ? e[1] < lo : e[1] <= lo) last = i;
      });
      assert.equal(z.lastRankByScore(lo, ex), last);
      const rank = Math.floor(r() * model.entries.length);
      assert.equal(z.memberAt(rank), model.entries[rank][0]);
      assert.equal(z.scoreAt(rank), model.entries[rank][1]);
      const count = Math.floor(r() * 200);
      const walked: string[] = [];
      const reverse = r() < 0.5;
      z.walk(rank, count, reverse, (m) => walked.push(m));
      const expect = reverse
        ? model.entries.slice(Math.max(0, rank - count + 1), rank + 1).reverse()
        : model.entries.slice(rank, rank + count);
      assert.deepEqual(walked, expect.map((e) => e[0]));
    }
    if (op % 97 === 0) checkSame(z, model);
  }
  checkSame(z, model);
  const copy = z.clone();
  checkSame(copy, model);
}

Deno.test("zset tree: small random workload stays equal to the model", () => {
  for (let seed = 1; seed <= 20; seed++) runRandom(seed, 2000, 60, 20);
});

Deno.test("zset tree: large random workload crosses many splits and merges", () => {
  runRandom(42, 40000, 8000, 1000);
  runRandom(7, 30000, 3000, 4);
});

Deno.test("zset tree: ordered appends and prepends fill leaves, then drain", () => {
  const z = new ZSetValue();
  const n = 20000;
  for (let i = 0; i < n; i++) z.insert("a" + i, i);
  for (let i = 0; i < n; i++) z.insert("b" + i, -i - 1);
  z.verify();
  assert.equal(z.size(), 2 * n);
  assert.equal(z.memberAt(0), "b" + (n - 1));
  assert.equal(z.rank("a0"), n);
  z.removeRange(0, n / 2);
  z.verify();
  z.removeRange(z.size() - n / 2, n / 2);
  z.verify();
  assert.equal(z.size(), n);
  for (let i = 0; i < n / 2; i++) assert.ok(z.remove("b" + i));
  z.verify();
  z.removeRange(0, z.size());
  z.verify();
  assert.equal(z.size(), 0);
});

Deno.test("zset tree: lex ranks with equal scores and member byte order", () => {
  const members = ["", "a", "aa", "ab", "b", "\x00", "\xff", "\x7f"];
  const z = new ZSetValue();
  for (const m of members) z.insert(m, 0);
  const sorted = [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(contents(z).map((e) => e[0]), sorted);
  assert.equal(z.firstRankByLex("a", false), sorted.indexOf("a"));
  assert.equal(z.firstRankByLex("a", true), sorted.indexOf("aa"));
  assert.equal(z.lastRankByLex("ab", false), sorted.indexOf("ab"));
  assert.equal(z.lastRankByLex("ab", true), sorted.indexOf("aa"));
});

Deno.test("zset tree: fromSorted builds a valid tree at every size", () => {
  for (const n of [0, 1, 127, 128, 129, 256, 257, 5000, 9000]) {
    const members: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < n; i++) {
      members.push("m" + String(i).padStart(6, "0"));
      scores.push(i >> 2);
    }
    const z = ZSetValue.fromSorted(members, scores);
    z.verify();
    assert.equal(z.size(), n);
    if (n > 0) assert.equal(z.rank(members[n - 1]), n - 1);
  }
});

Deno.test("zset value: canonical form and encoding flag", () => {
  const z = new ZSetValue();
  z.insert("b", 1.5);
  z.insert("a", 1.5);
  z.insert("c", -Infinity);
  assert.equal(z.canonical(), "1:c:-inf\n1:a:1.5\n1:b:1.5\n");
  assert.equal(z.encoding(), "listpack");
  z.listpack = false;
  assert.equal(z.encoding(), "skiplist");
  assert.equal(z.clone().encoding(), "skiplist");
  assert.equal(z.clone().canonical(), z.canonical());
});
