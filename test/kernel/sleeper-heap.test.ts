import { describe, expect, it } from "vitest";
import { SleeperHeap, type Sleeper } from "../../src/kernel/sleeper-heap.ts";

const sleeper = (): Sleeper => ({ sleepUntilNs: Infinity, sleeperAt: -1 });

/** A small deterministic generator: the same operations every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

describe("SleeperHeap", () => {
  it("gives the earliest after any mix of sets, moves and deletes, as a sorted model does", () => {
    const next = random(7);
    const all = Array.from({ length: 64 }, sleeper);
    const heap = new SleeperHeap<Sleeper>();
    const model = new Map<Sleeper, number>();
    for (let step = 0; step < 20_000; step++) {
      const s = all[Math.floor(next() * all.length)]!;
      const roll = next();
      if (roll < 0.5) {
        const deadline = Math.floor(next() * 1000); // ties too
        heap.set(s, deadline);
        model.set(s, deadline);
      } else if (roll < 0.8) {
        const [deleted, inModel] = [heap.delete(s), model.delete(s)];
        if (deleted !== inModel) expect(deleted, `step ${step}: delete`).toBe(inModel);
      } else {
        // The earliest leaves, as a wake takes it.
        const first = heap.peek();
        if (first) {
          heap.delete(first);
          model.delete(first);
        }
      }
      // Compared plainly, and only a difference goes through expect: 20,000 steps of 66 expect
      // calls each took 7 s of the suite.
      const earliest = Math.min(Infinity, ...model.values());
      const seen = { size: heap.size, earliest: heap.peek()?.sleepUntilNs ?? Infinity, held: all.filter((item) => heap.has(item)).length };
      const wanted = { size: model.size, earliest, held: all.filter((item) => model.has(item) && heap.has(item)).length };
      if (seen.size !== wanted.size || seen.earliest !== wanted.earliest || seen.held !== wanted.held || wanted.held !== model.size) {
        expect({ step, ...seen }).toEqual({ step, ...wanted, held: model.size });
      }
    }
  });

  it("hands the sleepers out in deadline order, whatever order they came in", () => {
    const heap = new SleeperHeap<Sleeper>();
    const deadlines = [50, 10, 40, 30, 20, 60, 0];
    for (const d of deadlines) heap.set(sleeper(), d);
    const out: number[] = [];
    for (let s = heap.peek(); s; s = heap.peek()) {
      out.push(s.sleepUntilNs);
      heap.delete(s);
      expect(s.sleeperAt).toBe(-1);
    }
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });
});
