import type { Frame, Trace } from "./debug-frames.ts";

/**
 * Which safe point of a function is its entry, learned from the stack traces a debugger's safe
 * points take (debugging.ts). The loader gives no map of its safe points, but while a breakpoint or
 * a step is armed the kernel sees every safe point the process runs, and that is enough:
 *
 * - A frame is a new activation unless the previous trace had the same frames below it, at the
 *   same depth, and the same function at its depth. A call site runs again only after a loop
 *   header of its caller (a safe point, so seen: the previous trace is then shallower), and a
 *   caller's new activation is seen at its own entry (it calls, so it has one); recursion changes
 *   the depth.
 * - The first safe point of a new activation is its function's entry (a function that has any safe
 *   point has one at its entry, before the others), and the entry is the lowest code offset among
 *   its function's safe points.
 *
 * So once seen, an entry is known by its offset alone, even after a gap in what was seen (the
 * first trace after a debugger began to look, a handler the kernel called from its own stack).
 * Before that, without a previous trace to compare with, nothing is called new.
 */
export class Activations {
  /** The last trace; null when safe points went unseen since. */
  private previous: Trace | null = null;
  /** The learned entry of each function: engine index → code offset. */
  private readonly entries = new Map<number, number>();

  /** Safe points went unseen until now; `started` false: the process never ran, its stack is empty. */
  lostSight(started: boolean): void {
    this.previous = started ? null : { frames: [], truncated: false };
  }

  /** Whether the innermost frame of `trace` (at a safe point) is an activation that began since the previous trace. */
  observe(trace: Trace): boolean {
    const top = trace.frames[0]!;
    const entry = this.entries.get(top.function);
    const previous = this.previous;
    this.previous = trace;
    const known = previous !== null && !previous.truncated && !trace.truncated;
    const fresh = known && !continues(previous.frames, trace.frames);
    if (fresh && (entry === undefined || top.offset < entry)) this.entries.set(top.function, top.offset);
    return fresh || top.offset === entry;
  }
}

/**
 * Whether the innermost frame of `now` is the activation that was at the same depth in `before`
 * (both innermost first): every frame below it the same function at the same offset, and the same
 * function at its depth.
 */
function continues(before: readonly Frame[], now: readonly Frame[]): boolean {
  const depth = now.length - 1;
  if (before.length <= depth) return false;
  for (let i = 1; i <= depth; i++) {
    const a = before[before.length - i]!;
    const b = now[now.length - i]!;
    if (a.function !== b.function || a.offset !== b.offset) return false;
  }
  return before[before.length - 1 - depth]!.function === now[0]!.function;
}
