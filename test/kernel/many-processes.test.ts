/**
 * Many live processes (issue 18): servers each blocked in a receive with pages of their own, each
 * answering a call, all ended with the frame count and quota back where they were. A smaller count
 * here than the soak's 100,000 (test/soak/many-processes.test.ts). Each server declares
 * `(memory 1 1)`, so its TLB is one frame (constants.ts tlbEntriesFor).
 */
import { describe, expect, it } from "vitest";
import { processKernelFrames } from "../../src/kernel/caps/memory-object.ts";
import { TLB_MAX_ENTRIES, TLB_MIN_ENTRIES } from "../../src/kernel/constants.ts";
import { KernelInspector } from "../../src/kernel/inspect.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { quiescent, receiveFor } from "../../src/kernel/serving.ts";
import { callEach, endServers, GROUP, startServers } from "../helpers/many-servers.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const COUNT = 2 * GROUP + 100;

describe("many live processes", () => {
  it(`${COUNT} servers wait with their own pages, each answers a call, and ending them all gives every frame back`, async () => {
    const t = testMachine({ memory: 256 << 20 });
    const kernel = t.kernel;
    const free = kernel.frames.freeCount;
    const used = kernel.rootMemory.used;
    const farm = await startServers(t, COUNT);
    expect(farm.servers.every((s) => s.alive && quiescent(s))).toBe(true);
    // Each has pages of its own (its data and buffers; its pid and count) and a one-frame TLB.
    for (const s of farm.servers.slice(0, 50)) {
      expect(s.space.residentPages).toBe(2);
      expect(s.space.tlb.entries).toBe(TLB_MIN_ENTRIES);
    }
    // Those, its page table, its directory and TLB; its descriptor is a slot of the process table.
    expect(kernel.descriptors.frameCount).toBe(Math.ceil(COUNT / (4096 / 32)));
    expect(free - kernel.frames.freeCount).toBe(COUNT * (processKernelFrames(farm.servers[0]!.image) + 3) + kernel.descriptors.frameCount);
    expect(new KernelInspector(kernel).processes().live).toHaveLength(COUNT);
    expect(checkInvariants(kernel)).toEqual([]);

    expect(await callEach(t, farm)).toBe(0);
    expect(farm.servers.every((s) => s.alive && quiescent(s))).toBe(true);
    expect(checkInvariants(kernel)).toEqual([]);

    await endServers(t, farm);
    expect(kernel.processes.size).toBe(0);
    expect(kernel.frames.freeCount).toBe(free);
    expect(kernel.rootMemory.used).toBe(used);
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it("gives every serving process of a kernel one receive, made once, not one each (what each keeps is marked at every full collection)", () => {
    const a = testMachine().kernel;
    const b = testMachine().kernel;
    expect(receiveFor(a)).toBe(receiveFor(a));
    expect(receiveFor(b)).not.toBe(receiveFor(a));
  });

  it("gives a program that declares no maximum memory the largest TLB, one that declares a small one the smallest, and its own image's pages share those entries", async () => {
    const t = testMachine();
    // Writes a word in each of its pages 1-255, then reads them back along with the first word of
    // its own binary (global space), whose page shares an entry with one of them: each evicts the other.
    const image = (max: string) => t.loader.load(wat(`(module
      (import "dogma" "image_base" (func $image_base (result i32)))
      (memory 16 ${max})
      (func (export "run") (result i32) (local $p i32) (local $sum i32) (local $own i32)
        (local.set $own (call $image_base))
        (local.set $p (i32.const 1))
        (loop $write
          (i32.store (i32.shl (local.get $p) (i32.const 12)) (local.get $p))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $write (i32.lt_u (local.get $p) (i32.const 256))))
        (local.set $p (i32.const 1))
        (loop $read
          (local.set $sum (i32.add (local.get $sum) (i32.load (i32.shl (local.get $p) (i32.const 12)))))
          (if (i32.ne (i32.load (local.get $own)) (i32.const 0x6d736100)) (then (unreachable)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $read (i32.lt_u (local.get $p) (i32.const 256))))
        (local.get $sum)))`), `max-${max || "none"}`);
    const small = t.kernel.spawn(await image("16"), { entry: "run" });
    const large = t.kernel.spawn(await image(""), { entry: "run" });
    expect(small.space.tlb.entries).toBe(TLB_MIN_ENTRIES); // 16 wasm pages: 256 frames
    expect(large.space.tlb.entries).toBe(TLB_MAX_ENTRIES);
    await t.kernel.run();
    expect([small.outcome, large.outcome]).toEqual([{ kind: "exited", code: 0 }, { kind: "exited", code: 0 }]);
    expect([small.returnValue, large.returnValue]).toEqual([(255 * 256) / 2, (255 * 256) / 2]);
  });
});
