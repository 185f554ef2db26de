/**
 * A page with the pager that something is mapped over (PAGE_MAP at a private address) gives its
 * store slot back. The entry went and the slot stayed (redteam17): the kernel's map named a page
 * that was no longer out, and once the address was touched and evicted again the new slot took
 * the old one's place in the map, which was then named by nothing and never freed, not even at
 * the process's end. A process looping over that leaked every slot of the store: no page of any
 * process could be evicted after, and the machine ran out of memory.
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS, Op } from "../../src/kernel/caps/object-abi.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { TestStore } from "../helpers/test-store.ts";
import { testMachine } from "../helpers/test-host.ts";
import { patience } from "../helpers/patience.ts";
import { wat } from "../helpers/wat.ts";

/**
 * Writes 0x10000, sweeps `pages` pages after it (0x10000 goes to the pager), maps the Page of
 * slot 2 over 0x10000 and unmaps it, writes 0x10000 again and sweeps again (it goes out again).
 * Returns the map's and the unmap's statuses and the sum of what 0x10000 read at the end (7).
 */
const MAPPER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 300)
  (func $sweep (param $pages i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
      (i32.store (i32.add (i32.const 0x20000) (i32.shl (local.get $i) (i32.const 12))) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func $page (param $label i32) (param $words i32) (result i32)
    (i32.store (i32.const 0x2000) (local.get $label))
    (i32.store (i32.const 0x2004) (local.get $words))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (i32.store (i32.const 0x200c) (i32.const 0))
    (i32.store (i32.const 0x2010) (i32.const 0))
    (i32.store (i32.const 0x2014) (i32.const 0x10000))
    (i32.store (i32.const 0x2018) (i32.const 1))
    (call $invoke (i32.const 2) (i32.const 0x2000) (i32.const 64)))
  (func (export "run") (param $pages i32) (result i32 i32 i32) (local $mapped i32) (local $unmapped i32)
    (i32.store (i32.const 0x10000) (i32.const 5))
    (call $sweep (local.get $pages))
    (local.set $mapped (call $page (i32.const ${Op.PAGE_MAP}) (i32.const 2)))
    (local.set $unmapped (call $page (i32.const ${Op.PAGE_UNMAP}) (i32.const 1)))
    (i32.store (i32.const 0x10000) (i32.const 7))
    (call $sweep (local.get $pages))
    (local.get $mapped) (local.get $unmapped) (i32.load (i32.const 0x10000)))
  (func (export "_start")))`);

describe("a page with the pager, mapped over", () => {
  it("gives its slot back: no slot is lost, during the process's life or after", async () => {
    const t = testMachine({ memory: 4 << 20 });
    const store = new TestStore();
    const slots = 8192;
    const paging = t.kernel.enablePaging(store, { storePages: slots, lowWater: 64 });
    const frame = t.kernel.services.sharedFrames.allocate()!;
    t.kernel.services.memory.zeroFrame(frame);
    const page = new PageObject(t.kernel.services, frame);
    expect(t.kernel.rootMemory.adopt(page, 1)).toBe(true);
    const image = await t.loader.load(MAPPER, "mapper");
    const process = t.kernel.spawn(image, { entry: "run", entryArgs: [2048], caps: [t.kernel.capability(page, ALL_RIGHTS)] });
    // While it runs, after each burst of evictions: every slot the kernel holds is a page that is out.
    const broken = new Set<string>();
    const reclaim = paging.reclaim.bind(paging);
    paging.reclaim = (...args) => {
      const evicted = reclaim(...args);
      for (const line of checkInvariants(t.kernel)) broken.add(line);
      return evicted;
    };
    await t.kernel.run();
    expect(process.fault).toBe(null);
    expect(process.returnValue).toEqual([Status.OK, Status.OK, 7]);
    // 0x10000 went to the pager twice: before the Page was mapped over it, and after.
    expect(store.pages.get(`${process.pid}:16`)?.length).toBeGreaterThanOrEqual(2);
    expect([...broken]).toEqual([]);
    expect(paging.stored.usedSlots).toBe(0);
    expect(paging.stored.freeSlots).toBe(slots);
    expect(checkInvariants(t.kernel)).toEqual([]);
  }, patience(60_000));
});
