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

interface StoredImage extends MappedImage {
  /** Holders of the mapping: Image objects and processes of the image. */
  users: number;
}

/**
 * Invariant: an image's frames are in the store exactly while `users` > 0; each `map` is matched
 * by one `release` (a boot module's Image is never released, so its frames stay).
 */
export class ImageStore {
  private readonly memory: PhysicalMemory;
  private readonly frameAllocator: FrameAllocator;
  private readonly byHash = new Map<string, StoredImage>();
  private readonly space: GlobalSpace;

  constructor(memory: PhysicalMemory, frames: FrameAllocator, space: GlobalSpace) {
    this.memory = memory;
    this.frameAllocator = frames;
    this.space = space;
  }

  /** The image's frames and global address, copying it in on first use; one more user. */
  map(image: LoadedImage): MappedImage {
    const known = this.byHash.get(image.hash);
    if (known) {
      known.users++;
      return known;
    }
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
    const mapped = { base, frames, users: 1 };
    this.byHash.set(image.hash, mapped);
    return mapped;
  }

  /** One user fewer; the last one's release returns the frames and the global range. */
  release(image: LoadedImage): void {
    const known = this.byHash.get(image.hash);
    if (!known || --known.users > 0) return;
    this.byHash.delete(image.hash);
    for (const frame of known.frames) this.frameAllocator.release(frame);
    this.space.release(known.base, known.frames.length);
  }
}
