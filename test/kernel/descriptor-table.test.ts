import { describe, expect, it } from "vitest";
import { DescriptorTable } from "../../src/kernel/descriptor-table.ts";
import { FRAME_KERNEL, FrameAllocator } from "../../src/kernel/frame-allocator.ts";
import { DESCRIPTOR_BYTES } from "../../src/kernel/process-descriptor.ts";

describe("the process table", () => {
  it("packs 128 descriptors to a kernel frame, hands each slot out once, and gives a frame back with its last slot", () => {
    const frames = new FrameAllocator(64);
    const free = frames.freeCount;
    const table = new DescriptorTable(frames, DESCRIPTOR_BYTES);
    const slots = Array.from({ length: 384 }, () => table.allocate()!);
    expect(new Set(slots).size).toBe(384);
    expect(slots.every((s) => s % DESCRIPTOR_BYTES === 0)).toBe(true);
    expect(table.frameCount).toBe(3);
    expect(free - frames.freeCount).toBe(3);
    for (const s of slots) expect(frames.owner(Math.floor(s / 4096))).toBe(FRAME_KERNEL);
    // Three full frames. Free the first one's slots but one: the frame stays; a new slot is one of those.
    const first = Math.floor(slots[0]! / 4096);
    const inFirst = slots.filter((s) => Math.floor(s / 4096) === first);
    for (const s of inFirst.slice(1)) table.release(s);
    expect(table.frameCount).toBe(3);
    const again = table.allocate()!;
    expect(inFirst.slice(1)).toContain(again);
    table.release(again);
    table.release(inFirst[0]!);
    expect(table.frameCount).toBe(2);
    for (const s of slots.filter((s) => Math.floor(s / 4096) !== first)) table.release(s);
    expect(table.frameCount).toBe(0);
    expect(frames.freeCount).toBe(free);
    expect(() => table.release(slots[5]!)).toThrow(/not in the table/);
  });

  it("answers null when no frame is left", () => {
    const frames = new FrameAllocator(2); // frame 0 is the kernel's: one to give
    const table = new DescriptorTable(frames, DESCRIPTOR_BYTES);
    for (let i = 0; i < 128; i++) expect(table.allocate()).not.toBeNull();
    expect(table.allocate()).toBeNull();
  });
});
