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

/** A module of `count` empty passive data segments (a data count section and a memory, nothing else). */
function manySegments(count: number): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
  const data = [...leb(count)];
  for (let i = 0; i < count; i++) data.push(1, 0);
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(5, [1, 0, 1]), ...section(12, leb(count)), ...section(11, data)]);
}

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
  // Redteam3: a binary of 200 KB with 100,000 passive data segments (V8's limit) cost 1.1 MiB of
  // host heap per process (V8's segment tables and the process's record of each segment) and was
  // charged 23 pages: a Memory of 32 MiB could hold 350 such processes and 400 MB of host heap.
  it("charges what each instance keeps per data segment", async () => {
    const t = testMachine();
    const segments = 100_000;
    const image = await t.loader.load(manySegments(segments), "many-segments");
    expect(processFixedPages(image)).toBeGreaterThan((segments * 16) / 4096);
    const memory = t.kernel.memoryObject(processFixedPages(image) * 2 + 10);
    const made = [t.kernel.spawn(image, { memory }), t.kernel.spawn(image, { memory })];
    expect(() => t.kernel.spawn(image, { memory })).toThrow(/quota is exhausted/);
    for (const p of made) t.kernel.kill(p.pid);
  });
});
