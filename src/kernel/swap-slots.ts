/**
 * The free slots of the backing store, handed out next-fit: each slot is the first free one at or
 * after the last one given (wrapping around), so the pages of a burst of evictions get runs of
 * consecutive slots. A pager writes a run in one call and reads neighbouring pages, evicted
 * together, with one read. (A stack of freed slots, as before, scattered a burst over whatever the
 * last page-ins had freed: runs of 7 pages where next-fit gives 21.)
 *
 * Invariant: `freeCount` is the number of slots whose `used` flag is 0.
 */
export class SwapSlots {
  readonly capacity: number;
  private readonly used: Uint8Array;
  private cursor = 0;
  private freeCount: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.used = new Uint8Array(capacity);
    this.freeCount = capacity;
  }

  get free(): number {
    return this.freeCount;
  }

  /** A free slot, now used; null when none is left. Scans from the cursor: O(1) while the store is not nearly full. */
  take(): number | null {
    if (this.freeCount === 0) return null;
    let slot = this.cursor;
    while (this.used[slot]) slot = slot + 1 === this.capacity ? 0 : slot + 1;
    this.used[slot] = 1;
    this.freeCount--;
    this.cursor = slot + 1 === this.capacity ? 0 : slot + 1;
    return slot;
  }

  /** `slot` is free again. */
  give(slot: number): void {
    if (!this.used[slot]) throw new Error(`kernel bug: swap slot ${slot} freed twice`);
    this.used[slot] = 0;
    this.freeCount++;
  }
}
