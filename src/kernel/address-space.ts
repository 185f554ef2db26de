import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { GLOBAL_SPACE_BASE, PAGE_SHIFT, PAGE_SIZE, WASM_PAGE_SIZE, tlbEntriesFor } from "./constants.ts";
import { Status } from "./errors.ts";
import { ProcessFault, hex } from "./fault.ts";
import { FRAME_KERNEL, type FrameAllocator } from "./frame-allocator.ts";
import { SharedFrames } from "./caps/shared-frames.ts";
import type { FrameOwner, MappingSpace } from "./frame-owner.ts";
import { PTE_ACCESSED, PTE_CLEAN, PTE_COW, PTE_PAGED, PTE_READ, PTE_RIGHTS, PTE_SHARED, PTE_WRITE, PageTable } from "./page-table.ts";
import { type FramePressure, FramesRequired, PageInRequired } from "./paging-hooks.ts";

import { SoftwareTlb, tlbFrames } from "./tlb.ts";
import type { PageWatches } from "./watchpoints.ts";

/** What a store to a mapped register page reaches. */
export interface DeviceRegisters {
  write(index: number, value: number): void;
}

/** Where an address space charges the pages it takes (a process's Memory); may refuse. */
export interface PageAccount {
  charge(pages: number): boolean;
  uncharge(pages: number): void;
  readonly quota: number;
  /** Pages that can still be charged, every enclosing limit counted. */
  readonly available: number;
}

/**
 * One process's view of memory: the private window `[0, size)` laid out as its compiler expects,
 * allocated page by page on first touch, and read-only mappings in the global space above
 * 0x80000000. Every translation goes through `translate`, which walks the page table and fills
 * the software TLB that rewritten code reads.
 *
 * Invariants: no byte below `nullLimit` is ever mapped, and page 0 enters no TLB while the limit is
 * above 0 (so every access to it comes to `translate`, which faults those below the limit); a private page is
 * mapped only below `size`; a TLB entry
 * exists only for a mapping the page table holds with that right (so every change of an entry's
 * frame or rights flushes that page from both TLBs before the next access); a private entry
 * with frame 0 holds rights but no frame and is not counted in `residentPages`; a `PTE_COW`
 * entry's frame is counted in `shared` (one holder per entry naming it, in any space) and is never
 * in the write TLB, so no space can write a frame another one can read.
 *
 * Copy-on-write pages are charged to every space that holds them (a split never fails for quota,
 * only when physical memory is exhausted); physically they share one frame until written.
 *
 * Every `PTE_SHARED` entry has an owner in `owners` (frame-owner.ts), told when the entry is made
 * and when it goes, however it goes; no other entry has one.
 */
/**
 * Page 0 of a program whose data starts there: `checked` keeps the bytes below its first data byte
 * faulting (every access to page 0 takes the slow path); `unchecked` gives page 0 to the TLBs
 * whole, as native WebAssembly does; `adaptive` starts checked and goes unchecked once page 0 has
 * taken PAGE_ZERO_ADAPT slow-path accesses.
 */
export type PageZeroPolicy = "checked" | "adaptive" | "unchecked";
export const PAGE_ZERO_ADAPT = 65536;

function nullPage(address: number): ProcessFault {
  return new ProcessFault("null-page", address, "access below the program's first data byte in page 0, which is never mapped");
}

function pastTheEnd(address: number, length: number): ProcessFault {
  return new ProcessFault("out-of-bounds", address + length - 1, `access of ${length} bytes at ${hex(address)} passes the end of the 32-bit address space`);
}

/** Pages a copy's scratch of runs covers: two ranges of 1 MiB (a WASI transfer), each unaligned. */
const SCRATCH_PAGES = 2 * 257;
/**
 * Where a multi-page write or copy keeps the runs of frames it checked (physical address and
 * length pairs, at most one a page), so as not to translate each page twice.
 */
const runScratch = new Uint32Array(2 * SCRATCH_PAGES);
/**
 * Whether a write or copy holds the scratch. Nothing a translation runs (an owner giving a frame,
 * a split, eviction of other spaces' pages) writes or copies process memory through an address
 * space; if it ever did, the inner one would walk its pages twice instead of sharing the scratch.
 */
let framesBusy = false;

/** The scratch for the runs of `pages` pages (its holder sets it free with `framesBusy = false`), or null. */
function takeRuns(pages: number): Uint32Array | null {
  if (framesBusy || pages > SCRATCH_PAGES) return null;
  framesBusy = true;
  return runScratch;
}

/** Pages `[address, address + length)` lies in (length > 0). */
function pagesSpanned(address: number, length: number): number {
  return Math.floor((address + length - 1) / PAGE_SIZE) - Math.floor(address / PAGE_SIZE) + 1;
}

/** The shared mappings of a space that has none (sharedMappings). */
const NO_OWNERS: ReadonlyMap<number, FrameOwner> = new Map();

/** Below this many bytes a loop beats making a subarray to copy from or to. */
const SMALL_COPY = 64;
/** Frames of the longest free run left before a new process's home frames, for the kernel's own next-fit allocations (frame-allocator.ts homeStart). */
const HOME_SLACK_FRAMES = 256;

/**
 * Page-table entries every address space has written for a mapping or an unmapping (mapFrame,
 * unmap), counted so that a kernel call is charged fuel for the ones it made (Kernel.invoke).
 */
export const pageTableWork = { updates: 0 };

/** `length` bytes of physical memory at `physical` into `into` at `at`. */
function copyBytes(bytes: Uint8Array, physical: number, into: Uint8Array, at: number, length: number): void {
  if (length <= SMALL_COPY) for (let i = 0; i < length; i++) into[at + i] = bytes[physical + i]!;
  else into.set(bytes.subarray(physical, physical + length), at);
}

/** `length` bytes of physical memory from `from` to `to`, as memmove (two virtual pages may map one frame). */
function moveBytes(bytes: Uint8Array, to: number, from: number, length: number): void {
  // TypedArray.prototype.copyWithin is a call into the engine's C++: a loop is cheaper for a few bytes.
  if (length > SMALL_COPY) bytes.copyWithin(to, from, from + length);
  else if (to <= from) for (let i = 0; i < length; i++) bytes[to + i] = bytes[from + i]!;
  else for (let i = length - 1; i >= 0; i--) bytes[to + i] = bytes[from + i]!;
}

/** `length` bytes of `data` from `at` into physical memory at `physical`. */
function copyInto(bytes: Uint8Array, physical: number, data: Uint8Array, at: number, length: number): void {
  // A subarray of a small typed array makes V8 move its bytes off the heap (a malloc): a loop does not.
  if (length <= SMALL_COPY) for (let i = 0; i < length; i++) bytes[physical + i] = data[at + i]!;
  else bytes.set(at === 0 && length === data.length ? data : data.subarray(at, at + length), physical);
}

export class AddressSpace implements MappingSpace {
  readonly tlb: SoftwareTlb;
  private readonly memory: PhysicalMemory;
  private readonly frames: FrameAllocator;
  private readonly table: PageTable;
  private readonly owner: number;
  private sizeBytes: number;
  readonly maxWasmPages: number;
  /**
   * Accesses below this address fault as null-page. A whole page (4096) unless the program's own
   * data starts lower (compilers put it at 1024 or 16 by default): then page 0 is the program's,
   * reached only through the slow path, and only its first bytes, below its lowest data byte,
   * stay unmapped (docs/MEMORY.md "Page 0").
   */
  private nullLimitBytes = PAGE_SIZE;
  /** How page 0 holding data is treated (docs/MEMORY.md "Page 0"). */
  pageZeroPolicy: PageZeroPolicy = "adaptive";
  /** Slow-path accesses to page 0 so far, while it is checked. */
  private pageZeroAccesses = 0;
  /** Told when adaptive checking gives page 0 to the TLBs (for `--trace`). */
  onPageZeroUnchecked: ((accesses: number) => void) | null = null;
  private privatePages = 0;
  /** Private pages whose bytes are with the pager (still charged, no frame). */
  private pagedPages = 0;
  // The maps below are made on first use: most processes never need them, and at 100,000 live
  // processes each empty Map is a few hundred bytes more for the collector to mark.
  /** Each paged page's version: bumped on every eviction, the sealed blob must carry it. */
  private versions: Map<number, number> | null = null;
  /** Pages a kernel call is working in (its message buffer): never evicted meanwhile. Page → holds. */
  private held: Map<number, number> | null = null;
  /**
   * A write the rights allow to a shared copy-on-write page (a Region cloned copy-on-write): the
   * object behind it gives the page a frame of its own and remaps it; false when it cannot. Called
   * with the space's owner (its pid): one function serves every space (no closure per process).
   */
  sharedCopyOnWrite: ((owner: number, address: number) => boolean) | null = null;
  /** Told of every frame this space allocates, when paging is on. */
  pressure: FramePressure | null = null;
  /** Page-table frames charged to `account` (the directory is part of the process's fixed cost). */
  private tablePages = 0;
  /** Pages charged for global ranges this space keeps reserved by holding views of freed Regions (region.ts). */
  private reservedPages = 0;
  private readonly account: PageAccount | null;
  /** Reference counts of frames with several holders (copy-on-write frames among them). */
  private readonly shared: SharedFrames;
  private devices: Map<number, DeviceRegisters> | null = null;
  /** The owner of each shared entry's frame, by page (made on the first: a server that maps no binary has none). */
  private owners: Map<number, FrameOwner> | null = null;
  /** A debugger's watchpoints (watchpoints.ts): their pages' TLB entries are withheld. Null when none. */
  watches: PageWatches | null = null;

  /** Throws a RangeError when physical memory cannot hold the kernel tables. */
  constructor(
    memory: PhysicalMemory,
    frames: FrameAllocator,
    owner: number,
    initialWasmPages: number,
    maxWasmPages: number,
    account: PageAccount | null = null,
    shared: SharedFrames = new SharedFrames(frames),
  ) {
    const tlbEntries = tlbEntriesFor(maxWasmPages);
    // An emptied TLB that nobody has been handed since need not be written again (see releaseTlb).
    const emptied = frames.takeClean(tlbFrames(tlbEntries), FRAME_KERNEL);
    const tlbFrame = emptied ?? frames.allocateAligned(tlbFrames(tlbEntries), FRAME_KERNEL);
    if (tlbFrame === null) throw new RangeError("out of physical memory for a TLB");
    this.memory = memory;
    this.frames = frames;
    this.owner = owner;
    this.account = account;
    this.shared = shared;
    // The home addend: page p's home frame is homeStart + p (tlb.ts), in the longest free run.
    const home = ((frames.homeStart(HOME_SLACK_FRAMES) << PAGE_SHIFT) | 0);
    this.tlb = new SoftwareTlb(memory, tlbFrame * PAGE_SIZE, tlbEntries, emptied !== null, home);
    try {
      this.table = new PageTable(memory, frames);
    } catch (error) {
      this.releaseTlb();
      throw new RangeError("out of physical memory for a page table", { cause: error });
    }
    this.sizeBytes = initialWasmPages * WASM_PAGE_SIZE;
    this.maxWasmPages = maxWasmPages;
  }

  /** Physical memory as 32-bit words, for the kernel's message copies. */
  get physicalWords(): Uint32Array {
    return this.memory.unsignedWords;
  }

  get wasmPages(): number {
    return this.sizeBytes / WASM_PAGE_SIZE;
  }

  /** Frames this process holds privately. */
  get residentPages(): number {
    return this.privatePages;
  }

  /** Private pages it has with the pager. */
  get pagedOutPages(): number {
    return this.pagedPages;
  }

  /** Pages it has charged to its account: private pages, resident or paged out, page tables, reserved ranges. */
  get chargedPages(): number {
    return this.privatePages + this.pagedPages + this.tablePages + this.reservedPages;
  }

  /**
   * Charges `pages` to the account for a global range this process keeps reserved (a view of a
   * freed Region: RegionObject.reserveFor): false (nothing charged) when the quota says no.
   */
  chargeReserved(pages: number): boolean {
    if (this.account && !this.account.charge(pages)) return false;
    this.reservedPages += pages;
    return true;
  }

  /** The reserved range charged with `chargeReserved` goes back (nothing, once the space was destroyed). */
  unchargeReserved(pages: number): void {
    const back = Math.min(pages, this.reservedPages);
    this.reservedPages -= back;
    this.account?.uncharge(back);
  }

  /** Calls `visit` for every present page-table entry (for the invariant checker). */
  forEachEntry(visit: (page: number, frame: number, flags: number) => void): void {
    this.table.forEach(visit);
  }

  get nullLimit(): number {
    return this.nullLimitBytes;
  }

  /** Whether page 0 goes through the TLBs, unchecked (the program's data is there and it asked, or used it hard). */
  get pageZeroUnchecked(): boolean {
    return this.nullLimitBytes === 0;
  }

  /**
   * Lets the program use page 0 from `address` up (its lowest data byte); below stays a null
   * fault. Only lowers the limit, and only before page 0 is touched.
   */
  allowPageZeroFrom(address: number): void {
    if (address >= this.nullLimitBytes || this.table.lookup(0) !== 0) return;
    this.nullLimitBytes = this.pageZeroPolicy === "unchecked" ? 0 : Math.max(1, address);
  }

  /**
   * One more slow-path access to a page 0 that holds data: under the adaptive policy, the
   * PAGE_ZERO_ADAPT-th gives page 0 to the TLBs for good (no more null faults below the data), as a
   * program whose hot globals live there would otherwise run several times slower.
   */
  private countPageZeroAccess(): void {
    if (this.pageZeroPolicy !== "adaptive" || ++this.pageZeroAccesses < PAGE_ZERO_ADAPT) return;
    this.nullLimitBytes = 0;
    this.onPageZeroUnchecked?.(this.pageZeroAccesses);
  }

  /** The first private page that may be mapped: 0 when the program uses page 0, else 1. */
  get firstPage(): number {
    return this.nullLimitBytes < PAGE_SIZE ? 0 : 1;
  }

  /** memory.grow: the old size in 64 KiB pages, or -1 when over the limit. */
  grow(deltaWasmPages: number): number {
    const old = this.wasmPages;
    if (deltaWasmPages < 0 || old + deltaWasmPages > this.maxWasmPages) return -1;
    this.sizeBytes += deltaWasmPages * WASM_PAGE_SIZE;
    return old;
  }

  /**
   * Physical address of the byte at `address`, checked for `write`; fills the TLB for its page.
   * Throws ProcessFault when the access is not allowed.
   */
  translate(address: number, write: boolean): number {
    // What rewritten code would do first: a TLB hit needs no page-table walk.
    const hit = this.tlb.hit(write, address);
    if (hit >= 0) return hit;
    const page = address >>> PAGE_SHIFT;
    if (address < this.nullLimitBytes) throw nullPage(address);
    let entry = this.table.lookup(page);
    if (entry === 0) entry = this.mapOnFirstTouch(address);
    if ((entry & PTE_RIGHTS) === 0) throw new ProcessFault("no-access", address, `${write ? "write to" : "read of"} page ${hex(address & ~(PAGE_SIZE - 1))}, which its process made unreadable`);
    if (write && (entry & (PTE_WRITE | PTE_SHARED | PTE_COW)) === (PTE_SHARED | PTE_COW)) entry = this.breakSharedCopyOnWrite(address);
    if (write && (entry & PTE_WRITE) === 0) throw new ProcessFault("read-only", address, `write to read-only page ${hex(address & ~(PAGE_SIZE - 1))}`);
    if (entry & PTE_PAGED) throw new PageInRequired(address);
    if (entry >>> PAGE_SHIFT === 0) entry = entry & PTE_SHARED ? this.ownersFrame(address, entry) : this.giveFrame(address, entry);
    else if (write && (entry & (PTE_COW | PTE_SHARED)) === PTE_COW) entry = this.breakCopyOnWrite(address, entry);
    // A write to a clean page (its copy in the store is its contents until now) makes it dirty:
    // the write TLB is filled for it only from here on, so no write can miss this.
    const dirtied = write && (entry & PTE_CLEAN) !== 0;
    if ((entry & PTE_ACCESSED) === 0 || dirtied) this.table.map(page, entry >>> PAGE_SHIFT, ((entry & 0xfff) | PTE_ACCESSED) & ~(dirtied ? PTE_CLEAN : 0));
    if (dirtied) entry &= ~PTE_CLEAN;
    const frame = entry >>> PAGE_SHIFT;
    // Page 0 stays out of the TLBs while checked, so that its first bytes keep faulting.
    if (page === 0 && this.nullLimitBytes !== 0) this.countPageZeroAccess();
    if (page !== 0 || this.nullLimitBytes === 0) {
      const watches = this.watches;
      if (entry & PTE_READ && (watches === null || !watches.withholdsRead(page))) this.tlb.fill(false, address, frame);
      if (entry & PTE_WRITE && (entry & (PTE_COW | PTE_CLEAN)) === 0 && (watches === null || !watches.withholdsWrite(page))) this.tlb.fill(true, address, frame);
    }
    return frame * PAGE_SIZE + (address & (PAGE_SIZE - 1));
  }

  /**
   * Sets the rights of the private pages `[address, address + pages × 4 KiB)`: none, read
   * (PTE_READ) or read-write (PTE_READ | PTE_WRITE), flushing them from the TLBs. Pages not yet
   * touched keep their new rights until they get a frame. Nothing changes unless every page is
   * a private page of the window (not a Page mapped there): E_BAD_ADDRESS; E_QUOTA when a page
   * table for the range cannot be had.
   */
  protect(address: number, pages: number, rights: number): number {
    const first = this.privateRange(address, pages);
    if (first < 0) return Status.E_BAD_ADDRESS;
    for (let page = first; page < first + pages; page += 1024 - (page % 1024)) {
      if (!this.ensureTable(page)) return Status.E_QUOTA;
    }
    for (let page = first; page < first + pages; page++) {
      const entry = this.table.lookup(page);
      const frame = entry >>> PAGE_SHIFT;
      // An untouched page made read-write again is simply untouched.
      if (frame === 0 && rights === PTE_RIGHTS && (entry & PTE_PAGED) === 0) this.table.unmap(page);
      else this.table.map(page, frame, rights | (entry & (PTE_COW | PTE_PAGED)));
    }
    if (pages > this.tlb.entries) this.tlb.flushAll();
    else for (let page = first; page < first + pages; page++) this.tlb.flushPage(page * PAGE_SIZE);
    return Status.OK;
  }

  /**
   * The first page of `[address, address + pages × 4 KiB)` when it is whole pages of the private
   * window above page 0 holding only private pages (no Page or Region mapped there), else -1:
   * what PROCESS_PROTECT and PROCESS_DISCARD may change.
   */
  private privateRange(address: number, pages: number): number {
    const first = address / PAGE_SIZE;
    if (!Number.isInteger(first) || first < this.firstPage || pages < 1 || address + pages * PAGE_SIZE > this.sizeBytes) return -1;
    for (let page = first; page < first + pages; page++) {
      if (this.table.lookup(page) & PTE_SHARED) return -1;
    }
    return first;
  }

  /**
   * Gives back the private pages `[address, address + pages × 4 KiB)` (madvise's DONTNEED): each
   * frame goes back to the allocator (or has one holder fewer, when shared copy-on-write), the pages
   * are uncharged and read zeros at their next access, keeping their rights. Nothing changes unless
   * every page is a private page of the window: E_BAD_ADDRESS. A page with the pager throws
   * PageInRequired: the kernel brings it back and the call runs again, so that the pager's slot and
   * the page's entry never disagree (paging.ts's invariant).
   */
  discard(address: number, pages: number): number {
    const first = this.privateRange(address, pages);
    if (first < 0) return Status.E_BAD_ADDRESS;
    for (let page = first; page < first + pages; page++) {
      const entry = this.table.lookup(page);
      // (The pages before it are given back already; the call, run again, finds them untouched.)
      if (entry & PTE_PAGED) throw new PageInRequired(page * PAGE_SIZE);
      if (entry >>> PAGE_SHIFT === 0) continue; // untouched already
      this.dropPrivate(page);
      const rights = entry & PTE_RIGHTS;
      // An untouched read-write page has no entry; other rights stay, on a page with no frame.
      if (rights === PTE_RIGHTS) this.table.unmap(page);
      else this.table.map(page, 0, rights);
      pageTableWork.updates++;
      this.tlb.flushPage(page * PAGE_SIZE);
    }
    return Status.OK;
  }

  /**
   * Checks that every byte of `[address, address + length)` may be accessed, mapping pages on
   * first touch, and returns the physical pieces. Nothing is written, so a caller that checks
   * first never leaves a partial write behind.
   */
  pieces(address: number, length: number, write: boolean): Array<[physical: number, length: number]> {
    if (address + length > 2 ** 32) throw pastTheEnd(address, length);
    const result: Array<[number, number]> = [];
    let cursor = address;
    const end = address + length;
    let last: [number, number] | null = null;
    while (cursor < end) {
      const chunk = Math.min(end - cursor, PAGE_SIZE - (cursor & (PAGE_SIZE - 1)));
      const physical = this.translate(cursor >>> 0, write);
      // Frames that follow each other in the machine's memory are one piece: a bulk copy of a
      // Region (its frames mostly taken in order) is then a few host copies, not one a page.
      if (last !== null && last[0] + last[1] === physical) last[1] += chunk;
      else result.push((last = [physical, chunk]));
      cursor += chunk;
    }
    return result;
  }

  read(address: number, length: number): Uint8Array {
    // Check the range before allocating: a bad length must not cost the host memory.
    this.check(address, length, false);
    const out = new Uint8Array(length);
    this.readInto(address, out, 0, length);
    return out;
  }

  /**
   * Copies `[address, address + length)` into `into` from `at` on, every page checked for reading
   * as it goes (a fault may leave `into` partly written, never the process's memory). Allocates
   * nothing: the kernel's accesses for a WASI call are a few small ones, and each allocation
   * (a piece list, a typed array per page) used to cost more than the bytes it moved.
   */
  readInto(address: number, into: Uint8Array, at: number, length: number): void {
    const bytes = this.memory.bytes;
    if (address === address >>> 0 && (address & (PAGE_SIZE - 1)) + length <= PAGE_SIZE) {
      // One page (the usual case): one translation, nothing else. A TLB hit is a check too: an
      // entry exists only for a page the process may access with that half's right.
      if (length > 0) copyBytes(bytes, this.translate(address >>> 0, false), into, at, length);
      return;
    }
    if (address + length > 2 ** 32) throw pastTheEnd(address, length);
    if (length <= 0) return;
    // One pass, each page translated once: a read has nothing to undo.
    this.copyRuns(address, length, false, into, at);
  }

  /** Writes `data` at `address`, every page checked (and given a frame, copy-on-write split) before a byte is written. */
  write(address: number, data: Uint8Array): void {
    const bytes = this.memory.bytes;
    const length = data.length;
    if (address === address >>> 0 && length <= PAGE_SIZE && address + length <= 2 ** 32) {
      // At most two pages (an unaligned buffer of up to 4 KiB): both checked, then written.
      if (length === 0) return;
      const first = this.translatePair(address, length, true);
      const second = this.pairSecond;
      const split = PAGE_SIZE - (address & (PAGE_SIZE - 1));
      if (second < 0 || second === first + split) copyInto(bytes, first, data, 0, length);
      else {
        copyInto(bytes, first, data, 0, split);
        copyInto(bytes, second, data, split, length - split);
      }
      return;
    }
    if (address + length > 2 ** 32) throw pastTheEnd(address, length);
    if (length === 0) return;
    const runs = takeRuns(pagesSpanned(address, length));
    if (runs === null) return this.writeTranslatingTwice(address, data);
    try {
      // Every page checked (and given its frame) before a byte is written.
      const end = this.runsOf(address, length, true, runs, 0);
      for (let r = 0, at = 0; r < end; at += runs[r + 1]!, r += 2) copyInto(bytes, runs[r]!, data, at, runs[r + 1]!);
    } finally {
      framesBusy = false;
    }
  }

  /** `write` of a range too long for the frame scratch (or while it is in use): checked whole, then each page translated again. */
  private writeTranslatingTwice(address: number, data: Uint8Array): void {
    const length = data.length;
    this.check(address, length, true);
    this.copyRuns(address, length, true, data, 0);
  }

  /**
   * Copies between `[address, address + length)` and `buffer` from `at` on (into the process's
   * memory when `write`), each page translated for that access as it comes. Frames that follow
   * each other in the machine's memory are copied as one run: a big copy of a Region (its frames
   * mostly taken in order) is then a few host copies, not one a page.
   */
  private copyRuns(address: number, length: number, write: boolean, buffer: Uint8Array, at: number): void {
    let run = -1;
    let runAt = 0;
    for (let done = 0; done < length; ) {
      const cursor = address + done;
      const chunk = Math.min(length - done, PAGE_SIZE - (cursor & (PAGE_SIZE - 1)));
      const physical = this.translate(cursor >>> 0, write);
      if (physical !== run + (done - runAt)) {
        if (done > runAt) this.copyRun(write, run, buffer, at + runAt, done - runAt);
        run = physical;
        runAt = done;
      }
      done += chunk;
    }
    this.copyRun(write, run, buffer, at + runAt, length - runAt);
  }

  private copyRun(write: boolean, physical: number, buffer: Uint8Array, at: number, length: number): void {
    if (write) copyInto(this.memory.bytes, physical, buffer, at, length);
    else copyBytes(this.memory.bytes, physical, buffer, at, length);
  }


  /**
   * Copies `length` bytes from `from` to `to` within this space, frame to frame (nothing in
   * between): both ranges are checked (the source for reading, the target for writing, its pages
   * given frames and split) before a byte moves. The caller refuses overlapping ranges.
   */
  copyWithin(to: number, from: number, length: number): void {
    const bytes = this.memory.bytes;
    if (from === from >>> 0 && to === to >>> 0 && length <= PAGE_SIZE && from + length <= 2 ** 32 && to + length <= 2 ** 32) {
      // Each range at most two pages (a read of up to 4 KiB into an unaligned buffer): four
      // translations at most, every page checked before a byte moves, then up to three copies.
      if (length <= 0) return;
      const source = this.translatePair(from, length, false);
      const sourceSecond = this.pairSecond;
      const target = this.translatePair(to, length, true);
      const targetSecond = this.pairSecond;
      const sourceSplit = PAGE_SIZE - (from & (PAGE_SIZE - 1));
      const targetSplit = PAGE_SIZE - (to & (PAGE_SIZE - 1));
      for (let done = 0; done < length; ) {
        const end = Math.min(length, done < sourceSplit ? sourceSplit : length, done < targetSplit ? targetSplit : length);
        const at = done < sourceSplit ? source + done : sourceSecond + (done - sourceSplit);
        moveBytes(bytes, done < targetSplit ? target + done : targetSecond + (done - targetSplit), at, end - done);
        done = end;
      }
      return;
    }
    if (from + length > 2 ** 32) throw pastTheEnd(from, length);
    if (to + length > 2 ** 32) throw pastTheEnd(to, length);
    if (length <= 0) return;
    const sourcePages = pagesSpanned(from, length);
    const runs = takeRuns(sourcePages + pagesSpanned(to, length));
    if (runs === null) return this.copyTranslatingTwice(to, from, length);
    try {
      // Both ranges checked (the target's pages given frames and split) before a byte moves;
      // frames that follow each other on both sides are one host copy.
      const sourceEnd = this.runsOf(from, length, false, runs, 0);
      const targetEnd = this.runsOf(to, length, true, runs, sourceEnd);
      let s = 0;
      let t = sourceEnd;
      let sourceAt = runs[0]!;
      let sourceLeft = runs[1]!;
      let targetAt = runs[t]!;
      let targetLeft = runs[t + 1]!;
      for (let done = 0; done < length; ) {
        const n = Math.min(sourceLeft, targetLeft);
        bytes.copyWithin(targetAt, sourceAt, sourceAt + n);
        done += n;
        sourceAt += n;
        targetAt += n;
        sourceLeft -= n;
        targetLeft -= n;
        if (sourceLeft === 0 && (s += 2) < sourceEnd) {
          sourceAt = runs[s]!;
          sourceLeft = runs[s + 1]!;
        }
        if (targetLeft === 0 && (t += 2) < targetEnd) {
          targetAt = runs[t]!;
          targetLeft = runs[t + 1]!;
        }
      }
    } finally {
      framesBusy = false;
    }
  }

  /** `copyWithin` of ranges too long for the frame scratch (or while it is in use): both checked whole, then each page translated again. */
  private copyTranslatingTwice(to: number, from: number, length: number): void {
    const bytes = this.memory.bytes;
    this.check(from, length, false);
    this.check(to, length, true);
    let sourceRun = -1;
    let targetRun = -1;
    let runAt = 0;
    for (let done = 0; done < length; ) {
      const source = from + done;
      const target = to + done;
      const chunk = Math.min(length - done, PAGE_SIZE - (source & (PAGE_SIZE - 1)), PAGE_SIZE - (target & (PAGE_SIZE - 1)));
      const sourceAt = this.translate(source >>> 0, false);
      const targetAt = this.translate(target >>> 0, true);
      if (sourceAt !== sourceRun + (done - runAt) || targetAt !== targetRun + (done - runAt)) {
        if (done > runAt) bytes.copyWithin(targetRun, sourceRun, sourceRun + (done - runAt));
        sourceRun = sourceAt;
        targetRun = targetAt;
        runAt = done;
      }
      done += chunk;
    }
    bytes.copyWithin(targetRun, sourceRun, sourceRun + (length - runAt));
  }

  /**
   * Translates (checks) every page of `[address, address + length)` in order, storing its runs of
   * frames that follow each other in the machine's memory in `into` from `at` on, as physical
   * address and length pairs: where the pairs end. Translating a page changes only that page's
   * entry (a first touch, a copy-on-write split; eviction under pressure never takes this space's
   * pages), so the frames found first still hold when the last is found.
   */
  private runsOf(address: number, length: number, write: boolean, into: Uint32Array, at: number): number {
    let k = at;
    let start = this.translate(address >>> 0, write);
    let run = Math.min(length, PAGE_SIZE - (address & (PAGE_SIZE - 1)));
    const end = address + length;
    for (let page = Math.floor(address / PAGE_SIZE) + 1, cursor = page * PAGE_SIZE; cursor < end; page++, cursor += PAGE_SIZE) {
      const physical = this.translate(cursor, write);
      const chunk = Math.min(PAGE_SIZE, end - cursor);
      if (physical === start + run) run += chunk;
      else {
        into[k++] = start;
        into[k++] = run;
        start = physical;
        run = chunk;
      }
    }
    into[k++] = start;
    into[k++] = run;
    return k;
  }

  /**
   * Checks that every byte of `[address, address + length)` may be accessed (`write`: written),
   * mapping pages on first touch and splitting copy-on-write ones; throws the first fault.
   * Allocates nothing.
   */
  check(address: number, length: number, write: boolean): void {
    if (address + length > 2 ** 32) throw pastTheEnd(address, length);
    const end = address + length;
    for (let cursor = address; cursor < end; cursor = cursor - (cursor % PAGE_SIZE) + PAGE_SIZE) this.translate(cursor >>> 0, write);
  }

  /** Set by `translatePair`: the physical address of its range's second page, or -1 when the range has one. */
  private pairSecond = -1;

  /**
   * Translates (checks) both pages of a range of at most two pages (`length` <= PAGE_SIZE, below
   * 4 GiB): the physical address of its first byte, and that of its second page's first byte in
   * `pairSecond`. Translating the second page changes only that page's entry (a first touch, a
   * copy-on-write split; eviction under pressure never takes this space's pages), so the first's
   * frame still holds.
   */
  private translatePair(address: number, length: number, write: boolean): number {
    const first = this.translate(address, write);
    const split = PAGE_SIZE - (address & (PAGE_SIZE - 1));
    this.pairSecond = split < length ? this.translate(address + split, write) : -1;
    return first;
  }

  /**
   * Makes the private pages `[to, to + pages × 4 KiB)` of this space copies of `source`'s at
   * `from`, sharing the frames copy-on-write: neither side can write a shared frame, and the first
   * write on either side gives that side a frame of its own (`breakCopyOnWrite`). What was at
   * `to` goes; untouched source pages leave untouched (zero) pages; the copies are read-write,
   * whatever the source's rights. With `skipShared`, source pages that are not private (a Page
   * mapped there) copy as zero pages; without it they refuse the whole copy. A status:
   * E_BAD_ADDRESS for a range outside either window or over a non-private page,
   * E_INVALID_ARGUMENT for overlapping ranges of one space, E_QUOTA (also when `mayWire` refuses
   * the source's pages that become shared: a frame shared copy-on-write is never paged out, and
   * copies of its own pages, each then discarded, let a job make every frame of the machine one,
   * redteam19). `mayWire`: Kernel.mayWireFor of the process asking; by default this space's own.
   */
  copyOnWriteFrom(source: AddressSpace, from: number, to: number, pages: number, skipShared = false, mayWire = (frames: number) => this.mayWire(frames)): number {
    const src = from / PAGE_SIZE;
    const dst = to / PAGE_SIZE;
    const fits = (space: AddressSpace, first: number) => Number.isInteger(first) && first >= space.firstPage && pages >= 1 && (first + pages) * PAGE_SIZE <= space.sizeBytes;
    if (!fits(source, src) || !fits(this, dst)) return Status.E_BAD_ADDRESS;
    if (source === this && src < dst + pages && dst < src + pages) return Status.E_INVALID_ARGUMENT;
    let gained = 0;
    let lost = 0;
    let wired = 0;
    for (let i = 0; i < pages; i++) {
      const from = source.table.lookup(src + i);
      const here = this.table.lookup(dst + i);
      if ((from & PTE_SHARED && !skipShared) || here & PTE_SHARED) return Status.E_BAD_ADDRESS;
      // Paged-out pages take part once they are back (an access pages them in).
      if (from & PTE_PAGED || here & PTE_PAGED) return Status.E_NOT_READY;
      if (from >>> PAGE_SHIFT !== 0 && (from & PTE_SHARED) === 0) gained++;
      // A private frame not yet shared becomes one paging cannot take back (sharePage: adopt).
      if (from >>> PAGE_SHIFT !== 0 && (from & (PTE_SHARED | PTE_COW)) === 0) wired++;
      if (here >>> PAGE_SHIFT !== 0) lost++;
    }
    if (wired > 0 && !mayWire(wired)) return Status.E_QUOTA;
    for (let page = dst; page < dst + pages; page += 1024 - (page % 1024)) {
      if (!this.ensureTable(page)) return Status.E_QUOTA;
    }
    if (gained > lost && this.account && !this.account.charge(gained - lost)) return Status.E_QUOTA;
    for (let i = 0; i < pages; i++) this.sharePage(source, src + i, dst + i);
    if (lost > gained) this.account?.uncharge(lost - gained);
    this.privatePages += gained - lost;
    return Status.OK;
  }

  /** One page of `copyOnWriteFrom`; the caller has charged for it and counts it. */
  private sharePage(source: AddressSpace, from: number, to: number): void {
    const here = this.table.lookup(to);
    if (here >>> PAGE_SHIFT !== 0) this.releasePrivateFrame(here >>> PAGE_SHIFT, here);
    this.tlb.flushPage(to * PAGE_SIZE);
    const entry = source.table.lookup(from);
    const frame = entry >>> PAGE_SHIFT;
    if (frame === 0 || entry & PTE_SHARED) {
      this.table.unmap(to);
      return;
    }
    if ((entry & PTE_COW) === 0) {
      // The source's page becomes copy-on-write too: its write TLB entry must go.
      this.shared.adopt(frame);
      source.table.map(from, frame, (entry & PTE_RIGHTS) | PTE_COW);
      source.tlb.flushPage(from * PAGE_SIZE);
    }
    this.shared.share(frame);
    this.table.map(to, frame, PTE_READ | PTE_WRITE | PTE_COW);
  }

  /** Maps `owner`'s frames read-only from a global address on. */
  mapShared(globalAddress: number, frames: readonly number[], owner: FrameOwner): void {
    frames.forEach((frame, i) => {
      if (!this.mapFrame(globalAddress + i * PAGE_SIZE, frame, owner, false)) throw new RangeError("out of physical memory for a page table");
    });
  }

  /**
   * Maps a frame this address space does not own (`owner`'s: a Page's, a Region's, an Image's) at
   * a page-aligned address, replacing what was there (a private page there is freed, another
   * owner's mapping goes). False when no page table could be had.
   */
  mapFrame(address: number, frame: number, owner: FrameOwner, writable: boolean, copyOnWrite = false): boolean {
    const page = address >>> PAGE_SHIFT;
    if (!this.ensureTable(page)) return false;
    // The new mapping is counted before the old one goes: mapped over itself (an Image mapped
    // again), an owner must never see its last mapping go and free what `frame` names.
    owner.mapped(this);
    this.dropMapping(page);
    // A shared copy-on-write page is read-only here until its object splits it on a write.
    this.table.map(page, frame, PTE_READ | PTE_SHARED | (writable ? PTE_WRITE : copyOnWrite ? PTE_COW : 0));
    pageTableWork.updates++;
    (this.owners ??= new Map()).set(page, owner);
    this.tlb.flushPage(address);
    return true;
  }

  /**
   * Maps a device's register page: readable, and never writable in the TLB, so every store to it
   * takes the slow path, which hands aligned words to the device (`deviceAt`).
   */
  mapDevice(address: number, frame: number, device: DeviceRegisters, owner: FrameOwner): boolean {
    if (!this.mapFrame(address, frame, owner, false)) return false;
    (this.devices ??= new Map()).set(address >>> PAGE_SHIFT, device);
    return true;
  }

  /** The device whose registers are mapped at `address`, if any. */
  deviceAt(address: number): DeviceRegisters | undefined {
    return this.devices?.get(address >>> PAGE_SHIFT);
  }

  /**
   * The rights (PTE_READ, PTE_WRITE) of the private page at `address`, whether or not it has a
   * frame yet; null for a shared mapping or a page outside the private window.
   */
  privateRights(address: number): number | null {
    const page = address >>> PAGE_SHIFT;
    if (address >= this.sizeBytes || page < this.firstPage) return null;
    const entry = this.table.lookup(page);
    if (entry & PTE_SHARED) return null;
    return entry === 0 ? PTE_READ | PTE_WRITE : entry & PTE_RIGHTS;
  }

  /**
   * Whether the process's own store at `address`, a shared mapping, would be allowed (writable, or
   * copy-on-write: the store gets a copy), read from its entry without touching anything; false
   * for a private page or nothing mapped.
   */
  sharedWritable(address: number): boolean {
    const entry = this.table.lookup(address >>> PAGE_SHIFT);
    if ((entry & PTE_SHARED) === 0 || (entry & PTE_RIGHTS) === 0) return false;
    return (entry & (PTE_WRITE | PTE_COW)) !== 0;
  }

  /** The owner of the shared mapping at `address`, or null (a private page, or nothing). */
  ownerAt(address: number): FrameOwner | null {
    return this.owners?.get(address >>> PAGE_SHIFT) ?? null;
  }

  /** Every shared mapping, as page and owner (for the invariant checker). */
  sharedMappings(): IterableIterator<[page: number, owner: FrameOwner]> {
    return (this.owners ?? NO_OWNERS).entries();
  }

  /**
   * Pages a write over `[address, address + length)` would charge before a byte moves: each private
   * page with no frame yet (never touched, not with the pager), and each page table they need.
   */
  chargeToWrite(address: number, length: number): number {
    let pages = 0;
    let lastTable = -1;
    for (let page = address >>> PAGE_SHIFT; page <= (address + length - 1) >>> PAGE_SHIFT; page++) {
      const at = page << PAGE_SHIFT;
      if (this.privateRights(at) === null || this.table.lookup(page) >>> PAGE_SHIFT !== 0 || this.table.lookup(page) & PTE_PAGED) continue;
      pages++;
      if (page >>> 10 !== lastTable && this.table.needsTable(page)) pages++;
      lastTable = page >>> 10;
    }
    return pages;
  }

  /** Pages its account can still be charged (unbounded without one). */
  get chargeRoom(): number {
    return this.account ? this.account.available : Infinity;
  }

  /** Removes the mapping at a page-aligned address (a private page is freed); the page reads zeros again if private. */
  unmap(address: number): void {
    const page = address >>> PAGE_SHIFT;
    this.dropMapping(page);
    this.table.unmap(page);
    pageTableWork.updates++;
    this.tlb.flushPage(address);
  }

  /** The frame mapped at `address` and whether it is shared and writable, or null (also when it has no frame yet). */
  mapping(address: number): { frame: number; shared: boolean; writable: boolean } | null {
    const entry = this.table.lookup(address >>> PAGE_SHIFT);
    if (entry >>> PAGE_SHIFT === 0) return null;
    return { frame: entry >>> PAGE_SHIFT, shared: (entry & PTE_SHARED) !== 0, writable: (entry & PTE_WRITE) !== 0 && (entry & PTE_COW) === 0 };
  }

  /** Releases every private frame, the page table and the TLB, and tells each owner its mappings went. */
  destroy(): void {
    this.frames.pinSpace(this, false);
    // privatePages counts exactly the entries with a frame of this space's (copy-on-write ones
    // included): once that many are released, what is left is shared mappings and paged or
    // frameless entries, which hold nothing to release here.
    this.table.forEachUntil(this.privatePages, (_page, frame, flags) => {
      if ((flags & PTE_SHARED) !== 0 || frame === 0) return false;
      this.releasePrivateFrame(frame, flags);
      return true;
    });
    const owners = [...(this.owners?.values() ?? [])];
    this.owners = null;
    this.devices = null;
    for (const owner of owners) owner.unmapped(this);
    this.table.destroy();
    this.releaseTlb();
    this.account?.uncharge(this.privatePages + this.pagedPages + this.tablePages + this.reservedPages);
    this.privatePages = 0;
    this.pagedPages = 0;
    this.tablePages = 0;
    this.reservedPages = 0;
  }

  /** Whatever is mapped at `page` goes: a private page is freed, an owner is told. The entry stays until rewritten. */
  private dropMapping(page: number): void {
    this.devices?.delete(page);
    const owner = this.owners?.get(page);
    if (owner) {
      this.owners!.delete(page);
      owner.unmapped(this);
      return;
    }
    this.dropPrivate(page);
  }

  private dropPrivate(page: number): void {
    const entry = this.table.lookup(page);
    if (entry & PTE_PAGED) {
      // Its slot goes with it: kept, the kernel's map would name a page that is not out, and the
      // page's next eviction would put a new slot in its place, named by nothing, never freed.
      this.pressure?.dropped(this.owner, page);
      this.pagedPages--;
      this.account?.uncharge(1);
      return;
    }
    if (entry >>> PAGE_SHIFT === 0 || entry & PTE_SHARED) return;
    // A clean page's kept slot (its copy in the store) goes with the page.
    if (entry & PTE_CLEAN) this.pressure?.dropped(this.owner, page);
    this.releasePrivateFrame(entry >>> PAGE_SHIFT, entry);
    this.privatePages--;
    this.account?.uncharge(1);
  }

  /** A private entry's frame goes: back to the allocator, or one holder fewer when shared copy-on-write. */
  private releasePrivateFrame(frame: number, flags: number): void {
    if (flags & PTE_COW) this.shared.release(frame);
    else this.frames.release(frame);
  }

  /** The object behind a shared copy-on-write page splits it (see `sharedCopyOnWrite`); the new entry. */
  private breakSharedCopyOnWrite(address: number): number {
    if (!this.sharedCopyOnWrite?.(this.owner, address)) {
      throw new ProcessFault("out-of-memory", address, "no frame to copy this copy-on-write page into (none free, or physical memory the pager cannot take back is at its limit)");
    }
    return this.table.lookup(address >>> PAGE_SHIFT);
  }

  /**
   * A write to a copy-on-write page its rights allow: the page gets a frame of its own, the last
   * holder simply keeping the shared one. The page is already charged. The new entry.
   */
  private breakCopyOnWrite(address: number, entry: number): number {
    const page = address >>> PAGE_SHIFT;
    const frame = entry >>> PAGE_SHIFT;
    const rights = entry & PTE_RIGHTS;
    this.tlb.flushPage(address);
    if (this.shared.takeLast(frame, this.owner)) {
      this.table.map(page, frame, rights);
      return this.table.lookup(page);
    }
    const copy = this.allocateFrame(page);
    if (copy === null) {
      if (this.pressure && !this.usesFrameReserve) throw new FramesRequired(address);
      throw new ProcessFault("out-of-memory", address, "no free physical frame to copy this copy-on-write page into");
    }
    this.memory.bytes.copyWithin(copy * PAGE_SIZE, frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE);
    this.shared.release(frame);
    this.table.map(page, copy, rights);
    return this.table.lookup(page);
  }

  /** Whether `frames` more frames paging cannot take back may be made for this space (FrameAllocator.mayWire): always without paging or when pinned. */
  private mayWire(frames: number): boolean {
    return !this.pressure || this.usesFrameReserve || this.frames.mayWire(frames);
  }

  /** Makes sure `page` has a page-table frame, charging it; false when none could be had. */
  private ensureTable(page: number): boolean {
    if (!this.table.needsTable(page)) return true;
    // A table frame is never paged out: held to the kernel's limit for such frames (Kernel.mayWireFor).
    if (this.pressure && !this.usesFrameReserve && !this.frames.mayWire(1, this.frames.tableHeadroom)) return false;
    if (this.account && !this.account.charge(1)) return false;
    if (!this.table.reserveTable(page)) {
      this.account?.uncharge(1);
      return false;
    }
    this.tablePages++;
    return true;
  }

  private mapOnFirstTouch(address: number): number {
    if (address >= GLOBAL_SPACE_BASE) throw new ProcessFault("unmapped", address, "nothing is mapped at this global address");
    if (address >= this.sizeBytes) {
      throw new ProcessFault("out-of-bounds", address, `beyond the end of memory (${this.wasmPages} pages of 64 KiB = ${hex(this.sizeBytes)})`);
    }
    if (!this.ensureTable(address >>> PAGE_SHIFT)) throw this.outOfMemory(address, "a page table");
    return this.giveFrame(address, PTE_READ | PTE_WRITE);
  }

  /**
   * A shared page mapped before its owner gave it a frame (an image's page): the owner gives it
   * now; the new entry. Such a frame is the kernel's and never paged out: held to the kernel's
   * limit for such frames (Kernel.mayWireFor) like a Region's, or an Image larger than the machine,
   * read page by page, left no frame to fault a page into (redteam19).
   */
  private ownersFrame(address: number, entry: number): number {
    const page = address >>> PAGE_SHIFT;
    const mayGive = this.mayWire(1);
    const frame = this.owners?.get(page)?.frameFor?.((address & ~(PAGE_SIZE - 1)) >>> 0, mayGive) ?? null;
    if (frame === null && !mayGive) throw new ProcessFault("out-of-memory", address, `no frame for this page of a binary: physical memory the pager cannot take back is at its limit (${this.frames.wiredCount} of ${this.frames.frameCount} frames)`);
    if (frame === null) throw new ProcessFault("out-of-memory", address, "no free physical frame for this page of a binary");
    this.table.map(page, frame, entry & 0xfff);
    return this.table.lookup(page);
  }

  /** A zeroed, charged frame for the private page at `address`, with `flags`' rights; the new entry. */
  private giveFrame(address: number, flags: number): number {
    const page = address >>> PAGE_SHIFT;
    if (this.account && !this.account.charge(1)) throw this.outOfMemory(address, "this page");
    const frame = this.allocateFrame(page);
    if (frame === null) {
      this.account?.uncharge(1);
      if (this.pressure && !this.usesFrameReserve) throw new FramesRequired(address);
      throw new ProcessFault("out-of-memory", address, "no free physical frame for this page");
    }
    this.memory.zeroFrame(frame);
    this.table.map(page, frame, flags & PTE_RIGHTS);
    this.privatePages++;
    return this.table.lookup(page);
  }

  /** A frame for private page `page`: its home frame when free (tlb.ts), else any. */
  private allocateFrame(page: number): number | null {
    let frame = this.takeFrame(page);
    if (frame === null && this.pressure?.exhausted(this)) frame = this.takeFrame(page);
    if (frame !== null) this.pressure?.allocated();
    return frame;
  }

  private takeFrame(page: number): number | null {
    if (this.pressure && !this.pressure.mayAllocate(this)) return null;
    return this.frames.allocatePreferring((page + (this.tlb.home >> PAGE_SHIFT)) & 0xfffff, this.owner);
  }

  /**
   * Its process is pinned: it may take the frames paging keeps in reserve (FramePressure.mayAllocate),
   * and its pages, which paging never evicts, count against the kernel's limit for such frames.
   */
  get usesFrameReserve(): boolean {
    return this.pinnedSpace;
  }

  set usesFrameReserve(pinned: boolean) {
    this.pinnedSpace = pinned;
    this.frames.pinSpace(this, pinned);
  }

  private pinnedSpace = false;

  /**
   * Paging: samples `page` for the eviction policy. -1: not a candidate (no frame of its own, shared
   * copy-on-write, a Page or Region, a device, paged out); 1: referenced since the last sample
   * (`PTE_ACCESSED`, which this clears, flushing the page from the TLBs so that the next access sets
   * it again); 0: not referenced since.
   */
  sample(page: number): -1 | 0 | 1 {
    if (this.held?.has(page) || this.inCallRange(page)) return -1;
    const entry = this.table.lookup(page);
    if (entry >>> PAGE_SHIFT === 0 || entry & (PTE_SHARED | PTE_COW | PTE_PAGED)) return -1;
    if ((entry & PTE_ACCESSED) === 0) return 0;
    this.table.map(page, entry >>> PAGE_SHIFT, entry & 0xfff & ~PTE_ACCESSED);
    this.tlb.flushPage(page * PAGE_SIZE);
    return 1;
  }

  /** Paging: the private pages with a frame of their own that `sample` may look at, in address order. */
  candidates(): number[] {
    const pages: number[] = [];
    this.table.forEach((page, frame, flags) => {
      if (frame !== 0 && (flags & (PTE_SHARED | PTE_COW | PTE_PAGED)) === 0 && page * PAGE_SIZE < GLOBAL_SPACE_BASE) pages.push(page);
    });
    return pages;
  }

  /**
   * Paging: takes `page`'s frame away (`sample` said 0 or 1), handing its bytes and the
   * version they must come back with to `seal`. The page stays charged; the next access raises
   * PageInRequired. Call only where no translation is in flight (a safe point).
   */
  evict(page: number, seal: (bytes: Uint8Array, version: number) => void): void {
    const entry = this.table.lookup(page);
    const frame = entry >>> PAGE_SHIFT;
    this.versions ??= new Map();
    const version = (this.versions.get(page) ?? 0) + 1;
    this.versions.set(page, version);
    seal(this.memory.bytes.subarray(frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE), version);
    this.tlb.flushPage(page * PAGE_SIZE);
    this.table.map(page, 0, (entry & PTE_RIGHTS) | PTE_PAGED);
    this.frames.release(frame);
    this.privatePages--;
    this.pagedPages++;
  }

  /**
   * Paging: takes `page`'s frame away if the page is clean (`PTE_CLEAN`: not written since it came
   * back with `version`, whose sealed copy the store still holds), without sealing anything: the
   * page is out again at the same version, its slot, nonce and tag as they were. False (nothing
   * done) for a page written since, or one whose version moved. Call only at a safe point.
   */
  evictClean(page: number, version: number): boolean {
    const entry = this.table.lookup(page);
    if ((entry & PTE_CLEAN) === 0 || entry & PTE_PAGED || this.versions?.get(page) !== version) return false;
    this.tlb.flushPage(page * PAGE_SIZE);
    this.table.map(page, 0, (entry & PTE_RIGHTS) | PTE_PAGED);
    this.frames.release(entry >>> PAGE_SHIFT);
    this.privatePages--;
    this.pagedPages++;
    return true;
  }

  /** Every page that is paged out, in address order. */
  pagedOutList(): number[] {
    const pages: number[] = [];
    if (this.pagedPages > 0) this.table.forEach((page, _frame, flags) => void (flags & PTE_PAGED && pages.push(page)));
    return pages;
  }

  /** The first page of `[address, address + length)` that is paged out, or -1. */
  firstPagedOut(address: number, length: number): number {
    for (let page = address >>> PAGE_SHIFT; page * PAGE_SIZE < address + length; page++) {
      if (this.table.lookup(page) & PTE_PAGED) return page;
    }
    return -1;
  }

  /**
   * What the process's latest kernel call touched (`Kernel.touch`), as address, length pairs:
   * never evicted, so that a call that blocks (a receive waiting for a message to write into its
   * buffer) finds its memory resident when it goes on. Emptied when its next call begins, or when
   * a call completes without blocking (resident-call.ts): at most one call's pages stay pinned a
   * little longer than they need.
   */
  readonly callRanges: number[] = [];

  private inCallRange(page: number): boolean {
    const ranges = this.callRanges;
    for (let i = 0; i < ranges.length; i += 2) {
      const first = ranges[i]! >>> PAGE_SHIFT;
      if (page >= first && page * PAGE_SIZE < ranges[i]! + ranges[i + 1]!) return true;
    }
    return false;
  }

  /** Keeps the pages of `[address, address + length)` from eviction until `release`; the pages held. */
  hold(address: number, length: number): number[] {
    const pages: number[] = [];
    for (let page = address >>> PAGE_SHIFT; page * PAGE_SIZE < address + length; page++) {
      this.held ??= new Map();
      this.held.set(page, (this.held.get(page) ?? 0) + 1);
      pages.push(page);
    }
    return pages;
  }

  release(pages: readonly number[]): void {
    for (const page of pages) {
      const count = this.held?.get(page) ?? 0;
      if (count <= 1) this.held?.delete(page);
      else this.held!.set(page, count - 1);
    }
  }

  /** The version a paged-out page's blob must carry; null when the page is not paged out. */
  pagedVersion(page: number): number | null {
    return this.table.lookup(page) & PTE_PAGED ? this.versions!.get(page)! : null;
  }

  /**
   * Paging: `page` comes back with `bytes` (checked by the caller). False when no frame could be
   * had. `clean`: the store keeps its copy (`PTE_CLEAN`), so that an eviction before any write
   * seals nothing.
   */
  restore(page: number, bytes: Uint8Array, clean = false): boolean {
    const entry = this.table.lookup(page);
    if ((entry & PTE_PAGED) === 0) return true;
    const frame = this.allocateFrame(page);
    if (frame === null) return false;
    this.memory.bytes.set(bytes, frame * PAGE_SIZE);
    this.table.map(page, frame, (entry & PTE_RIGHTS) | PTE_ACCESSED | (clean ? PTE_CLEAN : 0));
    this.privatePages++;
    this.pagedPages--;
    return true;
  }

  private outOfMemory(address: number, what: string): ProcessFault {
    const quota = this.account ? ` (its Memory's quota is ${this.account.quota} pages)` : "";
    return new ProcessFault("out-of-memory", address, `no page left for ${what}${quota}`);
  }

  /**
   * The TLB's frames go back emptied: the next process's TLB of the same size takes them as they
   * are if nobody was handed them meanwhile (frame-allocator.ts takeClean), which saves writing
   * 4 to 64 KiB at its spawn for a few entries written here.
   */
  private releaseTlb(): void {
    this.tlb.empty();
    this.frames.releaseClean(this.tlb.base / PAGE_SIZE, tlbFrames(this.tlb.entries));
  }
}
