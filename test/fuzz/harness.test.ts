/**
 * The fuzz and isolation harness must see what it claims to see: a write the kernel should never
 * have let through, made here on purpose by a test-only import that writes physical memory
 * directly, is reported wherever it lands outside the process's own frames, and not inside them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadedImage } from "../../src/kernel/image.ts";
import { sig, type ImportModuleSpec } from "../../src/kernel/personality.ts";
import type { KernelServices } from "../../src/kernel/services.ts";
import { FRAME, FuzzMachine, canaryOf } from "./fuzz-host.ts";
import { wat } from "./wat.ts";

/** `evil.poke(physical, value)`: what a hole in the MMU would let a process do. */
const evil = (memory: () => DataView): ImportModuleSpec<KernelServices> => ({
  module: "evil",
  functions: { poke: sig(["i32", "i32"], []), own_frame: sig([], ["i32"]) },
  bind: (k) => ({
    poke: (physical: number, value: number) => memory().setUint32(physical >>> 0, value, true),
    // The frame behind the caller's address 0x1000 (touching it first).
    own_frame: () => {
      return k.current().space.translate(0x1000, true) >>> 12;
    },
  }),
});

let host: FuzzMachine;
let poker: LoadedImage;

beforeAll(async () => {
  let view: DataView | null = null;
  host = new FuzzMachine({ memory: 2 << 20, extraImports: [evil(() => view!)] });
  view = new DataView(host.machine.memory.memory.buffer);
  await host.start();
  poker = await host.loader.load(
    wat(`(module (import "evil" "poke" (func $poke (param i32 i32))) (import "evil" "own_frame" (func $own (result i32))) (memory 1 1)
      (func (export "poke") (param $at i32) (call $poke (local.get $at) (i32.const 0x41414141)))
      (func (export "poke_own") (call $poke (i32.add (i32.shl (call $own) (i32.const 12)) (i32.const 16)) (i32.const 0x41414141))))`),
    "poker",
  );
});

afterAll(async () => {
  await host.stop();
});

describe("the isolation harness", () => {
  it("reports a write to a free frame (which holds a canary during the run)", async () => {
    const frames = host.kernel.frames;
    let free = frames.frameCount - 1;
    while (frames.isUsed(free)) free--;
    const run = await host.runIsolated(poker, { entry: "poke", entryArgs: [free * FRAME + 8], mapImage: false });
    expect(run.strayWrites).toEqual([{ frame: free, ownerBefore: 0, ownerAfter: 0, offset: 8, before: canaryOf(free), after: 0x41414141 }]);
  });

  it("reports a write to the victim's memory, and the victim's own check sees it too", async () => {
    const [, frame] = host.victimPages[5]!;
    const original = host.machine.memory.words[(frame * FRAME + 64) >>> 2]!;
    const run = await host.runIsolated(poker, { entry: "poke", entryArgs: [frame * FRAME + 64], mapImage: false });
    expect(run.strayWrites.map((s) => s.frame)).toEqual([frame]);
    expect(run.problems.join("\n")).toContain(`(frame ${frame}) word at +64`);
    host.machine.memory.words[(frame * FRAME + 64) >>> 2] = original;
    expect(host.checkVictim()).toEqual([]);
  });

  it("reports a write to a kernel frame that is not this process's", async () => {
    // Frame 0 is the kernel's and never handed out; the victim's TLB is another kernel frame.
    const victimTlb = host.victim.space.tlb.base;
    const run = await host.runIsolated(poker, { entry: "poke", entryArgs: [victimTlb + 4], mapImage: false });
    expect(run.strayWrites.map((s) => [s.frame, s.ownerBefore])).toEqual([[victimTlb / FRAME, -1]]);
    const zero = await host.runIsolated(poker, { entry: "poke", entryArgs: [12], mapImage: false });
    expect(zero.strayWrites.map((s) => s.frame)).toEqual([0]);
  });

  it("does not report a write to the process's own frame", async () => {
    const run = await host.runIsolated(poker, { entry: "poke_own", mapImage: false });
    expect(run.outcome).toEqual({ kind: "exited", code: 0 });
    expect(run.strayWrites).toEqual([]);
    expect(run.problems).toEqual([]);
    expect(new DataView(run.pages!.get(1)!.buffer).getUint32(16, true)).toBe(0x41414141);
  });
});
