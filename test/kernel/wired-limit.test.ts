/**
 * Frames paging cannot take back (a process's TLB and page directory, a Region's and a Page's
 * frames) have a limit once paging is on, whatever the quotas say: an unpinned process asking for
 * more is refused with E_QUOTA, and what is left stays enough for every process to fault its pages
 * in. redteam18: a job's Memory (quota larger than the machine, which is safe only for pages the
 * pager can evict) made spinners until their TLBs left 34 frames free, and the console driver and
 * the shell then faulted "out of memory, no page left to evict".
 */
import { describe, expect, it } from "vitest";
import { ALL_RIGHTS } from "../../src/kernel/caps/object-abi.ts";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { pageableFloor } from "../../src/kernel/kernel-paging.ts";
import { PinLevel } from "../../src/kernel/paging.ts";
import { PAGE_SWEEP, sweepSum } from "../helpers/page-sweep.ts";
import { TestStore } from "../helpers/test-store.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const MEMORY = 4 << 20;
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
});
