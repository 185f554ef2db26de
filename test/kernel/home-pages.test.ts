// Home pages (src/kernel/tlb.ts, docs/LOADER.md "Home pages"): a page whose frame is not its home
// frame has the away tag, which rewritten code's fast path never takes; its accesses are served by
// the second tier in the slow path's wrapper, from the entry's addend, without the kernel.
import { describe, expect, it } from "vitest";
import { FRAME_KERNEL } from "../../src/kernel/frame-allocator.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const ROUNDS = 1000;
// mem[0x3004] += mem[0x3000] ROUNDS times, through a computed address (an inline access) and a
// constant one; traps unless the sum is right.
const program = wat(`(module
  (memory 1)
  (func (export "_start") (local $i i32) (local $p i32)
    (local.set $p (i32.const 0x3000))
    (i32.store (local.get $p) (i32.const 7))
    (loop $again
      (i32.store offset=4 (local.get $p) (i32.add (i32.load offset=4 (local.get $p)) (i32.load (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (if (i32.ne (i32.load (i32.const 0x3004)) (i32.const ${7 * ROUNDS})) (then unreachable))))`);

describe("a page away from its home frame", () => {
  it("is read and written right, through the entry's addend, without the kernel after its first fill", async () => {
    const t = testMachine();
    let kernelCalls = 0;
    hookMmu(t.kernel, /^(load|store)_i32$/, (_name, original) => (...args: unknown[]) => {
      kernelCalls++;
      return original(...args);
    });
    const p = t.kernel.spawn(await t.loader.load(program, "away"));
    // Its home frame held by someone else first: the page gets another frame, and the away tag.
    const home = (0x3000 + p.space.tlb.home) >>> 12;
    expect(t.kernel.frames.allocatePreferring(home, FRAME_KERNEL)).toBe(home);
    let away = 0;
    p.space.translate(0x3000, true);
    for (const entry of p.space.tlb.validEntries()) if (entry.address === 0x3000 && !entry.home) away++;
    expect(away).toBe(2);
    expect(p.space.mapping(0x3000)!.frame).not.toBe(home);
    expect(checkInvariants(t.kernel)).toEqual([]);
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    // Far fewer than the 3,000 accesses: the second tier served them (a few fills at most).
    expect(kernelCalls).toBeLessThan(10);
  });
});
