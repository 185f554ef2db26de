/**
 * A partial model of the operand stack while a function body is rewritten, for one question: where
 * did a memory instruction's address come from? Each tracked value carries a *base key*: the local
 * or global it was read from, or the page of the constant it is, followed through the address
 * arithmetic compilers emit (`base + index * size`, `base - k`). Anything the model does not
 * follow (control flow, calls, most instructions) makes it forget what is below, so a pop past
 * what it tracks gives "no base". The keys only group accesses for the page caches
 * (docs/LOADER.md "Page caches"); nothing depends on them for correctness.
 */

/** No known base. */
export const NO_BASE = -1;
/** Keys: a local's index; a global's index plus GLOBAL_BASE; a constant address's page plus CONST_BASE. */
export const GLOBAL_BASE = 1 << 20;
export const CONST_BASE = 1 << 21;

const DEPTH = 64;

/** Operand-stack effects of the one-byte opcodes the model follows: pops in the high nibble, pushes in the low. */
const effects = new Uint8Array(256);
const UNFOLLOWED = 0xff;
effects.fill(UNFOLLOWED);
function effect(pops: number, pushes: number, ...opcodes: number[]): void {
  for (const op of opcodes) effects[op] = (pops << 4) | pushes;
}
function span(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}
effect(0, 0, 0x01); // nop
effect(1, 0, 0x1a); // drop
effect(3, 1, 0x1b); // select
effect(1, 0, 0x24); // global.set
effect(1, 1, ...span(0x28, 0x35)); // loads
effect(2, 0, ...span(0x36, 0x3e)); // stores
effect(0, 1, 0x3f, 0x42, 0x43, 0x44); // memory.size, i64/f32/f64.const
effect(1, 1, 0x40, 0x45, 0x50, 0x67, 0x68, 0x69, 0x79, 0x7a, 0x7b); // memory.grow, eqz, clz, ctz, popcnt
effect(2, 1, ...span(0x46, 0x4f), ...span(0x51, 0x66)); // comparisons
effect(2, 1, ...span(0x6c, 0x78), ...span(0x7c, 0x8a), ...span(0x92, 0x98), ...span(0xa0, 0xa6)); // binary arithmetic
effect(1, 1, ...span(0x8b, 0x91), ...span(0x99, 0x9f), ...span(0xa7, 0xc4)); // unary arithmetic, conversions

export class OperandTracker {
  private readonly keys = new Int32Array(DEPTH);
  /** Whether each tracked value is an i32.const (its key is then a page's). */
  private readonly constant = new Uint8Array(DEPTH);
  private height = 0;

  /** Forgets everything: what follows starts from an unknown stack. */
  reset(): void {
    this.height = 0;
  }

  /** The base key of the value `depth` below the top (0: the top). */
  baseAt(depth: number): number {
    const i = this.height - 1 - depth;
    return i >= 0 ? this.keys[i]! : NO_BASE;
  }

  localGet(local: number): void {
    this.push(local, 0);
  }

  localSet(): void {
    this.pop();
  }

  localTee(local: number): void {
    this.pop();
    this.push(local, 0);
  }

  globalGet(global: number): void {
    this.push(GLOBAL_BASE + global, 0);
  }

  i32Const(value: number): void {
    this.push(CONST_BASE + (value >>> 12), 1);
  }

  /** i32.add and i32.sub keep the pointer's base: the operand that is not a constant or has a base. */
  i32AddOrSub(sub: boolean): void {
    const yConst = this.isConstantAt(0);
    const y = this.pop();
    const xConst = this.isConstantAt(0);
    const x = this.pop();
    let key = NO_BASE;
    if (x !== NO_BASE && !xConst) key = x;
    else if (!sub && y !== NO_BASE && !yConst) key = y;
    else if (x !== NO_BASE) key = x;
    else if (!sub) key = y;
    this.push(key, 0);
  }

  /** Any other one-byte opcode (after its immediates): its stack effect, or a reset. */
  other(opcode: number): void {
    const e = effects[opcode]!;
    if (e === UNFOLLOWED) {
      this.height = 0;
      return;
    }
    for (let i = e >> 4; i > 0; i--) this.pop();
    for (let i = e & 15; i > 0; i--) this.push(NO_BASE, 0);
  }

  private isConstantAt(depth: number): boolean {
    const i = this.height - 1 - depth;
    return i >= 0 && this.constant[i] === 1;
  }

  private push(key: number, constant: number): void {
    if (this.height === DEPTH) {
      // Deeper than anything an address computation needs: keep the top half.
      this.keys.copyWithin(0, DEPTH / 2, DEPTH);
      this.constant.copyWithin(0, DEPTH / 2, DEPTH);
      this.height = DEPTH / 2;
    }
    this.keys[this.height] = key;
    this.constant[this.height++] = constant;
  }

  private pop(): number {
    if (this.height === 0) return NO_BASE;
    return this.keys[--this.height]!;
  }
}
