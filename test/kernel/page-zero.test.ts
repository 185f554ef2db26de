/**
 * Binaries as compilers make them (issue 19, item 1): clang with wasi-libc puts data at 1024,
 * AssemblyScript at 8-16. Page 0 is then the program's, reached only through the slow path (never
 * through a TLB), and the bytes below its lowest data byte still fault as null-page.
 */
import { describe, expect, it } from "vitest";
import { PAGE_ZERO_ADAPT } from "../../src/kernel/address-space.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import type { Process } from "../../src/kernel/process.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

/** Data at `base`; `read(a)` and `write(a, v)` reach any address; `_start` bumps the word at base+4. */
const program = (base: number) =>
  wat(`(module
  (memory 2)
  (data (i32.const ${base}) "\\2a\\00\\00\\00\\07\\00\\00\\00")
  (func (export "read") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "write") (param $a i32) (param $v i32) (i32.store (local.get $a) (local.get $v)))
  (func (export "_start") (i32.store (i32.const ${base + 4}) (i32.add (i32.load (i32.const ${base + 4})) (i32.const 1)))))`);

async function run(base: number, entry: string, args: number[]) {
  const t = testMachine();
  const image = await t.loader.load(program(base), `data-at-${base}`);
  const p = t.kernel.spawn(image, { entry, entryArgs: args });
  await t.kernel.run();
  return { t, p, value: p.returnValue };
}

const pageZeroInTlb = (p: Process) => [...p.space.tlb.validEntries()].some((e) => e.address < PAGE_SIZE);

describe("page 0 holding the program's data", () => {
  it("runs a program whose data starts at 1024: its data reads and writes, through the slow path only", async () => {
    const read = await run(1024, "read", [1024]);
    expect(read.value).toBe(42);
    const { t, p } = await run(1024, "_start", []);
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    expect(p.fault).toBe(null);
    expect(checkInvariants(t.kernel)).toEqual([]);
    const after = await run(1024, "write", [4000, 9]);
    expect(after.p.outcome).toEqual({ kind: "exited", code: 0 });
    expect(pageZeroInTlb(after.p)).toBe(false);
  });

  it("faults null-page below the lowest data byte, reading or writing", async () => {
    for (const [entry, args] of [["read", [0]], ["read", [1020]], ["write", [0, 1]], ["write", [1023, 1]]] as const) {
      const { p } = await run(1024, entry, [...args]);
      expect(p.fault, `${entry} ${args[0]}`).toMatchObject({ kind: "null-page", address: args[0] });
    }
  });

  it("keeps AssemblyScript's layout (data at 16) and a whole null page for data at 4096 and up", async () => {
    expect((await run(16, "read", [16])).value).toBe(42);
    expect((await run(16, "read", [8])).p.fault).toMatchObject({ kind: "null-page" });
    expect((await run(4096, "read", [4092])).p.fault).toMatchObject({ kind: "null-page", address: 4092 });
  });

  it("a clone of a created process gets its page 0 too", async () => {
    const t = testMachine();
    const image = await t.loader.load(program(1024), "cloned");
    const parent = t.kernel.spawn(image, { entry: "read", entryArgs: [1024] });
    const source = t.kernel.createProcess(t.kernel.imageObject(image), t.kernel.rootMemory, parent, 4) as Process;
    source.space.write(2048, new Uint8Array([5, 0, 0, 0]));
    const clone = t.kernel.cloneProcess(source, t.kernel.rootMemory, parent) as Process;
    expect(clone.space.read(2048, 4)).toEqual(new Uint8Array([5, 0, 0, 0]));
    expect(clone.space.read(1024, 1)[0]).toBe(42);
    expect(() => clone.space.read(1000, 4)).toThrow(/first data byte/);
    await t.kernel.run();
    expect(checkInvariants(t.kernel)).toEqual([]);
  });
});

describe("page 0 checking by policy", () => {
  /** Reads page 0's data `n` times, then reads address `probe`; returns the sum of the first reads. */
  const hammer = (n: number, probe: number) =>
    wat(`(module
    (memory 1)
    (data (i32.const 1024) "\\01\\00\\00\\00")
    (func (export "_start") (result i32) (local $i i32) (local $sum i32)
      (loop $again
        (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 1024))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (i32.const ${n}))))
      (drop (i32.load (i32.const ${probe})))
      (local.get $sum)))`);

  it("adaptive: a program that uses page 0 hard gets it through the TLBs, says so in its trace, and loses the null faults below its data", async () => {
    const lines: string[] = [];
    const t = testMachine({ kernel: { trace: (line) => lines.push(line) } });
    const p = t.kernel.spawn(await t.loader.load(hammer(PAGE_ZERO_ADAPT + 10, 0), "hammer"));
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    expect(p.returnValue).toBe(PAGE_ZERO_ADAPT + 10);
    expect(p.space.pageZeroUnchecked).toBe(true);
    expect(lines.join("\n")).toMatch(new RegExp(`\\[pid ${p.pid}\\] page 0: unchecked after ${PAGE_ZERO_ADAPT} slow-path accesses`));
  });

  it("adaptive: a program that touches page 0 a little keeps its null faults", async () => {
    const t = testMachine();
    const p = t.kernel.spawn(await t.loader.load(hammer(100, 0), "light"));
    await t.kernel.run();
    expect(p.fault).toMatchObject({ kind: "null-page", address: 0 });
    expect(p.space.pageZeroUnchecked).toBe(false);
  });

  it("checked never gives page 0 away; unchecked gives it from the start", async () => {
    const checked = testMachine({ kernel: { pageZero: "checked" } });
    const c = checked.kernel.spawn(await checked.loader.load(hammer(PAGE_ZERO_ADAPT * 2, 0), "checked"));
    await checked.kernel.run();
    expect(c.fault).toMatchObject({ kind: "null-page", address: 0 });
    const unchecked = testMachine({ kernel: { pageZero: "unchecked" } });
    const u = unchecked.kernel.spawn(await unchecked.loader.load(hammer(10, 0), "unchecked"));
    await unchecked.kernel.run();
    expect(u.outcome).toEqual({ kind: "exited", code: 0 });
    expect(checkInvariants(unchecked.kernel)).toEqual([]);
  });
});
