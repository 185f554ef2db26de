import { PAGE_SIZE, TLB_AWAY_BIT, TLB_INDEX_SHIFT, TLB_WRITE_OFFSET } from "../kernel/constants.ts";
import { accessHelper, type CodeLayout, type MemoryOp } from "./output-layout.ts";
import type { SequenceMarks } from "./sequence-marks.ts";
import type { ByteWriter } from "./wasm/byte-writer.ts";
import { EMPTY_BLOCK } from "./wasm/value-types.ts";

/**
 * The code the rewriter puts in place of each memory instruction and at each safe point, written
 * straight into the output as bytes. docs/LOADER.md shows the sequences and why they are correct.
 */

const Op = {
  if: 0x04, else: 0x05, end: 0x0b, call: 0x10, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  globalGet: 0x23, globalSet: 0x24, i32Load: 0x28, i64Load32U: 0x35, i32Const: 0x41, i64Const: 0x42, i64Eq: 0x51, i64LtU: 0x54, i64Add: 0x7c, i64Sub: 0x7d, i64And: 0x83, i32WrapI64: 0xa7, i64ExtendI32U: 0xad,
  i32Eqz: 0x45, i32Eq: 0x46, i32LtS: 0x48, i32LtU: 0x49, i32Add: 0x6a, i32Sub: 0x6b, i32And: 0x71, i32Or: 0x72, i32ShrU: 0x76,
} as const;

/** The scratch locals a translation uses: the effective address and the TLB entry's address. */
export interface AccessLocals {
  readonly address: number;
  readonly entry: number;
  /** A local holding the TLB's address (loaded once at the function's entry), or -1 to read the global. */
  readonly tlb: number;
  /** An i64 local for the wide key (CodeLayout.wideKeys), or -1 (or absent): the 32-bit key with its wrap term. */
  readonly wide?: number;
}

/**
 * Whether `a = ptr + K` may have wrapped past 4 GiB: a wrapped address is below K, and must
 * fault rather than reach the low pages (page 0 may be in a TLB: docs/MEMORY.md "Page 0"). A
 * group's span may start below its local (K < 0) and needs no term: see emitSpanCheck.
 */
function needsWrapCheck(offset: number): boolean {
  return offset > 0;
}

/** With `a` on the stack: leaves `entry = tlb + ((a >>> 8) & mask)` in locals.entry and on the stack. */
function entryOf(w: ByteWriter, layout: CodeLayout, locals: AccessLocals): void {
  w.put(Op.i32Const);
  w.put(TLB_INDEX_SHIFT);
  w.put(Op.i32ShrU);
  w.put(Op.i32Const);
  w.putS32(layout.tlbIndexMask);
  w.put(Op.i32And);
  tlbBase(w, layout, locals);
  w.put(Op.i32Add);
  w.put(Op.localTee);
  w.putU32(locals.entry);
}

/**
 * With the effective address's operand on the stack: leaves `a` in locals.address,
 * `entry = tlb + ((a >>> 8) & mask)` in locals.entry (mask: the image's constant), and `tag[entry + tlbOffset] == key` on
 * the stack, where key is the page of the access's last byte (and bit 0 set if `a` wrapped).
 */
function translate(w: ByteWriter, layout: CodeLayout, bytes: number, offset: number, locals: AccessLocals, tlbOffset: number, anyFrame = false): void {
  if (needsWrapCheck(offset) && locals.wide !== undefined && locals.wide >= 0) {
    translateWide(w, layout, bytes, offset, locals, locals.wide, tlbOffset, anyFrame);
    return;
  }
  if (offset !== 0) {
    w.put(Op.i32Const);
    w.putS32(offset);
    w.put(Op.i32Add);
  }
  w.put(Op.localTee);
  w.putU32(locals.address);
  entryOf(w, layout, locals);
  w.put(Op.i32Load);
  w.put(2);
  w.putU32(tlbOffset);
  if (anyFrame) {
    // Home or away (TLB_AWAY_BIT masked off): the caller takes the entry's addend.
    w.put(Op.i32Const);
    w.putS32(~TLB_AWAY_BIT);
    w.put(Op.i32And);
  }
  w.put(Op.localGet);
  w.putU32(locals.address);
  if (bytes > 1) {
    w.put(Op.i32Const);
    w.putS32(bytes - 1);
    w.put(Op.i32Add);
  }
  w.put(Op.i32Const);
  w.putS32(-PAGE_SIZE);
  w.put(Op.i32And);
  if (needsWrapCheck(offset)) {
    w.put(Op.localGet);
    w.putU32(locals.address);
    w.put(Op.i32Const);
    w.putS32(offset);
    w.put(Op.i32LtU);
    w.put(Op.i32Or);
  }
  w.put(Op.i32Eq);
}

/**
 * translate for an offset K > 0 without the wrap term: `a64 = zext(ptr) + K` in the i64 local
 * `wide`, `a = wrap(a64)` in locals.address and the entry from it as translate does, and the
 * compare made in 64 bits, `zext(tag[entry]) == (a64 + size - 1) & ~4095`. An access whose bytes
 * pass 4 GiB has a key of 2^32 or more, which no zero-extended tag equals (translate's `a <u K`
 * term caught the same accesses: the first byte past 4 GiB; this also catches one whose last byte
 * alone is past it, which the 32-bit key's page, wrapped to page 0, missed anyway since the entry
 * of page 0xfffff never holds page 0). One less compare, set and or per access, and TurboFan loads
 * the tag once (the 32-bit compare with the tag as its memory operand came with a second, dead,
 * load of it).
 */
function translateWide(w: ByteWriter, layout: CodeLayout, bytes: number, offset: number, locals: AccessLocals, wide: number, tlbOffset: number, anyFrame: boolean): void {
  w.put(Op.i64ExtendI32U);
  w.put(Op.i64Const);
  putU32AsS64(w, offset);
  w.put(Op.i64Add);
  w.put(Op.localTee);
  w.putU32(wide);
  w.put(Op.i32WrapI64);
  w.put(Op.localTee);
  w.putU32(locals.address);
  entryOf(w, layout, locals);
  w.put(Op.i64Load32U);
  w.put(2);
  w.putU32(tlbOffset);
  if (anyFrame) {
    // Home or away (TLB_AWAY_BIT masked off): the caller takes the entry's addend.
    w.put(Op.i64Const);
    w.putS32(~TLB_AWAY_BIT);
    w.put(Op.i64And);
  }
  w.put(Op.localGet);
  w.putU32(wide);
  if (bytes > 1) {
    w.put(Op.i64Const);
    w.putS32(bytes - 1);
    w.put(Op.i64Add);
  }
  w.put(Op.i64Const);
  w.putS32(-PAGE_SIZE);
  w.put(Op.i64And);
  w.put(Op.i64Eq);
}

/**
 * `a + home`: the physical address of a hit whose tag is the page's plain tag, which the kernel
 * writes only for the page's home frame, `page + home` (src/kernel/tlb.ts): no load of the
 * entry's addend, so the access's address does not wait on a second load.
 */
function homeAddress(w: ByteWriter, layout: CodeLayout, locals: AccessLocals, constant: number | null): void {
  if (constant === null) {
    w.put(Op.localGet);
    w.putU32(locals.address);
  } else {
    w.put(Op.i32Const);
    w.putS32(constant | 0);
  }
  w.put(Op.globalGet);
  w.putU32(layout.homeGlobal);
  w.put(Op.i32Add);
}

/** Room for the longest sequence below: every immediate at its longest LEB128. */
export const MOST_BYTES = 128;

/**
 * Whether an access of `bytes` at the constant effective address `address` (`i32.const C` then
 * `offset=K`, summed without wrapping) can be translated with constants: it lies below 4 GiB
 * (past it, the access must fault: the general sequence's wrap check) and inside one page (one
 * that crosses takes the slow path every time: the general sequence does that as well).
 */
export function constantAccess(address: number, bytes: number): boolean {
  return address + bytes <= 2 ** 32 && Math.floor(address / PAGE_SIZE) === Math.floor((address + bytes - 1) / PAGE_SIZE);
}

/**
 * `tag[entry] == page` for the constant address `a`: the entry's position and the page are
 * constants, so the sequence reads the TLB off its base with the entry as the load's offset and
 * compares with a constant (the general one's shift, mask, sum and tag arithmetic folded here).
 */
function translateConstant(w: ByteWriter, layout: CodeLayout, address: number, locals: AccessLocals, tlbOffset: number): void {
  tlbBase(w, layout, locals);
  w.put(Op.i32Load);
  w.put(2);
  w.putU32(tlbEntryOffset(layout, address) + tlbOffset);
  w.put(Op.i32Const);
  w.putS32(address & -PAGE_SIZE);
  w.put(Op.i32Eq);
}

function tlbBase(w: ByteWriter, layout: CodeLayout, locals: { readonly tlb: number }): void {
  if (locals.tlb >= 0) {
    w.put(Op.localGet);
    w.putU32(locals.tlb);
  } else {
    w.put(Op.globalGet);
    w.putU32(layout.tlbGlobal);
  }
}

/** The offset of the TLB entry of `address` from the TLB's base: the general sequence's `(a >>> 8) & mask`. */
function tlbEntryOffset(layout: CodeLayout, address: number): number {
  return (address >>> TLB_INDEX_SHIFT) & layout.tlbIndexMask;
}

/**
 * The hit check: `tag[entry] == page(a + size - 1)` for the address on the stack (`constant` null),
 * or the same folded for a constant one (constantAccess).
 */
function check(w: ByteWriter, layout: CodeLayout, op: MemoryOp, offset: number, locals: AccessLocals, tlbOffset: number, constant: number | null): void {
  if (constant === null) translate(w, layout, op.kind.bytes, offset, locals, tlbOffset);
  else translateConstant(w, layout, constant, locals, tlbOffset);
}

/** The slow path's address and offset operands: the computed address and K, or the constant and 0. */
function slowPathOperands(w: ByteWriter, locals: AccessLocals, offset: number, constant: number | null): void {
  if (constant === null) {
    w.put(Op.localGet);
    w.putU32(locals.address);
  }
  w.put(Op.i32Const);
  if (constant === null) w.putS32(offset);
  else {
    w.putS32(constant | 0);
    w.put(Op.i32Const);
    w.put(0);
  }
}

/**
 * The miss: the slow path called with the access's operands (a store's value from `value`), its
 * result reinterpreted where the access's type needs, then the groups in `clears` end.
 */
function slowPathCall(w: ByteWriter, layout: CodeLayout, op: MemoryOp, offset: number, locals: AccessLocals, value: number, constant: number | null, clears: readonly number[]): void {
  const store = op.kind.store;
  slowPathOperands(w, locals, offset, constant);
  if (store) {
    w.put(Op.localGet);
    w.putU32(value);
    if (op.reinterpret !== null) w.put(op.reinterpret);
  }
  w.put(Op.call);
  w.putU32(layout.slowPaths[op.slowPath]!);
  if (!store && op.reinterpret !== null) w.put(op.reinterpret);
  endGroups(w, clears);
}

/**
 * `if tag[entry] == page then T.load (a + home) else slow path` (docs/LOADER.md "A load"): a plain
 * tag means the page is in its home frame (src/kernel/tlb.ts), so the hit reads no addend; a page
 * in another frame has the away tag, misses here, and the slow path's wrapper serves it from the
 * entry's addend (rewrite-helpers.ts awayTier).
 *
 * `T.load align offset=K` with its address operand on the stack; or, with `constant`, one whose
 * address operand was `i32.const C` (dropped by the caller): `constant` = C + K, a constantAccess.
 */
export function emitLoad(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: AccessLocals, constant: number | null = null, clears: readonly number[] = NONE): void {
  w.reserve(MOST_BYTES + clears.length * CLEAR_BYTES);
  check(w, layout, op, offset, locals, 0, constant);
  marks.putIf(w, 1);
  w.put(op.valueType);
  homeAddress(w, layout, locals, constant);
  w.put(opcode);
  w.putU32(align);
  w.put(0);
  w.put(Op.else);
  slowPathCall(w, layout, op, offset, locals, -1, constant, clears);
  w.put(Op.end);
}

/**
 * `T.store align offset=K` with its address and value operands on the stack (`constant` as for
 * emitLoad). The value goes to a local first, so nothing runs between the translation and the
 * access.
 */
export function emitStore(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: AccessLocals, value: number, constant: number | null = null, clears: readonly number[] = NONE): void {
  w.reserve(MOST_BYTES + clears.length * CLEAR_BYTES);
  w.put(Op.localSet);
  w.putU32(value);
  check(w, layout, op, offset, locals, TLB_WRITE_OFFSET, constant);
  marks.putIf(w, 1);
  w.put(EMPTY_BLOCK);
  homeAddress(w, layout, locals, constant);
  w.put(Op.localGet);
  w.putU32(value);
  w.put(opcode);
  w.putU32(align);
  w.put(0);
  w.put(Op.else);
  slowPathCall(w, layout, op, offset, locals, value, constant, clears);
  w.put(Op.end);
}

const NONE: readonly number[] = [];
/** `i64.const -8192; local.set s` with s's index at its longest (`i32.const 0; local.set g` is shorter). */
const CLEAR_BYTES = 9;

/**
 * After a slow path: the groups live across the access end (their physical-address locals are
 * zeroed), since the kernel may have changed any TLB entry (access-groups.ts). An entry `~s`
 * (negative) is an access stream's page local, made to match no address (emitStreamAccess).
 */
function endGroups(w: ByteWriter, clears: readonly number[]): void {
  w.reserve(clears.length * CLEAR_BYTES);
  for (const g of clears) {
    if (g < 0) {
      putStreamInvalid(w);
      if (~g >= STREAM_GLOBAL_CLEAR) {
        w.put(Op.globalSet);
        w.putU32(~g - STREAM_GLOBAL_CLEAR);
      } else {
        w.put(Op.localSet);
        w.putU32(~g);
      }
      continue;
    }
    w.put(Op.i32Const);
    w.put(0);
    w.put(Op.localSet);
    w.putU32(g);
  }
}

/** In a list of clears, `~(STREAM_GLOBAL_CLEAR + g)` is stream page global g (the variant streamGlobals). */
export const STREAM_GLOBAL_CLEAR = 1 << 24;

/**
 * What an access stream's page local holds while it has no page: -8192 (two bytes of LEB128), so
 * that `zero-extended address - page` is the address plus 8192, at least 8192 for every 32-bit
 * address: never below a page's size. (0, a local's first value, would match page 0.)
 */
function putStreamInvalid(w: ByteWriter): void {
  w.put(Op.i64Const);
  w.putS32(-2 * PAGE_SIZE);
}

/** `value` (0 to 2^32 - 1) as the signed LEB128 of an i64.const: at most five bytes. */
function putU32AsS64(w: ByteWriter, value: number): void {
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

/** The locals of an access stream (one load or store instruction inside a loop). */
export interface StreamLocals extends AccessLocals {
  /** The address operand. */
  readonly anchor: number;
  /** i64: the page the stream reached last minus the access's offset K, or -8192 (none: putStreamInvalid). */
  readonly page: number;
  /** i32: that page's addend plus K (wrapping): the physical address is the operand plus this. */
  readonly addend: number;
  /** Whether `page` and `addend` are globals of the module rather than locals (the variant streamGlobals). */
  readonly globals: boolean;
}

/**
 * A load or store inside a loop that keeps the page it reached last (its operands on the stack,
 * as for emitLoad and emitStore): `T.op offset=K (ptr)` is
 * ```
 * if zext(ptr) - page <u PAGE_SIZE - size + 1     ;; i64: [ptr + K, ptr + K + size) inside that page
 *   then T.op (ptr + addend)                     ;; addend = the page's addend + K
 *   else the access translated as emitLoad does; on a TLB hit also
 *        page = zext(a & -PAGE_SIZE) - K, addend = addend[entry] + K
 * ```
 * `page` and `addend` are set only by the hit of a full TLB check of this very access (same K,
 * size and half) and `page` is made invalid before the loop and by every way into the kernel
 * in it (`clears`, and the clears of every slow path and safe point: rewrite-body.ts),
 * the only place a TLB entry changes; so the entry still maps that page to the same frame with the
 * same right. The i64 compare holds only for `0 <= ptr + K - P <= PAGE_SIZE - size` computed
 * without wrapping (P the page, below 4 GiB): the access lies inside P. docs/LOADER.md "Access
 * streams".
 */
export function emitStreamAccess(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: StreamLocals, value: number, clears: readonly number[]): void {
  w.reserve(MOST_BYTES * 3 + clears.length * CLEAR_BYTES);
  const store = op.kind.store;
  const half = store ? TLB_WRITE_OFFSET : 0;
  if (store) {
    w.put(Op.localSet);
    w.putU32(value);
  }
  w.put(Op.localTee);
  w.putU32(locals.anchor);
  w.put(Op.i64ExtendI32U);
  w.put(locals.globals ? Op.globalGet : Op.localGet);
  w.putU32(locals.page);
  w.put(Op.i64Sub);
  w.put(Op.i64Const);
  w.putS32(PAGE_SIZE - op.kind.bytes + 1);
  w.put(Op.i64LtU);
  marks.putIf(w, 1);
  w.put(store ? EMPTY_BLOCK : op.valueType);
  w.put(Op.localGet);
  w.putU32(locals.anchor);
  w.put(locals.globals ? Op.globalGet : Op.localGet);
  w.putU32(locals.addend);
  w.put(Op.i32Add);
  fastAccess(w, opcode, align, 0, store, value);
  w.put(Op.else);
  // The full check, as an inline access's (emitLoad, emitStore), but taking a page in any frame:
  // the stream keeps the entry's addend, so an away page (a file view's, a Region's) is served
  // at its hit as fast as a home one, and the addend's load is off the hit's path either way.
  w.put(Op.localGet);
  w.putU32(locals.anchor);
  translate(w, layout, op.kind.bytes, offset, locals, half, true);
  marks.putIf(w, 1);
  w.put(store ? EMPTY_BLOCK : op.valueType);
  // A hit: the stream takes the page.
  w.put(Op.localGet);
  w.putU32(locals.address);
  w.put(Op.i32Const);
  w.putS32(-PAGE_SIZE);
  w.put(Op.i32And);
  w.put(Op.i64ExtendI32U);
  if (offset !== 0) {
    w.put(Op.i64Const);
    putU32AsS64(w, offset);
    w.put(Op.i64Sub);
  }
  w.put(locals.globals ? Op.globalSet : Op.localSet);
  w.putU32(locals.page);
  w.put(Op.localGet);
  w.putU32(locals.entry);
  w.put(Op.i32Load);
  w.put(2);
  w.putU32(half + 4);
  if (offset !== 0) {
    w.put(Op.i32Const);
    w.putS32(offset | 0);
    w.put(Op.i32Add);
  }
  if (locals.globals) {
    w.put(Op.globalSet);
    w.putU32(locals.addend);
    w.put(Op.globalGet);
  } else w.put(Op.localTee);
  w.putU32(locals.addend);
  w.put(Op.localGet);
  w.putU32(locals.anchor);
  w.put(Op.i32Add);
  fastAccess(w, opcode, align, 0, store, value);
  w.put(Op.else);
  slowPathCall(w, layout, op, offset, locals, value, null, clears);
  w.put(Op.end);
  w.put(Op.end);
}

/** After a call that may enter the kernel (an access helper's): the groups in `clears` end. */
export function emitGroupEnds(w: ByteWriter, clears: readonly number[]): void {
  endGroups(w, clears);
}

/** The locals of a group's accesses (access-groups.ts). */
export interface GroupLocals {
  /** The access's address operand. */
  readonly anchor: number;
  /** The span's start and its TLB entry's address (the head's check). */
  readonly address: number;
  readonly entry: number;
  readonly tlb: number;
  /** As AccessLocals.wide, for a head's check. */
  readonly wide?: number;
  /** The group's physical address of its span's start, 0 when the group is not valid. */
  readonly physical: number;
}

/** What the rewriter planned for a group's access (access-groups.ts PlannedAccess). */
export interface GroupAccess {
  readonly fastOffset: number;
  readonly lo: number;
  readonly span: number;
  readonly write: boolean;
}

/**
 * The check of a group's span, for its head and for a loop header: `[L + lo, L + lo + span)` (L
 * the local `base`) lies below 4 GiB inside one page whose TLB entry's `half` (read or write) has
 * that page's tag. Leaves the compare on the stack, the span's start in `address` and its TLB
 * entry's address in `entry`.
 */
function emitSpanCheck(w: ByteWriter, layout: CodeLayout, locals: GroupLocals, base: number, lo: number, span: number, half: number): void {
  w.put(Op.localGet);
  w.putU32(base);
  // L + lo past 4 GiB wraps below lo (translate's wrap term). L + lo below 0, lo < 0, needs none
  // for a head: its own bytes, at L + K >= 0, are in the span, so the span then crosses 2^32 and
  // the compare fails.
  translate(w, layout, span, lo, locals, half);
}

/**
 * The first access of a group (its address, and a store's value, on the stack): checks that the
 * group's whole span `[A + lo, A + lo + span)` (A the address operand) lies below 4 GiB inside one
 * page whose TLB entry allows every access of the group (the write half when one is a store: a
 * write entry exists only beside a read entry of the same frame, src/kernel/tlb.ts), keeps the
 * span's physical address in `physical` and makes the access there; or zeroes `physical` and makes
 * the access through its access helper (the full check and slow path), then ends the other live
 * groups (`clears`).
 */
export function emitGroupHead(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: GroupLocals, value: number, group: GroupAccess, clears: readonly number[]): void {
  w.reserve(MOST_BYTES * 2 + clears.length * CLEAR_BYTES);
  const store = op.kind.store;
  takeOperands(w, store, value, locals.anchor, false);
  const half = group.write ? TLB_WRITE_OFFSET : 0;
  emitSpanCheck(w, layout, locals, locals.anchor, group.lo, group.span, half);
  marks.putIf(w, 1);
  w.put(store ? EMPTY_BLOCK : op.valueType);
  // A plain tag: the span's page is home, its physical address `start + home` (homeAddress).
  homeAddress(w, layout, locals, null);
  w.put(Op.localTee);
  w.putU32(locals.physical);
  fastAccess(w, opcode, align, group.fastOffset, store, value);
  w.put(Op.else);
  w.put(Op.i32Const);
  w.put(0);
  w.put(Op.localSet);
  w.putU32(locals.physical);
  helperAccess(w, layout, opcode, offset, locals, store, value, clears);
  w.put(Op.end);
}

/**
 * A later access of a group (address and value on the stack, as for the head): at the group's
 * physical address plus its place in the span while the group is valid, else through its access
 * helper, which ends the other live groups.
 */
export function emitGroupMember(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: GroupLocals, value: number, fastOffset: number, clears: readonly number[]): void {
  w.reserve(MOST_BYTES + clears.length * CLEAR_BYTES);
  takeOperands(w, op.kind.store, value, locals.anchor, false);
  memberAccess(w, marks, layout, op, opcode, align, offset, locals, value, fastOffset, clears);
}

/**
 * A group's first access in a function of ALL_CALLS_MIN_BODY bytes or more (address and value on
 * the stack): the check is a call of `dogma$group_check_read` or `_write` (rewrite-helpers.ts),
 * which does what an inline head does and returns the span's physical address, or 0 when the
 * check failed; then the access as a member makes it. A huge function stays about as small as
 * with an access helper call per access, and its members skip the calls.
 */
export function emitCalledGroupHead(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: GroupLocals, value: number, group: GroupAccess, clears: readonly number[]): void {
  w.reserve(MOST_BYTES * 2 + clears.length * CLEAR_BYTES);
  takeOperands(w, op.kind.store, value, locals.anchor, true);
  w.put(Op.i32Const);
  w.putS32(group.lo | 0);
  w.put(Op.i32Const);
  w.putS32(group.span - 1);
  tlbBase(w, layout, locals);
  w.put(Op.call);
  w.putU32(group.write ? layout.groupCheckWrite : layout.groupCheckRead);
  w.put(Op.localSet);
  w.putU32(locals.physical);
  memberAccess(w, marks, layout, op, opcode, align, offset, locals, value, group.fastOffset, clears);
}

/**
 * A group access's operands off the stack: a store's value into `value`, then the address into
 * `anchor` (`keepAddress`: left on the stack too).
 */
function takeOperands(w: ByteWriter, store: boolean, value: number, anchor: number, keepAddress: boolean): void {
  if (store) {
    w.put(Op.localSet);
    w.putU32(value);
  }
  w.put(keepAddress ? Op.localTee : Op.localSet);
  w.putU32(anchor);
}

/** A member's access once its operands are in `anchor` and `value`: through `physical` if not 0, else the helper. */
function memberAccess(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: GroupLocals, value: number, fastOffset: number, clears: readonly number[]): void {
  const store = op.kind.store;
  w.put(Op.localGet);
  w.putU32(locals.physical);
  marks.putIf(w, 1);
  w.put(store ? EMPTY_BLOCK : op.valueType);
  w.put(Op.localGet);
  w.putU32(locals.physical);
  fastAccess(w, opcode, align, fastOffset, store, value);
  w.put(Op.else);
  helperAccess(w, layout, opcode, offset, locals, store, value, clears);
  w.put(Op.end);
}

/** With the physical address on the stack: the access at `offset` from it. */
function fastAccess(w: ByteWriter, opcode: number, align: number, offset: number, store: boolean, value: number): void {
  if (store) {
    w.put(Op.localGet);
    w.putU32(value);
  }
  w.put(opcode);
  w.putU32(align);
  w.putU32(offset);
}

/** The access made whole by its access helper (`anchor` holds its address operand), then the live groups ended. */
function helperAccess(w: ByteWriter, layout: CodeLayout, opcode: number, offset: number, locals: GroupLocals, store: boolean, value: number, clears: readonly number[]): void {
  w.put(Op.localGet);
  w.putU32(locals.anchor);
  if (store) {
    w.put(Op.localGet);
    w.putU32(value);
  }
  if (layout.helperTlbArgument) tlbBase(w, layout, locals);
  if (offset !== 0) {
    w.put(Op.i32Const);
    w.putS32(offset);
  }
  w.put(Op.call);
  w.putU32(accessHelper(layout, opcode, offset !== 0));
  endGroups(w, clears);
}

/**
 * A safe point: `fuel = fuel + (-units); if fuel < 0 then fuel = safe_point()`. safe_point may
 * suspend the process (JSPI) when its slice is over. An add of the negated charge rather than a
 * subtract: Liftoff, V8's baseline compiler, takes an add's constant as an immediate but moves a
 * subtrahend into a register first, one instruction more at every loop header and entry of a
 * function that runs in it (TurboFan makes the same code of either).
 */
/**
 * `leave` >= 0: the loop header of an outlined loop (outline-bodies.ts), which returns to be called
 * again, by a branch to the label `leave` deep from inside the `if`, when its safe point's call gave
 * it fuel (never while a debugger keeps it at -1).
 */
export function emitSafePoint(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, units = 1, clears: readonly number[] = NONE, patched = true, leave = -1): number {
  w.reserve(MOST_BYTES + clears.length * CLEAR_BYTES);
  const fuel = layout.fuelGlobal;
  w.put(Op.globalGet);
  w.putU32(fuel);
  w.put(Op.i32Const);
  const unitsAt = w.length;
  // A loop's charge is known only at its end (patchSafePoint): padded to a fixed size. An entry's
  // is known when it is written (the header comes after the body): the shortest LEB128.
  if (patched) putPaddedS32(w, -units);
  else w.putS32(-units);
  w.put(Op.i32Add);
  w.put(Op.globalSet);
  w.putU32(fuel);
  w.put(Op.globalGet);
  w.putU32(fuel);
  w.put(Op.i32Const);
  w.put(0);
  w.put(Op.i32LtS);
  marks.putIf(w, 0);
  w.put(EMPTY_BLOCK);
  w.put(Op.call);
  w.putU32(layout.safePoint);
  w.put(Op.globalSet);
  w.putU32(fuel);
  endGroups(w, clears);
  if (leave >= 0) {
    w.reserve(16);
    w.put(Op.globalGet);
    w.putU32(fuel);
    w.put(Op.i32Const);
    w.put(0);
    w.put(0x4a); // i32.gt_s
    w.put(0x0d); // br_if
    w.putU32(leave);
  }
  w.put(Op.end);
  return unitsAt;
}

/**
 * An i32 in [-2^27, 2^27) as a signed LEB128 of exactly 5 bytes (a valid, padded encoding: the last
 * byte's high bits extend the sign), so that a safe point's charge can be written once the size of
 * the code it guards is known.
 */
export function putPaddedS32(w: ByteWriter, value: number): void {
  if (value < -(2 ** 27) || value >= 2 ** 27) throw new Error(`loader bug: padded charge ${value} out of range`);
  w.put((value & 0x7f) | 0x80);
  w.put(((value >> 7) & 0x7f) | 0x80);
  w.put(((value >> 14) & 0x7f) | 0x80);
  w.put(((value >> 21) & 0x7f) | 0x80);
  w.put((value >> 28) & 0x7f);
}

/** Rewrites the padded charge written at `at` (by emitSafePoint) to `units`. */
export function patchSafePoint(w: ByteWriter, at: number, units: number): void {
  const end = w.length;
  w.length = at;
  putPaddedS32(w, -units);
  w.length = end;
}

/** A load or store as a call of its access helper: `[local.get tlb;] [i32.const K;] call` (the TLB's address only under the variant helperTlbArgument). */
export function emitAccessCall(w: ByteWriter, layout: CodeLayout, opcode: number, offset: number, tlb: number): void {
  w.reserve(MOST_BYTES);
  if (layout.helperTlbArgument) {
    w.put(Op.localGet);
    w.putU32(tlb);
  }
  if (offset !== 0) {
    w.put(Op.i32Const);
    w.putS32(offset);
  }
  w.put(Op.call);
  w.putU32(accessHelper(layout, opcode, offset !== 0));
}

/** `tlb = global tlb`, at a function's entry. */
export function emitTlbLocal(w: ByteWriter, layout: CodeLayout, local: number): void {
  w.reserve(MOST_BYTES);
  w.put(Op.globalGet);
  w.putU32(layout.tlbGlobal);
  w.put(Op.localSet);
  w.putU32(local);
}

/** `i32.const n; call f`: a segment index pushed for a call that takes it last; then the groups in `clears` end. */
export function emitConstCall(w: ByteWriter, n: number, f: number, clears: readonly number[] = NONE): void {
  w.reserve(MOST_BYTES);
  w.put(Op.i32Const);
  w.putS32(n);
  w.put(Op.call);
  w.putU32(f);
  endGroups(w, clears);
}

/** `call f`, then the groups in `clears` end. */
export function emitCall(w: ByteWriter, f: number, clears: readonly number[] = NONE): void {
  w.reserve(MOST_BYTES);
  w.put(Op.call);
  w.putU32(f);
  endGroups(w, clears);
}


/** A group hoisted to a loop's header (loop-groups.ts HoistedGroup): what its check covers. */
export interface HoistedCheck {
  /** The local anchoring the span, or -1: the span is the page at `lo`. */
  readonly local: number;
  readonly lo: number;
  readonly span: number;
  readonly write: boolean;
}

/**
 * Before a loop with hoisted groups: their locals zeroed, so that the header checks them at the
 * loop's first iteration and nothing a local held before the loop is used in it.
 */
export function emitHoistedClears(w: ByteWriter, clears: readonly number[]): void {
  endGroups(w, clears);
}

/**
 * At a loop's header, after its safe point: `if h == 0`, the group's span checked as a group head
 * checks it (mmu-sequences.ts emitGroupHead) and `h` set to its physical address when the check
 * holds; left 0 otherwise (its members then take their helpers, which fill the TLB, and the next
 * iteration checks again). No access is made and nothing here can enter the kernel.
 */
export function emitHoistedCheck(w: ByteWriter, marks: SequenceMarks, layout: CodeLayout, group: HoistedCheck, locals: GroupLocals): void {
  w.reserve(MOST_BYTES * 2);
  const half = group.write ? TLB_WRITE_OFFSET : 0;
  w.put(Op.localGet);
  w.putU32(locals.physical);
  w.put(Op.i32Eqz);
  marks.putIf(w, 0);
  w.put(EMPTY_BLOCK);
  if (group.local < 0) {
    // A constant page P: its entry's place and tag are constants.
    const page = group.lo;
    translateConstant(w, layout, page, locals, half);
    marks.putIf(w, 1);
    w.put(EMPTY_BLOCK);
    homeAddress(w, layout, locals, page);
  } else {
    // As for a group head; L + lo below 0 makes a span that crosses 2^32 (whose compare fails)
    // or lies wholly past it, where every member's address (C < 0, K = 0: access-groups.ts)
    // wrapped the same way.
    emitSpanCheck(w, layout, locals, group.local, group.lo, group.span, half);
    marks.putIf(w, 1);
    w.put(EMPTY_BLOCK);
    homeAddress(w, layout, locals, null);
  }
  w.put(Op.localSet);
  w.putU32(locals.physical);
  w.put(Op.end);
  w.put(Op.end);
}
