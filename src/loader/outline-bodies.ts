import { slotsOf, type OutlinedLoop } from "./outline-plan.ts";
import { InstructionWalker } from "./outline-walk.ts";
import type { OutlinedLoops } from "./rewrite-body.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";
import { I32 } from "./wasm/value-types.ts";

/**
 * Loop outlining's bodies (plan: outline-plan.ts): a function with outlined loops becomes, still
 * in the original's terms (its index spaces, untranslated accesses), a body where each outermost
 * outlined loop is a dispatch loop calling the loop's new function, and one body per outlined
 * loop. The rewriter then translates each as any function (rewrite-code.ts): the software MMU,
 * safe points and fuel are the same for them, so nothing escapes the seal by being moved.
 *
 * An outlined loop `G` takes the locals of its function it uses as parameters and gives back
 * those it writes, then a slot per value its exits can carry, then an exit code:
 *   0  leave to be called again (it starts again at its header): its header's safe point called
 *      the kernel and got fuel back, or (tests) the header ran `iterations` times;
 *   1  the loop ended: its values are in the slots;
 *   2+j  a branch to the j-th label around the loop (0 the innermost; the last is the function's
 *        own, which `return` becomes), its value, if any, in a slot.
 * Inside G the labels around the loop are blocks of the same value types, so every branch in the
 * loop keeps its depth; a `return` becomes a branch to the function's label; local indices are
 * renumbered to G's. The caller:
 *   loop
 *     local.get (the locals G takes); call G; local.set code, the slots, the locals G gives back
 *     local.get code; i32.eqz; br_if 0
 *   end
 *   if code >= 2: for each label j: if code == 2+j: push its value from its slot; br j+2
 *   push the loop's values from their slots
 * Loops outlined inside an outlined loop are dispatched from its function the same way.
 */

export interface OutlinedBodies {
  /** The function's new body (local declarations, then code), and each of its outlined loops' in plan order, with where each has its dispatch loops (no safe point) and its own header (rewrite-body.ts OutlinedLoops). */
  readonly caller: Uint8Array;
  readonly callerLoops: OutlinedLoops;
  readonly loops: ReadonlyArray<{ readonly loop: OutlinedLoop; readonly body: Uint8Array; readonly loops: OutlinedLoops }>;
}

interface Context {
  /** The function's local index of each of the parent's, for an outlined loop's body; null: the parent itself. */
  readonly map: ReadonlyMap<number, number> | null;
  /** For an outlined loop's body: how many labels are around the loop (its function's included); -1 for the parent's body. */
  readonly labels: number;
  /** Locals this body declares besides the parent's (their types), and the index of the next. */
  readonly extra: number[];
  nextLocal: number;
  /** Where this body's dispatch loops start in the code written for it. */
  readonly dispatches: number[];
}

export function outlineBodies(bytes: Uint8Array, start: number, end: number, paramCount: number, planned: readonly OutlinedLoop[], iterations: number): OutlinedBodies {
  const walker = new InstructionWalker(bytes);
  // The plan's offsets are from the body's start.
  const loops = planned.map((loop) => ({ ...loop, at: start + loop.at, end: start + loop.end }));
  const declared = walker.declarations(start, end);
  const writer = new Outliner(bytes, walker, loops, end);
  const context: Context = { map: null, labels: -1, extra: [], nextLocal: paramCount + declared.count, dispatches: [] };
  const code = new ByteWriter(end - start + 256);
  writer.copy(context, declared.end, end, code);
  const caller = new ByteWriter(code.length + 64);
  caller.u32(declared.groups + context.extra.length);
  caller.copy(bytes, declared.start, declared.end);
  for (const type of context.extra) {
    caller.u8(1);
    caller.u8(type);
  }
  const shift = caller.length;
  caller.bytes(code.view());
  const callerLoops = { dispatches: new Set(context.dispatches.map((at) => at + shift)), leaving: new Map<number, number>() };
  return { caller: caller.take(), callerLoops, loops: loops.map((loop) => writer.loopBody(loop, iterations)) };
}

class Outliner {
  private readonly bytes: Uint8Array;
  private readonly walker: InstructionWalker;
  /** The function's outlined loops, in order of appearance. */
  private readonly loops: readonly OutlinedLoop[];
  private readonly end: number;

  constructor(bytes: Uint8Array, walker: InstructionWalker, loops: readonly OutlinedLoop[], end: number) {
    this.bytes = bytes;
    this.walker = walker;
    this.loops = loops;
    this.end = end;
  }

  /** Copies the code in [from, to) for `context`, each outlined loop met replaced by its dispatch. */
  copy(context: Context, from: number, to: number, out: ByteWriter): void {
    const { bytes, walker } = this;
    let depth = 0;
    let next = this.loops.findIndex((l) => l.at >= from);
    let at = from;
    let run = from;
    while (at < to) {
      const loop = next >= 0 ? this.loops[next] : undefined;
      if (loop !== undefined && loop.at === at) {
        out.copy(bytes, run, at);
        this.dispatch(context, loop, out);
        at = run = loop.end;
        while (next < this.loops.length && this.loops[next]!.at < loop.end) next++;
        if (next >= this.loops.length) next = -1;
        continue;
      }
      const after = walker.step(at, this.end);
      if (after < 0) throw new Error(`loader bug: outlining met an instruction it cannot copy at ${at}`);
      const op = walker.op;
      if (op === 0x02 || op === 0x03 || op === 0x04) depth++;
      else if (op === 0x0b) depth--;
      else if (context.map !== null && (op === 0x20 || op === 0x21 || op === 0x22)) {
        const local = context.map.get(walker.index);
        if (local === undefined) throw new Error(`loader bug: an outlined loop uses local ${walker.index}, which it does not take`);
        out.copy(bytes, run, at);
        out.u8(op);
        out.u32(local);
        run = after;
      } else if (context.labels >= 0 && op === 0x0f) {
        // return: a branch to the label that stands for the function's.
        out.copy(bytes, run, at);
        out.u8(0x0c);
        out.u32(depth + context.labels);
        run = after;
      }
      at = after;
    }
    out.copy(bytes, run, to);
  }

  /** The caller's side of an outlined loop: call it until it leaves, then go where it left for. */
  private dispatch(context: Context, loop: OutlinedLoop, out: ByteWriter): void {
    const local = (l: number) => (context.map === null ? l : context.map.get(l)!);
    const code = declare(context, I32);
    const slots = loop.slots.map((t) => declare(context, t));
    context.dispatches.push(out.length);
    out.u8(0x03);
    out.u8(0x40);
    for (const l of loop.locals) localOp(out, 0x20, local(l));
    out.u8(0x10);
    out.u32(loop.index);
    localOp(out, 0x21, code);
    for (let s = slots.length - 1; s >= 0; s--) localOp(out, 0x21, slots[s]!);
    for (let w = loop.written.length - 1; w >= 0; w--) localOp(out, 0x21, local(loop.written[w]!));
    localOp(out, 0x20, code);
    out.u8(0x45); // i32.eqz
    out.u8(0x0d);
    out.u8(0);
    out.u8(0x0b);
    // An exit to a label around the loop.
    localOp(out, 0x20, code);
    i32Const(out, 2);
    out.u8(0x4f); // i32.ge_u
    out.u8(0x04);
    out.u8(0x40);
    loop.labels.forEach((carries, j) => {
      localOp(out, 0x20, code);
      i32Const(out, 2 + j);
      out.u8(0x46); // i32.eq
      out.u8(0x04);
      out.u8(0x40);
      if (carries !== 0) localOp(out, 0x20, slots[slotsOf(loop.slots, [carries])[0]!]!);
      out.u8(0x0c);
      out.u32(j + 2);
      out.u8(0x0b);
    });
    out.u8(0x00); // unreachable: no other code
    out.u8(0x0b);
    for (const s of slotsOf(loop.slots, loop.fallthrough)) localOp(out, 0x20, slots[s]!);
  }

  /**
   * An outlined loop's function body: local declarations, then code. It leaves to be called again
   * when its header's safe point's call gave it fuel (rewrite-body.ts writes that branch: every
   * 10,000 units of fuel, 640 KB of code run), or, with `iterations` > 0 (tests), after that many
   * runs of its header, counted in a local.
   */
  loopBody(loop: OutlinedLoop, iterations: number): { loop: OutlinedLoop; body: Uint8Array; loops: OutlinedLoops } {
    const map = new Map<number, number>(loop.locals.map((l, i) => [l, i]));
    const m = loop.labels.length;
    const context: Context = { map, labels: m, extra: [], nextLocal: loop.locals.length, dispatches: [] };
    const count = iterations > 0 ? declare(context, I32) : -1;
    const code = declare(context, I32);
    const slots = loop.slots.map((t) => declare(context, t));
    const out = new ByteWriter(loop.end - loop.at + 256);
    if (iterations > 0) {
      i32Const(out, iterations);
      localOp(out, 0x21, count);
    }
    out.u8(0x02); // the block every exit leaves by
    out.u8(0x40);
    for (let j = m - 1; j >= 0; j--) {
      out.u8(0x02);
      out.u8(loop.labels[j] === 0 ? 0x40 : loop.labels[j]!);
    }
    const bodyStart = this.walker.step(loop.at, this.end);
    const header = out.length;
    out.copy(this.bytes, loop.at, bodyStart); // loop and its block type
    if (iterations > 0) {
      // The header: after `iterations` runs, leave (code 0) to be called again.
      localOp(out, 0x20, count);
      i32Const(out, -1);
      out.u8(0x6a); // i32.add
      localOp(out, 0x22, count);
      out.u8(0x45);
      out.u8(0x04);
      out.u8(0x40);
      i32Const(out, 0);
      localOp(out, 0x21, code);
      out.u8(0x0c);
      out.u32(m + 2);
      out.u8(0x0b);
    }
    this.copy(context, bodyStart, loop.end - 1, out);
    out.u8(0x0b);
    // The loop ended: its values to their slots.
    const fallthrough = slotsOf(loop.slots, loop.fallthrough);
    for (let s = fallthrough.length - 1; s >= 0; s--) localOp(out, 0x21, slots[fallthrough[s]!]!);
    i32Const(out, 1);
    localOp(out, 0x21, code);
    out.u8(0x0c);
    out.u32(m);
    for (let j = 0; j < m; j++) {
      out.u8(0x0b); // the label j stands for: a branch to it arrives here
      if (loop.labels[j] !== 0) localOp(out, 0x21, slots[slotsOf(loop.slots, [loop.labels[j]!])[0]!]!);
      i32Const(out, 2 + j);
      localOp(out, 0x21, code);
      if (j < m - 1) {
        out.u8(0x0c);
        out.u32(m - 1 - j);
      }
    }
    out.u8(0x0b);
    for (const w of loop.written) localOp(out, 0x20, map.get(w)!);
    for (const s of slots) localOp(out, 0x20, s);
    localOp(out, 0x20, code);
    out.u8(0x0b);
    const body = new ByteWriter(out.length + 16 + 2 * context.extra.length);
    body.u32(context.extra.length);
    for (const type of context.extra) {
      body.u8(1);
      body.u8(type);
    }
    const shift = body.length;
    body.bytes(out.view());
    // From inside its safe point's `if` at the header: the if, the loop, the m labels, then the block every exit leaves by (code is still 0 there).
    const leaving = new Map(iterations > 0 ? [] : [[header + shift, m + 2]]);
    return { loop, body: body.take(), loops: { dispatches: new Set(context.dispatches.map((at) => at + shift)), leaving } };
  }
}

function declare(context: Context, type: number): number {
  context.extra.push(type);
  return context.nextLocal++;
}

function localOp(out: ByteWriter, op: number, local: number): void {
  out.u8(op);
  out.u32(local);
}

function i32Const(out: ByteWriter, value: number): void {
  out.u8(0x41);
  out.s32(value);
}
