// The access helpers (src/loader/rewrite-helpers.ts accessHelperFunction, what a huge function
// calls for every access) take a hit on the plain tag at `a + home`, as the inline fast path does
// (docs/LOADER.md "Home pages"), not at the entry's addend: the kernel writes the plain tag only
// for the page's home frame, so the addend of such an entry is always `home` and its load would
// only sit on the access's critical path.
import { describe, expect, it } from "vitest";
import { TLB_WRITE_OFFSET, TLB_INDEX_SHIFT } from "../../src/kernel/constants.ts";
import { FRAME_KERNEL } from "../../src/kernel/frame-allocator.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

// Reads mem[0x3000] (which the test sets to 42) and adds one to it 100 times through computed
// addresses; traps unless it read 42 and wrote where it reads.
const program = wat(`(module
  (memory 1)
  (func (export "_start") (local $i i32) (local $p i32)
    (local.set $p (i32.const 0x3000))
    (if (i32.ne (i32.load (local.get $p)) (i32.const 42)) (then unreachable))
    (loop $again
      (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100))))
    (if (i32.ne (i32.load (local.get $p)) (i32.const 142)) (then unreachable))))`);

// Every access through its helper; and a huge function's called group checks (the variant
// hugeFunctionGroups, with every function huge), whose members access at what the check returned.
const FORMS = [
  ["the access helpers", { accessCalls: "always" }],
  ["the group checks", { allCallsMinBody: 1, hugeFunctionGroups: true }],
] as const;

describe.each(FORMS)("%s on a home page", (_form, rewrite) => {
  it("read and write `a + home`, never the entry's addend", async () => {
    const t = testMachine({ loader: { rewrite } });
    const p = t.kernel.spawn(await t.loader.load(program, "home-helpers"));
    const physical = p.space.translate(0x3000, true);
    expect(physical).toBe((0x3000 + p.space.tlb.home) >>> 0);
    t.machine.memory.words[physical >>> 2] = 42;
    // The entry's addends (read and write halves) made to name a decoy frame, its plain tags kept:
    // a helper that reads the addend would read and write the decoy instead of the page.
    const decoy = t.kernel.frames.allocate(FRAME_KERNEL)!;
    const entry = (p.space.tlb.base + ((0x3000 >>> TLB_INDEX_SHIFT) & p.space.tlb.mask)) >>> 2;
    expect(t.machine.memory.words[entry]).toBe(0x3000);
    expect(t.machine.memory.words[entry + TLB_WRITE_OFFSET / 4]).toBe(0x3000);
    t.machine.memory.words[entry + 1] = decoy * 4096 - 0x3000;
    t.machine.memory.words[entry + TLB_WRITE_OFFSET / 4 + 1] = decoy * 4096 - 0x3000;
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    expect(t.machine.memory.words[(decoy * 4096) >>> 2]).toBe(0);
  });
});
