import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SIZE } from "./constants.ts";
import { FRAME_KERNEL, type FrameAllocator } from "./frame-allocator.ts";
import type { FrameOwner, MappingSpace } from "./frame-owner.ts";
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

/**
 * One image's frames. Its users are the holds taken with `ImageStore.map` (Image objects,
 * processes) and every page of it mapped with it as the owner: the frames go back only when
 * neither is left, so no page table can name them after.
 */
class StoredImage implements MappedImage, FrameOwner {
  readonly base: number;
  readonly frames: readonly number[];
  readonly ownerName: string;
  private users = 1;
  private readonly free: (stored: StoredImage) => void;

  constructor(name: string, base: number, frames: readonly number[], free: (stored: StoredImage) => void) {
    this.ownerName = `the image of ${name}`;
    this.base = base;
    this.frames = frames;
    this.free = free;
  }

  get destroyed(): boolean {
    return this.users === 0;
  }

  ownsFrame(frame: number, address: number): boolean {
    return !this.destroyed && this.frames[(address - this.base) / PAGE_SIZE] === frame;
  }

  hold(): void {
    this.users++;
  }

  drop(): void {
    if (--this.users === 0) this.free(this);
  }

  mapped(_space: MappingSpace): void {
    this.hold();
  }

  unmapped(_space: MappingSpace): void {
    this.drop();
  }
}

/**
 * Invariant: an image's frames are in the store exactly while it has users; each `map` is matched
 * by one `release` (a boot module's Image is never released, so its frames stay), and each
 * mapping owned by the stored image holds it (frame-owner.ts).
 */
export class ImageStore {
  private readonly memory: PhysicalMemory;
  private readonly frameAllocator: FrameAllocator;
  private readonly byHash = new Map<string, StoredImage>();
  private readonly space: GlobalSpace;
  /** Told when an image's last user goes (the loader may forget its compiled module). */
  onReleased: ((image: LoadedImage) => void) | null = null;

  constructor(memory: PhysicalMemory, frames: FrameAllocator, space: GlobalSpace) {
    this.memory = memory;
    this.frameAllocator = frames;
    this.space = space;
  }

  /** The image's frames and global address, copying it in on first use; one more user. */
  map(image: LoadedImage): MappedImage & FrameOwner {
    const known = this.byHash.get(image.hash);
    if (known) {
      known.hold();
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
    const stored = new StoredImage(image.name, base, frames, (gone) => {
      this.byHash.delete(image.hash);
      for (const frame of gone.frames) this.frameAllocator.release(frame);
      this.space.release(gone.base, gone.frames.length);
      this.onReleased?.(image);
    });
    this.byHash.set(image.hash, stored);
    return stored;
  }

  /** One user fewer; the last one's release returns the frames and the global range. */
  release(image: LoadedImage): void {
    this.byHash.get(image.hash)?.drop();
  }

  /** Frames the store holds (for the invariant checker's census). */
  *allFrames(): IterableIterator<number> {
    for (const stored of this.byHash.values()) yield* stored.frames;
  }
}
