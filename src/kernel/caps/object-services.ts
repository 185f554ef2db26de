import type { PhysicalMemory } from "../../machine/physical-memory.ts";
import type { FrameAllocator } from "../frame-allocator.ts";
import type { GlobalSpace } from "../global-space.ts";
import type { SharedFrames } from "./shared-frames.ts";

/** What memory-holding kernel objects (Page, Region, Cappage) need from the kernel. */
export interface ObjectServices {
  readonly memory: PhysicalMemory;
  readonly frames: FrameAllocator;
  readonly globalSpace: GlobalSpace;
  readonly sharedFrames: SharedFrames;
  /** A frame of zeros that is never written: what a freed Region's views read. */
  readonly zeroFrame: number;
}
