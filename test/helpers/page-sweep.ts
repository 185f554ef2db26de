import { wat } from "./wat.ts";

/**
 * A workload for paging (tests of the pager, bench/paging.ts): `run(pages, rounds)` writes a word
 * in each of `pages` pages from 0x10000, `rounds` times, and returns the sum of what it read back
 * before each write, sweepSum(pages, rounds) when every page came back right.
 */
export const PAGE_SWEEP = wat(`(module
  (memory 300)
  (func (export "run") (param $pages i32) (param $rounds i32) (result i32) (local $r i32) (local $i i32) (local $a i32) (local $sum i32)
    (block $all (loop $round
      (br_if $all (i32.ge_u (local.get $r) (local.get $rounds)))
      (local.set $i (i32.const 0))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
        (local.set $a (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))))
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $a))))
        (i32.store (local.get $a) (i32.add (local.get $i) (local.get $r)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $round)))
    (local.get $sum))
  (func (export "_start")))`);

/** What a run(pages, rounds) of PAGE_SWEEP (or a workload that writes the same words) returns when every page came back right. */
export function sweepSum(pages: number, rounds: number): number {
  let sum = 0;
  for (let r = 1; r < rounds; r++) for (let i = 0; i < pages; i++) sum = (sum + i + r - 1) | 0;
  return sum;
}
