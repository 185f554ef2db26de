/**
 * A device's DMA window over a Region's frames: `read` copies, `lend` hands out the frames
 * themselves when they lie side by side in physical memory, and a copy when they do not.
 */
import { describe, expect, it } from "vitest";
import { RegionDmaWindow } from "../../src/kernel/caps/dma-window.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

const PAGE = 4096;

describe("DMA window", () => {
  it("lends frames that follow each other in place, and copies across frames that do not", () => {
    const memory = new PhysicalMemory(1 << 20);
    for (let frame = 0; frame < 16; frame++) memory.bytes.fill(frame, frame * PAGE, (frame + 1) * PAGE);
    const window = new RegionDmaWindow(memory, [3, 4, 5, 9]);
    const inPlace = window.lend(100, 2 * PAGE);
    expect(inPlace.buffer).toBe(memory.bytes.buffer);
    expect(inPlace[0]).toBe(3);
    expect(inPlace[2 * PAGE - 1]).toBe(5);
    memory.bytes[4 * PAGE] = 99; // the frames themselves: a change shows
    expect(inPlace[PAGE - 100]).toBe(99);
    const across = window.lend(2 * PAGE + 10, PAGE); // frames 5 then 9: not side by side
    expect(across.buffer).not.toBe(memory.bytes.buffer);
    expect(across[0]).toBe(5);
    expect(across[PAGE - 1]).toBe(9);
    expect([...window.read(100, 8)]).toEqual([...memory.bytes.subarray(3 * PAGE + 100, 3 * PAGE + 108)]);
    expect(() => window.lend(3 * PAGE, 2 * PAGE)).toThrow(RangeError);
    expect(window.lend(0, 0).length).toBe(0);
  });

  it("lends pieces: one view of the frames themselves per run of side-by-side frames, never a copy", () => {
    const memory = new PhysicalMemory(1 << 20);
    for (let frame = 0; frame < 16; frame++) memory.bytes.fill(frame, frame * PAGE, (frame + 1) * PAGE);
    const window = new RegionDmaWindow(memory, [3, 4, 5, 9, 10, 2]);
    const pieces = window.lendPieces(100, 6 * PAGE - 200);
    expect(pieces.map((p) => [p.byteOffset, p.length])).toEqual([
      [3 * PAGE + 100, 3 * PAGE - 100],
      [9 * PAGE, 2 * PAGE],
      [2 * PAGE, PAGE - 100],
    ]);
    for (const piece of pieces) expect(piece.buffer).toBe(memory.bytes.buffer);
    expect(window.lendPieces(2 * PAGE + 10, 10).map((p) => p[0])).toEqual([5]);
    expect(window.lendPieces(0, 0)).toEqual([]);
    expect(() => window.lendPieces(5 * PAGE, 2 * PAGE)).toThrow(RangeError);
  });
});
