import { describe, expect, it } from "vitest";
import { AddressSpace } from "../../src/kernel/address-space.ts";
import { TLB_AWAY_BIT, TLB_MIN_ENTRIES } from "../../src/kernel/constants.ts";
import { faultOf } from "../helpers/process-fault.ts";
import { FrameAllocator } from "../../src/kernel/frame-allocator.ts";
import { TLB_INVALID_TAG } from "../../src/kernel/tlb.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

function setup(initialPages = 2, maxPages = 4) {
  const memory = new PhysicalMemory(4 << 20);
  const frames = new FrameAllocator(memory.frameCount);
  const free = frames.freeCount;
  const space = new AddressSpace(memory, frames, 3, initialPages, maxPages);
  return { memory, frames, free, space };
}

/** An owner that counts its mapped pages. */
function countingOwner(frame: number) {
  return {
    ownerName: "test owner",
    destroyed: false,
    pages: 0,
    ownsFrame: (f: number) => f === frame,
    mapped() {
      this.pages++;
    },
    unmapped() {
      this.pages--;
    },
  };
}

describe("AddressSpace", () => {
  it("starts with every TLB entry invalid", () => {
    const { memory, space } = setup();
    expect(space.tlb.entries).toBe(TLB_MIN_ENTRIES);
    for (let i = 0; i < TLB_MIN_ENTRIES * 2; i++) expect(memory.words[(space.tlb.base >>> 2) + 2 * i]).toBe(TLB_INVALID_TAG);
  });

  it("maps a zeroed private frame on first touch and fills both TLBs", () => {
    const { memory, frames, space } = setup();
    const physical = space.translate(0x5004, true);
    const frame = physical >>> 12;
    expect(frames.owner(frame)).toBe(3);
    expect(physical & 0xfff).toBe(4);
    expect(space.residentPages).toBe(1);
    const readSlot = (space.tlb.base + ((0x5004 >>> 8) & space.tlb.mask)) >>> 2;
    expect(memory.words[readSlot]).toBe(0x5000);
    expect((memory.words[readSlot + 1]! + 0x5004) | 0).toBe(physical);
    expect(memory.words[readSlot + 2]).toBe(0x5000);
    // A second touch maps nothing new.
    expect(space.translate(0x5ffc, false)).toBe(frame * 4096 + 0xffc);
    expect(space.residentPages).toBe(1);
  });

  it("gives a private page its home frame, `page + home`, with the plain tag that lets rewritten code read `a + home`", () => {
    const { memory, frames, space } = setup();
    const physical = space.translate(0x5004, false);
    expect(physical).toBe((0x5004 + space.tlb.home) >>> 0);
    expect(frames.owner(physical >>> 12)).toBe(3);
    const readSlot = (space.tlb.base + ((0x5004 >>> 8) & space.tlb.mask)) >>> 2;
    expect(memory.words[readSlot]).toBe(0x5000);
    expect(memory.words[readSlot + 2]).toBe(0x5000);
  });

  it("gives a page whose home frame is taken another frame, with the away tag: the fast path's compare fails, the kernel's hit and flush still see it", () => {
    const { memory, frames, space } = setup();
    const home = ((0x6000 + space.tlb.home) >>> 12);
    expect(frames.allocatePreferring(home, -1)).toBe(home);
    const physical = space.translate(0x6008, true);
    expect(physical >>> 12).not.toBe(home);
    const readSlot = (space.tlb.base + ((0x6008 >>> 8) & space.tlb.mask)) >>> 2;
    expect(memory.words[readSlot]).toBe(0x6000 | TLB_AWAY_BIT);
    expect(memory.words[readSlot + 2]).toBe(0x6000 | TLB_AWAY_BIT);
    expect((memory.words[readSlot + 1]! + 0x6008) >>> 0).toBe(physical);
    expect(space.tlb.hit(true, 0x6008)).toBe(physical);
    expect([...space.tlb.validEntries()]).toContainEqual({ write: true, address: 0x6000, frame: physical >>> 12, home: false, entry: 6 });
    space.tlb.flushPage(0x6000);
    expect(memory.words[readSlot]).toBe(TLB_INVALID_TAG);
    expect(memory.words[readSlot + 2]).toBe(TLB_INVALID_TAG);
  });

  it("faults on page 0, past the end, in the empty global space", () => {
    const { space } = setup();
    expect(faultOf(() => space.translate(0, false)).kind).toBe("null-page");
    expect(faultOf(() => space.translate(4095, true)).kind).toBe("null-page");
    expect(faultOf(() => space.translate(2 * 65536, false)).kind).toBe("out-of-bounds");
    expect(faultOf(() => space.translate(0x8000_0000, false)).kind).toBe("unmapped");
    expect(faultOf(() => space.pieces(0xffff_fffe, 4, false)).kind).toBe("out-of-bounds");
  });

  it("grows up to its maximum", () => {
    const { space } = setup(1, 3);
    expect(space.grow(1)).toBe(1);
    expect(space.grow(1)).toBe(2);
    expect(space.grow(1)).toBe(-1);
    expect(space.wasmPages).toBe(3);
    expect(space.translate(3 * 65536 - 4, true)).toBeGreaterThan(0);
  });

  it("maps shared frames read-only", () => {
    const { memory, frames, space } = setup();
    const frame = frames.allocate(-1)!;
    memory.bytes[frame * 4096 + 7] = 0xab;
    const owner = countingOwner(frame);
    space.mapShared(0x8000_0000, [frame], owner);
    expect(owner.pages).toBe(1);
    expect(space.read(0x8000_0007, 1)[0]).toBe(0xab);
    // Not its home frame: the away tag, so that rewritten code takes the entry's addend.
    expect(memory.words[(space.tlb.base + ((0x8000_0000 >>> 8) & space.tlb.mask)) >>> 2]).toBe((0x8000_0000 | TLB_AWAY_BIT) | 0);
    expect(faultOf(() => space.translate(0x8000_0007, true)).kind).toBe("read-only");
    expect(space.ownerAt(0x8000_0000)).toBe(owner);
  });

  it("tells a mapping's owner when the mapping goes, however it goes", () => {
    const { frames, space } = setup();
    const [f1, f2] = [frames.allocate(-1)!, frames.allocate(-1)!];
    const a = countingOwner(f1);
    const b = countingOwner(f2);
    space.mapShared(0x8000_0000, [f1], a);
    space.mapShared(0x8000_1000, [f1], a);
    space.unmap(0x8000_1000);
    expect(a.pages).toBe(1);
    space.mapFrame(0x8000_0000, f2, b, false); // another owner's mapping over it
    expect([a.pages, b.pages]).toEqual([0, 1]);
    space.mapFrame(0x8000_2000, f2, b, false);
    space.destroy();
    expect(b.pages).toBe(0);
  });

  it("checks a whole range before writing any of it", () => {
    const { space } = setup(1, 1);
    space.write(65536 - 4, new Uint8Array([1, 2, 3, 4]));
    expect(faultOf(() => space.write(65536 - 2, new Uint8Array([9, 9, 9, 9]))).kind).toBe("out-of-bounds");
    expect([...space.read(65536 - 4, 4)]).toEqual([1, 2, 3, 4]);
  });

  it("hands its emptied TLB to the next space of its size, with no entry of its own left in it, and only while nobody took those frames", () => {
    const { memory, frames, space } = setup(2, 0x10000);
    const tags = (s: AddressSpace) => Array.from({ length: s.tlb.entries * 2 }, (_, i) => memory.words[(s.tlb.base >>> 2) + 2 * i]);
    // A few pages, and then more than the TLB tracks one by one (it must rewrite the whole table).
    for (const pages of [3, 100]) {
      const used = new AddressSpace(memory, frames, 4, 64, 0x10000);
      for (let page = 1; page <= pages; page++) used.translate(page * 4096 * 3, page % 2 === 0);
      expect([...used.tlb.validEntries()].length).toBeGreaterThan(0);
      const base = used.tlb.base;
      used.destroy();
      const next = new AddressSpace(memory, frames, 5, 2, 0x10000);
      expect(next.tlb.base).toBe(base);
      expect(new Set(tags(next))).toEqual(new Set([TLB_INVALID_TAG]));
      next.destroy();
    }
    // Once one of its frames was handed to someone (and written), the block is no longer taken as it is.
    const before = new AddressSpace(memory, frames, 6, 2, 0x10000);
    const base = before.tlb.base;
    before.destroy();
    const taken: number[] = [];
    for (let frame = frames.allocate(1); frame !== null && frame !== base >>> 12; frame = frames.allocate(1)) taken.push(frame);
    memory.words.fill(0x5000, base >>> 2, (base >>> 2) + 1024);
    frames.release(base >>> 12);
    for (const frame of taken) frames.release(frame);
    const after = new AddressSpace(memory, frames, 7, 2, 0x10000);
    expect(new Set(tags(after))).toEqual(new Set([TLB_INVALID_TAG]));
    after.destroy();
    space.destroy();
  });

  it("returns every frame when destroyed", () => {
    const { frames, free, space } = setup();
    for (let address = 4096; address < 2 * 65536; address += 4096) space.translate(address, true);
    space.destroy();
    expect(frames.freeCount).toBe(free);
  });

  it("returns every private frame of every table when destroyed, and only those, whatever is mapped between and after them", () => {
    // 70 pages of 64 KiB: private pages in two page tables (4 MiB each), a shared mapping above.
    const { frames, free, space } = setup(70, 70);
    const shared = frames.allocate(-1)!;
    const owner = countingOwner(shared);
    space.mapShared(0x8000_0000, [shared], owner);
    for (const address of [0x1000, 0x5000, 0x40_0000, 0x44_5000]) space.translate(address, true);
    expect(space.residentPages).toBe(4);
    space.destroy();
    expect(owner.pages).toBe(0);
    expect(frames.isUsed(shared)).toBe(true);
    frames.release(shared);
    expect(frames.freeCount).toBe(free);
  });
});
