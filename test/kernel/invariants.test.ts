/**
 * The invariant checker (src/kernel/invariants.ts) must see each kind of breakage it claims to:
 * every case here breaks one invariant behind the kernel's back and expects the line that says so.
 */
import { describe, expect, it } from "vitest";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { ALL_RIGHTS } from "../../src/kernel/caps/object-abi.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { FRAME_KERNEL } from "../../src/kernel/frame-allocator.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const program = wat(`(module (memory 1) (func (export "_start")))`);

async function machine() {
  const t = testMachine();
  const image = await t.loader.load(program, "plain");
  const p = t.kernel.spawn(image);
  p.space.write(0x3000, new Uint8Array([1, 2, 3]));
  return { t, p };
}

describe("checkInvariants", () => {
  it("finds nothing wrong on a machine that did nothing wrong", async () => {
    const { t } = await machine();
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  it("sees a page table naming a frame that went back to the allocator", async () => {
    const { t, p } = await machine();
    t.kernel.frames.release(p.space.mapping(0x3000)!.frame);
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/page 0x00003000: maps frame \d+, which is free/);
  });

  it("sees a TLB kept clean for the next process that something wrote into while it was free", async () => {
    const { t, p } = await machine();
    const tlb = p.space.tlb.base;
    t.kernel.kill(p.pid);
    expect(checkInvariants(t.kernel)).toEqual([]);
    t.machine.memory.words[(tlb >>> 2) + 8] = 0x3000;
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/frame \d+, kept clean for a TLB, holds tag 0x00003000 at \+32/);
  });

  it("sees a shared mapping whose owner is gone", async () => {
    const { t, p } = await machine();
    const page = new PageObject(t.kernel.services, t.kernel.services.sharedFrames.allocate()!);
    t.kernel.rootMemory.adopt(page, 1);
    const cap = t.kernel.capability(page, ALL_RIGHTS);
    expect(page.map(p, 0x5000, false, () => true)).toBe("ok");
    expect(checkInvariants(t.kernel)).toEqual([]);
    // Torn down behind the mapping's back (what a lifetime bug would do).
    page.destroyed = true;
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/page 0x00005000: maps frame \d+ of PageObject \(destroyed\), which is gone/);
    page.destroyed = false;
    cap.dispose();
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  it("sees a TLB entry the page table does not back", async () => {
    const { t, p } = await machine();
    p.space.translate(0x3000, false);
    const frame = p.space.mapping(0x3000)!.frame;
    p.space.tlb.fill(true, 0x9000, frame);
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/write TLB entry for 0x00009000 has no page behind it/);
  });

  it("sees a TLB entry whose plain tag says home for a frame that is not its page's home frame", async () => {
    const { t, p } = await machine();
    // Its home frame taken first, the page gets another, with the away tag.
    const home = (0x9000 + p.space.tlb.home) >>> 12;
    expect(t.kernel.frames.allocatePreferring(home, FRAME_KERNEL)).toBe(home);
    p.space.translate(0x9000, false);
    expect(checkInvariants(t.kernel)).toEqual([]);
    // The tag made plain: the fast path would read `a + home`, the frame someone else holds.
    const slot = (p.space.tlb.base + ((0x9000 >>> 8) & p.space.tlb.mask)) >>> 2;
    t.machine.memory.words[slot] = 0x9000;
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/read TLB entry for 0x00009000 says home, but frame \d+ is not its page plus the home addend/);
  });

  it("sees a Memory whose use does not add up", async () => {
    const { t } = await machine();
    const memory = t.kernel.memoryObject(10);
    memory.used += 2;
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/Memory \d+ says it uses 2 pages; what it holds adds up to 0/);
  });

  it("sees a space whose count of its private pages is not what its page table holds", async () => {
    const { t, p } = await machine();
    // Its end releases that many private frames and stops looking (AddressSpace.destroy): a count
    // one short would leave a frame allocated for good.
    (p.space as unknown as { privatePages: number }).privatePages--;
    expect(checkInvariants(t.kernel).join("\n")).toMatch(new RegExp(`pid ${p.pid}: 1 private pages have frames, it counts 0`));
  });

  it("sees a frame tagged for a process that does not map it", async () => {
    const { t, p } = await machine();
    t.kernel.frames.allocate(p.pid);
    expect(checkInvariants(t.kernel).join("\n")).toMatch(new RegExp(`tagged for pid ${p.pid}, which does not map it`));
  });
});
