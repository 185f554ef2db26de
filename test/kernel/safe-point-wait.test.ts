// A safe point's slow path calls the plain `safe_point` import, which reads the clock and gives
// fuel back; only when the process must stop there (its slice over) does it answer
// SAFE_POINT_WAIT, for which the loader's helper calls `safe_point_wait`, the suspending import (a
// suspending import costs about 0.5 µs a call and allocates even when it returns at once). Two
// spinning processes of one priority take turns, so the waits happen, and are few.
import { describe, expect, it } from "vitest";
import { SAFE_POINT_WAIT } from "../../src/kernel/mmu-abi.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const ROUNDS = 100_000_000;
const spinner = wat(`(module
  (memory 1)
  (func (export "_start") (local $i i32) (local $x i32)
    (loop $again
      (local.set $x (i32.xor (i32.rotl (local.get $x) (i32.const 5)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (i32.store (i32.const 8192) (local.get $x))))`);

describe("a safe point's slow path", () => {
  it("suspends the process only when it must stop: most calls return fuel through the plain import", async () => {
    const t = testMachine();
    let checks = 0;
    let waits = 0;
    hookMmu(t.kernel, /^safe_point$/, (_name, original) => () => {
      const fuel = original();
      checks++;
      if (fuel === SAFE_POINT_WAIT) waits++;
      return fuel;
    });
    const image = await t.loader.load(spinner, "spinner");
    const order: number[] = [];
    const a = t.kernel.spawn(image);
    const b = t.kernel.spawn(image);
    void a.wait().then(() => order.push(a.pid));
    void b.wait().then(() => order.push(b.pid));
    await t.kernel.run();
    expect(a.outcome).toEqual({ kind: "exited", code: 0 });
    expect(b.outcome).toEqual({ kind: "exited", code: 0 });
    expect(order).toHaveLength(2);
    // Both ran their whole course through plain checks; their slices ended at some of them (a
    // wait each), and those were a small part: a check comes every 10,000 units of fuel.
    expect(waits).toBeGreaterThan(0);
    expect(checks).toBeGreaterThan(2 * ROUNDS / 10_000 - 10);
    expect(waits * 10).toBeLessThan(checks);
  });
});
