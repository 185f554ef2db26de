/**
 * The global-space allocator: page ranges in [0x80000000, 2^32), each followed by an unmapped
 * guard page, released ranges merged with their neighbours.
 */
import { describe, expect, it } from "vitest";
import { GLOBAL_SPACE_BASE, PAGE_SIZE } from "../../src/kernel/constants.ts";
import { GlobalSpace } from "../../src/kernel/global-space.ts";
import { prng } from "./prng.ts";

const TOTAL_PAGES = (2 ** 32 - GLOBAL_SPACE_BASE) / PAGE_SIZE;

describe("GlobalSpace", () => {
  it("hands out page-aligned ranges from the base, each followed by a guard page", () => {
    const space = new GlobalSpace();
    const a = space.allocate(2)!;
    const b = space.allocate(1)!;
    const c = space.allocate(5)!;
    expect(a).toBe(GLOBAL_SPACE_BASE);
    expect(b).toBe(a + 3 * PAGE_SIZE);
    expect(c).toBe(b + 2 * PAGE_SIZE);
  });

  it("reuses a released range first fit, and only when the range and its guard fit", () => {
    const space = new GlobalSpace();
    const a = space.allocate(2)!;
    const b = space.allocate(1)!;
    space.release(a, 2);
    // The hole is 3 pages (2 + guard): 3 pages and a guard do not fit, 2 do.
    const big = space.allocate(3)!;
    expect(big).toBe(b + 2 * PAGE_SIZE);
    expect(space.allocate(2)).toBe(a);
  });

  it("merges released neighbours in any order back into one range", () => {
    const space = new GlobalSpace();
    const ranges = [1, 3, 2, 4].map((pages) => ({ pages, address: space.allocate(pages)! }));
    for (const i of [2, 0, 3, 1]) space.release(ranges[i]!.address, ranges[i]!.pages);
    // Everything is free again: the whole space is one range.
    expect(space.allocate(TOTAL_PAGES - 1)).toBe(GLOBAL_SPACE_BASE);
    expect(space.allocate(1)).toBe(null);
  });

  it("refuses what does not fit and never passes 2^32", () => {
    const space = new GlobalSpace();
    expect(space.allocate(TOTAL_PAGES)).toBe(null);
    const all = space.allocate(TOTAL_PAGES - 1)!;
    expect(all + (TOTAL_PAGES - 1) * PAGE_SIZE).toBe(2 ** 32 - PAGE_SIZE);
    expect(space.allocate(1)).toBe(null);
    space.release(all, TOTAL_PAGES - 1);
    expect(space.allocate(1)).toBe(GLOBAL_SPACE_BASE);
  });

  it("never hands out overlapping ranges or ranges touching without a guard (random workload)", () => {
    const seed = 0x6c0b5a1;
    const random = prng(seed);
    const space = new GlobalSpace();
    const live: Array<{ address: number; pages: number }> = [];
    for (let step = 0; step < 3000; step++) {
      if (live.length > 0 && random() < 0.45) {
        const [gone] = live.splice(Math.floor(random() * live.length), 1);
        space.release(gone!.address, gone!.pages);
        continue;
      }
      const pages = 1 + Math.floor(random() ** 3 * 2000);
      const address = space.allocate(pages);
      expect(address, `seed ${seed} step ${step}`).not.toBe(null);
      expect(address! % PAGE_SIZE).toBe(0);
      expect(address!).toBeGreaterThanOrEqual(GLOBAL_SPACE_BASE);
      expect(address! + (pages + 1) * PAGE_SIZE).toBeLessThanOrEqual(2 ** 32);
      live.push({ address: address!, pages });
    }
    const sorted = [...live].sort((x, y) => x.address - y.address);
    for (let i = 1; i < sorted.length; i++) {
      // The previous range's guard page lies before this one's start.
      expect(sorted[i]!.address, `seed ${seed}`).toBeGreaterThanOrEqual(sorted[i - 1]!.address + (sorted[i - 1]!.pages + 1) * PAGE_SIZE);
    }
    for (const range of live) space.release(range.address, range.pages);
    expect(space.allocate(TOTAL_PAGES - 1)).toBe(GLOBAL_SPACE_BASE);
  });
});
