/**
 * Issue 16, finding 2: WebAssembly tables, globals and other per-instance state live in the host's
 * heap. A program with 40 tables, each grown by ten million entries, took Node down ("JavaScript
 * heap out of memory"). Everything a process can make the host allocate is now bounded by the
 * loader and charged to the Memory that pays for the process (src/loader/host-cost.ts,
 * docs/MEMORY.md "What a process costs").
 */
import { describe, expect, it } from "vitest";
import { processFixedPages } from "../../src/kernel/caps/memory-object.ts";
import { LoadError } from "../../src/loader/load-error.ts";
import { MAX_TABLE_ENTRIES, TABLE_GROWTH_ALLOWANCE } from "../../src/loader/host-cost.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const TABLES = 40;

/** LEB128 of `n`. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** A module of a memory and `sections` (id, then the body's bytes), in order. */
function moduleOf(...sections: Array<[number, number[]]>): Uint8Array {
  const all: number[] = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  const withMemory: Array<[number, number[]]> = [...sections.filter(([id]) => id < 5), [5, [1, 0, 1]], ...sections.filter(([id]) => id > 5)];
  for (const [id, body] of withMemory) {
    all.push(id, ...leb(body.length));
    for (const b of body) all.push(b);
  }
  return new Uint8Array(all);
}

/** `count` items of `item`'s bytes, after their count. */
function vector(count: number, item: (i: number) => number[]): number[] {
  const out = leb(count);
  for (let i = 0; i < count; i++) for (const b of item(i)) out.push(b);
  return out;
}

/** `count` empty passive data segments. */
const manySegments = (count: number) => moduleOf([12, leb(count)], [11, vector(count, () => [1, 0])]);
/** `count` mutable i32 globals (each exported by the loader, for the debugger and clones). */
const manyGlobals = (count: number) => moduleOf([6, vector(count, () => [0x7f, 1, 0x41, 0, 0x0b])]);
/** `count` empty functions, each exported. */
const manyExports = (count: number) =>
  moduleOf(
    [1, [1, 0x60, 0, 0]],
    [3, vector(count, () => [0])],
    [7, vector(count, (i) => [...leb(`f${i}`.length), ...new TextEncoder().encode(`f${i}`), 0, ...leb(i)])],
    [10, vector(count, () => [2, 0, 0x0b])],
  );

/** 40 tables with no maximum; `_start` grows each by ten million entries and exits with how many grows succeeded. */
const tableHog = wat(`(module
  (import "dogma" "exit" (func $exit (param i32)))
  ${Array.from({ length: TABLES }, (_, i) => `(table $t${i} 1 funcref)`).join("\n  ")}
  (memory 1)
  (func (export "_start") (local $ok i32)
    ${Array.from(
      { length: TABLES },
      (_, i) => `(if (i32.ne (table.grow $t${i} (ref.null func) (i32.const 10000000)) (i32.const -1)) (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))`,
    ).join("\n    ")}
    ;; Within the cap, a grow still works.
    (if (i32.eq (table.grow $t0 (ref.null func) (i32.const ${TABLE_GROWTH_ALLOWANCE})) (i32.const 1))
      (then (local.set $ok (i32.add (local.get $ok) (i32.const 1000)))))
    (call $exit (local.get $ok))))`);

describe("what a process makes the host allocate is bounded and charged", () => {
  it("40 tables grown by ten million entries each: every grow past the cap fails, the host stays up", async () => {
    const t = testMachine();
    const image = await t.loader.load(tableHog, "table-hog");
    const p = t.kernel.spawn(image);
    await t.kernel.run();
    // No grow of ten million succeeded; the one within the allowance did.
    expect(p.outcome).toEqual({ kind: "exited", code: 1000 });
    expect(image.instanceBytes).toBeGreaterThanOrEqual(TABLES * (1 + TABLE_GROWTH_ALLOWANCE) * 8);
  });

  it("a module whose tables could pass the limit is refused, saying which table", async () => {
    const t = testMachine();
    const huge = wat(`(module (table 1 funcref) (table ${MAX_TABLE_ENTRIES} funcref) (memory 1) (func (export "_start")))`);
    const refusal = await t.loader.load(huge, "huge-table").catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(LoadError);
    expect(String((refusal as Error).message)).toMatch(/table section, table 1: tables of up to \d+ entries in all; at most 1048576/);
  });

  it("charges an instance's tables to its Memory: a Memory runs out of quota, not the host of heap", async () => {
    const t = testMachine();
    const big = wat(`(module (table 200000 200000 funcref) (memory 1) (func (export "_start")))`);
    const image = await t.loader.load(big, "big-table");
    // 200,000 entries of 8 bytes: 391 pages of host memory per instance, charged.
    expect(processFixedPages(image)).toBeGreaterThan(390);
    const memory = t.kernel.memoryObject(processFixedPages(image) * 3 + 10);
    const made = [];
    for (let i = 0; i < 10; i++) {
      try {
        made.push(t.kernel.spawn(image, { memory }));
      } catch (error) {
        expect(String(error)).toMatch(/quota is exhausted .* a process of big-table needs \d+/);
        break;
      }
    }
    expect(made.length).toBe(3);
    for (const p of made) t.kernel.kill(p.pid);
  });
  // Redteam3: V8 keeps per instance what a binary's counts ask for, and the charge had not counted
  // all of it. Measured per process, against the charge before: 100,000 passive data segments
  // (a 200 KB binary) 1.1 MiB of host heap, charged 92 KiB; 100,000 globals (500 KB) 10-13 MiB,
  // charged 1.6 MiB; 100,000 exported functions (1.4 MB) 34 MiB, charged 1.6 MiB. A Memory of
  // 32 MiB could hold processes whose host heap was 6 to 20 times its quota.
  for (const [what, binary, bytesEach] of [
    ["data segment", manySegments, 16],
    ["global (its export's object)", manyGlobals, 104],
    ["exported function (its export's object)", manyExports, 336],
  ] as const) {
    it(`charges what each instance keeps per ${what}`, async () => {
      const t = testMachine({ memory: 64 << 20 });
      const count = 100_000;
      const image = await t.loader.load(binary(count), "many");
      expect(processFixedPages(image)).toBeGreaterThan((count * bytesEach) / 4096);
      const memory = t.kernel.memoryObject(processFixedPages(image) + 10);
      const made = t.kernel.spawn(image, { memory });
      expect(() => t.kernel.spawn(image, { memory })).toThrow(/quota is exhausted/);
      t.kernel.kill(made.pid);
    });
  }
});
