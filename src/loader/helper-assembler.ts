import { PAGE_SIZE, TLB_AWAY_BIT, TLB_INDEX_SHIFT } from "../kernel/constants.ts";
import type { CodeLayout } from "./output-layout.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";

/** Opcodes the loader's helper functions use. */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, globalGet: 0x23, globalSet: 0x24, i32Load: 0x28,
  i32Const: 0x41, i64Const: 0x42, i32Eqz: 0x45, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtU: 0x4b, i64GtU: 0x56,
  i32Add: 0x6a, i32Sub: 0x6b, i32And: 0x71, i32ShrU: 0x76, i64Add: 0x7c, i64ExtendI32U: 0xad,
  prefixMisc: 0xfc,
} as const;

/** Writes a helper function's body (its local declarations, then code) instruction by instruction. */
export class Assembler {
  readonly w = new ByteWriter(128);
  constructor(locals: readonly number[]) {
    this.w.u32(locals.length);
    for (const type of locals) {
      this.w.u8(1);
      this.w.u8(type);
    }
  }
  op(...bytes: number[]): this {
    for (const b of bytes) this.w.u8(b);
    return this;
  }
  index(op: number, index: number): this {
    this.w.u8(op);
    this.w.u32(index);
    return this;
  }
  get(local: number): this {
    return this.index(Op.localGet, local);
  }
  set(local: number): this {
    return this.index(Op.localSet, local);
  }
  tee(local: number): this {
    return this.index(Op.localTee, local);
  }
  const(value: number): this {
    this.w.u8(Op.i32Const);
    this.w.s32(value);
    return this;
  }
  /** `i64.const value` for a non-negative integer below 2^53. */
  const64(value: number): this {
    this.w.u8(Op.i64Const);
    for (let v = value; ; ) {
      const byte = v % 128;
      v = Math.floor(v / 128);
      if (v === 0 && (byte & 0x40) === 0) return this.op(byte);
      this.w.u8(byte | 0x80);
    }
  }
  load(offset: number): this {
    this.w.u8(Op.i32Load);
    this.w.u8(2);
    this.w.u32(offset);
    return this;
  }
  /** Pushes `tlb + ((address >>> 8) & mask)`, the address of `address`'s TLB entry. */
  entry(layout: CodeLayout, address: number): this {
    return this.index(Op.globalGet, layout.tlbGlobal).get(address).const(TLB_INDEX_SHIFT).op(Op.i32ShrU).const(layout.tlbIndexMask).op(Op.i32And, Op.i32Add);
  }
  /** br_if `depth` unless `length` bytes from `address` stay in its page. */
  missUnlessInPage(address: number, length: number, depth = 0): this {
    return this.get(length).const(PAGE_SIZE).get(address).const(PAGE_SIZE - 1).op(Op.i32And, Op.i32Sub, Op.i32GtU, Op.brIf, depth);
  }
  /**
   * br_if `depth` unless the tag at `entry + tlbOffset` is `address`'s page, home or not (the bit
   * TLB_AWAY_BIT masked off: the callers read the entry's addend, which every valid entry keeps).
   */
  missUnlessTagged(entry: number, tlbOffset: number, address: number, depth = 0): this {
    return this.get(entry).load(tlbOffset).const(~TLB_AWAY_BIT).op(Op.i32And).get(address).const(-PAGE_SIZE).op(Op.i32And, Op.i32Ne, Op.brIf, depth);
  }
  done(): Uint8Array {
    this.w.u8(Op.end);
    return this.w.take();
  }
}
