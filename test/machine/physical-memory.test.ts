import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { FrameAllocator } from "../../src/kernel/frame-allocator.ts";
import { FRAME_SIZE } from "../../src/machine/frame-size.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

const SOURCE = pathToFileURL(join(import.meta.dirname, "../../src/machine/physical-memory.ts")).href;

/** Full (mark-compact) collections in a fresh Node that makes a 128 MiB PhysicalMemory and waits a while. */
function majorCollections(unaccounted: boolean): number {
  const script = `
    import { PerformanceObserver, constants } from "node:perf_hooks";
    import { PhysicalMemory } from ${JSON.stringify(SOURCE)};
    let major = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; }).observe({ entryTypes: ["gc"] });
    const memory = new PhysicalMemory(128 << 20, { unaccounted: ${unaccounted} });
    // Some allocation and turns of the event loop, in which V8 finishes what it started.
    const kept = [];
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 2000; j++) kept.push({ i, j });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    setTimeout(() => console.log(JSON.stringify({ major, size: memory.memory.buffer.byteLength, kept: kept.length })), 0);`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  expect(child.stderr).toBe("");
  const answer = JSON.parse(child.stdout) as { major: number; size: number };
  expect(answer.size).toBe(128 << 20);
  return answer.major;
}

describe("physical memory", () => {
  it("is the size asked, and grows no further, counted or not", () => {
    for (const unaccounted of [false, true]) {
      const memory = new PhysicalMemory(2 << 20, { unaccounted });
      expect(memory.memory.buffer.byteLength).toBe(2 << 20);
      expect(memory.bytes.length).toBe(2 << 20);
      expect(memory.frameCount).toBe(512);
      expect(() => memory.memory.grow(1)).toThrow(RangeError);
    }
  });

  it("zeroes a frame handed out for the first time without writing it (it holds power-on's zeros), one handed out again by writing it", () => {
    const memory = new PhysicalMemory(1 << 20);
    const frames = new FrameAllocator(memory.frameCount, memory);
    const written: number[] = [];
    const fill = memory.bytes.fill.bind(memory.bytes);
    memory.bytes.fill = (value: number, start?: number, end?: number) => {
      written.push(start! / FRAME_SIZE);
      return fill(value, start, end);
    };
    const zero = (frame: number) => memory.frameBytes(frame).every((byte) => byte === 0);
    const first = frames.allocate(1)!;
    memory.zeroFrame(first);
    expect(written, "its host page not touched").toEqual([]);
    expect(zero(first)).toBe(true);
    // Its holder writes it and gives it back; the next holder gets zeros, written.
    memory.bytes.set([1, 2, 3], first * FRAME_SIZE + 100);
    frames.release(first);
    const again = frames.allocate(1)!;
    expect(again, "the frame released last is handed out first").toBe(first);
    memory.zeroFrame(again);
    expect(written).toEqual([first]);
    expect(zero(again)).toBe(true);
    // A frame written and zeroed again by its holder is written each time.
    memory.bytes.set([4], again * FRAME_SIZE);
    memory.zeroFrame(again);
    expect(zero(again)).toBe(true);
    // A frame nobody was handed is written too (whoever zeroes it knows no more).
    memory.zeroFrame(first + 1);
    expect(written).toEqual([first, first, first + 1]);
    // A free frame written by someone else (a test's canaries) is zeroed when it is handed out.
    const poisoned = first + 5;
    memory.words.fill(0x5a5a5a5a, (poisoned * FRAME_SIZE) / 4, ((poisoned + 1) * FRAME_SIZE) / 4);
    memory.written(poisoned);
    expect(frames.allocatePreferring(poisoned, 1)).toBe(poisoned);
    memory.zeroFrame(poisoned);
    expect(zero(poisoned)).toBe(true);
  });

  it("made unaccounted, sets off no full collection of the heap (a counted one of 128 MiB does)", () => {
    expect(majorCollections(false)).toBeGreaterThan(0);
    expect(majorCollections(true)).toBe(0);
  });
});
