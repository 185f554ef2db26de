// Checks hoisted out of loops (src/loader/loop-groups.ts, docs/LOADER.md "Checks hoisted out of
// loops"): a loop's accesses at a constant page (and, under the variant loopGroupKinds "all", off a
// local it never writes) share one check made at the loop's header. Each case makes the kernel
// change the checked page inside the loop (at a slow path of another access, a call, a call
// through the table, memory.size, memory.fill, the loop's own safe point), or makes the page
// read-only or copy-on-write, or puts the span across a page: each must run as natively.
import { describe, expect, it } from "vitest";
import { PTE_READ } from "../../src/kernel/page-table.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { testMachine } from "../helpers/test-host.ts";
import { movePage, underDogma as run, type KernelHooks, type Outcome } from "./kernel-entries.ts";
import { watToBinary } from "./wat.ts";

const PAGE = 4096;
/** The static variables the loops update (page 5), and the page the kernel is sent to (page 7). */
const X = 5 * PAGE + 64;
const Y = 7 * PAGE;

/**
 * `counters(kick, n)`: n times, two counters at X and X+8 each go up by one, with a way into the
 * kernel between the two (kick 0: a call whose load misses, 1: the same through the table, 2:
 * memory.size, 3: memory.fill, 4: none but the loop's safe point). Returns their sum (2n).
 * `span(p, n)`: n times, the sum of the i64s at p and p+8 (p never written in the loop).
 */
const wat = `(module
  (memory 4 4)
  (table 1 1 funcref)
  (elem (i32.const 0) $touch)
  (func $touch (param $a i32) (result i64) (i64.load (local.get $a)))
  (func (export "counters") (param $kick i32) (param $n i32) (result i64)
    (loop $again
      (i64.store (i32.const ${X}) (i64.add (i64.load (i32.const ${X})) (i64.const 1)))
      (if (i32.eq (local.get $kick) (i32.const 0)) (then (drop (call $touch (i32.const ${Y})))))
      (if (i32.eq (local.get $kick) (i32.const 1)) (then (drop (call_indirect (param i32) (result i64) (i32.const ${Y}) (i32.const 0)))))
      (if (i32.eq (local.get $kick) (i32.const 2)) (then (drop (memory.size))))
      (if (i32.eq (local.get $kick) (i32.const 3)) (then (memory.fill (i32.const ${Y}) (i32.const 0) (i32.const 8))))
      (i64.store offset=8 (i32.const ${X}) (i64.add (i64.load offset=8 (i32.const ${X})) (i64.const 1)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i64.add (i64.load (i32.const ${X})) (i64.load offset=8 (i32.const ${X}))))
  (func (export "span") (param $p i32) (param $n i32) (result i64) (local $s i64)
    (drop (call $touch (i32.const ${9 * PAGE})))
    (drop (call $touch (i32.const ${8 * PAGE})))
    (i64.store (local.get $p) (i64.const 0x1111))
    (i64.store offset=8 (local.get $p) (i64.const 0x2222))
    (loop $again
      (local.set $s (i64.add (local.get $s) (i64.add (i64.load (local.get $p)) (i64.load offset=8 (local.get $p)))))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s)))`;

const bytes = watToBinary(wat);

function native(entry: string, a: number, n: number): bigint {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return (instance.exports[entry] as (a: number, n: number) => bigint)(a, n);
}

const underDogma = (entry: string, a: number, n: number, hooks: KernelHooks = {}): Promise<Outcome> => run(bytes, entry, [a, n], hooks);

describe("checks hoisted out of loops", () => {
  const KICKS = ["a call whose load misses", "a call through the table", "memory.size", "memory.fill", "the loop's own safe point"];
  for (const [kick, what] of KICKS.entries()) {
    it(`a constant page's check ends at ${what}, where the kernel moves the page`, async () => {
      const n = 50;
      expect(native("counters", kick, n)).toBe(BigInt(2 * n));
      let moved = 0;
      const got = await underDogma("counters", kick, n, {
        enter: (process, name, kernel) => {
          // A short run never spends its first slice: the counters' first misses empty it, and
          // each safe point then gives none (underDogma), so that every loop header calls the kernel.
          if (kick === 4 && name !== "safe_point") (process.instance!.exports.__dogma_fuel as WebAssembly.Global).value = 0;
          // The kick's own way in (and, for the safe point, only it), not the counters' first misses.
          const wanted = kick === 4 ? name === "safe_point" : kick === 2 ? name === "memory_size" : kick === 3 ? name === "memory_fill" : name.startsWith("load_");
          if (!wanted || process.space.mapping(X & -PAGE) === null) return;
          movePage(kernel, process, X);
          moved++;
        },
        // Y leaves the TLB once the kernel is done with it, so that the kick enters the kernel again next time round.
        leave: (process, name) => {
          if (kick !== 4 && name !== "safe_point") process.space.unmap(Y);
        },
      });
      expect(moved).toBeGreaterThan(n / 2);
      expect(got).toEqual({ outcome: { kind: "exited", code: 0 }, value: BigInt(2 * n) });
    });
  }

  it("a store to a read-only constant page faults; to a copy-on-write one, writes a copy", async () => {
    const readOnly = await underDogma("counters", 4, 5, {
      prepare: (process) => {
        expect(process.space.protect(X & -PAGE, 1, PTE_READ)).toBe(0);
        // In the TLB for reading: a check of the read half would pass.
        process.space.translate(X, false);
      },
    });
    expect(readOnly.outcome).toMatchObject({ kind: "faulted", fault: { kind: "read-only" } });
    // X's page a copy-on-write view of page 3, read first (so the read half of its entry is filled).
    let source = 0n;
    const copied = await underDogma("counters", 4, 5, {
      prepare: (process) => {
        expect(process.space.copyOnWriteFrom(process.space, 3 * PAGE, X & -PAGE, 1)).toBe(0);
        process.space.translate(X, false);
      },
      enter: (process) => {
        source = new DataView(process.space.read(3 * PAGE + (X % PAGE), 8).buffer).getBigUint64(0, true);
      },
    });
    expect(copied).toEqual({ outcome: { kind: "exited", code: 0 }, value: 10n });
    expect(source).toBe(0n);
  });

  it("loops nested 3000 deep around a static variable's update load and run as natively", async () => {
    // Each loop's plan reads its whole body, nested loops included, and finds nothing of its own to
    // check until the innermost: a function's plans may read only a few times its size in all
    // (LoopPlanner.budget), or this would cost 3000² steps.
    // Written as bytes: the text parser recurses once per level.
    const depth = 3000;
    const leb = (n: number): number[] => {
      const out: number[] = [];
      for (;;) {
        const byte = n & 0x7f;
        n >>= 7;
        if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
        out.push(byte | 0x80);
      }
    };
    // (i64.store offset=K (i32.const X) (i64.add (i64.load offset=K (i32.const X)) (i64.const 1)))
    const bump = (k: number): number[] => [0x41, ...leb(X), 0x41, ...leb(X), 0x29, 3, k, 0x42, 1, 0x7c, 0x37, 3, k];
    const code = [0x00, ...Array.from({ length: depth }, () => [0x03, 0x40]).flat(), ...bump(0), ...bump(8), ...Array<number>(depth).fill(0x0b)];
    code.push(0x41, ...leb(X), 0x29, 3, 0, 0x41, ...leb(X), 0x29, 3, 8, 0x7c, 0x0b);
    const body = [...leb(code.length), ...code];
    const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
    const nested = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      ...section(1, [1, 0x60, 0, 1, 0x7e]),
      ...section(3, [1, 0]),
      ...section(5, [1, 1, 1, 1]),
      ...section(7, [1, 3, 0x72, 0x75, 0x6e, 0, 0]),
      ...section(10, [1, ...body]),
    ]);
    const expected = (new WebAssembly.Instance(new WebAssembly.Module(nested)).exports.run as () => bigint)();
    expect(expected).toBe(2n);
    const t = testMachine();
    const image = await t.loader.load(nested, "nested-loops");
    const process = t.kernel.spawn(image, { entry: "run", mapImage: false });
    await t.kernel.run();
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    expect(process.returnValue).toBe(expected);
  });

  // Under the variant that checks groups off locals at the header too.
  const locals: RewriteVariant = { loopGroupKinds: "all" };
  for (const p of [2 * PAGE + 64, 9 * PAGE - 12, 9 * PAGE - 8, 9 * PAGE - 4, 9 * PAGE - 16]) {
    it(`a span off a local at 0x${p.toString(16)}, across a page or not, reads what natively reads`, async () => {
      const expected = native("span", p, 20);
      expect(await underDogma("span", p, 20, { variant: locals })).toEqual({ outcome: { kind: "exited", code: 0 }, value: expected });
      expect(await underDogma("span", p, 20)).toEqual({ outcome: { kind: "exited", code: 0 }, value: expected });
    });
  }
});
