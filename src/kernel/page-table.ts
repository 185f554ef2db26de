import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SHIFT } from "./constants.ts";
import type { FrameAllocator } from "./frame-allocator.ts";
import { FRAME_KERNEL } from "./frame-allocator.ts";

/**
 * A two-level page table over a 32-bit address space, kept in kernel frames as a real MMU would
 * keep it: a directory frame of 1024 entries, each naming a table frame of 1024 entries.
 *
 * An entry is `frame << 12 | flags`; zero means not present. Directory entries hold the table's
 * frame number. Table frames are allocated on first use and freed with the whole table.
 *
 * A present entry with frame 0 is a private page that has rights but no frame yet (the process
 * changed its rights before touching it): frame 0 is the kernel's and is never mapped, so the
 * first access the rights allow gives it a zeroed frame, keeping the flags.
 */
export const PTE_PRESENT = 1;
export const PTE_READ = 2;
export const PTE_WRITE = 4;
/** The frame belongs to a shared object (an image), not to this address space. */
export const PTE_SHARED = 8;
/**
 * A private frame shared copy-on-write with other address spaces (counted in SharedFrames): the
 * write TLB is never filled for it; a write the rights allow gives the page a frame of its own.
 */
export const PTE_COW = 16;
/** A private page whose bytes are with the pager, sealed (frame field 0): an access pages it in. */
export const PTE_PAGED = 32;
/** Set on every TLB fill: the clock's reference bit (clearing it flushes the page from the TLBs). */
export const PTE_ACCESSED = 64;
/**
 * A private page paged back in whose copy in the store is still its contents (the kernel kept its
 * slot, `StoredPages.keep`): the write TLB is not filled for it until a write the rights allow,
 * which clears the flag. Evicted with the flag, the page goes back to its slot with nothing
 * sealed or written (`Paging.evict`). Any other rewrite of the entry drops it, which is the safe
 * side: the page is then sealed anew.
 */
export const PTE_CLEAN = 128;
/** Rights bits of an entry: none (0), read, or read-write. */
export const PTE_RIGHTS = PTE_READ | PTE_WRITE;
const FLAG_BITS = 0xfff;

export class PageTable {
  private readonly memory: PhysicalMemory;
  private readonly frames: FrameAllocator;
  readonly directoryFrame: number;
  /** Directory slots that name a table, in the order they got one: walks visit only these. */
  private readonly tableSlots: number[] = [];

  /** Caller must have a free frame available; throws when memory is exhausted. */
  constructor(memory: PhysicalMemory, frames: FrameAllocator) {
    this.memory = memory;
    this.frames = frames;
    const directory = frames.allocate(FRAME_KERNEL);
    if (directory === null) throw new Error("out of physical memory for a page directory");
    memory.zeroFrame(directory);
    this.directoryFrame = directory;
  }

  /** The entry for virtual page `page` (address >>> 12), or 0. */
  lookup(page: number): number {
    const table = this.memory.words[(this.directoryFrame << 10) + (page >>> 10)]!;
    if (table === 0) return 0;
    return this.memory.words[(table << 10) + (page & 1023)]!;
  }

  /** Maps `page` to `frame` with `flags`. Returns false if no frame was left for a table. */
  map(page: number, frame: number, flags: number): boolean {
    const slot = (this.directoryFrame << 10) + (page >>> 10);
    let table = this.memory.words[slot]!;
    if (table === 0) {
      const fresh = this.frames.allocate(FRAME_KERNEL);
      if (fresh === null) return false;
      this.memory.zeroFrame(fresh);
      this.memory.words[slot] = fresh;
      this.tableSlots.push(page >>> 10);
      table = fresh;
    }
    this.memory.words[(table << 10) + (page & 1023)] = (frame << PAGE_SHIFT) | flags | PTE_PRESENT;
    return true;
  }

  /** Whether mapping `page` would need a new table frame. */
  needsTable(page: number): boolean {
    return this.memory.words[(this.directoryFrame << 10) + (page >>> 10)] === 0;
  }

  /** Allocates the table frame that will hold `page`'s entry; false when memory is exhausted. */
  reserveTable(page: number): boolean {
    const slot = (this.directoryFrame << 10) + (page >>> 10);
    if (this.memory.words[slot] !== 0) return true;
    const fresh = this.frames.allocate(FRAME_KERNEL);
    if (fresh === null) return false;
    this.memory.zeroFrame(fresh);
    this.memory.words[slot] = fresh;
    this.tableSlots.push(page >>> 10);
    return true;
  }

  /** Clears the entry for `page` (the table frame stays until `destroy`). */
  unmap(page: number): void {
    const table = this.memory.words[(this.directoryFrame << 10) + (page >>> 10)]!;
    if (table !== 0) this.memory.words[(table << 10) + (page & 1023)] = 0;
  }

  /** Calls `visit` for every present entry, in address order. */
  forEach(visit: (page: number, frame: number, flags: number) => void): void {
    this.forEachUntil(Infinity, (page, frame, flags) => {
      visit(page, frame, flags);
      return false;
    });
  }

  /**
   * As `forEach`, stopping once `visit` has said yes `count` times: a process's end looks for its
   * private frames, which it counts, and they sit below its global mappings (the image, Regions),
   * so a small process's walk ends at its first table instead of reading every table it has.
   */
  forEachUntil(count: number, visit: (page: number, frame: number, flags: number) => boolean): void {
    if (count <= 0) return;
    const words = this.memory.words;
    if (this.tableSlots.length > 1) this.tableSlots.sort((a, b) => a - b);
    for (const dir of this.tableSlots) {
      const table = words[(this.directoryFrame << 10) + dir]!;
      for (let i = 0; i < 1024; i++) {
        const entry = words[(table << 10) + i]!;
        if (entry !== 0 && visit((dir << 10) | i, entry >>> PAGE_SHIFT, entry & FLAG_BITS) && --count === 0) return;
      }
    }
  }

  /** Releases the directory and table frames (not the mapped frames: their owner does that). */
  destroy(): void {
    const words = this.memory.words;
    for (const dir of this.tableSlots) this.frames.release(words[(this.directoryFrame << 10) + dir]!);
    this.frames.release(this.directoryFrame);
  }
}
