/**
 * SharedFrames: reference counts of frames held by kernel objects; a frame goes back to the
 * allocator with its last holder, and a release it does not owe is a kernel bug.
 */
import { describe, expect, it } from "vitest";
import { FRAME_OBJECT, SharedFrames } from "../../src/kernel/caps/shared-frames.ts";
import { FrameAllocator } from "../../src/kernel/frame-allocator.ts";

describe("SharedFrames", () => {
  it("counts holders and frees the frame with the last one", () => {
    const frames = new FrameAllocator(16);
    const shared = new SharedFrames(frames);
    const free = frames.freeCount;
    const frame = shared.allocate()!;
    expect(frames.owner(frame)).toBe(FRAME_OBJECT);
    expect([shared.holders(frame), frames.freeCount]).toEqual([1, free - 1]);
    shared.share(frame);
    shared.share(frame);
    expect(shared.holders(frame)).toBe(3);
    shared.release(frame);
    shared.release(frame);
    expect([shared.holders(frame), frames.isUsed(frame)]).toEqual([1, true]);
    shared.release(frame);
    expect([shared.holders(frame), frames.isUsed(frame), frames.freeCount]).toEqual([0, false, free]);
  });

  it("refuses a release it does not owe", () => {
    const frames = new FrameAllocator(16);
    const shared = new SharedFrames(frames);
    const frame = shared.allocate()!;
    shared.release(frame);
    expect(() => shared.release(frame)).toThrow(/kernel bug/);
    expect(() => shared.release(9)).toThrow(/kernel bug/);
  });

  it("answers null when memory is exhausted, and counts nothing then", () => {
    const frames = new FrameAllocator(4);
    const shared = new SharedFrames(frames);
    const got = [shared.allocate(), shared.allocate(), shared.allocate()];
    expect(got.every((f) => f !== null)).toBe(true);
    expect(shared.allocate()).toBe(null);
    for (const f of got) shared.release(f!);
    expect(frames.freeCount).toBe(3);
  });
});
