/**
 * Frames paging cannot take back (a process's TLB and page directory, a Region's and a Page's
 * frames) have a limit once paging is on, whatever the quotas say: an unpinned process asking for
 * more is refused with E_QUOTA, and what is left stays enough for every process to fault its pages
 * in. redteam18: a job's Memory (quota larger than the machine, which is safe only for pages the
 * pager can evict) made spinners until their TLBs left 34 frames free, and the console driver and
 * the shell then faulted "out of memory, no page left to evict".
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS, Op, SLOT_SELF } from "../../src/kernel/caps/object-abi.ts";
import { invoke } from "../../src/kernel/caps/invoke.ts";
import { MAX_MESSAGE_BYTES } from "../../src/kernel/message.ts";
import type { Process } from "../../src/kernel/process.ts";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { pageableFloor } from "../../src/kernel/kernel-paging.ts";
import { PinLevel } from "../../src/kernel/paging.ts";
import { PAGE_SWEEP, sweepSum } from "../helpers/page-sweep.ts";
import { TestStore } from "../helpers/test-store.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { ProcessFault } from "../../src/kernel/fault.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";

const MEMORY = 4 << 20;
/** Where `invokeAs` writes its message in the process's memory. */
const MESSAGE = 0x8000;
const IDLE = wat(`(module (memory 1) (func (export "_start")))`);
async function pagingMachine() {
  const t = testMachine({ memory: MEMORY });
  const paging = t.kernel.enablePaging(new TestStore(), { storePages: 8192, lowWater: 64 });
  const idle = await t.loader.load(IDLE, "idle");
  const sweep = await t.loader.load(PAGE_SWEEP, "sweep");
  const idleImage = t.kernel.imageObject(idle);
  t.kernel.imageObject(sweep);
  // An unpinned process with a Memory far larger than the machine, as a job of the shell has.
  const attacker = t.kernel.spawn(idle);
  const memory = t.kernel.memoryObject();
  expect(memory.quota).toBeGreaterThan(2 * t.kernel.frames.frameCount);
  return { t, paging, idleImage, sweep, attacker, memory };
}

describe("the limit on frames paging cannot evict", () => {
  it("refuses an unpinned process's spawns past it, and a process can still page through what is left", async () => {
    const { t, paging, idleImage, sweep, attacker, memory } = await pagingMachine();
    let made = 0;
    for (;;) {
      const child = t.kernel.createProcess(idleImage, memory, attacker, 4);
      if (typeof child === "number") {
        expect(child).toBe(Status.E_QUOTA);
        break;
      }
      made++;
    }
    expect(made).toBeGreaterThan(10);
    const frames = t.kernel.frames;
    expect(frames.wiredCount).toBeLessThanOrEqual(frames.wiredLimit);
    expect(frames.frameCount - frames.wiredCount).toBeGreaterThanOrEqual(pageableFloor(frames.frameCount, paging));
    // Twice what is left for pages: it runs only by paging, and runs to its right answer.
    const pages = 2 * pageableFloor(frames.frameCount, paging);
    const sweeper = t.kernel.spawn(sweep, { entry: "run", entryArgs: [pages, 2] });
    await t.kernel.run();
    expect(sweeper.fault).toBe(null);
    expect(sweeper.returnValue).toBe(sweepSum(pages, 2));
    expect(paging.evictions).toBeGreaterThan(0);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  it("refuses an unpinned process's Regions past it, and not a pinned one's", async () => {
    const { t, attacker, memory } = await pagingMachine();
    const slot = attacker.caps.install(new Capability(memory, ALL_RIGHTS));
    let pages = 0;
    for (;;) {
      const made = t.kernel.createRegionFor(attacker, slot, 16);
      if (typeof made === "number") {
        expect(made).toBe(Status.E_QUOTA);
        break;
      }
      pages += 16;
    }
    expect(pages).toBeGreaterThan(64);
    const frames = t.kernel.frames;
    expect(frames.wiredCount).toBeLessThanOrEqual(frames.wiredLimit);
    // The pager's path must never wait on the limit: a pinned process is not held to it.
    attacker.pinLevel = PinLevel.PINNED;
    expect(typeof t.kernel.createRegionFor(attacker, slot, 16)).toBe("object");
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  // redteam19: an Image's pages get kernel frames (never paged out) as they are read, charged to
  // its Memory's quota only; a job with a quota past the machine mapped a binary larger than the
  // machine (MEMORY_CREATE_IMAGE, IMAGE_MAP) and read a byte of each page until no frame was left.
  it("refuses an unpinned process the frames of an Image's pages past it, and not a pinned one", async () => {
    const { t, paging, sweep, attacker, memory } = await pagingMachine();
    const frames = t.kernel.frames;
    const big = await t.loader.load(withCustomSection(IDLE, frames.frameCount * PAGE_SIZE), "big");
    const image = t.kernel.imageObject(big);
    expect(memory.adopt(image, 0)).toBe(true);
    attacker.space.mapShared(image.globalAddress, image.frames, image);
    let read = 0;
    let refusal: unknown = null;
    for (let page = 0; page < image.frames.length && refusal === null; page++) {
      try {
        attacker.space.translate(image.globalAddress + page * PAGE_SIZE, false);
        read++;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(ProcessFault);
    expect(String((refusal as ProcessFault).message)).toMatch(/cannot take back/);
    expect(read).toBeGreaterThan(64);
    expect(frames.wiredCount).toBeLessThanOrEqual(frames.wiredLimit);
    // A pinned process (the fs installing the boot modules) is not held to it.
    const level = attacker.pinLevel;
    attacker.pinLevel = PinLevel.PINNED;
    expect(() => attacker.space.translate(image.globalAddress + read * PAGE_SIZE, false)).not.toThrow();
    attacker.pinLevel = level;
    // What is left still pages: a sweep of twice the floor runs to its answer.
    const pages = 2 * pageableFloor(frames.frameCount, paging);
    const sweeper = t.kernel.spawn(sweep, { entry: "run", entryArgs: [pages, 2] });
    await t.kernel.run();
    expect(sweeper.fault).toBe(null);
    expect(sweeper.returnValue).toBe(sweepSum(pages, 2));
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  // redteam19: sharing a private page copy-on-write makes its frame one paging cannot take back.
  // A process copied its pages elsewhere in its own memory (PROCESS_COPY_PAGES) and discarded
  // them, over and over: each round left its frames with the copies only, wired, till none was left.
  it("refuses an unpinned process copy-on-write copies of its own pages past it", async () => {
    const { t, attacker } = await pagingMachine();
    const frames = t.kernel.frames;
    const pages = 16;
    const from = 0x10000;
    attacker.space.grow(128);
    let status: number = Status.OK;
    let rounds = 0;
    while (status === Status.OK && rounds < 100) {
      for (let i = 0; i < pages; i++) attacker.space.translate(from + i * PAGE_SIZE, true);
      const to = 0x20000 + rounds * pages * PAGE_SIZE;
      status = invokeAs(t, attacker, SLOT_SELF, Op.PROCESS_COPY_PAGES, [from, to, pages], [SLOT_SELF]).status;
      if (status !== Status.OK) break;
      expect(invokeAs(t, attacker, SLOT_SELF, Op.PROCESS_DISCARD, [from, pages]).status).toBe(Status.OK);
      rounds++;
    }
    expect(status).toBe(Status.E_QUOTA);
    expect(rounds).toBeGreaterThan(10);
    expect(frames.wiredCount).toBeLessThanOrEqual(frames.wiredLimit);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  // redteam19: a copy-on-write clone of a Region costs no frame until a page of it is written;
  // clones of one 16-page Region, each page written, took every frame.
  it("refuses an unpinned process the split pages of Region clones past it", async () => {
    const { t, attacker, memory } = await pagingMachine();
    const frames = t.kernel.frames;
    const slot = attacker.caps.install(new Capability(memory, ALL_RIGHTS));
    const region = t.kernel.createRegionFor(attacker, slot, 16);
    if (typeof region === "number") throw new Error(`no Region: ${region}`);
    let refusal: unknown = null;
    let clones = 0;
    while (refusal === null && clones < 200) {
      const clone = invokeAs(t, attacker, region.slot, Op.REGION_CLONE, [], [slot]);
      expect(clone.status).toBe(Status.OK);
      // Mapped in full (REGION_INFO), or refused a page table: the frames' limit is past.
      const info = invokeAs(t, attacker, clone.caps[0]!, Op.REGION_INFO, []);
      if (info.status !== Status.OK) {
        refusal = info.status;
        break;
      }
      const address = info.words[0]!;
      clones++;
      for (let i = 0; i < 16 && refusal === null; i++) {
        try {
          attacker.space.translate(address + i * PAGE_SIZE, true);
        } catch (error) {
          refusal = error;
        }
      }
    }
    expect(refusal).toBeInstanceOf(ProcessFault);
    expect(clones).toBeGreaterThan(10);
    expect(frames.wiredCount).toBeLessThanOrEqual(frames.wiredLimit);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  // redteam19: PAGE_COPY shares the copied Page's frame and gives the target's back, so Pages made
  // under the limit and each made a copy of one held one frame; each then mapped writable got a
  // frame of its own again, past the limit.
  it("refuses an unpinned process the frames of shared Pages made its own past it", async () => {
    const { t, attacker, memory } = await pagingMachine();
    const frames = t.kernel.frames;
    const slot = attacker.caps.install(new Capability(memory, ALL_RIGHTS));
    attacker.space.grow(64);
    const made = invokeAs(t, attacker, slot, Op.MEMORY_CREATE_PAGE, []);
    expect(made.status).toBe(Status.OK);
    const original = made.caps[0]!;
    // As many Pages as the table holds, each a copy of the first: one frame between them all.
    const copies: number[] = [];
    while (attacker.caps.free > 0) {
      const page = invokeAs(t, attacker, slot, Op.MEMORY_CREATE_PAGE, []);
      expect(page.status).toBe(Status.OK);
      expect(invokeAs(t, attacker, original, Op.PAGE_COPY, [], [page.caps[0]!]).status).toBe(Status.OK);
      copies.push(page.caps[0]!);
    }
    expect(copies.length).toBeGreaterThan(frames.wiredLimit - frames.wiredCount);
    // Each mapped writable gets a frame of its own.
    let status: number = Status.OK;
    let mapped = 0;
    for (const page of copies) {
      status = invokeAs(t, attacker, page, Op.PAGE_MAP, [0x10000 + mapped * PAGE_SIZE, 1]).status;
      if (status !== Status.OK) break;
      mapped++;
    }
    expect(status).toBe(Status.E_QUOTA);
    expect(mapped).toBeGreaterThan(64);
    expect(frames.wiredCount).toBeLessThanOrEqual(frames.wiredLimit);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });
});

/** `process` invokes `cap` (as its code would, through its buffer): the status, and the answer's words and capabilities. */
function invokeAs(t: ReturnType<typeof testMachine>, process: Process, cap: number, label: number, words: number[], caps: number[] = []) {
  const message = new Uint32Array([label, words.length, caps.length, 0, 0, ...words, ...caps]);
  process.space.write(MESSAGE, new Uint8Array(message.buffer));
  const status = invoke(t.kernel, process, cap, { ptr: MESSAGE, capacity: MAX_MESSAGE_BYTES });
  if (typeof status !== "number") throw new Error("the invoke blocked");
  const answer = new Uint32Array(process.space.read(MESSAGE, MAX_MESSAGE_BYTES).slice().buffer);
  const n = answer[1]!;
  return { status, words: [...answer.subarray(5, 5 + n)], caps: [...answer.subarray(5 + n, 5 + n + answer[2]!)] };
}

/** `module` with a custom section of `size` bytes of payload appended (a binary as large as one likes). */
function withCustomSection(module: Uint8Array, size: number): Uint8Array {
  const name = [1, 0x78]; // "x"
  const body = size + name.length;
  const leb: number[] = [];
  for (let n = body; ; ) {
    const byte = n & 0x7f;
    n >>>= 7;
    if (n === 0) {
      leb.push(byte);
      break;
    }
    leb.push(byte | 0x80);
  }
  const out = new Uint8Array(module.length + 1 + leb.length + body);
  out.set(module);
  out.set([0, ...leb, ...name], module.length);
  return out;
}
