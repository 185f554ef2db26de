import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { PAGE_SIZE } from "./constants.ts";
import { FRAME_KERNEL, type FrameAllocator } from "./frame-allocator.ts";
import type { FrameOwner, MappingSpace } from "./frame-owner.ts";
import type { GlobalSpace } from "./global-space.ts";
import type { ImageBytes } from "./image.ts";

/**
 * Loaded binaries placed in kernel frames, each at one global address, so that every process of
 * the image maps the same read-only frames at the same address. A page gets its frame on its
 * first access (frame 0 until then): most programs never read their own binary, so a 30 MB one
 * costs no frames until something does (its bytes are with the loaded image in any case). The
 * frames are a cache of those bytes: when no page of the image is mapped anywhere any more they go
 * back (a file system that mapped every boot module to install it, an init that read their
 * manifests, kept 2 MiB of a 10 MiB machine that nothing could evict), and a later access gives
 * them again.
 */
export interface MappedImage {
  readonly base: number;
  /** Each page's frame, 0 while it has none. */
  readonly frames: readonly number[];
  /** Page `index`'s frame, given it (its bytes copied in) on first use; null when memory is exhausted. */
  frameAt(index: number): number | null;
  /** A page was mapped, or its mapping went, with an Image object as the owner (the store counts every mapping). */
  pageMapped(): void;
  pageUnmapped(): void;
  /** Told when the frames go back because no page is mapped (an Image returns what it was charged for them). */
  readonly payers: Set<{ framesDropped(): void }>;
}

/**
 * One image's frames. Its users are the holds taken with `ImageStore.map` (Image objects,
 * processes) and every page of it mapped with it as the owner: the frames go back only when
 * neither is left, so no page table can name them after.
 */
class StoredImage implements MappedImage, FrameOwner {
  readonly base: number;
  readonly frames: number[];
  readonly ownerName: string;
  readonly payers = new Set<{ framesDropped(): void }>();
  private users = 1;
  /** Pages of it mapped now, in every space, whoever the mapping's owner (this or an Image). */
  private mappings = 0;
  private framesGiven = 0;
  private readonly bytes: Uint8Array;
  private readonly store: ImageStore;

  constructor(store: ImageStore, image: ImageBytes, base: number) {
    this.store = store;
    this.ownerName = `the image of ${image.name}`;
    this.bytes = image.bytes;
    this.base = base;
    this.frames = new Array<number>(Math.ceil(image.bytes.length / PAGE_SIZE)).fill(0);
  }

  frameAt(index: number): number | null {
    const known = this.frames[index];
    if (known === undefined || this.destroyed) return null;
    if (known !== 0) return known;
    const frame = this.store.frameWith(this.bytes.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE));
    if (frame !== null) {
      this.frames[index] = frame;
      this.framesGiven++;
    }
    return frame;
  }

  pageMapped(): void {
    this.mappings++;
  }

  pageUnmapped(): void {
    if (--this.mappings === 0 && this.framesGiven > 0 && !this.destroyed) this.dropFrames();
  }

  /** No page table names a frame of it now (each mapping was counted): they go back, each page given again on its next access. */
  private dropFrames(): void {
    this.store.releaseFrames(this.frames);
    this.frames.fill(0);
    this.framesGiven = 0;
    for (const payer of this.payers) payer.framesDropped();
  }

  /** For the address spaces mapping it: a page's frame on its first access (if `mayGive`: FrameOwner). */
  frameFor(address: number, mayGive: boolean): number | null {
    const index = (address - this.base) / PAGE_SIZE;
    if (!mayGive && this.frames[index] === 0) return null;
    return this.frameAt(index);
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
    if (--this.users === 0) this.store.forget(this);
  }

  mapped(_space: MappingSpace): void {
    this.hold();
    this.pageMapped();
  }

  unmapped(_space: MappingSpace): void {
    this.pageUnmapped();
    this.drop();
  }
}

/**
 * Invariant: an image is in the store exactly while it has users; each `map` is matched by one
 * `release` (a boot module's Image is never released), and each mapping owned by the stored image
 * holds it (frame-owner.ts). Its frames are given only while some page of it is mapped (by it or
 * by an Image of it: `pageMapped`), so none ever outlives every mapping.
 */
export class ImageStore {
  private readonly memory: PhysicalMemory;
  private readonly frameAllocator: FrameAllocator;
  private readonly byHash = new Map<string, StoredImage>();
  private readonly images = new Map<StoredImage, ImageBytes>();
  private readonly space: GlobalSpace;
  /** Told when an image's last user goes (the loader may forget its compiled module). */
  onReleased: ((image: ImageBytes) => void) | null = null;

  constructor(memory: PhysicalMemory, frames: FrameAllocator, space: GlobalSpace) {
    this.memory = memory;
    this.frameAllocator = frames;
    this.space = space;
  }

  /** The image's global address and frames (each given on first access); one more user. */
  map(image: ImageBytes): MappedImage & FrameOwner {
    const known = this.byHash.get(image.hash);
    if (known) {
      known.hold();
      return known;
    }
    const base = this.space.allocate(Math.ceil(image.bytes.length / PAGE_SIZE));
    if (base === null) throw new RangeError("the global space is full");
    const stored = new StoredImage(this, image, base);
    this.byHash.set(image.hash, stored);
    this.images.set(stored, image);
    return stored;
  }

  /** A kernel frame holding `bytes` (zero-filled to a page); null when memory is exhausted. */
  frameWith(bytes: Uint8Array): number | null {
    const frame = this.frameAllocator.allocate(FRAME_KERNEL);
    if (frame === null) return null;
    this.memory.zeroFrame(frame);
    this.memory.bytes.set(bytes, frame * PAGE_SIZE);
    return frame;
  }

  /** Frames of an image that nothing maps any more go back to the allocator. */
  releaseFrames(frames: readonly number[]): void {
    for (const frame of frames) if (frame !== 0) this.frameAllocator.release(frame);
  }

  /** `stored`'s last user went: its frames and global range go back. */
  forget(stored: StoredImage): void {
    const image = this.images.get(stored)!;
    this.images.delete(stored);
    this.byHash.delete(image.hash);
    this.releaseFrames(stored.frames);
    this.space.release(stored.base, stored.frames.length);
    this.onReleased?.(image);
  }

  /** Whether an image of the binary hashed `hash` is stored (some Image or process holds it). */
  holds(hash: string): boolean {
    return this.byHash.has(hash);
  }

  /** One user fewer; the last one's release returns the frames and the global range. */
  release(image: ImageBytes): void {
    this.byHash.get(image.hash)?.drop();
  }
}
