import { PAGE_SHIFT, PAGE_SIZE, TLB_BYTES, TLB_INDEX_MASK } from "../../kernel/constants.ts";
import { findAccessKind, slowPathOf, type AccessKind, type ValueType } from "../../kernel/mmu-abi.ts";
import { addLocal, binaryen, type BinaryenModule, type ExpressionRef, type FunctionRef } from "./binaryen.ts";

export const PHYSICAL_MEMORY = "dogma$physical";
export const TLB_GLOBAL = "dogma$tlb";
export const mmuFunction = (name: string): string => `dogma$${name}`;

export const typeOf: Record<ValueType, number> = { i32: binaryen.i32, i64: binaryen.i64, f32: binaryen.f32, f64: binaryen.f64 };

export function valueTypeOf(type: number): ValueType | null {
  if (type === binaryen.i32) return "i32";
  if (type === binaryen.i64) return "i64";
  if (type === binaryen.f32) return "f32";
  if (type === binaryen.f64) return "f64";
  return null;
}

/**
 * Scratch locals of one function. `address` and `entry` live only inside one translation, which
 * evaluates nothing else, so one of each serves every access. A store's pointer and value must
 * survive the evaluation of its value operand, which may hold stores of its own: they get a
 * slot above every slot that operand uses.
 */
export class ScratchLocals {
  private readonly func: FunctionRef;
  private addressLocal = -1;
  private entryLocal = -1;
  private readonly slots = new Map<string, number>();

  constructor(func: FunctionRef) {
    this.func = func;
  }

  get address(): number {
    if (this.addressLocal < 0) this.addressLocal = addLocal(this.func, binaryen.i32);
    return this.addressLocal;
  }

  get entry(): number {
    if (this.entryLocal < 0) this.entryLocal = addLocal(this.func, binaryen.i32);
    return this.entryLocal;
  }

  /** The pointer (role "pointer") or value (role "value") local of a store at `level`. */
  slot(level: number, role: "pointer" | "value", type: number): number {
    const key = `${level}:${role}:${type}`;
    let index = this.slots.get(key);
    if (index === undefined) {
      index = addLocal(this.func, type);
      this.slots.set(key, index);
    }
    return index;
  }
}

/**
 * Builds the translated form of each memory instruction: a software-TLB lookup inline, and a
 * call to the kernel's slow path on a miss. See docs/LOADER.md for the sequence and its
 * invariants.
 */
export class MemoryRewriter {
  private readonly m: BinaryenModule;
  constructor(module: BinaryenModule) {
    this.m = module;
  }

  /** `T.load offset=K (ptr)` with `ptr` already rewritten. */
  load(kind: AccessKind, ptr: ExpressionRef, offset: number, locals: ScratchLocals): ExpressionRef {
    const m = this.m;
    const type = typeOf[kind.type];
    const a = locals.address;
    const e = locals.entry;
    return m.block(null, [
      m.local.set(a, offset === 0 ? ptr : m.i32.add(ptr, m.i32.const(offset))),
      this.setEntry(a, e),
      m.if(
        this.tagMatches(kind, offset, a, e, 0),
        this.physicalAccess(kind, m.i32.add(m.local.get(a, binaryen.i32), m.i32.load(4, 4, m.local.get(e, binaryen.i32), PHYSICAL_MEMORY))),
        this.slowLoad(kind, m.local.get(a, binaryen.i32), offset),
      ),
    ], type);
  }

  /**
   * `T.store offset=K (ptr) (value)`. Both operands are evaluated into locals first, in
   * WebAssembly's order, so nothing can run between the translation and the access.
   */
  store(kind: AccessKind, ptr: ExpressionRef, value: ExpressionRef, offset: number, level: number, locals: ScratchLocals): ExpressionRef {
    const m = this.m;
    const type = typeOf[kind.type];
    const p = locals.slot(level, "pointer", binaryen.i32);
    const v = locals.slot(level, "value", type);
    const a = locals.address;
    const e = locals.entry;
    return m.block(null, [
      m.local.set(p, ptr),
      m.local.set(v, value),
      m.local.set(a, offset === 0 ? m.local.get(p, binaryen.i32) : m.i32.add(m.local.get(p, binaryen.i32), m.i32.const(offset))),
      this.setEntry(a, e),
      m.if(
        this.tagMatches(kind, offset, a, e, TLB_BYTES),
        this.physicalStore(kind, m.i32.add(m.local.get(a, binaryen.i32), m.i32.load(TLB_BYTES + 4, 4, m.local.get(e, binaryen.i32), PHYSICAL_MEMORY)), m.local.get(v, type)),
        this.slowStore(kind, m.local.get(a, binaryen.i32), offset, m.local.get(v, type)),
      ),
    ], binaryen.none);
  }

  /** The kernel's slow path for a load; a float's bits travel as an integer (see slowPathOf). */
  private slowLoad(kind: AccessKind, address: ExpressionRef, offset: number): ExpressionRef {
    const m = this.m;
    const slow = slowPathOf(kind);
    const call = m.call(mmuFunction(slow.name), [address, m.i32.const(offset)], typeOf[slow.type]);
    if (kind.type === "f32") return m.f32.reinterpret(call);
    if (kind.type === "f64") return m.f64.reinterpret(call);
    return call;
  }

  private slowStore(kind: AccessKind, address: ExpressionRef, offset: number, value: ExpressionRef): ExpressionRef {
    const m = this.m;
    const slow = slowPathOf(kind);
    const bits = kind.type === "f32" ? m.i32.reinterpret(value) : kind.type === "f64" ? m.i64.reinterpret(value) : value;
    return m.call(mmuFunction(slow.name), [address, m.i32.const(offset), bits], binaryen.none);
  }

  accessKind(store: boolean, type: number, bytes: number, signed: boolean): AccessKind | null {
    const valueType = valueTypeOf(type);
    return valueType ? findAccessKind(store, valueType, bytes, signed) : null;
  }

  /** entry = tlb + ((address >>> 9) & mask): the byte offset of the page's read-TLB entry. */
  private setEntry(a: number, e: number): ExpressionRef {
    const m = this.m;
    const index = m.i32.and(m.i32.shr_u(m.local.get(a, binaryen.i32), m.i32.const(PAGE_SHIFT - 3)), m.i32.const(TLB_INDEX_MASK));
    return m.local.set(e, m.i32.add(m.global.get(TLB_GLOBAL, binaryen.i32), index));
  }

  /**
   * The tag compare. Masking keeps the page and the low alignment bits, so an unaligned access
   * misses (it may cross a page; the slow path handles it). When the offset is not zero, an
   * effective address that wrapped past 2^32 is below the offset: that sets bit 0 and forces a
   * miss, and the slow path raises the fault.
   */
  private tagMatches(kind: AccessKind, offset: number, a: number, e: number, tlbOffset: number): ExpressionRef {
    const m = this.m;
    const mask = (~(PAGE_SIZE - 1) | (kind.bytes - 1)) | 0;
    let key = m.i32.and(m.local.get(a, binaryen.i32), m.i32.const(mask));
    if (offset !== 0) key = m.i32.or(key, m.i32.lt_u(m.local.get(a, binaryen.i32), m.i32.const(offset)));
    return m.i32.eq(m.i32.load(tlbOffset, 4, m.local.get(e, binaryen.i32), PHYSICAL_MEMORY), key);
  }

  private physicalAccess(kind: AccessKind, address: ExpressionRef): ExpressionRef {
    const m = this.m;
    const M = PHYSICAL_MEMORY;
    const b = kind.bytes;
    switch (kind.type) {
      case "f32":
        return m.f32.load(0, b, address, M);
      case "f64":
        return m.f64.load(0, b, address, M);
      case "i32":
        if (b === 4) return m.i32.load(0, b, address, M);
        if (b === 2) return kind.signed ? m.i32.load16_s(0, b, address, M) : m.i32.load16_u(0, b, address, M);
        return kind.signed ? m.i32.load8_s(0, b, address, M) : m.i32.load8_u(0, b, address, M);
      case "i64":
        if (b === 8) return m.i64.load(0, b, address, M);
        if (b === 4) return kind.signed ? m.i64.load32_s(0, b, address, M) : m.i64.load32_u(0, b, address, M);
        if (b === 2) return kind.signed ? m.i64.load16_s(0, b, address, M) : m.i64.load16_u(0, b, address, M);
        return kind.signed ? m.i64.load8_s(0, b, address, M) : m.i64.load8_u(0, b, address, M);
    }
  }

  private physicalStore(kind: AccessKind, address: ExpressionRef, value: ExpressionRef): ExpressionRef {
    const m = this.m;
    const M = PHYSICAL_MEMORY;
    const b = kind.bytes;
    switch (kind.type) {
      case "f32":
        return m.f32.store(0, b, address, value, M);
      case "f64":
        return m.f64.store(0, b, address, value, M);
      case "i32":
        if (b === 4) return m.i32.store(0, b, address, value, M);
        return b === 2 ? m.i32.store16(0, b, address, value, M) : m.i32.store8(0, b, address, value, M);
      case "i64":
        if (b === 8) return m.i64.store(0, b, address, value, M);
        if (b === 4) return m.i64.store32(0, b, address, value, M);
        return b === 2 ? m.i64.store16(0, b, address, value, M) : m.i64.store8(0, b, address, value, M);
    }
  }
}
