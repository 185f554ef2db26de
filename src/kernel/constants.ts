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

/** Entries in each software TLB (read and write). 4096 keeps misses rare; 256 thrash. */
export const TLB_ENTRIES = 4096;
/** Each entry is a tag word then an addend word. */
export const TLB_ENTRY_BYTES = 8;
export const TLB_BYTES = TLB_ENTRIES * TLB_ENTRY_BYTES;
/** Mask applied to `addr >>> (PAGE_SHIFT - 3)` to give an entry's byte offset. */
export const TLB_INDEX_MASK = (TLB_ENTRIES - 1) * TLB_ENTRY_BYTES;

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
export const REWRITE_VERSION = 8;
