/**
 * A machine that runs programs for good must not keep anything per ended process: every table,
 * queue and list the kernel reaches (three objects deep) is as long after 300 more processes have
 * run and ended as after the first 30. (A table of entry return values by pid once grew by one
 * entry per process, forever.)
 */
import { describe, expect, it } from "vitest";
import type { Kernel } from "../../src/kernel/kernel.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const program = wat(`(module
  (memory 1)
  (func (export "_start") (result i32) (i32.const 7))
  (func (export "trap") (unreachable)))`);

/** The size of every Map, Set and array reachable from the kernel within `depth` objects, by path. */
function collectionSizes(root: object, depth: number): Map<string, number> {
  const sizes = new Map<string, number>();
  const seen = new WeakSet<object>();
  const walk = (value: unknown, path: string, left: number): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof WebAssembly.Memory) return;
    if (value instanceof Map || value instanceof Set) sizes.set(path, value.size);
    else if (Array.isArray(value)) sizes.set(path, value.length);
    if (left === 0 || value instanceof Map || value instanceof Set || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`, left - 1);
  };
  walk(root, "kernel", depth);
  return sizes;
}

async function runBatch(kernel: Kernel, image: Parameters<Kernel["spawn"]>[0], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    kernel.spawn(image);
    kernel.spawn(image, { entry: "trap" });
  }
  await kernel.run();
}

describe("state kept per ended process", () => {
  it("is none: the kernel's tables do not grow with the number of processes that have run", async () => {
    const t = testMachine();
    const image = await t.loader.load(program, "leak-probe");
    await runBatch(t.kernel, image, 15);
    const before = collectionSizes(t.kernel, 3);
    await runBatch(t.kernel, image, 150);
    const after = collectionSizes(t.kernel, 3);
    const grown = [...after].filter(([path, size]) => size > (before.get(path) ?? 0)).map(([path, size]) => `${path}: ${before.get(path) ?? 0} -> ${size}`);
    expect(grown).toEqual([]);
    expect(before.size).toBeGreaterThan(10);
  });
});
