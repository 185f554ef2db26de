// Access streams (src/loader/access-streams.ts, docs/LOADER.md "Access streams"): a load or store
// inside a loop that calls nothing keeps the page it reached last, and while its address stays in
// it, is checked by one compare. Each case makes the kernel change that page while the stream
// holds it (at another access's slow path in the loop, at the loop's safe point, between two
// entries of the loop), or makes it read-only or copy-on-write, or walks across pages, into page 0
// and past 4 GiB: each must run as natively.
import { describe, expect, it } from "vitest";
import { PTE_READ } from "../../src/kernel/page-table.ts";
import type { Process } from "../../src/kernel/process.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { movePage, underDogma, type KernelHooks } from "./kernel-entries.ts";
import { watToBinary } from "./wat.ts";

const PAGE = 4096;
/** The page the walks write (page 5), and the one whose load misses every time round (page 7). */
const P = 5 * PAGE;
const Y = 7 * PAGE;

/**
 * `walk(p, n, kick)`: n times, the i32 at p+8 gets its index added and p steps 4 bytes (a store
 * stream; kick 1: a load of Y, which misses, between two stores); then the sum of what the walk
 * wrote, read back by a second loop.
 * `again(p, r)`: a loop writes 8 i32s from p, a call (whose load the kernel serves), a second
 * loop writes them again (its stream in the same slot, at the same offset); returns their sum.
 * `nested(p, rounds)`: rounds times, a load of Y (which misses) and an inner loop writing 8 i32s
 * from p (a stream kept from one entry of the inner loop to the next); returns two of them.
 * `sum(p, n, step)`: the sum of n i64.load32_u offset=4 at p, p + step, …: across pages, from
 * page 0 (whose byte 0 the program never owns: the walk starts at 1) and past 4 GiB; `far` the
 * same at offset 2 * PAGE + 16, whose sum past 4 GiB wraps into page 2, which the stream holds.
 * `store(p, n)`: n times, an i32.store of n at p+4 (p steps 4); returns the first byte it wrote
 * plus the byte at 3 * PAGE + 20.
 * The data across the boundary of pages 4 and 5 is read by loads that cross it.
 */
const wat = `(module
  (memory 4 4)
  (data (i32.const 1) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10")
  (data (i32.const ${P - 16}) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\1a\\1b\\1c\\1d\\1e\\1f\\20")
  (func $touch (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "walk") (param $p i32) (param $n i32) (param $kick i32) (result i64) (local $i i32) (local $q i32) (local $s i64)
    (local.set $q (local.get $p))
    (loop $write
      (i32.store offset=8 (local.get $p) (local.get $i))
      (if (local.get $kick) (then (local.set $s (i64.extend_i32_u (i32.load (i32.const ${Y}))))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $write (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $s (i64.const 0))
    (loop $read
      (local.set $s (i64.add (i64.mul (local.get $s) (i64.const 3)) (i64.load32_u offset=8 (local.get $q))))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br_if $read (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  (func (export "again") (param $p i32) (param $rounds i32) (result i64) (local $k i32)
    (loop $first
      (i32.store (i32.add (local.get $p) (local.get $k)) (local.get $k))
      (br_if $first (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (i32.const 32))))
    (drop (call $touch (i32.const ${Y})))
    (local.set $k (i32.const 0))
    (loop $second
      (i32.store (i32.add (local.get $p) (local.get $k)) (i32.add (local.get $rounds) (local.get $k)))
      (br_if $second (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (i32.const 32))))
    ;; Read back outside any loop: through the full check, not a stream.
    (i64.add (i64.add (i64.add (i64.load32_u (local.get $p)) (i64.load32_u offset=4 (local.get $p)))
                      (i64.add (i64.load32_u offset=8 (local.get $p)) (i64.load32_u offset=12 (local.get $p))))
             (i64.add (i64.add (i64.load32_u offset=16 (local.get $p)) (i64.load32_u offset=20 (local.get $p)))
                      (i64.add (i64.load32_u offset=24 (local.get $p)) (i64.load32_u offset=28 (local.get $p))))))
  (func (export "nested") (param $p i32) (param $rounds i32) (result i64) (local $k i32) (local $s i64)
    (loop $outer
      (local.set $s (i64.add (local.get $s) (i64.load32_u (i32.const ${Y}))))
      (local.set $k (i32.const 0))
      (loop $inner
        (i32.store (i32.add (local.get $p) (local.get $k)) (i32.add (local.get $rounds) (local.get $k)))
        (br_if $inner (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (i32.const 32))))
      (br_if $outer (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1)))))
    (i64.add (local.get $s) (i64.add (i64.load32_u (local.get $p)) (i64.load32_u offset=28 (local.get $p)))))
  (func (export "sum") (param $p i32) (param $n i32) (param $step i32) (result i64) (local $s i64)
    (loop $again
      (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 7)) (i64.load32_u offset=4 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (local.get $step)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  (func (export "far") (param $p i32) (param $n i32) (param $step i32) (result i64) (local $s i64)
    (loop $again
      (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 7)) (i64.load32_u offset=${2 * PAGE + 16} (local.get $p))))
      (local.set $p (i32.add (local.get $p) (local.get $step)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  (func (export "store") (param $p i32) (param $n i32) (result i64) (local $q i32)
    (local.set $q (local.get $p))
    (loop $again
      (i32.store offset=4 (local.get $p) (local.get $n))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i64.add (i64.load8_u offset=4 (local.get $q)) (i64.load8_u (i32.const ${3 * PAGE + 20})))))`;

const bytes = watToBinary(wat);
/** Streams whose page and addend are locals of the function, and globals of the module. */
const FORMS: Array<[string, RewriteVariant]> = [
  ["in globals, as loaded", {}],
  ["in locals", { streamGlobals: false }],
];

/** What the function returns natively, or "trap". */
function native(entry: string, args: number[]): bigint | "trap" {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    return (instance.exports[entry] as (...a: number[]) => bigint)(...args);
  } catch {
    return "trap";
  }
}

async function asNatively(variant: RewriteVariant, entry: string, args: number[], hooks: KernelHooks = {}): Promise<void> {
  const expected = native(entry, args);
  const got = await underDogma(bytes, entry, args, { variant, ...hooks });
  if (expected === "trap") expect(got.outcome?.kind).toBe("faulted");
  else expect(got).toEqual({ outcome: { kind: "exited", code: 0 }, value: expected });
}

/**
 * Hooks that move page P at each load's slow path while it is mapped (counted in `moves.count`),
 * and take Y out of the TLB after each, so that its load misses the next time round.
 */
function movingPOnLoads(moves: { count: number }): KernelHooks {
  return {
    enter: (process, name, kernel) => {
      if (!name.startsWith("load_") || process.space.mapping(P) === null) return;
      movePage(kernel, process, P);
      moves.count++;
    },
    leave: (process, name) => {
      if (name.startsWith("load_")) process.space.unmap(Y);
    },
  };
}

for (const [form, STREAMS] of FORMS) describe(`access streams (${form})`, () => {
  for (const [kick, what] of ["the loop's own safe point", "another access's slow path"].entries()) {
    it(`a store stream's page ends at ${what}, where the kernel moves the page`, async () => {
      let moved = 0;
      await asNatively(STREAMS, "walk", [P + 100, 600, kick], {
        // A short run never spends its first slice: it starts with none, and each safe point then
        // gives none (underDogma), so that every loop header calls the kernel.
        prepare: (process) => {
          if (kick === 0) (process.instance!.exports.__dogma_fuel as WebAssembly.Global).value = 0;
        },
        enter: (process, name, kernel) => {
          const wanted = kick === 0 ? name === "safe_point" : name.startsWith("load_");
          if (!wanted || process.space.mapping(P) === null) return;
          movePage(kernel, process, P);
          moved++;
        },
        // Y leaves the TLB once the kernel is done with it, so that its load misses next time round.
        leave: (process, name) => {
          if (name.startsWith("load_")) process.space.unmap(Y);
        },
      });
      expect(moved).toBeGreaterThan(300);
    });
  }

  it("a loop's stream starts with no page, though an earlier loop's held its page before a call moved it", async () => {
    const moves = { count: 0 };
    await asNatively(STREAMS, "again", [P + 64, 1000], movingPOnLoads(moves));
    expect(moves.count).toBe(1);
  });

  it("a stream of an inner loop keeps its page from one entry to the next, until the kernel moves it", async () => {
    const moves = { count: 0 };
    await asNatively(STREAMS, "nested", [P + 64, 30], movingPOnLoads(moves));
    expect(moves.count).toBeGreaterThanOrEqual(29);
  });

  for (const [p, n, step] of [[P - 64, 80, 4], [P - 3, 40, 1], [P - 9, 30, 3], [1, 3000, 2], [8, 900, 8], [4 * 65536 - 40, 20, 4], [2 ** 32 - 64, 30, 4], [40, 2, 2 ** 32 - 42]]) {
    it(`a load stream from 0x${(p >>> 0).toString(16)}, ${n} steps of ${step >>> 0}, reads what natively reads (or faults where it traps)`, async () => {
      // Page 4 moved to a frame of its own, so that pages 4 and 5 are not in adjacent frames: a
      // load past page 4 made through its frame would see another frame's bytes.
      await asNatively(STREAMS, "sum", [p | 0, n, step | 0], { prepare: (process, kernel) => movePage(kernel, process, P - PAGE) });
    });
  }

  it("a load stream whose offset takes its address past 4 GiB, back into the page it holds, faults", async () => {
    expect(native("far", [100, 2, 2 ** 32 - 108])).toBe("trap");
    // Page 2 in the TLB from the start, so that the first access fills the stream.
    const inTlb = { prepare: (process: Process) => void process.space.translate(2 * PAGE, false) };
    await asNatively(STREAMS, "far", [100, 2, (2 ** 32 - 108) | 0], inTlb);
    await asNatively(STREAMS, "far", [100, 2, 4], inTlb);
  });

  it("a store stream into a read-only page faults, though the page is in the TLB for reading", async () => {
    const got = await underDogma(bytes, "store", [P + 16, 20], {
      variant: STREAMS,
      prepare: (process) => {
        expect(process.space.protect(P, 1, PTE_READ)).toBe(0);
        process.space.translate(P, false);
      },
    });
    expect(got.outcome).toMatchObject({ kind: "faulted", fault: { kind: "read-only" } });
  });

  it("a store stream into a copy-on-write page writes a copy, the source left alone", async () => {
    const got = await underDogma(bytes, "store", [P + 16, 20], {
      variant: STREAMS,
      prepare: (process) => {
        process.space.write(3 * PAGE, new Uint8Array(PAGE).fill(0x11));
        expect(process.space.copyOnWriteFrom(process.space, 3 * PAGE, P, 1)).toBe(0);
        process.space.translate(P, false);
      },
    });
    // Natively (zero pages) the first byte written, 20: here the source's byte reads 0x11 too.
    expect(native("store", [P + 16, 20])).toBe(20n);
    expect(got).toEqual({ outcome: { kind: "exited", code: 0 }, value: 20n + 0x11n });
  });
});
