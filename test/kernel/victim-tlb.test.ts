// A TLB's victim entries (src/kernel/tlb.ts, docs/LOADER.md "Victim entries"): a fill that
// displaces another page's entry moves it whole to a few entries after the table, where a slow
// path's wrapper finds it and swaps it back without the kernel. They are entries like the table's:
// every flush must reach them, and the invariant checker must see them.
import { describe, expect, it } from "vitest";
import { AddressSpace } from "../../src/kernel/address-space.ts";
import { TLB_AWAY_BIT, TLB_ENTRY_BYTES, TLB_MAX_ENTRIES, TLB_VICTIM_ENTRIES, TLB_WRITE_OFFSET } from "../../src/kernel/constants.ts";
import { FRAME_KERNEL, FrameAllocator } from "../../src/kernel/frame-allocator.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { PTE_READ } from "../../src/kernel/page-table.ts";
import { TLB_INVALID_TAG, tlbFrames } from "../../src/kernel/tlb.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const A = 0x10000;
/** A's page 16 MiB up: the same entry of a TLB of TLB_MAX_ENTRIES. */
const B = A + TLB_MAX_ENTRIES * 4096;

/** A space whose memory may grow past what its TLB covers (a program that declares no maximum). */
function setup() {
  const memory = new PhysicalMemory(4 << 20);
  const frames = new FrameAllocator(memory.frameCount);
  const free = frames.freeCount;
  const space = new AddressSpace(memory, frames, 3, 1400, 65536);
  return { memory, frames, free, space };
}

type Space = ReturnType<typeof setup>["space"];
const entriesFor = (space: Space, address: number) => [...space.tlb.validEntries()].filter((e) => e.address === address);

describe("a TLB's victim entries", () => {
  it("take the whole entry a fill displaces, in a frame after the table", () => {
    const { free, frames, space } = setup();
    expect(space.tlb.entries).toBe(TLB_MAX_ENTRIES);
    expect(space.tlb.victims).toBe(TLB_VICTIM_ENTRIES);
    expect(tlbFrames(TLB_MAX_ENTRIES)).toBe(17);
    // The TLB's 17 frames and the page directory.
    expect(free - frames.freeCount).toBe(18);
    const a = space.translate(A + 8, true);
    space.translate(B, true);
    const victim = TLB_MAX_ENTRIES;
    expect(entriesFor(space, A)).toEqual([
      { write: false, address: A, frame: a >>> 12, home: true, entry: victim },
      { write: true, address: A, frame: a >>> 12, home: true, entry: victim },
    ]);
    expect(entriesFor(space, B).map((e) => e.entry)).toEqual([16, 16]);
    // Round robin: the next displaced entries take the next victims.
    for (let i = 2; i <= TLB_VICTIM_ENTRIES + 1; i++) space.translate(A + i * (B - A), false);
    expect(entriesFor(space, A)).toEqual([]);
    expect(entriesFor(space, B).map((e) => e.entry)).toEqual([victim + 1, victim + 1]);
  });

  it("are dropped by a flush of their page (protect, discard)", () => {
    const { space } = setup();
    space.translate(A, true);
    space.translate(A + 4096, true);
    space.translate(B, true);
    space.translate(B + 4096, true);
    expect(entriesFor(space, A).length).toBe(2);
    expect(space.protect(A, 1, PTE_READ)).toBe(0);
    expect(entriesFor(space, A)).toEqual([]);
    expect(space.discard(A + 4096, 1)).toBe(0);
    expect(entriesFor(space, A + 4096)).toEqual([]);
  });

  it("are dropped when the whole table is (flushAll, and empty when it goes back clean)", () => {
    const { memory, frames, space } = setup();
    space.translate(A, true);
    space.translate(B, true);
    space.tlb.flushAll();
    expect([...space.tlb.validEntries()]).toEqual([]);
    space.translate(A, true);
    space.translate(B, true);
    expect(entriesFor(space, A).length).toBe(2);
    space.tlb.empty();
    expect([...space.tlb.validEntries()]).toEqual([]);
    // And the next space of its size, handed the same frames as they are, finds none.
    space.translate(A, true);
    space.translate(B, true);
    const base = space.tlb.base;
    space.destroy();
    const next = new AddressSpace(memory, frames, 4, 1400, 65536);
    expect(next.tlb.base).toBe(base);
    expect([...next.tlb.validEntries()]).toEqual([]);
  });
});

// No maximum: a TLB of TLB_MAX_ENTRIES with victims.
const idle = wat(`(module (memory 300) (func (export "_start")))`);

async function twoPagesInOneEntry() {
  const t = testMachine({ memory: 64 << 20 });
  const p = t.kernel.spawn(await t.loader.load(idle, "idle"));
  p.space.translate(A, true);
  p.space.translate(B, true);
  const victim = (p.space.tlb.base + TLB_MAX_ENTRIES * TLB_ENTRY_BYTES) >>> 2;
  return { t, p, words: t.machine.memory.words, victim };
}

describe("the invariant checker", () => {
  it("sees a victim entry left behind by an unmap", async () => {
    const { t, p, words, victim } = await twoPagesInOneEntry();
    expect(words[victim]).toBe(A);
    expect(checkInvariants(t.kernel)).toEqual([]);
    const kept = words.slice(victim, victim + 4);
    expect(p.space.discard(A, 1)).toBe(0);
    expect(words[victim]).toBe(TLB_INVALID_TAG);
    expect(checkInvariants(t.kernel)).toEqual([]);
    words.set(kept, victim);
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/read TLB victim entry 0 for 0x00010000 has no page behind it/);
  });

  it("sees a victim entry whose halves are pages of two entries, and an entry holding another entry's page", async () => {
    const { t, p, words, victim } = await twoPagesInOneEntry();
    // Both pages mapped, so that only the index is wrong.
    const next = p.space.translate(A + 4096, true);
    words[victim + 2] = (A + 4096) | TLB_AWAY_BIT;
    words[victim + 3] = next - (A + 4096);
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/write TLB victim entry 0 for 0x00011000: its halves are pages of different entries/);
    words[victim + 2] = TLB_INVALID_TAG;
    expect(checkInvariants(t.kernel)).toEqual([]);
    const entry17 = (p.space.tlb.base + 17 * TLB_ENTRY_BYTES + TLB_WRITE_OFFSET) >>> 2;
    words[entry17] = B | TLB_AWAY_BIT;
    words[entry17 + 1] = p.space.translate(B, false) - B;
    expect(checkInvariants(t.kernel).join("\n")).toMatch(/write TLB entry for 0x01010000 is in entry 17, not its page's 16/);
  });
});

const ROUNDS = 1000;
// Two pages 16 MiB apart, one entry of the TLB, read and written in turn ROUNDS times through
// computed addresses; traps unless the sums are right.
const alternating = wat(`(module
  (memory 300)
  (func (export "_start") (local $i i32) (local $a i32) (local $b i32)
    (local.set $a (i32.const ${A}))
    (local.set $b (i32.const ${B}))
    (loop $again
      (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
      (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${ROUNDS}))))
    (if (i32.ne (i32.load (local.get $a)) (i32.const ${ROUNDS})) (then unreachable))
    (if (i32.ne (i32.load (local.get $b)) (i32.const ${2 * ROUNDS})) (then unreachable))))`);

// An i32 read across pages P and P + 1 while P + 1 (away from its home frame) is in a victim entry:
// the victim tier must leave it to the kernel (its key, P + 1, matches the victim, but the access
// starts in P), or it would read P's bytes from the frame before P + 1's.
const P = 0x20000;
const crossing = wat(`(module
  (memory 300)
  (func (export "_start") (local $i i32) (local $p i32)
    (local.set $p (i32.const ${P + 4094}))
    (i32.store (i32.const ${P + 4092}) (i32.const 0x04030201))
    (i32.store (i32.const ${P + 4096}) (i32.const 0x08070605))
    (loop $again
      (drop (i32.load (i32.const ${P + 4096})))
      (drop (i32.load (i32.const ${P + 4096 + (B - A)})))
      (if (i32.ne (i32.load (local.get $p)) (i32.const 0x06050403)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 10))))))`);

describe("a slow path's wrapper", () => {
  it("swaps a victim entry back without the kernel: two pages in one entry, taken in turn", async () => {
    const t = testMachine({ memory: 64 << 20 });
    let kernelCalls = 0;
    hookMmu(t.kernel, /^(load|store)_i32$/, (_name, original) => (...args: unknown[]) => {
      kernelCalls++;
      return original(...args);
    });
    const p = t.kernel.spawn(await t.loader.load(alternating, "alternating"));
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
    // Without victims, each round's two pages displace each other: 2,000 kernel calls and more.
    expect(kernelCalls).toBeLessThan(10);
  });

  it("leaves an access that crosses into a victim's page to the kernel", async () => {
    const t = testMachine({ memory: 64 << 20 });
    const p = t.kernel.spawn(await t.loader.load(crossing, "crossing"));
    // P + 1's home frame taken first: it gets another frame, so the frame before its frame is not P's.
    const home = (P + 4096 + p.space.tlb.home) >>> 12;
    expect(t.kernel.frames.allocatePreferring(home, FRAME_KERNEL)).toBe(home);
    await t.kernel.run();
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
  });
});
