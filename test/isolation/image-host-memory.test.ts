/**
 * The charge against what the host really keeps: distinct loaded images held by a Node process of
 * their own, its resident set measured (a loose bound: the charge must cover it). Before, an Image
 * was charged a page per 16 KiB of binary, 40-70 times less than it kept (redteam, High).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("what an Image is charged", () => {
  it("covers the host memory its loaded image keeps, for binaries of generated code", async () => {
    const child = new URL("./image-host-memory-child.ts", import.meta.url).pathname;
    const { stdout } = await run(process.execPath, ["--expose-gc", child, "3000", "6"], { encoding: "utf8" });
    const { binaryBytes, grown, charged } = JSON.parse(stdout) as { binaryBytes: number; grown: number; charged: number[] };
    const total = charged.reduce((sum, n) => sum + n, 0);
    // Each kept 0.5-5 MB (measured; the resident set moves with what the allocator keeps), more
    // than the old charge of a page per 16 KiB of binary...
    expect(grown).toBeGreaterThan(charged.length * Math.ceil(binaryBytes / 16384) * 4096);
    // ...and no more than it is charged now.
    expect(grown).toBeLessThanOrEqual(total);
  });
});
