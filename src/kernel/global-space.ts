import { GLOBAL_SPACE_BASE, PAGE_SHIFT } from "./constants.ts";

const FIRST_PAGE = GLOBAL_SPACE_BASE >>> PAGE_SHIFT;
const END_PAGE = 2 ** (32 - PAGE_SHIFT);

/**
 * Hands out page ranges of the global space `[0x80000000, 2^32)`: every shareable object (an
 * image, a Page's global address, a Region) gets one address, the same in every process. Each
 * range is followed by an unmapped guard page, so that running off one object faults instead of
 * reaching the next.
 *
 * Invariant: `free` holds disjoint, non-adjacent ranges sorted by start, none overlapping a range
 * handed out.
 */
export class GlobalSpace {
  private free: Array<{ start: number; pages: number }> = [{ start: FIRST_PAGE, pages: END_PAGE - FIRST_PAGE }];

  /** The address of `pages` fresh pages (first fit), or null when the global space is full. */
  allocate(pages: number): number | null {
    const need = pages + 1;
    for (const [i, range] of this.free.entries()) {
      if (range.pages < need) continue;
      const start = range.start;
      range.start += need;
      range.pages -= need;
      if (range.pages === 0) this.free.splice(i, 1);
      return (start << PAGE_SHIFT) >>> 0;
    }
    return null;
  }

  /** Returns a range handed out by `allocate` (with its guard page). */
  release(address: number, pages: number): void {
    const start = address >>> PAGE_SHIFT;
    const range = { start, pages: pages + 1 };
    let at = this.free.findIndex((r) => r.start > start);
    if (at < 0) at = this.free.length;
    this.free.splice(at, 0, range);
    const next = this.free[at + 1];
    if (next && range.start + range.pages === next.start) {
      range.pages += next.pages;
      this.free.splice(at + 1, 1);
    }
    const previous = this.free[at - 1];
    if (previous && previous.start + previous.pages === range.start) {
      previous.pages += range.pages;
      this.free.splice(at, 1);
    }
  }
}
