/**
 * StoredPages, the kernel's map of the backing store: slots are handed out once, come back only
 * when their page is released and no write to them is outstanding, and a full store says so.
 */
import { describe, expect, it } from "vitest";
import { StoredPages, pageKey } from "../../src/kernel/stored-pages.ts";

const sealed = (n: number) => ({ nonce: new Uint8Array(12).fill(n), data: new Uint8Array(4096 + 16).fill(n) });

describe("StoredPages", () => {
  it("gives each page its own slot until the store is full", () => {
    const pages = new StoredPages(3);
    const slots = [pageKey(1, 1), pageKey(1, 2), pageKey(2, 1)].map((key, i) => pages.place(key, 1, 1, sealed(i))!.slot);
    expect(new Set(slots).size).toBe(3);
    expect(pages.place(pageKey(2, 2), 1, 1, sealed(9))).toBe(null);
    expect(pages.get(pageKey(1, 2))!.tag).toEqual(new Uint8Array(16).fill(1));
  });

  it("keeps the blob in the kernel until the store acknowledges it, and after a failed write", () => {
    const pages = new StoredPages(2);
    const a = pages.place(pageKey(1, 1), 1, 1, sealed(1))!;
    const b = pages.place(pageKey(1, 2), 1, 1, sealed(2))!;
    expect(a.inKernel).not.toBe(null);
    pages.written(a, true);
    pages.written(b, false);
    expect(a.inKernel).toBe(null);
    expect(b.inKernel!.data[0]).toBe(2);
  });

  it("frees a slot only once its page is released and its write has settled", () => {
    const pages = new StoredPages(1);
    const a = pages.place(pageKey(1, 1), 1, 1, sealed(1))!;
    // Paged in from the kernel's copy while the write is still out: the slot is not free yet.
    pages.release(pageKey(1, 1));
    expect(pages.freeSlots).toBe(0);
    expect(pages.place(pageKey(1, 2), 1, 1, sealed(2))).toBe(null);
    pages.written(a, true);
    expect(pages.freeSlots).toBe(1);
    expect(pages.place(pageKey(1, 2), 1, 1, sealed(2))!.slot).toBe(a.slot);
  });

  it("forgets every page of a process that ended", () => {
    const pages = new StoredPages(4);
    for (const key of [pageKey(7, 1), pageKey(7, 2), pageKey(8, 1)]) pages.written(pages.place(key, 1, 1, sealed(0))!, true);
    pages.forget(7);
    expect([pages.usedSlots, pages.freeSlots]).toEqual([1, 3]);
    expect(pages.get(pageKey(8, 1))).not.toBe(undefined);
  });

  it("keeps the slot of a page back from the store (not one still in the kernel) until it is released, reinstated or given up", () => {
    const pages = new StoredPages(3);
    const [a, b, c] = [1, 2, 3].map((page) => pages.place(pageKey(1, page), 1, page, sealed(page))!);
    pages.written(a!, true);
    pages.written(b!, true);
    // c's write is still out: the store may not hold it, so its slot is not kept.
    expect(pages.keep(pageKey(1, 3), 1)).toBe(false);
    expect(pages.keep(pageKey(1, 1), 4)).toBe(true);
    expect(pages.keep(pageKey(1, 2), 5)).toBe(true);
    // Back in the process: not out, but its slot still used.
    expect(pages.get(pageKey(1, 1))).toBe(undefined);
    expect(pages.keptAt(pageKey(1, 1))).toMatchObject({ slot: a!.slot, keptVersion: 4 });
    expect([pages.usedSlots, pages.freeSlots, pages.keptSlots]).toEqual([3, 0, 2]);
    // Out again clean: the same record, slot, nonce and tag.
    pages.reinstate(pageKey(1, 1));
    expect(pages.get(pageKey(1, 1))).toBe(a);
    expect(pages.keptAt(pageKey(1, 1))).toBe(undefined);
    // The store full: the oldest kept slot goes first.
    expect(pages.dropKept(5)).toBe(1);
    expect(pages.freeSlots).toBe(1);
    expect(pages.place(pageKey(2, 1), 2, 1, sealed(9))!.slot).toBe(b!.slot);
    expect(() => pages.reinstate(pageKey(1, 2))).toThrow(/no slot kept/);
    pages.written(c!, true);
    expect(pages.keep(pageKey(1, 1), 4)).toBe(true);
    pages.forget(1);
    expect([pages.usedSlots, pages.keptSlots]).toEqual([1, 0]);
  });

  it("offers the pages whose write failed to be written again, once each, until they are written or back", () => {
    const pages = new StoredPages(4);
    const a = pages.place(pageKey(1, 1), 1, 1, sealed(1))!;
    const b = pages.place(pageKey(1, 2), 1, 2, sealed(2))!;
    pages.written(a, false);
    pages.written(b, false);
    expect(pages.inKernelPages).toBe(2);
    pages.release(pageKey(1, 2)); // b came back from the kernel's copy meanwhile
    const again = pages.toWriteAgain(10);
    expect(again).toEqual([a]);
    expect(a.writing).toBe(true);
    expect(pages.toWriteAgain(10)).toEqual([]);
    pages.written(a, true);
    expect(pages.inKernelPages).toBe(0);
  });

  it("hands out slots next-fit: a burst of pages gets a run of consecutive slots, also after others came back", () => {
    const pages = new StoredPages(16);
    const first = [0, 1, 2, 3, 4, 5].map((i) => pages.place(pageKey(1, i), 1, i, sealed(i))!);
    expect(first.map((page) => page.slot)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const page of first) pages.written(page, true);
    // Pages 1 and 3 came back: their slots are free, but the next burst takes a run after the last slot given.
    pages.release(pageKey(1, 1));
    pages.release(pageKey(1, 3));
    const burst = [10, 11, 12].map((i) => pages.place(pageKey(1, i), 1, i, sealed(i))!.slot);
    expect(burst).toEqual([6, 7, 8]);
    // Wrapping around, the freed slots are found again.
    const rest = Array.from({ length: 9 }, (_, i) => pages.place(pageKey(2, i), 2, i, sealed(i))!.slot);
    expect(rest.sort((a, b) => a - b)).toEqual([1, 3, 9, 10, 11, 12, 13, 14, 15]);
    expect(pages.freeSlots).toBe(0);
    expect(pages.place(pageKey(3, 0), 3, 0, sealed(0))).toBe(null);
  });
});
