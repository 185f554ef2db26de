// Every user program loads (its rewritten code validates: the loader compiles it), and those that
// run without the kernel (bench-*, which import nothing) return the same checksum natively and
// rewritten, with their accesses inline (small functions) and with every access a helper call.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testMachine } from "../helpers/test-host.ts";

const BUILD = new URL("../../build/user/", import.meta.url);
const programs = readdirSync(BUILD).filter((f) => f.endsWith(".wasm")).sort();
const read = (file: string) => new Uint8Array(readFileSync(new URL(file, BUILD)));

it("every user program loads", async () => {
  expect(programs.length).toBeGreaterThan(40);
  const t = testMachine();
  for (const file of programs) await expect(t.loader.load(read(file), file), file).resolves.toMatchObject({ name: file });
  expect(t.loader.stats.rewrites).toBe(programs.length);
});

describe("bench-* programs, natively and rewritten", () => {
  for (const [form, rewrite] of [["as loaded", {}], ["every access a helper call", { accessCalls: "always" }]] as const) {
    it(form, async () => {
      const t = testMachine({ memory: 256 << 20, loader: { rewrite } });
      for (const file of programs.filter((f) => f.startsWith("bench-"))) {
        const bytes = read(file);
        const native = (new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports.run as (n: number) => number)(1);
        const process = t.kernel.spawn(await t.loader.load(bytes, file), { entry: "run", entryArgs: [1] });
        await t.kernel.run();
        expect(process.outcome, file).toEqual({ kind: "exited", code: 0 });
        expect(process.returnValue, file).toBe(native);
      }
    }, 60_000);
  }
});
