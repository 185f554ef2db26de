import type { FrameAllocator } from "../frame-allocator.ts";

/** Owner tag of frames that belong to kernel objects (Pages, Regions) rather than a process. */
export const FRAME_OBJECT = -2;

/**
 * Reference counts of frames held by kernel objects, so that a Page copy can share its frame and
 * the frame goes back to the allocator with its last holder.
 *
 * Invariant: a frame listed here is allocated; its count is the number of holders (>= 1).
 */
export class SharedFrames {
  private readonly counts = new Map<number, number>();
  private readonly frames: FrameAllocator;

  constructor(frames: FrameAllocator) {
    this.frames = frames;
  }

  /** A fresh frame with one holder, or null when memory is exhausted. Not zeroed. */
  allocate(): number | null {
    const frame = this.frames.allocate(FRAME_OBJECT);
    if (frame !== null) this.counts.set(frame, 1);
    return frame;
  }

  share(frame: number): void {
    this.counts.set(frame, this.holders(frame) + 1);
  }

  holders(frame: number): number {
    return this.counts.get(frame) ?? 0;
  }

  release(frame: number): void {
    const count = this.holders(frame);
    if (count <= 0) throw new Error(`kernel bug: frame ${frame} released by a holder it does not have`);
    if (count > 1) this.counts.set(frame, count - 1);
    else {
      this.counts.delete(frame);
      this.frames.release(frame);
    }
  }
}
