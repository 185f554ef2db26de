import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
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

  it("made unaccounted, sets off no full collection of the heap (a counted one of 128 MiB does)", () => {
    expect(majorCollections(false)).toBeGreaterThan(0);
    expect(majorCollections(true)).toBe(0);
  });
});
