import { PAGE_SIZE, TLB_AWAY_BIT, TLB_WRITE_OFFSET } from "../kernel/constants.ts";
import { BULK_BYTES_PER_FUEL } from "../kernel/fuel.ts";
import { Assembler, Op } from "./helper-assembler.ts";
import type { CodeLayout } from "./output-layout.ts";
import { EMPTY_BLOCK, I32 } from "./wasm/value-types.ts";

/**
 * The bodies of `dogma$copy(dest, src, n)`, `dogma$fill(dest, value, n)` and `dogma$init(dest,
 * src, n, segment)`, which the rewrite puts in place of memory.copy, memory.fill and memory.init.
 *
 * copy and fill run in the module when the TLBs map every page of their ranges (the write TLB for
 * the destination): a range inside one page takes one native instruction on its frame; a longer
 * one is first checked page by page (a range that any page of fails goes to the kernel whole, so
 * nothing is written before a fault, as WebAssembly requires), then copied or filled a piece at a
 * time, each piece inside one page on both sides, from the end down when the destination is above
 * the source (memmove's order). A range of several pages is charged fuel for its bytes as the
 * kernel would charge it (src/kernel/fuel.ts). Anything else (a miss, a fault, an empty range, a
 * range past 4 GiB) is the kernel's. memory.init always is: its source is the kernel's copy of the
 * data segment.
 */

const MEMORY_COPY = [Op.prefixMisc, 10, 0, 0] as const;
const MEMORY_FILL = [Op.prefixMisc, 11, 0] as const;
const SHIFT_PER_FUEL = Math.log2(BULK_BYTES_PER_FUEL);

/** Pushes the physical address of `address`, whose page the TLB at `tlbOffset` maps. */
function physical(a: Assembler, layout: CodeLayout, address: number, tlbOffset: number): void {
  a.get(address).entry(layout, address).load(tlbOffset + 4).op(Op.i32Add);
}

/** br_if `kernel` (a depth from here) unless `[start, start + n)` ends at or below 4 GiB. */
function withinAddressSpace(a: Assembler, start: number, n: number, kernel: number): void {
  a.get(start).op(Op.i64ExtendI32U).get(n).op(Op.i64ExtendI32U, Op.i64Add).const64(2 ** 32).op(Op.i64GtU, Op.brIf, kernel);
}

/** br_if `kernel` unless the TLB at `tlbOffset` maps every page of `[start, start + n)` (n > 0). */
function everyPageMapped(a: Assembler, layout: CodeLayout, start: number, n: number, tlbOffset: number, page: number, last: number, kernel: number): void {
  a.get(start).const(-PAGE_SIZE).op(Op.i32And).set(page);
  a.get(start).get(n).op(Op.i32Add).const(1).op(Op.i32Sub).const(-PAGE_SIZE).op(Op.i32And).set(last);
  a.op(Op.loop, EMPTY_BLOCK);
  // Home or not (TLB_AWAY_BIT masked): the copy reads each entry's addend (physical).
  a.entry(layout, page).load(tlbOffset).const(~TLB_AWAY_BIT).op(Op.i32And).get(page).op(Op.i32Ne, Op.brIf, kernel + 1);
  a.get(page).get(last).op(Op.i32Ne, Op.if, EMPTY_BLOCK);
  a.get(page).const(PAGE_SIZE).op(Op.i32Add).set(page).op(Op.br, 1);
  a.op(Op.end, Op.end);
}

/** `fuel -= n / BULK_BYTES_PER_FUEL`, kept from wrapping below -1 as the kernel's charge is. */
function chargeFuel(a: Assembler, layout: CodeLayout, n: number, scratch: number): void {
  a.index(Op.globalGet, layout.fuelGlobal).get(n).const(SHIFT_PER_FUEL).op(Op.i32ShrU, Op.i32Sub).set(scratch);
  a.const(-1).get(scratch).get(scratch).const(0).op(Op.i32LtS, Op.select).index(Op.globalSet, layout.fuelGlobal);
}

/** `into = min(into, other)`, unsigned. */
function minimum(a: Assembler, into: number, other: number): void {
  a.get(other).get(into).get(other).get(into).op(Op.i32LtU, Op.select).set(into);
}

export function copyHelper(layout: CodeLayout): Uint8Array {
  const [dest, src, n, destEntry, srcEntry, page, last, d, s, chunk, other] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const a = new Assembler([I32, I32, I32, I32, I32, I32, I32, I32]);
  a.op(Op.block, EMPTY_BLOCK); // the kernel's: br 0 from here
  a.op(Op.block, EMPTY_BLOCK); // more than one page: br 0
  a.missUnlessInPage(dest, n, 0).missUnlessInPage(src, n, 0);
  a.entry(layout, dest).set(destEntry).entry(layout, src).set(srcEntry);
  a.missUnlessTagged(destEntry, TLB_WRITE_OFFSET, dest, 1).missUnlessTagged(srcEntry, 0, src, 1);
  a.get(dest).get(destEntry).load(TLB_WRITE_OFFSET + 4).op(Op.i32Add);
  a.get(src).get(srcEntry).load(4).op(Op.i32Add);
  a.get(n).op(...MEMORY_COPY, Op.return, Op.end);
  withinAddressSpace(a, dest, n, 0);
  withinAddressSpace(a, src, n, 0);
  everyPageMapped(a, layout, dest, n, TLB_WRITE_OFFSET, page, last, 0);
  everyPageMapped(a, layout, src, n, 0, page, last, 0);
  chargeFuel(a, layout, n, other);
  a.get(dest).get(src).op(Op.i32GtU, Op.if, EMPTY_BLOCK);
  // Destination above the source: pieces from the last byte down; d and s are each piece's last byte.
  a.get(dest).get(n).op(Op.i32Add).const(1).op(Op.i32Sub).set(d);
  a.get(src).get(n).op(Op.i32Add).const(1).op(Op.i32Sub).set(s);
  a.op(Op.loop, EMPTY_BLOCK);
  a.get(d).const(PAGE_SIZE - 1).op(Op.i32And).const(1).op(Op.i32Add).set(chunk);
  a.get(s).const(PAGE_SIZE - 1).op(Op.i32And).const(1).op(Op.i32Add).set(other);
  minimum(a, chunk, other);
  minimum(a, chunk, n);
  a.get(d).get(chunk).op(Op.i32Sub).const(1).op(Op.i32Add).set(page);
  a.get(s).get(chunk).op(Op.i32Sub).const(1).op(Op.i32Add).set(last);
  physical(a, layout, page, TLB_WRITE_OFFSET);
  physical(a, layout, last, 0);
  a.get(chunk).op(...MEMORY_COPY);
  a.get(d).get(chunk).op(Op.i32Sub).set(d);
  a.get(s).get(chunk).op(Op.i32Sub).set(s);
  a.get(n).get(chunk).op(Op.i32Sub).tee(n).op(Op.brIf, 0, Op.end);
  a.op(Op.else);
  // Otherwise from the first byte up.
  a.get(dest).set(d).get(src).set(s);
  a.op(Op.loop, EMPTY_BLOCK);
  a.const(PAGE_SIZE).get(d).const(PAGE_SIZE - 1).op(Op.i32And, Op.i32Sub).set(chunk);
  a.const(PAGE_SIZE).get(s).const(PAGE_SIZE - 1).op(Op.i32And, Op.i32Sub).set(other);
  minimum(a, chunk, other);
  minimum(a, chunk, n);
  physical(a, layout, d, TLB_WRITE_OFFSET);
  physical(a, layout, s, 0);
  a.get(chunk).op(...MEMORY_COPY);
  a.get(d).get(chunk).op(Op.i32Add).set(d);
  a.get(s).get(chunk).op(Op.i32Add).set(s);
  a.get(n).get(chunk).op(Op.i32Sub).tee(n).op(Op.brIf, 0, Op.end);
  a.op(Op.end, Op.return, Op.end);
  a.get(dest).get(src).get(n).index(Op.call, layout.retriedCalls.memory_copy!);
  return a.done();
}

export function fillHelper(layout: CodeLayout): Uint8Array {
  const [dest, value, n, destEntry, page, last, d, chunk, other] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const a = new Assembler([I32, I32, I32, I32, I32, I32]);
  a.op(Op.block, EMPTY_BLOCK);
  a.op(Op.block, EMPTY_BLOCK);
  a.missUnlessInPage(dest, n, 0);
  a.entry(layout, dest).set(destEntry);
  a.missUnlessTagged(destEntry, TLB_WRITE_OFFSET, dest, 1);
  a.get(dest).get(destEntry).load(TLB_WRITE_OFFSET + 4).op(Op.i32Add);
  a.get(value).get(n).op(...MEMORY_FILL, Op.return, Op.end);
  withinAddressSpace(a, dest, n, 0);
  everyPageMapped(a, layout, dest, n, TLB_WRITE_OFFSET, page, last, 0);
  chargeFuel(a, layout, n, other);
  a.get(dest).set(d);
  a.op(Op.loop, EMPTY_BLOCK);
  a.const(PAGE_SIZE).get(d).const(PAGE_SIZE - 1).op(Op.i32And, Op.i32Sub).set(chunk);
  minimum(a, chunk, n);
  physical(a, layout, d, TLB_WRITE_OFFSET);
  a.get(value).get(chunk).op(...MEMORY_FILL);
  a.get(d).get(chunk).op(Op.i32Add).set(d);
  a.get(n).get(chunk).op(Op.i32Sub).tee(n).op(Op.brIf, 0, Op.end);
  a.op(Op.return, Op.end);
  a.get(dest).get(value).get(n).index(Op.call, layout.retriedCalls.memory_fill!);
  return a.done();
}

export function initHelper(layout: CodeLayout): Uint8Array {
  return new Assembler([]).get(3).get(0).get(1).get(2).index(Op.call, layout.retriedCalls.memory_init!).done();
}
