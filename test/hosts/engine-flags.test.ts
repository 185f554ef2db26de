import { describe, expect, it } from "vitest";
import { BIG_PROGRAM_CODE_BYTES, tieringBudgetFor } from "../../src/hosts/node/engine-flags.ts";

// `dogma run` raises V8's tiering budget for a program with a big code section (esbuild, clang,
// yosys: docs/LOADER.md "How V8 compiles the output"); small programs keep the process's.
describe("the engine's tiering budget for the program dogma run runs", () => {
  it("is raised for a big program only", () => {
    expect(tieringBudgetFor(BIG_PROGRAM_CODE_BYTES)).toBe(1_000_000_000);
    expect(tieringBudgetFor(66 << 20)).toBe(1_000_000_000);
    expect(tieringBudgetFor(BIG_PROGRAM_CODE_BYTES - 1)).toBeNull();
    expect(tieringBudgetFor(200_000)).toBeNull();
    expect(tieringBudgetFor(0)).toBeNull();
  });

  it("fits V8's flag, a signed 32-bit integer (3,000,000,000 wrapped and slowed esbuild twofold)", () => {
    expect(tieringBudgetFor(BIG_PROGRAM_CODE_BYTES)!).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
