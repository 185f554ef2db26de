/**
 * Copy-on-write: PROCESS_COPY_PAGES and PROCESS_CLONE share frames between address spaces until
 * one side writes. Checked against the frame allocator and the reference counts: a copy takes no
 * frames for its pages, each first write takes exactly one (none for the last holder), neither
 * side ever sees the other's writes (the source's write TLB is flushed when its page becomes
 * shared), quotas are charged for the copy at once, refusals change nothing, and every frame comes
 * back when the processes end.
 */
import { describe, expect, it } from "vitest";
import type { MemoryObject } from "../../src/kernel/caps/memory-object.ts";
import { processFixedPages, processKernelFrames } from "../../src/kernel/caps/memory-object.ts";
import { ALL_RIGHTS, Op } from "../../src/kernel/caps/object-abi.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ProcessFault } from "../../src/kernel/fault.ts";
import { PTE_READ, PTE_WRITE } from "../../src/kernel/page-table.ts";
import type { Process } from "../../src/kernel/process.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import { testMachine, type TestMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { Script, runAll, scriptMachine } from "../caps/script.ts";

const PAGE = 4096;
const plain = wat(`(module (memory 2) (func (export "_start")))`);

/** Two processes that never run, the frames free once the image is mapped, and helpers. */
async function setup(memory?: (t: TestMachine, image: LoadedImage) => MemoryObject) {
  const t = testMachine();
  const image = await t.loader.load(plain, "plain");
  // The first process maps the image for good: count free frames after it.
  t.kernel.kill(t.kernel.spawn(image).pid);
  const baseline = t.kernel.frames.freeCount;
  const a = t.kernel.spawn(image);
  const b = t.kernel.spawn(image, { memory: memory?.(t, image) });
  const shared = t.kernel.services.sharedFrames;
  const frameAt = (p: Process, address: number) => p.space.mapping(address)!.frame;
  const fill = (p: Process, address: number, pages: number, seed: number) => {
    for (let i = 0; i < pages; i++) p.space.write(address + i * PAGE, new Uint8Array(PAGE).fill(seed + i));
  };
  const byte = (p: Process, address: number) => p.space.read(address, 1)[0];
  return { t, image, a, b, shared, frameAt, fill, byte, baseline };
}

describe("copy-on-write between address spaces", () => {
  it("shares frames until a write, then gives the writer one frame; the last holder keeps the shared one", async () => {
    const { t, a, b, shared, frameAt, fill, byte, baseline } = await setup();
    fill(a, 0x3000, 8, 1);
    // Give b a page table for the range first, so that the copy itself allocates nothing.
    b.space.write(0x5000, new Uint8Array([0xee]));
    const free = t.kernel.frames.freeCount;
    const residentA = a.space.residentPages;
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x5000, 8)).toBe(Status.OK);
    // b's own page at 0x5000 went back: one frame more free, none taken.
    expect(t.kernel.frames.freeCount).toBe(free + 1);
    for (let i = 0; i < 8; i++) {
      const frame = frameAt(a, 0x3000 + i * PAGE);
      expect(frameAt(b, 0x5000 + i * PAGE)).toBe(frame);
      expect(shared.holders(frame)).toBe(2);
      expect(t.kernel.frames.owner(frame)).toBe(-2);
      expect(byte(b, 0x5000 + i * PAGE + 100)).toBe(1 + i);
    }
    expect(a.space.mapping(0x3000)!.writable).toBe(false);
    expect(b.space.residentPages).toBe(8);
    expect(a.space.residentPages).toBe(residentA);

    const first = frameAt(a, 0x3000);
    b.space.write(0x5000, new Uint8Array([0x99]));
    expect(t.kernel.frames.freeCount).toBe(free);
    expect(frameAt(b, 0x5000)).not.toBe(first);
    expect(byte(b, 0x5000)).toBe(0x99);
    expect(byte(b, 0x5001)).toBe(1);
    expect(byte(a, 0x3000)).toBe(1);
    expect(shared.holders(first)).toBe(1);

    // a is the last holder: it takes the frame back, no copy.
    a.space.write(0x3000, new Uint8Array([0x42]));
    expect(t.kernel.frames.freeCount).toBe(free);
    expect(frameAt(a, 0x3000)).toBe(first);
    expect(shared.holders(first)).toBe(0);
    expect(t.kernel.frames.owner(first)).toBe(a.pid);
    expect(a.space.mapping(0x3000)!.writable).toBe(true);
    expect(byte(b, 0x5000)).toBe(0x99);

    t.kernel.kill(a.pid);
    t.kernel.kill(b.pid);
    expect(t.kernel.frames.freeCount).toBe(baseline);
  });

  it("flushes the source's write TLB: its later writes are its own", async () => {
    const { a, b, fill, byte } = await setup();
    fill(a, 0x3000, 1, 5);
    // The write filled a's write TLB for the page.
    expect(a.space.tlb.hit(true, 0x3000)).toBeGreaterThanOrEqual(0);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x3000, 1)).toBe(Status.OK);
    expect(a.space.tlb.hit(true, 0x3000)).toBe(-1);
    a.space.write(0x3000, new Uint8Array([0x77]));
    expect(byte(a, 0x3000)).toBe(0x77);
    expect(byte(b, 0x3000)).toBe(5);
  });

  it("keeps copy-on-write under protection: a read-only copy faults, made writable it splits", async () => {
    const { a, b, fill, byte, frameAt } = await setup();
    fill(a, 0x3000, 1, 5);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x4000, 1)).toBe(Status.OK);
    expect(b.space.protect(0x4000, 1, PTE_READ)).toBe(Status.OK);
    expect(() => b.space.write(0x4000, new Uint8Array([1]))).toThrow(ProcessFault);
    expect(frameAt(b, 0x4000)).toBe(frameAt(a, 0x3000));
    expect(b.space.protect(0x4000, 1, PTE_READ | PTE_WRITE)).toBe(Status.OK);
    b.space.write(0x4000, new Uint8Array([1]));
    expect(frameAt(b, 0x4000)).not.toBe(frameAt(a, 0x3000));
    expect([byte(a, 0x3000), byte(b, 0x4000)]).toEqual([5, 1]);
  });

  it("copies untouched pages as untouched, and within one space when the ranges do not overlap", async () => {
    const { t, a, fill, byte, frameAt, shared } = await setup();
    fill(a, 0x3000, 2, 9);
    const free = t.kernel.frames.freeCount;
    // 0x5000 is untouched in the source: the copy at 0x9000 stays untouched (no frame).
    expect(a.space.copyOnWriteFrom(a.space, 0x3000, 0x8000, 3)).toBe(Status.OK);
    expect(t.kernel.frames.freeCount).toBe(free);
    expect(a.space.mapping(0xa000)).toBe(null);
    expect(shared.holders(frameAt(a, 0x3000))).toBe(2);
    expect([byte(a, 0x8000), byte(a, 0x9000), byte(a, 0xa000)]).toEqual([9, 10, 0]);
  });

  it("refuses overlapping, out-of-window and non-private ranges, and over quota, changing nothing", async () => {
    const { t, a, b, fill, frameAt, shared } = await setup((t, image) => t.kernel.memoryObject(processFixedPages(image) + 6));
    fill(a, 0x3000, 4, 1);
    const page = new PageObject(t.kernel.services, t.kernel.services.sharedFrames.allocate()!);
    t.kernel.rootMemory.adopt(page, 1);
    t.kernel.capability(page, ALL_RIGHTS);
    expect(page.map(b, 0x9000, true, () => true)).toBe("ok");
    const free = t.kernel.frames.freeCount;
    expect(a.space.copyOnWriteFrom(a.space, 0x3000, 0x4000, 2)).toBe(Status.E_INVALID_ARGUMENT);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x1f000, 2)).toBe(Status.E_BAD_ADDRESS);
    expect(b.space.copyOnWriteFrom(a.space, 0x0, 0x3000, 1)).toBe(Status.E_BAD_ADDRESS);
    expect(b.space.copyOnWriteFrom(a.space, 0x3100, 0x3000, 1)).toBe(Status.E_BAD_ADDRESS);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x3000, 0)).toBe(Status.E_BAD_ADDRESS);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x8000, 2)).toBe(Status.E_BAD_ADDRESS);
    // b's Memory has room for its fixed pages, a page table and 4 more pages: not 5.
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x3000, 4)).toBe(Status.OK);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x10000, 4)).toBe(Status.E_QUOTA);
    expect(b.space.mapping(0x10000)).toBe(null);
    expect(t.kernel.frames.freeCount).toBe(free);
    expect(shared.holders(frameAt(a, 0x3000))).toBe(2);
  });

  it("faults out-of-memory, not wrong bytes, when no frame is left for a split", async () => {
    const { t, a, b, fill, byte } = await setup();
    fill(a, 0x3000, 1, 3);
    expect(b.space.copyOnWriteFrom(a.space, 0x3000, 0x3000, 1)).toBe(Status.OK);
    const taken: number[] = [];
    for (let f = t.kernel.frames.allocate(-1); f !== null; f = t.kernel.frames.allocate(-1)) taken.push(f);
    expect(() => b.space.write(0x3000, new Uint8Array([1]))).toThrow(expect.objectContaining({ kind: "out-of-memory" }));
    for (const f of taken) t.kernel.frames.release(f);
    expect([byte(a, 0x3000), byte(b, 0x3000)]).toEqual([3, 3]);
  });
});

describe("PROCESS_COPY_PAGES", () => {
  it("copies a process's own pages through rewritten code: reads share, writes split", async () => {
    const m = await scriptMachine();
    const s = new Script();
    s.write(0x3000, 0x1111);
    s.write(0x4000, 0x2222);
    const copied = s.invoke(1, Op.PROCESS_COPY_PAGES, { words: [0x3000, 0x5000, 2], caps: [1] });
    const r1 = s.read(0x5000);
    const r2 = s.read(0x6000);
    s.write(0x5000, 0x3333);
    const after = s.read(0x5000);
    const original = s.read(0x3000);
    s.write(0x4000, 0x4444);
    const copy2 = s.read(0x6000);
    const overlap = s.invoke(1, Op.PROCESS_COPY_PAGES, { words: [0x3000, 0x4000, 2], caps: [1] });
    const outside = s.invoke(1, Op.PROCESS_COPY_PAGES, { words: [0x3000, 0x1f000, 2], caps: [1] });
    const noCap = s.invoke(1, Op.PROCESS_COPY_PAGES, { words: [0x3000, 0x5000, 1] });
    s.end();
    const p = m.spawn(s);
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, copied)).toBe(Status.OK);
    expect([log.value(p, r1), log.value(p, r2), log.value(p, after), log.value(p, original), log.value(p, copy2)]).toEqual([0x1111, 0x2222, 0x3333, 0x1111, 0x2222]);
    expect(log.status(p, overlap)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, outside)).toBe(Status.E_BAD_ADDRESS);
    expect(log.status(p, noCap)).toBe(Status.E_INVALID_CAP);
  });
});

describe("PROCESS_CLONE", () => {
  /** Writes its pid at 0x3004, yields (the other runs), exits with that word × 256 + the data byte at 0x3000. */
  const forked = wat(`(module
    (import "dogma" "getpid" (func $getpid (result i32)))
    (import "dogma" "yield" (func $yield))
    (import "dogma" "exit" (func $exit (param i32)))
    (memory 2)
    (data (i32.const 0x3000) "A")
    (func (export "_start")
      (i32.store (i32.const 0x3004) (call $getpid))
      (call $yield)
      (call $exit (i32.add (i32.mul (i32.load (i32.const 0x3004)) (i32.const 256)) (i32.load8_u (i32.const 0x3000))))))`);

  it("clones a created process copy-on-write: both run, each with its own writes", async () => {
    const t = testMachine();
    const image = await t.loader.load(forked, "forked");
    const parent = t.kernel.spawn(await t.loader.load(plain, "plain"));
    const source = t.kernel.createProcess(t.kernel.imageObject(image), t.kernel.rootMemory, parent, 4) as Process;
    // What a creator may have put in it before it runs: 6 pages of its own.
    for (let i = 0; i < 6; i++) source.space.write(0x8000 + i * PAGE, new Uint8Array(PAGE).fill(i + 1));
    const free = t.kernel.frames.freeCount;
    const used = t.kernel.rootMemory.used;
    const clone = t.kernel.cloneProcess(source, t.kernel.rootMemory, parent) as Process;
    expect(typeof clone).toBe("object");
    // The clone's fixed cost and two page tables (its window, its image's global address); its
    // 7 pages are shared, but charged.
    expect(free - t.kernel.frames.freeCount).toBe(processKernelFrames(image) + 2);
    expect(t.kernel.rootMemory.used - used).toBe(processFixedPages(image) + 2 + 7);
    expect(clone.space.residentPages).toBe(source.space.residentPages);
    expect(clone.space.mapping(0x8000)!.frame).toBe(source.space.mapping(0x8000)!.frame);
    expect(clone.state).toBe("created");
    t.kernel.scheduler.makeReady(source);
    t.kernel.scheduler.makeReady(clone);
    await t.kernel.run();
    expect(source.outcome).toEqual({ kind: "exited", code: source.pid * 256 + 65 });
    expect(clone.outcome).toEqual({ kind: "exited", code: clone.pid * 256 + 65 });
    t.kernel.kill(parent.pid);
  });

  it("refuses a process that has run, and answers a capability through invoke", async () => {
    const m = await scriptMachine();
    const image = await m.childImage(new Script().end(7), "child");
    const s = new Script();
    const [child, copy] = [s.reg(), s.reg()];
    s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    s.loadCap(child);
    const cloned = s.invoke(child, Op.PROCESS_CLONE, { caps: [2] });
    s.loadCap(copy);
    s.invoke(copy, Op.PROCESS_START);
    const self = s.invoke(1, Op.PROCESS_CLONE, { caps: [2] });
    s.invoke(copy, Op.PROCESS_WAIT);
    const waited = s.invoke(copy, Op.PROCESS_WAIT);
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(m.kernel.rootMemory, ALL_RIGHTS), m.kernel.capability(m.kernel.imageObject(image), ALL_RIGHTS)] });
    await runAll(m);
    const log = m.log();
    expect(p.fault).toBe(null);
    expect(log.status(p, cloned)).toBe(Status.OK);
    expect(log.status(p, self)).toBe(Status.E_NOT_READY);
    expect(log.answer(p, waited).words).toEqual([3, 7]);
  });
});
