/**
 * Clean pages (docs/MEMORY.md "Clean pages"): a page that came back from the store and was not
 * written since goes out again to the slot it came from, with nothing sealed or written; a page
 * written since, by the process or by the kernel on its behalf, is sealed anew at a newer version,
 * and what the store held of it before is refused. Checked with a workload of four times physical
 * memory that writes its pages, reads them twice, writes them again, has the kernel write into
 * them, and checks every word it ever wrote.
 */
import { describe, expect, it } from "vitest";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { testMachine } from "../helpers/test-host.ts";
import { type Malice, TestStore } from "../helpers/test-store.ts";
import { wat } from "../helpers/wat.ts";
import { patience } from "../helpers/patience.ts";

const MEMORY = 4 << 20;
const PAGES = (4 * MEMORY) / 4096;

/**
 * `run(pages)`: from 0x10000, writes two words of each page (tag 1), checks them twice, writes
 * them again (tag 2), checks twice, has `arg_get` write argument 1 ("hello") at byte 8 of each
 * page, checks the words and then the kernel's bytes. A wrong word or byte traps (unreachable);
 * 1 when all were right.
 */
const WORKLOAD = wat(`(module
  (import "dogma" "arg_get" (func $arg_get (param i32 i32 i32) (result i32)))
  (memory 300)
  (func $at (param $i i32) (result i32) (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))))
  (func $write (param $pages i32) (param $tag i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (i32.store (call $at (local.get $i)) (i32.add (i32.mul (local.get $i) (i32.const 3)) (local.get $tag)))
      (i32.store offset=4092 (call $at (local.get $i)) (i32.xor (local.get $i) (i32.shl (local.get $tag) (i32.const 20))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func $check (param $pages i32) (param $tag i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (if (i32.ne (i32.load (call $at (local.get $i))) (i32.add (i32.mul (local.get $i) (i32.const 3)) (local.get $tag)))
        (then unreachable))
      (if (i32.ne (i32.load offset=4092 (call $at (local.get $i))) (i32.xor (local.get $i) (i32.shl (local.get $tag) (i32.const 20))))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func $args (param $pages i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (if (i32.ne (call $arg_get (i32.const 1) (i32.add (call $at (local.get $i)) (i32.const 8)) (i32.const 64)) (i32.const 5))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func $checkArgs (param $pages i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      ;; "hell" and "o"
      (if (i32.ne (i32.load offset=8 (call $at (local.get $i))) (i32.const 0x6c6c6568))
        (then unreachable))
      (if (i32.ne (i32.load8_u offset=12 (call $at (local.get $i))) (i32.const 0x6f))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func (export "run") (param $pages i32) (result i32)
    (call $write (local.get $pages) (i32.const 1))
    (call $check (local.get $pages) (i32.const 1))
    (call $check (local.get $pages) (i32.const 1))
    (call $write (local.get $pages) (i32.const 2))
    (call $check (local.get $pages) (i32.const 2))
    (call $check (local.get $pages) (i32.const 2))
    (call $args (local.get $pages))
    (call $check (local.get $pages) (i32.const 2))
    (call $checkArgs (local.get $pages))
    (i32.const 1))
  (func (export "_start")))`);

async function run(store: TestStore, storePages = 8192) {
  const t = testMachine({ memory: MEMORY });
  const paging = t.kernel.enablePaging(store, { storePages, lowWater: 64 });
  const image = await t.loader.load(WORKLOAD, "clean-workload");
  t.kernel.imageObject(image);
  const free = t.kernel.frames.freeCount;
  const process = t.kernel.spawn(image, { entry: "run", entryArgs: [PAGES], args: ["clean-workload", "hello"] });
  await t.kernel.run();
  return { t, paging, process, free, value: process.returnValue };
}

describe("clean pages", () => {
  it("go back to their slot unsealed and unwritten; pages written since, by the process or the kernel, are sealed anew and come back right", async () => {
    const store = new TestStore();
    const { t, paging, process, free, value } = await run(store);
    expect(process.fault).toBe(null);
    expect(value).toBe(1);
    // Four of the eight passes only read: most of their evictions sealed and wrote nothing.
    expect(paging.cleanEvictions).toBeGreaterThan(3 * PAGES);
    expect(store.writes).toBe(paging.evictions - paging.cleanEvictions);
    expect(store.writes).toBeLessThan(paging.evictions / 2);
    expect(checkInvariants(t.kernel)).toEqual([]);
    expect(paging.stored.usedSlots).toBe(0);
    expect(t.kernel.frames.freeCount).toBe(free);
  }, patience(120_000));

  it("give their kept slots up when the store is full, and the workload still ends right", async () => {
    // Room for what is out, not also for a kept slot of every resident page.
    const store = new TestStore();
    const { process, value, paging } = await run(store, PAGES - 256);
    expect(process.fault).toBe(null);
    expect(value).toBe(1);
    expect(paging.cleanEvictions).toBeGreaterThan(0);
    expect(paging.stored.usedSlots).toBe(0);
  }, patience(120_000));

  for (const malice of ["replay", "swap", "flip"] as const satisfies readonly Malice[]) {
    it(`are refused when the pager ${malice === "replay" ? "answers a page written since with its older copy" : malice === "swap" ? "swaps them" : "flips a bit of one"}`, async () => {
      const store = new TestStore(malice);
      const { process, value, t } = await run(store);
      expect(value).toBe(undefined);
      expect(process.fault).toMatchObject({ kind: "page-integrity" });
      expect(t.kernel.paging!.refusals).toBe(1);
      if (malice === "replay") {
        // Only a page with two versions can be replayed: it was written again after coming back clean.
        expect(process.fault!.message).toMatch(/version 2\b/);
      }
    }, patience(60_000));
  }
});
