// Read-ahead asks the store for a touched page's paged-out neighbours only as far as free frames
// above the low-water mark let it keep them: under pressure the kernel read, carried and opened
// neighbours only to drop them (memtest's sweep through a 9920 KiB machine had the pager read five
// pages for every page-in).
import { expect, it } from "vitest";
import { FRAME_KERNEL } from "../../src/kernel/frame-allocator.ts";
import { testMachine } from "../helpers/test-host.ts";
import { TestStore } from "../helpers/test-store.ts";
import { wat } from "../helpers/wat.ts";

const PAGES = 12;

it("asks for neighbours it can keep, and for the touched page alone when memory is short", async () => {
  const t = testMachine({ memory: 4 << 20 });
  const store = new TestStore("none", () => true, 16);
  const paging = t.kernel.enablePaging(store, { storePages: 64, lowWater: 32 });
  const image = await t.loader.load(wat(`(module (memory 1) (data (i32.const 0x1000) "${"\\11".repeat(PAGES * 4096)}") (func (export "_start")))`), "swept");
  const process = t.kernel.spawn(image, { entry: "_start" }); // created, never run: its pages stay
  const evictAll = async () => {
    for (let page = 1; page <= PAGES; page++) (paging as unknown as { evict(p: unknown, page: number, pinned: boolean): boolean }).evict(process, page, false);
    while (paging.stored.inKernelPages > 0) await new Promise((r) => setImmediate(r));
  };

  await evictAll();
  const plenty = store.slotsRead;
  const answer = await paging.fetch(process, 1);
  expect(paging.land(process, 1, answer!)).toBe(true);
  // With frames to spare, the neighbours came with it and were mapped.
  expect(store.slotsRead - plenty).toBe(PAGES);
  expect(paging.readAheadPages).toBe(PAGES - 1);

  await evictAll();
  // Memory short: free frames at the low-water mark.
  const taken: number[] = [];
  while (t.kernel.frames.freeCount > paging.lowWater) taken.push(t.kernel.frames.allocate(FRAME_KERNEL)!);
  const short = store.slotsRead;
  const alone = await paging.fetch(process, 1);
  expect(alone).not.toBeNull();
  expect(store.slotsRead - short).toBe(1);
  expect(paging.readAheadPages).toBe(PAGES - 1);
  for (const frame of taken) t.kernel.frames.release(frame);
});
