import { describe, expect, it } from "vitest";
import { FrameAllocator } from "../../src/kernel/frame-allocator.ts";
import { PTE_PRESENT, PTE_READ, PTE_WRITE, PageTable } from "../../src/kernel/page-table.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

describe("PageTable", () => {
  it("keeps its directory and tables in kernel frames and maps pages", () => {
    const memory = new PhysicalMemory(1 << 20);
    const frames = new FrameAllocator(memory.frameCount);
    const before = frames.freeCount;
    const table = new PageTable(memory, frames);
    expect(table.lookup(5)).toBe(0);
    expect(table.map(5, 100, PTE_READ | PTE_WRITE)).toBe(true);
    expect(table.map(0xfffff, 101, PTE_READ)).toBe(true);
    expect(table.lookup(5)).toBe((100 << 12) | PTE_READ | PTE_WRITE | PTE_PRESENT);
    expect(table.lookup(0xfffff) >>> 12).toBe(101);
    expect(table.lookup(6)).toBe(0);
    // The entry really lives in physical memory: the directory word points at a table frame.
    const tableFrame = memory.words[(table.directoryFrame << 10) + 0]!;
    expect(memory.words[(tableFrame << 10) + 5]! >>> 12).toBe(100);
    const seen: number[] = [];
    table.forEach((page) => seen.push(page));
    expect(seen).toEqual([5, 0xfffff]);
    expect(frames.freeCount).toBe(before - 3);
    table.destroy();
    expect(frames.freeCount).toBe(before);
  });

  it("walks entries in address order until its visitor has said yes as many times as asked", () => {
    const memory = new PhysicalMemory(1 << 20);
    const frames = new FrameAllocator(memory.frameCount);
    const table = new PageTable(memory, frames);
    // Mapped out of order, in three tables: the walk sorts the tables it visits.
    for (const page of [0x80000, 7, 3 << 10, 2, 0x80001]) table.map(page, 50 + (page & 63), PTE_READ);
    const seen: number[] = [];
    table.forEachUntil(3, (page) => {
      seen.push(page);
      return page !== 7; // says no once: the walk goes one entry further
    });
    expect(seen).toEqual([2, 7, 3 << 10, 0x80000]);
    const none: number[] = [];
    table.forEachUntil(0, (page) => none.push(page) > 0);
    expect(none).toEqual([]);
  });

  it("reports when no frame is left for a table", () => {
    const memory = new PhysicalMemory(1 << 20);
    const frames = new FrameAllocator(memory.frameCount);
    const table = new PageTable(memory, frames);
    while (frames.allocate(9) !== null);
    expect(table.map(3 << 10, 1, PTE_READ)).toBe(false);
  });
});
