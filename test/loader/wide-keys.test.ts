// Wide keys (docs/LOADER.md "A load", mmu-sequences.ts translateWide): an access with an offset
// K > 0 compares its TLB tag with a key computed in 64 bits, so that an effective address past
// 4 GiB, which wraps below K in 32 bits, matches no tag. Each case wraps into page 2 while page 2
// is in the TLB (where a 32-bit key without the wrap term would hit), through every form that
// takes the key: an inline access, an access helper (outside a loop of a looping function), a
// group's head and an access stream's full check; each must trap as natively, and the same code
// with an address that does not wrap must read what natively reads.
import { describe, expect, it } from "vitest";
import type { Process } from "../../src/kernel/process.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { underDogma } from "./kernel-entries.ts";
import { watToBinary } from "./wat.ts";

const PAGE = 4096;
/** The offset each access adds (K > 0: the wide key's form). */
const K = 3 * PAGE + 16;
/** An operand whose sum with K passes 4 GiB and, wrapped to 32 bits, lands 16 bytes into page 2. */
const WRAP = (2 ** 32 - PAGE) | 0;

const wat = `(module
  (memory 4 4)
  (data (i32.const ${2 * PAGE + 16}) "\\2a\\00\\00\\00\\2b\\00\\00\\00")
  (data (i32.const ${3 * PAGE + 16}) "\\07\\00\\00\\00\\08\\00\\00\\00")
  ;; An inline access (a function without a loop).
  (func (export "inline") (param $p i32) (result i64)
    (i64.extend_i32_u (i32.load offset=${K} (local.get $p))))
  ;; An access helper's (outside the loop of a looping function).
  (func (export "helper") (param $p i32) (result i64) (local $i i32) (local $s i32)
    (local.set $s (i32.load offset=${K} (local.get $p)))
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
    (i64.extend_i32_u (i32.add (local.get $s) (local.get $i))))
  ;; A group's head (two loads off p, both with offsets).
  (func (export "group") (param $p i32) (result i64)
    (i64.extend_i32_u (i32.add (i32.load offset=${K} (local.get $p)) (i32.load offset=${K + 4} (local.get $p)))))
  ;; A store with an offset (the write half's key), then the load of what it wrote.
  (func (export "store") (param $p i32) (result i64)
    (i32.store offset=${K} (local.get $p) (i32.const 99))
    (i64.extend_i32_u (i32.load (i32.const ${3 * PAGE + 16}))))
  ;; An access stream's full check (a loop that calls nothing).
  (func (export "stream") (param $p i32) (result i64) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load offset=${K} (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (i64.extend_i32_u (local.get $s))))`;
const bytes = watToBinary(wat);

function native(entry: string, args: number[]): bigint | "trap" {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    return (instance.exports[entry] as (...a: number[]) => bigint)(...args);
  } catch {
    return "trap";
  }
}

/** Page 2 in the TLB for reading and writing before the first instruction. */
const page2InTlb = {
  prepare: (process: Process) => {
    process.space.translate(2 * PAGE, false);
    process.space.translate(2 * PAGE, true);
  },
};

const VARIANTS: Array<[string, RewriteVariant]> = [
  ["as loaded", {}],
  ["streams in locals", { streamGlobals: false }],
];

describe("an access whose operand plus its offset passes 4 GiB faults, with page 2 (where it wraps) in the TLB", () => {
  for (const [name, variant] of VARIANTS) {
    for (const entry of ["inline", "helper", "group", "store", "stream"]) {
      it(`${entry} (${name})`, async () => {
        expect(native(entry, [WRAP])).toBe("trap");
        const got = await underDogma(bytes, entry, [WRAP], { variant, ...page2InTlb });
        expect(got.outcome?.kind).toBe("faulted");
        // The same access without the wrap reads page 3 as natively.
        const expected = native(entry, [0]);
        expect(expected).not.toBe("trap");
        expect(await underDogma(bytes, entry, [0], { variant, ...page2InTlb })).toEqual({ outcome: { kind: "exited", code: 0 }, value: expected });
      });
    }
  }
});
