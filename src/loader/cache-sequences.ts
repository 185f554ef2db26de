import { PAGE_SIZE } from "../kernel/constants.ts";
import { MOST_BYTES } from "./mmu-sequences.ts";
import { fillHelper, type CodeLayout, type MemoryOp } from "./output-layout.ts";
import type { SequenceMarks } from "./sequence-marks.ts";
import type { ByteWriter } from "./wasm/byte-writer.ts";
import { EMPTY_BLOCK } from "./wasm/value-types.ts";

/**
 * A load or store through a page cache (page-caches.ts, docs/LOADER.md "Page caches"): two locals
 * holding the page the last access off the same base reached, in the shifted form below, and its
 * TLB entry's addend.
 *
 *   A = u64(ptr) + K + CACHE_SHIFT                     ;; 64 bits: nothing wraps
 *   if A - page <u PAGE_SIZE + 1 - size                ;; every byte in the cached page
 *     then T.load (wrap(A) + addend)                   ;; addend = the TLB's, less CACHE_SHIFT
 *     else (value, page, addend) = dogma$fill_OP(A)    ;; the access through the TLB, which
 *          if page == 0 then <empty every cache>      ;; refills the cache, or the kernel
 *
 * A cache holding page 0 (a new local, or one emptied) matches nothing: `A` is at least
 * CACHE_SHIFT, and the matching range is below PAGE_SIZE. An effective address past 4 GiB is
 * at least 2^32 + CACHE_SHIFT, beyond any cached page.
 */

const Op = {
  else: 0x05, end: 0x0b, call: 0x10, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Add: 0x6a, i64Const: 0x42, i64Eqz: 0x50, i64LtU: 0x54, i64Add: 0x7c, i64Sub: 0x7d, i32WrapI64: 0xa7, i64ExtendI32U: 0xad,
} as const;

/** How far a cache shifts addresses, so that a cache of zeros matches no address. */
export const CACHE_SHIFT = PAGE_SIZE;

/** A page cache's locals, and the scratch local holding `A`. */
export interface CacheLocals {
  readonly page: number;
  readonly addend: number;
  readonly address: number;
}

/** With the address operand on the stack: `A` into cache.address, and whether the access lies in the cached page. */
function cacheCheck(w: ByteWriter, bytes: number, offset: number, cache: CacheLocals): void {
  w.put(Op.i64ExtendI32U);
  w.put(Op.i64Const);
  putS64(w, offset + CACHE_SHIFT);
  w.put(Op.i64Add);
  w.put(Op.localTee);
  w.putU32(cache.address);
  w.put(Op.localGet);
  w.putU32(cache.page);
  w.put(Op.i64Sub);
  w.put(Op.i64Const);
  putS64(w, PAGE_SIZE + 1 - bytes);
  w.put(Op.i64LtU);
}

/** `wrap(A) + addend`: the physical address of a hit. */
function cachedPhysical(w: ByteWriter, cache: CacheLocals): void {
  w.put(Op.localGet);
  w.putU32(cache.address);
  w.put(Op.i32WrapI64);
  w.put(Op.localGet);
  w.putU32(cache.addend);
  w.put(Op.i32Add);
}

/** After the refill's call: the new cache into its locals, and every cache emptied if the kernel ran. */
function refilled(w: ByteWriter, marks: SequenceMarks, cache: CacheLocals): void {
  w.put(Op.localSet);
  w.putU32(cache.addend);
  w.put(Op.localTee);
  w.putU32(cache.page);
  w.put(Op.i64Eqz);
  marks.putIf(w, 0);
  w.put(EMPTY_BLOCK);
  marks.kernelEntry(w);
  w.put(Op.end);
}

/** `T.load align offset=K` through a page cache. */
export function emitCachedLoad(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, cache: CacheLocals): void {
  w.reserve(MOST_BYTES);
  cacheCheck(w, op.kind.bytes, offset, cache);
  marks.putIf(w, 1);
  w.put(op.valueType);
  cachedPhysical(w, cache);
  w.put(opcode);
  w.putU32(align);
  w.put(0);
  w.put(Op.else);
  w.put(Op.localGet);
  w.putU32(cache.address);
  w.put(Op.call);
  w.putU32(fillHelper(layout, opcode));
  refilled(w, marks, cache);
  w.put(Op.end);
}

/** `T.store align offset=K` through a page cache, the value first to a local. */
export function emitCachedStore(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, cache: CacheLocals, value: number): void {
  w.reserve(MOST_BYTES);
  w.put(Op.localSet);
  w.putU32(value);
  cacheCheck(w, op.kind.bytes, offset, cache);
  marks.putIf(w, 1);
  w.put(EMPTY_BLOCK);
  cachedPhysical(w, cache);
  w.put(Op.localGet);
  w.putU32(value);
  w.put(opcode);
  w.putU32(align);
  w.put(0);
  w.put(Op.else);
  w.put(Op.localGet);
  w.putU32(cache.address);
  w.put(Op.localGet);
  w.putU32(value);
  w.put(Op.call);
  w.putU32(fillHelper(layout, opcode));
  refilled(w, marks, cache);
  w.put(Op.end);
}

/** `page = 0` for each cache: what is spliced in at every kernel entry inside a loop. */
export function emptyCaches(w: ByteWriter, pages: readonly number[]): void {
  for (const page of pages) {
    w.u8(Op.i64Const);
    w.u8(0);
    w.u8(Op.localSet);
    w.u32(page);
  }
}

/** A signed LEB128 of a non-negative integer below 2^53, into reserved room. */
export function putS64(w: ByteWriter, value: number): void {
  let v = value;
  for (;;) {
    const byte = v % 128;
    v = Math.floor(v / 128);
    if (v === 0 && (byte & 0x40) === 0) {
      w.put(byte);
      return;
    }
    w.put(byte | 0x80);
  }
}
