/**
 * PROCESS_DISCARD: a process gives its own private pages' frames back (madvise's DONTNEED).
 * Checked: the pages read zeros afterwards even when the TLB held them (compiled code, both
 * halves), their frames are free again and uncharged, their rights stay, a page shared
 * copy-on-write keeps its other holder's bytes; refused arguments change nothing; another
 * process's pages are not its to discard; a page with the pager comes back, then goes.
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS, Op, PageRights, SLOT_SELF } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { PTE_READ } from "../../src/kernel/page-table.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { Script, hostPage, pagesOf, protectPages as protect, runAll, scriptMachine } from "../caps/script.ts";
import { TestStore } from "../helpers/test-store.ts";
import { testMachine } from "../helpers/test-host.ts";
import { patience } from "../helpers/patience.ts";
import { wat } from "../helpers/wat.ts";

const discard = (s: Script, address: number, pages: number, cap = SLOT_SELF) => s.invoke(cap, Op.PROCESS_DISCARD, { words: [address, pages] });

describe("PROCESS_DISCARD", () => {
  it("gives the frames back: the pages read zeros, even after the TLB held them, and are uncharged", async () => {
    const m = await scriptMachine();
    m.spawn(new Script().end());
    await runAll(m);
    const s = new Script();
    const start = pagesOf(s);
    s.write(0x3000, 0x1234);
    s.write(0x4ffc, 0x5678);
    s.write(0x6000, 9);
    // Loads and stores fill both halves of the TLB entries: the discard must empty them.
    s.read(0x3000);
    s.read(0x4ffc);
    const touched = pagesOf(s);
    const done = discard(s, 0x3000, 2);
    const after = pagesOf(s);
    const first = s.read(0x3000);
    const second = s.read(0x4ffc);
    const kept = s.read(0x6000);
    s.write(0x3000, 7);
    const again = s.read(0x3000);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    const pages = (id: number) => log.answer(p, id).words[7]!;
    expect(p.fault).toBe(null);
    expect(log.status(p, done)).toBe(Status.OK);
    expect(log.value(p, first)).toBe(0);
    expect(log.value(p, second)).toBe(0);
    expect(log.value(p, kept)).toBe(9);
    expect(pages(touched)).toBe(pages(start) + 3);
    expect(pages(after)).toBe(pages(start) + 1);
    expect(log.value(p, again)).toBe(7);
  });

  it("returns the frames to the allocator at once", async () => {
    const m = await scriptMachine();
    const p = m.spawn(new Script().end());
    const k = m.kernel;
    expect(k.writeMemory(p, 0x3000, new Uint8Array(4 * 4096).fill(1))).toBe(true);
    const free = k.frames.freeCount;
    expect(p.space.discard(0x3000, 4)).toBe(Status.OK);
    expect(k.frames.freeCount).toBe(free + 4);
    expect(k.readMemory(p, 0x3000, 4 * 4096)).toEqual(new Uint8Array(4 * 4096));
    // Untouched pages discarded again: nothing to give, nothing changes.
    expect(p.space.discard(0x3000, 4)).toBe(Status.OK);
    expect(k.frames.freeCount).toBe(free + 4);
    await runAll(m);
  });

  it("keeps the pages' rights: a read-only page stays read-only, an unreadable one unreadable", async () => {
    const m = await scriptMachine();
    const s = new Script();
    s.write(0x3000, 5);
    s.write(0x4000, 6);
    protect(s, 0x3000, 1, PageRights.READ);
    protect(s, 0x4000, 1, PageRights.NONE);
    const done = discard(s, 0x3000, 2);
    const zero = s.read(0x3000);
    s.write(0x3000, 1);
    const never = s.read(0x3000);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    expect(log.status(p, done)).toBe(Status.OK);
    expect(log.value(p, zero)).toBe(0);
    expect(log.ran(p, never)).toBe(false);
    expect(p.fault).toMatchObject({ kind: "read-only", address: 0x3000 });
    // The unreadable one stays unreadable (the kernel's own accesses obey the rights), and reads
    // zeros once made readable again.
    const k = m.kernel;
    const q = m.spawn(new Script().end());
    expect(k.writeMemory(q, 0x5000, new Uint8Array([9]))).toBe(true);
    expect(q.space.protect(0x5000, 1, 0)).toBe(Status.OK);
    expect(q.space.discard(0x5000, 1)).toBe(Status.OK);
    expect(k.readMemory(q, 0x5000, 1)).toBe(null);
    expect(q.space.protect(0x5000, 1, PTE_READ)).toBe(Status.OK);
    expect(k.readMemory(q, 0x5000, 1)).toEqual(new Uint8Array([0]));
    await runAll(m);
  });

  it("leaves a copy-on-write sharer its bytes", async () => {
    const m = await scriptMachine();
    const k = m.kernel;
    const a = m.spawn(new Script().end());
    const b = m.spawn(new Script().end());
    expect(k.writeMemory(a, 0x3000, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x3000, 1)).toBe(Status.OK);
    const free = k.frames.freeCount;
    expect(b.space.discard(0x3000, 1)).toBe(Status.OK);
    // The frame still has a holder: nothing comes back to the allocator.
    expect(k.frames.freeCount).toBe(free);
    expect(k.readMemory(a, 0x3000, 3)).toEqual(new Uint8Array([1, 2, 3]));
    // a is the frame's last holder now: its write needs no copy.
    expect(k.writeMemory(a, 0x3000, new Uint8Array([4]))).toBe(true);
    expect(k.frames.freeCount).toBe(free);
    expect(k.readMemory(b, 0x3000, 3)).toEqual(new Uint8Array([0, 0, 0]));
    await runAll(m);
  });

  it("refuses what is not its own private pages, and changes nothing then", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const waiter = new Script();
    waiter.futexWait(0x3000, 0);
    const other = m.spawn(waiter.end());
    const s = new Script();
    s.invoke(2, Op.PAGE_MAP, { words: [0x7000, 1] });
    s.write(0x6000, 5);
    s.write(0x7000, 6);
    const refusals = [
      discard(s, 0x3004, 1),
      discard(s, 0, 1),
      discard(s, 0x1f000, 2),
      discard(s, 0x3000, 0),
      discard(s, 0x8000_0000, 1),
      // 0x7000 holds a Page: the whole request is refused, 0x6000 included.
      discard(s, 0x6000, 2),
    ];
    const others = discard(s, 0x3000, 1, 3);
    const still = s.read(0x6000);
    const pageStill = s.read(0x7000);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL_RIGHTS), m.kernel.capability(other, ALL_RIGHTS)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    for (const id of refusals) expect(log.status(p, id)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, others)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.value(p, still)).toBe(5);
    expect(log.value(p, pageStill)).toBe(6);
    expect(m.kernel.services.memory.unsignedWords[page.frame * 1024]).toBe(6);
  });

  /** Writes `pages` pages from 0x10000 (the first ones go to the pager), discards the first 64, then reads them: their sum. */
  const SWEEPER = wat(`(module
    (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
    (memory 300)
    (func (export "run") (param $pages i32) (result i32 i32) (local $i i32) (local $sum i32) (local $status i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
        (i32.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))) (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (i32.store (i32.const 0x2000) (i32.const ${Op.PROCESS_DISCARD}))
      (i32.store (i32.const 0x2004) (i32.const 2))
      (i32.store (i32.const 0x2008) (i32.const 0))
      (i32.store (i32.const 0x2014) (i32.const 0x10000))
      (i32.store (i32.const 0x2018) (i32.const 64))
      (local.set $status (call $invoke (i32.const 1) (i32.const 0x2000) (i32.const 64)))
      (local.set $i (i32.const 0))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 64)))
        (local.set $sum (i32.add (local.get $sum) (i32.load (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 12))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $status) (local.get $sum))
    (func (export "_start")))`);

  it("brings a page with the pager back before giving it back: the pager's slot and the page agree", async () => {
    const t = testMachine({ memory: 4 << 20 });
    const store = new TestStore();
    const paging = t.kernel.enablePaging(store, { storePages: 8192, lowWater: 64 });
    const image = await t.loader.load(SWEEPER, "sweeper");
    const process = t.kernel.spawn(image, { entry: "run", entryArgs: [2048] });
    await t.kernel.run();
    expect(process.fault).toBe(null);
    expect(process.returnValue).toEqual([Status.OK, 0]);
    // The first pages had gone to the pager: the discard brought them back to give them up.
    expect(store.readKeys).toContain(`${process.pid}:16`);
    expect(paging.evictions).toBeGreaterThan(0);
    expect(checkInvariants(t.kernel)).toEqual([]);
  }, patience(60_000));
});
