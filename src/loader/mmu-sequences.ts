import { PAGE_SHIFT, PAGE_SIZE, TLB_BYTES, TLB_INDEX_MASK } from "../kernel/constants.ts";
import { accessHelper, type CodeLayout, type MemoryOp } from "./output-layout.ts";
import type { ByteWriter } from "./wasm/byte-writer.ts";
import { EMPTY_BLOCK } from "./wasm/value-types.ts";

/**
 * The code the rewriter puts in place of each memory instruction and at each safe point, written
 * straight into the output as bytes. docs/LOADER.md shows the sequences and why they are correct.
 */

const Op = {
  if: 0x04, else: 0x05, end: 0x0b, call: 0x10, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  globalGet: 0x23, globalSet: 0x24, i32Load: 0x28, i32Const: 0x41,
  i32Eq: 0x46, i32LtS: 0x48, i32LtU: 0x49, i32Add: 0x6a, i32Sub: 0x6b, i32And: 0x71, i32Or: 0x72, i32ShrU: 0x76,
} as const;

/** The scratch locals a translation uses: the effective address and the TLB entry's address. */
export interface AccessLocals {
  readonly address: number;
  readonly entry: number;
  /** A local holding the TLB's address (loaded once at the function's entry), or -1 to read the global. */
  readonly tlb: number;
}

/**
 * Whether `a = ptr + K` may have wrapped past 4 GiB: a wrapped address is below K, and must
 * fault rather than reach the low pages (page 0 may be in a TLB: docs/MEMORY.md "Page 0").
 */
function needsWrapCheck(offset: number): boolean {
  return offset !== 0;
}

/**
 * With the effective address's operand on the stack: leaves `a` in locals.address,
 * `entry = tlb + ((a >>> 9) & mask)` in locals.entry, and `tag[entry + tlbOffset] == key` on
 * the stack, where key is the page of the access's last byte (and bit 0 set if `a` wrapped).
 */
function translate(w: ByteWriter, layout: CodeLayout, bytes: number, offset: number, locals: AccessLocals, tlbOffset: number): void {
  if (offset !== 0) {
    w.u8(Op.i32Const);
    w.s32(offset);
    w.u8(Op.i32Add);
  }
  w.u8(Op.localTee);
  w.u32(locals.address);
  w.u8(Op.i32Const);
  w.u8(PAGE_SHIFT - 3);
  w.u8(Op.i32ShrU);
  w.u8(Op.i32Const);
  w.s32(TLB_INDEX_MASK);
  w.u8(Op.i32And);
  if (locals.tlb >= 0) {
    w.u8(Op.localGet);
    w.u32(locals.tlb);
  } else {
    w.u8(Op.globalGet);
    w.u32(layout.tlbGlobal);
  }
  w.u8(Op.i32Add);
  w.u8(Op.localTee);
  w.u32(locals.entry);
  w.u8(Op.i32Load);
  w.u8(2);
  w.u32(tlbOffset);
  w.u8(Op.localGet);
  w.u32(locals.address);
  if (bytes > 1) {
    w.u8(Op.i32Const);
    w.u8(bytes - 1);
    w.u8(Op.i32Add);
  }
  w.u8(Op.i32Const);
  w.s32(-PAGE_SIZE);
  w.u8(Op.i32And);
  if (needsWrapCheck(offset)) {
    w.u8(Op.localGet);
    w.u32(locals.address);
    w.u8(Op.i32Const);
    w.s32(offset);
    w.u8(Op.i32LtU);
    w.u8(Op.i32Or);
  }
  w.u8(Op.i32Eq);
}

/** `a + addend[entry]`: the physical address of a hit. */
function physicalAddress(w: ByteWriter, locals: AccessLocals, addendOffset: number): void {
  w.u8(Op.localGet);
  w.u32(locals.address);
  w.u8(Op.localGet);
  w.u32(locals.entry);
  w.u8(Op.i32Load);
  w.u8(2);
  w.u32(addendOffset);
  w.u8(Op.i32Add);
}

/** `T.load align offset=K` with its address operand on the stack. */
export function emitLoad(w: ByteWriter, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: AccessLocals): void {
  translate(w, layout, op.kind.bytes, offset, locals, 0);
  w.u8(Op.if);
  w.u8(op.valueType);
  physicalAddress(w, locals, 4);
  w.u8(opcode);
  w.u32(align);
  w.u8(0);
  w.u8(Op.else);
  w.u8(Op.localGet);
  w.u32(locals.address);
  w.u8(Op.i32Const);
  w.s32(offset);
  w.u8(Op.call);
  w.u32(layout.slowPaths[op.slowPath]!);
  if (op.reinterpret !== null) w.u8(op.reinterpret);
  w.u8(Op.end);
}

/**
 * `T.store align offset=K` with its address and value operands on the stack. The value goes to
 * a local first, so nothing runs between the translation and the access.
 */
export function emitStore(w: ByteWriter, layout: CodeLayout, op: MemoryOp, opcode: number, align: number, offset: number, locals: AccessLocals, value: number): void {
  w.u8(Op.localSet);
  w.u32(value);
  translate(w, layout, op.kind.bytes, offset, locals, TLB_BYTES);
  w.u8(Op.if);
  w.u8(EMPTY_BLOCK);
  physicalAddress(w, locals, TLB_BYTES + 4);
  w.u8(Op.localGet);
  w.u32(value);
  w.u8(opcode);
  w.u32(align);
  w.u8(0);
  w.u8(Op.else);
  w.u8(Op.localGet);
  w.u32(locals.address);
  w.u8(Op.i32Const);
  w.s32(offset);
  w.u8(Op.localGet);
  w.u32(value);
  if (op.reinterpret !== null) w.u8(op.reinterpret);
  w.u8(Op.call);
  w.u32(layout.slowPaths[op.slowPath]!);
  w.u8(Op.end);
}

/**
 * A safe point: `fuel = fuel - 1; if fuel < 0 then fuel = safe_point()`. safe_point may suspend
 * the process (JSPI) when its slice is over.
 */
export function emitSafePoint(w: ByteWriter, layout: CodeLayout): void {
  const fuel = layout.fuelGlobal;
  w.u8(Op.globalGet);
  w.u32(fuel);
  w.u8(Op.i32Const);
  w.u8(1);
  w.u8(Op.i32Sub);
  w.u8(Op.globalSet);
  w.u32(fuel);
  w.u8(Op.globalGet);
  w.u32(fuel);
  w.u8(Op.i32Const);
  w.u8(0);
  w.u8(Op.i32LtS);
  w.u8(Op.if);
  w.u8(EMPTY_BLOCK);
  w.u8(Op.call);
  w.u32(layout.safePoint);
  w.u8(Op.globalSet);
  w.u32(fuel);
  w.u8(Op.end);
}

/** A load or store as a call of its access helper: `local.get tlb; [i32.const K]; call`. */
export function emitAccessCall(w: ByteWriter, layout: CodeLayout, opcode: number, offset: number, tlb: number): void {
  w.u8(Op.localGet);
  w.u32(tlb);
  if (offset !== 0) {
    w.u8(Op.i32Const);
    w.s32(offset);
  }
  w.u8(Op.call);
  w.u32(accessHelper(layout, opcode, offset !== 0));
}

/** `tlb = global tlb`, at a function's entry. */
export function emitTlbLocal(w: ByteWriter, layout: CodeLayout, local: number): void {
  w.u8(Op.globalGet);
  w.u32(layout.tlbGlobal);
  w.u8(Op.localSet);
  w.u32(local);
}

/** `i32.const n; call f`: a segment index pushed for a call that takes it last. */
export function emitConstCall(w: ByteWriter, n: number, f: number): void {
  w.u8(Op.i32Const);
  w.s32(n);
  w.u8(Op.call);
  w.u32(f);
}

export function emitCall(w: ByteWriter, f: number): void {
  w.u8(Op.call);
  w.u32(f);
}
