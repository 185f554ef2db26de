/**
 * PROCESS_PROTECT: a process gives its own private pages the rights none, read or read-write and
 * back. Checked: a store to a read-only page and any access to an unreadable one fault with the
 * right kind and address, even when the TLB held the page before; rights come back; untouched
 * pages get no frame until an access their rights allow; the kernel's own accesses obey the
 * rights; refused arguments change nothing.
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS, Op, PageRights, Rights, SLOT_SELF } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { PTE_READ, PTE_WRITE } from "../../src/kernel/page-table.ts";
import { Script, hostPage, pagesOf, protectPages as protect, runAll, scriptMachine } from "../caps/script.ts";

describe("PROCESS_PROTECT", () => {
  it("makes pages read-only: loads still read, a store faults as read-only at its address", async () => {
    const m = await scriptMachine();
    const s = new Script();
    s.write(0x3000, 0x1234);
    const before = s.read(0x3000);
    const done = protect(s, 0x3000, 2, PageRights.READ);
    const kept = s.read(0x3000);
    const untouched = s.read(0x4008);
    s.write(0x4010, 7);
    const never = s.read(0x3000);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    expect(log.value(p, before)).toBe(0x1234);
    expect(log.status(p, done)).toBe(Status.OK);
    expect(log.value(p, kept)).toBe(0x1234);
    expect(log.value(p, untouched)).toBe(0);
    expect(log.ran(p, never)).toBe(false);
    expect(p.fault).toMatchObject({ kind: "read-only", address: 0x4010 });
  });

  it("makes pages unreadable, then readable and writable again with their bytes", async () => {
    const m = await scriptMachine();
    const s = new Script();
    s.write(0x5000, 0xbeef);
    // The read fills the TLB: the protection must flush it.
    s.read(0x5000);
    protect(s, 0x5000, 1, PageRights.NONE);
    protect(s, 0x5000, 1, PageRights.READ_WRITE);
    const back = s.read(0x5000);
    s.write(0x5004, 1);
    const written = s.read(0x5004);
    protect(s, 0x5000, 1, PageRights.NONE);
    s.read(0x5000);
    const never = s.read(0x3000);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    expect(log.value(p, back)).toBe(0xbeef);
    expect(log.value(p, written)).toBe(1);
    expect(log.ran(p, never)).toBe(false);
    expect(p.fault).toMatchObject({ kind: "no-access", address: 0x5000 });
    expect(m.faults.join("\n")).toContain("no-access at 0x00005000");
  });

  it("faults a store to an unreadable page as no-access", async () => {
    const m = await scriptMachine();
    const s = new Script();
    protect(s, 0x6000, 1, PageRights.NONE);
    s.write(0x6ffc, 3);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    expect(p.fault).toMatchObject({ kind: "no-access", address: 0x6ffc });
  });

  it("gives untouched pages no frame until an access their rights allow", async () => {
    const m = await scriptMachine();
    const s = new Script();
    const start = pagesOf(s);
    protect(s, 0x3000, 4, PageRights.READ);
    const protectedOnly = pagesOf(s);
    s.read(0x3000);
    const afterRead = pagesOf(s);
    protect(s, 0x4000, 3, PageRights.READ_WRITE);
    const restored = pagesOf(s);
    s.write(0x4000, 1);
    const afterWrite = pagesOf(s);
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    const pages = (id: number) => log.answer(p, id).words[7]!;
    expect(p.fault).toBe(null);
    expect(pages(protectedOnly)).toBe(pages(start));
    expect(pages(afterRead)).toBe(pages(start) + 1);
    expect(pages(restored)).toBe(pages(afterRead));
    expect(pages(afterWrite)).toBe(pages(restored) + 1);
  });

  it("holds for the kernel's own accesses on the process's behalf (message buffers, random)", async () => {
    const m = await scriptMachine();
    const p = m.spawn(new Script().end());
    const k = m.kernel;
    expect(k.writeMemory(p, 0x3000, new Uint8Array([1, 2]))).toBe(true);
    expect(p.space.protect(0x3000, 1, PTE_READ)).toBe(Status.OK);
    expect(k.writeMemory(p, 0x3000, new Uint8Array([9]))).toBe(false);
    expect(k.readMemory(p, 0x3000, 2)).toEqual(new Uint8Array([1, 2]));
    expect(p.space.protect(0x3000, 1, 0)).toBe(Status.OK);
    expect(k.readMemory(p, 0x3000, 2)).toBe(null);
    // A range that ends in an unreadable page is refused whole.
    expect(k.readMemory(p, 0x2ffe, 4)).toBe(null);
    expect(p.space.protect(0x3000, 1, PTE_READ | PTE_WRITE)).toBe(Status.OK);
    expect(k.writeMemory(p, 0x3001, new Uint8Array([7]))).toBe(true);
    expect(k.readMemory(p, 0x3000, 2)).toEqual(new Uint8Array([1, 7]));
    // copyWithin (a personality copying from a read buffer into a program's iovec): across pages,
    // nothing written when the destination is read-only, a source unreadable, or the ranges overlap.
    const pattern = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7) & 0xff);
    expect(k.writeMemory(p, 0x4800, pattern)).toBe(true);
    expect(k.copyWithin(p, 0x8100, 0x4800, 6000)).toBe(true);
    expect(k.readMemory(p, 0x8100, 6000)).toEqual(pattern);
    expect(p.space.protect(0x9000, 1, PTE_READ)).toBe(Status.OK);
    expect(k.copyWithin(p, 0x8000, 0x4800, 6000)).toBe(false);
    expect(k.readMemory(p, 0x8000, 2)).toEqual(new Uint8Array([0, 0]));
    expect(p.space.protect(0x3000, 1, 0)).toBe(Status.OK);
    expect(k.copyWithin(p, 0x6000, 0x2f00, 0x200)).toBe(false);
    expect(k.copyWithin(p, 0x4900, 0x4800, 0x200)).toBe(false);
    expect(k.copyWithin(p, 0x4800, 0x4800, 0)).toBe(true);
    expect(k.readMemory(p, 0x4800, 6000)).toEqual(pattern);
    await runAll(m);
  });

  it("refuses ranges that are not private pages of the window, bad rights and a missing right", async () => {
    const m = await scriptMachine();
    const page = hostPage(m);
    const s = new Script();
    s.invoke(2, Op.PAGE_MAP, { words: [0x7000, 1] });
    const refusals = [
      protect(s, 0x3004, 1, PageRights.READ),
      protect(s, 0, 1, PageRights.READ),
      protect(s, 0x1f000, 2, PageRights.READ),
      protect(s, 0x3000, 0, PageRights.READ),
      protect(s, 0x8000_0000, 1, PageRights.READ),
      // 0x7000 holds a Page: the whole request is refused, 0x6000 included.
      protect(s, 0x6000, 2, PageRights.NONE),
    ];
    const badRights = protect(s, 0x3000, 1, 2);
    const noRight = protect(s, 0x3000, 1, PageRights.READ, 3);
    s.write(0x6000, 5);
    const still = s.read(0x6000);
    s.write(0x7000, 6);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(page, ALL_RIGHTS)] });
    p.caps.install(m.kernel.capability(p, ALL_RIGHTS & ~Rights.PROCESS_MEMORY));
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    for (const id of refusals) expect(log.status(p, id)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, badRights)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, noRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.value(p, still)).toBe(5);
    expect(p.fault).toBe(null);
    expect(m.kernel.services.memory.unsignedWords[page.frame * 1024]).toBe(6);
  });

  it("frees every frame of a process that ends with protected pages", async () => {
    const m = await scriptMachine();
    // The first process maps the VM's image for good: count from after it.
    m.spawn(new Script().end());
    await runAll(m);
    const free = m.kernel.frames.freeCount;
    const s = new Script();
    s.write(0x3000, 1);
    protect(s, 0x3000, 5, PageRights.NONE);
    protect(s, 0x4000, 1, PageRights.READ);
    s.read(0x4000);
    s.end();
    m.spawn(s);
    await runAll(m);
    expect(m.kernel.frames.freeCount).toBe(free);
  });
});
