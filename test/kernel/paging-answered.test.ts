/**
 * A page-in's answer keeps the page's slot until it is mapped. The slot was freed when the answer
 * came, and the bytes mapped only when the scheduler next ran the process (redteam17): meanwhile
 * (other processes running) the page was out with no slot, against paging.ts's invariant, and a
 * debugger's read or a cloner's copy of it met "kernel bug: ... paged out but has no slot" and
 * failed. Now a second fetch in that time reads the slot again, and the first answer, mapped
 * after, changes nothing.
 */
import { expect, it } from "vitest";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { testMachine } from "../helpers/test-host.ts";
import { TestStore } from "../helpers/test-store.ts";
import { wat } from "../helpers/wat.ts";

const PAGE = 2;

it("keeps a page out in its slot until its answer is mapped: a second fetch meanwhile brings it back", async () => {
  const t = testMachine({ memory: 4 << 20 });
  const paging = t.kernel.enablePaging(new TestStore(), { storePages: 64, lowWater: 4 });
  const image = await t.loader.load(wat(`(module (memory 1) (data (i32.const 0x2000) "first") (func (export "_start")))`), "holder");
  const process = t.kernel.spawn(image, { entry: "_start" }); // created, never run: its pages stay
  const evict = () => (paging as unknown as { evict(p: unknown, page: number, pinned: boolean): boolean }).evict(process, PAGE, false);
  expect(evict()).toBe(true);
  while (paging.stored.inKernelPages > 0) await new Promise((r) => setImmediate(r));

  // The process's own page-in was answered; it has not run since.
  const answer = await paging.fetch(process, PAGE);
  expect(answer).not.toBeNull();
  expect(checkInvariants(t.kernel)).toEqual([]);
  // A debugger's (or a cloner's) page-in of it now.
  const again = await paging.fetch(process, PAGE);
  expect(again).not.toBeNull();
  expect(paging.land(process, PAGE, again!)).toBe(true);
  expect(paging.land(process, PAGE, answer!)).toBe(true);
  expect(process.space.pagedVersion(PAGE)).toBeNull();
  // Its slot is kept for it while it stays clean (a swap cache), and holds nothing else.
  expect(paging.stored.usedSlots).toBe(paging.stored.keptSlots);
  expect(new TextDecoder().decode(t.kernel.readMemory(process, PAGE * 4096, 5)!)).toBe("first");
  expect(checkInvariants(t.kernel)).toEqual([]);
});
