// Check sharing (src/loader/access-groups.ts, docs/LOADER.md "Accesses sharing one check"): the
// accesses of a straight-line run off one value plus constants share one TLB check. Each case
// here tries to make a shared check wrong: a local rewritten by local.tee between two accesses, a
// span crossing a page, a negative constant and an address past 4 GiB, a group around blocks, ifs
// and loops, a store into a read-only or copy-on-write page, and a slow path between two accesses
// of a group that changes the group's page. Each runs to the same result as natively (or faults
// where native code traps), and the same as without sharing.
import { describe, expect, it } from "vitest";
import { PTE_READ } from "../../src/kernel/page-table.ts";
import type { Process } from "../../src/kernel/process.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { testMachine, type TestMachine } from "../helpers/test-host.ts";
import { watToBinary } from "./wat.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";

const PAGE = 4096;
/** Pages 1-15 hold a pattern (written by $fill at each export's start); page 0x15 a data segment. */
const wat = `(module
  (memory 4 4)
  (data (i32.const 0x15000) "\\01\\00\\00\\00\\00\\00\\00\\00\\10\\00\\00\\00\\00\\00\\00\\00")
  (func $fill (local $a i32)
    (local.set $a (i32.const ${PAGE}))
    (loop $next
      (i32.store (local.get $a) (i32.mul (local.get $a) (i32.const 0x9e3779b1)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br_if $next (i32.lt_u (local.get $a) (i32.const ${16 * PAGE})))))
  (func $touch (param $a i32) (result i64) (i64.load (local.get $a)))

  ;; The store's address is p as it was before the tee in its value: the old p's group.
  (func (export "tee-store") (param $p i32) (param $q i32) (result i64)
    (call $fill)
    (i64.store (local.get $p) (i64.load offset=16 (local.get $p)))
    (i32.store offset=4 (local.get $p) (i32.load (local.tee $p (local.get $q))))
    (i64.add (i64.load offset=8 (local.get $p)) (i64.load (local.get $q))))
  ;; p rewritten inside a block between two loads off it; then p points past memory.
  (func (export "tee-load") (param $p i32) (param $q i32) (result i64) (local $s i64)
    (call $fill)
    (local.set $s (i64.load offset=8 (local.get $p)))
    (i64.add (local.get $s)
      (i64.add (i64.load offset=16 (local.get $p))
        (block (result i64) (local.set $p (local.get $q)) (i64.load offset=8 (local.get $p))))))
  ;; Offsets 0..48 and -8 off p: near a page's end the span crosses it; near 0 or 4 GiB it wraps.
  (func (export "span") (param $p i32) (param $q i32) (result i64)
    (call $fill)
    (i64.add (i64.load (local.get $p))
    (i64.add (i64.load32_u offset=12 (local.get $p))
    (i64.add (i64.load offset=40 (local.get $p))
    (i64.add (i64.load16_s offset=47 (local.get $p))
      (i64.load32_s (i32.add (local.get $p) (i32.const -8))))))))
  (func (export "stores") (param $p i32) (param $q i32) (result i64)
    (call $fill)
    (i32.store8 offset=1 (local.get $p) (i32.const 0x7f))
    (f64.store offset=8 (local.get $p) (f64.load (i32.add (local.get $p) (i32.const -16))))
    (i64.store16 offset=2 (local.get $p) (i64.load offset=8 (local.get $p)))
    (f32.store (i32.sub (local.get $p) (i32.const 4)) (f32.load offset=9 (local.get $p)))
    (i64.add (i64.load (local.get $p)) (i64.load (i32.sub (local.get $p) (i32.const 8)))))
  ;; One group's accesses in an if, after a br_if, after the block's end and in a loop that tees p.
  (func (export "branches") (param $p i32) (param $q i32) (result i64) (local $s i64) (local $n i32)
    (call $fill)
    (local.set $s (i64.load (local.get $p)))
    (block $out
      (if (local.get $q) (then (local.set $s (i64.add (local.get $s) (i64.load offset=8 (local.get $p))))))
      (br_if $out (i32.eqz (local.get $q)))
      (i64.store offset=16 (local.get $p) (local.get $s)))
    (local.set $s (i64.add (local.get $s) (i64.load offset=16 (local.get $p))))
    (local.set $n (i32.const 600))
    (loop $again
      (local.set $s (i64.add (local.get $s) (i64.load offset=4 (local.get $p))))
      (i32.store offset=8 (local.get $p) (i32.wrap_i64 (local.get $s)))
      (local.set $s (i64.add (local.get $s) (i64.load (local.tee $p (i32.add (local.get $p) (i32.const 12))))))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  ;; A span that starts past 4 GiB (offsets only: the span's start is above the head's address).
  (func (export "far") (param $p i32) (param $q i32) (result i64)
    (call $fill)
    (i64.add (i64.load offset=0x2010 (local.get $p)) (i64.load offset=0x2018 (local.get $p))))
  ;; Stores across a page whose frame is not the one after the page before: pages 9 and 8 are
  ;; touched in that order first. Read back after the group (calls) through fresh translations.
  (func (export "span-store") (param $p i32) (param $q i32) (result i64)
    (drop (call $touch (i32.const ${9 * PAGE})))
    (drop (call $touch (i32.const ${8 * PAGE})))
    (i64.store (local.get $p) (i64.const 0x1111))
    (i64.store offset=16 (local.get $p) (i64.const 0x2222))
    (i64.store32 offset=8 (local.get $p) (i64.const 0x3333))
    (i64.add (call $touch (local.get $p)) (i64.add (call $touch (i32.add (local.get $p) (i32.const 16))) (call $touch (i32.add (local.get $p) (i32.const 8))))))
  ;; Accesses off p before a loop, at its top, in an if's arms and after them; p changes at the
  ;; loop's end and the if takes its then arm only the first time round: a check shared past a
  ;; loop header, an else or an end would use p's first page the second time round.
  ;; (The outer loop, run once, puts the first access in a loop: one outside them calls a helper.)
  (func (export "joins") (param $p i32) (param $q i32) (result i64) (local $s i64) (local $n i32) (local $f i32)
    (call $fill)
    (local.set $f (i32.const 1))
    (loop $once
    (local.set $s (i64.load offset=16 (local.get $p)))
    (loop $again
      (local.set $s (i64.add (local.get $s) (i64.load offset=24 (local.get $p))))
      (local.set $p (local.get $q))
      (if (local.get $f)
        (then (local.set $s (i64.add (local.get $s) (i64.load offset=32 (local.get $p)))))
        (else (local.set $s (i64.add (local.get $s) (i64.load offset=40 (local.get $p))))))
      (local.set $s (i64.add (local.get $s) (i64.load offset=48 (local.get $p))))
      (local.set $q (i32.add (local.get $q) (i32.const 256)))
      (local.set $f (i32.const 0))
      (br_if $again (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1))) (i32.const 3)))))
    (local.get $s))
  ;; p - 16 wraps when p < 16: the second load is then past 4 GiB however far its offset brings
  ;; the sum back (it traps natively), even though p - 16 + 4100 is in page 1 beside the first.
  (func (export "wrapped-base") (param $p i32) (param $q i32) (result i64)
    (call $fill)
    (i64.add (i64.load offset=4096 (local.get $p)) (i64.load offset=4100 (i32.add (local.get $p) (i32.const -16)))))
  ;; Static variables: constant addresses, in one page and across one, and one past memory's end.
  (func (export "constants") (param $p i32) (param $q i32) (result i64)
    (call $fill)
    (i64.store (i32.const ${3 * PAGE - 16}) (i64.load (i32.const ${2 * PAGE + 8})))
    (i32.store offset=4 (i32.const ${3 * PAGE - 8}) (i32.load offset=12 (i32.const ${2 * PAGE})))
    (if (i32.gt_u (local.get $p) (i32.const ${4 * 65536})) (then (drop (i32.load (i32.const ${4 * 65536 - 2})))))
    (i64.add (i64.load (i32.const ${3 * PAGE - 16})) (i64.load offset=2 (i32.const ${3 * PAGE - 8}))))
  ;; A load then a store off p: a group checked for writing.
  (func (export "load-store") (param $p i32) (param $q i32) (result i64)
    (drop (call $touch (local.get $p)))
    (i64.store offset=8 (local.get $p) (i64.add (i64.load (local.get $p)) (i64.const 1)))
    (i64.sub (i64.load offset=8 (local.get $p)) (i64.load offset=8 (local.get $q))))
  ;; Two accesses off p with one off q between them, then after a call p+8 again.
  (func (export "between") (param $p i32) (param $q i32) (result i64) (local $s i64)
    (drop (call $touch (local.get $p)))
    (local.set $s (i64.load (local.get $p)))
    (local.set $s (i64.add (local.get $s) (i64.load (local.get $q))))
    (i64.store offset=8 (local.get $p) (i64.const 77))
    (local.set $s (i64.add (local.get $s) (i64.load offset=16 (local.get $p))))
    (i64.add (local.get $s) (call $touch (i32.add (local.get $p) (i32.const 8))))))`;

const bytes = watToBinary(wat);

function native(entry: string, p: number, q: number): { trapped: boolean; value?: bigint } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    return { trapped: false, value: (instance.exports[entry] as (p: number, q: number) => bigint)(p, q) };
  } catch (error) {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    return { trapped: true };
  }
}

interface Outcome {
  outcome: Process["outcome"];
  value: unknown;
}

/**
 * Runs `entry(p, q)` in a fresh process; `prepare` runs before it starts, and `onSlowPath` at every
 * slow-path call of a load or store (its address), before the kernel does the access (it stays
 * on `t`'s kernel: give each hooked run a machine of its own).
 */
async function underDogma(t: TestMachine, entry: string, p: number, q: number, hooks: { prepare?: (process: Process) => void; onSlowPath?: (process: Process, address: number) => void } = {}): Promise<Outcome> {
  const image = await t.loader.load(bytes, "check-sharing");
  let current: Process | null = null;
  if (hooks.onSlowPath) {
    const onSlowPath = hooks.onSlowPath;
    hookMmu(t.kernel, /^(load|store)_/, (_name, original) => (...args: unknown[]) => {
      if (current) onSlowPath(current, ((args[0] as number) + (args[1] as number)) >>> 0);
      return original(...args);
    });
  }
  const process = t.kernel.spawn(image, { entry, entryArgs: [p, q], mapImage: false });
  current = process;
  hooks.prepare?.(process);
  await t.kernel.run();
  return { outcome: process.outcome, value: process.returnValue };
}

/** Addresses that put a group's span inside a page, across one, at memory's end, past it and near 0 and 4 GiB. */
const PLACES = [
  2 * PAGE + 64, 2 * PAGE + 100, 3 * PAGE - 8, 3 * PAGE - 20, 3 * PAGE - 44, 3 * PAGE - 47, 3 * PAGE + 4, 4 * PAGE - 1,
  4 * PAGE + 16, 5 * PAGE - 4, 15 * PAGE + 4000, 4 * 65536 - 16, 4 * 65536 - 48, 4 * 65536 + 8, 2 ** 32 - 8, 2 ** 32 - 48, 0xfffffff0, 0xfffff000, 0xffffeff8, 9 * PAGE - 8, 9 * PAGE - 12,
];

describe("accesses sharing one check", () => {
  for (const entry of ["tee-store", "tee-load", "span", "stores", "branches", "far", "span-store", "joins", "constants"]) {
    it(`${entry}: the same results as natively, wherever the group's span falls`, async () => {
      const t = testMachine();
      const unshared = testMachine({ loader: { rewrite: { groupSpan: 0 } satisfies RewriteVariant } });
      // Spans up to a page, and constant addresses left to their own sequence (variants): groups
      // that cross pages far more often.
      const wide = testMachine({ loader: { rewrite: { groupSpan: 4096, groupConstants: false } satisfies RewriteVariant } });
      for (const p of PLACES) {
        for (const q of [6 * PAGE + 24, 4 * 65536 + 4, 3 * PAGE - 4]) {
          const expected = native(entry, p, q);
          const got = await underDogma(t, entry, p, q);
          const where = `${entry}(0x${p.toString(16)}, 0x${q.toString(16)})`;
          if (expected.trapped) expect(got.outcome, where).toMatchObject({ kind: "faulted" });
          else {
            expect(got.outcome, where).toEqual({ kind: "exited", code: 0 });
            expect(got.value, where).toBe(expected.value);
          }
          expect(got, where).toEqual(await underDogma(unshared, entry, p, q));
          expect(got, where).toEqual(await underDogma(wide, entry, p, q));
        }
      }
    });
  }

  it("an address whose base wrapped below 0 before its offset was added faults, as natively", async () => {
    const t = testMachine();
    expect(native("wrapped-base", 12, 0).trapped).toBe(true);
    expect((await underDogma(t, "wrapped-base", 12, 0)).outcome).toMatchObject({ kind: "faulted", fault: { kind: "out-of-bounds" } });
    expect(await underDogma(t, "wrapped-base", 24, 0)).toEqual({ outcome: { kind: "exited", code: 0 }, value: native("wrapped-base", 24, 0).value });
  });

  it("a store in a group whose page is read-only faults, and one whose page is copy-on-write writes a copy", async () => {
    const t = testMachine();
    const x = 0x16000;
    const readOnly = await underDogma(t, "load-store", x + 64, 0x15000, {
      prepare: (process) => expect(process.space.protect(x, 1, PTE_READ)).toBe(0),
    });
    expect(readOnly.outcome).toMatchObject({ kind: "faulted", fault: { kind: "read-only" } });
    // x's page a copy-on-write view of the data page: the store breaks the sharing, the data stays.
    const copied = await underDogma(t, "load-store", x, 0x15000, {
      prepare: (process) => expect(process.space.copyOnWriteFrom(process.space, 0x15000, x, 1)).toBe(0),
    });
    expect(copied).toEqual({ outcome: { kind: "exited", code: 0 }, value: 2n - 16n });
  });

  it("a slow path between two accesses of a group ends it: the kernel may have changed the group's page", async () => {
    const t = testMachine();
    const p = 2 * PAGE + 512;
    const q = 7 * PAGE;
    // Memory starts zeroed: 0 + 0 (q) + 0 (p+16) + 77 (p+8, read after the group by a call).
    expect(native("between", p, q)).toEqual({ trapped: false, value: 77n });
    expect(await underDogma(t, "between", p, q)).toEqual({ outcome: { kind: "exited", code: 0 }, value: 77n });
    // q's first touch takes the slow path; there p's page is made unreadable: the store after must fault.
    const unreadable = await underDogma(testMachine(), "between", p, q, {
      onSlowPath: (process, address) => {
        if (address >>> 12 === q >>> 12) expect(process.space.protect(p & -PAGE, 1, 0)).toBe(0);
      },
    });
    expect(unreadable.outcome).toMatchObject({ kind: "faulted", fault: { kind: "no-access" } });
    // There p's page is unmapped (its frame freed): p's page reads zeros again, and the store of 77
    // at p+8 must land in the new page, where the call after the group reads it.
    let dropped = false;
    const unmapped = await underDogma(testMachine(), "between", p, q, {
      onSlowPath: (process, address) => {
        if (address >>> 12 === q >>> 12 && !dropped) {
          dropped = true;
          process.space.unmap(p & -PAGE);
        }
      },
    });
    expect(dropped).toBe(true);
    expect(unmapped).toEqual({ outcome: { kind: "exited", code: 0 }, value: 77n });
  });
});
