// Views a server keeps of the buffers its callers write from. A request that brings a view of the
// caller's buffer gives it back with the answer, and the kernel maps a Region into a process when
// that process's access to it changes: without a view of its own, the server had the buffer mapped
// and unmapped again at every call (256 pages for a 1 MiB buffer, a page-table update each, both
// ways). Keeping a copy of the view of the last few buffers — a caller writes through the same one
// or few — makes the next request from one of them map nothing. The block driver keeps the file
// system's.
//
// A view reads only: the server sees no more than its callers send it. Only buffers of at most
// `maxPages` are kept, so that a caller cannot make the server hold large mappings; the least
// recently used goes for a new one (its pages are unmapped then). A buffer its owner frees keeps
// its frames, and its owner's Memory stays charged for them, while a view is kept (unless made
// ZERO_ON_FREE): at most `count` × `maxPages` pages, until newer buffers push it out or that
// Memory goes. So keep views only of callers that keep their buffers (the file system's live as
// long as it does); a server of untrusted clients would hold their quota. Views of Regions their
// owners freed (REGION_INFO says FREED) are let go whenever a new one is kept and every
// PURGE_EVERY requests: they serve nothing, and each costs its holder the range's reservation (or
// the owner's Memory its frames). One whose Region is gone is forgotten when its address comes
// again. Allocates nothing after construction.
//
// Import it directly: `import { KeptViews } from "../lib/kept-views";`.
import { KIND_REGION, OP_REGION_INFO, REGION_FREED } from "./abi";
import { capCopy, capDrop, capKind } from "./caps/capability";
import { msgBegin, msgInvoke, msgWord } from "./message";

/** Requests between two looks for views of freed Regions. */
const PURGE_EVERY: u64 = 256;

export class KeptViews {
  private readonly address: StaticArray<u32>;
  private readonly cap: StaticArray<i32>;
  private readonly used: StaticArray<u64>;
  private clock: u64 = 0;

  /** Keeps views of at most `count` buffers, each of at most `maxPages` pages. */
  constructor(readonly count: i32, readonly maxPages: u32) {
    this.address = new StaticArray<u32>(count);
    this.cap = new StaticArray<i32>(count);
    this.used = new StaticArray<u64>(count);
  }

  /** A request brought `view`, a view of the Region of `pages` at global `address`: keep a copy of it if none is kept. */
  keep(view: i32, address: u32, pages: u32): void {
    if (pages > this.maxPages) return;
    this.clock++;
    if (this.clock % PURGE_EVERY == 0) this.purge();
    let oldest = 0;
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.cap[i]) != 0 && unchecked(this.address[i]) == address) {
        // The same Region, or a new one at the address of one that is gone: then keep this one.
        if (capKind(unchecked(this.cap[i])) == <i32>KIND_REGION) {
          unchecked((this.used[i] = this.clock));
          return;
        }
        oldest = i;
        break;
      }
      if (unchecked(this.used[i]) < unchecked(this.used[oldest])) oldest = i;
    }
    this.purge();
    if (unchecked(this.cap[oldest]) != 0) {
      // A slot the purge emptied, if any, rather than the least recently used.
      for (let i = 0; i < this.count; i++) if (unchecked(this.cap[i]) == 0) oldest = i;
    }
    const copy = capCopy(view);
    if (copy < 0) return; // (no room in the table: the request goes on without keeping it)
    if (unchecked(this.cap[oldest]) != 0) capDrop(unchecked(this.cap[oldest]));
    unchecked((this.cap[oldest] = copy));
    unchecked((this.address[oldest] = address));
    unchecked((this.used[oldest] = this.clock));
  }

  // Lets go of every view whose Region its owner freed, or that REGION_INFO no longer answers.
  private purge(): void {
    for (let i = 0; i < this.count; i++) {
      const cap = unchecked(this.cap[i]);
      if (cap == 0) continue;
      msgBegin(OP_REGION_INFO);
      if (msgInvoke(cap) >= 0 && (msgWord(2) & REGION_FREED) == 0) continue;
      capDrop(cap);
      unchecked((this.cap[i] = 0));
      unchecked((this.used[i] = 0));
    }
  }
}
