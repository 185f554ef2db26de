import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { FRAME_KERNEL, FrameAllocator } from "../../src/kernel/frame-allocator.ts";

const SOURCE = pathToFileURL(join(import.meta.dirname, "../../src/kernel/frame-allocator.ts")).href;

describe("FrameAllocator", () => {
  it("never hands out frame 0 and counts what it hands out", () => {
    const frames = new FrameAllocator(64);
    expect(frames.freeCount).toBe(63);
    const seen = new Set<number>();
    for (let i = 0; i < 63; i++) {
      const frame = frames.allocate(7)!;
      expect(frame).toBeGreaterThan(0);
      expect(seen.has(frame)).toBe(false);
      seen.add(frame);
      expect(frames.owner(frame)).toBe(7);
    }
    expect(frames.freeCount).toBe(0);
    expect(frames.allocate(7)).toBeNull();
  });

  it("hands out a preferred frame when it is free, and any frame when it is not", () => {
    const frames = new FrameAllocator(64);
    expect(frames.allocatePreferring(40, 7)).toBe(40);
    expect(frames.owner(40)).toBe(7);
    const other = frames.allocatePreferring(40, 8)!;
    expect(other).not.toBe(40);
    expect(frames.owner(other)).toBe(8);
    // Frame 0 and frames past the end are never handed out, preferred or not.
    expect(frames.allocatePreferring(0, 9)).not.toBe(0);
    expect(frames.allocatePreferring(64, 9)).toBeLessThan(64);
    expect(frames.freeCount).toBe(59);
  });

  it("starts a new process's home frames half-way into the longest free run", () => {
    const frames = new FrameAllocator(1024);
    // Used: 1-99 and 300-399; the free runs are 100-299 (200 frames) and 400-1023 (624).
    for (let f = 1; f < 100; f++) frames.allocatePreferring(f, FRAME_KERNEL);
    for (let f = 300; f < 400; f++) frames.allocatePreferring(f, FRAME_KERNEL);
    expect(frames.homeStart(0)).toBe(400 + 312);
    expect(frames.homeStart(400)).toBe(800);
  });

  it("reads bitmap words whose last frame is used as any other", () => {
    // Word 1 holds frames 32-63: only 63 used (its word is bit 31 alone), then all of word 2.
    const frames = new FrameAllocator(128);
    frames.allocatePreferring(63, FRAME_KERNEL);
    for (let f = 64; f < 96; f++) frames.allocatePreferring(f, FRAME_KERNEL);
    // Free runs: 1-62 (62 frames) and 96-127 (32): the first, from 1.
    expect(frames.homeStart(0)).toBe(1 + 31);
    // A 17-frame run (not a power of two) and an aligned 16 fit below frame 63, not in word 2.
    expect(frames.allocateAligned(17, FRAME_KERNEL)).toBe(1);
    expect(frames.allocateAligned(16, FRAME_KERNEL)).toBe(32);
    // Single frames skip the full word.
    for (let f = 18; f < 32; f++) frames.allocatePreferring(f, FRAME_KERNEL);
    for (let f = 48; f < 63; f++) frames.allocatePreferring(f, FRAME_KERNEL);
    expect(frames.allocate(1)).toBe(96);
  });

  it("scans such words without the optimizing compiler giving up on the scan", () => {
    // A spawn reads the bitmap in homeStart; read from a Uint32Array, a word with its last frame
    // used was a number past int32, and Maglev deoptimized the scan at every spawn that met one
    // (hundreds of bailouts in a few thousand calls: the scan then ran unoptimized).
    const script = `
      import { FrameAllocator } from ${JSON.stringify(SOURCE)};
      const frames = new FrameAllocator(16384);
      for (let i = 0; i < 6000; i++) frames.allocate(5);
      for (let i = 100; i < 6000; i += 37) frames.release(i);
      let sum = 0;
      for (let i = 0; i < 3000; i++) {
        sum += frames.homeStart(256);
        const frame = frames.allocate(5);
        frames.release(frame);
        const block = frames.allocateAligned(17, 5);
        for (let f = block; f < block + 17; f++) frames.release(f);
      }
      console.log(sum);`;
    const child = spawnSync(process.execPath, ["--trace-deopt", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.status).toBe(0);
    const bailouts = child.stdout.split("\n").filter((line) => line.includes("bailout") && /homeStart|allocate|nextFitRun/.test(line));
    // One or two for feedback the first runs had not seen yet are the engine's ordinary course.
    expect(bailouts.length).toBeLessThan(5);
  });

  it("looks for a home run through a window of the bitmap at a time on a big machine, each call the next", () => {
    // 4096 words of 32 frames (512 MiB): windows of 1024 words (32,768 frames).
    const frames = new FrameAllocator(4096 * 32);
    // The first window's free run starts at 1 (frame 0 is the kernel's); the second is all free.
    expect(frames.homeStart(0)).toBe(1 + Math.floor((32768 - 1) / 2));
    expect(frames.homeStart(0)).toBe(32768 + 16384);
    // A used frame inside the third window splits it: the longer part wins.
    frames.allocatePreferring(65536 + 1000, FRAME_KERNEL);
    expect(frames.homeStart(0)).toBe(65536 + 1001 + Math.floor((32768 - 1001) / 2));
    expect(frames.homeStart(0)).toBe(98304 + 16384);
    // Then from the start again.
    expect(frames.homeStart(0)).toBe(1 + Math.floor((32768 - 1) / 2));
  });

  it("reuses released frames and refuses to release what is not allocated", () => {
    const frames = new FrameAllocator(40);
    const a = frames.allocate(1)!;
    frames.release(a);
    expect(frames.isUsed(a)).toBe(false);
    expect(() => frames.release(a)).toThrow(/not allocated/);
    expect(() => frames.release(0)).toThrow(/not allocated/);
    expect(frames.freeCount).toBe(39);
  });

  it("hands out the frames released last first, never one taken since or kept clean for a block", () => {
    const frames = new FrameAllocator(256);
    const taken = Array.from({ length: 40 }, () => frames.allocate(1)!);
    frames.release(taken[5]!);
    frames.release(taken[30]!);
    frames.release(taken[12]!);
    // Last released, first handed out: warm in the caches, and backed by the host already.
    expect(frames.allocate(2)).toBe(taken[12]);
    // One of them taken by a block meanwhile is skipped.
    const block = frames.allocateContiguous(1, FRAME_KERNEL);
    expect(block).toBe(taken[5]); // first fit: the lowest free frame
    expect(frames.allocate(2)).toBe(taken[30]);
    // The list is empty: the next-fit scan again, past the 40 first taken.
    expect(frames.allocate(2)).toBe(41);
    // A block released clean stays whole for takeClean.
    const clean = frames.allocateAligned(8, FRAME_KERNEL)!;
    frames.releaseClean(clean, 8);
    const next = frames.allocate(2)!;
    expect(next < clean || next >= clean + 8).toBe(true);
    expect(frames.takeClean(8, FRAME_KERNEL)).toBe(clean);
  });

  it("finds contiguous runs around holes", () => {
    const frames = new FrameAllocator(64);
    const taken = Array.from({ length: 10 }, () => frames.allocate(1)!);
    frames.release(taken[3]!);
    frames.release(taken[4]!);
    const run = frames.allocateContiguous(5, FRAME_KERNEL)!;
    for (let f = run; f < run + 5; f++) expect(frames.owner(f)).toBe(FRAME_KERNEL);
    expect(run).toBeGreaterThan(taken[9]!);
    expect(frames.allocateContiguous(2, 1)).toBe(taken[3]);
    expect(frames.allocateContiguous(100, 1)).toBeNull();
  });

  it("hands out aligned blocks (TLBs) next fit, and any run once memory is too fragmented for one", () => {
    const frames = new FrameAllocator(128);
    const a = frames.allocateAligned(16, FRAME_KERNEL)!;
    const b = frames.allocateAligned(16, FRAME_KERNEL)!;
    expect([a % 16, b % 16]).toEqual([0, 0]);
    expect(a).toBeGreaterThan(0); // frame 0's block is never whole
    expect(b).toBeGreaterThan(a);
    for (let f = a; f < a + 16; f++) frames.release(f);
    // Next fit: the search goes on after b before it comes back to a's block.
    const c = frames.allocateAligned(16, FRAME_KERNEL)!;
    expect(c).toBeGreaterThan(b);
    expect(() => frames.allocateAligned(33, FRAME_KERNEL)).toThrow(/kernel bug/);
    // A TLB with its victims' frame: 17 frames, and the next such block right after it (at a
    // multiple of 32 each, the frames between went unused: 300 spawns ran out of memory).
    const d = frames.allocateAligned(17, FRAME_KERNEL)!;
    expect(frames.isUsed(d + 16) && !frames.isUsed(d + 17)).toBe(true);
    const e = frames.allocateAligned(17, FRAME_KERNEL)!;
    expect(e).toBe(d + 17);
    // Every frame taken, then 20-35 given back: no aligned block is free, but that run is.
    const full = new FrameAllocator(64);
    while (full.allocate(1) !== null);
    for (let f = 20; f < 36; f++) full.release(f);
    expect(full.allocateAligned(16, FRAME_KERNEL)).toBe(20);
    expect(full.allocateAligned(16, FRAME_KERNEL)).toBeNull();
  });

  it("reports usage by owner", () => {
    const frames = new FrameAllocator(32);
    frames.allocate(2);
    frames.allocate(2);
    frames.allocate(3);
    const usage = frames.usage();
    expect(usage.get(2)).toBe(2);
    expect(usage.get(3)).toBe(1);
    expect(usage.get(FRAME_KERNEL)).toBe(1);
  });

  it("gives a block released clean back as it is while none of its frames was handed out, and counts its frames free meanwhile", () => {
    const frames = new FrameAllocator(128);
    const block = frames.allocateAligned(16, FRAME_KERNEL)!;
    const free = frames.freeCount;
    frames.releaseClean(block, 16);
    expect(frames.freeCount).toBe(free + 16);
    expect(frames.takeClean(8, FRAME_KERNEL)).toBeNull(); // another size
    expect(frames.takeClean(16, FRAME_KERNEL)).toBe(block);
    expect(frames.freeCount).toBe(free);
    expect(frames.takeClean(16, FRAME_KERNEL)).toBeNull(); // taken: once
    frames.releaseClean(block, 16);
    // Any frame of it handed out, even given back since, and the block is not clean any more.
    const handed: number[] = [];
    for (let frame = frames.allocate(3); frame !== null; frame = frames.allocate(3)) handed.push(frame);
    for (const frame of handed) frames.release(frame);
    expect(frames.takeClean(16, FRAME_KERNEL)).toBeNull();
    expect(frames.freeCount).toBe(127);
  });
});
