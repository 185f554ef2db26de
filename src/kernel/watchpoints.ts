import { PAGE_SIZE } from "./constants.ts";

/**
 * Watchpoints on pages, built on the software MMU: a page watched for writes never has an entry
 * in its process's write TLB, and one watched for any access none in either TLB, so every such
 * access of the process's own instructions takes the slow path (memory-instructions.ts), which
 * asks `check` before it translates. A hit is thrown as a WatchHit, which takes the fault path
 * (fault-handler.ts): the faulting instruction has done nothing yet, its stack waits in
 * `fault_handle` while the debugger looks, and it runs again once the debugger continues, passing
 * the watch that one time. The kernel's own reads and writes for the process (message buffers)
 * go through `AddressSpace.read/write` and never stop it.
 *
 * Invariant (checked by invariants.ts): no TLB entry of a withheld kind exists for a watched page.
 */
export const WATCH_WRITES = 1;
export const WATCH_ACCESSES = 2;

export class WatchHit extends Error {
  /** The first byte of the access that lies in a watched page. */
  readonly address: number;
  readonly write: boolean;

  constructor(address: number, write: boolean) {
    super(`watched page touched at 0x${address.toString(16)}`);
    this.address = address;
    this.write = write;
  }
}

interface PageCounts {
  writes: number;
  accesses: number;
}

export class PageWatches {
  private readonly pages = new Map<number, PageCounts>();
  /**
   * Set while the access a watchpoint stopped runs again after the debugger continued (the
   * process's FaultHandler clears it once a slow path completes): it passes every watch once.
   */
  passing: () => boolean = () => false;

  get empty(): boolean {
    return this.pages.size === 0;
  }

  /** Watches `count` pages from `first` for `mode` (WATCH_WRITES or WATCH_ACCESSES); the caller flushes their TLB entries. */
  add(first: number, count: number, mode: number): void {
    for (let page = first; page < first + count; page++) {
      const counts = this.pages.get(page) ?? { writes: 0, accesses: 0 };
      if (mode === WATCH_ACCESSES) counts.accesses++;
      else counts.writes++;
      this.pages.set(page, counts);
    }
  }

  remove(first: number, count: number, mode: number): void {
    for (let page = first; page < first + count; page++) {
      const counts = this.pages.get(page);
      if (!counts) continue;
      if (mode === WATCH_ACCESSES) counts.accesses--;
      else counts.writes--;
      if (counts.accesses <= 0 && counts.writes <= 0) this.pages.delete(page);
    }
  }

  /** Whether the page's read TLB entry is withheld (watched for any access). */
  withholdsRead(page: number): boolean {
    const counts = this.pages.get(page);
    return counts !== undefined && counts.accesses > 0;
  }

  /** Whether the page's write TLB entry is withheld (watched at all). */
  withholdsWrite(page: number): boolean {
    return this.pages.has(page);
  }

  /** Throws a WatchHit when `[address, address + length)` touches a page watched for this access. */
  check(address: number, length: number, write: boolean): void {
    if (length <= 0 || this.pages.size === 0 || this.passing()) return;
    const first = Math.floor(address / PAGE_SIZE);
    const last = Math.floor(Math.min(address + length - 1, 2 ** 32 - 1) / PAGE_SIZE);
    const stops = (counts: PageCounts) => counts.accesses > 0 || (write && counts.writes > 0);
    let hit = -1;
    // A bulk access may span a million pages: walk whichever of the two is shorter.
    if (last - first < this.pages.size) {
      for (let page = first; page <= last && hit < 0; page++) {
        const counts = this.pages.get(page);
        if (counts && stops(counts)) hit = page;
      }
    } else {
      for (const [page, counts] of this.pages) if (page >= first && page <= last && stops(counts) && (hit < 0 || page < hit)) hit = page;
    }
    if (hit >= 0) throw new WatchHit(Math.max(address, hit * PAGE_SIZE), write);
  }

  /** A copy reads `[src, src + length)` and writes `[dest, dest + length)`: one check for both. */
  checkCopy(dest: number, src: number, length: number): void {
    if (this.passing()) return;
    this.check(src, length, false);
    this.check(dest, length, true);
  }

  /** Every watched page and whether reads, writes or both are withheld (for the invariant checker). */
  *entries(): IterableIterator<[page: number, read: boolean]> {
    for (const [page, counts] of this.pages) yield [page, counts.accesses > 0];
  }
}
