import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { GLOBAL_SPACE_BASE, PAGE_SIZE } from "./constants.ts";
import { FRAME_KERNEL, type FrameAllocator } from "./frame-allocator.ts";
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
  private nextAddress = GLOBAL_SPACE_BASE;

  constructor(memory: PhysicalMemory, frames: FrameAllocator) {
    this.memory = memory;
    this.frameAllocator = frames;
  }

  /** The image's frames and global address, copying it in on first use. */
  map(image: LoadedImage): MappedImage {
    const known = this.byHash.get(image.hash);
    if (known) return known;
    const pageCount = Math.ceil(image.bytes.length / PAGE_SIZE);
    if (this.nextAddress + pageCount * PAGE_SIZE > 2 ** 32) throw new RangeError("the global space is full");
    const frames: number[] = [];
    for (let i = 0; i < pageCount; i++) {
      const frame = this.frameAllocator.allocate(FRAME_KERNEL);
      if (frame === null) {
        frames.forEach((f) => this.frameAllocator.release(f));
        throw new RangeError(`out of physical memory for the image of ${image.name}`);
      }
      this.memory.zeroFrame(frame);
      this.memory.bytes.set(image.bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), frame * PAGE_SIZE);
      frames.push(frame);
    }
    const mapped = { base: this.nextAddress, frames };
    this.nextAddress += (pageCount + 1) * PAGE_SIZE;
    this.byHash.set(image.hash, mapped);
    return mapped;
  }
}
