/**
 * Learning which safe point is a function's entry from the traces (src/kernel/debug-activations.ts),
 * on synthetic traces (innermost first; function, offset): a call from a loop, recursion, a call
 * again from the same site after a loop header, a return and another call at the same depth, and a
 * gap in what was seen.
 */
import { describe, expect, it } from "vitest";
import { Activations } from "../../src/kernel/debug-activations.ts";

/** Frames outermost first, as a stack is written; the trace lists them innermost first. */
const trace = (...frames: Array<[number, number]>) => ({ frames: frames.reverse().map(([fn, offset]) => ({ function: fn, offset })), truncated: false });

describe("entries learned from traces", () => {
  it("tells a new activation from one going on, through loops, returns and recursion", () => {
    const a = new Activations();
    a.lostSight(false);
    expect(a.observe(trace([0, 10]))).toBe(true); // main's entry
    expect(a.observe(trace([0, 40]))).toBe(false); // main's loop header
    expect(a.observe(trace([0, 55], [1, 100]))).toBe(true); // f called from the loop: its entry
    expect(a.observe(trace([0, 55], [1, 130]))).toBe(false); // f's loop
    expect(a.observe(trace([0, 40]))).toBe(false); // back at main's loop header
    expect(a.observe(trace([0, 55], [1, 100]))).toBe(true); // f again from the same site
    expect(a.observe(trace([0, 55], [1, 120], [1, 100]))).toBe(true); // f recursing
    expect(a.observe(trace([0, 55], [1, 120], [1, 120], [1, 100]))).toBe(true); // deeper: same callers, deeper
    expect(a.observe(trace([0, 55], [1, 120], [1, 130]))).toBe(false); // the inner one returned: its caller loops
    expect(a.observe(trace([0, 70], [2, 300]))).toBe(true); // another function at f's depth, another site
  });

  it("after a gap, calls new only what is known to be an entry, and learns nothing wrong", () => {
    const a = new Activations();
    a.lostSight(true);
    expect(a.observe(trace([0, 40], [1, 130]))).toBe(false); // attached in f's loop: not its entry
    expect(a.observe(trace([0, 40], [1, 130]))).toBe(false);
    expect(a.observe(trace([0, 40]))).toBe(false);
    expect(a.observe(trace([0, 55], [1, 100]))).toBe(true); // now seen entering f
    a.lostSight(true);
    expect(a.observe(trace([0, 55], [1, 100]))).toBe(true); // a known entry, gap or not
    expect(a.observe(trace([0, 55], [1, 130]))).toBe(false);
  });

  it("compares nothing when a trace was cut", () => {
    const a = new Activations();
    a.lostSight(false);
    expect(a.observe({ ...trace([0, 10], [1, 100]), truncated: true })).toBe(false);
    expect(a.observe(trace([0, 10], [1, 100]))).toBe(false);
  });
});
