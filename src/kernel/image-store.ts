import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SIZE } from "./constants.ts";
import { FRAME_KERNEL, type FrameAllocator } from "./frame-allocator.ts";
import type { GlobalSpace } from "./global-space.ts";
import type { LoadedImage } from "./image.ts";

/**
 * Loaded binaries placed in kernel frames, each at one global address, so that every process of
 * the image maps the same read-only frames at the same address.
 */
export interface MappedImage {
  readonly base: number;
  readonly frames: readonly number[];
}

export class ImageStore {
  private readonly memory: PhysicalMemory;
  private readonly frameAllocator: FrameAllocator;
  private readonly byHash = new Map<string, MappedImage>();
  private readonly space: GlobalSpace;

  constructor(memory: PhysicalMemory, frames: FrameAllocator, space: GlobalSpace) {
    this.memory = memory;
    this.frameAllocator = frames;
    this.space = space;
  }

  /** The image's frames and global address, copying it in on first use. */
  map(image: LoadedImage): MappedImage {
    const known = this.byHash.get(image.hash);
    if (known) return known;
    const pageCount = Math.ceil(image.bytes.length / PAGE_SIZE);
    const base = this.space.allocate(pageCount);
    if (base === null) throw new RangeError("the global space is full");
    const frames: number[] = [];
    for (let i = 0; i < pageCount; i++) {
      const frame = this.frameAllocator.allocate(FRAME_KERNEL);
      if (frame === null) {
        frames.forEach((f) => this.frameAllocator.release(f));
        this.space.release(base, pageCount);
        throw new RangeError(`out of physical memory for the image of ${image.name}`);
      }
      this.memory.zeroFrame(frame);
      this.memory.bytes.set(image.bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), frame * PAGE_SIZE);
      frames.push(frame);
    }
    const mapped = { base, frames };
    this.byHash.set(image.hash, mapped);
    return mapped;
  }
}
