// The kernel's accesses to a process's memory on its behalf (AddressSpace read, readInto, write,
// copyWithin: what readMemory, writeMemory and copyWithin of KernelServices run on). Each has a
// fast path for a range inside one page and a page walk that allocates nothing; every case below
// fails when a check of either is dropped: a right, a page crossed into, a paged-out page, page 0,
// the end of the 32-bit space; and a write never leaves part of itself behind.
import { describe, expect, it } from "vitest";
import { AddressSpace } from "../../src/kernel/address-space.ts";
import { expectSameBytes } from "../helpers/bytes.ts";
import { faultOf } from "../helpers/process-fault.ts";
import { FrameAllocator } from "../../src/kernel/frame-allocator.ts";
import { PTE_READ, PTE_WRITE } from "../../src/kernel/page-table.ts";
import { PageInRequired } from "../../src/kernel/paging-hooks.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

function setup() {
  const memory = new PhysicalMemory(4 << 20);
  const frames = new FrameAllocator(memory.frameCount);
  return { memory, frames, space: new AddressSpace(memory, frames, 3, 2, 4) };
}

const pattern = (length: number, seed = 1) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
const readBack = (space: AddressSpace, address: number, length: number) => {
  const into = new Uint8Array(length);
  space.readInto(address, into, 0, length);
  return into;
};

describe("the kernel's accesses to process memory", () => {
  it("checks a one-page access's right every time, a page whose entry was in the TLB included", () => {
    const { space } = setup();
    space.write(0x2010, pattern(8));
    expect(readBack(space, 0x2010, 8)).toEqual(pattern(8));
    // Both halves of the TLB hold page 0x2000 now; taking a right away must reach the next access.
    expect(space.protect(0x2000, 1, PTE_READ)).toBe(0);
    expect(faultOf(() => space.write(0x2010, new Uint8Array([9]))).kind).toBe("read-only");
    expect(faultOf(() => space.copyWithin(0x2020, 0x3000, 4)).kind).toBe("read-only");
    expect(readBack(space, 0x2010, 8)).toEqual(pattern(8));
    expect(space.protect(0x2000, 1, 0)).toBe(0);
    expect(faultOf(() => readBack(space, 0x2010, 1)).kind).toBe("no-access");
    expect(faultOf(() => space.copyWithin(0x3000, 0x2010, 4)).kind).toBe("no-access");
    expect(faultOf(() => space.read(0x2fff, 1)).kind).toBe("no-access");
    expect(space.protect(0x2000, 1, PTE_READ | PTE_WRITE)).toBe(0);
    expect(readBack(space, 0x2010, 8)).toEqual(pattern(8));
  });

  it("writes nothing when a range crosses into a page it may not write, and reads nothing from one it may not read", () => {
    const { space } = setup();
    space.write(0x4000, pattern(64));
    expect(space.protect(0x4000, 1, PTE_READ)).toBe(0);
    // The first page of each range is writable: only a check of every page stops these.
    expect(faultOf(() => space.write(0x3ff0, pattern(32, 5))).kind).toBe("read-only");
    expect(faultOf(() => space.write(0x3000, pattern(6000, 5))).kind).toBe("read-only");
    expect(readBack(space, 0x3ff0, 16)).toEqual(new Uint8Array(16));
    expect(readBack(space, 0x3000, 16)).toEqual(new Uint8Array(16));
    space.write(0x1000, pattern(4096, 7));
    space.write(0x8000, pattern(8192, 8));
    expect(faultOf(() => space.copyWithin(0x3800, 0x1000, 4096)).kind).toBe("read-only");
    expect(readBack(space, 0x3800, 16)).toEqual(new Uint8Array(16));
    // Pages 0x2000 and 0x3000 get frames that do not follow each other, so that a copy over them
    // cannot be one run: the page walk would copy the first before it meets 0x4000.
    space.translate(0x7000, true);
    space.translate(0x2000, true);
    expect(faultOf(() => space.copyWithin(0x2800, 0x8000, 0x2000)).kind).toBe("read-only");
    expect(faultOf(() => space.write(0x2800, pattern(0x2000))).kind).toBe("read-only");
    expect(readBack(space, 0x2800, 0x1800)).toEqual(new Uint8Array(0x1800));
    expect(space.protect(0x4000, 1, 0)).toBe(0);
    expect(faultOf(() => readBack(space, 0x3ff0, 32)).kind).toBe("no-access");
    expect(faultOf(() => space.copyWithin(0x1000, 0x3ff0, 32)).kind).toBe("no-access");
    expect(faultOf(() => space.read(0x3000, 8192)).kind).toBe("no-access");
  });

  it("raises PageInRequired for a paged-out page before a byte is written", () => {
    const { space } = setup();
    space.write(0x5000, pattern(4096, 3));
    space.write(0x6000, pattern(4096, 4));
    space.evict(6, () => {});
    const paged = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        return error instanceof PageInRequired ? error.address! >>> 12 : error;
      }
      return "no fault";
    };
    expect(paged(() => readBack(space, 0x6100, 16))).toBe(6);
    expect(paged(() => space.write(0x6100, pattern(16)))).toBe(6);
    expect(paged(() => space.write(0x5ff0, pattern(32)))).toBe(6);
    expect(paged(() => space.copyWithin(0x5000, 0x6000, 16))).toBe(6);
    expect(paged(() => space.copyWithin(0x6000, 0x5000, 16))).toBe(6);
    expect(paged(() => space.copyWithin(0x4ff0, 0x5ff0, 32))).toBe(6);
    expect(readBack(space, 0x5ff0, 16)).toEqual(pattern(4096, 3).subarray(4096 - 16));
  });

  it("keeps page 0 below the program's first data byte and everything past 4 GiB a fault", () => {
    const { space } = setup();
    expect(faultOf(() => readBack(space, 0x10, 4)).kind).toBe("null-page");
    expect(faultOf(() => space.write(0xff0, pattern(32))).kind).toBe("null-page");
    space.allowPageZeroFrom(1024);
    space.write(1024, pattern(16));
    expect(readBack(space, 1024, 16)).toEqual(pattern(16));
    // Page 0 stays out of the TLBs while checked: every access, the kernel's too, meets the limit.
    expect(faultOf(() => readBack(space, 1022, 4)).kind).toBe("null-page");
    expect(faultOf(() => space.write(1020, pattern(4))).kind).toBe("null-page");
    expect(faultOf(() => space.copyWithin(1020, 1024, 8)).kind).toBe("null-page");
    expect(faultOf(() => space.copyWithin(1100, 1000, 8)).kind).toBe("null-page");
    expect(readBack(space, 1024, 16)).toEqual(pattern(16));
    // An address past 4 GiB does not wrap around to a page the process holds.
    space.write(0x2000, pattern(16));
    expect(faultOf(() => space.write(2 ** 32 + 0x2000, pattern(16, 9))).kind).toBe("out-of-bounds");
    expect(faultOf(() => readBack(space, 2 ** 32 - 4, 8)).kind).toBe("out-of-bounds");
    expect(faultOf(() => space.copyWithin(0x2000, 2 ** 32 + 0x2000, 16)).kind).toBe("out-of-bounds");
    expect(readBack(space, 0x2000, 16)).toEqual(pattern(16));
    expect(faultOf(() => readBack(space, 2 ** 32 - 0x1000, 16)).kind).toBe("unmapped");
  });

  it("checks and moves ranges longer than its scratch of frames (over 2 MiB) the same way", () => {
    const memory = new PhysicalMemory(16 << 20);
    const space = new AddressSpace(memory, new FrameAllocator(memory.frameCount), 3, 64, 64);
    const big = pattern(0x120000, 4);
    space.write(0x10010, big);
    space.copyWithin(0x200020, 0x10010, big.length);
    expectSameBytes(space.read(0x200020, big.length), big);
    expect(space.protect(0x320000, 1, PTE_READ)).toBe(0);
    // 545 pages: past the scratch, so the path that checks first and translates again.
    expect(faultOf(() => space.write(0x100000, pattern(0x221000, 5))).kind).toBe("read-only");
    expect(faultOf(() => space.copyWithin(0x200010, 0x10010, 0x120000)).kind).toBe("read-only");
    expectSameBytes(space.read(0x10010, big.length), big);
    expectSameBytes(space.read(0x200020, big.length), big);
    const long = pattern(0x240000, 6);
    space.write(0x1000, long);
    expectSameBytes(space.read(0x1000, long.length), long);
  });

  it("copies as memmove when two pages map one frame (the ranges apart in the space, overlapping in the frame)", () => {
    const { frames, space } = setup();
    const frame = frames.allocate(9)!;
    const owner = { ownerName: "test owner", destroyed: false, ownsFrame: (f: number) => f === frame, mapped() {}, unmapped() {} };
    space.mapFrame(0x8000_0000, frame, owner, true);
    space.mapFrame(0x8000_1000, frame, owner, true);
    for (const [to, from, length] of [[0x8000_1008, 0x8000_0000, 16], [0x8000_1000, 0x8000_0008, 16], [0x8000_1010, 0x8000_0000, 200], [0x8000_1000, 0x8000_0010, 200]] as const) {
      const model = pattern(4096, length);
      space.write(0x8000_0000, model);
      space.copyWithin(to, from, length);
      model.copyWithin(to - 0x8000_1000, from - 0x8000_0000, from - 0x8000_0000 + length);
      expectSameBytes(space.read(0x8000_0000, 4096), model);
    }
  });

  it("moves the right bytes over pages whose frames do and do not follow each other", () => {
    const { space } = setup();
    // Pages 8-11 get frames in the order 10, 8, 11, 9: no two neighbours in the machine's memory.
    for (const page of [10, 8, 11, 9]) space.translate(page * 4096, true);
    // And pages 16-19 in order: one run.
    for (let page = 16; page < 20; page++) space.translate(page * 4096, true);
    const model = new Uint8Array(0x20000);
    const write = (at: number, bytes: Uint8Array) => {
      space.write(at, bytes);
      model.set(bytes, at);
    };
    write(0x8123, pattern(4 * 4096 - 0x300, 2));
    write(0x10077, pattern(3 * 4096 + 5, 3));
    expectSameBytes(readBack(space, 0x8000, 0x4000), model.subarray(0x8000, 0xc000));
    expectSameBytes(space.read(0x10000, 0x4000), model.subarray(0x10000, 0x14000));
    space.copyWithin(0x10010, 0x8100, 0x3e00);
    model.copyWithin(0x10010, 0x8100, 0x8100 + 0x3e00);
    space.copyWithin(0x8400, 0x10000, 0x2345);
    model.copyWithin(0x8400, 0x10000, 0x10000 + 0x2345);
    expectSameBytes(space.read(0x8000, 0xc000), model.subarray(0x8000, 0x14000));
    // Ranges of up to a page (at most two pages each: the paths that translate each page once),
    // over frames that do and do not follow each other, against the model.
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const anywhere = () => [0x8000, 0x10000][next(2)]! + next(0x4000 - 4096);
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);
    for (let i = 0; i < 200; i++) {
      const length = [1, 16, 65, 4095, 4096][next(5)]!;
      const from = anywhere();
      const to = anywhere();
      if (next(2) === 0) write(to, pattern(length, i));
      else if (from + length <= to || to + length <= from) {
        space.copyWithin(to, from, length);
        model.copyWithin(to, from, from + length);
      }
      if (!same(readBack(space, from, length), model.subarray(from, from + length))) expect.fail(`step ${i}: ${length} bytes at ${from.toString(16)} differ from the model`);
    }
    expectSameBytes(space.read(0x8000, 0xc000), model.subarray(0x8000, 0x14000));
    // An offset into the destination array.
    const into = new Uint8Array(0x3000).fill(0xee);
    space.readInto(0x8ff0, into, 0x100, 0x2000);
    expectSameBytes(into.subarray(0, 0x100), new Uint8Array(0x100).fill(0xee));
    expectSameBytes(into.subarray(0x100, 0x2100), model.subarray(0x8ff0, 0xaff0));
    expectSameBytes(into.subarray(0x2100), new Uint8Array(0xf00).fill(0xee));
  });
});
