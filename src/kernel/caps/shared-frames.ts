import type { FrameAllocator } from "../frame-allocator.ts";

/**
 * Owner tag of frames whose holders are counted here: frames of kernel objects (Pages, Regions)
 * and private frames shared copy-on-write between address spaces.
 */
export const FRAME_OBJECT = -2;

/**
 * Whether `frames` more frames that paging cannot take back may be made for whoever asks (an
 * object's frame, a frame shared copy-on-write): Kernel.mayWireFor for the process asking.
 */
export type MayWire = (frames: number) => boolean;

/**
 * Reference counts of frames with more than one possible holder, so that a Page copy or a
 * copy-on-write clone can share a frame and the frame goes back to the allocator with its last
 * holder.
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

  /** A frame allocated for one holder (a process's private page) starts being counted here, with that one holder. */
  adopt(frame: number): void {
    if (this.holders(frame) !== 0) throw new Error(`kernel bug: frame ${frame} adopted twice`);
    this.counts.set(frame, 1);
    this.frames.retag(frame, FRAME_OBJECT);
  }

  /**
   * The one remaining holder takes the frame for itself as `owner` (it stops being counted here):
   * true, or false when others still hold it.
   */
  takeLast(frame: number, owner: number): boolean {
    if (this.holders(frame) !== 1) return false;
    this.counts.delete(frame);
    this.frames.retag(frame, owner);
    return true;
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
