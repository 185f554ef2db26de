/**
 * Numbers compiled into rewritten code and used by the kernel. The loader and the kernel must
 * take these from here and nowhere else: a mismatch in the TLB size hangs silently.
 */

import { FRAME_SHIFT, WASM_PAGE_SIZE } from "../machine/frame-size.ts";

/** A virtual page is one machine frame. */
export const PAGE_SHIFT = FRAME_SHIFT;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SIZE - 1;

/** WebAssembly's own page, the unit of memory.size and memory.grow. */
export { WASM_PAGE_SIZE };
export const PAGES_PER_WASM_PAGE = WASM_PAGE_SIZE / PAGE_SIZE;

/**
 * A process's software TLB: entries of 16 bytes, each a read tag and addend then a write tag and
 * addend, so that rewritten code reaches the write half at a fixed offset whatever the size. Its
 * size goes with the process's declared maximum memory, from TLB_MIN_ENTRIES (one frame) to
 * TLB_MAX_ENTRIES (256 thrash on large working sets; 4096 collide where a program's data lies
 * 16 MiB apart, as a hash table's probes and the keys they compare do, but 8192 cost every such
 * process 64 KiB more and left small machines short: docs/LOADER.md "A TLB sized to the process"):
 * src/kernel/tlb.ts.
 * The index mask is a constant of the image's code (tlbEntriesFor below).
 */
export const TLB_ENTRY_BYTES = 16;
/** Where an entry's write tag is, from the entry's start. */
export const TLB_WRITE_OFFSET = 8;
export const TLB_MIN_ENTRIES = 256;
export const TLB_MAX_ENTRIES = 4096;
/** `addr >>> TLB_INDEX_SHIFT`, masked, is the byte offset of the entry of addr's page. */
export const TLB_INDEX_SHIFT = PAGE_SHIFT - 4;
/**
 * Set in a TLB tag whose page's frame is not its process's home frame for it (`page + home`,
 * src/kernel/tlb.ts): the inline fast path, which computes `a + home` without reading the entry's
 * addend, compares the tag with the page alone, so such an entry fails it and the access takes the
 * second tier (the slow path's wrapper: the tag with this bit, then the entry's addend).
 */
export const TLB_AWAY_BIT = 0x400;
/**
 * Entries of a TLB's victim array (src/kernel/tlb.ts): the entries a fill displaced, kept right
 * after the table, where a slow path's wrapper finds one and swaps it back without the kernel.
 * Only a table of TLB_MAX_ENTRIES has one (tlbVictimsFor): a smaller one has an entry for every
 * private page its process may have, so its pages never displace each other.
 */
export const TLB_VICTIM_ENTRIES = 4;

/** The victim entries of a TLB of `entries` entries (after the table, at `entries × 16` from its base). */
export function tlbVictimsFor(entries: number): number {
  return entries === TLB_MAX_ENTRIES ? TLB_VICTIM_ENTRIES : 0;
}

/** The mask of a TLB of `entries` entries. */
export function tlbIndexMask(entries: number): number {
  return (entries - 1) * TLB_ENTRY_BYTES;
}

/**
 * The size of the TLB of a process whose memory may grow to `maximumWasmPages` (its image's
 * declared maximum after policy), compiled into the image's code as its index mask: an entry for each
 * of its private pages, rounded up to a power of two, from TLB_MIN_ENTRIES (one frame) to
 * TLB_MAX_ENTRIES. A program that declares no maximum gets the largest; one that declares a small
 * one (a service, a waiter) costs a frame instead of sixteen. Pages of the global space it maps
 * share the entries (a miss, never a wrong hit, when two collide).
 */
export function tlbEntriesFor(maximumWasmPages: number): number {
  const pages = maximumWasmPages * (WASM_PAGE_SIZE / PAGE_SIZE);
  let entries = TLB_MIN_ENTRIES;
  while (entries < pages && entries < TLB_MAX_ENTRIES) entries *= 2;
  return entries;
}

/** The private window ends where the global space starts. */
export const GLOBAL_SPACE_BASE = 0x8000_0000;
export const MAX_PRIVATE_WASM_PAGES = GLOBAL_SPACE_BASE / WASM_PAGE_SIZE;

/** Units of fuel spent between two looks at the clock (a safe point spends at least one). */
export const FUEL_PER_CHECK = 10_000;
/**
 * Bytes of a function's or loop's code a safe point charges a unit of fuel for: a safe point
 * spends 1 + floor(size / CODE_BYTES_PER_FUEL), so that straight-line code, however long, cannot
 * stretch the time between two looks at the clock (issue 16, finding 3's class).
 */
export const CODE_BYTES_PER_FUEL = 64;
/** A function this small that neither loops nor calls gets no safe point: a call of it runs a bounded few instructions. */
export const SMALL_LEAF_BYTES = 64;

/** Bumped whenever rewritten code changes shape, so cached modules from older loaders miss. */
export const REWRITE_VERSION = 27;

/**
 * The host memory the engine keeps for a compiled module besides its code, and a load leaves in the
 * host's allocator (src/loader/host-cost.ts measures it): part of what an Image a process loads is
 * charged (src/kernel/caps/image-charge.ts).
 */
export const IMAGE_MODULE_FIXED_BYTES = 3 << 20;
